#!/bin/sh
# replay_syslog.sh - replay the syslog fuzz corpus through its fuzz target (TAP).
exec "$top_builddir/tests/fuzz/replay_syslog" "$top_srcdir/tests/fuzz/corpus/syslog"
