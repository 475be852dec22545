#!/bin/sh
# replay_frame.sh - replay the frame fuzz corpus through its fuzz target (TAP).
exec "$top_builddir/tests/fuzz/replay_frame" "$top_srcdir/tests/fuzz/corpus/frame"
