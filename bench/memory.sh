#!/bin/bash
# memory.sh - alertbridged's memory: idle with the shipped configuration, and
# under a backlog that cannot drain.
#
#   bench/memory.sh [BUILD_DIR]                 (default: .)
#
# idle     conf/alertbridge.conf as shipped (its 47 profiles from
#          conf/profiles.d, the inbox and file channels, its rules) plus one
#          TCP syslog listener on a free loopback port, state_dir and
#          plugin_dir in a private temp dir.  After start-up and
#          AB_BENCH_SETTLE seconds: RSS, PSS, private and anonymous memory
#          (/proc/PID/smaps_rollup) and the largest mappings (smaps, summed
#          per file; anonymous memory split into heap, JIT code (rwx),
#          thread arenas and stacks).
# backlog  the same configuration plus a webhook channel "down" whose URL
#          is a loopback port where nothing listens (connection refused at
#          once), and default = ["down"]; a fresh daemon; then
#          AB_BENCH_EVENTS events (severity low, so the shipped rules take
#          none; each becomes one job for "down") are queued with
#          `alertbridge send --lines` (one commit), and the daemon's RSS is
#          sampled every second while it fails and reschedules them, for
#          AB_BENCH_SECONDS after the commit.  Prints RSS at idle before the
#          backlog, min / median / max over the samples, PSS at the end, the
#          jobs still queued and the delivery attempts made.
# syslog   the backlog's configuration, a fresh daemon, then AB_BENCH_LINES
#          CEF lines (octet-counted) as fast as one TCP connection takes
#          them: the listener parses, routes and journals at full speed
#          while the mover and the store fall behind (every line becomes a
#          job for "down"; high_water = 0, so input never pauses for the
#          queue).  RSS is sampled every half second until every
#          line is counted and for AB_BENCH_SECONDS more; prints the peak
#          (VmHWM), min / median / max of the samples and the mappings at
#          the end.
#
# Environment: AB_BENCH_EVENTS (1000000), AB_BENCH_LINES (200000),
# AB_BENCH_SECONDS (60), AB_BENCH_SETTLE (5), AB_BENCH_TOP (15 mappings;
# 0: none), AB_BENCH_PHASES ("idle backlog syslog").
# Not part of make check.  Needs python3 (contrib/install-deps.sh --test).
set -u
B=$(cd "${1:-.}" && pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
N=${AB_BENCH_EVENTS:-1000000}
SECS=${AB_BENCH_SECONDS:-60}
SETTLE=${AB_BENCH_SETTLE:-5}
TOP=${AB_BENCH_TOP:-15}
LINES=${AB_BENCH_LINES:-200000}
PHASES=${AB_BENCH_PHASES:-idle backlog syslog}
AB="$B/src/alertbridge"
ABD="$B/src/alertbridged"
[ -x "$ABD" ] && [ -x "$AB" ] || { echo "usage: $0 BUILD_DIR (no $ABD or $AB)" >&2; exit 64; }
for p in inbox file webhook; do
	[ -f "$B/plugins/built/$p.so" ] || { echo "no $B/plugins/built/$p.so (make first)" >&2; exit 64; }
done
command -v python3 >/dev/null || { echo "python3 not installed" >&2; exit 69; }
T=$(mktemp -d /tmp/abmem.XXXXXX)
chmod 755 "$T"
DPID=
cleanup() {
	if [ -n "$DPID" ]; then kill -9 "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

read -r P_SYSLOG P_DOWN < <(python3 -c '
import socket
a = socket.socket(); a.bind(("127.0.0.1", 0)); b = socket.socket(); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])')

mkdir -m 755 "$T/plugins"
for p in inbox file webhook; do install -m 0755 "$B/plugins/built/$p.so" "$T/plugins/$p.so"; done
cp -r "$SRC/conf/profiles.d" "$T/profiles.d"
nprof=$(ls "$T/profiles.d"/*.conf | wc -l)

# conf DIR [backlog [SYSLOG_SETTINGS]]: the shipped file with a private state_dir and
# plugin_dir, plus the syslog listener (and for the backlog the failing
# channel as the default route).
conf() {
	local d=$1
	mkdir -p "$d/state"
	ln -s "$T/profiles.d" "$d/profiles.d"
	sed -e "s|^state_dir = .*|state_dir = \"$d/state\";\nplugin_dir = \"$T/plugins\";|" \
		"$SRC/conf/alertbridge.conf" > "$d/ab.conf"
	if [ "${2:-}" = backlog ]; then
		sed -i -e "s|^channels = (\$|channels = (\n\t{ name = \"down\"; type = \"webhook\"; url = \"http://127.0.0.1:$P_DOWN/down\"; allow_http = true; allow_networks = [\"127.0.0.0/8\"]; },|" \
			-e 's|^default = \[\];|default = ["down"];|' "$d/ab.conf"
		grep -q '"down"' "$d/ab.conf" && grep -q '^default = \["down"\];' "$d/ab.conf" ||
			{ echo "could not add the failing channel to the shipped configuration" >&2; exit 1; }
	fi
	printf 'syslog = { %slisteners = ( { name = "tcp"; proto = "tcp"; address = "127.0.0.1:%s"; } ); };\n' \
		"${3:-}" "$P_SYSLOG" >> "$d/ab.conf"
}

start() {  # start DIR: DPID
	"$ABD" -f -c "$1/ab.conf" >"$1/daemon.log" 2>&1 & DPID=$!
	for _ in $(seq 400); do grep -q 'alertbridged .* started' "$1/daemon.log" && break; sleep 0.05; done
	grep -q 'alertbridged .* started' "$1/daemon.log" && kill -0 "$DPID" 2>/dev/null ||
		{ echo "alertbridged did not start:" >&2; tail -20 "$1/daemon.log" >&2; exit 1; }
}

stop() {
	kill -TERM "$DPID" 2>/dev/null
	for _ in $(seq 300); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
	DPID=
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# smaps PID TOP: the rollup and the largest mappings.
smaps() {
	python3 - "$1" "$2" <<'PY'
import re, sys
pid, top = sys.argv[1], int(sys.argv[2])
roll = {}
for line in open("/proc/%s/smaps_rollup" % pid):
    k, _, v = line.partition(":")
    if v.strip().endswith("kB"):
        roll[k] = int(v.split()[0])
priv = roll["Private_Clean"] + roll["Private_Dirty"]
print("  RSS %.1f MB (file-backed %.1f, anonymous %.1f)  PSS %.1f MB  private %.1f MB "
      "(dirty %.1f)  shared %.1f MB" % (roll["Rss"] / 1024, (roll["Rss"] - roll["Anonymous"]) / 1024,
      roll["Anonymous"] / 1024, roll["Pss"] / 1024, priv / 1024, roll["Private_Dirty"] / 1024,
      (roll["Shared_Clean"] + roll["Shared_Dirty"]) / 1024))
if top <= 0:
    sys.exit(0)
groups, cur = {}, None
for line in open("/proc/%s/smaps" % pid):
    m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)", line)
    if m:
        size = (int(m[2], 16) - int(m[1], 16)) // 1024
        name, perm = m[4].strip(), m[3]
        if not name:
            # anonymous: rwx is PCRE2's JIT code; a 64 MB reservation is a
            # malloc arena of a thread; 8 MB + guard is a thread stack
            name = ("[anon: JIT code (rwx)]" if "x" in perm else
                    "[anon: thread stacks]" if size in (8192, 8188) else
                    "[anon: malloc arenas of threads]" if size <= 65536 and size >= 132 and perm == "rw-p" and int(m[1], 16) % (64 << 20) == 0 else
                    "[anon: other]")
        cur = groups.setdefault(name, {"Rss": 0, "Pss": 0, "Private": 0})
    elif cur is not None:
        k, _, v = line.partition(":")
        if k in ("Rss", "Pss"):
            cur[k] += int(v.split()[0])
        elif k in ("Private_Clean", "Private_Dirty"):
            cur["Private"] += int(v.split()[0])
print("  largest mappings (kB; summed per file):      RSS      PSS  private")
for name, g in sorted(groups.items(), key=lambda kv: -kv[1]["Rss"])[:top]:
    print("    %-40s %8d %8d %8d" % (name.split("/")[-1][:40], g["Rss"], g["Pss"], g["Private"]))
PY
}

echo "alertbridged: $ABD; $nprof profiles; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for phase in $PHASES; do
case $phase in
idle)
	conf "$T/idle"
	start "$T/idle"
	sleep "$SETTLE"
	echo "idle (shipped configuration + a TCP syslog listener, ${SETTLE} s after start-up):"
	smaps "$DPID" "$TOP"
	stop
	;;
backlog)
	conf "$T/backlog" backlog
	start "$T/backlog"
	python3 - "$N" "$T/events.jsonl" <<'PY'
import json, sys
n, out = int(sys.argv[1]), sys.argv[2]
with open(out, "w") as f:
    for i in range(n):
        f.write(json.dumps({"type": "finding.created", "severity": "low", "source": "bench",
                            "tool": "bench", "asset": "host%d" % (i % 100),
                            "title": "backlog %d" % i, "summary": "bseq-%d" % i}) + "\n")
PY
	sleep "$SETTLE"
	idle_kb=$(rss_kb "$DPID")
	t0=$(date +%s.%N)
	"$AB" -c "$T/backlog/ab.conf" send --lines "$T/events.jsonl" >"$T/send.out" 2>"$T/send.log" &
	SPID=$!
	samples=()
	while kill -0 "$SPID" 2>/dev/null; do samples+=("$(rss_kb "$DPID")"); sleep 1; done
	wait "$SPID" || { echo "alertbridge send --lines failed:" >&2; tail -5 "$T/send.log" >&2; exit 1; }
	t1=$(date +%s.%N)
	during=${#samples[@]}
	for _ in $(seq "$SECS"); do
		kill -0 "$DPID" 2>/dev/null || { echo "alertbridged exited:" >&2; tail -20 "$T/backlog/daemon.log" >&2; exit 1; }
		samples+=("$(rss_kb "$DPID")")
		sleep 1
	done
	echo "backlog: $N events queued for a channel that refuses connections (send --lines: $(echo "$t0 $t1" | awk '{printf "%.0f", $2 - $1}') s), then ${SECS} s of retries:"
	printf '%s\n' "${samples[@]}" | sort -n | awk -v idle="$idle_kb" -v d="$during" -v s="${samples[*]}" '
		{ v[NR] = $1 }
		END {
			n = split(s, all, " ")
			printf "  RSS idle before %.1f MB; over %d samples (%d during the commit) min %.1f, median %.1f, max %.1f MB; last %.1f MB\n",
				idle / 1024, NR, d, v[1] / 1024, v[int((NR + 1) / 2)] / 1024, v[NR] / 1024, all[n] / 1024
		}'
	smaps "$DPID" "$TOP"
	python3 - "$T/backlog/state/store.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=30)
q = db.execute("SELECT count(*), coalesce(sum(attempts), 0) FROM jobs").fetchone()
l = db.execute("SELECT count(*) FROM delivery_log").fetchone()
print("  jobs queued %d, attempts made %d, delivery log rows %d" % (q[0], q[1], l[0]))
PY
	stop
	;;
syslog)
	conf "$T/syslog" backlog "high_water = 0; "
	start "$T/syslog"
	python3 - "$LINES" "$T/lines.bin" <<'PY'
import sys
n, out = int(sys.argv[1]), sys.argv[2]
with open(out, "wb") as f:
    for i in range(n):
        m = ("<132>Nov 23 09:00:00 fw%d CEF:0|Fortinet|FortiGate|7.2|0419016384|Intrusion "
             "blocked|5|src=10.0.0.5 dst=10.0.0.9 spt=4431 dpt=443 act=blocked msg=bseq-%d"
             % (i % 50, i)).encode()
        f.write(b"%d %s" % (len(m), m))
PY
	sleep "$SETTLE"
	idle_kb=$(rss_kb "$DPID")
	t0=$(date +%s.%N)
	python3 - "$P_SYSLOG" "$T/lines.bin" <<'PY' &
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
with open(sys.argv[2], "rb") as f:
    s.sendall(f.read())
s.close()
PY
	SPID=$!
	counted() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["received"])' \
		"$T/syslog/state/syslog.status" 2>/dev/null || echo 0; }
	samples=()
	for _ in $(seq 1200); do
		samples+=("$(rss_kb "$DPID")")
		[ "$(counted)" -ge "$LINES" ] && break
		sleep 0.5
	done
	wait "$SPID"
	t1=$(date +%s.%N)
	during=${#samples[@]}
	for _ in $(seq $((SECS * 2))); do
		kill -0 "$DPID" 2>/dev/null || { echo "alertbridged exited:" >&2; tail -20 "$T/syslog/daemon.log" >&2; exit 1; }
		samples+=("$(rss_kb "$DPID")")
		sleep 0.5
	done
	echo "syslog: $LINES CEF lines over one TCP connection, every one a job for a channel that refuses connections ($(counted) counted in $(echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}') s), then ${SECS} s:"
	printf '%s\n' "${samples[@]}" | sort -n | awk -v idle="$idle_kb" -v d="$during" -v s="${samples[*]}" \
		-v hwm="$(awk '/^VmHWM:/ { print $2 }' "/proc/$DPID/status")" '
		{ v[NR] = $1 }
		END {
			n = split(s, all, " ")
			printf "  RSS idle before %.1f MB; peak (VmHWM) %.1f MB; over %d samples (%d until counted) min %.1f, median %.1f, max %.1f MB; last %.1f MB\n",
				idle / 1024, hwm / 1024, NR, d, v[1] / 1024, v[int((NR + 1) / 2)] / 1024, v[NR] / 1024, all[n] / 1024
		}'
	smaps "$DPID" "$TOP"
	stop
	;;
*) echo "unknown phase $phase" >&2; exit 64;;
esac
done
