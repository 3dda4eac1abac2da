"""HTTP ingest against a real daemon: every body shape, bad input, auth,
limits, metrics, the issues API, and a clean SIGTERM."""
import gzip
import json
import os
import socket
import tempfile
import time

from kobantest import Daemon, Results, check, eq, koban, wait_for

GD = {"schemaVersion": "2.0", "accountId": "111122223333", "region": "us-east-1",
      "id": "f0a1", "type": "UnauthorizedAccess:EC2/SSHBruteForce", "severity": 8,
      "title": "SSH brute force against i-0abc", "updatedAt": "2026-11-20T10:00:00.000Z",
      "createdAt": "2026-11-20T09:00:00.000Z", "partition": "aws", "arn": "arn:aws:guardduty:x",
      "description": "198.51.100.7 is performing SSH brute force attacks against i-0abc.",
      "resource": {"resourceType": "Instance", "instanceDetails": {"instanceId": "i-0abc"}},
      "service": {"serviceName": "guardduty", "count": 3, "action": {
          "actionType": "NETWORK_CONNECTION", "networkConnectionAction": {
              "remoteIpDetails": {"ipAddressV4": "198.51.100.7"}}}}}


def ct(n, name="GetObject", user="alice"):
    return {"eventVersion": "1.08", "eventSource": "s3.amazonaws.com", "eventName": name,
            "eventTime": "2026-11-20T10:00:%02dZ" % (n % 60), "awsRegion": "eu-west-1",
            "sourceIPAddress": "203.0.113.9", "eventID": "ev-%d" % n,
            "recipientAccountId": "444455556666",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::444455556666:user/" + user,
                             "userName": user},
            "requestParameters": {"bucketName": "logs"}}


def test_health_and_metrics(d):
    status, _, body = d.request("GET", "/healthz")
    eq(status, 200, "healthz")
    m = d.metrics()
    check(any(k.startswith("koban_events_accepted_total") for k in m), "accepted counter")
    check("koban_journal_lag_records" in m, "journal lag gauge")
    check('koban_issues{state="open"}' in m, "issues by state")
    # the exposition is well formed: one TYPE per metric, no sample twice
    status, _, raw = d.request("GET", "/metrics")
    types, samples = {}, set()
    for line in raw.decode().splitlines():
        if line.startswith("# TYPE "):
            name = line.split()[2]
            check(name not in types, f"TYPE of {name} given once")
            types[name] = True
        elif line and not line.startswith("#"):
            key = line.rsplit(" ", 1)[0]
            check(key not in samples, f"sample {key} given once")
            samples.add(key)


def test_single_object(d):
    status, r = d.post_events(GD)
    eq(status, 200, f"single object: {r}")
    eq(r["accepted"], 1)
    eq(r["rejected"], 0)
    check(r["last_seq"] >= 1, "last_seq")


def test_array_ndjson_records_gzip(d):
    status, r = d.post_events([ct(1), ct(2), ct(3)])
    eq((status, r["accepted"]), (200, 3), "array")
    nd = "\n".join(json.dumps(ct(i)) for i in range(4, 9)) + "\n"
    status, r = d.post_events(nd)
    eq((status, r["accepted"]), (200, 5), "ndjson")
    status, r = d.post_events({"Records": [ct(9), ct(10)]})
    eq((status, r["accepted"]), (200, 2), "Records")
    status, r = d.post_events([ct(11), ct(12)], gz=True)
    eq((status, r["accepted"]), (200, 2), "gzip")


def test_forced_source(d):
    status, r = d.post_events(GD, path="/v1/events?source=guardduty")
    eq((status, r["accepted"]), (200, 1), "forced guardduty")
    status, r = d.post_events({"hello": "world"}, path="/v1/events?source=guardduty")
    eq(status, 400, f"a non-GuardDuty event forced to guardduty: {r}")
    eq(r["rejected"], 1)
    check("guardduty" in r["errors"][0]["reason"], r)
    status, r = d.post_events(GD, path="/v1/events?source=nosuchformat")
    eq(status, 400, "unknown source")


def test_bad_events_beside_good_ones(d):
    body = (json.dumps(ct(20)) + "\n" + '{"eventVersion": "1.08", "eventSource": ' + "\n" +
            json.dumps(ct(21)) + "\n")
    status, r = d.post_events(body)
    eq(status, 200, f"mixed: {r}")
    eq((r["accepted"], r["rejected"]), (2, 1), "two good, one truncated")
    eq(r["errors"][0]["index"], 1, "index of the truncated event")
    check("JSON" in r["errors"][0]["reason"] or "json" in r["errors"][0]["reason"], r)
    # truncated single document: everything rejected -> 400 with the reason
    status, r = d.post_events('{"a": [1, 2')
    eq(status, 400, "truncated JSON")
    eq(r["rejected"], 1)
    # invalid UTF-8 inside a JSON string
    bad = b'{"kind":"x","title":"caf\xc3\x28"}\n' + json.dumps(ct(22)).encode() + b"\n"
    status, r = d.post_events(bad)
    eq((status, r["accepted"], r["rejected"]), (200, 1, 1), f"invalid UTF-8: {r}")
    check("UTF-8" in r["errors"][0]["reason"] or "utf" in r["errors"][0]["reason"].lower(), r)
    # empty body
    status, r = d.post_events(b"")
    eq(status, 400, "empty body")


def test_text_lines_are_syslog(d):
    lines = ("Dec 10 06:55:46 web1 sshd[24200]: Failed password for root from 198.51.100.9 "
             "port 4022 ssh2\n") * 3
    status, r = d.post_events(lines)
    eq((status, r["accepted"]), (200, 3), f"syslog text: {r}")


def test_body_limits(d):
    # 100 MB declared: refused with 413 before the body is read.
    s = socket.create_connection(("127.0.0.1", d.port), timeout=30)
    s.sendall(b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: 104857600\r\n\r\n" + b"[" * 65536)
    resp = b""
    try:
        while b"\r\n\r\n" not in resp:
            chunk = s.recv(4096)
            if not chunk:
                break
            resp += chunk
    except (ConnectionResetError, BrokenPipeError):
        pass
    s.close()
    check(resp.startswith(b"HTTP/1.1 413"), f"100 MB body: {resp[:80]!r}")
    # gzip bomb: 1 KB on the wire, far more than the limit inflated
    bomb = gzip.compress(b" " * (70 * 1024 * 1024))
    status, r = d.post_events(bomb, headers={"Content-Encoding": "gzip"})
    eq(status, 413, f"gzip bomb ({len(bomb)} bytes)")
    # the daemon is still fine
    status, r = d.post_events(ct(30))
    eq(status, 200, "after the limits")


def test_deep_nesting_rejected(d):
    status, r = d.post_events("[" * 5000 + "]" * 5000)
    eq(status, 400, f"5000-deep JSON: {r}")


def test_not_found_and_method(d):
    status, _, _ = d.request("GET", "/nope")
    eq(status, 404)
    status, _, _ = d.request("GET", "/v1/events")
    eq(status, 405)


def test_issues_fold_and_api(d):
    # the same CloudTrail call 5 times -> one issue with count 5
    status, r = d.post_events([ct(100 + i, name="DeleteBucket", user="mallory")
                               for i in range(5)])
    eq(status, 200)
    def find():
        status, _, body = d.request("GET", "/v1/issues?text=DeleteBucket&state=all")
        eq(status, 200)
        items = json.loads(body)["issues"]
        return items if items and items[0]["count"] == 5 else None
    items = wait_for(find, msg="the DeleteBucket issue with count 5")
    eq(len(items), 1, "one issue for five identical calls")
    issue = items[0]
    eq(issue["state"], "open")
    iid = issue["id"]
    status, _, body = d.request("POST", f"/v1/issues/{iid}/ack",
                                json.dumps({"reason": "looking", "by": "sam"}))
    eq(status, 200, body)
    status, _, body = d.request("POST", f"/v1/issues/{iid}/ack", "")
    eq(status, 409, "ack twice")
    status, _, body = d.request("POST", f"/v1/issues/{iid}/close",
                                json.dumps({"reason": "bucket restored"}))
    eq(status, 200, body)
    # a recurrence reopens it
    d.post_events(ct(200, name="DeleteBucket", user="mallory"))
    def reopened():
        status, _, body = d.request("GET", f"/v1/issues/{iid}")
        j = json.loads(body)
        return j if j["state"] == "open" and j["count"] == 6 else None
    j = wait_for(reopened, msg="reopen on recurrence")
    eq(j["reopened"], 1)
    states = [h["to"] for h in j["history"]]
    eq(states, ["open", "acknowledged", "closed", "open"], "history")
    eq(j["history"][1]["by"], "sam")
    eq(j["history"][3]["reason"], "recurred")
    status, _, _ = d.request("GET", "/v1/issues/999999")
    eq(status, 404)


def test_metrics_moved(d):
    m = d.metrics()
    acc = sum(v for k, v in m.items() if k.startswith("koban_events_accepted_total"))
    rej = sum(v for k, v in m.items() if k.startswith("koban_events_rejected_total"))
    check(acc >= 20, f"accepted counter {acc}")
    check(rej >= 3, f"rejected counter {rej}")
    check(m.get("koban_journal_syncs_total", 0) >= 1, "journal syncs")


def test_token_auth():
    with tempfile.TemporaryDirectory(prefix="koban-it-") as tmp:
        cfg = os.path.join(tmp, "koban.yaml")
        with open(cfg, "w") as f:
            f.write("http:\n  token: ${KOBAN_TEST_TOKEN}\n")
        d = Daemon(data=os.path.join(tmp, "var"), config=cfg,
                   env={"KOBAN_TEST_TOKEN": "s3cret-token"}, syslog=False, spool=False)
        try:
            d.start()
            status, r = d.post_events(ct(1))
            eq(status, 401, "no token")
            status, r = d.post_events(ct(1), headers={"Authorization": "Bearer wrong"})
            eq(status, 401, "wrong token")
            status, r = d.post_events(ct(1), headers={"Authorization": "Bearer s3cret-token"})
            eq(status, 200, "right token")
            status, _, _ = d.request("GET", "/v1/issues")
            eq(status, 401, "issues API needs the token too")
            status, _, _ = d.request("GET", "/healthz")
            eq(status, 200, "healthz stays open")
        finally:
            d.cleanup()


def test_config_errors():
    with tempfile.TemporaryDirectory(prefix="koban-it-") as tmp:
        cfg = os.path.join(tmp, "koban.yaml")
        with open(cfg, "w") as f:
            f.write("http:\n  listen: 127.0.0.1:0\n  max_bodyy: 10MiB\n")
        rc, out, err = koban("serve", "--config", cfg, "--check-config")
        eq(rc, 1, "unknown key")
        check(":3:" in err and "http.max_bodyy" in err, f"error names line and key: {err}")
        with open(cfg, "w") as f:
            f.write("journal:\n  fsync: maybe\n")
        rc, out, err = koban("serve", "--config", cfg, "--check-config")
        eq(rc, 1)
        check(":2:" in err and "journal.fsync" in err, err)
        rc, out, err = koban("serve", "--check-config", "--config", "/nonexistent.yaml")
        eq(rc, 1)
        rc, out, err = koban("serve", "--check-config")
        eq(rc, 0, err)
        check("127.0.0.1:8478" in out, "default listen address")


def test_sigterm_drains(d_unused=None):
    d = Daemon(syslog=False, spool=False)
    try:
        d.start()
        for i in range(20):
            status, r = d.post_events([ct(1000 + i * 10 + k, user="u%d" % k) for k in range(10)])
            eq(status, 200)
        eq(d.stop(), 0, "exit code after SIGTERM")
        rc, out, err = koban("issues", "--data-dir", d.data, "--json", "--state", "all",
                             "--limit", "1000")
        total = sum(json.loads(l)["count"] for l in out.splitlines())
        eq(total, 200, "every acknowledged event applied before exit")
        check("stopped" in d.tail(), "logged its stop")
    finally:
        d.cleanup()


def main():
    res = Results()
    d = Daemon()
    try:
        d.start()
        for t in (test_health_and_metrics, test_single_object, test_array_ndjson_records_gzip,
                  test_forced_source, test_bad_events_beside_good_ones,
                  test_text_lines_are_syslog, test_body_limits, test_deep_nesting_rejected,
                  test_not_found_and_method, test_issues_fold_and_api, test_metrics_moved):
            res.run(t, d)
        eq(d.stop(), 0)
    except Exception as e:
        print("daemon log:", d.tail())
        raise
    finally:
        d.cleanup()
    res.run(test_token_auth)
    res.run(test_config_errors)
    res.run(test_sigterm_drains)
    res.done()


if __name__ == "__main__":
    main()
