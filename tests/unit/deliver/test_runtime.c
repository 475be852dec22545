/*
 * test_runtime.c - configuration snapshots and the plugin ABI 1.2 as the
 * host applies it, with the test plugins abi12 and oldabi (tests/plugins):
 * only the settings a plugin declares in path_settings are made absolute
 * against state_dir; a plugin's default_rate reaches the rate limit;
 * check() refusals and warnings come back with the file, line and channel
 * name (none with AB_RT_NO_CHECK); an ABI 1.1 plugin loads and what lies
 * beyond its size is never read; each snapshot has its own host, so a
 * refused reload with a new secrets_key leaves the running snapshot
 * resolving secrets with its own key; ab_channel_data_file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "deliver/ratelimit.h"
#include "deliver/runtime.h"
#include "lib/log.h"
#include "lib/secret.h"
#include "../harness/testutil.h"

static char *dir;

#define HEAD "state_dir = \"%s\";\nplugin_dir = \"%s\";\n"

static struct ab_config *conf(const char *name, const char *text)
{
	char *path = tu_path(dir, name), *errors = NULL;
	struct ab_config *cfg;

	assert_int_equal(tu_write(path, text), 0);
	cfg = ab_config_load(path, &errors);
	free(path);
	if (!cfg)
		fail_msg("config: %s", errors);
	return cfg;
}

/* The runtime of text (see HEAD) or NULL, with its errors and warnings. */
static struct ab_runtime *build(const char *text, unsigned flags, char **errors,
	char **warnings)
{
	return ab_runtime_build_ex(conf("t.conf", text), NULL, flags, errors, warnings);
}

static struct ab_runtime *build_ok(const char *text)
{
	char *errors = NULL;
	struct ab_runtime *rt = build(text, 0, &errors, NULL);

	if (!rt)
		fail_msg("runtime: %s", errors);
	return rt;
}

/* test() of a channel: what the plugin got (see abi12.c, oldabi.c). */
static const char *told(struct ab_runtime *rt, const char *channel)
{
	static struct ab_result res;
	struct ab_channel_rt *ch = ab_runtime_channel(rt, channel);

	assert_non_null(ch);
	memset(&res, 0, sizeof res);
	ch->plugin.api->test(ch->inst, &res);
	return res.message;
}

static int setup(void **state)
{
	char libs[1024], err[256], *k;
	static const char *const plugins[] = { "abi12", "oldabi", "mock" };
	static const char *const keys[] = { "a.key", "b.key" };

	(void)state;
	ab_log_init("test_runtime", false, AB_LOG_ERR);
	if (!(dir = tu_tmpdir()))
		return -1;
	snprintf(libs, sizeof libs, "%s/tests/plugins/.libs", tu_builddir());
	for (size_t i = 0; i < sizeof plugins / sizeof *plugins; i++)
		if (tu_install_plugin(libs, plugins[i], dir, 0755) < 0)
			return -1;
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
		int r;

		if (!(k = tu_path(dir, keys[i])))
			return -1;
		r = ab_secret_keygen(k, err, sizeof err);
		free(k);
		if (r < 0)
			return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_rm_rf(dir);
	free(dir);
	return 0;
}

/* Only declared names are made absolute; an old plugin's are not read. */
static void test_path_settings(void **state)
{
	char text[2048], want[1024];
	struct ab_runtime *rt;

	(void)state;
	snprintf(text, sizeof text, HEAD
		"channels = (\n"
		"  { name = \"a\"; type = \"abi12\"; db = \"./sub/x.db\"; out_file = \"/abs/out\";\n"
		"    log_path = \"rel/log\"; path = \"p\"; other_file = \"o\"; },\n"
		"  { name = \"old\"; type = \"oldabi\"; path = \"p\"; }\n"
		");\ndefault = [\"a\"];\n", dir, dir);
	rt = build_ok(text);
	snprintf(want, sizeof want, "{\"db\":\"%s/sub/x.db\",\"log_path\":\"rel/log\","
		"\"other_file\":\"o\",\"out_file\":\"/abs/out\",\"path\":\"p\"}", dir);
	assert_string_equal(told(rt, "a"), want);
	assert_string_equal(told(rt, "old"), "{\"path\":\"p\"}");
	ab_runtime_unref(rt);
}

/* default_rate: the plugin's, unless the channel sets rate; never an old
 * plugin's trailing garbage. */
static void test_default_rate(void **state)
{
	char text[2048];
	struct ab_runtime *rt;
	double rate;
	int burst;

	(void)state;
	snprintf(text, sizeof text, HEAD
		"channels = (\n"
		"  { name = \"a\"; type = \"abi12\"; },\n"
		"  { name = \"fast\"; type = \"abi12\"; rate = \"5/s\"; burst = 3; },\n"
		"  { name = \"old\"; type = \"oldabi\"; },\n"
		"  { name = \"m\"; type = \"mock\"; }\n"
		");\ndefault = [\"a\"];\n", dir, dir);
	rt = build_ok(text);
	assert_true(ab_runtime_default_rate(rt, "a") == 2.5);
	assert_true(ab_runtime_default_rate(rt, "old") == 0);
	assert_true(ab_runtime_default_rate(rt, "m") == 0);
	assert_true(ab_runtime_default_rate(rt, "nosuch") == 0);
	ab_ratelimit_conf(ab_config_channel(rt->cfg, "a"), ab_runtime_default_rate(rt, "a"),
		&rate, &burst);
	assert_true(rate == 2.5);
	assert_int_equal(burst, 1);
	ab_ratelimit_conf(ab_config_channel(rt->cfg, "fast"),
		ab_runtime_default_rate(rt, "fast"), &rate, &burst);
	assert_true(rate == 5.0);
	assert_int_equal(burst, 3);
	ab_runtime_unref(rt);
}

/* check(): errors and warnings with file, line and channel; the paths it
 * sees are the resolved ones; AB_RT_NO_CHECK skips it. */
static void test_check_reported(void **state)
{
	char text[2048], want[1024], *errors = NULL, *warnings = NULL;
	struct ab_runtime *rt;

	(void)state;
	snprintf(text, sizeof text, HEAD
		"channels = (\n"
		"  { name = \"fine\"; type = \"abi12\"; db = \"rel.db\"; },\n"
		"  { name = \"bad\"; type = \"abi12\"; refuse = \"nope\"; },\n"
		"  { name = \"warned\"; type = \"abi12\"; warn = \"careful\"; },\n"
		"  { name = \"old\"; type = \"oldabi\"; }\n"
		");\ndefault = [\"fine\"];\n", dir, dir);
	rt = build(text, 0, &errors, &warnings);
	assert_null(rt);
	assert_non_null(errors);
	snprintf(want, sizeof want, "%s/t.conf:5: channel 'bad': setting 'refuse': nope\n", dir);
	assert_string_equal(errors, want);   /* nothing about fine, warned or old */
	assert_non_null(warnings);
	snprintf(want, sizeof want, "%s/t.conf:6: channel 'warned': warning: setting 'warn': "
		"careful\n", dir);
	assert_string_equal(warnings, want);
	free(errors);
	free(warnings);

	rt = build(text, AB_RT_NO_CHECK, &errors, &warnings);
	assert_non_null(rt);
	assert_null(errors);
	assert_null(warnings);
	assert_int_equal(rt->n_channels, 4);
	ab_runtime_unref(rt);
}

static char *enc(const char *plain, const char *key)
{
	char *k = tu_path(dir, key), *out = NULL, err[256];

	if (ab_secret_encrypt(plain, k, &out, err, sizeof err) < 0)
		fail_msg("encrypt: %s", err);
	free(k);
	return out;
}

/* One host per snapshot: a refused reload with another key changes
 * nothing for the running one. */
static void test_secrets_per_runtime(void **state)
{
	char text[4096], out[256], err[256], *errors = NULL, *want;
	char *ea = enc("alpha", "a.key"), *eb = enc("beta", "b.key");
	struct ab_runtime *a, *b;

	(void)state;
	snprintf(text, sizeof text, HEAD "secrets_key = \"%s/a.key\";\n"
		"channels = ( { name = \"s\"; type = \"abi12\"; secret = \"%s\"; } );\n"
		"default = [\"s\"];\n", dir, dir, dir, ea);
	a = build_ok(text);
	assert_string_equal(told(a, "s"), "secret=alpha");

	/* the reload: another key, and a channel its check refuses */
	snprintf(text, sizeof text, HEAD "secrets_key = \"%s/b.key\";\n"
		"channels = ( { name = \"s\"; type = \"abi12\"; secret = \"%s\"; },\n"
		"  { name = \"bad\"; type = \"abi12\"; refuse = \"no\"; } );\n"
		"default = [\"s\"];\n", dir, dir, dir, eb);
	b = build(text, 0, &errors, NULL);
	assert_null(b);
	assert_non_null(strstr(errors, "channel 'bad': setting 'refuse': no"));
	free(errors);

	/* A still resolves with A's key, through its instances and its host */
	assert_string_equal(told(a, "s"), "secret=alpha");
	assert_int_equal(a->host->secret(a->host, ea, out, sizeof out, err, sizeof err), 0);
	assert_string_equal(out, "alpha");
	assert_int_equal(a->host->secret(a->host, eb, out, sizeof out, err, sizeof err), -1);

	/* the good reload beside it: each with its own key */
	snprintf(text, sizeof text, HEAD "secrets_key = \"%s/b.key\";\n"
		"channels = ( { name = \"s\"; type = \"abi12\"; secret = \"%s\"; } );\n"
		"default = [\"s\"];\n", dir, dir, dir, eb);
	b = build_ok(text);
	assert_string_equal(told(b, "s"), "secret=beta");
	assert_string_equal(told(a, "s"), "secret=alpha");
	assert_ptr_not_equal(a->host, b->host);
	ab_runtime_unref(b);

	/* no secrets_key: an enc: reference says what to set */
	snprintf(text, sizeof text, HEAD
		"channels = ( { name = \"s\"; type = \"abi12\"; secret = \"%s\"; } );\n"
		"default = [\"s\"];\n", dir, dir, ea);
	b = build_ok(text);
	want = "secret error: an enc: secret needs the top-level setting secrets_key";
	assert_int_equal(strncmp(told(b, "s"), want, strlen(want)), 0);
	assert_string_equal(told(a, "s"), "secret=alpha");
	ab_runtime_unref(b);
	ab_runtime_unref(a);
	free(ea);
	free(eb);
}

/* The data file: the plugin's first path setting, resolved. */
static void test_data_file(void **state)
{
	char text[2048], want[1024], err[512], *p;
	struct ab_config *cfg;

	(void)state;
	snprintf(text, sizeof text, HEAD
		"channels = (\n"
		"  { name = \"a\"; type = \"abi12\"; db = \"sub/x.db\"; },\n"
		"  { name = \"unset\"; type = \"abi12\"; },\n"
		"  { name = \"m\"; type = \"mock\"; },\n"
		"  { name = \"old\"; type = \"oldabi\"; path = \"p\"; }\n"
		");\ndefault = [\"a\"];\n", dir, dir);
	cfg = conf("d.conf", text);
	p = ab_channel_data_file(cfg, NULL, "a", err, sizeof err);
	snprintf(want, sizeof want, "%s/sub/x.db", dir);
	assert_non_null(p);
	assert_string_equal(p, want);
	free(p);
	assert_null(ab_channel_data_file(cfg, NULL, "unset", err, sizeof err));
	assert_non_null(strstr(err, "channel 'unset': setting 'db' is not set"));
	assert_null(ab_channel_data_file(cfg, NULL, "m", err, sizeof err));
	assert_non_null(strstr(err, "channel 'm': its plugin mock keeps no data file"));
	assert_null(ab_channel_data_file(cfg, NULL, "old", err, sizeof err));
	assert_non_null(strstr(err, "keeps no data file"));
	assert_null(ab_channel_data_file(cfg, NULL, "nosuch", err, sizeof err));
	assert_non_null(strstr(err, "no channel named 'nosuch'"));
	assert_null(ab_channel_data_file(cfg, "/nonexistent-dir", "a", err, sizeof err));
	assert_non_null(strstr(err, "plugin directory"));
	ab_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_settings),
		cmocka_unit_test(test_default_rate),
		cmocka_unit_test(test_check_reported),
		cmocka_unit_test(test_secrets_per_runtime),
		cmocka_unit_test(test_data_file),
	};
	return cmocka_run_group_tests_name("runtime", tests, setup, teardown);
}
