#!/usr/bin/env bash
# Instructions per push+pop pair for every implementation, counted by callgrind on the
# single-threaded loop in bench/ringwire_insn.cpp (repeatable on a noisy machine: compare
# hot paths between commits with this, not with wall-clock numbers).
#   scripts/callgrind.sh [BUILD_BIN_DIR] [N]
# Per pair = (Ir(2N) - Ir(N)) / N, so start-up, construction and teardown cancel out;
# "minus loop" subtracts the same loop with a plain slot instead of a queue.
# Prints a markdown table on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

bindir="${1:-build/release/bench}"
n="${2:-100000}"
insn="${bindir}/ringwire_insn"

if ! command -v valgrind >/dev/null; then
  echo "callgrind: valgrind not installed (bash scripts/setup.sh installs it); skipped" >&2
  exit 0
fi
if [ ! -x "${insn}" ]; then
  echo "callgrind: ${insn} not built" >&2
  exit 1
fi

count() {  # impl n -> total instructions (Ir) of one run
  local out
  out=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "${insn}" "$1" "$2" 2>&1) || {
    echo "callgrind: ${insn} $1 $2 failed:" >&2
    echo "${out}" >&2
    return 1
  }
  echo "${out}" | sed -n 's/^==[0-9]*== Collected : \([0-9]*\)$/\1/p'
}

declare -A per
impls=$("${insn}" --list)
for impl in ${impls}; do
  c1=$(count "${impl}" "${n}")
  c2=$(count "${impl}" "$((2 * n))")
  per[${impl}]=$(awk -v a="${c1}" -v b="${c2}" -v n="${n}" 'BEGIN { printf "%.1f", (b - a) / n }')
  echo "callgrind: ${impl}: ${per[${impl}]} instructions per push+pop" >&2
done

fence=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "${insn}" ringwire 1 2>/dev/null | sed -n 's/.*light fence: \([^)]*\)).*/\1/p')
loop=${per[loop]}
rw=${per[ringwire]}
echo
echo "### Instructions per push+pop pair (callgrind, 8-byte payload, capacity 1024, one thread)"
echo
echo "valgrind $(valgrind --version | sed 's/valgrind-//'); per pair = (Ir(N=$((2 * n))) − Ir(N=${n})) / ${n}; \"minus loop\" subtracts the same loop with a plain slot (${loop} instructions); ringwire's light fence under valgrind: ${fence:-unknown}."
echo
echo "Rows ending in _consume1 / _batch64 / _bulk64 are other paths, counted per message: ringwire try_send + consume(fn, 1); try_send_batch(64) + consume(fn, 64); boost push(p, 64) + pop(p, 64)."
echo
echo "| implementation | instructions per pair | minus loop | vs ringwire (minus loop) |"
echo "|---|---:|---:|---:|"
for impl in ${impls}; do
  [ "${impl}" = loop ] && continue
  awk -v name="${impl}" -v p="${per[${impl}]}" -v l="${loop}" -v r="${rw}" 'BEGIN {
    net = p - l; rnet = r - l;
    bold = (name == "ringwire") ? "**" : "";
    printf "| %s%s%s | %.1f | %.1f | %.2f× |\n", bold, name, bold, p, net, (rnet > 0 ? net / rnet : 0) }'
done
