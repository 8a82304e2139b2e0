#!/usr/bin/env bash
# One screen of every headline ratio in a benchmark report (scripts/bench.sh writes it), under
# the table it came from, each against the target of issue 17 where it has one:
#   scripts/bench_summary.sh [REPORT.md ...]     (default build/release/bench-report.md)
# The table heading carries the regime (consumer chasing / lagging), the payload and the
# capacity; latency lines carry the floor of that run. A line ends in "met" or "MISSED" when
# its target is known here, so the summary is read, not recomputed.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 0 ] && set -- build/release/bench-report.md
for f in "$@"; do
  [ -f "$f" ] || { echo "bench_summary: no report $f (run scripts/bench.sh first)" >&2; exit 1; }
done
awk '
  function strip(s) { gsub(/\*\*/, "", s); return s }
  function first_ratio(s,   m) { if (match(s, /[0-9]+\.[0-9]+×/)) return substr(s, RSTART, RLENGTH - 2) + 0; return -1 }
  # verdict(line, at_least, target): "met"/"MISSED" for the first ratio on the line
  function verdict(r, at_least, t) { if (r < 0) return ""; return ((at_least && r >= t) || (!at_least && r <= t)) ? "  [met]" : "  [MISSED]" }
  /^### / { heading = substr($0, 5); shown = 0; next }
  /^- (machine|cpu|CPU|kernel|compiler)/ { if (!hdr++) print "machine: " substr($0, 3) }
  /×/ && /\*\*/ && !/^\|/ {
    line = strip($0); tag = ""
    if (heading ~ /^Throughput — payload (8 B|64 B), capacity 1024, consumer/ && line ~ / \/ best peer/)
      tag = verdict(first_ratio(line), 1, 1.0) " (target >= 1.00x)"
    else if (heading ~ /^Round-trip latency — payload 8 B/ && line ~ /spsc line p50 \/ floor/)
      tag = verdict(first_ratio(line), 0, 1.2) " (target <= 1.20x)"
    else if (heading ~ /^Round-trip latency — 1 → 1/ && line ~ /p50: /)
      tag = verdict(first_ratio(line), 0, 1.05) " (target <= 1.05x)"
    else if (heading ~ /best bounded|MPMC/ && line ~ /best bounded MPMC peer/)
      tag = verdict(first_ratio(line), 1, 1.0) " (target >= 1.00x)"
    if (!shown++) print "\n" heading
    print "  " line tag
  }
' "$@"
