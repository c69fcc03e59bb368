"""Process set-up shared by the Python references.

Threads: OpenBLAS and OpenMP read their thread counts when the libraries load, so
pin_threads runs before numpy or torch is imported (this module imports neither). Both
references take --threads N like fit_bench, default 2, one per core.

Memory: the peak resident set of the fit alone. Linux resets a process's VmHWM when "5" is
written to /proc/self/clear_refs, so reset_peak_rss() before the fit and peak_rss_kb()
after it give the high-water mark of the fit with its data resident, without the parsing
and loading that came before (fit_bench does the same)."""
import os


def pin_threads(argv, default=2):
    """Sets the BLAS/OpenMP thread variables from `--threads N` in argv; returns N."""
    n = default
    if "--threads" in argv:
        n = int(argv[argv.index("--threads") + 1])
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)
    return n


def reset_peak_rss():
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass  # the peak then includes loading; still an upper bound


def peak_rss_kb():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0
