"""Black-box tests of rolling out-of-sample backtests (issue 5 parts 1 and 3): an end-to-end
short rolling backtest of IPCA and CA1 whose stitched out-of-sample R^2 is compared with
that of the true data-generating model on the same test months, the comparison tables
(HTTP and `factord report`), resuming after kill -9, cancelling, and bad inputs.

The panel is simulated here with a fixed numpy seed. Characteristics are drawn already
rank-normalised (2 rank / (N + 1) - 1 of a random permutation), so the daemon's own
normalisation leaves them unchanged and the true betas are exactly linear in what the models
see: r_t = z_{t-1}' Gamma f_t + noise."""

import csv
import io
import os
import sqlite3
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from factord_harness import FACTORD_BIN, Daemon, check, check_eq, run, test  # noqa: E402

N, P, K, T = 150, 5, 2, 60
FIRST_YEAR = 2000
WINDOWS = {"train": 24, "valid": 6, "test": 6, "step": 6}
N_WINDOWS = 5             # months 1..59: tests 31-36, 37-42, 43-48, 49-54, 55-59
TEST_MONTHS = list(range(31, 60))


def month_key(i):
    return "%04d-%02d" % (FIRST_YEAR + i // 12, i % 12 + 1)


def simulate(seed=11):
    """Panels [(month, body)] and the true model's total R^2 on TEST_MONTHS."""
    rng = np.random.default_rng(seed)
    gamma = rng.normal(0, 1, (P, K))
    z_prev, sse, sst = None, 0.0, 0.0
    panels = []
    for t in range(T):
        z = np.empty((N, P))
        for j in range(P):
            z[:, j] = 2.0 * (rng.permutation(N) + 1) / (N + 1) - 1.0
        mktcap = np.exp(rng.normal(0, 1, N))
        ret = np.full(N, np.nan)
        if z_prev is not None:
            f = np.array([0.01, 0.005]) + rng.normal(0, 0.05, K)
            fit = z_prev @ gamma @ f
            ret = fit + rng.normal(0, 0.06, N)
            if t in TEST_MONTHS:
                sse += float(np.sum((ret - fit) ** 2))
                sst += float(np.sum(ret ** 2))
        rows = []
        for i in range(N):
            r = None if np.isnan(ret[i]) else float(ret[i])
            rows.append(["S%03d" % i, r, float(mktcap[i])] + [float(v) for v in z[i]])
        panels.append((month_key(t), {"columns": ["id", "ret", "mktcap"] +
                                      ["c%d" % j for j in range(P)], "rows": rows}))
        z_prev = z
    return panels, 1.0 - sse / sst


PANELS, TRUE_R2 = simulate()
CA1_HYPER = {"seed": 1, "epochs": 40, "patience": 40, "lr": 0.01, "batch_months": 4}


def load_panels(d, months=T):
    for month, body in PANELS[:months]:
        status, doc, _ = d.json("PUT", "/v1/panels/" + month, body)
        check(status in (200, 201), "PUT panel %s: %s %r" % (month, status, doc))


def submit(d, name, kind, hyper=None, windows=None, want=202, **extra):
    body = {"name": name, "model": {"kind": kind, "k": K}, "windows": windows or WINDOWS}
    if hyper is not None:
        body["model"]["hyper"] = hyper
    body.update(extra)
    status, doc, headers = d.json("POST", "/v1/backtests", body)
    check_eq(status, want, "submit %s (%r)" % (name, doc))
    bt = doc["backtest"]
    check_eq(headers.get("location"), "/v1/backtests/%d" % bt["id"])
    return bt


def backtest(d, ref):
    status, doc = d.get_json("/v1/backtests/%s" % ref)
    check_eq(status, 200, "GET backtest %s (%r)" % (ref, doc))
    return doc["backtest"]


def wait_backtest(d, bt_id, done=lambda b: b["state"] in ("succeeded", "failed", "cancelled"),
                  timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        b = backtest(d, bt_id)
        if done(b):
            return b
        time.sleep(0.05)
    raise AssertionError("backtest %s never got there: %r" % (bt_id, b))


def versions(d, model):
    status, doc = d.get_json("/v1/models/%s/versions" % model)
    check_eq(status, 200)
    return [v["version"] for v in doc["versions"]]


@test
def rolling_ipca_and_ca1_come_close_to_the_true_model():
    with Daemon() as d:
        load_panels(d)
        lin = submit(d, "lin", "ipca")
        check(lin["state"] in ("queued", "running"), "state %r" % lin["state"])
        check_eq(lin["n_windows"], N_WINDOWS)
        check_eq(len(lin["windows"]), N_WINDOWS)
        check_eq(lin["windows"][0]["train"], {"from": month_key(1), "to": month_key(24)})
        check_eq(lin["windows"][0]["valid"], {"from": month_key(25), "to": month_key(30)})
        check_eq(lin["windows"][0]["test"], {"from": month_key(31), "to": month_key(36)})
        check_eq(lin["windows"][4]["test"], {"from": month_key(55), "to": month_key(59)})
        ae = submit(d, "ae", "ca1", CA1_HYPER)
        check_eq(d.get_json("/v1/jobs/%d" % lin["id"])[1]["job"]["kind"], "backtest")
        for bt in (lin, ae):
            b = wait_backtest(d, bt["id"])
            check_eq(b["state"], "succeeded", "backtest %r" % b)
            check_eq(b["progress"], 1.0)
            check_eq(b["windows_done"], N_WINDOWS)
            check_eq([w["version"] for w in b["windows"]], list(range(1, N_WINDOWS + 1)))
            check_eq(versions(d, bt["name"]), list(range(1, N_WINDOWS + 1)))
            for w in b["windows"]:
                check_eq(w["status"], "completed")
                check(w["metrics"]["r2"]["total_r"] is not None, "window metrics %r" % w)
        reports = {}
        for bt in (lin, ae):
            status, doc = d.get_json("/v1/backtests/%d/evaluation" % bt["id"])
            check_eq(status, 200, "evaluation %r" % doc)
            check_eq(doc["months"], len(TEST_MONTHS))
            check_eq((doc["from"], doc["to"]), (month_key(31), month_key(59)))
            check_eq(doc["windows"], N_WINDOWS)
            reports[bt["name"]] = doc
        r2_lin = reports["lin"]["r2"]["total_r"]
        r2_ae = reports["ae"]["r2"]["total_r"]
        print("true R^2 %.4f, IPCA %.4f, CA1 %.4f" % (TRUE_R2, r2_lin, r2_ae))
        check(abs(r2_lin - TRUE_R2) < 0.05, "IPCA OOS R^2 %.4f vs true %.4f" % (r2_lin, TRUE_R2))
        check(r2_ae > 0 and r2_ae > TRUE_R2 - 0.15,
              "CA1 OOS R^2 %.4f vs true %.4f" % (r2_ae, TRUE_R2))
        check(reports["lin"]["strategies"]["ew_ls"]["sharpe"] is not None, "sharpe")

        # Evaluation as CSV: one row per metric.
        status, headers, body = d.request("GET", "/v1/backtests/lin/evaluation",
                                          headers={"Accept": "text/csv"})
        check_eq(status, 200)
        check(headers["content-type"].startswith("text/csv"), headers)
        rows = {r["metric"]: r["value"] for r in csv.DictReader(io.StringIO(body.decode()))}
        check(abs(float(rows["r2.total_r"]) - r2_lin) < 1e-9, "csv r2 %r" % rows.get("r2.total_r"))
        check("strategies.vw_ls.sharpe_net" in rows, "csv metrics %r" % sorted(rows)[:10])

        # Monthly returns: one row per test month, JSON and CSV.
        status, doc = d.get_json("/v1/backtests/%d/returns" % lin["id"])
        check_eq(status, 200)
        check_eq([r["month"] for r in doc["returns"]], [month_key(t) for t in TEST_MONTHS])
        check_eq(doc["returns"][0]["window"], 0)
        check_eq(doc["returns"][-1]["window"], N_WINDOWS - 1)
        gross = np.array([r["ew_ls"] for r in doc["returns"]])
        net = np.array([r["ew_ls_net"] for r in doc["returns"]])
        check(np.all(net < gross), "net returns are below gross")
        sharpe = np.sqrt(12) * gross.mean() / gross.std(ddof=1)
        check(abs(sharpe - reports["lin"]["strategies"]["ew_ls"]["sharpe"]) < 1e-9,
              "stored series give the reported Sharpe ratio")
        status, _, body = d.request("GET", "/v1/backtests/%d/returns" % lin["id"],
                                    headers={"Accept": "text/csv"})
        lines = body.decode().splitlines()
        check_eq(lines[0], "month,window,ew_ls,ew_ls_net,ew_lo,ew_lo_net,vw_ls,vw_ls_net,"
                           "vw_lo,vw_lo_net,ic,rank_ic")
        check_eq(len(lines), 1 + len(TEST_MONTHS))

        # The comparison: rows = kinds, columns = K, one table per metric.
        status, cmp = d.get_json("/v1/compare?backtests=%d,%d" % (lin["id"], ae["id"]))
        check_eq(status, 200, "compare %r" % cmp)
        check_eq(cmp["rows"], ["ipca", "ca1"])
        check_eq(cmp["columns"], [K])
        tables = {t["name"]: t["values"] for t in cmp["tables"]}
        for name in ("total_r", "total_x", "pred_r", "pred_x", "sharpe_ew_ls", "sharpe_vw_lo",
                     "sharpe_net_ew_ls", "sharpe_net_vw_ls", "jk_p"):
            check(name in tables, "table %s missing: %r" % (name, sorted(tables)))
        check_eq(tables["total_r"], [[r2_lin], [r2_ae]])
        best = max(("lin", "ae"), key=lambda n: reports[n]["strategies"]["ew_ls"]["sharpe"])
        check_eq(cmp["jk"]["base"]["name"], best)
        check_eq(cmp["jk"]["base"]["chosen"], "best")
        check_eq(len(cmp["jk"]["tests"]), 1)
        p = cmp["jk"]["tests"][0]["p_two_sided"]
        check(0 <= p <= 1, "p-value %r" % p)
        check_eq(cmp["spearman"]["matrix"][0][0], 1.0)
        check_eq(cmp["spearman"]["months"][0][1], len(TEST_MONTHS))
        rho = cmp["spearman"]["matrix"][0][1]
        check(-1 <= rho <= 1 and rho == cmp["spearman"]["matrix"][1][0], "spearman %r" % rho)
        status, cmp2 = d.get_json("/v1/compare?backtests=lin,ae&strategy=vw_lo_net&base=lin")
        check_eq(status, 200, "compare by name %r" % cmp2)
        check_eq(cmp2["jk"]["base"], {"id": lin["id"], "name": "lin", "chosen": "given"})
        check_eq(cmp2["jk"]["strategy"], "vw_lo_net")
        status, _, body = d.request("GET", "/v1/compare?backtests=lin,ae&table=total_r",
                                    headers={"Accept": "text/csv"})
        check_eq(status, 200)
        lines = body.decode().splitlines()
        check_eq(lines[0], "kind,K=%d" % K)
        check_eq([line.split(",")[0] for line in lines[1:]], ["ipca", "ca1"])
        check(abs(float(lines[1].split(",")[1]) - r2_lin) < 1e-9, lines)
        status, _, body = d.request("GET", "/v1/compare?backtests=lin,ae",
                                    headers={"Accept": "text/csv"})
        check(body.decode().startswith("table,kind,k,value\n"), body[:80])
        check("total_r,ipca,%d," % K in body.decode(), body[:300])

        # factord report: the same tables from the command line.
        ids = "%d,%d" % (lin["id"], ae["id"])
        out = subprocess.run([FACTORD_BIN, "report", "--db", d.db_path, "--backtests", ids],
                             capture_output=True, text=True, timeout=60)
        check_eq(out.returncode, 0, out.stderr)
        check("## Total R^2, stocks (r) (%)" in out.stdout, out.stdout[:500])
        check("| kind | K=%d |" % K in out.stdout, out.stdout[:500])
        check("| ipca | %.2f |" % (100 * r2_lin) in out.stdout, out.stdout[:800])
        check("Jobson-Korkie-Memmel" in out.stdout and "Spearman" in out.stdout, out.stdout)
        outdir = os.path.join(d.dir, "report")
        out = subprocess.run([FACTORD_BIN, "report", "--db", d.db_path, "--backtests", ids,
                              "--format", "csv", "--out", outdir],
                             capture_output=True, text=True, timeout=60)
        check_eq(out.returncode, 0, out.stderr)
        with open(os.path.join(outdir, "total_r.csv")) as f:
            check_eq(f.read(), "\n".join(lines_of_table(cmp, "total_r")) + "\n")
        check(os.path.exists(os.path.join(outdir, "spearman.csv")), os.listdir(outdir))
        check(os.path.exists(os.path.join(outdir, "jk.csv")), os.listdir(outdir))


def lines_of_table(cmp, name):
    """The wide CSV of one table as factord writes it (17 significant digits)."""
    values = {t["name"]: t["values"] for t in cmp["tables"]}[name]
    lines = ["kind," + ",".join("K=%d" % k for k in cmp["columns"])]
    for row, vals in zip(cmp["rows"], values):
        lines.append(row + "," + ",".join("" if v is None else repr(v) for v in vals))
    return lines


SLOW_WINDOWS = {"train": 12, "valid": 3, "test": 3, "step": 3}
SLOW_HYPER = {"seed": 2, "epochs": 1500, "patience": 1500, "batch_months": 1}


@test
def a_killed_backtest_resumes_without_refitting_completed_windows():
    with Daemon() as d:
        load_panels(d, 40)
        bt = submit(d, "resumed", "ca1", SLOW_HYPER, SLOW_WINDOWS)
        n = bt["n_windows"]
        check(n >= 6, "windows %d" % n)
        b = wait_backtest(d, bt["id"], lambda b: b["windows_done"] >= 2 or
                          b["state"] != "running" and b["state"] != "queued")
        check_eq(b["state"], "running", "backtest finished before the kill: %r" % b)
        d.kill9()
        # Read the file while no daemon runs: every recorded window has its version and no
        # other version was written.
        with sqlite3.connect(d.db_path) as db:
            done = db.execute("SELECT count(*) FROM backtest_windows").fetchone()[0]
            stored = [r[0] for r in db.execute(
                "SELECT version FROM model_versions WHERE model = 'resumed' ORDER BY version")]
        check(2 <= done < n, "windows done after the kill: %d of %d" % (done, n))
        check_eq(stored, list(range(1, done + 1)))
        d.start()
        b = wait_backtest(d, bt["id"])
        check_eq(b["state"], "succeeded", "after restart %r" % b)
        check_eq(versions(d, "resumed"), list(range(1, n + 1)))
        check_eq([w["version"] for w in b["windows"]], list(range(1, n + 1)))
        job = d.get_json("/v1/jobs/%d" % bt["id"])[1]["job"]
        check_eq(job["attempts"], 2)
        check("resuming at window %d of %d" % (done + 1, n) in d.log(), d.log()[-2000:])
        status, doc = d.get_json("/v1/backtests/%d/evaluation" % bt["id"])
        check_eq(status, 200)
        check_eq(doc["windows"], n)


@test
def a_cancelled_backtest_keeps_whole_windows_only():
    with Daemon() as d:
        load_panels(d, 40)
        bt = submit(d, "stopped", "ca1", SLOW_HYPER, SLOW_WINDOWS)
        wait_backtest(d, bt["id"], lambda b: b["windows_done"] >= 1 or b["state"] != "running"
                      and b["state"] != "queued")
        status, doc, _ = d.json("DELETE", "/v1/jobs/%d" % bt["id"])
        check(status in (200, 202), "cancel %s %r" % (status, doc))
        b = wait_backtest(d, bt["id"])
        check_eq(b["state"], "cancelled")
        done = b["windows_done"]
        check(1 <= done < b["n_windows"], "windows done %d" % done)
        check_eq(versions(d, "stopped"), list(range(1, done + 1)))
        check_eq([w["status"] for w in b["windows"]][done:], ["pending"] * (b["n_windows"] - done))
        d.check_error(*d.json("GET", "/v1/backtests/%d/evaluation" % bt["id"])[:2], 409,
                      "backtest_not_finished")
        d.check_error(*d.json("GET", "/v1/backtests/%d/returns" % bt["id"])[:2], 409)
        d.check_error(*d.json("GET", "/v1/compare?backtests=%d" % bt["id"])[:2], 409)
        status, doc = d.get_json("/v1/backtests")
        check_eq(status, 200)
        check_eq([(x["name"], x["state"]) for x in doc["backtests"]], [("stopped", "cancelled")])


@test
def bad_inputs_get_4xx_naming_the_field():
    with Daemon() as d:
        def bad(body, want, code=None, field=None):
            status, doc, _ = d.json("POST", "/v1/backtests", body)
            err = d.check_error(status, doc, want, code)
            if field:
                check(field in err["message"], "%r does not name %s" % (err, field))

        model = {"kind": "ipca", "k": 1}
        bad({"name": "x", "model": model}, 422, "no_data")
        load_panels(d, 20)
        bad({"name": "x", "model": model}, 422, "too_little_data")
        status, _, body = d.request("POST", "/v1/backtests", "{nope",
                                    {"Content-Type": "application/json"})
        d.check_error(status, body, 400, "bad_json")
        bad([], 400, field="object")
        bad({"model": model}, 400, field="name")
        bad({"name": "bad name", "model": model}, 400, field="name")
        bad({"name": "x"}, 400, field="model")
        bad({"name": "x", "model": {"kind": "nope", "k": 1}}, 400, "unknown_kind")
        bad({"name": "x", "model": {"kind": "ipca", "k": 0}}, 400, field="k")
        bad({"name": "x", "model": {"kind": "ipca", "k": 1, "name": "y"}}, 400,
            field="model.name")
        bad({"name": "x", "model": {"kind": "ca1", "k": 1, "hyper": {"epochs": -1}}}, 400,
            field="epochs")
        small = {"train": 6, "valid": 2, "test": 2, "step": 2}
        bad({"name": "x", "model": model, "windows": {"train": 0}}, 400, field="windows.train")
        bad({"name": "x", "model": model, "windows": dict(small, step=1)}, 400,
            field="windows.step")
        bad({"name": "x", "model": model, "windows": dict(small, test="2")}, 400,
            field="windows.test")
        bad({"name": "x", "model": model, "windows": dict(small, lag=1)}, 400,
            field="windows.lag")
        bad({"name": "x", "model": model, "windows": small, "start": "2000-13"}, 400,
            field="start")
        bad({"name": "x", "model": model, "windows": small, "end": "1999-01",
             "start": "2000-01"}, 400, field="start")
        bad({"name": "x", "model": model, "windows": small, "n": 1}, 400, field="n")
        bad({"name": "x", "model": model, "windows": small, "cost": 2}, 400, field="cost")
        bad({"name": "x", "model": model, "windows": small, "extra": 1}, 400, field="extra")
        bad({"name": "x", "model": model, "windows": small, "start": "1999-01"}, 422,
            "missing_panels")
        bad({"name": "x", "model": model, "windows": small, "end": "2003-01"}, 422,
            "missing_panels")
        bad({"name": "x", "model": model, "windows": {"train": 15, "valid": 4, "test": 1}},
            422, "too_little_data")
        d.json("POST", "/v1/models", {"name": "taken", "kind": "ipca", "k": 1})
        bad({"name": "taken", "model": model, "windows": small}, 409, "model_exists")
        ok = submit(d, "fine", "ipca", windows=small)
        check_eq(ok["n_windows"], 6)
        bad({"name": "fine", "model": model, "windows": small}, 409, "backtest_exists")
        check_eq(wait_backtest(d, ok["id"])["state"], "succeeded")
        for path, code in (("/v1/backtests/999", 404), ("/v1/backtests/ghost", 404),
                           ("/v1/backtests/999/evaluation", 404),
                           ("/v1/backtests/ghost/returns", 404),
                           ("/v1/compare", 400), ("/v1/compare?backtests=", 400),
                           ("/v1/compare?backtests=fine,999", 404),
                           ("/v1/compare?backtests=fine,fine", 400),
                           ("/v1/compare?backtests=fine&strategy=xx", 400),
                           ("/v1/compare?backtests=fine&rows=xx", 400),
                           ("/v1/compare?backtests=fine&base=ghost", 404),
                           ("/v1/compare?backtests=fine&table=nope", 404)):
            status, doc = d.get_json(path)
            d.check_error(status, doc, code)
        out = subprocess.run([FACTORD_BIN, "report", "--db", d.db_path], capture_output=True,
                             text=True, timeout=30)
        check_eq(out.returncode, 2, out.stderr)
        out = subprocess.run([FACTORD_BIN, "report", "--db", d.db_path, "--backtests", "9"],
                             capture_output=True, text=True, timeout=30)
        check_eq(out.returncode, 1, out.stderr)
        check("no backtest 9" in out.stderr, out.stderr)


if __name__ == "__main__":
    run()
