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


if __name__ == "__main__":
    run()
