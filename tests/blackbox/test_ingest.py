"""Black-box tests of the data API: panels (CSV/JSON in and out), benchmark factors (raw
Ken French, clean CSV, JSON) and the bulk long-CSV import, with every bad input answered
by a 4xx naming the line or field, and nothing stored changed by it."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from factord_harness import Daemon, check, check_eq, run, test  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FRENCH = os.path.join(ROOT, "tests", "data", "french")
CSV = {"Content-Type": "text/csv"}
MONTH_A = "id,ret,mktcap,mom12,size\nAAPL,0.01,2000,0.3,1.5\nMSFT,,1000,NaN,-0.5\n"


def put_csv(d, path, text, headers=CSV):
    return d.request("PUT", path, text, headers)


def get_raw(d, path, accept=None):
    status, _, body = d.request("GET", path, headers={"Accept": accept} if accept else None)
    return status, body


def store_a(d, month="2020-01"):
    status, hdrs, body = put_csv(d, "/v1/panels/" + month, MONTH_A)
    check_eq(status, 200, "storing version A: %r" % body)
    return get_raw(d, "/v1/panels/" + month)


def expect_error(d, method, path, body, headers, status, code, needle=None):
    st, _, data = d.request(method, path, body, headers)
    err = d.check_error(st, data, status, code)
    if needle is not None:
        check(needle in err["message"], "message %r lacks %r" % (err["message"], needle))
    return err


@test
def panel_csv_put_get_round_trip():
    with Daemon(validate=True) as d:
        status, doc, _ = d.json("PUT", "/v1/panels/2020-01", MONTH_A, CSV)
        check_eq(status, 200)
        check_eq(doc, {"month": "2020-01", "rows": 2, "columns": 2,
                       "column_names": ["mom12", "size"], "missing": 2, "has_ret": True,
                       "has_mktcap": True, "replaced": False, "warnings": []})
        status, got = d.get_json("/v1/panels/2020-01")
        check_eq(status, 200)
        check_eq(got, {"month": "2020-01", "columns": ["id", "ret", "mktcap", "mom12", "size"],
                       "rows": [["AAPL", 0.01, 2000, 0.3, 1.5],
                                ["MSFT", None, 1000, None, -0.5]]})
        status, hdrs, body = d.request("GET", "/v1/panels/2020-01", headers={"Accept": "text/csv"})
        check_eq(status, 200)
        check(hdrs["content-type"].startswith("text/csv"), hdrs["content-type"])
        check_eq(body.decode(), "id,ret,mktcap,mom12,size\nAAPL,0.01,2000,0.3,1.5\n"
                                "MSFT,,1000,,-0.5\n")
        status, doc, _ = d.json("PUT", "/v1/panels/2020-01", "id,x\nZ,1\n", CSV)
        check_eq((status, doc["replaced"]), (200, True))
        check_eq(d.get_json("/v1/panels/2020-01")[1]["rows"], [["Z", 1]])


@test
def panel_json_columnar_and_records():
    with Daemon(validate=True) as d:
        body = {"columns": ["id", "ret", "mom12"], "rows": [["A", 0.01, 0.3], ["B", None, -1]]}
        status, doc, _ = d.json("PUT", "/v1/panels/2020-02", body)
        check_eq((status, doc["rows"], doc["missing"]), (200, 2, 1))
        check_eq(d.get_json("/v1/panels/2020-02")[1]["rows"], [["A", 0.01, 0.3], ["B", None, -1]])
        records = {"rows": [{"id": "A", "x": 1}, {"id": "B", "y": 2, "mktcap": 5}]}
        status, doc, _ = d.json("PUT", "/v1/panels/2020-03", records)
        check_eq((status, doc["column_names"], doc["has_mktcap"], doc["has_ret"]),
                 (200, ["x", "y"], True, False))
        check_eq(d.get_json("/v1/panels/2020-03")[1]["rows"],
                 [["A", None, 1, None], ["B", 5, None, 2]])


@test
def panel_ids_filter_list_and_delete():
    with Daemon(validate=True) as d:
        store_a(d, "2020-01")
        store_a(d, "2019-12")
        status, doc = d.get_json("/v1/panels/2020-01?ids=MSFT,NOPE")
        check_eq((status, [r[0] for r in doc["rows"]]), (200, ["MSFT"]))
        status, doc = d.get_json("/v1/panels")
        check_eq(status, 200)
        check_eq([(p["month"], p["rows"], p["missing"]) for p in doc["panels"]],
                 [("2019-12", 2, 2), ("2020-01", 2, 2)])
        status, doc, _ = d.json("DELETE", "/v1/panels/2019-12")
        check_eq(status, 200)
        st, _, body = d.request("GET", "/v1/panels/2019-12")
        d.check_error(st, body, 404, "no_panel")
        st, _, body = d.request("DELETE", "/v1/panels/2019-12")
        d.check_error(st, body, 404, "no_panel")
        check_eq([p["month"] for p in d.get_json("/v1/panels")[1]["panels"]], ["2020-01"])
        st, hdrs, body = d.request("POST", "/v1/panels/2020-01", "x", CSV)
        d.check_error(st, body, 405)


# (body, content type, status, code, text the message must contain)
BAD_PANEL_BODIES = [
    ('{"rows":[\n{"id":"A",}]}', "application/json", 400, "bad_json", "line 2, column"),
    ('{"rows":[{"id":"A","x":"1.5"}]}', "application/json", 400, "bad_number", "column 'x'"),
    ('{"rows":[{"id":"A","x":1e999}]}', "application/json", 400, "bad_json", "line 1"),
    ('{"rows":[{"id":"A"},{"id":"A"}]}', "application/json", 400, "duplicate_id", "rows[1]"),
    ("id,x\nA,1\nB,\"2\n", "text/csv", 400, "bad_csv", "line 3"),
    ("id,x\nA,1\nB,abc\n", "text/csv", 400, "bad_number", "line 3, column 'x'"),
    ("id,x\nA,inf\n", "text/csv", 400, "bad_number", "line 2, column 'x'"),
    ("id,x\nA,1e999\n", "text/csv", 400, "bad_number", "line 2, column 'x'"),
    ("id,x\nA,0x10\n", "text/csv", 400, "bad_number", "line 2"),
    ("id,x\nA,1\nB,2\nA,3\n", "text/csv", 400, "duplicate_id", "line 4"),
    ("id,x,y\nA,1,2\nB,2\n", "text/csv", 400, "ragged_row", "line 3: expected 3 fields, got 2"),
    ("", "text/csv", 400, "empty_body", None),
    ("ticker,x\nA,1\n", "text/csv", 400, "no_id_column", "id"),
    ("id,x,x\nA,1,2\n", "text/csv", 400, "duplicate_column", "'x'"),
    ("id,x\nA,1\n", "application/xml", 415, "unsupported_media_type", "text/csv"),
]


@test
def panel_bad_inputs_change_nothing():
    with Daemon(validate=True) as d:
        before = store_a(d)
        for body, ctype, status, code, needle in BAD_PANEL_BODIES:
            expect_error(d, "PUT", "/v1/panels/2020-01", body, {"Content-Type": ctype},
                         status, code, needle)
            check_eq(get_raw(d, "/v1/panels/2020-01"), before, "after %r" % body)
        for month in ("2020-13", "2020-1", "20201", "abcd-ef", "1899-12"):
            expect_error(d, "PUT", "/v1/panels/" + month, MONTH_A, CSV, 400, "bad_month")
            st, _, body = d.request("GET", "/v1/panels/" + month)
            d.check_error(st, body, 400, "bad_month")
        check_eq([p["month"] for p in d.get_json("/v1/panels")[1]["panels"]], ["2020-01"])


@test
def factors_raw_french_file():
    with Daemon(validate=True) as d:
        with open(os.path.join(FRENCH, "F-F_Research_Data_Factors.csv"), "rb") as f:
            raw = f.read()
        status, doc, _ = d.json("PUT", "/v1/factors?units=percent", raw, CSV)
        check_eq(status, 200, repr(doc))
        check_eq((doc["months"], doc["factors"], doc["first"], doc["last"], doc["format"]),
                 (1200, ["Mkt-RF", "SMB", "HML", "RF"], "1926-07", "2026-06", "french"))
        status, doc = d.get_json("/v1/factors?from=1926-07&to=1926-08")
        check_eq(status, 200)
        check_eq(doc["factors"][0], {"month": "1926-07", "Mkt-RF": 0.0289, "SMB": -0.0255,
                                     "HML": -0.0239, "RF": 0.0022})
        check_eq(len(doc["factors"]), 2)
        status, body = get_raw(d, "/v1/factors?from=2026-06", "text/csv")
        check_eq((status, body.decode()),
                 (200, "date,Mkt-RF,SMB,HML,RF\n2026-06,-0.0107,0.0358,0.0334,0.0029\n"))
        # Momentum adds a factor; the FF3 months are untouched.
        with open(os.path.join(FRENCH, "F-F_Momentum_Factor.csv"), "rb") as f:
            status, doc, _ = d.json("PUT", "/v1/factors?units=percent&format=french", f.read(),
                                    {"Content-Type": "application/octet-stream"})
        check_eq((status, doc["factors"]), (200, ["Mom"]))
        doc = d.get_json("/v1/factors?from=1927-01&to=1927-01")[1]
        check_eq(doc["factors"][0]["Mom"], 0.0057)
        check_eq(doc["factors"][0]["RF"], 0.0025)


@test
def factors_clean_csv_and_json():
    with Daemon(validate=True) as d:
        status, doc, _ = d.json("PUT", "/v1/factors?units=decimal",
                                "date,Mkt-RF,RF\n2020-01,0.01,0.001\n202002,,0.002\n", CSV)
        check_eq((status, doc["format"], doc["months"], doc["missing"]), (200, "csv", 2, 1))
        body = {"units": "percent", "factors": [{"month": "2020-03", "Mkt-RF": -12.5, "RF": 0.1}]}
        status, doc, _ = d.json("PUT", "/v1/factors", body)
        check_eq((status, doc["format"]), (200, "json"))
        doc = d.get_json("/v1/factors")[1]
        check_eq(doc["factors"][-1], {"month": "2020-03", "Mkt-RF": -0.125, "RF": 0.001})
        check_eq(doc["factors"][1]["month"], "2020-02")
        check_eq(doc["factors"][1]["RF"], 0.002)


@test
def factors_bad_inputs_change_nothing():
    with Daemon(validate=True) as d:
        put = d.request("PUT", "/v1/factors?units=decimal", "date,Mkt-RF\n2020-01,0.01\n", CSV)
        check_eq(put[0], 200)
        before = get_raw(d, "/v1/factors")
        cases = [
            ("/v1/factors", "date,Mkt-RF\n2020-02,1\n", CSV, 400, "missing_units", "units"),
            ("/v1/factors?units=bps", "date,Mkt-RF\n2020-02,1\n", CSV, 400, "bad_units", "bps"),
            ("/v1/factors?units=percent", "Preamble only\n\n Annual Factors:\n,Mkt-RF\n 2020,1\n",
             CSV, 400, "no_monthly_block", "monthly"),
            ("/v1/factors?units=percent", "date,Mkt-RF\n2020-02,abc\n", CSV, 400, "bad_number",
             "line 2, column 'Mkt-RF'"),
            ("/v1/factors?units=percent", "date,Mkt-RF\n2020-02,1\n2020-02,2\n", CSV, 400,
             "duplicate_month", "line 3"),
            ("/v1/factors", '{"factors":[{"month":"2020-02","RF":1}]}',
             {"Content-Type": "application/json"}, 400, "missing_units", "units"),
            ("/v1/factors", '{"units":"percent","factors":[\n{"month":}]}',
             {"Content-Type": "application/json"}, 400, "bad_json", "line 2"),
            ("/v1/factors?units=percent", "", CSV, 400, "empty_body", None),
            ("/v1/factors?units=percent", "date,x\n2020-02,1\n", {"Content-Type": "image/png"},
             415, "unsupported_media_type", "text/csv"),
            ("/v1/factors?units=percent&format=xls", "date,x\n2020-02,1\n", CSV, 400,
             "bad_format", "xls"),
        ]
        for path, body, headers, status, code, needle in cases:
            expect_error(d, "PUT", path, body, headers, status, code, needle)
            check_eq(get_raw(d, "/v1/factors"), before, "after %r" % body)
        st, _, body = d.request("GET", "/v1/factors?from=2020-13")
        d.check_error(st, body, 400, "bad_month")


LONG_CSV = ("id,date,ret,mktcap,mom12\n"
            "B,2020-02-29,0.02,200,0.5\n"
            "A,2020-01,0.01,100,0.1\n"
            "A,202003,,100,0.3\n"
            "A,2020-02,0.03,110,\n"
            "B,2020-01-31,-0.01,190,0.4\n")


@test
def bulk_import_many_months():
    with Daemon(validate=True) as d:
        status, doc, _ = d.json("POST", "/v1/import?units=decimal", LONG_CSV, CSV)
        check_eq(status, 200, repr(doc))
        check_eq((doc["months"], doc["rows"], doc["columns"], doc["missing"], doc["first"],
                  doc["last"]), (3, 5, 1, 2, "2020-01", "2020-03"))
        check_eq(d.get_json("/v1/panels/2020-02")[1]["rows"],
                 [["B", 0.02, 200, 0.5], ["A", 0.03, 110, None]])
        status, doc, _ = d.json("PUT", "/v1/import?units=percent", "id,date,ret\nA,2021-01,2.5\n", CSV)
        check_eq(status, 200)
        check_eq(d.get_json("/v1/panels/2021-01")[1]["rows"], [["A", 0.025]])


@test
def bulk_import_bad_inputs_change_nothing():
    with Daemon(validate=True) as d:
        check_eq(d.request("POST", "/v1/import", LONG_CSV, CSV)[0], 200)
        before = [get_raw(d, "/v1/panels/2020-0%d" % m) for m in (1, 2, 3)]
        listing = d.get_json("/v1/panels")[1]
        cases = [
            (LONG_CSV.replace("A,2020-01,0.01", "X,2020-01,0.01") + "C,2020-04,1,1,1\nC,2020-04,1,1,1\n",
             CSV, 400, "duplicate_id", "line 8"),
            (LONG_CSV + "C,2020-13,1,1,1\n", CSV, 400, "bad_date", "line 7"),
            (LONG_CSV + "C,2020-04,1,1\n", CSV, 400, "ragged_row", "line 7"),
            (LONG_CSV + "C,2020-04,1,1,nope\n", CSV, 400, "bad_number", "line 7, column 'mom12'"),
            ("id,ret\nA,1\n", CSV, 400, "no_date_column", "date"),
            ("", CSV, 400, "empty_body", None),
            (LONG_CSV, {"Content-Type": "application/json"}, 415, "unsupported_media_type", "text/csv"),
        ]
        for body, headers, status, code, needle in cases:
            expect_error(d, "POST", "/v1/import", body, headers, status, code, needle)
        expect_error(d, "POST", "/v1/import?units=bps", LONG_CSV, CSV, 400, "bad_units", "bps")
        check_eq([get_raw(d, "/v1/panels/2020-0%d" % m) for m in (1, 2, 3)], before)
        check_eq(d.get_json("/v1/panels")[1], listing)


if __name__ == "__main__":
    run()
