#!/usr/bin/python3
"""factord's demo on the shipped real sample (data/sample): load daily bars and Fama-French
factors, build monthly characteristics, train IPCA and CA2 on a training/validation split,
evaluate both out of sample and print a short report and the next HTTP calls to try.

Expects a daemon at FACTORD_URL (clients/demo starts one). FACTORD_DEMO_SMALL=1 trains
fewer epochs (CI)."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "python"))
from factord import Client, FactordError  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = os.path.join(ROOT, "data", "sample")
URL = os.environ.get("FACTORD_URL", "http://127.0.0.1:8080")
SMALL = os.environ.get("FACTORD_DEMO_SMALL") == "1"
TRAIN = {"from": "2006-02", "to": "2011-12"}
VALID = {"from": "2012-01", "to": "2013-12"}
TEST = ("2014-01", "2017-10")
T0 = time.time()


def step(msg):
    print(f"[{time.time() - T0:6.1f}s] {msg}", flush=True)


def show_progress(name):
    last = [-1.0]

    def cb(job):
        p = job.get("progress") or 0.0
        if p - last[0] >= 0.1 or job["state"] != "running":
            losses = job.get("losses") or []
            tail = ""
            if losses:
                lo = losses[-1]
                tail = f"  epoch {lo.get('epoch')}  train {lo.get('train'):.3g}"
                if lo.get("valid") is not None:
                    tail += f"  valid {lo.get('valid'):.3g}"
            step(f"  {name}: {job['state']} {100 * p:5.1f}%{tail}")
            last[0] = p
    return cb


def fmt(x, pct=False):
    if x is None:
        return "n/a"
    return f"{100 * x:7.2f}%" if pct else f"{x:7.2f}"


def main():
    c = Client(URL)
    step(f"factord at {URL}: {c.get('/readyz')['status']}")
    step("loading daily bars (60 US stocks, 2005-2017) ...")
    r = c.put_file("/v1/prices", os.path.join(SAMPLE, "daily_ohlcv_sample.csv.gz"), "text/csv")
    step(f"  {r.get('rows')} bars, {r.get('tickers')} tickers, "
         f"{r.get('first_date', r.get('first'))} .. {r.get('last_date', r.get('last'))}")
    step("loading Fama-French factors (raw Ken French files, percent) ...")
    for f in ("F-F_Research_Data_Factors.csv", "F-F_Momentum_Factor.csv"):
        r = c.put_file("/v1/factors?units=percent&format=french", os.path.join(SAMPLE, f), "text/csv")
        step(f"  {f}: {r['months']} months of {', '.join(r['factors'])}")
    step("building monthly returns and price/volume characteristics ...")
    r = c.build_panels()
    counts, out = r.get("counts", {}), r.get("outliers", {})
    listed = ", ".join(f"{o['id']} {o['month']} ({100 * o['ret']:+.0f}%)"
                       for o in out.get("rows", [])[:5])
    step(f"  {r.get('months')} monthly panels ({r.get('first_month')}..{r.get('last_month')}), "
         f"{r.get('panel_rows')} security-months; {out.get('count', 0)} monthly returns beyond "
         f"{100 * out.get('threshold', 1):.0f}% ({out.get('action', 'cap')}: {listed}), "
         f"{counts.get('zero_volume_days', 0)} zero-volume days, "
         f"{counts.get('late_tickers', 0)} late tickers")
    # Two characteristics carry nothing in this large-cap sample and are left out: every
    # stock has a positive beta, so betasq ranks exactly like beta (identical columns after
    # rank normalisation), and no stock has zero-volume days, so zerotrade is constant.
    # IPCA answers 422 naming such columns rather than fitting them.
    cols = [c for c in r.get("columns", []) if c not in ("betasq", "zerotrade")]
    step(f"  characteristics used: {', '.join(cols)} (betasq duplicates beta's ranks and "
         "zerotrade is always 0 here)")
    models = {
        "demo-ipca": {"kind": "ipca", "k": 3, "add_constant": True, "hyper": {}, "columns": cols},
        "demo-ca2": {"kind": "ca2", "k": 3, "columns": cols, "hyper": {
            "seed": 7, "epochs": 20 if SMALL else 200, "patience": 20, "lr": 0.003,
            "l1": 1e-5, "ensemble": 2 if SMALL else 5}},
    }
    versions = {}
    for name, spec in models.items():
        try:
            c.delete(f"/v1/models/{name}", params={"force": 1})  # a re-run starts afresh
        except FactordError:
            pass
        c.post("/v1/models", dict(spec, name=name, excess_returns=True))
        step(f"training {name} ({spec['kind']}, K={spec['k']}) on {TRAIN['from']}..{TRAIN['to']}, "
             f"validation {VALID['from']}..{VALID['to']} ...")
        job = c.post(f"/v1/models/{name}/train", {"train": TRAIN, "valid": VALID})["job"]
        job = c.wait_job(job["id"], progress=show_progress(name))
        if job["state"] != "succeeded":
            print(f"training {name} failed: {job.get('error')}", file=sys.stderr)
            return 1
        versions[name] = job["result"]["version"]
    step(f"evaluating out of sample on {TEST[0]}..{TEST[1]} (refits: none; lambda grows "
         "with each realised month) ...")
    rows = []
    for name in models:
        ev = c.get(f"/v1/models/{name}/evaluation?version={versions[name]}"
                   f"&from={TEST[0]}&to={TEST[1]}")
        s = ev["strategies"]["ew_ls"]
        rows.append((name, ev["r2"]["total_r"], ev["r2"]["pred_r"], ev["r2"]["total_x"],
                     s["sharpe"], s["sharpe_net"], ev["ic"]["rank_mean"], ev["months"]))
    print()
    print("Out-of-sample report (excess returns; equal-weighted decile long-short, 30 bp cost)")
    print()
    print("| model | total R2 (r) | pred. R2 (r) | total R2 (x) | LS Sharpe | LS Sharpe net | rank IC | months |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, tr, pr, tx, sh, shn, ric, months in rows:
        print(f"| {name} | {fmt(tr, True)} | {fmt(pr, True)} | {fmt(tx, True)} | {fmt(sh)} | "
              f"{fmt(shn)} | {fmt(ric)} | {months} |")
    print()
    print("Value-weighted deciles need market caps; the daily sample has none (no shares "
          "outstanding), so they are not reported here.")
    print()
    print(f"Done in {time.time() - T0:.0f} s. Next calls to try:")
    m = "demo-ipca"
    for call in [
        f"curl -s '{URL}/v1/panels'",
        f"curl -s '{URL}/v1/models/{m}/versions'",
        f"curl -s '{URL}/v1/models/{m}/betas?month=2017-09&ids=AAPL,MSFT'",
        f"curl -s '{URL}/v1/models/{m}/factors?from=2014-01&to=2017-10' -H 'Accept: text/csv'",
        f"curl -s '{URL}/v1/models/{m}/expected-returns?month=2017-10'",
        f"curl -s '{URL}/v1/models/{m}/deciles?month=2017-09'",
        f"curl -s -X PUT '{URL}/v1/models/{m}/labels/stable' -d '{{\"version\": {versions[m]}}}'",
        f"curl -s '{URL}/v1/models/demo-ca2/evaluation?from={TEST[0]}&to={TEST[1]}&importance=1'",
        f"curl -s '{URL}/metrics'",
    ]:
        print("  " + call)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except FactordError as e:
        print(f"demo: {e}", file=sys.stderr)
        sys.exit(1)
