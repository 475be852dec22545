# tap.sh - tiny TAP helpers for the bash integration tests.
#   . "$top_srcdir/tests/lib/tap.sh"; plan 5; ok "name" cmd...; is "name" got want; done_testing
TAP_N=0
TAP_FAILED=0
plan() { echo "1..$1"; }
ok() {
	local name=$1; shift
	TAP_N=$((TAP_N + 1))
	if "$@"; then echo "ok $TAP_N - $name"; else echo "not ok $TAP_N - $name"; TAP_FAILED=$((TAP_FAILED + 1)); fi
}
is() {
	TAP_N=$((TAP_N + 1))
	if [ "$2" = "$3" ]; then echo "ok $TAP_N - $1"
	else echo "not ok $TAP_N - $1"; echo "#   got:  '$2'"; echo "#   want: '$3'"; TAP_FAILED=$((TAP_FAILED + 1)); fi
}
like() {
	TAP_N=$((TAP_N + 1))
	if printf '%s' "$2" | grep -qE -- "$3"; then echo "ok $TAP_N - $1"
	else echo "not ok $TAP_N - $1"; echo "#   '$2'"; echo "#   does not match /$3/"; TAP_FAILED=$((TAP_FAILED + 1)); fi
}
diag() { echo "# $*"; }
bail() { echo "Bail out! $*"; exit 1; }
# wait_for SECONDS CMD...: poll (bounded) until CMD succeeds.
wait_for() {
	local limit=$1 i=0; shift
	while [ "$i" -lt $((limit * 10)) ]; do "$@" && return 0; sleep 0.1; i=$((i + 1)); done
	return 1
}
# done_testing: the plan at the end (for tests whose count follows the data).
done_testing() { echo "1..$TAP_N"; [ "$TAP_FAILED" -eq 0 ]; }
# lacks NAME FILE GREP-ARGS...: FILE exists and grep finds nothing in it (a
# missing file is a failure, never a pass)
lacks() {
	local name=$1 f=$2; shift 2
	if [ -r "$f" ] && ! grep -q "$@" "$f"; then ok "$name" true
	else ok "$name" false; [ -r "$f" ] || diag "$f: missing"; fi
}
# absent GREP-ARGS... -- FILE...: a check for ok and wait_for: every FILE
# exists and grep finds nothing in any of them (a missing file, or a grep
# error, is a failure, never a pass)
absent() {
	local a=() f
	while [ $# -gt 0 ] && [ "$1" != -- ]; do a+=("$1"); shift; done
	[ $# -gt 1 ] || { diag "absent: no file named"; return 1; }
	shift
	for f in "$@"; do [ -r "$f" ] || { diag "$f: missing"; return 1; }; done
	grep -q "${a[@]}" -- "$@"
	[ $? -eq 1 ]
}
