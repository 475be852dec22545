#!/bin/bash
# daemon_e2e.sh - the real daemon end to end: check, send, file channel and
# inbox, duplicates, queue/log/inbox commands, reload (good and broken),
# SIGKILL mid-queue then restart (every event delivered, none lost), and a
# clean SIGTERM.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"
ab_tmpdir abe2e

ab_plugins file inbox
install -m 0755 "$top_builddir/tests/plugins/.libs/mock.so" "$T/plugins/mock.so"

# flaky fails every first attempt, half its sends: its breaker pauses it
# after each failure, so its pauses are as short as the test's backoff.
cat > "$T/ab.conf" <<CONF
state_dir = "$T/state";
plugin_dir = "$T/plugins";
log = { level = "info"; };
dispatch = { workers = 2; backoff_base = "50ms"; backoff_cap = "200ms"; poll = "50ms"; };
channels = (
  { name = "inbox"; type = "inbox"; path = "inbox.db"; },
  { name = "file";  type = "file";  path = "events.jsonl"; fsync = true; },
  { name = "flaky"; type = "mock";  script = "retry:1"; record = "$T/flaky.rec";
    pause_base = "50ms"; pause_cap = "200ms"; }
);
rules = (
  { name = "high"; events = ["finding.*"]; min_severity = "high"; channels = ["file", "inbox", "flaky"]; }
);
default = ["inbox"];
CONF

ev() { # ev N SEVERITY -> canonical event JSON
	printf '{"type":"finding.created","severity":"%s","title":"finding %s","source":"code_scan","tool":"e2e","asset":"payments-api","fields":{"n":%s}}' "$2" "$1" "$1"
}
idle() { [ -z "$("$AB" -c "$T/ab.conf" queue list 2>/dev/null)" ]; }
lines() { [ -f "$T/state/events.jsonl" ] && wc -l < "$T/state/events.jsonl" || echo 0; }

plan 22

out=$("$AB" -c "$T/ab.conf" check 2>&1); rc=$?
is "check passes on the test config" "$rc" 0
like "check summarises" "$out" "OK: 3 channel\(s\), 1 rule"

printf 'channels = ( { name = "x"; type = "file"; path = "p"; bogus = 1; } );\ndefault = ["nope"];\n' > "$T/bad.conf"
out=$("$AB" -c "$T/bad.conf" check 2>&1); rc=$?
is "check fails on a broken config (EX_CONFIG)" "$rc" 78
like "check names file and line" "$out" "bad.conf:2: .*nope"

ab_start_daemon "$T/ab.conf"
id1=$(ev 1 high | "$AB" -c "$T/ab.conf" send -)
like "send prints the event id" "$id1" '^[0-9a-f]{32}$'
id1b=$(ev 1 high | "$AB" -c "$T/ab.conf" send - 2>/dev/null)
is "the same event has the same id" "$id1b" "$id1"
idlow=$(ev 2 low | "$AB" -c "$T/ab.conf" send -)
ok "events are delivered" wait_for 10 idle
is "file channel got the high event exactly once" "$(grep -c "$id1" "$T/state/events.jsonl")" 1
lacks "low event did not reach the file channel" "$T/state/events.jsonl" "$idlow"
out=$("$AB" -c "$T/ab.conf" inbox list)
like "inbox lists both (default channel got the low one)" "$out" "2 unread of 2"
out=$("$AB" -c "$T/ab.conf" log --channel flaky)
like "delivery log shows the retry then ok for flaky" "$out" "retry.*" 
inbox_id=$("$AB" -c "$T/ab.conf" inbox list --json | head -1 | sed 's/.*"id":\([0-9]*\).*/\1/')
"$AB" -c "$T/ab.conf" inbox read "$inbox_id" > "$T/read.out"
like "inbox read shows the event JSON" "$(cat "$T/read.out")" '"type": "finding.created"'
like "reading marks read, keeps it" "$("$AB" -c "$T/ab.conf" inbox list)" "1 unread of 2"

# Reload: a broken file is refused and the daemon keeps running.
cp "$T/ab.conf" "$T/ab.conf.good"
echo 'rules = ( { channels = ["missing"]; } );' >> "$T/ab.conf"
kill -USR1 "$DPID"; sleep 0.5
ok "broken reload keeps the daemon alive" kill -0 "$DPID"
like "broken reload is logged" "$(cat "$T/daemon.log")" "reload refused"
cp "$T/ab.conf.good" "$T/ab.conf"
kill -USR1 "$DPID"
ok "good reload is applied" wait_for 5 grep -q "configuration reloaded" "$T/daemon.log"

# SIGKILL in the middle of a queue: nothing is lost.
N=150
for i in $(seq 100 $((100 + N - 1))); do
	ev "$i" critical | "$AB" -c "$T/ab.conf" send - >> "$T/ids" || echo "send failed $i" >&2
	[ "$i" = 150 ] && ab_kill_daemon
done
before=$(lines)
diag "file channel had $before lines when the daemon was killed"
ab_start_daemon "$T/ab.conf"
ok "after restart every queued job is delivered" wait_for 60 idle
missing=0
while read -r id; do grep -q "\"id\":\"$id\"" "$T/state/events.jsonl" || missing=$((missing + 1)); done < "$T/ids"
is "all $N events reached the file channel" "$missing" 0
uniq_ids=$(grep -o '"id":"[0-9a-f]*"' "$T/state/events.jsonl" | sort -u | wc -l)
is "file channel holds each event (dedupe by id)" "$uniq_ids" $((N + 1))
is "inbox holds every event once" "$("$AB" -c "$T/ab.conf" inbox list --json | wc -l)" $((N + 2))

ab_stop_daemon; rc=$?
is "SIGTERM: clean exit 0" "$rc" 0
like "stop is logged" "$(tail -1 "$T/daemon.log")" "stopped"
[ "$TAP_FAILED" -eq 0 ] || ab_show_log "daemon log" "$T/daemon.log" 30
