#!/bin/bash
# run.sh - the measurements behind README.md, each configuration REPS times,
# alternating backends within every repetition (so load changes hit all of
# them alike).  CSV lines go to results/<phase>.csv; summarize.py prints the
# medians and spreads.
#
#   bench/store_proto/run.sh [PHASE...]   phases: fsync crash main target policy extra recovery
#                                         (default all)
#   REPS=3 SECS=2 DIR=/var/lib/alertbridge-store-proto OUT=/tmp/store_proto_build
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/store_proto_build}
REPS=${REPS:-3}
SECS=${SECS:-2}
DIR=${DIR:-/var/lib/alertbridge-store-proto}
RES=$HERE/results
SB=$OUT/store_bench
mkdir -p "$RES"
OUT=$OUT "$HERE/build.sh" >/dev/null || exit 1
PHASES=${*:-fsync crash main target policy extra recovery}

sb() { # label, args...
	local l=$1; shift
	"$SB" -d "$DIR" -t "$SECS" -l "$l" "$@" || echo "$l,FAILED,$*" >&2
}

for ph in $PHASES; do
	f=$RES/$ph.csv
	echo "== $ph ($(uptime))" >&2
	case $ph in
	fsync)
		echo "dir,mode,n,mean_us,p50_us,p99_us,max_us,load1" >"$f"
		mkdir -p /var/lib/alertbridge-store-proto-fsync
		for r in $(seq "$REPS"); do
			"$OUT/fsync_lat" /tmp 300 >>"$f"
			"$OUT/fsync_lat" /var/lib/alertbridge-store-proto-fsync 300 >>"$f"
		done
		rmdir /var/lib/alertbridge-store-proto-fsync
		;;
	main) # saturated, natural batching: every backend x size x producers
		"$SB" -H >"$f"
		for r in $(seq "$REPS"); do
			for s in 200 750; do
				for p in 1 2 4; do
					a="-s $s -p $p"
					sb main -b journal -v grow -R $a >>"$f"
					sb main -b lmdb -v sync $a >>"$f"
					sb main -b sqlite -v full $a >>"$f"
					sb main -b journal -v fallocate -R $a >>"$f"
					sb main -b lmdb -v nometasync $a >>"$f"
					sb main -b sqlite -v normal $a >>"$f"
					sb main -b journal -v recycle -R $a >>"$f"
					sb main -b lmdb -v writemap $a >>"$f"
				done
			done
		done
		;;
	target) # offered 300k records/s (the ingest target), 2 producers
		"$SB" -H >"$f"
		for r in $(seq "$REPS"); do
			for s in 200 750; do
				a="-s $s -p 2 -r 300000"
				sb target -b journal -v grow -R $a >>"$f"
				sb target -b lmdb -v sync $a >>"$f"
				sb target -b sqlite -v full $a >>"$f"
				sb target -b journal -v fallocate -R $a >>"$f"
				sb target -b lmdb -v nometasync $a >>"$f"
				sb target -b sqlite -v normal $a >>"$f"
				sb target -b journal -v recycle -R $a >>"$f"
				sb target -b lmdb -v writemap $a >>"$f"
			done
		done
		;;
	policy) # batch policy: natural vs max delay 1 / 5 ms, saturated and at offered loads
		"$SB" -H >"$f"
		for r in $(seq "$REPS"); do
			for s in 200 750; do
				for rate in 0 20000 100000; do
					for d in 0 1000 5000; do
						sb policy -b journal -v recycle -R -s $s -p 2 -r $rate -D $d >>"$f"
						sb policy -b journal -v grow -R -s $s -p 2 -r $rate -D $d >>"$f"
					done
				done
			done
		done
		;;
	extra) # latency of the other stores at 20k/s; synchronous producers; segment
		# size; no reader; no sync; cold read
		"$SB" -H >"$f"
		for r in $(seq "$REPS"); do
			for b in "journal -v recycle -R" "lmdb -v sync" "lmdb -v nometasync" \
				"sqlite -v full" "sqlite -v normal"; do
				sb rate20k -b $b -s 750 -p 2 -r 20000 >>"$f"
			done
			for b in "journal -v recycle -R" "journal -v grow" "lmdb -v nometasync" "sqlite -v full"; do
				sb window1 -b $b -s 750 -p 4 -w 1 >>"$f"
			done
			for S in 16 64 256; do
				sb segsize$S -b journal -v grow -R -S $S -s 200 -p 2 >>"$f"
			done
			sb noreader -b journal -v grow -s 200 -p 2 >>"$f"
			sb noreader -b journal -v grow -s 750 -p 2 >>"$f"
			sb nosync -b journal -v grow -n -s 200 -p 2 >>"$f"
			sb nosync -b journal -v grow -n -s 750 -p 2 >>"$f"
			sb nosync -b lmdb -v sync -n -s 750 -p 2 >>"$f"
			sb nosync -b sqlite -v full -n -s 750 -p 2 >>"$f"
			sb coldread -b journal -v grow -s 750 -p 2 >/dev/null
			"$SB" -d "$DIR" -X -l coldread -s 750 >>"$f"
			sb coldread -b journal -v grow -s 200 -p 2 >/dev/null
			"$SB" -d "$DIR" -X -l coldread -s 200 >>"$f"
		done
		;;
	recovery) # reopen time (cold) with a last segment of ~63 MiB: write 0.8 s at
		# 100k x 750 B/s into 64 MiB segments, then time jnl_open
		: >"$f"
		for r in $(seq "$REPS"); do
			for v in grow recycle; do
				sb recovery -b journal -v $v -s 750 -p 2 -r 100000 -t 0.8 >/dev/null
				"$SB" -d "$DIR" -Y -v $v >>"$f"
			done
		done
		;;
	crash)
		: >"$f"
		for m in grow fallocate recycle; do
			"$OUT/crash_test" "$DIR-crash" 50 $m >"$RES/crash-$m.txt" 2>&1
			echo "exit $?: $(tail -1 "$RES/crash-$m.txt")" | tee -a "$f"
		done
		rm -rf "$DIR-crash"
		;;
	esac
	echo "== $ph done ($(uptime))" >&2
done
rm -rf "$DIR"
