#!/usr/bin/env bash
# The benchmark showcase: ringwire side by side with the peers Debian packages, in one run.
#
#   scripts/bench.sh                quick run (capacity 1024: throughput, batch, latency,
#                                   floors; about a minute), the broadcast benchmark --quick
#                                   (ringwire_broadcast_bench; about 20 s) + callgrind counts
#   scripts/bench.sh --full         the full run (capacities 1024 and 65536, batches 64 and
#                                   1024, 7 reps; several minutes), then the full broadcast
#                                   benchmark, both appended to one report file
#   scripts/bench.sh --out FILE     where the markdown report goes
#                                   (default build/release/bench-report[-full].md)
#   scripts/bench.sh --no-callgrind skip the instruction counts
#   scripts/bench.sh --no-broadcast skip the broadcast benchmark
#   scripts/bench.sh --no-mpmc      skip the MPMC queue's 64 B tables (ringwire_mpmc_bench)
#   scripts/bench.sh --plots        also render the report's SPSC tables as SVGs in docs/plots
#                                   (scripts/plots.sh, gnuplot): throughput by payload, latency
#                                   percentiles, round trip against the floor
#   scripts/bench.sh -- ARGS...     extra arguments for ringwire_bench (--reps N, --filter S,
#                                   --cpus A,B; see ringwire_bench --help); --cpus is
#                                   passed on to ringwire_broadcast_bench too
#
# Ends with scripts/bench_summary.sh: one screen of every headline ratio against its target.
# Sets the machine up (Debian packages), configures the release preset and builds only the
# benchmark targets it runs. Method and rules: docs/benchmarks.md, BENCHMARKING.md. For numbers
# worth publishing run it on a quiet machine: nothing else busy on the two pinned CPUs.
# BENCH_BUILD_DIR=dir builds there instead of the preset's build/release (the preset's cache
# settings still apply).
set -euo pipefail
cd "$(dirname "$0")/.."

full=0
callgrind=1
broadcast=1
mpmc=1
plots=0
out=""
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --full) full=1 ;;
    --quick) full=0 ;;
    --no-callgrind) callgrind=0 ;;
    --no-broadcast) broadcast=0 ;;
    --no-mpmc) mpmc=0 ;;
    --plots) plots=1 ;;
    --out) out="$2"; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

bash scripts/setup.sh

build="${BENCH_BUILD_DIR:-build/release}"
if [ -n "${BENCH_BUILD_DIR:-}" ]; then
  cmake --preset release -B "${build}" >/dev/null
  cmake --build "${build}" -j 2 --target ringwire_bench ringwire_insn ringwire_broadcast_bench ringwire_mpmc_bench
else
  cmake --preset release >/dev/null
  cmake --build --preset release --target ringwire_bench ringwire_insn ringwire_broadcast_bench ringwire_mpmc_bench
fi

bin="${build}/bench"
if [ -z "${out}" ]; then
  if [ "${full}" = 1 ]; then out="${build}/bench-report-full.md"; else out="${build}/bench-report.md"; fi
fi

commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then commit="${commit}+local changes"; fi
mode=(--quick)
[ "${full}" = 1 ] && mode=()
label="commit ${commit}; scripts/bench.sh $([ "${full}" = 1 ] && echo --full || echo --quick)"

start=$(date +%s)
"${bin}/ringwire_bench" "${mode[@]}" --markdown "${out}" --label "${label}" "${extra[@]}"

if [ "${broadcast}" = 1 ]; then
  # Same mode, appended to the same report.
  bargs=()
  for ((i = 0; i < ${#extra[@]}; i++)); do
    if [ "${extra[$i]}" = --cpus ] && [ $((i + 1)) -lt ${#extra[@]} ]; then bargs=(--cpus "${extra[$((i + 1))]}"); fi
  done
  echo
  "${bin}/ringwire_broadcast_bench" "${mode[@]}" --markdown "${out}" --append --label "${label}" "${bargs[@]}"
fi

if [ "${mpmc}" = 1 ]; then
  # The 64-byte tables (issue 17's MPMC target), appended to the same report.
  echo
  mpmc_out="$(mktemp)"
  "${bin}/ringwire_mpmc_bench" "${mode[@]}" --filter "64 B" --markdown "${mpmc_out}" --label "${label}"
  cat "${mpmc_out}" >> "${out}"
  rm -f "${mpmc_out}"
fi

if [ "${callgrind}" = 1 ]; then
  echo
  echo "callgrind: counting instructions per push+pop (valgrind, single thread)..." >&2
  table="$(bash scripts/callgrind.sh "${bin}" 100000)"
  echo "${table}"
  echo "${table}" >> "${out}"
fi

echo
bash scripts/bench_summary.sh "${out}"
if [ "${plots}" = 1 ]; then
  echo
  bash scripts/plots.sh "${out}" docs/plots
fi
echo
echo "bench.sh: done in $(( $(date +%s) - start )) s; report: ${out}"
