/*
 * oldabi.c - a test channel as a plugin built against ABI 1.1 declares
 * itself: abi 1.1 and size = the 1.1 struct (AB_PLUGIN_MIN_SIZE).  The
 * members after that hold values a host must never read (default_rate 99,
 * path_settings naming "path", a check() that refuses everything): the
 * loader and runtime tests show that the plugin loads and that they are
 * ignored.  test() answers with the settings as compact JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <alertbridge/plugin.h>

const struct ab_plugin *alertbridge_plugin(void);

static void *create(const struct ab_host *h, const char *channel, const json_t *cfg,
	char *err, size_t errsz)
{
	json_t *copy = json_deep_copy(cfg);

	(void)h;
	(void)channel;
	if (!copy)
		snprintf(err, errsz, "out of memory");
	return copy;
}

static void sendit(void *i, const struct ab_message *m, struct ab_result *r)
{
	(void)i;
	(void)m;
	ab_result_set(r, AB_OK, 0, "ok");
}

static void test(void *i, struct ab_result *r)
{
	char *s = json_dumps(i, JSON_COMPACT | JSON_SORT_KEYS);

	ab_result_set(r, s ? AB_OK : AB_RETRY, 0, s ? s : "out of memory");
	free(s);
}

static void destroy(void *i)
{
	json_decref(i);
}

static int check(const json_t *cfg, const struct ab_host *h, char *err, size_t errsz)
{
	(void)cfg;
	(void)h;
	snprintf(err, errsz, "oldabi: check() called beyond the declared size");
	return -1;
}

static const char *const paths[] = { "path", NULL };

static const struct ab_plugin api = {
	.abi = (1u << 16) | 1, .size = (uint32_t)AB_PLUGIN_MIN_SIZE, .name = "oldabi",
	.description = "test channel declaring ABI 1.1",
	.create = create, .send = sendit, .test = test, .destroy = destroy,
	/* beyond size: a 1.1 plugin has no such members */
	.default_rate = 99, .path_settings = paths, .check = check,
};

const struct ab_plugin *alertbridge_plugin(void)
{
	return &api;
}
