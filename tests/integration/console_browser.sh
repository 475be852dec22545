#!/bin/bash
# console_browser.sh - the web console in a real browser: the daemon with
# one http block and a few users, `alertbridge user passwd`, then
# tests/browser/console.mjs (Playwright driving Debian's Chromium): sign
# in, an alert arriving live, read, remove selected, clear all, sign out,
# a phone-sized screen, and the security checks (CSP, cookie flags, CSRF,
# another user's alert, an old session cookie, XSS, brute force).  Its
# screenshots are kept in $AB_ARTIFACTS (default tests/artifacts/console)
# of the build directory.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"
ab_distcheck_skip "the browser tests use the source tree's tests/browser/node_modules"
ab_tmpdir abconsole

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || bail "chromium missing (contrib/install-deps.sh --test)"
command -v node >/dev/null || bail "node missing (contrib/install-deps.sh --test)"
BROWSER_DIR="$top_srcdir/tests/browser"
[ -d "$BROWSER_DIR/node_modules/playwright-core" ] ||
	bail "playwright-core missing: npm ci --prefix tests/browser (contrib/install-deps.sh --test)"
SHOTS=${AB_ARTIFACTS:-$top_builddir/tests/artifacts/console}
mkdir -p "$SHOTS"
ab_plugins inbox file webhook
PORT=$(ab_free_port)
# the admin's dead letter: a webhook whose receiver refuses (400) until told
echo '{"mode": "status", "status": 400, "body": "bad request"}' > "$T/control.json"
ab_sink SINK --record "$T/sink.jsonl" --control "$T/control.json"

cat > "$T/ab.conf" <<CONF
state_dir = "$T/state";
plugin_dir = "$T/plugins";
dispatch = { workers = 2; poll = "50ms"; };
channels = (
  { name = "inbox"; type = "inbox"; path = "inbox.db"; },
  { name = "ops"; type = "file"; path = "ops.jsonl"; },
  { name = "hook"; type = "webhook"; url = "http://127.0.0.1:$SINK/hook"; allow_http = true;
    allow_networks = ["127.0.0.0/8"]; }
);
users = (
  { name = "alice"; email = "alice@example.com"; teams = ["secops"]; roles = ["lead"]; },
  { name = "bob"; email = "bob@example.com"; teams = ["secops"]; roles = ["member"]; },
  { name = "root"; email = "root@example.com"; roles = ["admin"]; }
);
people = { inbox = "inbox"; };
rules = (
  { name = "findings"; events = ["finding.*", "scan.*"]; channels = ["ops"];
    recipients = { teams = ["secops"]; via = ["inbox"]; }; },
  { name = "ops"; events = ["ops.*"]; channels = ["hook"]; }
);
default = ["ops"];
# five browser contexts (users) from one address at once, each with its
# keep-alive connections and a live event stream: more than the default 16
# per address when ASan slows the daemon (ERR_CONNECTION_RESET at the limit)
http = { listen = "127.0.0.1:$PORT"; max_connections_per_ip = 64;
         console = { proxy_header = "X-Remote-User"; proxies = ["127.0.0.2/32"]; }; };
CONF

plan 52   # 6 + 3 here, 43 in console.mjs
printf 'correct horse battery\n' | "$AB" -c "$T/ab.conf" user passwd alice > "$T/passwd.out" 2>&1
is "user passwd sets alice's password" "$?" 0
printf 'short\n' | "$AB" -c "$T/ab.conf" user passwd bob > /dev/null 2>&1
is "user passwd refuses a short password" "$?" 65
printf 'admin password 1\n' | "$AB" -c "$T/ab.conf" user passwd root > /dev/null 2>&1
ab_start_daemon "$T/ab.conf" || bail "daemon did not start"
printf '{"type":"ops.backup_failed","severity":"high","title":"Backup failed"}' |
	"$AB" -c "$T/ab.conf" send - > /dev/null 2>&1
_w() { test "$("$AB" -c "$T/ab.conf" queue list --dead 2>/dev/null | grep -c hook)" = 1; }; wait_for 20 _w
# a trusted reverse proxy (127.0.0.2) signs its user in; the header from elsewhere is ignored
out=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -H 'X-Remote-User: alice' "http://127.0.0.1:$PORT/ui/")
like "a proxy header from a non-proxy address signs nobody in" "$out" "^303 .*/ui/login$"
out=$(curl -s --interface 127.0.0.2 -D - -H 'X-Remote-User: alice' "http://127.0.0.1:$PORT/ui/")
like "the proxy's header signs its user in" "$(tr -d '\r' <<< "$out" | tr '\n' ' ')" \
	"^HTTP/1.1 200 .*Set-Cookie: ab_session=[0-9a-f]{64}; .*>alice</span>"
ok "a dead letter for the admin to replay" test "$("$AB" -c "$T/ab.conf" queue list --dead | grep -c hook)" = 1
# an alert in bob's list, whose id alice must not reach
printf '{"type":"finding.created","severity":"low","title":"for the team","team":"secops"}' |
	"$AB" -c "$T/ab.conf" send - > /dev/null 2>&1
_w() { test "$("$AB" -c "$T/ab.conf" inbox --user bob unread 2>/dev/null)" = 1; }; wait_for 20 _w
OTHER=$("$AB" -c "$T/ab.conf" inbox --user bob list --json | sed -n 's/.*"id":\([0-9]*\).*/\1/p' | head -1)
ok "bob has an alert of his own" test -n "$OTHER"

AB_URL="http://127.0.0.1:$PORT/ui" AB_CLI="$AB" AB_CONF="$T/ab.conf" AB_SHOTS="$SHOTS" \
AB_OTHER_ID="$OTHER" CHROMIUM="$CHROMIUM" AB_TAP_START=6 AB_SINK_CONTROL="$T/control.json" \
AB_SINK_RECORD="$T/sink.jsonl" \
	node "$BROWSER_DIR/console.mjs" | tee "$T/browser.tap"
# the browser's checks count in this script's numbering from here on
TAP_N=$((TAP_N + $(grep -cE '^(not )?ok [0-9]+ ' "$T/browser.tap")))
TAP_FAILED=$((TAP_FAILED + $(grep -c '^not ok ' "$T/browser.tap")))

# --- the shipped configuration with one http block and one user
P2=$(ab_free_port)
mkdir -p "$T/shipped"
cp -R "$top_srcdir/conf/profiles.d" "$T/profiles.d"
sed -e "s|^state_dir = .*|state_dir = \"$T/shipped\";\nplugin_dir = \"$T/plugins\";|" \
	"$top_srcdir/conf/alertbridge.conf" > "$T/shipped.conf"
cat >> "$T/shipped.conf" <<CONF
users = ( { name = "dana"; teams = ["ops"]; } );
http = { listen = "127.0.0.1:$P2"; };
CONF
out=$("$AB" -c "$T/shipped.conf" check 2>&1); rc=$?
is "the shipped configuration with one http block and one user passes check" "$rc" 0
printf 'dana-password-1\n' | "$AB" -c "$T/shipped.conf" user passwd dana >/dev/null 2>&1
ab_start_daemon "$T/shipped.conf" || bail "daemon did not start with the shipped configuration"
U2="http://127.0.0.1:$P2/ui"
tok=$(curl -s -c "$T/cj" "$U2/login" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p')
lc=$(awk '/ab_login/ {print $7}' "$T/cj")
sid=$(curl -s -D - -o /dev/null -H "Cookie: ab_login=$lc" --data-urlencode "csrf=$tok" \
	--data-urlencode user=dana --data-urlencode password=dana-password-1 "$U2/login" |
	sed -n 's/.*ab_session=\([0-9a-f]*\);.*/\1/p')
ok "dana signs in to the console of the shipped configuration" test -n "$sid"
# she turns findings on in her list (the preferences page), then one arrives
page=$(curl -s -H "Cookie: ab_session=$sid" "$U2/prefs")
ptok=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' <<< "$page" | head -1)
curl -s -o /dev/null -H "Cookie: ab_session=$sid" --data-urlencode "csrf=$ptok" \
	--data-urlencode "findings.inbox=on" "$U2/prefs"
printf '{"type":"finding.created","severity":"high","title":"For dana","team":"ops"}' |
	"$AB" -c "$T/shipped.conf" send - > /dev/null 2>&1
_w() { test "$("$AB" -c "$T/shipped.conf" inbox --user dana unread 2>/dev/null)" = 1; }; wait_for 20 _w
like "... and sees the finding she subscribed to in her list" \
	"$(curl -s -H "Cookie: ab_session=$sid" "$U2/")" "For dana"
