# Sourced by tools/test, tools/bench and tests/consumer/run.sh: installs the
# Debian 12 packages the build needs, and only those that are missing
# (dpkg-query first; apt-get update + install only when something is
# missing). No other downloads.
#
#   polyio_install_deps            install what is missing (needs root/sudo)
#   POLYIO_SKIP_INSTALL=1          skip the whole step
#   polyio_bazel_flags             sets POLYIO_BAZEL_FLAGS (below)
#   polyio_libkqueue_missing       says why kqueue cannot build here (below)

POLYIO_DEBIAN_PACKAGES=(
  bazel-bootstrap bazel-rules-java bazel-skylib
  liburing-dev libabsl-dev libgtest-dev libgmock-dev libbenchmark-dev
  libboost1.81-dev libuv1-dev  # the benchmark peers (benchmarks/peers)
  clang libclang-rt-14-dev clang-format
  python3 git  # tools/test's summary and file listing
  gnuplot-nox valgrind strace  # tools/bench's chart (echo.png) and --instr
  wrk  # tools/bench's HTTP table (load for examples/http_hello)
)

polyio_install_deps() {
  if [[ "${POLYIO_SKIP_INSTALL:-0}" == 1 ]]; then
    return 0
  fi
  local missing=() pkg status
  for pkg in "${POLYIO_DEBIAN_PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)"
    if [[ "$status" != installed ]]; then
      missing+=("$pkg")
    fi
  done
  if ((${#missing[@]} == 0)); then
    echo "All ${#POLYIO_DEBIAN_PACKAGES[@]} Debian packages are installed."
    return 0
  fi
  echo "Installing missing Debian packages: ${missing[*]}"
  local sudo=()
  if ((EUID != 0)); then
    sudo=(sudo)
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# Flags every bazel command of tools/test and tools/bench passes:
# - a disk cache under ~/.cache/polyio, so reruns (and switching between
#   sanitizer configs) are cheap;
# - POLYIO_LIBKQUEUE_STAMP, a fingerprint of where libkqueue may live, so
#   that @libkqueue is re-evaluated by itself once libkqueue is installed
#   (third_party/libkqueue/repository.bzl).
polyio_bazel_flags() {
  local prefix="${POLYIO_LIBKQUEUE_PREFIX:-/opt/libkqueue}" stamp
  stamp="$(stat -L -c '%n %s %Y' \
    "$prefix/include/kqueue/sys/event.h" "$prefix/lib/libkqueue.so" \
    "$prefix/lib64/libkqueue.so" /usr/include/kqueue/sys/event.h \
    2>/dev/null | cksum | cut -d' ' -f1)"
  POLYIO_BAZEL_FLAGS=(
    "--disk_cache=${XDG_CACHE_HOME:-$HOME/.cache}/polyio/bazel-disk-cache"
    "--repo_env=POLYIO_LIBKQUEUE_STAMP=$stamp"
  )
  if [[ -n "${POLYIO_LIBKQUEUE_PREFIX:-}" ]]; then
    POLYIO_BAZEL_FLAGS+=("--repo_env=POLYIO_LIBKQUEUE_PREFIX=$POLYIO_LIBKQUEUE_PREFIX")
  fi
}

# polyio_libkqueue_missing: on Linux without libkqueue where
# third_party/libkqueue/repository.bzl looks for it, prints why the kqueue
# backend cannot build here, in words to act on, and returns 0; returns 1
# (printing nothing) where kqueue can build: libkqueue found, or not Linux.
polyio_libkqueue_missing() {
  local prefix="${POLYIO_LIBKQUEUE_PREFIX:-/opt/libkqueue}"
  if [[ "$(uname -s)" != Linux || -e "$prefix/include/kqueue/sys/event.h" ||
        -e /usr/include/kqueue/sys/event.h ]]; then
    return 1
  fi
  echo "libkqueue is not installed (looked in $prefix and /usr);" \
    "kqueue runs on Linux only through it (POLYIO_LIBKQUEUE_PREFIX=DIR" \
    "if it is elsewhere)"
}
