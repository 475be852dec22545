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
libicu-dev libmicrohttpd-dev"
TEST="sqlite3 python3 openssl miltertest swaks procps psmisc rsyslog rsyslog-openssl rsyslog-relp bsdutils python3-jsonschema
postfix python3-aiosmtpd strace
dpkg-dev debhelper fakeroot lintian adduser prometheus prometheus-alertmanager curl"

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
if [ -z "$missing" ]; then
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
