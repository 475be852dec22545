#!/bin/bash
# email_e2e.sh - the email channel plugin through the real daemon to real
# SMTP servers on loopback (aiosmtpd, tests/lib/smtpd.py): STARTTLS + AUTH
# with the test CA, the received mail parsed with Python's email module and
# checked part by part and header by header (multipart/alternative text then
# HTML, severity colour, fields table, link, Subject/From/To, envelope,
# Auto-Submitted, Message-ID), threading of a follow-up about the same
# finding (In-Reply-To/References), a group of three findings as one mail
# listing them, a CR/LF header injection in the title (no Bcc header, no
# extra envelope recipient), wrong password -> dead letter with the
# server's 535 text and the password in no log, STARTTLS required but not
# offered -> clear permanent failure and nothing sent, smtps:// (implicit
# TLS, AUTH LOGIN), `alertbridge test`, and the SSRF guard (loopback refused
# without allow_networks) in `check`, `test` and real deliveries.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"
ab_tmpdir abmail

# aiosmtpd is a Debian package (python3-aiosmtpd): use the system Python
# when the python3 on PATH is another installation without it.
PY=python3
$PY -c 'import aiosmtpd' 2>/dev/null || PY=/usr/bin/python3
$PY -c 'import aiosmtpd' 2>/dev/null || bail "python3-aiosmtpd missing (contrib/install-deps.sh --test)"

ab_plugins email
sh "$top_srcdir/tests/lib/mkcert.sh" "$T/tls" || bail "mkcert failed"

PASS='Pw-9vX7-app-secret-K3q'
WRONG='Wr0ng-pw-7Zt4-never-ok'
smtpd() { # smtpd NAME ARGS...: start tests/lib/smtpd.py recording into $T/NAME
	ab_spawn "$T/$1.log" $PY "$top_srcdir/tests/lib/smtpd.py" --port-file "$T/$1.port" \
		--record "$T/$1" "${@:2}"
	wait_for 15 test -s "$T/$1.port" || bail "smtpd $1 did not start: $(cat "$T/$1.log")"
}
TLSARGS=(--cert "$T/tls/server.pem" --key "$T/tls/server.key")
smtpd main --starttls --require-starttls "${TLSARGS[@]}" --auth "alice:$PASS"
smtpd plain
smtpd implicit --smtps "${TLSARGS[@]}" --auth "alice:$PASS" --auth-mechs LOGIN
P1=$(cat "$T/main.port"); P2=$(cat "$T/plain.port"); P3=$(cat "$T/implicit.port")

cat > "$T/ab.conf" <<CONF
state_dir = "$T/state";
plugin_dir = "$T/plugins";
log = { level = "info"; };
dispatch = { workers = 2; backoff_base = "100ms"; backoff_cap = "300ms"; poll = "50ms"; };
channels = (
  { name = "mail"; type = "email"; url = "smtp://127.0.0.1:$P1"; tls = "starttls";
    username = "alice"; password = "$PASS"; from = "alerts@ab.test";
    to = ["ops@example.org", "sec@example.org"]; subject_prefix = "[ab-e2e]";
    ca_file = "$T/tls/ca.pem"; allow_networks = ["127.0.0.0/8"]; timeout = 20; },
  { name = "badpw"; type = "email"; url = "smtp://127.0.0.1:$P1"; username = "alice";
    password = "$WRONG"; from = "alerts@ab.test"; to = ["ops@example.org"];
    ca_file = "$T/tls/ca.pem"; allow_networks = ["127.0.0.0/8"]; },
  { name = "notls"; type = "email"; url = "smtp://127.0.0.1:$P2"; tls = "starttls";
    from = "alerts@ab.test"; to = ["ops@example.org"]; allow_networks = ["127.0.0.1/32"]; },
  { name = "implicit"; type = "email"; url = "smtps://127.0.0.1:$P3"; username = "alice";
    password = "$PASS"; from = "alerts@ab.test"; to = ["ops@example.org"];
    ca_file = "$T/tls/ca.pem"; allow_networks = ["127.0.0.0/8"]; }
);
rules = (
  { name = "to-guarded"; tools = ["guarded"]; channels = ["guarded"]; final = true; },
  { name = "to-group"; tools = ["grouped"]; group_by = ["tool"]; group_wait = "1s";
    channels = ["mail"]; final = true; },
  { name = "to-badpw"; tools = ["badpw"]; channels = ["badpw"]; final = true; },
  { name = "to-notls"; tools = ["notls"]; channels = ["notls"]; final = true; },
  { name = "to-implicit"; tools = ["implicit"]; channels = ["implicit"]; final = true; }
);
default = ["mail"];
CONF
# The same plus a channel to the same server without allow_networks.
sed "s|^channels = (|channels = (\n  { name = \"guarded\"; type = \"email\"; url = \"smtp://127.0.0.1:$P1\"; username = \"alice\"; password = \"$PASS\"; from = \"alerts@ab.test\"; to = [\"ops@example.org\"]; ca_file = \"$T/tls/ca.pem\"; },|" \
	"$T/ab.conf" > "$T/guard.conf"
sed -i '/to-guarded/d' "$T/ab.conf"

# inspect.py MAIL: the parsed message as "key<TAB>value" lines.
cat > "$T/inspect.py" <<'PY'
import email, email.policy, re, sys
raw = open(sys.argv[1], "rb").read()
m = email.message_from_bytes(raw, policy=email.policy.default)
head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii", "replace")
out = {}
out["ctype"] = m.get_content_type()
parts = list(m.iter_parts()) if m.is_multipart() else []
out["parts"] = ",".join(p.get_content_type() for p in parts)
for h in ("Subject", "From", "To", "Date", "Auto-Submitted", "Message-ID", "In-Reply-To",
          "References", "MIME-Version"):
    out[h.lower()] = str(m.get(h, ""))
out["headers"] = ",".join(sorted({k.lower() for k in m.keys()}))
out["bcc_line"] = str(sum(1 for l in head.split("\r\n") if l.lower().startswith("bcc")))
out["bare_lf"] = str(len(re.findall(rb"(?<!\r)\n", raw)))
if len(parts) == 2:
    text, html = parts[0].get_content(), parts[1].get_content()
    out["text_first"] = text.split("\n", 1)[0]
    out["text_link"] = "yes" if "View: https://dojo.example.com/finding/42" in text else "no"
    c = re.search(r'<div style="background:(#[0-9A-Fa-f]{6})', html)
    out["html_color"] = c.group(1) if c else ""
    out["html_rows"] = ",".join(re.findall(r'font-weight:bold">([A-Za-z ]+)</td>', html))
    a = re.search(r'<a [^>]*href="([^"]*)"', html)
    out["html_link"] = a.group(1) if a else ""
    out["html_title"] = "yes" if "SQL injection in /login &lt;b&gt;" in html else "no"
    out["html_css"] = "yes" if 'style="' in html and "<style" not in html else "no"
    out["html_items"] = ",".join(re.findall(r"</b> ([^<]*)</li>", html))
    out["text_items"] = ",".join(l[2:] for l in text.split("\n") if l.startswith("- ["))
for k, v in out.items():
    print("%s\t%s" % (k, v.replace("\n", " ").replace("\t", " ")))
PY
inspect() { $PY "$T/inspect.py" "$1" > "$1.facts"; }
fact() { grep "^$2	" "$1.facts" | cut -f2-; }
nmail() { ls "$T/$1"/*.json 2>/dev/null | wc -l; }
has() { [ "$(nmail "$1")" -ge "$2" ]; }  # has SERVER N: at least N mails recorded
mailfile() { printf '%s/%s/%04d.eml' "$T" "$1" "$2"; }
envelope() { # envelope SERVER N KEY: a member of the recorded envelope (lists joined by ,)
	$PY -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print(",".join(v) if isinstance(v, list) else v)' \
		"$(mailfile "$1" "$2" | sed 's/\.eml$/.json/')" "$3"
}
ev() { # ev TYPE TITLE TOOL [FINGERPRINT]
	printf '{"type":"%s","severity":"high","title":"%s","summary":"Parameter user is injectable.","source":"code_scan","tool":"%s","asset":"payments-api","url":"https://dojo.example.com/finding/42"%s}' \
		"$1" "$2" "$3" "${4:+,\"fingerprint\":\"$4\"}"
}
dead() { "$AB" -c "$T/ab.conf" queue list --dead 2>/dev/null | grep -q " $1 "; }

plan 66

# --- check: loopback listed in allow_networks passes; without it the guard refuses
out=$("$AB" -c "$T/ab.conf" check 2>&1); rc=$?
is "check accepts email URLs on networks listed in allow_networks" "$rc" 0
out=$("$AB" -c "$T/guard.conf" check 2>&1); rc=$?; echo "$out" >> "$T/cli.log"
is "check refuses the loopback SMTP server without allow_networks" "$rc" 78
like "check names channel, setting and the guard's reason" "$(tr '\n' ' ' <<< "$out")" \
	"guard.conf:[0-9]+: channel 'guarded': setting 'url': smtp://127\.0\.0\.1:$P1: refused by the SSRF guard: 127\.0\.0\.1 is a loopback address"
sed 's|allow_networks = \["127.0.0.0/8"\]; timeout|allow_networks = ["127.0.0.1/8"]; timeout|' "$T/ab.conf" > "$T/badnet.conf"
out=$("$AB" -c "$T/badnet.conf" check 2>&1); rc=$?
like "check rejects a malformed allow_networks entry" "$rc $out" "^78 .*channel 'mail': setting 'allow_networks': .*127\.0\.0\.1/8"

# --- alertbridge test: the guard, then a real test mail
out=$("$AB" -c "$T/guard.conf" test guarded 2>&1); rc=$?; echo "$out" >> "$T/cli.log"
is "test guarded: not delivered (EX_UNAVAILABLE)" "$rc" 69
like "test guarded: permanent, refused by the SSRF guard" "$(tr '\n' ' ' <<< "$out")" \
	"status: +permanent .*refused by the SSRF guard: 127\.0\.0\.1 is a loopback address.*allow_networks"
is "test guarded: nothing reached the server" "$(nmail main)" 0
out=$("$AB" -c "$T/ab.conf" test mail 2>&1); rc=$?; echo "$out" >> "$T/cli.log"
is "test mail exits 0" "$rc" 0
like "test mail prints ok and the SMTP code" "$(tr '\n' ' ' <<< "$out")" "status: +ok .*code: +250 .*latency: +[0-9]+ ms"
is "the test mail arrived" "$(nmail main)" 1
inspect "$(mailfile main 1)"
like "test mail is marked as a test in the subject" "$(fact "$(mailfile main 1)" subject)" \
	'^\[ab-e2e\] \[TEST\] \[INFO\] Test message from alertbridge to channel mail$'
like "test mail says it is a test in the body" "$(fact "$(mailfile main 1)" text_first)" '^\[TEST\] INFO: Test message'

# --- the daemon refuses what check refuses (the guarded channel), and runs
# without it
timeout 20 "$ABD" -f -c "$T/guard.conf" 2>"$T/guard-start.log"; rc=$?
is "the daemon refuses to start with the guarded url (EX_CONFIG)" "$rc" 78
like "and names the channel and the guard's reason" "$(cat "$T/guard-start.log")" \
	"channel 'guarded': setting 'url': smtp://127\.0\.0\.1:$P1: refused by the SSRF guard"
ab_start_daemon "$T/ab.conf"

# --- one finding: STARTTLS + AUTH, parsed and checked field by field
"$AB" -c "$T/ab.conf" send - 2>>"$T/cli.log" <<< "$(ev finding.created 'SQL injection in /login <b>' dojo fp-4711)" >/dev/null
ok "finding.created delivered to the STARTTLS+AUTH server" wait_for 20 has main 2
M1=$(mailfile main 2); inspect "$M1"
is "envelope sender" "$(envelope main 2 mail_from)" "alerts@ab.test"
is "envelope recipients are exactly the configured ones" "$(envelope main 2 rcpt_tos)" "ops@example.org,sec@example.org"
is "the session was TLS (STARTTLS)" "$(envelope main 2 tls)" "True"
is "the session was authenticated as alice" "$(envelope main 2 auth_user)" "alice"
is "multipart/alternative" "$(fact "$M1" ctype)" "multipart/alternative"
is "text/plain first, text/html last" "$(fact "$M1" parts)" "text/plain,text/html"
is "Subject" "$(fact "$M1" subject)" "[ab-e2e] [HIGH] SQL injection in /login <b> (payments-api)"
is "From" "$(fact "$M1" from)" "alerts@ab.test"
is "To lists every recipient" "$(fact "$M1" to)" "ops@example.org, sec@example.org"
is "Auto-Submitted: auto-generated" "$(fact "$M1" auto-submitted)" "auto-generated"
like "Message-ID derived from the finding" "$(fact "$M1" message-id)" '^<ab-[0-9a-f]{32}@ab\.test>$'
is "a new finding starts a thread (no In-Reply-To)" "$(fact "$M1" in-reply-to)" ""
like "Date and MIME-Version present" "$(fact "$M1" date) / $(fact "$M1" mime-version)" '^[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} .* / 1\.0$'
is "HTML header in the high severity colour" "$(fact "$M1" html_color)" "#E8710A"
is "HTML fields table" "$(fact "$M1" html_rows)" "Severity,Type,Source,Tool,Asset,Time,Event id"
is "HTML link to the finding" "$(fact "$M1" html_link)" "https://dojo.example.com/finding/42"
is "HTML escapes the title" "$(fact "$M1" html_title)" "yes"
is "HTML uses inline CSS only" "$(fact "$M1" html_css)" "yes"
is "text part: severity and title first, then the link" \
	"$(fact "$M1" text_first) / $(fact "$M1" text_link)" "HIGH: SQL injection in /login <b> / yes"
is "CRLF line ends only" "$(fact "$M1" bare_lf)" 0

# --- a follow-up about the same finding threads under the first mail
"$AB" -c "$T/ab.conf" send - 2>>"$T/cli.log" <<< "$(ev finding.updated 'SQL injection in /login <b>' dojo fp-4711)" >/dev/null
ok "follow-up delivered" wait_for 20 has main 3
M2=$(mailfile main 3); inspect "$M2"
is "follow-up In-Reply-To is the first mail's Message-ID" "$(fact "$M2" in-reply-to)" "$(fact "$M1" message-id)"
is "follow-up References is the first mail's Message-ID" "$(fact "$M2" references)" "$(fact "$M1" message-id)"
h=$(fact "$M1" message-id | sed 's/^<ab-\([0-9a-f]*\)@.*/\1/')
like "follow-up has its own Message-ID in the finding's thread" "$(fact "$M2" message-id)" \
	"^<ab-$h-[0-9a-f]{32}@ab\.test>$"
ok "follow-up Message-ID differs from the first" test "$(fact "$M2" message-id)" != "$(fact "$M1" message-id)"

# --- CR/LF in the title cannot add a header or a recipient
"$AB" -c "$T/ab.conf" send - 2>>"$T/cli.log" <<< "$(ev finding.created 'inject\r\nBcc: evil@example.net' dojo fp-inj)" >/dev/null
ok "injection attempt delivered" wait_for 20 has main 4
M3=$(mailfile main 4); inspect "$M3"
ok "no Bcc header" bash -c '[ -n "$0" ] && ! grep -q bcc <<< "$0"' "$(fact "$M3" headers)"
is "no header line starting with Bcc" "$(fact "$M3" bcc_line)" 0
is "no extra envelope recipient" "$(envelope main 4 rcpt_tos)" "ops@example.org,sec@example.org"
is "the title stays in the Subject, CR/LF made spaces" "$(fact "$M3" subject)" \
	"[ab-e2e] [HIGH] inject  Bcc: evil@example.net (payments-api)"
ok "evil@example.net received nothing" absent evil@example.net -- "$T"/main/*.json

# --- a group of three findings: one mail listing them
for i in 1 2 3; do ev finding.created "grouped finding $i" grouped "fp-g$i"; echo; done > "$T/burst.jsonl"
"$AB" -c "$T/ab.conf" send --lines "$T/burst.jsonl" >/dev/null 2>>"$T/cli.log"
ok "group delivered as one mail" wait_for 20 has main 5
M4=$(mailfile main 5); inspect "$M4"
like "group Subject counts the alerts" "$(fact "$M4" subject)" '^\[ab-e2e\] \[HIGH\] .*3 alerts: 3 high$'
is "group mail is multipart/alternative, text then HTML" "$(fact "$M4" ctype) $(fact "$M4" parts)" \
	"multipart/alternative text/plain,text/html"
is "group HTML lists every finding" "$(tr ',' '\n' <<< "$(fact "$M4" html_items)" | sort | tr '\n' ' ')" \
	"grouped finding 1 grouped finding 2 grouped finding 3 "
is "group text lists every finding" "$(tr ',' '\n' <<< "$(fact "$M4" text_items)" | sort | tr '\n' ' ')" \
	"[HIGH] grouped finding 1 [HIGH] grouped finding 2 [HIGH] grouped finding 3 "
is "group mail: Auto-Submitted, no thread" "$(fact "$M4" auto-submitted)/$(fact "$M4" in-reply-to)" "auto-generated/"

# --- wrong password: dead letter with the server's 535 text, password never logged
"$AB" -c "$T/ab.conf" send - 2>>"$T/cli.log" <<< "$(ev finding.created 'bad password' badpw)" >/dev/null
ok "wrong password: dead letter" wait_for 20 dead badpw
out=$("$AB" -c "$T/ab.conf" log --channel badpw -n 5)
like "wrong password: permanent, SMTP 535 with the server's text, after one attempt" "$out" \
	"attempt=1 permanent +code=535 .*535 5\.7\.8 Authentication credentials invalid"
is "wrong password: one attempt only" "$(grep -c attempt= <<< "$out")" 1
grep -q "auth alice .* failed" "$T/main.log"; ok "the server saw the failed AUTH" test $? = 0

# --- STARTTLS required, server does not offer it: nothing sent in clear
"$AB" -c "$T/ab.conf" send - 2>>"$T/cli.log" <<< "$(ev finding.created 'needs tls' notls)" >/dev/null
ok "no STARTTLS: dead letter" wait_for 20 dead notls
like "no STARTTLS: clear permanent error" "$("$AB" -c "$T/ab.conf" log --channel notls -n 1)" \
	'permanent .*STARTTLS required .*did not offer it'
is "no STARTTLS: the server received no message" "$(nmail plain)" 0

# --- smtps:// (implicit TLS) with AUTH LOGIN
"$AB" -c "$T/ab.conf" send - 2>>"$T/cli.log" <<< "$(ev finding.created 'over smtps' implicit)" >/dev/null
ok "smtps: delivered" wait_for 20 has implicit 1
is "smtps: TLS session, AUTH LOGIN as alice" \
	"$(envelope implicit 1 tls) $(envelope implicit 1 auth_mech) $(envelope implicit 1 auth_user)" "True LOGIN alice"
inspect "$(mailfile implicit 1)"
is "smtps: the mail is the rendered alert" "$(fact "$(mailfile implicit 1)" parts)" "text/plain,text/html"

is "nothing more reached the server (and one group mail only)" "$(nmail main)" 5

ab_stop_daemon; rc=$?
is "the daemon stopped cleanly" "$rc" 0
ok "no sanitizer report from the daemon or the CLI" \
	absent -E 'Sanitizer|runtime error' -- "$T/daemon.log" "$T/cli.log"

# --- secrets: neither password in any log, the delivery log or stderr
"$AB" -c "$T/ab.conf" log --json -n 1000 > "$T/deliveries.json" 2>&1
"$AB" -c "$T/ab.conf" queue list --dead >> "$T/deliveries.json" 2>&1
ok "passwords appear in no log, delivery log or stderr" \
	absent -e "$PASS" -e "$WRONG" -- "$T/daemon.log" "$T/deliveries.json" "$T"/*.log
[ "$TAP_FAILED" -eq 0 ] || ab_show_log "daemon log" "$T/daemon.log" 40
