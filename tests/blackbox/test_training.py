"""Black-box tests of training as a service (issue 3 part 4): declaring models, training jobs
with progress and losses, cancelling, bad inputs, versions that survive a restart, and
`factord train` running against the database a daemon serves.

The panel is simulated here with a fixed numpy seed: persistent characteristics z, two
factors f and r_t = z_{t-1}' Gamma f_t + noise, PUT month by month through /v1/panels."""

import json
import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from factord_harness import FACTORD_BIN, Daemon, check, check_eq, run, test  # noqa: E402

N, P, K = 80, 5, 2
FIRST_YEAR, N_MONTHS = 2010, 30


def month_key(i):
    return "%04d-%02d" % (FIRST_YEAR + i // 12, i % 12 + 1)


def simulate(seed=7):
    """[(month, body)] with body in the columnar JSON form PUT /v1/panels accepts."""
    rng = np.random.default_rng(seed)
    gamma = rng.normal(0, 1, (P, K))
    z = rng.normal(0, 1, (N, P))
    months = []
    for t in range(N_MONTHS):
        f = np.array([0.02, 0.01]) + rng.normal(0, 0.05, K)
        ret = z @ gamma @ f + rng.normal(0, 0.02, N) if t else np.full(N, np.nan)
        z = 0.9 * z + rng.normal(0, 0.3, (N, P))  # characteristics known at the end of t
        rows = []
        for i in range(N):
            r = None if np.isnan(ret[i]) else float(ret[i])
            rows.append(["S%03d" % i, r] + [float(v) for v in z[i]])
        months.append((month_key(t), {"columns": ["id", "ret"] + ["c%d" % j for j in range(P)],
                                      "rows": rows}))
    return months


PANELS = simulate()
TRAIN = {"from": month_key(1), "to": month_key(20)}
VALID = {"from": month_key(21), "to": month_key(29)}


def load_panels(d):
    for month, body in PANELS:
        status, doc, _ = d.json("PUT", "/v1/panels/" + month, body)
        check(status in (200, 201), "PUT panel %s: %s %r" % (month, status, doc))


def declare(d, name, kind, hyper=None, k=K, want=201):
    body = {"name": name, "kind": kind, "k": k}
    if hyper is not None:
        body["hyper"] = hyper
    status, doc, headers = d.json("POST", "/v1/models", body)
    check_eq(status, want, "declare %s (%r)" % (name, doc))
    if want == 201:
        check_eq(headers.get("location"), "/v1/models/" + name)
        check_eq(doc["model"]["kind"], kind)
    return doc


def train(d, name, windows=None):
    status, doc, headers = d.json("POST", "/v1/models/%s/train" % name,
                                  windows or {"train": TRAIN, "valid": VALID})
    check_eq(status, 202, "train %s (%r)" % (name, doc))
    job = doc["job"]
    check_eq(job["state"], "queued")
    check_eq(headers.get("location"), "/v1/jobs/%d" % job["id"])
    return job["id"]


def wait_job(d, job_id, states=("succeeded", "failed", "cancelled"), timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, doc = d.get_json("/v1/jobs/%d" % job_id)
        check_eq(status, 200)
        if doc["job"]["state"] in states:
            return doc["job"]
        time.sleep(0.05)
    raise AssertionError("job %d never reached %s: %r" % (job_id, states, doc))


@test
def ipca_and_ca1_train_to_versions_with_progress_and_losses():
    with Daemon() as d:
        load_panels(d)
        declare(d, "lin", "ipca")
        declare(d, "ae", "ca1", {"seed": 1, "epochs": 30, "patience": 30})
        for name in ("lin", "ae"):
            job = wait_job(d, train(d, name))
            check_eq(job["state"], "succeeded", "job %r" % job)
            check_eq(job["result"], {"model": name, "version": 1})
            check_eq(job["progress"], 1.0)
            check(job["losses"], "no losses recorded: %r" % job)
            check(job["started_at"] and job["finished_at"], "timestamps: %r" % job)
            status, doc = d.get_json("/v1/models/%s/versions" % name)
            check_eq(status, 200)
            versions = doc["versions"]
            check_eq([v["version"] for v in versions], [1])
            v = versions[0]
            check_eq(v["state"], "ready")
            check_eq(v["train"], TRAIN)
            check_eq(v["valid"], VALID)
            check_eq(v["spec"]["col_names"], ["c%d" % j for j in range(P)])
            stats = v["fit_stats"]
            check_eq(stats["in_sample"]["periods"], 20)
            check(stats["in_sample"]["total_r2"] > 0.3, "in-sample R^2 %r" % stats)
            check(stats["valid"]["total_r2"] is not None, "validation R^2 %r" % stats)
            check_eq(d.get_json("/v1/models/%s/versions/1" % name)[1]["version"]["version"], 1)
            check_eq(d.get_json("/v1/models/%s" % name)[1]["model"]["latest_version"], 1)
        # Losses are per epoch: CA ran at most its 30 epochs. Lists give only their count.
        status, doc = d.get_json("/v1/jobs?model=ae")
        check_eq(status, 200)
        check_eq(len(doc["jobs"]), 1)
        check(1 <= doc["jobs"][0]["n_losses"] <= 30, "losses %r" % doc["jobs"][0])
        check("losses" not in doc["jobs"][0], "list carries loss histories")
        status, doc = d.get_json("/v1/jobs?state=succeeded")
        check_eq(len(doc["jobs"]), 2)


@test
def requests_answer_while_a_model_trains_and_running_jobs_cancel():
    with Daemon() as d:
        load_panels(d)
        declare(d, "slow", "ca2", {"seed": 3, "epochs": 100000, "patience": 100000})
        job_id = train(d, "slow", {"train": TRAIN})
        wait_job(d, job_id, states=("running",))
        for _ in range(10):
            for path in ("/livez", "/v1/panels"):
                t0 = time.monotonic()
                status, _, _ = d.request("GET", path, timeout=10)
                check_eq(status, 200, path)
                check(time.monotonic() - t0 < 2.0, "%s took %.2f s during training"
                      % (path, time.monotonic() - t0))
        # Progress and losses show up while it runs.
        deadline = time.monotonic() + 30
        while True:
            job = d.get_json("/v1/jobs/%d" % job_id)[1]["job"]
            if job["losses"] or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        check_eq(job["state"], "running")
        check(job["losses"] and job["heartbeat_at"], "no progress while running: %r" % job)
        # The model cannot be deleted under its job.
        status, doc, _ = d.json("DELETE", "/v1/models/slow")
        d.check_error(status, doc, 409, "model_busy")
        status, doc, _ = d.json("DELETE", "/v1/jobs/%d" % job_id)
        check_eq(status, 202, "cancel running: %r" % doc)
        check(doc["job"]["cancel_requested"], "cancel flag: %r" % doc)
        job = wait_job(d, job_id, timeout=60)
        check_eq(job["state"], "cancelled")
        check_eq(d.get_json("/v1/models/slow/versions")[1]["versions"], [])
        status, doc, _ = d.json("DELETE", "/v1/jobs/%d" % job_id)
        d.check_error(status, doc, 409, "job_finished")
        # A queued job cancels at once: two jobs on one training thread, cancel the second.
        # The training thread claims `first` asynchronously; until it has, `first` is queued
        # too and would cancel at once (200), so wait for it to run before queueing `second`.
        first = train(d, "slow", {"train": TRAIN})
        wait_job(d, first, states=("running",))
        second = train(d, "slow", {"train": TRAIN})
        status, doc, _ = d.json("DELETE", "/v1/jobs/%d" % second)
        check_eq(status, 200, "cancel queued: %r" % doc)
        check_eq(doc["job"]["state"], "cancelled")
        check_eq(d.json("DELETE", "/v1/jobs/%d" % first)[0], 202)
        check_eq(wait_job(d, first, timeout=60)["state"], "cancelled")
        check_eq(d.json("DELETE", "/v1/models/slow")[0], 200)


@test
def bad_inputs_get_clear_4xx_answers():
    with Daemon() as d:
        load_panels(d)
        err = d.check_error(*d.json("POST", "/v1/models", {"name": "x", "kind": "nope",
                                                           "k": 1})[:2], 400, "unknown_kind")
        check("ipca" in err["message"], err["message"])
        d.check_error(*d.json("POST", "/v1/models", {"name": "bad name", "kind": "ipca",
                                                     "k": 1})[:2], 400)
        d.check_error(*d.json("POST", "/v1/models", {"name": "x", "kind": "ipca", "k": 0})[:2],
                      400)
        d.check_error(*d.json("POST", "/v1/models", {"name": "x", "kind": "ipca", "k": 1,
                                                     "hyper": {"nope": 1}})[:2], 400)
        status, _, body = d.request("POST", "/v1/models", "{not json",
                                    {"Content-Type": "application/json"})
        d.check_error(status, body, 400, "bad_json")
        declare(d, "lin", "ipca")
        d.check_error(*d.json("POST", "/v1/models", {"name": "lin", "kind": "ipca",
                                                     "k": 1})[:2], 409, "model_exists")
        d.check_error(*d.json("POST", "/v1/models/ghost/train", {"train": TRAIN})[:2], 404)
        d.check_error(*d.json("GET", "/v1/models/ghost")[:2], 404)
        d.check_error(*d.json("DELETE", "/v1/models/ghost")[:2], 404)
        d.check_error(*d.json("GET", "/v1/models/ghost/versions")[:2], 404)
        d.check_error(*d.json("GET", "/v1/models/lin/versions/7")[:2], 404)
        for windows in ({"train": {"from": "2011-05", "to": "2010-05"}},
                        {"train": {"from": "2010-13", "to": "2011-05"}},
                        {"train": TRAIN, "valid": {"from": TRAIN["to"], "to": "2012-01"}},
                        {"valid": VALID}):
            d.check_error(*d.json("POST", "/v1/models/lin/train", windows)[:2], 400,
                          "bad_window")
        # 2009-12 (before the first return month) and 2013-01.. are not stored.
        err = d.check_error(*d.json("POST", "/v1/models/lin/train",
                                    {"train": {"from": month_key(0), "to": month_key(29)},
                                     "valid": {"from": "2013-01", "to": "2013-02"}})[:2],
                            422, "missing_panels")
        for month in ("2009-12", "2013-01", "2013-02"):
            check(month in err["message"], err["message"])
        d.check_error(*d.json("GET", "/v1/jobs/999")[:2], 404, "no_job")
        d.check_error(*d.json("DELETE", "/v1/jobs/999")[:2], 404, "no_job")
        d.check_error(*d.json("GET", "/v1/jobs/abc")[:2], 400)
        d.check_error(*d.json("GET", "/v1/jobs?state=bogus")[:2], 400, "bad_state")
        check_eq(d.get_json("/v1/jobs")[1]["jobs"], [])


def cli_train(db_path, *args):
    return subprocess.run([FACTORD_BIN, "train", "--db", db_path] + list(args),
                          capture_output=True, text=True, timeout=300)


@test
def versions_survive_restart_and_cli_trains_beside_the_daemon():
    with Daemon() as d:
        load_panels(d)
        declare(d, "lin", "ipca")
        check_eq(wait_job(d, train(d, "lin"))["state"], "succeeded")
        betas_path = "/v1/models/lin/betas?month=%s&version=1" % month_key(29)
        status, before = d.get_json(betas_path)
        check_eq(status, 200, "betas before restart: %r" % before)
        d.restart()
        status, doc = d.get_json("/v1/models/lin/versions")
        check_eq([v["version"] for v in doc["versions"]], [1])
        status, after = d.get_json(betas_path)
        check_eq(status, 200, "betas after restart: %r" % after)
        check_eq(after, before, "the reloaded version serves the same betas")
        # factord train on the database the daemon serves: declares and trains.
        res = cli_train(d.db_path, "--model", "cli", "--kind", "ca0", "--k", "2",
                        "--hyper", '{"seed":2,"epochs":20}', "--train-from", TRAIN["from"],
                        "--train-to", TRAIN["to"], "--valid-from", VALID["from"],
                        "--valid-to", VALID["to"])
        check_eq(res.returncode, 0, "factord train: %s" % res.stderr[-2000:])
        version = json.loads(res.stdout)
        check_eq((version["model"], version["version"]), ("cli", 1))
        check_eq(d.get_json("/v1/models/cli/versions")[1]["versions"][0]["state"], "ready")
        # Again on the existing model (no --kind): version 2 of the same IPCA.
        res = cli_train(d.db_path, "--model", "lin", "--train-from", TRAIN["from"],
                        "--train-to", TRAIN["to"])
        check_eq(res.returncode, 0, res.stderr[-2000:])
        check_eq(json.loads(res.stdout)["version"], 2)
        check_eq([v["version"] for v in d.get_json("/v1/models/lin/versions")[1]["versions"]],
                 [1, 2])
        # Failures exit 1 with a message; usage errors 2.
        res = cli_train(d.db_path, "--model", "ghost", "--train-from", TRAIN["from"],
                        "--train-to", TRAIN["to"])
        check_eq(res.returncode, 1)
        check("not declared" in res.stderr, res.stderr)
        check_eq(cli_train(d.db_path, "--model", "lin").returncode, 2)
        res = subprocess.run([FACTORD_BIN, "train", "--help"], capture_output=True, text=True)
        check_eq(res.returncode, 0)
        check("--train-from" in res.stdout, res.stdout)


@test
def job_running_at_shutdown_runs_again_after_restart():
    with Daemon() as d:
        load_panels(d)
        declare(d, "ae", "ca1", {"seed": 5, "epochs": 400, "patience": 400})
        job_id = train(d, "ae", {"train": TRAIN})
        wait_job(d, job_id, states=("running",))
        d.stop()  # SIGTERM: the running job goes back to the queue, exit status 0
        d.start()
        job = wait_job(d, job_id, timeout=300)
        check_eq(job["state"], "succeeded", "job %r" % job)
        check_eq(job["attempts"], 2)
        check_eq([v["version"] for v in d.get_json("/v1/models/ae/versions")[1]["versions"]],
                 [1])


@test
def identical_characteristics_fail_ipca_with_a_named_422():
    """c_dup = c0^3 ranks exactly like c0, so after rank normalisation the two columns are
    the same and IPCA's system is singular: the job must fail naming both columns."""
    with Daemon() as d:
        for month, body in PANELS:
            dup = {"columns": body["columns"] + ["c_dup"],
                   "rows": [row + [row[2] ** 3] for row in body["rows"]]}
            status, doc, _ = d.json("PUT", "/v1/panels/" + month, dup)
            check_eq(status, 200, "PUT %s: %r" % (month, doc))
        declare(d, "dup", "ipca", {})
        job = wait_job(d, train(d, "dup"))
        check_eq(job["state"], "failed")
        check_eq(job["error"]["code"], "collinear_characteristics")
        check('"c0" and "c_dup"' in job["error"]["message"], job["error"]["message"])


@test
def a_characteristic_without_variation_fails_ipca_with_a_named_422():
    """A column that is 0 for every security in every month (zero-trade days among large
    caps) leaves IPCA's system singular: the job must fail naming it."""
    with Daemon() as d:
        for month, body in PANELS:
            flat = {"columns": body["columns"] + ["c_flat"],
                    "rows": [row + [0.0] for row in body["rows"]]}
            status, doc, _ = d.json("PUT", "/v1/panels/" + month, flat)
            check_eq(status, 200, "PUT %s: %r" % (month, doc))
        declare(d, "flat", "ipca", {})
        job = wait_job(d, train(d, "flat"))
        check_eq(job["state"], "failed")
        check_eq(job["error"]["code"], "constant_characteristic")
        check('"c_flat"' in job["error"]["message"], job["error"]["message"])


if __name__ == "__main__":
    run()
