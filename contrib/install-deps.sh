#!/bin/sh
# install-deps.sh - install what alertbridge needs to build, run and test on
# Debian 12 (idempotent: already-installed packages are skipped by apt-get).
#   contrib/install-deps.sh          build + run dependencies
#   contrib/install-deps.sh --test   also the test suite's real peers
#   contrib/install-deps.sh --fuzz   also clang + libFuzzer for --enable-fuzzing
#                                    (tests/fuzz/README; CI does not fuzz)
#   contrib/install-deps.sh --bench  also the peers bench/ measures against
#                                    (bench/README.md; CI does not bench)
set -eu

BUILD="build-essential autoconf automake libtool pkg-config
libmilter-dev libcurl4-openssl-dev libxml2-dev libssl-dev libconfig-dev
libcmocka-dev libjansson-dev libgmime-3.0-dev libpcre2-dev libsqlite3-dev
libicu-dev libmicrohttpd-dev libargon2-dev"
TEST="sqlite3 python3 openssl miltertest swaks procps psmisc rsyslog rsyslog-openssl rsyslog-relp bsdutils python3-jsonschema
python3-cryptography postfix python3-aiosmtpd strace
dpkg-dev debhelper fakeroot lintian adduser prometheus prometheus-alertmanager curl
chromium"
# The console's browser tests run Playwright (npm) on Node.js: Debian's
# when the machine has none of its own.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || TEST="$TEST nodejs npm"

# bench/: the test packages (Alertmanager, rsyslog: the peers) plus ab (apache2-utils)
BENCH="$TEST apache2-utils"

# libFuzzer ships in libclang-rt-14-dev, only a Recommends of clang-14.
FUZZ="clang libclang-rt-14-dev"

want="$BUILD"
[ "${1:-}" = "--test" ] && want="$BUILD $TEST"
[ "${1:-}" = "--fuzz" ] && want="$BUILD $FUZZ"
[ "${1:-}" = "--bench" ] && want="$BUILD $BENCH"

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
# The console's browser tests: playwright-core from the npm registry, the
# version package-lock.json pins (tests/browser).
npm_deps() {
	[ "${1:-}" = "--test" ] || return 0
	dir=$(cd "$(dirname "$0")/.." && pwd)/tests/browser
	[ -f "$dir/package-lock.json" ] || return 0
	[ -d "$dir/node_modules/playwright-core" ] && return 0
	echo "install-deps: npm ci in tests/browser"
	(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
}
if [ -z "$missing" ]; then
	npm_deps "${1:-}"
	echo "install-deps: all dependencies present"
	exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
# postfix (milter tests): install without its configuration dialog; the
# tests run their own private instance and never touch /etc/postfix.
case " $missing " in *" postfix "*)
	echo "postfix postfix/main_mailer_type select No configuration" |
		$SUDO debconf-set-selections ;;
esac
$SUDO apt-get install -y -qq --no-install-recommends $missing
npm_deps "${1:-}"
