#!/usr/bin/env bash
# Nightly rebuild: build a new version from a chunks file, verify it, and publish it with a
# compare-and-swap against the CURRENT this run started from, so a version published by someone
# else in the meantime is never silently replaced. The runbook is docs/operations.md.
#
# usage: nightly-rebuild.sh CHUNKS ROOT
#
# Environment (all optional):
#   INDEXCTL   the command to run (default: indexctl), e.g. "node /opt/indexctl/bin/indexctl.js"
#   FACTORY    FAISS factory string or auto (default: auto)
#   METRIC     l2, ip or cosine (default: l2)
#   VERSION    name of the new version (default: YYYYMMDDTHHMMSSZ-<8 hex>, as build chooses)
#   WAIT       seconds to wait for another writer at each step before giving up with 75 (default: 600)
#   GC_KEEP    when set, finish with `gc --keep GC_KEEP --yes`
#   METRICS_DIR  when set, each step writes METRICS_DIR/indexctl-<step>.prom (--metrics-file) for
#              node_exporter's textfile collector, also when the step fails
#   LOG        when set, the run's whole output (each step's command, its output and errors) is
#              appended to this file, and stderr gets nothing on success and, on failure, the
#              run's output, so the mail cron sends carries the error lines themselves (the
#              crontab line in docs/operations.md)
#
# Exit status: 0 published (or already current); otherwise the exit code of the step that failed
# (2 usage, 3 invariant or compare-and-swap conflict, 4 corruption, 5 bad chunks file, 6 not
# found, 75 another writer held the lock for longer than WAIT). CURRENT changes only on 0.
set -uo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $(basename "$0") CHUNKS ROOT" >&2
  exit 2
fi
chunks=$1
root=$2
read -r -a indexctl <<<"${INDEXCTL:-indexctl}"
factory=${FACTORY:-auto}
metric=${METRIC:-l2}
wait=${WAIT:-600}
version=${VERSION:-$(date -u +%Y%m%dT%H%M%SZ)-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')}

log() { echo "nightly-rebuild: $*" >&2; }

if [[ -n "${LOG:-}" ]]; then
  run_log=$(mktemp "${TMPDIR:-/tmp}/indexctl-nightly.XXXXXX")
  # fd 3: the caller's stderr (cron's mail); this run writes into run_log until it ends.
  exec 3>&2 >"$run_log" 2>&1
  finish() {
    local code=$?
    cat "$run_log" >>"$LOG"
    if [[ $code -ne 0 ]]; then
      {
        echo "indexctl nightly failed with exit $code on $(hostname); this run's output (also in $LOG):"
        cat "$run_log"
      } >&3
    fi
    rm -f "$run_log"
    exit "$code"
  }
  trap finish EXIT
fi

# What each exit code means for this run; cron mails stderr.
explain() {
  local step=$1 code=$2
  case $code in
    2) log "$step: usage error (a bad flag or version name): fix this script's configuration" ;;
    3) log "$step: invariant violation: counts, ids or coverage disagree, or CURRENT changed since the run started (compare-and-swap); CURRENT untouched, do not retry blindly: check 'indexctl status' and publish.log" ;;
    4) log "$step: corruption: a file of $version is damaged; CURRENT untouched; inspect with 'indexctl verify $version --json', gc removes it later" ;;
    5) log "$step: bad input: $chunks is unusable (see the message above); nothing changed" ;;
    6) log "$step: not found: root, version or CURRENT missing" ;;
    75) log "$step: another writer held the lock for more than ${wait}s; nothing changed, the next run retries" ;;
    *) log "$step: failed with exit $code (internal error: rerun with --verbose for a stack)" ;;
  esac
}

run() {
  local step=$1
  shift
  log "$step: ${indexctl[*]} --root $root $*"
  "${indexctl[@]}" --root "$root" "$@"
  local code=$?
  if [[ $code -ne 0 ]]; then
    explain "$step" "$code"
    exit "$code"
  fi
}

# The CURRENT this run builds on: the symlink's target is the on-disk contract (versions/<v>).
expect=none
if target=$(readlink "$root/CURRENT" 2>/dev/null); then
  target=${target%/}
  expect=${target#versions/}
fi
log "building $version from $chunks into $root (CURRENT now: $expect)"

run build build --chunks "$chunks" --factory "$factory" --metric "$metric" --version "$version" --wait "$wait" \
  ${METRICS_DIR:+--metrics-file "$METRICS_DIR/indexctl-build.prom"}
# A quick structural verify first: a broken build fails here, before waiting for the lock.
run verify verify "$version" --level 2 ${METRICS_DIR:+--metrics-file "$METRICS_DIR/indexctl-verify.prom"}
# publish verifies again at level 3 under the lock, then flips only if CURRENT is still $expect.
run publish publish "$version" --expect-current "$expect" --reason "nightly rebuild from $(basename "$chunks")" --wait "$wait" \
  ${METRICS_DIR:+--metrics-file "$METRICS_DIR/indexctl-publish.prom"}
if [[ -n "${GC_KEEP:-}" ]]; then
  run gc gc --keep "$GC_KEEP" --yes --wait "$wait" ${METRICS_DIR:+--metrics-file "$METRICS_DIR/indexctl-gc.prom"}
fi
log "published $version (was $expect)"
