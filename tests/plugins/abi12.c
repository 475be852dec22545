/*
 * abi12.c - a test channel using the ABI 1.2 members: default_rate 2.5,
 * path_settings { "db", "out_file" } and a check() driven by the settings:
 *   refuse = "TEXT"   check() refuses: "setting 'refuse': TEXT"
 *   warn = "TEXT"     check() accepts with the warning "setting 'warn': TEXT"
 *   db                check() refuses a value the host did not make absolute
 * Any other setting is accepted.  test() answers with what the plugin got:
 * the value of the setting 'secret' resolved through its host ("secret=..."
 * or "secret error: ...") when there is one, else the settings as compact
 * JSON with sorted keys.  Used by tests/unit/deliver/test_runtime.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <alertbridge/plugin.h>

const struct ab_plugin *alertbridge_plugin(void);

struct inst {
	const struct ab_host *host;
	json_t *cfg;
};

static void *create(const struct ab_host *h, const char *channel, const json_t *cfg,
	char *err, size_t errsz)
{
	struct inst *in = calloc(1, sizeof *in);

	(void)channel;
	if (!in || !(in->cfg = json_deep_copy(cfg))) {
		free(in);
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	in->host = h;
	return in;
}

static void sendit(void *i, const struct ab_message *m, struct ab_result *r)
{
	(void)i;
	(void)m;
	ab_result_set(r, AB_OK, 0, "ok");
}

static void test(void *i, struct ab_result *r)
{
	struct inst *in = i;
	const char *ref = json_string_value(json_object_get(in->cfg, "secret"));
	char out[512], err[256], msg[AB_RESULT_MSG_MAX];
	char *s;

	if (ref) {
		if (in->host->secret(in->host, ref, out, sizeof out, err, sizeof err) == 0)
			snprintf(msg, sizeof msg, "secret=%.200s", out);
		else
			snprintf(msg, sizeof msg, "secret error: %.200s", err);
		ab_result_set(r, AB_OK, 0, msg);
		return;
	}
	s = json_dumps(in->cfg, JSON_COMPACT | JSON_SORT_KEYS);
	ab_result_set(r, s ? AB_OK : AB_RETRY, 0, s ? s : "out of memory");
	free(s);
}

static void destroy(void *i)
{
	struct inst *in = i;

	json_decref(in->cfg);
	free(in);
}

static int check(const json_t *cfg, const struct ab_host *h, char *err, size_t errsz)
{
	const char *refuse = json_string_value(json_object_get(cfg, "refuse"));
	const char *warn = json_string_value(json_object_get(cfg, "warn"));
	const char *db = json_string_value(json_object_get(cfg, "db"));

	(void)h;
	if (db && db[0] != '/') {
		snprintf(err, errsz, "setting 'db': '%s' was not made absolute", db);
		return -1;
	}
	if (refuse) {
		snprintf(err, errsz, "setting 'refuse': %s", refuse);
		return -1;
	}
	if (warn) {
		snprintf(err, errsz, "setting 'warn': %s", warn);
		return 1;
	}
	return 0;
}

static const char *const paths[] = { "db", "out_file", NULL };

static const struct ab_plugin api = {
	.abi = AB_PLUGIN_ABI, .size = sizeof(struct ab_plugin), .name = "abi12",
	.description = "test channel with the ABI 1.2 members",
	.create = create, .send = sendit, .test = test, .destroy = destroy,
	.default_rate = 2.5, .path_settings = paths, .check = check,
};

const struct ab_plugin *alertbridge_plugin(void)
{
	return &api;
}
