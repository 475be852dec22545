#!/bin/bash
# cli_status.sh - `alertbridge status` as an operator reads it, against the
# real daemon: before any start (not running), running (pid, inputs with
# their addresses and the events each took: syslog over TCP, HTTP, the
# Alertmanager receiver), the queue with the oldest job's age, a failing
# channel with its last error and its breaker's pause next to a healthy one, the last reload
# (taken, then refused with the file:line reason), --json with the same
# figures, and NOT RUNNING after a kill -9.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"
ab_tmpdir abstatus

command -v curl >/dev/null || bail "curl not installed (contrib/install-deps.sh --test)"
ab_plugins file webhook
read -r SPORT HPORT DEAD < <(ab_free_port 3)

cat > "$T/ab.conf" <<CONF
state_dir = "$T/state";
plugin_dir = "$T/plugins";
log = { level = "info"; };
dispatch = { workers = 1; poll = "50ms"; backoff_base = "5s"; backoff_cap = "10s"; };
channels = (
  { name = "file"; type = "file"; path = "events.jsonl"; },
  { name = "down"; type = "webhook"; url = "http://127.0.0.1:$DEAD/hook"; allow_http = true;
    allow_networks = ["127.0.0.0/8"]; timeout = 2; }
);
default = ["file", "down"];
syslog = { listeners = ( { name = "siem"; proto = "tcp"; address = "127.0.0.1:$SPORT"; } ); };
http = { listen = "127.0.0.1:$HPORT"; tokens = [ "tok" ]; };
CONF
st() { "$AB" -c "$T/ab.conf" status "$@" 2>&1; }
jq_() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

plan 17

like "before the first start: not running here" "$(st)" "daemon: not running here"

ab_start_daemon "$T/ab.conf" || bail "daemon did not start"
printf '<13>1 2026-12-06T10:00:00Z web1 app - - - status probe line\n' > "/dev/tcp/127.0.0.1/$SPORT"
curl -s -o /dev/null -H 'Authorization: Bearer tok' -d '{"title":"via http","severity":"high"}' \
	"http://127.0.0.1:$HPORT/api/v1/events"
curl -s -o /dev/null -H 'Authorization: Bearer tok' \
	-d '{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"A"}}]}' \
	"http://127.0.0.1:$HPORT/api/v1/alertmanager"
failing() { st | grep -q "^  down .*failing since"; }
ok "the dead endpoint's channel shows failing" wait_for 30 failing
counted() { st | grep -q "1 http, 1 alertmanager"; }
ok "the daemon's figures come through (rewritten every 5 s)" wait_for 20 counted
out=$(st)
diag "$out"
like "running, with its pid" "$out" "daemon: running, pid $DPID, up "
like "syslog listener with its address and lines" "$out" "syslog +tcp 127.0.0.1:$SPORT \(siem\): 1 lines received"
like "http listener with its events" "$out" "http +127.0.0.1:$HPORT: 1 events, 1 Alertmanager alerts"
like "the queue with the oldest job's age" "$out" "queue: [0-9]+ queued \(the oldest waits for [0-9]+s\)"
like "the failing channel's last error" "$out" "down +failing +[0-9]+ queued .*failure\(s\) in a row: POST http://127.0.0.1:$DEAD/\*\*\*: .*onnect"
like "the failing channel is paused by its circuit breaker" "$out" "down .*PAUSED by its circuit breaker"
like "the healthy channel's last success" "$out" "file +healthy +0 queued.*last success 20"
like "no reload yet" "$out" "last reload: none since the start"

cp "$T/ab.conf" "$T/good.conf"
kill -HUP "$DPID"
taken() { st | grep -q "last reload: .*, taken"; }
ok "a good reload shows as taken" wait_for 10 taken
echo 'rules = ( { channels = ["missing"]; } );' >> "$T/ab.conf"
kill -HUP "$DPID"
refused() { st 2>/dev/null | grep -q "REFUSED"; }
cp "$T/good.conf" "$T/running.conf"
# status reads the file, which must load: look at the refusal with the good copy
st() { "$AB" -c "$T/running.conf" status "$@" 2>&1; }
ok "a broken reload shows as refused" wait_for 10 refused
like "... with the file, line and reason" "$(st)" "REFUSED, the previous configuration runs: .*ab.conf:[0-9]+: .*unknown channel 'missing'"

j=$(st --json)
is "--json: the failing channel and its queue" \
	"$(echo "$j" | jq_ '[c["state"] for c in d["channels"] if c["name"] == "down"][0], d["jobs"]["queued"] > 0, d["jobs"]["oldest_queued_seconds"] is not None')" \
	"failing True True"
is "--json: the daemon's inputs and the last reload" \
	"$(echo "$j" | jq_ 'd["daemon"]["running"], d["daemon"]["inputs"]["syslog"]["listeners"][0]["address"], d["daemon"]["last_reload"]["ok"]')" \
	"True 127.0.0.1:$SPORT False"

ab_kill_daemon
like "after kill -9: NOT RUNNING, with when it was last seen" "$(st)" "daemon: NOT RUNNING \(last seen 20"
