#!/usr/bin/env bash
# tests/consumer/run.sh: builds and tests this workspace (polyio used from
# another Bazel workspace, README.md) on one backend, as tools/test does.
#
#   tests/consumer/run.sh --backends          the backends this host has, one
#                                             a line (on stderr: each one
#                                             left out, and why)
#   tests/consumer/run.sh BACKEND [FLAGS...]  bazel test //... here with
#                                             --config=BACKEND, tools/test's
#                                             --disk_cache, and FLAGS
#
# Plain configuration only, and only this workspace's targets (//...: the
# echo service, binary and test, and //:readme_test): each backend compiles
# polyio again in this workspace's own output base, so that is the whole
# cost. Then checks that @com_google_googletest is this workspace's own
# declaration, not one polyio_offline_dependencies() added.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")" || exit 2
# shellcheck source=tools/lib/install_deps.sh
source ../../tools/lib/install_deps.sh

if [[ "${1:-}" == --backends ]]; then
  case "$(uname -s)" in
    Linux)
      echo epoll poll io_uring auto | tr ' ' '\n'
      if why="$(polyio_libkqueue_missing)"; then
        echo "tests/consumer: kqueue: SKIPPED: $why" >&2
      else
        echo kqueue
      fi
      ;;
    Darwin | FreeBSD | OpenBSD) echo poll kqueue | tr ' ' '\n' ;;
    *) echo poll ;;
  esac
  exit 0
fi
if (($# < 1)); then
  echo "usage: tests/consumer/run.sh --backends | BACKEND [BAZEL_FLAGS...]" >&2
  exit 2
fi
backend="$1"
shift

polyio_bazel_flags
# --symlink_prefix=/: no bazel-* symlinks inside polyio's checkout.
bazel test --symlink_prefix=/ --config="$backend" \
  --test_env=POLYIO_EXPECT_BACKEND="$backend" "${POLYIO_BAZEL_FLAGS[@]}" "$@" \
  -- //...
rc=$?

# existing_rule: the WORKSPACE declares @com_google_googletest before calling
# polyio_offline_dependencies(), which must have left it alone.
declared="$(bazel query --output=build //external:com_google_googletest 2>/dev/null)"
if grep -q 'path = "third_party/googletest"' <<<"$declared" &&
  ! grep -q polyio_offline_dependencies <<<"$declared"; then
  echo "@com_google_googletest: this workspace's own (polyio's macro skipped it)"
else
  echo "FAIL: @com_google_googletest is not this workspace's own declaration:"
  echo "$declared"
  rc=1
fi
exit "$rc"
