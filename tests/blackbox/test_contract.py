"""The model contract's promises across paths (issue 10):
- one lambda: the evaluation's lambda for a test month equals the lambda /expected-returns
  serves for the month before, for the same version (a CA with a validation block, whose
  stored factor history covers training and validation), under both estimators, with the
  estimator and month counts stated;
- one prediction rule: IPCA with an intercept gives the same total and predictive R^2
  through /evaluation, through a backtest, and recomputed here from what serving answers
  (betas and alpha of t-1, factors of t, expected returns made at t-1), to 1e-12.

Characteristics are drawn already rank-normalised, so the panels are what the models see."""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from factord_harness import Daemon, check, check_eq, run, test  # noqa: E402

N, P, K, T = 80, 4, 2, 24


def month_key(i):
    return "%04d-%02d" % (2010 + i // 12, i % 12 + 1)


MONTHS = [month_key(t) for t in range(T)]


def put_panels(d, seed=5):
    rng = np.random.default_rng(seed)
    gamma = rng.normal(0, 1, (P, K))
    z_prev = None
    returns = {}
    cols = ["id", "ret", "mktcap"] + ["c%d" % j for j in range(P)]
    for t, m in enumerate(MONTHS):
        z = np.empty((N, P))
        for j in range(P):
            z[:, j] = 2.0 * (rng.permutation(N) + 1) / (N + 1) - 1.0
        ret = np.full(N, np.nan)
        if z_prev is not None:
            f = np.array([0.01, 0.004]) + rng.normal(0, 0.05, K)
            ret = 0.003 + z_prev @ gamma @ f + rng.normal(0, 0.05, N)
        rows = [["S%03d" % i, None if np.isnan(ret[i]) else float(ret[i]),
                 float(np.exp(rng.normal(0, 1)))] + [float(v) for v in z[i]] for i in range(N)]
        st, js, _ = d.json("PUT", f"/v1/panels/{m}", {"columns": cols, "rows": rows})
        check_eq(st, 200, f"PUT {m}: {js}")
        returns[m] = {row[0]: row[1] for row in rows}
        z_prev = z
    return returns


def wait_job(d, job):
    for _ in range(1200):
        st, js = d.get_json(f"/v1/jobs/{job}")
        if js["job"]["state"] in ("succeeded", "failed", "cancelled"):
            break
        time.sleep(0.1)
    check_eq(js["job"]["state"], "succeeded", str(js))
    return js["job"]


def train(d, name, decl, windows):
    st, js, _ = d.json("POST", "/v1/models", dict(decl, name=name))
    check_eq(st, 201, str(js))
    st, js, _ = d.json("POST", f"/v1/models/{name}/train", windows)
    check_eq(st, 202, str(js))
    return wait_job(d, js["job"]["id"])["result"]["version"]


def get(d, path):
    st, js = d.get_json(path)
    check_eq(st, 200, f"{path}: {js}")
    return js


@test
def evaluation_lambda_equals_served_lambda_for_the_same_version_and_month():
    with Daemon() as d:
        put_panels(d)
        v = train(d, "ae", {"kind": "ca1", "k": K, "hyper": {"epochs": 4, "seed": 3}},
                  {"train": {"from": MONTHS[1], "to": MONTHS[12]},
                   "valid": {"from": MONTHS[13], "to": MONTHS[16]}})
        for est in ("prevailing", "training"):
            ev = get(d, f"/v1/models/ae/evaluation?version={v}&from={MONTHS[17]}"
                        f"&to={MONTHS[21]}&lambda={est}")
            check_eq(ev["lambda"]["estimator"], est)
            for key, test_month in (("first_month", 17), ("last_month", 21)):
                got = ev["lambda"][key]
                er = get(d, f"/v1/models/ae/expected-returns?version={v}"
                            f"&month={MONTHS[test_month - 1]}&lambda={est}")["lambda"]
                check_eq(got["estimator"], est)
                check_eq(got["months"], er["months"], f"{est} {key} months")
                check(max(abs(a - b) for a, b in zip(got["values"], er["values"])) <= 1e-15,
                      f"{est} {key}: evaluation {got['values']} vs served {er['values']}")
            if est == "prevailing":
                # Training (12) and validation (4) rows, then the realised test months.
                first = ev["lambda"]["first_month"]
                check_eq((first["training_months"], first["validation_months"],
                          first["realised_months"]), (12, 4, 0))
                check_eq(ev["lambda"]["last_month"]["realised_months"], 4)
            else:
                check_eq(ev["lambda"]["last_month"]["months"], 12)


def r2(sse, sst):
    return 1.0 - sse / sst


@test
def ipca_with_an_intercept_gives_the_same_numbers_evaluated_backtested_and_served():
    decl = {"kind": "ipca", "k": K, "hyper": {"intercept": True}, "columns": None}
    test_from, test_to = MONTHS[13], MONTHS[T - 1]
    with Daemon() as d:
        returns = put_panels(d)
        st, js, _ = d.json("POST", "/v1/backtests",
                           {"name": "bt", "model": decl,
                            "windows": {"train": 12, "valid": 0, "test": 11, "step": 11},
                            "start": MONTHS[1], "end": test_to})
        check_eq(st, 202, str(js))
        wait_job(d, js["backtest"]["id"])
        bt = get(d, "/v1/backtests/bt/evaluation")
        check_eq(bt["months"], 11)
        ev = get(d, f"/v1/models/bt/evaluation?version=1&from={test_from}&to={test_to}")
        # Served numbers: rhat_t = alpha + beta(z_{t-1}) f_t, er_t = served at t-1.
        sse = sse_p = sst = 0.0
        for t in range(13, T):
            prev, m = MONTHS[t - 1], MONTHS[t]
            b = get(d, f"/v1/models/bt/betas?version=1&month={prev}")["securities"]
            f = np.array(get(d, f"/v1/models/bt/factors?version=1&month={m}")["factors"][0]["f"])
            er = {s["id"]: s["er"] for s in
                  get(d, f"/v1/models/bt/expected-returns?version=1&month={prev}")["securities"]}
            ret = returns[m]
            for s in b:
                check("alpha" in s, "betas of an intercept model carry alpha")
                r = ret[s["id"]]
                fit = s["alpha"] + float(np.dot(s["beta"], f))
                sse += (r - fit) ** 2
                sse_p += (r - er[s["id"]]) ** 2
                sst += r * r
        served = {"total_r": r2(sse, sst), "pred_r": r2(sse_p, sst)}
        for key in ("total_r", "pred_r"):
            a, b, c = ev["r2"][key], bt["r2"][key], served[key]
            check(abs(a - b) <= 1e-12 and abs(a - c) <= 1e-12,
                  f"{key}: evaluation {a!r}, backtest {b!r}, served {c!r}")
        check(ev["r2"]["pred_r"] != ev["r2"]["total_r"], "distinct metrics")


if __name__ == "__main__":
    run()
