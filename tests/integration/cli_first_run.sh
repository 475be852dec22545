#!/bin/bash
# cli_first_run.sh - what a new user meets first, through the built programs:
#   - --help / --version for both programs (exit 0, stdout), -h after every
#     command prints that command's usage and never opens a file "--help";
#   - an unknown option exits 64 with the usage on stderr;
# and the defects a new user hit, one test each:
#   1 start and SIGUSR1 reload refuse the channel URLs that check refuses;
#   2 `test CHANNEL` sends received_at as an RFC 3339 string and a fresh id
#     (webhook-id) every time;
#   3 `send` says what happened (throttled, digest, duplicate), not "already
#     queued" for everything;
#   4 `explain -` and `explain FILE` print the same (throttle/digest state);
#   5 `inbox read abc` speaks of an alert id;
#   6 URL redaction by component (http://localhost:N/localhost);
#   7 `check` reports config, plugin and URL errors in one run;
#   8 an inactive status (mitigated) does not reach the default channels;
#   9 queue retry --dead counts the attempts on; channel.failing events are
#     the daemon's (origin.kind daemon); `[1,2]` is "not an event".
# Real daemon, real plugins, the local HTTP sink (tests/lib/sink.py) on
# loopback.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"
ab_tmpdir abfirst
command -v sqlite3 >/dev/null || bail "sqlite3 not installed (contrib/install-deps.sh --test)"

# --- help and version
for prog in "$AB" "$ABD"; do
	n=$(basename "$prog")
	for o in --help -h; do
		out=$("$prog" $o 2>/dev/null); rc=$?
		is "$n $o exits 0" "$rc" 0
		like "$n $o prints the usage on stdout" "$out" "^usage: $n"
	done
	for o in --version -V; do
		out=$("$prog" $o 2>/dev/null); rc=$?
		is "$n $o exits 0" "$rc" 0
		like "$n $o prints the version" "$out" "^$n [0-9]+\.[0-9]+"
	done
	"$prog" --no-such-option >/dev/null 2>"$T/err"; rc=$?
	is "$n --no-such-option exits 64" "$rc" 64
	like "$n: usage on stderr for a bad option" "$(cat "$T/err")" "usage: $n"
done
cd "$T" || bail "cd"
for cmd in check send explain parse profiles syslog queue log inbox test secret; do
	out=$("$AB" -c /nonexistent.conf $cmd --help 2>&1); rc=$?
	is "alertbridge $cmd --help exits 0" "$rc" 0
	like "alertbridge $cmd --help shows $cmd's usage" "$out" "^  $cmd "
done
out=$("$AB" parse -h 2>&1)
like "parse -h: no file named -h opened" "$out" "usage: alertbridge"
ok "no file created or read as --help" test ! -e "$T/--help"
out=$("$AB" help queue)
like "alertbridge help queue" "$out" "queue retry ID"

# ------------------------------------------------------------ the defects
ab_plugins file webhook inbox teams
ab_sink PORT --record "$T/rec.jsonl" --control "$T/ctl.json"
q() { sqlite3 "$T/state/store.db" "$1" 2>/dev/null; }

# mkconf FILE TEAMS_URL: a daemon configuration
mkconf() {
	cat > "$1" <<CONF
state_dir = "$T/state";
plugin_dir = "$T/plugins";
log = { level = "info"; };
dispatch = { workers = 1; backoff_base = "100ms"; backoff_cap = "200ms"; poll = "50ms";
  max_age = "1s"; };
channels = (
  { name = "file"; type = "file"; path = "out.jsonl"; },
  { name = "inbox"; type = "inbox"; path = "inbox.db"; },
  { name = "hook"; type = "webhook"; url = "http://127.0.0.1:$PORT/hook"; allow_http = true;
    allow_networks = ["127.0.0.0/8"]; timeout = 5; fallback = "file"; failure_threshold = 1; },
  { name = "teams"; type = "teams"; url = "$2"; allow_http = true;
    allow_networks = ["127.0.0.0/8"]; timeout = 5; }
);
rules = (
  { name = "calm"; events = ["flap.*"]; throttle = "1h"; channels = ["file"]; },
  { name = "daily"; events = ["daily.*"]; digest = { schedule = "daily 08:00 UTC"; };
    channels = ["file"]; },
  { name = "hooked"; events = ["hook.*"]; channels = ["hook"]; },
  { name = "plain"; events = ["plain.*"]; channels = ["inbox"]; }
);
default = ["inbox"];
CONF
}
mkconf "$T/good.conf" "http://127.0.0.1:$PORT/teams"
mkconf "$T/ftp.conf" "ftp://127.0.0.1/teams"
mkconf "$T/notaurl.conf" "notaurl"

# 1. start and reload validate like check
for c in ftp notaurl; do
	"$AB" -c "$T/$c.conf" check >/dev/null 2>"$T/check.err"; rc=$?
	is "check refuses a teams url '$c'" "$rc" 78
	timeout 20 "$ABD" -f -c "$T/$c.conf" 2>"$T/start.err"; rc=$?
	is "the daemon refuses to start with it ($c)" "$rc" 78
	like "and says why, as check does ($c)" "$(cat "$T/start.err")" "channel 'teams': setting 'url'"
done
like "ftp: scheme not supported" "$(cat "$T/check.err")" "not a valid URL|scheme"
cp "$T/good.conf" "$T/ab.conf"
ab_start_daemon "$T/ab.conf" || bail "daemon did not start"
cp "$T/ftp.conf" "$T/ab.conf"; kill -USR1 "$DPID"
wait_for 20 grep -q 'reload refused' "$T/daemon.log"
like "SIGUSR1 with a refused url: reload refused" "$(grep 'reload refused' "$T/daemon.log")" "reload refused"
is "and no 'configuration reloaded'" "$(grep -c 'configuration reloaded' "$T/daemon.log")" 0
ok "the daemon keeps running" kill -0 "$DPID"
cp "$T/good.conf" "$T/ab.conf"
C="$T/ab.conf"

# 2. test CHANNEL: RFC 3339 received_at, a fresh id each time
"$AB" -c "$C" test hook >/dev/null 2>&1
"$AB" -c "$C" test hook >/dev/null 2>&1
read -r ra1 ra2 id1 id2 < <(python3 - "$T/rec.jsonl" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if '"/hook"' in l]
out = []
for r in recs[-2:]:
    b = json.loads(r["body"])
    ev = b.get("event", b)
    out.append(ev.get("received_at"))
ids = [dict((k.lower(), v) for k, v in r["headers"]).get("webhook-id") for r in recs[-2:]]
print(*(json.dumps(x) for x in out + ids))
PY
)
like "test: received_at is an RFC 3339 string" "$ra1" '^"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z"$'
ok "test: a fresh webhook-id for each test" test "$id1" != "$id2"
ok "test: not the all-zero id" test "$id1" != '"00000000000000000000000000000000"'

# 3. send says what happened
ev() { printf '{"type":"%s","severity":"high","title":"%s","source":"s","tool":"t"%s}' "$1" "$2" "${3:-}"; }
ev flap.a one | "$AB" -c "$C" send - >/dev/null 2>"$T/s1"
ev flap.a one2 | "$AB" -c "$C" send - >/dev/null 2>"$T/s2"
like "send: a throttled event says so" "$(cat "$T/s2")" "suppressed by a throttle"
is "send: not 'already queued' for a throttled event" "$(grep -c already "$T/s2")" 0
ev daily.a d1 | "$AB" -c "$C" send - >/dev/null 2>"$T/s3"
like "send: a digest event says so" "$(cat "$T/s3")" "collected into a digest"
ev plain.a p1 | "$AB" -c "$C" send - >/dev/null 2>"$T/s4"
like "send: queued" "$(cat "$T/s4")" "queued 1 delivery job"
ev plain.a p1 | "$AB" -c "$C" send - >/dev/null 2>"$T/s5"
like "send: the same input again is a duplicate" "$(cat "$T/s5")" "already stored"

# 4. explain: standard input and a file say the same
ev flap.a one ',"received_at":"2026-01-05T09:59:00Z"' > "$T/ev.json"
"$AB" -c "$C" explain --at 2026-01-05T10:00:00Z "$T/ev.json" > "$T/x1" 2>&1
"$AB" -c "$C" explain --at 2026-01-05T10:00:00Z - < "$T/ev.json" > "$T/x2" 2>&1
ok "explain FILE and explain - give the same output" cmp -s "$T/x1" "$T/x2"
like "explain - shows the throttle state and the deliveries" "$(cat "$T/x2")" "deliveries:"

# 5. inbox read abc
out=$("$AB" -c "$C" inbox read abc 2>&1); rc=$?
is "inbox read abc exits 64 or 65" "$([ $rc -eq 64 ] || [ $rc -eq 65 ] && echo yes)" yes
like "inbox read abc: an alert id" "$out" "not an alert id.*inbox list"

# 6. redaction by URL component
mkconf "$T/red.conf" "http://localhost:18080/localhost"
sed -i 's|allow_networks = \["127.0.0.0/8"\]; timeout = 5; }|timeout = 5; }|' "$T/red.conf"
out=$("$AB" -c "$T/red.conf" check 2>&1)
like "redaction keeps the host: http://localhost:18080/***" "$out" "http://localhost:18080/\*\*\*"
is "redaction never cuts into the host" "$(grep -c 'http:/\*\*\*' <<<"$out")" 0

# 7. check: every error in one run
cat > "$T/three.conf" <<CONF
state_dir = "$T/state3";
plugin_dir = "$T/plugins";
channels = (
  { name = "f"; type = "file"; colour = "red"; },
  { name = "t"; type = "teams"; url = "ftp://127.0.0.1/x"; }
);
rules = ( { name = "r"; min_severity = "loud"; channels = ["f"]; } );
default = [];
CONF
out=$("$AB" -c "$T/three.conf" check 2>&1); rc=$?
is "check: exit 78" "$rc" 78
like "check: the rule error" "$out" "three.conf:7: rule 'r': unknown severity 'loud'"
like "check: the plugin setting error" "$out" "three.conf:4: channel 'f'.*colour"
like "check: the url error" "$out" "three.conf:5: channel 't': setting 'url'"

# 8. an inactive status does not reach the default channels
ev other.x mitig ',"status":"mitigated","severity":"critical"' | sed 's/"severity":"high",//' > "$T/m.json"
out=$("$AB" -c "$C" explain "$T/m.json" 2>&1)
like "explain: the default channels do not take an inactive status" "$out" "status 'mitigated' is not an active one"
like "explain: no deliveries" "$out" "deliveries: \(none\)"
ev other.x open1 ',"status":"open","severity":"critical"' | sed 's/"severity":"high",//' > "$T/o.json"
like "an open one still goes to the default channels" "$("$AB" -c "$C" explain "$T/o.json" 2>&1)" "deliveries: now: inbox"

# 9. attempts count on after queue retry --dead; channel.failing is the daemon's
echo '{"mode": "status", "status": 500}' > "$T/ctl.json"
hid=$(ev hook.a h1 | "$AB" -c "$C" send - 2>/dev/null)
_w() { test "$(q "SELECT COUNT(*) FROM jobs WHERE event_id = '$hid' AND state = 3")" = 1; }; wait_for 30 _w
is "the job is dead after max_age" "$(q "SELECT COUNT(*) FROM jobs WHERE event_id = '$hid' AND state = 3")" 1
n=$(q "SELECT COUNT(*) FROM delivery_log WHERE event_id = '$hid'")
is "its attempts are numbered 1..$n" "$(q "SELECT MAX(attempt) FROM delivery_log WHERE event_id = '$hid'")" "$n"
"$AB" -c "$C" queue retry --dead >/dev/null 2>&1
_w() { test "$(q "SELECT COUNT(*) FROM delivery_log WHERE event_id = '$hid'")" -gt "$n"; }; wait_for 30 _w
is "the replay is logged as attempt $((n + 1)), not 1" "$(q "SELECT attempt FROM delivery_log WHERE event_id = '$hid' ORDER BY id DESC LIMIT 1")" "$((n + 1))"
wait_for 20 grep -q 'channel.failing' "$T/state/out.jsonl" 2>/dev/null
like "channel.failing reached the fallback" "$(cat "$T/state/out.jsonl" 2>/dev/null)" "channel.failing"
like "channel.failing: origin.kind daemon" "$(grep channel.failing "$T/state/out.jsonl" | head -1)" '"kind": ?"daemon"'
echo '{"mode": "ok"}' > "$T/ctl.json"
out=$(echo '[1,2]' | "$AB" -c "$C" send - 2>&1); rc=$?
is "[1,2]: exit 65" "$rc" 65
like "[1,2]: not an event (a JSON object)" "$out" "not an event: an event is a JSON object"

ab_stop_daemon
[ "$TAP_FAILED" -eq 0 ] || ab_show_log "daemon log" "$T/daemon.log" 30
done_testing
