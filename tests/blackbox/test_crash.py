"""Crash test: kill -9 the daemon in the middle of a large ingest (a 20,000 x 100 PUT of a
month, and a multi-month bulk import), restart it on the same database, and check that
SQLite's integrity check passes and that every month is wholly the old version or wholly
the new one (compared by a checksum of its GET body)."""

import hashlib
import os
import random
import sqlite3
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from factord_harness import Daemon, check, check_eq, run, test  # noqa: E402

CSV = {"Content-Type": "text/csv"}
MONTH = "2020-06"


def month_csv(n_rows, n_cols, seed):
    rng = random.Random(seed)
    lines = ["id,ret,mktcap," + ",".join("c%d" % j for j in range(n_cols))]
    for i in range(n_rows):
        vals = ",".join("%.6f" % rng.uniform(-1, 1) for _ in range(n_cols))
        lines.append("S%05d,%.5f,%.1f,%s" % (i, rng.uniform(-0.2, 0.2), rng.uniform(1, 1e4), vals))
    return ("\n".join(lines) + "\n").encode()


def long_csv(months, n_rows, n_cols, seed):
    rng = random.Random(seed)
    lines = ["id,date,ret," + ",".join("c%d" % j for j in range(n_cols))]
    for m in months:
        for i in range(n_rows):
            vals = ",".join("%.5f" % rng.uniform(-1, 1) for _ in range(n_cols))
            lines.append("S%05d,%s,%.5f,%s" % (i, m, rng.uniform(-0.2, 0.2), vals))
    return ("\n".join(lines) + "\n").encode()


def checksum(d, month):
    status, _, body = d.request("GET", "/v1/panels/" + month, headers={"Accept": "text/csv"},
                                timeout=120)
    if status == 404:
        return None
    check_eq(status, 200, "GET %s after restart" % month)
    return hashlib.sha256(body).hexdigest()


def integrity_ok(db_path):
    con = sqlite3.connect(db_path)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


def fire(d, method, path, body):
    """Sends the request from a thread; the daemon may die under it."""
    def go():
        try:
            d.request(method, path, body, CSV, timeout=120)
        except Exception:  # noqa: BLE001 - the connection dies with the daemon
            pass
    t = threading.Thread(target=go, daemon=True)
    t.start()
    return t


def timed(d, method, path, body):
    t0 = time.monotonic()
    status, _, data = d.request(method, path, body, CSV, timeout=120)
    check_eq(status, 200, "%s %s: %r" % (method, path, data[:300]))
    return time.monotonic() - t0


@test
def kill9_during_large_month_put():
    version_a = month_csv(200, 10, seed=1)
    version_b = month_csv(20000, 100, seed=2)
    with Daemon() as d:
        timed(d, "PUT", "/v1/panels/" + MONTH, version_b)
        sum_b = checksum(d, MONTH)
        duration = timed(d, "PUT", "/v1/panels/" + MONTH, version_a)
        duration = max(duration, timed(d, "PUT", "/v1/panels/" + MONTH, version_b))
        timed(d, "PUT", "/v1/panels/" + MONTH, version_a)
        sum_a = checksum(d, MONTH)
        check(sum_a != sum_b)
        seen = set()
        # Kill points spread over upload, parse and the SQLite write.
        for frac in (0.05, 0.25, 0.5, 0.7, 0.85, 1.0, 1.3):
            t = fire(d, "PUT", "/v1/panels/" + MONTH, version_b)
            time.sleep(duration * frac)
            d.kill9()
            t.join(5)
            check_eq(integrity_ok(d.db_path), "ok", "integrity after kill at %.2f" % frac)
            d.start()
            got = checksum(d, MONTH)
            check(got in (sum_a, sum_b), "month is neither A nor B after kill at %.2f" % frac)
            seen.add("A" if got == sum_a else "B")
            if got == sum_b:  # back to A so the next kill can tear A -> B again
                timed(d, "PUT", "/v1/panels/" + MONTH, version_a)
        print("kill9_during_large_month_put: saw versions %s" % sorted(seen))


@test
def kill9_during_bulk_import():
    months = ["2019-%02d" % m for m in range(1, 13)]
    old = long_csv(months, 100, 5, seed=3)
    new = long_csv(months, 3000, 40, seed=4)
    with Daemon() as d:
        timed(d, "POST", "/v1/import", new)
        sums_new = [checksum(d, m) for m in months]
        duration = timed(d, "POST", "/v1/import", old)
        duration = max(duration, timed(d, "POST", "/v1/import", new))
        timed(d, "POST", "/v1/import", old)
        sums_old = [checksum(d, m) for m in months]
        for frac in (0.1, 0.4, 0.7, 0.9, 1.2):
            t = fire(d, "POST", "/v1/import", new)
            time.sleep(duration * frac)
            d.kill9()
            t.join(5)
            check_eq(integrity_ok(d.db_path), "ok", "integrity after kill at %.2f" % frac)
            d.start()
            got = [checksum(d, m) for m in months]
            check(got in (sums_old, sums_new),
                  "months are a mix of old and new after kill at %.2f" % frac)
            if got == sums_new:
                timed(d, "POST", "/v1/import", old)


if __name__ == "__main__":
    run()
