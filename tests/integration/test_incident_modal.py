"""The declaration modal against a fake Slack, end to end with a real
`koban serve`: /incident opens the modal (views.open with the command's
trigger_id) and answers with an empty 200; a submission with a bad channel
name is answered with errors under that field; a good one opens the
incident and the bot creates its channel under the chosen name; the
"Declare incident" button on koban's message of a high-severity alert
opens the modal with the alert's title and id, and the incident declared
from it lists the issue; views.open failing is answered ephemerally with
the text command to use instead (for a button, through its response_url,
and only when that URL is under slack.hooks_url)."""
import json
import os
import sys
import time
import urllib.parse

from kobantest import Daemon, Results, check, eq, koban, wait_for, scratch_dir

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fakesaas import FakeSaaS  # noqa: E402
from test_incident_slack import SECRET, command, show, signed  # noqa: E402


def setup(fake):
    top = scratch_dir("koban-incmodal-")
    routes = os.path.join(top, "routes.yml")
    with open(routes, "w") as f:
        f.write(f"""koban_url: http://koban.test:8478
receivers:
  - {{name: incident-bot, type: slack_incident, token: xoxb-bot, base_url: "{fake.url}/api"}}
  - {{name: sec-slack, type: slack, token: xoxb-bot, channel: C0SEC, base_url: "{fake.url}/api"}}
route:
  routes:
    - match: {{severity: ">= high"}}
      receiver: sec-slack
""")
    bot = os.path.join(top, "incidents.yml")
    with open(bot, "w") as f:
        f.write("""slack:
  receiver: incident-bot
  invite: [U0SEC]
  timekeeper: off
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
  bot_token: "xoxb-bot"
  api_url: "{fake.url}/api"
  hooks_url: "{fake.url}"
incident:
  config: {bot}
""")
    return Daemon(data=os.path.join(top, "var"), config=cfg, syslog=False, spool=False)


def stop_clean(d):
    """Stops koban serve: exit 0 and no sanitizer report in its log."""
    rc = d.stop()
    log = d.tail(200000)
    check("Sanitizer" not in log and "runtime error" not in log, log[-3000:])
    eq(rc, 0, log[-3000:])


def command_raw(d, text, trigger="1.2.3", channel="C0GENERAL", user="U0ANA"):
    """(status, body text) of a slash command."""
    body = urllib.parse.urlencode({"command": "/incident", "text": text, "user_id": user,
                                   "channel_id": channel, "trigger_id": trigger})
    h = dict(signed(body), **{"Content-Type": "application/x-www-form-urlencoded"})
    status, _, data = d.request("POST", "/v1/slack/commands", body, h)
    return status, data.decode() if isinstance(data, bytes) else (data or "")


def interact(d, payload):
    """(status, JSON answer or {}) of an interactivity payload."""
    body = "payload=" + urllib.parse.quote(json.dumps(payload))
    h = dict(signed(body), **{"Content-Type": "application/x-www-form-urlencoded"})
    status, _, data = d.request("POST", "/v1/slack/interactions", body, h)
    return status, json.loads(data) if data else {}


def submission(service, what, channel=None, temperature="warm", drill=False, metadata="",
               user="U0ANA"):
    def text(v):
        return {"value": {"type": "plain_text_input", "value": v}}
    values = {
        "service": text(service), "what": text(what), "channel": text(channel),
        "temperature": {"value": {"type": "static_select",
                                  "selected_option": {"value": temperature}}},
        "drill": {"value": {"type": "checkboxes",
                            "selected_options": [{"value": "drill"}] if drill else []}},
    }
    return {"type": "view_submission", "user": {"id": user}, "trigger_id": "9.9.9",
            "view": {"id": "V1", "callback_id": "koban_declare",
                     "private_metadata": metadata, "state": {"values": values}}}


def incidents(d):
    rc, out, err = koban("incident", "list", "--json", "--data-dir", d.data)
    eq(rc, 0, err)
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_command_opens_modal_and_submission():
    fake = FakeSaaS().start()
    d = setup(fake).start()
    try:
        t0 = time.time()
        status, body = command_raw(d, "", trigger="1111.2222.abcd")
        eq((status, body), (200, ""), "an empty 200 once the modal is open")
        check(time.time() - t0 < 3, "answered within Slack's 3 s")
        eq(len(fake.views), 1, "views.open called once")
        opened = fake.requests("/api/views.open")[0]
        eq(opened["headers"].get("authorization"), "Bearer xoxb-bot")
        v = fake.views[0]
        eq(v["trigger_id"], "1111.2222.abcd")
        eq(v["view"]["type"], "modal")
        eq(v["view"]["callback_id"], "koban_declare")
        eq([b["block_id"] for b in v["view"]["blocks"]],
           ["service", "what", "temperature", "channel", "drill"])
        chan = v["view"]["blocks"][3]
        eq((chan["element"]["max_length"], chan.get("optional")), (80, True))
        eq([o["value"] for o in v["view"]["blocks"][2]["element"]["options"]],
           ["warm", "hot", "cold"])
        # `/incident declare` alone opens it too
        eq(command_raw(d, "declare", trigger="3.3.3"), (200, ""))
        eq(fake.views[-1]["trigger_id"], "3.3.3")

        # bad channel names: errors under the field, nothing opened
        status, r = interact(d, submission("payments", "card payments failing",
                                           channel="a" * 81))
        eq(status, 200)
        eq(r.get("response_action"), "errors", r)
        eq(list(r["errors"]), ["channel"], r)
        check("80" in r["errors"]["channel"], r)
        status, r = interact(d, submission("payments", "card payments failing",
                                           channel="Bad Name!"))
        eq((status, r.get("response_action"), list(r.get("errors", {}))),
           (200, "errors", ["channel"]), r)
        status, r = interact(d, submission("pay$", "card payments failing"))
        eq((r.get("response_action"), list(r.get("errors", {}))), ("errors", ["service"]), r)
        eq(incidents(d), [], "nothing opened by a refused submission")

        # a good one: opened under the chosen name, the bot makes the channel
        status, r = interact(d, submission("payments", "card payments failing\n5xx at 40%",
                                           channel="pay-cards", temperature="hot"))
        eq((status, r), (200, {"response_action": "clear"}))
        inc = show(d, 1)
        eq((inc["service"], inc["title"], inc["temperature"], inc["status"]),
           ("payments", "card payments failing", "hot", "declared"))
        eq(inc["slack_channel_name"], "pay-cards")
        check(not inc["drill"], inc)
        wait_for(lambda: any(c["name"] == "pay-cards" for c in fake.channels.values()),
                 timeout=20, msg="the bot created #pay-cards")
        wait_for(lambda: show(d, 1)["slack_channel_id"], msg="channel id copied back")
        # the name is now taken
        status, r = interact(d, submission("payments", "again", channel="pay-cards"))
        eq(list(r.get("errors", {})), ["channel"], r)
        check("taken" in r["errors"]["channel"], r)
        # /incident alone in the incident's channel still tells its state
        r = command(d, "", channel=show(d, 1)["slack_channel_id"])
        check("Incident #1" in r["text"], r)
        eq(len(fake.views), 2, "no modal in an incident's channel")
        stop_clean(d)
    finally:
        d.stop()
        d.cleanup()
        fake.stop()


def test_declare_from_alert_message():
    fake = FakeSaaS().start()
    d = setup(fake).start()
    try:
        alert = {"title": "Root console login from 203.0.113.9", "severity": "high",
                 "kind": "root-login", "host": "bastion-1", "time": int(time.time())}
        d.post_events(json.dumps(alert))
        wait_for(lambda: any(m.get("channel") == "C0SEC" for m in fake.slack), timeout=20,
                 msg="the alert posted to Slack")
        msg = next(m for m in fake.slack if m.get("channel") == "C0SEC")
        acts = [b for b in msg["blocks"] if b["type"] == "actions"]
        eq(len(acts), 1, f"one actions block: {msg['blocks']}")
        button = acts[0]["elements"][0]
        eq((button["type"], button["action_id"]), ("button", "incident_declare"))
        issue = int(button["value"])
        check(issue > 0, button)

        status, r = interact(d, {"type": "block_actions", "user": {"id": "U0KEN"},
                                 "trigger_id": "5.5.5",
                                 "container": {"channel_id": "C0SEC",
                                               "message_ts": msg["ts"]},
                                 "actions": [{"action_id": "incident_declare",
                                              "value": button["value"]}]})
        eq((status, r), (200, {}))
        eq(len(fake.views), 1, "views.open for the button")
        v = fake.views[0]
        eq(v["trigger_id"], "5.5.5")
        eq(v["view"]["private_metadata"], str(issue))
        eq(v["view"]["blocks"][1]["element"].get("initial_value"), alert["title"])

        status, r = interact(d, submission("auth", alert["title"], user="U0KEN",
                                           metadata=v["view"]["private_metadata"]))
        eq((status, r), (200, {"response_action": "clear"}))
        inc = show(d, 1)
        eq(inc["title"], alert["title"])
        eq(inc["issues"], [issue])
        rc, out, err = koban("incident", "show", "1", "--data-dir", d.data)
        eq(rc, 0, err)
        check(str(issue) in out, out)
        stop_clean(d)
    finally:
        d.stop()
        d.cleanup()
        fake.stop()


def test_views_open_fails():
    fake = FakeSaaS().start()
    fake.script("/api/views.open", "500", times=1)
    d = setup(fake).start()
    try:
        status, body = command_raw(d, "")
        eq(status, 200)
        r = json.loads(body)
        eq(r["response_type"], "ephemeral")
        check("Could not open the declaration form" in r["text"], r["text"])
        check("HTTP 500" in r["text"], r["text"])
        check("/incident declare SERVICE: what is happening" in r["text"], r["text"])
        eq(incidents(d), [])
        # the text command still declares
        r = command(d, "declare payments: card payments failing")
        check("Incident #1 declared" in r["text"], r)
        # a button's answer body is not shown: the reason goes to its response_url
        fake.script("/api/views.open", "500", times=1)
        status, r = interact(d, {"type": "block_actions", "user": {"id": "U0KEN"},
                                 "trigger_id": "6.6.6",
                                 "response_url": fake.url + "/actions/T0/1/abc",
                                 "actions": [{"action_id": "incident_declare", "value": "1"}]})
        eq((status, r), (200, {}))
        told = fake.requests("/actions/T0/1/abc")
        eq(len(told), 1, "the clicker is told")
        b = json.loads(told[0]["body"])
        eq((b["response_type"], b["replace_original"]), ("ephemeral", False))
        check("/incident declare SERVICE" in b["text"] and "HTTP 500" in b["text"], b)
        eq(len(fake.views), 0)
        stop_clean(d)
    finally:
        d.stop()
        d.cleanup()
        fake.stop()


REFUSED = "button not answered: response_url is not under slack.hooks_url"


def test_response_url_outside_hooks_refused():
    """A signed button whose response_url is not under slack.hooks_url gets
    nothing POSTed anywhere: another port, a look-alike host, a user before
    the host, another scheme. Each refusal is one warning; koban stays up and
    still answers a response_url under the base."""
    fake = FakeSaaS().start()
    other = FakeSaaS().start()
    d = setup(fake).start()
    try:
        host_port = other.url[len("http://"):]
        refused = [
            other.url + "/actions/T0/2/other-port",           # same host, another port
            fake.url + ".evil.example/actions/T0/3/lookalike",  # look-alike prefix
            fake.url + "0/actions/T0/4/longer-port",          # the port, one digit more
            fake.url + "@" + host_port + "/actions/T0/5/user",  # userinfo: the host is other's
            fake.url.replace("http://", "https://") + "/actions/T0/6/scheme",
            fake.url + "/actions/T0/7/a b",                   # a space in the path
        ]
        fake.script("/api/views.open", "500", times=len(refused) + 1)
        for i, url in enumerate(refused):
            status, r = interact(d, {"type": "block_actions", "user": {"id": "U0KEN"},
                                     "trigger_id": f"7.7.{i}", "response_url": url,
                                     "actions": [{"action_id": "incident_declare",
                                                  "value": "1"}]})
            eq((status, r), (200, {}), url)
        eq(other.requests(), [], "nothing reached the other server")
        eq([q["path"] for q in fake.requests() if not q["path"].startswith("/api/")], [],
           "nothing but API calls reached the hooks server")
        log = d.tail(200000)
        warns = [line for line in log.splitlines() if REFUSED in line]
        eq(len(warns), len(refused), "one warning per refusal:\n" + "\n".join(warns))
        check(all("level=warn" in w for w in warns), warns)
        check(any("evil.example" in w for w in warns), warns)
        # still up, and a response_url under the base is answered
        eq(d.request("GET", "/healthz")[0], 200)
        status, r = interact(d, {"type": "block_actions", "user": {"id": "U0KEN"},
                                 "trigger_id": "7.7.9",
                                 "response_url": fake.url + "/actions/T0/8/ok",
                                 "actions": [{"action_id": "incident_declare", "value": "1"}]})
        eq((status, r), (200, {}))
        eq(len(fake.requests("/actions/T0/8/ok")), 1, "the good response_url is told")
        eq(other.requests(), [])
        stop_clean(d)
    finally:
        d.stop()
        d.cleanup()
        fake.stop()
        other.stop()


def test_bad_hooks_url_is_a_config_error():
    top = scratch_dir("koban-incmodal-cfg-")
    for bad in ("ftp://hooks.slack.com", "https://hooks.slack.com@evil.example",
                "https://hooks.slack.com?x=1"):
        cfg = os.path.join(top, "koban.yaml")
        with open(cfg, "w") as f:
            f.write(f"""slack:
  signing_secret: "{SECRET}"
  hooks_url: "{bad}"
""")
        rc, out, err = koban("serve", "--check-config", "--config", cfg)
        check(rc != 0, f"{bad}: refused ({rc}, {out}, {err})")
        check("koban.yaml:3" in err and "slack.hooks_url" in err, err)


def main():
    res = Results()
    for t in (test_command_opens_modal_and_submission, test_declare_from_alert_message,
              test_views_open_fails, test_response_url_outside_hooks_refused,
              test_bad_hooks_url_is_a_config_error):
        res.run(t)
    res.done()


if __name__ == "__main__":
    main()
