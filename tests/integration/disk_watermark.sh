#!/bin/bash
# disk_watermark.sh - the free-space watermark (min_free_mb) with the real
# daemon, a real Postfix and a small tmpfs as the state filesystem: when a
# filler file takes the space below the mark, `send` exits 75 with a clear
# message, an alert mail through Postfix gets 452 4.3.1 (try again), syslog
# over TCP pauses and loses nothing, `alertbridge status` says BELOW and the
# log says it once (not per line); when the filler goes, everything held
# back is delivered and new alerts are taken again.  Then with the mark
# off (min_free_mb = 0, by reload) the filesystem fills up for real while
# deliveries are in flight: their results cannot be written, the log does
# not flood (a line a minute per condition, not per poll), and once there is
# room again every job is done within seconds, without a restart.
# Needs root (mount -t tmpfs), postfix, swaks, python3.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"
. "$top_srcdir/tests/lib/postfix.sh"

pf_require
pf_begin abdisk
AB=$top_builddir/src/alertbridge
S=$T/state
mkdir -p "$S"
mount -t tmpfs -o size=96m,mode=755 abdisk "$S" 2>"$T/mount.err" ||
	bail "cannot mount a tmpfs on $S: $(cat "$T/mount.err")"
ab_on_exit umount -l "$S"

read -r SPORT MPORT P_TCP < <(ab_free_port 3)
ab_plugins file webhook
ab_sink SINK --record "$T/rec.jsonl" --control "$T/ctl.json"
cat > "$T/ab.conf" <<CONF
state_dir = "$S";
plugin_dir = "$T/plugins";
min_free_mb = 24;
log = { level = "info"; };
dispatch = { workers = 1; poll = "50ms"; };
channels = ( { name = "file"; type = "file"; path = "$T/events.jsonl"; },
  { name = "hook"; type = "webhook"; url = "http://127.0.0.1:$SINK/full"; allow_http = true;
    allow_networks = ["127.0.0.0/8"]; } );
rules = ( { name = "slow"; events = ["slow.*"]; channels = ["hook"]; final = true; } );
default = ["file"];
milter = { socket = "inet:$MPORT@127.0.0.1"; };
profiles = ( "$top_srcdir/conf/profiles.d/*.conf" );
mail_sources = ( { name = "alerts"; recipients = ["alerts@example.com"]; profile = "generic"; } );
syslog = { listeners = ( { name = "tcp"; proto = "tcp"; address = "127.0.0.1:$P_TCP"; } ); };
CONF
pf_setup "$T" "$SPORT" "$MPORT" alerts@example.com
postconf -c "$PF/etc" non_smtpd_milters= >/dev/null

plan 26

ev() { printf '{"type":"finding.new","severity":"high","title":"%s"}\n' "$1"; }
delivered() { cat "$T/events.jsonl" 2>/dev/null | grep -c -- "$1"; }
mail() {   # mail TAG: an alert mail through Postfix; swaks' transcript in $T/swaks.out
	printf 'Subject: HIGH: disk test %s\nFrom: scanner@example.net\n\nHost: db1\nSeverity: high\n' \
		"$1" > "$T/m.eml"
	swaks --server "127.0.0.1:$SPORT" --helo client.test --from scanner@example.net \
		--to alerts@example.com --data @"$T/m.eml" >"$T/swaks.out" 2>&1
}
lines() {   # lines TAG N: N crit lines over one TCP connection
	python3 - "$P_TCP" "$1" "$2" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"".join(b"<10>host app: %s-%d-end\n" % (sys.argv[2].encode(), i) for i in range(int(sys.argv[3]))))
s.close()
PY
}
fill() {   # leave about $1 MiB free on the state filesystem
	local avail
	avail=$(df -Pm "$S" | awk 'NR == 2 { print $4 }')
	fallocate -l "$(( (avail - $1) ))M" "$S/filler" 2>/dev/null ||
		dd if=/dev/zero of="$S/filler" bs=1M count=$((avail - $1)) status=none
}

ab_start_daemon "$T/ab.conf" || bail "daemon did not start"
ok "milter and syslog listen" wait_for 10 bash -c \
	"grep -q 'milter listening' '$AB_DLOG' && grep -q 'syslog: listening on' '$AB_DLOG'"
postfix -c "$PF/etc" start >"$T/pfstart.log" 2>&1
ok "private postfix instance starts" wait_for 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SPORT"

# ---- room: everything is taken
ev before | "$AB" -c "$T/ab.conf" send - >"$T/send.out" 2>&1
is "send with room: exit 0" "$?" 0
mail m1
like "alert mail with room: queued" "$(cat "$T/swaks.out")" "<-  250 2.0.0 Ok: queued"
like "status with room: taking alerts" "$("$AB" -c "$T/ab.conf" status)" "min_free_mb 24: taking alerts"

# ---- below the mark
fill 10
diag "state filesystem: $(df -Pm "$S" | awk 'NR == 2 { print $4 }') MiB free, min_free_mb 24"
ev during | "$AB" -c "$T/ab.conf" send - >"$T/send.out" 2>&1
is "send below the mark: exit 75 (try again)" "$?" 75
like "send says why" "$(cat "$T/send.out")" "MiB free on the filesystem of .*below min_free_mb 24"
status=$("$AB" -c "$T/ab.conf" status)
like "status says BELOW" "$status" "BELOW: inputs refuse new alerts"
like "status --json: taking_alerts false" "$("$AB" -c "$T/ab.conf" status --json)" '"taking_alerts": *false'
sleep 0.5   # the daemon looks at the disk at most every 250 ms
mail m2
like "alert mail below the mark: 452 4.3.1 (Postfix tells the client to try again)" \
	"$(cat "$T/swaks.out")" "<\*\* *452 4\.3\.1 .*insufficient system storage"
lines held 200
sleep 2
is "syslog below the mark: no line delivered while low" "$(delivered 'held-')" 0
ok "syslog status shows the disk low and the input paused" wait_for 10 bash -c \
	"'$AB' -c '$T/ab.conf' syslog status | grep -q 'disk:.*BELOW, input paused'"
n=$(grep -c 'new alerts are refused' "$AB_DLOG")
is "the daemon warns once for the store, once for the journal (not per line or mail)" "$n" 2

# ---- room again
rm -f "$S/filler"
ok "syslog lines held back are all delivered after the space comes back" \
	wait_for 30 bash -c "[ \$(grep -c 'held-' '$T/events.jsonl') -ge 200 ]"
is "... exactly once each" "$(grep -o 'held-[0-9]*-end' "$T/events.jsonl" | sort -u | wc -l)" 200
ev after | "$AB" -c "$T/ab.conf" send - >"$T/send.out" 2>&1
is "send with room again: exit 0" "$?" 0
mail m3
like "alert mail with room again: queued" "$(cat "$T/swaks.out")" "<-  250 2.0.0 Ok: queued"
ok "events before and after are delivered" wait_for 20 bash -c \
	"grep -q '\"before\"' '$T/events.jsonl' && grep -q '\"after\"' '$T/events.jsonl' && grep -q 'disk test m3' '$T/events.jsonl'"
is "the refused event and mail are not there (their senders were told to try again)" \
	"$(grep -c '"during"\|disk test m2' "$T/events.jsonl")" 0
ok "the daemon logs the recovery" grep -q 'again: taking alerts' "$AB_DLOG"

# ---- a truly full filesystem (watermark off) while deliveries are in flight
sed -i 's/^min_free_mb = 24;/min_free_mb = 0;/' "$T/ab.conf"
kill -HUP "$DPID"
ok "reload with min_free_mb = 0" wait_for 10 grep -q 'configuration reloaded' "$AB_DLOG"
echo '{"mode": "slow", "delay": 2}' > "$T/ctl.json"
for i in $(seq 1 20); do
	printf '{"type":"slow.alert","severity":"high","title":"full-%d"}\n' "$i"
done > "$T/slow.jsonl"
"$AB" -c "$T/ab.conf" send --lines "$T/slow.jsonl" > "$T/send.out" 2>&1
is "20 events queued for the slow webhook" "$?" 0
wait_for 10 bash -c "[ \$(grep -c full- '$T/rec.jsonl' 2>/dev/null || echo 0) -ge 1 ]"
lines0=$(wc -l < "$AB_DLOG")
avail=$(df -Pk "$S" | awk 'NR == 2 { print $4 }')
fallocate -l "${avail}K" "$S/filler" 2>/dev/null || dd if=/dev/zero of="$S/filler" bs=1M status=none
: > "$T/ctl.json"   # the webhook answers at once again: results pile up, unwritable
sleep 8
n=$(( $(wc -l < "$AB_DLOG") - lines0 ))
diag "$(df -Pk "$S" | awk 'NR == 2 { print $4 }') KiB free; the daemon logged $n line(s) in 8 s of a full disk"
ok "no flood while the disk is full (at most 12 lines in 8 s, was one per poll per worker)" \
	test "$n" -le 12
rm -f "$S/filler"; t0=$(date +%s.%N)
done_all() { [ "$("$AB" -c "$T/ab.conf" status --json | python3 -c 'import json,sys
j = json.load(sys.stdin)["jobs"]; print(j["queued"] + j["running"])')" = 0 ]; }
ok "room again: every job finished without a restart" wait_for 60 done_all
diag "all jobs done $(python3 -c "import time; print(round(time.time() - $t0, 1))") s after the space came back"
is "each of the 20 delivered" "$(grep -o 'full-[0-9]*' "$T/rec.jsonl" | sort -u | wc -l)" 20
ok "the same daemon is still running" kill -0 "$DPID"
