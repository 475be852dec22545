#!/bin/bash
# route_group.sh - routing with the real daemon: a burst of 300 finding
# events of one scan (alertbridge send --lines) becomes exactly one grouped
# message per (tool, asset) group in the file channel, with the right
# counts per severity and the most severe items listed first; explain shows
# per rule match / first reason, the group state and the deliveries;
# check refuses contradictions with FILE:LINE.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"
ab_tmpdir abroute

ab_plugins file inbox

cat > "$T/ab.conf" <<CONF
state_dir = "$T/state";
plugin_dir = "$T/plugins";
log = { level = "info"; };
dispatch = { workers = 2; poll = "50ms"; };
channels = (
  { name = "file";  type = "file";  path = "groups.jsonl"; fsync = true; },
  { name = "inbox"; type = "inbox"; path = "inbox.db"; }
);
rules = (
  { name = "scan-burst"; events = ["finding.created"]; group_by = ["tool", "asset"];
    group_wait = "2s"; group_interval = "1m"; max_group_size = 5; channels = ["file"]; },
  { name = "no-dast"; sources = ["dast"]; channels = ["inbox"]; }
);
default = [];
CONF

plan 14

out=$("$AB" -c "$T/ab.conf" check 2>&1); rc=$?
is "check passes" "$rc" 0

# 300 findings of one scan: 150 on api, 100 on web, 50 on db; severities cycle
python3 - "$T/burst.jsonl" <<'PY'
import json, sys
sev = ["critical", "high", "medium", "low", "info"]
assets = ["api"] * 150 + ["web"] * 100 + ["db"] * 50
with open(sys.argv[1], "w") as f:
    for i, a in enumerate(assets):
        f.write(json.dumps({"type": "finding.created", "tool": "trivy", "asset": a,
            "source": "registry", "severity": sev[(i * 7) % 5 if a != "db" else 2],
            "title": "CVE-%d in %s" % (i, a), "fingerprint": "fp-%d" % i}) + "\n")
PY

ab_start_daemon "$T/ab.conf"
ids=$("$AB" -c "$T/ab.conf" send --lines "$T/burst.jsonl" 2>"$T/send.err"); rc=$?
is "send --lines accepts the burst" "$rc" 0
is "one id per event" "$(printf '%s\n' "$ids" | grep -cE '^[0-9a-f]{32}$')" 300

lines() { [ -f "$T/state/groups.jsonl" ] && wc -l < "$T/state/groups.jsonl" || echo 0; }
idle() { [ -z "$("$AB" -c "$T/ab.conf" queue list 2>/dev/null)" ]; }
three() { [ "$(lines)" -ge 3 ]; }
ok "three group messages arrive" wait_for 60 three
ok "the queue drains" wait_for 30 idle
is "exactly one message per group" "$(lines)" 3

check=$(python3 - "$T/state/groups.jsonl" <<'PY'
import json, sys
sev = ["critical", "high", "medium", "low", "info"]
want = {}
assets = ["api"] * 150 + ["web"] * 100 + ["db"] * 50
for i, a in enumerate(assets):
    s = sev[(i * 7) % 5 if a != "db" else 2]
    want.setdefault(a, {k: 0 for k in sev})[s] += 1
out = []
for line in open(sys.argv[1]):
    m = json.loads(line)
    g = m["group"]
    a = g["group_by"]["asset"]
    items = m["items"]
    ranks = [sev.index(x["severity"]) for x in items]
    ok = (g["counts"] == want[a] and g["count"] == sum(want[a].values())
          and g["group_by"]["tool"] == "trivy" and g["rule"] == "scan-burst"
          and len(items) == 5 and ranks == sorted(ranks)
          and m["omitted"] == g["count"] - 5 and g["by_type"] == {"finding.created": g["count"]})
    out.append("%s:%d:%s" % (a, g["count"], "ok" if ok else "BAD " + json.dumps(g["counts"])))
print(" ".join(sorted(out)))
PY
)
is "counts per severity, top items by severity, omitted" "$check" "api:150:ok db:50:ok web:100:ok"

# explain: a new finding of the flushed api group, and a dast one
printf '{"type":"finding.created","tool":"trivy","asset":"api","severity":"high","source":"dast","title":"late"}' > "$T/late.json"
out=$("$AB" -c "$T/ab.conf" explain "$T/late.json" 2>&1); rc=$?
is "explain runs" "$rc" 0
like "explain: rule matched" "$out" "rule 'scan-burst' \(.*ab.conf:[0-9]+\): match"
like "explain: group state" "$out" 'group \{"asset":"api","tool":"trivy"\}: opens a new group'
like "explain: deliveries" "$out" "deliveries: now: inbox; in a group message: file;"
printf '{"type":"scan.completed","source":"registry"}' > "$T/other.json"
out=$("$AB" -c "$T/ab.conf" explain "$T/other.json" 2>&1)
like "explain: first reason per rule" "$out" "rule 'no-dast' .*: no match: source 'registry' matches none of sources"
is "explain sent nothing" "$(lines)" 3

sed 's/max_group_size = 5;/max_group_size = 5; severities = ["low"]; min_severity = "critical";/' "$T/ab.conf" > "$T/bad.conf"
out=$("$AB" -c "$T/bad.conf" check 2>&1); rc=$?
like "check refuses an impossible severity range at FILE:LINE" "$rc:$out" "^78:.*bad.conf:[0-9]+: rule 'scan-burst': impossible severity range"

ab_stop_daemon
[ "$TAP_FAILED" -eq 0 ] || ab_show_log "daemon log" "$T/daemon.log" 200
exit 0
