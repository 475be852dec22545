#!/bin/bash
# daemon_signals.sh - the daemon's signal policy (doc/DESIGN.md "Signals")
# with the milter AND syslog listeners enabled, so that libmilter's own
# signal thread (which stops the milter on SIGHUP) is running:
#   five SIGHUPs, after each: still running, "configuration reloaded"
#   logged, the new configuration in effect (a new channel is the default:
#   a syslog line and a milter alert sent after the reload land in it and
#   not in the old one), the milter answers (miltertest), syslog accepted;
#   a broken file on SIGHUP: refused and logged, the old one keeps working;
#   a burst of SIGHUPs and SIGUSR1s from two shells: still running, the
#   milter still answers, the last file is in effect;
#   SIGTERM: exit 0, pid file, milter socket and syslog socket removed;
#   a start-up error after the pid file is written (a syslog port in use),
#   in the foreground and after daemonizing: exit 69 (in the background
#   from the starting process, which waits for the daemon's verdict), the
#   pid file is removed.
# Needs miltertest and logger.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"
if ! command -v miltertest >/dev/null; then
	echo "1..1"; echo "not ok 1 - miltertest not installed (contrib/install-deps.sh --test)"; exit 1
fi
ab_tmpdir absig

# Two free loopback ports: the syslog listener, and one held busy later.
read -r SPORT BUSY <<< "$(ab_free_port 2)"
ab_plugins file

conf() { # conf N: file channels c0..cN, default = cN; replaced in one rename
	{
		cat <<CONF
state_dir = "$T/state";
plugin_dir = "$T/plugins";
pidfile = "$T/ab.pid";   # from the file: the daemon must keep its own copy across reloads
log = { level = "info"; };
dispatch = { poll = "50ms"; };
milter = { socket = "unix:$T/milter.sock"; };
profiles = ( "$top_srcdir/conf/profiles.d/generic.conf" );
mail_sources = ( { name = "alerts"; recipients = ["alerts@example.com"]; profile = "generic";
  networks = ["127.0.0.0/8"]; } );
syslog = { listeners = (
  { name = "tcp"; proto = "tcp"; address = "127.0.0.1:$SPORT"; },
  { name = "local"; proto = "unix"; address = "$T/syslog.sock"; }
); };
CONF
		printf 'channels = (\n'
		for i in $(seq 0 "$1"); do
			printf '  { name = "c%s"; type = "file"; path = "c%s.jsonl"; }%s\n' "$i" "$i" \
				"$([ "$i" -lt "$1" ] && echo ,)"
		done
		printf ');\ndefault = ["c%s"];\n' "$1"
	} > "$T/ab.conf.new" && mv "$T/ab.conf.new" "$T/ab.conf"
}

# An alert mail through the milter: the subject is the marker to look for.
cat > "$T/alert.lua" <<'LUA'
dofile(os.getenv("AB_MILTER_DIR") .. "/common.lua")
local subject = os.getenv("AB_SUBJECT")
local conn = open()
if mt.mailfrom(conn, "scanner@example.net") ~= nil then fail("mailfrom") end
if mt.rcptto(conn, "alerts@example.com") ~= nil then fail("rcptto") end
if mt.data(conn) ~= nil then fail("data") end
expect(conn, SMFIR_CONTINUE, "DATA")
if mt.header(conn, "Subject", subject) ~= nil then fail("header") end
if mt.header(conn, "Message-ID", "<" .. subject .. "@example.net>") ~= nil then fail("header") end
if mt.eoh(conn) ~= nil then fail("eoh") end
if mt.bodystring(conn, "Severity: high\r\nHost: sigtest01\r\n") ~= nil then fail("body") end
if mt.eom(conn) ~= nil then fail("eom") end
expect(conn, SMFIR_CONTINUE, "EOM")
mt.disconnect(conn)
LUA
export AB_MILTER="unix:$T/milter.sock" AB_MILTER_DIR="$top_srcdir/tests/milter"
mail_alert() { AB_SUBJECT="$1" miltertest -s "$T/alert.lua" > "$T/mt.out" 2>&1 || { sed 's/^/#   /' "$T/mt.out"; return 1; }; }
syslog_line() { logger --tcp -n 127.0.0.1 -P "$SPORT" -t sigtest "$1"; }
in_chan() { grep -qF -- "$2" "$T/state/c$1.jsonl" 2>/dev/null; }   # in_chan N TEXT
in_chan2() { in_chan "$1" "$2" && in_chan "$1" "$3"; }               # in_chan2 N TEXT TEXT
reloads() { grep -c 'configuration reloaded' "$T/daemon.log"; }
refusals() { grep -c 'reload refused' "$T/daemon.log"; }
reloaded_after() { [ "$(reloads)" -gt "$1" ]; }
refused_after() { [ "$(refusals)" -gt "$1" ]; }
listening() {   # (the log appears with the daemon)
	grep -q 'milter listening' "$T/daemon.log" 2>/dev/null &&
		[ "$(grep -c 'syslog: listening on' "$T/daemon.log")" -ge 2 ]
}
last_reload_has() { grep 'configuration reloaded' "$T/daemon.log" | tail -1 | grep -q "$1"; }

plan 61

conf 0
"$ABD" -f -c "$T/ab.conf" 2>>"$T/daemon.log" & DPID=$!; ab_track "$DPID"
ok "daemon starts: milter and both syslog listeners" wait_for 20 listening
is "pid file names the daemon" "$(cat "$T/ab.pid" 2>/dev/null)" "$DPID"
syslog_line "syslog-before-hup"
ok "before any HUP: syslog reaches c0" wait_for 20 in_chan 0 syslog-before-hup
ok "before any HUP: the milter answers" mail_alert "milter-before-hup"
ok "before any HUP: the alert mail reaches c0" wait_for 20 in_chan 0 milter-before-hup

# ---- five SIGHUPs, each with a new channel as the default
for i in 1 2 3 4 5; do
	n=$(reloads)
	conf "$i"
	kill -HUP "$DPID"
	ok "HUP $i: reload logged" wait_for 20 reloaded_after "$n"
	ok "HUP $i: still running" kill -0 "$DPID"
	ok "HUP $i: the new file is loaded ($((i + 1)) channels)" last_reload_has "$((i + 1)) channel"
	syslog_line "syslog-after-hup-$i"
	ok "HUP $i: syslog accepted and routed to the new default c$i" \
		wait_for 20 in_chan "$i" "syslog-after-hup-$i"
	ok "HUP $i: the milter answers" mail_alert "milter-after-hup-$i"
	ok "HUP $i: the alert mail went to c$i" wait_for 20 in_chan "$i" "milter-after-hup-$i"
	lacks "HUP $i: nothing of it in the old default c$((i - 1))" "$T/state/c$((i - 1)).jsonl" \
		-e "syslog-after-hup-$i" -e "milter-after-hup-$i"
done

# ---- a broken file on SIGHUP: refused, the running configuration stays
n=$(reloads) r=$(refusals)
cp "$T/ab.conf" "$T/ab.conf.good"
echo 'rules = ( { channels = ["missing"]; } );' >> "$T/ab.conf"
kill -HUP "$DPID"
ok "broken file on HUP: 'reload refused' logged" wait_for 20 refused_after "$r"
like "and the error names the file" "$(grep 'configuration refused' "$T/daemon.log" | tail -1)" "ab.conf:"
ok "broken file on HUP: still running" kill -0 "$DPID"
is "broken file on HUP: no reload" "$(reloads)" "$n"
syslog_line "syslog-after-refused"
ok "broken file on HUP: the milter answers" mail_alert "milter-after-refused"
ok "the old configuration keeps working (c5 gets syslog and mail)" \
	wait_for 20 in_chan2 5 syslog-after-refused milter-after-refused

# ---- a burst of HUPs and USR1s from two shells, then one more file
cp "$T/ab.conf.good" "$T/ab.conf"
( for _ in $(seq 200); do kill -HUP "$DPID" 2>/dev/null; done ) &
b1=$!
( for _ in $(seq 200); do kill -USR1 "$DPID" 2>/dev/null; done ) &
b2=$!
wait "$b1" "$b2"
conf 6
kill -HUP "$DPID"
ok "after the burst: the last file is loaded (7 channels)" wait_for 30 last_reload_has "7 channel"
ok "after the burst: still running" kill -0 "$DPID"
ok "after the burst: the milter answers" mail_alert "milter-after-burst"
syslog_line "syslog-after-burst"
ok "after the burst: mail and syslog go to c6" \
	wait_for 20 in_chan2 6 syslog-after-burst milter-after-burst
lacks "libmilter never took a signal" "$T/daemon.log" "libmilter stopped"

# ---- SIGTERM: clean stop
kill -TERM "$DPID"; wait "$DPID"; rc=$?; DPID=""
is "SIGTERM: exit 0" "$rc" 0
ok "SIGTERM: pid file removed" test ! -e "$T/ab.pid"
ok "SIGTERM: milter socket removed" test ! -e "$T/milter.sock"
ok "SIGTERM: syslog socket removed" test ! -e "$T/syslog.sock"
like "SIGTERM: logged" "$(tail -2 "$T/daemon.log")" "stopped"

# ---- a start-up error after the pid file is written: the pid file goes
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); time.sleep(120)' "$BUSY" &
HOLDER=$!
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$BUSY" 2>/dev/null || bail "the port holder did not start"
cat > "$T/busy.conf" <<CONF
state_dir = "$T/busy";
plugin_dir = "$T/plugins";
channels = ( { name = "file"; type = "file"; path = "events.jsonl"; } );
default = ["file"];
syslog = { listeners = ( { name = "tcp"; proto = "tcp"; address = "127.0.0.1:$BUSY"; } ); };
CONF
"$ABD" -f -c "$T/busy.conf" -p "$T/busy-fg.pid" 2>"$T/busy.err"; rc=$?
is "port in use (foreground): exit 69" "$rc" 69
like "and says which listener" "$(cat "$T/busy.err")" "127.0.0.1:$BUSY"
ok "and removes its pid file" test ! -e "$T/busy-fg.pid"
# Background: the starting process waits for the daemon's verdict, which
# comes after the clean-up.  A stale pid file (as after a crash) is there
# first; only the daemon can remove it.
echo 999999 > "$T/busy-bg.pid"
"$ABD" -c "$T/busy.conf" -p "$T/busy-bg.pid" 2>"$T/busy-bg.err"; rc=$?
is "port in use (daemonized): the starting process exits 69" "$rc" 69
ok "the daemonized process removed its pid file" test ! -e "$T/busy-bg.pid"
kill "$HOLDER" 2>/dev/null; HOLDER=""

[ "$TAP_FAILED" -eq 0 ] || tail -30 "$T/daemon.log" | sed 's/^/#   /'
