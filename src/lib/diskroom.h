/*
 * diskroom.h - the free-space watermark every input checks before it
 * acknowledges anything: below min_free bytes available on the filesystem
 * of a path, inputs stop taking alerts (milter 4xx, syslog paused, `send`
 * exits 75) until there is room again, so the store and the journal never
 * meet a full filesystem half-way through a write.
 *
 * One struct per thread (no locking): the filesystem is looked at with
 * statvfs at most every AB_DISKROOM_EVERY_MS.  Low below min_free, room
 * again at min_free + max(min_free / 8, 1 MiB) (hysteresis: no flapping
 * at the mark).  Each change of state is logged once, naming `who`.
 */
#ifndef AB_DISKROOM_H
#define AB_DISKROOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AB_DISKROOM_EVERY_MS 250
#define AB_DISKROOM_MB_DEFAULT 64     /* min_free_mb when not set */

struct ab_diskroom {
	char path[4096];        /* a file or directory on the filesystem watched */
	const char *who;        /* for the log: "store", "syslog journal" (static) */
	uint64_t min_free;      /* bytes; 0 = never low */
	int64_t next_ms;        /* monotonic: when to look again */
	uint64_t avail;         /* bytes available (unprivileged) at the last look */
	bool known;             /* avail was read at least once */
	bool low;
};

void ab_diskroom_init(struct ab_diskroom *r, const char *path, const char *who,
	uint64_t min_free);
/* Change the watermark (a reload); the next check looks again. */
void ab_diskroom_set(struct ab_diskroom *r, uint64_t min_free);
/* 0 when there is room; -1 below the watermark, with the reason in err
 * ("12 MiB free on the filesystem of /var/lib/alertbridge/store.db, below
 * min_free_mb 64: ...").  A filesystem that cannot be looked at counts as
 * having room (the write itself will say what is wrong). */
int ab_diskroom_check(struct ab_diskroom *r, char *err, size_t errsz);
/* Bytes available on the filesystem of path now, or -1 (errno set). */
int64_t ab_disk_avail(const char *path);

#endif
