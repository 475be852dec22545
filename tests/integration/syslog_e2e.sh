#!/bin/bash
# syslog_e2e.sh - syslog ingestion end to end with the real daemon, real
# logger(1) and a real private rsyslogd: UDP, TCP (LF and octet counting),
# unix datagram, TLS with a test CA and client-certificate verification
# (openssl s_client and rsyslog's ossl driver), 10,000 numbered lines over
# TCP (sequence checked at the file channel), kill -9 during a TCP burst
# (every line counted as received before the kill is delivered after the
# restart), hostile lines, and the parse / explain / syslog status commands.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"
ab_tmpdir absyslog

command -v rsyslogd >/dev/null || bail "rsyslogd not installed (contrib/install-deps.sh --test)"
[ -f /usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_ossl.so ] || [ -n "$(find /usr/lib -name lmnsd_ossl.so 2>/dev/null | head -1)" ] ||
	bail "rsyslog-openssl not installed (contrib/install-deps.sh --test)"

ab_plugins file

# Free loopback ports: 4 for alertbridged, 4 for rsyslog's inputs.
read -r P_UDP P_TCP P_TLS P_TLS2 R_UDP R_TCP R_OCT R_TLS < <(ab_free_port 8)

# Test CA, server and client certificates.
( cd "$T" &&
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=ab test CA" &&
  openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=alertbridge.test" &&
  printf 'subjectAltName=DNS:alertbridge.test,IP:127.0.0.1\n' > san.ext &&
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile san.ext &&
  openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj "/CN=rsyslog.test" &&
  openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2 &&
  openssl req -x509 -newkey rsa:2048 -nodes -keyout rogue.key -out rogue.pem -days 2 -subj "/CN=rogue"
) > "$T/openssl.log" 2>&1 || bail "openssl could not make the test certificates"

cat > "$T/ab.conf" <<CONF
state_dir = "$T/state";
plugin_dir = "$T/plugins";
log = { level = "info"; };
dispatch = { workers = 2; poll = "50ms"; };
channels = ( { name = "file"; type = "file"; path = "events.jsonl"; } );
default = ["file"];
syslog = {
  high_water = 1000000;
  listeners = (
    { name = "udp"; proto = "udp"; address = "127.0.0.1:$P_UDP"; },
    { name = "tcp"; proto = "tcp"; address = "127.0.0.1:$P_TCP"; max_message = 8192; },
    { name = "tls"; proto = "tls"; address = "127.0.0.1:$P_TLS"; tls_cert = "$T/server.pem";
      tls_key = "$T/server.key"; tls_ca = "$T/ca.pem"; tls_verify_client = true; },
    { name = "local"; proto = "unix"; address = "$T/syslog.sock"; }
  );
  sources = (
    { name = "noise"; apps = ["noisy"]; drop = true; },
    { name = "ids"; apps = ["suricata"]; }
  );
};
CONF

idle() { [ "$(stat journal.backlog)" = 0 ] && [ -z "$("$AB" -c "$T/ab.conf" queue list 2>/dev/null)" ]; }
has() { [ -f "$T/state/events.jsonl" ] && grep -qF -- "$1" "$T/state/events.jsonl"; }
count() { [ -f "$T/state/events.jsonl" ] && grep -cF -- "$1" "$T/state/events.jsonl" || echo 0; }
stat() { python3 -c 'import json,sys
j = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): j = j.get(k, -1) if isinstance(j, dict) else -1
print(j)' "$T/state/syslog.status" "$1" 2>/dev/null || echo -1; }
stat_ge() { [ "$(stat "$1")" -ge "$2" ] 2>/dev/null; }
listening() { [ "$(grep -c 'syslog: listening on' "$T/daemon.log")" -ge "$1" ]; }

plan 40

out=$("$AB" -c "$T/ab.conf" check 2>&1); rc=$?
is "check accepts the syslog section" "$rc" 0
ab_start_daemon "$T/ab.conf"
ok "daemon starts 4 listeners" wait_for 10 listening 4
# top -H and perf --sort comm show what each thread is
thread_names() {
	local c n
	c=" $(cat /proc/"$DPID"/task/*/comm 2>/dev/null | sort -u | tr '\n' ' ')"
	for n in ab-syslog ab-commit ab-journal ab-mover ab-worker-1 ab-scheduler; do
		case $c in *" $n "*) ;; *) diag "no thread $n among:$c"; return 1;; esac
	done
}
ok "the daemon's threads are named" thread_names

# ---- logger over each transport
logger --udp -n 127.0.0.1 -P "$P_UDP" -t ltest "logger-udp-1"
logger --tcp -n 127.0.0.1 -P "$P_TCP" -t ltest "logger-tcp-lf-1"
logger --tcp --octet-count -n 127.0.0.1 -P "$P_TCP" -t ltest "logger-tcp-octet-1"
logger --rfc5424 --tcp --octet-count -n 127.0.0.1 -P "$P_TCP" -t ltest --sd-id 'alert@32473' --sd-param 'sev="high"' "logger-5424-1"
logger -d -u "$T/syslog.sock" -t ltest "logger-unix-1"
logger --tcp -n 127.0.0.1 -P "$P_TCP" -t noisy "logger-dropped-1"
logger --tcp -n 127.0.0.1 -P "$P_TCP" -t suricata "logger-ids-1"
ok "logger UDP line arrives" wait_for 20 has logger-udp-1
ok "logger TCP LF line arrives" wait_for 20 has logger-tcp-lf-1
ok "logger TCP octet-counted line arrives" wait_for 20 has logger-tcp-octet-1
ok "logger RFC 5424 line arrives" wait_for 20 has logger-5424-1
ok "RFC 5424 structured data became fields" grep -q '"sd.alert@32473.sev":"high"' "$T/state/events.jsonl"
ok "logger unix datagram line arrives" wait_for 20 has logger-unix-1
ok "source 'ids' names the event source" wait_for 20 grep -q '"source":"ids".*logger-ids-1\|logger-ids-1.*"source":"ids"' "$T/state/events.jsonl"
ok "source with drop = true keeps the line out" wait_for 20 stat_ge dropped_by_source 1
lacks "dropped line is not delivered" "$T/state/events.jsonl" logger-dropped-1

# ---- TLS: openssl s_client with and without a client certificate
printf '<13>1 2026-11-23T09:00:00Z tlshost app - - - tls-sclient-1\n' |
	timeout 20 openssl s_client -quiet -no_ign_eof -connect "127.0.0.1:$P_TLS" -CAfile "$T/ca.pem" \
	-cert "$T/client.pem" -key "$T/client.key" >/dev/null 2>&1
ok "TLS client with a CA-signed certificate is accepted" wait_for 20 has tls-sclient-1
printf '<13>tls-rogue-1\n' | timeout 20 openssl s_client -quiet -no_ign_eof -connect "127.0.0.1:$P_TLS" \
	-CAfile "$T/ca.pem" -cert "$T/rogue.pem" -key "$T/rogue.key" >/dev/null 2>&1
printf '<13>tls-nocert-1\n' | timeout 20 openssl s_client -quiet -no_ign_eof -connect "127.0.0.1:$P_TLS" \
	-CAfile "$T/ca.pem" >/dev/null 2>&1
ok "TLS clients without a valid certificate are refused and counted" wait_for 20 stat_ge tls_failures 2
lacks "no line from the refused TLS clients" "$T/state/events.jsonl" -e tls-rogue-1 -e tls-nocert-1

# ---- real rsyslog forwarding over UDP, TCP (LF), TCP (octet counted) and TLS (ossl)
mkdir -p "$T/rsyslog"
cat > "$T/rsyslog.conf" <<RS
global(workDirectory="$T/rsyslog" maxMessageSize="64k"
       defaultNetstreamDriverCAFile="$T/ca.pem"
       defaultNetstreamDriverCertFile="$T/client.pem"
       defaultNetstreamDriverKeyFile="$T/client.key")
module(load="imtcp")
input(type="imtcp" port="$R_UDP" address="127.0.0.1" ruleset="to_udp")
input(type="imtcp" port="$R_TCP" address="127.0.0.1" ruleset="to_tcp")
input(type="imtcp" port="$R_OCT" address="127.0.0.1" ruleset="to_oct")
input(type="imtcp" port="$R_TLS" address="127.0.0.1" ruleset="to_tls")
ruleset(name="to_udp") { action(type="omfwd" target="127.0.0.1" port="$P_UDP" protocol="udp") }
ruleset(name="to_tcp") { action(type="omfwd" target="127.0.0.1" port="$P_TCP" protocol="tcp") }
ruleset(name="to_oct") { action(type="omfwd" target="127.0.0.1" port="$P_TCP" protocol="tcp"
	TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format") }
ruleset(name="to_tls") { action(type="omfwd" target="127.0.0.1" port="$P_TLS" protocol="tcp"
	StreamDriver="ossl" StreamDriverMode="1" StreamDriverAuthMode="x509/name"
	StreamDriverPermittedPeers="alertbridge.test" template="RSYSLOG_SyslogProtocol23Format") }
RS
ab_spawn "$T/rsyslog.log" rsyslogd -n -f "$T/rsyslog.conf" -i "$T/rsyslog.pid"; RPID=$AB_PID
rs_up() { python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$R_TLS" 2>/dev/null; }
ok "private rsyslogd starts" wait_for 20 rs_up
for i in 1 2 3; do
	logger --tcp -n 127.0.0.1 -P "$R_UDP" -t rstest "rsyslog-udp-$i"
	logger --tcp -n 127.0.0.1 -P "$R_TCP" -t rstest "rsyslog-tcp-$i"
	logger --tcp -n 127.0.0.1 -P "$R_OCT" -t rstest "rsyslog-octet-$i"
	logger --tcp -n 127.0.0.1 -P "$R_TLS" -t rstest "rsyslog-tls-$i"
done
ok "rsyslog omfwd UDP lines arrive" wait_for 30 has rsyslog-udp-3
ok "rsyslog omfwd TCP lines arrive" wait_for 30 has rsyslog-tcp-3
ok "rsyslog omfwd octet-counted RFC 5424 lines arrive" wait_for 30 has rsyslog-octet-3
ok "rsyslog omfwd TLS (ossl, x509/name, client cert) lines arrive" wait_for 30 has rsyslog-tls-3
# the lines go out in separate connections and two workers write them, so
# -3 of a kind may land before -1 or -2: wait for every one
rs_count() { n=0; for k in udp tcp octet tls; do for i in 1 2 3; do has "rsyslog-$k-$i" && n=$((n + 1)); done; done; }
rs_all() { rs_count; [ "$n" -eq 12 ]; }
wait_for 30 rs_all; rs_count
is "all 12 rsyslog lines arrived" "$n" 12
ab_stop_daemon "$RPID" >/dev/null

# ---- 10,000 numbered lines over one TCP connection
seq -f 'burst-%g-end' 1 10000 > "$T/burst.txt"
logger --tcp --octet-count -n 127.0.0.1 -P "$P_TCP" -t burst -f "$T/burst.txt"
burst_done() { [ "$(grep -o 'burst-[0-9]*-end' "$T/state/events.jsonl" | sort -u | wc -l)" -ge 10000 ]; }
ok "10,000 numbered TCP lines delivered" wait_for 120 burst_done
got=$(grep -o 'burst-[0-9]*-end' "$T/state/events.jsonl" | sort -u | sed 's/burst-\([0-9]*\)-end/\1/' | sort -n)
is "sequence 1..10000 complete, no gaps" "$(echo "$got" | head -1),$(echo "$got" | tail -1),$(echo "$got" | wc -l)" "1,10000,10000"

# ---- hostile lines
exec 3<>/dev/tcp/127.0.0.1/"$P_TCP"; printf '<999>hostile-pri-999\n' >&3; exec 3>&-
exec 3<>/dev/tcp/127.0.0.1/"$P_TCP"; printf '99999999999 <13>hostile-count\n' >&3; exec 3>&-
python3 - "$P_TCP" "$P_UDP" <<'PY'
import socket, sys
tcp, udp = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", tcp))
s.sendall(b"<13>hostile-big " + b"A" * (1024 * 1024) + b"\n")
s.sendall(b"<13>CEF:0|Vendor|Product|1.0|100|hostile-cef|7|msg=" + b"\\|" * 10000 + b"\n")
s.sendall(b"<13>hostile-utf8 \xff\xfe\xc3\x28 end\n")
s.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b"<13>hostile-nul a\x00b\x00c", ("127.0.0.1", udp))
PY
ok "PRI <999> is handled (event delivered)" wait_for 20 has hostile-pri-999
ok "octet count 99999999999 closes the connection (counted)" wait_for 20 stat_ge framing_errors 1
ok "1 MiB line: delivered truncated and marked" wait_for 20 grep -q 'hostile-big.*"syslog.truncated":true\|"syslog.truncated":true.*hostile-big' "$T/state/events.jsonl"
ok "CEF with 10,000 escaped pipes parsed" wait_for 20 grep -q '"title":"hostile-cef"' "$T/state/events.jsonl"
ok "invalid UTF-8 delivered (repaired)" wait_for 20 has hostile-utf8
ok "NUL bytes in a datagram delivered" wait_for 20 has hostile-nul
ok "every line of the file channel is valid JSON" python3 -c '
import json, sys
for l in open(sys.argv[1], encoding="utf-8"): json.loads(l)' "$T/state/events.jsonl"
hwm=$(awk '/VmHWM/ {print $2}' /proc/"$DPID"/status)
diag "daemon peak RSS after the hostile lines: ${hwm} kB"
# ASan keeps freed memory in quarantine and shadow: a looser bound there.
limit=262144; ldd "$ABD" 2>/dev/null | grep -q libasan && limit=1048576
ok "daemon alive with bounded memory (peak RSS < $((limit / 1024)) MiB)" test "${hwm:-999999}" -lt "$limit"

# ---- kill -9 during a TCP burst: nothing counted as received is lost
python3 - "$P_TCP" > "$T/sender.log" 2>&1 <<'PY' &
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
try:
    for i in range(1, 200001):
        s.sendall(b"<13>kill-%d-end\n" % i)
except OSError as e:
    print("sender stopped at", i, e)
PY
SPID=$!; ab_track "$SPID"
before=$(stat received)
ok "burst is being received" wait_for 60 stat_ge received $((before + 2000))
ab_kill_daemon
C=$(( $(stat received) - before ))
diag "lines counted as received before kill -9: $C"
ab_stop_daemon "$SPID" >/dev/null
ab_start_daemon "$T/ab.conf"
ok "restarted daemon drains the queue" wait_for 120 idle
seen=$(grep -o 'kill-[0-9]*-end' "$T/state/events.jsonl" | sed 's/kill-\([0-9]*\)-end/\1/' | sort -nu)
lost=$(echo "$seen" | awk -v c="$C" '$1 <= c' | wc -l)
is "every line counted before the kill was delivered (1..$C)" "$lost" "$C"

# ---- operator commands
out=$("$AB" -c "$T/ab.conf" syslog status); rc=$?
is "syslog status runs" "$rc" 0
like "syslog status shows counters and listeners" "$out" "received +[0-9]+.*|listener tcp"
out=$("$AB" -c "$T/ab.conf" parse --syslog '<165>1 2026-11-23T09:00:00.123+01:00 fw1 suricata 99 ID47 [ex@32473 iut="3"] CEF:0|Security|IDS|1.0|100|SQL injection|9|src=10.0.0.1')
like "parse --syslog prints the event JSON" "$out" '"severity":"critical".*"source":"ids"|"source":"ids".*"severity":"critical"'
printf '<13>file-line-1\n<13>file-line-2\n\n<13>file-line-3' > "$T/lines.txt"
is "parse --syslog-file prints one event per line" "$("$AB" -c "$T/ab.conf" parse --syslog-file "$T/lines.txt" | wc -l)" 3
out=$("$AB" -c "$T/ab.conf" explain --syslog '<13>Nov 23 09:00:00 web1 suricata[1]: alert' 2>&1)
like "explain --syslog shows the source and the routing" "$out" "syslog source: 'ids'.*|default"

ab_stop_daemon; rc=$?
is "SIGTERM: clean exit" "$rc" 0
[ "$TAP_FAILED" -eq 0 ] || { ab_show_log "daemon log" "$T/daemon.log" 40; ab_show_log "rsyslog" "$T/rsyslog.log" 20; }
