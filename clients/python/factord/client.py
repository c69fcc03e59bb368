"""The factord client: every call of the HTTP API (README "HTTP API"), answering pandas
objects where the answer is a table.

    from factord import Client
    c = Client()                       # FACTORD_URL, FACTORD_TOKEN from the environment
    c.put_panel("2020-01", df)         # df indexed by id (or with an id column)
    f = c.factors("demo-ipca", "2014-01", "2017-10")     # DataFrame, PeriodIndex x f_1..f_K
    er = c.expected_returns("demo-ipca", "2017-10")      # Series indexed by id

Months are 'YYYY-MM' strings, pandas Periods or Timestamps. `version` is a number or a
label ("stable"); None means the latest ready version. Errors raise FactordError with
.status, .code and .message. The raw calls (get, post, put, delete, request) return the
daemon's JSON as dicts and need no pandas."""
import time

from . import frames
from .frames import month_text
from .transport import FactordError, Transport

JOB_DONE = ("succeeded", "failed", "cancelled")


class JobFailed(FactordError):
    """A job that ended failed or cancelled: .job is its last state, .code and .message the
    job's error; .status is 0 (the HTTP calls succeeded, the work did not)."""

    def __init__(self, job):
        err = job.get("error") or {}
        if not isinstance(err, dict):
            err = {"code": "job_failed", "message": str(err)}
        super().__init__(0, err.get("code") or f"job_{job.get('state')}", err.get("message", ""))
        self.job = job

    def __str__(self):
        return (f"job {self.job.get('id')} ({self.job.get('kind')}) {self.job.get('state')}: "
                f"{self.code}: {self.message}")


class Client:
    def __init__(self, url=None, token=None, timeout=600):
        self.http = Transport(url, token, timeout)
        self.url = self.http.url

    # -- raw calls: the daemon's JSON ----------------------------------------------------
    def request(self, method, path, body=None, content_type=None, accept="application/json",
                params=None):
        return self.http.request(method, path, body, content_type, accept, params)

    def get(self, path, params=None, accept="application/json"):
        return self.http.request("GET", path, params=params, accept=accept)

    def post(self, path, body=None, params=None, content_type=None):
        return self.http.request("POST", path, body, content_type, params=params)

    def put(self, path, body=None, params=None, content_type=None):
        return self.http.request("PUT", path, body, content_type, params=params)

    def delete(self, path, params=None):
        return self.http.request("DELETE", path, params=params)

    def put_file(self, path, filename, content_type="text/csv", method="PUT", params=None):
        """Uploads a file as the body (a *.gz file is sent compressed, Content-Encoding: gzip)."""
        return self.http.upload(method, path, filename, content_type, params)

    def job(self, job_id):
        return self.get(f"/v1/jobs/{job_id}")["job"]

    def wait_job(self, job_id, progress=None, poll=0.5, timeout=None, check=False):
        """Polls a job until it ends, calling progress(job) on every poll; returns the job.
        check=True raises JobFailed unless it succeeded; timeout (s) raises TimeoutError."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self.job(job_id)
            if progress:
                progress(job)
            if job["state"] in JOB_DONE:
                if check and job["state"] != "succeeded":
                    raise JobFailed(job)
                return job
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {job['state']} after {timeout} s")
            time.sleep(poll)

    def ready(self):
        return self.get("/readyz")

    # -- data ----------------------------------------------------------------------------
    def put_panel(self, month, df):
        """Stores one month's panel (replacing it) from a DataFrame indexed by security id
        (or with an `id` column); `ret` and `mktcap` columns are special, the others
        characteristics; NaN is missing."""
        return self.put(f"/v1/panels/{month_text(month)}", frames.panel_body(df))

    def panel(self, month):
        """A stored month's panel as a DataFrame indexed by id."""
        doc = self.get(f"/v1/panels/{month_text(month)}")
        pd = frames.pandas()
        df = pd.DataFrame(doc["rows"], columns=doc["columns"]).set_index("id")
        df.attrs["month"] = doc.get("month")
        return df.astype(float)

    def panels(self):
        """The stored months: a DataFrame with a monthly PeriodIndex (rows, missing, ...)."""
        return frames.frame_by_month(self.get("/v1/panels")["panels"])

    def delete_panel(self, month):
        return self.delete(f"/v1/panels/{month_text(month)}")

    def import_long(self, df, units="decimal"):
        """Bulk import of a long DataFrame (columns id, date, ret, mktcap, characteristics;
        one row per security and month): all months or none."""
        return self.post("/v1/import", frames.long_csv(df), params={"units": units},
                         content_type="text/csv")

    def put_factors(self, df, units="decimal"):
        """Benchmark factors from a DataFrame indexed by month (columns Mkt-RF, SMB, ..., RF)."""
        return self.put("/v1/factors", frames.factors_body(df, units))

    def benchmark_factors(self):
        """Stored benchmark factors: a DataFrame with a monthly PeriodIndex."""
        return frames.frame_by_month(self.get("/v1/factors")["factors"]).astype(float)

    def put_prices(self, filename):
        """Daily bars from a CSV file (ticker,date,open,high,low,close,volume; *.gz too)."""
        return self.put_file("/v1/prices", filename, "text/csv")

    def build_panels(self, wait=True, progress=None):
        """Builds monthly panels from the stored daily bars. Waits for the build when the
        daemon runs it as a job (202) and returns the build's summary."""
        out = self.post("/v1/panels/build")
        job = (out or {}).get("job") if isinstance(out, dict) else None
        if job and wait:
            done = self.wait_job(job["id"], progress=progress, check=True)
            return done.get("result") or done
        return out

    # -- models and versions ---------------------------------------------------------------
    def models(self):
        """Declared models: a DataFrame indexed by name."""
        return frames.by_key_frame(self.get("/v1/models")["models"], "name")

    def model(self, name):
        return self.get(f"/v1/models/{name}")["model"]

    def create_model(self, name, kind, k, columns=None, hyper=None, **spec):
        """Declares a model (spec keys as POST /v1/models: excess_returns, add_constant, ...)."""
        body = dict(spec, name=name, kind=kind, k=k, hyper=hyper or {})
        if columns is not None:
            body["columns"] = list(columns)
        return self.post("/v1/models", body)["model"]

    def delete_model(self, name):
        return self.delete(f"/v1/models/{name}")

    def train(self, model, train, valid=None, wait=True, progress=None):
        """Trains a new version on train=(from, to) [valid=(from, to)]. With wait, returns
        the finished job (raising JobFailed if it failed); otherwise the queued job."""
        body = {"train": {"from": month_text(train[0]), "to": month_text(train[1])}}
        if valid:
            body["valid"] = {"from": month_text(valid[0]), "to": month_text(valid[1])}
        job = self.post(f"/v1/models/{model}/train", body)["job"]
        return self.wait_job(job["id"], progress=progress, check=True) if wait else job

    def versions(self, model):
        """A model's versions: a DataFrame indexed by version (state, train, valid, ...)."""
        return frames.by_key_frame(self.get(f"/v1/models/{model}/versions")["versions"],
                                   "version")

    def labels(self, model):
        """{label: version}."""
        doc = self.get(f"/v1/models/{model}/labels")
        return {lab["label"]: lab["version"] for lab in doc.get("labels", [])}

    def set_label(self, model, label, version):
        return self.put(f"/v1/models/{model}/labels/{label}", {"version": version})

    # -- scoring -------------------------------------------------------------------------
    def factors(self, model, from_, to=None, version=None):
        """Factor realisations f_t: DataFrame, monthly PeriodIndex x f_1..f_K."""
        to = from_ if to is None else to
        return frames.factors_frame(self.get(
            f"/v1/models/{model}/factors",
            {"from": month_text(from_), "to": month_text(to), "version": version}))

    def betas(self, model, month, ids=None, version=None):
        """beta(z_t): DataFrame indexed by id x beta_1..beta_K."""
        return frames.vectors_frame(self.get(f"/v1/models/{model}/betas", {
            "month": month_text(month), "ids": _ids(ids), "version": version}), "beta", "beta")

    def expected_returns(self, model, month, ids=None, version=None):
        """beta(z_t)' lambda_t, the forecast for month t+1: Series indexed by id (.attrs
        holds the forecast month and the lambda estimator)."""
        return frames.scalar_series(self.get(f"/v1/models/{model}/expected-returns", {
            "month": month_text(month), "ids": _ids(ids), "version": version}), "er")

    def deciles(self, model, month=None, from_=None, to=None, n=10, weighting="equal",
                version=None):
        """One month (month=t): a DataFrame of the portfolios (members, return realised in
        t+1), .attrs holding long_short, long_only and the securities' assignment. A range
        (from_, to): the returns realised after each sort, a DataFrame with a monthly
        PeriodIndex of return months x portfolios 1..n, long_short, long_only."""
        q = {"n": n, "weighting": weighting, "version": version}
        if month is not None:
            doc = self.get(f"/v1/models/{model}/deciles", dict(q, month=month_text(month)))
            df = frames.by_key_frame(doc["portfolios"], "portfolio")
            df.attrs = {k: v for k, v in doc.items() if k != "portfolios"}
            df.attrs["long_short"] = doc["long_short"]["return"]
            df.attrs["long_only"] = doc["long_only"]["return"]
            return df
        if from_ is None or to is None:
            raise ValueError("deciles: give month=, or from_= and to=")
        doc = self.get(f"/v1/models/{model}/deciles",
                       dict(q, **{"from": month_text(from_), "to": month_text(to)}))
        rows = [dict({str(i + 1): r for i, r in enumerate(s["returns"])}, month=s["month"],
                     long_short=s["long_short"], long_only=s["long_only"])
                for s in doc["series"]]
        df = frames.frame_by_month(rows).astype(float)
        df.attrs = {k: v for k, v in doc.items() if k != "series"}
        return df

    def score(self, model, df, month=None, version=None):
        """Scores characteristics not stored (a DataFrame as put_panel takes): a DataFrame
        indexed by id with er and beta_1..K."""
        doc = self.post(f"/v1/models/{model}/score", frames.panel_body(df),
                        params={"month": month_text(month), "version": version})
        out = frames.vectors_frame(doc, "beta", "beta")
        out.insert(0, "er", frames.scalar_series(doc, "er"))
        return out

    def evaluation(self, model, from_, to, version=None, series=None, importance=False,
                   n=None, cost=None):
        """Out-of-sample evaluation: an Evaluation with .r2 and .ic (Series), .strategies
        (DataFrame strategy x statistic), .importance (DataFrame, with importance=True),
        .monthly (with series="monthly": DataFrame, PeriodIndex of return months) and .raw."""
        doc = self.get(f"/v1/models/{model}/evaluation", {
            "from": month_text(from_), "to": month_text(to), "version": version,
            "series": series, "importance": 1 if importance else None, "n": n, "cost": cost})
        return Evaluation(doc)

    # -- backtests -----------------------------------------------------------------------
    def backtests(self):
        return frames.by_key_frame(self.get("/v1/backtests")["backtests"], "id")

    def backtest(self, ref):
        return self.get(f"/v1/backtests/{ref}")["backtest"]

    def submit_backtest(self, spec):
        return self.post("/v1/backtests", spec)["backtest"]

    def backtest_returns(self, ref):
        """A finished backtest's stitched monthly returns: DataFrame, monthly PeriodIndex."""
        return frames.frame_by_month(self.get(f"/v1/backtests/{ref}/returns")["returns"])

    def backtest_evaluation(self, ref):
        return Evaluation(self.get(f"/v1/backtests/{ref}/evaluation"))

    def compare(self, backtests, table=None, strategy=None, base=None, rows=None):
        """GET /v1/compare as a DataFrame (one seed-study table with table=, else long form)."""
        text = self.get("/v1/compare", {"backtests": ",".join(map(str, backtests)), "table": table,
                                        "strategy": strategy, "base": base, "rows": rows},
                        accept="text/csv")
        return frames.csv_frame(text)


class Evaluation:
    """An evaluation report as pandas tables; .raw is the daemon's JSON."""

    def __init__(self, doc):
        pd = frames.pandas()
        self.raw = doc
        self.months = doc.get("months")
        self.r2 = pd.Series(doc.get("r2", {}), dtype=float, name="r2")
        self.ic = pd.Series(doc.get("ic", {}), dtype=float, name="ic")
        self.strategies = frames.strategies_frame(doc.get("strategies", {}))
        imp = doc.get("importance")
        self.importance = frames.by_key_frame(imp, "characteristic") if imp else None
        series = doc.get("series")
        self.monthly = frames.frame_by_month(series).astype(float) if series is not None else None

    def __repr__(self):
        return (f"Evaluation({self.raw.get('model')} v{self.raw.get('version')}, "
                f"{self.raw.get('from')}..{self.raw.get('to')}, {self.months} months)")


def _ids(ids):
    if ids is None or isinstance(ids, str):
        return ids
    return ",".join(map(str, ids))
