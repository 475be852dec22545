#!/bin/bash
# slack_app.sh - the slack channel as a Slack app (token) through the real
# daemon against tests/lib/slack_standin.py, which checks Web API arguments
# as Slack does: a finding is posted once and later events about it
# (same fingerprint) update that message in place and reply in its thread
# (create, resolve, reopen), explain names the first delivery, direct
# messages to people by e-mail (looked up once), send_resolved = false,
# ratelimited with Retry-After, a message deleted in Slack posted anew,
# invalid_auth as a dead letter with the token nowhere, and settings errors.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"
ab_tmpdir abslack

ab_plugins slack
TOKEN=xoxb-4242-secret-bot-token
q() { sqlite3 "$T/state/store.db" "$1" 2>/dev/null; }
: > "$T/ctl.json"
ab_spawn "$T/standin.log" python3 "$top_srcdir/tests/lib/slack_standin.py" \
	--port-file "$T/s.port" --record "$T/s.jsonl" --control "$T/ctl.json" --token "$TOKEN" \
	--channels "security=C0SEC" --users "dana@contoso.example=U0DANA"
wait_for 20 test -s "$T/s.port" || bail "stand-in did not start: $(cat "$T/standin.log")"
SP=$(cat "$T/s.port")

conf() {  # conf NAME TOKEN [EXTRA CHANNEL SETTINGS]
	cat > "$T/$1.conf" <<CONF
state_dir = "$T/state";
plugin_dir = "$T/plugins";
log = { level = "info"; };
dispatch = { workers = 1; backoff_base = "200ms"; backoff_cap = "1s"; poll = "50ms"; };
channels = (
  { name = "slack"; type = "slack"; token = "$2"; channel = "#security";
    api_url = "http://127.0.0.1:$SP/api"; allow_http = true; allow_networks = ["127.0.0.0/8"];
    rate = "100/s"; ${3:-} }
);
users = ( { name = "dana"; email = "dana@contoso.example"; teams = ["ops"]; } );
people = { chat = "slack"; };
rules = (
  { name = "quiet"; events = ["quiet.*"]; send_resolved = false; channels = ["slack"]; },
  { name = "dms"; events = ["people.*"]; recipients = { users = ["dana"]; via = ["chat"]; }; },
  { name = "findings"; events = ["finding.*"]; channels = ["slack"]; }
);
CONF
}
send() { printf '%s' "$1" | "$AB" -c "$T/app.conf" send - > /dev/null 2>&1; }
calls() {  # calls METHOD [ok|error]: how many
	if [ "${2:-ok}" = ok ]; then ab_records "$T/s.jsonl" method="$1" ok=true
	else ab_records "$T/s.jsonl" method="$1" error="$2"; fi
}
state() { curl -s "http://127.0.0.1:$SP/_state"; }
msgfield() {  # msgfield EXPR: a Python expression over the one message m in C0SEC
	state | python3 -c "import json,sys; s=json.load(sys.stdin); ms=list(s.get('C0SEC',{}).values()); m=ms[0] if len(ms)==1 else {'n': len(ms)}; print($1)"
}

plan 29
conf app "$TOKEN"
out=$("$AB" -c "$T/app.conf" check 2>&1)
is "check accepts the slack app channel" "$?" 0
ab_start_daemon "$T/app.conf" || bail "daemon did not start"

# --- create: one message, its channel:ts kept
send '{"type":"finding.created","severity":"critical","title":"SQL injection in /login","fingerprint":"F1","asset":"shop"}'
_w() { test "$(calls chat.postMessage)" -ge 1; }; ok "a new finding is posted with chat.postMessage" wait_for 20 _w
ts=$(msgfield "m['ts']")
_w() { test -n "$(q "SELECT ref FROM threads WHERE fingerprint = 'F1'")"; }; wait_for 10 _w
is "... and its message (channel:ts) is kept for the fingerprint" \
	"$(q "SELECT ref FROM threads WHERE fingerprint = 'F1'")" "C0SEC:$ts"

# --- resolve: the same message updated, a reply in its thread
send '{"type":"finding.resolved","severity":"critical","status":"resolved","title":"SQL injection in /login","fingerprint":"F1","asset":"shop"}'
_w() { test "$(calls chat.update)" -ge 1; }; ok "the resolved event updates the message in place (chat.update)" wait_for 20 _w
is "... no second message in the channel" "$(msgfield "len(s['C0SEC'])")" 1
like "... it shows as resolved, in green" "$(msgfield "m['text'] + ' ' + m['attachments'][0]['color']")" '^\[RESOLVED\] SQL injection in /login.* #2eb67d$'
_w() { test "$(msgfield "len(m['replies'])")" -ge 1; }; wait_for 10 _w
like "... and a reply in its thread says so" "$(msgfield "m['replies'][0]['text']")" "Resolved.*SQL injection in /login"

# --- reopen: updated again, a second reply
send '{"type":"finding.reopened","severity":"high","status":"open","title":"SQL injection in /login","fingerprint":"F1","asset":"shop"}'
_w() { test "$(msgfield "len(m['replies'])")" -ge 2; }; ok "a reopened finding updates it again and replies" wait_for 20 _w
like "... showing it open again" "$(msgfield "m['text'] + ' ' + str(m['updates'])")" '^\[HIGH\] SQL injection in /login.* 2$'
like "... the reply says what changed" "$(msgfield "m['replies'][1]['text']")" 'Update\* \(HIGH, status open\)'
is "one top-level message in all" "$(calls chat.postMessage) $(msgfield "len(s['C0SEC'])")" "3 1"

# --- explain names the first delivery
ex=$(printf '{"type":"finding.updated","severity":"high","title":"x","fingerprint":"F1"}' |
	"$AB" -c "$T/app.conf" explain - 2>&1)
like "explain names the earlier delivery of the fingerprint" "$ex" "slack: follows up event [0-9a-f]+ of fingerprint 'F1', first delivered .* as C0SEC:$ts \(3 deliveries so far\)"

# --- direct messages to people, their user id looked up once
send '{"type":"people.notice","severity":"high","title":"For dana, one","team":"ops"}'
send '{"type":"people.notice","severity":"high","title":"For dana, two","team":"ops"}'
_w() { test "$(state | python3 -c 'import json,sys; print(len(json.load(sys.stdin).get("D0DANA",{})))')" = 2; }
ok "a person gets direct messages (by her e-mail address)" wait_for 20 _w
is "... her Slack user was looked up once" "$(calls users.lookupByEmail)" 1

# --- send_resolved = false
n0=$(calls chat.postMessage)
send '{"type":"quiet.alert","severity":"high","status":"resolved","title":"Quietly over","fingerprint":"Q1"}'
ex=$(printf '{"type":"quiet.alert","severity":"high","status":"resolved","title":"Quietly over","fingerprint":"Q1"}' |
	"$AB" -c "$T/app.conf" explain - 2>&1)
like "explain: a rule with send_resolved = false sends no resolved event" "$ex" "send_resolved = false"
sleep 1
is "... and none is posted" "$(calls chat.postMessage)" "$n0"

# --- a resolved finding this channel never had is not sent there
n1=$(calls chat.postMessage)
ex=$(printf '{"type":"finding.resolved","severity":"high","status":"resolved","title":"Never seen","fingerprint":"F9"}' |
	"$AB" -c "$T/app.conf" explain - 2>&1)
like "explain: a resolved finding the channel never had is not sent there" "$ex" \
	"slack: never had fingerprint 'F9', nothing to resolve there"
send '{"type":"finding.resolved","severity":"high","status":"resolved","title":"Never seen","fingerprint":"F9"}'
sleep 1
is "... and nothing is posted" "$(calls chat.postMessage)" "$n1"

# --- ratelimited: retried after Retry-After
echo '{"ratelimited": {"count": 1, "retry_after": 1}}' > "$T/ctl.json"
send '{"type":"finding.created","severity":"high","title":"Rate limited one","fingerprint":"F2"}'
_w() { test "$(calls chat.postMessage ratelimited)" -ge 1 && test "$(calls chat.postMessage)" -ge $((n0 + 1)); }
ok "ratelimited is retried and the message posted" wait_for 20 _w
gap=$(python3 - "$T/s.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
t0 = [r["time"] for r in rows if r["error"] == "ratelimited"][-1]
t1 = [r["time"] for r in rows if r["ok"] and r["method"] == "chat.postMessage"][-1]
print("ok" if t1 - t0 >= 0.95 else "too soon: %.2f s" % (t1 - t0))
PY
)
is "... not before its Retry-After" "$gap" ok

# --- the first message was deleted in Slack: a later event is posted anew
echo '{"forget": true}' > "$T/ctl.json"
send '{"type":"finding.updated","severity":"high","title":"SQL injection in /login (again)","fingerprint":"F1"}'
_w() { test "$(calls chat.update message_not_found)" -ge 1 && test "$(state | python3 -c 'import json,sys; print(len(json.load(sys.stdin).get("C0SEC",{})))')" -ge 1; }
ok "an update of a message Slack no longer has posts a new one" wait_for 20 _w
is "... delivered, not a dead letter" "$("$AB" -c "$T/app.conf" queue list --dead 2>/dev/null | grep -c slack)" 0
nf=$(calls chat.update message_not_found)
send '{"type":"finding.updated","severity":"critical","title":"SQL injection in /login (third)","fingerprint":"F1"}'
_w() { test "$(msgfield "m.get('updates', 0)")" -ge 1 2>/dev/null; }
ok "... and later events update that new message" wait_for 20 _w
is "... without another message_not_found" "$(calls chat.update message_not_found)" "$nf"
ab_stop_daemon

# --- a wrong token: a dead letter saying invalid_auth, the token nowhere
rm -rf "$T/state"; : > "$T/ctl.json"
conf bad "xoxb-wrong-$TOKEN"
ab_start_daemon "$T/bad.conf" || bail "daemon did not start (bad token)"
printf '{"type":"finding.created","severity":"high","title":"Never posted"}' |
	"$AB" -c "$T/bad.conf" send - > /dev/null 2>&1
_w() { "$AB" -c "$T/bad.conf" queue list --dead 2>/dev/null | grep -q slack; }
ok "a wrong token makes a dead letter" wait_for 20 _w
dead=$("$AB" -c "$T/bad.conf" queue list --dead 2>&1)
like "... saying invalid_auth" "$dead" "slack chat.postMessage: invalid_auth"
ok "the token appears in no output, log or store" sh -c "! grep -r -q -F '$TOKEN' '$T/state' '$T/daemon.log' && ! printf '%s' \"\$1\" | grep -q -F '$TOKEN'" _ "$dead"
ab_stop_daemon

# --- settings errors
conf both "$TOKEN" 'url = "https://hooks.slack.com/services/T0/B0/x";'
like "check refuses url and token together" "$("$AB" -c "$T/both.conf" check 2>&1)" \
	"both.conf:[0-9]+: channel 'slack' .*setting 'url': give either url .* or token"
sed 's/allow_networks = \["127.0.0.0\/8"\];//' "$T/app.conf" > "$T/guard.conf"
like "check passes api_url through the SSRF guard" "$("$AB" -c "$T/guard.conf" check 2>&1)" \
	"setting 'api_url'.*loopback"
