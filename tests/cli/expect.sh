#!/usr/bin/env bash
# expect.sh --status N --message REGEX [--keeps FILE] [--within SECONDS] -- COMMAND...
# Runs COMMAND (under a hard time limit), then checks that it exited with status N, that its
# output (stdout and stderr) matches the extended regular expression, that it finished within
# the given seconds (default 20), and that FILE, if named, is byte-for-byte unchanged.
set -u
status="" message="" keeps="" within=20
while [ $# -gt 0 ]; do
  case "$1" in
    --status) status=$2; shift 2 ;;
    --message) message=$2; shift 2 ;;
    --keeps) keeps=$2; shift 2 ;;
    --within) within=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "expect.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$status" ] && [ -n "$message" ] && [ $# -gt 0 ] || { echo "expect.sh: usage error" >&2; exit 2; }
# Sanitizer builds run slower (tests/CMakeLists.txt, DPTRAIN_TEST_SLOWDOWN).
within=$((within * ${DPTRAIN_TEST_SLOWDOWN:-1}))

before=""
[ -n "$keeps" ] && before=$(sha256sum "$keeps")
output=$(mktemp)
trap 'rm -f "$output"' EXIT
start=$(date +%s%N)
timeout --kill-after=5 $((within + 10)) "$@" >"$output" 2>&1
got=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))

echo "--- output of: $*"
cat "$output"
echo "--- exit status $got after ${elapsed_ms} ms"
failed=0
# timeout's own statuses (124, 137) are also a killed rank's, so judge a hang by the clock.
if [ "$elapsed_ms" -ge $(((within + 10) * 1000)) ]; then
  echo "FAIL: the command hung and was killed"; failed=1
elif [ "$got" -ne "$status" ]; then
  echo "FAIL: exit status $got, expected $status"; failed=1
fi
if ! grep -Eq -- "$message" "$output"; then
  echo "FAIL: no output line matches: $message"; failed=1
fi
if [ "$elapsed_ms" -gt $((within * 1000)) ]; then
  echo "FAIL: took ${elapsed_ms} ms, more than ${within} s"; failed=1
fi
if [ -n "$keeps" ] && [ "$(sha256sum "$keeps")" != "$before" ]; then
  echo "FAIL: $keeps was changed"; failed=1
fi
[ "$failed" -eq 0 ] && echo "PASS"
exit "$failed"
