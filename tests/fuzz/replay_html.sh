#!/bin/sh
# replay_html.sh - replay the HTML-to-text fuzz corpus through its fuzz target (TAP).
exec "$top_builddir/tests/fuzz/replay_html" "$top_srcdir/tests/fuzz/corpus/html"
