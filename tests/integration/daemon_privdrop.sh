#!/bin/bash
# daemon_privdrop.sh - as root, alertbridged opens its store and plugins,
# then runs as the configured user; the state directory is handed to that
# user so deliveries keep working; a daemon with a pid file refuses to start
# twice; background mode detaches and writes its pid file.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"
if [ "$(id -u)" -ne 0 ]; then echo "1..0 # SKIP needs root (CI runs as root)"; exit 0; fi
ab_tmpdir abpriv
USERNAME=abtest
PIDF="$T/state/ab.pid"
# the detached daemon is not this shell's child: stopped through its pid file
kill_pidfile() { [ -s "$PIDF" ] && kill -9 "$(cat "$PIDF")" 2>/dev/null; }
ab_on_exit kill_pidfile
id "$USERNAME" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$USERNAME"
ab_plugins file inbox
cat > "$T/ab.conf" <<CONF
state_dir = "$T/state";
plugin_dir = "$T/plugins";
user = "$USERNAME";
pidfile = "ab.pid";   # relative: in state_dir, which is handed to the user
dispatch = { poll = "50ms"; };
channels = ( { name = "file"; type = "file"; path = "events.jsonl"; } );
default = ["file"];
CONF
plan 7
"$ABD" -c "$T/ab.conf"; rc=$?
is "background start returns 0" "$rc" 0
ok "pid file written" wait_for 5 test -s "$PIDF"
pid=$(cat "$PIDF" 2>/dev/null)
uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
is "daemon runs as $USERNAME" "$uid" "$(id -u "$USERNAME")"
"$ABD" -f -c "$T/ab.conf" 2>"$T/second.err"; rc=$?
ok "a second daemon with the same pid file refuses" test "$rc" -ne 0
like "and says why" "$(cat "$T/second.err")" "locked"
echo '{"type":"finding.created","severity":"high","title":"after privilege drop"}' | "$AB" -c "$T/ab.conf" send - >/dev/null
ok "delivered while running as $USERNAME" wait_for 10 grep -q "after privilege drop" "$T/state/events.jsonl"
kill -TERM "$pid"
ok "stops on SIGTERM and removes its pid file" wait_for 10 test ! -e "$PIDF"
[ "$TAP_FAILED" -eq 0 ] || ls -la "$T" "$T/state" | sed "s/^/# /"
