#!/bin/bash
# syslog_lockout.sh - one client cannot lock the others out of a syslog
# listener: it opens many idle connections (from 127.0.0.2, another loopback
# address, so that the daemon sees two sources) to the TCP, TLS and RELP
# listeners; past max_conns_per_source its connections are refused at
# once (counted in the status file and `syslog status`), while another
# sender's lines (logger over TCP, openssl s_client over TLS, RELP by hand,
# from 127.0.0.1) all arrive; the hog's silent connections are closed after
# idle_timeout_silent.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"
ab_tmpdir ablockout
ab_plugins file

python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.2", 0))' 2>/dev/null ||
	bail "cannot bind 127.0.0.2 (the loopback network is needed)"
read -r P_TCP P_TLS P_RELP < <(ab_free_port 3)
sh "$top_srcdir/tests/lib/mkcert.sh" "$T" || bail "mkcert failed"

# 16 slots, 4 per source: the hog gets 4 of each listener, never all 16.
cat > "$T/ab.conf" <<CONF
state_dir = "$T/state";
plugin_dir = "$T/plugins";
log = { level = "info"; };
dispatch = { workers = 2; poll = "50ms"; };
channels = ( { name = "file"; type = "file"; path = "events.jsonl"; } );
default = ["file"];
syslog = {
  listeners = (
    { name = "tcp"; proto = "tcp"; address = "127.0.0.1:$P_TCP"; max_connections = 16;
      max_conns_per_source = 4; idle_timeout_silent = "3s"; },
    { name = "tls"; proto = "tls"; address = "127.0.0.1:$P_TLS"; max_connections = 16;
      max_conns_per_source = 4; tls_cert = "$T/server.pem"; tls_key = "$T/server.key"; },
    { name = "relp"; proto = "relp"; address = "127.0.0.1:$P_RELP"; max_connections = 16; }
  );
};
CONF

stat() { python3 -c 'import json,sys
j = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    j = j[int(k)] if isinstance(j, list) else j.get(k, -1) if isinstance(j, dict) else -1
print(j)' "$T/state/syslog.status" "$1" 2>/dev/null || echo -1; }
stat_ge() { [ "$(stat "$1")" -ge "$2" ] 2>/dev/null; }
stat_is() { [ "$(stat "$1")" = "$2" ]; }
has() { [ -f "$T/state/events.jsonl" ] && grep -qF -- "$1" "$T/state/events.jsonl"; }
listening() { [ "$(grep -c 'syslog: listening on' "$T/daemon.log")" -ge "$1" ]; }

plan 16

out=$("$AB" -c "$T/ab.conf" check 2>&1); rc=$?
is "check accepts max_conns_per_source and idle_timeout_silent" "$rc" 0
bad="$T/bad.conf"
sed 's/max_conns_per_source = 4; idle/max_conns_per_source = 17; idle/' "$T/ab.conf" > "$bad"
out=$("$AB" -c "$bad" check 2>&1)
like "max_conns_per_source above max_connections is an error" "$out" "max_conns_per_source.*more than max_connections"
ab_start_daemon "$T/ab.conf"
ok "daemon starts 3 listeners" wait_for 10 listening 3

# ---- the hog: 40 idle connections to each listener from 127.0.0.2
python3 - "$P_TCP" "$P_TLS" "$P_RELP" > "$T/hog.log" 2>&1 <<'PY' &
import socket, sys, time
held = []
for port in map(int, sys.argv[1:]):
    for i in range(40):
        s = socket.socket()
        s.bind(("127.0.0.2", 0))
        s.connect(("127.0.0.1", port))
        held.append(s)
print("hog holds", len(held), "connections", flush=True)
time.sleep(120)
PY
HPID=$!; ab_track "$HPID"
ok "the hog's connections over 4 per listener are refused (tcp)" wait_for 20 stat_ge listeners.0.connections_refused_per_source 36
ok "... (tls)" wait_for 20 stat_ge listeners.1.connections_refused_per_source 36
ok "... (relp, default 16 / 4 = 4)" wait_for 20 stat_ge listeners.2.connections_refused_per_source 36
diag "open connections: tcp $(stat listeners.0.connections), tls $(stat listeners.1.connections), relp $(stat listeners.2.connections); refused per source in all: $(stat connections_refused_per_source)"

# ---- another sender from 127.0.0.1: every line arrives
for i in $(seq 1 5); do logger --tcp -n 127.0.0.1 -P "$P_TCP" -t probe "probe-tcp-$i"; done
for i in $(seq 1 5); do printf '<13>probe-tls-%d\n' "$i"; done |
	timeout 20 openssl s_client -quiet -no_ign_eof -connect "127.0.0.1:$P_TLS" >/dev/null 2>&1
python3 - "$P_RELP" > "$T/relp.txt" 2>&1 <<'PY'
import socket, sys
def fr(t, c, d=b""):
    return b"%d %s %d%s\n" % (t, c, len(d), (b" " + d) if d else b"")
s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); s.settimeout(10)
s.sendall(fr(1, b"open", b"relp_version=0\ncommands=syslog") +
          b"".join(fr(i + 1, b"syslog", b"<13>probe-relp-%d" % i) for i in range(1, 6)) +
          fr(7, b"close"))
buf = b""
while True:
    d = s.recv(4096)
    if not d: break
    buf += d
print(buf.count(b" rsp 6 200 OK"), "answered")
PY
all_probes() { for k in tcp tls relp; do for i in 1 2 3 4 5; do has "probe-$k-$i" || return 1; done; done; }
ok "15 of 15 probe lines from the other sender arrive (tcp, tls, relp)" wait_for 30 all_probes
is "the RELP probe lines were all answered 200 OK" "$(cat "$T/relp.txt")" "5 answered"
# ---- a burst of one connection per line from one sender (logger --tcp in a
# loop, a forwarder without keep-alive): connections it has closed do not
# count against its share, so none is refused per source, whatever is still
# unread.  (Past the listener's max_connections, 16 here, connections are
# refused whatever their state: those are counted as rejected.)
before=$(stat connections_refused_per_source); rej0=$(stat listeners.0.connections_rejected)
python3 - "$P_TCP" <<'PY'
import socket, sys
for i in range(200):
    s = socket.socket()
    s.bind(("127.0.0.3", 0))
    s.connect(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"<13>burst-line-%d\n" % i)
    s.close()
PY
burst_n() { grep -c 'burst-line-' "$T/state/events.jsonl" 2>/dev/null; }
burst_all() { [ $(( $(burst_n) + $(stat listeners.0.connections_rejected) - rej0 )) -ge 200 ]; }
ok "a burst of 200 one-line connections: every line arrives or its connection counts as over max_connections" \
	wait_for 30 burst_all
diag "burst: $(burst_n) lines arrived, $(( $(stat listeners.0.connections_rejected) - rej0 )) connections over max_connections (16)"
is "... and none of its connections was refused per source" "$(stat connections_refused_per_source)" "$before"
ok "refusals are logged (rate limited)" grep -q "refused: it has max_conns_per_source (4) open" "$T/daemon.log"
n=$(grep -c "max_conns_per_source (4) open" "$T/daemon.log")
diag "refusal log lines: $n for $(stat connections_refused_per_source) refusals"
ok "the refusal log is rate limited (fewer lines than refusals)" test "$n" -lt 36

# ---- the hog's silent connections are closed after idle_timeout_silent (tcp: 3s)
ok "silent connections closed and counted" wait_for 30 stat_ge silent_closed 4
ok "the tcp listener has no hog connection left" wait_for 10 stat_is listeners.0.connections 0
out=$("$AB" -c "$T/ab.conf" syslog status 2>&1)
like "syslog status shows the refused count" "$out" "refused_per_source +[1-9]"

ab_stop_daemon; rc=$?
is "SIGTERM: clean exit" "$rc" 0
[ "$TAP_FAILED" -eq 0 ] || ab_show_log "daemon log" "$T/daemon.log" 40
