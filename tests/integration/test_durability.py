"""No acknowledgement before fsync: with fsync/fdatasync held by an
LD_PRELOAD gate, a POST must not be answered until the gate opens, and the
answer must come after the fsync returned."""
import json
import os
import tempfile
import threading
import time

from kobantest import Daemon, Results, check, eq

SHIM = os.path.join(os.environ.get("KOBAN_BUILD", ""), "libkoban_fsyncgate.so")


def test_ack_waits_for_fsync():
    if not os.path.exists(SHIM):
        raise AssertionError(f"{SHIM} is not built")
    with tempfile.TemporaryDirectory(prefix="koban-dur-") as tmp:
        gate = os.path.join(tmp, "gate")
        env = {"KOBAN_FSYNC_GATE": gate, "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") +
               ":verify_asan_link_order=0"}
        pre = os.environ.get("LD_PRELOAD")
        env["LD_PRELOAD"] = SHIM + (":" + pre if pre else "")
        d = Daemon(data=os.path.join(tmp, "var"), env=env, syslog=False, spool=False)
        try:
            d.start()
            open(gate, "w").close()          # close the gate: fsyncs now block
            result = {}
            def post():
                result["status"], result["body"] = d.post_events(
                    {"kind": "durability", "title": "held"})
                result["at"] = time.time()
            t = threading.Thread(target=post)
            t.start()
            time.sleep(1.5)
            check("status" not in result, "answered while fsync was held")
            with open(gate + ".log") as f:
                check("fsync-enter" in f.read(), "the journal is waiting in fsync")
            opened = time.time()
            os.unlink(gate)                  # open the gate
            t.join(timeout=30)
            eq(result.get("status"), 200, f"answer after the gate opened: {result}")
            check(result["at"] >= opened, "answer came after the fsync was released")
            with open(gate + ".log") as f:
                log = f.read()
            check("fsync-exit" in log, log)
        finally:
            try:
                os.unlink(gate)
            except OSError:
                pass
            d.cleanup()


def main():
    res = Results()
    res.run(test_ack_waits_for_fsync)
    res.done()


if __name__ == "__main__":
    main()
