#!/bin/sh
# replay_tmpl.sh - replay the template fuzz corpus through its fuzz target (TAP).
exec "$top_builddir/tests/fuzz/replay_tmpl" "$top_srcdir/tests/fuzz/corpus/tmpl"
