"""The demo's out-of-sample report in pandas (run after `make demo`; FACTORD_URL, FACTORD_TOKEN).
Installed client: `pip install ./clients/python`; from a clone, the path line below finds it."""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients", "python"))
import pandas as pd
from factord import Client

c = Client()
rows = {}
for model in ["demo-ipca", "demo-ca2"]:
    ev = c.evaluation(model, "2014-01", "2017-10")          # latest version, out of sample
    ls = ev.strategies.loc["ew_ls"]                          # equal-weighted decile long-short
    rows[model] = {"total R2 (r)": ev.r2.total_r, "pred. R2 (r)": ev.r2.pred_r,
                   "total R2 (x)": ev.r2.total_x, "LS Sharpe": ls.sharpe,
                   "LS Sharpe net": ls.sharpe_net, "rank IC": ev.ic.rank_mean, "months": ev.months}
report = pd.DataFrame(rows).T
print("| model | " + " | ".join(report.columns) + " |\n|---|" + "---:|" * len(report.columns))
for name, r in report.iterrows():
    cells = [f"{100 * r[k]:7.2f}%" for k in report.columns[:3]] + \
            [f"{r[k]:7.2f}" for k in report.columns[3:6]] + [f"{int(r['months'])}"]
    print(f"| {name} | " + " | ".join(cells) + " |")
