#!/usr/bin/python3
"""Independent reference for src/eval/oos.c (fd_eval_model) on a small panel.

The "model" is fixed: beta(z) = z A (A is P x K), factors f_t given per month, and the
in-sample factor history F0. Everything the evaluator reports is recomputed here with
numpy/scipy and written, with the inputs, to tests/data/oos_expected.json.
Run from the repository root: /usr/bin/python3 tests/ref/oos_ref.py
"""
import json
import math

import numpy as np
from scipy import stats

rng = np.random.default_rng(7)
P, K, T, NB, COST = 3, 2, 14, 10, 0.003
A = rng.normal(0, 1, (P, K))
F0 = rng.normal(0.01, 0.03, (5, K))
universe = [f"S{i:02d}" for i in range(40)]
periods = []
for t in range(T):
    n = 8 if t == 4 else int(rng.integers(25, 40))  # month 4: fewer than 10 securities
    ids = sorted(rng.choice(universe, n, replace=False).tolist())
    z = np.round(rng.uniform(-1, 1, (n, P)), 2)
    z[:, 0] = 1.0
    if t == 6:
        z[:5, 1:] = z[5, 1:]  # ties in expected returns
    r = rng.normal(0.01, 0.08, n)
    cap = np.exp(rng.normal(8, 1, n))
    cap[1] = np.nan  # a missing market cap every month
    f = rng.normal(0.01, 0.03, K)
    mkt = float(rng.normal(0.005, 0.04)) if t != 3 else None
    x = np.linalg.solve(z.T @ z, z.T @ r)
    periods.append(dict(month=f"2020-{t + 1:02d}" if t < 12 else f"2021-{t - 11:02d}", ids=ids,
                        z=z, r=r, cap=cap, f=f, mkt=mkt, x=x))

sse_r = sse_pr = ss_r = sse_x = sse_px = ss_x = sse_m = ss_m = 0.0
ic, ric = [], []
terms = {"returns": [], "total_errors": [], "pred_errors": []}  # (term, id, month, r)
monthly = []  # the per-month series of evaluation?series=monthly
strat = {s: dict(gross=[], turn=[], held=None) for s in ["ew_ls", "ew_lo", "vw_ls", "vw_lo"]}
fsum, seen = F0.sum(axis=0), len(F0)


def legs_turnover(prev, cur):
    """prev/cur: list of legs, each dict id -> weight; prev legs carry returns for drift."""
    total = 0.0
    for leg, c in enumerate(cur):
        if prev is None:
            total += sum(abs(w) for w in c.values())
            continue
        pw, pr = prev[leg]
        gross = sum(pw[i] * (0.0 if np.isnan(pr[i]) else pr[i]) for i in pw)
        d = {i: pw[i] * (1 + (0.0 if np.isnan(pr[i]) else pr[i])) / (1 + gross) for i in pw}
        total += sum(abs(c.get(i, 0.0) - d.get(i, 0.0)) for i in set(c) | set(d))
    return total


for p in periods:
    lam = fsum / seen
    beta = p["z"] @ A
    rhat, er = beta @ p["f"], beta @ lam
    r, z = p["r"], p["z"]
    sse_r += ((r - rhat) ** 2).sum(); sse_pr += ((r - er) ** 2).sum(); ss_r += (r ** 2).sum()
    for key, v in (("returns", r ** 2), ("total_errors", (r - rhat) ** 2),
                   ("pred_errors", (r - er) ** 2)):
        terms[key] += [(v[i], p["ids"][i], p["month"], r[i]) for i in range(len(r))]
    if p["mkt"] is not None:
        sse_m += ((r - rhat) ** 2).sum(); ss_m += ((r - p["mkt"]) ** 2).sum()
    xh = np.linalg.solve(z.T @ z, z.T @ rhat); xp = np.linalg.solve(z.T @ z, z.T @ er)
    sse_x += ((p["x"] - xh) ** 2).sum(); sse_px += ((p["x"] - xp) ** 2).sum()
    ss_x += (p["x"] ** 2).sum()
    ic.append(np.corrcoef(er, r)[0, 1]); ric.append(stats.spearmanr(er, r).correlation)
    month = dict(month=p["month"], n=len(r), total_r2=1 - ((r - rhat) ** 2).sum() / (r ** 2).sum(),
                 pred_r2=1 - ((r - er) ** 2).sum() / (r ** 2).sum(), ic=ic[-1], rank_ic=ric[-1])
    n = len(r)
    if n >= NB:
        rank = stats.rankdata(er, method="average")
        bucket = np.floor((rank - 1) * NB / n).astype(int)
    else:
        bucket = np.full(n, -1)
    for how in ["ew", "vw"]:
        w = np.zeros(n)
        for b in range(NB):
            mem = bucket == b
            if how == "ew" and mem.any():
                w[mem] = 1 / mem.sum()
            elif how == "vw":
                ok = mem & np.isfinite(p["cap"])
                if ok.any():
                    w[ok] = p["cap"][ok] / p["cap"][ok].sum()
        def bret(b):
            ok = (bucket == b) & (w != 0)
            return (w[ok] * r[ok]).sum() / w[ok].sum() if ok.any() else np.nan
        for kind in ["ls", "lo"]:
            s = strat[f"{how}_{kind}"]
            gross = bret(NB - 1) - bret(0) if kind == "ls" else bret(NB - 1)
            legs_b = [NB - 1, 0] if kind == "ls" else [NB - 1]
            cur = [{p["ids"][i]: w[i] for i in range(n) if bucket[i] == b and w[i] != 0}
                   for b in legs_b]
            curr = [({p["ids"][i]: w[i] for i in range(n) if bucket[i] == b and w[i] != 0},
                     {p["ids"][i]: r[i] for i in range(n)}) for b in legs_b]
            turn = legs_turnover(s["held"], cur)
            s["held"] = curr
            s["gross"].append(gross)
            s["turn"].append(np.nan if np.isnan(gross) else turn)
            month[f"{how}_{kind}"] = None if np.isnan(gross) else gross
            month[f"{how}_{kind}_net"] = None if np.isnan(gross) else gross - COST * turn
    monthly.append(month)
    fsum = fsum + p["f"]; seen += 1


def fin(v):
    v = np.asarray(v, dtype=float)
    return v[~np.isnan(v)]


def summary(g, t):
    g = np.asarray(g, dtype=float); t = np.asarray(t, dtype=float)
    net = g - COST * t
    gf, nf = fin(g), fin(net)
    mu, sd = gf.mean(), gf.std(ddof=1)
    wealth = np.cumprod(1 + gf)
    peak = np.maximum.accumulate(np.concatenate([[1.0], wealth]))[1:]
    mdd = float(np.max(1 - wealth / peak))
    down = math.sqrt(np.mean(np.minimum(gf, 0) ** 2))
    return dict(months=int(len(gf)), mean=mu, volatility=sd, sharpe=math.sqrt(12) * mu / sd,
                turnover=fin(t).mean(), mean_net=nf.mean(),
                sharpe_net=math.sqrt(12) * nf.mean() / nf.std(ddof=1), max_drawdown=mdd,
                sortino=math.sqrt(12) * mu / down, calmar=12 * mu / mdd if mdd > 0 else None)


icf, ricf = fin(ic), fin(ric)


def largest_share(ts):
    top = max(ts, key=lambda t: t[0])
    return dict(share=top[0] / sum(t[0] for t in ts), id=top[1], month=top[2], ret=top[3])


out = {
    "P": P, "K": K, "nb": NB, "cost": COST, "A": A.tolist(), "F0": F0.tolist(),
    "periods": [dict(month=p["month"], ids=p["ids"], z=p["z"].tolist(), r=p["r"].tolist(),
                     mktcap=[None if np.isnan(c) else c for c in p["cap"]], f=p["f"].tolist(),
                     mktrf=p["mkt"], x=p["x"].tolist()) for p in periods],
    "expected": {
        "r2": {"total_r": 1 - sse_r / ss_r, "pred_r": 1 - sse_pr / ss_r,
               "total_x": 1 - sse_x / ss_x, "pred_x": 1 - sse_px / ss_x,
               "total_r_mkt": 1 - sse_m / ss_m},
        "ic": {"mean": icf.mean(), "tstat": icf.mean() / (icf.std(ddof=1) / math.sqrt(len(icf))),
               "rank_mean": ricf.mean(),
               "rank_tstat": ricf.mean() / (ricf.std(ddof=1) / math.sqrt(len(ricf)))},
        "strategies": {k: summary(v["gross"], v["turn"]) for k, v in strat.items()},
        "concentration": {k: largest_share(v) for k, v in terms.items()},
        "monthly": monthly,
    },
}
with open("tests/data/oos_expected.json", "w") as fh:
    json.dump(out, fh, indent=1, default=float)
print("wrote tests/data/oos_expected.json")
