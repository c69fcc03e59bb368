#!/bin/sh
# Model benchmark: factord's C IPCA and CA1/CA2 against the reference implementations in
# numpy (bench/ipca_ref.py) and PyTorch (bench/ca_ref.py), on one synthetic panel from
# `factord simulate`, with the same hyper-parameters on both sides and the same number of
# threads (OpenBLAS / OpenMP / torch). Prints a Markdown table (bench/report.py). IPCA runs
# twice on the C side, with SQUAREM (the default) and with plain ALS steps; bench/gemm_peak.c
# measures the dgemm/sgemm peak first, under the same load, for the GFLOP/s lines.
#
# Usage: bench/models.sh BUILD_DIR [small|big]
#   small: N=2000, T=240, P=30      big: N=6000, T=360, P=94      (K=5 for every model)
# Environment (defaults in brackets):
#   FACTORD_BENCH_EPOCHS [5]   CA epochs, timed without early stopping (no validation block)
#   FACTORD_BENCH_THREADS [2]  threads per side: torch.set_num_threads and OpenMP/OpenBLAS for
#                              the Python references; for factord, OpenBLAS's threads for IPCA
#                              and the batch-splitting team for CA (as blas_threads in a job)
#   FACTORD_BENCH_TOL [1e-10]  IPCA convergence tolerance on both sides (factord's default)
#   FACTORD_BENCH_REPEAT [3]   IPCA fits per side; the best time is reported (shared machine)
#   FACTORD_BENCH_MODELS [ipca ca]  which comparisons to run (ipca, ca or both); the
#                              results directory is cleared first, so the report shows one run
#   FACTORD_BENCH_IPCA_REFS [loop vec]  which numpy IPCA forms to time (loop: bkelly-lab's
#                              per-month loops, slow at the big size; vec: batched einsum)
#   FACTORD_BENCH_DIR [BUILD_DIR/bench]  data and results (the CSV is kept and reused)
#   FACTORD_BENCH_CSV          fit this long CSV (id,date,ret,mktcap,c1..cP) instead
set -eu
build=${1:?usage: bench/models.sh BUILD_DIR [small|big]}
size=${2:-small}
cd "$(dirname "$0")/.."
case $size in
  small) N=2000 T=240 P=30 ;;
  big) N=6000 T=360 P=94 ;;
  *) echo "models.sh: size must be small or big" >&2; exit 2 ;;
esac
K=5
epochs=${FACTORD_BENCH_EPOCHS:-5}
threads=${FACTORD_BENCH_THREADS:-2}
tol=${FACTORD_BENCH_TOL:-1e-10}
repeat=${FACTORD_BENCH_REPEAT:-3}
models=${FACTORD_BENCH_MODELS:-ipca ca}
ipca_refs=${FACTORD_BENCH_IPCA_REFS:-loop vec}
case " $models " in *" ipca "*) run_ipca=1 ;; *) run_ipca= ;; esac
case " $models " in *" ca "*) run_ca=1 ;; *) run_ca= ;; esac
if [ -z "$run_ipca$run_ca" ]; then
  echo "models.sh: FACTORD_BENCH_MODELS must name ipca, ca or both" >&2; exit 2
fi
seed=20240501
py=/usr/bin/python3
root=${FACTORD_BENCH_DIR:-$build/bench}
out=$root/$size-t$threads
mkdir -p "$out"
rm -f "$out"/*.json "$out"/*.time "$out"/*.err "$out"/report.md
export OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads MKL_NUM_THREADS=$threads

# One set of hyper-parameters for both sides of each comparison.
ca_hyper="{\"epochs\":$epochs,\"lr\":0.001,\"l1\":1e-5,\"seed\":1,\"batch_months\":5}"
ipca_hyper="{\"tol\":$tol,\"max_iter\":10000}"          # SQUAREM, the default
ipca_plain_hyper="{\"tol\":$tol,\"max_iter\":10000,\"acceleration\":\"none\"}"

# 1. Data: one CSV per configuration, generated once.
csv=${FACTORD_BENCH_CSV:-$root/sim_N${N}_T${T}_P${P}.csv}
if [ ! -s "$csv" ]; then
  echo "generating $csv" >&2
  "$build/factord" simulate --N "$N" --T "$T" --P "$P" --K "$K" --seed "$seed" --nonlinear \
    --out "$csv.tmp" >&2
  mv "$csv.tmp" "$csv"
fi

# 2. fit_bench, compiled with the top Makefile's library flags (pkg-config's, which the Makefile
# wrote to BUILD_DIR/pkgs.mk) against the build's library.
fb=$root/fit_bench
pkg_flags() { sed -n "s/^$1 := //p" "$build/pkgs.mk"; }
if [ ! -x "$fb" ] || [ -n "$(find bench/fit_bench.c bench/bench_csv.c bench/ca_weights.c \
     bench/*.h "$build/libfactord.a" -newer "$fb" 2>/dev/null)" ]; then
  # shellcheck disable=SC2046
  cc -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Iinclude -Ibench \
     $(pkg_flags PKG_CFLAGS) \
     -o "$fb" bench/fit_bench.c bench/bench_csv.c bench/ca_weights.c "$build/libfactord.a" \
     $(pkg_flags PKG_LIBS) -lpthread -lm
fi
gp=$root/gemm_peak
if [ ! -x "$gp" ] || [ bench/gemm_peak.c -nt "$gp" ]; then
  # shellcheck disable=SC2046
  cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror $(pkg_flags PKG_CFLAGS) -o "$gp" \
     bench/gemm_peak.c $(pkg_flags PKG_LIBS)
fi

# 3. The Python side parses the CSV once (cached beside it) so no timing includes parsing.
$py -c 'import sys; sys.path.insert(0, "bench"); import dataset_ref
dataset_ref.load(sys.argv[1])' "$csv"

measure() { # name, command...: stdout -> NAME.json, /usr/bin/time -v -> NAME.time
  name=$1; shift
  echo "running $name" >&2
  if ! /usr/bin/time -v -o "$out/$name.time" "$@" >"$out/$name.json" 2>"$out/$name.err"; then
    echo "models.sh: $name failed:" >&2
    tail -5 "$out/$name.err" >&2
  fi
}

load=$(cut -d' ' -f1-3 /proc/loadavg)
cores=$(getconf _NPROCESSORS_ONLN) # not nproc: it obeys OMP_NUM_THREADS
measure gemm_peak "$gp" --threads "$threads"
if [ -n "$run_ipca" ]; then
  measure c_ipca "$fb" --csv "$csv" --model ipca -K $K --hyper "$ipca_hyper" \
    --threads "$threads" --repeat "$repeat"
  measure c_ipca_plain "$fb" --csv "$csv" --model ipca -K $K --hyper "$ipca_plain_hyper" \
    --threads "$threads" --repeat "$repeat"
  for impl in $ipca_refs; do
    measure "py_ipca_$impl" $py bench/ipca_ref.py "$csv" -K $K --tol "$tol" --impl $impl \
      --threads "$threads" --repeat "$repeat"
  done
fi
if [ -n "$run_ca" ]; then
  for m in ca1 ca2; do
    rm -f "$out/$m.weights.json"
    measure "c_$m" "$fb" --csv "$csv" --model $m -K $K --hyper "$ca_hyper" \
      --threads "$threads" --export-weights "$out/$m.weights.json"
    measure "py_${m}_f32" $py bench/ca_ref.py "$csv" --model $m -K $K --hyper "$ca_hyper" \
      --threads "$threads" --dtype float32
    measure "py_${m}_f64" $py bench/ca_ref.py "$csv" --model $m -K $K --hyper "$ca_hyper" \
      --threads "$threads" --dtype float64
    if [ -s "$out/$m.weights.json" ]; then
      measure "chk_$m" $py bench/ca_ref.py "$csv" --check-weights "$out/$m.weights.json" \
        --threads "$threads"
    fi
  done
fi

$py -c 'import json, sys; json.dump(dict(zip(sys.argv[1::2], sys.argv[2::2])), sys.stdout)' \
  label "$size" N $N T $T P $P K $K threads "$threads" epochs "$epochs" hyper "$ca_hyper" \
  repeat "$repeat" \
  load "$load before, $(cut -d' ' -f1-3 /proc/loadavg) after (1/5/15 min, $cores cores)" \
  >"$out/env.json"
$py bench/report.py "$out" | tee "$out/report.md"
echo
echo "Command: make bench BUILD=$build (or bench/models.sh $build $size); raw results in $out"
