"""The monthly job (factorctl monthly, clients/python/factord/monthly.py) against the real
daemon, and its systemd units.

The daemon holds 2019-01..2020-11; the job for 2020-12 pushes that month's panel from a
CSV file named in its config, rolls one IPCA model (moving its label), refits another from
a fixed start, scores both and writes CSV files with the version used, equal to what the
API answers for that version. Re-running the month is a no-op, --force reuses the version
trained on the same windows, and a bad config or a missing panel fails with a message
naming the key or the step. systemd-analyze verify accepts both units."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from factord_harness import ROOT, Daemon, check, check_eq, run, test  # noqa: E402
from synthetic_frames import CHARS, month_frame, synthetic_long  # noqa: E402

PKG = os.path.join(ROOT, "clients", "python")
sys.path.insert(0, PKG)
from factord import Client  # noqa: E402

CONFIG = """
[daemon]
url = http://127.0.0.1:1   ; FACTORD_URL (the test's daemon) overrides this
[data]
panel = {dir}/feed/panel-{{month}}.csv
[output]
dir = {dir}/out
[model rolled]
action = roll
train_months = 12
valid_months = 3
label = stable
[model refitted]
action = refit
train_from = 2019-02
valid_months = 0
outputs = expected-returns
"""


def factorctl(d, *args):
    env = dict(os.environ, PYTHONPATH=PKG, FACTORD_URL=f"http://127.0.0.1:{d.port}",
               FACTORD_TOKEN=d.token or "")
    return subprocess.run([sys.executable, "-m", "factord", *args], capture_output=True,
                          text=True, env=env, timeout=300)


def setup(d):
    c = Client(f"http://127.0.0.1:{d.port}", token=d.token)
    long = synthetic_long()
    c.import_long(long[long["date"] < "2020-12"])
    for name in ("rolled", "refitted"):
        c.create_model(name, "ipca", 2, columns=CHARS, excess_returns=False)
    os.makedirs(os.path.join(d.dir, "feed"))
    month_frame(long, "2020-12").to_csv(os.path.join(d.dir, "feed", "panel-2020-12.csv"))
    path = os.path.join(d.dir, "monthly.conf")
    with open(path, "w") as f:
        f.write(CONFIG.format(dir=d.dir))
    return c, path


@test
def monthly_job_pushes_rolls_refits_scores_and_records_the_version():
    with Daemon() as d:
        c, conf = setup(d)
        r = factorctl(d, "monthly", "--config", conf, "--month", "2020-12")
        check_eq(r.returncode, 0, r.stdout + r.stderr)
        check_eq(int(c.panels().loc["2020-12", "rows"]), 40)
        out = os.path.join(d.dir, "out", "2020-12")
        with open(os.path.join(out, "manifest.json")) as f:
            man = json.load(f)
        check_eq((man["month"], man["forecast_month"]), ("2020-12", "2021-01"))
        by = {m["model"]: m for m in man["models"]}
        check_eq(by["rolled"]["version"], 1)
        check_eq(sorted(by["rolled"]["files"]), ["betas", "deciles", "expected-returns"])
        check_eq(sorted(by["refitted"]["files"]), ["expected-returns"])
        v = c.get("/v1/models/rolled/versions/1")["version"]
        check_eq((v["train"], v["valid"]), ({"from": "2019-10", "to": "2020-09"},
                                            {"from": "2020-10", "to": "2020-12"}))
        w = c.get("/v1/models/refitted/versions/1")["version"]
        check_eq(w["train"], {"from": "2019-02", "to": "2020-12"})
        check_eq(c.labels("rolled"), {"stable": 1})
        for model, what in [("rolled", "expected-returns"), ("rolled", "betas"),
                            ("refitted", "expected-returns")]:
            with open(os.path.join(out, f"{model}.v1.{what}.csv")) as f:
                got = f.read()
            want = c.get(f"/v1/models/{model}/{what}", {"month": "2020-12", "version": 1},
                         accept="text/csv")
            check_eq(got, want, f"{model} {what}")
        with open(os.path.join(out, "rolled.v1.deciles.csv")) as f:
            lines = f.read().splitlines()
        dec = c.get("/v1/models/rolled/deciles", {"month": "2020-12", "version": 1})
        check_eq(lines[0], "id,er,portfolio,weight")
        check_eq(len(lines) - 1, len(dec["securities"]))
        first = dec["securities"][0]
        check_eq(lines[1].split(","), [first["id"], repr(first["er"]), str(first["portfolio"]),
                                       repr(first["weight"])])

        again = factorctl(d, "monthly", "--config", conf, "--month", "2020-12")
        check_eq(again.returncode, 0, again.stderr)
        check("already done" in again.stdout, again.stdout)
        forced = factorctl(d, "monthly", "--config", conf, "--month", "2020-12", "--force")
        check_eq(forced.returncode, 0, forced.stderr)
        check("reused" in forced.stdout, forced.stdout)
        check_eq(len(c.versions("rolled")), 1)
        check_eq(len(c.versions("refitted")), 1)


@test
def monthly_job_from_daily_bars_builds_the_panels_first():
    """[data] prices and factors: the shipped sample's daily bars and Ken French file are
    pushed, the panels built from them (waiting for the build's job if it runs as one),
    then the model rolled and scored on the month built."""
    sample = os.path.join(ROOT, "data", "sample")
    with Daemon() as d:
        c = Client(f"http://127.0.0.1:{d.port}", token=d.token)
        c.create_model("bars", "ipca", 2, columns=["mom1m", "mom12m", "retvol", "dolvol"],
                       excess_returns=True, add_constant=True)
        conf = os.path.join(d.dir, "bars.conf")
        with open(conf, "w") as f:
            f.write(f"""[data]
prices = {sample}/daily_ohlcv_sample.csv.gz
factors = {sample}/F-F_Research_Data_Factors.csv
factors_units = percent
factors_format = french
[output]
dir = {d.dir}/out
[model bars]
action = roll
train_months = 36
valid_months = 12
outputs = expected-returns
""")
        r = factorctl(d, "monthly", "--config", conf, "--month", "2017-06")
        check_eq(r.returncode, 0, r.stdout + r.stderr)
        check("panels built" in r.stdout, r.stdout)
        check(c.panels().index[-1].strftime("%Y-%m") >= "2017-06", "panels built to 2017-06")
        with open(os.path.join(d.dir, "out", "2017-06", "manifest.json")) as f:
            man = json.load(f)
        check_eq(man["models"][0]["version"], 1)
        v = c.get("/v1/models/bars/versions/1")["version"]
        check_eq((v["train"], v["valid"]), ({"from": "2013-07", "to": "2016-06"},
                                            {"from": "2016-07", "to": "2017-06"}))
        with open(os.path.join(d.dir, "out", "2017-06", "bars.v1.expected-returns.csv")) as f:
            check_eq(f.read(), c.get("/v1/models/bars/expected-returns",
                                     {"month": "2017-06", "version": 1}, accept="text/csv"))


@test
def bad_configs_and_missing_data_fail_naming_the_key_or_step():
    with Daemon() as d:
        c, conf = setup(d)
        with open(conf) as f:
            text = f.read()
        for old, new, needle in [
                ("label = stable\n", "label = stable\nwindow = 3\n", "[model rolled]: unknown key(s) window"),
                ("action = refit\n", "action = retrain\n", "[model refitted] action: expected one of"),
                ("train_months = 12\n", "", "[model rolled] action = roll needs train_months"),
                ("train_months = 12\n", "train_months = many\n", "train_months: expected an integer"),
                ("[output]", "[extra]\n[output]", "[extra]: unknown section")]:
            path = os.path.join(d.dir, "bad.conf")
            with open(path, "w") as f:
                f.write(text.replace(old, new))
            r = factorctl(d, "monthly", "--config", path, "--month", "2020-12")
            check_eq(r.returncode, 2, r.stderr)
            check(needle in r.stderr, f"{needle!r} in {r.stderr!r}")
        r = factorctl(d, "monthly", "--config", conf, "--month", "2021-01")
        check_eq(r.returncode, 1, r.stdout + r.stderr)
        check("panel-2021-01.csv" in r.stderr, r.stderr)
        r = factorctl(d, "monthly", "--config", conf, "--month", "2020-13")
        check_eq(r.returncode, 2, r.stderr)
        check("--month: expected YYYY-MM" in r.stderr, r.stderr)


@test
def shipped_sample_config_parses_and_plans():
    """etc/factord-monthly.conf, as installed by the runbook, is valid: --dry-run prints each
    model's plan and touches no daemon (its url points nowhere here)."""
    r = subprocess.run([sys.executable, "-m", "factord", "monthly", "--config",
                        os.path.join(ROOT, "etc", "factord-monthly.conf"), "--month", "2017-09",
                        "--dry-run"], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, PYTHONPATH=PKG, FACTORD_URL="http://127.0.0.1:1"))
    check_eq(r.returncode, 0, r.stderr)
    check_eq(r.stdout.splitlines(), [
        'demo-ipca: roll: {"train": {"from": "2011-10", "to": "2016-09"}, "valid": {"from": '
        '"2016-10", "to": "2017-09"}}; label stable; outputs expected-returns, betas, deciles',
        "demo-ca2: score: no training; label (none); outputs expected-returns, deciles"])


@test
def systemd_units_pass_systemd_analyze_verify():
    sa = shutil.which("systemd-analyze")
    if not sa:
        print("SKIP systemd-analyze is not installed (.ci/install-deps installs systemd)")
        return
    tmp = tempfile.mkdtemp(prefix="factord-units-")
    try:
        # The unit's ExecStart exists only once installed: point it at a stand-in script.
        stub = os.path.join(tmp, "factorctl")
        with open(stub, "w") as f:
            f.write("#!/bin/sh\n")
        os.chmod(stub, 0o755)
        units = []
        for name in ("factord-monthly.service", "factord-monthly.timer"):
            with open(os.path.join(ROOT, "systemd", name)) as f:
                text = f.read()
            if name.endswith(".service"):
                check("ExecStart=/opt/factord/venv/bin/factorctl monthly" in text, "ExecStart")
                text = text.replace("/opt/factord/venv/bin/factorctl", stub)
            else:
                check("Persistent=true" in text and "OnCalendar=" in text, "timer keys")
            units.append(os.path.join(tmp, name))
            with open(units[-1], "w") as f:
                f.write(text)
        r = subprocess.run([sa, "verify", *units], capture_output=True, text=True, timeout=120)
        check_eq((r.returncode, r.stdout + r.stderr), (0, ""), "systemd-analyze verify")
        r = subprocess.run([sa, "calendar", "*-*-01 06:00:00"], capture_output=True, text=True)
        check_eq(r.returncode, 0, r.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run()
