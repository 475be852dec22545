#!/bin/bash
# alertmanager_e2e.sh - a real Prometheus Alertmanager (Debian's
# prometheus-alertmanager) with a webhook receiver pointing at
# alertbridge's POST /api/v1/alertmanager (bearer token in its
# http_config), alertbridge routing the alerts to a Slack and a Microsoft
# Teams channel whose URLs are the local sink (tests/lib/sink.py):
#   - an alert fired into Alertmanager (its /api/v2/alerts) reaches the
#     sink as a Slack message and a Teams Adaptive Card, each checked for
#     the shape the service takes (Block Kit limits, the card's type,
#     version and body), carrying the alert's name, summary and source URL;
#   - resolving it (endsAt in the past) sends the resolved notification,
#     which arrives as a second message saying it is resolved;
#   - Alertmanager's own view: its notifications succeeded (no failed
#     notification in its metrics), and a wrong token is refused (401,
#     counted as failed by Alertmanager);
#   - the events in the store: alert.firing then alert.resolved, with the
#     same fingerprint as Alertmanager's.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"
ab_tmpdir abam

AM=$(command -v prometheus-alertmanager || command -v alertmanager) ||
	bail "prometheus-alertmanager not installed (contrib/install-deps.sh --test)"
command -v curl >/dev/null || bail "curl not installed (contrib/install-deps.sh --test)"
ab_plugins slack teams
ab_sink SINK --record "$T/rec.jsonl"
read -r PORT AMPORT < <(ab_free_port 2)
TOKEN=am-token-0123456789

cat > "$T/ab.conf" <<CONF
state_dir = "$T/state";
plugin_dir = "$T/plugins";
log = { level = "info"; };
dispatch = { workers = 2; poll = "50ms"; backoff_base = "100ms"; backoff_cap = "300ms"; };
channels = (
  { name = "slack"; type = "slack"; url = "http://127.0.0.1:$SINK/services/T000/B000/XXXX";
    allow_http = true; allow_networks = ["127.0.0.0/8"]; },
  { name = "teams"; type = "teams"; url = "http://127.0.0.1:$SINK/workflows/teams";
    allow_http = true; allow_networks = ["127.0.0.0/8"]; }
);
rules = ( { name = "prometheus"; events = ["alert.*"]; channels = ["slack", "teams"]; } );
default = ["slack"];
http = { listen = "127.0.0.1:$PORT"; tokens = [ "$TOKEN" ]; };
CONF

amconf() { # amconf TOKEN
	cat <<YML
route:
  receiver: alertbridge
  group_by: ['alertname']
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 24h
receivers:
  - name: alertbridge
    webhook_configs:
      - url: http://127.0.0.1:$PORT/api/v1/alertmanager
        send_resolved: true
        http_config:
          authorization:
            credentials: $1
YML
}
amconf "$TOKEN" > "$T/am.yml"
mkdir -p "$T/am"

plan 15

ab_start_daemon "$T/ab.conf" || bail "daemon did not start"
ab_spawn "$T/am.log" "$AM" --config.file="$T/am.yml" --storage.path="$T/am" \
	--web.listen-address="127.0.0.1:$AMPORT" --cluster.listen-address= --log.level=info
AMPID=$AB_PID
amready() { curl -sf "http://127.0.0.1:$AMPORT/-/ready" >/dev/null; }
wait_for 30 amready || bail "alertmanager did not start: $(tail -5 "$T/am.log")"
diag "$("$AM" --version 2>&1 | head -n 1)"

# post_alert ENDS_AT: the alert as Prometheus sends it to Alertmanager
post_alert() {
	local ends=${1:+,\"endsAt\":\"$1\"}
	curl -sf -o /dev/null -H 'Content-Type: application/json' \
		"http://127.0.0.1:$AMPORT/api/v2/alerts" -d "[{
		\"labels\": {\"alertname\": \"DiskAlmostFull\", \"severity\": \"critical\",
		             \"instance\": \"db1.example.net:9100\", \"team\": \"ops\"},
		\"annotations\": {\"summary\": \"/var on db1 is 97% full\",
		                  \"description\": \"only 1.2 GiB left on /var <b>now</b>\"},
		\"startsAt\": \"$START\"$ends,
		\"generatorURL\": \"http://prometheus.example.net:9090/graph?g0.expr=disk_free%3C0.03&g0.tab=1\"
	}]"
}
reqs() { # reqs PATH_PREFIX [WORD]: requests to the sink under the path, with WORD
	[ -f "$T/rec.jsonl" ] || { echo 0; return; }
	python3 - "$T/rec.jsonl" "$1" "${2:-}" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["path"].startswith(sys.argv[2]) and sys.argv[3] in r.get("body", ""):
        n += 1
print(n)
PY
}
reqs_ge() { [ "$(reqs "$1" "$2")" -ge "$3" ]; }

START=$(date -u +%Y-%m-%dT%H:%M:%SZ)
ok "firing: Alertmanager takes the alert" post_alert ""
ok "firing: the Slack message arrives" wait_for 30 reqs_ge /services/ DiskAlmostFull 1
ok "firing: the Teams card arrives" wait_for 30 reqs_ge /workflows/ DiskAlmostFull 1

# The payloads as the services take them.
check_payloads() {
	python3 - "$T/rec.jsonl" "$1" <<'PY'
import json, sys
want = sys.argv[2]
slack = teams = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    b = r.get("body", "")
    if want not in b:
        continue
    p = json.loads(b)
    ctype = dict((k.lower(), v) for k, v in r["headers"]).get("content-type", "")
    assert ctype.startswith("application/json"), ctype
    if r["path"].startswith("/services/"):
        # Slack incoming webhook: text and/or blocks, Block Kit limits
        assert isinstance(p.get("text", ""), str)
        blocks = p.get("blocks", []) + [b for a in p.get("attachments", []) for b in a.get("blocks", [])]
        assert p.get("text") or blocks, "neither text nor blocks"
        assert len(blocks) <= 50, "more than 50 blocks"
        for bl in blocks:
            assert bl["type"] in ("header", "section", "context", "divider", "actions"), bl["type"]
            if bl["type"] == "header":
                assert bl["text"]["type"] == "plain_text" and len(bl["text"]["text"]) <= 150
            if bl["type"] == "section" and "text" in bl:
                assert len(bl["text"]["text"]) <= 3000
        assert "/var on db1 is 97% full" in b, "summary missing"
        assert "prometheus.example.net:9090/graph" in b, "source link missing"
        assert "<b>" not in b, "raw HTML passed to Slack"
        slack += 1
    elif r["path"].startswith("/workflows/"):
        assert p["type"] == "message", p.get("type")
        att = p["attachments"]
        assert len(att) == 1 and att[0]["contentType"] == "application/vnd.microsoft.card.adaptive"
        card = att[0]["content"]
        assert card["type"] == "AdaptiveCard" and card["version"] in ("1.2", "1.3", "1.4", "1.5")
        assert isinstance(card["body"], list) and card["body"], "empty card body"
        assert "prometheus.example.net:9090/graph" in b, "source link missing"
        assert len(b) <= 28 * 1024, "over Teams' 28 KB"
        teams += 1
print(slack, teams)
PY
}
out=$(check_payloads DiskAlmostFull 2>&1); rc=$?
is "firing: the Slack and Teams payloads have the services' shape" "$rc" 0
[ "$rc" -eq 0 ] || diag "$out"

amfp=$(curl -sf "http://127.0.0.1:$AMPORT/api/v2/alerts" |
	python3 -c 'import json,sys; a=json.load(sys.stdin); print(a[0]["fingerprint"] if a else "")')

# Resolve it: the same alert with endsAt now.
sleep 1
ok "resolving: Alertmanager takes the resolution" post_alert "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
ok "resolved: a second Slack message says resolved" wait_for 40 reqs_ge /services/ "[RESOLVED] DiskAlmostFull" 1
# (the card's markdown escapes the brackets: \\[RESOLVED\\])
ok "resolved: a second Teams card says resolved" wait_for 40 reqs_ge /workflows/ "RESOLVED" 1
out=$(check_payloads RESOLVED 2>&1); rc=$?
is "resolved: the payloads have the services' shape" "$rc" 0
[ "$rc" -eq 0 ] || diag "$out"

q() { sqlite3 "$T/state/store.db" "$1" 2>/dev/null; }
is "the store holds alert.firing then alert.resolved" \
	"$(q "SELECT group_concat(json_extract(json, '\$.type'), ' ') FROM (SELECT json FROM events WHERE json_extract(json, '\$.origin.kind') = 'alertmanager' ORDER BY rowid)")" \
	"alert.firing alert.resolved"
is "both carry Alertmanager's fingerprint" \
	"$(q "SELECT COUNT(*) FROM events WHERE json_extract(json, '\$.fingerprint') = '$amfp'")" 2
is "each reached each channel once" "$(reqs /services/ DiskAlmostFull) $(reqs /workflows/ DiskAlmostFull)" "2 2"
failed=$(curl -sf "http://127.0.0.1:$AMPORT/metrics" |
	awk '/^alertmanager_notifications_failed_total\{.*integration="webhook"/ { s += $2 } END { print s + 0 }')
is "Alertmanager counted no failed notification" "$failed" 0

# A wrong token: alertbridge refuses, Alertmanager counts the failure.
kill "$AMPID"; wait "$AMPID" 2>/dev/null
amconf wrong-token > "$T/am.yml"
ab_spawn "$T/am.log" "$AM" --config.file="$T/am.yml" --storage.path="$T/am" \
	--web.listen-address="127.0.0.1:$AMPORT" --cluster.listen-address= --log.level=info
wait_for 30 amready || bail "alertmanager did not restart"
START=$(date -u +%Y-%m-%dT%H:%M:%SZ)
curl -sf -o /dev/null -H 'Content-Type: application/json' "http://127.0.0.1:$AMPORT/api/v2/alerts" \
	-d '[{"labels": {"alertname": "WrongToken"}}]'
amfailed() {
	curl -sf "http://127.0.0.1:$AMPORT/metrics" |
		awk '/^alertmanager_notifications_failed_total\{.*integration="webhook"/ { s += $2 } END { exit !(s > 0) }'
}
ok "wrong token: Alertmanager counts a failed notification" wait_for 30 amfailed
like "wrong token: its log names the 401" "$(cat "$T/am.log")" "401"
is "wrong token: nothing reached the channels" "$(reqs /services/ WrongToken)" 0

ab_stop_daemon
[ "$TAP_FAILED" -eq 0 ] || { ab_show_log "daemon log" "$T/daemon.log" 30; ab_show_log "alertmanager log" "$T/am.log" 20; }
