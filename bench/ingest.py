"""Ingest benchmark: PUT of a 5,000 x 100 month as CSV and as JSON (median of several
repeats, client round trip: upload + parse + SQLite write), and a streamed bulk import of a
~200 MB long CSV, reporting the daemon's peak RSS (VmHWM) before and after to show the
import does not hold the file in memory. Prints a small table; never fails on timings.

Usage: /usr/bin/python3 bench/ingest.py [BUILD_DIR]   (default build)
Environment: FACTORD_BENCH_IMPORT_MB (default 200) sizes the bulk import file."""

import json
import os
import random
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
build = sys.argv[1] if len(sys.argv) > 1 else "build"
os.environ["FACTORD_BIN"] = build if os.path.isabs(build) else os.path.join(ROOT, build, "factord")
sys.path.insert(0, os.path.join(ROOT, "tests", "blackbox"))
from factord_harness import Daemon  # noqa: E402

N_ROWS, N_COLS, REPEATS = 5000, 100, 7
CONFIG = "request_timeout = 900\n"


def month_bodies():
    rng = random.Random(42)
    cols = ["c%d" % j for j in range(N_COLS)]
    rows = [["S%05d" % i, round(rng.uniform(-0.3, 0.3), 6), round(rng.uniform(1, 1e5), 2)]
            + [round(rng.gauss(0, 1), 6) for _ in cols] for i in range(N_ROWS)]
    header = ["id", "ret", "mktcap"] + cols
    csv = ",".join(header) + "\n" + "".join(",".join(str(v) for v in r) + "\n" for r in rows)
    js = json.dumps({"columns": header, "rows": rows}, separators=(",", ":"))
    return csv.encode(), js.encode()


def vm(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024.0  # MB
    return float("nan")


def time_put(d, body, ctype):
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        status, _, data = d.request("PUT", "/v1/panels/2020-01", body, {"Content-Type": ctype},
                                    timeout=300)
        times.append(time.perf_counter() - t0)
        if status != 200:
            raise SystemExit("PUT %s failed: %d %r" % (ctype, status, data[:200]))
    return statistics.median(times), min(times)


def write_long_csv(path, target_mb):
    rng = random.Random(7)
    n_chars = 20
    tails = [",%.5f,%.1f," % (rng.uniform(-0.3, 0.3), rng.uniform(1, 1e5))
             + ",".join("%.6f" % rng.gauss(0, 1) for _ in range(n_chars)) + "\n"
             for _ in range(N_ROWS)]
    rows = 0
    months = 0
    with open(path, "w") as f:
        f.write("id,date,ret,mktcap," + ",".join("c%d" % j for j in range(n_chars)) + "\n")
        year, month = 1990, 1
        while f.tell() < target_mb * 1e6:
            key = "%04d-%02d" % (year, month)
            f.write("".join("S%05d,%s%s" % (i, key, tails[i]) for i in range(N_ROWS)))
            rows += N_ROWS
            months += 1
            month += 1
            if month == 13:
                year, month = year + 1, 1
    return rows, months


def bulk_import(target_mb):
    tmp = tempfile.mkdtemp(prefix="factord-bench-")
    path = os.path.join(tmp, "long.csv")
    rows, months = write_long_csv(path, target_mb)
    size = os.path.getsize(path)
    with Daemon(config=CONFIG) as d:
        pid = d.proc.pid
        hwm_before = vm(pid, "VmHWM")
        conn = d.connection(timeout=900)
        t0 = time.perf_counter()
        with open(path, "rb") as f:
            conn.request("POST", "/v1/import?units=decimal", body=f,
                         headers={"Content-Type": "text/csv", "Content-Length": str(size)})
            resp = conn.getresponse()
            data = resp.read()
        elapsed = time.perf_counter() - t0
        conn.close()
        if resp.status != 200:
            raise SystemExit("bulk import failed: %d %r" % (resp.status, data[:300]))
        doc = json.loads(data)
        hwm_after = vm(pid, "VmHWM")
        db_mb = os.path.getsize(d.db_path) / 1e6
    os.unlink(path)
    os.rmdir(tmp)
    return size, rows, doc["months"], elapsed, hwm_before, hwm_after, db_mb


def main():
    csv, js = month_bodies()
    with Daemon(config=CONFIG) as d:
        # One warm-up each so the first measured PUT is a replacement, like the rest.
        time_put(d, csv, "text/csv")
        csv_med, csv_min = time_put(d, csv, "text/csv")
        js_med, js_min = time_put(d, js, "application/json")
        hwm_month = vm(d.proc.pid, "VmHWM")
    print("| ingest (%d x %d month, %d repeats) | body MB | median s | best s | MB/s | rows/s |"
          % (N_ROWS, N_COLS, REPEATS))
    print("|---|---:|---:|---:|---:|---:|")
    for name, body, med, best in (("PUT CSV", csv, csv_med, csv_min),
                                  ("PUT JSON", js, js_med, js_min)):
        mb = len(body) / 1e6
        print("| %s | %.1f | %.3f | %.3f | %.0f | %.0f |" % (name, mb, med, best, mb / med,
                                                              N_ROWS / med))
    print("\ndaemon peak RSS after the month PUTs: %.0f MB" % hwm_month)
    target = float(os.environ.get("FACTORD_BENCH_IMPORT_MB", "200"))
    size, rows, months, elapsed, before, after, db_mb = bulk_import(target)
    print("\n| bulk import (streamed long CSV) | file MB | rows | months | s | MB/s | rows/s |"
          " peak RSS before | peak RSS after |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    print("| POST /v1/import | %.0f | %d | %d | %.1f | %.1f | %.0f | %.0f MB | %.0f MB |"
          % (size / 1e6, rows, months, elapsed, size / 1e6 / elapsed, rows / elapsed, before,
             after))
    print("\n(database after import: %.0f MB; peak RSS growth %.0f MB for a %.0f MB file)"
          % (db_mb, after - before, size / 1e6))


if __name__ == "__main__":
    main()
