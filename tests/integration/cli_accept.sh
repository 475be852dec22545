#!/bin/bash
# cli_accept.sh - `alertbridge parse|send|explain` take a mail through the
# milter's own acceptance path (ab_mail_accept) and every event through the
# one send / the one explain, against a real SQLite store:
#   - sender trust: without --client a source with trusted_networks does
#     not trust the mail; untrusted = "mark" marks and caps the event,
#     "reject" and "pass" make send refuse (exit 65, nothing queued) while
#     parse still shows the event and says what the milter would do;
#     --client inside trusted_networks makes the sender trusted; a mail no
#     source takes is still sent, with a note;
#   - the envelope: --rcpt picks the mail source (not the To: header);
#   - route+CHANNEL recipients go through the ingest path to that channel
#     only; a disabled one is left out with a note and the rules decide;
#   - explain of a mail naming route+CHANNEL, and explain --syslog, use the
#     same explain (a dry run in the store) and send nothing;
#   - the command table: unknown commands, help per command.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"
ab_tmpdir abaccept
command -v sqlite3 >/dev/null || bail "sqlite3 not installed (contrib/install-deps.sh --test)"

cat > "$T/ab.conf" <<CONF
state_dir = "$T/state";
plugin_dir = "$AB_PLUGIN_STAGE";
channels = (
  { name = "file"; type = "file"; path = "events.jsonl"; },
  { name = "special"; type = "file"; path = "special.jsonl"; },
  { name = "off"; type = "file"; path = "off.jsonl"; enabled = false; }
);
default = ["file"];
mail_sources = (
  { name = "bridge"; recipients = ["route+*@example.com"]; },
  { name = "strict"; recipients = ["strict@example.com"];
    trusted_networks = ["192.0.2.0/24"]; untrusted = "mark"; untrusted_max_severity = "low"; },
  { name = "closed"; recipients = ["closed@example.com"];
    trusted_networks = ["192.0.2.0/24", "2001:db8::/32"]; untrusted = "reject"; },
  { name = "quiet"; recipients = ["quiet@example.com"];
    trusted_networks = ["192.0.2.0/24"]; untrusted = "pass"; }
);
syslog = {
  listeners = ( { name = "udp"; proto = "udp"; address = "127.0.0.1:51499"; } );
};
CONF

# mail ID TO: an alert mail with its own Message-ID (ids come from it)
mail() {
	cat <<MAIL
From: backup-check <root@db01.example.com>
To: $2
Subject: CRITICAL: nightly integrity check failed on db01
Date: Wed, 01 May 2024 02:15:00 +0000
Message-ID: <$1@db01.example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

The checksum of /etc/sudoers differs from the baseline. Severity: critical
MAIL
}
q() { sqlite3 "$T/state/store.db" "$1" 2>/dev/null; }
events() { q "SELECT count(*) FROM events"; }
send() { "$AB" -c "$T/ab.conf" send "$@" >"$T/out" 2>"$T/err"; }


"$AB" -c "$T/ab.conf" check >"$T/check" 2>&1
is "the configuration is valid" "$?" 0

# ---- sender trust, untrusted = "mark"
mail m1 strict@example.com > "$T/m1.eml"
send "$T/m1.eml"; rc=$?
is "mark: send without --client exits 0" "$rc" 0
like "mark: the note says the sender is not trusted and the event marked" "$(cat "$T/err")" \
	"untrusted sender .*marked unverified \(mail source strict\)"
id=$(head -1 "$T/out")
js=$(q "SELECT json FROM events WHERE id = '$id'")
like "mark: title prefixed [unverified sender]" "$js" '"title":"\[unverified sender\] '
like "mark: severity capped at low" "$js" '"severity":"low"'

mail m2 strict@example.com > "$T/m2.eml"
send --client 192.0.2.7 "$T/m2.eml"; rc=$?
is "mark: --client inside trusted_networks exits 0" "$rc" 0
lacks "mark: a trusted sender gets no untrusted note" "$T/err" -q "untrusted"
id=$(head -1 "$T/out")
js=$(q "SELECT json FROM events WHERE id = '$id'")
unlike() { ! [[ "$2" =~ $3 ]]; }
ok "trusted: the title is not marked" unlike x "$js" 'unverified sender'

# ---- untrusted = "reject" and "pass": send refuses, parse shows
n0=$(events)
mail m3 closed@example.com > "$T/m3.eml"
send "$T/m3.eml"; rc=$?
is "reject: send exits 65" "$rc" 65
like "reject: says the milter would answer 550" "$(cat "$T/err")" "refuses it .*550"
like "reject: says nothing was queued" "$(cat "$T/err")" "nothing was queued"
is "reject: no event stored" "$(events)" "$n0"
"$AB" -c "$T/ab.conf" parse "$T/m3.eml" >"$T/out" 2>"$T/err"; rc=$?
is "reject: parse still exits 0" "$rc" 0
like "reject: parse prints the event" "$(cat "$T/out")" '"type":'
like "reject: parse says what the milter would do" "$(cat "$T/err")" "550"
send --client 2001:db8::25 "$T/m3.eml"; rc=$?
is "reject: an IPv6 --client inside trusted_networks is trusted" "$rc" 0
mail m4 quiet@example.com > "$T/m4.eml"
n0=$(events)
send "$T/m4.eml"; rc=$?
is "pass: send exits 65" "$rc" 65
is "pass: no event stored" "$(events)" "$n0"
send --client not-an-ip "$T/m4.eml"; rc=$?
is "a --client that is not an address: usage error" "$rc" 64

# ---- no source takes it: send still sends (the operator asked), with a note
mail m9 nobody@example.com > "$T/m9.eml"
send "$T/m9.eml"; rc=$?
is "no source: send exits 0" "$rc" 0
like "no source: the note says the milter would pass it untouched" "$(cat "$T/err")" \
	"no mail source takes this mail: the milter would pass it untouched"
is "no source: queued for the default channel" \
	"$(q "SELECT group_concat(channel) FROM jobs WHERE event_id = '$(head -1 "$T/out")'")" "file"

# ---- the envelope picks the source: To: says closed, RCPT TO says strict
mail m5 closed@example.com > "$T/m5.eml"
send --rcpt strict@example.com "$T/m5.eml"; rc=$?
is "--rcpt picks the mail source (strict marks, closed would refuse)" "$rc" 0
like "--rcpt: the strict source's note" "$(cat "$T/err")" "mail source strict"

# ---- route+CHANNEL through the ingest path
mail m6 route+special@example.com > "$T/m6.eml"
send "$T/m6.eml"; rc=$?
id=$(head -1 "$T/out")
is "route+special: send exits 0" "$rc" 0
is "route+special: one job, for channel special only" \
	"$(q "SELECT group_concat(channel) FROM jobs WHERE event_id = '$id'")" "special"
mail m7 route+off@example.com > "$T/m7.eml"
send "$T/m7.eml"
id=$(head -1 "$T/out")
like "route+off: a note that the disabled channel is left out" "$(cat "$T/err")" \
	"names channel 'off', which is disabled: left out"
is "route+off: the rules take it (default channel file)" \
	"$(q "SELECT group_concat(channel) FROM jobs WHERE event_id = '$id'")" "file"

# ---- one explain
mail m8 route+special@example.com > "$T/m8.eml"
n0=$(q "SELECT count(*) FROM jobs")
out=$("$AB" -c "$T/ab.conf" explain "$T/m8.eml" 2>&1)
like "explain route+special: the rules are not consulted" "$out" "not consulted: a recipient route"
like "explain route+special: the channel named" "$out" "^channels: special$"
out=$("$AB" -c "$T/ab.conf" explain --syslog '<11>Nov 23 09:00:00 web1 sshd[1]: error: boom' 2>&1)
like "explain --syslog: the syslog source" "$out" "syslog source: none matched"
like "explain --syslog: the dry run's deliveries" "$out" "^deliveries: now: file"
is "explain queued nothing" "$(q "SELECT count(*) FROM jobs")" "$n0"

# ---- the command table
"$AB" -c "$T/ab.conf" frobnicate >/dev/null 2>"$T/err"; rc=$?
is "an unknown command exits 64" "$rc" 64
like "help send shows both forms of send" "$("$AB" help send)" "send --lines FILE"

done_testing
