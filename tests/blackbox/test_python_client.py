"""The Python package in clients/python against the real daemon, imported from the clone
(not installed): DataFrames in (put_panel, import_long, pandas' own split and records
JSON), pandas objects out (monthly PeriodIndex, ids), each checked against the daemon's raw
JSON; errors carry the HTTP status and the error code; FACTORD_URL and FACTORD_TOKEN are
honoured. Also: `pip install` of the package into a fresh venv works offline and installs
factorctl. Tolerances: exact where the same doubles travel both ways (the client writes
JSON with Python's shortest round-trip floats); 5e-11 absolute where pandas' to_json rounds
to its default 10 decimal places."""
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from factord_harness import ROOT, Daemon, check, check_eq, run, test  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "clients", "python"))
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from factord import Client, FactordConnectionError, FactordError, JobFailed  # noqa: E402
from synthetic_frames import CHARS, MONTHS, N, month_frame, synthetic_long  # noqa: E402
from token_wait import new_token  # noqa: E402

def trained_daemon():
    """A daemon holding the synthetic panels (first 4 months by put_panel, the rest by
    import_long) and an IPCA version trained on 2019-02..2020-06."""
    d = Daemon()
    c = Client(f"http://127.0.0.1:{d.port}", token=d.token)
    long = synthetic_long()
    for m in MONTHS[:4]:
        c.put_panel(m, month_frame(long, str(m)))
    c.import_long(long[long["date"] > MONTHS[3]])
    c.create_model("ipca2", "ipca", 2, columns=CHARS, excess_returns=False)
    job = c.train("ipca2", ("2019-02", "2020-06"))
    check_eq(job["state"], "succeeded")
    return d, c, long


@test
def put_panel_and_import_long_round_trip_exactly():
    with Daemon() as d:
        c = Client(f"http://127.0.0.1:{d.port}", token=d.token)
        long = synthetic_long()
        want = month_frame(long, "2019-01")
        r = c.put_panel("2019-01", want)
        check_eq(r["rows"], N)
        got = c.panel("2019-01")
        check_eq(list(got.index), list(want.index))
        check_eq(got.attrs["month"], "2019-01")
        pd.testing.assert_frame_equal(got[want.columns], want, check_exact=True,
                                      check_names=False)
        check(np.isnan(got.loc["S03", "c2"]), "NaN travels as missing")
        # An id column instead of an index, and Timestamp months.
        c.put_panel(pd.Timestamp("2019-02-28"), month_frame(long, "2019-02").reset_index())
        pd.testing.assert_frame_equal(c.panel("2019-02")[CHARS], month_frame(long, "2019-02")[CHARS],
                                      check_exact=True)
        r = c.import_long(long[long["date"] >= MONTHS[2]])
        listed = c.panels()
        check(isinstance(listed.index, pd.PeriodIndex) and listed.index.freqstr == "M",
              "panels() has a monthly PeriodIndex")
        check_eq(list(listed.index), list(MONTHS))
        check_eq(int(listed.loc[pd.Period("2020-12", "M"), "rows"]), N)
        pd.testing.assert_frame_equal(c.panel("2020-12")[CHARS], month_frame(long, "2020-12")[CHARS],
                                      check_exact=True)


@test
def pandas_split_and_records_json_are_accepted_as_pandas_writes_them():
    with Daemon() as d:
        long = synthetic_long()
        want = month_frame(long, "2019-03")
        bodies = {"split_index": want.to_json(orient="split"),
                  "split_id_column": want.reset_index().to_json(orient="split"),
                  "records": want.reset_index().to_json(orient="records")}
        c = Client(f"http://127.0.0.1:{d.port}", token=d.token)
        for what, body in bodies.items():
            status, doc, _ = d.json("PUT", "/v1/panels/2019-03", body.encode(),
                                    {"Content-Type": "application/json"})
            check_eq(status, 200, f"{what}: {doc}")
            got = c.panel("2019-03")
            check_eq(list(got.index), list(want.index), what)
            # pandas' to_json keeps 10 decimal places by default (double_precision=10).
            np.testing.assert_allclose(got[want.columns].to_numpy(), want.to_numpy(),
                                       rtol=0, atol=5.01e-11, equal_nan=True, err_msg=what)
        status, doc, _ = d.json("PUT", "/v1/panels/2019-03", want.to_json().encode(),
                                {"Content-Type": "application/json"})
        err = d.check_error(status, doc, 400, "unknown_field")
        check("orient" in err["message"], f"the default orient is refused with a hint: {err}")


@test
def scoring_calls_answer_pandas_objects_matching_the_raw_json():
    d, c, long = trained_daemon()
    with d:
        f = c.factors("ipca2", "2019-02", "2020-12")
        check(isinstance(f.index, pd.PeriodIndex) and f.index.freqstr == "M", "factors: PeriodIndex")
        check_eq(list(f.columns), ["f_1", "f_2"])
        check_eq(f.index[0], pd.Period("2019-02", "M"))
        raw = c.get("/v1/models/ipca2/factors", {"from": "2019-02", "to": "2020-12"})
        check_eq(f.to_numpy().tolist(), [r["f"] for r in raw["factors"]])
        check_eq(f.attrs["version"], 1)

        b = c.betas("ipca2", "2020-06", ids=["S05", "S01"])
        check_eq(list(b.index), ["S05", "S01"])
        check_eq(b.index.name, "id")
        raw = c.get("/v1/models/ipca2/betas", {"month": "2020-06", "ids": "S05,S01"})
        check_eq(b.to_numpy().tolist(), [s["beta"] for s in raw["securities"]])

        er = c.expected_returns("ipca2", pd.Period("2020-06", "M"))
        check_eq(len(er), N)
        check_eq(er.name, "er")
        check_eq(er.attrs["forecast_month"], "2020-07")
        raw = c.get("/v1/models/ipca2/expected-returns", {"month": "2020-06"})
        check_eq(er.tolist(), [s["er"] for s in raw["securities"]])

        dec = c.deciles("ipca2", "2020-06", n=5)
        check_eq(list(dec.index), [1, 2, 3, 4, 5])
        check_eq(int(dec["members"].sum()), N)
        raw = c.get("/v1/models/ipca2/deciles", {"month": "2020-06", "n": 5})
        check_eq(dec["return"].tolist(), [p["return"] for p in raw["portfolios"]])
        check_eq(dec.attrs["long_short"], raw["long_short"]["return"])

        # The range form, one call: each row equals the single-month sort at t, indexed by
        # the return month t+1; the last month has no t+1 and is skipped.
        series = c.deciles("ipca2", from_="2020-09", to="2020-12", n=5)
        check_eq(list(series.index), list(pd.period_range("2020-10", "2020-12", freq="M")))
        check_eq(list(series.columns), ["1", "2", "3", "4", "5", "long_short", "long_only"])
        check_eq(series.attrs["months_skipped"], 1)
        for t in ["2020-09", "2020-10", "2020-11"]:
            one = c.deciles("ipca2", t, n=5)
            row = series.loc[pd.Period(t, "M") + 1]
            check_eq([row[str(b)] for b in range(1, 6)], one["return"].tolist(), t)
            check_eq((row["long_short"], row["long_only"]),
                     (one.attrs["long_short"], one.attrs["long_only"]), t)
        for q, code in [({"from": "2020-09"}, "missing_parameter"),
                        ({"from": "2020-09", "to": "2020-01"}, "bad_range"),
                        ({"from": "2020-09", "to": "2020-10", "weighting": "cap"}, "bad_parameter")]:
            try:
                c.get("/v1/models/ipca2/deciles", q)
                raise AssertionError(f"{q} accepted")
            except FactordError as e:
                check_eq((e.status, e.code), (400, code), str(q))

        scored = c.score("ipca2", month_frame(long, "2020-06"), month="2020-06")
        np.testing.assert_allclose(scored["er"].to_numpy(), er.to_numpy(), rtol=1e-12)

        ev = c.evaluation("ipca2", "2020-07", "2020-12", importance=True)
        raw = c.get("/v1/models/ipca2/evaluation", {"from": "2020-07", "to": "2020-12",
                                                    "importance": 1})
        check_eq(ev.months, raw["months"])
        check_eq(ev.r2["total_r"], raw["r2"]["total_r"])
        check_eq(ev.ic["rank_mean"], raw["ic"]["rank_mean"])
        check_eq(sorted(ev.strategies.index), ["ew_lo", "ew_ls", "vw_lo", "vw_ls"])
        check_eq(ev.strategies.loc["ew_ls", "sharpe"], raw["strategies"]["ew_ls"]["sharpe"])
        check_eq(sorted(ev.importance.index), sorted(CHARS))
        check(ev.monthly is None, "no series unless asked")
        ev = c.evaluation("ipca2", "2020-07", "2020-12", series="monthly")
        raw = c.get("/v1/models/ipca2/evaluation", {"from": "2020-07", "to": "2020-12",
                                                    "series": "monthly"})
        check_eq(list(ev.monthly.index), list(pd.period_range("2020-07", "2020-12", freq="M")))
        for key in ("ew_ls", "ew_ls_net", "ic", "rank_ic", "total_r2", "pred_r2"):
            check_eq(ev.monthly[key].tolist(), [m[key] for m in raw["series"]], key)

        v = c.versions("ipca2")
        check_eq(list(v.index), [1])
        check_eq(v.loc[1, "state"], "ready")
        c.set_label("ipca2", "stable", 1)
        check_eq(c.labels("ipca2"), {"stable": 1})
        check_eq(c.factors("ipca2", "2019-05", version="stable").to_numpy().tolist(),
                 f.loc[["2019-05"]].to_numpy().tolist())
        check_eq(list(c.models().index), ["ipca2"])


@test
def backtest_calls_answer_monthly_frames_and_comparison_tables():
    d, c, _ = trained_daemon()
    with d:
        ids = []
        for k in (1, 2):
            bt = c.submit_backtest({
                "name": f"bt-k{k}", "start": "2019-02",
                "model": {"kind": "ipca", "k": k, "hyper": {}, "columns": CHARS,
                          "excess_returns": False},
                "windows": {"train": 12, "valid": 0, "test": 4, "step": 4}})
            ids.append(bt["id"])
        for i in ids:
            check_eq(c.wait_job(i, timeout=300)["state"], "succeeded")
        check_eq(sorted(c.backtests().index), sorted(ids))
        rets = c.backtest_returns(ids[0])
        raw = c.get(f"/v1/backtests/{ids[0]}/returns")["returns"]
        check(isinstance(rets.index, pd.PeriodIndex) and rets.index.freqstr == "M", "PeriodIndex")
        check_eq([str(m) for m in rets.index], [r["month"] for r in raw])
        check_eq(rets["ew_ls"].tolist(), [r["ew_ls"] for r in raw])
        ev = c.backtest_evaluation("bt-k1")  # by name too
        check_eq(ev.months, len(raw))
        check_eq(ev.r2["total_r"], c.get(f"/v1/backtests/{ids[0]}/evaluation")["r2"]["total_r"])
        table = c.compare(ids, table="total_r")
        csv = c.get("/v1/compare", {"backtests": ",".join(map(str, ids)), "table": "total_r"},
                    accept="text/csv")
        check_eq(len(table), len(csv.strip().splitlines()) - 1)
        check_eq(list(table.columns), csv.splitlines()[0].split(","))


@test
def errors_carry_the_http_status_and_the_error_code():
    d, c, _ = trained_daemon()
    with d:
        for call, status, code in [
                (lambda: c.factors("nope", "2019-02"), 404, "no_model"),
                (lambda: c.betas("ipca2", "2019-13"), 400, None),
                (lambda: c.put_panel("2019-01", pd.DataFrame({"x": ["a"]}, index=["A"])), 400,
                 "bad_number"),
                (lambda: c.train("ipca2", ("2030-01", "2030-06")), 422, None)]:
            try:
                call()
                raise AssertionError(f"expected HTTP {status}")
            except FactordError as e:
                check_eq(e.status, status, str(e))
                if code:
                    check_eq(e.code, code, str(e))
                check(e.message and str(status) in str(e), f"message names the status: {e}")
        # A training job that fails (a column no panel has): JobFailed with the job's error.
        c.create_model("wide", "ipca", 2, columns=CHARS + ["absent"], excess_returns=False)
        try:
            c.train("wide", ("2019-02", "2020-06"))
            raise AssertionError("training on a missing column succeeded")
        except JobFailed as e:
            check_eq((e.status, e.code, e.job["state"]), (0, "unknown_column", "failed"))
            check(str(e).startswith(f"job {e.job['id']} (train) failed: unknown_column: "), str(e))
            check("absent" in e.message, e.message)
        port = d.port
    try:
        Client(f"http://127.0.0.1:{port}", timeout=5).ready()
        raise AssertionError("a stopped daemon answered")
    except FactordConnectionError as e:
        check_eq((e.status, e.code), (0, "unreachable"))


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen = []

    def do_GET(self):  # noqa: N802 - http.server's naming
        _Recorder.seen.append((self.path, self.headers.get("Authorization")))
        body = json.dumps({"status": "ready"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@test
def factord_url_and_token_come_from_the_environment():
    srv = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    old = {k: os.environ.get(k) for k in ("FACTORD_URL", "FACTORD_TOKEN")}
    try:
        os.environ["FACTORD_URL"] = f"http://127.0.0.1:{srv.server_port}/"
        os.environ["FACTORD_TOKEN"] = "s3cret-token"
        check_eq(Client().ready(), {"status": "ready"})
        os.environ.pop("FACTORD_TOKEN")
        Client().ready()
        Client(token="explicit").ready()
    finally:
        srv.shutdown()
        srv.server_close()
        for k, v in old.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    check_eq(_Recorder.seen, [("/readyz", "Bearer s3cret-token"), ("/readyz", None),
                              ("/readyz", "Bearer explicit")])


@test
def tokens_reach_the_real_daemon_and_refusals_carry_status_and_code():
    with Daemon(auth=True) as d:
        url = f"http://127.0.0.1:{d.port}"
        read = new_token(d, "reader", "read")
        for client, status, code in [(Client(url, token=""), 401, "unauthorized"),
                                     (Client(url, token="fdt_not-a-token"), 401, None)]:
            try:
                client.models()
                raise AssertionError("answered without a valid token")
            except FactordError as e:
                check_eq(e.status, status, str(e))
                if code:
                    check_eq(e.code, code, str(e))
        check(Client(url, token=read).models().empty, "a read token lists the models")
        try:
            Client(url, token=read).create_model("m", "ipca", 1, columns=CHARS)
            raise AssertionError("a read token declared a model")
        except FactordError as e:
            check_eq((e.status, e.code), (403, "insufficient_scope"), str(e))
        old = os.environ.get("FACTORD_TOKEN")
        os.environ["FACTORD_TOKEN"] = read
        try:
            check(Client(url).models().empty, "FACTORD_TOKEN is sent")
        finally:
            os.environ.pop("FACTORD_TOKEN") if old is None else os.environ.__setitem__("FACTORD_TOKEN", old)


@test
def pip_installs_the_package_into_a_fresh_venv_offline():
    try:
        import ensurepip  # noqa: F401 - Debian ships it in python3-venv
    except ImportError:
        print("SKIP pip install: python3-venv is not installed (.ci/install-deps installs it)")
        return
    tmp = tempfile.mkdtemp(prefix="factord-venv-")
    try:
        venv = os.path.join(tmp, "venv")
        subprocess.run([sys.executable, "-m", "venv", venv], check=True, capture_output=True)
        src = os.path.join(tmp, "src")  # a copy: the build must not write into the clone
        shutil.copytree(os.path.join(ROOT, "clients", "python"), src,
                        ignore=shutil.ignore_patterns("__pycache__"))
        env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
        r = subprocess.run([os.path.join(venv, "bin", "pip"), "install", "--no-index", src],
                           capture_output=True, text=True, env=env)
        check_eq(r.returncode, 0, f"pip install: {r.stdout[-2000:]} {r.stderr[-2000:]}")
        r = subprocess.run([os.path.join(venv, "bin", "python"), "-c",
                            "import factord, sys; print(factord.__file__); print(factord.__version__)"],
                           capture_output=True, text=True, cwd=tmp)
        check_eq(r.returncode, 0, r.stderr)
        check(r.stdout.startswith(venv), f"imported from the venv: {r.stdout}")
        check_eq(r.stdout.split()[1], "0.1.0")
        r = subprocess.run([os.path.join(venv, "bin", "factorctl"), "--help"],
                           capture_output=True, text=True)
        check_eq(r.returncode, 0, r.stderr)
        check("monthly" in r.stdout, r.stdout)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run()
