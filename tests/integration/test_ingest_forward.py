"""`koban ingest` while `koban serve` runs on the same data_dir: the files go
to the daemon over HTTP (with http.token), in pieces cut at line ends;
rejects are reported by their place in the file, and every accepted event
becomes part of the daemon's issues."""
import gzip
import json
import os

from kobantest import TOP, Daemon, Results, check, eq, koban, wait_for, scratch_dir

TOKEN = "fwd-token"


def test_forward_to_serve():
    top = scratch_dir("koban-fwd-")
    cfg = os.path.join(top, "koban.yaml")
    with open(cfg, "w") as f:
        f.write(f'http:\n  token: "{TOKEN}"\n')
    d = Daemon(data=os.path.join(top, "var"), config=cfg, syslog=False, spool=False).start()
    try:
        # 30,000 NDJSON lines (about 13 MB: two pieces), two of them bad
        lines = []
        for i in range(30000):
            if i in (7, 25001):
                lines.append('{"broken": ')
                continue
            lines.append(json.dumps({
                "title": f"forwarded {i % 50}", "host": f"h{i % 5}", "kind": "fwd-test",
                "severity": "low", "pad": "x" * 400}))
        nd = os.path.join(top, "events.ndjson.gz")
        with gzip.open(nd, "wt") as f:
            f.write("\n".join(lines) + "\n")
        ex = os.path.join(TOP, "examples", "guardduty")
        files = [os.path.join(ex, n) for n in sorted(os.listdir(ex))]
        rc, out, err = koban("ingest", "--config", cfg, "--data-dir", d.data, "--quiet", nd,
                             *files)
        eq(rc, 1, err)  # two rejected
        check("by koban serve at 127.0.0.1:" in out, out)
        check(f"{nd}: event 7:" in err and f"{nd}: event 25001:" in err, err)
        accepted = int(out.split(" events accepted")[0].split()[-1])
        rejected = int(out.split(" rejected")[0].split()[-1])
        eq(rejected, 2, out)
        check(accepted >= 29998 + len(files), out)
        wait_for(lambda: sum(i["count"] for i in d.issues("--state", "all")
                             if i["kind"] == "fwd-test") == 29998, timeout=30,
                 msg="every forwarded event folded")
        wait_for(lambda: any(i["source"] == "guardduty" for i in d.issues("--state", "all")),
                 timeout=30, msg="the GuardDuty examples went through too")
        # a daemon that refuses the token: the error is said, exit 1
        bad = os.path.join(top, "bad.yaml")
        with open(bad, "w") as f:
            f.write('http:\n  token: "wrong"\n')
        rc, out, err = koban("ingest", "--config", bad, "--data-dir", d.data, "--quiet", files[0])
        eq(rc, 1)
        check("HTTP 401" in err, err)
    finally:
        d.stop()
        d.cleanup()


def main():
    res = Results()
    res.run(test_forward_to_serve)
    res.done()


if __name__ == "__main__":
    main()
