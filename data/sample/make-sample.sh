#!/bin/sh
# Rebuilds the shipped sample (data/sample/) from a copy of the source data that is not part
# of the repository: SOURCE_DATA=/path/to/data (with daily/us_top500_daily_ohlcv_2005_2017.csv.gz
# and factors/french-raw/), as SOURCES.md describes.
# The result is byte-for-byte reproducible: same tickers, same rows, gzip -n (no name or
# time stamp in the header). See SOURCES.md for what the files are and why these tickers.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src_dir=${SOURCE_DATA:?set SOURCE_DATA to the directory of the source data (see SOURCES.md)}
daily=$src_dir/daily/us_top500_daily_ohlcv_2005_2017.csv.gz
raw=$src_dir/factors/french-raw
[ -r "$daily" ] || { echo "make-sample.sh: $daily not found (set SOURCE_DATA=...)" >&2; exit 1; }

# 60 liquid large caps, spread across sectors, three of which list late (MA 2006-05,
# V 2008-03, FB 2012-05). Keep this list and SOURCES.md in step.
tickers="AAPL MSFT GOOGL AMZN INTC CSCO ORCL QCOM TXN NVDA IBM
JPM BAC WFC C GS AIG MET
XOM CVX COP SLB
JNJ PFE MRK UNH ABT AMGN GILD
PG KO PEP WMT MO COST CVS
HD MCD NKE DIS LOW F
CMCSA T VZ
GE BA CAT MMM HON UNP UPS
DUK SO
FCX NEM
SPG
MA V FB"
# Whole months only: 2005-01 .. 2017-10 (the source stops on 2017-11-10).
last_day=2017-10-31

gzip -dc "$daily" |
  awk -F, -v list="$(echo $tickers)" -v last="$last_day" '
    BEGIN { n = split(list, t, " "); for (i = 1; i <= n; i++) keep[t[i]] = 1 }
    NR == 1 || (($1 in keep) && $2 <= last)' |
  gzip -9n > "$here/daily_ohlcv_sample.csv.gz.tmp"
mv "$here/daily_ohlcv_sample.csv.gz.tmp" "$here/daily_ohlcv_sample.csv.gz"

# The Fama-French monthly files exactly as the library serves them (preamble, monthly
# block, annual block): factord's importer reads them as downloaded.
for f in F-F_Research_Data_Factors.csv F-F_Momentum_Factor.csv; do
  install -m 644 "$raw/$f" "$here/$f"
done

rows=$(gzip -dc "$here/daily_ohlcv_sample.csv.gz" | tail -n +2 | wc -l)
found=$(gzip -dc "$here/daily_ohlcv_sample.csv.gz" | tail -n +2 | cut -d, -f1 | sort -u | wc -l)
echo "daily_ohlcv_sample.csv.gz: $rows bars, $found tickers, $(wc -c < "$here/daily_ohlcv_sample.csv.gz") bytes"
