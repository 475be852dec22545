#!/bin/bash
# milter_hostile.sh - hostile mail through a REAL Postfix (tests/lib/postfix.sh)
# with alertbridged as its milter: 200-deep MIME nesting, a header of
# 100,000 colons, a 20 MB attachment, a decoded size and a part count over
# the limits, XML with billion-laughs entities and with an external entity
# to file:///etc/passwd, invalid UTF-8 in subject and body, a bare-LF dot
# line sent raw.  For each: the daemon is the same running process, a log
# line names the limit or the problem, the mail is not lost (delivered with
# its body byte-identical, or its event exists), nothing expands, memory
# stays bounded (VmHWM), invalid UTF-8 never reaches the event JSON.
# Needs root (Postfix) and the Debian packages postfix, swaks, python3.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"
. "$top_srcdir/tests/lib/postfix.sh"

pf_require

pf_begin abhostile

read -r SPORT MPORT < <(ab_free_port 2)
ab_plugins file

# ---------------------------------------------------------------- alertbridge
# The limits, spelled out.  max_message 8 MB: the 20 MB attachment (27 MB
# as base64) is over it; a 5.5 MB text attachment is under it but over
# max_decoded.  max_header 32 KB: Postfix cuts every header at 60,000 bytes
# before a milter sees it (cleanup's workaround for libmilter's 64 KB
# packets), so behind Postfix a max_header of 60,000 or more can never be
# reached; the 100,000 colons arrive as 59,990 and are over 32 KB.
MAX_MESSAGE=$((8 * 1024 * 1024))
cat > "$T/ab.conf" <<CONF
state_dir = "$T/state";
plugin_dir = "$T/plugins";
log = { level = "debug"; };
dispatch = { workers = 1; poll = "50ms"; };
channels = ( { name = "file"; type = "file"; path = "events.jsonl"; } );
default = ["file"];
milter = { socket = "inet:$MPORT@127.0.0.1"; max_message = $MAX_MESSAGE; max_header = 32768;
	max_depth = 20; max_parts = 100; max_decoded = 5242880; };
profiles = ( "$top_srcdir/conf/profiles.d/*.conf" );
mail_sources = (
  { name = "hostile"; recipients = ["alerts@example.com"]; profile = "xalert"; disposition = "pass"; },
  { name = "csirt"; recipients = ["csirt@example.com"]; profile = "iodef"; disposition = "pass"; }
);
CONF

# ---------------------------------------------------------------- postfix
pf_setup "$T" "$SPORT" "$MPORT" alerts@example.com csirt@example.com
# Postfix's own limits would refuse some of these mails before the milter
# sees them: room for the 27 MB message, and for MIME nesting of 200
# (Postfix refuses mail nested deeper than mime_nesting_limit, default 100).
postconf -c "$PF/etc" message_size_limit=67108864 virtual_mailbox_limit=0 \
	mime_nesting_limit=1000

# ---------------------------------------------------------------- the mails
cat > "$T/hostile.py" <<'PY'
import base64, hashlib, json, os, re, smtplib, socket, sys

def head(mid, subj, to="alerts@example.com", extra=b""):
    return (b"From: Monitor <mon@mon.example.net>\nTo: " + to.encode() +
            b"\nSubject: " + subj + b"\nDate: Wed, 01 May 2024 02:15:00 +0000\n"
            b"Message-ID: <" + mid.encode() + b"@mon.example.net>\nMIME-Version: 1.0\n"
            b"X-Alert-Severity: high\nX-Alert-Type: hostile.test\n" + extra)

def att(data, ctype, name):
    return (b"Content-Type: " + ctype + b"; name=\"" + name + b"\"\n"
            b"Content-Disposition: attachment; filename=\"" + name + b"\"\n"
            b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(data))

def mixed(mid, subj, to, parts):
    m = head(mid, subj, to, b"Content-Type: multipart/mixed; boundary=\"top\"\n") + b"\n"
    for p in parts:
        m += b"--top\n" + p + b"\n"
    return m + b"--top--\n"

def text(s):
    return b"Content-Type: text/plain; charset=utf-8\n\n" + s + b"\n"

def gen(d):
    def w(name, b):
        with open(os.path.join(d, name + ".eml"), "wb") as f:
            f.write(b)
    # 200 nested multipart/mixed entities, each with its own boundary.
    inner = text(b"MARK-deep innermost text")
    for i in range(199, 0, -1):
        inner = (b"Content-Type: multipart/mixed; boundary=\"b%d\"\n\n--b%d\n" % (i, i) +
                 inner + b"--b%d--\n" % i)
    w("deep", head("deep", b"hostile deep",
                   extra=b"Content-Type: multipart/mixed; boundary=\"b0\"\n") +
      b"\n--b0\n" + inner + b"--b0--\n")
    w("colons", head("colons", b"hostile colons", extra=b"X-Colons: " + b":" * 100000 + b"\n") +
      b"\nMARK-colons body\n")
    w("big", mixed("big", b"hostile big", "alerts@example.com",
                   [text(b"MARK-big"),
                    att(os.urandom(20 * 1024 * 1024), b"application/octet-stream", b"big.bin")]))
    filler = b"".join(b"MARK-decoded filler line %08d\n" % i for i in range(5632 * 1024 // 32))
    w("decoded", mixed("decoded", b"hostile decoded", "alerts@example.com",
                       [text(b"MARK-decoded"), att(filler, b"text/plain", b"filler.txt")]))
    w("parts", mixed("parts", b"hostile parts", "alerts@example.com",
                     [text(b"MARK-parts %d" % i) for i in range(150)]))
    # Billion laughs: lol9 would be 10^9 "lol"s.
    ents = b"".join(b" <!ENTITY lol%d \"%s\">\n" %
                    (i, (b"&lol%s;" % (b"" if i == 1 else b"%d" % (i - 1))) * 10)
                    for i in range(1, 10))
    lol = (b"<?xml version=\"1.0\"?>\n<!DOCTYPE IODEF-Document [\n <!ENTITY lol \"lol\">\n" +
           ents + b"]>\n<IODEF-Document version=\"2.00\" "
           b"xmlns=\"urn:ietf:params:xml:ns:iodef-2.0\"><Incident purpose=\"reporting\">"
           b"<IncidentID name=\"x\">LAUGHS-1</IncidentID><Description>&lol9;</Description>"
           b"</Incident></IODEF-Document>\n")
    w("laughs", mixed("laughs", b"hostile laughs MARK-laughs", "csirt@example.com",
                      [text(b"see the report"), att(lol, b"application/xml", b"laughs.xml")]))
    xxe = (b"<?xml version=\"1.0\"?>\n<!DOCTYPE IODEF-Document [ <!ENTITY xxe SYSTEM "
           b"\"file:///etc/passwd\"> ]>\n<IODEF-Document version=\"2.00\" "
           b"xmlns=\"urn:ietf:params:xml:ns:iodef-2.0\"><Incident purpose=\"reporting\">"
           b"<IncidentID name=\"x\">XXE-1</IncidentID><Description>&xxe;</Description>"
           b"</Incident></IODEF-Document>\n")
    w("xxe", mixed("xxe", b"hostile xxe MARK-xxe", "csirt@example.com",
                   [text(b"see the report"), att(xxe, b"application/xml", b"xxe.xml")]))
    w("utf8", head("utf8", b"hostile utf8 \xff\xfe bad \xc3\x28 MARK-utf8",
                   extra=b"Content-Type: text/plain; charset=utf-8\n"
                         b"Content-Transfer-Encoding: 8bit\n") +
      b"\nbody \xc0\xaf overlong \xed\xa0\x80 surrogate \xf8\x88\x80\x80\x80 five MARK-utf8 \xe2\x82\n")

def send(port, to, path):
    with open(path, "rb") as f:
        data = re.sub(rb"(?<!\r)\n", b"\r\n", f.read())   # smtplib leaves bytes as they are
    s = smtplib.SMTP("127.0.0.1", int(port), timeout=300)
    s.ehlo("client.test")
    s.mail("mon@mon.example.net")
    s.rcpt(to)
    code, msg = s.data(data)
    s.quit()
    print(code, msg.decode(errors="replace"))

def raw(port, to):
    # Sent byte for byte: the body holds "\n.\n" (a bare-LF dot line) and
    # DATA ends with CRLF.CRLF.  Prints every reply line.
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=60)
    f = s.makefile("rb")
    out = []
    def reply():
        r = f.readline()
        while r[3:4] == b"-":
            r = f.readline()
        out.append(r.decode(errors="replace").strip())
    reply()
    for c in (b"HELO client.test", b"MAIL FROM:<mon@mon.example.net>",
              b"RCPT TO:<" + to.encode() + b">", b"DATA"):
        s.sendall(c + b"\r\n")
        reply()
    s.sendall(b"From: mon@mon.example.net\r\nTo: " + to.encode() + b"\r\n"
              b"Subject: hostile lfdot\r\nMessage-ID: <lfdot@mon.example.net>\r\n"
              b"X-Alert-Severity: high\r\nX-Alert-Type: hostile.test\r\n\r\n"
              b"before the dot line MARK-lfdot-1\nbare LF line\n.\n"
              b"after the dot line MARK-lfdot-2\r\n.\r\n")
    s.settimeout(5)
    try:
        while True:
            r = f.readline()
            if not r:
                break
            out.append(r.decode(errors="replace").strip())
    except socket.timeout:
        pass
    print("\n".join(out))

def body_hash(path):
    with open(path, "rb") as f:
        b = f.read().replace(b"\r\n", b"\n")
    return hashlib.sha256(b.split(b"\n\n", 1)[1]).hexdigest()

def utf8_event(path, mark):
    # Every line strict UTF-8 and JSON; the event of mark: no lone
    # surrogates, U+FFFD where the body had invalid bytes.
    found = False
    with open(path, "rb") as f:
        for line in f:
            ev = json.loads(line.decode("utf-8", "strict"))
            json.dumps(ev, ensure_ascii=False).encode("utf-8", "strict")
            if mark in ev.get("title", ""):
                found = "\ufffd" in ev.get("summary", "") and mark in ev["summary"]
    return found

if __name__ == "__main__":
    a = sys.argv[2:]
    if sys.argv[1] == "gen":
        gen(a[0])
    elif sys.argv[1] == "send":
        send(*a)
    elif sys.argv[1] == "raw":
        raw(*a)
    elif sys.argv[1] == "bodyhash":
        print(body_hash(a[0]))
    elif sys.argv[1] == "utf8":
        sys.exit(0 if utf8_event(*a) else 1)
PY
python3 "$T/hostile.py" gen "$T" || bail "cannot generate the hostile mails"

# Under ASan (--enable-sanitizers) freed memory stays in a quarantine, 256 MB
# by default, which would hide what the daemon really keeps: 16 MB still
# catches a use after free of the buffers of the last mail.
ASAN_KB=0
if ldd "$ABD" 2>/dev/null | grep -q libasan; then
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16"
	ASAN_KB=$((16 * 1024))
fi

plan 51

ab_start_daemon "$T/ab.conf"
ok "daemon listens on the milter socket" wait_for 10 grep -q "milter listening" "$T/daemon.log"
postfix -c "$PF/etc" start >"$T/pfstart.log" 2>&1
ok "private postfix instance starts" wait_for 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SPORT"
hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$DPID/status"; }   # kB
HWM0=$(hwm)

QID=
# sendm NAME TO: send NAME.eml, keep the SMTP answer in NAME.smtp and its queue id in QID.
sendm() {
	python3 "$T/hostile.py" send "$SPORT" "$2" "$T/$1.eml" >"$T/$1.smtp" 2>&1
	QID=$(sed -n 's/.*queued as \([0-9A-F]*\).*/\1/p' "$T/$1.smtp")
}
# The delivered copy of NAME (by its Message-ID) in mailbox BOX.
delivered() { grep -l "^Message-ID: <$2@mon.example.net>" "$T/mail/$1/new/"* 2>/dev/null | head -1; }
is_delivered() { [ -n "$(delivered "$1" "$2")" ]; }
# The same daemon process, still running: started once, its pid in the last line.
alive() {
	kill -0 "$DPID" 2>/dev/null && [ "$(grep -c ' started: ' "$T/daemon.log")" -eq 1 ] &&
		tail -n 1 "$T/daemon.log" | grep -q "^alertbridged\[$DPID\]: "
}
# logged PATTERN: a daemon log line for this mail (queue id) matching PATTERN; shown as diag.
logged() {
	local l
	[ -n "$QID" ] && wait_for 10 grep -q "milter: $QID: .*$1" "$T/daemon.log" || return 1
	l=$(grep "milter: $QID: .*$1" "$T/daemon.log" | head -1)
	echo "#   log: $l"
}
# untouched NAME: delivered to alerts, body byte-identical to what was sent, no
# X-Alertbridge-Event header, no event.
untouched() {
	local f
	wait_for 60 is_delivered alerts "$1" || return 1
	f=$(delivered alerts "$1")
	[ "$(python3 "$T/hostile.py" bodyhash "$f")" = "$(python3 "$T/hostile.py" bodyhash "$T/$1.eml")" ] &&
		! grep -q '^X-Alertbridge-Event:' "$f" && no_event "$1"
}
# no_event NAME: the store (it must exist) holds no event of mail NAME, and
# the file channel (none yet before the first event) has none either.
no_event() {
	python3 - "$T/state/store.db" "$1@" <<'PY' || return 1
import json, os, sqlite3, sys
if not os.path.exists(sys.argv[1]):
    sys.exit("# no store " + sys.argv[1])
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=30)
for (j,) in db.execute("SELECT json FROM events"):
    if json.loads(j).get("origin", {}).get("message_id", "").startswith(sys.argv[2]):
        sys.exit(1)
PY
	! grep -q "message_id\":\"$1@" "$T/state/events.jsonl" 2>/dev/null
}
event_of() { grep "\"message_id\":\"$1@mon.example.net\"" "$T/state/events.jsonl" 2>/dev/null | head -1; }
id_of() { event_of "$1" | sed -n 's/.*"id":"\([0-9a-f]*\)".*/\1/p'; }
# with_event BOX NAME: delivered, body byte-identical, X-Alertbridge-Event: <id of its event>.
with_event() {
	local f id
	wait_for 60 is_delivered "$1" "$2" || return 1
	f=$(delivered "$1" "$2"); id=$(id_of "$2")
	[ -n "$id" ] && grep -q "^X-Alertbridge-Event: $id" "$f" &&
		[ "$(python3 "$T/hostile.py" bodyhash "$f")" = "$(python3 "$T/hostile.py" bodyhash "$T/$2.eml")" ]
}

# 1. 200-deep MIME nesting: over max_depth, passed untouched.
sendm deep alerts@example.com
like "deep: accepted by Postfix" "$(cat "$T/deep.smtp")" "^250 2.0.0 Ok: queued"
ok "deep: log line names max_depth" logged "MIME nesting deeper than max_depth 20.*passed untouched"
ok "deep: delivered untouched (body identical), no event" untouched deep
ok "deep: same daemon still running" alive

# 2. A header of 100,000 colons (cut to 60,000 by Postfix): over max_header.
sendm colons alerts@example.com
like "colons: accepted by Postfix" "$(cat "$T/colons.smtp")" "^250 2.0.0 Ok: queued"
ok "colons: log line names max_header" logged "a header of 59990 bytes is over max_header (32768)"
ok "colons: delivered untouched (body identical), no event" untouched colons
ok "colons: same daemon still running" alive

# 3. A 20 MB attachment (27 MB message): over max_message, memory bounded.
sendm big alerts@example.com
like "big: accepted by Postfix" "$(cat "$T/big.smtp")" "^250 2.0.0 Ok: queued"
ok "big: log line names max_message" logged "message over max_message ($MAX_MESSAGE bytes): mail passed untouched"
ok "big: delivered untouched (27 MB body identical), no event" untouched big
ok "big: same daemon still running" alive
# Memory bounds, in kB over the daemon's high-water mark at start (HWM0),
# each plus 16 MB for what the first mails bring in once (thread stacks,
# malloc arenas, GMime/libxml2 state, SQLite cache):
#  - the milter holds at most max_message + 1 bytes of a message (a capped
#    buffer, freed as soon as a mail is over it): the 20 MB mail may cost
#    1 x max_message.  A daemon that kept its 27 MB would be over that.
#  - a mail under the limit adds, while parsed, GMime's copy of it (<=
#    max_message), the decoded text (<= max_decoded < max_message) and a
#    realloc's old+new buffers: 4 x max_message for any mail.
# Under ASan realloc always copies (old and new buffers live at once, the
# old one then in the quarantine) and the heap has a shadow of 1/8: twice
# the factor, plus the shadow and the 16 MB quarantine.
M=$((MAX_MESSAGE / 1024))
if [ "$ASAN_KB" -gt 0 ]; then
	BOUND_BIG=$((HWM0 + 2 * M + 2 * M / 8 + ASAN_KB + 16384))
	BOUND=$((HWM0 + 8 * M + 8 * M / 8 + ASAN_KB + 16384))
else
	BOUND_BIG=$((HWM0 + M + 16384))
	BOUND=$((HWM0 + 4 * M + 16384))
fi
HWM1=$(hwm)
diag "VmHWM at start ${HWM0} kB, after the 20 MB mail ${HWM1} kB (bound ${BOUND_BIG} kB)"
ok "big: VmHWM after the 20 MB mail under max_message + base" test "$HWM1" -lt "$BOUND_BIG"

# 4. Decoded size: a 5.5 MB text attachment, under max_message, over max_decoded.
sendm decoded alerts@example.com
like "decoded: accepted by Postfix" "$(cat "$T/decoded.smtp")" "^250 2.0.0 Ok: queued"
ok "decoded: log line names max_decoded" logged "decoded content over max_decoded 5242880"
ok "decoded: delivered untouched (body identical), no event" untouched decoded
ok "decoded: same daemon still running" alive

# 5. Part count: 150 parts, over max_parts.
sendm parts alerts@example.com
like "parts: accepted by Postfix" "$(cat "$T/parts.smtp")" "^250 2.0.0 Ok: queued"
ok "parts: log line names max_parts" logged "more than max_parts 100 MIME parts"
ok "parts: delivered untouched (body identical), no event" untouched parts
ok "parts: same daemon still running" alive

# 6/7. XML with billion laughs / an external entity to /etc/passwd (iodef
# profile): the DOCTYPE is refused, the mail still makes its event (from
# the subject and the profile's fallback) and is delivered with it.
noexpand() {   # nothing expanded or read anywhere: events, mailboxes, logs
	local f
	for f in "$T/state/events.jsonl" "$T/daemon.log" "$T/postfix.log" "$T/mail/csirt/new/"*; do
		grep -q "lollol" "$f" && return 1
		grep -qF "$(head -n 1 /etc/passwd)" "$f" && return 1
	done
	[ "$(stat -c %s "$T/state/events.jsonl")" -lt 65536 ]
}
for x in laughs xxe; do
	sendm $x csirt@example.com
	like "$x: accepted by Postfix" "$(cat "$T/$x.smtp")" "^250 2.0.0 Ok: queued"
	ok "$x: event exists, made from the subject" wait_for 20 bash -c \
		"grep -q '\"title\":\"hostile $x MARK-$x\"' '$T/state/events.jsonl'"
	like "$x: event says the XML was refused" "$(event_of $x)" \
		"\"xml_refused\":\"attachment $x.xml: XML with a DOCTYPE refused, entities not expanded\""
	ok "$x: log line names the refused DOCTYPE" logged "attachment $x.xml: XML with a DOCTYPE refused"
	ok "$x: delivered (body identical) with X-Alertbridge-Event: <id>" with_event csirt $x
	ok "$x: no entity expanded or file read (events, mailbox, logs)" noexpand
	ok "$x: same daemon still running" alive
done

# 8. Invalid UTF-8 in subject and body.
sendm utf8 alerts@example.com
like "utf8: accepted by Postfix" "$(cat "$T/utf8.smtp")" "^250 2.0.0 Ok: queued"
ok "utf8: event exists" wait_for 20 bash -c "grep -q 'MARK-utf8' '$T/state/events.jsonl'"
ok "utf8: event file is strict UTF-8 JSON, U+FFFD for the bad bytes" \
	python3 "$T/hostile.py" utf8 "$T/state/events.jsonl" MARK-utf8
ok "utf8: log line with the event id" logged "event $(id_of utf8) .* from source hostile"
ok "utf8: log line says invalid UTF-8 was replaced" \
	logged "event $(id_of utf8): invalid UTF-8 in [1-9][0-9]* header(s)/part(s) replaced with U+FFFD"
ok "utf8: delivered (body bytes identical) with X-Alertbridge-Event: <id>" with_event alerts utf8
ok "utf8: same daemon still running" alive

# 9. A bare-LF dot line, sent raw.  Postfix 3.7 (smtpd_forbid_bare_newline
# = no, Debian 12's default; newer ones exclude $mynetworks) takes "\n.\n"
# as the end of DATA and answers what follows as unknown commands: the
# milter must see exactly the message Postfix queued, no more.
python3 "$T/hostile.py" raw "$SPORT" alerts@example.com >"$T/lfdot.smtp" 2>&1
QID=$(sed -n 's/.*queued as \([0-9A-F]*\).*/\1/p' "$T/lfdot.smtp")
like "lfdot: Postfix queues the message ending at the bare-LF dot" "$(cat "$T/lfdot.smtp")" \
	"250 2.0.0 Ok: queued as"
ok "lfdot: event from the queued part only" wait_for 20 bash -c \
	"grep -q 'before the dot line MARK-lfdot-1' '$T/state/events.jsonl' && ! grep -q 'MARK-lfdot-2' '$T/state/events.jsonl'"
ok "lfdot: log line with the event id" logged "event $(id_of lfdot) .* from source hostile"
ok "lfdot: delivered with X-Alertbridge-Event: <id>" bash -c \
	"f=\$(grep -l '^Message-ID: <lfdot@' '$T/mail/alerts/new/'*) && grep -q '^X-Alertbridge-Event: $(id_of lfdot)' \"\$f\" && grep -q MARK-lfdot-1 \"\$f\""
ok "lfdot: same daemon still running" alive

HWM2=$(hwm)
diag "VmHWM after all the hostile mails ${HWM2} kB (bound ${BOUND} kB)"
ok "VmHWM after all the hostile mails under 4 x max_message + base" test "$HWM2" -lt "$BOUND"

ab_stop_daemon; rc=$?
is "SIGTERM stops the daemon cleanly" "$rc" 0
[ "$TAP_FAILED" -eq 0 ] || { ab_show_log "daemon log" "$T/daemon.log" 30
	ab_show_log "postfix log" "$T/postfix.log" 30; }
