#!/bin/bash
# http_hooks.sh - POST /api/v1/hooks/NAME through the real daemon with curl:
# a hook per authentication (bearer token, GitLab's X-Gitlab-Token, a
# fixed header, HMAC-SHA256 of the body with a "sha256=" prefix, Standard
# Webhooks with whsec_ key, id and timestamp), each accepted when right
# (202, the event in the file channel with the profile's values) and
# refused when missing or wrong (401 naming the header, never the secret;
# the secret never in the log); an unknown hook (404), a body that is not
# JSON (400), the same delivery twice (one event), and `check` on broken
# hooks (unknown profile, unknown auth, a missing secret or header), each
# with FILE:LINE.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"
ab_tmpdir abhooks

command -v curl >/dev/null || bail "curl not installed (contrib/install-deps.sh --test)"
ab_plugins file
read -r PORT < <(ab_free_port 1)
export GL_SECRET=gl-secret-0123456789 HDR_SECRET=hdr-secret-abcdef HMAC_SECRET=hm-secret-42
WHSEC="whsec_$(head -c 32 /dev/urandom | base64 -w0)"
printf '%s\n' "$WHSEC" > "$T/whsec"; chmod 600 "$T/whsec"

cat > "$T/ab.conf" <<CONF
state_dir = "$T/state";
plugin_dir = "$T/plugins";
log = { level = "info"; };
dispatch = { workers = 1; poll = "50ms"; };
profiles = ( {
  name = "tool-webhook";
  description = "a test tool's webhook JSON";
  extractors = ( { type = "json"; on = "text"; map = [ "event -> type", "title -> title",
                   "level -> severity", "link -> url", "host -> asset" ]; } );
  fallback = { tool = "testtool"; source = "ci"; };
} );
channels = ( { name = "file"; type = "file"; path = "events.jsonl"; } );
default = ["file"];
http = {
  listen = "127.0.0.1:$PORT";
  tokens = [ "api-token-1" ];
  hooks = (
    { name = "tok"; profile = "tool-webhook"; },
    { name = "gitlab"; profile = "tool-webhook"; auth = "gitlab"; secret = "env:GL_SECRET"; },
    { name = "hdr"; profile = "tool-webhook"; auth = "header"; header = "X-Tool-Key";
      secret = "env:HDR_SECRET"; },
    { name = "hmac"; profile = "tool-webhook"; auth = "hmac-sha256";
      header = "X-Hub-Signature-256"; prefix = "sha256="; secret = "env:HMAC_SECRET"; },
    { name = "sw"; profile = "tool-webhook"; auth = "standard-webhooks"; secret = "file:$T/whsec"; }
  );
};
CONF
U="http://127.0.0.1:$PORT/api/v1/hooks"
code() { curl -s -o "$T/body" -w '%{http_code}' -H 'Content-Type: application/json' "$@"; }
body() { cat "$T/body"; }
ev() { printf '{"event":"build.failed","title":"hook %s","level":"high","link":"https://ci.example.net/b/%s","host":"runner-1"}' "$1" "$1"; }
in_file() { [ -f "$T/state/events.jsonl" ] && grep -qF "hook $1\"" "$T/state/events.jsonl"; }
hmac_hex() { printf '%s' "$2" | openssl dgst -sha256 -hmac "$1" -r | cut -d' ' -f1; }
sw_sign() { # sw_sign ID TS BODY -> v1,BASE64
	python3 -c 'import base64,hashlib,hmac,sys
key = base64.b64decode(sys.argv[1][6:])
mac = hmac.new(key, (sys.argv[2] + "." + sys.argv[3] + "." + sys.argv[4]).encode(), hashlib.sha256)
print("v1," + base64.b64encode(mac.digest()).decode())' "$WHSEC" "$1" "$2" "$3"
}

plan 27

out=$("$AB" -c "$T/ab.conf" check 2>&1)
is "check passes with five hooks" "$?" 0
ab_start_daemon "$T/ab.conf" || bail "daemon did not start"

# bearer token
is "token: right token, 202" "$(code -H 'Authorization: Bearer api-token-1' -d "$(ev tok)" "$U/tok")" 202
is "token: no token, 401" "$(code -d "$(ev tok2)" "$U/tok")" 401
# GitLab
is "gitlab: X-Gitlab-Token right, 202" "$(code -H "X-Gitlab-Token: $GL_SECRET" -d "$(ev gitlab)" "$U/gitlab")" 202
is "gitlab: wrong token, 401" "$(code -H 'X-Gitlab-Token: nope' -d "$(ev gitlab2)" "$U/gitlab")" 401
like "gitlab: the answer names the header" "$(body)" "X-Gitlab-Token is missing or not"
is "gitlab: a bearer token does not open it" "$(code -H 'Authorization: Bearer api-token-1' -d "$(ev gitlab3)" "$U/gitlab")" 401
# a fixed header
is "header: right, 202" "$(code -H "X-Tool-Key: $HDR_SECRET" -d "$(ev hdr)" "$U/hdr")" 202
is "header: missing, 401" "$(code -d "$(ev hdr2)" "$U/hdr")" 401
# HMAC of the body
b=$(ev hmac)
is "hmac: right signature, 202" "$(code -H "X-Hub-Signature-256: sha256=$(hmac_hex "$HMAC_SECRET" "$b")" -d "$b" "$U/hmac")" 202
b2=$(ev hmac2)
is "hmac: signature of another body, 401" "$(code -H "X-Hub-Signature-256: sha256=$(hmac_hex "$HMAC_SECRET" "$b")" -d "$b2" "$U/hmac")" 401
like "hmac: says it does not match" "$(body)" "does not match the body"
# Standard Webhooks
b=$(ev sw); ts=$(date +%s)
is "standard-webhooks: right, 202" "$(code -H 'webhook-id: msg_1' -H "webhook-timestamp: $ts" \
	-H "webhook-signature: v1,AAAA $(sw_sign msg_1 "$ts" "$b")" -d "$b" "$U/sw")" 202
old=$((ts - 3600)); b=$(ev sw-old)
is "standard-webhooks: an hour-old timestamp, 401" "$(code -H 'webhook-id: msg_2' -H "webhook-timestamp: $old" \
	-H "webhook-signature: $(sw_sign msg_2 "$old" "$b")" -d "$b" "$U/sw")" 401
like "standard-webhooks: says why" "$(body)" "not within 300 s"
b=$(ev sw-bad)
is "standard-webhooks: signature for another id, 401" "$(code -H 'webhook-id: msg_3' -H "webhook-timestamp: $ts" \
	-H "webhook-signature: $(sw_sign msg_other "$ts" "$b")" -d "$b" "$U/sw")" 401

# the events, through the profile
ok "accepted deliveries reach the channel" wait_for 20 in_file sw
for n in tok2 gitlab2 gitlab3 hdr2 hmac2 sw-old sw-bad; do in_file "$n" && echo "refused $n was stored" >&2; done
is "no refused delivery was stored" "$(grep -cE 'hook (tok2|gitlab2|gitlab3|hdr2|hmac2|sw-old|sw-bad)"' "$T/state/events.jsonl")" 0
line=$(grep -F 'hook gitlab"' "$T/state/events.jsonl")
is "the profile's values: type, severity, url, asset, tool, source" \
	"$(echo "$line" | python3 -c 'import json,sys; e=json.load(sys.stdin); print(e["type"], e["severity"], e["url"], e["asset"], e["tool"], e["source"], "summary" in e)')" \
	"build.failed high https://ci.example.net/b/gitlab runner-1 testtool ci False"
is "origin hook, fields.hook the hook's name" \
	"$(echo "$line" | python3 -c 'import json,sys; e=json.load(sys.stdin); print(e["origin"]["kind"], e["fields"]["hook"])')" "hook gitlab"
lacks "no secret in the daemon's log" "$T/daemon.log" "$GL_SECRET\|$HDR_SECRET\|$HMAC_SECRET\|${WHSEC#whsec_}"

# the rest
is "unknown hook: 404" "$(code -H 'Authorization: Bearer api-token-1' -d "$(ev x)" "$U/nope")" 404
is "not JSON: 400" "$(code -H "X-Tool-Key: $HDR_SECRET" -d 'this is not json' "$U/hdr")" 400
n0=$(wc -l < "$T/state/events.jsonl")
code -H "X-Tool-Key: $HDR_SECRET" -d "$(ev hdr)" "$U/hdr" >/dev/null
sleep 1
is "the same delivery again: no second event" "$(wc -l < "$T/state/events.jsonl")" "$n0"

# check: broken hooks, all in one run, each with FILE:LINE
sed -e 's|{ name = "tok"; profile = "tool-webhook"; },|{ name = "tok"; profile = "nosuch"; },|' \
    -e 's|auth = "gitlab"; secret = "env:GL_SECRET";|auth = "gitlab";|' \
    -e 's|auth = "header"; header = "X-Tool-Key";|auth = "hedder";|' \
    -e 's|header = "X-Hub-Signature-256"; prefix|prefix|' "$T/ab.conf" > "$T/bad.conf"
out=$("$AB" -c "$T/bad.conf" check 2>&1)
is "check refuses broken hooks" "$?" 78
like "check: unknown profile, unknown auth, missing secret and header" "$out" \
	"bad.conf:[0-9]+: http: hook 'tok': unknown profile 'nosuch'.*"
like "check: each named" "$(echo "$out" | tr '\n' ' ')" \
	"auth 'gitlab' needs a 'secret'.*unknown 'hedder'.*auth 'hmac-sha256' needs a 'header'"

ab_stop_daemon
[ "$TAP_FAILED" -eq 0 ] || ab_show_log "daemon log" "$T/daemon.log" 30
