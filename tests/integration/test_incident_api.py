"""The incidents HTTP API on a real `koban serve` (behind http.token):
open, list, show, change, refused transitions, notes and pins, parents
(cycles refused), the postmortem draft, statistics without drills, and
the errors (400 with what and why, 404, 405, 401)."""
import json
import os

from kobantest import Daemon, Results, check, eq, scratch_dir

TOKEN = "incident-api-token"


def start():
    top = scratch_dir("koban-incapi-")
    cfg = os.path.join(top, "koban.yaml")
    with open(cfg, "w") as f:
        f.write(f'http:\n  token: "{TOKEN}"\n')
    return Daemon(data=os.path.join(top, "var"), config=cfg, syslog=False, spool=False).start()


def call(d, method, path, body=None, token=TOKEN):
    h = {"Authorization": "Bearer " + token} if token else {}
    if body is not None:
        h["Content-Type"] = "application/json"
        body = json.dumps(body)
    status, hdrs, data = d.request(method, path, body, h)
    ctype = hdrs.get("content-type", "")
    return status, (json.loads(data) if data and ctype.startswith("application/json") else data)


def test_lifecycle_over_http():
    d = start()
    try:
        st, inc = call(d, "POST", "/v1/incidents",
                       {"service": "payments", "title": "Card | declines *spike*", "level": 2,
                        "temperature": "hot", "detected": "2026-12-04T09:58:00+09:00",
                        "by": "alice"})
        eq(st, 201, inc)
        eq((inc["id"], inc["status"], inc["level"], inc["temperature"]),
           (1, "declared", 2, "hot"))
        eq(inc["detected"], "2026-12-04T00:58:00Z")
        eq(inc["timeline"][0]["kind"], "declared")
        eq(inc["timeline"][0]["actor"], "alice")

        st, inc = call(d, "POST", "/v1/incidents/1",
                       {"status": "investigating", "handler": "bob", "tags": ["db"],
                        "by": "bob"})
        eq(st, 200, inc)
        eq((inc["status"], inc["handler"], inc["tags"]), ("investigating", "bob", ["db"]))
        check(inc["first_response"], inc)
        st, err = call(d, "POST", "/v1/incidents/1", {"status": "declared"})
        eq(st, 400)
        check("cannot become declared" in err["error"], err)
        st, err = call(d, "POST", "/v1/incidents/1", {"level": 9})
        eq(st, 400)
        st, err = call(d, "POST", "/v1/incidents/1", {"issues": [999]})
        eq(st, 404, err)
        check("999" in err["error"], err)

        st, inc = call(d, "POST", "/v1/incidents/1/notes",
                       {"text": "rolled back 09:40 deploy", "pin": True, "ref": "1.2", "by": "bob"})
        eq(st, 201, inc)
        pins = [e for e in inc["timeline"] if e["kind"] == "pin"]
        eq([(p["text"], p["source_ref"]) for p in pins], [("rolled back 09:40 deploy", "1.2")])

        st, child = call(d, "POST", "/v1/incidents",
                         {"service": "checkout", "title": "checkout errors", "drill": True})
        eq(st, 201)
        eq(child["drill"], True)
        st, child = call(d, "POST", "/v1/incidents/2/parent", {"parent": 1})
        eq((st, child["parent_id"]), (200, 1))
        st, err = call(d, "POST", "/v1/incidents/1/parent", {"parent": 2})
        eq(st, 400)
        check("cycle" in err["error"], err)
        st, parent = call(d, "GET", "/v1/incidents/1")
        eq([(c["id"], c["status"], c["drill"]) for c in parent["children"]],
           [(2, "declared", True)])

        for s in ("recovered", "completed"):
            eq(call(d, "POST", "/v1/incidents/1", {"status": s})[0], 200)
        st, md = call(d, "GET", "/v1/incidents/1/postmortem")
        eq(st, 200)
        md = md.decode()
        check(md.startswith("# Postmortem"), md[:80])
        check("Card \\| declines \\*spike\\*" in md, md)
        check("rolled back 09:40 deploy" in md, md)

        st, lst = call(d, "GET", "/v1/incidents?status=completed")
        eq([i["id"] for i in lst["incidents"]], [1])
        st, lst = call(d, "GET", "/v1/incidents")
        eq(sorted(i["id"] for i in lst["incidents"]), [1, 2])
        st, stats = call(d, "GET", "/v1/incidents/stats")
        eq([(r["service"], r["count"], r["recovered"]) for r in stats["stats"]],
           [("payments", 1, 1)])  # the drill is left out
    finally:
        d.stop()
        d.cleanup()


def test_errors():
    d = start()
    try:
        eq(call(d, "GET", "/v1/incidents", token=None)[0], 401)
        eq(call(d, "GET", "/v1/incidents/77")[0], 404)
        eq(call(d, "DELETE", "/v1/incidents/1")[0], 405)
        st, err = call(d, "POST", "/v1/incidents", {"service": "x"})
        eq(st, 400)
        check("title" in err["error"], err)
        st, err = call(d, "POST", "/v1/incidents", {"service": "x", "title": 5})
        eq(st, 400)
        st, err = call(d, "POST", "/v1/incidents", {"service": "Bad Service!", "title": "t"})
        eq(st, 400, err)
        status, _, _ = d.request("POST", "/v1/incidents", "[1,2",
                                 {"Authorization": "Bearer " + TOKEN})
        eq(status, 400)
        eq(call(d, "GET", "/v1/incidents?status=nope")[0], 400)
    finally:
        d.stop()
        d.cleanup()


def main():
    res = Results()
    for t in (test_lifecycle_over_http, test_errors):
        res.run(t)
    res.done()


if __name__ == "__main__":
    main()
