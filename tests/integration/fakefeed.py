"""fakefeed — a small threaded HTTP server on 127.0.0.1 standing in for the
advisory feeds (OSV bucket, NVD API, GitHub, MyJVN, CISA KEV) in koban's
integration tests.

It serves files put in it (fake.put(path, body, etag=...)) or answers from
a handler (fake.route(path, fn) with fn(req) -> (status, headers, body)),
and before that plays scripted misbehaviours per path, each once, in order:
  ("status", 429, {"Retry-After": "1"})   an answer without the content
  ("truncate",)                            Content-Length longer than the body
  ("hang", seconds)                        no answer for that long, then close
Every request is recorded (path, query as a dict of lists, headers with
lower-case names, time) in fake.requests. A conditional GET whose
If-None-Match matches the file's ETag gets 304.
"""
import http.server
import threading
import time
import urllib.parse


class Request:
    def __init__(self, path, query, headers):
        self.path = path
        self.query = query
        self.headers = headers
        self.time = time.time()

    def q(self, name):
        v = self.query.get(name)
        return v[0] if v else None


class FakeFeed:
    def __init__(self):
        self.files = {}
        self.routes = {}
        self.scripts = {}
        self.requests = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                fake._handle(self)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def put(self, path, body, etag=None, headers=None):
        if isinstance(body, str):
            body = body.encode()
        h = dict(headers or {})
        if etag:
            h["ETag"] = etag
        with self.lock:
            self.files[path] = (body, h)

    def route(self, path, fn):
        with self.lock:
            self.routes[path] = fn

    def script(self, path, *steps):
        with self.lock:
            self.scripts.setdefault(path, []).extend(steps)

    def seen(self, path=None):
        with self.lock:
            return [r for r in self.requests if path is None or r.path == path]

    def clear(self):
        with self.lock:
            self.requests = []

    def stop(self):
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def _send(self, h, status, headers, body, length=None):
        h.send_response(status)
        for k, v in headers.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body) if length is None else length))
        h.end_headers()
        h.wfile.write(body)
        h.wfile.flush()

    def _handle(self, h):
        u = urllib.parse.urlsplit(h.path)
        req = Request(urllib.parse.unquote(u.path), urllib.parse.parse_qs(u.query),
                      {k.lower(): v for k, v in h.headers.items()})
        with self.lock:
            self.requests.append(req)
            steps = self.scripts.get(req.path)
            step = steps.pop(0) if steps else None
            fn = self.routes.get(req.path)
            f = self.files.get(req.path)
        if step and step[0] == "status":
            self._send(h, step[1], step[2] if len(step) > 2 else {}, b"scripted")
            return
        if step and step[0] == "hang":
            self.stopping.wait(step[1])
            h.close_connection = True
            return
        if fn:
            status, headers, body = fn(req)
        elif f:
            body, headers = f
            status = 200
            etag = headers.get("ETag")
            if etag and req.headers.get("if-none-match") == etag:
                self._send(h, 304, {"ETag": etag}, b"")
                return
        else:
            status, headers, body = 404, {}, b"not found"
        if isinstance(body, str):
            body = body.encode()
        if step and step[0] == "truncate":
            h.close_connection = True
            self._send(h, status, headers, body[:len(body) // 2], length=len(body))
            return
        self._send(h, status, headers, body)
