/* fsync_lat.c - latency of one small write + sync on the filesystem of
 * DIR, the floor under any group commit there.  Modes:
 *   overwrite  4 KiB pwrite into an already written file + fdatasync
 *              (no metadata to commit: what a recycled segment costs)
 *   append     4 KiB append + fdatasync (size changes: journal commit)
 *   append-fsync  4 KiB append + fsync
 *   fallocated 4 KiB into a fallocated (unwritten) range + fdatasync
 *
 *   fsync_lat DIR [N]     (default N 300 per mode)
 * Prints one CSV line per mode: dir,mode,n,mean_us,p50_us,p99_us,max_us,load1 */
#include "common.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: fsync_lat DIR [N]\n");
		return 64;
	}
	int n = argc > 2 ? atoi(argv[2]) : 300;
	const char *modes[] = {"overwrite", "append", "append-fsync", "fallocated"};
	char path[4096];
	static uint8_t blk[4096];
	memset(blk, 'x', sizeof blk);
	uint64_t *lat = calloc((size_t)n, sizeof *lat);
	double l1 = 0;
	FILE *f = fopen("/proc/loadavg", "r");
	if (f) {
		if (fscanf(f, "%lf", &l1) != 1)
			l1 = 0;
		fclose(f);
	}
	for (int m = 0; m < 4; m++) {
		snprintf(path, sizeof path, "%s/fsync_lat.%d.tmp", argv[1], getpid());
		int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		if (fd < 0) {
			perror(path);
			return 1;
		}
		if (m == 0) {
			for (int i = 0; i < n; i++)
				if (write(fd, blk, sizeof blk) != (ssize_t)sizeof blk)
					return 1;
			fsync(fd);
		}
		if (m == 3 && fallocate(fd, 0, 0, (off_t)n * 4096) < 0)
			return 1;
		fsync(fd);
		uint64_t sum = 0;
		for (int i = 0; i < n; i++) {
			uint64_t t0 = now_ns();
			if (pwrite(fd, blk, sizeof blk, (off_t)i * 4096) != (ssize_t)sizeof blk)
				return 1;
			if (m == 2 ? fsync(fd) : fdatasync(fd))
				return 1;
			lat[i] = now_ns() - t0;
			sum += lat[i];
		}
		close(fd);
		unlink(path);
		qsort(lat, (size_t)n, sizeof *lat, cmp);
		printf("%s,%s,%d,%.0f,%.0f,%.0f,%.0f,%.2f\n", argv[1], modes[m], n, sum / 1e3 / n,
		       lat[n / 2] / 1e3, lat[n * 99 / 100] / 1e3, lat[n - 1] / 1e3, l1);
	}
	free(lat);
	return 0;
}
