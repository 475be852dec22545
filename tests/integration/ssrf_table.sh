#!/bin/bash
# ssrf_table.sh - the SSRF guard through real name resolution and the real
# programs: for every forbidden class (loopback, RFC 1918, link-local and
# cloud metadata, CGNAT, ULA, multicast, unspecified, broadcast, and the
# IPv4-mapped / NAT64 / 6to4 forms) a webhook channel points at the literal
# address and at a name that resolves to it through /etc/hosts lines this
# test adds (as root, under flock /tmp/ab-etc-hosts.lock, removed exactly
# in the exit trap; the file is backed up first).  For each:
#   - `alertbridge check` refuses the URL, naming the guard and the class;
#   - `alertbridge test CHANNEL` fails PERMANENT "refused by the SSRF guard";
#   - no connection is attempted: strace sees no connect() to an IPv4/IPv6
#     address at all, and for the addresses that would reach this machine
#     (127.0.0.1, ::1, 0.0.0.0, ::, ::ffff:127.0.0.1) the local sinks
#     (tests/lib/sink.py on 127.0.0.1 and --bind ::1) record no request.
# Allowed only when listed: with allow_networks naming the network, those
# local ones (literal and name) reach the sinks, and the listed multicast
# and broadcast ones are no longer refused by the guard - the outcome is a
# transport error (RETRY), which the kernel gives at once without a packet
# leaving the machine (a private address would send a SYN off the box, so
# none is used for this half).  A network that does not contain the
# address lets nothing through.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"
ab_tmpdir abssrf
HOSTS=/etc/hosts
HOSTS_LOCK=/tmp/ab-etc-hosts.lock
HOSTS_MARK="# alertbridge-test ssrf_table.sh $$"
HOSTS_BACKUP=/tmp/ab-etc-hosts.ssrf_table.$$.bak
HOSTS_ADDED=0

# Remove exactly our lines (others may have added theirs meanwhile); the
# file is rewritten in place (it may be a bind mount: no rename).
hosts_remove() {
	[ "$HOSTS_ADDED" -gt 0 ] || return 0
	(
		flock -w 60 9 || exit 1
		grep -vF -- "$HOSTS_MARK" "$HOSTS" > "$T/hosts.new"
		[ $? -le 1 ] || exit 1
		cat "$T/hosts.new" > "$HOSTS" || exit 1
	) 9>"$HOSTS_LOCK" && ! grep -qF -- "$HOSTS_MARK" "$HOSTS" && HOSTS_ADDED=0 &&
		rm -f "$HOSTS_BACKUP"
	[ "$HOSTS_ADDED" -eq 0 ] ||
		echo "# could not remove this test's lines from $HOSTS; backup: $HOSTS_BACKUP" >&2
}
ab_on_exit hosts_remove

[ "$(id -u)" = 0 ] || { ab_distcheck_skip "needs root (/etc/hosts lines)"
	bail "must run as root: it adds (and removes) its own /etc/hosts lines"; }
command -v strace >/dev/null || bail "strace not installed (contrib/install-deps.sh --test)"
strace -f -qq -e trace=connect -o /dev/null true 2>/dev/null ||
	bail "strace cannot trace here (ptrace not permitted)"
command -v flock >/dev/null || bail "flock not installed (util-linux)"

ab_plugins webhook

# Two local sinks: 127.0.0.1 (also reached through 0.0.0.0 and
# ::ffff:127.0.0.1) and ::1 (also reached through ::; P6 not starting means
# no IPv6 loopback).
ab_sink P4 --record "$T/rec.jsonl"
ab_sink P6 --bind ::1 --record "$T/rec.jsonl"

# N|address|the guard's reason (ERE)|local sink (4, 6 or -)|networks that allow it
# (0.0.0.0 and :: need the loopback network too: the kernel connects them
# to 127.0.0.1 / ::1, and the guard checks the peer actually connected to)
ROWS=(
	"1|127.0.0.1|127\.0\.0\.1 is a loopback address|4|127.0.0.0/8"
	"2|::1|::1 is a loopback address|6|::1/128"
	"3|10.0.0.1|10\.0\.0\.1 is a private address \(10\.0\.0\.0/8\)|-|"
	"4|172.16.0.1|172\.16\.0\.1 is a private address \(172\.16\.0\.0/12\)|-|"
	"5|192.168.0.1|192\.168\.0\.1 is a private address \(192\.168\.0\.0/16\)|-|"
	"6|169.254.169.254|169\.254\.169\.254 is a cloud metadata address|-|"
	"7|fe80::1|fe80::1 is a link-local address|-|"
	"8|100.64.0.1|100\.64\.0\.1 is a carrier-grade NAT address|-|"
	"9|fd00:ec2::254|fd00:ec2::254 is a cloud metadata address|-|"
	"10|224.0.0.1|224\.0\.0\.1 is a multicast address|-|224.0.0.0/4"
	"11|ff02::1|ff02::1 is a multicast address|-|"
	"12|0.0.0.0|0\.0\.0\.0 is a \"this network\" address|4|0.0.0.0/8 127.0.0.0/8"
	"13|::|:: is a unspecified address|6|::/128 ::1/128"
	"14|255.255.255.255|255\.255\.255\.255 is a broadcast address|-|255.255.255.255/32"
	"15|::ffff:127.0.0.1|::ffff:127\.0\.0\.1 embeds 127\.0\.0\.1 \(IPv4-mapped form\), a loopback address|4|127.0.0.0/8"
	"16|::ffff:10.0.0.1|::ffff:10\.0\.0\.1 embeds 10\.0\.0\.1 \(IPv4-mapped form\), a private address|-|"
	"17|64:ff9b::a9fe:a9fe|64:ff9b::a9fe:a9fe embeds 169\.254\.169\.254 \(NAT64 form\), a cloud metadata address|-|"
	"18|2002:a9fe:a9fe::|2002:a9fe:a9fe:: embeds 169\.254\.169\.254 \(6to4 form\), a cloud metadata address|-|"
)
name_of() { echo "ssrf-$$-$1.alertbridge.test"; }
host_of() { case $1 in *:*) echo "[$1]" ;; *) echo "$1" ;; esac; }
port_of() { case $1 in 6) echo "$P6" ;; *) echo "$P4" ;; esac; }

# Our /etc/hosts lines, each tagged with HOSTS_MARK.
(
	flock -w 60 9 || exit 1
	cp -p "$HOSTS" "$HOSTS_BACKUP" || exit 1
	for row in "${ROWS[@]}"; do
		IFS='|' read -r n addr _ <<< "$row"
		printf '%s %s %s\n' "$addr" "$(name_of "$n")" "$HOSTS_MARK" >> "$HOSTS" || exit 1
	done
) 9>"$HOSTS_LOCK" || { HOSTS_ADDED=1; bail "could not add the test's lines to $HOSTS"; }
HOSTS_ADDED=1

# chan N FORM ALLOW: one webhook channel block and a comma (FORM lit or
# name; ALLOW networks separated by spaces, or empty); conf wraps a list.
chan() {
	local n=$1 form=$2 allow=$3 row addr why sink host
	row=${ROWS[$((n - 1))]}
	IFS='|' read -r _ addr why sink _ <<< "$row"
	if [ "$form" = lit ]; then host=$(host_of "$addr"); else host=$(name_of "$n"); fi
	printf '  { name = "h%s-%s"; type = "webhook"; url = "http://%s:%s/ssrf/%s-%s";\n' \
		"$n" "$form" "$host" "$(port_of "$sink")" "$n" "$form"
	[ -z "$allow" ] || allow=" allow_networks = [\"${allow// /\", \"}\"];"
	printf '    allow_http = true; timeout = 2;%s },\n' "$allow"
}
conf() { # conf FILE < channel blocks
	{
		printf 'state_dir = "%s";\nplugin_dir = "%s";\nchannels = (\n' "$T/state" "$T/plugins"
		sed '$ s/,$//'
		printf ');\n'
	} > "$1"
}

for row in "${ROWS[@]}"; do
	n=${row%%|*}
	chan "$n" lit ""
	chan "$n" name ""
done | conf "$T/refused.conf"

reqs() { # requests the sinks recorded for path /ssrf/$1
	local c=0
	[ -f "$T/rec.jsonl" ] && c=$(grep -cF "\"path\": \"/ssrf/$1\"" "$T/rec.jsonl")
	echo "${c:-0}"
}
inet_connects() { grep -E 'connect\(.*sa_family=AF_INET6?,' "$1" | grep -c . ; }
# traced FILE CMD...: run under strace (connect calls to FILE).  LeakSanitizer
# cannot run under ptrace: leak checks stay on for the untraced runs below.
traced() {
	local f=$1; shift
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		strace -f -qq -e trace=connect -o "$f" "$@"
}

n_local=0 n_allowed=0
for row in "${ROWS[@]}"; do
	IFS='|' read -r _ _ _ sink allow <<< "$row"
	[ "$sink" = - ] || n_local=$((n_local + 1))
	[ -z "$allow" ] || n_allowed=$((n_allowed + 1))
done
plan $(( 1 + ${#ROWS[@]} * 2 * 3 + n_local * 2 + 2 + n_allowed * 2 * 2 + 2 + 3 + 3 + 1 ))

# ---- the names resolve through /etc/hosts (else the name cases mean nothing)
wrong=""
for row in "${ROWS[@]}"; do
	IFS='|' read -r n addr _ <<< "$row"
	got=$(getent ahosts "$(name_of "$n")" | awk '$2 == "STREAM" { print $1 }' | sort -u | tr '\n' ' ')
	[ "$got" = "$addr " ] || wrong="$wrong $(name_of "$n")=[$got]"
done
is "every test name resolves through $HOSTS to exactly its address" "$wrong" ""

# ---- every class, literal and name: refused by default
check_out=$("$AB" -c "$T/refused.conf" check 2>&1); check_rc=$?
for row in "${ROWS[@]}"; do
	IFS='|' read -r n addr why sink _ <<< "$row"
	for form in lit name; do
		ch="h$n-$form"
		shown=$([ "$form" = lit ] && host_of "$addr" | sed 's/[].[]/\\&/g' || name_of "$n" | sed 's/\./\\./g')
		like "$ch ($addr): check refuses it, naming the guard and the class (rc $check_rc)" \
			"$check_rc $(grep -F "channel '$ch':" <<< "$check_out")" \
			"^78 .*channel '$ch': setting 'url': http://$shown:[0-9]+/\*\*\*: refused by the SSRF guard: $why"
		out=$(traced "$T/strace.$ch" "$AB" -c "$T/refused.conf" test "$ch" 2>&1)
		rc=$?
		like "$ch: test fails PERMANENT, refused by the SSRF guard" "rc=$rc $(tr '\n' ' ' <<< "$out")" \
			"^rc=69 .*status: +permanent .*refused by the SSRF guard: $why"
		is "$ch: no connect() to any IPv4/IPv6 address was made" "$(inet_connects "$T/strace.$ch")" 0
		[ "$sink" = - ] || is "$ch: the local sink recorded no request" "$(reqs "$n-$form")" 0
	done
done

# ---- allowed only when listed
for row in "${ROWS[@]}"; do
	IFS='|' read -r n _ _ _ allow <<< "$row"
	[ -n "$allow" ] || continue
	chan "$n" lit "$allow"
	chan "$n" name "$allow"
done > "$T/allowed.chans"
conf "$T/allowed-only.conf" < "$T/allowed.chans"
# a listed network that does not contain the address lets nothing through
{
	cat "$T/allowed.chans"
	chan 1 lit "10.0.0.0/8" | sed 's/h1-lit/wrong-lit/; s|/ssrf/1-lit|/ssrf/wrong-lit|'
	chan 2 name "127.0.0.0/8" | sed 's/h2-name/wrong-name/; s|/ssrf/2-name|/ssrf/wrong-name|'
	# the unspecified address listed alone: the connection lands on loopback
	chan 12 lit "0.0.0.0/8" | sed 's/h12-lit/unspec-lit/; s|/ssrf/12-lit|/ssrf/unspec-lit|'
	chan 13 name "::/128" | sed 's/h13-name/unspec-name/; s|/ssrf/13-name|/ssrf/unspec-name|'
} | conf "$T/allowed.conf"
out=$("$AB" -c "$T/allowed-only.conf" check 2>&1); rc=$?
is "check accepts every listed destination" "$rc" 0
ok "... without an SSRF complaint" bash -c "[ -n \"\$0\" ] && ! grep -q SSRF <<< \"\$0\"" "$out"

for row in "${ROWS[@]}"; do
	IFS='|' read -r n addr _ sink allow <<< "$row"
	[ -n "$allow" ] || continue
	for form in lit name; do
		ch="h$n-$form"
		out=$(traced "$T/strace.ok.$ch" "$AB" -c "$T/allowed.conf" test "$ch" 2>&1)
		rc=$?
		if [ "$sink" != - ]; then
			like "$ch ($addr) with allow_networks [$allow]: delivered" \
				"rc=$rc $(tr '\n' ' ' <<< "$out")" "^rc=0 .*status: +ok .*code: +200"
			is "$ch: the local sink recorded the request" "$(reqs "$n-$form")" 1
		else
			like "$ch ($addr) with allow_networks [$allow]: a transport error (RETRY), not the guard" \
				"rc=$rc $(tr '\n' ' ' <<< "$out")" "^rc=69 .*status: +retry .*(connect|timed out)"
			ok "$ch: the guard did not refuse it" bash -c "[ -n \"\$0\" ] && ! grep -q 'SSRF' <<< \"\$0\"" "$out"
		fi
	done
done
ok "strace sees the connect() when one is made (the no-connect checks can fail)" \
	grep -q 'connect(.*sa_family=AF_INET, .*inet_addr("127.0.0.1")' "$T/strace.ok.h1-lit"
ok "... to a listed non-local address too (224.0.0.1)" \
	grep -q 'connect(.*sa_family=AF_INET, .*inet_addr("224.0.0.1")' "$T/strace.ok.h10-lit"

for ch in wrong-lit wrong-name; do
	out=$("$AB" -c "$T/allowed.conf" test "$ch" 2>&1); rc=$?
	like "$ch: a listed network without the address does not allow it" \
		"rc=$rc $(tr '\n' ' ' <<< "$out")" "^rc=69 .*status: +permanent .*refused by the SSRF guard"
done
is "the wrong-network channels reached no sink" "$(reqs wrong-lit)$(reqs wrong-name)" "00"
out=$("$AB" -c "$T/allowed.conf" test unspec-lit 2>&1); rc=$?
like "0.0.0.0 with only 0.0.0.0/8 listed: refused, the peer is the loopback address" \
	"rc=$rc $(tr '\n' ' ' <<< "$out")" \
	"^rc=69 .*status: +permanent .*refused by the SSRF guard: 127\.0\.0\.1 is a loopback address"
out=$("$AB" -c "$T/allowed.conf" test unspec-name 2>&1); rc=$?
like ":: (by name) with only ::/128 listed: refused, the peer is ::1" \
	"rc=$rc $(tr '\n' ' ' <<< "$out")" \
	"^rc=69 .*status: +permanent .*refused by the SSRF guard: ::1 is a loopback address"
is "... and no request reached the sinks" "$(reqs unspec-lit)$(reqs unspec-name)" "00"

hosts_remove
lacks "this test's $HOSTS lines are gone" "$HOSTS" -F -- "$HOSTS_MARK"
