"""Slack's requests to a real `koban serve`: signed events, commands and
interactions on /v1/slack/ (not behind http.token), the report reaction
that becomes a `report` issue, and every refusal — bad signature, stale
timestamp, replayed request — answered 401 and logged; Slack's retries of
an event handled once."""
import hashlib
import hmac
import json
import os
import time

from kobantest import Daemon, Results, check, eq, wait_for, scratch_dir

SECRET = "test-signing-secret-0123456789"
TOKEN = "koban-api-token"


def signed(body, ts=None, secret=SECRET):
    ts = str(int(time.time()) if ts is None else ts)
    sig = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(),
                           hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}


def reaction(event_id, user, emoji="rotating_light", channel="C0PAY", ts="1764881000.000100"):
    return json.dumps({
        "type": "event_callback", "team_id": "T01", "event_id": event_id,
        "event_time": int(time.time()),
        "event": {"type": "reaction_added", "user": user, "reaction": emoji,
                  "item_user": "U0AUTHOR",
                  "item": {"type": "message", "channel": channel, "ts": ts}}})


def start():
    tmp = scratch_dir("koban-slack-")
    cfg = os.path.join(tmp, "koban.yaml")
    with open(cfg, "w") as f:
        f.write(f'http:\n  token: "{TOKEN}"\n'
                f'slack:\n  signing_secret: "{SECRET}"\n'
                '  workspace_url: "https://acme.slack.com"\n')
    return Daemon(data=os.path.join(tmp, "var"), config=cfg, syslog=False, spool=False).start()


def post(d, path, body, headers):
    status, _, data = d.request("POST", path, body, headers)
    return status, data.decode()


def report_issues(d):
    return [i for i in d.issues("--state", "all") if i["source"] == "report"]


def test_report_reaction():
    d = start()
    try:
        body = reaction("Ev001", "U0ANA")
        h = dict(signed(body), **{"Content-Type": "application/json"})
        eq(post(d, "/v1/slack/events", body, h)[0], 200, "signed report reaction")
        issues = wait_for(lambda: report_issues(d), msg="the report issue")
        eq(len(issues), 1)
        i = issues[0]
        eq(i["severity"], "medium")
        eq(i["count"], 1)
        check("Reported by U0ANA in #C0PAY" in i["title"], i["title"])
        eq(i["resource"], "https://acme.slack.com/archives/C0PAY/p1764881000000100")
        eq(i["actor"]["user"], "U0AUTHOR")

        # Slack retries the same event (new signature, X-Slack-Retry-Num): once only.
        time.sleep(1.1)
        h2 = dict(signed(body), **{"Content-Type": "application/json",
                                   "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
        eq(post(d, "/v1/slack/events", body, h2)[0], 200, "retried event")
        # A second person reports the same message: the same issue, count 2.
        body3 = reaction("Ev002", "U0KENJI")
        eq(post(d, "/v1/slack/events", body3,
                dict(signed(body3), **{"Content-Type": "application/json"}))[0], 200)
        wait_for(lambda: [i for i in report_issues(d) if i["count"] == 2], msg="count 2")
        eq(len(report_issues(d)), 1)
        # Other reactions change nothing.
        body4 = reaction("Ev003", "U0ANA", emoji="thumbsup", ts="1764881111.000200")
        eq(post(d, "/v1/slack/events", body4,
                dict(signed(body4), **{"Content-Type": "application/json"}))[0], 200)
        m = d.metrics()
        eq(m.get('koban_slack_requests_total{kind="event",result="ok"}'), 3.0)
        eq(m.get('koban_slack_requests_total{kind="event",result="duplicate"}'), 1.0)
        time.sleep(0.5)
        eq(len(report_issues(d)), 1)
        eq(report_issues(d)[0]["count"], 2)
    finally:
        d.stop()
        d.cleanup()


def test_refusals_are_401_and_logged():
    d = start()
    try:
        body = reaction("Ev100", "U0EVE")
        ct = {"Content-Type": "application/json"}
        bad = dict(signed(body, secret="not-the-secret"), **ct)
        status, data = post(d, "/v1/slack/events", body, bad)
        eq(status, 401, "bad signature")
        check("signature does not match" in data, data)
        stale = dict(signed(body, ts=int(time.time()) - 600), **ct)
        status, data = post(d, "/v1/slack/events", body, stale)
        eq(status, 401, "stale timestamp")
        check("stale timestamp" in data, data)
        status, data = post(d, "/v1/slack/events", body, ct)
        eq(status, 401, "unsigned")
        good = dict(signed(body), **ct)
        eq(post(d, "/v1/slack/events", body, good)[0], 200)
        status, data = post(d, "/v1/slack/events", body, good)
        eq(status, 401, "replayed request")
        check("replayed request" in data, data)
        log = d.tail(20000)
        for reason in ("signature does not match", "stale timestamp", "replayed request",
                       "no X-Slack-Request-Timestamp"):
            check(reason in log and "slack request refused" in log, f"logged: {reason}")
        # Only the one good request became an alert.
        wait_for(lambda: report_issues(d), msg="the one report")
        eq(report_issues(d)[0]["count"], 1)
        m = d.metrics()
        eq(m.get('koban_slack_requests_total{kind="event",result="refused"}'), 4.0)
        # /v1/slack/ needs no bearer token; the rest of /v1/ still does.
        eq(d.request("GET", "/v1/issues")[0], 401)
        eq(d.request("GET", "/v1/issues", headers={"Authorization": "Bearer " + TOKEN})[0], 200)
    finally:
        d.stop()
        d.cleanup()


def test_verification_commands_and_bad_bodies():
    d = start()
    try:
        ct = {"Content-Type": "application/json"}
        body = json.dumps({"type": "url_verification", "token": "x", "challenge": "3eZbrw1aBm2r"})
        status, data = post(d, "/v1/slack/events", body, dict(signed(body), **ct))
        eq(status, 200)
        eq(json.loads(data), {"challenge": "3eZbrw1aBm2r"})
        body = "not json"
        eq(post(d, "/v1/slack/events", body, dict(signed(body), **ct))[0], 400)
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        body = "command=%2Fincident&text=db+down&user_id=U1&channel_id=C1&trigger_id=1.2.3"
        eq(post(d, "/v1/slack/commands", body, dict(signed(body), **form))[0], 200)
        body = "payload=%7B%22type%22%3A%22block_actions%22%7D"
        eq(post(d, "/v1/slack/interactions", body, dict(signed(body), **form))[0], 200)
        eq(d.request("GET", "/v1/slack/events")[0], 405)
        eq(d.request("POST", "/v1/slack/other", "x",
                     {"Authorization": "Bearer " + TOKEN})[0], 404)
    finally:
        d.stop()
        d.cleanup()


def test_off_without_secret():
    d = Daemon(syslog=False, spool=False).start()
    try:
        body = reaction("Ev200", "U0X")
        h = dict(signed(body), **{"Content-Type": "application/json"})
        eq(d.request("POST", "/v1/slack/events", body, h)[0], 404)
    finally:
        d.stop()
        d.cleanup()


def main():
    res = Results()
    for t in (test_report_reaction, test_refusals_are_401_and_logged,
              test_verification_commands_and_bad_bodies, test_off_without_secret):
        res.run(t)
    res.done()


if __name__ == "__main__":
    main()
