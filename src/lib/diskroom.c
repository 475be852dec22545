/*
 * diskroom.c - the free-space watermark of the inputs (see diskroom.h):
 * statvfs on the watched path, cached for AB_DISKROOM_EVERY_MS, with
 * hysteresis between going low and having room again.
 *
 * Public: ab_diskroom_init, ab_diskroom_set, ab_diskroom_check,
 * ab_disk_avail.
 *
 * Diagnostics (once per change of state): warning "WHO: N MiB free on the
 * filesystem of PATH, below min_free_mb M: new alerts are refused (inputs
 * answer 'try again') until there are K MiB"; notice "WHO: N MiB free on
 * the filesystem of PATH again: taking alerts".
 */
#include <stdio.h>
#include <sys/statvfs.h>

#include "lib/diskroom.h"
#include "lib/log.h"
#include "lib/buf.h"
#include "lib/util.h"

#define MIB (1024ull * 1024ull)

void ab_diskroom_init(struct ab_diskroom *r, const char *path, const char *who,
	uint64_t min_free)
{
	*r = (struct ab_diskroom){ .who = who, .min_free = min_free };
	ab_strlcpy(r->path, path, sizeof r->path);
}

void ab_diskroom_set(struct ab_diskroom *r, uint64_t min_free)
{
	if (r->min_free != min_free) {
		r->min_free = min_free;
		r->next_ms = 0;
	}
}

int64_t ab_disk_avail(const char *path)
{
	struct statvfs v;

	if (statvfs(path, &v) < 0)
		return -1;
	if (v.f_frsize && v.f_bavail > (fsblkcnt_t)(INT64_MAX / v.f_frsize))
		return INT64_MAX;
	return (int64_t)(v.f_bavail * v.f_frsize);
}

/* Room again above the watermark plus an eighth of it (at least 1 MiB). */
static uint64_t resume_mark(uint64_t min_free)
{
	uint64_t extra = min_free / 8;

	return min_free + (extra < MIB ? MIB : extra);
}

int ab_diskroom_check(struct ab_diskroom *r, char *err, size_t errsz)
{
	int64_t now = ab_mono_ms(), avail;
	bool low;

	if (r->min_free == 0) {
		r->low = false;
		return 0;
	}
	if (now >= r->next_ms) {
		r->next_ms = now + AB_DISKROOM_EVERY_MS;
		avail = ab_disk_avail(r->path);
		if (avail >= 0) {
			r->avail = (uint64_t)avail;
			r->known = true;
			low = r->low ? r->avail < resume_mark(r->min_free) : r->avail < r->min_free;
			if (low && !r->low)
				ab_log(AB_LOG_WARNING, "%s: %llu MiB free on the filesystem of %s, below "
					"min_free_mb %llu: new alerts are refused (inputs answer 'try "
					"again') until there are %llu MiB", r->who,
					(unsigned long long)(r->avail / MIB), r->path,
					(unsigned long long)(r->min_free / MIB),
					(unsigned long long)(resume_mark(r->min_free) / MIB));
			else if (!low && r->low)
				ab_log(AB_LOG_NOTICE, "%s: %llu MiB free on the filesystem of %s again: "
					"taking alerts", r->who, (unsigned long long)(r->avail / MIB),
					r->path);
			r->low = low;
		}
	}
	if (!r->low)
		return 0;
	snprintf(err, errsz, "%llu MiB free on the filesystem of %s, below min_free_mb %llu: "
		"try again when there is room", (unsigned long long)(r->avail / MIB), r->path,
		(unsigned long long)(r->min_free / MIB));
	return -1;
}
