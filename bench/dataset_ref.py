"""The benchmark's Python side of dataset building: reads the long CSV that `factord simulate`
writes (`id,date,ret,mktcap,c1..cP`, one row per security-month; `date` is the month key,
empty cells are missing) and builds what factord's fd_dataset holds, the same way
(docs/design.md; every column but ret and mktcap is a characteristic):

  period t pairs the characteristics of month t-1 with the returns of month t, for the
  securities that have both; each characteristic of month t-1 is rank-normalised over that
  month's cross-section to 2 rank / (n + 1) - 1 (ties averaged, n = non-missing values),
  missing values become 0 (the median after ranking); the managed portfolio is
  x_t = (Z'Z)^{-1} Z' r_t.

Securities keep their CSV order inside a period. The checksum (sums of z^2, z'r, r and x over
all periods) is what fit_bench prints too, so models.sh can show both sides fitted the same data.
Parsing is a one-off cost outside every timing, cached in a .npz beside the CSV.
"""
import os

import numpy as np


SPECIAL = ("ret", "mktcap")


def _fill_empty(fields):
    """'' (missing) -> 'nan', which loadtxt reads."""
    if ",," in fields or fields.startswith(",") or fields.endswith(","):
        return ",".join(v if v else "nan" for v in fields.split(","))
    return fields


def _read_csv(path):
    """-> (characteristic names, ids, months, ret (n), chars (n, P))."""
    with open(path) as fh:
        header = fh.readline().rstrip("\r\n").split(",")
        if header[0] != "id" or header[1] not in ("date", "month") or "ret" not in header:
            raise ValueError("%s: header must be id,date,...,ret,... (got %s)"
                             % (path, ",".join(header[:4])))
        ids, months, rest = [], [], []
        for line in fh:
            a, b, c = line.rstrip("\r\n").split(",", 2)
            ids.append(a)
            months.append(b)
            rest.append(_fill_empty(c))
    vals = np.loadtxt(rest, delimiter=",", ndmin=2).reshape(len(rest), len(header) - 2)
    names = header[2:]
    chars = [j for j, nm in enumerate(names) if nm not in SPECIAL]
    return ([names[j] for j in chars], np.array(ids), np.array(months),
            vals[:, names.index("ret")].copy(), np.ascontiguousarray(vals[:, chars]))


def rank_normalise(C):
    """C (n, P) raw, NaN missing -> (n, P) in (-1, 1), ties averaged, missing -> 0."""
    out = np.zeros_like(C)
    for j in range(C.shape[1]):
        col = C[:, j]
        ok = ~np.isnan(col)
        v = col[ok]
        n = v.size
        if n == 0:
            continue
        order = np.argsort(v, kind="mergesort")
        sv = v[order]
        # average 1-based rank over each run of equal values
        starts = np.flatnonzero(np.r_[True, sv[1:] != sv[:-1]])
        ends = np.r_[starts[1:], n]
        avg = (starts + ends + 1) / 2.0
        ranks = np.empty(n)
        ranks[order] = np.repeat(avg, ends - starts)
        out[ok, j] = 2.0 * ranks / (n + 1) - 1.0
    return out


def _prev_month(key):
    y, m = int(key[:4]), int(key[5:7])
    y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return "%04d-%02d" % (y, m)


def build(col_names, ids, months, rets, chars):
    by_month = {}
    for mk in np.unique(months):
        rows = np.flatnonzero(months == mk)
        by_month[mk] = rows
    periods = []
    for mk in sorted(by_month):
        prev = _prev_month(mk)
        if prev not in by_month:
            continue
        prow, now = by_month[prev], by_month[mk]
        zall = rank_normalise(chars[prow])
        # match month t's securities to month t-1's rows by id
        sort = np.argsort(ids[prow], kind="stable")
        sorted_ids = ids[prow][sort]
        at = np.minimum(np.searchsorted(sorted_ids, ids[now]), len(sorted_ids) - 1)
        keep = (sorted_ids[at] == ids[now]) & ~np.isnan(rets[now])
        sel_now, sel_prev = now[keep], sort[at[keep]]
        if sel_now.size == 0:
            continue
        z = np.ascontiguousarray(zall[sel_prev])
        r = rets[sel_now].copy()
        x = np.linalg.solve(z.T @ z, z.T @ r)
        periods.append({"month": mk, "z": z, "r": r, "x": x})
    P = chars.shape[1]
    # z sums to ~0 after ranking, so the checksum squares it; z'r checks the alignment.
    checksum = {"z2": float(sum((p["z"] ** 2).sum() for p in periods)),
                "zr": float(sum((p["r"] @ p["z"]).sum() for p in periods)),
                "r": float(sum(p["r"].sum() for p in periods)),
                "x": float(sum(p["x"].sum() for p in periods))}
    return {"P": P, "T": len(periods), "col_names": col_names, "periods": periods,
            "checksum": checksum}


def load(path):
    cache = path + ".npz"
    if os.path.exists(cache) and os.path.getmtime(cache) >= os.path.getmtime(path):
        npz = np.load(cache, allow_pickle=False)
        parsed = (list(npz["cols"]), npz["ids"], npz["months"], npz["rets"], npz["chars"])
    else:
        parsed = _read_csv(path)
        np.savez(cache, cols=np.array(parsed[0]), ids=parsed[1], months=parsed[2],
                 rets=parsed[3], chars=parsed[4])
    return build(*parsed)
