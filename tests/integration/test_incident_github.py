"""The incident bot against a fake GitHub, end to end with a real `koban serve`:
declared -> the incident's GitHub issue (title, labels, marker) and its number
copied back -> level and status changes -> the issue updated (labels) with a
comment each -> completed -> the postmortem draft committed on its own branch
and opened as a pull request that closes the issue, its number copied back.
And GitHub rate-limiting the create: retried, one issue all the same."""
import json
import os
import sys
import time

from kobantest import Daemon, Results, check, eq, koban, wait_for, scratch_dir

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fakesaas import FakeSaaS  # noqa: E402

REPO = "acme/sec"


def setup(fake):
    top = scratch_dir("koban-incgh-")
    routes = os.path.join(top, "routes.yml")
    with open(routes, "w") as f:
        f.write(f"""receivers:
  - {{name: incident-gh, type: github_incident, token: ghp-test, repo: {REPO},
      base_url: "{fake.url}"}}
""")
    bot = os.path.join(top, "incidents.yml")
    with open(bot, "w") as f:
        f.write("""github:
  receiver: incident-gh
  postmortem_dir: postmortems
""")
    cfg = os.path.join(top, "koban.yaml")
    with open(cfg, "w") as f:
        f.write(f"""notify:
  routes: {routes}
  poll_ms: 50
  backoff_base_ms: 50
  backoff_cap_ms: 300
  timeout_ms: 2000
incident:
  config: {bot}
""")
    return Daemon(data=os.path.join(top, "var"), config=cfg, syslog=False, spool=False)


def show(d, n):
    rc, out, err = koban("incident", "show", str(n), "--json", "--data-dir", d.data)
    eq(rc, 0, err)
    return json.loads(out)


def inc(d, *args):
    rc, out, err = koban("incident", *args, "--author", "alice", "--data-dir", d.data)
    eq(rc, 0, err)
    return out


def issues(fake):
    return fake.state()["github"].get(REPO, {})


def comments(fake, n):
    return [c["body"] for c in fake.state()["github_comments"].get(f"{REPO}#{n}", [])]


def test_issue_to_pull_request():
    fake = FakeSaaS().start()
    d = setup(fake).start()
    try:
        inc(d, "open", "--service", "payments", "--title", "card payments failing",
            "--level", "2", "--temperature", "hot")
        wait_for(lambda: "1" in issues(fake), timeout=20, msg="the incident's issue")
        i = issues(fake)["1"]
        eq(i["title"], "Incident #1: card payments failing")
        eq(i["labels"], ["incident", "service:payments", "level:2"])
        check("<!-- koban-incident:1 -->" in i["body"], i["body"])
        check("- **Temperature:** hot" in i["body"], i["body"])
        eq(i["state"], "open")
        wait_for(lambda: show(d, 1)["github_issue"] == 1, msg="issue number copied")
        eq(comments(fake, 1), [], "the create says it all")

        inc(d, "update", "1", "--level", "1")
        inc(d, "update", "1", "--status", "recovered")
        wait_for(lambda: len(comments(fake, 1)) == 2, timeout=20, msg="two comments")
        eq(comments(fake, 1), ["Level is now **1** (by alice).",
                               "Status is now **recovered** (by alice)."])
        i = issues(fake)["1"]
        eq(i["labels"], ["incident", "service:payments", "level:1"])
        check("- **Status:** recovered" in i["body"], i["body"])

        inc(d, "update", "1", "--status", "completed")
        wait_for(lambda: fake.state()["github_repo"].get(REPO, {}).get("pulls"), timeout=20,
                 msg="the postmortem pull request")
        repo = fake.state()["github_repo"][REPO]
        eq(list(repo["pulls"]), ["2"], "one pull request, numbered after the issue")
        pr = repo["pulls"]["2"]
        eq(pr["title"], "Postmortem: Incident #1: card payments failing")
        eq((pr["head"], pr["base"]), ("koban/postmortem-1", "main"))
        check(pr["body"].startswith("Closes #1\n"), pr["body"])
        day = time.strftime("%Y-%m-%d", time.gmtime())
        key = f"koban/postmortem-1:postmortems/{day}-incident-1.md"
        eq(list(repo["files"]), [key])
        wait_for(lambda: show(d, 1)["github_pr"] == 2, msg="pull request number copied")
        # the draft as it was at completion: today's less the PR link added since
        rc, md, err = koban("incident", "postmortem", "1", "--data-dir", d.data)
        eq(rc, 0, err)
        check("- Pull request: \\#2\n" in md, md)
        eq(repo["files"][key]["content"], md.replace("- Pull request: \\#2\n", ""))
        check("\\#1" in repo["files"][key]["content"], "the draft names the issue")
        eq(repo["refs"]["main"] != repo["refs"]["koban/postmortem-1"], True, "committed")
        # completed: the merge of the pull request closes the issue, not koban
        eq(issues(fake)["1"]["state"], "open")
        eq(comments(fake, 1)[-1], "Status is now **completed** (by alice).")
        rc, out, _ = koban("outbox", "list", "--state", "dead", "--data-dir", d.data)
        eq((rc, out.strip().splitlines()[1:] if out.strip() else []), (0, []), out)
        # the calls of the postmortem, in order
        calls = [(r["method"], r["path"]) for r in fake.requests()
                 if r["path"].startswith(f"/repos/{REPO}") and "/issues" not in r["path"]]
        eq(calls, [("GET", f"/repos/{REPO}"), ("GET", f"/repos/{REPO}/git/ref/heads/main"),
                   ("POST", f"/repos/{REPO}/git/refs"),
                   ("PUT", f"/repos/{REPO}/contents/postmortems/{day}-incident-1.md"),
                   ("POST", f"/repos/{REPO}/pulls")])
        eq(d.stop(), 0, d.tail())
        check("Sanitizer" not in d.tail(100000), d.tail())
    finally:
        d.stop()
        d.cleanup()
        fake.stop()


def test_rate_limited_then_cancelled():
    fake = FakeSaaS().start()
    fake.script(f"/repos/{REPO}/issues", "429", times=2, retry_after="1")
    d = setup(fake).start()
    try:
        inc(d, "open", "--service", "auth", "--title", "login errors", "--drill")
        wait_for(lambda: "1" in issues(fake), timeout=20, msg="issue after the rate limit")
        eq([r["status"] for r in fake.requests(f"/repos/{REPO}/issues")], [429, 429, 201])
        eq(issues(fake)["1"]["title"], "[DRILL] Incident #1: login errors")
        inc(d, "update", "1", "--status", "cancelled")
        wait_for(lambda: issues(fake)["1"]["state"] == "closed", timeout=20, msg="closed")
        eq(issues(fake)["1"]["state_reason"], "not_planned")
        eq(len(issues(fake)), 1, "one issue")
        eq(d.stop(), 0, d.tail())
        check("Sanitizer" not in d.tail(100000), d.tail())
    finally:
        d.stop()
        d.cleanup()
        fake.stop()


def main():
    res = Results()
    for t in (test_issue_to_pull_request, test_rate_limited_then_cancelled):
        res.run(t)
    res.done()


if __name__ == "__main__":
    main()
