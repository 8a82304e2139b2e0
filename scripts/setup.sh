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
  # the ZeroMQ bridge (ringwire::net, `ringwire bridge`, docs/bridge.md): libzmq and cppzmq
  libzmq3-dev cppzmq-dev
  # the Python module (bindings/python): pybind11 and the headers, numpy and pytest for its tests
  pybind11-dev python3-dev python3-numpy python3-pytest
  # the Rust crate (bindings/rust): Debian's cargo and rustc (1.63), built offline, no crates
  cargo rustc
)
# Node.js and npm, unless already there: the Quint specifications (models/quint) and the
# span collector's OTLP test receiver (apps/span_collector/tests) run on node.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then packages+=(nodejs npm); fi

# npm packages, pinned, into git-ignored folders, each only when missing. Runs after the apt
# step too.
install_npm_packages() {
  local root dir
  root="$(cd "$(dirname "$0")/.." && pwd)"
  # The OpenTelemetry project's OTLP protobuf definitions (generated root in otlp-transformer).
  dir="${root}/build/npm"
  if [ ! -d "${dir}/node_modules/@opentelemetry/otlp-transformer/build/src/generated" ]; then
    echo "setup: npm install into ${dir}"
    mkdir -p "${dir}"
    npm install --prefix "${dir}" --no-audit --no-fund --silent \
      @opentelemetry/otlp-transformer@0.208.0 protobufjs@7.6.6
  fi
  # Quint (models/quint.cmake finds it in .tools/node). antlr4ts is pinned to the version
  # Quint was built against: a newer one breaks its parser at load.
  dir="${root}/.tools/node"
  if [ ! -x "${dir}/node_modules/.bin/quint" ]; then
    echo "setup: npm install @informalsystems/quint into ${dir}"
    mkdir -p "${dir}"
    cat > "${dir}/package.json" <<'JSON'
{
  "private": true,
  "dependencies": { "@informalsystems/quint": "0.33.1" },
  "overrides": { "antlr4ts": "0.5.0-alpha.4" }
}
JSON
    npm install --prefix "${dir}" --no-audit --no-fund --silent
  fi
}

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  install_npm_packages
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
install_npm_packages
