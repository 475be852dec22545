#!/bin/bash
# http_api.sh - the daemon's HTTP listener with curl: /healthz, /readyz,
# /metrics (promtool check metrics), POST /api/v1/events with every status
# code it gives (202, 400 bad JSON and bad member, 401 missing and wrong
# token, 404, 405, 413 for a 100 MB body with and without Content-Length,
# 431, 503 below the disk watermark), a slow client cut off by the idle
# timeout, `check` on a broken http section, HTTPS with a test
# certificate, and a 202 followed at once by kill -9: after the restart
# the event reaches the file channel (nothing acknowledged is lost).
# Figures (times, sizes) are printed, never asserted.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"
ab_tmpdir abhttp

ab_plugins file
read -r PORT TPORT < <(ab_free_port 2)
export AB_HTTP_TOKEN=tok-env-123
printf 'tok-file-456\n' > "$T/token"
chmod 600 "$T/token"

conf() { # conf MIN_FREE_MB [EXTRA HTTP SETTINGS]
	cat <<CONF
state_dir = "$T/state";
plugin_dir = "$T/plugins";
min_free_mb = $1;
log = { level = "info"; };
dispatch = { workers = 1; poll = "50ms"; backoff_base = "50ms"; backoff_cap = "200ms"; };
channels = ( { name = "file"; type = "file"; path = "events.jsonl"; fsync = true; } );
default = ["file"];
http = {
  listen = "127.0.0.1:$PORT";
  tokens = [ "env:AB_HTTP_TOKEN", "file:$T/token" ];
  max_body = 1048576;
  max_header = 8192;
  timeout = "2s";
  ${2:-}
};
CONF
}
conf 1 > "$T/ab.conf"
U="http://127.0.0.1:$PORT"
code() { curl -s -o "$T/body" -w '%{http_code}' "$@"; }
body() { cat "$T/body"; }
ev() { printf '{"type":"finding.created","severity":"high","title":"http %s","tool":"curl"}' "$1"; }

plan 42

# check refuses a broken http section, naming file, line and setting
printf 'http = {\n  listen = "nohost";\n  max_body = 5;\n  tls_cert = "/x.pem";\n};\n' > "$T/bad.conf"
out=$("$AB" -c "$T/bad.conf" check 2>&1); rc=$?
is "check refuses a bad http section" "$rc" 78
like "check names the listen address" "$out" "bad.conf:2: http: setting 'listen': bad address 'nohost'"
like "check names max_body" "$out" "bad.conf:3: .*max_body"
like "check says tls_cert needs tls_key" "$out" "tls_cert' and 'tls_key' go together"

ab_start_daemon "$T/ab.conf" || bail "daemon did not start"
like "the log says where it listens" "$(cat "$T/daemon.log")" "http: listening on 127.0.0.1:$PORT \(http\), 2 token"

is "GET /healthz: 200" "$(code "$U/healthz")" 200
like "healthz says alive" "$(body)" '"alive":true'
is "GET /readyz: 200" "$(code "$U/readyz")" 200
like "readyz lists its checks" "$(body)" '"checks":\{"disk":"ok","input":"ok","plugins":"ok","store":"ok"\}'

# POST: tokens
is "POST without a token: 401" "$(code -X POST --data-binary "$(ev 0)" "$U/api/v1/events")" 401
like "401 is JSON and says what to send" "$(body)" '^\{"error":".*Authorization: Bearer TOKEN.*","status":401\}'
is "POST with a wrong token: 401" "$(code -X POST -H 'Authorization: Bearer nope' --data-binary "$(ev 0)" "$U/api/v1/events")" 401
lacks "the token is never echoed" "$T/body" -e tok-env -e tok-file
AUTH=(-H "Authorization: Bearer tok-env-123")
is "POST one event (env: token): 202" "$(code -X POST "${AUTH[@]}" --data-binary "$(ev 1)" "$U/api/v1/events")" 202
id1=$(body | python3 -c 'import json,sys; print(json.load(sys.stdin)["ids"][0])')
like "202 gives the event id" "$id1" '^[0-9a-f]{32}$'
is "POST an array (file: token): 202" "$(code -X POST -H 'Authorization: Bearer tok-file-456' \
	--data-binary "[$(ev 2),$(ev 3)]" "$U/api/v1/events")" 202
like "two ids" "$(body)" '"accepted":2'
printf '%s\n%s\n' "$(ev 4)" "$(ev 5)" > "$T/lines"
is "POST JSON lines: 202" "$(code -X POST "${AUTH[@]}" -H 'Content-Type: application/x-ndjson' \
	--data-binary @"$T/lines" "$U/api/v1/events")" 202

# 400s
is "bad JSON: 400" "$(code -X POST "${AUTH[@]}" --data-binary '{"title": ' "$U/api/v1/events")" 400
like "400 says where the JSON broke" "$(body)" 'not valid JSON \(line 1, column'
is "a bad member: 400" "$(code -X POST "${AUTH[@]}" --data-binary "[$(ev 6),{\"severity\":\"urgent\"}]" "$U/api/v1/events")" 400
like "400 names the member" "$(body)" '"member":"\[1\]\.severity"'

# 404, 405
is "unknown path: 404" "$(code "$U/nope")" 404
is "wrong method: 405" "$(code -X PUT "$U/metrics")" 405

# limits: 100 MB bodies, big headers, a slow client
head -c 100000000 /dev/zero > "$T/big"
t0=$(date +%s%N)
is "100 MB body with Content-Length: 413" "$(code -X POST "${AUTH[@]}" --data-binary @"$T/big" "$U/api/v1/events")" 413
like "413 is JSON naming the limit" "$(body)" 'http.max_body'
t1=$(date +%s%N)
is "100 MB chunked body: 413" "$(head -c 100000000 /dev/zero | code -X POST "${AUTH[@]}" \
	-H 'Transfer-Encoding: chunked' --data-binary @- "$U/api/v1/events")" 413
t2=$(date +%s%N)
diag "100 MB refused in $(( (t1 - t0) / 1000000 )) ms (Content-Length), $(( (t2 - t1) / 1000000 )) ms (chunked, read and dropped)"
is "9 KB of headers: 431" "$(code -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' a)" "$U/healthz")" 431
slow=$(python3 - "$PORT" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{\"ti")
t0 = time.time(); s.settimeout(60)
d = s.recv(100)
print("closed %d %.1f" % (len(d), time.time() - t0))
PY
)
like "a client that stalls mid-body is disconnected" "$slow" '^closed 0 '
diag "slow client cut off after ${slow##* } s (timeout 2s)"
is "the daemon still answers" "$(code "$U/healthz")" 200

# /metrics
curl -s "$U/metrics" > "$T/metrics"
ok "promtool check metrics finds nothing to complain about" promtool check metrics < "$T/metrics"
promtool check metrics < "$T/metrics" 2>&1 | sed 's/^/# promtool: /'
like "metrics: events received over http" "$(cat "$T/metrics")" 'alertbridge_events_received_total\{input="http"\} 5'
like "metrics: requests by path and code" "$(cat "$T/metrics")" 'alertbridge_http_requests_total\{path="/api/v1/events",code="413"\} 2'
like "metrics: the commit latency histogram" "$(cat "$T/metrics")" 'alertbridge_store_commit_seconds_bucket\{le="\+Inf"\}'
_w() { test "$(grep -c '"tool":"curl"' "$T/state/events.jsonl" 2>/dev/null)" -eq 5; }; ok "every event reached the file channel" wait_for 10 _w
like "metrics: deliveries by channel and result" "$(curl -s "$U/metrics")" 'alertbridge_deliveries_total\{channel="file",result="ok"\} 5'

# 503 below the disk watermark (a min_free_mb no disk has), after a reload
conf 16000000 > "$T/ab.conf"
kill -USR1 "$DPID"
wait_for 10 grep -q "configuration reloaded" "$T/daemon.log"
is "below min_free_mb: POST 503" "$(code -X POST "${AUTH[@]}" --data-binary "$(ev 7)" "$U/api/v1/events")" 503
like "503 says insufficient storage and to retry" "$(body)" 'insufficient storage.*send the request again'
is "below min_free_mb: readyz 503" "$(code "$U/readyz")" 503
conf 1 > "$T/ab.conf"
kill -USR1 "$DPID"
_w() { test "$(grep -c "configuration reloaded" "$T/daemon.log")" -ge 2; }; wait_for 10 _w

# 202 then kill -9: the event is delivered after the restart
is "POST before the crash: 202" "$(code -X POST "${AUTH[@]}" --data-binary "$(ev crash)" "$U/api/v1/events")" 202
idc=$(body | python3 -c 'import json,sys; print(json.load(sys.stdin)["ids"][0])')
ab_kill_daemon
ab_start_daemon "$T/ab.conf" || bail "no restart"
ok "the event acknowledged before kill -9 is delivered after the restart" \
	wait_for 10 grep -q "$idc" "$T/state/events.jsonl"
ab_stop_daemon

# HTTPS
sh "$top_srcdir/tests/lib/mkcert.sh" "$T/tls"
conf 1 "tls_cert = \"$T/tls/server.pem\"; tls_key = \"$T/tls/server.key\";" |
	sed "s/127.0.0.1:$PORT/127.0.0.1:$TPORT/" > "$T/tls.conf"
ab_start_daemon "$T/tls.conf" || bail "no TLS daemon"
is "HTTPS: GET /healthz with the test CA: 200" "$(code --cacert "$T/tls/ca.pem" "https://127.0.0.1:$TPORT/healthz")" 200
