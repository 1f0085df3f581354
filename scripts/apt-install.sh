#!/usr/bin/env bash
# Installs Debian packages, waiting for the dpkg lock instead of failing at once when another
# apt-get or unattended-upgrades holds it (common on CI hosts). Used by scripts/setup.sh.
#   scripts/apt-install.sh [--update] PACKAGE...
# Environment: APT_LOCK_TIMEOUT seconds to wait for the lock (default 600).
set -euo pipefail

say() { printf 'setup: %s\n' "$*" >&2; }

update=0
if [ "${1:-}" = "--update" ]; then
  update=1
  shift
fi
timeout=${APT_LOCK_TIMEOUT:-600}
lock=/var/lib/dpkg/lock-frontend

# apt takes fcntl locks, which flock(1) cannot test; fuser lists whoever has the lock file open.
if command -v fuser >/dev/null && fuser "$lock" >/dev/null 2>&1; then
  say "another package manager holds $lock (pid$(fuser "$lock" 2>/dev/null | tr -s " ")); waiting up to ${timeout}s for it"
fi
apt=(apt-get -o "DPkg::Lock::Timeout=$timeout" -qq)
if [ "$update" = 1 ]; then
  "${apt[@]}" update
fi
DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y --no-install-recommends "$@" >/dev/null
