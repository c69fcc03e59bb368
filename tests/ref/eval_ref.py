#!/usr/bin/python3
"""Independent reference values for src/eval (stats and decile portfolios).

Computes every metric with numpy/scipy on fixed inputs and writes
tests/data/eval_expected.json, which tests/unit/test_eval.c checks the C code against.
Run from the repository root: /usr/bin/python3 tests/ref/eval_ref.py
"""
import json
import math

import numpy as np
from scipy import stats

rng = np.random.default_rng(20261121)
T = 60
a = rng.normal(0.01, 0.05, T)
b = 0.6 * a + rng.normal(0.002, 0.04, T)
a[7] = np.nan  # a missing month: ignored (pairwise for two series)


def finite(x):
    return x[~np.isnan(x)]


def series_stats(x):
    f = finite(x)
    mu, sd = f.mean(), f.std(ddof=1)
    down = math.sqrt(np.mean(np.minimum(f, 0.0) ** 2))
    wealth = np.cumprod(1.0 + f)
    peak = np.maximum.accumulate(np.concatenate([[1.0], wealth]))[1:]
    mdd = float(np.max(1.0 - wealth / peak))
    return {
        "mean": mu, "sd": sd, "sharpe": math.sqrt(12) * mu / sd,
        "sortino": math.sqrt(12) * mu / down, "max_drawdown": mdd,
        "calmar": 12 * mu / mdd, "tstat": mu / (sd / math.sqrt(len(f))),
    }


both = ~np.isnan(a) & ~np.isnan(b)
pa, pb = a[both], b[both]
sra, srb = pa.mean() / pa.std(ddof=1), pb.mean() / pb.std(ddof=1)
rho = np.corrcoef(pa, pb)[0, 1]
theta = (2 - 2 * rho + 0.5 * (sra**2 + srb**2 - 2 * sra * srb * rho**2)) / len(pa)
z = (sra - srb) / math.sqrt(theta)

# Deciles: 25 securities with ties in the expected return, one missing er, one missing cap.
n, nb = 25, 10
er = np.round(rng.normal(0, 1, n), 1)
er[3] = er[4] = er[5] = er[10]  # a tie across what would be a bucket boundary
er[12] = np.nan
cap = np.exp(rng.normal(8, 1, n))
cap[2] = np.nan
ret = rng.normal(0.01, 0.1, n)
ret[6] = np.nan  # no next-month return: dropped, bucket renormalised
rank = stats.rankdata(np.where(np.isnan(er), np.inf, er), method="average")
m = int((~np.isnan(er)).sum())
bucket = np.where(np.isnan(er), -1, np.floor((rank - 1) * nb / m)).astype(int)


def weights(how):
    w = np.zeros(n)
    for k in range(nb):
        mem = bucket == k
        if how == "equal":
            w[mem] = 1.0 / mem.sum()
        else:
            ok = mem & np.isfinite(cap) & (cap > 0)
            w[ok] = cap[ok] / cap[ok].sum()
    return w


def bucket_returns(w):
    out = []
    for k in range(nb):
        ok = (bucket == k) & (w != 0) & np.isfinite(ret)
        out.append(float((w[ok] * ret[ok]).sum() / w[ok].sum()) if ok.any() else None)
    return out


ew, vw = weights("equal"), weights("value")

# Turnover: previous leg drifts with its realised returns, then trades to the new one.
prev_ids = ["A", "B", "C", "D"]
prev_w = np.array([0.25, 0.25, 0.25, 0.25])
prev_r = np.array([0.10, -0.05, 0.0, 0.20])
cur_ids = ["B", "C", "E"]
cur_w = np.array([0.5, 0.3, 0.2])
drift = prev_w * (1 + prev_r) / (1 + (prev_w * prev_r).sum())
d = dict(zip(prev_ids, drift))
turn = sum(abs(cur_w[cur_ids.index(i)] - d.get(i, 0.0)) if i in cur_ids else abs(d[i])
           for i in prev_ids) + sum(cur_w[cur_ids.index(i)] for i in cur_ids if i not in d)


def clean(v):
    if isinstance(v, (list, np.ndarray)):
        return [clean(x) for x in v]
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return float(v) if not isinstance(v, (int, np.integer)) else int(v)


out = {
    "a": clean(a), "b": clean(b),
    "stats_a": {k: clean(v) for k, v in series_stats(a).items()},
    "stats_b": {k: clean(v) for k, v in series_stats(b).items()},
    "pearson": clean(np.corrcoef(pa, pb)[0, 1]),
    "spearman": clean(stats.spearmanr(pa, pb).correlation),
    "jk": {"sharpe_a": sra, "sharpe_b": srb, "rho": rho, "z": z,
           "p_two_sided": 2 * (1 - stats.norm.cdf(abs(z))), "p_one_sided": 1 - stats.norm.cdf(z),
           "months": int(len(pa))},
    "deciles": {"nb": nb, "er": clean(er), "mktcap": clean(cap), "ret": clean(ret),
                "bucket": clean(bucket), "ew": clean(ew), "vw": clean(vw),
                "ew_returns": bucket_returns(ew), "vw_returns": bucket_returns(vw),
                "vw_missing_cap": int(((bucket >= 0) & ~(np.isfinite(cap) & (cap > 0))).sum())},
    "turnover": {"prev_ids": prev_ids, "prev_w": clean(prev_w), "prev_r": clean(prev_r),
                 "cur_ids": cur_ids, "cur_w": clean(cur_w), "expected": float(turn)},
}
out["jk"] = {k: clean(v) for k, v in out["jk"].items()}
with open("tests/data/eval_expected.json", "w") as fh:
    json.dump(out, fh, indent=1)
print("wrote tests/data/eval_expected.json")
