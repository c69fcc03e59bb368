#!/bin/sh
# Number formatting (issue 14): ns per value of fd_num_format (Ryu) against printf and the
# formatter it replaced, then a long strtod round-trip run (the unit test runs 10^7).
# No assertion on speed; a round-trip mismatch exits 1. Usage: bench/numfmt.sh [BUILD_DIR]
# env: ROUND_TRIPS (10^8)
set -eu
build=${1:-build}
cd "$(dirname "$0")/.."
[ -f "$build/libfactord.a" ] || { echo "numfmt.sh: $build/libfactord.a missing (make BUILD=$build)" >&2; exit 1; }
mkdir -p "$build/bench"
cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Iinclude -o "$build/bench/numfmt_bench" \
   bench/numfmt_bench.c "$build/libfactord.a" -lm
"$build/bench/numfmt_bench" "${ROUND_TRIPS:-100000000}"
