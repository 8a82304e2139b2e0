#!/usr/bin/env bash
# Renders a benchmark report's tables as pictures (SVG, gnuplot): what docs/benchmarks.md shows.
#
#   scripts/plots.sh [REPORT] [OUTDIR]
#     REPORT  a markdown report of scripts/bench.sh (default: docs/benchmarks.md, whose
#             tables are the latest published run)
#     OUTDIR  where the SVGs go (default: docs/plots)
#
# Three pictures, each from the tables the report already holds (medians; nothing re-measured):
#   spsc_throughput.svg   SPSC throughput by payload (8 B, 64 B, 1 KiB; capacity 1024), every
#                         implementation side by side
#   spsc_latency.svg      round-trip percentiles p50 / p99 / p99.9 (8 B), every implementation
#                         and the cache-line ping-pong floor, log scale
#   spsc_round_trip_vs_floor.svg  each implementation's p50 round trip divided by the floor's
# scripts/bench.sh --plots runs this on the report it has just written.
set -euo pipefail
cd "$(dirname "$0")/.."

report="${1:-docs/benchmarks.md}"
outdir="${2:-docs/plots}"
if ! command -v gnuplot >/dev/null; then
  echo "plots: gnuplot not installed (Debian gnuplot-nox; bash scripts/setup.sh installs it)" >&2
  exit 1
fi
[ -f "${report}" ] || { echo "plots: no report ${report}" >&2; exit 1; }
mkdir -p "${outdir}"
tmp="$(mktemp -d)"
trap 'rm -rf "${tmp}"' EXIT

# Rows of the first table under the first heading that matches $2: "name<TAB>col2<TAB>col3..."
# with the bold markers and the [min-max] spreads dropped (medians only).
table() {
  awk -v pat="$1" '
    /^### / { inside = index($0, pat) > 0 && !done; seen = 0; next }
    inside && /^\|/ {
      seen++
      if (seen <= 2) next             # the header and the |---| line
      line = $0
      gsub(/\*\*/, "", line)
      gsub(/ \[[^]]*\]/, "", line)   # the min-max spread after each median
      n = split(line, f, "|")
      out = ""
      for (i = 2; i < n; i++) { v = f[i]; gsub(/^ +| +$/, "", v); out = out (i > 2 ? "\t" : "") v }
      print out
      next
    }
    inside && seen > 0 && !/^\|/ { done = 1; inside = 0 }
  ' "${report}"
}

# ---- throughput by payload -------------------------------------------------------------
for p in "8 B" "64 B" "1 KiB"; do
  table "### Throughput — payload ${p}, capacity 1024, producer" | awk -F'\t' '{ print $1 "\t" $2 }' \
    > "${tmp}/tp_${p// /_}.tsv"
done
# name, 8 B, 64 B, 1 KiB (rows present in the 8 B table; the memcpy ceiling left out of the picture)
awk -F'\t' '
  FNR == 1 { file++ }
  { v[file, $1] = $2; if (file == 1) order[++n] = $1 }
  END {
    print "name\t8 B\t64 B\t1 KiB"
    for (i = 1; i <= n; i++) {
      name = order[i]
      if (name ~ /memcpy/) continue
      printf "\"%s\"\t%s\t%s\t%s\n", name, v[1, name], v[2, name], v[3, name]
    }
  }' "${tmp}/tp_8_B.tsv" "${tmp}/tp_64_B.tsv" "${tmp}/tp_1_KiB.tsv" > "${tmp}/throughput.tsv"

# ---- latency percentiles and the floor ---------------------------------------------------
table "### Round-trip latency — payload 8 B, capacity 1024, ping" |
  awk -F'\t' 'BEGIN { print "name\tp50\tp99\tp99.9\tvsfloor" }
              { r = $7; sub(/×/, "", r); printf "\"%s\"\t%s\t%s\t%s\t%s\n", $1, $2, $3, $4, r }' \
  > "${tmp}/latency.tsv"

rows_tp=$(($(wc -l < "${tmp}/throughput.tsv") - 1))
rows_lat=$(($(wc -l < "${tmp}/latency.tsv") - 1))
if [ "${rows_tp}" -lt 1 ] || [ "${rows_lat}" -lt 1 ]; then
  echo "plots: ${report} has no SPSC throughput or latency tables" >&2
  exit 1
fi
source_note="$(basename "${report}")"

gnuplot <<EOF
set terminal svg size 960,480 dynamic font "sans,11" background rgb "white"
set datafile separator "\t"
set termoption noenhanced
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key outside right top vertical
set xtics rotate by -25 scale 0

set output "${outdir}/spsc_throughput.svg"
set title "SPSC throughput by payload (capacity 1024, 2 pinned threads; medians from ${source_note})"
set ylabel "million messages / s (higher is better)"
set yrange [0:*]
plot "${tmp}/throughput.tsv" using 2:xtic(1) title columnhead(2), \
     "" using 3 title columnhead(3), "" using 4 title columnhead(4)

set output "${outdir}/spsc_latency.svg"
set title "Round-trip latency, 8 B (ping <-> pong on 2 pinned CPUs; medians from ${source_note})"
set ylabel "ns, log scale (lower is better)"
set logscale y
set yrange [50:*]
plot "${tmp}/latency.tsv" using 2:xtic(1) title "p50", "" using 3 title "p99", "" using 4 title "p99.9"

set output "${outdir}/spsc_round_trip_vs_floor.svg"
set title "p50 round trip / the cache-line ping-pong floor (1.00 = the hardware's own hand-off)"
set ylabel "times the floor (lower is better)"
unset logscale y
set yrange [0:*]
set key off
plot "${tmp}/latency.tsv" using 5:xtic(1) title "p50 / floor", 1 with lines dashtype 2 lc rgb "black" notitle
EOF
echo "plots: ${outdir}/spsc_throughput.svg ${outdir}/spsc_latency.svg ${outdir}/spsc_round_trip_vs_floor.svg (from ${report})"
