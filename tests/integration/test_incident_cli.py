"""`koban incident` end to end with the real binary: open -> update -> note ->
link -> recovered -> completed -> postmortem -> list/show --json -> stats,
and the refusals (exit 2 with what and why; unknown incident: exit 1)."""
import json
import os
import shutil
import sys
import tempfile
import time

from kobantest import TOP, Results, check, eq, koban


def inc(data, *args, rc=0):
    code, out, err = koban("incident", *args, "--data-dir", data, "--author", "alice")
    eq(code, rc, f"koban incident {' '.join(args)}: stdout {out!r} stderr {err!r}")
    return out, err


def jlines(out):
    return [json.loads(l) for l in out.splitlines() if l.strip()]


def test_help_and_usage():
    rc, out, _ = koban("--help")
    eq(rc, 0)
    check("incident" in out, "--help lists incident")
    rc, out, _ = koban("help", "incident")
    eq(rc, 0)
    for word in ("open", "postmortem", "--drill", "--stats", "investigating", "RFC 3339"):
        check(word in out, f"help incident mentions {word}")
    eq(koban("incident")[0], 2, "no subcommand")
    rc, _, err = koban("incident", "frob")
    eq(rc, 2, "unknown subcommand")
    check("unknown subcommand 'frob'" in err, err)
    tmp = tempfile.mkdtemp(prefix="koban-inc-")
    try:
        rc, _, err = koban("incident", "list", "--data-dir", os.path.join(tmp, "none"))
        eq(rc, 1, "no store")
        check("no store" in err, err)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_refusals():
    tmp = tempfile.mkdtemp(prefix="koban-inc-")
    data = os.path.join(tmp, "var")
    try:
        _, err = inc(data, "open", "--service", "web", rc=2)
        check("--service and --title are required" in err, err)
        _, err = inc(data, "open", "--service", "web", "--title", "t", "--level", "7", rc=2)
        check("--level: '7'" in err, err)
        _, err = inc(data, "open", "--service", "web", "--title", "t", "--temperature", "red",
                     rc=2)
        check("cold, warm or hot" in err, err)
        _, err = inc(data, "open", "--service", "web", "--title", "t", "--detected", "yesterday",
                     rc=2)
        check("not an RFC 3339 time" in err, err)
        _, err = inc(data, "open", "--service", "we b!", "--title", "t", rc=2)
        check("Slack channel name" in err, err)
        inc(data, "open", "--service", "web", "--title", "t")
        _, err = inc(data, "update", "1", "--status", "completed", rc=2)
        check("is declared: it cannot become completed" in err, err)
        _, err = inc(data, "update", "1", "--status", "sleeping", rc=2)
        check("--status: 'sleeping'" in err, err)
        _, err = inc(data, "update", "99", "--status", "investigating", rc=1)
        check("incident 99: no such incident" in err, err)
        _, err = inc(data, "show", "99", rc=1)
        check("no such incident" in err, err)
        _, err = inc(data, "postmortem", "99", rc=1)
        _, err = inc(data, "update", "1", "--issue", "5", rc=1)
        check("issue 5: no such koban issue" in err, err)
        _, err = inc(data, "link", "1", rc=2)
        check("--parent" in err, err)
        _, err = inc(data, "link", "1", "--parent", "1", rc=2)
        check("its own parent" in err, err)
        _, err = inc(data, "note", "1", rc=2)
        _, err = inc(data, "show", "abc", rc=2)
        check("needs an incident id" in err, err)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_lifecycle():
    tmp = tempfile.mkdtemp(prefix="koban-inc-")
    data = os.path.join(tmp, "var")
    try:
        # a koban issue to link: one example ingested into the same store
        ex = os.path.join(TOP, "examples", "guardduty")
        files = [os.path.join(ex, f) for f in sorted(os.listdir(ex))]
        rc, _, err = koban("ingest", "--data-dir", data, "--quiet", *files)
        eq(rc, 0, f"ingest: {err}")

        today = time.strftime("%Y%m%d", time.gmtime())
        out, _ = inc(data, "open", "--service", "Payments", "--title", "Card | *declines*",
                     "--summary", "checkout fails", "--level", "2", "--temperature", "hot",
                     "--handler", "alice", "--detected", "2021-02-24T09:58:00+09:00",
                     "--occurred", "2021-02-24T09:50:00+09:00")
        eq(out.strip(), f"incident 1 declared: #payments-{today}i")
        out, _ = inc(data, "open", "--service", "payments", "--title", "API errors too")
        eq(out.strip(), f"incident 2 declared: #payments-{today}i-2", "next free suffix")
        out, _ = inc(data, "open", "--service", "drillsvc", "--title", "game day", "--drill")
        check("(DRILL)" in out, out)

        inc(data, "update", "1", "--status", "investigating", "--scribe", "bob", "--tag", "db",
            "--tag", "cards", "--issue", "1", "--github-issue", "345")
        out, _ = inc(data, "update", "1", "--scribe", "bob")
        eq(out.strip(), "incident 1 unchanged")
        inc(data, "note", "1", "rolled back the deploy")
        inc(data, "note", "1", "5xx at 40%", "--pin", "--ref", "1614128400.000100")
        out, _ = inc(data, "link", "2", "--parent", "1")
        eq(out.strip(), "incident 2 is a child of incident 1")
        _, err = inc(data, "link", "1", "--parent", "2", rc=2)
        check("cycle" in err, err)
        inc(data, "update", "1", "--status", "recovered")
        inc(data, "update", "1", "--status", "completed")

        md, _ = inc(data, "postmortem", "1")
        check(md.startswith("# Postmortem: Card \\| \\*declines\\*\n"), md[:80])
        for part in ("| Service | Payments |", "| Level | 2 |", "| Temperature | hot |",
                     "| Handler | alice |", "| Detected | 2021-02-24T00:58:00Z |",
                     "| GitHub issue | \\#345 |", f"| Channel | \\#payments-{today}i |",
                     "## Timeline (UTC)", "note — **alice**: rolled back the deploy",
                     "pin — **alice**: 5xx at 40% (message 1614128400.000100)",
                     "status — **alice**: status: recovered -> completed",
                     "## Root causes", "## Action items",
                     "- Related incident 2 (declared): API errors too",
                     "- koban issue 1 (`koban issues show 1`)"):
            check(part in md, f"postmortem has {part!r}")
        out_path = os.path.join(tmp, "pm.md")
        inc(data, "postmortem", "1", "--output", out_path)
        with open(out_path) as f:
            eq(f.read(), md, "--output writes the same draft")
        md, _ = inc(data, "postmortem", "3")
        check(md.startswith("# DRILL — Postmortem: game day"), md[:60])

        rows = jlines(inc(data, "list", "--json")[0])
        eq([r["id"] for r in rows], [3, 2, 1], "newest first")
        eq([r["drill"] for r in rows], [True, False, False], "drills listed and marked")
        eq(rows[2]["status"], "completed")
        text, _ = inc(data, "list")
        check("[DRILL] game day" in text, text)
        eq([r["id"] for r in jlines(inc(data, "list", "--json", "--status", "completed")[0])],
           [1])
        eq([r["id"] for r in jlines(inc(data, "list", "--json", "--service", "payments")[0])],
           [2])

        show = json.loads(inc(data, "show", "1", "--json")[0])
        eq(show["status"], "completed")
        eq(show["level"], 2)
        eq(show["temperature"], "hot")
        eq((show["handler"], show["scribe"], show["liaison"]), ("alice", "bob", None))
        eq(show["detected"], "2021-02-24T00:58:00Z")
        eq(show["occurred"], "2021-02-24T00:50:00Z")
        for k in ("declared", "first_response", "recovered", "completed"):
            check(show[k] and show[k].endswith("Z"), f"{k}: {show[k]}")
        eq(show["cancelled"], None)
        eq(show["tags"], ["cards", "db"])
        eq(show["issues"], [1])
        eq(show["github_issue"], 345)
        eq(show["slack_channel_name"], f"payments-{today}i")
        eq([(c["id"], c["status"]) for c in show["children"]], [(2, "declared")])
        kinds = [e["kind"] for e in show["timeline"]]
        eq(kinds[0], "declared")
        for k in ("status", "role", "tag", "link", "note", "pin"):
            check(k in kinds, f"timeline has a {k} event: {kinds}")
        statuses = [e["value"] for e in show["timeline"] if e["kind"] == "status"]
        eq(statuses, ["investigating", "recovered", "completed"])
        pin = next(e for e in show["timeline"] if e["kind"] == "pin")
        eq((pin["actor"], pin["source_ref"]), ("alice", "1614128400.000100"))
        child = json.loads(inc(data, "show", "2", "--json")[0])
        eq(child["parent_id"], 1)
        text, _ = inc(data, "show", "1")
        check("children:" in text and "API errors too" in text, text)

        stats = jlines(inc(data, "stats", "--json")[0])
        eq([(s["service"], s["level"], s["count"], s["recovered"]) for s in stats],
           [("Payments", 2, 1, 1), ("payments", 3, 1, 0)], "drills are left out")
        check(stats[0]["median_ttr_seconds"] > 0, stats)
        eq(stats[1]["median_ttr_seconds"], None)
        eq(jlines(inc(data, "list", "--stats", "--json")[0]), stats, "--stats is stats")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        os.environ.setdefault("KOBAN_BIN", os.path.join(sys.argv[1], "koban"))
        import kobantest
        kobantest.KOBAN = os.environ["KOBAN_BIN"]
    r = Results()
    r.run(test_help_and_usage)
    r.run(test_refusals)
    r.run(test_lifecycle)
    r.done()
