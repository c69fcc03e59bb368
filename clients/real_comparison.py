#!/usr/bin/python3
"""Rolling backtests of IPCA and CA1 (K = 1, 3, 5) on the shipped real sample, as in the
README's comparison table. Run after `make demo` (which loads the sample and builds the
panels) against the daemon it left running, then print the tables with
    build/factord report --db demo-state/factord.db --backtests <the ids printed>
Windows: 60 months training, 12 validation, 12 test, rolled yearly from 2006-02.
Characteristics: those the sample supports (betasq and zerotrade carry nothing here:
every beta is positive and no stock has a zero-volume day)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "python"))
from factord import Client  # noqa: E402

URL = os.environ.get("FACTORD_URL", "http://127.0.0.1:8080")
COLS = ["mom1m", "mom6m", "mom12m", "mom36m", "chmom", "maxret", "retvol", "beta", "idiovol",
        "dolvol", "std_dolvol", "ill"]
MODELS = [("ipca", {}, True),
          ("ca1", {"seed": 3, "epochs": 100, "patience": 10, "lr": 0.003, "ensemble": 3}, False)]


def main():
    c = Client(URL)
    ids = []
    for kind, hyper, const in MODELS:
        for k in (1, 3, 5):
            b = c.post("/v1/backtests", {
                "name": f"real-{kind}-k{k}",
                "model": {"kind": kind, "k": k, "hyper": hyper, "columns": COLS,
                          "excess_returns": True, "add_constant": const},
                "windows": {"train": 60, "valid": 12, "test": 12, "step": 12},
                "start": "2006-02"})
            ids.append(b["backtest"]["id"])
    for i in ids:
        job = c.wait_job(i)
        print(f"backtest {i}: {job['state']}", file=sys.stderr)
        if job["state"] != "succeeded":
            print(job.get("error"), file=sys.stderr)
            return 1
    print(",".join(map(str, ids)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
