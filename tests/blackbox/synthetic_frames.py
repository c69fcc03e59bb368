"""A small synthetic long panel as a pandas DataFrame, for the client and monthly-job tests:
N securities, P characteristics (c1..c3), T months from 2019-01, returns r_t = z_{t-1}'
Gamma f_t + noise, a market cap, and one missing characteristic (row 3, c2)."""
import numpy as np
import pandas as pd

N, P, T = 40, 3, 24
MONTHS = pd.period_range("2019-01", periods=T, freq="M")
CHARS = [f"c{j + 1}" for j in range(P)]


def synthetic_long(seed=3):
    """Long panel: id, date (Period), ret, mktcap, c1..c3; returns from z of t-1."""
    rng = np.random.default_rng(seed)
    gamma = rng.normal(0, 0.5, (P, 2))
    z = rng.uniform(-1, 1, (N, P))
    frames = []
    for m in MONTHS:
        f = rng.normal(0.01, 0.05, 2)
        r = z @ gamma @ f + rng.normal(0, 0.02, N)
        z = np.clip(0.9 * z + rng.normal(0, 0.2, (N, P)), -3, 3)
        df = pd.DataFrame(z, columns=CHARS)
        df.insert(0, "mktcap", np.exp(rng.normal(6, 1, N)))
        df.insert(0, "ret", r)
        df.insert(0, "date", m)
        df.insert(0, "id", [f"S{i:02d}" for i in range(N)])
        frames.append(df)
    long = pd.concat(frames, ignore_index=True)
    long.loc[3, "c2"] = np.nan  # one missing characteristic
    return long


def month_frame(long, month):
    return long[long["date"] == pd.Period(month, "M")].drop(columns="date").set_index("id")
