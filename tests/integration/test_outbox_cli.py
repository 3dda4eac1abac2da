"""`koban outbox list|retry|drop` on a store holding jobs in every state, and
the fake receiver server (fakesaas.py) that the notification tests use."""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from kobantest import TOP, Results, check, eq, koban

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fakesaas import FakeSaaS  # noqa: E402


def make_store():
    """A store made by koban itself (ingest of one example), then outbox rows
    written the way db_outbox.c writes them."""
    tmp = tempfile.mkdtemp(prefix="koban-outbox-")
    data = os.path.join(tmp, "var")
    ex = os.path.join(TOP, "examples", "guardduty")
    files = [os.path.join(ex, f) for f in sorted(os.listdir(ex))]
    rc, out, err = koban("ingest", "--data-dir", data, "--quiet", *files)
    eq(rc, 0, f"ingest: {err}")
    db = sqlite3.connect(os.path.join(data, "koban.db"))
    (version,) = db.execute("PRAGMA user_version").fetchone()
    check(version >= 3, f"schema version {version} has the outbox")
    now = int(time.time() * 1000)
    rows = [  # receiver, issue, state, attempts, last_error
        ("slack", 1, "pending", 0, None),
        ("github", 1, "pending", 2, "HTTP 502"),
        ("github", 2, "inflight", 1, None),
        ("slack", 2, "done", 1, None),
        ("slack", 3, "dead", 1, "HTTP 404: channel_not_found"),
        ("github", 3, "dead", 20, "after 20 attempts: HTTP 500"),
        ("pagerduty", 1, "dropped", 0, None),
        ("slack", 1, "pending", 0, None),  # behind the first slack job of issue 1
    ]
    blocked = 1 << 62  # OUTBOX_BLOCKED in src/store/db_outbox.h
    ids = {}
    for n, (recv, issue, state, attempts, err) in enumerate(rows):
        cur = db.execute(
            "INSERT INTO outbox(receiver, issue_id, fp, event, payload, state, attempts, step,"
            " next_at, created, updated, last_error) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
            (recv, issue, bytes(range(16)), "opened",
             json.dumps({"event": "opened", "issue": {"id": issue}}), state, attempts, 0,
             blocked if n == len(rows) - 1 else now + 60000, now, now, err))
        ids.setdefault((recv, state), cur.lastrowid)
        ids[("last", None)] = cur.lastrowid
    db.commit()
    db.close()
    return tmp, data, ids


def row(data, job_id):
    db = sqlite3.connect(os.path.join(data, "koban.db"))
    try:
        return db.execute("SELECT state, attempts, next_at FROM outbox WHERE id = ?",
                          (job_id,)).fetchone()
    finally:
        db.close()


def test_help_and_usage():
    rc, out, _ = koban("--help")
    eq(rc, 0)
    check("outbox" in out, "--help lists outbox")
    rc, out, _ = koban("help", "outbox")
    eq(rc, 0)
    for word in ("list", "retry", "drop", "--all-dead", "--state", "dead"):
        check(word in out, f"help outbox mentions {word}")
    eq(koban("outbox")[0], 2, "no verb")
    eq(koban("outbox", "frob")[0], 2, "unknown verb")
    eq(koban("outbox", "list", "--state", "sleeping")[0], 2, "unknown state")
    tmp = tempfile.mkdtemp(prefix="koban-outbox-")
    try:
        rc, _, err = koban("outbox", "list", "--data-dir", os.path.join(tmp, "none"))
        eq(rc, 1)
        check("no store" in err, err)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_list_and_filters():
    tmp, data, ids = make_store()
    try:
        rc, out, err = koban("outbox", "list", "--data-dir", data)
        eq(rc, 0, err)
        lines = out.splitlines()
        check(lines[0].split()[:5] == ["ID", "RECEIVER", "ISSUE", "EVENT", "STATE"], lines[0])
        eq(len(lines), 1 + 8, "a header and every job")
        check("after an earlier job" in lines[-1], lines[-1])
        check("channel_not_found" in out, "the dead letter's error is shown")
        jobs = [json.loads(l) for l in
                koban("outbox", "list", "--json", "--data-dir", data)[1].splitlines()]
        eq([j["id"] for j in jobs], sorted(set(ids.values())), "oldest first")
        eq((jobs[-1]["waiting"], jobs[-1]["next_at"]), (True, None))
        eq(jobs[0]["waiting"], False)
        eq(sorted({j["state"] for j in jobs}),
           ["dead", "done", "dropped", "inflight", "pending"])
        j = next(j for j in jobs if j["id"] == ids[("github", "pending")])
        eq(j["receiver"], "github")
        eq(j["issue_id"], 1)
        eq(j["attempts"], 2)
        eq(j["last_error"], "HTTP 502")
        eq(j["fingerprint"], bytes(range(16)).hex())
        check(j["next_at"] and j["next_at"].endswith("Z"), j)
        dead = [json.loads(l) for l in koban("outbox", "list", "--json", "--state", "dead",
                                             "--data-dir", data)[1].splitlines()]
        eq(sorted(j["receiver"] for j in dead), ["github", "slack"])
        slack = [json.loads(l) for l in koban("outbox", "list", "--json", "--receiver",
                                              "slack", "--data-dir", data)[1].splitlines()]
        eq(sorted(j["state"] for j in slack), ["dead", "done", "pending", "pending"])
        two = koban("outbox", "list", "--json", "--limit", "2", "--data-dir", data)[1]
        eq(len(two.splitlines()), 2, "--limit")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_retry_and_drop():
    tmp, data, ids = make_store()
    try:
        d = ["--data-dir", data]
        rc, _, err = koban("outbox", "retry", str(ids[("slack", "pending")]), *d)
        eq(rc, 1, "a pending job is not retried")
        check("not dead" in err, err)
        rc, _, err = koban("outbox", "retry", "99999", *d)
        eq(rc, 1)
        check("no job 99999" in err, err)
        eq(koban("outbox", "retry", "abc", *d)[0], 2)
        before = int(time.time() * 1000)
        rc, out, err = koban("outbox", "retry", str(ids[("slack", "dead")]), *d)
        eq(rc, 0, err)
        state, attempts, next_at = row(data, ids[("slack", "dead")])
        eq((state, attempts), ("pending", 0))
        check(before - 1000 <= next_at <= int(time.time() * 1000) + 1000, "due now")
        rc, out, err = koban("outbox", "retry", "--all-dead", "--receiver", "slack", *d)
        eq(rc, 0, err)
        check(out.startswith("0 dead jobs"), out)
        eq(row(data, ids[("github", "dead")])[0], "dead", "--receiver limits --all-dead")
        rc, out, err = koban("outbox", "retry", "--all-dead", *d)
        eq(rc, 0, err)
        check(out.startswith("1 dead job "), out)
        eq(row(data, ids[("github", "dead")])[:2], ("pending", 0))
        # drop: from any state; kept in the list as dropped; twice is refused
        for key in (("github", "inflight"), ("slack", "done"), ("slack", "pending")):
            rc, out, err = koban("outbox", "drop", str(ids[key]), *d)
            eq(rc, 0, err)
            eq(row(data, ids[key])[0], "dropped")
        rc, _, err = koban("outbox", "drop", str(ids[("slack", "pending")]), *d)
        eq(rc, 1)
        check("already dropped" in err, err)
        eq(koban("outbox", "drop", "424242", *d)[0], 1)
        dropped = koban("outbox", "list", "--state", "dropped", "--json", *d)[1].splitlines()
        eq(len(dropped), 4)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _http(base, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    r = urllib.request.Request(base + path, data=data, method=method,
                               headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(r, timeout=10) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read() or b"null")


def test_fakesaas_plays_the_services():
    fake = FakeSaaS().start()
    try:
        u = fake.url
        st, _, b = _http(u, "POST", "/api/chat.postMessage", {"channel": "C1", "text": "hi"})
        check(st == 200 and b["ok"] and b["channel"] == "C1" and b["ts"], b)
        st, _, b2 = _http(u, "POST", "/api/chat.update", {"channel": "C1", "ts": b["ts"],
                                                          "text": "again"})
        check(b2["ok"] and b2["ts"] == b["ts"], b2)
        st, _, b3 = _http(u, "POST", "/api/chat.update", {"channel": "C1", "ts": "1.2"})
        eq(b3, {"ok": False, "error": "message_not_found"})
        st, _, gi = _http(u, "POST", "/repos/o/r/issues",
                          {"title": "t", "body": "x <!-- koban:abc -->", "labels": ["high"]})
        eq((st, gi["number"]), (201, 1))
        eq(_http(u, "POST", "/repos/o/r/issues/1/comments", {"body": "recurred"})[0], 201)
        st, _, gp = _http(u, "PATCH", "/repos/o/r/issues/1", {"state": "closed"})
        eq(gp["state"], "closed")
        q = urllib.parse.quote('repo:o/r is:issue in:body "koban:abc"')
        st, _, found = _http(u, "GET", "/search/issues?q=" + q)
        eq([i["number"] for i in found["items"]], [1])
        q = urllib.parse.quote('repo:o/r is:issue in:body "koban:other"')
        eq(_http(u, "GET", "/search/issues?q=" + q)[2]["total_count"], 0)
        eq(_http(u, "GET", "/repos/o/r/issues/7")[0], 404)
        ev = {"routing_key": "k", "event_action": "trigger", "dedup_key": "d1",
              "payload": {"summary": "s", "source": "koban", "severity": "error"}}
        st, _, pd = _http(u, "POST", "/v2/enqueue", ev)
        eq((st, pd["status"], pd["dedup_key"]), (202, "success", "d1"))
        eq(_http(u, "POST", "/v2/enqueue", {"routing_key": "k"})[0], 400)
        _http(u, "POST", "/v2/enqueue", dict(ev, event_action="resolve"))
        _http(u, "POST", "/v2/enqueue", ev)  # a trigger after resolve: a new incident
        s = fake.state()
        eq(s["pagerduty_incidents"], 2)
        eq(s["github_comments"]["o/r#1"][0]["body"], "recurred")
        # scripted failures, then normal
        fake.script("/hook", "429", times=1, retry_after="7")
        fake.script("/hook", "500", times=1)
        st, h, _ = _http(u, "POST", "/hook", {})
        eq((st, h.get("Retry-After")), (429, "7"))
        eq(_http(u, "POST", "/hook", {})[0], 500)
        eq(_http(u, "POST", "/hook", {})[0], 200)
        fake.script("/slow", "hang", times=1, hang_ms=3000)
        t = time.time()
        try:
            urllib.request.urlopen(
                urllib.request.Request(u + "/slow", data=b"{}", method="POST"), timeout=0.3)
            check(False, "a hang answers nothing")
        except (urllib.error.URLError, TimeoutError, OSError):
            pass
        check(time.time() - t < 2, "the client's timeout, not the hang, ended it")
        eq(len(fake.requests("/hook")), 3)
        check(fake.requests("/hook")[0]["headers"]["content-type"] == "application/json",
              "headers recorded")
    finally:
        fake.stop()


def test_fakesaas_process_mode():
    tmp = tempfile.mkdtemp(prefix="koban-fake-")
    pf = os.path.join(tmp, "port")
    p = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(__file__), "fakesaas.py"),
                          "--port-file", pf, "--max-seconds", "60"])
    try:
        deadline = time.time() + 10
        while not os.path.exists(pf) and time.time() < deadline:
            time.sleep(0.05)
        with open(pf) as f:
            base = f"http://127.0.0.1:{int(f.read())}"
        eq(_http(base, "POST", "/_fake/script", {"path": "/x", "kind": "400", "times": 1})[0],
           200)
        eq(_http(base, "POST", "/x", {"a": 1})[0], 400)
        eq(_http(base, "POST", "/x", {"a": 2})[0], 200)
        reqs = _http(base, "GET", "/_fake/requests?path=/x")[2]["requests"]
        eq([json.loads(r["body"])["a"] for r in reqs], [1, 2])
        eq([r["status"] for r in reqs], [400, 200])
        eq(_http(base, "POST", "/_fake/reset", {})[0], 200)
        eq(_http(base, "GET", "/_fake/requests")[2]["requests"], [])
    finally:
        p.terminate()
        p.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    res = Results()
    for t in (test_help_and_usage, test_list_and_filters, test_retry_and_drop,
              test_fakesaas_plays_the_services, test_fakesaas_process_mode):
        res.run(t)
    res.done()


if __name__ == "__main__":
    main()
