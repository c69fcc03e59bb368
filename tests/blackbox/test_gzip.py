"""Black-box tests of compressed uploads: on every upload route (panels, bulk import, daily
bars, factors) a gzip body, sent with Content-Encoding: gzip or as Content-Type:
application/gzip, stores exactly what the plain body stores; a type the route does not
take is 415 before the body is read; bad gzip is 400; a gzip bomb stops at the body limit
(413) without the daemon's memory following it; and `factord prices import` reads .gz files
itself."""

import gzip
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from factord_harness import FACTORD_BIN, ROOT, Daemon, check, check_eq, run, test  # noqa: E402

SAMPLE = os.path.join(ROOT, "data", "sample")
PANEL = "id,ret,mktcap,mom12m,bm\nAAPL,0.0123,2.1e12,0.35,\nMSFT,-0.004,1.9e12,0.12,0.21\n"
LONG = "id,date,ret,size\nA,2020-01,0.01,1\nB,2020-01,-0.02,2\nA,2020-02,0.03,1.5\n"
BARS = ("ticker,date,open,high,low,close,volume\nXXX,2020-01-31,1,2,0.5,10,100\n"
        "XXX,2020-02-28,1,2,0.5,11,0\nYYY,2020-02-03,,,,5,10\n")


def raw(d, path, accept="text/csv"):
    status, _, body = d.request("GET", path, headers={"Accept": accept})
    check_eq(status, 200, body)
    return body


def vm_hwm_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


@test
def gzip_uploads_store_what_plain_uploads_store():
    with open(os.path.join(SAMPLE, "F-F_Research_Data_Factors.csv"), "rb") as f:
        french = f.read()
    cases = [  # (method, path, body, plain Content-Type, what to read back)
        ("PUT", "/v1/panels/2020-01", PANEL, "text/csv", "/v1/panels/2020-01"),
        ("PUT", "/v1/panels/2020-01", '{"rows": [{"id": "A", "ret": 0.5, "x": 1}]}',
         "application/json", "/v1/panels/2020-01"),
        ("POST", "/v1/import", LONG, "text/csv", "/v1/panels/2020-02"),
        ("PUT", "/v1/prices", BARS, "text/csv", "/v1/prices"),
        ("PUT", "/v1/factors?units=percent", french, "text/csv", "/v1/factors"),
    ]
    results = {}
    for mode in ("plain", "encoding", "type"):
        with Daemon() as d:
            got = []
            for method, path, body, ctype, back in cases:
                data = body.encode() if isinstance(body, str) else body
                headers = {"Content-Type": ctype}
                if mode != "plain":
                    data = gzip.compress(data)
                if mode == "encoding":
                    headers["Content-Encoding"] = "gzip"
                if mode == "type":
                    if ctype != "text/csv":
                        continue  # application/gzip means a gzipped CSV file
                    headers = {"Content-Type": "application/gzip"}
                status, doc, _ = d.json(method, path, data, headers)
                check_eq(status, 200, (mode, path, doc))
                got.append((path, doc, raw(d, back, "application/json")))
            results[mode] = got
    check_eq(results["encoding"], results["plain"])
    plain_csv = [r for r, c in zip(results["plain"], cases) if c[3] == "text/csv"]
    check_eq(results["type"], plain_csv)


@test
def the_shipped_gzipped_sample_uploads_as_it_is():
    path = os.path.join(SAMPLE, "daily_ohlcv_sample.csv.gz")
    with open(path, "rb") as f:
        body = f.read()
    with Daemon() as d:
        status, doc, _ = d.json("PUT", "/v1/prices", body, {"Content-Type": "application/gzip"})
        check_eq(status, 200, doc)
        check_eq((doc["rows"], doc["tickers"]), (190841, 60))


@test
def a_type_the_route_does_not_take_is_415_before_the_body_is_read():
    with Daemon() as d:
        for path, ctype, extra in [("/v1/prices", "application/json", b""),
                                   ("/v1/import", "image/png", b""),
                                   ("/v1/panels/2020-01", "text/plain", b""),
                                   ("/v1/panels/2020-01", "text/csv", b"Content-Encoding: br\r\n")]:
            method = b"POST" if path == "/v1/import" else b"PUT"
            head, body = d.answer_to_head(
                method + b" " + path.encode() + b" HTTP/1.1\r\nHost: localhost\r\nContent-Type: " +
                ctype.encode() + b"\r\n" + extra + b"Content-Length: 500000000\r\n\r\n")
            check(head.startswith(b"HTTP/1.1 415"), "%s %s: %r" % (path, ctype, head[:100]))
            d.check_error(415, body, 415, "unsupported_media_type")
        # ?format= lets PUT /v1/factors take any type (a raw download is often octet-stream)
        with open(os.path.join(SAMPLE, "F-F_Research_Data_Factors.csv"), "rb") as f:
            status, doc, _ = d.json("PUT", "/v1/factors?units=percent&format=french",
                                    gzip.compress(f.read()),
                                    {"Content-Type": "application/octet-stream",
                                     "Content-Encoding": "gzip"})
        check_eq(status, 200, doc)


@test
def bad_gzip_is_400_and_stores_nothing():
    with Daemon() as d:
        good = gzip.compress(PANEL.encode())
        for body in (PANEL.encode(), good[:-6], good[:10] + b"\x00" * 20 + good[30:]):
            status, doc, _ = d.json("PUT", "/v1/panels/2020-01", body,
                                    {"Content-Type": "text/csv", "Content-Encoding": "gzip"})
            d.check_error(status, doc, 400, "bad_gzip")
        status, doc, _ = d.json("POST", "/v1/import", good[:-6],
                                {"Content-Type": "application/gzip"})
        d.check_error(status, doc, 400, "bad_gzip")
        status, doc = d.get_json("/v1/panels")
        check_eq(doc["panels"], [])


@test
def a_gzip_bomb_stops_at_the_body_limit():
    bomb = gzip.compress(b"0" * (200 << 20), 9)  # 200 MB of one byte: about 200 kB
    check(len(bomb) < 1 << 20, len(bomb))
    with Daemon(config="body_limit = 4M\nspool_limit = 8M\n") as d:
        before = vm_hwm_kb(d.proc.pid)
        status, doc, _ = d.json("PUT", "/v1/panels/2020-01", bomb,
                                {"Content-Type": "text/csv", "Content-Encoding": "gzip"})
        d.check_error(status, doc, 413, "body_too_large")
        status, doc, _ = d.json("POST", "/v1/import", bomb, {"Content-Type": "application/gzip"})
        d.check_error(status, doc, 413, "body_too_large")
        grown = vm_hwm_kb(d.proc.pid) - before
        check(grown < 64 << 10, "peak RSS grew by %d kB" % grown)
        check_eq(d.get_json("/v1/panels")[1]["panels"], [])
        spools = [f for f in os.listdir(d.dir) if f.startswith("factord-spool-")]
        check_eq(spools, [])


@test
def the_cli_imports_gzip_files_without_an_external_gzip():
    with Daemon() as d:
        gz = os.path.join(d.dir, "bars.csv.gz")
        with open(gz, "wb") as f:
            f.write(gzip.compress(BARS.encode()))
        env = dict(os.environ, PATH="/nonexistent")  # no gzip to run, had it wanted one
        out = subprocess.run([FACTORD_BIN, "prices", "import", "--db", d.db_path, gz],
                             capture_output=True, text=True, env=env, timeout=60)
        check_eq(out.returncode, 0, out.stderr)
        check('"rows":3' in out.stdout, out.stdout)
        with open(gz, "wb") as f:
            f.write(gzip.compress(BARS.encode())[:-8])
        out = subprocess.run([FACTORD_BIN, "prices", "import", "--db", d.db_path, gz],
                             capture_output=True, text=True, env=env, timeout=60)
        check_eq(out.returncode, 1)
        check("bad gzip data" in out.stderr, out.stderr)
        status, doc = d.get_json("/v1/prices")
        check_eq(doc["rows"], 3)


if __name__ == "__main__":
    run()
