"""Rules and policies in the running daemon: `koban serve --rules DIR` on a
temporary folder, events over HTTP, issues over /v1/issues; SIGHUP after a
new rule file makes it apply; --check-config reports broken rules."""
import json
import os
import shutil
import signal
import tempfile

from kobantest import Daemon, Results, check, eq, koban, wait_for

RULE_CREATE = """title: IAM user created
id: 0e3b5c8a-1111-4222-8333-944445555666
logsource: {product: aws, service: cloudtrail}
detection:
  sel:
    eventSource: iam.amazonaws.com
    eventName: CreateUser
  condition: sel
level: high
"""

RULE_DELETE = """title: IAM user deleted
id: 7d1e2f3a-0000-4000-8000-000000000001
logsource: {product: aws, service: cloudtrail}
detection:
  sel:
    eventName: DeleteUser
  condition: sel
level: critical
"""


def ct(n, name, user="alice"):
    return {"eventVersion": "1.08", "eventSource": "iam.amazonaws.com", "eventName": name,
            "eventTime": "2026-11-20T10:00:%02dZ" % (n % 60), "awsRegion": "us-east-1",
            "sourceIPAddress": "203.0.113.9", "eventID": "ev-%d" % n,
            "recipientAccountId": "444455556666",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::444455556666:user/" + user}}


def api_issues(d):
    status, _, body = d.request("GET", "/v1/issues?state=all")
    eq(status, 200, "GET /v1/issues")
    doc = json.loads(body)
    return doc["issues"] if isinstance(doc, dict) else doc


def by_kind(issues, kind):
    return [i for i in issues if i.get("kind") == kind]


def test_rules_and_reload(d, rules):
    status, _ = d.post_events([ct(1, "CreateUser"), ct(2, "ListUsers"), ct(3, "DeleteUser")])
    eq(status, 200, "post")
    got = wait_for(lambda: (lambda l: l if len(l) >= 3 else None)(api_issues(d)),
                   msg="three issues")
    det = by_kind(got, "0e3b5c8a-1111-4222-8333-944445555666")
    eq(len(det), 1, "the detection is an issue")
    eq(det[0]["title"], "IAM user created")
    eq(det[0]["severity"], "high")
    status, _, body = d.request("GET", "/v1/issues/%d" % det[0]["id"])
    eq(status, 200)
    one = json.loads(body)
    eq(one["rules"], ["0e3b5c8a-1111-4222-8333-944445555666"], "rules shown")
    check("history" in one and "muted" in one and "labels" in one, "triage fields shown")
    check(by_kind(got, "iam.amazonaws.com:ListUsers"), "unmatched keeps its plain alert")
    check(by_kind(got, "iam.amazonaws.com:DeleteUser"), "no rule for DeleteUser yet")
    # a new rule and SIGHUP: the next DeleteUser is a detection
    with open(os.path.join(rules, "delete.yml"), "w") as f:
        f.write(RULE_DELETE)
    d.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: d.metrics().get("koban_rules_reloads_total", 0) >= 1, msg="reload")
    eq(d.metrics().get("koban_rules_loaded"), 2.0, "two rules loaded")
    status, _ = d.post_events([ct(4, "DeleteUser", "bob")])
    eq(status, 200)
    got = wait_for(lambda: by_kind(api_issues(d), "7d1e2f3a-0000-4000-8000-000000000001"),
                   msg="the new rule applies")
    eq(got[0]["severity"], "critical")
    # a broken file: the reload fails, the rules in use stay
    with open(os.path.join(rules, "broken.yml"), "w") as f:
        f.write("title: broken\nlogsource: {product: aws}\ndetection:\n  condition: x\n")
    d.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: d.metrics().get("koban_rules_reload_failures_total", 0) >= 1,
             msg="failed reload counted")
    eq(d.metrics().get("koban_rules_loaded"), 2.0, "the previous rules stay")
    check("broken.yml:" in d.tail(20000), "the error names the file")
    os.unlink(os.path.join(rules, "broken.yml"))


def test_check_config(rules):
    rc, out, _ = koban("serve", "--rules", rules, "--check-config")
    eq(rc, 0, "good rules: " + out)
    check("2 rules" in out, out)
    with open(os.path.join(rules, "broken.yml"), "w") as f:
        f.write("title: broken\nlogsource: {product: aws}\ndetection:\n  condition: x\n")
    rc, out, _ = koban("serve", "--rules", rules, "--check-config")
    eq(rc, 1, "a broken rule fails --check-config")
    check("broken.yml:4" in out, out)
    os.unlink(os.path.join(rules, "broken.yml"))


def main():
    res = Results()
    rules = tempfile.mkdtemp(prefix="koban-it-rules-")
    with open(os.path.join(rules, "create.yml"), "w") as f:
        f.write(RULE_CREATE)
    d = Daemon(syslog=False, spool=False, extra=["--rules", rules])
    try:
        d.start()
        res.run(test_rules_and_reload, d, rules)
        eq(d.stop(), 0)
    except Exception:
        print("daemon log:", d.tail())
        raise
    finally:
        d.cleanup()
    res.run(test_check_config, rules)
    shutil.rmtree(rules, ignore_errors=True)
    res.done()


if __name__ == "__main__":
    main()
