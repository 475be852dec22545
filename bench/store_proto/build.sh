#!/bin/sh
# build.sh - builds the store prototypes into $OUT (default /tmp/store_proto_build;
# kept out of the tree).  Needs gcc, libsqlite3-dev, liblmdb-dev.
set -eu
cd "$(dirname "$0")"
OUT=${OUT:-/tmp/store_proto_build}
mkdir -p "$OUT"
CFLAGS="-std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Wshadow -Wformat=2 -pthread"
gcc $CFLAGS -o "$OUT/store_bench" store_bench.c journal.c common.c -llmdb -lsqlite3
gcc $CFLAGS -o "$OUT/crash_test" crash_test.c journal.c common.c
gcc $CFLAGS -o "$OUT/fsync_lat" fsync_lat.c common.c
echo "built in $OUT"
