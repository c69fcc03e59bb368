"""Regressions for the faults a hostile test of the daemon found (issue 17), each driven
through the real HTTP API: month arithmetic that spun a worker forever, NUL and control
characters in ids and names, and the protocol-level abuses further down. Each test failed
on the main branch before its fix.
"""
import os
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from factord_harness import Daemon, check, check_eq, run, test  # noqa: E402

MONTHS = ["2020-%02d" % m for m in range(1, 9)]


def panel_csv(month_index, n=30):
    """A small deterministic month: ids S00.., a return and two characteristics."""
    rows = ["id,ret,c0,c1"]
    for i in range(n):
        a = ((i * 7 + month_index * 3) % 11) / 10.0 - 0.5
        b = ((i * 5 + month_index) % 13) / 12.0 - 0.5
        ret = 0.01 * a + 0.02 * b + ((i * 31 + month_index * 17) % 7 - 3) * 0.001
        rows.append("S%02d,%.6f,%.4f,%.4f" % (i, ret, a, b))
    return "\n".join(rows) + "\n"


def put_months(d, months=MONTHS):
    for t, m in enumerate(months):
        st, _, body = d.request("PUT", "/v1/panels/" + m, panel_csv(t),
                                {"Content-Type": "text/csv"})
        check_eq(st, 200, "PUT %s: %r" % (m, body[:200]))


def train_ipca(d, name="m1", frm="2020-02", to="2020-06"):
    st, js, _ = d.json("POST", "/v1/models", {"name": name, "kind": "ipca", "k": 1})
    check_eq(st, 201, str(js))
    st, js, _ = d.json("POST", "/v1/models/%s/train" % name,
                       {"train": {"from": frm, "to": to}})
    check_eq(st, 202, str(js))
    job = js["job"]["id"]
    for _ in range(600):
        st, js = d.get_json("/v1/jobs/%s" % job)
        if js["job"]["state"] in ("succeeded", "failed", "cancelled"):
            break
        time.sleep(0.05)
    check_eq(js["job"]["state"], "succeeded", str(js))


# -- fault 1: month arithmetic below 1900 spun a worker forever ----------------------------

@test
def factors_of_the_first_month_key_answer_4xx_and_the_daemon_still_stops():
    with Daemon(config="request_timeout = 5\n") as d:
        put_months(d)
        train_ipca(d)
        for q in ("month=1900-01", "from=1900-01&to=1900-03", "from=1900-01&to=2020-03"):
            st, js, _ = d.json("GET", "/v1/models/m1/factors?" + q)
            check(400 <= st < 500 or (st == 200 and "1900-01" not in str(js.get("factors"))),
                  "factors?%s: %d %r" % (q, st, js))
        # Out-of-range months are rejected outright, with the range named.
        for q in ("month=1899-12", "month=3000-01", "from=1899-12&to=1900-02"):
            st, js, _ = d.json("GET", "/v1/models/m1/factors?" + q)
            err = d.check_error(st, js, 400, "bad_month")
            check("1900" in err["message"], err["message"])
        # The last month key forecasts a month no key can spell: null, not "".
        st, js, _ = d.json("GET", "/v1/models/m1/expected-returns?month=2999-12")
        check(400 <= st < 500, "expected-returns at 2999-12: %d %r" % (st, js))
        # Every worker is still free: four more requests all answer at once.
        for _ in range(4):
            st, _ = d.get_json("/v1/models/m1/factors?month=2020-03")
            check_eq(st, 200)
        d.stop(timeout=20)


# -- fault 2: NUL and control characters in ids and names ---------------------------------

@test
def nul_and_control_characters_in_ids_are_refused_naming_the_line():
    with Daemon() as d:
        csv = {"Content-Type": "text/csv"}
        st, _, body = d.request("PUT", "/v1/panels/2020-01", b"id,a\nA,1\nA\x001094,2\n", csv)
        err = d.check_error(st, body, 400, "bad_csv")
        check("line 3" in err["message"], err["message"])
        st, _, body = d.request("PUT", "/v1/panels/2020-01", b"id,a\nA,1\n\"B\x1b\",2\n", csv)
        err = d.check_error(st, body, 400, "bad_id")
        check("line 3" in err["message"], err["message"])
        st, _, body = d.request("POST", "/v1/import?units=decimal",
                                b"id,date,a\nA,2020-01,1\nA\x001094,2020-01,2\n", csv)
        err = d.check_error(st, body, 400, "bad_csv")
        check("line 3" in err["message"], err["message"])
        st, js, _ = d.json("PUT", "/v1/panels/2020-02",
                           {"columns": ["id", "a"], "rows": [["A", 1], ["B\u0007", 2]]})
        err = d.check_error(st, js, 400, "bad_id")
        check("rows[1]" in err["message"], err["message"])
        st, js = d.get_json("/v1/panels")
        check_eq(st, 200)
        check_eq(js.get("panels"), [], "nothing was stored")


@test
def nul_and_bad_bytes_in_the_url_are_refused():
    with Daemon() as d:
        csv = {"Content-Type": "text/csv"}
        # %00 used to cut the path short: this wrote the panel of 2020-01.
        st, _, body = d.request("PUT", "/v1/panels/2020-01%00", "id,a\nA,1\n", csv)
        d.check_error(st, body, 400, "bad_url")
        st, _, body = d.request("GET", "/v1/panels/2020-01")
        d.check_error(st, body, 404)
        st, _, body = d.request("GET", "/v1/panels?x=a%00b")
        d.check_error(st, body, 400, "bad_url")
        # %FF%FE was a 500 (the name could not go into JSON).
        st, _, body = d.request("GET", "/v1/models/%FF%FE/labels")
        d.check_error(st, body, 400, "bad_path")
        st, _, body = d.request("GET", "/v1/models/m%01/labels")
        d.check_error(st, body, 400, "bad_path")
        st, _, body = d.request("GET", "/v1/panels?x=%FF")
        d.check_error(st, body, 400, "bad_query")
        # The connection is still good for a plain request afterwards.
        st, _, _ = d.request("GET", "/livez")
        check_eq(st, 200)


@test
def labels_of_an_unknown_model_are_404():
    with Daemon() as d:
        st, _, body = d.request("GET", "/v1/models/nosuch/labels")
        d.check_error(st, body, 404, "no_model")


# -- fault 8: spool files orphaned by kill -9, and where spools go ------------------------

def spools(directory):
    return sorted(f for f in os.listdir(directory) if f.startswith("factord-spool-"))


@test
def a_crash_leaves_no_spool_after_restart():
    spool = tempfile.mkdtemp(prefix="factord-spooldir-")
    other = os.path.join(spool, "factord-spool-0123456789abcdef-XXXXXX")
    with open(other, "w") as f:
        f.write("another daemon's upload")
    with Daemon(env={"TMPDIR": spool}) as d:
        s = socket.create_connection(("127.0.0.1", d.port))
        s.sendall(b"POST /v1/import?units=decimal HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Content-Type: text/csv\r\nContent-Length: 50000000\r\n\r\n")
        s.sendall(b"id,date,a\n" + b"A,2020-01,1\n" * 100000)
        mine = []
        for _ in range(200):
            mine = [f for f in spools(spool) if f != os.path.basename(other)]
            if mine and os.path.getsize(os.path.join(spool, mine[0])) > 1000000:
                break
            time.sleep(0.05)
        check(mine, "the upload spools into $TMPDIR: %r" % spools(spool))
        check(not spools(d.dir), "nothing is spooled beside the database")
        d.kill9()
        s.close()
        check(mine[0] in spools(spool), "kill -9 leaves the spool behind")
        d.start()
        check_eq(spools(spool), [os.path.basename(other)], "stale spools of this database go")
        d.wait_log("stale spool file")
    os.unlink(other)
    os.rmdir(spool)


@test
def a_client_gone_mid_upload_frees_its_spool_at_once():
    spool = tempfile.mkdtemp(prefix="factord-spooldir-")
    with Daemon(env={"TMPDIR": spool}) as d:
        for attempt in range(8):
            s = socket.create_connection(("127.0.0.1", d.port))
            s.sendall(b"POST /v1/import?units=decimal HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Content-Type: text/csv\r\nContent-Length: 50000000\r\n\r\n")
            s.sendall(b"id,date,a\n" + b"A,2020-01,1\n" * 100000)
            for _ in range(200):
                if spools(spool):
                    break
                time.sleep(0.01)
            check(spools(spool), "upload %d spools" % attempt)
            s.close()
            for _ in range(500):
                if not spools(spool):
                    break
                time.sleep(0.01)
            check_eq(spools(spool), [], "upload %d: the spool of a client gone" % attempt)
    os.rmdir(spool)


@test
def spool_dir_says_where_uploads_spool():
    spool = tempfile.mkdtemp(prefix="factord-spooldir-")
    with Daemon(config="spool_dir = %s\n" % spool, debug_routes=True) as d:
        st, js, _ = d.json("PUT", "/v1/debug/spool", b"x" * 100000,
                           {"Content-Type": "application/octet-stream"})
        check_eq(st, 200, str(js))
        check(js["path"].startswith(spool + "/factord-spool-"), js["path"])
    check_eq(spools(spool), [], "the spool went with its request")
    os.rmdir(spool)


# -- fault 9: ?ids= copied each id into a 256-byte buffer ---------------------------------

@test
def long_ids_are_looked_up_whole():
    long_id, longer_id = "X" * 255, "X" * 300
    with Daemon() as d:
        for t, m in enumerate(MONTHS):
            body = panel_csv(t).replace("S00,", long_id + ",").replace("S01,", longer_id + ",")
            st, _, b = d.request("PUT", "/v1/panels/" + m, body, {"Content-Type": "text/csv"})
            check_eq(st, 200, b[:200])
        train_ipca(d)
        st, js = d.get_json("/v1/models/m1/betas?month=2020-07&ids=" + longer_id)
        check_eq(st, 200, str(js)[:200])
        check_eq([r["id"] for r in js["securities"]], [longer_id])
        st, _, body = d.request("GET", "/v1/models/m1/betas?month=2020-07&ids=" + "X" * 280)
        d.check_error(st, body, 404, "unknown_security")


# -- fault 5: a half-closing client lost its answer while another connection was idle -----

def read_all(s, timeout=20):
    s.settimeout(timeout)
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        data += chunk
    return data


@test
def a_half_closed_client_gets_its_answer():
    with Daemon() as d:
        idle = socket.create_connection(("127.0.0.1", d.port))
        for name in ("h1", "h2", "h3"):
            body = ('{"name":"%s","kind":"ipca","k":1}' % name).encode()
            s = socket.create_connection(("127.0.0.1", d.port))
            s.sendall(b"POST /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                      % (len(body), body))
            s.shutdown(socket.SHUT_WR)
            answer = read_all(s)
            s.close()
            check(answer.startswith(b"HTTP/1.1 201"), "half-closed POST: %r" % answer[:200])
            check(b'"name":"%s"' % name.encode() in answer.replace(b" ", b""), answer[-200:])
        idle.close()
        st, js = d.get_json("/v1/models")
        check_eq(st, 200)


# -- fault 6: no connection cap; slowloris on headers and bodies --------------------------

@test
def connections_past_the_cap_are_refused_with_503():
    with Daemon(config="max_connections = 4\n") as d:
        time.sleep(1.5)  # the start-up check's connection is gone by the next sweep
        held = [socket.create_connection(("127.0.0.1", d.port)) for _ in range(4)]
        time.sleep(0.3)
        extra = socket.create_connection(("127.0.0.1", d.port))
        answer = read_all(extra, 10)
        extra.close()
        check(answer.startswith(b"HTTP/1.1 503"), "past the cap: %r" % answer[:200])
        check(b"Retry-After: 1" in answer and b"too_many_connections" in answer, answer)
        for s in held:
            s.close()
        for _ in range(100):
            try:
                if d.request("GET", "/livez", timeout=5)[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.05)
        check_eq(d.request("GET", "/livez")[0], 200, "below the cap again")


def trickle(s, data, every, until):
    """Sends data one byte at a time, `every` seconds apart, until the peer closes or
    `until` (a time.monotonic() value); returns what the server said, and when."""
    s.settimeout(every)
    got = b""
    for byte in data:
        if time.monotonic() > until:
            break
        try:
            s.send(bytes([byte]))
        except OSError:
            break
        try:
            chunk = s.recv(65536)
            if not chunk:
                return got, time.monotonic()
            got += chunk
        except socket.timeout:
            pass
        except OSError:
            return got, time.monotonic()
    return got, None


@test
def slowloris_headers_are_cut_off_at_header_timeout():
    with Daemon(config="header_timeout = 2\n") as d:
        s = socket.create_connection(("127.0.0.1", d.port))
        start = time.monotonic()
        got, closed = trickle(s, b"GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"a" * 200,
                              0.5, start + 30)
        s.close()
        check(closed is not None, "a connection sending a header byte every 0.5 s stayed open")
        check(closed - start < 20, "closed after %.1f s" % (closed - start))
        check(got.startswith(b"HTTP/1.1 408") and b"header_timeout" in got, got[:300])
        check_eq(d.request("GET", "/livez")[0], 200)


@test
def slowloris_bodies_are_cut_off_below_body_min_rate():
    with Daemon(config="body_min_rate = 1k\n") as d:
        s = socket.create_connection(("127.0.0.1", d.port))
        s.sendall(b"PUT /v1/panels/2020-01 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Content-Type: text/csv\r\nContent-Length: 100000\r\n\r\nid,a\n")
        start = time.monotonic()
        got, closed = trickle(s, b"A,1\n" * 1000, 0.5, start + 40)
        s.close()
        check(closed is not None, "a body arriving at 2 bytes/s kept its connection")
        check(closed - start < 30, "closed after %.1f s" % (closed - start))
        check(got.startswith(b"HTTP/1.1 408") and b"body_too_slow" in got, got[:300])
        st, _, _ = d.request("GET", "/v1/panels/2020-01")
        check_eq(st, 404, "nothing was stored")


# -- fault 7: a slow uploader held shutdown for import_timeout + 1 s -----------------------

@test
def drain_ends_within_drain_timeout_despite_a_slow_upload():
    with Daemon(config="drain_timeout = 2\nbody_min_rate = 0\n") as d:
        s = socket.create_connection(("127.0.0.1", d.port))
        s.sendall(b"POST /v1/import?units=decimal HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Content-Type: text/csv\r\nContent-Length: 1000000\r\n\r\nid,date,a\n")
        time.sleep(0.5)
        start = time.monotonic()
        d.term()
        rc = d.wait_exit(30)
        took = time.monotonic() - start
        check_eq(rc, 0, "exit status after SIGTERM")
        check(took < 15, "the drain took %.1f s with drain_timeout = 2" % took)
        s.close()
        d.proc_done()


@test
def the_unit_waits_longer_than_the_drain():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "systemd", "factord.service")) as f:
        unit = f.read()
    with open(os.path.join(root, "etc", "factord.conf")) as f:
        conf = f.read()
    stop = [int(line.split("=")[1]) for line in unit.splitlines()
            if line.startswith("TimeoutStopSec=")]
    drain = [float(line.split("=")[1]) for line in conf.splitlines()
             if line.replace(" ", "").startswith("#drain_timeout=")]
    check(stop and drain, "TimeoutStopSec in the unit and drain_timeout in the sample config")
    check(stop[0] >= drain[0] + 10, "TimeoutStopSec=%d leaves under 10 s beyond drain_timeout "
          "= %g" % (stop[0], drain[0]))


# -- fault 4: memory amplification (a 60 MB JSON body peaked at 1.3 GB, 1 GB stayed) -------

def memory_mb(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, value = line.split(":", 1)
            if key in ("VmHWM", "VmRSS"):
                out[key] = int(value.split()[0]) // 1024
    return out


def sanitized(binary):
    with open(binary, "rb") as f:
        return b"__asan_init" in f.read()


@test
def a_large_bad_json_body_stays_within_its_memory_budget():
    import threading
    from factord_harness import FACTORD_BIN
    body = b'{"columns":["id","a","b","c"],"rows":[' + b'["x",1,2,3],' * 5000000 + b"oops"
    strict = not sanitized(FACTORD_BIN)  # ASan's redzones and quarantine change the sizes
    with Daemon(config="memory_limit = 700M\nrequest_memory_limit = 256M\n") as d:
        headers = {"Content-Type": "application/json"}
        st, _, answer = d.request("PUT", "/v1/panels/2020-01", body, headers, timeout=300)
        d.check_error(st, answer, 413, "request_too_large")
        mem = memory_mb(d.proc.pid)
        if strict:
            check(mem["VmHWM"] < 500, "one 57 MB body peaked at %d MB" % mem["VmHWM"])
            check(mem["VmRSS"] < 200, "%d MB stayed resident after it" % mem["VmRSS"])
        answers = []

        def send():
            answers.append(d.request("PUT", "/v1/panels/2020-01", body, headers, timeout=300))
        threads = [threading.Thread(target=send) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for st, hdrs, answer in answers:
            check(st in (413, 503), "status %d: %r" % (st, answer[:200]))
            if st == 503:
                d.check_error(st, answer, 503, "memory_busy")
                check_eq(hdrs.get("retry-after"), "5")
        mem = memory_mb(d.proc.pid)
        if strict:
            check(mem["VmHWM"] < 1200, "four at once peaked at %d MB" % mem["VmHWM"])
            check(mem["VmRSS"] < 300, "%d MB stayed resident after them" % mem["VmRSS"])
        check_eq(d.request("GET", "/v1/panels/2020-01")[0], 404, "nothing was stored")


if __name__ == "__main__":
    run()
