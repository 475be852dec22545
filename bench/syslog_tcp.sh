#!/bin/bash
# syslog_tcp.sh - TCP syslog ingest throughput: alertbridged (parse, source
# selection, route, group commit to the syslog journal with fsync) against
# rsyslog (imtcp -> JSON template -> omfile) on loopback, in the same run,
# with the same pre-framed input (RFC 6587 octet counting; a mix of
# RFC 5424, RFC 3164 and CEF lines).  Prints lines/s for each and the ratio.
#
#   bench/syslog_tcp.sh [BUILD_DIR] [LINES]     (default: . and 200000)
#   AB_BENCH_DEFAULT='' bench/syslog_tcp.sh ...  ingest only (no default channel;
#                                                by default a file channel delivers
#                                                concurrently)
#   AB_BENCH_MIX=firehose bench/syslog_tcp.sh ...  every 20th line is an alert (CEF
#                                                severity 9), the rest are not: a rule
#                                                (min_severity critical) routes the alerts
#                                                to the file channel, the rest go nowhere
#                                                (counted, never written); rsyslog gets
#                                                the same lines and a filter that writes
#                                                only the alerts.  N is rounded up to a
#                                                multiple of 20 so that the last line is
#                                                an alert (rsyslog's finish line).
#   AB_BENCH_PROFILES=1 bench/syslog_tcp.sh ...  with the shipped parser profiles
#                                                (conf/profiles.d: detection, the CEF
#                                                and sshd profiles' extractors)
#   AB_BENCH_PERF=DIR bench/syslog_tcp.sh ...    also record alertbridged's run with perf
#                                                (--call-graph dwarf) into DIR/perf-syslog.data;
#                                                read per thread: perf report --sort comm
#
# Not part of make check.  Needs rsyslog, python3 (contrib/install-deps.sh --test).
set -u
B=$(cd "${1:-.}" && pwd)
N=${2:-200000}
MIX=${AB_BENCH_MIX:-all}
case $MIX in
all) WANT_RS=$N;;
firehose) N=$(( (N + 19) / 20 * 20 )); WANT_RS=$((N / 20));;
*) echo "AB_BENCH_MIX: all or firehose" >&2; exit 64;;
esac
SRC=$(cd "$(dirname "$0")/.." && pwd)
ABD="$B/src/alertbridged"
[ -x "$ABD" ] || { echo "usage: $0 BUILD_DIR [LINES] (no $ABD)" >&2; exit 64; }
command -v rsyslogd >/dev/null || { echo "rsyslogd not installed" >&2; exit 69; }
T=$(mktemp -d /tmp/absbench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT

read -r P_AB P_RS < <(python3 -c '
import socket
a = socket.socket(); a.bind(("127.0.0.1", 0)); b = socket.socket(); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])')

# Input: N numbered lines, octet-counted, in one file.
python3 - "$N" "$T/input.bin" "$MIX" <<'PY'
import sys
n, out, mix = int(sys.argv[1]), sys.argv[2], sys.argv[3]
alert = '<132>Nov 23 09:00:00 fw%d CEF:0|Fortinet|FortiGate|7.2|0419016384|Intrusion blocked|9|src=10.0.0.5 dst=10.0.0.9 spt=4431 dpt=443 act=blocked msg=seq %d'
forms = [
    '<134>1 2026-11-23T09:00:00.123+01:00 web%d nginx 4242 ACCESS [req@32473 ip="10.1.2.3" code="403"] blocked request %d',
    '<38>Nov 23 09:00:00 bastion%d sshd[1234]: Failed password for root from 203.0.113.9 port 22 ssh2 seq %d',
    '<132>Nov 23 09:00:00 fw%d CEF:0|Fortinet|FortiGate|7.2|0419016384|Intrusion blocked|8|src=10.0.0.5 dst=10.0.0.9 spt=4431 dpt=443 act=blocked msg=seq %d',
]
with open(out, "wb") as f:
    for i in range(1, n + 1):
        form = forms[i % 3]
        if mix == "firehose":
            form = alert if i % 20 == 0 else form.replace("|Intrusion blocked|8|", "|Intrusion blocked|3|")
        m = (form % (i % 50, i)).encode()
        f.write(b"%d %s" % (len(m), m))
PY

send() { python3 - "$1" "$T/input.bin" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
with open(sys.argv[2], "rb") as f:
    while True:
        b = f.read(1 << 20)
        if not b: break
        s.sendall(b)
s.close()
PY
}
now() { date +%s.%N; }
# wait_count CMD: poll until CMD prints >= N (bounded: 600 s); prints elapsed seconds.
run_one() {  # $1 port, $2 counter command, $3 the count that means done
	local t0 t1 i=0
	t0=$(now)
	echo "$t0" > "$T/t0"
	send "$1"
	while [ "$(eval "$2")" -lt "$3" ] 2>/dev/null; do
		sleep 0.02; i=$((i + 1)); [ $i -gt 30000 ] && { echo "timeout" >&2; return 1; }
	done
	t1=$(now)
	echo "$t0 $t1" | awk '{printf "%.3f", $2 - $1}'
}

# ---- alertbridged
# AB_BENCH_DEFAULT: the default channel list ('' = ingest only, no delivery).
AB_DEF=${AB_BENCH_DEFAULT-'"file"'}
AB_RULES=""
if [ "$MIX" = firehose ]; then
	AB_DEF=""
	AB_RULES='rules = ( { name = "alerts"; min_severity = "critical"; channels = ["file"]; } );'
fi
mkdir -m 755 "$T/plugins"
install -m 0755 "$B/plugins/built/file.so" "$T/plugins/file.so"
cat > "$T/ab.conf" <<CONF
state_dir = "$T/ab";
plugin_dir = "$T/plugins";
log = { level = "notice"; };
dispatch = { workers = 1; poll = "1s"; };
channels = ( { name = "file"; type = "file"; path = "events.jsonl"; } );
default = [$AB_DEF];
$AB_RULES
${AB_BENCH_PROFILES:+profiles = ( \"$SRC/conf/profiles.d/*.conf\" );}
syslog = { high_water = 0;
  listeners = ( { name = "tcp"; proto = "tcp"; address = "127.0.0.1:$P_AB"; } ); };
CONF
"$ABD" -f -c "$T/ab.conf" 2>"$T/ab.log" & PIDS+=($!)
for _ in $(seq 100); do grep -q 'syslog: listening' "$T/ab.log" && break; sleep 0.05; done
grep -q 'syslog: listening' "$T/ab.log" || { echo "alertbridged did not start:" >&2; cat "$T/ab.log" >&2; exit 1; }
# the status file's top-level "received" (indented by two, keys sorted): read
# with sed, as rsyslog's output with wc, so that neither poll takes a core
# from the daemon it waits for (a python3 start every 20 ms did)
ab_count() { sed -n 's/^  "received": \([0-9]*\),*$/\1/p' "$T/ab/syslog.status" 2>/dev/null | grep . || echo 0; }
pp=
if [ -n "${AB_BENCH_PERF:-}" ]; then
	mkdir -p "$AB_BENCH_PERF"
	perf record -q -F 999 --call-graph dwarf,16384 -p "${PIDS[0]}" \
		-o "$AB_BENCH_PERF/perf-syslog.data" 2>/dev/null & pp=$!
	sleep 0.5
fi
ab_s=$(run_one "$P_AB" ab_count "$N") || exit 1
[ -n "$pp" ] && { kill -INT "$pp"; wait "$pp" 2>/dev/null; }
# CPU seconds of each of alertbridged's threads so far (utime + stime)
threads_cpu() {
	for t in /proc/"${PIDS[0]}"/task/*; do
		printf '%s %s\n' "$(cat "$t/comm")" "$(cut -d')' -f2 "$t/stat" | awk '{print $12 + $13}')"
	done | awk -v hz="$(getconf CLK_TCK)" '{c[$1] += $2; t += $2}
		END { for (k in c) if (c[k] >= hz / 100) printf "%s %.2f, ", k, c[k] / hz;
		      printf "total %.2f s", t / hz }'
}
ab_cpu=$(threads_cpu)
# Then until the mover has every routed line in the store (its jobs
# queued): what a stream longer than the journal holds (journal_max_mb)
# would run at.  The status file shows the journal's "stored" every 500 ms
# while it moves, so this time is late by up to half a second.
WANT_STORED=0
[ -n "$AB_DEF" ] && WANT_STORED=$N
[ "$MIX" = firehose ] && WANT_STORED=$((N / 20))
ab_stored() {
	sed -n 's/^    "stored": \([0-9]*\),*$/\1/p' "$T/ab/syslog.status" 2>/dev/null | grep . || echo 0
}
st_s=""
if [ "$WANT_STORED" -gt 0 ]; then
	i=0
	while [ "$(ab_stored)" -lt "$WANT_STORED" ] 2>/dev/null && [ $i -lt 30000 ]; do
		sleep 0.02; i=$((i + 1))
	done
	st_s=$(echo "$(cat "$T/t0") $(now)" | awk '{printf "%.3f", $2 - $1}')
	st_cpu=$(threads_cpu)
fi

# ---- rsyslog
mkdir -p "$T/rs"
cat > "$T/rsyslog.conf" <<RS
global(workDirectory="$T/rs" maxMessageSize="64k")
module(load="imtcp")
template(name="abjson" type="string"
  string="{\"time\":\"%timereported:::date-rfc3339,json%\",\"host\":\"%hostname:::json%\",\"app\":\"%app-name:::json%\",\"severity\":\"%syslogseverity-text%\",\"facility\":\"%syslogfacility-text%\",\"msg\":\"%msg:::json%\"}\n")
input(type="imtcp" port="$P_RS" address="127.0.0.1" ruleset="out")
ruleset(name="out") {
$( [ "$MIX" = firehose ] && echo 'if ($msg contains "|Intrusion blocked|9|") then {' )
  action(type="omfile" file="$T/rs/out.jsonl" template="abjson")
$( [ "$MIX" = firehose ] && echo '}' )
}
RS
rsyslogd -n -f "$T/rsyslog.conf" -i "$T/rs/pid" 2>"$T/rs.log" & PIDS+=($!)
for _ in $(seq 100); do python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$P_RS" 2>/dev/null && break; sleep 0.05; done
rs_count() { [ -f "$T/rs/out.jsonl" ] && wc -l < "$T/rs/out.jsonl" || echo 0; }
rs_s=$(run_one "$P_RS" rs_count "$WANT_RS") || exit 1

[ "$MIX" = firehose ] && echo "firehose: $WANT_RS alerts (CEF severity 9) among $N lines;" \
	"alertbridge routed $(python3 -c 'import json,sys; j = json.load(open(sys.argv[1])); print(j["received"] - j["journal"]["unrouted"])' "$T/ab/syslog.status" 2>/dev/null)"
# how many of the lines the mover had stored when the listener had read the
# last one, and how many of those it took from memory (the rest it read
# back from the journal)
python3 -c 'import json,sys; j = json.load(open(sys.argv[1]))["journal"]; print("alertbridge journal at the end: stored %d, %d of them from memory" % (j["stored"], j["stored_from_memory"]))' "$T/ab/syslog.status" 2>/dev/null
awk -v n="$N" -v a="$ab_s" -v r="$rs_s" -v cpu="$ab_cpu" 'BEGIN {
	printf "lines: %d (RFC 5424 / RFC 3164 / CEF, octet-counted, one TCP connection)\n", n
	printf "alertbridged (parse+route+group commit, fsync): %.3f s  %.0f lines/s\n", a, n / a
	printf "alertbridged CPU by thread: %s\n", cpu
	printf "rsyslog (imtcp -> JSON -> omfile):            %.3f s  %.0f lines/s\n", r, n / r
	printf "ratio alertbridged / rsyslog: %.2f\n", (n / a) / (n / r)
}'
[ -n "$st_s" ] && awk -v n="$N" -v s="$st_s" -v r="$rs_s" -v w="$WANT_STORED" -v cpu="$st_cpu" '
BEGIN {
	printf "alertbridged until the %d routed lines are in the store (the mover): %.3f s  ", w, s
	printf "%.0f lines/s\n", n / s
	printf "alertbridged CPU by thread then: %s\n", cpu
	printf "ratio alertbridged (in the store) / rsyslog: %.2f\n", (n / s) / (n / r)
}'
exit 0
