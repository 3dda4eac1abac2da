"""The command line: help, normalize, ingest (files, stdin, real samples),
issues list/show/ack/close/reopen, quarantine, journal."""
import glob
import json
import os
import shutil
import tempfile

from kobantest import TOP, Results, check, eq, koban, need_data


def test_help():
    rc, out, err = koban("--help")
    eq(rc, 0)
    for cmd in ("serve", "ingest", "normalize", "issues", "quarantine", "journal", "help"):
        check(cmd in out, f"--help lists {cmd}")
    rc, out, err = koban("help", "issues")
    eq(rc, 0)
    check("ack" in out and "--state" in out, out)
    rc, out, err = koban("help", "formats")
    eq(rc, 0)
    for f in ("guardduty", "scc", "cloudtrail", "gcp_audit", "wazuh", "falco", "alertmanager",
              "syslog", "generic"):
        check(f in out, f"formats lists {f}")
    rc, out, err = koban("help", "config")
    eq(rc, 0)
    check("http:" in out and "listen" in out, out)
    rc, out, err = koban("frobnicate")
    eq(rc, 2, "unknown command")
    check("not a koban command" in err, err)


def test_config_doc_lists_every_key():
    rc, out, _ = koban("help", "config")
    eq(rc, 0)
    with open(os.path.join(TOP, "docs", "CONFIG.md")) as f:
        doc = f.read()
    section = None
    keys = []
    for line in out.splitlines():
        if not line.strip() or line.startswith(("koban.yaml", "Looked up", "Strings")):
            continue
        name = line.strip().split(":")[0]
        if not line.startswith(" "):
            section = name
            if line.rstrip().endswith(":"):
                continue
            keys.append(name)
        else:
            keys.append(section + "." + name)
        check(line.strip().split("#")[0].strip() in doc,
              f"docs/CONFIG.md has the line for {keys[-1]}: {line.strip()}")
    check(len(keys) >= 20, f"keys read from help config: {keys}")


def test_normalize_examples():
    files = sorted(glob.glob(os.path.join(TOP, "examples", "*", "*")))
    check(len(files) >= 7, f"examples present: {files}")
    sources = set()
    for f in files:
        rc, out, err = koban("normalize", f)
        eq(rc, 0, f"normalize {f}: {err}")
        lines = out.splitlines()
        check(lines, f"{f} produced alerts")
        for l in lines:
            a = json.loads(l)
            check("raw" in a and a["source"], f"{f}: {a}")
            sources.add(a["source"])
    for s in ("guardduty", "scc", "cloudtrail", "gcp_audit", "wazuh", "falco", "alertmanager",
              "syslog"):
        check(s in sources, f"an example of {s} (got {sorted(sources)})")


def test_normalize_bad_input():
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        f.write('{"eventVersion":"1.08","eventSource":"s3.amazonaws.com","eventName":"X",'
                '"eventTime":"2026-01-01T00:00:00Z","recipientAccountId":"1"}\n{"trunc": \n')
        name = f.name
    try:
        rc, out, err = koban("normalize", name)
        eq(rc, 1, "a bad line makes the exit code 1")
        eq(len(out.splitlines()), 1, "the good event is still printed")
        check("event 1" in err, f"the bad one is named: {err}")
        rc, out, err = koban("normalize", "--source", "guardduty", name)
        eq(rc, 1)
        rc, out, err = koban("normalize", "--source", "nope", name)
        eq(rc, 2)
        rc, out, err = koban("normalize", "/nonexistent/file.json")
        eq(rc, 1)
        check("/nonexistent/file.json" in err, err)
    finally:
        os.unlink(name)


def test_ingest_and_issue_commands():
    tmp = tempfile.mkdtemp(prefix="koban-cli-")
    try:
        data = os.path.join(tmp, "var")
        ex = os.path.join(TOP, "examples")
        files = sorted(glob.glob(os.path.join(ex, "*", "*")))
        rc, out, err = koban("ingest", "--data-dir", data, "--quiet", *files)
        eq(rc, 0, f"ingest examples: {err}")
        check("ingested" in out and "issues:" in out, out)
        rc, out, err = koban("issues", "--data-dir", data)
        eq(rc, 0, err)
        check("SEVERITY" in out and "guardduty" in out, out)
        items = [json.loads(l) for l in
                 koban("issues", "--data-dir", data, "--json")[1].splitlines()]
        check(len(items) >= 5, f"issues from examples: {len(items)}")
        check(any(i["count"] > 1 for i in items), "repeats folded into one issue")
        crit = [json.loads(l) for l in koban("issues", "--data-dir", data, "--json",
                                               "--severity", "high")[1].splitlines()]
        check(all(i["severity"] in ("high", "critical") for i in crit), crit)
        iid = str(items[0]["id"])
        rc, out, err = koban("issues", "--data-dir", data, "show", iid)
        eq(rc, 0, err)
        check("history:" in out and "first occurrence" in out, out)
        eq(koban("issues", "--data-dir", data, "ack", iid, "--by", "kim")[0], 0)
        rc, out, err = koban("issues", "--data-dir", data, "ack", iid)
        eq(rc, 1, "ack twice is refused")
        check("acknowledged" in err, err)
        eq(koban("issues", "--data-dir", data, "close", iid, "--reason", "fixed")[0], 0)
        j = json.loads(koban("issues", "--data-dir", data, "show", iid, "--json")[1])
        eq(j["state"], "closed")
        eq([h["to"] for h in j["history"]], ["open", "acknowledged", "closed"])
        eq(j["history"][2]["reason"], "fixed")
        eq(koban("issues", "--data-dir", data, "reopen", iid)[0], 0)
        eq(koban("issues", "--data-dir", data, "show", "99999")[0], 1)
        eq(koban("issues", "--data-dir", data, "show", "abc")[0], 1)
        # stdin, with one bad line: exit 1, the good ones stored, the bad one quarantined
        good = json.dumps({"kind": "stdin-test", "title": "from stdin", "host": "h1"})
        rc, out, err = koban("ingest", "--data-dir", data, "-",
                             input=(good + "\n{nope\n" + good + "\n").encode())
        eq(rc, 1, "a rejected event makes ingest exit 1")
        check("event 1" in err, err)
        items = [json.loads(l) for l in koban("issues", "--data-dir", data, "--json",
                                                "--text", "from stdin")[1].splitlines()]
        eq([i["count"] for i in items], [2], "two good events folded")
        rc, out, err = koban("quarantine", "--data-dir", data, "--json")
        eq(rc, 0, err)
        q = [json.loads(l) for l in out.splitlines()]
        check(any("{nope" in x["raw"] for x in q), q)
        rc, out, err = koban("journal", "cat", "--data-dir", data, "--json")
        eq(rc, 0, err)
        check(len(out.splitlines()) >= len(files), "journal has the events")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_real_samples_ingest():
    dd = need_data()
    tmp = tempfile.mkdtemp(prefix="koban-real-")
    try:
        data = os.path.join(tmp, "var")
        files = (glob.glob(os.path.join(dd, "guardduty", "*.jsonl")) +
                 glob.glob(os.path.join(dd, "scc", "*.json")) +
                 glob.glob(os.path.join(dd, "cloudtrail", "*", "*.json")) +
                 glob.glob(os.path.join(dd, "cloudtrail", "*", "*.jsonl")) +
                 [os.path.join(dd, "syslog", "loghub", "OpenSSH_2k.log")])
        check(len(files) > 30, f"samples found: {len(files)}")
        rc, out, err = koban("ingest", "--data-dir", data, "--quiet", *files)
        eq(rc, 0, f"every real sample is accepted: {err[-3000:]}")
        items = [json.loads(l) for l in koban("issues", "--data-dir", data, "--json",
                                                "--state", "all", "--limit", "100000")[1]
                 .splitlines()]
        sources = {i["source"] for i in items}
        for s in ("guardduty", "scc", "cloudtrail", "syslog"):
            check(s in sources, f"issues from {s}: {sorted(sources)}")
        total = sum(i["count"] for i in items)
        check(total >= 8 + 23 + 310 + 2000, f"occurrences {total}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_ingest_gzip():
    """A CloudTrail file as S3 delivers it (gzip, {"Records":[...]}), and a
    corrupt one, which is refused with the reason and stores nothing."""
    import gzip
    tmp = tempfile.mkdtemp(prefix="koban-gz-")
    try:
        data = os.path.join(tmp, "var")
        recs = [{"eventVersion": "1.08", "eventSource": "s3.amazonaws.com",
                 "eventName": "PutBucketPolicy", "eventTime": "2026-11-20T10:00:0%dZ" % i,
                 "eventID": "gz-%d" % i, "recipientAccountId": "123456789012",
                 "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::1:user/gz"}}
                for i in range(3)]
        path = os.path.join(tmp, "123456789012_CloudTrail_us-east-1_x.json.gz")
        with gzip.open(path, "wt") as f:
            json.dump({"Records": recs}, f)
        rc, out, err = koban("ingest", "--data-dir", data, "--quiet", path)
        eq(rc, 0, err)
        check("ingested 3 events" in out, out)
        bad = os.path.join(tmp, "bad.json.gz")
        with open(path, "rb") as f:
            blob = f.read()
        with open(bad, "wb") as f:
            f.write(blob[:len(blob) // 2])
        rc, out, err = koban("ingest", "--data-dir", data, "--quiet", bad)
        eq(rc, 1, "a truncated gzip file is refused")
        check("gzip" in err and "bad.json.gz" in err, err)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_ingest_large_file_in_chunks():
    """A file over the chunk size (8 MiB) is checked by several workers; the
    rejects are still named by their index in the whole file, and every good
    event is stored exactly once."""
    tmp = tempfile.mkdtemp(prefix="koban-chunks-")
    try:
        data = os.path.join(tmp, "var")
        path = os.path.join(tmp, "big.ndjson")
        pad = "x" * 900
        bad = {5, 20000, 41234, 59999}
        n = 60000  # ~57 MB: seven or eight chunks
        with open(path, "w") as f:
            for i in range(n):
                if i in bad:
                    f.write("{not json %d\n" % i)
                else:
                    f.write(json.dumps({"kind": "chunk-test", "title": "t%d" % (i % 7),
                                        "host": "h%d" % (i % 7), "pad": pad}) + "\n")
        rc, out, err = koban("ingest", "--data-dir", data, "--quiet", path)
        eq(rc, 1, "rejects make ingest exit 1")
        named = sorted(int(w) for w in
                       (l.split("event ")[1].split(":")[0] for l in err.splitlines()
                        if ": event " in l))
        eq(named, sorted(bad), f"rejects named by their index in the file: {err[-2000:]}")
        check(f"ingested {n - len(bad)} events" in out, out)
        items = [json.loads(l) for l in koban("issues", "--data-dir", data, "--json",
                                                "--text", "chunk-test")[1].splitlines()]
        eq(len(items), 7, "seven identities")
        eq(sum(i["count"] for i in items), n - len(bad), "every good event once")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    res = Results()
    for t in (test_help, test_config_doc_lists_every_key, test_normalize_examples, test_normalize_bad_input,
              test_ingest_and_issue_commands, test_real_samples_ingest,
              test_ingest_gzip, test_ingest_large_file_in_chunks):
        res.run(t)
    res.done()


if __name__ == "__main__":
    main()
