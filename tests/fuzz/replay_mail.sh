#!/bin/sh
# replay_mail.sh - replay the mail fuzz corpus through its fuzz target (TAP).
exec "$top_builddir/tests/fuzz/replay_mail" "$top_srcdir/tests/fuzz/corpus/mail"
