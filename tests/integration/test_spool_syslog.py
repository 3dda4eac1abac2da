"""The spool directory and syslog listeners of a real daemon."""
import gzip
import json
import os
import socket
import time

from kobantest import Daemon, Results, check, eq, koban, wait_for


def ct(n, name="ListBuckets"):
    return {"eventVersion": "1.08", "eventSource": "s3.amazonaws.com", "eventName": name,
            "eventTime": "2026-11-20T11:00:00Z", "awsRegion": "eu-west-1",
            "sourceIPAddress": "203.0.113.9", "eventID": "sp-%d" % n,
            "recipientAccountId": "444455556666",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::444455556666:user/bob"}}


def spool_dir(d):
    return d.info["spool"]


def accepted(d, path):
    m = d.metrics()
    return sum(v for k, v in m.items()
               if k.startswith("koban_events_accepted_total") and f'path="{path}"' in k)


def test_spool_records_array_ndjson(d):
    sp = spool_dir(d)
    with open(os.path.join(sp, "a.json.tmp"), "w") as f:
        json.dump({"Records": [ct(1), ct(2), ct(3)]}, f)
    os.rename(os.path.join(sp, "a.json.tmp"), os.path.join(sp, "a.json"))
    with open(os.path.join(sp, "b.json"), "w") as f:
        json.dump([ct(4), ct(5)], f)
    with open(os.path.join(sp, "c.ndjson"), "w") as f:
        f.write("\n".join(json.dumps(ct(i)) for i in range(6, 10)) + "\n")
    for name in ("a.json", "b.json", "c.ndjson"):
        wait_for(lambda: os.path.exists(os.path.join(sp, "done", name)), msg=f"done/{name}")
    check(not os.path.exists(os.path.join(sp, "a.json")), "moved, not copied")
    check(not os.path.exists(os.path.join(sp, "done", "a.json.err")), "no .err for good files")
    eq(accepted(d, "spool"), 3 + 2 + 4, "events from the spool")


def test_spool_half_written_file(d):
    sp = spool_dir(d)
    path = os.path.join(sp, "slow.ndjson")
    before = accepted(d, "spool")
    f = open(path, "w")
    f.write(json.dumps(ct(100)) + "\n" + json.dumps(ct(101))[:40])  # half an event
    f.flush()
    # keep the writer "busy" for longer than the settle time, growing the file
    for i in range(4):
        time.sleep(0.3)
        f.write(" ")
        f.flush()
    check(os.path.exists(path), "a growing file is left alone")
    f.write(json.dumps(ct(101))[40:] + "\n")
    f.close()
    wait_for(lambda: os.path.exists(os.path.join(sp, "done", "slow.ndjson")), msg="done/slow")
    eq(accepted(d, "spool") - before, 2, "both events, the second one whole")


def test_spool_bad_file(d):
    sp = spool_dir(d)
    with open(os.path.join(sp, "bad.json"), "w") as f:
        f.write('{"Records": [ {"eventVersion": ')
    wait_for(lambda: os.path.exists(os.path.join(sp, "failed", "bad.json")), msg="failed/bad")
    with open(os.path.join(sp, "failed", "bad.json.err")) as f:
        err = f.read()
    check("JSON" in err or "json" in err, f".err says why: {err!r}")
    # a file with good and bad lines goes to done/ with the rejects listed
    with open(os.path.join(sp, "mixed.ndjson"), "w") as f:
        f.write(json.dumps(ct(200)) + "\n{broken\n" + json.dumps(ct(201)) + "\n")
    wait_for(lambda: os.path.exists(os.path.join(sp, "done", "mixed.ndjson")), msg="done/mixed")
    with open(os.path.join(sp, "done", "mixed.ndjson.err")) as f:
        err = f.read()
    check(err.startswith("event 1:"), f"rejected index listed: {err!r}")


def test_spool_gzip(d):
    """CloudTrail as S3 delivers it (.json.gz) goes in; corrupt gzip goes to failed/."""
    sp = spool_dir(d)
    before = accepted(d, "spool")
    name = "444455556666_CloudTrail_eu-west-1_20261120T1105Z_Xq3PpUy1mWn0K2aB.json.gz"
    body = gzip.compress(json.dumps({"Records": [ct(300), ct(301), ct(302)]}).encode())
    with open(os.path.join(sp, name + ".tmp"), "wb") as f:
        f.write(body)
    os.rename(os.path.join(sp, name + ".tmp"), os.path.join(sp, name))
    with open(os.path.join(sp, "broken.ndjson.gz"), "wb") as f:
        f.write(body[:10] + bytes([body[10] | 0x06]) + body[11:])  # reserved block type
    wait_for(lambda: os.path.exists(os.path.join(sp, "done", name)), msg="done/ CloudTrail .gz")
    check(not os.path.exists(os.path.join(sp, "done", name + ".err")), "all records taken")
    eq(accepted(d, "spool") - before, 3, "records from the gzip file")
    # the .err is complete before the file appears in failed/
    wait_for(lambda: os.path.exists(os.path.join(sp, "failed", "broken.ndjson.gz")),
             msg="failed/broken.ndjson.gz")
    with open(os.path.join(sp, "failed", "broken.ndjson.gz.err")) as f:
        err = f.read()
    check(err.startswith("gzip: corrupt data at byte 11 "), f".err says why: {err!r}")
    eq(accepted(d, "spool") - before, 3, "nothing from the corrupt file")


def test_syslog_udp_tcp(d):
    udp, tcp = d.info["syslog_udp"], d.info["syslog_tcp"]
    check(udp and tcp, f"listeners bound: {d.info}")
    before = accepted(d, "syslog")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(5):
        s.sendto(b"<38>Dec 10 06:55:46 bastion sshd[24200]: Failed password for invalid user "
                 b"admin from 198.51.100.23 port 4%03d ssh2" % i, ("127.0.0.1", udp))
    s.close()
    c = socket.create_connection(("127.0.0.1", tcp), timeout=10)
    m1 = (b"<86>1 2026-11-20T10:00:00Z bastion sudo - - - alice : TTY=pts/0 ; PWD=/home/alice ;"
          b" USER=root ; COMMAND=/bin/cat /etc/shadow")
    c.sendall(b"%d %s" % (len(m1), m1))                       # octet counting
    c.sendall(b"<38>Dec 10 06:55:47 bastion sshd[24201]: Accepted publickey for deploy from "
              b"192.0.2.10 port 50000 ssh2\n")               # newline framing
    c.close()
    wait_for(lambda: accepted(d, "syslog") - before >= 7, msg="7 syslog messages")
    def sshd_issue():
        items = [i for i in d.issues("--source", "syslog", "--state", "all")
                 if i["count"] == 5]
        return items or None
    items = wait_for(sshd_issue, msg="the five failed passwords folded into one issue")
    eq(items[0]["actor"]["ip"], "198.51.100.23")


def main():
    res = Results()
    d = Daemon()
    try:
        d.start()
        for t in (test_spool_records_array_ndjson, test_spool_half_written_file,
                  test_spool_bad_file, test_spool_gzip, test_syslog_udp_tcp):
            res.run(t, d)
        eq(d.stop(), 0)
    finally:
        if res.failed:
            print("daemon log:", d.tail())
        d.cleanup()
    res.done()


if __name__ == "__main__":
    main()
