"""The dashboard at /ui in headless Chromium (Debian's chromium driven by puppeteer-core,
installed by tests/ui/setup into a cache outside the tree), against a daemon with
authentication required, holding the demo's models (the reduced demo on the shipped sample), a second IPCA version and two
finished backtests. The page must load, ask for a token (401), take the read-only token typed
into it and send it on every API call, draw every chart with data (Chart.js's datasets hold finite points and the
canvases hold pixels in the datasets' colours), fill the models, summary and comparison
tables with the daemon's numbers, and leave a screenshot in build/artifacts/ui.png
($FACTORD_ARTIFACTS overrides the directory). Also: the static routes themselves (ETag and
304, HEAD, unknown files, Debian's Chart.js served from disk)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from factord_harness import ROOT, Daemon, check, check_eq, run, test  # noqa: E402
from token_wait import new_token  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "clients", "python"))
from factord import Client  # noqa: E402

CHARTJS = "/usr/share/javascript/chart.js/chart.min.js"
ARTIFACTS = os.environ.get("FACTORD_ARTIFACTS", os.path.join(ROOT, "build", "artifacts"))
COLS = ["mom1m", "mom6m", "mom12m", "beta", "idiovol", "dolvol"]


def demo_daemon():
    """A daemon after the reduced demo, with demo-ipca v2 (labelled stable) and backtests."""
    d = Daemon(auth=True)
    env = dict(os.environ, FACTORD_URL=f"http://127.0.0.1:{d.port}", FACTORD_DEMO_SMALL="1",
               FACTORD_TOKEN=d.token)
    r = subprocess.run([sys.executable, os.path.join(ROOT, "clients", "demo.py")],
                       capture_output=True, text=True, env=env, timeout=900)
    check_eq(r.returncode, 0, r.stdout[-2000:] + r.stderr[-2000:])
    c = Client(f"http://127.0.0.1:{d.port}", token=d.token)
    c.train("demo-ipca", ("2008-02", "2011-12"), valid=("2012-01", "2013-12"))
    c.set_label("demo-ipca", "stable", 2)
    ids = [c.submit_backtest({
        "name": f"ui-ipca-k{k}", "start": "2006-02",
        "model": {"kind": "ipca", "k": k, "hyper": {}, "columns": COLS,
                  "excess_returns": True, "add_constant": True},
        "windows": {"train": 36, "valid": 12, "test": 12, "step": 12}})["id"] for k in (1, 3)]
    for i in ids:
        check_eq(c.wait_job(i, timeout=600)["state"], "succeeded")
    return d, c


def drive(url, token, shot):
    node, chromium = shutil.which("node"), shutil.which("chromium")
    check(node and chromium, "node and chromium are installed (.ci/install-deps installs them)")
    setup = subprocess.run([os.path.join(ROOT, "tests", "ui", "setup")], capture_output=True,
                           text=True, timeout=900)
    check_eq(setup.returncode, 0, setup.stderr[-2000:])
    profile = tempfile.mkdtemp(prefix="factord-chromium-")
    try:
        r = subprocess.run([node, os.path.join(ROOT, "tests", "ui", "dashboard.js"), url, token,
                            shot, profile], capture_output=True, text=True, timeout=300,
                           env=dict(os.environ, FACTORD_UI_MODULES=setup.stdout.strip(),
                                    CHROMIUM=chromium))
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    check_eq(r.returncode, 0, r.stderr[-3000:])
    return json.loads(r.stdout.strip().splitlines()[-1])


@test
def dashboard_renders_models_charts_and_backtests_in_chromium():
    d, c = demo_daemon()
    with d:
        os.makedirs(ARTIFACTS, exist_ok=True)
        shot = os.path.join(ARTIFACTS, "ui.png")
        if os.path.exists(shot):
            os.unlink(shot)
        token = new_token(d, "dashboard", "read")  # a dashboard needs no more
        seen = drive(f"http://127.0.0.1:{d.port}", token, shot)
        # Authentication is on: the page first asks for a token, then works with it.
        check_eq(seen["first_state"], "need-token", seen["first_status"])
        check("401" in seen["first_status"] and "token" in seen["first_status"],
              seen["first_status"])
        check_eq(seen["state"], "ready", f"page state; status {seen['status']!r}, "
                 f"console {seen['console']}")
        unauthorised = [c for c in seen["console"] if "401" in c]
        check_eq([c for c in seen["console"] if c not in unauthorised], [],
                 "no errors in the page's console but the first, tokenless 401s")
        check_eq(seen["failed"], [], "no failed requests")
        check_eq(seen["stored_token"], token, "token kept in sessionStorage")
        before, after = seen["auth"][:seen["auth_before_token"]], seen["auth"][seen["auth_before_token"]:]
        check(before and all(h is None for _, h in before), f"no token before: {before[:3]}")
        check(after and all(h == f"Bearer {token}" for _, h in after),
              f"every API call after the token was entered carries it: {after[:5]}")

        # The first model with a stable label, that version, and the months after its
        # validation window up to the last stored panel.
        chosen = seen["chosen"]
        last = c.panels().index[-1].strftime("%Y-%m")
        check_eq(chosen, {"model": "demo-ipca", "version": "2", "from": "2014-01", "to": last})

        rows = seen["model_rows"]
        listed = {(r[0], r[3], r[4]) for r in rows}
        for want in [("demo-ca2", "1", "ready"), ("demo-ipca", "1", "ready"),
                     ("demo-ipca", "2", "ready")]:
            check(want in listed, f"{want} in the models table: {sorted(listed)}")
        check(any(r[0] == "demo-ipca" and r[3] == "2" and r[5] == "stable" for r in rows),
              "the stable label is shown on demo-ipca v2")

        charts = seen["charts"]
        check_eq(sorted(charts), ["chart-factors", "chart-ic", "chart-ls"])
        ev = c.evaluation("demo-ipca", chosen["from"], chosen["to"], version=2, series="monthly")
        for name, chart in charts.items():
            check(chart["datasets"], f"{name} has datasets")
            for ds in chart["datasets"]:
                check(ds["finite"] >= 12, f"{name}/{ds['label']}: {ds['finite']} finite points")
            check(chart["inked"] > 500, f"{name}: {chart['inked']} pixels drawn in the line colours")
        check_eq(charts["chart-ls"]["labels"], ev.months)
        ls = charts["chart-ls"]["datasets"]
        check(abs(ls[0]["last"] - ev.monthly["ew_ls"].sum()) < 1e-12, "gross LS cumulates the series")
        check(abs(ls[1]["last"] - ev.monthly["ew_ls_net"].sum()) < 1e-12, "net LS cumulates the series")
        check(ls[1]["last"] < ls[0]["last"], "costs lower the cumulative return")
        check_eq([x["label"] for x in charts["chart-ic"]["datasets"]],
                 ["IC (Pearson)", "rank IC (Spearman)"])
        check_eq(sorted(x["label"] for x in charts["chart-factors"]["datasets"]),
                 ["v1 f1", "v1 f2", "v1 f3", "v2 f1", "v2 f2", "v2 f3"])  # every version
        f2 = c.factors("demo-ipca", chosen["from"], chosen["to"], version=2)
        first = next(x for x in charts["chart-factors"]["datasets"] if x["label"] == "v2 f1")
        check(abs(first["last"] - f2["f_1"].sum()) < 1e-12, "factor lines cumulate f_t")

        summary = dict((r[0], r[1]) for r in seen["summary"])
        check_eq(summary["months"], str(ev.months))
        check_eq(summary["total R² (stocks)"], f"{100 * ev.r2['total_r']:.2f}%")

        tables = seen["compare_tables"]
        check(len(tables) >= 5, f"comparison tables: {[t['caption'] for t in tables]}")
        check_eq(tables[0]["caption"], "Total R^2, stocks (r)")
        cmp = c.get("/v1/compare", {"backtests": ",".join(
            str(b) for b in sorted(c.backtests().index))})
        want = [f"{100 * x:.2f}%" for x in cmp["tables"][0]["values"][0]]
        check_eq(tables[0]["cells"], want)

        check(os.path.getsize(shot) > 20000, f"screenshot {shot} written")


@test
def ui_routes_serve_embedded_files_and_debians_chartjs():
    with Daemon() as d:
        status, headers, body = d.request("GET", "/ui")
        check_eq(status, 200)
        check(headers["content-type"].startswith("text/html"), headers["content-type"])
        check(b"/ui/chart.js" in body and b"/ui/app.js" in body, "page loads its scripts")
        etag = headers["etag"]
        check_eq(d.request("GET", "/ui", headers={"If-None-Match": etag})[0], 304)
        check_eq(d.request("HEAD", "/ui/app.js")[0], 200)
        status, headers, body = d.request("GET", "/ui/app.js")
        check(headers["content-type"].startswith("text/javascript"), headers["content-type"])
        check(b"sessionStorage" in body and b"Authorization" in body, "app.js takes a token")
        status, headers, body = d.request("GET", "/ui/chart.js")
        with open(CHARTJS, "rb") as f:
            check_eq(body, f.read(), "Chart.js is Debian's file, byte for byte")
        check_eq(d.request("GET", "/ui/chart.js", headers={"If-None-Match": headers["etag"]})[0], 304)
        status, _, body = d.request("GET", "/ui/nothing.js")
        d.check_error(status, body, 404, "not_found")
        check_eq(d.request("POST", "/ui")[0], 405)
    with Daemon(auth=True) as d:  # open routes: the page asks for the token itself
        d.token = None
        for path in ("/ui", "/ui/", "/ui/app.js", "/ui/style.css", "/ui/chart.js"):
            check_eq(d.request("GET", path)[0], 200, path)
        status, _, body = d.request("GET", "/v1/models")
        d.check_error(status, body, 401)


if __name__ == "__main__":
    run()
