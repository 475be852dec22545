#!/bin/bash
# run.sh - the miltertest protocol scripts of tests/milter/*.lua against a
# real alertbridged (milter on a loopback port, file channel), as TAP; then
# checks that the alerts they sent became events.  Needs miltertest.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"
if ! command -v miltertest >/dev/null; then
	echo "1..1"; echo "not ok 1 - miltertest not installed (contrib/install-deps.sh --test)"; exit 1
fi
ab_tmpdir abmt
PORT=$(ab_free_port)
ab_plugins file
cat > "$T/ab.conf" <<CONF
state_dir = "$T/state";
plugin_dir = "$T/plugins";
dispatch = { poll = "50ms"; };
channels = ( { name = "file"; type = "file"; path = "events.jsonl"; } );
default = ["file"];
milter = { socket = "inet:$PORT@127.0.0.1"; };
profiles = ( "$top_srcdir/conf/profiles.d/generic.conf" );
mail_sources = ( { name = "alerts"; recipients = ["alerts@example.com"]; profile = "generic";
  networks = ["127.0.0.0/8"]; } );
CONF
ab_start_daemon "$T/ab.conf"
scripts=$(ls "$top_srcdir"/tests/milter/*.lua | grep -v common.lua)
plan $(( $(echo "$scripts" | wc -l) + 4 ))
ok "daemon listens" wait_for 10 grep -q "milter listening" "$T/daemon.log"
export AB_MILTER="inet:$PORT@127.0.0.1" AB_MILTER_DIR="$top_srcdir/tests/milter"
for s in $scripts; do
	out=$(miltertest -s "$s" 2>&1); rc=$?
	ok "miltertest $(basename "$s")" test "$rc" -eq 0
	[ "$rc" -eq 0 ] || echo "$out" | sed 's/^/#   /'
done
ok "events from the scripts reach the file channel" wait_for 10 bash -c \
	"grep -q 'second alert after abort' '$T/state/events.jsonl' && grep -q headless01 '$T/state/events.jsonl' && grep -q 'many recipients' '$T/state/events.jsonl'"
lacks "the aborted half message made no event" "$T/state/events.jsonl" 'half an alert'
ab_stop_daemon; rc=$?
is "SIGTERM: clean exit" "$rc" 0
[ "$TAP_FAILED" -eq 0 ] || ab_show_log "daemon log" "$T/daemon.log" 20
