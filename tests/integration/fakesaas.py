"""fakesaas — a fake Slack, GitHub and PagerDuty (and any webhook) on 127.0.0.1
for koban's notification tests.

It records every request (method, path, query, headers, body, time, the
client's port — the same port twice means a kept-alive connection) and can be
told, per path, to answer the next N requests with a failure before behaving
normally again:

    429     429 with Retry-After (seconds or an HTTP date; default "1")
    500     500 Internal Server Error
    400     400 Bad Request
    hang    wait hang_ms (longer than the client's timeout), then close
            without answering and without doing anything
    slow    wait hang_ms, then do the work and answer normally

Extra response headers (e.g. x-ratelimit-remaining/x-ratelimit-reset) can be
added to scripted answers. Everything else is a small imitation:

    Slack      POST /api/chat.postMessage → {"ok":true,"channel":..,"ts":..}
               POST /api/chat.update      → {"ok":true,...} (or message_not_found)
               POST /services/...         → "ok" (incoming webhook)
               POST /api/conversations.create {name} → {"ok":true,"channel":{id,name}}
                    (name_taken when a channel has that name; .channels holds them)
               POST /api/conversations.invite {channel, users} (already_in_channel
                    when every user is a member; channel_not_found)
               GET  /api/usergroups.users.list?usergroup=S → the group's members
                    (.usergroups: id -> [user ids]; no_such_subteam)
               POST /api/conversations.archive {channel} (already_archived)
               POST /api/views.open {trigger_id, view} → {"ok":true,"view":{"id":"V1",..}}
                    (.views holds them; invalid_arguments without trigger_id or view)
    GitHub     POST /repos/O/R/issues → 201 {"number":N,...}; GET|PATCH .../issues/N;
               POST|GET .../issues/N/comments; GET /search/issues?q=... finds
               issues whose body contains the quoted marker in q
               GET /repos/O/R → {"default_branch":"main",...}; GET .../git/ref/heads/B;
               POST .../git/refs {ref, sha} (422 "Reference already exists");
               GET|PUT .../contents/PATH (?ref=B; a PUT over a file needs its sha:
               422 without, 409 when stale); POST .../pulls {title, head, base,
               body} (422 "A pull request already exists"), GET .../pulls?head=O:B.
               Pull requests and issues share numbers; .gh_repo holds the repos
    PagerDuty  POST /v2/enqueue → 202 {"status":"success","dedup_key":..}
               (400 on an invalid event); incidents are tracked by dedup_key
    anything   → 200 {"ok":true}

Use it from Python (FakeSaaS().start(), .url, .requests(), .script(), .reset())
or as a process for C tests:

    python3 fakesaas.py --port-file FILE [--max-seconds 600]

writes the port to FILE once listening and is driven over HTTP:
    GET  /_fake/requests[?path=P]   → {"requests":[...]}
    POST /_fake/script  {"path":P,"kind":K,"times":N,"retry_after":"1",
                         "hang_ms":2000,"headers":{...}}
    POST /_fake/reset               → forget requests, scripts and state
    GET  /_fake/state               → Slack messages, GitHub issues, PagerDuty incidents
It exits on SIGTERM, when its parent dies, or after --max-seconds.
Only 127.0.0.1 is ever used; every wait is bounded.
"""
import argparse
import base64
import hashlib
import json
import os
import re
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 8 << 20
MAX_HANG_MS = 60000
MAX_RECORDED = 100000


class FakeSaaS:
    def __init__(self, port=0):
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._reset_locked()
        outer = self

        class Handler(_Handler):
            fake = outer

        self.server = _Server(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = None

    def _reset_locked(self):
        self.recorded = []
        self.scripts = {}
        self.slack = []          # messages: {channel, ts, text, blocks, thread_ts, updates}
        self.channels = {}       # id -> {"name", "members": [ids], "archived"}
        self.usergroups = {}     # id -> [user ids] (set by tests)
        self.views = []          # views.open: {trigger_id, view}
        self.gh = {}             # "o/r" -> {number: issue}
        self.gh_comments = {}    # ("o/r", number) -> [comment]
        self.gh_repo = {}        # "o/r" -> {"default_branch", "refs": {branch: sha},
        #                           "files": {(branch, path): {"content", "sha", "message"}},
        #                           "pulls": {number: pull}}
        self.pd = {}             # dedup_key -> {"status":..., "events":[...]}
        self.pd_incidents = 0    # triggers that opened an incident
        self.seq = 0

    # --- control --------------------------------------------------------
    def start(self):
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def reset(self):
        with self.lock:
            self._reset_locked()

    def script(self, path, kind, times=1, retry_after=None, hang_ms=None, headers=None):
        if kind not in ("429", "500", "400", "hang", "slow"):
            raise ValueError(f"unknown kind {kind}")
        with self.lock:
            self.scripts.setdefault(path, []).append({
                "kind": kind, "times": int(times),
                "retry_after": "1" if retry_after is None else str(retry_after),
                "hang_ms": min(int(hang_ms if hang_ms is not None else 5000), MAX_HANG_MS),
                "headers": dict(headers or {})})

    def requests(self, path=None):
        with self.lock:
            return [dict(r) for r in self.recorded if path is None or r["path"] == path]

    def state(self):
        with self.lock:
            return {"slack": [dict(m) for m in self.slack],
                    "channels": {k: dict(v) for k, v in self.channels.items()},
                    "github": {repo: {str(n): dict(i) for n, i in issues.items()}
                               for repo, issues in self.gh.items()},
                    "github_comments": {f"{k[0]}#{k[1]}": list(v)
                                        for k, v in self.gh_comments.items()},
                    "github_repo": {repo: {"default_branch": r["default_branch"],
                                           "refs": dict(r["refs"]),
                                           "files": {f"{b}:{p}": dict(f)
                                                     for (b, p), f in r["files"].items()},
                                           "pulls": {str(n): dict(pr)
                                                     for n, pr in r["pulls"].items()}}
                                    for repo, r in self.gh_repo.items()},
                    "pagerduty": {k: dict(v) for k, v in self.pd.items()},
                    "pagerduty_incidents": self.pd_incidents}

    def _take_script(self, path):
        with self.lock:
            for key in (path, "*"):
                lst = self.scripts.get(key)
                while lst and lst[0]["times"] <= 0:
                    lst.pop(0)
                if lst:
                    lst[0]["times"] -= 1
                    return dict(lst[0])
        return None

    def _next(self):
        self.seq += 1
        return self.seq

    # --- the imitations (called with self.lock held) -----------------------
    def route(self, method, path, query, body):
        parts = [p for p in path.split("/") if p]
        if path == "/api/chat.postMessage" and method == "POST":
            return self._slack_post(body)
        if path == "/api/chat.update" and method == "POST":
            return self._slack_update(body)
        if path.startswith("/api/conversations.") or path == "/api/usergroups.users.list":
            return self._slack_conv(path.split("/")[-1], query, body)
        if path == "/api/views.open" and method == "POST":
            return self._slack_views_open(body)
        if path.startswith("/services/") and method == "POST":
            self.slack.append({"webhook": path, "text": body.get("text"), "ts": None})
            return 200, "ok", {"Content-Type": "text/plain"}
        if path == "/v2/enqueue" and method == "POST":
            return self._pd(body)
        if path == "/search/issues" and method == "GET":
            return self._gh_search(query)
        if (len(parts) >= 3 and parts[0] == "repos" and
                (len(parts) == 3 and method == "GET" or
                 len(parts) > 3 and parts[3] in ("git", "contents", "pulls"))):
            return self._gh_repo_call(method, f"{parts[1]}/{parts[2]}", parts[3:], query, body)
        if len(parts) >= 4 and parts[0] == "repos" and parts[3] == "issues":
            return self._gh(method, f"{parts[1]}/{parts[2]}", parts[4:], body)
        return 200, {"ok": True}, None

    def _slack_post(self, body):
        ch = body.get("channel")
        if not ch:
            return 200, {"ok": False, "error": "channel_not_found"}, None
        ts = f"{int(time.time())}.{self._next():06d}"
        self.slack.append({"channel": ch, "ts": ts, "text": body.get("text"),
                           "blocks": body.get("blocks"), "thread_ts": body.get("thread_ts"),
                           "updates": 0})
        return 200, {"ok": True, "channel": ch, "ts": ts,
                     "message": {"text": body.get("text"), "ts": ts}}, None

    def _slack_conv(self, method, query, body):
        if method == "conversations.create":
            name = body.get("name") or ""
            if any(c["name"] == name for c in self.channels.values()):
                return 200, {"ok": False, "error": "name_taken"}, None
            cid = f"C{self._next():08d}"
            self.channels[cid] = {"name": name, "members": [], "archived": False,
                                  "private": bool(body.get("is_private"))}
            return 200, {"ok": True, "channel": {"id": cid, "name": name}}, None
        if method == "usergroups.users.list":
            ug = urllib.parse.parse_qs(query).get("usergroup", [""])[0]
            if ug not in self.usergroups:
                return 200, {"ok": False, "error": "no_such_subteam"}, None
            return 200, {"ok": True, "users": list(self.usergroups[ug])}, None
        ch = self.channels.get(body.get("channel"))
        if ch is None:
            return 200, {"ok": False, "error": "channel_not_found"}, None
        if method == "conversations.invite":
            users = [u for u in (body.get("users") or "").split(",") if u]
            new = [u for u in users if u not in ch["members"]]
            if not new:
                return 200, {"ok": False, "error": "already_in_channel"}, None
            ch["members"] += new
            return 200, {"ok": True, "channel": {"id": body.get("channel")}}, None
        if method == "conversations.archive":
            if ch["archived"]:
                return 200, {"ok": False, "error": "already_archived"}, None
            ch["archived"] = True
            return 200, {"ok": True}, None
        return 200, {"ok": False, "error": "unknown_method"}, None

    def _slack_views_open(self, body):
        view = body.get("view")
        if not body.get("trigger_id") or not isinstance(view, dict):
            return 200, {"ok": False, "error": "invalid_arguments"}, None
        self.views.append({"trigger_id": body["trigger_id"], "view": view})
        return 200, {"ok": True, "view": dict(view, id=f"V{len(self.views)}")}, None

    def _slack_update(self, body):
        for m in self.slack:
            if m.get("ts") and m["ts"] == body.get("ts") and m["channel"] == body.get("channel"):
                m["text"] = body.get("text", m["text"])
                m["blocks"] = body.get("blocks", m["blocks"])
                m["updates"] += 1
                return 200, {"ok": True, "channel": m["channel"], "ts": m["ts"],
                             "text": m["text"]}, None
        return 200, {"ok": False, "error": "message_not_found"}, None

    def _gh_issue_out(self, repo, i):
        out = dict(i)
        out["labels"] = [{"name": n} for n in i.get("labels", [])]
        out["html_url"] = f"https://github.example/{repo}/issues/{i['number']}"
        return out

    def _gh(self, method, repo, rest, body):
        issues = self.gh.setdefault(repo, {})
        if not rest:
            if method == "POST":
                if not body.get("title"):
                    return 422, {"message": "Validation Failed"}, None
                n = len(issues) + len(self.gh_repo.get(repo, {}).get("pulls", {})) + 1
                labels = [l if isinstance(l, str) else l.get("name") for l in
                          body.get("labels") or []]
                issues[n] = {"number": n, "title": body["title"], "body": body.get("body", ""),
                             "state": "open", "state_reason": None, "labels": labels}
                return 201, self._gh_issue_out(repo, issues[n]), None
            return 200, [self._gh_issue_out(repo, i) for i in issues.values()], None
        try:
            n = int(rest[0])
        except ValueError:
            return 404, {"message": "Not Found"}, None
        if n not in issues:
            return 404, {"message": "Not Found"}, None
        issue = issues[n]
        if len(rest) == 1:
            if method == "PATCH":
                for k in ("title", "body", "state", "state_reason"):
                    if k in body:
                        issue[k] = body[k]
                if "labels" in body:
                    issue["labels"] = [l if isinstance(l, str) else l.get("name")
                                       for l in body["labels"]]
                return 200, self._gh_issue_out(repo, issue), None
            if method == "GET":
                return 200, self._gh_issue_out(repo, issue), None
        if len(rest) == 2 and rest[1] == "comments":
            comments = self.gh_comments.setdefault((repo, n), [])
            if method == "POST":
                c = {"id": self._next(), "body": body.get("body", "")}
                comments.append(c)
                return 201, c, None
            return 200, list(comments), None
        return 404, {"message": "Not Found"}, None

    def _gh_repo_of(self, repo):
        r = self.gh_repo.get(repo)
        if r is None:
            sha = hashlib.sha1(f"{repo}:root".encode()).hexdigest()
            r = self.gh_repo[repo] = {"default_branch": "main", "refs": {"main": sha},
                                      "files": {}, "pulls": {}}
        return r

    def _gh_repo_call(self, method, repo, rest, query, body):
        r = self._gh_repo_of(repo)
        q = {k: v[0] for k, v in urllib.parse.parse_qs(query).items()}
        if not rest:
            return 200, {"full_name": repo, "default_branch": r["default_branch"]}, None
        if rest[0] == "git":
            if method == "GET" and len(rest) > 3 and rest[1] == "ref" and rest[2] == "heads":
                branch = "/".join(rest[3:])
                if branch not in r["refs"]:
                    return 404, {"message": "Not Found"}, None
                return 200, {"ref": f"refs/heads/{branch}",
                             "object": {"type": "commit", "sha": r["refs"][branch]}}, None
            if method == "POST" and rest[1:] == ["refs"]:
                ref, sha = body.get("ref") or "", body.get("sha") or ""
                if not ref.startswith("refs/heads/") or not sha:
                    return 422, {"message": "Invalid request"}, None
                branch = ref[len("refs/heads/"):]
                if branch in r["refs"]:
                    return 422, {"message": "Reference already exists"}, None
                r["refs"][branch] = sha
                return 201, {"ref": ref, "object": {"type": "commit", "sha": sha}}, None
        if rest[0] == "contents" and len(rest) > 1:
            path = "/".join(rest[1:])
            if method == "GET":
                f = r["files"].get((q.get("ref", r["default_branch"]), path))
                if not f:
                    return 404, {"message": "Not Found"}, None
                return 200, {"path": path, "sha": f["sha"], "encoding": "base64",
                             "content": base64.b64encode(f["content"].encode()).decode()}, None
            if method == "PUT":
                branch = body.get("branch") or r["default_branch"]
                if branch not in r["refs"]:
                    return 404, {"message": f"Branch {branch} not found"}, None
                try:
                    text = base64.b64decode(body.get("content") or "", validate=True).decode()
                except ValueError:
                    return 422, {"message": "content is not valid Base64"}, None
                old = r["files"].get((branch, path))
                if old and not body.get("sha"):
                    return 422, {"message": "Invalid request.\n\n\"sha\" wasn't supplied."}, None
                if old and body.get("sha") != old["sha"]:
                    return 409, {"message": f"{path} does not match {body.get('sha')}"}, None
                sha = hashlib.sha1(f"blob:{text}".encode()).hexdigest()
                r["files"][(branch, path)] = {"content": text, "sha": sha,
                                              "message": body.get("message")}
                r["refs"][branch] = hashlib.sha1(f"{branch}:{sha}".encode()).hexdigest()
                return (200 if old else 201), {"content": {"path": path, "sha": sha},
                                               "commit": {"sha": r["refs"][branch]}}, None
        if rest[0] == "pulls" and len(rest) == 1:
            owner = repo.split("/")[0]
            if method == "POST":
                head, base = body.get("head") or "", body.get("base") or ""
                if not body.get("title") or head not in r["refs"] or base not in r["refs"]:
                    return 422, {"message": "Validation Failed"}, None
                if any(p["head"] == head and p["state"] == "open" for p in r["pulls"].values()):
                    return 422, {"message": "Validation Failed", "errors": [
                        {"resource": "PullRequest", "code": "custom",
                         "message": f"A pull request already exists for {owner}:{head}."}]}, None
                n = len(self.gh.get(repo, {})) + len(r["pulls"]) + 1
                r["pulls"][n] = {"number": n, "title": body["title"], "body": body.get("body", ""),
                                 "head": head, "base": base, "state": "open"}
                return 201, dict(r["pulls"][n]), None
            if method == "GET":
                head = q.get("head", "")
                state = q.get("state", "open")
                out = [dict(p, head={"ref": p["head"], "label": f"{owner}:{p['head']}"})
                       for p in r["pulls"].values()
                       if (not head or f"{owner}:{p['head']}" == head) and
                       (state == "all" or p["state"] == state)]
                return 200, out, None
        return 404, {"message": "Not Found"}, None

    def _gh_search(self, query):
        q = urllib.parse.parse_qs(query).get("q", [""])[0]
        markers = re.findall(r'"([^"]*)"', q)
        m = re.search(r"\brepo:(\S+)", q)
        repos = [m.group(1)] if m else list(self.gh)
        items = []
        for repo in repos:
            for i in self.gh.get(repo, {}).values():
                if all(mk in (i.get("body") or "") for mk in markers):
                    items.append(self._gh_issue_out(repo, i))
        return 200, {"total_count": len(items), "incomplete_results": False, "items": items}, None

    def _pd(self, body):
        action = body.get("event_action")
        dk = body.get("dedup_key")
        errors = []
        if not body.get("routing_key"):
            errors.append("'routing_key' is missing or blank")
        if action not in ("trigger", "acknowledge", "resolve"):
            errors.append("'event_action' is invalid")
        if action == "trigger" and not (body.get("payload") or {}).get("summary"):
            errors.append("'payload.summary' is missing or blank")
        if action in ("acknowledge", "resolve") and not dk:
            errors.append("'dedup_key' is missing or blank")
        if errors:
            return 400, {"status": "invalid event", "message": "Event object is invalid",
                         "errors": errors}, None
        if not dk:
            dk = f"pd-{self._next()}"
        inc = self.pd.get(dk)
        if action == "trigger":
            if not inc or inc["status"] == "resolved":
                self.pd_incidents += 1
                inc = self.pd[dk] = {"status": "triggered", "events": []}
        elif inc and inc["status"] != "resolved":
            inc["status"] = "acknowledged" if action == "acknowledge" else "resolved"
        if inc:
            inc["events"].append(action)
        return 202, {"status": "success", "message": "Event processed", "dedup_key": dk}, None


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A client that went away (koban killed mid-request) is expected.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


def _parse_body(raw, ctype):
    text = raw.decode("utf-8", "replace")
    if "application/x-www-form-urlencoded" in (ctype or ""):
        return text, {k: v[0] for k, v in urllib.parse.parse_qs(text).items()}
    try:
        val = json.loads(text) if text.strip() else {}
    except ValueError:
        val = {}
    return text, val if isinstance(val, dict) else {}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive, as the SaaS APIs do
    fake = None

    def log_message(self, fmt, *args):
        pass

    def _send(self, status, body, headers=None):
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
            ctype = "application/json"
        else:
            data = (body or "").encode()
            ctype = "text/plain"
        self.send_response(status)
        hdrs = {"Content-Type": ctype}
        hdrs.update(headers or {})
        for k, v in hdrs.items():
            self.send_header(k, str(v))
        self.send_header("Content-Length", str(len(data)))
        try:
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client is gone (a killed koban)

    def _handle(self):
        fake = self.fake
        url = urllib.parse.urlsplit(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            self.close_connection = True
            return self._send(413, {"message": "too large"})
        raw = self.rfile.read(n) if n else b""
        if len(raw) < n:  # the client died mid-body: a server acts on no half request
            self.close_connection = True
            return
        text, body = _parse_body(raw, self.headers.get("Content-Type"))
        if url.path.startswith("/_fake/"):
            return self._control(url, body)
        rec = {"method": self.command, "path": url.path, "query": url.query,
               "headers": {k.lower(): v for k, v in self.headers.items()},
               "body": text, "t": time.time(), "status": None,
               "peer_port": self.client_address[1]}
        with fake.lock:
            if len(fake.recorded) < MAX_RECORDED:
                fake.recorded.append(rec)
        s = fake._take_script(url.path)
        if s:
            extra = s["headers"]
            if s["kind"] in ("hang", "slow"):
                fake.stopping.wait(s["hang_ms"] / 1000.0)
                if s["kind"] == "hang":
                    rec["status"] = 0
                    self.close_connection = True
                    return
            elif s["kind"] == "429":
                rec["status"] = 429
                return self._send(429, {"ok": False, "error": "ratelimited",
                                        "message": "API rate limit exceeded"},
                                  dict({"Retry-After": s["retry_after"]}, **extra))
            elif s["kind"] == "500":
                rec["status"] = 500
                return self._send(500, {"message": "Internal Server Error"}, extra)
            elif s["kind"] == "400":
                rec["status"] = 400
                return self._send(400, {"ok": False, "error": "invalid_payload",
                                        "message": "Bad Request"}, extra)
        with fake.lock:
            status, out, hdrs = fake.route(self.command, url.path, url.query, body)
        rec["status"] = status
        self._send(status, out, dict(hdrs or {}, **(s["headers"] if s else {})))

    def _control(self, url, body):
        fake = self.fake
        if url.path == "/_fake/requests":
            path = urllib.parse.parse_qs(url.query).get("path", [None])[0]
            return self._send(200, {"requests": fake.requests(path)})
        if url.path == "/_fake/script" and self.command == "POST":
            try:
                fake.script(body.get("path", "*"), str(body.get("kind")),
                            body.get("times", 1), body.get("retry_after"),
                            body.get("hang_ms"), body.get("headers"))
            except (ValueError, TypeError) as e:
                return self._send(400, {"ok": False, "error": str(e)})
            return self._send(200, {"ok": True})
        if url.path == "/_fake/reset" and self.command == "POST":
            fake.reset()
            return self._send(200, {"ok": True})
        if url.path == "/_fake/state":
            return self._send(200, fake.state())
        return self._send(404, {"message": "no such control"})

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle


def main():
    ap = argparse.ArgumentParser(description="fake Slack/GitHub/PagerDuty for koban tests")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--max-seconds", type=float, default=600)
    a = ap.parse_args()
    fake = FakeSaaS(a.port).start()
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{fake.port}\n")
    os.replace(tmp, a.port_file)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    parent = os.getppid()
    deadline = time.time() + a.max_seconds
    while not done.wait(0.2):
        if os.getppid() != parent or time.time() > deadline:
            break
    fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
