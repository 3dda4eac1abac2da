"""The incident bot against a fake Slack, end to end with a real `koban serve`:
/incident declare (signed) -> channel created (a taken name gets -2) ->
people and user groups invited -> first-response checklist -> broadcasts ->
the channel id copied back -> timekeeper ticks (one message, then edited in
place) -> a pin on the timeline -> a button marks it recovered (broadcast)
-> /incident completed (broadcast, archived) -> the postmortem's timeline
has the pin. And a Slack outage during declaration: the incident is
recorded at once and the calls are completed later by the outbox."""
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.parse

from kobantest import Daemon, Results, check, eq, koban, wait_for, scratch_dir

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fakesaas import FakeSaaS  # noqa: E402

SECRET = "incident-signing-secret"


def signed(body):
    ts = str(int(time.time()))
    sig = "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(),
                           hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}


def setup(fake, timekeeper="2s"):
    top = scratch_dir("koban-incbot-")
    routes = os.path.join(top, "routes.yml")
    with open(routes, "w") as f:
        f.write(f"""receivers:
  - {{name: incident-bot, type: slack_incident, token: xoxb-bot, base_url: "{fake.url}/api"}}
""")
    bot = os.path.join(top, "incidents.yml")
    with open(bot, "w") as f:
        f.write(f"""slack:
  receiver: incident-bot
  invite: [U0SEC]
  invite_groups: [S0SEC]
  broadcast: [C0ENG, C0MGMT]
  timekeeper: {timekeeper}
  timekeeper_mode: update
  flowchart: https://wiki.example/flowchart
services:
  payments:
    invite: [U0PAY]
    manual: https://wiki.example/payments
""")
    cfg = os.path.join(top, "koban.yaml")
    with open(cfg, "w") as f:
        f.write(f"""notify:
  routes: {routes}
  poll_ms: 50
  backoff_base_ms: 50
  backoff_cap_ms: 300
  timeout_ms: 2000
slack:
  signing_secret: "{SECRET}"
  workspace_url: "https://acme.slack.com"
incident:
  config: {bot}
""")
    return Daemon(data=os.path.join(top, "var"), config=cfg, syslog=False, spool=False)


def command(d, text, channel="C0GENERAL", user="U0ANA"):
    body = urllib.parse.urlencode({"command": "/incident", "text": text, "user_id": user,
                                   "channel_id": channel, "trigger_id": "1.2.3"})
    h = dict(signed(body), **{"Content-Type": "application/x-www-form-urlencoded"})
    status, _, data = d.request("POST", "/v1/slack/commands", body, h)
    eq(status, 200, f"/incident {text}")
    return json.loads(data) if data else {}


def event(d, ev, event_id):
    body = json.dumps({"type": "event_callback", "event_id": event_id,
                       "event_time": int(time.time()), "event": ev})
    h = dict(signed(body), **{"Content-Type": "application/json"})
    eq(d.request("POST", "/v1/slack/events", body, h)[0], 200, ev["type"])


def click(d, action, value, user="U0KEN"):
    payload = json.dumps({"type": "block_actions", "user": {"id": user},
                          "actions": [{"action_id": action, "value": value}]})
    body = "payload=" + urllib.parse.quote(payload)
    h = dict(signed(body), **{"Content-Type": "application/x-www-form-urlencoded"})
    eq(d.request("POST", "/v1/slack/interactions", body, h)[0], 200, action)


def show(d, n):
    rc, out, err = koban("incident", "show", str(n), "--json", "--data-dir", d.data)
    eq(rc, 0, err)
    return json.loads(out)


def calls(fake):
    """(method, key detail) of every Slack call, in order."""
    out = []
    for r in fake.requests():
        m = r["path"].rsplit("/", 1)[-1]
        b = json.loads(r["body"]) if r["body"].startswith("{") else {}
        if m == "conversations.create":
            out.append((m, b.get("name")))
        elif m == "conversations.invite":
            out.append((m, b.get("users")))
        elif m == "usergroups.users.list":
            out.append((m, r["query"]))
        elif m in ("chat.postMessage", "chat.update", "conversations.archive"):
            out.append((m, b.get("channel")))
    return out


def test_declare_to_postmortem():
    fake = FakeSaaS().start()
    fake.usergroups["S0SEC"] = ["U0SEC", "U0SEC2"]
    today = time.strftime("%Y%m%d", time.gmtime())
    fake.channels["C0TAKEN"] = {"name": f"payments-{today}i", "members": [], "archived": False}
    d = setup(fake).start()
    try:
        r = command(d, "declare payments: card payments failing")
        eq(r["response_type"], "ephemeral")
        check("Incident #1 declared" in r["text"], r["text"])
        # the channel, its people, the checklist, the announcements
        want_open = [("conversations.create", f"payments-{today}i"),
                     ("conversations.create", f"payments-{today}i-2")]
        wait_for(lambda: len([c for c in calls(fake) if c[0] == "chat.postMessage"]) >= 3,
                 timeout=20, msg="open and broadcast calls")
        cs = calls(fake)
        eq(cs[:2], want_open)
        ch = next(k for k, v in fake.channels.items() if v["name"] == f"payments-{today}i-2")
        eq(cs[2:7], [("conversations.invite", "U0SEC,U0PAY"),
                     ("usergroups.users.list", "usergroup=S0SEC"),
                     ("conversations.invite", "U0SEC,U0SEC2"),
                     ("chat.postMessage", ch),
                     ("chat.postMessage", "C0ENG")])
        eq(cs[7], ("chat.postMessage", "C0MGMT"))
        eq(sorted(fake.channels[ch]["members"]), ["U0PAY", "U0SEC", "U0SEC2"])
        first = next(m for m in fake.slack if m["channel"] == ch)
        for words in ("Incident #1 (payments, level 3) declared", "card payments failing",
                      "<@U0ANA>", "First response", "https://wiki.example/flowchart",
                      "https://wiki.example/payments", "impact"):
            check(words in first["text"], f"checklist has {words!r}: {first['text']}")
        eng = next(m for m in fake.slack if m["channel"] == "C0ENG")
        check(f"#payments-{today}i-2" in eng["text"] or f"#payments-{today}i" in eng["text"],
              eng["text"])
        # the channel Slack made is copied back into the incident
        wait_for(lambda: show(d, 1)["slack_channel_id"] == ch, msg="channel id copied")
        eq(show(d, 1)["slack_channel_name"], f"payments-{today}i-2")

        # the timekeeper: posted once, then edited in place
        wait_for(lambda: any(m["channel"] == ch and ":stopwatch:" in (m["text"] or "")
                             for m in fake.slack), timeout=15, msg="timekeeper posted")
        wait_for(lambda: any(m["channel"] == ch and m["updates"] >= 1 for m in fake.slack
                             if ":stopwatch:" in (m["text"] or "")),
                 timeout=15, msg="timekeeper edited")
        tk = [m for m in fake.slack if ":stopwatch:" in (m["text"] or "")]
        eq(len(tk), 1, "one timekeeper message")
        acts = [b for b in tk[0]["blocks"] if b["type"] == "actions"][0]["elements"]
        eq([a["value"] for a in acts], ["1:investigating", "1:recovered", "1:completed", "1:me"])

        # a pinned message goes on the timeline
        event(d, {"type": "pin_added", "user": "U0KEN", "channel_id": ch,
                  "item": {"type": "message", "channel": ch,
                           "message": {"ts": "1764882000.000200", "user": "U0KEN",
                                       "text": "rolled back payments-api to v41"}}}, "EvPIN1")
        wait_for(lambda: any(e["kind"] == "pin" for e in show(d, 1)["timeline"]),
                 msg="pin on the timeline")
        # the button, then the command in the channel
        click(d, "incident_status", "1:recovered")
        wait_for(lambda: show(d, 1)["status"] == "recovered", msg="recovered")
        wait_for(lambda: any("is now *recovered*" in (m["text"] or "") and m["channel"] == "C0MGMT"
                             for m in fake.slack), msg="recovery broadcast")
        r = command(d, "completed", channel=ch, user="U0KEN")
        eq(r["text"], "Done.")
        wait_for(lambda: fake.channels[ch]["archived"], msg="channel archived")
        check(any("is now *completed*" in (m["text"] or "") and m["channel"] == "C0ENG"
                  for m in fake.slack), "completion broadcast")
        # nothing failed on the way
        rc, out, _ = koban("outbox", "list", "--state", "dead", "--data-dir", d.data)
        eq((rc, out.strip().splitlines()[1:] if out.strip() else []), (0, []), out)
        rc, md, err = koban("incident", "postmortem", "1", "--data-dir", d.data)
        eq(rc, 0, err)
        check("rolled back payments-api to v41" in md, md)
    finally:
        d.stop()
        d.cleanup()
        fake.stop()


def test_slack_down_during_declaration():
    fake = FakeSaaS().start()
    fake.script("/api/conversations.create", "500", times=4)
    d = setup(fake, timekeeper="off").start()
    try:
        rc, out, err = koban("incident", "open", "--service", "auth", "--title", "login errors",
                             "--drill", "--data-dir", d.data)
        eq(rc, 0, err)
        # recorded at once, whatever Slack does
        eq(show(d, 1)["status"], "declared")
        wait_for(lambda: len(fake.requests("/api/conversations.create")) >= 5, timeout=20,
                 msg="retries of conversations.create")
        wait_for(lambda: show(d, 1)["slack_channel_id"], timeout=20, msg="channel after outage")
        wait_for(lambda: len([m for m in fake.slack if m["channel"] in ("C0ENG", "C0MGMT")]) == 2,
                 msg="broadcasts after the outage")
        for m in fake.slack:
            check(m["text"].startswith("[DRILL]") or "[DRILL]" in m["text"][:40],
                  f"a drill says so: {m['text'][:60]}")
        eq([r["status"] for r in fake.requests("/api/conversations.create")],
           [500, 500, 500, 500, 200])
    finally:
        d.stop()
        d.cleanup()
        fake.stop()


def test_bad_settings_stop_serve():
    fake = FakeSaaS().start()
    d = setup(fake)
    try:
        with open(os.path.join(os.path.dirname(d.data), "incidents.yml"), "w") as f:
            f.write("slack:\n  invite: U1\n")
        try:
            d.start(timeout=10)
            check(False, "serve started with a bad incidents.yml")
        except AssertionError as e:
            check("incidents.yml" in str(e) and "receiver is required" in str(e), str(e))
    finally:
        d.cleanup()
        fake.stop()


def main():
    res = Results()
    for t in (test_declare_to_postmortem, test_slack_down_during_declaration,
              test_bad_settings_stop_serve):
        res.run(t)
    res.done()


if __name__ == "__main__":
    main()
