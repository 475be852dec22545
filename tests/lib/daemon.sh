# daemon.sh - the shared harness of the bash integration tests (sourced after
# tap.sh): a temp dir removed at exit, background helpers (alertbridged, the
# HTTP sink, SMTP servers, rsyslogd, a private Postfix) stopped at exit,
# free loopback ports.  Everything a test starts is stopped by the EXIT trap
# that ab_tmpdir installs, also when the test fails, bails out or is
# interrupted; AB_KEEP=1 (or KEEP=1) keeps the temp dir for a look.
#
#   ab_tmpdir PREFIX           make $T (/tmp/PREFIX.XXXXXX, mode 755: a daemon
#                              that drops privileges, Postfix's virtual
#                              delivery and apt's _apt user read it) and
#                              install the EXIT trap (ab_cleanup)
#   ab_on_exit CMD...          run CMD in the EXIT trap, after the processes
#                              are stopped, before $T is removed (in order)
#   ab_plugins NAME...         install the staged plugins NAME.so into
#                              $T/plugins (mode 755, files 0755)
#   ab_free_port [N]           N distinct free loopback TCP ports (default 1)
#   ab_spawn LOG CMD...        start CMD in the background, stdout and
#                              stderr to LOG; its pid in $AB_PID, stopped at
#                              exit (SIGTERM, then SIGKILL)
#   ab_track PID               stop PID at exit too (a process started by
#                              hand: CMD & ab_track $!)
#   ab_sink VAR [ARGS...]      start tests/lib/sink.py on a free port (its
#                              log $T/VAR.log, port file $T/VAR.port), wait
#                              for it (bounded) and set VAR to its port;
#                              bails out if it does not start
#   ab_records FILE [FIELD=VALUE...]
#                              how many lines of FILE, a record of JSON
#                              lines (sink.py's, a stand-in's), have every
#                              FIELD at VALUE (a string as it is, anything
#                              else as JSON: 202, true, null); a missing
#                              FILE prints no number and fails
#   ab_start_daemon CONF [ARGS...]
#                              start "$ABD" -f -c CONF ARGS, stdout and
#                              stderr appended to $AB_DLOG (default
#                              $T/daemon.log), pid in $DPID; wait (at most
#                              $AB_START_WAIT s, 20) until the log has one
#                              more "alertbridged ... started" line, i.e.
#                              every listener is open.  Returns 1 (with the
#                              log's end as diagnostics) if the daemon exits
#                              or is not ready in time.
#   ab_stop_daemon [PID [SECONDS]]
#                              SIGTERM, wait at most SECONDS (default 30),
#                              then SIGKILL (said as a diagnostic); returns
#                              the daemon's exit status (137 when killed)
#   ab_kill_daemon [PID]       SIGKILL (a crash) and reap it
#   ab_gone PID                true once PID has exited (wait_for-able)
#   ab_show_log TITLE FILE [N] the last N (40) lines of FILE as diagnostics
#   ab_distcheck_skip WHY      under make distcheck (AB_DISTCHECK=yes) skip
#                              the whole test (1..0 # SKIP WHY); else return:
#                              for tests that need root, where a user's
#                              distcheck cannot give it
#   ab_cleanup                 the EXIT trap: stop the processes still
#                              running, run the ab_on_exit commands, remove $T
#
# tests/lib/postfix.sh builds on this (pf_begin calls ab_tmpdir and stops the
# private Postfix at exit).  $AB and $ABD name the built programs.

# (rsyslogd, postfix, useradd live in sbin, which a user's PATH may lack)
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/sbin:/sbin ;; esac
AB=${AB:-$top_builddir/src/alertbridge}
ABD=${ABD:-$top_builddir/src/alertbridged}
AB_DLOG=${AB_DLOG:-}
AB_PIDS=()
AB_EXIT_CMDS=()
AB_PID=
DPID=

ab_tmpdir() {
	T=$(mktemp -d "/tmp/$1.XXXXXX") || bail "mktemp failed"
	chmod 755 "$T"
	AB_DLOG=${AB_DLOG:-$T/daemon.log}
	trap ab_cleanup EXIT
	# a signal ends the test through the EXIT trap too
	trap 'exit 1' INT TERM HUP
}

ab_on_exit() {
	local c
	printf -v c '%q ' "$@"
	AB_EXIT_CMDS+=("$c")
}

ab_plugins() {
	local p
	mkdir -p -m 755 "$T/plugins"
	for p in "$@"; do
		install -m 0755 "$AB_PLUGIN_STAGE/$p.so" "$T/plugins/$p.so" ||
			bail "plugin $p.so not staged in $AB_PLUGIN_STAGE (make first)"
	done
}

ab_free_port() {
	python3 - "${1:-1}" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

ab_gone() {
	local st
	kill -0 "$1" 2>/dev/null || return 0
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[ -z "$st" ] || [ "$st" = Z ]
}

# (pids stopped by the test itself leave the list: no stray kill at exit)
ab_forget() {
	local p keep=()
	for p in "${AB_PIDS[@]:-}"; do [ -n "$p" ] && [ "$p" != "$1" ] && keep+=("$p"); done
	AB_PIDS=("${keep[@]:-}")
}

ab_track() { AB_PIDS+=("$1"); }

ab_spawn() {
	local log=$1
	shift
	"$@" >>"$log" 2>&1 &
	AB_PID=$!
	AB_PIDS+=("$AB_PID")
}

ab_sink() {
	local var=$1
	shift
	ab_spawn "$T/$var.log" python3 "$top_srcdir/tests/lib/sink.py" --port-file "$T/$var.port" "$@"
	wait_for 20 test -s "$T/$var.port" ||
		bail "sink $var did not start: $(tail -3 "$T/$var.log" 2>/dev/null)"
	printf -v "$var" '%s' "$(cat "$T/$var.port")"
}

ab_records() {
	python3 - "$@" <<'PY'
import json, sys
def text(v):
    return v if isinstance(v, str) else json.dumps(v)
want = [a.split("=", 1) for a in sys.argv[2:]]
rows = [json.loads(l) for l in open(sys.argv[1])]
print(sum(1 for r in rows if all(text(r.get(k)) == v for k, v in want)))
PY
}

ab_daemon_started() {
	local c
	c=$(grep -c 'alertbridged .* started' "$1" 2>/dev/null)
	[ "${c:-0}" -gt "$2" ]
}
ab_daemon_ready() { ab_daemon_started "$1" "$2" || ab_gone "$3"; }

ab_start_daemon() {
	local conf=$1 log=${AB_DLOG:-$T/daemon.log} n
	shift
	n=$(grep -c 'alertbridged .* started' "$log" 2>/dev/null)
	ab_spawn "$log" "$ABD" -f -c "$conf" "$@"
	DPID=$AB_PID
	wait_for "${AB_START_WAIT:-20}" ab_daemon_ready "$log" "${n:-0}" "$DPID"
	if ab_daemon_started "$log" "${n:-0}" && ! ab_gone "$DPID"; then
		return 0
	fi
	if ab_gone "$DPID"; then diag "alertbridged ($conf) exited at start"
	else diag "alertbridged ($conf) not ready after ${AB_START_WAIT:-20} s"; fi
	ab_show_log "its log ($log)" "$log" 10
	return 1
}

ab_stop_daemon() {
	local pid=${1:-$DPID} limit=${2:-30} rc
	[ -n "$pid" ] || { diag "ab_stop_daemon: no daemon"; return 1; }
	kill -TERM "$pid" 2>/dev/null
	if ! wait_for "$limit" ab_gone "$pid"; then
		diag "pid $pid did not stop within $limit s of SIGTERM: SIGKILL"
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	rc=$?
	ab_forget "$pid"
	[ "$pid" != "$DPID" ] || DPID=
	return "$rc"
}

ab_kill_daemon() {
	local pid=${1:-$DPID}
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	ab_forget "$pid"
	[ "$pid" != "$DPID" ] || DPID=
	return 0
}

ab_distcheck_skip() {
	[ "${AB_DISTCHECK:-}" = yes ] || return 0
	echo "1..0 # SKIP $* (make distcheck run as a user)"
	exit 0
}

ab_show_log() {
	diag "$1:"
	[ -f "$2" ] || { diag "  (no $2)"; return 0; }
	tail -n "${3:-40}" "$2" | cut -c1-300 | sed 's/^/#   /'
}

ab_cleanup() {
	local p c left=()
	for p in "${AB_PIDS[@]:-}"; do
		[ -n "$p" ] && kill -TERM "$p" 2>/dev/null && left+=("$p")
	done
	for p in "${left[@]:-}"; do
		[ -n "$p" ] || continue
		wait_for 5 ab_gone "$p" || kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	AB_PIDS=()
	for c in "${AB_EXIT_CMDS[@]:-}"; do
		[ -n "$c" ] && eval "$c"
	done
	AB_EXIT_CMDS=()
	if [ -n "${T:-}" ] && [ -d "$T" ]; then
		if [ -n "${AB_KEEP:-}${KEEP:-}" ]; then echo "# kept $T" >&2
		else rm -rf "$T"; fi
	fi
	return 0
}
