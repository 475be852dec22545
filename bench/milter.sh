#!/bin/bash
# milter.sh - Postfix throughput for ordinary mail (no alerts) with and
# without a milter, measured in the same run against real peers: a
# private Postfix instance on loopback relays to smtp-sink; smtp-source
# sends N messages of SIZE bytes over C parallel sessions (one message per
# SMTP session, as smtp-source does by default).  Configurations, run in
# alternating (rotated) order, REPEAT times each; the median counts:
#   bare       Postfix, no milter
#   null       Postfix + bench/null_milter (plain libmilter filter that
#              accepts at MAIL FROM: the peer the performance targets name, 0.72x)
#   ab-rcpt    Postfix + alertbridged, one source selected by recipient
#              (alerts@example.com): ordinary mail is released at DATA
#   ab-sender  Postfix + alertbridged, one source selected by sender
#              (scanner@alerts.example.com): released at MAIL FROM
#   ab-net     Postfix + alertbridged, one source selected by client network
#              (192.0.2.0/24) and sender: the session is released at CONNECT
#   old-rcpt, old-sender   the same with the alertbridged of another build
#              (AB_COMPARE=OTHER_BUILD_DIR), e.g. before a change
# Prints every run, the medians, each milter's ratio to bare and
# alertbridge's ratio to the null milter.  Other load on the machine skews
# msgs/s: compare the ratios of one run (load average printed).
# CPU time: where the cgroup v1 cpuacct controller is writable (root), the
# bench puts Postfix, each milter and the load generator (smtp-source,
# smtp-sink) into cgroups of their own and reports per message, with the
# queue drained: "cpu" = Postfix + the milter in use + load generator,
# "pf" = Postfix alone, "milter" = the milter process alone.  CPU time per
# message is much steadier than msgs/s when other jobs load the machine;
# "cpu eff" = bare's cpu per message / this config's (what a CPU-bound box
# would keep of bare Postfix's throughput).
# AB_ALERTS=1: every message goes to alerts@example.com instead, so under
# ab-rcpt / old-rcpt each one is an alert mail (parsed, routed, committed
# with fsync before end-of-message is answered): alert mail throughput
# with C concurrent sessions, e.g. before and after a change of the
# commit path (AB_COMPARE).  The other configurations pass it as ordinary
# mail.
#   [AB_ALERTS=1] [AB_COMPARE=DIR] bench/milter.sh [BUILD_DIR] [N=5000] [SIZE=5000] [C=20] [REPEAT=3]
# (as root; needs postfix, smtp-source and smtp-sink: Debian package postfix)
set -eu
B=$(cd "${1:-_build/bench}" && pwd); N=${2:-5000}; SIZE=${3:-5000}; C=${4:-20}; R=${5:-3}
top=$(cd "$(dirname "$0")/.." && pwd)
for p in smtp-source smtp-sink postfix python3; do
	command -v "$p" >/dev/null || { echo "milter.sh: $p not found" >&2; exit 69; }
done
[ -x "$B/bench/null_milter" ] || { echo "milter.sh: $B/bench/null_milter not built (make)" >&2; exit 69; }
OLD=""
if [ -n "${AB_COMPARE:-}" ]; then
	OLD=$(cd "$AB_COMPARE" && pwd)
	[ -x "$OLD/src/alertbridged" ] || { echo "milter.sh: $OLD/src/alertbridged missing" >&2; exit 69; }
fi
T=$(mktemp -d /tmp/abbench.XXXXXX); chmod 755 "$T"; PF="$T/pf"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SPORT=$(port); SINK=$(port)
CONFIGS=(bare null ab-rcpt ab-sender ab-net)
[ -n "$OLD" ] && CONFIGS+=(old-rcpt old-sender)
declare -A MILTER=([bare]="")
for c in "${CONFIGS[@]:1}"; do MILTER[$c]="inet:127.0.0.1:$(port)"; done

# ------------------------------------------------------------ cgroups (optional)
CGR=/sys/fs/cgroup/cpuacct
CG=""
GROUPS_=(postfix load "${CONFIGS[@]:1}")
PIDS=()
cleanup() {
	postfix -c "$PF/etc" stop >/dev/null 2>&1 || true
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ -n "$CG" ]; then
		echo $$ > "$CGR/cgroup.procs" 2>/dev/null || true
		for _ in $(seq 100); do
			for g in "${GROUPS_[@]}"; do rmdir "$CG/$g" 2>/dev/null || true; done
			rmdir "$CG" 2>/dev/null && break
			sleep 0.2
		done
	fi
	rm -rf "$T"
}
trap cleanup EXIT
if [ -w "$CGR/cgroup.procs" ] && mkdir "$CGR/abbench.$$" 2>/dev/null; then
	CG=$CGR/abbench.$$
	for g in "${GROUPS_[@]}"; do mkdir "$CG/$g"; done
	echo $$ > "$CG/cgroup.procs" || CG=""
fi
incg() {   # incg GROUP CMD...: run CMD in that cgroup (if any)
	local g=$1; shift
	( if [ -n "$CG" ]; then echo "$BASHPID" > "$CG/$g/cgroup.procs"; fi; exec "$@" )
}
spawn() {   # spawn GROUP CMD...: the same in the background; its pid into PIDS
	local g=$1; shift
	( if [ -n "$CG" ]; then echo "$BASHPID" > "$CG/$g/cgroup.procs"; fi; exec "$@" ) &
	PIDS+=($!)
}
usage() { if [ -n "$CG" ]; then cat "$CG/$1/cpuacct.usage"; else echo 0; fi; }

# ------------------------------------------------------------ postfix
mkdir -p "$PF/etc" "$PF/queue" "$PF/data" "$T/plugins"; chown postfix "$PF/data"
install -m 0755 "$B/plugins/built/file.so" "$T/plugins/file.so"
cp /etc/postfix/master.cf "$PF/etc/"
cat > "$PF/etc/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $PF/queue
data_directory = $PF/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.bench.local
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:$SINK
smtp_dns_support_level = disabled
maillog_file = $T/postfix.log
maillog_file_prefixes = /tmp
default_process_limit = 100
milter_default_action = tempfail
milter_protocol = 6
CONF
postconf -c "$PF/etc" -M# smtp/inet >/dev/null 2>&1
postconf -c "$PF/etc" -Me "127.0.0.1:$SPORT/inet = 127.0.0.1:$SPORT inet n - n - - smtpd"
postconf -c "$PF/etc" -Me "postlog/unix-dgram = postlog unix-dgram n - n - 1 postlogd"
postconf -c "$PF/etc" -F '*/*/chroot = n'

# ------------------------------------------------------------ milters
abd() {   # abd CONFIG BUILD SELECTOR: start an alertbridged for CONFIG
	local d="$T/$1" p=${MILTER[$1]##*:}
	mkdir -p "$d"
	cat > "$d/ab.conf" <<CONF
state_dir = "$d/state";
plugin_dir = "$T/plugins";
channels = ( { name = "file"; type = "file"; path = "events.jsonl"; } );
default = ["file"];
milter = { socket = "inet:$p@127.0.0.1"; };
profiles = ( "$top/conf/profiles.d/*.conf" );
mail_sources = ( { name = "alerts"; $3 profile = "generic"; } );
CONF
	spawn "$1" "$2/src/alertbridged" -f -c "$d/ab.conf" 2>"$d/daemon.log"
	for _ in $(seq 50); do grep -q "milter listening" "$d/daemon.log" && return 0; sleep 0.2; done
	echo "milter.sh: alertbridged ($1) did not start:" >&2; cat "$d/daemon.log" >&2; exit 70
}
spawn load smtp-sink -u postfix "127.0.0.1:$SINK" 1000 >/dev/null 2>&1
spawn null "$B/bench/null_milter" "inet:${MILTER[null]##*:}@127.0.0.1" 2>"$T/null.log"
abd ab-rcpt "$B" 'recipients = ["alerts@example.com"];'
abd ab-sender "$B" 'senders = ["scanner@alerts.example.com"];'
abd ab-net "$B" 'networks = ["192.0.2.0/24"]; senders = ["scanner@alerts.example.com"];'
if [ -n "$OLD" ]; then
	abd old-rcpt "$OLD" 'recipients = ["alerts@example.com"];'
	abd old-sender "$OLD" 'senders = ["scanner@alerts.example.com"];'
fi

# ------------------------------------------------------------ runs
drain() {   # wait (bounded) until the sink has all mail: the queue is empty
	for _ in $(seq 600); do
		[ -z "$(find "$PF/queue/incoming" "$PF/queue/active" "$PF/queue/maildrop" \
			-type f 2>/dev/null | head -1)" ] && return 0
		sleep 0.1
	done
}
RCPT=user@example.org
[ -n "${AB_ALERTS:-}" ] && RCPT=alerts@example.com
source_n() { incg load smtp-source -s "$C" -l "$SIZE" -m "$1" -f bench@example.net \
	-t "$RCPT" "127.0.0.1:$SPORT"; }
run() {   # run CONFIG -> "msgs/s cpu pf milter" (CPU in us per message)
	local t0 t1 p0 p1 l0 l1 m0=0 m1=0 g=$1
	postfix -c "$PF/etc" stop >/dev/null 2>&1 || true; sleep 1
	postconf -c "$PF/etc" -e "smtpd_milters = ${MILTER[$g]}"
	incg postfix postfix -c "$PF/etc" start >/dev/null 2>&1; sleep 1
	source_n 200 || return 1   # warm-up
	drain
	p0=$(usage postfix); l0=$(usage load); [ "$g" = bare ] || m0=$(usage "$g")
	t0=$(date +%s.%N)
	source_n "$N" || return 1
	t1=$(date +%s.%N)
	drain
	p1=$(usage postfix); l1=$(usage load); [ "$g" = bare ] || m1=$(usage "$g")
	python3 -c "n=$N; p=($p1-$p0)/1e3/n; l=($l1-$l0)/1e3/n; m=($m1-$m0)/1e3/n
print(round(n / ($t1 - $t0)), round(p + l + m), round(p), round(m))"
}
echo "# milter.sh: N=$N SIZE=$SIZE C=$C REPEAT=$R${AB_ALERTS:+ (alert mail to $RCPT)}; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
[ -n "$CG" ] || echo "# (no writable cpuacct cgroup: msgs/s only)"
declare -A RES
for ((r = 0; r < R; r++)); do
	for ((k = 0; k < ${#CONFIGS[@]}; k++)); do
		c=${CONFIGS[$(( (k + r) % ${#CONFIGS[@]} ))]}
		v=$(run "$c") || { echo "milter.sh: smtp-source failed for $c" >&2; exit 70; }
		RES[$c]="${RES[$c]:-},$v"
		read -r tp cu pu mu <<<"$v"
		printf '# round %d %-10s %5s msg/s  cpu %5s us/msg (pf %5s, milter %4s)  load %s\n' \
			$((r + 1)) "$c" "$tp" "$cu" "$pu" "$mu" "$(cut -d' ' -f1 /proc/loadavg)"
	done
done
fails=$(grep -c "milter-reject\|Service unavailable" "$T/postfix.log" 2>/dev/null || true)
args=("$fails" "${CG:+cpu}")
for c in "${CONFIGS[@]}"; do args+=("$c=${RES[$c]#,}"); done
python3 - "${args[@]}" <<'PY'
import statistics, sys
runs = {}
for a in sys.argv[3:]:
    n, v = a.split("=", 1)
    runs[n] = [[int(x) for x in r.split()] for r in v.split(",")]
has_cpu = sys.argv[2] == "cpu"
med = {n: [statistics.median(r[i] for r in v) for i in range(4)] for n, v in runs.items()}
for n, v in runs.items():
    print("%-10s median %6.0f msg/s   runs: %s" % (n, med[n][0], " ".join(str(r[0]) for r in v)))
    if has_cpu:
        print("%-10s median %6.0f us cpu/msg (pf %.0f, milter %.0f)   cpu runs: %s" % (
            "", med[n][1], med[n][2], med[n][3], " ".join(str(r[1]) for r in v)))
for n in list(runs)[1:]:
    print("ratio %-10s / bare: %.2f msg/s%s" % (n, med[n][0] / med["bare"][0],
          ", cpu eff %.2f" % (med["bare"][1] / med[n][1]) if has_cpu else ""))
for n in list(runs)[2:]:
    print("ratio %-10s / null: %.2f msg/s%s" % (n, med[n][0] / med["null"][0],
          ", cpu eff %.2f" % (med["null"][1] / med[n][1]) if has_cpu else ""))
print("milter rejects/tempfails in the Postfix log: %s" % sys.argv[1])
PY
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
