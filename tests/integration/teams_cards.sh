#!/bin/bash
# teams_cards.sh - the Teams channel's cards as people see them: the daemon
# posts an alert with hostile text (Markdown, HTML, backslashes, a link in
# the title), a plain one, a group, a templated one and a test message to
# the local sink
# (tests/lib/sink.py); tests/browser/cards.mjs renders each posted card with
# the Adaptive Cards JavaScript renderer (npm adaptivecards) in Debian's
# Chromium and checks what a reader sees: the parser accepts it, text from
# outside shows exactly as sent, no stray escapes, no bold or link made from
# outside Markdown, times in the reader's zone.  Screenshots are kept in
# $AB_ARTIFACTS (default tests/artifacts/teams) of the build directory.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"
ab_distcheck_skip "the browser tests use the source tree's tests/browser/node_modules"
ab_tmpdir abteams

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || bail "chromium missing (contrib/install-deps.sh --test)"
command -v node >/dev/null || bail "node missing (contrib/install-deps.sh --test)"
BROWSER_DIR="$top_srcdir/tests/browser"
[ -d "$BROWSER_DIR/node_modules/adaptivecards" ] ||
	bail "adaptivecards missing: npm ci --prefix tests/browser (contrib/install-deps.sh --test)"
SHOTS=${AB_ARTIFACTS:-$top_builddir/tests/artifacts/teams}
mkdir -p "$SHOTS"
ab_plugins teams
ab_sink SINK --record "$T/sink.jsonl"

cat > "$T/ab.conf" <<CONF
state_dir = "$T/state";
plugin_dir = "$T/plugins";
dispatch = { workers = 1; poll = "50ms"; };
channels = (
  { name = "teams"; type = "teams"; rate = "100/s";
    url = "http://127.0.0.1:$SINK/workflows/abc/triggers/manual/paths/invoke";
    allow_http = true; allow_networks = ["127.0.0.0/8"]; },
  { name = "teams-tpl"; type = "teams"; rate = "100/s";
    url = "http://127.0.0.1:$SINK/workflows/tpl/triggers/manual/paths/invoke";
    allow_http = true; allow_networks = ["127.0.0.0/8"];
    template = { title = "Befund: {{title}}";
                 body = "Asset {{asset}}{{^asset}}unbekannt{{/asset}}, CWE {{fields.cwe}}"; }; }
);
rules = (
  { name = "scans"; events = ["scan.*"]; group_by = ["tool"]; group_wait = "1s";
    group_interval = "1m"; channels = ["teams"]; },
  { name = "templated"; events = ["tpl.*"]; channels = ["teams-tpl"]; }
);
default = ["teams"];
CONF

plan 34   # 2 here, 32 in cards.mjs (7 hostile, 7 plain, 6 group, 6 template, 6 test)
ab_start_daemon "$T/ab.conf" || bail "daemon did not start"
HOSTILE_TITLE='RCE *in* [parser](https://evil.example/x) code\_scan alert(1) **bold** <b>x</b> &amp;'
HOSTILE_SUMMARY='Path C:\temp\new_dir; see _this_ and `code` # not a heading'
python3 - "$HOSTILE_TITLE" "$HOSTILE_SUMMARY" > "$T/hostile.json" <<'PY'
import json, sys
print(json.dumps({"type": "finding.created", "severity": "critical", "title": sys.argv[1],
    "summary": sys.argv[2], "asset": "pay_ments-api [prod]", "tool": "semgrep",
    "source": "code_scan", "occurred_at": "2026-12-04T16:50:47.857Z",
    "url": "https://dojo.example.com/finding/42"}))
PY
"$AB" -c "$T/ab.conf" send - < "$T/hostile.json" > /dev/null 2>&1
printf '{"type":"ops.backup_failed","severity":"high","title":"Backup failed on db-1",
"occurred_at":"2026-07-01T06:05:00Z"}' | "$AB" -c "$T/ab.conf" send - > /dev/null 2>&1
# the group's three in one commit: three processes could straddle group_wait under ASan
for i in 1 2 3; do
	printf '{"type":"scan.finding","severity":"medium","tool":"zap","title":"Finding %s *%s*","asset":"web_%s"}\n' \
		"$i" "$i" "$i"
done | "$AB" -c "$T/ab.conf" send --lines - > /dev/null 2>&1
python3 - "$HOSTILE_TITLE" <<'PY' | "$AB" -c "$T/ab.conf" send - > /dev/null 2>&1
import json, sys
print(json.dumps({"type": "tpl.finding", "severity": "high", "title": sys.argv[1],
    "asset": "a_b [c]", "fields": {"cwe": 79}}))
PY
"$AB" -c "$T/ab.conf" test teams > /dev/null 2>&1
posts() { [ -f "$T/sink.jsonl" ] && wc -l < "$T/sink.jsonl" || echo 0; }
_w() { test "$(posts)" -ge 5; }; ok "the daemon posted five cards (two alerts, a group, a templated one, a test)" wait_for 30 _w
python3 - "$T/sink.jsonl" "$HOSTILE_TITLE" "$HOSTILE_SUMMARY" > "$T/cards.json" <<'PY'
import json, sys
cards = []
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)
    body = json.loads(r["body"])
    text = json.dumps(body)
    if "/workflows/tpl/" in r["path"]:
        cards.append({"name": "template", "body": body,
                      "want": ["Befund: " + sys.argv[2], "Asset a_b [c], CWE 79"]})
    elif "[TEST]" in text:
        cards.append({"name": "test", "body": body, "want": ["[TEST]", "alertbridge"]})
    elif "Backup failed" in text:
        cards.append({"name": "plain", "body": body, "want": ["[HIGH]", "Backup failed on db-1"],
                      "time": "Wed, Jul 1, 2026 8:05 AM"})
    elif "RCE" in text:
        cards.append({"name": "hostile", "body": body,
                      "want": [sys.argv[2], sys.argv[3], "pay_ments-api [prod]", "code_scan"],
                      "time": "Fri, Dec 4, 2026 5:50 PM"})
    else:
        cards.append({"name": "group", "body": body,
                      "want": ["Finding 1 *1*", "Finding 3 *3*", "web_2", "3"]})
print(json.dumps(sorted(cards, key=lambda c: c["name"])))
PY
is "the cards are the ones sent" "$(python3 -c 'import json,sys; print(" ".join(c["name"] for c in json.load(open(sys.argv[1]))))' "$T/cards.json")" \
	"group hostile plain template test"

AB_CARDS="$T/cards.json" AB_SHOTS="$SHOTS" CHROMIUM="$CHROMIUM" AB_TAP_START=2 \
	node "$BROWSER_DIR/cards.mjs" | tee "$T/browser.tap"
TAP_N=$((TAP_N + $(grep -cE '^(not )?ok [0-9]+ ' "$T/browser.tap")))
TAP_FAILED=$((TAP_FAILED + $(grep -c '^not ok ' "$T/browser.tap")))
diag "screenshots: $SHOTS"
[ "$TAP_FAILED" -eq 0 ]
