#!/bin/sh
# examples/run: output through the pipe intact, exit codes as timeout(1)'s,
# a timeout that kills, SIGTERM passed on to the child.
set -u
RUN="$1"
TMP="${TEST_TMPDIR:-/tmp}"
fail() { echo "FAIL: $*" >&2; exit 1; }

out=$("$RUN" -- /bin/echo hello, run) || fail "echo exited $?"
[ "$out" = "hello, run" ] || fail "echo printed '$out'"

"$RUN" -- /bin/sh -c 'exit 3'
[ $? -eq 3 ] || fail "exit 3 not passed on"

"$RUN" -- /bin/sh -c 'kill -USR1 $$'
[ $? -eq $((128 + 10)) ] || fail "a child killed by SIGUSR1 is not 138"

# 1 MiB through the pipe, every byte.
n=$("$RUN" -- /bin/sh -c 'head -c 1048576 /dev/zero' | wc -c)
[ "$n" -eq 1048576 ] || fail "1 MiB came out as $n bytes"

# A timeout kills the child long before its 30 s and says so.
start=$(date +%s)
"$RUN" --timeout 200ms -- /bin/sleep 30 2>"$TMP/timeout.err"
code=$?
end=$(date +%s)
[ $code -eq 124 ] || fail "timeout exited $code, not 124"
[ $((end - start)) -lt 10 ] || fail "timeout took $((end - start)) s"
grep -q "timed out after 200 ms; killed" "$TMP/timeout.err" ||
  fail "no timeout message: $(cat "$TMP/timeout.err")"

# A program that is not there: 127, with the reason.
"$RUN" -- /no/such/program 2>"$TMP/nosuch.err"
[ $? -eq 127 ] || fail "a missing program is not 127"
grep -q "spawn /no/such/program: No such file or directory" "$TMP/nosuch.err" ||
  fail "no reason: $(cat "$TMP/nosuch.err")"

# Bad flags: 125.
"$RUN" --timeout soon -- /bin/true 2>/dev/null
[ $? -eq 125 ] || fail "a bad --timeout is not 125"

# SIGTERM to run goes to the child, and run exits as the child did (143).
"$RUN" -- /bin/sh -c 'echo started; exec /bin/sleep 30' >"$TMP/term.out" \
  2>"$TMP/term.err" &
pid=$!
i=0
until grep -q started "$TMP/term.out" 2>/dev/null; do
  i=$((i + 1))
  [ $i -lt 500 ] || fail "the child never started"
  sleep 0.02
done
kill -TERM "$pid"
wait "$pid"
code=$?
[ $code -eq 143 ] || fail "after SIGTERM run exited $code, not 143"
grep -q "forwarded SIGTERM" "$TMP/term.err" ||
  fail "SIGTERM not forwarded: $(cat "$TMP/term.err")"

echo PASS
