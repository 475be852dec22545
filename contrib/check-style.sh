#!/bin/sh
# check-style.sh - the mechanical part of CODE_STYLE.md, printed as TAP:
# no banned string functions, every .c opens with a comment, syslog() only
# with a literal format, every shipped profile is installed, the layer rules
# of doc/DESIGN.md (a src/ folder includes only its own and lower layers'
# headers, always as "layer/name.h"), public names start with ab_ / AB_,
# no two modules of src/ depend on each other through their includes,
# every script and test helper is distributed (make distcheck) and test
# scripts are executable.
# Run from anywhere: contrib/check-style.sh [SRCDIR]
top=${1:-${top_srcdir:-$(dirname "$0")/..}}
cd "$top" || exit 1
files=$(find src plugins include tests/unit tests/plugins tests/fuzz bench -name '*.[ch]' 2>/dev/null | sort)
echo "1..11"
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

# the layers, bottom-up (doc/DESIGN.md): a file in src/L may include headers
# of L and of the layers before it, never of a later one; only store/ includes
# <sqlite3.h>
layers="lib net event parse config store route deliver ingest http cli daemon"
rank() { n=0; for l in $layers; do [ "$l" = "$1" ] && { echo $n; return; }; n=$((n + 1)); done; echo 99; }
up=""
for f in $(find src -name '*.[ch]' | sort); do
	me=$(echo "$f" | cut -d/ -f2); mr=$(rank "$me")
	for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
		case "$inc" in */*) ;; *) up="$up
$f: \"$inc\" is not layer/name.h"; continue;; esac
		il=${inc%%/*}; ir=$(rank "$il")
		[ "$ir" -eq 99 ] && continue
		[ "$ir" -gt "$mr" ] && up="$up
$f ($me) includes $inc ($il, a higher layer)"
	done
	# SQLite belongs to the store (doc/DESIGN.md)
	[ "$me" != store ] && grep -q '^#include <sqlite3.h>' "$f" && up="$up
$f ($me) includes <sqlite3.h>: only store/ talks to SQLite"
done
if [ -z "$up" ]; then echo "ok 5 - every src/ include goes to the same or a lower layer"; else
	echo "not ok 5 - layer rule broken:"; echo "$up" | sed '/^$/d; s/^/# /'; fi
# the folders are the layers (a new folder is added to the list and DESIGN.md)
odd=""
for d in src/*/; do d=$(basename "$d"); [ "$(rank "$d")" -eq 99 ] && odd="$odd $d"; done
if [ -z "$odd" ]; then echo "ok 6 - every src/ folder is a known layer"; else
	echo "not ok 6 - folders not in doc/DESIGN.md's layer list:$odd"; fi
# public (non-static) functions of the core are ab_*; macros of its headers AB_*
names=$(grep -hnE '^[a-z_][a-z0-9_ \*]*[ *](([a-z_][a-z0-9_]*))\(' $(find src -name '*.c') 2>/dev/null |
	grep -vE '^[0-9]+:(static|typedef|extern|int main|return|else|if|for|while|switch)' |
	sed -E 's/ __attribute__.*//; s/^[0-9]+:[^(]*[ *]([a-z_][a-z0-9_]*)\(.*/\1/' |
	grep -vE '^(ab_|main$)' | sort -u)
if [ -z "$names" ]; then echo "ok 7 - public core functions start with ab_"; else
	echo "not ok 7 - public functions without the ab_ prefix:"; echo "$names" | sed 's/^/# /'; fi
# modules (src/L/X.c + src/L/X.h, and a private X_int.h = "L/X") and their
# includes form no cycle:
# a depends on b when a file of a includes "b.h"; a cycle means neither can
# be understood, tested or changed without the other (doc/DESIGN.md)
cycles=$(for f in $(find src -name '*.[ch]' | sort); do
	m=${f#src/}; m=${m%.[ch]}; m=${m%_int}
	sed -n 's/^#include "\([^"]*\)\.h".*/\1/p' "$f" | sed "s|_int\$||; s|^|$m |"
done | awk '$1 != $2 && !seen[$0]++ { n[$1]++; to[$1, n[$1]] = $2; node[$1] = 1 }
function visit(u,   i, k, v, path) {
	state[u] = 1; stack[++sp] = u
	for (i = 1; i <= n[u]; i++) {
		v = to[u, i]
		if (state[v] == 1) {
			path = v
			for (k = sp; k > 0 && stack[k] != v; k--)
				path = stack[k] " -> " path
			print v " -> " path
		} else if (!state[v])
			visit(v)
	}
	sp--; state[u] = 2
}
END { for (u in node) if (!state[u]) visit(u) }')
if [ -z "$cycles" ]; then echo "ok 8 - the include graph of src/ modules has no cycle"; else
	echo "not ok 8 - modules that include each other (directly or around a cycle):"
	echo "$cycles" | sed 's/^/# /'; fi
# every script, test helper and milter script is in Makefile.am (EXTRA_DIST
# lists them file by file, so that make dist and make distcheck have them)
undist=""
for f in .ci/run contrib/*.sh contrib/*/* bench/*.sh tests/lib/* tests/integration/*.sh \
	tests/milter/* tests/fuzz/*.sh tests/fuzz/*.h tests/fuzz/README; do
	[ -f "$f" ] || continue
	case "$f" in *.log|*.trs|*/__pycache__) continue;; esac
	grep -qF "$f" Makefile.am || undist="$undist $f"
done
if [ -z "$undist" ]; then echo "ok 9 - every script and test helper is in Makefile.am"; else
	echo "not ok 9 - not in Makefile.am (EXTRA_DIST or a test list):$undist"; fi
# every test script is executable (automake runs them directly: a missing
# x bit is "exited with status 126", not a failing test)
noexec=""
for f in tests/integration/*.sh tests/fuzz/*.sh tests/milter/run.sh .ci/run contrib/*.sh bench/*.sh; do
	[ -f "$f" ] && [ ! -x "$f" ] && noexec="$noexec $f"
done
if [ -z "$noexec" ]; then echo "ok 10 - every test and contrib script is executable"; else
	echo "not ok 10 - not executable (chmod +x, git add):$noexec"; fi
# an event's string members live in its own block while they fit
# (src/event/event.h): only the ab_event_set_str family replaces them
members='type|source|tool|title|summary|url|asset|team|status|fingerprint|origin\.(kind|message_id|from|host)'
raw=$(grep -nE "(free|realloc)\((ev|e|event)->($members)\b|(ev|e|event)->($members) = " \
	$(echo "$files" | grep -v '^tests/') 2>/dev/null)
if [ -z "$raw" ]; then echo "ok 11 - event string members are replaced through ab_event_set_str"; else
	echo "not ok 11 - an event string member freed or assigned directly"; echo "$raw" | sed 's/^/# /'; fi
