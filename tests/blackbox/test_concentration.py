"""Black-box tests of how concentrated an evaluation is (docs/outliers.md): a panel pushed
with one extreme return (a data error of +820,500%) gets an extreme_returns warning when it
is stored, and every evaluation, backtest and comparison over that month states that one
security-month holds almost all of the sum of squares and warns; over clean months there
is no warning.

The panel is simulated with a fixed numpy seed: r_t = z_{t-1}' Gamma f_t + noise, with
characteristics drawn already rank-normalised, 60 securities, 3 characteristics, 30 months."""

import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from factord_harness import FACTORD_BIN, Daemon, check, check_eq, run, test  # noqa: E402

N, P, K, T = 60, 3, 2, 30
BAD_MONTH, BAD_ID, BAD_RET = 25, "S007", 8205.0


def month_key(i):
    return "%04d-%02d" % (2000 + i // 12, i % 12 + 1)


def simulate(seed=5):
    rng = np.random.default_rng(seed)
    gamma = rng.normal(0, 1, (P, K))
    z_prev, panels = None, []
    for t in range(T):
        z = np.column_stack([2.0 * (rng.permutation(N) + 1) / (N + 1) - 1.0 for _ in range(P)])
        ret = np.full(N, np.nan)
        if z_prev is not None:
            ret = z_prev @ gamma @ (0.01 + rng.normal(0, 0.05, K)) + rng.normal(0, 0.06, N)
        if t == BAD_MONTH:
            ret[7] = BAD_RET
        rows = [["S%03d" % i, None if np.isnan(ret[i]) else float(ret[i])] +
                [float(v) for v in z[i]] for i in range(N)]
        panels.append((month_key(t), {"columns": ["id", "ret"] + ["c%d" % j for j in range(P)],
                                      "rows": rows}))
        z_prev = z
    return panels


def load(d):
    for t, (month, body) in enumerate(simulate()):
        status, doc, _ = d.json("PUT", "/v1/panels/" + month, body)
        check_eq(status, 200, doc)
        codes = [w["code"] for w in doc["warnings"]]
        check_eq(codes, ["extreme_returns"] if t == BAD_MONTH else [], (month, doc["warnings"]))


def wait_job(d, job_id, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = d.get_json("/v1/jobs/%d" % job_id)[1]["job"]
        if job["state"] in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(0.05)
    raise AssertionError("job %d did not finish" % job_id)


def concentrated(doc):
    return [w for w in doc["warnings"] if w["code"] == "concentrated_error"]


@test
def the_evaluation_warns_when_one_security_month_holds_the_sum_of_squares():
    with Daemon() as d:
        load(d)
        check_eq(d.json("POST", "/v1/models", {"name": "ip", "kind": "ipca", "k": K})[0], 201)
        status, doc, _ = d.json("POST", "/v1/models/ip/train",
                                {"train": {"from": month_key(1), "to": month_key(18)}})
        check_eq(status, 202, doc)
        check_eq(wait_job(d, doc["job"]["id"])["state"], "succeeded")

        status, ev = d.get_json("/v1/models/ip/evaluation?from=%s&to=%s"
                                % (month_key(19), month_key(29)))
        check_eq(status, 200, ev)
        c = ev["concentration"]
        check_eq((c["returns"]["id"], c["returns"]["month"], c["returns"]["ret"]),
                 (BAD_ID, month_key(BAD_MONTH), BAD_RET))
        check(c["returns"]["share"] > 0.999, c)
        check(c["total_errors"]["share"] > 0.5, c)  # f_t of that month absorbs a little
        check(c["pred_errors"]["share"] > 0.999, c)
        warned = concentrated(ev)
        check_eq(sorted(w["statistic"] for w in warned),
                 ["pred_errors", "returns", "total_errors"])
        check(all(BAD_ID in w["message"] and month_key(BAD_MONTH) in w["message"]
                  for w in warned), warned)

        # The clean months before it: the shares are small and nothing warns.
        status, ev = d.get_json("/v1/models/ip/evaluation?from=%s&to=%s"
                                % (month_key(19), month_key(24)))
        check_eq(status, 200, ev)
        check(ev["concentration"]["returns"]["share"] < 0.1, ev["concentration"])
        check_eq(ev["warnings"], [])


@test
def backtests_and_comparisons_state_the_concentration_and_warn():
    windows = {"train": 12, "valid": 3, "test": 7, "step": 7}
    with Daemon() as d:
        load(d)
        status, doc, _ = d.json("POST", "/v1/backtests", {"name": "roll", "windows": windows,
                                                          "model": {"kind": "ipca", "k": K}})
        check_eq(status, 202, doc)
        bt = doc["backtest"]
        check_eq(wait_job(d, bt["id"])["state"], "succeeded")
        status, ev = d.get_json("/v1/backtests/%d/evaluation" % bt["id"])
        check_eq(status, 200, ev)
        check(ev["concentration"]["returns"]["share"] > 0.999, ev["concentration"])
        check_eq(ev["concentration"]["returns"]["id"], BAD_ID)
        check(len(concentrated(ev)) == 3, ev["warnings"])
        status, b = d.get_json("/v1/backtests/%d" % bt["id"])
        hit = [w for w in b["backtest"]["windows"]
               if w["test"]["from"] <= month_key(BAD_MONTH) <= w["test"]["to"]]
        check_eq(len(hit), 1)
        check(len(concentrated(hit[0]["metrics"])) == 3, hit[0]["metrics"]["warnings"])
        clean = [w for w in b["backtest"]["windows"] if w not in hit]
        check(clean and all(w["metrics"]["warnings"] == [] for w in clean), clean)

        status, cmp = d.get_json("/v1/compare?backtests=%d" % bt["id"])
        check_eq(status, 200, cmp)
        tables = {t["name"]: t for t in cmp["tables"]}
        check_eq(tables["concentration_r"]["unit"], "share")
        check(tables["concentration_r"]["values"][0][0] > 0.999, tables["concentration_r"])
        check_eq(sorted({(w["name"], w["code"]) for w in cmp["warnings"]}),
                 [("roll", "concentrated_error")])
        # factord report prints them under the tables.
        out = subprocess.run([FACTORD_BIN, "report", "--db", d.db_path, "--backtests",
                              str(bt["id"])], capture_output=True, text=True, timeout=60)
        check_eq(out.returncode, 0, out.stderr)
        check("## Warnings" in out.stdout and "- roll: one security-month (%s %s"
              % (BAD_ID, month_key(BAD_MONTH)) in out.stdout, out.stdout[-800:])
        check("security-month's share of the squared returns (%)" in out.stdout, out.stdout)


if __name__ == "__main__":
    run()
