#!/bin/bash
# syslog_journal.sh - the syslog journal between the listeners and the
# store, with the real daemon: kill -9 many times while TCP lines are being
# committed (every line counted as received before a kill is delivered after
# the restarts), lines that route nowhere are counted and never written, a
# full journal pauses input and loses nothing, and `syslog status` shows it.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"
ab_tmpdir absjournal
ab_plugins file

read -r P_TCP < <(ab_free_port 1)
# Under ASan the daemon is several times slower: fewer rounds, fewer lines.
ASAN=0; ldd "$ABD" 2>/dev/null | grep -q libasan && ASAN=1
KILLS=${AB_JOURNAL_KILLS:-$((ASAN ? 3 : 8))}
LOCKED=$((ASAN ? 50000 : 100000)); PAD=$((ASAN ? 1400 : 700))

cat > "$T/ab.conf" <<CONF
state_dir = "$T/state";
plugin_dir = "$T/plugins";
log = { level = "info"; };
dispatch = { workers = 2; poll = "50ms"; };
channels = ( { name = "file"; type = "file"; path = "events.jsonl"; } );
rules = ( { name = "urgent"; min_severity = "high"; channels = ["file"]; } );
default = [];
syslog = {
  high_water = 10000000;
  journal_max_mb = 64;
  listeners = ( { name = "tcp"; proto = "tcp"; address = "127.0.0.1:$P_TCP"; } );
};
CONF

stat() { python3 -c 'import json,sys
j = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): j = j.get(k, -1) if isinstance(j, dict) else -1
print(j)' "$T/state/syslog.status" "$1" 2>/dev/null || echo -1; }
stat_ge() { [ "$(stat "$1")" -ge "$2" ] 2>/dev/null; }
listening() { [ "$(grep -c 'syslog: listening on' "$T/daemon.log")" -ge "$1" ]; }
# Sends "<10>jc-BASE+i-end" (severity crit: routed), ~40k lines/s.
sender() {
	python3 - "$P_TCP" "$1" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
base, i = int(sys.argv[2]), 0
try:
    while i < 2000000:
        s.sendall(b"".join(b"<10>jc-%d-end\n" % (base + i + k) for k in range(1, 201)))
        i += 200
        time.sleep(0.005)
except OSError:
    pass
PY
}
backlog0() { [ "$(stat journal.backlog)" = 0 ]; }

plan 13

# ---- kill -9 during commits, KILLS times
expected="$T/expected.txt"; : > "$expected"
total=0
for k in $(seq 1 "$KILLS"); do
	ab_start_daemon "$T/ab.conf" || bail "daemon did not start (round $k)"
	wait_for 10 listening "$k" || bail "no listener (round $k)"
	sender $((k * 10000000)) > /dev/null 2>&1 &
	SPID=$!; ab_track "$SPID"
	wait_for 30 stat_ge received 1000 || diag "round $k: few lines counted"
	sleep "0.$((RANDOM % 4))"
	ab_kill_daemon
	R=$(stat received)
	ab_stop_daemon "$SPID" 1 >/dev/null 2>&1
	echo "$((k * 10000000)) $R" >> "$expected"
	total=$((total + R))
done
diag "$KILLS kill -9 during commits; lines counted as received before them: $total"
ok "lines were counted in every round" test "$(awk '$2 < 1' "$expected" | wc -l)" -eq 0

ab_start_daemon "$T/ab.conf"
delivered() {
	[ -f "$T/state/events.jsonl" ] || return 1
	python3 - "$expected" "$T/state/events.jsonl" <<'PY'
import re, sys
want = set()
for line in open(sys.argv[1]):
    base, n = map(int, line.split())
    want.update(range(base + 1, base + n + 1))
seen = set(int(m) for m in re.findall(rb"jc-(\d+)-end", open(sys.argv[2], "rb").read()))
missing = want - seen
sys.exit(0 if not missing else 1)
PY
}
ok "every line counted before a kill is delivered after the restarts" wait_for 300 delivered
ok "the journal's backlog drains into the store" wait_for 60 backlog0
ok "lines were moved from the journal into the store" stat_ge journal.stored 1
is "after the kills, every line was read back from the journal" "$(stat journal.stored_from_memory)" 0

# ---- lines that route nowhere: counted, never written
before_unrouted=$(stat journal.unrouted)
python3 - "$P_TCP" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
for i in range(5000):
    s.sendall(b"<14>quiet-%d info line that no rule wants\n" % i)
s.sendall(b"<10>marker-after-quiet\n")
s.close()
PY
ok "the routed marker after 5000 quiet lines arrives" wait_for 30 grep -q marker-after-quiet "$T/state/events.jsonl"
ok "5000 unrouted lines counted" wait_for 10 stat_ge journal.unrouted $((before_unrouted + 5000))
# the marker's event came along in memory with its record (not decoded)
ok "a live line's event was handed to the mover in memory" wait_for 10 stat_ge journal.stored_from_memory 1
stored_quiet=$(python3 -c 'import sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
print(db.execute("select count(*) from events where json like ?", ("%quiet-%",)).fetchone()[0])' "$T/state/store.db")
is "no unrouted line was written to the store" "$stored_quiet" 0

# ---- the store is locked for a while: the journal holds the lines, input
# pauses once it is full (journal_max_mb = 64), nothing is lost
python3 - "$T/state/store.db" 12 > "$T/locker.log" 2>&1 <<'PY' &
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("ROLLBACK")
PY
LPID=$!; ab_track "$LPID"
wait_for 10 grep -q locked "$T/locker.log"
python3 - "$P_TCP" "$LOCKED" "$PAD" > "$T/locked-sender.log" 2>&1 <<'PY' &
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
pad = b"x" * int(sys.argv[3])
for i in range(1, int(sys.argv[2]) + 1):
    s.sendall(b"<10>lk-%d-end %s\n" % (i, pad))
s.close()
PY
KPID=$!; ab_track "$KPID"
locked_all() { [ -f "$T/state/events.jsonl" ] && [ "$(grep -o 'lk-[0-9]*-end' "$T/state/events.jsonl" | sort -u | wc -l)" -eq "$LOCKED" ]; }
ok "$LOCKED lines sent while the store was locked are all delivered after it" wait_for 300 locked_all
ok "the journal was full meanwhile (appends refused, retried: store_errors)" stat_ge store_errors 1
out=$("$AB" -c "$T/ab.conf" syslog status)
like "syslog status shows the journal" "$out" "journal: [0-9]+ unrouted \(not written\), [0-9]+ moved into the store, 0 waiting"

ab_stop_daemon; rc=$?
is "SIGTERM: clean exit" "$rc" 0
[ "$TAP_FAILED" -eq 0 ] || ab_show_log "daemon log" "$T/daemon.log" 40
