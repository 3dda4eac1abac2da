"""kobantest — a small harness for koban's integration tests.

Starts the real `koban serve` on random loopback ports in a temporary data
directory, talks real HTTP to it, and counts results the way tests/run.sh
expects (a final "KOBAN-TEST passed=N failed=N skipped=N" line).
Only 127.0.0.1 is ever contacted; every wait is bounded.
"""
import atexit
import gzip
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

KOBAN = os.environ.get("KOBAN_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build-check", "koban")
TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


_scratch = []


def _remove_scratch():
    for d in _scratch:
        shutil.rmtree(d, ignore_errors=True)


def scratch_dir(prefix):
    """A temporary directory removed when the test program exits (daemons
    are stopped by then); KOBAN_TEST_KEEP=1 keeps it for a post-mortem."""
    d = tempfile.mkdtemp(prefix=prefix)
    if not _scratch and os.environ.get("KOBAN_TEST_KEEP") != "1":
        atexit.register(_remove_scratch)
    _scratch.append(d)
    return d


def data_dir():
    """../shared/data, or None (a failure under CI=true is reported by the caller)."""
    d = os.environ.get("KOBAN_DATA") or os.path.join(TOP, "..", "shared", "data")
    return d if os.path.isdir(d) else None


class Results:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0

    def run(self, fn, *args):
        name = fn.__name__
        start = time.time()
        try:
            fn(*args)
            self.passed += 1
            print(f"  ok   {name} ({time.time() - start:.1f}s)", flush=True)
        except Skip as s:
            self.skipped += 1
            print(f"  SKIP {name}: {s}", flush=True)
        except Exception:
            self.failed += 1
            print(f"  FAIL {name}:", flush=True)
            traceback.print_exc(file=sys.stdout)

    def done(self):
        print(f"{self.passed} passed, {self.failed} failed, {self.skipped} skipped")
        print(f"KOBAN-TEST passed={self.passed} failed={self.failed} skipped={self.skipped}",
              flush=True)
        sys.exit(1 if self.failed else 0)


class Skip(Exception):
    pass


def need_data():
    d = data_dir()
    if d:
        return d
    if os.environ.get("CI") == "true":
        raise AssertionError("../shared/data is absent and CI=true")
    raise Skip("../shared/data is absent (a user's clone): skipped")


def check(cond, msg="check failed"):
    if not cond:
        raise AssertionError(msg)


def eq(a, b, msg=""):
    if a != b:
        raise AssertionError(f"{msg}: {a!r} != {b!r}" if msg else f"{a!r} != {b!r}")


def koban(*args, input=None, check_rc=None, timeout=120):
    """Runs the koban CLI; returns (rc, stdout, stderr)."""
    cmd = [KOBAN] + list(args)
    p = subprocess.run(cmd, input=input, capture_output=True, timeout=timeout)
    if check_rc is not None and p.returncode != check_rc:
        raise AssertionError(f"{' '.join(cmd)} exited {p.returncode}, wanted {check_rc}\n"
                             f"stdout: {p.stdout[-2000:]!r}\nstderr: {p.stderr[-2000:]!r}")
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


class Daemon:
    """`koban serve` on random loopback ports."""

    def __init__(self, data=None, config=None, env=None, syslog=True, spool=True, extra=()):
        self.own_dir = data is None
        self.data = data or tempfile.mkdtemp(prefix="koban-it-")
        os.makedirs(self.data, exist_ok=True)
        self.config = config
        self.env = dict(os.environ, **(env or {}))
        self.syslog = syslog
        self.spool = spool
        self.extra = list(extra)
        self.proc = None
        self.info = None
        self.log_path = os.path.join(self.data, "serve.log")

    def start(self, timeout=30):
        ready = os.path.join(self.data, "serve.json")
        if os.path.exists(ready):
            os.unlink(ready)
        cmd = [KOBAN, "serve", "--data-dir", self.data, "--listen", "127.0.0.1:0"]
        if self.config:
            cmd += ["--config", self.config]
        if self.syslog:
            cmd += ["--syslog-udp", "127.0.0.1:0", "--syslog-tcp", "127.0.0.1:0"]
        else:
            cmd += ["--syslog-udp", "", "--syslog-tcp", ""]
        if not self.spool:
            cmd += ["--no-spool"]
        cmd += self.extra
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log, env=self.env)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"koban serve exited {self.proc.returncode}: "
                                     f"{self.tail()}")
            try:
                with open(ready) as f:
                    info = json.load(f)
                if info.get("pid") == self.proc.pid:
                    self.info = info
                    host, port = info["http"].rsplit(":", 1)
                    self.port = int(port)
                    return self
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        self.kill()
        raise AssertionError("koban serve did not become ready: " + self.tail())

    def tail(self, n=3000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self, timeout=60):
        """SIGTERM and wait; returns the exit code."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("koban serve did not stop within %ss" % timeout)
        self.log.close()
        return self.proc.returncode

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)
        try:
            self.log.close()
        except Exception:
            pass

    def cleanup(self):
        self.kill()
        if self.own_dir:
            shutil.rmtree(self.data, ignore_errors=True)

    def conn(self, timeout=30):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, timeout=30):
        """One request on a new connection: (status, headers dict, body bytes)."""
        c = self.conn(timeout)
        try:
            if isinstance(body, str):
                body = body.encode()
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            c.close()

    def post_events(self, body, path="/v1/events", headers=None, gz=False):
        h = dict(headers or {})
        if isinstance(body, (list, dict)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        if gz:
            body = gzip.compress(body)
            h["Content-Encoding"] = "gzip"
        status, hdrs, data = self.request("POST", path, body, h)
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, data

    def metrics(self):
        status, _, data = self.request("GET", "/metrics")
        eq(status, 200, "GET /metrics")
        out = {}
        for line in data.decode().splitlines():
            if line and not line.startswith("#"):
                k, _, v = line.rpartition(" ")
                out[k] = float(v)
        return out

    def issues(self, *args):
        rc, out, err = koban("issues", "--data-dir", self.data, "--json", *args)
        check(rc == 0, f"koban issues failed: {err}")
        return [json.loads(l) for l in out.splitlines() if l.strip()]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_for(fn, timeout=20, interval=0.05, msg="condition"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {msg} (last: {last!r})")
