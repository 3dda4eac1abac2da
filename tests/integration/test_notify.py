"""Notifications end to end: `koban serve` with a routing file whose
receivers are a fake Slack, GitHub and PagerDuty on 127.0.0.1
(fakesaas.py). The life of an issue across the three (opened, closed by a
person, recurred, acknowledged), a receiver failing then recovering (every
notification arrives, in order, once), and a receiver answering 400 (dead
letter, reported, not retried)."""
import json
import os
import time

from fakesaas import FakeSaaS
from kobantest import Daemon, Results, check, eq, koban, wait_for, scratch_dir

RULES = {
    "create.yml": """title: IAM user created
id: 0e3b5c8a-1111-4222-8333-944445555666
logsource: {product: aws, service: cloudtrail}
detection:
  sel: {eventName: CreateUser}
  condition: sel
level: high
""",
    "delete.yml": """title: IAM user deleted
id: 7d1e2f3a-0000-4000-8000-000000000001
logsource: {product: aws, service: cloudtrail}
detection:
  sel: {eventName: DeleteUser}
  condition: sel
level: low
""",
}


def ct(name, user, n):
    return json.dumps({
        "eventVersion": "1.08", "eventSource": "iam.amazonaws.com", "eventName": name,
        "eventTime": "2026-11-20T10:00:%02dZ" % (n % 60), "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.5", "eventID": f"e-{name}-{n}",
        "recipientAccountId": "123456789012",
        "userIdentity": {"type": "IAMUser",
                         "arn": f"arn:aws:iam::123456789012:user/{user}"}})


def setup(fake, extra_routes=""):
    top = scratch_dir("koban-notify-")
    rules = os.path.join(top, "rules")
    os.makedirs(rules)
    for name, text in RULES.items():
        with open(os.path.join(rules, name), "w") as f:
            f.write(text)
    routes = os.path.join(top, "routes.yml")
    with open(routes, "w") as f:
        f.write(f"""koban_url: http://koban.test:8478
receivers:
  - {{name: slack, type: slack, token: xoxb-test, channel: C1, base_url: "{fake.url}/api"}}
  - {{name: gh, type: github, token: ghp-test, repo: acme/sec, base_url: "{fake.url}"}}
  - {{name: pd, type: pagerduty, token: R0UTING, base_url: "{fake.url}"}}
{extra_routes}""")
    cfg = os.path.join(top, "koban.yaml")
    with open(cfg, "w") as f:
        f.write(f"""rules:
  dir: {rules}
notify:
  routes: {routes}
  poll_ms: 50
  backoff_base_ms: 50
  backoff_cap_ms: 400
  timeout_ms: 2000
  max_attempts: 20
  repeat_interval_s: 1
""")
    return Daemon(config=cfg, syslog=False, spool=False)


def issue_id(d, kind):
    for i in d.issues("--json"):
        if i["kind"] == kind:
            return i["id"]
    return None


def gh_issue(fake):
    issues = fake.state()["github"].get("acme/sec", {})
    return list(issues.values())


def test_life_of_an_issue():
    fake = FakeSaaS().start()
    d = setup(fake)
    try:
        d.start()
        d.post_events(ct("CreateUser", "alice", 1))
        wait_for(lambda: len(gh_issue(fake)) == 1 and fake.requests("/v2/enqueue"),
                 msg="GitHub issue and PagerDuty trigger")
        gi = gh_issue(fake)[0]
        check("koban:fp=" in gi["body"], f"identity marker in the body: {gi['body'][:300]}")
        check(any(l.startswith("severity:") for l in gi["labels"]), f"labels {gi['labels']}")
        pd = [json.loads(r["body"]) if isinstance(r["body"], str) else r["body"]
              for r in fake.requests("/v2/enqueue")]
        eq(pd[0]["event_action"], "trigger")
        dedup = pd[0]["dedup_key"]
        eq(fake.requests("/api/chat.postMessage"), [], "high goes to GitHub and PagerDuty only")

        d.post_events(ct("DeleteUser", "bob", 2))
        wait_for(lambda: fake.requests("/api/chat.postMessage"), msg="Slack message for low")

        iid = issue_id(d, "0e3b5c8a-1111-4222-8333-944445555666")
        st, _, body = d.request("POST", f"/v1/issues/{iid}/close",
                                json.dumps({"reason": "user removed", "by": "ann"}))
        eq(st, 200, body)
        wait_for(lambda: gh_issue(fake)[0]["state"] == "closed", msg="GitHub issue closed")
        wait_for(lambda: fake.state()["pagerduty"].get(dedup, {}).get("status") == "resolved",
                 msg=f"PagerDuty resolved: {fake.state()['pagerduty']}")

        d.post_events(ct("CreateUser", "alice", 3))  # recurs: reopened
        wait_for(lambda: gh_issue(fake)[0]["state"] == "open", msg="GitHub issue reopened")
        st, _, body = d.request("POST", f"/v1/issues/{iid}/ack", json.dumps({"by": "ann"}))
        eq(st, 200, body)
        wait_for(lambda: fake.state()["pagerduty"].get(dedup, {}).get("status") ==
                 "acknowledged", msg=f"PagerDuty acknowledged: {fake.state()['pagerduty']}")
        def comments():
            return sum(len(v) for v in fake.state()["github_comments"].values())
        wait_for(lambda: fake.state()["pagerduty"].get(dedup, {}).get("status") ==
                 "acknowledged" and comments() >= 3, msg="ack delivered everywhere")
        before = comments()
        time.sleep(1.2)  # past the repeat interval: a repeat is told once
        d.post_events(ct("CreateUser", "alice", 4))
        wait_for(lambda: comments() == before + 1,
                 msg=f"GitHub comment for the repeat: {fake.state()['github_comments']}")
        st, _, body = d.request("POST", f"/v1/issues/{iid}/close",
                                json.dumps({"reason": "fixed for good", "by": "ann"}))
        eq(st, 200, body)
        wait_for(lambda: gh_issue(fake)[0]["state"] == "closed", msg="GitHub issue closed again")
        wait_for(lambda: fake.state()["pagerduty"].get(dedup, {}).get("status") == "resolved",
                 msg=f"PagerDuty resolved again: {fake.state()['pagerduty']}")
        eq(len(gh_issue(fake)), 1, "one GitHub issue for the whole life")
        def jobs():
            rc, out, err = koban("outbox", "list", "--data-dir", d.data, "--json")
            eq(rc, 0, err)
            out = out.strip()
            return json.loads(out) if out.startswith("[") else \
                [json.loads(l) for l in out.splitlines() if l.strip()]
        wait_for(lambda: all(j["state"] == "done" for j in jobs()),
                 msg=f"every job delivered: {jobs()}")
        got = [(j["receiver"], j["event"]) for j in jobs()]
        eq(got, [("gh", "opened"), ("pd", "opened"), ("slack", "opened"), ("gh", "closed"),
                 ("pd", "closed"), ("gh", "reopened"), ("pd", "reopened"),
                 ("gh", "acknowledged"), ("pd", "acknowledged"), ("gh", "repeated"),
                 ("pd", "repeated"), ("gh", "closed"), ("pd", "closed")], "one job per change")
        m = d.metrics()
        eq(m.get('koban_notify_sent_total{receiver="gh"}', 0), 6, f"metrics: {m}")
    finally:
        d.stop()
        d.cleanup()
        fake.stop()


def test_receiver_down_then_back():
    fake = FakeSaaS().start()
    d = setup(fake)
    try:
        fake.script("/repos/acme/sec/issues", "500", times=4)
        fake.script("/v2/enqueue", "429", times=2, retry_after="1")
        d.start()
        d.post_events(ct("CreateUser", "carol", 1))
        wait_for(lambda: len(gh_issue(fake)) == 1, timeout=30, msg="GitHub issue after 500s")
        wait_for(lambda: fake.state()["pagerduty"], timeout=30, msg="PagerDuty after 429s")
        eq(len(gh_issue(fake)), 1, "no second GitHub issue")
        creates = [r for r in fake.requests("/repos/acme/sec/issues") if r["method"] == "POST"]
        eq(len(creates), 5, "four failures, then one create")
        pd = fake.requests("/v2/enqueue")
        check(pd[-1]["t"] - pd[-2]["t"] >= 0.9, "Retry-After honoured")
    finally:
        d.stop()
        d.cleanup()
        fake.stop()


def test_bad_request_is_dead_lettered():
    fake = FakeSaaS().start()
    d = setup(fake, extra_routes='ops: {receiver: slack, mention: "<!subteam^S0PS>"}\n')
    try:
        fake.script("/v2/enqueue", "400", times=100)
        d.start()
        d.post_events(ct("CreateUser", "dave", 1))
        wait_for(lambda: len(gh_issue(fake)) == 1, msg="GitHub still gets it")

        def dead():
            rc, out, err = koban("outbox", "list", "--data-dir", d.data, "--state", "dead")
            return rc == 0 and "pd" in out
        wait_for(dead, msg="the PagerDuty job is dead-lettered")
        eq(len(fake.requests("/v2/enqueue")), 1, "a 400 is not retried")
        # koban's own error reaches the ops receiver, mention first, text escaped
        wait_for(lambda: fake.requests("/api/chat.postMessage"), msg="ops message")
        ops = [json.loads(r["body"]) for r in fake.requests("/api/chat.postMessage")]
        eq(len(ops), 1, f"one ops message: {ops}")
        check(ops[0]["text"].startswith("<!subteam^S0PS> koban gave up on a notification: pd"),
              ops[0]["text"])
        check("HTTP 400" in ops[0]["text"] or "400" in ops[0]["text"], ops[0]["text"])
        m = d.metrics()
        check(m.get('koban_notify_failed_total{receiver="pd"}', 0) >= 1, f"metrics: {m}")
    finally:
        d.stop()
        d.cleanup()
        fake.stop()


def test_ingest_queues_serve_delivers():
    """`koban ingest` writes the jobs (server stopped); `koban serve` sends them."""
    fake = FakeSaaS().start()
    d = setup(fake)
    try:
        path = os.path.join(d.data, "events.ndjson")
        with open(path, "w") as f:
            f.write(ct("CreateUser", "erin", 1) + "\n" + ct("DeleteUser", "erin", 2) + "\n")
        rc, out, err = koban("ingest", "--config", d.config, "--data-dir", d.data, path)
        eq(rc, 0, out + err)
        check("notifications: 3 queued" in out, out)
        eq(fake.requests(), [], "nothing is sent by koban ingest")
        d.start()
        wait_for(lambda: len(gh_issue(fake)) == 1 and fake.requests("/v2/enqueue") and
                 fake.requests("/api/chat.postMessage"), msg="delivered by koban serve")
    finally:
        d.stop()
        d.cleanup()
        fake.stop()


def test_bad_routing_file_stops_serve():
    fake = FakeSaaS().start()
    d = setup(fake, extra_routes="route:\n  receiver: nosuch\n")
    try:
        rc, out, err = koban("serve", "--config", d.config, "--check-config")
        eq(rc, 1, out + err)
        check("routes.yml:" in out and "nosuch" in out, out)
    finally:
        d.cleanup()
        fake.stop()


if __name__ == "__main__":
    r = Results()
    r.run(test_life_of_an_issue)
    r.run(test_receiver_down_then_back)
    r.run(test_bad_request_is_dead_lettered)
    r.run(test_ingest_queues_serve_delivers)
    r.run(test_bad_routing_file_stops_serve)
    r.done()
