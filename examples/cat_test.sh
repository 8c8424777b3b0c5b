#!/bin/sh
# examples/cat: files and stdin to stdout intact, into a pipe and into a
# file; a missing file reported and skipped; a reader gone is an error, not
# SIGPIPE.
set -u
CAT="$1"
TMP="${TEST_TMPDIR:-/tmp}"
fail() { echo "FAIL: $*" >&2; exit 1; }

head -c 3000000 /dev/urandom >"$TMP/a"
printf 'second file\n' >"$TMP/b"
cat "$TMP/a" "$TMP/b" >"$TMP/want"

# Into a regular file (PipeWriter over a file).
"$CAT" "$TMP/a" "$TMP/b" >"$TMP/got" || fail "cat a b exited $?"
cmp -s "$TMP/want" "$TMP/got" || fail "cat a b > file differs"

# Into a pipe, with stdin in the middle ("-"; a regular file here, which
# cat reads with read(2) on the blocking pool).
printf 'from stdin\n' >"$TMP/in"
cat "$TMP/a" "$TMP/in" "$TMP/b" >"$TMP/want2"
"$CAT" "$TMP/a" - "$TMP/b" <"$TMP/in" | cat >"$TMP/got2" ||
  fail "cat a - b exited $?"
cmp -s "$TMP/want2" "$TMP/got2" || fail "cat a - b | differs"

# stdin from a pipe (PipeReader::Stdin and Copy), no arguments.
n=$(head -c 1048576 /dev/zero | "$CAT" | wc -c)
[ "$n" -eq 1048576 ] || fail "1 MiB of stdin came out as $n bytes"

# A missing file: reported, skipped, exit 1; the others still copied.
"$CAT" "$TMP/b" /no/such "$TMP/b" >"$TMP/got3" 2>"$TMP/err3"
code=$?
[ $code -eq 1 ] || fail "a missing file exited $code, not 1"
grep -q "open /no/such: No such file or directory" "$TMP/err3" ||
  fail "no message for /no/such: $(cat "$TMP/err3")"
[ "$(cat "$TMP/got3")" = "$(printf 'second file\nsecond file')" ] ||
  fail "the files around the missing one were not copied"

# The reader goes away: an error naming the write, exit 1, not SIGPIPE (141).
( "$CAT" "$TMP/a" "$TMP/a" "$TMP/a" 2>"$TMP/err4"; echo $? >"$TMP/code4" ) |
  head -c 10 >/dev/null
code=$(cat "$TMP/code4")
[ "$code" -eq 1 ] || fail "a closed pipe exited $code, not 1"
grep -q "Broken pipe" "$TMP/err4" || fail "no EPIPE message: $(cat "$TMP/err4")"

echo PASS
