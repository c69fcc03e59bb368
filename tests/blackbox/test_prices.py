"""Black-box tests of daily bars and the panels built from them: PUT /v1/prices,
GET /v1/prices and POST /v1/panels/build against the real daemon, with good and bad input,
and the shipped real sample end to end."""

import csv
import gzip
import io
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from factord_harness import ROOT, Daemon, check, check_eq, run, test  # noqa: E402

CSV_HEADERS = {"Content-Type": "text/csv"}

# XXX: Jan..Mar 2020, one zero-volume day; YYY lists in February (a late ticker).
# ret(XXX, Feb) = 11 / 10 - 1 = 0.1, ret(XXX, Mar) = 12.1 / 11 - 1 = 0.1,
# ret(YYY, Mar) = 6 / 5 - 1 = 0.2; YYY's first month has no return.
GOOD = (
    "ticker,date,open,high,low,close,volume\n"
    "XXX,2020-01-31,1,2,0.5,10,100\n"
    "YYY,2020-02-03,,,,5,10\n"
    "XXX,2020-02-28,1,2,0.5,11,0\n"
    "XXX,2020-03-31,1,2,0.5,12.1,100\n"
    "YYY,2020-03-02,,,,6,10\n"
)


def put_prices(d, body, headers=CSV_HEADERS):
    return d.json("PUT", "/v1/prices", body, headers)


def build(d, query="", timeout=30):
    """POST /v1/panels/build?query, then the job it queued until it ends: (200, the build's
    counts) when it succeeded, (status, error document) when the request or the job failed."""
    status, doc, headers = d.json("POST", "/v1/panels/build" + query, body=b"",
                                  headers={"Content-Type": "application/json"})
    if status != 202:
        return status, doc
    job = doc["job"]
    check_eq((job["kind"], headers.get("location")), ("build_panels", "/v1/jobs/%d" % job["id"]))
    deadline = time.monotonic() + timeout
    while job["state"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.02)
        job = d.get_json("/v1/jobs/%d" % job["id"])[1]["job"]
    check(job["state"] in ("succeeded", "failed"), "build job never ended: %r" % job)
    if job["state"] == "failed":
        return job["error"]["status"], {"error": job["error"]}
    check_eq(job["progress"], 1.0)
    return 200, job["result"]


def stored_rows(d):
    status, doc = d.get_json("/v1/prices")
    check_eq(status, 200)
    return doc["rows"]


def panel_rows(d, month):
    """The panel of `month` as {id: {column: float or None}} via the CSV representation."""
    status, headers, body = d.request("GET", "/v1/panels/" + month, headers={"Accept": "text/csv"})
    check_eq(status, 200, body)
    rows = {}
    for rec in csv.DictReader(io.StringIO(body.decode())):
        rid = rec.pop("id")
        rows[rid] = {k: (float(v) if v not in ("", "NaN", "nan") else None) for k, v in rec.items()}
    return rows


@test
def put_prices_answers_counts():
    with Daemon() as d:
        status, doc, _ = put_prices(d, GOOD)
        check_eq(status, 200, doc)
        check_eq(doc["rows"], 5)
        check_eq(doc["tickers"], 2)
        check_eq(doc["first_date"], "2020-01-31")
        check_eq(doc["last_date"], "2020-03-31")
        check_eq(doc["zero_volume_days"], 1)
        check_eq(doc["stored"]["rows"], 5)
        # the same bars again replace, they do not add
        status, doc, _ = put_prices(d, GOOD)
        check_eq(status, 200, doc)
        check_eq(stored_rows(d), 5)


def expect_rejected(d, body, code, needle, headers=CSV_HEADERS, status_want=400):
    status, doc, _ = d.json("PUT", "/v1/prices", body, headers)
    err = d.check_error(status, doc, status_want, code)
    check(needle in err["message"], "message %r lacks %r" % (err["message"], needle))


@test
def put_prices_rejects_bad_input_naming_the_line_and_stores_nothing():
    head = "ticker,date,open,high,low,close,volume\nXXX,2020-01-02,1,1,1,1,1\n"
    with Daemon() as d:
        expect_rejected(d, head + "XXX,2020-01-03,1,1,1,0,5\n", "bad_bar", "line 3")
        expect_rejected(d, head + "XXX,2020-01-03,1,1,1,abc,5\n", "bad_bar", "line 3")
        expect_rejected(d, head + "XXX,2020-01-03,1,1,1,2,-5\n", "bad_bar", "line 3")
        expect_rejected(d, head + "XXX,2020-13-03,1,1,1,2,5\n", "bad_bar", "line 3")
        expect_rejected(d, head + "XXX,2020-01-03,1,1,1,2\n", "bad_csv", "line 3")
        expect_rejected(d, head + "YYY,2020-01-02,1,1,1,2,5\nXXX,2020-01-02,1,1,1,2,5\n",
                        "duplicate_bar", "line 4")
        expect_rejected(d, "ticker,date,close\nXXX,2020-01-02,1\n", "bad_csv", "open")
        expect_rejected(d, "", "empty_body", "CSV")
        expect_rejected(d, head, "unsupported_media_type", "text/csv",
                        headers={"Content-Type": "application/json"}, status_want=415)
        check_eq(stored_rows(d), 0)


@test
def build_makes_monthly_panels_from_stored_bars():
    with Daemon() as d:
        check_eq(put_prices(d, GOOD)[0], 200)
        status, doc = build(d)
        check_eq(status, 200, doc)
        check_eq(doc["months"], 3)
        check_eq(doc["first_month"], "2020-01")
        check_eq(doc["last_month"], "2020-03")
        check_eq(doc["panel_rows"], 5)
        check_eq(doc["counts"]["missing_ret"], 2)
        check_eq(doc["counts"]["late_tickers"], 1)
        check_eq(doc["counts"]["zero_volume_days"], 1)
        check("mom12m" in doc["columns"] and "beta" in doc["columns"], doc["columns"])
        march = panel_rows(d, "2020-03")
        check_eq(sorted(march), ["XXX", "YYY"])
        check(abs(march["XXX"]["ret"] - 0.1) < 1e-12, march["XXX"])
        check(abs(march["YYY"]["ret"] - 0.2) < 1e-12, march["YYY"])
        check(abs(march["XXX"]["mom1m"] - 0.1) < 1e-12, march["XXX"])
        # dolvol of March is the log dollar volume of February: 11 * 0 = 0 -> missing
        check(march["XXX"]["dolvol"] is None, march["XXX"])
        check(abs(panel_rows(d, "2020-02")["XXX"]["dolvol"] - math.log(10 * 100)) < 1e-12)


@test
def build_only_new_months_leaves_older_panels_alone():
    with Daemon() as d:
        check_eq(put_prices(d, GOOD)[0], 200)
        check_eq(build(d)[0], 200)
        april = "ticker,date,open,high,low,close,volume\nXXX,2020-04-30,,,,6.05,100\n"
        check_eq(put_prices(d, april)[0], 200)
        status, doc = build(d, "?from=2020-04&to=2020-04")
        check_eq(status, 200, doc)
        check_eq(doc["months"], 1)
        check_eq(doc["first_month"], "2020-04")
        apr = panel_rows(d, "2020-04")
        check(abs(apr["XXX"]["ret"] + 0.5) < 1e-12, apr)
        check_eq(sorted(panel_rows(d, "2020-03")), ["XXX", "YYY"])


@test
def build_rejects_bad_parameters():
    with Daemon() as d:
        status, doc = build(d)
        d.check_error(status, doc, 422, "no_bars")
        check_eq(put_prices(d, GOOD)[0], 200)
        status, doc = build(d, "?from=2020-13")
        err = d.check_error(status, doc, 400, "bad_month")
        check("from" in err["message"], err)
        status, doc = build(d, "?from=2020-03&to=2020-01")
        d.check_error(status, doc, 400, "bad_range")
        status, doc = build(d, "?max_abs_ret=-1")
        d.check_error(status, doc, 400, "bad_parameter")
        status, doc = build(d, "?from=2031-01")
        d.check_error(status, doc, 422, "no_bars")


# ZZZ's close jumps from 1 to 8206 in February 2020 (a data error of the kind real daily
# files carry: a monthly return of +820,500%), then trades normally.
EXTREME = (
    "ticker,date,open,high,low,close,volume\n"
    "ZZZ,2020-01-31,,,,1,100\n"
    "ZZZ,2020-02-28,,,,8206,100\n"
    "ZZZ,2020-03-31,,,,8300,100\n"
    "XXX,2020-01-31,,,,10,100\n"
    "XXX,2020-02-28,,,,11,100\n"
    "XXX,2020-03-31,,,,12.1,100\n"
)


@test
def an_extreme_return_is_capped_by_default_and_reported():
    with Daemon() as d:
        check_eq(put_prices(d, EXTREME)[0], 200)
        status, doc = build(d)
        check_eq(status, 200, doc)
        out = doc["outliers"]
        check_eq((out["action"], out["threshold"], out["count"], out["listed"]), ("cap", 1.0, 1, 1))
        check_eq(out["rows"][0]["id"], "ZZZ")
        check_eq(out["rows"][0]["month"], "2020-02")
        check(abs(out["rows"][0]["ret"] - 8205.0) < 1e-9, out)
        check_eq(out["rows"][0]["stored"], 1.0)
        feb = panel_rows(d, "2020-02")
        check_eq(feb["ZZZ"]["ret"], 1.0)
        check_eq(feb["ZZZ"]["mom1m"], 1.0)
        check(abs(feb["XXX"]["ret"] - 0.1) < 1e-12, feb)
        # the choice and the threshold are parameters
        status, doc = build(d, "?outliers=drop")
        check_eq((status, doc["outliers"]["action"], doc["outliers"]["count"]), (200, "drop", 1))
        check(panel_rows(d, "2020-02")["ZZZ"]["ret"] is None)
        status, doc = build(d, "?outliers=keep")
        check_eq(status, 200, doc)
        check(abs(panel_rows(d, "2020-02")["ZZZ"]["ret"] - 8205.0) < 1e-9)
        status, doc = build(d, "?outliers=cap&max_abs_ret=0.05")
        check_eq(doc["outliers"]["count"], 3, doc)  # ZZZ Feb, XXX Feb and Mar
        check_eq(panel_rows(d, "2020-03")["XXX"]["ret"], 0.05)
        status, doc = build(d, "?outliers=clip")
        err = d.check_error(status, doc, 400, "bad_parameter")
        check("outliers" in err["message"], err)


@test
def pushed_panels_with_an_extreme_return_get_a_warning():
    body = "id,ret,size\nA,0.02,1\nB,8205.0,2\nC,-0.01,3\n"
    with Daemon() as d:
        status, doc, _ = d.json("PUT", "/v1/panels/2020-02", body, CSV_HEADERS)
        check_eq(status, 200, doc)
        check_eq(len(doc["warnings"]), 1, doc)
        w = doc["warnings"][0]
        check_eq((w["code"], w["count"]), ("extreme_returns", 1))
        check_eq((w["rows"][0]["id"], w["rows"][0]["month"], w["rows"][0]["ret"]),
                 ("B", "2020-02", 8205.0))
        check_eq(panel_rows(d, "2020-02")["B"]["ret"], 8205.0)  # stored as given
        status, doc, _ = d.json("PUT", "/v1/panels/2020-03", "id,ret\nA,0.5\n", CSV_HEADERS)
        check_eq((status, doc["warnings"]), (200, []))
        long_csv = "id,date,ret\nA,2020-04,0.1\nB,2020-04,-0.2\nB,2020-05,3.5\n"
        status, doc, _ = d.json("POST", "/v1/import", long_csv, CSV_HEADERS)
        check_eq(status, 200, doc)
        w = doc["warnings"][0]
        check_eq((w["code"], w["count"], w["rows"][0]["id"], w["rows"][0]["month"]),
                 ("extreme_returns", 1, "B", "2020-05"))


@test
def shipped_sample_imports_and_builds():
    path = os.path.join(ROOT, "data", "sample", "daily_ohlcv_sample.csv.gz")
    with open(path, "rb") as f:
        body = gzip.decompress(f.read())
    with Daemon() as d:
        status, doc, _ = put_prices(d, body)
        check_eq(status, 200, doc)
        check_eq(doc["rows"], 190841)
        check_eq(doc["tickers"], 60)
        check_eq(doc["first_date"], "2005-01-03")
        check_eq(doc["last_date"], "2017-10-31")
        status, doc = build(d, timeout=120)
        check_eq(status, 200, doc)
        check_eq(doc["months"], 154)
        check_eq(doc["counts"]["late_tickers"], 3)
        # AIG 2009-03 and 2009-08, F 2009-04: capped at 100% by default, and listed
        check_eq(doc["counts"]["ret_over_100pct"], 3)
        check_eq(doc["outliers"]["action"], "cap")
        check_eq(doc["outliers"]["count"], 3)
        check_eq(sorted((r["id"], r["month"]) for r in doc["outliers"]["rows"]),
                 [("AIG", "2009-03"), ("AIG", "2009-08"), ("F", "2009-04")])
        check_eq(panel_rows(d, "2009-04")["F"]["ret"], 1.0)
        last = panel_rows(d, "2017-10")
        check_eq(len(last), 60)
        betas = [r["beta"] for r in last.values() if r["beta"] is not None]
        check_eq(len(betas), 60)
        # an equal-weighted market of the universe: its members' betas average about 1
        check(0.8 < sum(betas) / len(betas) < 1.2, betas)


if __name__ == "__main__":
    run()
