#!/bin/sh
# run-tests.sh - the README's second quick-start command and what CI runs:
# install dependencies, build with -Werror, run the whole test suite, then
# build again with ASan + UBSan and run it once more.  The last line printed
# is the totals over every test case: "N passed, N failed".  Works as root
# (no sudo needed) and as a user with sudo (used by install-deps only), before
# or after contrib/quickstart.sh, and again.
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)

contrib/install-deps.sh --test || { echo "install-deps failed"; echo "0 passed, 1 failed"; exit 1; }
if [ -f config.status ]; then
	# configured in the tree by hand: out-of-tree builds refuse to share it
	echo "run-tests: the source tree was configured in place: make distclean there first"
	make -s distclean >/dev/null 2>&1 || rm -f config.status
fi
[ -x configure ] || autoreconf -fi || { echo "0 passed, 1 failed"; exit 1; }

# The suite runs as root (Postfix, rsyslog on privileged ports, /etc/hosts
# lines, the privilege drop): a user builds as themself and runs the tests
# through sudo, so the build stays theirs.
RUN=""
[ "$(id -u)" -eq 0 ] || RUN="sudo"
status=0
run_suite() {  # $1 build dir, rest: configure flags
	dir=$1; shift
	mkdir -p "$dir"
	( cd "$dir" && "$top/configure" -q --enable-werror "$@" && make -j"$jobs" >/dev/null &&
	  make -j"$jobs" check TESTS= >/dev/null && $RUN make -j"$jobs" check ) || status=1
}

results() { find _build/release/tests _build/asan/tests -name "*.$1" 2>/dev/null; }
results trs | xargs -r rm -f   # no stale results
run_suite "$top/_build/release"
run_suite "$top/_build/asan" --enable-sanitizers

# Totals from the per-test result files automake's tap driver wrote, in
# these two builds only (other _build/ directories may hold stale results).
trs=$(results trs)
pass=$(cat $trs /dev/null | grep -cE "^:test-result: (PASS|XFAIL)")
skip=$(cat $trs /dev/null | grep -cE '^:test-result: SKIP')
fail=$(cat $trs /dev/null | grep -cE '^:test-result: (FAIL|XPASS|ERROR)')
for f in $(results log); do
	grep -qE '^(not ok|Bail out)' "$f" 2>/dev/null && { echo "--- $f"; grep -E '^(not ok|#)' "$f" | head -40; }
done
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ] || status=1
if [ "$status" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi
echo "$pass passed, $fail failed, $skip skipped"
exit $status
