#!/bin/sh
# quickstart.sh - the README's first quick-start command: install what
# alertbridge needs, build it out of tree in _build/quickstart (the source
# tree stays clean, so contrib/run-tests.sh works before or after this), and
# run the daemon in the foreground with the shipped configuration
# (conf/alertbridge.conf: inbox and file channels, no network needed).
#   contrib/quickstart.sh [--no-run]     --no-run: install and build only
# Works as root (no sudo needed) and as a user with sudo: sudo is used only
# for apt-get and for running the daemon, whose state directory
# (/var/lib/alertbridge) belongs to root.  Running it again rebuilds what
# changed and starts the daemon again.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
build="$top/_build/quickstart"
jobs=$(nproc 2>/dev/null || echo 2)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || {
		echo "quickstart: run this as root, or install sudo for your user" >&2
		exit 1
	}
	SUDO="sudo"
fi

contrib/install-deps.sh
if [ -f "$top/config.status" ]; then
	# configured in the tree by hand earlier: an out-of-tree build refuses
	# to share it, so clean it (nothing of the sources is touched)
	echo "quickstart: the source tree was configured in place: make distclean there first"
	make -s distclean >/dev/null 2>&1 || rm -f "$top/config.status"
fi
[ -x "$top/configure" ] || autoreconf -fi
mkdir -p "$build"
cd "$build"
[ -f Makefile ] || "$top/configure" -q
make -s -j"$jobs"

AB="$build/src/alertbridge"
ABD="$build/src/alertbridged"
CONF="$top/conf/alertbridge.conf"
PLUGINS="$build/plugins/built"
if [ -n "$SUDO" ]; then
	# the daemon runs as root, and root loads plugins only from a directory
	# and files owned by root: stage a root-owned copy outside the tree
	PLUGINS=/run/alertbridge-quickstart/plugins
	sudo rm -rf /run/alertbridge-quickstart
	sudo install -d -m 0755 -o root -g root /run/alertbridge-quickstart "$PLUGINS"
	sudo install -m 0755 -o root -g root "$build"/plugins/built/*.so "$PLUGINS/"
fi
$SUDO "$AB" -c "$CONF" -P "$PLUGINS" check
[ "${1:-}" = "--no-run" ] && exit 0
cat <<MSG

alertbridge is built.  The daemon now runs in the foreground (Ctrl-C stops
it).  In another terminal, send it an alert and look at the inbox:

  echo '{"type":"finding.created","severity":"critical","title":"SQL injection in /login","tool":"defectdojo","asset":"payments-api"}' \\
    | ${SUDO:+sudo }$AB -c $CONF send -
  ${SUDO:+sudo }$AB -c $CONF inbox list
  ${SUDO:+sudo }$AB -c $CONF log

MSG
exec $SUDO "$ABD" -f -c "$CONF" -P "$PLUGINS"
