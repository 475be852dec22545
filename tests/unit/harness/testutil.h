/*
 * testutil.h - small helpers shared by the unit tests: temporary
 * directories, writing fixture files, locating the source and build trees.
 */
#ifndef AB_TESTUTIL_H
#define AB_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static inline char *tu_tmpdir(void)
{
	char tmpl[] = "/tmp/abtest.XXXXXX";
	char *d = mkdtemp(tmpl);

	if (!d)
		return NULL;
	chmod(d, 0755);
	return strdup(d);
}

static inline char *tu_path(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

static inline int tu_write(const char *path, const char *content)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(content, f);
	return fclose(f);
}

static inline int tu_rm_rf(const char *dir)
{
	char cmd[1024];

	if (!dir || strncmp(dir, "/tmp/abtest.", 12) != 0)
		return -1;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd);
}

/* The source tree (make check exports top_srcdir), for fixtures and conf/. */
static inline const char *tu_srcdir(void)
{
	const char *t = getenv("top_srcdir");

	return t && *t ? t : ".";
}

static inline const char *tu_builddir(void)
{
	const char *b = getenv("top_builddir");

	return b && *b ? b : ".";
}

/* Copy a built test plugin (tests/plugins/.libs/NAME.so) into dir as NAME.so. */
static inline int tu_install_plugin(const char *from_dir, const char *name, const char *dir,
	mode_t mode)
{
	char src[1024], dst[1024], buf[65536];
	FILE *in, *out;
	size_t n;

	if (snprintf(src, sizeof src, "%s/%s.so", from_dir, name) >= (int)sizeof src ||
	    snprintf(dst, sizeof dst, "%s/%s.so", dir, name) >= (int)sizeof dst)
		return -1;
	in = fopen(src, "rb");
	if (!in)
		return -1;
	out = fopen(dst, "wb");
	if (!out) {
		fclose(in);
		return -1;
	}
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	fclose(out);
	return chmod(dst, mode);
}

#endif
