#!/bin/bash
# milter_postfix.sh - alertbridged as the milter of a REAL Postfix: a
# private Postfix instance (own config_directory and queue_directory in a
# temp dir, smtpd on a loopback port, smtpd_milters = inet:127.0.0.1:PORT,
# virtual delivery into Maildirs) and swaks as the sender.  Asserts: an
# alert mail becomes an event with the right fields in the file channel
# and is delivered with X-Alertbridge-Event; ordinary mail is delivered
# unchanged; consume removes the bridge recipient; route+CHANNEL; an
# unverified sender is marked or rejected; a store that cannot commit
# gives 4xx at SMTP and the mail is relayed when sent again after the
# fault is cleared; an oversize alert mail passes untouched.
# Needs root (Postfix) and the Debian packages postfix, swaks, python3.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"
. "$top_srcdir/tests/lib/postfix.sh"
D="$top_srcdir/tests/data/profiles"

pf_require

pf_begin abmilter
PF="$T/pf"

read -r SPORT MPORT < <(ab_free_port 2)

ab_plugins file

# ---------------------------------------------------------------- alertbridge
cat > "$T/ab.conf" <<CONF
state_dir = "$T/state";
plugin_dir = "$T/plugins";
log = { level = "debug"; };
dispatch = { workers = 1; poll = "50ms"; };
channels = (
  { name = "file"; type = "file"; path = "events.jsonl"; },
  { name = "special"; type = "file"; path = "special.jsonl"; }
);
default = ["file"];
milter = { socket = "inet:$MPORT@127.0.0.1"; max_message = 16384; };
profiles = ( "$top_srcdir/conf/profiles.d/*.conf" );
mail_sources = (
  { name = "dojo"; recipients = ["alerts+dojo@example.com"]; profile = "defectdojo"; },
  { name = "bridge"; recipients = ["bridge@example.com", "route+*@example.com"];
    profile = "xalert"; disposition = "consume"; },
  { name = "strict"; recipients = ["strict@example.com"]; profile = "xalert";
    trusted_networks = ["192.0.2.0/24"]; untrusted = "mark"; untrusted_max_severity = "low"; },
  { name = "closed"; recipients = ["closed@example.com"]; profile = "xalert";
    trusted_networks = ["192.0.2.0/24"]; untrusted = "reject"; }
);
CONF

# ---------------------------------------------------------------- postfix
pf_setup "$T" "$SPORT" "$MPORT" alerts+dojo@example.com bob@example.com carol@example.com \
	bridge@example.com route+special@example.com strict@example.com closed@example.com

plan 29

ab_start_daemon "$T/ab.conf"
ok "daemon listens on the milter socket" wait_for 10 grep -q "milter listening" "$T/daemon.log"
postfix -c "$PF/etc" start >"$T/pfstart.log" 2>&1
ok "private postfix instance starts" wait_for 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SPORT"

send() { swaks --server "127.0.0.1:$SPORT" --helo client.test "$@" >"$T/swaks.out" 2>&1; }
maildir_has() { grep -rlq -- "$2" "$T/mail/$1/new" 2>/dev/null; }
events() { cat "$T/state/events.jsonl" 2>/dev/null; }

# 1. alert mail (pass): event with the right fields, delivered with the header
send --from defectdojo@dojo.example.com --to alerts+dojo@example.com --data @"$D/defectdojo.eml"
like "alert mail accepted by Postfix" "$(cat "$T/swaks.out")" "<-  250 2.0.0 Ok: queued"
ok "event reaches the file channel" wait_for 20 grep -q "payments-api" "$T/state/events.jsonl"
ev=$(grep "payments-api" "$T/state/events.jsonl" | head -1)
like "event: severity high" "$ev" '"severity":"high"'
like "event: type finding.created" "$ev" '"type":"finding.created"'
like "event: title from the mail" "$ev" '"title":"SQL Injection in /api/v1/orders"'
like "event: url of the finding" "$ev" '"url":"https://dojo.example.com/finding/1234"'
like "event: origin kind mail and client host" "$ev" '"kind":"mail".*'
id=$(printf '%s' "$ev" | sed 's/.*"id":"\([0-9a-f]*\)".*/\1/')
ok "alert mail delivered to its mailbox" wait_for 20 maildir_has "alerts+dojo" "SQL Injection"
ok "delivered alert carries X-Alertbridge-Event: <id>" maildir_has "alerts+dojo" "X-Alertbridge-Event: $id"

# 2. ordinary mail: delivered unchanged
printf 'Subject: lunch?\nFrom: alice@example.net\nTo: bob@example.com\nMessage-ID: <lunch-1@example.net>\n\nPizza at noon? CRITICAL question.\n' > "$T/ordinary.eml"
n_before=$(events | wc -l)
send --from alice@example.net --to bob@example.com --data @"$T/ordinary.eml"
ok "ordinary mail delivered" wait_for 20 maildir_has bob "Pizza at noon"
f=$(grep -rl "Pizza at noon" "$T/mail/bob/new" | head -1)
lacks "ordinary mail has no alertbridge header" "$f" -i '^X-Alertbridge'
ok "ordinary mail body unchanged" bash -c "tail -n 2 '$f' | grep -qx 'Pizza at noon? CRITICAL question.'"
is "ordinary mail made no event" "$(events | wc -l)" "$n_before"

# 3. consume: the bridge recipient is removed, the other one still gets it
send --from ops@example.net --to bridge@example.com,carol@example.com --data @"$D/xalert.eml"
ok "consume: the other recipient gets the mail" wait_for 20 maildir_has carol "sudoers"
ok "consume: event stored" wait_for 20 grep -q '"compliance.drift_detected"' "$T/state/events.jsonl"
ok "consume: bridge mailbox got nothing" bash -c "[ -d '$T/mail/carol/new' ] && ! ls '$T/mail/bridge/new/'* >/dev/null 2>&1"

# 4. route+CHANNEL@domain: only that channel; the mail is discarded (no recipient left)
sed 's/xalert-1@/xalert-route@/' "$D/xalert.eml" > "$T/route.eml"
send --from ops@example.net --to route+special@example.com --data @"$T/route.eml"
ok "route+special: event in the special channel" wait_for 20 grep -q "sudoers" "$T/state/special.jsonl"
ok "route+special: nothing delivered to a mailbox" bash -c "[ -d '$T/mail/carol/new' ] && ! ls '$T/mail/route+special/new/'* >/dev/null 2>&1"

# 5. untrusted sender: marked (severity capped) / rejected
sed 's/xalert-1@/xalert-strict@/' "$D/xalert.eml" > "$T/strict.eml"
send --from ops@example.net --to strict@example.com --data @"$T/strict.eml"
ok "unverified sender: event marked" wait_for 20 grep -q '\[unverified sender\]' "$T/state/events.jsonl"
like "unverified sender: severity capped to low" "$(grep 'unverified sender' "$T/state/events.jsonl")" '"severity":"low"'
send --from ops@example.net --to closed@example.com --data @"$T/strict.eml"
like "untrusted = reject: 550 at SMTP" "$(cat "$T/swaks.out")" "<\*\* 550 5.7.1"

# 6. store cannot commit -> 4xx; after the fault is cleared the mail goes through
sed 's/xalert-1@/xalert-locked@/; s/^X-Alert-Asset: db01/X-Alert-Asset: locked-host/' "$D/xalert.eml" > "$T/locked.eml"
python3 - "$T/state/store.db" "$T/locked" <<'PY' &
import sqlite3, sys, time, os
c = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").close()
while os.path.exists(sys.argv[2]):
    time.sleep(0.1)
c.execute("ROLLBACK")
PY
LPID=$!; ab_track "$LPID"
wait_for 10 test -f "$T/locked"
send --from ops@example.net --to alerts+dojo@example.com --data @"$T/locked.eml"
like "locked store: 451 4.3.0 at SMTP (mail not lost)" "$(cat "$T/swaks.out")" "<\*\* 451 4.3.0"
like "locked store: TEMPFAIL logged" "$(cat "$T/daemon.log")" "answering TEMPFAIL"
rm -f "$T/locked"; wait "$LPID" 2>/dev/null
send --from ops@example.net --to alerts+dojo@example.com --data @"$T/locked.eml"
ok "after the fault: event stored and mail relayed" wait_for 20 bash -c \
	"grep -q locked-host '$T/state/events.jsonl' && grep -rlq locked-host '$T/mail/alerts+dojo/new'"

# 7. oversize alert mail: passed untouched, logged, no event
{ sed 's/xalert-1@/xalert-big@/; s/^X-Alert-Asset: db01/X-Alert-Asset: big-host/' "$D/xalert.eml"; head -c 30000 /dev/zero | tr '\0' 'x' | fold -w 76; } > "$T/big.eml"
send --from ops@example.net --to alerts+dojo@example.com --data @"$T/big.eml"
ok "oversize: delivered untouched (no X-Alertbridge-Event)" wait_for 20 bash -c \
	"f=\$(grep -rl big-host '$T/mail/alerts+dojo/new' | head -1); [ -n \"\$f\" ] && ! grep -q X-Alertbridge \"\$f\""
like "oversize: logged with the limit" "$(cat "$T/daemon.log")" "over max_message"

ab_stop_daemon; rc=$?
is "SIGTERM stops the daemon and the milter cleanly" "$rc" 0
[ "$TAP_FAILED" -eq 0 ] || { ab_show_log "daemon log" "$T/daemon.log" 30
	ab_show_log "postfix log" "$T/postfix.log" 30; }
