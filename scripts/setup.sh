#!/usr/bin/env bash
# Installs every Debian package that ringwire's build, tests, models and benchmarks need.
# Idempotent and fast when everything is present: dpkg is asked first, apt only if needed.
set -euo pipefail

packages=(
  # toolchain and build
  build-essential g++ clang clang-14 libclang-rt-14-dev cmake ninja-build pkg-config
  # test frameworks and model checkers
  libgtest-dev libgmock-dev librapidcheck-dev relacy-dev spin
  # benchmark framework, measurement tools, the plots (scripts/plots.sh)
  libbenchmark-dev valgrind gnuplot-nox
  # peers measured side by side in bench/
  libatomic-queue-dev libreaderwriterqueue-dev libconcurrentqueue-dev libboost-dev
  libtbb-dev libxenium-dev
  # iceoryx: the daemon (iox-roudi) and the POSH headers, for the shared-memory benchmark
  iceoryx libiceoryx-posh-dev
  # the `ringwire` command (tools/): command line, formatting, JSON, HTTP for `export`; its
  # tests drive `top` in tmux and scrape `export` with curl, checked by promtool (prometheus)
  libcli11-dev libfmt-dev nlohmann-json3-dev libcpp-httplib-dev tmux curl prometheus
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
