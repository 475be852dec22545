#!/bin/sh
# check-style.sh - the mechanical part of CODE_STYLE.md, printed as TAP:
# no banned string functions, every .c opens with a comment, syslog() only
# with a literal format, every shipped profile is installed.
# Run from anywhere: contrib/check-style.sh [SRCDIR]
top=${1:-${top_srcdir:-$(dirname "$0")/..}}
cd "$top" || exit 1
files=$(find src plugins include tests/unit tests/plugins tests/fuzz bench -name '*.[ch]' 2>/dev/null | sort)
echo "1..4"
bad=$(grep -nE '(^|[^_a-z])(sprintf|vsprintf|strcpy|strcat|gets)[[:space:]]*\(' $files 2>/dev/null | grep -v 'snprintf\|vsnprintf' )
if [ -z "$bad" ]; then echo "ok 1 - no sprintf/vsprintf/strcpy/strcat/gets"; else
	echo "not ok 1 - banned string functions"; echo "$bad" | sed 's/^/# /'; fi
nohead=""
for f in $(echo "$files" | grep '\.c$'); do
	first=$(grep -v '^[[:space:]]*$' "$f" | head -n 1)
	case "$first" in /\**|//*) ;; *) nohead="$nohead $f";; esac
done
if [ -z "$nohead" ]; then echo "ok 2 - every .c opens with a comment"; else
	echo "not ok 2 - files without an opening comment:$nohead"; fi
fmt=$(grep -nE '(^|[^a-zA-Z0-9_])v?syslog[[:space:]]*\([^,]+,[[:space:]]*[a-z_]+[[:space:]]*\)' $files 2>/dev/null)
if [ -z "$fmt" ]; then echo "ok 3 - syslog() formats are literals"; else
	echo "not ok 3 - syslog() with a non-literal format"; echo "$fmt" | sed 's/^/# /'; fi
# every shipped profile is installed (Makefile.am lists each file)
missing=""
for f in conf/profiles.d/*.conf; do
	grep -q "$f" Makefile.am || missing="$missing $f"
done
if [ -z "$missing" ]; then echo "ok 4 - every conf/profiles.d file is in Makefile.am"; else
	echo "not ok 4 - profiles missing from dist_alertbridgeprofiles_DATA:$missing"; fi
