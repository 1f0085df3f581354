#!/usr/bin/env bash
# Installs what indexctl needs when it is missing, then builds it. Safe to run again: each step is
# skipped when its result is already there and up to date.
#   scripts/setup.sh           runtime: FAISS (AVX2 build from Debian's source, or the system
#                              libfaiss-dev), npm packages, the native addon, the TypeScript build
#   scripts/setup.sh --test    also what the tests need: python3-faiss (the reference
#                              implementation), numpy, python3-prometheus-client (a real
#                              Prometheus text parser), clang-format, xxhash, and Slurm and
#                              munge (test/slurm.test.ts starts its own private cluster), and
#                              LanceDB in bench/lancedb (the peer of bench/lancedb.ts)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

say() { printf 'setup: %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@"
  else
    say "need root to run: $*"
    say "run this script as root, give this user passwordless sudo, or install the packages by hand"
    exit 1
  fi
}

# Debian packages: the system FAISS (fallback and reference), BLAS, and the FAISS source build's tools.
packages=(libfaiss-dev libopenblas-dev libxxhash-dev cmake g++ make dpkg-dev python3)
[ "$want_test" = 1 ] && packages+=(python3-faiss python3-numpy python3-prometheus-client clang-format xxhash
  slurmctld slurmd slurm-client munge)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  # Waits (with a message) while another apt-get or unattended-upgrades holds the dpkg lock.
  as_root bash scripts/apt-install.sh --update "${missing[@]}"
fi

# FAISS built for this CPU (cached in ~/.cache/indexctl, a few minutes the first time on a machine).
# Without AVX2, or when the build fails, the addon links the system libfaiss and says so.
if ! bash scripts/build-faiss.sh; then
  say "the optimized FAISS build failed (log above); falling back to the system libfaiss-dev (generic, slower)"
  export INDEXCTL_FAISS=system
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error >&2
fi

# The LanceDB peer of bench/lancedb.ts (test/bench-smoke.test.ts runs it): its own package, pinned
# apart from indexctl's dependencies (LanceDB 0.31 wants apache-arrow 18; indexctl uses 21).
if [ "$want_test" = 1 ] && { [ ! -d bench/lancedb/node_modules ] ||
  [ bench/lancedb/package-lock.json -nt bench/lancedb/node_modules/.package-lock.json ]; }; then
  say "npm ci --prefix bench/lancedb"
  npm ci --prefix bench/lancedb --no-audit --no-fund --loglevel=error >&2
fi

# Rebuild the addon when its sources changed or when a different FAISS would now be linked.
addon=build/Release/indexctl_faiss.node
wanted=$(node scripts/faiss-config.js describe)
if [ ! -f "$addon" ] || [ "$(cat build/faiss-describe.txt 2>/dev/null)" != "$wanted" ] ||
  [ -n "$(find native binding.gyp scripts/build-native.js scripts/faiss-config.js -newer "$addon" -type f 2>/dev/null | grep -v native/generated)" ]; then
  say "building the native addon"
  node scripts/build-native.js
  printf '%s\n' "$wanted" > build/faiss-describe.txt
fi

# tsc, then the zod/mini bundle that replaces tsc's dist/src/vendor/zod-mini.js (scripts/build-ts.js).
if [ ! -f dist/src/cli.js ] || [ -n "$(find src test bench tsconfig.json scripts/build-ts.js -newer dist/src/cli.js -type f 2>/dev/null | head -1)" ] ||
  ! head -1 dist/src/vendor/zod-mini.js 2>/dev/null | grep -q '^// zod bundled by'; then
  say "compiling TypeScript"
  node scripts/build-ts.js
fi
say "ready: $(node bin/indexctl.js --version)"
