#!/bin/bash
# corpus.sh - the tool corpus (tests/data/corpus/TOOL/*.eml|*.log with
# expect.tsv) through the shipped conf/alertbridge.conf, unchanged: no mail
# source, no syslog source, so every sample must be recognized by the
# profiles' detect blocks.  One TAP test per sample and the score.
#   tests/integration/corpus.sh [TOOL...]   (from the source tree, after a build)
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir/_build/dev}
AB=${AB:-$top_builddir/src/alertbridge}
exec python3 "$top_srcdir/tests/lib/corpus.py" "$AB" "$top_srcdir/conf/alertbridge.conf" \
	"$top_srcdir/tests/data/corpus" "$@"
