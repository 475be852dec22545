#!/bin/bash
# milter_steps.sh - the lean milter protocol against a REAL Postfix: with
# no source that selects or trusts by client network, alertbridge skips
# the connect step (client name and address come as EOM macros) and asks
# Postfix for the queue id macro only.  Two alertbridged on two smtpd
# listeners of one private Postfix instance (tests/lib/postfix.sh):
#   A  recipient-selected source: no reply at MAIL FROM, released at DATA
#   B  sender-selected source: released at MAIL FROM, no DATA step
#   C  source selected by network (192.0.2.0/24) and sender: the 127.0.0.1
#      client is released at CONNECT for the whole session
# Asserts for A and B: the negotiated plan (logged), an alert mail becomes an
# event with the envelope sender and the client host, an alert recipient
# after an ordinary one is still caught (Postfix takes SMFIR_ACCEPT at RCPT
# as the whole message, so alertbridge must not decide there), ordinary
# mail is delivered unchanged with no event, and two messages in one SMTP
# session (ordinary, then alert) are told apart; for C: the plan, and mail
# (even alert-like) passes untouched with no event.  No milter errors in
# the Postfix log (so the checks of C cannot pass with its daemon down).
# Needs root, postfix, swaks, python3.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"
. "$top_srcdir/tests/lib/postfix.sh"

pf_require

pf_begin absteps

read -r SPORT SPORT2 MPORT MPORT2 SPORT3 MPORT3 < <(ab_free_port 6)
ab_plugins file
abconf() {   # abconf NAME PORT SELECTOR
	mkdir -p "$T/$1"
	cat > "$T/$1/ab.conf" <<CONF
state_dir = "$T/$1/state";
plugin_dir = "$T/plugins";
log = { level = "debug"; };
dispatch = { workers = 1; poll = "50ms"; };
channels = ( { name = "file"; type = "file"; path = "events.jsonl"; } );
default = ["file"];
milter = { socket = "inet:$2@127.0.0.1"; };
profiles = ( "$top_srcdir/conf/profiles.d/*.conf" );
mail_sources = ( { name = "$1"; $3 profile = "generic"; } );
CONF
}
abconf byrcpt "$MPORT" 'recipients = ["alerts@example.com"];'
abconf bysender "$MPORT2" 'senders = ["scanner@alerts.example.net"];'
abconf bynet "$MPORT3" 'networks = ["192.0.2.0/24"]; senders = ["scanner@alerts.example.net"];'

pf_setup "$T" "$SPORT" "$MPORT" alerts@example.com bob@example.com carol@example.com
for l in "$SPORT2 $MPORT2" "$SPORT3 $MPORT3"; do   # more smtpd listeners, one milter each
	set -- $l
	postconf -c "$PF/etc" -Me "127.0.0.1:$1/inet = 127.0.0.1:$1 inet n - n - - smtpd -o smtpd_milters=inet:127.0.0.1:$2"
done
postconf -c "$PF/etc" non_smtpd_milters= >/dev/null

plan 29

DPIDS=()
for d in byrcpt bysender bynet; do
	AB_DLOG="$T/$d/daemon.log" ab_start_daemon "$T/$d/ab.conf"; DPIDS+=("$DPID")
done
ok "the daemons listen" wait_for 10 bash -c "grep -q 'milter listening' '$T/byrcpt/daemon.log' &&
	grep -q 'milter listening' '$T/bysender/daemon.log' &&
	grep -q 'milter listening' '$T/bynet/daemon.log'"
postfix -c "$PF/etc" start >"$T/pfstart.log" 2>&1
ok "private postfix instance starts" wait_for 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SPORT2"

like "A: plan: no connect, no reply at MAIL, DATA decides, queue id + client at EOM" \
	"$(grep 'protocol for new SMTP sessions' "$T/byrcpt/daemon.log")" \
	'connect: skipped, MAIL FROM: no reply \(cannot release\), RCPT: no reply, DATA: releases or continues, macros: queue id, client at EOM'
like "B: plan: no connect, MAIL decides, no DATA step" \
	"$(grep 'protocol for new SMTP sessions' "$T/bysender/daemon.log")" \
	'connect: skipped, MAIL FROM: releases or continues, RCPT: no reply, DATA: skipped, macros: queue id, client at EOM'

maildir_has() { grep -rlq -- "$2" "$T/mail/$1/new" 2>/dev/null; }
events() { cat "$T/$1/state/events.jsonl" 2>/dev/null; }
nev() { events "$1" | wc -l; }
mail() {   # mail SUBJECT MSGID: a small alert-looking message on stdout
	printf 'Subject: %s\nFrom: ops@example.net\nMessage-ID: <%s@example.net>\n\n' "$1" "$2"
	printf 'Host: db%s\nSeverity: high\n' "$2"
}
send() {   # send PORT FROM TO[,TO] SUBJECT MSGID
	mail "$4" "$5" > "$T/m.eml"
	swaks --server "127.0.0.1:$1" --helo client.test --from "$2" --to "$3" \
		--data @"$T/m.eml" >"$T/swaks.out" 2>&1
}
# session PORT: one SMTP session, ordinary mail first, then an alert
session() {
	python3 - "$1" "$2" "$3" "$4" <<'PY'
import smtplib, sys
port, frm_alert, to_alert, tag = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s = smtplib.SMTP("127.0.0.1", port, timeout=30)
s.ehlo("client.test")
s.sendmail("alice@example.net", ["bob@example.com"],
           "Subject: same session, ordinary %s\r\nMessage-ID: <o-%s@example.net>\r\n\r\nplain\r\n" % (tag, tag))
s.sendmail(frm_alert, [to_alert],
           "Subject: HIGH: same session alert %s\r\nMessage-ID: <a-%s@example.net>\r\n\r\nbody\r\n" % (tag, tag))
s.quit()
PY
}

# ---------------------------------------------------------------- A: by recipient
send "$SPORT" scanner@x.example.net alerts@example.com "HIGH: disk full on db1" a1
like "A: alert accepted" "$(cat "$T/swaks.out")" "<-  250 2.0.0 Ok: queued"
ok "A: event stored" wait_for 20 grep -q "disk full on db1" "$T/byrcpt/state/events.jsonl"
ev=$(grep "disk full on db1" "$T/byrcpt/state/events.jsonl" | head -1)
like "A: event has the envelope sender (MAIL FROM, no reply)" "$ev" '"from":"scanner@x.example.net"'
like "A: event has the client host from the EOM macros" "$ev" '"host":"[^"]*\[127\.0\.0\.1\]"'
ok "A: alert delivered with X-Alertbridge-Event" wait_for 20 maildir_has alerts "X-Alertbridge-Event"
send "$SPORT" scanner@x.example.net bob@example.com,alerts@example.com "HIGH: alert recipient last" a2
ok "A: alert recipient after an ordinary one is caught" wait_for 20 \
	grep -q "alert recipient last" "$T/byrcpt/state/events.jsonl"
n=$(nev byrcpt)
send "$SPORT" alice@example.net bob@example.com "CRITICAL lunch" a3
ok "A: ordinary mail delivered" wait_for 20 maildir_has bob "CRITICAL lunch"
f=$(grep -rl "CRITICAL lunch" "$T/mail/bob/new" | head -1)
lacks "A: ordinary mail has no alertbridge header" "$f" -i '^X-Alertbridge'
session "$SPORT" scanner@x.example.net alerts@example.com A >"$T/session.out" 2>&1
ok "A: one session: ordinary then alert, the alert is caught" wait_for 20 \
	grep -q "same session alert A" "$T/byrcpt/state/events.jsonl"
is "A: ordinary mails made no event" "$(nev byrcpt)" "$((n + 1))"

# ---------------------------------------------------------------- B: by sender
send "$SPORT2" scanner@alerts.example.net carol@example.com "HIGH: scan failed" b1
like "B: alert accepted" "$(cat "$T/swaks.out")" "<-  250 2.0.0 Ok: queued"
ok "B: event stored" wait_for 20 grep -q "scan failed" "$T/bysender/state/events.jsonl"
ev=$(grep "scan failed" "$T/bysender/state/events.jsonl" | head -1)
like "B: event has the client host from the EOM macros" "$ev" '"host":"[^"]*\[127\.0\.0\.1\]"'
ok "B: alert delivered with X-Alertbridge-Event" wait_for 20 bash -c \
	"grep -rl 'scan failed' '$T/mail/carol/new' | xargs grep -l X-Alertbridge-Event >/dev/null"
n=$(nev bysender)
send "$SPORT2" alice@example.net carol@example.com "CRITICAL coffee" b2
ok "B: ordinary mail delivered" wait_for 20 maildir_has carol "CRITICAL coffee"
f=$(grep -rl "CRITICAL coffee" "$T/mail/carol/new" | head -1)
lacks "B: ordinary mail has no alertbridge header" "$f" -i '^X-Alertbridge'
session "$SPORT2" scanner@alerts.example.net carol@example.com B >"$T/session2.out" 2>&1
ok "B: one session: ordinary then alert, the alert is caught" wait_for 20 \
	grep -q "same session alert B" "$T/bysender/state/events.jsonl"
is "B: ordinary mails made no event" "$(nev bysender)" "$((n + 1))"

# ---------------------------------------------------------------- C: by network
like "C: plan: connect releases the session" "$(grep 'protocol for new SMTP sessions' "$T/bynet/daemon.log")" \
	'connect: releases the session or continues, MAIL FROM: releases or continues'
send "$SPORT3" scanner@alerts.example.net carol@example.com "HIGH: outside net" c1
like "C: mail accepted" "$(cat "$T/swaks.out")" "<-  250 2.0.0 Ok: queued"
ok "C: mail delivered" wait_for 20 maildir_has carol "outside net"
f=$(grep -rl "outside net" "$T/mail/carol/new" | head -1)
lacks "C: delivered untouched (no alertbridge header)" "$f" -i '^X-Alertbridge'
is "C: no event" "$(nev bynet)" 0

lacks "no milter warnings in the Postfix log" "$T/postfix.log" -i 'warning:.*milter'
for p in "${DPIDS[@]}"; do kill -TERM "$p"; done
rc=0; for p in "${DPIDS[@]}"; do ab_stop_daemon "$p" || rc=$?; done
is "SIGTERM stops the daemons cleanly" "$rc" 0
[ "$TAP_FAILED" -eq 0 ] || { for d in byrcpt bysender bynet; do
	ab_show_log "$d daemon log" "$T/$d/daemon.log" 20; done
	ab_show_log "postfix log" "$T/postfix.log" 30; }
