#!/bin/bash
# graphmail_e2e.sh - the graphmail channel through the real daemon against
# tests/lib/graph_standin.py, a local stand-in for the token endpoint and
# Graph's sendMail that checks requests as the services do: client secret
# and certificate (a signed client assertion) sign-in, the token kept and
# used again, fetched anew when it expires and once on a 401, the MIME mail
# (multipart text + HTML, From the mailbox, To, threading headers), 429 with
# Retry-After honoured, bad credentials and a refused token as dead letters
# with the service's error and no secret in any output, people's addresses,
# `alertbridge test`, and `check` refusing a Graph URL the SSRF guard stops.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"
ab_tmpdir abgraph

ab_plugins graphmail file
TENANT=8e2b7c1d-0f55-4e0b-9a3e-1c2d3e4f5a6b
CLIENT=2f1e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b
SECRET='Qx8~sEcReT.gr4ph_v4lue-0123456789'
MAILBOX=alerts@contoso.example
q() { sqlite3 "$T/state/store.db" "$1" 2>/dev/null; }

# the app's certificate and key (certificate mode)
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/app.key" -out "$T/app.crt" -days 2 \
	-subj "/CN=alertbridge-graph-test" >/dev/null 2>&1 || bail "openssl req failed"
cat "$T/app.crt" "$T/app.key" > "$T/app.pem"
chmod 600 "$T/app.pem"

: > "$T/ctl.json"
ab_spawn "$T/standin.log" python3 "$top_srcdir/tests/lib/graph_standin.py" \
	--port-file "$T/g.port" --record "$T/g.jsonl" --control "$T/ctl.json" \
	--tenant "$TENANT" --client-id "$CLIENT" --mailbox "$MAILBOX" --secret "$SECRET" \
	--cert "$T/app.crt"
wait_for 20 test -s "$T/g.port" || bail "stand-in did not start: $(cat "$T/standin.log")"
GP=$(cat "$T/g.port")

conf() {  # conf NAME CREDENTIAL-SETTING [EXTRA]
	cat > "$T/$1.conf" <<CONF
state_dir = "$T/state";
plugin_dir = "$T/plugins";
log = { level = "info"; };
dispatch = { workers = 2; backoff_base = "200ms"; backoff_cap = "1s"; poll = "50ms"; };
channels = (
  { name = "graph"; type = "graphmail"; tenant = "$TENANT"; client_id = "$CLIENT";
    $2
    from = "$MAILBOX"; to = ["secops@contoso.example", "oncall@contoso.example"];
    graph_url = "http://127.0.0.1:$GP/v1.0"; login_url = "http://127.0.0.1:$GP";
    allow_http = true; allow_networks = ["127.0.0.0/8"]; rate = "100/s"; }
);
users = ( { name = "dana"; email = "dana@contoso.example"; teams = ["ops"]; } );
people = { email = "graph"; };
rules = ( { name = "dana"; events = ["people.*"];
            recipients = { users = ["dana"]; via = ["email"]; }; } );
default = ["graph"];
${3:-}
CONF
}
send() { printf '%s' "$1" | "$AB" -c "$T/secret.conf" send - > /dev/null 2>&1; }
sent() {  # sent KIND [STATUS]: how many requests of that kind (and status)
	ab_records "$T/g.jsonl" kind="$1" ${2:+"status=$2"}
}
mail() {  # mail SUBJECT-PART FIELD: a field of the accepted sendMail with that subject
	python3 - "$T/g.jsonl" "$1" "$2" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["kind"] == "sendmail" and r["status"] == 202 and sys.argv[2] in r["subject"]:
        v = r[sys.argv[3]]
        print(" ".join(v) if isinstance(v, list) else v)
        break
PY
}

plan 28
conf secret "client_secret = \"$SECRET\";"
out=$("$AB" -c "$T/secret.conf" check 2>&1)
is "check accepts the graphmail channel" "$?" 0
ab_start_daemon "$T/secret.conf" || bail "daemon did not start"

# --- a first alert: a token, then the mail
send '{"type":"finding.created","severity":"critical","title":"SQL injection in /login","fingerprint":"fp-1","asset":"shop"}'
_w() { test "$(sent sendmail 202)" -ge 1; }; ok "an alert is sent through Graph (202)" wait_for 20 _w
is "... after one token request with the client secret" "$(sent token 200)" 1
is "... from the mailbox" "$(mail 'SQL injection' from)" "$MAILBOX"
is "... to the channel's recipients" "$(mail 'SQL injection' to)" "secops@contoso.example oncall@contoso.example"
is "... as multipart text and HTML" "$(mail 'SQL injection' parts)" "text/plain text/html"
like "... the text part says what happened" "$(mail 'SQL injection' text)" "CRITICAL: SQL injection in /login"
first_mid=$(mail 'SQL injection' message_id)

# --- the same finding again: the token is used again, the mail threads
send '{"type":"finding.updated","severity":"high","title":"SQL injection in /login (confirmed)","fingerprint":"fp-1","asset":"shop"}'
_w() { test "$(sent sendmail 202)" -ge 2; }; wait_for 20 _w
is "the second mail needs no new token" "$(sent token 200)" 1
is "... and replies to the first (In-Reply-To)" "$(mail 'confirmed' in_reply_to)" "$first_mid"

# --- the token is revoked: Graph answers 401 once, a fresh token (this
# one lives 2 s), the mail goes
echo '{"revoke": 1, "expires_in": 2}' > "$T/ctl.json"
send '{"type":"ops.cert","severity":"high","title":"Certificate expires soon"}'
_w() { test "$(sent sendmail 202)" -ge 3; }; wait_for 20 _w
is "after a 401 the token is fetched again once and the mail sent" \
	"$(sent sendmail 401) $(sent token 200)" "1 2"
id=$(q "SELECT id FROM events WHERE json LIKE '%Certificate expires soon%'")
is "... in one attempt" "$(q "SELECT COUNT(*) FROM delivery_log WHERE event_id = '$id'")" 1

# --- that token expires: a new one before the next mail, no 401
sleep 1.5
send '{"type":"ops.disk","severity":"high","title":"Disk nearly full"}'
_w() { test "$(sent sendmail 202)" -ge 4; }; wait_for 20 _w
is "a token about to expire is fetched anew (no 401 on the way)" \
	"$(sent token 200) $(sent sendmail 401)" "3 1"

# --- throttled: 429 with Retry-After 2 is honoured
echo '{"sendmail": {"status": 429, "retry_after": 2, "count": 1}}' > "$T/ctl.json"
send '{"type":"ops.quota","severity":"high","title":"Throttled mail"}'
_w() { test "$(sent sendmail 202)" -ge 5; }; ok "a mail throttled with 429 is delivered after it" wait_for 30 _w
gap=$(python3 - "$T/g.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
t429 = [r["time"] for r in rows if r["kind"] == "sendmail" and r["status"] == 429][-1]
t202 = [r["time"] for r in rows if r["kind"] == "sendmail" and r["status"] == 202][-1]
print("ok" if t202 - t429 >= 1.9 else "too soon: %.2f s" % (t202 - t429))
PY
)
is "... not before its Retry-After" "$gap" ok

# --- a person's mail goes to their address only
send '{"type":"people.notice","severity":"high","title":"For dana only","team":"ops"}'
_w() { test "$(sent sendmail 202)" -ge 6; }; wait_for 20 _w
is "a rule's recipient gets the mail at her own address" "$(mail 'For dana only' to)" "dana@contoso.example"

# --- alertbridge test
: > "$T/ctl.json"
out=$("$AB" -c "$T/secret.conf" test graph 2>&1)
like "alertbridge test sends a test mail through Graph" "$out" "Graph 202"
ab_stop_daemon

# --- certificate: a signed client assertion instead of a secret
rm -rf "$T/state"
conf cert "certificate = \"$T/app.pem\";"
ab_start_daemon "$T/cert.conf" || bail "daemon did not start (certificate)"
printf '{"type":"finding.created","severity":"high","title":"Signed in with a certificate"}' |
	"$AB" -c "$T/cert.conf" send - > /dev/null 2>&1
_w() { test -n "$(mail 'Signed in with a certificate' subject)"; }
ok "with a certificate the stand-in accepts the assertion and the mail goes" wait_for 20 _w
like "... the token was got with the certificate" "$(tail -5 "$T/g.jsonl" | grep '"kind": "token"' | tail -1)" '"how": "certificate"'
ab_stop_daemon

# --- a wrong secret: a dead letter saying why, the secret nowhere
rm -rf "$T/state"
conf bad "client_secret = \"wrong-$SECRET\";"
ab_start_daemon "$T/bad.conf" || bail "daemon did not start (bad secret)"
printf '{"type":"finding.created","severity":"high","title":"Never sent"}' |
	"$AB" -c "$T/bad.conf" send - > /dev/null 2>&1
_w() { "$AB" -c "$T/bad.conf" queue list --dead 2>/dev/null | grep -q graph; }
ok "a wrong client secret makes a dead letter" wait_for 20 _w
dead=$("$AB" -c "$T/bad.conf" queue list --dead 2>&1; "$AB" -c "$T/bad.conf" log 2>&1)
like "... that says the token endpoint refused the client" "$dead" "token: HTTP 401: invalid_client: AADSTS7000215"
ok "the secret appears in no output, log or store" sh -c "! grep -r -q -F '$SECRET' '$T/state' '$T/daemon.log' && ! printf '%s' \"\$1\" | grep -q -F '$SECRET'" _ "$dead"
ab_stop_daemon

# --- every sendMail refused with 401: one fresh token, then a dead letter
rm -rf "$T/state"
echo '{"always_401": true}' > "$T/ctl.json"
n0=$(sent token 200)
ab_start_daemon "$T/secret.conf" || bail "daemon did not start (401)"
send '{"type":"finding.created","severity":"high","title":"Refused token"}'
_w() { "$AB" -c "$T/secret.conf" queue list --dead 2>/dev/null | grep -q graph; }
ok "a token Graph keeps refusing makes a dead letter" wait_for 20 _w
is "... after one fresh token (two in all)" "$(( $(sent token 200) - n0 ))" 2
ab_stop_daemon
: > "$T/ctl.json"

# --- check: the SSRF guard on graph_url
sed 's/allow_networks = \["127.0.0.0\/8"\];//' "$T/secret.conf" > "$T/guard.conf"
out=$("$AB" -c "$T/guard.conf" check 2>&1); rc=$?
ok "check refuses a Graph URL on loopback without allow_networks" test "$rc" -ne 0
like "... naming the setting" "$out" "graph_url"

# --- settings errors name the file, line and setting
conf both "client_secret = \"$SECRET\"; certificate = \"$T/app.pem\";"
like "check refuses both a secret and a certificate" "$("$AB" -c "$T/both.conf" check 2>&1)" \
	"both.conf:[0-9]+: channel 'graph' .*setting 'client_secret': give either client_secret or certificate"
chmod 644 "$T/app.pem"
conf open "certificate = \"$T/app.pem\";"
like "check refuses a certificate file everybody can read" "$("$AB" -c "$T/open.conf" check 2>&1)" \
	"setting 'certificate': .*readable by everybody"
sed 's/tenant = "[^"]*";//' "$T/secret.conf" > "$T/notenant.conf"
like "check refuses a channel without tenant" "$("$AB" -c "$T/notenant.conf" check 2>&1)" \
	"setting 'tenant': required"
