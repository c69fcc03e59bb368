#!/bin/sh
# Request rate of `factord serve` GET /livez against the floor: a bare libmicrohttpd
# program (bench/mhd_floor.c) built in the same run. wrk drives each in turn with the same
# load; prints requests/s of both and the ratio. No assertion: a measurement.
# Usage: bench/livez.sh [BUILD_DIR]   env: DURATION (s, 10), CONNS (64), THREADS (2),
#        LOG_LEVEL (factord's, default info: the access log is part of the cost).
set -eu
build=${1:-build}
duration=${DURATION:-10}
conns=${CONNS:-64}
threads=${THREADS:-2}
level=${LOG_LEVEL:-info}
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "livez.sh: wrk is not installed" >&2; exit 1; }
[ -x "$build/factord" ] || { echo "livez.sh: $build/factord missing (make BUILD=$build)" >&2; exit 1; }
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
mkdir -p "$build/bench"
# shellcheck disable=SC2046
cc -O2 -Wall -Wextra -o "$build/bench/mhd_floor" bench/mhd_floor.c \
   $(pkg-config --cflags --libs libmicrohttpd) -lpthread

wait_port() { # file
  i=0
  while [ ! -s "$1" ]; do i=$((i + 1)); [ $i -lt 500 ] || return 1; sleep 0.02; done
}

measure() { # name port -> prints requests/s
  wrk -t"$threads" -c"$conns" -d"${duration}s" "http://127.0.0.1:$2/livez" > "$tmp/$1.wrk"
  awk '/^Requests\/sec:/ {print $2}' "$tmp/$1.wrk"
}

"$build/bench/mhd_floor" "$tmp/floor.port" & pid=$!
wait_port "$tmp/floor.port"
floor=$(measure floor "$(cat "$tmp/floor.port")")
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=

"$build/factord" serve --port 0 --port-file "$tmp/factord.port" --db "$tmp/bench.db" \
    --log-level "$level" 2>"$tmp/factord.log" & pid=$!
wait_port "$tmp/factord.port"
factord=$(measure factord "$(cat "$tmp/factord.port")")
kill -TERM "$pid"; wait "$pid" || { echo "livez.sh: factord exited with $?" >&2; exit 1; }; pid=

errors=$(cat "$tmp/floor.wrk" "$tmp/factord.wrk" | grep -c 'Non-2xx\|Socket errors' || true)
echo "livez: wrk -t$threads -c$conns -d${duration}s (log_level=$level)"
echo "  bare libmicrohttpd floor: $floor requests/s"
echo "  factord GET /livez:       $factord requests/s"
awk -v a="$factord" -v b="$floor" 'BEGIN { printf "  ratio factord/floor:      %.2f\n", a / b }'
[ "$errors" -eq 0 ] || { echo "  (wrk reported errors; see the output above)"; cat "$tmp"/*.wrk; }
