#!/usr/bin/env bash
# scripts/build-faiss.sh — build FAISS 1.7.3 from Debian's own source package as a
# static, position-independent library tuned for this CPU, into a per-user cache.
#
#   Result: ${INDEXCTL_CACHE:-$HOME/.cache/indexctl}/faiss-1.7.3-<level>/
#             include/faiss/...          headers (faiss/**/*.h from the source tree,
#                                        minus gpu/ and python/, which are not built)
#             lib/libfaiss_<level>.a     static lib, every object compiled with -fPIC
#             build-info.json            written LAST (temp + mv): its presence means
#                                        the install is complete; if it exists the
#                                        script reuses it and exits 0 straight away.
#           ${cache}/faiss-1.7.3-<level>.build.log   full log of the last build
#           ${cache}/apt/                 private apt state (deb-src list, lists, cache)
#
# Level: "avx2" if /proc/cpuinfo has the avx2 flag, else "generic".
#   INDEXCTL_FAISS_LEVEL=avx2|avx512|generic overrides. "generic" builds nothing (the
#   addon then links the system libfaiss-dev). FAISS 1.7.3's CMake only knows the opt
#   levels generic and avx2 (there is no faiss_avx512 target before 1.7.4), so avx512
#   is refused with a message; the check reads the fetched CMakeLists, not a hard-coded
#   list.
#
# The deb-src entry never touches /etc/apt: a sources file under ${cache}/apt/ is built
# from the mirror URI and main suite of /etc/apt/sources.list.d/debian.sources and apt
# is pointed at it with -o Dir::Etc::SourceList=... etc. Fetching needs no root; only
# installing missing build packages does (root or sudo).
#
# Other env: INDEXCTL_FAISS_CXXFLAGS  extra compiler flags (default none; the build
#                                      uses CMake's Release flags -O3 -DNDEBUG plus the
#                                      target's own -mavx2 -mfma -mf16c -mpopcnt)
#            INDEXCTL_KEEP_BUILD=1     keep the temp build dir (for debugging)
# Exit codes: 0 ok / reused / generic, 1 build or fetch failure, 2 bad usage/unsupported.
set -Eeuo pipefail

FAISS_VERSION="1.7.3"
SRC_PACKAGE="faiss"
CACHE_ROOT="${INDEXCTL_CACHE:-$HOME/.cache/indexctl}"

say() { printf 'build-faiss: %s\n' "$*"; }
die() {
  local code="$1"
  shift
  printf 'build-faiss: error: %s\n' "$*" >&2
  exit "$code"
}

# --- 1. level -------------------------------------------------------------------
CPU_FLAGS=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2 || true) "
cpu_has() { [[ "$CPU_FLAGS" == *" $1 "* ]]; }

if [[ -n "${INDEXCTL_FAISS_LEVEL:-}" ]]; then
  LEVEL="$INDEXCTL_FAISS_LEVEL"
  case "$LEVEL" in
    avx2 | avx512 | generic) ;;
    *) die 2 "INDEXCTL_FAISS_LEVEL must be avx2, avx512 or generic (got '$LEVEL')" ;;
  esac
elif cpu_has avx2; then
  LEVEL="avx2"
else
  LEVEL="generic"
fi

if [[ "$LEVEL" == "generic" ]]; then
  say "level generic: using system libfaiss (libfaiss-dev); nothing to build"
  exit 0
fi

case "$LEVEL" in
  avx2) cpu_has avx2 && cpu_has fma && cpu_has f16c && cpu_has popcnt ||
    die 2 "this CPU lacks avx2/fma/f16c/popcnt; a faiss_avx2 library would not run here" ;;
  avx512) cpu_has avx512f && cpu_has avx512bw && cpu_has avx512dq && cpu_has avx512vl ||
    die 2 "this CPU lacks avx512f/bw/dq/vl; a faiss_avx512 library would not run here" ;;
esac

DEST="$CACHE_ROOT/faiss-$FAISS_VERSION-$LEVEL"
INFO="$DEST/build-info.json"
LIBNAME="libfaiss_$LEVEL.a"

# --- 2. reuse --------------------------------------------------------------------
if [[ -f "$INFO" ]]; then
  say "reusing $DEST (build-info.json present; delete the directory to rebuild)"
  exit 0
fi

mkdir -p "$CACHE_ROOT"
CACHE_ROOT="$(cd "$CACHE_ROOT" && pwd -P)"
DEST="$CACHE_ROOT/faiss-$FAISS_VERSION-$LEVEL"
INFO="$DEST/build-info.json"

# One build per level at a time; a second caller waits, then reuses.
exec 9>"$CACHE_ROOT/.faiss-$FAISS_VERSION-$LEVEL.lock"
if ! flock -n 9; then
  say "another build of faiss-$FAISS_VERSION-$LEVEL is running; waiting for it"
  flock 9
fi
if [[ -f "$INFO" ]]; then
  say "reusing $DEST (finished by a concurrent build)"
  exit 0
fi

LOG="$CACHE_ROOT/faiss-$FAISS_VERSION-$LEVEL.build.log"
: >"$LOG"
say "building FAISS $FAISS_VERSION ($LEVEL) into $DEST"
say "log: $LOG"

BUILD_DIR=""
cleanup() {
  if [[ -n "$BUILD_DIR" && -d "$BUILD_DIR" ]]; then
    if [[ "${INDEXCTL_KEEP_BUILD:-}" == "1" ]]; then
      say "keeping build dir $BUILD_DIR"
    else
      rm -rf -- "$BUILD_DIR"
    fi
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  printf 'build-faiss: FAILED: %s\n' "$*" >&2
  printf -- '--- last 40 lines of %s ---\n' "$LOG" >&2
  tail -n 40 "$LOG" >&2 || true
  exit 1
}

# step "description" cmd args...  — progress line on the terminal, output to the log
step() {
  local desc="$1"
  shift
  say "$desc"
  printf '\n==> %s\n$ %s\n' "$desc" "$*" >>"$LOG"
  "$@" >>"$LOG" 2>&1 || fail "$desc"
}

# --- 3. build prerequisites -----------------------------------------------------
NEEDED_PKGS=(dpkg-dev cmake g++ libopenblas-dev)
missing=()
for p in "${NEEDED_PKGS[@]}"; do
  if [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)" != ii* ]]; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  if [[ $EUID -eq 0 ]]; then
    SUDO=()
  elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    die 1 "missing packages: ${missing[*]}; not root and no sudo. Run as root: apt-get update && apt-get install ${missing[*]}"
  fi
  step "apt-get update (system sources, to install ${missing[*]})" \
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update
  step "installing ${missing[*]}" \
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "${missing[@]}"
fi
for tool in dpkg-source cmake g++ readelf flock; do
  command -v "$tool" >/dev/null 2>&1 || fail "required tool '$tool' not found"
done

# --- 4. private deb-src apt state -----------------------------------------------
# Mirror URI + main suite (the one without a '-', e.g. bookworm, not bookworm-updates)
# from the deb822 system sources; one-line sources.list as a fallback.
parse_deb822() {
  awk '
    function flush() {
      if (types ~ /(^|[ \t])deb([ \t]|$)/ && uri != "" && suite != "" && !done) {
        print uri "\t" suite "\t" signed; done = 1
      }
      types = ""; uri = ""; suite = ""; signed = ""
    }
    /^[ \t]*#/ { next }
    /^[ \t]*$/ { flush(); next }
    tolower($1) == "types:"     { types = $0; sub(/^[^:]*:[ \t]*/, "", types) }
    tolower($1) == "uris:"      { uri = $2 }
    tolower($1) == "signed-by:" { if (NF >= 2 && $2 ~ /^\//) signed = $2 }
    tolower($1) == "suites:" {
      for (i = 2; i <= NF; i++) if ($i !~ /-/) { suite = $i; break }
    }
    END { flush() }
  ' "$1"
}
parse_oneline() {
  awk '$1 == "deb" {
         i = 2; signed = ""
         if ($2 ~ /^\[/) { while (i <= NF) { if ($i ~ /signed-by=/) { s = $i; sub(/.*signed-by=/, "", s); sub(/\]$/, "", s); signed = s }
                                              if ($i ~ /\]$/) { i++; break }; i++ } }
         if ($(i+1) !~ /-/) { print $i "\t" $(i+1) "\t" signed; exit }
       }' "$1"
}
MIRROR_LINE=""
if [[ -r /etc/apt/sources.list.d/debian.sources ]]; then
  MIRROR_LINE="$(parse_deb822 /etc/apt/sources.list.d/debian.sources)"
fi
if [[ -z "$MIRROR_LINE" && -r /etc/apt/sources.list ]]; then
  MIRROR_LINE="$(parse_oneline /etc/apt/sources.list)"
fi
[[ -n "$MIRROR_LINE" ]] ||
  die 1 "could not find a Debian mirror + suite in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list"
IFS=$'\t' read -r MIRROR_URI MIRROR_SUITE MIRROR_KEY <<<"$MIRROR_LINE"

APT_DIR="$CACHE_ROOT/apt"
mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial"
SRC_LIST="$APT_DIR/sources.list"
{
  echo "# generated by indexctl scripts/build-faiss.sh from the system's apt sources"
  if [[ -n "$MIRROR_KEY" && -r "$MIRROR_KEY" ]]; then
    echo "deb-src [signed-by=$MIRROR_KEY] $MIRROR_URI $MIRROR_SUITE main"
  else
    echo "deb-src $MIRROR_URI $MIRROR_SUITE main"
  fi
} >"$SRC_LIST"
APT_OPTS=(
  -o "Dir::Etc::SourceList=$SRC_LIST"
  -o "Dir::Etc::SourceParts=/nonexistent"
  -o "Dir::State::Lists=$APT_DIR/lists"
  -o "Dir::Cache=$APT_DIR/cache"
)
# As root, apt would drop to the _apt user to download, which cannot enter /root/...;
# it then falls back to root anyway with a warning. Say so up front instead.
[[ $EUID -eq 0 ]] && APT_OPTS+=(-o "APT::Sandbox::User=root")

step "apt-get update (private deb-src: $MIRROR_URI $MIRROR_SUITE main)" \
  apt-get "${APT_OPTS[@]}" update

# --- 5. pick + check the source version -----------------------------------------
DEB_VERSION=""
while read -r v; do
  if [[ -z "$DEB_VERSION" ]] || dpkg --compare-versions "$v" gt "$DEB_VERSION"; then
    DEB_VERSION="$v"
  fi
done < <(apt-cache "${APT_OPTS[@]}" showsrc --only-source "$SRC_PACKAGE" 2>>"$LOG" |
  awk '/^Version:/ {print $2}')
[[ -n "$DEB_VERSION" ]] || fail "source package '$SRC_PACKAGE' not found via $SRC_LIST"
UPSTREAM="${DEB_VERSION#*:}"
UPSTREAM="${UPSTREAM%-*}"
# accept a Debian repack suffix (1.7.3+dfsg, 1.7.3+ds1), nothing else
if [[ "$UPSTREAM" != "$FAISS_VERSION" && "$UPSTREAM" != "$FAISS_VERSION+"* ]]; then
  die 1 "Debian's $SRC_PACKAGE source is $DEB_VERSION (upstream $UPSTREAM); this script only builds $FAISS_VERSION"
fi
say "source package: $SRC_PACKAGE $DEB_VERSION"

# --- 6. fetch + unpack (dpkg-source applies debian/patches) ------------------------
rm -rf -- "$CACHE_ROOT/build-faiss-$LEVEL".* # leftovers of killed runs (we hold the lock)
BUILD_DIR="$(mktemp -d "$CACHE_ROOT/build-faiss-$LEVEL.XXXXXX")"
mkdir -p "$BUILD_DIR/src"
step "apt-get source $SRC_PACKAGE=$DEB_VERSION" \
  bash -c 'cd "$1" && shift && exec apt-get "$@"' _ "$BUILD_DIR/src" \
  "${APT_OPTS[@]}" source "$SRC_PACKAGE=$DEB_VERSION"
SRC_DIR="$(find "$BUILD_DIR/src" -mindepth 1 -maxdepth 1 -type d -name "$SRC_PACKAGE-*" -print -quit)"
[[ -n "$SRC_DIR" && -f "$SRC_DIR/faiss/CMakeLists.txt" ]] || fail "unpacked source tree not found"
grep -Eq "^[[:space:]]*VERSION ${FAISS_VERSION//./\\.}[[:space:]]*\$" "$SRC_DIR/CMakeLists.txt" ||
  fail "top-level CMakeLists.txt does not declare VERSION $FAISS_VERSION"
if ! grep -Eq "add_library\\(faiss_$LEVEL[[:space:]]" "$SRC_DIR/faiss/CMakeLists.txt"; then
  levels="$(grep -Eo 'add_library\(faiss_[a-z0-9]+' "$SRC_DIR/faiss/CMakeLists.txt" | sed 's/.*faiss_//' | paste -sd, - || true)"
  die 2 "FAISS $FAISS_VERSION's CMake has no faiss_$LEVEL target (opt levels it knows: generic,${levels}); use INDEXCTL_FAISS_LEVEL=avx2 or generic"
fi
if [[ -f "$SRC_DIR/debian/patches/series" ]]; then
  printf 'debian patches applied: %s\n' "$(grep -v '^#' "$SRC_DIR/debian/patches/series" | tr '\n' ' ')" >>"$LOG"
fi

# --- 7. configure + build -------------------------------------------------------
# debian/rules passes only GPU=OFF, PYTHON=ON, C_API=ON, system-GTest and test-filter
# flags on top of dh's defaults (hardening CXXFLAGS from dpkg-buildflags, -O2 -g); none
# of those matter for a CPU-only static lib. Environment CFLAGS/CXXFLAGS/CPPFLAGS/
# LDFLAGS are dropped so the recorded flags are what was actually used.
T_BUILD0=$SECONDS
step "cmake configure (FAISS_OPT_LEVEL=$LEVEL, static, PIC, Release, OpenBLAS)" \
  env -u CFLAGS -u CXXFLAGS -u CPPFLAGS -u LDFLAGS \
  cmake -S "$SRC_DIR" -B "$BUILD_DIR/build" \
  -DFAISS_ENABLE_GPU=OFF \
  -DFAISS_ENABLE_PYTHON=OFF \
  -DFAISS_ENABLE_C_API=OFF \
  -DBUILD_TESTING=OFF \
  -DBUILD_SHARED_LIBS=OFF \
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
  -DCMAKE_BUILD_TYPE=Release \
  -DFAISS_OPT_LEVEL="$LEVEL" \
  -DBLA_VENDOR=OpenBLAS \
  -DCMAKE_CXX_FLAGS="${INDEXCTL_FAISS_CXXFLAGS:-}" \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON

JOBS="$(nproc 2>/dev/null || echo 2)"
say "compiling target faiss_$LEVEL with -j$JOBS (takes a few minutes)"
step "cmake --build --target faiss_$LEVEL" \
  cmake --build "$BUILD_DIR/build" --target "faiss_$LEVEL" -j"$JOBS"
BUILD_SECONDS=$((SECONDS - T_BUILD0))
say "compiled in ${BUILD_SECONDS}s"

BUILT_LIB="$(find "$BUILD_DIR/build" -name "$LIBNAME" -type f -print -quit)"
[[ -n "$BUILT_LIB" ]] || fail "$LIBNAME not produced"

# Every object must be PIC: absolute 32-bit relocations cannot go into a .node (.so).
NONPIC="$(readelf -rW "$BUILT_LIB" 2>>"$LOG" | grep -Ec '[[:space:]]R_X86_64_32S?[[:space:]]' || true)"
if [[ "${NONPIC:-0}" != "0" ]]; then
  fail "$LIBNAME contains non-PIC relocations (R_X86_64_32/32S)"
fi

# The flags actually used, taken from one faiss_<level> compile command.
CXXFLAGS_USED="$(
  grep -m1 -E '"command": ".*faiss_'"$LEVEL"'\.dir/.*IndexHNSW\.cpp' "$BUILD_DIR/build/compile_commands.json" |
    sed -E 's/^[[:space:]]*"command": "//; s/",?[[:space:]]*$//' | tr ' ' '\n' |
    grep -E '^-(O|D|f|m|g|std=|W)' | grep -v '^-DFAISS_MAIN_LIB' | tr '\n' ' ' | sed 's/ $//' || true
)"

# --- 8. install: stage, move into place, write build-info.json last ------------------
STAGE="$BUILD_DIR/stage"
mkdir -p "$STAGE/include" "$STAGE/lib"
(
  cd "$SRC_DIR" &&
    find faiss -name '*.h' -not -path 'faiss/gpu/*' -not -path 'faiss/python/*' -print0 |
    xargs -0 cp --parents -t "$STAGE/include"
) >>"$LOG" 2>&1 || fail "copying headers"
cp "$BUILT_LIB" "$STAGE/lib/$LIBNAME" || fail "copying $LIBNAME"
[[ -f "$STAGE/include/faiss/Index.h" ]] || fail "headers missing after copy"
rm -rf -- "$DEST"
mv "$STAGE" "$DEST"

json_str() {
  local s="$1"
  s="${s//\\/\\\\}"
  s="${s//\"/\\\"}"
  printf '"%s"' "$s"
}
{
  printf '{\n'
  printf '  "version": %s,\n' "$(json_str "$FAISS_VERSION")"
  printf '  "level": %s,\n' "$(json_str "$LEVEL")"
  printf '  "source": %s,\n' "$(json_str "debian $SRC_PACKAGE $DEB_VERSION")"
  printf '  "built": %s,\n' "$(json_str "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
  printf '  "cxxflags": %s,\n' "$(json_str "$CXXFLAGS_USED")"
  printf '  "compiler": %s,\n' "$(json_str "$(g++ --version | head -n1)")"
  printf '  "blas": "OpenBLAS",\n'
  printf '  "lib": %s,\n' "$(json_str "lib/$LIBNAME")"
  printf '  "buildSeconds": %d\n' "$BUILD_SECONDS"
  printf '}\n'
} >"$INFO.tmp.$$"
mv -f "$INFO.tmp.$$" "$INFO"

say "installed $DEST/lib/$LIBNAME ($(du -h "$DEST/lib/$LIBNAME" | cut -f1)) and $(find "$DEST/include" -name '*.h' | wc -l) headers"
say "done: $INFO"
