#!/bin/sh
# Serving latency and throughput (issue 4): expected returns and deciles for N securities,
# P characteristics, K factors with a CA2 version, under wrk with a bounded duration, next to
# the bare libmicrohttpd floor (bench/mhd_floor.c) measured in the same run; then the same
# expected-returns load while a CA2 training job runs, to compare the 99th percentiles.
# No assertion: a measurement. Usage: bench/serving.sh [BUILD_DIR]
# env: N (5000), P (94), K (6), MONTHS (12), DURATION (10 s), CONNS (8), THREADS (2)
set -eu
build=${1:-build}
N=${N:-5000}; P=${P:-94}; K=${K:-6}; MONTHS=${MONTHS:-12}
duration=${DURATION:-10}; conns=${CONNS:-8}; threads=${THREADS:-2}
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "serving.sh: wrk is not installed" >&2; exit 1; }
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
mkdir -p "$build/bench"
# shellcheck disable=SC2046
cc -O2 -Wall -Wextra -o "$build/bench/mhd_floor" bench/mhd_floor.c \
   $(pkg-config --cflags --libs libmicrohttpd) -lpthread

wait_port() { i=0; while [ ! -s "$1" ]; do i=$((i + 1)); [ $i -lt 500 ] || return 1; sleep 0.02; done; }
# wrk --latency summary of one URL: "rps p50 p99" (latencies in ms)
measure() {
  wrk -t"$threads" -c"$conns" -d"${duration}s" --latency "$1" > "$tmp/wrk.out"
  if grep -q 'Non-2xx' "$tmp/wrk.out"; then cat "$tmp/wrk.out" >&2; echo "serving.sh: errors" >&2; exit 1; fi
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /^Requests\/sec:/ { rps = $2 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    END { printf "%.1f %.2f %.2f\n", rps, p50, p99 }' "$tmp/wrk.out"
}

"$build/bench/mhd_floor" "$tmp/floor.port" & pid=$!
wait_port "$tmp/floor.port"
floor=$(measure "http://127.0.0.1:$(cat "$tmp/floor.port")/livez")
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=

echo "serving.sh: simulating N=$N P=$P K=$K, $MONTHS months ..." >&2
"$build/factord" simulate --out "$tmp/panel.csv" --N "$N" --T "$MONTHS" --P "$P" --K "$K" \
    --nonlinear --start 2010-01 >/dev/null
"$build/factord" serve --port 0 --port-file "$tmp/port" --db "$tmp/bench.db" \
    --log-level warn 2>"$tmp/factord.log" & pid=$!
wait_port "$tmp/port"
url="http://127.0.0.1:$(cat "$tmp/port")"
curl -fsS -X POST "$url/v1/import?units=decimal" -H 'Content-Type: text/csv' \
     --data-binary @"$tmp/panel.csv" >/dev/null
post() { curl -fsS -X POST "$url$1" -H 'Content-Type: application/json' -d "$2"; }
wait_job() {
  while :; do
    s=$(curl -fsS "$url/v1/jobs/$1" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["job"]["state"])')
    case "$s" in succeeded) return 0 ;; failed|cancelled) echo "job $1 $s" >&2; exit 1 ;; esac
    sleep 0.5
  done
}
job_id() { /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["job"]["id"])'; }
post /v1/models "{\"name\":\"ca2\",\"kind\":\"ca2\",\"k\":$K,\"hyper\":{\"epochs\":3,\"seed\":1}}" >/dev/null
j=$(post /v1/models/ca2/train '{"train":{"from":"2010-02","to":"2010-09"}}' | job_id)
wait_job "$j"
month=2010-11
er="$url/v1/models/ca2/expected-returns?month=$month"
dec="$url/v1/models/ca2/deciles?month=$month"
curl -fsS "$er" >/dev/null  # load and warm the version
idle_er=$(measure "$er")
idle_dec=$(measure "$dec")
# A long training job on the training thread while scoring goes on.
post /v1/models "{\"name\":\"busy\",\"kind\":\"ca2\",\"k\":$K,\"hyper\":{\"epochs\":100000,\"patience\":100000}}" >/dev/null
b=$(post /v1/models/busy/train '{"train":{"from":"2010-02","to":"2010-09"}}' | job_id)
sleep 2
busy_er=$(measure "$er")
curl -fsS -X DELETE "$url/v1/jobs/$b" >/dev/null
kill -TERM "$pid"; wait "$pid" || true; pid=

echo "serving: N=$N P=$P K=$K CA2, month $month; wrk -t$threads -c$conns -d${duration}s --latency"
printf '| endpoint | requests/s | p50 ms | p99 ms |\n|---|---:|---:|---:|\n'
set -- $floor;    printf '| bare libmicrohttpd floor (tiny JSON) | %s | %s | %s |\n' "$1" "$2" "$3"
set -- $idle_er;  printf '| expected-returns (idle) | %s | %s | %s |\n' "$1" "$2" "$3"; p99_idle=$3
set -- $idle_dec; printf '| deciles (idle) | %s | %s | %s |\n' "$1" "$2" "$3"
set -- $busy_er;  printf '| expected-returns (CA2 training running) | %s | %s | %s |\n' "$1" "$2" "$3"
awk -v a="$3" -v b="$p99_idle" 'BEGIN { printf "p99 while training / p99 idle: %.2f (goal <= 2)\n", a / b }'
