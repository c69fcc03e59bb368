"""docs/example_report.py, the notebook-style example of the Python client, reproduces the
demo's report: the demo (clients/demo.py, reduced with FACTORD_DEMO_SMALL=1) runs against a
fresh daemon, then the example prints the same table rows, number for number. The demo also
runs again over its own models after a label was set on one, with the same report."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from factord_harness import ROOT, Daemon, check, check_eq, run, test  # noqa: E402


def table_rows(text):
    return [line for line in text.splitlines() if line.startswith("| demo-")]


@test
def example_script_reproduces_the_demo_report():
    with Daemon() as d:
        env = dict(os.environ, FACTORD_URL=f"http://127.0.0.1:{d.port}", FACTORD_DEMO_SMALL="1",
                   FACTORD_TOKEN=d.token or "")
        demo = subprocess.run([sys.executable, os.path.join(ROOT, "clients", "demo.py")],
                              capture_output=True, text=True, env=env, timeout=900)
        check_eq(demo.returncode, 0, demo.stdout[-2000:] + demo.stderr[-2000:])
        want = table_rows(demo.stdout)
        check_eq(len(want), 2, demo.stdout)
        ex = subprocess.run([sys.executable, os.path.join(ROOT, "docs", "example_report.py")],
                            capture_output=True, text=True, env=env, timeout=300, cwd="/")
        check_eq(ex.returncode, 0, ex.stderr)
        check_eq(table_rows(ex.stdout), want)
        check("| model | total R2 (r) |" in ex.stdout, ex.stdout)
        # A re-run starts afresh even after a label was set (as the demo suggests), and
        # gives the same report (the fits are deterministic).
        status, _, _ = d.json("PUT", "/v1/models/demo-ipca/labels/stable", {"version": 1})
        check_eq(status, 200)
        again = subprocess.run([sys.executable, os.path.join(ROOT, "clients", "demo.py")],
                               capture_output=True, text=True, env=env, timeout=900)
        check_eq(again.returncode, 0, again.stdout[-2000:] + again.stderr[-2000:])
        check_eq(table_rows(again.stdout), want)


if __name__ == "__main__":
    run()
