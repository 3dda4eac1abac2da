"""Notifications survive kill -9: `koban serve` with Slack, GitHub and
PagerDuty receivers on a fake SaaS (fakesaas.py) is killed with SIGKILL at
least 20 times while it delivers — at random moments and while a request is
in flight (the fake has taken it, is slow to act on it, and has not
answered) — and restarted on the same data directory each time. Between
kills, issues are opened (new identities), repeated, closed and reopened
(recurrences, the close API), and acknowledged.

When everything has drained, from the fake's recorded requests and state:
  - one GitHub issue per koban issue (found by its koban:fp= marker);
  - per PagerDuty dedup_key, incidents opened = 1 + the koban issue's
    reopenings (a trigger while one is open is folded by PagerDuty);
  - every state change in each issue's history has its outbox job, every
    job is done, and its effect reached the receiver: GitHub issue state
    and PagerDuty incident status equal the koban issue's state at the end;
  - per (receiver, issue) the effects arrive in the order of the jobs: the
    delivered sequence is the jobs' sequence with elements possibly sent
    twice in a row (at least once on the wire), never skipped or reordered.

After each kill the test lets the fake finish the requests the dead process
had sent before it restarts koban: a receiver that acted on a stale request
after newer ones is beyond what any client can order (docs/NOTIFY.md,
"Idempotency").

The random seed is printed; KOBAN_NOTIFY_CRASH_SEED=N reproduces a run and
KOBAN_NOTIFY_CRASH_ROUNDS=N (at least 20) sets the number of kills.
"""
import json
import os
import random
import re
import time

from fakesaas import FakeSaaS
from kobantest import Daemon, Results, check, eq, koban, wait_for, scratch_dir

SEED = int(os.environ.get("KOBAN_NOTIFY_CRASH_SEED", "20261204"))
ROUNDS = max(20, int(os.environ.get("KOBAN_NOTIFY_CRASH_ROUNDS", "22")))
REPO = "acme/sec"
RULE_ID = "5a0c7e21-4b3d-4e8f-9a1b-2c3d4e5f6a7b"
RULE = f"""title: IAM user created
id: {RULE_ID}
logsource: {{product: aws, service: cloudtrail}}
detection:
  sel: {{eventName: CreateUser}}
  condition: sel
level: high
"""
HANG_MS = (200, 400)  # a slow request; under the client's timeout_ms
FP_RE = re.compile(r"koban:fp=([0-9a-f]+)")


def event(user, serial):
    return json.dumps({
        "eventVersion": "1.08", "eventSource": "iam.amazonaws.com", "eventName": "CreateUser",
        "eventTime": "2026-11-20T10:%02d:%02dZ" % (serial // 60 % 60, serial % 60),
        "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.5",
        "eventID": f"crash-{serial}", "recipientAccountId": "123456789012",
        "userIdentity": {"type": "IAMUser", "arn": f"arn:aws:iam::123456789012:user/{user}"}})


def setup(fake):
    top = scratch_dir("koban-notify-crash-")
    rules = os.path.join(top, "rules")
    os.makedirs(rules)
    with open(os.path.join(rules, "create.yml"), "w") as f:
        f.write(RULE)
    routes = os.path.join(top, "routes.yml")
    with open(routes, "w") as f:
        f.write(f"""koban_url: http://koban.test:8478
receivers:
  - {{name: slack, type: slack, token: xoxb-test, channel: C1, base_url: "{fake.url}/api"}}
  - {{name: gh, type: github, token: ghp-test, repo: {REPO}, base_url: "{fake.url}"}}
  - {{name: pd, type: pagerduty, token: R0UTING, base_url: "{fake.url}"}}
route:
  routes:
    - match: {{severity: ">= low"}}
      receiver: slack
      continue: true
    - match: {{severity: ">= medium"}}
      receiver: gh
      continue: true
    - match: {{severity: ">= high"}}
      receiver: pd
flood: off
flood_rule: off
reminders: off
""")
    cfg = os.path.join(top, "koban.yaml")
    with open(cfg, "w") as f:
        f.write(f"""rules:
  dir: {rules}
notify:
  routes: {routes}
  repeat_interval_s: 1
  poll_ms: 50
  backoff_base_ms: 50
  backoff_cap_ms: 400
  timeout_ms: 3000
  max_attempts: 20
""")
    return Daemon(config=cfg, syslog=False, spool=False)


# --- the fake's bookkeeping ------------------------------------------------

def n_requests(fake):
    with fake.lock:
        return len(fake.recorded)


def unanswered(fake):
    """Requests the fake has taken and not yet acted on."""
    with fake.lock:
        return sum(1 for r in fake.recorded if r["status"] is None)


def creates_unanswered(fake):
    with fake.lock:
        return sum(1 for r in fake.recorded if r["status"] is None and r["method"] == "POST"
                   and r["path"] == f"/repos/{REPO}/issues")


def unscript(fake):
    with fake.lock:
        fake.scripts.clear()


def quiesce(fake, timeout):
    """Lets the fake finish the requests of a process that died."""
    deadline = time.time() + timeout
    while unanswered(fake) and time.time() < deadline:
        time.sleep(0.01)
    return unanswered(fake) == 0


def ok(r):
    return r["status"] is not None and 200 <= r["status"] < 300


def body_json(r):
    try:
        v = json.loads(r["body"]) if r["body"] else {}
    except ValueError:
        return {}
    return v if isinstance(v, dict) else {}


# --- koban's side ----------------------------------------------------------

def all_issues(d):
    return d.issues("--state", "all", "--limit", "100000")


def outbox(d):
    rc, out, err = koban("outbox", "list", "--data-dir", d.data, "--json", "--limit", "1000000")
    eq(rc, 0, err)
    return [json.loads(l) for l in out.splitlines() if l.strip()]


def user_of(issue):
    return (issue.get("actor") or {}).get("user", "").rsplit("/", 1)[-1]


def history_events(h):
    """The notification events an issue's history of transitions means."""
    out = []
    for t in h:
        frm, to = t.get("from"), t.get("to")
        if frm is None:
            out.append("opened")
        elif to == "closed":
            out.append("closed")
        elif frm == "closed":
            out.append("reopened")
        elif to in ("acknowledged", "acked"):
            out.append("acknowledged")
        else:
            out.append("unacknowledged")
    return out


# --- what each job must cause at each receiver -----------------------------

GH_EXPECT = {"opened": ["create"], "repeated": ["c:repeated"],
             "reopened": ["patch:open", "c:reopened"], "closed": ["c:closed", "patch:closed"],
             "acknowledged": ["c:acknowledged"]}
PD_EXPECT = {"opened": ["trigger"], "repeated": ["trigger"], "reopened": ["trigger"],
             "closed": ["resolve"], "acknowledged": ["acknowledge"]}
SLACK_EXPECT = {"opened": ["post"], "repeated": ["r:repeated"], "reopened": ["r:reopened"],
                "closed": ["r:closed"], "acknowledged": ["r:acknowledged"]}


def first_word(text):
    m = re.match(r"\**([A-Za-z]+)", (text or "").strip())
    return m.group(1).lower() if m else "?"


def gh_effects(fake, st):
    """fingerprint -> GitHub effects in arrival order (2xx only)."""
    num_fp = {}
    for n, i in st["github"].get(REPO, {}).items():
        m = FP_RE.search(i.get("body") or "")
        if m:
            num_fp[int(n)] = m.group(1)
    out = {}
    base = f"/repos/{REPO}/issues"
    for r in fake.requests():
        if not ok(r) or not r["path"].startswith(base):
            continue
        b = body_json(r)
        rest = r["path"][len(base):].strip("/").split("/")
        if r["method"] == "POST" and rest == [""]:
            m = FP_RE.search(b.get("body") or "")
            if m:
                out.setdefault(m.group(1), []).append("create")
            continue
        try:
            fp = num_fp.get(int(rest[0]))
        except ValueError:
            fp = None
        if fp is None:
            continue
        if r["method"] == "PATCH" and len(rest) == 1 and "state" in b:
            out.setdefault(fp, []).append("patch:" + b["state"])
        elif r["method"] == "POST" and rest[1:] == ["comments"]:
            out.setdefault(fp, []).append("c:" + first_word(b.get("body")))
    return out


def pd_effects(fake):
    out = {}
    for r in fake.requests("/v2/enqueue"):
        b = body_json(r)
        if ok(r) and b.get("dedup_key"):
            out.setdefault(b["dedup_key"], []).append(b.get("event_action"))
    return out


def slack_effects(fake, st):
    """issue id -> Slack effects in arrival order: top-level posts and thread
    replies (updates change no event)."""
    link = re.compile(r"/v1/issues/(\d+)\|")
    ts_issue = {}
    for m in st["slack"]:
        if m.get("ts") and not m.get("thread_ts"):
            hit = link.search(json.dumps(m.get("blocks")) + (m.get("text") or ""))
            if hit:
                ts_issue[m["ts"]] = int(hit.group(1))
    out = {}
    for r in fake.requests("/api/chat.postMessage"):
        b = body_json(r)
        if not ok(r) or not b:
            continue
        if b.get("thread_ts"):
            iid = ts_issue.get(b["thread_ts"])
            if iid is not None:
                out.setdefault(iid, []).append("r:" + first_word(b.get("text")))
        else:
            hit = link.search(r["body"])
            if hit:
                out.setdefault(int(hit.group(1)), []).append("post")
    return out


def runs(seq):
    out = []
    for x in seq:
        if out and out[-1][0] == x:
            out[-1][1] += 1
        else:
            out.append([x, 1])
    return out


def same_order(expected, delivered):
    """delivered is expected with some elements repeated in place (a send
    repeated after a crash), nothing missing, nothing out of order."""
    e, d = runs(expected), runs(delivered)
    return len(e) == len(d) and all(a[0] == b[0] and b[1] >= a[1] for a, b in zip(e, d))


def pd_replay(actions):
    """Incidents a PagerDuty service opens for one dedup_key, and its status."""
    status, opened = None, 0
    for a in actions:
        if a == "trigger":
            if status in (None, "resolved"):
                opened += 1
                status = "triggered"
        elif status not in (None, "resolved"):
            status = "acknowledged" if a == "acknowledge" else "resolved"
    return opened, status


# --- the test ----------------------------------------------------------------

class Driver:
    def __init__(self, d, rng):
        self.d, self.rng = d, rng
        self.users = []
        self.posted = {}   # user -> events acknowledged
        self.serial = 0
        self.actions = {"new": 0, "recur": 0, "close": 0, "ack": 0, "reopen": 0}

    def post(self, user):
        self.serial += 1
        status, body = self.d.post_events(event(user, self.serial))
        eq(status, 200, f"POST /v1/events: {body}")
        eq(body.get("accepted"), 1, f"accepted: {body}")
        self.posted[user] = self.posted.get(user, 0) + 1

    def transition(self, iid, action, reason):
        st, _, body = self.d.request("POST", f"/v1/issues/{iid}/{action}",
                                     json.dumps({"reason": reason, "by": "ann"}))
        check(st in (200, 409), f"{action} #{iid}: {st} {body!r}")
        return st == 200

    def round(self, k, new=False):
        rng = self.rng
        issues = {user_of(i): i for i in all_issues(self.d)}
        if new or not self.users or rng.random() < 0.7:
            user = f"u{len(self.users)}"
            self.users.append(user)
            self.post(user)
            self.actions["new"] += 1
        for _ in range(rng.randint(0, 2)):
            self.post(rng.choice(self.users))
            self.actions["recur"] += 1
        live = [i for i in issues.values() if i["state"] in ("open", "acknowledged")]
        opened = [i for i in live if i["state"] == "open"]
        closed = [i for i in issues.values() if i["state"] == "closed"]
        if opened and rng.random() < 0.5:
            if self.transition(rng.choice(opened)["id"], "ack", f"looking {k}"):
                self.actions["ack"] += 1
        if live and rng.random() < 0.6:
            if self.transition(rng.choice(live)["id"], "close", f"fixed in round {k}"):
                self.actions["close"] += 1
        if closed and rng.random() < 0.15:
            if self.transition(rng.choice(closed)["id"], "reopen", f"not fixed {k}"):
                self.actions["reopen"] += 1


def test_kill9_during_delivery():
    rng = random.Random(SEED)
    print(f"  seed {SEED} (KOBAN_NOTIFY_CRASH_SEED), {ROUNDS} kills", flush=True)
    fake = FakeSaaS().start()
    d = setup(fake)
    started = time.time()
    kills = inflight_kills = create_kills = 0
    try:
        d.start()
        drv = Driver(d, rng)
        for k in range(ROUNDS):
            mode = rng.choices(("inflight", "create", "random"), (0.45, 0.2, 0.35))[0]
            n0 = n_requests(fake)
            if mode == "inflight":
                # the next request, whichever receiver sends it, is slow to
                # be acted on: koban dies while it is in flight
                fake.script("*", "slow", times=1, hang_ms=rng.randint(*HANG_MS))
            elif mode == "create":
                # a GitHub create still being acted on when koban is back
                fake.script(f"/repos/{REPO}/issues", "slow", times=1,
                            hang_ms=rng.randint(*HANG_MS))
            drv.round(k, new=mode == "create")
            deadline = time.time() + 2.0
            if mode == "inflight":
                while n_requests(fake) == n0 and time.time() < deadline:
                    time.sleep(0.002)
            elif mode == "create":
                while not creates_unanswered(fake) and time.time() < deadline:
                    time.sleep(0.002)
            else:
                time.sleep(rng.uniform(0, 0.35))
            if unanswered(fake):
                inflight_kills += 1
            if mode == "create" and creates_unanswered(fake):
                create_kills += 1
            d.kill()
            kills += 1
            unscript(fake)
            if mode != "create":
                check(quiesce(fake, HANG_MS[1] / 1000.0 + 3.0),
                      "the fake did not finish the dead process's requests")
            d.start()
            if rng.random() < 0.15:  # again, while it resends what was cut off
                time.sleep(rng.uniform(0, 0.06))
                d.kill()
                kills += 1
                check(mode == "create" or quiesce(fake, HANG_MS[1] / 1000.0 + 3.0),
                      "the fake did not finish the dead process's requests")
                d.start()
        print(f"  {kills} kills ({inflight_kills} with a request in flight, {create_kills} "
              f"during a GitHub create), actions {drv.actions}, {time.time() - started:.1f}s",
              flush=True)
        check(inflight_kills >= 5, f"only {inflight_kills} kills with a request in flight")

        # Drain: every acknowledged event applied, every job finished.
        def applied():
            got = {user_of(i): i["count"] for i in all_issues(d)}
            return got == drv.posted or None
        wait_for(applied, timeout=30, interval=0.2,
                 msg=f"the store to hold every event {drv.posted}")

        def drained():
            jobs = outbox(d)
            dead = [j for j in jobs if j["state"] == "dead"]
            check(not dead, f"dead letters: {dead}")
            return jobs and all(j["state"] == "done" for j in jobs) and unanswered(fake) == 0
        wait_for(drained, timeout=30, interval=0.2, msg="every outbox job done")
        rc = d.stop()
        eq(rc, 0, "koban serve stopped cleanly: " + d.tail())
        log = d.tail(200000)
        check("AddressSanitizer" not in log and "runtime error" not in log,
              "sanitizer report in the log: " + log[-3000:])
        print(f"  drained at {time.time() - started:.1f}s; {n_requests(fake)} requests",
              flush=True)

        issues = all_issues(d)
        jobs = outbox(d)
        st = fake.state()
        gh = gh_effects(fake, st)
        pd = pd_effects(fake)
        sl = slack_effects(fake, st)
        gh_issues = list(st["github"].get(REPO, {}).values())
        eq(len(gh_issues), len(issues), "one GitHub issue per koban issue")
        dups = {"gh": 0, "pd": 0, "slack": 0}
        incidents = 0
        for i in issues:
            iid, fp, state = i["id"], i["fingerprint"], i["state"]
            rc, out, err = koban("issues", "show", str(iid), "--data-dir", d.data, "--json")
            eq(rc, 0, err)
            hist = history_events(json.loads(out)["history"])
            mine = [g for g in gh_issues if f"<!-- koban:fp={fp} -->" in (g.get("body") or "")]
            eq(len(mine), 1, f"GitHub issues for #{iid} (fp {fp})")
            eq(mine[0]["state"], "closed" if state == "closed" else "open",
               f"GitHub issue state of #{iid} ({state})")
            for recv, expect, got in (("gh", GH_EXPECT, gh.get(fp, [])),
                                      ("pd", PD_EXPECT, pd.get(fp, [])),
                                      ("slack", SLACK_EXPECT, sl.get(iid, []))):
                evs = [j["event"] for j in jobs if j["receiver"] == recv and j["issue_id"] == iid]
                eq([e for e in evs if e != "repeated"], hist,
                   f"{recv} jobs of #{iid} against its history")
                want = [x for e in evs for x in expect[e]]
                check(same_order(want, got),
                      f"{recv} effects of #{iid}: jobs {evs}\n want {want}\n got  {got}")
                dups[recv] += len(got) - len(want)
            opened, status = pd_replay(pd.get(fp, []))
            eq(opened, 1 + hist.count("reopened"), f"PagerDuty incidents of #{iid}: {pd.get(fp)}")
            incidents += opened
            eq(st["pagerduty"][fp]["status"],
               {"closed": "resolved", "acknowledged": "acknowledged"}.get(state, "triggered"),
               f"PagerDuty status of #{iid} ({state})")
            eq(status, st["pagerduty"][fp]["status"], "replayed status")
        eq(st["pagerduty_incidents"], incidents, "PagerDuty incidents in all")
        print(f"  {len(issues)} issues, {len(jobs)} jobs, {incidents} incidents; requests "
              f"sent again after a kill: {dups}", flush=True)
        check(time.time() - started < 90, f"took {time.time() - started:.0f}s")
    finally:
        d.cleanup()
        fake.stop()


def test_github_create_failing_many_times():
    """A create answered 500 nine times in a row (each retry searches first,
    then creates again) still opens the issue, once."""
    fake = FakeSaaS().start()
    d = setup(fake)
    try:
        fake.script(f"/repos/{REPO}/issues", "500", times=9)
        d.start()
        status, body = d.post_events(event("carol", 1))
        eq(status, 200, f"POST /v1/events: {body}")
        wait_for(lambda: st_issues(fake), timeout=30, msg="the GitHub issue")
        wait_for(lambda: all(j["state"] == "done" for j in outbox(d)), timeout=20,
                 msg="every job done")
        creates = [r for r in fake.requests(f"/repos/{REPO}/issues") if r["method"] == "POST"]
        eq(len(creates), 10, "nine failures, then the create")
        eq(len(st_issues(fake)), 1, "one GitHub issue")
    finally:
        d.stop()
        d.cleanup()
        fake.stop()


def st_issues(fake):
    return list(fake.state()["github"].get(REPO, {}).values())


if __name__ == "__main__":
    r = Results()
    r.run(test_kill9_during_delivery)
    r.run(test_github_create_failing_many_times)
    r.done()
