"""Crash safety: kill -9 the daemon at random moments while clients ingest,
restart it, and prove that every acknowledged event is in the store exactly
once and that the issue counts match the journal (nothing counted twice).

Each event carries a unique id. Clients record which ids were acknowledged
(HTTP 200). Unacknowledged requests are not retried, so an id may be absent
(it was never acknowledged) but must never appear twice.
"""
import json
import os
import random
import threading
import time

from kobantest import Daemon, Results, check, eq, koban

KILLS = int(os.environ.get("KOBAN_CRASH_KILLS", "20"))


def event(i):
    return {"kind": "crash-test", "id": "c-%d" % i, "host": "h%d" % (i % 7),
            "title": "crash test event group %d" % (i % 50), "seq_hint": i}


class Clients:
    def __init__(self, n_threads=4):
        self.lock = threading.Lock()
        self.acked = set()
        self.next_id = 0
        self.stop = threading.Event()
        self.n_threads = n_threads
        self.port = None
        self.errors = 0

    def take_ids(self, n):
        with self.lock:
            ids = list(range(self.next_id, self.next_id + n))
            self.next_id += n
            return ids

    def worker(self):
        import http.client
        conn = None
        while not self.stop.is_set():
            port = self.port
            if port is None:
                time.sleep(0.01)
                continue
            ids = self.take_ids(random.choice((1, 5, 20)))
            body = "\n".join(json.dumps(event(i)) for i in ids)
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("POST", "/v1/events", body=body)
                r = conn.getresponse()
                data = r.read()
                if r.status == 200 and json.loads(data)["accepted"] == len(ids):
                    with self.lock:
                        self.acked.update(ids)
            except Exception:
                self.errors += 1
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.005)

    def run(self):
        self.threads = [threading.Thread(target=self.worker, daemon=True)
                        for _ in range(self.n_threads)]
        for t in self.threads:
            t.start()

    def join(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)


def test_kill9_loop():
    d = Daemon(syslog=False, spool=False)
    clients = Clients()
    clients.run()
    rng = random.Random(int(os.environ.get("KOBAN_CRASH_SEED", "1234")))
    try:
        for k in range(KILLS):
            d.start()
            clients.port = d.port
            time.sleep(rng.uniform(0.05, 0.6))
            clients.port = None if k == KILLS - 1 else clients.port
            d.kill()
            clients.port = None
        clients.join()
        # final clean start: the pipeline catches up with the journal, then stop
        d.start()
        eq(d.stop(), 0, "clean stop")
        rc, out, err = koban("journal", "cat", "--data-dir", d.data, "--json")
        eq(rc, 0, err)
        seen = {}
        json_records = 0
        for line in out.splitlines():
            rec = json.loads(line)
            if rec["kind"] != "json":
                continue
            json_records += 1
            ev = json.loads(rec["data"])
            seen[ev["id"]] = seen.get(ev["id"], 0) + 1
        dupes = [i for i, n in seen.items() if n > 1]
        eq(dupes, [], "events journaled more than once")
        missing = [i for i in clients.acked if "c-%d" % i not in seen]
        eq(missing, [], "acknowledged events missing from the journal")
        check(len(clients.acked) > 100, f"only {len(clients.acked)} events were acknowledged")
        rc, out, err = koban("issues", "--data-dir", d.data, "--json", "--state", "all",
                             "--limit", "10000")
        eq(rc, 0, err)
        total = sum(json.loads(l)["count"] for l in out.splitlines())
        eq(total, json_records, "issue occurrences == journaled events (no double count)")
        print(f"    {KILLS} kills, {len(clients.acked)} acknowledged, {json_records} journaled,"
              f" {clients.errors} client errors")
    finally:
        clients.stop.set()
        d.cleanup()


def main():
    res = Results()
    res.run(test_kill9_loop)
    res.done()


if __name__ == "__main__":
    main()
