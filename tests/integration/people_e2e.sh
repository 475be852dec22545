#!/bin/bash
# people_e2e.sh - alerts to people through the real daemon, a real SMTP
# server (aiosmtpd, tests/lib/smtpd.py) and the inbox database:
#   - a rule's recipients by role on the event's team: one mail per person,
#     envelope and To exactly their address, nobody else's; the personal
#     inboxes of the people it reached, nobody else's, the shared list
#     untouched; a lead without an address gets the inbox only, and
#     `check` and `explain` say so; a role without members on the team
#     sends nothing and explain says so;
#   - the delivery log per recipient;
#   - preferences set with `alertbridge prefs` while the daemon runs (no
#     reload): e-mail off for findings, the next finding follows it;
#     "* * off" and a mention still arriving (people.system_override);
#     a subscription to scan events no rule sends them, for their own
#     team's events only (access);
#   - reload to email_mode "together": one mail to the team, both
#     addresses in one envelope;
#   - a reload that removes a user while a mail to them waits on a dead
#     SMTP server: delivered once the server is back, nothing lost; their
#     inbox stays readable;
#   - per-user inboxes under concurrent updates: deliveries while two users
#     list, read, remove and clear their own lists at the same time; each
#     action touches only that user's list.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"
ab_tmpdir abpeople

PY=python3
$PY -c 'import aiosmtpd' 2>/dev/null || PY=/usr/bin/python3
$PY -c 'import aiosmtpd' 2>/dev/null || bail "python3-aiosmtpd missing (contrib/install-deps.sh --test)"
command -v sqlite3 >/dev/null || bail "sqlite3 missing (contrib/install-deps.sh --test)"
ab_plugins email inbox file

SMTP_PORT=$(ab_free_port)
smtpd() { # (re)start the SMTP server on SMTP_PORT, recording into $T/mail
	ab_spawn "$T/smtpd.log" $PY "$top_srcdir/tests/lib/smtpd.py" --port "$SMTP_PORT" \
		--port-file "$T/smtpd.port" --record "$T/mail"
	SMTPD=$AB_PID
	wait_for 15 test -s "$T/smtpd.port" || bail "smtpd did not start: $(cat "$T/smtpd.log")"
}
mkdir -p "$T/mail"
smtpd

users() { # the users section; "nobob" leaves bob out
	cat <<EOF
users = (
  { name = "alice"; email = "alice@example.com"; display_name = "Alice Doe";
    teams = ["secops"]; roles = ["lead"]; },
EOF
	[ "${1:-}" = nobob ] || cat <<EOF
  { name = "bob"; email = "bob@example.com"; teams = ["secops"]; roles = ["member"]; },
EOF
	cat <<EOF
  { name = "carol"; email = "carol@example.com"; teams = ["web"]; roles = ["lead"]; },
  { name = "dave"; teams = ["secops"]; roles = ["lead"]; },
  { name = "root"; email = "root@example.com"; roles = ["admin"]; }
);
EOF
}
conf() { # conf MODE [nobob]
	cat <<EOF
state_dir = "$T/state";
plugin_dir = "$T/plugins";
log = { level = "info"; };
dispatch = { workers = 2; backoff_base = "100ms"; backoff_cap = "300ms"; poll = "50ms"; };
channels = (
  { name = "mail"; type = "email"; url = "smtp://127.0.0.1:$SMTP_PORT"; tls = "none";
    from = "alerts@ab.test"; allow_networks = ["127.0.0.0/8"]; timeout = 5;
    pause_base = "100ms"; pause_cap = "500ms"; },
  { name = "inbox"; type = "inbox"; path = "inbox.db"; },
  { name = "ops"; type = "file"; path = "ops.jsonl"; }
);
$(users "${2:-}")
people = { email = "mail"; inbox = "inbox"; email_mode = "$1"; };
rules = (
  { name = "leads"; min_severity = "high"; channels = ["ops"];
    recipients = { roles = ["lead"]; via = ["email", "inbox"]; }; },
  { name = "managers"; events = ["sla.*"];
    recipients = { roles = ["manager"]; via = ["inbox"]; }; },
  { name = "team-mail"; events = ["digest.weekly"];
    recipients = { teams = ["secops"]; via = ["email"]; }; }$([ "${2:-}" = nobob ] || echo ',
  { name = "review"; events = ["review.requested"];
    recipients = { users = ["bob"]; via = ["email"]; }; }')
);
default = ["ops"];
EOF
}
conf each > "$T/ab.conf"
conf together > "$T/together.conf"
conf together nobob > "$T/nobob.conf"

ev() { # ev TYPE TITLE TEAM [SEVERITY]
	printf '{"type":"%s","severity":"%s","title":"%s","team":"%s","tool":"zap"}' \
		"$1" "${4:-high}" "$2" "$3"
}
send() { ev "$@" | "$AB" -c "$T/ab.conf" send - 2>>"$T/cli.log"; }
nmail() { ls "$T/mail"/*.json 2>/dev/null | wc -l; }
has_mail() { [ "$(nmail)" -ge "$1" ]; }
rcpts() { # rcpts N: the envelope recipients of the N-th mail
	$PY -c 'import json,sys; print(",".join(sorted(json.load(open(sys.argv[1]))["rcpt_tos"])))' \
		"$(printf '%s/mail/%04d.json' "$T" "$1")"
}
tohdr() { grep -m1 -i '^To:' "$(printf '%s/mail/%04d.eml' "$T" "$1")" | tr -d '\r'; }
mail_with() { grep -l -- "$1" "$T/mail"/*.eml 2>/dev/null | wc -l; }
inbox() { # inbox USER: the titles in USER's list ("" the shared list)
	if [ -n "$1" ]; then "$AB" -c "$T/ab.conf" inbox --user "$1" list --json 2>/dev/null
	else "$AB" -c "$T/ab.conf" inbox list --json 2>/dev/null; fi |
		$PY -c 'import json,sys; print(",".join(sorted(json.loads(l)["title"] for l in sys.stdin if l.strip())))'
}
inbox_has() { inbox "$1" | tr ',' '\n' | grep -qxF -- "$2"; }
q() { sqlite3 "$T/state/store.db" "$1" 2>/dev/null; }
nope() { ! "$@"; }
settled() { [ "$(q 'SELECT COUNT(*) FROM jobs WHERE state IN (0, 1)')" = 0 ]; }
reloads() { grep -c 'configuration reloaded' "$AB_DLOG"; }
reloaded_after() { [ "$(reloads)" -gt "$1" ]; }
reload() { local n; n=$(reloads); cp "$1" "$T/ab.conf"; kill -USR1 "$DPID"; wait_for 20 reloaded_after "$n"; }

plan 49

out=$("$AB" -c "$T/ab.conf" check 2>&1); rc=$?
is "check accepts users, people and recipients" "$rc" 0
like "check notes the user without an address" "$out" "user 'dave' has no e-mail address"

sed 's|people = { email = "mail"; inbox = "inbox";|people = { email = "mail"; inbox = "ops";|' \
	"$T/ab.conf" > "$T/badpeople.conf"
out=$("$AB" -c "$T/badpeople.conf" check 2>&1); rc=$?
like "check refuses a people channel whose plugin cannot address people" "$rc $out" \
	"^78 .*badpeople.conf:[0-9]+: people: inbox = \"ops\": channel 'ops' \(type file\) cannot deliver to people"
out=$(printf '{"type":"x.y","title":"t","team":"secops","recipients":[{"email":"evil@example.org"}]}' |
	"$AB" -c "$T/ab.conf" send - 2>&1); rc=$?
like "an event cannot name its own recipients" "$rc $out" "^65 .*unknown member 'recipients'"

ab_start_daemon "$T/ab.conf" || bail "daemon did not start"

# --- recipients by role on the event's team
out=$(ev finding.created "SQLi in login" secops critical | "$AB" -c "$T/ab.conf" explain - 2>&1)
like "explain: alice by e-mail, role lead on team secops" "$out" \
	"alice: email -> mail \(rule 'leads': role 'lead' on team 'secops'\)"
like "explain: dave gets no e-mail: no address" "$out" "dave: email not sent: no e-mail address"
like "explain: dave's inbox" "$out" "dave: inbox -> inbox"
ok "explain: bob (member) and carol (web) are not reached" nope grep -qE '(bob|carol):' <<< "$out"
send finding.created "SQLi in login" secops critical >/dev/null
wait_for 20 has_mail 1
wait_for 20 settled
is "one mail for one lead with an address" "$(nmail)" 1
is "its envelope: alice only" "$(rcpts 1)" "alice@example.com"
is "its To: alice only" "$(tohdr 1)" "To: alice@example.com"
ok "alice's inbox has it" inbox_has alice "SQLi in login"
ok "dave's inbox has it" inbox_has dave "SQLi in login"
is "bob's inbox is empty" "$(inbox bob)" ""
is "the shared list is untouched" "$(inbox '')" ""
out=$("$AB" -c "$T/ab.conf" log 2>&1)
like "the delivery log names each recipient" "$(tr '\n' ' ' <<< "$out")" \
	"mail +job=[0-9]+ to=alice .*ok"
is "log: inbox deliveries to alice and dave" \
	"$(q "SELECT group_concat(recipient) FROM (SELECT recipient FROM delivery_log WHERE channel = 'inbox' AND status = 0 ORDER BY recipient)")" \
	"alice,dave"
out=$(ev sla.breached "SLA breached" secops | "$AB" -c "$T/ab.conf" explain - 2>&1)
like "explain: a role without members on the team sends nothing, and says so" "$out" \
	"rule 'managers': role 'manager' has no member on team 'secops': nobody gets it"
send finding.created "XSS on web" web critical >/dev/null
wait_for 20 has_mail 2; wait_for 20 settled
is "web's lead gets the web finding" "$(rcpts 2)" "carol@example.com"

# --- preferences at runtime, no reload
"$AB" -c "$T/ab.conf" prefs alice set 'finding.*' email off >/dev/null
is "prefs list shows it" "$("$AB" -c "$T/ab.conf" prefs alice --json |
	$PY -c 'import json,sys; p=json.load(sys.stdin)["preferences"][0]; print(p["type"], p["kind"], p["on"])')" \
	"finding.* email False"
send finding.created "RCE in upload" secops critical >/dev/null
wait_for 20 inbox_has alice "RCE in upload"; wait_for 20 settled
is "e-mail off for findings: no new mail" "$(nmail)" 2
ok "... but the inbox still gets it" inbox_has alice "RCE in upload"
"$AB" -c "$T/ab.conf" prefs alice set '*' '*' off >/dev/null
out=$(ev comment.mentioned "You were mentioned" secops | "$AB" -c "$T/ab.conf" explain - 2>&1)
like "explain: the override keeps the mention on" "$out" \
	"alice: email -> mail .*kept on by people.system_override"
send comment.mentioned "You were mentioned" secops >/dev/null
wait_for 20 has_mail 3; wait_for 20 settled
is "a mention reaches alice despite * * off" "$(rcpts 3)" "alice@example.com"
send finding.created "Weak TLS" secops critical >/dev/null
wait_for 20 inbox_has dave "Weak TLS"; wait_for 20 settled
ok "with everything off, alice's inbox stays as it was" nope inbox_has alice "Weak TLS"
"$AB" -c "$T/ab.conf" prefs bob set 'scan.*' inbox on >/dev/null
"$AB" -c "$T/ab.conf" prefs carol set 'scan.*' inbox on >/dev/null
send scan.completed "Nightly scan done" secops low >/dev/null
wait_for 20 inbox_has bob "Nightly scan done"; wait_for 20 settled
ok "bob subscribed to scans: his inbox has one no rule sends him" inbox_has bob "Nightly scan done"
ok "carol subscribed too, but it is not her team's: nothing" nope inbox_has carol "Nightly scan done"
is "reset: alice's preferences removed" "$("$AB" -c "$T/ab.conf" prefs alice reset)" \
	"alice: 2 preferences removed: they get what the rules send them"

# --- email_mode together, after a reload
reload "$T/together.conf"; ok "reload to email_mode together" test $? -eq 0
send digest.weekly "Weekly digest" secops low >/dev/null
wait_for 20 has_mail 4; wait_for 20 settled
is "together: one mail to the team's addresses" "$(nmail)" 4
is "together: one envelope with both" "$(rcpts 4)" "alice@example.com,bob@example.com"

# --- a reload that removes bob while a mail to him waits
kill -TERM "$SMTPD"; wait "$SMTPD" 2>/dev/null; ab_forget "$SMTPD"
id=$(send review.requested "Please review PR 7" secops low)
_w() { test "$(q "SELECT COUNT(*) FROM delivery_log WHERE event_id = '$id' AND status = 1")" -ge 1; }; wait_for 20 _w
ok "the mail to bob is retrying (server down)" test "$(q "SELECT COUNT(*) FROM jobs WHERE event_id = '$id' AND recipients LIKE '%bob@example.com%' AND state IN (0, 1)")" = 1
reload "$T/nobob.conf"; ok "reload without bob" test $? -eq 0
# (the new server numbers its records from 1 again: a fresh directory)
rm -f "$T/smtpd.port"; mv "$T/mail" "$T/mail.1"; mkdir "$T/mail"; smtpd
wait_for 30 has_mail 1; wait_for 20 settled
is "the mail waiting for bob is delivered after all" "$(rcpts 1)" "bob@example.com"
is "nothing is dead" "$(q 'SELECT COUNT(*) FROM jobs WHERE state = 3')" 0
out=$("$AB" -c "$T/ab.conf" inbox --user bob list 2>&1)
like "bob's inbox stays readable, with a note" "$(tr '\n' ' ' <<< "$out")" \
	"not in the users directory.*Nightly scan done"

# --- per-user inboxes under concurrent updates
for i in $(seq 1 20); do send finding.created "Burst $i" secops critical >/dev/null; done &
SENDER=$!
errs=0
for r in 1 2 3 4 5 6 7 8; do
	"$AB" -c "$T/ab.conf" inbox --user alice list --json > "$T/alice.$r" 2>>"$T/cli.log" || errs=$((errs + 1))
	id=$($PY -c 'import json,sys; l=[json.loads(x) for x in open(sys.argv[1]) if x.strip()]; print(l[-1]["id"] if l else "")' "$T/alice.$r")
	[ -z "$id" ] || "$AB" -c "$T/ab.conf" inbox --user alice read "$id" >/dev/null 2>>"$T/cli.log" || errs=$((errs + 1))
	"$AB" -c "$T/ab.conf" inbox --user dave clear >/dev/null 2>>"$T/cli.log" || errs=$((errs + 1))
done
wait "$SENDER"
wait_for 30 settled
is "no inbox command failed while deliveries went on" "$errs" 0
is "every burst alert reached alice's list" "$(inbox alice | tr ',' '\n' | grep -c '^Burst ')" 20
is "nothing failed or died" "$(q "SELECT COUNT(*) FROM jobs WHERE state = 3")" 0
ids=$("$AB" -c "$T/ab.conf" inbox --user alice list --json | $PY -c 'import json,sys; print(" ".join(str(json.loads(l)["id"]) for l in list(sys.stdin)[:3]))')
set -- $ids
bob_before=$(inbox bob)
"$AB" -c "$T/ab.conf" inbox --user alice remove "$1" "$2" >/dev/null
left=$("$AB" -c "$T/ab.conf" inbox --user alice list --json | $PY -c 'import json,sys; print(" ".join(str(json.loads(l)["id"]) for l in sys.stdin))')
ok "remove two of three selected: the third stays" grep -qw -- "$3" <<< "$left"
ok "... the two are gone" nope grep -qwE -- "$1|$2" <<< "$left"
"$AB" -c "$T/ab.conf" inbox --user alice clear >/dev/null
is "clear all empties alice's list" "$(inbox alice)" ""
is "... and leaves bob's as it was" "$(inbox bob)" "$bob_before"
ok "daemon still running" kill -0 "$DPID"
is "inbox unread: a number for scripts" "$("$AB" -c "$T/ab.conf" inbox --user dave unread)" \
	"$("$AB" -c "$T/ab.conf" inbox --user dave list --unread --json | grep -c .)"

# --- the shipped example configuration, as a user would start from it
ab_stop_daemon
mkdir -p "$T/ex"
sed -e "s|^state_dir = .*|state_dir = \"$T/ex\";\nplugin_dir = \"$T/plugins\";|" \
	-e "s|smtp://127.0.0.1:25|smtp://127.0.0.1:$SMTP_PORT|" \
	"$top_srcdir/conf/examples/people.conf" > "$T/example.conf"
out=$("$AB" -c "$T/example.conf" check 2>&1); rc=$?
is "the shipped conf/examples/people.conf passes check" "$rc" 0
ab_start_daemon "$T/example.conf" || bail "daemon did not start with the example"
exinbox() { "$AB" -c "$T/example.conf" inbox --user "$1" list --json 2>/dev/null | grep -c "$2"; }
mail_to() { # mail_to TITLE: the envelope recipients of the mail with TITLE
	local f; f=$(grep -l -- "$1" "$T/mail"/*.eml 2>/dev/null | head -1)
	[ -n "$f" ] && $PY -c 'import json,sys; print(",".join(json.load(open(sys.argv[1]))["rcpt_tos"]))' "${f%.eml}.json"
}
ev finding.created "Example SQLi" payments critical |
	"$AB" -c "$T/example.conf" send - >/dev/null 2>>"$T/cli.log"
_w() { test "$(exinbox alice 'Example SQLi')" = 1; }; wait_for 20 _w
wait_for 20 mail_to "Example SQLi" >/dev/null
is "example: the payments lead gets the mail" "$(mail_to 'Example SQLi')" "alice@example.com"
is "example: ... and it is in her list, not bob's" "$(exinbox alice 'Example SQLi') $(exinbox bob 'Example SQLi')" "1 0"
"$AB" -c "$T/example.conf" prefs bob set 'scan.*' inbox on >/dev/null
ev scan.completed "Example nightly scan" payments low |
	"$AB" -c "$T/example.conf" send - >/dev/null 2>>"$T/cli.log"
_w() { test "$(exinbox bob 'Example nightly scan')" = 1; }; wait_for 20 _w
is "example: bob subscribed to scans gets one in his list" "$(exinbox bob 'Example nightly scan')" 1
