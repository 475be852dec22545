#!/bin/sh
# replay_detect.sh - replay the detection fuzz corpus through its fuzz target (TAP).
exec "$top_builddir/tests/fuzz/replay_detect" "$top_srcdir/tests/fuzz/corpus/detect"
