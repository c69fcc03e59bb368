"""Black-box tests of the daemon skeleton: health, routing errors, body limits, spooling,
conditional GETs, SIGHUP reload, SIGTERM drain, deadlines, systemd notify, the CLI."""

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from factord_harness import FACTORD_BIN, Daemon, check, check_eq, run, test  # noqa: E402


class Background(threading.Thread):
    """Runs d.request(...) in a thread; .result holds (status, headers, body) or the error."""

    def __init__(self, d, method, path, **kw):
        super().__init__(daemon=True)
        self.args = (d, method, path, kw)
        self.result = None
        self.start()

    def run(self):
        d, method, path, kw = self.args
        try:
            self.result = d.request(method, path, **kw)
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.result = e


def metric(d, name):
    status, _, body = d.request("GET", "/metrics")
    check_eq(status, 200)
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError("metric %s missing" % name)


def wait_in_flight(d, n, timeout=10):
    """Waits until n requests besides the /metrics probe itself are in flight."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if metric(d, "factord_http_requests_in_flight") >= n + 1:
            return
        time.sleep(0.02)
    raise AssertionError("never saw %d request(s) in flight" % n)


class NotifySocket:
    """A datagram socket standing in for systemd's NOTIFY_SOCKET."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.name = "@" + path[1:] if path.startswith("\0") else path
        self.messages = []

    def wait_for(self, line, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            for i, msg in enumerate(self.messages):
                if line in msg.split("\n"):
                    del self.messages[: i + 1]
                    return msg
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no %r notification (got %r)" % (line, self.messages))
            self.sock.settimeout(left)
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except socket.timeout:
                pass

    def close(self):
        self.sock.close()


# -- health and routing -------------------------------------------------------------------

@test
def livez_answers_ok_with_request_id():
    with Daemon() as d:
        status, doc, headers = d.json("GET", "/livez")
        check_eq(status, 200)
        check_eq(doc, {"status": "ok"})
        check(headers.get("x-request-id"), "X-Request-Id missing")
        check_eq(headers.get("content-type"), "application/json")


@test
def client_request_id_is_echoed():
    with Daemon() as d:
        _, headers, _ = d.request("GET", "/livez", headers={"X-Request-Id": "abc-123"})
        check_eq(headers.get("x-request-id"), "abc-123")
        _, headers, _ = d.request("GET", "/livez", headers={"X-Request-Id": "bad id!"})
        check(headers.get("x-request-id") not in (None, "bad id!"), "unsafe id echoed")


@test
def head_livez_has_no_body():
    with Daemon() as d:
        status, _, body = d.request("HEAD", "/livez")
        check_eq(status, 200)
        check_eq(body, b"")


@test
def readyz_ready_with_schema_version():
    with Daemon() as d:
        status, doc = d.get_json("/readyz")
        check_eq(status, 200)
        check_eq(doc["status"], "ready")
        check(isinstance(doc["schema_version"], int) and doc["schema_version"] >= 1,
              "schema_version %r" % doc)


@test
def metrics_prometheus_text():
    with Daemon() as d:
        d.request("GET", "/livez")
        d.request("GET", "/nope")
        status, headers, body = d.request("GET", "/metrics")
        check_eq(status, 200)
        check(headers["content-type"].startswith("text/plain"), headers["content-type"])
        text = body.decode()
        check_eq(metric(d, 'factord_http_requests_total{route="/livez",method="GET",'
                           'code="200"}'), 2.0)  # the harness's start-up probe and ours
        check(metric(d, 'factord_http_requests_total{route="unmatched",method="any",'
                        'code="404"}') >= 1, text)
        check_eq(metric(d, "factord_draining"), 0.0)
        check("# TYPE factord_uptime_seconds gauge" in text, text)


@test
def unknown_route_is_404_json():
    with Daemon() as d:
        status, _, body = d.request("GET", "/v1/nothing/here")
        err = d.check_error(status, body, 404, "not_found")
        check("/v1/nothing/here" in err["message"], err["message"])


@test
def wrong_method_is_405_json_with_allow():
    with Daemon() as d:
        status, headers, body = d.request("DELETE", "/livez")
        d.check_error(status, body, 405, "method_not_allowed")
        check_eq(headers.get("allow"), "GET, HEAD")


@test
def debug_routes_absent_unless_enabled():
    with Daemon() as d:
        status, _, body = d.request("GET", "/v1/debug/sleep?ms=1")
        d.check_error(status, body, 404, "not_found")


# -- bodies -------------------------------------------------------------------------------

@test
def body_over_limit_is_413_before_the_body_is_read():
    with Daemon(args=["--body-limit", "1k"], debug_routes=True) as d:
        # Announce a gigabyte and send none of it: only an answer given before reading
        # the body can arrive.
        head, body = d.answer_to_head(
            b"POST /v1/debug/echo HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n")
        check(head.startswith(b"HTTP/1.1 413"), "got %r" % head[:100])
        d.check_error(413, body, 413, "body_too_large")


@test
def chunked_body_over_limit_is_413():
    with Daemon(args=["--body-limit", "1k"], debug_routes=True) as d:
        conn = d.connection()
        conn.request("POST", "/v1/debug/echo", body=iter([b"x" * 600] * 4),
                     encode_chunked=True, headers={"Transfer-Encoding": "chunked"})
        resp = conn.getresponse()
        d.check_error(resp.status, resp.read(), 413, "body_too_large")
        conn.close()


@test
def body_within_limit_reaches_the_handler():
    with Daemon(args=["--body-limit", "1k"], debug_routes=True) as d:
        status, doc, _ = d.json("POST", "/v1/debug/echo", body=b"y" * 1024)
        check_eq(status, 200)
        check_eq(doc, {"bytes": 1024, "terminated": True})
        status, doc, _ = d.json("POST", "/v1/debug/echo")
        check_eq((status, doc["bytes"]), (200, 0))


@test
def spooled_body_goes_to_a_temp_file_that_is_removed():
    with Daemon(args=["--body-limit", "1k"], debug_routes=True) as d:
        d.env["TMPDIR"] = d.dir  # takes effect on restart: spool files land where we look
        d.restart()
        size = 3 * 1024 * 1024 + 17
        status, doc, _ = d.json("PUT", "/v1/debug/spool", body=b"z" * size)
        check_eq(status, 200)
        check_eq((doc["bytes"], doc["file_bytes"]), (size, size))
        check(doc["path"].startswith(d.dir + "/factord-spool-"), doc["path"])
        leftovers = [f for f in os.listdir(d.dir) if f.startswith("factord-spool-")]
        check_eq(leftovers, [], "spool files left behind")


@test
def if_none_match_gets_304():
    with Daemon(debug_routes=True) as d:
        status, headers, body = d.request("GET", "/v1/debug/etag?tag=v1")
        check_eq(status, 200)
        check_eq(headers.get("etag"), '"v1"')
        check_eq(headers.get("cache-control"), "max-age=60")
        status, headers, body = d.request("GET", "/v1/debug/etag?tag=v1",
                                          headers={"If-None-Match": 'W/"v0", "v1"'})
        check_eq((status, body), (304, b""))
        check_eq(headers.get("etag"), '"v1"')
        status, _, _ = d.request("GET", "/v1/debug/etag?tag=v2",
                                 headers={"If-None-Match": '"v1"'})
        check_eq(status, 200)


# -- reload -------------------------------------------------------------------------------

@test
def sighup_with_bad_config_keeps_serving_old_config():
    with Daemon(config="log_level = info\nbody_limit = 1k\n", debug_routes=True) as d:
        d.write_config("log_level = info\n# second line\nbody_limit = lots\n")
        d.hup()
        d.wait_log("reload failed")
        line = [l for l in d.log().splitlines() if "reload failed" in l][0]
        check("factord.conf:3" in line and "body_limit" in line, line)
        check(" error " in line, "reload failure must be logged at error level: " + line)
        status, _, body = d.request("POST", "/v1/debug/echo", body=b"x" * 2000)
        d.check_error(status, body, 413, "body_too_large")
        check_eq(d.request("GET", "/livez")[0], 200)


@test
def sighup_with_good_config_applies_reloadable_keys():
    with Daemon(config="log_level = info\nbody_limit = 1k\n", debug_routes=True) as d:
        status, _, _ = d.request("POST", "/v1/debug/echo", body=b"x" * 2000)
        check_eq(status, 413)
        d.write_config("log_level = warn\nbody_limit = 4k\nworker_threads = 2\n")
        d.hup()
        d.wait_log("config reloaded")
        log = d.log()
        check("log_level, body_limit" in log, log[-1500:])
        check("worker_threads changed but only take(s) effect after a restart" in log, log[-1500:])
        status, doc, _ = d.json("POST", "/v1/debug/echo", body=b"x" * 2000)
        check_eq((status, doc["bytes"]), (200, 2000))
        # At warn level the per-request info lines stop. A second reload logs a warning
        # after the loop has finished with the request, which orders the log.
        livez_lines = d.log().count("GET /livez 200")
        check_eq(d.request("GET", "/livez")[0], 200)
        d.hup()
        deadline = time.monotonic() + 10
        while d.log().count("only take(s) effect after a restart") < 2:
            check(time.monotonic() < deadline, "second reload not logged")
            time.sleep(0.02)
        check_eq(d.log().count("GET /livez 200"), livez_lines, "info line after switching to warn")


@test
def sighup_without_config_file_is_harmless():
    with Daemon() as d:
        d.hup()
        d.wait_log("nothing to reload")
        check_eq(d.request("GET", "/livez")[0], 200)


@test
def bad_config_at_start_names_file_line_and_key():
    d = Daemon(config="port = 0\nwibble = 3\n", start=False)
    try:
        proc = subprocess.run([FACTORD_BIN, "serve", "--config", d.config_path, "--db",
                               d.db_path], capture_output=True, text=True, timeout=30)
        check_eq(proc.returncode, 1)
        check("factord.conf:2" in proc.stderr and "wibble" in proc.stderr, proc.stderr)
    finally:
        d.cleanup()


# -- drain, deadlines, concurrency ----------------------------------------------------------

@test
def sigterm_drains_in_flight_requests_and_exits_0():
    d = Daemon(debug_routes=True, start=False)
    notify = NotifySocket(os.path.join(d.dir, "notify.sock"))
    d.env["NOTIFY_SOCKET"] = notify.name
    try:
        d.start()
        notify.wait_for("READY=1")
        keep = d.connection()  # an established keep-alive connection survives the quiesce
        keep.request("GET", "/livez")
        check_eq(keep.getresponse().read(), b'{"status":"ok"}')
        slow = Background(d, "GET", "/v1/debug/sleep?ms=3000")
        wait_in_flight(d, 1)
        d.term()
        notify.wait_for("STOPPING=1")
        keep.request("GET", "/readyz")
        resp = keep.getresponse()
        d.check_error(resp.status, resp.read(), 503, "draining")
        check_eq(resp.getheader("connection"), "close")
        keep.close()
        try:
            d.request("GET", "/livez", timeout=5)
            raise AssertionError("new connections still accepted while draining")
        except ConnectionRefusedError:
            pass
        slow.join(30)
        check(not isinstance(slow.result, Exception), "slow request failed: %r" % (slow.result,))
        check_eq(slow.result[0], 200)
        check_eq(json.loads(slow.result[2]), {"slept_ms": 3000})
        check_eq(d.wait_exit(30), 0)
        check("stopped" in d.log(), d.log()[-1000:])
    finally:
        d.kill9()
        notify.close()
        d.cleanup()


@test
def deadline_answers_503_and_discards_the_late_result():
    with Daemon(config="request_timeout = 0.3\n", debug_routes=True) as d:
        status, _, body = d.request("GET", "/v1/debug/sleep?ms=1500")
        d.check_error(status, body, 503, "timeout")
        check_eq(metric(d, "factord_http_request_timeouts_total"), 1.0)
        check_eq(d.request("GET", "/livez")[0], 200)
        # The worker is still sleeping; stopping now must wait for it and exit cleanly.


@test
def livez_answers_while_every_worker_is_busy():
    with Daemon(args=["--workers", "1"], debug_routes=True) as d:
        slow = Background(d, "GET", "/v1/debug/sleep?ms=2000")
        wait_in_flight(d, 1)
        check_eq(d.request("GET", "/livez")[0], 200)
        check(slow.result is None, "livez waited for the slow request")
        slow.join(30)
        check_eq(slow.result[0], 200)


# -- systemd notify ---------------------------------------------------------------------------

def notify_sequence(path):
    d = Daemon(config="log_level = info\n", start=False)
    notify = NotifySocket(path if path.startswith("\0") else os.path.join(d.dir, path))
    d.env["NOTIFY_SOCKET"] = notify.name
    try:
        d.start()
        check("STATUS=" in notify.wait_for("READY=1"), "READY=1 without STATUS")
        d.hup()
        msg = notify.wait_for("RELOADING=1")
        check(any(l.startswith("MONOTONIC_USEC=") for l in msg.split("\n")), msg)
        notify.wait_for("READY=1")
        d.stop()
        notify.wait_for("STOPPING=1")
    finally:
        d.kill9()
        notify.close()
        d.cleanup()


@test
def notify_ready_reloading_stopping():
    notify_sequence("notify.sock")


@test
def notify_abstract_socket():
    notify_sequence("\0factord-test-%d" % os.getpid())


# -- command line ---------------------------------------------------------------------------

def factord(*args):
    return subprocess.run([FACTORD_BIN] + list(args), capture_output=True, text=True,
                          timeout=60)


@test
def cli_help_version_and_unknown_command():
    p = factord("--help")
    check_eq(p.returncode, 0)
    check("serve" in p.stdout and "migrate" in p.stdout, p.stdout)
    p = factord("--version")
    check(p.returncode == 0 and p.stdout.startswith("factord "), p.stdout)
    p = factord("frobnicate")
    check_eq(p.returncode, 2)
    check("frobnicate" in p.stderr and "serve" in p.stderr, p.stderr)
    check_eq(factord().returncode, 2)


@test
def serve_help_documents_every_flag():
    p = factord("serve", "--help")
    check_eq(p.returncode, 0)
    for flag in ("--config", "--listen", "--port", "--db", "--log-level", "--workers",
                 "--body-limit", "--port-file"):
        check(flag in p.stdout, "%s missing from serve --help" % flag)
    p = factord("serve", "--bogus")
    check_eq(p.returncode, 2)


@test
def migrate_creates_and_reports_version():
    d = Daemon(start=False)
    try:
        p = factord("migrate", "--db", d.db_path)
        check_eq(p.returncode, 0, p.stderr)
        check("schema version" in p.stdout and "migrated from 0" in p.stdout, p.stdout)
        p = factord("migrate", "--db", d.db_path)
        check(p.returncode == 0 and "up to date" in p.stdout, p.stdout)
    finally:
        d.cleanup()


@test
def database_newer_than_binary_is_refused():
    d = Daemon(start=False)
    try:
        check_eq(factord("migrate", "--db", d.db_path).returncode, 0)
        db = sqlite3.connect(d.db_path)
        db.execute("PRAGMA user_version = 9999")
        db.commit()
        db.close()
        p = factord("migrate", "--db", d.db_path)
        check_eq(p.returncode, 1)
        check("9999" in p.stderr or "newer" in p.stderr, p.stderr)
        p = subprocess.run([FACTORD_BIN, "serve", "--port", "0", "--db", d.db_path],
                           capture_output=True, text=True, timeout=30)
        check_eq(p.returncode, 1)
        check("9999" in p.stderr or "newer" in p.stderr, p.stderr)
    finally:
        d.cleanup()


if __name__ == "__main__":
    run()
