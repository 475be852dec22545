#!/bin/bash
# hook_profiles.sh - the shipped webhook profiles (conf/profiles.d/
# gitlab-webhook.conf, grafana-webhook.conf, defectdojo-webhook.conf)
# against sample payloads written from each tool's public payload
# documentation (tests/data/hooks/TOOL/*.json): each sample is POSTed to
# its hook on the real daemon, and the event it becomes (read back from
# the file channel) must have every "member = value" of the sample's
# .expect file.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"
ab_tmpdir abhookp

command -v curl >/dev/null || bail "curl not installed (contrib/install-deps.sh --test)"
ab_plugins file
read -r PORT < <(ab_free_port 1)
D="$top_srcdir/tests/data/hooks"

cat > "$T/ab.conf" <<CONF
state_dir = "$T/state";
plugin_dir = "$T/plugins";
dispatch = { workers = 1; poll = "50ms"; };
profiles = ( "$top_srcdir/conf/profiles.d/gitlab-webhook.conf",
             "$top_srcdir/conf/profiles.d/grafana-webhook.conf",
             "$top_srcdir/conf/profiles.d/defectdojo-webhook.conf" );
channels = ( { name = "file"; type = "file"; path = "events.jsonl"; } );
default = ["file"];
http = {
  listen = "127.0.0.1:$PORT";
  tokens = [ "tok" ];
  hooks = (
    { name = "gitlab"; profile = "gitlab-webhook"; },
    { name = "grafana"; profile = "grafana-webhook"; },
    { name = "defectdojo"; profile = "defectdojo-webhook"; }
  );
};
CONF

samples=()
for f in "$D"/*/*.json; do [ -f "${f%.json}.expect" ] && samples+=("$f"); done
[ "${#samples[@]}" -gt 0 ] || bail "no samples in $D"
plan $((2 * ${#samples[@]} + 1))

out=$("$AB" -c "$T/ab.conf" check 2>&1)
is "check passes with the three webhook profiles" "$?" 0
[ "$TAP_FAILED" -eq 0 ] || diag "$out"
ab_start_daemon "$T/ab.conf" || bail "daemon did not start"

for f in "${samples[@]}"; do
	tool=$(basename "$(dirname "$f")"); name="$tool/$(basename "$f" .json)"
	resp=$(curl -s -H 'Authorization: Bearer tok' -H 'Content-Type: application/json' \
		--data-binary "@$f" "http://127.0.0.1:$PORT/api/v1/hooks/$tool")
	id=$(printf '%s' "$resp" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ids"][0])' 2>/dev/null)
	ok "$name: accepted ($resp)" test -n "$id"
	stored() { [ -f "$T/state/events.jsonl" ] && grep -q "\"id\":\"$1\"" "$T/state/events.jsonl"; }
	wait_for 20 stored "$id"
	out=$(python3 - "$T/state/events.jsonl" "$id" "${f%.json}.expect" <<'PY'
import json, sys
ev = None
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("id") == sys.argv[2]:
        ev = e
if ev is None:
    print("event not delivered"); sys.exit(1)
bad = []
for line in open(sys.argv[3]):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    k, v = (x.strip() for x in line.split("=", 1))
    cur = ev
    for part in k.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
    if str(cur) != v:
        bad.append("%s: got %r, want %r" % (k, cur, v))
print("; ".join(bad))
sys.exit(1 if bad else 0)
PY
)
	ok "$name: the event has what $(basename "${f%.json}.expect") says" test -z "$out"
	[ -z "$out" ] || diag "$out"
done

ab_stop_daemon
