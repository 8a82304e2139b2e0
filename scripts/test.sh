#!/usr/bin/env bash
# Sets up the machine (Debian packages), then builds and runs the whole test suite under
# every preset CI runs: g++ release (unit, stress, property, Relacy models, install and
# example checks; benchmarks built), clang++ ASan+UBSan (with the fuzzers), clang++ TSan.
# release-clang is not in the default set: the two sanitizer presets already compile
# everything with clang at -O2 and -Werror, and run the fuzzers (see docs/testing.md).
#   scripts/test.sh                 the CI presets
#   scripts/test.sh release-clang   clang without sanitizers (or any presets)
#   scripts/test.sh tsan release    only these
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

presets=("$@")
if [ ${#presets[@]} -eq 0 ]; then
  presets=(release asan-ubsan tsan)
fi

start=$(date +%s)
for p in "${presets[@]}"; do
  echo "==== preset ${p} ===="
  t0=$(date +%s)
  cmake --workflow --preset "${p}"
  echo "==== preset ${p}: passed in $(( $(date +%s) - t0 )) s ===="
done
echo "==== all presets passed (${presets[*]}) in $(( $(date +%s) - start )) s ===="
