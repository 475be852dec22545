#!/bin/sh
# replay_regex.sh - replay the regex filter fuzz corpus through its fuzz target (TAP).
exec "$top_builddir/tests/fuzz/replay_regex" "$top_srcdir/tests/fuzz/corpus/regex"
