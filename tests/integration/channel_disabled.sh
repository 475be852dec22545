#!/bin/bash
# channel_disabled.sh - a channel switched off with `enabled = false;`,
# through the real daemon, the file and webhook plugins and the local HTTP
# sink (tests/lib/sink.py) on loopback:
#   - check validates a disabled channel (bad settings still FILE:LINE) and
#     notes it, and a fallback that names it;
#   - routing: a disabled channel gets nothing while another channel of the
#     same rule gets the event; a rule whose only channel is disabled sends
#     to the default channels instead; explain shows "(disabled)";
#   - jobs queued while the channel was enabled are held after a restart
#     with it disabled (not attempted, not dead-lettered, no log entry) and
#     delivered once a reload enables it; the same for a job that was being
#     retried when a reload disabled the channel;
#   - a failing channel whose fallback is disabled: one log line, no
#     health event queued for the disabled fallback;
#   - nothing left at all (default disabled too): the daemon (syslog input)
#     logs one warning with the event id and the disabled channel, and the
#     event stays in the store;
#   - `log --channels` says disabled, `test` still sends with a note.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"
ab_tmpdir abdisabled   # (AB_KEEP=1 keeps $T for a look after a failure)

command -v sqlite3 >/dev/null || bail "sqlite3 not installed (contrib/install-deps.sh --test)"
ab_plugins file webhook
ab_sink PORT --record "$T/rec.jsonl" --control "$T/ctl.json"
SYSLOG_PORT=$(ab_free_port)

# mkconf FILE B_ENABLED DEFAULT: one daemon configuration; b is the switch.
mkconf() {
	cat > "$1" <<CONF
state_dir = "$T/state";
plugin_dir = "$T/plugins";
log = { level = "info"; };
dispatch = { workers = 1; backoff_base = "200ms"; backoff_cap = "400ms"; poll = "50ms"; };
channels = (
  { name = "a"; type = "file"; path = "a.jsonl"; },
  { name = "b"; type = "webhook"; url = "http://127.0.0.1:$PORT/b"; allow_http = true;
    allow_networks = ["127.0.0.0/8"]; timeout = 5; enabled = $2; },
  { name = "c"; type = "file"; path = "c.jsonl"; fallback = "b"; },
  { name = "hook2"; type = "webhook"; url = "http://127.0.0.1:$PORT/hook2"; allow_http = true;
    allow_networks = ["127.0.0.0/8"]; timeout = 5; fallback = "b"; failure_threshold = 1; }
);
rules = (
  { name = "both"; events = ["both.*"]; channels = ["a", "b"]; },
  { name = "only"; events = ["only.*"]; channels = ["b"]; },
  { name = "mark"; events = ["mark.*"]; channels = ["a"]; },
  { name = "fb"; events = ["fb.*"]; channels = ["hook2"]; }
);
default = $3;
syslog = { listeners = ( { name = "tcp"; proto = "tcp"; address = "127.0.0.1:$SYSLOG_PORT"; } ); };
CONF
}
mkconf "$T/on.conf" true '["c"]'
mkconf "$T/off.conf" false '["c"]'
mkconf "$T/none.conf" false '["b"]'
cp "$T/off.conf" "$T/ab.conf"

ev() { printf '{"type":"%s","severity":"high","title":"%s","source":"e2e","tool":"t"}' "$1" "$2"; }
send() { ev "$2" "$3" | "$AB" -c "$1" send - 2>>"$T/cli.log"; }   # send CONF TYPE TITLE -> id
sinkreq() { # requests to /b whose body contains $1
	local n=0
	[ -f "$T/rec.jsonl" ] && n=$(grep -F '"path": "/b"' "$T/rec.jsonl" | grep -cF -- "$1")
	echo "${n:-0}"
}
in_a() { [ -f "$T/state/a.jsonl" ] && grep -qF -- "$1" "$T/state/a.jsonl"; }
in_c() { [ -f "$T/state/c.jsonl" ] && grep -qF -- "$1" "$T/state/c.jsonl"; }
q() { sqlite3 "$T/state/store.db" "$1" 2>/dev/null; }
b_jobs() { q "SELECT COUNT(*) FROM jobs WHERE channel = 'b' AND $1"; }
reloads() { grep -c 'configuration reloaded' "$T/daemon.log"; }
reloaded_after() { [ "$(reloads)" -gt "$1" ]; }
reload() { # reload CONF: swap the file in, SIGUSR1, wait for the daemon to say so
	local n; n=$(reloads); cp "$1" "$T/ab.conf"; kill -USR1 "$DPID"
	wait_for 20 reloaded_after "$n"
}
qeq() { [ "$(q "$1")" = "$2" ]; }        # wait_for-able: the query gives $2
qge() { [ "$(q "$1")" -ge "$2" ] 2>/dev/null; }
sinkeq() { [ "$(sinkreq "$1")" = "$2" ]; }
mark() { # mark TITLE: an event for channel a only, delivered
	send "$T/ab.conf" mark.x "$1" >/dev/null && wait_for 20 in_a "$1"
}
now_ms() { python3 -c 'import time; print(int(time.time() * 1000))'; }
b_due() { [ "$(b_jobs "state = 0 AND next_at < $(now_ms)")" -ge 1 ]; }

plan 45

# ---- check: a disabled channel is validated and noted
out=$("$AB" -c "$T/off.conf" check 2>&1); rc=$?
is "check accepts a disabled channel" "$rc" 0
like "check counts it" "$out" "OK: 4 channel\(s\) \(1 disabled\)"
like "check notes the disabled channel with FILE:LINE" "$out" "note: .*off.conf:[0-9]+: channel 'b' is disabled \(enabled = false\)"
like "check warns about a fallback naming it" "$out" "warning: .*channel 'c': its fallback channel 'b' is disabled: health events of 'c'"
sed 's|enabled = false; },|enabled = false; rate = "fast"; },|' "$T/off.conf" > "$T/bad.conf"
out=$("$AB" -c "$T/bad.conf" check 2>&1); rc=$?
is "a bad setting of a disabled channel is still an error (EX_CONFIG)" "$rc" 78
like "... reported as FILE:LINE" "$out" "bad.conf:[0-9]+: channel 'b': setting 'rate': 'fast' is not a rate"

# ---- explain, log --channels and test without the daemon
out=$(ev only.x explain-1 | "$AB" -c "$T/off.conf" explain - 2>&1)
like "explain marks the disabled channel" "$out" "b: \(disabled\)"
like "explain says where the event goes instead" "$out" "every channel of the matching rules is disabled: the default channels instead"
like "explain's channel list: c, b left out" "$out" "channels: c; left out: b \(disabled\)"
out=$("$AB" -c "$T/off.conf" log --channels 2>&1)
like "log --channels shows b disabled" "$out" "b +disabled .*disabled in the configuration"
like "log --channels shows a healthy" "$out" "a +healthy"
out=$("$AB" -c "$T/off.conf" test b 2>&1); rc=$?
is "test still sends to a disabled channel" "$rc" 0
like "test notes that the channel is disabled" "$out" "channel 'b' is disabled .*sent anyway"
ok "the sink got the test message" wait_for 10 sinkeq 'Test message from alertbridge' 1

# ---- restart: jobs queued while b was enabled are held when it starts disabled
id1=$(send "$T/on.conf" only.x held-1)
id2=$(send "$T/on.conf" only.x held-2)
id3=$(send "$T/on.conf" both.x held-3)
is "three jobs queued for b while it was enabled (daemon down)" "$(b_jobs 'state = 0')" 3
ok "daemon starts with b disabled" ab_start_daemon "$T/ab.conf"
ok "the held-3 job for a is delivered" wait_for 20 in_a held-3
ok "a later event for a is delivered (the worker went past b's older jobs)" mark mark-1
is "b's jobs stay queued with no attempt" "$(b_jobs 'state = 0 AND attempts = 0')" 3
is "no dead letter" "$(q 'SELECT COUNT(*) FROM jobs WHERE state = 3')" 0
is "no delivery log entry for b" "$(q "SELECT COUNT(*) FROM delivery_log WHERE channel = 'b'")" 0
is "the sink got none of them" "$(sinkreq held-)" 0
is "queue list marks them held" "$("$AB" -c "$T/ab.conf" queue list | grep -c '(held: channel disabled)')" 3
like "the daemon logged the disabled channel at start" "$(cat "$T/daemon.log")" "channel 'b' is disabled \(enabled = false\)"
like "... and the fallback that names it" "$(cat "$T/daemon.log")" "warning: .*channel 'c': its fallback channel 'b' is disabled"

# ---- routing with b disabled
send "$T/ab.conf" both.x both-1 >/dev/null
ok "rule a+b: a gets the event" wait_for 20 in_a both-1
idonly=$(send "$T/ab.conf" only.x only-1)
ok "rule with only b: the default channel c gets it" wait_for 20 in_c only-1
mark mark-2
is "b got nothing (sink)" "$(sinkreq both-1)$(sinkreq only-1)" 00
is "no job was queued for b" "$(b_jobs "event_id = '$idonly'")" 0

# ---- reload with b enabled: the held jobs go, each on its first attempt
reload "$T/on.conf" || bail "reload did not happen"
ok "held jobs delivered after the reload" \
	wait_for 20 qeq "SELECT COUNT(*) FROM jobs WHERE channel = 'b' AND state = 2" 3
is "each reached the sink once" "$(sinkreq held-1) $(sinkreq held-2) $(sinkreq held-3)" "1 1 1"
is "the delivery log shows one ok attempt 1 each" \
	"$(q "SELECT COUNT(*) FROM delivery_log WHERE channel = 'b' AND status = 0 AND attempt = 1 AND event_id IN ('$id1', '$id2', '$id3')")" 3

# ---- reload disabling b while a job of b is being retried: held, then delivered
echo '{"mode":"status","status":500,"body":"down"}' > "$T/ctl.json"
idr=$(send "$T/ab.conf" only.x retry-1)
ok "b's job fails and is retried (500)" \
	wait_for 20 qge "SELECT COUNT(*) FROM delivery_log WHERE channel = 'b' AND event_id = '$idr'" 1
reload "$T/off.conf" || bail "reload did not happen"
mark mark-3
n=$(sinkreq retry-1)
ok "the retry would be due now" wait_for 20 b_due
mark mark-4
is "no further attempt once disabled" "$(sinkreq retry-1)" "$n"
is "the job is queued, not dead" "$(q "SELECT state FROM jobs WHERE channel = 'b' AND event_id = '$idr'")" 0
# a channel whose fallback (b) is disabled starts failing: the log is the only notice
send "$T/ab.conf" fb.x fb-1 >/dev/null
ok "failing channel: the log line says its fallback is disabled" \
	wait_for 20 grep -q "channel hook2 is failing: .*its fallback channel b is disabled" "$T/daemon.log"
is "no health event was queued for the disabled fallback" \
	"$(q "SELECT COUNT(*) FROM jobs j JOIN events e ON e.id = j.event_id WHERE j.channel = 'b' AND e.json LIKE '%channel.failing%'")" 0
: > "$T/ctl.json"
reload "$T/on.conf" || bail "reload did not happen"
ok "enabled again: the retried job is delivered" \
	wait_for 20 qeq "SELECT state FROM jobs WHERE channel = 'b' AND event_id = '$idr'" 2

# ---- nothing left at all: default disabled too; the daemon (syslog input) warns
reload "$T/none.conf" || bail "reload did not happen"
out=$(ev only.x explain-2 | "$AB" -c "$T/none.conf" explain - 2>&1)
like "explain: nothing left to deliver to" "$out" "nothing left to deliver to: the event is stored"
printf '<13>1 2026-11-29T10:00:00Z host probe - - - nothing-left-1\n' > "/dev/tcp/127.0.0.1/$SYSLOG_PORT"
ok "the daemon logs one warning naming the event and the disabled channel" \
	wait_for 20 grep -qE "warning: event [0-9a-f]{32}: not delivered: its channels are disabled \(b\)" "$T/daemon.log"
idn=$(grep -oE "event [0-9a-f]{32}: not delivered" "$T/daemon.log" | tail -1 | sed 's/^event \([0-9a-f]*\):.*/\1/')
# (the syslog input commits its batch right after routing: wait for it)
ok "the event stays in the store" \
	wait_for 20 qeq "SELECT COUNT(*) FROM events WHERE id = '$idn' AND json LIKE '%nothing-left-1%'" 1
is "no job for it" "$(q "SELECT COUNT(*) FROM jobs WHERE event_id = '$idn'")" 0
is "exactly one warning line for it" "$(grep -c "event $idn: not delivered" "$T/daemon.log")" 1

ab_stop_daemon; rc=$?
is "daemon stops cleanly" "$rc" 0
[ "$TAP_FAILED" -eq 0 ] || ab_show_log "daemon log" "$T/daemon.log" 40
