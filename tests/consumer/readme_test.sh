#!/usr/bin/env bash
# readme_test: this workspace uses exactly the lines that README.md's section
# "Using polyio from another Bazel workspace" tells a workspace to add, so
# that tools/test building and testing it here proves those lines enough.
#
# For each FILE (WORKSPACE, .bazelrc): the fenced block after the README's
# "<!-- consumer: FILE -->" must equal this workspace's FILE between
# "# BEGIN polyio (README.md)" and "# END polyio". The polyio repository's
# `path` is the one line allowed to differ: README.md says where a monorepo
# would keep polyio, this workspace lives inside polyio's checkout (../..).
set -euo pipefail

readme="$TEST_SRCDIR/polyio/README.md"
here="$TEST_SRCDIR/$TEST_WORKSPACE"

normalize() { sed -E 's/^( *path = )"[^"]*"/\1"(where polyio is)"/'; }

failed=0
for file in WORKSPACE .bazelrc; do
  want="$(awk -v marker="<!-- consumer: $file -->" '
    $0 == marker { armed = 1; next }
    armed && /^```/ { if (inside) exit; inside = 1; next }
    inside { print }' "$readme" | normalize)"
  have="$(sed -n '/^# BEGIN polyio (README.md)$/,/^# END polyio$/p' "$here/$file" |
    sed '1d;$d' | normalize)"
  if [[ -z "$want" ]]; then
    echo "FAIL: README.md has no block after <!-- consumer: $file -->"
    failed=1
  elif [[ -z "$have" ]]; then
    echo "FAIL: tests/consumer/$file has no '# BEGIN polyio (README.md)' block"
    failed=1
  elif [[ "$want" != "$have" ]]; then
    echo "FAIL: tests/consumer/$file differs from README.md's lines" \
      "(< README.md, > $file):"
    diff <(echo "$want") <(echo "$have") || true
    failed=1
  else
    echo "ok: tests/consumer/$file has README.md's $(wc -l <<<"$want") lines"
  fi
done
exit "$failed"
