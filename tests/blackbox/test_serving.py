"""Serving endpoints (issue 4) against an independent numpy recomputation.

A small panel (60 securities, 3 characteristics, 16 months, a missing market cap, a
security that leaves and one that arrives late) is stored, IPCA (K=2) is trained by the
daemon, and every scoring endpoint's numbers are recomputed here from the raw panels:
rank normalisation, IPCA's linear betas (Gamma recovered from one month, checked on
another), factor realisations by cross-sectional regression (characteristics of t-1,
returns of t), lambda as the mean of the factors known at t, expected returns for t+1,
equal- and value-weighted deciles with realised t+1 returns, and inline scoring.
Also: label moves under load never mix versions, retired versions are freed, bad inputs
get 4xx. Tolerances: 1e-9 for linear algebra on identical inputs, 1e-6 where the daemon's
in-sample factors come from ALS convergence (tol 1e-10 on Gamma).
"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from factord_harness import Daemon, check, check_eq, run, test  # noqa: E402

import numpy as np  # noqa: E402

N, P, K, T = 60, 3, 2, 16
MONTHS = [f"{2020 + t // 12}-{t % 12 + 1:02d}" for t in range(T)]
TRAIN = ("2020-02", "2020-09")


def make_panels(seed=11):
    rng = np.random.default_rng(seed)
    gamma = rng.normal(0, 0.6, (P, K))
    ids = [f"S{i:03d}" for i in range(N)]
    z = rng.uniform(-1, 1, (N, P))
    panels = {}
    for t, m in enumerate(MONTHS):
        f = rng.normal(0.01, 0.05, K)
        r = z @ gamma @ f + rng.normal(0, 0.03, N)  # z of t-1 prices r of t
        z = np.clip(0.9 * z + rng.normal(0, 0.2, (N, P)), -3, 3)
        cap = np.exp(rng.normal(6, 1, N))
        cap[5] = np.nan
        alive = np.ones(N, bool)
        if t >= 13:
            alive[7] = False  # S007 leaves after 2021-01
        if t < 4:
            alive[9] = False  # S009 arrives in 2020-05
        rows = []
        for i in np.flatnonzero(alive):
            rows.append([ids[i], float(r[i]), None if np.isnan(cap[i]) else float(cap[i])]
                        + [float(x) for x in z[i]])
        panels[m] = rows
    return panels


def rank_normalize(x):
    """2 rank/(n+1) - 1 per column with ties averaged; NaN -> 0 (written independently)."""
    out = np.zeros_like(x)
    for j in range(x.shape[1]):
        col = x[:, j]
        ok = ~np.isnan(col)
        v = col[ok]
        order = np.argsort(v, kind="mergesort")
        ranks = np.empty(len(v))
        sv = v[order]
        i = 0
        while i < len(v):
            k = i
            while k + 1 < len(v) and sv[k + 1] == sv[i]:
                k += 1
            ranks[order[i:k + 1]] = (i + k) / 2 + 1
            i = k + 1
        out[ok, j] = 2 * ranks / (len(v) + 1) - 1
    return out


def arrays(rows):
    ids = [r[0] for r in rows]
    ret = np.array([r[1] for r in rows])
    cap = np.array([np.nan if r[2] is None else r[2] for r in rows])
    z = rank_normalize(np.array([r[3:] for r in rows], dtype=float))
    return ids, ret, cap, z


def put_panels(d, panels):
    cols = ["id", "ret", "mktcap"] + [f"c{j}" for j in range(P)]
    for m, rows in panels.items():
        st, js, _ = d.json("PUT", f"/v1/panels/{m}", {"columns": cols, "rows": rows})
        check_eq(st, 200, f"PUT {m}: {js}")


def train(d, model, frm, to, declare=True):
    if declare:
        st, js, _ = d.json("POST", "/v1/models", {"name": model, "kind": "ipca", "k": K})
        check_eq(st, 201, str(js))
    st, js, _ = d.json("POST", f"/v1/models/{model}/train", {"train": {"from": frm, "to": to}})
    check_eq(st, 202, str(js))
    job = js["job"]["id"]
    for _ in range(600):
        st, js = d.get_json(f"/v1/jobs/{job}")
        state = js["job"]["state"]
        if state in ("succeeded", "failed", "cancelled"):
            break
        time.sleep(0.1)
    check_eq(state, "succeeded", str(js))
    return js["job"]["result"]["version"]


def betas(d, model, month, version=None):
    q = f"/v1/models/{model}/betas?month={month}" + (f"&version={version}" if version else "")
    st, js = d.get_json(q)
    check_eq(st, 200, str(js))
    return {s["id"]: np.array(s["beta"]) for s in js["securities"]}


_state = {}


def setup():
    """One daemon with the panel and a trained version, shared by the numeric tests."""
    if "d" not in _state:
        d = Daemon(validate=True)
        panels = make_panels()
        put_panels(d, panels)
        train(d, "ip", *TRAIN)
        _state.update(d=d, panels=panels)
    return _state["d"], _state["panels"]


def gamma_of(d, panels):
    """Gamma recovered from the betas of one month; IPCA betas are exactly linear in z."""
    ids, _, _, z = arrays(panels["2020-12"])
    b = betas(d, "ip", "2020-12")
    B = np.array([b[i] for i in ids])
    g, res, _, _ = np.linalg.lstsq(z, B, rcond=None)
    check(np.abs(z @ g - B).max() < 1e-9, "betas are linear in the rank-normalised z")
    return g


@test
def betas_are_linear_in_rank_normalised_characteristics():
    d, panels = setup()
    g = gamma_of(d, panels)
    ids, _, _, z = arrays(panels["2021-02"])
    b = betas(d, "ip", "2021-02")
    got = np.array([b[i] for i in ids])
    check(np.abs(got - z @ g).max() < 1e-9, "betas of another month = z Gamma")
    # ids= reports a subset but normalises over the whole month.
    st, js = d.get_json("/v1/models/ip/betas?month=2021-02&ids=S003,S001")
    check_eq([s["id"] for s in js["securities"]], ["S003", "S001"])
    check(np.abs(np.array(js["securities"][1]["beta"]) - b["S001"]).max() == 0)
    st, h, body = d.request("GET", "/v1/models/ip/betas?month=2021-02&ids=S001",
                            headers={"Accept": "text/csv"})
    check_eq(st, 200)
    lines = body.decode().strip().split("\n")
    check_eq(lines[0], "id,beta_1,beta_2")
    vals = np.array([float(x) for x in lines[1].split(",")[1:]])
    check(np.abs(vals - b["S001"]).max() < 1e-15, "CSV equals JSON")


def factor_of(d, panels, g, month, prev):
    ids0, _, _, z0 = arrays(panels[prev])
    ids1, r1, _, _ = arrays(panels[month])
    pos = {s: i for i, s in enumerate(ids1)}
    keep = [i for i, s in enumerate(ids0) if s in pos]
    B = (z0 @ g)[keep]
    r = np.array([r1[pos[ids0[i]]] for i in keep])
    return np.linalg.lstsq(B, r, rcond=None)[0]


@test
def factor_realisations_pair_characteristics_of_t_minus_1_with_returns_of_t():
    d, panels = setup()
    g = gamma_of(d, panels)
    st, js = d.get_json("/v1/models/ip/factors?from=2020-11&to=2021-03")
    check_eq(st, 200, str(js))
    for row in js["factors"]:
        m = row["month"]
        prev = MONTHS[MONTHS.index(m) - 1]
        want = factor_of(d, panels, g, m, prev)
        check(np.abs(np.array(row["f"]) - want).max() < 1e-9, f"f of {m}")
    st, h, _ = d.request("GET", "/v1/models/ip/factors?from=2020-11&to=2021-03")
    st2, _, body = d.request("GET", "/v1/models/ip/factors?from=2020-11&to=2021-03",
                             headers={"If-None-Match": h["etag"]})
    check_eq(st2, 304)
    check_eq(body, b"")


def lambda_at(d, panels, g, month):
    """Mean of every factor realisation known at the end of `month`."""
    fs = []
    for m in MONTHS[1:]:
        if m < TRAIN[0] or m > month:
            continue
        fs.append(factor_of(d, panels, g, m, MONTHS[MONTHS.index(m) - 1]))
    return np.mean(fs, axis=0)


@test
def expected_returns_use_characteristics_of_t_and_factors_known_at_t():
    d, panels = setup()
    g = gamma_of(d, panels)
    lam = lambda_at(d, panels, g, "2020-12")
    ids, _, _, z = arrays(panels["2020-12"])
    st, js = d.get_json("/v1/models/ip/expected-returns?month=2020-12")
    check_eq(st, 200, str(js))
    check_eq(js["forecast_month"], "2021-01")
    check(np.abs(np.array(js["lambda"]["values"]) - lam).max() < 1e-6, "lambda")
    check_eq(js["lambda"]["training_months"], 8)
    check_eq(js["lambda"]["estimator"], "prevailing")
    check_eq(js["lambda"]["months"], 11)
    check_eq(js["lambda"]["realised_months"], 3)
    er = {s["id"]: s["er"] for s in js["securities"]}
    want = z @ g @ lam
    check(max(abs(er[s] - want[i]) for i, s in enumerate(ids)) < 1e-6, "er = beta(z_t) lambda_t")


def deciles_ref(panels, er, month, nxt, weighting):
    ids, _, cap, _ = arrays(panels[month])
    nids, nret, _, _ = arrays(panels[nxt])
    npos = {s: i for i, s in enumerate(nids)}
    e = np.array([er[s] for s in ids])
    n = len(ids)
    order = np.argsort(e, kind="mergesort")
    rank = np.empty(n)
    rank[order] = np.arange(1, n + 1)  # no ties in continuous er
    bucket = np.floor((rank - 1) * 10 / n).astype(int)
    w = np.zeros(n)
    rets = []
    for b in range(10):
        mem = bucket == b
        if weighting == "equal":
            w[mem] = 1 / mem.sum()
        else:
            ok = mem & np.isfinite(cap)
            w[ok] = cap[ok] / cap[ok].sum()
        have = [i for i in np.flatnonzero(mem) if w[i] > 0 and ids[i] in npos]
        rr = np.array([nret[npos[ids[i]]] for i in have])
        ww = w[have]
        rets.append(float((ww * rr).sum() / ww.sum()))
    return ids, bucket, w, rets


@test
def decile_portfolios_match_with_equal_and_value_weights():
    d, panels = setup()
    st, js = d.get_json("/v1/models/ip/expected-returns?month=2021-01")
    er = {s["id"]: s["er"] for s in js["securities"]}
    for weighting in ("equal", "value"):
        st, js = d.get_json(f"/v1/models/ip/deciles?month=2021-01&weighting={weighting}")
        check_eq(st, 200, str(js))
        check(js["realised"], "2021-02 returns are stored")
        ids, bucket, w, rets = deciles_ref(panels, er, "2021-01", "2021-02", weighting)
        got = {s["id"]: s for s in js["securities"]}
        for i, s in enumerate(ids):
            check_eq(got[s]["portfolio"], int(bucket[i]) + 1, f"{weighting} bucket of {s}")
            check(abs(got[s]["weight"] - w[i]) < 1e-12, f"{weighting} weight of {s}")
        for b in range(10):
            check(abs(js["portfolios"][b]["return"] - rets[b]) < 1e-12, f"{weighting} return {b}")
        check(abs(js["long_short"]["return"] - (rets[9] - rets[0])) < 1e-12, "long-short")
        check(abs(js["long_only"]["return"] - rets[9]) < 1e-12, "long-only")
    check_eq(js["missing_mktcap"], 1)


@test
def inline_score_equals_stored_month():
    d, panels = setup()
    rows = panels["2020-12"]
    body = "id," + ",".join(f"c{j}" for j in range(P)) + "\n" + "\n".join(
        r[0] + "," + ",".join(repr(x) for x in r[3:]) for r in rows)
    st, h, raw = d.request("POST", "/v1/models/ip/score?month=2020-12", body=body,
                           headers={"Content-Type": "text/csv"})
    check_eq(st, 200, raw[:300])
    import json
    js = json.loads(raw)
    st, ref = d.get_json("/v1/models/ip/expected-returns?month=2020-12")
    want = {s["id"]: s["er"] for s in ref["securities"]}
    for s in js["securities"]:
        check(abs(s["er"] - want[s["id"]]) < 1e-15, f"er of {s['id']}")
    check_eq(len(js["deciles"]["portfolios"]), 10)


@test
def bad_requests_get_clear_4xx():
    d, _ = setup()
    cases = [
        ("GET", "/v1/models/ip/betas", 400, "missing_parameter"),
        ("GET", "/v1/models/ip/betas?month=2020-13", 400, "bad_month"),
        ("GET", "/v1/models/ip/betas?month=2019-01", 404, "no_panel"),
        ("GET", "/v1/models/ip/betas?month=2020-12&ids=NOPE", 404, "unknown_security"),
        ("GET", "/v1/models/nope/betas?month=2020-12", 404, "no_model"),
        ("GET", "/v1/models/ip/betas?month=2020-12&version=99", 404, "no_version"),
        ("GET", "/v1/models/ip/betas?month=2020-12&version=nolabel", 404, "no_label"),
        ("GET", "/v1/models/ip/deciles?month=2020-12&n=1", 400, "bad_parameter"),
        ("GET", "/v1/models/ip/deciles?month=2020-12&weighting=cap", 400, "bad_parameter"),
        ("GET", "/v1/models/ip/factors?from=2021-01&to=2020-01", 400, "bad_range"),
        ("GET", "/v1/models/ip/factors?month=2019-05", 404, "no_panel"),
        ("GET", "/v1/models/ip/expected-returns?month=2019-05", 404, "no_panel"),
    ]
    for method, path, status, code in cases:
        st, js = d.get_json(path)
        d.check_error(st, js, status, code)
    st, h, b = d.request("POST", "/v1/models/ip/score", body="id,zz\nA,1\n",
                         headers={"Content-Type": "text/csv"})
    d.check_error(st, b, 422, "missing_columns")
    st, h, b = d.request("POST", "/v1/models/ip/score", body="x", headers={"Content-Type": "text/xml"})
    d.check_error(st, b, 415)
    st, h, b = d.request("POST", "/v1/models/ip/score", body=b"", headers={"Content-Type": "text/csv"})
    d.check_error(st, b, 400, "empty_body")
    st, js, _ = d.json("PUT", "/v1/models/ip/labels/stable", {"version": 42})
    d.check_error(st, js, 404, "no_version")
    st, js, _ = d.json("PUT", "/v1/models/ip/labels/9bad", {"version": 1})
    d.check_error(st, js, 400, "bad_label")


@test
def label_moves_under_load_never_mix_versions():
    d, panels = setup()
    v2 = train(d, "ip", "2020-03", "2020-11", declare=False)
    ids = "S001,S002,S003,S004"
    ref = {}
    for v in (1, v2):
        st, js = d.get_json(f"/v1/models/ip/expected-returns?month=2021-01&ids={ids}&version={v}")
        ref[v] = [s["er"] for s in js["securities"]]
    check(ref[1] != ref[v2], "the two versions answer differently")
    d.json("PUT", "/v1/models/ip/labels/stable", {"version": 1})
    errors, seen, stop = [], set(), threading.Event()

    def client():
        while not stop.is_set():
            st, js = d.get_json(f"/v1/models/ip/expected-returns?month=2021-01&ids={ids}&version=stable")
            if st != 200:
                errors.append(st)
                continue
            v = js["version"]
            seen.add(v)
            if [s["er"] for s in js["securities"]] != ref[v]:
                errors.append(f"mixed answer for version {v}")

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    for i in range(30):
        st, js, _ = d.json("PUT", "/v1/models/ip/labels/stable", {"version": v2 if i % 2 == 0 else 1})
        check_eq(st, 200, str(js))
        time.sleep(0.02)
    stop.set()
    for t in threads:
        t.join()
    check_eq(errors, [])
    check_eq(seen, {1, v2})


def versions_live(d):
    st, h, body = d.request("GET", "/metrics")
    for line in body.decode().splitlines():
        if line.startswith("factord_model_versions_live "):
            return int(float(line.split()[1]))
    raise AssertionError("no factord_model_versions_live in /metrics")


@test
def retired_version_is_released():
    d, panels = setup()
    st, js = d.get_json("/v1/models/ip/versions")
    latest = max(v["version"] for v in js["versions"])
    d.json("DELETE", "/v1/models/ip/labels/stable")
    st, js = d.get_json(f"/v1/models/ip/betas?month=2020-12&version={latest}")
    check_eq(st, 200)
    before = versions_live(d)
    st, js, _ = d.json("POST", f"/v1/models/ip/versions/{latest}/retire")
    check_eq(st, 200, str(js))
    check_eq(versions_live(d), before - 1)
    st, js = d.get_json(f"/v1/models/ip/betas?month=2020-12&version={latest}")
    d.check_error(st, js, 409, "version_not_ready")


@test
def a_deleted_model_declared_again_is_not_served_old_versions():
    d, _ = setup()
    train(d, "tmp", *TRAIN)
    check_eq(len(betas(d, "tmp", "2020-12")["S001"]), K)  # version 1 now in memory
    st, js, _ = d.json("DELETE", "/v1/models/tmp")
    check_eq(st, 200, str(js))
    st, js, _ = d.json("POST", "/v1/models", {"name": "tmp", "kind": "ipca", "k": 1})
    check_eq(st, 201, str(js))
    st, js, _ = d.json("POST", "/v1/models/tmp/train", {"train": {"from": TRAIN[0], "to": TRAIN[1]}})
    for _ in range(600):
        st, j = d.get_json(f"/v1/jobs/{js['job']['id']}")
        if j["job"]["state"] in ("succeeded", "failed"):
            break
        time.sleep(0.1)
    check_eq(j["job"]["result"]["version"], 1)
    check_eq(len(betas(d, "tmp", "2020-12")["S001"]), 1)  # the new version 1, K = 1


@test
def a_version_that_fails_to_load_keeps_the_label_where_it_was():
    import sqlite3
    d, _ = setup()
    good = train(d, "ip", *TRAIN, declare=False)
    bad = train(d, "ip", *TRAIN, declare=False)
    st, js, _ = d.json("PUT", "/v1/models/ip/labels/prod", {"version": good})
    check_eq(st, 200, str(js))
    # Corrupt the stored weights of `bad` behind the daemon's back (checksum mismatch).
    con = sqlite3.connect(d.db_path, timeout=30)
    con.execute("UPDATE matrices SET data = zeroblob(length(data)) WHERE id = "
                "(SELECT weights_id FROM model_versions WHERE model = 'ip' AND version = ?)", (bad,))
    con.commit()
    con.close()
    st, js, _ = d.json("PUT", "/v1/models/ip/labels/prod", {"version": bad})
    d.check_error(st, js, 422, "version_failed")
    st, js = d.get_json("/v1/models/ip/betas?month=2020-12&ids=S001&version=prod")
    check_eq(st, 200, str(js))
    check_eq(js["version"], good)
    st, js = d.get_json(f"/v1/models/ip/versions/{bad}")
    check_eq(js["version"]["state"], "failed")
    check("checksum" in js["version"]["load_error"], js["version"]["load_error"])


@test
def labelled_versions_are_kept_from_delete_and_retire_unless_forced():
    d, _ = setup()
    v = train(d, "guarded", *TRAIN)
    check_eq(d.json("PUT", "/v1/models/guarded/labels/stable", {"version": v})[0], 200)
    st, js, _ = d.json("POST", f"/v1/models/guarded/versions/{v}/retire")
    err = d.check_error(st, js, 409, "version_labelled")
    check("stable" in err["message"] and "force" in err["message"], err)
    st, js, _ = d.json("DELETE", "/v1/models/guarded")
    err = d.check_error(st, js, 409, "model_labelled")
    check("stable -> version %d" % v in err["message"], err)
    d.check_error(*d.json("DELETE", "/v1/models/guarded?force=maybe")[:2], 400, "bad_parameter")
    # Nothing changed: the label still serves.
    check_eq(d.get_json("/v1/models/guarded/betas?month=2020-12&ids=S001&version=stable")[0], 200)
    # Forced retire removes the label with it, in one step.
    st, js, _ = d.json("POST", f"/v1/models/guarded/versions/{v}/retire?force=1")
    check_eq(st, 200, str(js))
    check_eq(d.get_json("/v1/models/guarded/labels")[1]["labels"], [])
    v2 = train(d, "guarded", *TRAIN, declare=False)
    check_eq(d.json("PUT", "/v1/models/guarded/labels/canary", {"version": v2})[0], 200)
    d.check_error(*d.json("DELETE", "/v1/models/guarded")[:2], 409, "model_labelled")
    check_eq(d.json("DELETE", "/v1/models/guarded?force=1")[0], 200)
    d.check_error(*d.get_json("/v1/models/guarded"), 404, "no_model")


@test
def training_bodies_are_strict():
    d, _ = setup()
    w = {"from": TRAIN[0], "to": TRAIN[1]}
    for body, field in (({"train": w, "epochs": 5}, "epochs"),
                        ({"train": w, "vaild": w}, "vaild"),
                        ({"train": dict(w, step=1)}, "train.step"),
                        ({"train": w, "valid": dict(w, too="x")}, "valid.too")):
        st, js, _ = d.json("POST", "/v1/models/ip/train", body)
        err = d.check_error(st, js, 400, "bad_window")
        check(err["message"].startswith(field + ": unknown field"), err)
    st, js = d.get_json("/v1/jobs?model=ip&state=queued")
    check_eq(js["jobs"], [])


@test
def deciles_with_more_portfolios_than_securities_are_422():
    d, panels = setup()
    n = len(panels["2020-12"])
    # Version 1: an earlier test leaves a corrupt latest version behind.
    st, js = d.get_json(f"/v1/models/ip/deciles?month=2020-12&n={n + 1}&version=1")
    err = d.check_error(st, js, 422, "too_few_securities")
    check("there are %d" % n in err["message"] and "2020-12" in err["message"], err)
    check_eq(d.get_json(f"/v1/models/ip/deciles?month=2020-12&n={n}&version=1")[0], 200)
    # Inline scoring of a handful still answers betas, without the portfolios.
    rows = panels["2020-12"][:3]
    body = "id," + ",".join(f"c{j}" for j in range(P)) + "\n" + "\n".join(
        r[0] + "," + ",".join(repr(x) for x in r[3:]) for r in rows)
    st, js, _ = d.json("POST", "/v1/models/ip/score?month=2020-12&version=1", body,
                       {"Content-Type": "text/csv"})
    check_eq((st, len(js["securities"]), js["deciles"]), (200, 3, None))
    check("10 portfolios" in js["deciles_skipped"], js)


PROVENANCE_HEADERS = ("x-factord-model", "x-factord-version", "x-factord-label",
                      "x-factord-month", "x-factord-forecast-month",
                      "x-factord-lambda-estimator", "x-factord-lambda-months")


@test
def every_scoring_answer_states_its_provenance_in_headers_and_body():
    import json
    d, panels = setup()
    check_eq(d.json("PUT", "/v1/models/ip/labels/prov", {"version": 1})[0], 200)
    body = "id," + ",".join(f"c{j}" for j in range(P)) + "\n" + "\n".join(
        r[0] + "," + ",".join(repr(x) for x in r[3:]) for r in panels["2020-12"])
    calls = [  # path, method, body, month, forecast, uses lambda
        ("/v1/models/ip/betas?month=2020-12", "GET", None, "2020-12", "2021-01", False),
        ("/v1/models/ip/factors?from=2020-11&to=2020-12", "GET", None, None, None, False),
        ("/v1/models/ip/expected-returns?month=2020-12", "GET", None, "2020-12", "2021-01", True),
        ("/v1/models/ip/deciles?month=2020-12", "GET", None, "2020-12", "2021-01", True),
        ("/v1/models/ip/score?month=2020-12", "POST", body, "2020-12", "2021-01", True),
    ]
    for path, method, payload, month, forecast, uses_lambda in calls:
        for ref, label in (("&version=prov", "prov"), ("&version=1", None)):
            hdrs = {"Content-Type": "text/csv"} if payload else {}
            st, h, raw = d.request(method, path + ref, body=payload, headers=hdrs)
            check_eq(st, 200, raw[:200])
            doc = json.loads(raw)
            prov = doc["provenance"]
            est, n = prov["lambda_estimator"], prov["lambda_months"]
            check_eq((prov["model"], prov["version"], prov["label"], prov["month"],
                      prov["forecast_month"]), ("ip", 1, label, month, forecast), path)
            check_eq((est, n is not None), ("prevailing", True) if uses_lambda else (None, False),
                     path)
            if uses_lambda:  # the same lambda the body details
                check_eq((doc["lambda"]["estimator"], doc["lambda"]["months"]), (est, n), path)
            want = {"x-factord-model": "ip", "x-factord-version": "1", "x-factord-label": label,
                    "x-factord-month": month, "x-factord-forecast-month": forecast,
                    "x-factord-lambda-estimator": est,
                    "x-factord-lambda-months": str(n) if n is not None else None}
            check_eq({k: h.get(k) for k in PROVENANCE_HEADERS}, want, path)
            # The CSV answer carries the same headers.
            st, h2, _ = d.request(method, path + ref, body=payload,
                                  headers=dict(hdrs, Accept="text/csv"))
            check_eq((st, h2["content-type"]), (200, "text/csv"), path)
            check_eq({k: h2.get(k) for k in PROVENANCE_HEADERS}, want, path)
    # The default version is addressed as "latest" (a model of its own: an earlier test
    # leaves ip's latest version corrupt).
    train(d, "fresh", *TRAIN)
    st, h, raw = d.request("GET", "/v1/models/fresh/betas?month=2020-12&ids=S001")
    check_eq((json.loads(raw)["provenance"]["label"], h.get("x-factord-label")),
             ("latest", "latest"))
    d.json("DELETE", "/v1/models/ip/labels/prov")


@test
def deciles_and_inline_scores_answer_csv_with_the_json_numbers():
    import csv
    import io
    import json
    d, panels = setup()
    q = "/v1/models/ip/deciles?month=2020-12&version=1"
    js = d.get_json(q)[1]
    st, h, raw = d.request("GET", q, headers={"Accept": "text/csv"})
    check_eq((st, h["content-type"]), (200, "text/csv"))
    rows = list(csv.DictReader(io.StringIO(raw.decode())))
    check_eq(list(rows[0].keys()), ["id", "er", "portfolio", "weight"])
    check_eq(len(rows), len(js["securities"]))
    for row, sec in zip(rows, js["securities"]):
        check_eq((row["id"], float(row["er"]), int(row["portfolio"]), float(row["weight"])),
                 (sec["id"], sec["er"], sec["portfolio"], sec["weight"]))
    body = "id," + ",".join(f"c{j}" for j in range(P)) + "\n" + "\n".join(
        r[0] + "," + ",".join(repr(x) for x in r[3:]) for r in panels["2020-12"][:12])
    q = "/v1/models/ip/score?month=2020-12&version=1"
    st, _, raw = d.request("POST", q, body=body, headers={"Content-Type": "text/csv"})
    sj = json.loads(raw)
    st, h, raw = d.request("POST", q, body=body, headers={"Content-Type": "text/csv",
                                                          "Accept": "text/csv"})
    check_eq((st, h["content-type"]), (200, "text/csv"))
    rows = list(csv.DictReader(io.StringIO(raw.decode())))
    check_eq(list(rows[0].keys()), ["id"] + [f"beta_{k + 1}" for k in range(K)] + ["er"])
    for row, sec in zip(rows, sj["securities"]):
        check_eq((row["id"], [float(row[f"beta_{k + 1}"]) for k in range(K)], float(row["er"])),
                 (sec["id"], sec["beta"], sec["er"]))


if __name__ == "__main__":
    try:
        run()
    finally:
        if "d" in _state:
            _state["d"].stop()
            _state["d"].cleanup()
