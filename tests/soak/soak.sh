#!/bin/bash
# soak.sh - the soak suite: faults against the real daemon, a real Postfix and
# a local webhook sink, and what each input acknowledged, delivered, lost and
# duplicated through them (tests/soak/tally.py prints one line per scenario).
#
#   cli      `send --lines` bursts (100 events per commit) while the daemon
#            is killed with SIGKILL KILLS times
#   milter   alert mails through Postfix (smtpd_milters, milter_default_action
#            = tempfail; the sender retries what Postfix refused) while the
#            daemon is killed KILLS times
#   relp     numbered lines into a private rsyslogd that forwards them with
#            omrelp to the RELP listener, while the daemon is killed KILLS
#            times (acknowledged: every line rsyslog took)
#   flood    one client (127.0.0.2) opens FLOOD idle connections to the TCP
#            listener; another sender's lines (127.0.0.1) must all arrive,
#            the hog's connections past max_conns_per_source are refused
#   disk     `send` bursts while a filler takes the state filesystem (a tmpfs)
#            below min_free_mb and gives it back; refused sends (exit 75) retry
#   outage   the webhook answers 503 for OUTAGE seconds while events queue
#   storm    the webhook answers 429 with Retry-After: 5 for STORM seconds;
#            no request may come sooner than 5 s after a 429
#   garbage  GARBAGE_MB of random bytes over syslog TCP with rules as shipped
#            (no default channel, syslog.message not routed): the store must
#            not grow with it, the daemon's peak RSS is printed
#
# AB_SOAK=full (make soak): 10,000 events and 20 kills per input, 2,000 mails
# (Postfix's own pace), a 120 s outage, a 30 s storm, 1,000 events each.
# AB_SOAK=short (the default, run by make check / CI): the same scenarios,
# smaller.  AB_SOAK_ONLY="cli milter" runs some of them.  A scenario passes
# when nothing acknowledged is lost and each duplicate carries the
# webhook-id of its first delivery; full size, duplicates must be at most
# 1%.  Short, a kill can land on a round of requests in flight (2 workers x
# 16 at once) and re-send all of them, which is more than 1% of a short
# burst: there the bound is 32 per kill (the figure is printed either way).  Needs root (Postfix, tmpfs),
# postfix, swaks, python3.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"
. "$top_srcdir/tests/lib/postfix.sh"

pf_require
pf_begin absoak
AB=$top_builddir/src/alertbridge
TALLY=$top_srcdir/tests/soak/tally.py
ASAN=0; ldd "$ABD" 2>/dev/null | grep -q libasan && ASAN=1
if [ "${AB_SOAK:-short}" = full ]; then
	EVENTS=10000 KILLS=20 MAILS=2000 OUTAGE=120 STORM=30 FAULT_EVENTS=1000 DRAIN=900
	GARBAGE_MB=200 LINES=10000 FLOOD=1000
else
	EVENTS=$((ASAN ? 600 : 1500)) KILLS=3 MAILS=$((ASAN ? 60 : 150)) OUTAGE=10 STORM=8
	FAULT_EVENTS=200 DRAIN=240 GARBAGE_MB=$((ASAN ? 5 : 20)) LINES=$((ASAN ? 1000 : 3000))
	FLOOD=300
fi
ONLY=${AB_SOAK_ONLY:-cli milter relp disk outage storm flood garbage}
diag "soak: ${AB_SOAK:-short}: $EVENTS events, $KILLS kills, $MAILS mails, outage $OUTAGE s, storm $STORM s"

read -r SINKP SPORT MPORT P_TCP P_RELP R_IN < <(ab_free_port 6)
ab_plugins webhook
ab_sink SINK --record "$T/rec.jsonl" --control "$T/ctl.json"
S=$T/state
mkdir -p "$S"; : > "$T/summary.txt"

conf() {   # conf SCENARIO: a daemon config delivering to the sink, its own store
	cat > "$T/$1.conf" <<CONF
state_dir = "$S";
store = "$1.db";
plugin_dir = "$T/plugins";
min_free_mb = 24;
log = { level = "info"; };
dispatch = { workers = 2; poll = "50ms"; backoff_base = "1s"; backoff_cap = "30s"; };
channels = ( { name = "hook"; type = "webhook"; url = "http://127.0.0.1:$SINK/$1";
  allow_http = true; allow_networks = ["127.0.0.0/8"]; } );
default = ["hook"];
milter = { socket = "inet:$MPORT@127.0.0.1"; };
profiles = ( "$top_srcdir/conf/profiles.d/*.conf" );
mail_sources = ( { name = "alerts"; recipients = ["alerts@example.com"]; profile = "generic"; } );
CONF
}
rec() { grep -F "\"path\": \"/$1\"" "$T/rec.jsonl" > "$T/$1.rec" 2>/dev/null; }
# tally NAME SINCE [tally options]: the scenario's line; passes or fails the test
tally() {
	local name=$1 since=$2 out rc
	shift 2
	rec "$name"
	[ "${AB_SOAK:-short}" = full ] || set -- --max-dups $((KILLS * 32)) "$@"
	out=$(python3 "$TALLY" --record "$T/$name.rec" --acked "$T/$name.acked" \
		--input "$name" --since "$since" "$@"); rc=$?
	echo "$out" >> "$T/summary.txt"
	diag "$out"
	ok "$name: nothing lost, duplicates within the bound, with their webhook-id" test "$rc" -eq 0
}
# drained NAME: every acknowledged tag reached the sink
drained() {
	rec "$1"
	python3 "$TALLY" --record "$T/$1.rec" --acked "$T/$1.acked" --input "$1" --json |
		python3 -c 'import json,sys; j=json.load(sys.stdin); sys.exit(j["lost"] != 0)'
}
now() { date +%s.%N; }
# events NAME FROM N: N events as JSON lines, tags soak-NAME-FROM...
events() {
	python3 - "$1" "$2" "$3" <<'PY'
import sys
name, start, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(start, start + n):
    print('{"type":"finding.new","severity":"high","title":"soak-%s-%d","summary":"soak"}' % (name, i))
PY
}
# burst NAME N [PACE]: `send --lines` in commits of 100 (PACE seconds apart);
# a commit that exits 0 is acknowledged (its tags go to NAME.acked); exit 75
# (no room) retries it
burst() {
	local name=$1 n=$2 pace=${3:-0} i rc
	for ((i = 0; i < n; i += 100)); do
		[ "$pace" = 0 ] || sleep "$pace"
		events "$name" "$i" 100 > "$T/$name.chunk"
		while :; do
			"$AB" -c "$T/$name.conf" send --lines "$T/$name.chunk" >> "$T/$name.send.log" 2>&1
			rc=$?
			[ "$rc" -eq 75 ] || break
			sleep 0.2
		done
		[ "$rc" -eq 0 ] && grep -o "soak-$name-[0-9]*" "$T/$name.chunk" >> "$T/$name.acked"
	done
}
# killer PID_OF_BURST CONF: SIGKILL the daemon KILLS times while the burst runs
killer() {
	local k during=0
	for ((k = 1; k <= KILLS; k++)); do
		sleep "0.$((2 + RANDOM % 7))"
		kill -0 "$1" 2>/dev/null && during=$((during + 1))
		ab_kill_daemon
		ab_start_daemon "$2" || bail "daemon did not restart after kill $k"
	done
	diag "$KILLS SIGKILL, $during of them during the burst"
}
# pace N: seconds between commits of 100 so that N events span the kills
pace() { awk -v k="$KILLS" -v n="$1" 'BEGIN { printf "%.3f", k * 0.9 / (n / 100) }'; }

plan $(($(wc -w <<< "$ONLY") * 2))   # two checks per scenario

# ---------------------------------------------------------------- cli
if [[ " $ONLY " == *" cli "* ]]; then
	conf cli; : > "$T/cli.acked"
	ab_start_daemon "$T/cli.conf" || bail "daemon did not start"
	burst cli "$EVENTS" "$(pace "$EVENTS")" & BP=$!; ab_track "$BP"
	killer "$BP" "$T/cli.conf"
	wait "$BP"; ab_forget "$BP"; t0=$(now)
	ok "cli: all acknowledged events delivered (drain)" wait_for "$DRAIN" drained cli
	tally cli "$t0"
	ab_stop_daemon
fi

# ---------------------------------------------------------------- milter
if [[ " $ONLY " == *" milter "* ]]; then
	conf milter; : > "$T/milter.acked"
	pf_setup "$T" "$SPORT" "$MPORT" alerts@example.com
	postconf -c "$PF/etc" non_smtpd_milters= milter_default_action=tempfail \
		milter_connect_timeout=5s milter_command_timeout=10s >/dev/null
	ab_start_daemon "$T/milter.conf" || bail "daemon did not start"
	wait_for 10 grep -q 'milter listening' "$AB_DLOG"
	postfix -c "$PF/etc" start >"$T/pfstart.log" 2>&1
	wait_for 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SPORT" || bail "postfix did not start"
	# one SMTP session per 10 mails; a refused mail (4xx, or the session lost) is sent again
	python3 - "$SPORT" "$MAILS" "$T/milter.acked" "$(pace "$MAILS")" > "$T/milter.sender.log" 2>&1 <<'PY' & BP=$!
import smtplib, sys, time
port, n, acked = int(sys.argv[1]), int(sys.argv[2]), open(sys.argv[3], "a")
pace = float(sys.argv[4]) / 100          # seconds per 100 mails -> per mail
s, refused = None, 0
for i in range(n):
    time.sleep(pace)
    if s is not None and i % 10 == 0:    # a new SMTP session every 10 mails
        try:
            s.quit()
        except Exception:
            pass
        s = None
    msg = ("Subject: HIGH: soak-milter-%d\r\nFrom: scanner@example.net\r\n"
           "Message-ID: <soak-%d@example.net>\r\n\r\nHost: db1\r\nSeverity: high\r\n" % (i, i))
    while True:
        try:
            if s is None:
                s = smtplib.SMTP("127.0.0.1", port, timeout=60)
                s.ehlo("client.test")
            s.sendmail("scanner@example.net", ["alerts@example.com"], msg)
            acked.write("soak-milter-%d\n" % i); acked.flush()
            break
        except (smtplib.SMTPException, OSError) as e:
            refused += 1
            try:
                s.close()
            except Exception:
                pass
            s = None
            time.sleep(0.2)
print("refused and sent again: %d" % refused)
PY
	ab_track "$BP"
	killer "$BP" "$T/milter.conf"
	wait "$BP"; ab_forget "$BP"; t0=$(now)
	diag "milter sender: $(tail -1 "$T/milter.sender.log")"
	ok "milter: all acknowledged mails delivered (drain)" wait_for "$DRAIN" drained milter
	tally milter "$t0"
	ab_stop_daemon
	pf_stop
fi

# ---------------------------------------------------------------- relp
if [[ " $ONLY " == *" relp "* ]]; then
	conf relp; : > "$T/relp.acked"
	cat >> "$T/relp.conf" <<CONF
syslog = { high_water = 10000000;
  listeners = ( { name = "relp"; proto = "relp"; address = "127.0.0.1:$P_RELP"; } ); };
CONF
	mkdir -p "$T/rsyslog"
	cat > "$T/rsyslog.conf" <<RS
global(workDirectory="$T/rsyslog" maxMessageSize="64k")
module(load="imtcp")
module(load="omrelp")
input(type="imtcp" port="$R_IN" address="127.0.0.1" ruleset="fwd")
ruleset(name="fwd") {
  action(type="omrelp" target="127.0.0.1" port="$P_RELP" windowSize="512"
    queue.type="LinkedList" queue.size="100000"
    action.resumeRetryCount="-1" action.resumeInterval="1")
}
RS
	ab_start_daemon "$T/relp.conf" || bail "daemon did not start"
	ab_spawn "$T/rsyslog.log" rsyslogd -n -f "$T/rsyslog.conf" -i "$T/rsyslog.pid"; RPID=$AB_PID
	wait_for 20 python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' \
		"$R_IN" || bail "rsyslogd did not start: $(tail -3 "$T/rsyslog.log")"
	# the lines, paced over the kills; each one rsyslog took is acknowledged
	python3 - "$R_IN" "$LINES" "$((KILLS + 2))" "$T/relp.acked" > "$T/relp.sender.log" 2>&1 <<'PY' & BP=$!
import socket, sys, time
port, n, secs, acked = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
s = socket.create_connection(("127.0.0.1", port))
t0, step = time.time(), 50
with open(acked, "a") as a:
    for i in range(0, n, step):
        batch = range(i, min(i + step, n))
        s.sendall(b"".join(b"<10>Dec  6 10:00:00 soakhost soak: soak-relp-%d end\n" % k for k in batch))
        a.write("".join("soak-relp-%d\n" % k for k in batch))
        delay = t0 + secs * (i + step) / n - time.time()
        if delay > 0:
            time.sleep(delay)
s.close()
PY
	ab_track "$BP"
	killer "$BP" "$T/relp.conf"
	wait "$BP"; ab_forget "$BP"; t0=$(now)
	ok "relp: every line rsyslog took is delivered (drain)" wait_for "$DRAIN" drained relp
	tally relp "$t0"
	ab_stop_daemon "$RPID" >/dev/null
	ab_stop_daemon
fi

# ---------------------------------------------------------------- flood
if [[ " $ONLY " == *" flood "* ]]; then
	conf flood; : > "$T/flood.acked"
	cat >> "$T/flood.conf" <<CONF
syslog = { listeners = ( { name = "tcp"; proto = "tcp"; address = "127.0.0.1:$P_TCP"; } ); };
CONF
	ab_start_daemon "$T/flood.conf" || bail "daemon did not start"
	wait_for 10 grep -q 'syslog: listening on' "$AB_DLOG"
	python3 - "$P_TCP" "$FLOOD" > "$T/hog.log" 2>&1 <<'PY' & HOG=$!
import socket, sys, time
port, n, socks, refused = int(sys.argv[1]), int(sys.argv[2]), [], 0
for _ in range(n):
    try:
        s = socket.socket(); s.bind(("127.0.0.2", 0)); s.settimeout(2)
        s.connect(("127.0.0.1", port)); socks.append(s)
    except OSError:
        refused += 1
print("hog: %d connects made, %d failed" % (len(socks), refused), flush=True)
time.sleep(600)
PY
	ab_track "$HOG"
	wait_for 30 grep -qs 'connects made' "$T/hog.log"
	t0=$(now)
	python3 - "$P_TCP" "$T/flood.acked" <<'PY'
import socket, sys, time
port, acked = int(sys.argv[1]), open(sys.argv[2], "a")
# a forwarder's connection (rsyslog, syslog-ng keep one open); a burst of
# one connection per line is refused past max_conns_per_source when the
# daemon has not read them yet (see alertbridge.conf(5))
s = socket.create_connection(("127.0.0.1", port), 5)
for k in range(100):
    s.sendall(b"<10>Dec  6 10:00:00 probe soak: soak-flood-%d end\n" % k)
    acked.write("soak-flood-%d\n" % k)
    time.sleep(0.01)
s.close()
PY
	ok "flood: another sender's lines all arrive (drain)" wait_for 60 drained flood
	diag "flood: $(cat "$T/hog.log"); $("$AB" -c "$T/flood.conf" syslog status | grep -i 'refused' | head -2 | tr -s ' ' | tr '\n' ' ')"
	tally flood "$t0"
	kill "$HOG" 2>/dev/null; wait "$HOG" 2>/dev/null; ab_forget "$HOG"
	ab_stop_daemon
fi

# ---------------------------------------------------------------- disk
if [[ " $ONLY " == *" disk "* ]]; then
	conf disk; : > "$T/disk.acked"
	mkdir -p "$T/dstate"
	mount -t tmpfs -o size=128m,mode=755 absoak "$T/dstate" || bail "cannot mount a tmpfs"
	ab_on_exit umount -l "$T/dstate"
	sed -i "s|^state_dir = .*|state_dir = \"$T/dstate\";|" "$T/disk.conf"
	ab_start_daemon "$T/disk.conf" || bail "daemon did not start"
	burst disk "$EVENTS" & BP=$!; ab_track "$BP"
	for r in 1 2 3; do   # fill below the mark (24 MiB), hold, give it back
		sleep 1
		avail=$(df -Pm "$T/dstate" | awk 'NR == 2 { print $4 }')
		fallocate -l "$((avail - 12))M" "$T/dstate/filler" 2>/dev/null
		sleep 2
		rm -f "$T/dstate/filler"
	done
	wait "$BP"; ab_forget "$BP"; t0=$(now)
	diag "disk: send refused with exit 75 (and retried) $(grep -c 'below min_free_mb' "$T/disk.send.log") times"
	ok "disk: all acknowledged events delivered (drain)" wait_for "$DRAIN" drained disk
	tally disk "$t0"
	ab_stop_daemon
fi

# ---------------------------------------------------------------- outage, storm
# fault NAME CONTROL SECONDS [tally options]: the sink answers CONTROL for SECONDS
# while FAULT_EVENTS events are queued; then it answers 200 again
fault() {
	local name=$1 ctl=$2 secs=$3
	shift 3
	conf "$name"; : > "$T/$name.acked"
	echo "$ctl" > "$T/ctl.json"
	ab_start_daemon "$T/$name.conf" || bail "daemon did not start"
	burst "$name" "$FAULT_EVENTS"
	sleep "$secs"
	: > "$T/ctl.json"; t0=$(now)
	rec "$name"
	diag "$name: $(python3 -c 'import json,sys
n = [json.loads(l) for l in open(sys.argv[1])]
f = [r for r in n if r["answer"] != "ok"]
print("%d requests to the failing endpoint in %s s" % (len(f), sys.argv[2]))' "$T/$name.rec" "$secs")"
	ok "$name: all events delivered after the fault (drain)" wait_for "$DRAIN" drained "$name"
	tally "$name" "$t0" "$@"
	ab_stop_daemon
}
[[ " $ONLY " == *" outage "* ]] &&
	fault outage '{"mode": "status", "status": 503, "body": "down"}' "$OUTAGE"
[[ " $ONLY " == *" storm "* ]] &&
	fault storm '{"mode": "status", "status": 429, "retry_after": "5"}' "$STORM" --retry-after 5

# ---------------------------------------------------------------- garbage
if [[ " $ONLY " == *" garbage "* ]]; then
	conf garbage
	cat >> "$T/garbage.conf" <<CONF
rules = ( { name = "serious"; min_severity = "high"; not = { events = ["syslog.message"]; };
  channels = ["hook"]; } );
syslog = { listeners = ( { name = "tcp"; proto = "tcp"; address = "127.0.0.1:$P_TCP"; } ); };
CONF
	sed -i 's/^default = \["hook"\];/default = [];/' "$T/garbage.conf"
	ab_start_daemon "$T/garbage.conf" || bail "daemon did not start"
	wait_for 10 grep -q 'syslog: listening on' "$AB_DLOG"
	size() { du -sk "$S"/garbage.db* 2>/dev/null | awk '{ n += $1 } END { print n + 0 }'; }
	before=$(size)
	python3 - "$P_TCP" "$GARBAGE_MB" <<'PY'
import os, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
for _ in range(int(sys.argv[2]) * 16):
    s.sendall(os.urandom(65536))
s.close()
PY
	stat_n() {   # lines the listener read (routed or not)
		python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["listeners"][0]["received"])' \
			"$S/syslog.status" 2>/dev/null || echo 0
	}
	settled() { local a; a=$(stat_n); sleep 1.5; [ "$a" -gt 0 ] && [ "$a" = "$(stat_n)" ]; }
	wait_for 60 settled
	after=$(size)
	rss=$(awk '/VmHWM/ { print $2 }' "/proc/$DPID/status")
	diag "garbage: $GARBAGE_MB MiB of random bytes over TCP: store $before -> $after KiB, daemon peak RSS $((rss / 1024)) MiB, $(stat_n) lines received"
	ok "garbage: the store does not grow with garbage (< 8 MiB more)" test $((after - before)) -lt 8192
	# ASan's shadow memory and quarantine take hundreds of MiB by themselves
	ok "garbage: the daemon's peak RSS stays bounded (200 MiB; 1 GiB under ASan)" \
		test "$rss" -lt $((ASAN ? 1048576 : 204800))
	ab_stop_daemon
fi

diag "summary (also in $T/summary.txt with AB_KEEP=1):"
while read -r l; do diag "  $l"; done < "$T/summary.txt"
# make soak runs this outside make check's TAP driver: a failed check fails it
[ "$TAP_FAILED" -eq 0 ] || { diag "$TAP_FAILED check(s) failed"; exit 1; }
