#!/bin/bash
# channel_breaker.sh - the channel-wide circuit breaker with the real
# daemon, the webhook plugin and the local HTTP sink (tests/lib/sink.py)
# on loopback:
#   - the endpoint answers 503 for a while (the sink's "until"), 1000
#     events arrive over syslog: while it fails the channel pauses and sends
#     one probe per pause step (pause_base 1s doubling to pause_cap 4s);
#     once it answers again the backlog drains at once; every event is
#     delivered exactly once;
#   - 429 with Retry-After: 5: after the requests that were already out
#     when the first 429 came back, no request reaches the endpoint sooner
#     than 5 s after a 429; every event delivered once.
# Figures (requests while failing, drain time, duplicates) are printed as
# diagnostics; the assertions are on counts, never on timing, except the
# Retry-After one, which allows 1 s for the sends already out.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"
ab_tmpdir abbreaker

ab_plugins webhook
ab_sink PORT --record "$T/rec.jsonl" --control "$T/ctl.json"
SYSLOG_PORT=$(ab_free_port)
cat > "$T/ab.conf" <<CONF
state_dir = "$T/state";
plugin_dir = "$T/plugins";
log = { level = "info"; };
dispatch = { workers = 2; poll = "100ms"; timeout = "10s"; };
channels = (
  { name = "hook"; type = "webhook"; url = "http://127.0.0.1:$PORT/hook"; allow_http = true;
    allow_networks = ["127.0.0.0/8"]; timeout = 5; pause_base = "1s"; pause_cap = "4s"; }
);
default = ["hook"];
syslog = { listeners = ( { name = "tcp"; proto = "tcp"; address = "127.0.0.1:$SYSLOG_PORT"; } ); };
CONF

plan 8
ab_start_daemon "$T/ab.conf" || bail "daemon did not start"

# lines PREFIX N: N numbered syslog lines over one TCP connection
lines() {
	python3 - "$SYSLOG_PORT" "$1" "$2" <<'PY'
import socket, sys
port, prefix, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"".join(b"<11>Jan  1 00:00:00 host app: %s %d\n" % (prefix.encode(), i)
                   for i in range(n)))
s.close()
PY
}
# figures PREFIX FROM UNTIL GRACE RA: what the sink saw of PREFIX's events
figures() {
	python3 - "$T/rec.jsonl" "$@" <<'PY'
import json, re, sys
path, prefix, t0, until, grace, ra = sys.argv[1], sys.argv[2], float(sys.argv[3]), \
    float(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
pat = re.compile(re.escape(prefix) + r" (\d+)")
reqs = []
for line in open(path, encoding="utf-8"):
    r = json.loads(line)
    m = pat.search(r.get("body", ""))
    if m and r["time"] >= t0:
        reqs.append((r["time"], int(m.group(1)), r["answer"]))
reqs.sort()
ok = [n for t, n, a in reqs if a == "ok"]
failing = [t for t, n, a in reqs if a != "ok"]
first_fail = failing[0] if failing else 0
early = 0
last_fail = None
for t, n, a in reqs:        # a request sooner than ra after a failure, past the grace
    if last_fail is not None and t - first_fail > grace and t - last_fail < ra:
        early += 1
    if a != "ok":
        last_fail = t
after = [t for t, n, a in reqs if a == "ok" and t >= until]
inv = sum(1 for i in range(1, len(ok)) if ok[i] < ok[i - 1])
print("requests_failing=%d burst=%d delivered=%d distinct=%d dups=%d early=%d "
      "drain_s=%.1f first_ok_after_s=%.1f inversions=%d" % (
      len(failing), sum(1 for t in failing if t - first_fail <= grace), len(ok), len(set(ok)),
      len(ok) - len(set(ok)), early, (after[-1] - until) if after else -1,
      (after[0] - until) if after else -1, inv))
PY
}
fig() { figures "$@" | sed -n 's/.*\<'"$6"'=\([0-9.-]*\).*/\1/p'; }
delivered() { [ "$(fig "$1" 0 0 1 1 distinct)" -ge "$2" ]; }

# ---- 503 for 10 s, 1000 events
T0=$(date +%s.%N)
UNTIL=$(python3 -c 'import time; print(time.time() + 10)')
printf '{"mode": "status", "status": 503, "body": "down", "until": %s}\n' "$UNTIL" > "$T/ctl.json"
lines dead 1000
wait_for 60 delivered dead 1000
F=$(figures dead "$T0" "$UNTIL" 1 1)
diag "503 for 10 s, 1000 events: $F"
is "503: all 1000 delivered" "$(fig dead "$T0" "$UNTIL" 1 1 distinct)" 1000
is "503: none twice" "$(fig dead "$T0" "$UNTIL" 1 1 dups)" 0
ok "503: the dead endpoint got few requests (burst + one per pause)" \
	test "$(fig dead "$T0" "$UNTIL" 1 1 requests_failing)" -le 100
ok "the daemon said the channel paused and resumed" \
	grep -q 'channel hook works again: resumed' "$T/daemon.log"

# ---- 429 with Retry-After: 5 for 8 s, 200 events
T0=$(date +%s.%N)
UNTIL=$(python3 -c 'import time; print(time.time() + 8)')
printf '{"mode": "status", "status": 429, "retry_after": "5", "body": "slow down", "until": %s}\n' \
	"$UNTIL" > "$T/ctl.json"
lines storm 200
wait_for 60 delivered storm 200
F=$(figures storm "$T0" "$UNTIL" 1 5)
diag "429 Retry-After 5 for 8 s, 200 events: $F"
is "429: all 200 delivered" "$(fig storm "$T0" "$UNTIL" 1 5 distinct)" 200
is "429: none twice" "$(fig storm "$T0" "$UNTIL" 1 5 dups)" 0
is "429: no request sooner than Retry-After (past the sends already out)" \
	"$(fig storm "$T0" "$UNTIL" 1 5 early)" 0
ab_stop_daemon
is "daemon stops cleanly" "$?" 0
