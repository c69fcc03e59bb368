"""Black-box tests of partial months: daily bars that end in the middle of a month make the
built panel of that month partial (docs/characteristics.md: its last bar more than 4 days
before the month's end), and every answer that uses its returns as realised says so:
the build's counts, the panel listing, the deciles of the month before (realised_through
and a partial_month warning) and the evaluation over it. A rebuild once the month is
complete clears the flag."""

import os
import sys
import time
from datetime import date, timedelta

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from factord_harness import Daemon, check, check_eq, run, test  # noqa: E402

N = 40
COLUMNS = ["mom1m", "maxret", "retvol", "ill", "dolvol"]
CSV = {"Content-Type": "text/csv"}
JSON = {"Content-Type": "application/json"}


def bars_csv(first, last, seed=3, start_prices=None):
    """Business-day bars of N tickers from first to last (dates), random walks; returns the
    CSV and the last closes (to continue the walk)."""
    rng = np.random.default_rng(seed)
    close = np.array(start_prices if start_prices is not None else rng.uniform(10, 100, N))
    vol = rng.uniform(0.01, 0.03, N)
    lines = ["ticker,date,open,high,low,close,volume"]
    d = first
    while d <= last:
        if d.weekday() < 5:
            close = close * np.exp(rng.normal(0.0003, vol))
            for i in range(N):
                lines.append("T%02d,%s,,,,%.6f,%d" % (i, d.isoformat(), close[i],
                                                      rng.integers(1000, 100000)))
        d += timedelta(days=1)
    return "\n".join(lines) + "\n", close


def build(d):
    status, doc, _ = d.json("POST", "/v1/panels/build", b"", JSON)
    check_eq(status, 202, repr(doc))
    return wait_job(d, doc["job"]["id"])["result"]


def wait_job(d, job_id, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = d.get_json("/v1/jobs/%d" % job_id)[1]["job"]
        if job["state"] in ("succeeded", "failed", "cancelled"):
            check_eq(job["state"], "succeeded", repr(job))
            return job
        time.sleep(0.05)
    raise AssertionError("job %d did not finish" % job_id)


def partial_of(d):
    return {p["month"]: p["partial_through"] for p in d.get_json("/v1/panels")[1]["panels"]}


@test
def a_partial_month_is_flagged_wherever_its_returns_are_used_as_realised():
    body, closes = bars_csv(date(2015, 1, 2), date(2017, 6, 9))
    with Daemon() as d:
        check_eq(d.json("PUT", "/v1/prices", body, CSV)[0], 200)
        result = build(d)
        check_eq(result["partial"], [{"month": "2017-06", "through": "2017-06-09"}])
        check_eq(result["counts"]["partial_months"], 1)
        flags = partial_of(d)
        check_eq((flags["2017-06"], flags["2017-05"]), ("2017-06-09", None))

        status, doc, _ = d.json("POST", "/v1/models", {"name": "ip", "kind": "ipca", "k": 1,
                                                       "columns": COLUMNS})
        check_eq(status, 201, repr(doc))
        status, doc, _ = d.json("POST", "/v1/models/ip/train",
                                {"train": {"from": "2015-03", "to": "2016-12"}})
        check_eq(status, 202, repr(doc))
        wait_job(d, doc["job"]["id"])

        status, dec = d.get_json("/v1/models/ip/deciles?month=2017-05&n=5")
        check_eq(status, 200, repr(dec))
        check_eq((dec["realised"], dec["realised_through"]), (True, "2017-06-09"))
        check_eq([(w["code"], w["month"]) for w in dec["warnings"]],
                 [("partial_month", "2017-06")])
        status, dec = d.get_json("/v1/models/ip/deciles?month=2017-04&n=5")
        check_eq((status, dec["realised_through"], dec["warnings"]), (200, None, []))

        status, ev = d.get_json("/v1/models/ip/evaluation?from=2017-01&to=2017-06")
        check_eq(status, 200, repr(ev))
        partial = [w for w in ev["warnings"] if w["code"] == "partial_month"]
        check_eq([(w["month"], w["through"]) for w in partial], [("2017-06", "2017-06-09")])
        status, ev = d.get_json("/v1/models/ip/evaluation?from=2017-01&to=2017-05")
        check_eq([w for w in ev["warnings"] if w["code"] == "partial_month"], [])

        # The rest of June arrives: a rebuild makes the month complete.
        rest, _ = bars_csv(date(2017, 6, 12), date(2017, 6, 30), seed=4, start_prices=closes)
        check_eq(d.json("PUT", "/v1/prices", rest, CSV)[0], 200)
        status, doc, _ = d.json("POST", "/v1/panels/build?from=2017-06", b"", JSON)
        check_eq(status, 202, repr(doc))
        check_eq(wait_job(d, doc["job"]["id"])["result"]["partial"], [])
        check_eq(partial_of(d)["2017-06"], None)


if __name__ == "__main__":
    run()
