#!/usr/bin/python3
"""Renders the side-by-side Markdown table of one bench/models.sh run from the JSON each
program printed (NAME.json) and what /usr/bin/time -v measured (NAME.time).

Usage: report.py DIR   (DIR holds c_ipca, c_ipca_plain, py_ipca_loop, py_ipca_vec, c_ca1,
                        py_ca1_f32, py_ca1_f64, chk_ca1 and the same for ca2, gemm_peak and
                        env.json; whichever of them the run made)
"""
import json
import os
import sys


def load(d, name):
    path = os.path.join(d, name + ".json")
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return None
    with open(path) as fh:
        out = json.load(fh)
    tpath = os.path.join(d, name + ".time")
    if os.path.exists(tpath):
        with open(tpath) as fh:
            for line in fh:
                if "Maximum resident set size" in line:
                    out["process_peak_kb"] = int(line.rsplit(":", 1)[1])
                if "Elapsed (wall clock)" in line:
                    out["wall"] = line.rsplit(": ", 1)[1].strip()
    return out


def fmt(v, spec="%.4g"):
    return "-" if v is None else spec % v


def mb(run):
    """Peak RSS of the fit (data resident) / of the whole process, in MB."""
    fit, proc = run.get("fit_peak_rss_kb"), run.get("process_peak_kb")
    if fit and run.get("load_peak_rss_kb"):
        # resetting VmHWM resets what /usr/bin/time sees too: the process peak is the
        # larger of loading's and the fit's
        proc = max(fit, run["load_peak_rss_kb"])
    return "%s / %s" % (fmt(fit / 1024.0, "%.0f") if fit else "-",
                        fmt(proc / 1024.0, "%.0f") if proc else "-")


def rel(a, b):
    if a is None or b is None or b == 0:
        return None
    return abs(a - b) / abs(b)


def ipca_flops(run):
    """Floating-point operations of factord's IPCA fit (src/models/ipca_als.c), counting its
    BLAS work: the moments pass (Z'Z by SYRK, Z'r) and per ALS step the two GEMMs with the
    (T, L(L+1)/2) packed moments, the two (T, L) x (L, Kt) products and the (L Kt, L Kt)
    Cholesky solve. Returns (precompute, per step)."""
    n, T, L = run["N_obs"], run["T"], run["P"]
    Kt = run["K"] + (1 if run.get("hyper", {}).get("intercept") else 0)
    Lp, Kp, LK = L * (L + 1) // 2, Kt * (Kt + 1) // 2, L * Kt
    pre = n * L * (L + 1) + 2 * n * L
    step = 2 * (2 * T * Lp * Kp) + 2 * (2 * T * L * Kt) + LK ** 3 / 3 + 2 * LK ** 2
    return pre, step


def same_data(runs):
    sums = [r["checksum"] for r in runs if r]
    if len(sums) < 2:
        return "n/a"
    worst = max(rel(s[k], sums[0][k]) or abs(s[k] - sums[0][k])
                for s in sums[1:] for k in sums[0])
    return "yes (checksums agree to %.1e)" % worst if worst < 1e-9 else \
        "NO (checksums differ by %.1e)" % worst


def main(d):
    env = load(d, "env") or {}
    rows = []
    c_ipca = load(d, "c_ipca")
    out = ["### %s: N=%s, T=%s, P=%s (%s stock-months), K=%s"
           % (env.get("label", "models"), env.get("N"), env.get("T"), env.get("P"),
              (c_ipca or {}).get("N_obs", "?"), env.get("K")),
           "",
           "Threads: %s per side (OPENBLAS/OMP_NUM_THREADS, torch.set_num_threads). Load: %s. "
           "IPCA: best of %s fits per side. CA: %s epochs, hyper %s, no early stopping; "
           "speed-up from the best epoch of each side; final loss = the last epoch's "
           "training loss (and the in-sample loss in inference mode)."
           % (env.get("threads"), env.get("load"), env.get("repeat"), env.get("epochs"),
              env.get("hyper")),
           ""]
    out.append("| model | implementation | fit s | s/epoch best (median); IPCA iterations "
               "| final loss (MSE) "
               "| R^2 total | peak RSS MB: fit / process | factord speed-up |")
    out.append("|---|---|---|---|---|---|---|---|")
    py_loop, py_vec = load(d, "py_ipca_loop"), load(d, "py_ipca_vec")
    c_plain = load(d, "c_ipca_plain")
    for name, run in (("factord C (SQUAREM)", c_ipca), ("factord C, plain ALS steps", c_plain),
                      ("numpy, bkelly-lab loops", py_loop),
                      ("numpy, batched einsum", py_vec)):
        if not run:
            continue
        speed = "-" if run is c_ipca or not c_ipca else \
            "%.1fx" % (run["fit_seconds"] / c_ipca["fit_seconds"])
        out.append("| IPCA | %s | %s | (%s) | %s | %s | %s | %s |"
                   % (name, fmt(run["fit_seconds"], "%.3f"), run.get("iterations"),
                      fmt(run.get("final_eval_loss"), "%.8g"),
                      fmt(run.get("r2_total"), "%.8f"), mb(run), speed))
        rows.append(run)
    checks = []
    for ref_name, ref in (("numpy loops", py_loop), ("numpy einsum", py_vec),
                          ("C plain ALS", c_plain)):
        if not c_ipca or not ref:
            continue
        dg = max(abs(a - b) for ra, rb in zip(c_ipca["gamma"], ref["gamma"])
                 for a, b in zip(ra, rb))
        checks.append("IPCA, SQUAREM vs %s: max |Gamma diff| = %.1e, |R^2 total diff| = %.1e, "
                      "|R^2 pred diff| = %.1e (tolerance %s on both sides)"
                      % (ref_name, dg, abs(c_ipca["r2_total"] - ref["r2_total"]),
                         abs(c_ipca["r2_pred"] - ref["r2_pred"]),
                         ref.get("tol", ref.get("hyper", {}).get("tol"))))
    peak = load(d, "gemm_peak")
    for name, run in (("SQUAREM", c_ipca), ("plain ALS", c_plain)):
        if not run:
            continue
        pre, step = ipca_flops(run)
        flops = pre + step * run["iterations"]
        line = ("IPCA factord %s: %.1f GFLOP in %.3f s = %.1f GFLOP/s (moments %.1f GFLOP, "
                "%.0f MFLOP per step x %d steps; best step %.2f ms = %.1f GFLOP/s)"
                % (name, flops / 1e9, run["fit_seconds"], flops / run["fit_seconds"] / 1e9,
                   pre / 1e9, step / 1e6, run["iterations"], 1e3 * run["seconds_per_epoch"],
                   step / run["seconds_per_epoch"] / 1e9))
        if peak:
            line += "; the dgemm peak measured in this run: %.1f GFLOP/s on %d threads (%.0f%%)" \
                % (peak["dgemm_gflops"], peak["threads"],
                   100 * flops / run["fit_seconds"] / 1e9 / peak["dgemm_gflops"])
        checks.append(line)
    if c_ipca and c_ipca.get("resident_before_fit_kb"):
        z_mb = c_ipca["N_obs"] * c_ipca["P"] * 8 / 2 ** 20
        before, fit = c_ipca["resident_before_fit_kb"] / 1024, c_ipca["fit_peak_rss_kb"] / 1024
        checks.append("IPCA memory: %.0f MB resident when the fit starts (the data set; its z "
                      "alone is %.0f MB), %.0f MB at the fit's peak: the fit adds %.0f MB "
                      "(moments and workspace), the panel is not copied"
                      % (before, z_mb, fit, fit - before))
    for model in ("ca1", "ca2"):
        c = load(d, "c_" + model)
        precision = (c or {}).get("hyper", {}).get("precision", "float32")
        threads = (c or {}).get("threads", "?")
        for name, run in (("factord C (%s, %s-thread team)" % (precision, threads), c),
                          ("torch float32", load(d, "py_%s_f32" % model)),
                          ("torch float64", load(d, "py_%s_f64" % model))):
            if not run:
                continue
            speed = "-" if run is c or not c else \
                "%.1fx" % (run["seconds_per_epoch"] / c["seconds_per_epoch"])
            out.append("| %s | %s | %s | %s (%s) | %s (eval %s) | - | %s | %s |"
                       % (model.upper(), name, fmt(run["fit_seconds"], "%.3f"),
                          fmt(run["seconds_per_epoch"], "%.4f"),
                          fmt(run.get("median_epoch_seconds"), "%.4f"),
                          fmt(run.get("final_train_loss"), "%.6g"),
                          fmt(run.get("final_eval_loss"), "%.6g"), mb(run), speed))
            rows.append(run)
        t64 = load(d, "py_%s_f64" % model)
        if c and t64 and c.get("final_train_loss") and t64.get("final_train_loss"):
            checks.append("%s after the same %d epochs from different random streams: final "
                          "training loss C vs torch float64 differ by %.1f%%, in-sample loss "
                          "by %.1f%% (comparable, not identical: see the next line)"
                          % (model.upper(), len(c["train_losses"]),
                             100 * rel(c["final_train_loss"], t64["final_train_loss"]),
                             100 * rel(c["final_eval_loss"], t64["final_eval_loss"])))
        chk = load(d, "chk_" + model)
        if chk:
            checks.append("%s on identical weights (C's trained weights loaded into torch "
                          "float64): loss C %.10g vs torch %.10g (inference mode), %.10g vs "
                          "%.10g (training mode, one batch per period); max relative "
                          "difference %.1e; first period's gradient max |C - torch| %.1e "
                          "(largest component %.1e)"
                          % (model.upper(), chk["c_loss_eval"], chk["torch_loss_eval"],
                             chk["c_loss_train_mode"], chk["torch_loss_train_mode"],
                             chk["max_rel_diff"], chk["grad_max_abs_diff"],
                             chk["grad_max_abs"]))
    out.append("")
    out.append("- Same data on every side: " + same_data(rows))
    out += ["- " + c for c in checks]
    out.append("- Peak RSS: of the fit (VmHWM reset just before it, so the data set is resident "
               "but CSV parsing is not counted) / of the whole process (parsing and loading "
               "included; torch's import alone is about 240 MB).")
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
