#!/bin/bash
# syslog_relp.sh - the RELP listener (proto "relp") with the real daemon and
# a real private rsyslogd forwarding with omrelp: 10,000 numbered lines
# while alertbridged is killed with SIGKILL and restarted several times
# (AB_SOAK=1: 20 kills); every line must reach the file channel (0 lost;
# duplicates, lines resent after a kill, are counted and printed).  Then
# RELP over TLS with rsyslog (tls.authmode certvalid) and the protocol by
# hand: answers, errors, a broken frame, an oversize message.
# AB_SOAK=1 (or AB_RELP_COMPARE=1) also runs the same kills with rsyslog
# omfwd over plain TCP and prints how many lines that lost (no assertion:
# TCP has no answer, losses there are expected).
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"
ab_tmpdir abrelp

command -v rsyslogd >/dev/null || bail "rsyslogd not installed (contrib/install-deps.sh --test)"
[ -n "$(find /usr/lib -name omrelp.so 2>/dev/null | head -1)" ] ||
	bail "rsyslog-relp not installed (contrib/install-deps.sh --test)"
ab_plugins file

read -r P_RELP P_RTLS P_TCP R_IN R_CMP < <(ab_free_port 5)
ASAN=0; ldd "$ABD" 2>/dev/null | grep -q libasan && ASAN=1
KILLS=3; COMPARE=${AB_RELP_COMPARE:-0}
[ "${AB_SOAK:-0}" = 1 ] && KILLS=20 COMPARE=1
LINES=10000

# Test CA and server certificate (tests/lib/mkcert.sh), and rsyslog's client certificate.
sh "$top_srcdir/tests/lib/mkcert.sh" "$T" || bail "mkcert failed"
( cd "$T" &&
  openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj "/CN=rsyslog.test" &&
  openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2
) > "$T/openssl.log" 2>&1 || bail "openssl could not make the client certificate"

cat > "$T/ab.conf" <<CONF
state_dir = "$T/state";
plugin_dir = "$T/plugins";
log = { level = "info"; };
dispatch = { workers = 2; poll = "50ms"; };
channels = ( { name = "file"; type = "file"; path = "events.jsonl"; } );
default = ["file"];
syslog = {
  high_water = 10000000;
  listeners = (
    { name = "relp"; proto = "relp"; address = "127.0.0.1:$P_RELP"; max_message = 2048; },
    { name = "relptls"; proto = "relp"; address = "127.0.0.1:$P_RTLS"; tls_cert = "$T/server.pem";
      tls_key = "$T/server.key"; tls_ca = "$T/ca.pem"; tls_verify_client = true; },
    { name = "tcp"; proto = "tcp"; address = "127.0.0.1:$P_TCP"; }
  );
};
CONF

stat() { python3 -c 'import json,sys
j = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): j = j.get(k, -1) if isinstance(j, dict) else -1
print(j)' "$T/state/syslog.status" "$1" 2>/dev/null || echo -1; }
stat_ge() { [ "$(stat "$1")" -ge "$2" ] 2>/dev/null; }
has() { [ -f "$T/state/events.jsonl" ] && grep -qF -- "$1" "$T/state/events.jsonl"; }
listening() { [ "$(grep -c 'syslog: listening on' "$T/daemon.log")" -ge "$1" ]; }
# distinct "LABEL-N-end" numbers delivered (the title holds it once per event)
nums() { grep -o "\"title\":\"${1:-relp}-[0-9]*-end" "$T/state/events.jsonl" 2>/dev/null |
	sed 's/.*-\([0-9]*\)-end/\1/'; }
distinct() { nums "${1:-relp}" | sort -u | wc -l; }
all_in() { [ "$(distinct)" -ge "$LINES" ]; }
# kill_run LABEL PORT: LINES numbered lines into rsyslog's input PORT, paced
# over the kills; alertbridged is killed KILLS times and restarted.
kill_run() {
	# a kill round (sleep, kill, restart) takes ~3.5 s on a loaded box
	python3 - "$2" "$LINES" "$((KILLS * 4))" "$1" > "$T/sender-$1.log" 2>&1 <<'PY' &
import socket, sys, time
port, n, secs, label = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4].encode()
s = socket.create_connection(("127.0.0.1", port))
t0, step = time.time(), 50
for i in range(1, n + 1, step):
    s.sendall(b"".join(b"<13>Dec  6 10:00:00 relphost relptest: %s-%d-end\n" % (label, k)
                       for k in range(i, min(i + step, n + 1))))
    delay = t0 + secs * (i + step - 1) / n - time.time()
    if delay > 0:
        time.sleep(delay)
s.close()
print("sent", n, "in", round(time.time() - t0, 1), "s")
PY
	local spid=$! k before
	ab_track "$spid"
	for k in $(seq 1 "$KILLS"); do
		sleep "1.$((RANDOM % 10))"
		before=$(distinct "$1")
		ab_kill_daemon
		ab_start_daemon "$T/ab.conf" || bail "daemon did not restart after kill $k"
		diag "$1: kill $k: $before distinct lines delivered before it"
	done
	wait "$spid"
}

plan 15

out=$("$AB" -c "$T/ab.conf" check 2>&1); rc=$?
is "check accepts proto relp (plain and TLS)" "$rc" 0
ab_start_daemon "$T/ab.conf"
ok "daemon starts 3 listeners (2 RELP)" wait_for 10 listening 3

# ---- a private rsyslogd: imtcp in, omrelp out (plain and TLS), retrying
mkdir -p "$T/rsyslog"
cat > "$T/rsyslog.conf" <<RS
global(workDirectory="$T/rsyslog" maxMessageSize="64k")
module(load="imtcp")
module(load="omrelp")
input(type="imtcp" port="$R_IN" address="127.0.0.1" ruleset="fwd")
input(type="imtcp" port="$R_CMP" address="127.0.0.1" ruleset="cmp")
ruleset(name="cmp") {
  action(type="omfwd" target="127.0.0.1" port="$P_TCP" protocol="tcp"
    queue.type="LinkedList" queue.size="100000"
    action.resumeRetryCount="-1" action.resumeInterval="1")
}
ruleset(name="fwd") {
  if \$msg contains "relptls-" then {
    action(type="omrelp" target="127.0.0.1" port="$P_RTLS" tls="on" tls.authmode="certvalid"
      tls.cacert="$T/ca.pem" tls.mycert="$T/client.pem" tls.myprivkey="$T/client.key"
      action.resumeRetryCount="-1" action.resumeInterval="1")
  } else {
    action(type="omrelp" target="127.0.0.1" port="$P_RELP" windowSize="512"
      queue.type="LinkedList" queue.size="100000"
      action.resumeRetryCount="-1" action.resumeInterval="1")
  }
}
RS
ab_spawn "$T/rsyslog.log" rsyslogd -n -f "$T/rsyslog.conf" -i "$T/rsyslog.pid"; RPID=$AB_PID
rs_up() { python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$R_IN" 2>/dev/null; }
ok "private rsyslogd with omrelp starts" wait_for 20 rs_up

# ---- 10,000 numbered lines into rsyslog, paced over the kills
t0=$(date +%s.%N)
kill_run relp "$R_IN"
ok "all $LINES lines delivered after $KILLS kill -9" wait_for $((ASAN ? 300 : 120)) all_in
t1=$(date +%s.%N)
total=$(nums | wc -l)
got=$(distinct)
diag "$(cat "$T/sender-relp.log"); delivered $got distinct, $total in all: $((total - got)) duplicate(s) (resent after kills, allowed); $(python3 -c "print(round($t1 - $t0, 1))") s"
is "0 lines lost" "$((LINES - got))" 0
seq_ok=$(nums | sort -nu |
	awk 'NR == 1 { f = $1 } END { print f "," $1 "," NR }')
is "numbers 1..$LINES all present" "$seq_ok" "1,$LINES,$LINES"

# ---- RELP over TLS (rsyslog omrelp tls, client certificate verified)
for i in 1 2 3; do printf '<13>Dec  6 10:00:00 relphost relptest: relptls-%d\n' "$i"; done |
	python3 -c 'import socket,sys; s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); s.sendall(sys.stdin.buffer.read()); s.close()' "$R_IN"
ok "rsyslog omrelp over TLS (certvalid, client cert) lines arrive" wait_for 30 has relptls-3
ok "syslog status counts RELP lines as received" wait_for 10 stat_ge received 3

# ---- the same over plain TCP (omfwd), for comparison: figures only
if [ "$COMPARE" = 1 ]; then
	kill_run tcpcmp "$R_CMP"
	prev=-1; n=0
	while [ "$n" -lt 60 ] && [ "$(distinct tcpcmp)" != "$prev" ]; do   # until it settles
		prev=$(distinct tcpcmp); sleep 3; n=$((n + 3))
	done
	diag "omfwd over plain TCP, $LINES lines, $KILLS kill -9: $((LINES - $(distinct tcpcmp))) lost" \
		"($(distinct tcpcmp) distinct delivered, $(nums tcpcmp | wc -l) in all)"
fi
ab_stop_daemon "$RPID" >/dev/null

# ---- the protocol by hand
python3 - "$P_RELP" > "$T/proto.txt" 2>&1 <<'PY'
import socket, sys
port = int(sys.argv[1])
def fr(t, c, d=b""):
    return b"%d %s %d%s\n" % (t, c, len(d), (b" " + d) if d else b"")
def talk(data, wait_close=True):
    s = socket.create_connection(("127.0.0.1", port)); s.settimeout(10)
    s.sendall(data)
    buf = b""
    try:
        while True:
            d = s.recv(65536)
            if not d: break
            buf += d
            if not wait_close and buf.endswith(b"\n") and buf.count(b"\n") >= wait_close: break
    except socket.timeout:
        buf += b"<timeout>"
    s.close()
    return buf
op = fr(1, b"open", b"relp_version=0\nrelp_software=test\ncommands=syslog")
print("A", talk(op + fr(2, b"syslog", b"<13>proto-ok-1") + fr(3, b"starttls") + fr(4, b"close")))
print("B", talk(fr(1, b"syslog", b"<13>proto-before-open")))
print("C", talk(b"hello world\n"))
print("D", talk(op + fr(2, b"syslog", b"<13>proto-big " + b"A" * 5000) + fr(3, b"close")))
print("E", talk(op + b"2 syslog 5 <13>short\n"))
PY
like "open, syslog, unknown command, close answered in order" "$(grep '^A' "$T/proto.txt")" \
	"1 rsp [0-9]+ 200 OK.nrelp_version=0.*commands=syslog.n2 rsp 6 200 OK.n3 rsp 25 500 command not supported.n4 rsp 0.n'"
ok "the line of that session arrives" wait_for 20 has proto-ok-1
like "syslog before open: 500 and the session ends" "$(grep '^B' "$T/proto.txt")" "1 rsp [0-9]+ 500 "
lacks "the line sent before open is not taken" "$T/state/events.jsonl" proto-before-open
ok "garbage and a bad trailer count as framing errors" wait_for 10 stat_ge framing_errors 2
ok "oversize message delivered truncated and marked" wait_for 20 grep -q 'proto-big.*"syslog.truncated":true\|"syslog.truncated":true.*proto-big' "$T/state/events.jsonl"

ab_stop_daemon; rc=$?
is "SIGTERM: clean exit" "$rc" 0
[ "$TAP_FAILED" -eq 0 ] || { ab_show_log "daemon log" "$T/daemon.log" 40; ab_show_log "rsyslog" "$T/rsyslog.log" 20; cat "$T/proto.txt"; }
