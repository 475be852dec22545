/*
 * replay.c - run a libFuzzer target over saved inputs without libFuzzer.
 *
 * Linked with one fuzz_*.c file; "replay DIR..." calls
 * LLVMFuzzerTestOneInput() once per regular file in each directory (sorted
 * by name, not recursive) and prints one TAP line per file, so `make check`
 * replays the corpus with gcc and the sanitizers.  A crash fails the run.
 * Diagnostics: "not ok N - FILE # cannot read: ..." for an unreadable file
 * (exit 1); "DIR: cannot open directory" on stderr and exit 2.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define REPLAY_MAX_FILE (4 * 1024 * 1024)
#define REPLAY_MAX_FILES 100000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read a whole file (<= REPLAY_MAX_FILE) into a malloc'd buffer. */
static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf;
	size_t n;

	if (!fp)
		return NULL;
	buf = malloc(REPLAY_MAX_FILE + 1);
	if (!buf) {
		fclose(fp);
		return NULL;
	}
	n = fread(buf, 1, REPLAY_MAX_FILE + 1, fp);
	fclose(fp);
	if (n > REPLAY_MAX_FILE) {
		free(buf);
		errno = EFBIG;
		return NULL;
	}
	*len = n;
	return buf;
}

/* Collect the regular files of dir, sorted. */
static char **list(const char *dir, size_t *count)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL, path[4096];
	size_t n = 0, cap = 0;
	struct stat st;

	*count = 0;
	if (!d)
		return NULL;
	while ((de = readdir(d)) != NULL && n < REPLAY_MAX_FILES) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= (int)sizeof path ||
		    stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			char **nv = realloc(v, (cap ? cap * 2 : 64) * sizeof *v);

			if (!nv)
				break;
			v = nv;
			cap = cap ? cap * 2 : 64;
		}
		v[n] = strdup(path);
		if (!v[n])
			break;
		n++;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof *v, cmp);
	*count = n;
	return v ? v : calloc(1, sizeof *v);
}

int main(int argc, char **argv)
{
	char ***lists;
	size_t *counts, total = 0, k, t = 0;
	int a, failed = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR...\n", argv[0]);
		return 2;
	}
	lists = calloc((size_t)argc, sizeof *lists);
	counts = calloc((size_t)argc, sizeof *counts);
	if (!lists || !counts)
		return 1;
	for (a = 1; a < argc; a++) {
		lists[a] = list(argv[a], &counts[a]);
		if (!lists[a]) {
			fprintf(stderr, "%s: cannot open directory: %s\n", argv[a], strerror(errno));
			return 2;
		}
		total += counts[a];
	}
	printf("1..%zu\n", total);
	for (a = 1; a < argc; a++) {
		for (k = 0; k < counts[a]; k++) {
			size_t len = 0;
			uint8_t *buf = slurp(lists[a][k], &len);

			t++;
			if (!buf) {
				printf("not ok %zu - %s # cannot read: %s\n", t, lists[a][k],
				       strerror(errno));
				failed = 1;
			} else {
				LLVMFuzzerTestOneInput(buf, len);
				printf("ok %zu - %s (%zu bytes)\n", t, lists[a][k], len);
				free(buf);
			}
			fflush(stdout);
			free(lists[a][k]);
		}
		free(lists[a]);
	}
	free(lists);
	free(counts);
	return failed;
}
