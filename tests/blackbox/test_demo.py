"""`make demo` (clients/demo) never uses or touches a daemon it did not start: with anything
answering on its port, or its state directory's pid file naming a factord that runs, it
refuses before writing a file, and a factord of its own that cannot start is reported and
cleaned up. (The demo's successful run, report and printed pid are checked by .ci/demo-check.)"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from factord_harness import (FACTORD_BIN, ROOT, Daemon, check, check_eq, free_port,  # noqa: E402
                             run, test)

DEMO = os.path.join(ROOT, "clients", "demo")


def run_demo(port, state):
    env = dict(os.environ, FACTORD_DEMO_PORT=str(port), FACTORD_DEMO_STATE=state,
               FACTORD_DEMO_SMALL="1")
    return subprocess.run([DEMO, os.path.dirname(FACTORD_BIN)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def snapshot(directory):
    """{name: (size, mtime_ns, bytes)} of every file in directory."""
    out = {}
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        st = os.stat(path)
        with open(path, "rb") as f:
            out[name] = (st.st_size, st.st_mtime_ns, f.read())
    return out


def port_answers(port):
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) == 0


class Listener:
    """A plain TCP listener on an ephemeral port that records every byte it is sent."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.received = b""
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(1)
                try:
                    while True:
                        data = conn.recv(4096)
                        if not data:
                            break
                        self.received += data
                except OSError:
                    pass

    def close(self):
        self.stopping = True
        self.sock.close()
        self.thread.join(5)


@test
def refuses_a_port_where_anything_answers_and_writes_nothing():
    state = tempfile.mkdtemp(prefix="factord-demo-")
    lst = Listener()
    try:
        with open(os.path.join(state, "factord.log"), "w") as f:
            f.write("another program's log\n")
        with open(os.path.join(state, "factord.pid"), "w") as f:
            f.write("%d\n" % os.getpid())
        before = snapshot(state)
        r = run_demo(lst.port, state)
        check_eq(r.returncode, 1, "exit status (stderr %r)" % r.stderr)
        check("127.0.0.1:%d" % lst.port in r.stderr, "names the port: %r" % r.stderr)
        check("FACTORD_DEMO_PORT" in r.stderr, "names FACTORD_DEMO_PORT: %r" % r.stderr)
        check_eq(snapshot(state), before, "the state directory")
        check_eq(lst.received, b"", "bytes the demo sent to the foreign listener")
    finally:
        lst.close()
        shutil.rmtree(state, ignore_errors=True)


@test
def refuses_a_running_factord_and_leaves_its_database_alone():
    with Daemon() as d:
        before = snapshot(d.dir)
        r = run_demo(d.port, d.dir)
        check_eq(r.returncode, 1, "exit status (stderr %r)" % r.stderr)
        check("FACTORD_DEMO_PORT" in r.stderr, r.stderr)
        check_eq(d.get_json("/v1/models"), (200, {"models": []}), "the daemon's models")
        check_eq(d.get_json("/v1/panels")[1].get("panels"), [], "the daemon's panels")
        after = snapshot(d.dir)
        check_eq(sorted(after), sorted(before), "files in the daemon's directory")
        check_eq(after["factord.db"], before["factord.db"], "the daemon's database")
        check_eq(d.get_json("/livez")[0], 200)


@test
def refuses_a_state_directory_whose_factord_still_runs():
    state = tempfile.mkdtemp(prefix="factord-demo-")
    try:
        with Daemon() as d:
            with open(os.path.join(state, "factord.pid"), "w") as f:
                f.write("%d\n" % d.proc.pid)
            with open(os.path.join(state, "factord.log"), "w") as f:
                f.write("the running daemon's log\n")
            before = snapshot(state)
            port = free_port()
            r = run_demo(port, state)
            check_eq(r.returncode, 1, "exit status (stderr %r)" % r.stderr)
            check("pid %d" % d.proc.pid in r.stderr, "names the running pid: %r" % r.stderr)
            check("FACTORD_DEMO_STATE" in r.stderr, r.stderr)
            check_eq(snapshot(state), before, "the state directory")
            check(not port_answers(port), "nothing was started on port %d" % port)
    finally:
        shutil.rmtree(state, ignore_errors=True)


@test
def a_factord_that_cannot_start_is_reported_and_its_pid_file_removed():
    state = tempfile.mkdtemp(prefix="factord-demo-")
    try:
        # A stale pid file (a pid above any pid_max) is no reason to refuse; a database path
        # that is a directory makes the demo's own factord exit at start-up.
        with open(os.path.join(state, "factord.pid"), "w") as f:
            f.write("999999999\n")
        os.mkdir(os.path.join(state, "factord.db"))
        r = run_demo(free_port(), state)
        check_eq(r.returncode, 1, "exit status (stdout %r, stderr %r)" % (r.stdout, r.stderr))
        check("exited before it was ready" in r.stderr, r.stderr)
        check(not os.path.exists(os.path.join(state, "factord.pid")), "pid file left behind")
    finally:
        shutil.rmtree(state, ignore_errors=True)


@test
def a_bad_port_is_refused():
    for bad in ("abc", "0", "70000", "80 80"):
        r = run_demo(bad, "/nonexistent/state")
        check_eq(r.returncode, 2, "FACTORD_DEMO_PORT=%r (stderr %r)" % (bad, r.stderr))
        check("FACTORD_DEMO_PORT" in r.stderr, r.stderr)


if __name__ == "__main__":
    run()
