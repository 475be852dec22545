#!/bin/sh
# replay_relp.sh - replay the RELP fuzz corpus through its fuzz target (TAP).
exec "$top_builddir/tests/fuzz/replay_relp" "$top_srcdir/tests/fuzz/corpus/relp"
