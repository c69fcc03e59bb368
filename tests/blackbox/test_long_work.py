"""Black-box tests that long work never answers failure and commits: a panel build is a job
(202, progress, the counts as its result) however small the request deadline; a request
answered 503 at its deadline changes nothing stored, even when its handler gets to its
commit later; and for a synchronous import the answer and the store always agree."""

import gzip
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from factord_harness import ROOT, Daemon, check, check_eq, run, test  # noqa: E402

SAMPLE = os.path.join(ROOT, "data", "sample", "daily_ohlcv_sample.csv.gz")
JSON = {"Content-Type": "application/json"}


def wait_job(d, job_id, timeout=120):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        job = d.get_json("/v1/jobs/%d" % job_id)[1]["job"]
        seen.append(job["progress"])
        if job["state"] in ("succeeded", "failed", "cancelled"):
            return job, seen
        time.sleep(0.05)
    raise AssertionError("job %d did not finish" % job_id)


@test
def a_build_is_a_job_whatever_the_request_deadline():
    with open(SAMPLE, "rb") as f:
        bars = f.read()
    with Daemon(config="request_timeout = 0.5\n") as d:
        status, doc, _ = d.json("PUT", "/v1/prices", bars, {"Content-Type": "application/gzip"})
        check_eq(status, 200, repr(doc))
        status, doc, headers = d.json("POST", "/v1/panels/build", b"", JSON)
        check_eq(status, 202, repr(doc))
        job = doc["job"]
        check_eq(job["kind"], "build_panels")
        check(job["state"] in ("queued", "running", "succeeded"), job)
        check_eq(headers["location"], "/v1/jobs/%d" % job["id"])
        job, seen = wait_job(d, job["id"])
        check_eq(job["state"], "succeeded", repr(job))
        check(seen == sorted(seen), "progress only grows: %r" % seen)
        check_eq(job["progress"], 1.0)
        check_eq((job["result"]["months"], job["result"]["first_month"]), (154, "2005-01"))
        check_eq(job["result"]["outliers"]["count"], 3)
        status, doc = d.get_json("/v1/panels")
        check_eq(len(doc["panels"]), 154)
        # The job is listed with the others.
        status, doc = d.get_json("/v1/jobs")
        check("build_panels" in [j["kind"] for j in doc["jobs"]], doc)


@test
def a_request_answered_503_at_its_deadline_commits_nothing():
    with Daemon(config="request_timeout = 0.3\n", debug_routes=True) as d:
        status, _, body = d.request("POST", "/v1/debug/late-write?ms=1500&month=1901-01")
        d.check_error(status, body, 503, "timeout")
        time.sleep(2.0)  # the handler has long reached its commit (1.5 s), refused
        status, _, body = d.request("GET", "/v1/panels/1901-01")
        check_eq(status, 404, body)
        # Within its deadline the same write commits and says so.
        status, doc, _ = d.json("POST", "/v1/debug/late-write?ms=0&month=1901-02")
        check_eq((status, doc), (200, {"written": "1901-02"}))
        check_eq(d.request("GET", "/v1/panels/1901-02")[0], 200)


@test
def a_synchronous_import_past_its_deadline_answers_what_it_stored():
    rows = ["id,date,ret,size"]
    for m in range(1, 13):
        rows += ["S%04d,2020-%02d,0.01,%d" % (i, m, i) for i in range(3000)]
    body = gzip.compress(("\n".join(rows) + "\n").encode())
    outcomes = set()
    for timeout in ("0.001", "0.05", "600"):
        with Daemon(config="import_timeout = %s\n" % timeout) as d:
            status, doc, _ = d.json("POST", "/v1/import", body,
                                    {"Content-Type": "text/csv", "Content-Encoding": "gzip"})
            time.sleep(0.5)  # let a late handler reach its commit, if it was to make one
            stored = len(d.get_json("/v1/panels")[1]["panels"])
            if status == 200:
                check_eq((doc["months"], stored), (12, 12))
            else:
                d.check_error(status, doc, 503, "timeout")
                check_eq(stored, 0, "answered 503 but stored %d months" % stored)
            outcomes.add(status)
    check(200 in outcomes, outcomes)


@test
def a_long_write_elsewhere_is_no_warning():
    """Another process holding the write lock past the busy timeout (5 s) is a normal wait:
    the job workers, which look for work every second, must not log warnings about it."""
    with Daemon(config="log_level = info\n") as d:
        other = sqlite3.connect(d.db_path, timeout=30, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO factors (month, name, value) VALUES ('1999-01', 'X', 0)")
        time.sleep(7)
        other.execute("ROLLBACK")
        other.close()
        check_eq(d.get_json("/livez")[0], 200)
        warned = [l for l in d.log().splitlines() if " warn " in l]
        check_eq(warned, [])


if __name__ == "__main__":
    run()
