#!/bin/bash
# templates_e2e.sh - message templates as a user sets them: the shipped
# examples (conf/templates/*.conf, @included into a channels list) pass
# `alertbridge check` and, run by the daemon against a local sink and SMTP
# server, shape what is sent with a hostile alert (markup, quotes, a
# "<!channel>", a newline) escaped for each target: Teams in German (the
# card still validates), compact Slack, a SIEM's JSON body, ticket mail
# subjects; an alert with nothing but its type renders; a broken template
# is a check error with the file, line, part and place.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"
ab_tmpdir abtmpl

ab_plugins teams slack webhook email file
PY=python3
$PY -c 'import aiosmtpd' 2>/dev/null || PY=/usr/bin/python3
ab_sink SINK --record "$T/sink.jsonl"
ab_spawn "$T/smtpd.log" $PY "$top_srcdir/tests/lib/smtpd.py" --port-file "$T/smtpd.port" \
	--record "$T/mail"
wait_for 15 test -s "$T/smtpd.port" || bail "smtpd did not start: $(cat "$T/smtpd.log")"
SMTP=$(cat "$T/smtpd.port")

# the shipped examples, pointed at the local services
mkdir -p "$T/tpl"
for f in "$top_srcdir"/conf/templates/*.conf; do
	sed -e "s|https://siem.example.com/api/events|http://127.0.0.1:$SINK/siem|" \
	    -e "s|smtp://smtp.example.com:587|smtp://127.0.0.1:$SMTP\"; tls = \"none|" \
	    -e 's|secret = "file:/etc/alertbridge/siem.secret";||' \
	    "$f" > "$T/tpl/$(basename "$f")"
done
export TEAMS_WORKFLOW_URL="http://127.0.0.1:$SINK/teams"
export SLACK_WEBHOOK_URL="http://127.0.0.1:$SINK/slack"
cat > "$T/ab.conf" <<CONF
state_dir = "$T/state";
plugin_dir = "$T/plugins";
dispatch = { workers = 1; poll = "50ms"; };
channels = (
  @include "tpl/teams-de.conf"
  @include "tpl/slack-compact.conf"
  @include "tpl/webhook-siem.conf"
  @include "tpl/email-ticket.conf"
  { name = "audit"; type = "file"; path = "audit.jsonl"; }
);
default = ["teams-de", "slack-compact", "siem", "tickets"];
CONF
# the HTTP channels reach the sink on loopback
for f in "$T"/tpl/*.conf; do
	case $f in
	*email*) sed -i 's|; url = \([^;]*\);|; url = \1; allow_networks = ["127.0.0.0/8"];|' "$f";;
	*) sed -i 's|; url = \([^;]*\);|; url = \1; allow_http = true; allow_networks = ["127.0.0.0/8"];|' "$f";;
	esac
done

plan 14
out=$("$AB" -c "$T/ab.conf" check 2>&1)
is "the shipped template examples pass check" "$?" 0
[ -n "$out" ] && diag "$out"
ab_start_daemon "$T/ab.conf" || bail "daemon did not start"
TITLE='<!channel> **SQLi** "in" <b>/login</b>'
python3 - "$TITLE" > "$T/ev.json" <<'PY'
import json, sys
print(json.dumps({"type": "finding.created", "severity": "high", "title": sys.argv[1] + "\nline 2",
    "asset": "shop & co", "tool": "zap", "fingerprint": "fp-7", "fields": {"cwe": 89},
    "summary": "x < y"}))
PY
"$AB" -c "$T/ab.conf" send - < "$T/ev.json" > /dev/null 2>&1
printf '{"type":"bare.event"}' | "$AB" -c "$T/ab.conf" send - > /dev/null 2>&1
# body PATH TEXT: the body posted to PATH that holds TEXT. Two alerts may
# arrive in either order (several requests are in flight per channel).
body() {
	python3 - "$T/sink.jsonl" "$1" "$2" <<'PY'
import json, sys
bodies = [json.loads(l)["body"] for l in open(sys.argv[1]) if json.loads(l)["path"] == sys.argv[2]]
print(next((b for b in bodies if sys.argv[3] in b), ""))
PY
}
_w() { test -f "$T/sink.jsonl" && test "$(wc -l < "$T/sink.jsonl")" -ge 6 && test "$(ls "$T/mail"/*.eml 2>/dev/null | wc -l)" -ge 2; }
ok "both alerts reach every templated channel" wait_for 30 _w

siem=$(body /siem SQLi)
is "SIEM: the body is the operator's JSON shape with the values inside its strings" \
	"$(printf '%s' "$siem" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["name"] == sys.argv[1] + "\nline 2", d["asset"], d["cwe"], d["resolved"], d["source"])' "$TITLE")" \
	"True shop & co 89 False alertbridge"
is "SIEM: an alert with nothing but its type still gives valid JSON" \
	"$(body /siem bare.event | python3 -c 'import json,sys; d=json.load(sys.stdin); print(repr(d["name"]), repr(d["asset"]), repr(d["cwe"]))')" \
	"'bare.event' '' ''"
slack=$(body /slack SQLi)
like "Slack: the compact line, Slack's specials escaped" "$slack" '"text":"HIGH &lt;!channel&gt; \*\*SQLi\*\* \\"in\\" &lt;b&gt;/login&lt;/b&gt;'
ok "Slack: no <!channel> gets through" sh -c '! printf "%s" "$1" | grep -q "<!channel>"' _ "$slack"
like "Slack: the CWE and tool in the body" "$slack" 'CWE-89 \| zap'
teams=$(body /teams SQLi)
like "Teams: the German title, the markup as text" "$teams" '"text":"HIGH: <!channel> \*\*SQLi\*\* \\"in\\" <b>/login</b>'
like "Teams: the German body" "$teams" 'Betroffen: shop & co. Werkzeug: zap. x < y'
printf '%s' "$teams" > "$T/teams.json"
ok "Teams: the templated card passes the Adaptive Card 1.4 schema" python3 -c '
import json,sys,jsonschema
jsonschema.Draft7Validator(json.load(open(sys.argv[1]))).validate(json.load(open(sys.argv[2])))' \
	"$top_srcdir/tests/data/adaptive-card-1.4.schema.json" "$T/teams.json"
subj=$(python3 -c 'import email,sys,glob; print(" | ".join(sorted(str(email.message_from_binary_file(open(f,"rb"))["Subject"]).replace("\n"," ") for f in glob.glob(sys.argv[1]+"/*.eml"))))' "$T/mail")
like "mail: the ticket subject with asset and fingerprint, one line" "$subj" '\[SEC\] \[shop & co\] <!channel> \*\*SQLi\*\* "in" <b>/login</b> line 2 \[fp:fp-7\]'
parts=$(python3 - "$T/mail" <<'PY'
import email, email.policy, glob, sys
for f in sorted(glob.glob(sys.argv[1] + "/*.eml")):
    m = email.message_from_binary_file(open(f, "rb"), policy=email.policy.default)
    if "SQLi" not in str(m["Subject"]):
        continue
    text = m.get_body(("plain",)).get_content()
    html = m.get_body(("html",)).get_content()
    print(repr(text.splitlines()[:3]), "|", html.strip())
PY
)
like "mail: the text part from template.text, line by line" "$parts" \
	"\['Asset: shop & co', 'Severity: high', 'Title: <!channel> \*\*SQLi\*\* \"in\" <b>/login</b>'\]"
like "mail: the HTML part from template.html, the values escaped for HTML" "$parts" \
	'<p><b>HIGH</b> &lt;!channel&gt; \*\*SQLi\*\* &quot;in&quot; &lt;b&gt;/login&lt;/b&gt;'
ab_stop_daemon

# --- a broken template: check names the file, the line, the part and the place
sed 's|title = "{{#resolved}}Erledigt: {{/resolved}}|title = "{{#resolved}}Erledigt: {{/resolvd}}|' \
	"$T/tpl/teams-de.conf" > "$T/tpl/broken.conf"
sed "s|tpl/teams-de.conf|tpl/broken.conf|" "$T/ab.conf" > "$T/broken.conf"
like "check: a broken template names file, line, part and place" "$("$AB" -c "$T/broken.conf" check 2>&1)" \
	"broken.conf:2: channel 'teams-de' .*setting 'template.title': line 1, column 24: \{\{/\.\.\.\}\} closes another section"
