"""The numpy IPCA that bench/models.sh times factord against must itself reproduce the
reference fixture (tests/fixtures/ipca: Gamma and F of bkelly-lab/ipca), in both its
loop and batched forms, or the benchmark's "equal losses" would mean nothing. Runs
bench/ipca_ref.py --selftest, which prints one PASS/FAIL line per case."""
import os
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
proc = subprocess.run([sys.executable, os.path.join(root, "bench", "ipca_ref.py"), "--selftest",
                       "--threads", "1"], capture_output=True, text=True)
sys.stdout.write(proc.stdout)
sys.stderr.write(proc.stderr)
sys.exit(proc.returncode)
