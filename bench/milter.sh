#!/bin/bash
# milter.sh - Postfix throughput for ordinary mail without a milter vs with
# alertbridged's milter (smtpd_milters), measured in the same run: a
# private Postfix instance on loopback relays to smtp-sink; smtp-source
# sends N messages of SIZE bytes over C sessions.  Prints msgs/s of each
# and the ratio (DESIGN.md section 12: a do-nothing milter keeps ~0.72x).
#   bench/milter.sh [BUILD_DIR] [N=5000] [SIZE=5000] [C=20]     (as root)
set -eu
B=$(cd "${1:-_build/bench}" && pwd); N=${2:-5000}; SIZE=${3:-5000}; C=${4:-20}
top=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d /tmp/abbench.XXXXXX); chmod 755 "$T"; PF="$T/pf"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SPORT=$(port); MPORT=$(port); SINK=$(port)
cleanup() { postfix -c "$PF/etc" stop >/dev/null 2>&1 || true; kill "${SPID:-}" "${DPID:-}" 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
mkdir -p "$PF/etc" "$PF/queue" "$PF/data" "$T/plugins"; chown postfix "$PF/data"
install -m 0755 "$B/plugins/built/file.so" "$T/plugins/file.so"
cp /etc/postfix/master.cf "$PF/etc/"
cat > "$PF/etc/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $PF/queue
data_directory = $PF/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.bench.local
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:$SINK
smtp_dns_support_level = disabled
maillog_file = $T/postfix.log
maillog_file_prefixes = /tmp
default_process_limit = 100
CONF
postconf -c "$PF/etc" -M# smtp/inet >/dev/null 2>&1
postconf -c "$PF/etc" -Me "127.0.0.1:$SPORT/inet = 127.0.0.1:$SPORT inet n - n - - smtpd"
postconf -c "$PF/etc" -Me "postlog/unix-dgram = postlog unix-dgram n - n - 1 postlogd"
postconf -c "$PF/etc" -F '*/*/chroot = n'
cat > "$T/ab.conf" <<CONF
state_dir = "$T/state";
plugin_dir = "$T/plugins";
channels = ( { name = "file"; type = "file"; path = "events.jsonl"; } );
default = ["file"];
milter = { socket = "inet:$MPORT@127.0.0.1"; };
profiles = ( "$top/conf/profiles.d/*.conf" );
mail_sources = ( { name = "alerts"; recipients = ["alerts@example.com"]; profile = "generic"; } );
CONF
smtp-sink -u postfix "127.0.0.1:$SINK" 1000 >/dev/null 2>&1 & SPID=$!
"$B/src/alertbridged" -f -c "$T/ab.conf" 2>"$T/daemon.log" & DPID=$!
sleep 1
run() {   # run LABEL -> msgs/s (accepted by smtpd and relayed to the sink)
	postfix -c "$PF/etc" stop >/dev/null 2>&1 || true; sleep 1
	postfix -c "$PF/etc" start >/dev/null 2>&1; sleep 1
	smtp-source -s "$C" -l "$SIZE" -m 200 -f bench@example.net -t user@example.org "127.0.0.1:$SPORT" # warm-up
	local t0 t1
	t0=$(date +%s.%N)
	smtp-source -s "$C" -l "$SIZE" -m "$N" -f bench@example.net -t user@example.org "127.0.0.1:$SPORT"
	t1=$(date +%s.%N)
	python3 -c "print(round($N / ($t1 - $t0)))"
}
postconf -c "$PF/etc" -e "smtpd_milters ="
bare=$(run bare)
postconf -c "$PF/etc" -e "smtpd_milters = inet:127.0.0.1:$MPORT" "milter_default_action = tempfail" "milter_protocol = 6"
with=$(run milter)
bare2=$(postconf -c "$PF/etc" -e "smtpd_milters =" && run bare)
echo "postfix alone:               $bare msg/s (again after: $bare2 msg/s)"
echo "postfix + alertbridge milter: $with msg/s"
python3 -c "print('ratio (milter / mean of bare runs): %.2f' % ($with / (($bare + $bare2) / 2)))"
