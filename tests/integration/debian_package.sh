#!/bin/bash
# debian_package.sh - the Debian package as the README builds and installs it:
#   - dpkg-buildpackage -us -uc -b in a copy of the working tree (tracked and
#     untracked files, not ignored ones: uncommitted work is tested too; the
#     source tree itself is never built in);
#   - lintian finds no error or warning (when lintian is installed);
#   - apt-get install ./alertbridge_*.deb works (also without systemd
#     running), makes the user alertbridge and /var/lib/alertbridge (0750);
#   - the installed /etc/alertbridge/alertbridge.conf runs the daemon as
#     that user and passes `alertbridge check`;
#   - an event sent with `alertbridge send -` reaches the inbox and the file
#     channel through the installed daemon (the unit's when systemd runs,
#     else one started here as root, which drops to the user);
#   - alertbridged --version, man pages, examples, plugins, the unit;
#   - apt-get purge leaves nothing in /etc/alertbridge, /var/lib/alertbridge,
#     /usr/lib/*/alertbridge, /usr/share/doc/alertbridge.
# The machine is left as it was found: the package is purged even when a
# test fails (trap), and the user and group are removed again if this test
# made them.  Skips (1..0) when not root, without dpkg-dev/debhelper or the
# build dependencies, when apt would install anything else with the package,
# or when an alertbridge installation is present (it is not touched).
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/daemon.sh"
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
q() { "$@" >/dev/null 2>&1; }

[ "$(id -u)" -eq 0 ] || skip_all "needs root (installs and purges the package; CI runs as root)"
for t in dpkg-buildpackage dpkg-checkbuilddeps dh apt-get; do
	command -v "$t" >/dev/null 2>&1 ||
		skip_all "$t not installed (contrib/install-deps.sh --test: dpkg-dev, debhelper)"
done
[ -d "$top_srcdir/debian" ] || skip_all "no debian/ directory in $top_srcdir"
st=$(dpkg-query -W -f='${db:Status-Status}' alertbridge 2>/dev/null)
[ -z "$st" ] || [ "$st" = "not-installed" ] ||
	skip_all "package alertbridge is on this machine ($st): not touching it"
for d in /etc/alertbridge /var/lib/alertbridge; do
	[ -e "$d" ] && skip_all "$d exists (contrib/quickstart.sh?): the package would take it over"
done

ab_tmpdir abdeb
SRC="$T/alertbridge-0.1.0"
had_user=no; getent passwd alertbridge >/dev/null && had_user=yes
had_group=no; getent group alertbridge >/dev/null && had_group=yes
export DEBIAN_FRONTEND=noninteractive
# (at exit, after the daemon started here is stopped)
purge_package() {
	local s
	s=$(dpkg-query -W -f='${db:Status-Status}' alertbridge 2>/dev/null)
	if [ -n "$s" ] && [ "$s" != "not-installed" ]; then
		apt-get purge -y -qq alertbridge >/dev/null 2>&1 || dpkg --purge alertbridge >/dev/null 2>&1
	fi
	if [ "$had_user" = no ] && getent passwd alertbridge >/dev/null; then userdel alertbridge 2>/dev/null; fi
	if [ "$had_group" = no ] && getent group alertbridge >/dev/null; then groupdel alertbridge 2>/dev/null; fi
}
ab_on_exit purge_package

# --- a copy of the working tree
mkdir -p "$SRC"
# (a git work tree whose top is top_srcdir: make distcheck's unpacked tarball
# sits inside one, under _build/, and is copied as a release tarball)
if [ "$(git -C "$top_srcdir" rev-parse --show-toplevel 2>/dev/null)" = "$(cd "$top_srcdir" && pwd -P)" ]; then
	git -C "$top_srcdir" ls-files -z -co --exclude-standard |
		while IFS= read -r -d '' f; do
			# tracked but deleted in the working tree: not part of it
			[ -e "$top_srcdir/$f" ] || [ -L "$top_srcdir/$f" ] && printf '%s\0' "$f"
		done | tar -C "$top_srcdir" --null -T - -cf - | tar -C "$SRC" -xf - ||
		bail "copying the working tree failed"
else
	# a release tarball: everything but build products
	tar -C "$top_srcdir" --exclude=./_build --exclude=./_inst --exclude=./config.status --exclude=./config.log \
		--exclude=./Makefile --exclude=./libtool -cf - . | tar -C "$SRC" -xf - ||
		bail "copying the source tree failed"
fi
(cd "$SRC" && dpkg-checkbuilddeps) >"$T/builddeps.log" 2>&1 ||
	skip_all "$(sed -n 's/^dpkg-checkbuilddeps: error: //p' "$T/builddeps.log" | head -1) (contrib/install-deps.sh)"

# --- build (make check's MAKEFLAGS and jobserver must not leak into it)
(cd "$SRC" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEFILES \
	DEB_BUILD_OPTIONS="parallel=2 ${DEB_BUILD_OPTIONS:-}" \
	dpkg-buildpackage -us -uc -b) >"$T/build.log" 2>&1; rc=$?
is "dpkg-buildpackage -us -uc -b exits 0" "$rc" 0
[ "$rc" -eq 0 ] || { tail -30 "$T/build.log" | sed 's/^/# /'; bail "package build failed"; }
DEB=$(ls "$T"/alertbridge_0.1.0_*.deb 2>/dev/null | head -1)
ok "alertbridge_0.1.0_ARCH.deb written" test -n "$DEB"
[ -n "$DEB" ] || bail "no .deb"
like "the build ran 'alertbridge check' on the installed config" "$(cat "$T/build.log")" \
	"conf-check/alertbridge.conf: OK"
like "the build configured out of tree (_build/deb)" "$(cat "$T/build.log")" "cd _build/deb && \.\./\.\./configure"
ok "no config.status in the source copy" test ! -e "$SRC/config.status"
if command -v lintian >/dev/null 2>&1; then
	# (TMPDIR: lintian leaves its ELF cache files behind)
	TMPDIR=$T lintian --fail-on error,warning "$T"/alertbridge_0.1.0_*.changes >"$T/lintian.log" 2>&1; rc=$?
	is "lintian: no errors or warnings" "$rc" 0
	[ "$rc" -eq 0 ] || sed 's/^/# /' "$T/lintian.log"
else
	diag "lintian not installed: not run"
fi

# --- nothing but the package itself may be installed (the machine stays as it was)
extra=$(cd "$T" && apt-get -s install "./$(basename "$DEB")" 2>/dev/null |
	awk '$1 == "Inst" && $2 != "alertbridge" { print $2 }' | tr '\n' ' ')
if [ -n "$extra" ]; then
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - install, use, purge # SKIP apt-get would also install: $extra(contrib/install-deps.sh --test)"
	done_testing; exit
fi

# --- install
(cd "$T" && apt-get install -y "./$(basename "$DEB")") >"$T/install.log" 2>&1; rc=$?
is "apt-get install ./$(basename "$DEB") exits 0" "$rc" 0
[ "$rc" -eq 0 ] || { tail -20 "$T/install.log" | sed 's/^/# /'; bail "install failed"; }
ok "user alertbridge exists" q getent passwd alertbridge
ok "group alertbridge exists" q getent group alertbridge
is "/var/lib/alertbridge: alertbridge:alertbridge 750" \
	"$(stat -c '%U:%G %a' /var/lib/alertbridge 2>&1)" "alertbridge:alertbridge 750"
conff=$(dpkg-query -W -f='${Conffiles}' alertbridge)
like "alertbridge.conf is a conffile" "$conff" "^ /etc/alertbridge/alertbridge.conf "
like "the profiles are conffiles" "$conff" "/etc/alertbridge/profiles.d/sshd.conf "
ok "the installed config runs the daemon as alertbridge" \
	grep -q '^user = "alertbridge";' /etc/alertbridge/alertbridge.conf
out=$(alertbridge check 2>&1); rc=$?
is "alertbridge check (default config path) exits 0" "$rc" 0
like "and checks /etc/alertbridge/alertbridge.conf" "$out" "^/etc/alertbridge/alertbridge.conf: OK"
like "alertbridged --version" "$(/usr/sbin/alertbridged --version 2>&1)" "^alertbridged 0\.1\.0"
like "alertbridge --version" "$(alertbridge --version 2>&1)" "^alertbridge 0\.1\.0"
for m in man1/alertbridge.1 man5/alertbridge.conf.5 man8/alertbridged.8; do
	ok "man page $m" test -s "/usr/share/man/$m.gz"
done
ok "plugins installed" q bash -c 'ls /usr/lib/*/alertbridge/plugins/inbox.so /usr/lib/*/alertbridge/plugins/slack.so'
ok "no libtool .la files" bash -c 'ls -d /usr/lib/*/alertbridge/plugins >/dev/null &&
	! ls /usr/lib/*/alertbridge/plugins/*.la 2>/dev/null | grep -q .'
for f in examples/postfix/main.cf.snippet examples/rsyslog/alertbridge.conf \
	examples/syslog-ng/alertbridge.conf README.md.gz copyright; do
	ok "/usr/share/doc/alertbridge/$f" test -s "/usr/share/doc/alertbridge/$f"
done
ok "the systemd unit" test -s /lib/systemd/system/alertbridge.service
ok "the unit is enabled" test -L /etc/systemd/system/multi-user.target.wants/alertbridge.service

# --- the installed daemon delivers
if [ -d /run/systemd/system ]; then
	ok "postinst started alertbridge.service" wait_for 15 systemctl is-active --quiet alertbridge
	pid=$(systemctl show -p MainPID --value alertbridge 2>/dev/null)
else
	diag "systemd is not running: starting /usr/sbin/alertbridged here"
	ABD=/usr/sbin/alertbridged ab_start_daemon /etc/alertbridge/alertbridge.conf
	pid=$DPID
fi
ok "the daemon runs as alertbridge" wait_for 10 \
	bash -c "[ \"\$(awk '/^Uid:/ {print \$2}' /proc/$pid/status 2>/dev/null)\" = $(id -u alertbridge) ]"
title="debian_package.sh $$ $(date +%s%N)"
id=$(printf '{"type":"finding.created","severity":"critical","title":"%s","tool":"dpkg","source":"ci"}' "$title" |
	alertbridge send - 2>"$T/send.err"); rc=$?
is "alertbridge send - exits 0" "$rc" 0
like "and prints the event id" "$id" "^[0-9a-f]{32}$"
ok "the event is in the inbox" wait_for 15 bash -c "alertbridge inbox list | grep -qF '$title'"
ok "and in /var/lib/alertbridge/events.jsonl" wait_for 15 grep -qF "$title" /var/lib/alertbridge/events.jsonl
[ "$TAP_FAILED" -eq 0 ] || { [ -s "$T/daemon.log" ] && sed 's/^/# daemon: /' "$T/daemon.log"; }
if [ -n "$DPID" ]; then
	ab_stop_daemon "$DPID" 15; rc=$?
	ok "the daemon stops on SIGTERM" test "$rc" -ne 137
fi

# --- purge
apt-get purge -y alertbridge >"$T/purge.log" 2>&1; rc=$?
is "apt-get purge -y alertbridge exits 0" "$rc" 0
st=$(dpkg-query -W -f='${db:Status-Status}' alertbridge 2>/dev/null)
ok "dpkg forgot the package (state '$st')" test -z "$st" -o "$st" = not-installed
for d in /etc/alertbridge /var/lib/alertbridge /usr/share/doc/alertbridge \
	/lib/systemd/system/alertbridge.service /etc/systemd/system/multi-user.target.wants/alertbridge.service \
	/usr/sbin/alertbridged /usr/bin/alertbridge; do
	ok "gone after purge: $d" test ! -e "$d"
done
ok "gone after purge: /usr/lib/*/alertbridge" bash -c '! ls -d /usr/lib/*/alertbridge 2>/dev/null | grep -q .'
diag "the user alertbridge is kept by purge (debian/alertbridge.postrm); this test removes it if it made it"
done_testing
