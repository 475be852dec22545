/*
 * test_plugin_loader.c - the dlopen loader accepts a good plugin and
 * refuses: a different ABI major, a missing entry symbol, an extra
 * exported symbol, files or directories writable by group/others,
 * symbolic links, bad names and missing files; a plugin built for ABI 1.1
 * loads and what lies beyond its declared size (the 1.2 members) is never
 * read; the 1.2 members are read from a plugin that has them; ABI 1.3's
 * http_prepare and http_result are both or neither.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "deliver/plugin.h"
#include "../harness/testutil.h"

static char libs[1024];

static int setup(void **state)
{
	char *d = tu_tmpdir();

	if (!d)
		return -1;
	snprintf(libs, sizeof libs, "%s/tests/plugins/.libs", tu_builddir());
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	tu_rm_rf(*state);
	free(*state);
	return 0;
}

static void expect_refusal(const char *dir, const char *name, const char *needle)
{
	struct ab_loaded_plugin p;
	char err[1024] = "";

	assert_int_equal(ab_plugin_load(dir, name, &p, err, sizeof err), -1);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not mention '%s'", err, needle);
	assert_null(p.handle);
}

static void test_good_plugin_loads(void **state)
{
	struct ab_loaded_plugin p;
	char err[1024] = "";

	assert_int_equal(tu_install_plugin(libs, "mock", *state, 0755), 0);
	assert_int_equal(ab_plugin_load(*state, "mock", &p, err, sizeof err), 0);
	assert_non_null(p.api);
	assert_string_equal(p.api->name, "mock");
	assert_int_equal(AB_PLUGIN_ABI_MAJOR_OF(p.api->abi), AB_PLUGIN_ABI_MAJOR);
	ab_plugin_unload(&p);
}

/* ABI 1.1: smaller struct, accepted; the garbage after its size ignored. */
static void test_old_minor_loads(void **state)
{
	struct ab_loaded_plugin p;
	char err[1024] = "";
	json_t *cfg = json_object();

	assert_int_equal(tu_install_plugin(libs, "oldabi", *state, 0755), 0);
	assert_int_equal(ab_plugin_load(*state, "oldabi", &p, err, sizeof err), 0);
	assert_int_equal(AB_PLUGIN_ABI_MINOR_OF(p.api->abi), 1);
	assert_int_equal(p.api->size, AB_PLUGIN_MIN_SIZE);
	assert_false(AB_PLUGIN_HAS(p.api, default_rate));
	assert_true(ab_plugin_default_rate(p.api) == 0);
	assert_null(ab_plugin_path_settings(p.api));
	assert_false(ab_plugin_http_split(p.api));
	assert_int_equal(ab_plugin_check(p.api, cfg, NULL, err, sizeof err), 0);
	assert_string_equal(err, "");
	ab_plugin_unload(&p);
	json_decref(cfg);
}

/* ABI 1.2: the optional members are read. */
static void test_new_members_read(void **state)
{
	struct ab_loaded_plugin p;
	char err[1024] = "";
	json_t *cfg = json_pack("{s:s}", "refuse", "no");

	assert_int_equal(tu_install_plugin(libs, "abi12", *state, 0755), 0);
	assert_int_equal(ab_plugin_load(*state, "abi12", &p, err, sizeof err), 0);
	assert_int_equal(AB_PLUGIN_ABI_MINOR_OF(p.api->abi), AB_PLUGIN_ABI_MINOR);
	assert_true(ab_plugin_default_rate(p.api) == 2.5);
	assert_string_equal(ab_plugin_path_settings(p.api)[0], "db");
	assert_int_equal(ab_plugin_check(p.api, cfg, NULL, err, sizeof err), -1);
	assert_string_equal(err, "setting 'refuse': no");
	ab_plugin_unload(&p);
	json_decref(cfg);
}

static void test_wrong_abi(void **state)
{
	assert_int_equal(tu_install_plugin(libs, "badabi", *state, 0755), 0);
	expect_refusal(*state, "badabi", "ABI 2.0");
}

static void test_missing_symbol(void **state)
{
	assert_int_equal(tu_install_plugin(libs, "nosym", *state, 0755), 0);
	expect_refusal(*state, "nosym", "does not export 'alertbridge_plugin'");
}

static void test_two_symbols(void **state)
{
	assert_int_equal(tu_install_plugin(libs, "twosym", *state, 0755), 0);
	expect_refusal(*state, "twosym", "twosym_helper");
}

static void test_writable_file(void **state)
{
	{
		assert_int_equal(tu_install_plugin(libs, "mock", *state, 0775), 0);
		expect_refusal(*state, "mock", "writable by group or others");
		assert_int_equal(tu_install_plugin(libs, "mock", *state, 0757), 0);
		expect_refusal(*state, "mock", "chmod go-w");
	}
}

static void test_writable_dir(void **state)
{
	assert_int_equal(tu_install_plugin(libs, "mock", *state, 0755), 0);
	assert_int_equal(chmod(*state, 0777), 0);
	expect_refusal(*state, "mock", "plugin directory");
	assert_int_equal(chmod(*state, 0755), 0);
}

static void test_symlink_refused(void **state)
{
	char *target = tu_path(*state, "real.so"), *link = tu_path(*state, "linked.so");

	assert_int_equal(tu_install_plugin(libs, "mock", *state, 0755), 0);
	assert_int_equal(symlink("mock.so", link), 0);
	expect_refusal(*state, "linked", "symbolic link");
	free(target);
	free(link);
}

static void test_bad_names_and_missing(void **state)
{
	expect_refusal(*state, "../etc/passwd", "not valid");
	expect_refusal(*state, "", "not valid");
	expect_refusal(*state, "Slack", "not valid");
	expect_refusal(*state, "absent", "cannot open");
	expect_refusal("/nonexistent-dir", "mock", "plugin directory");
}

static void *v_create(const struct ab_host *h, const char *c, const json_t *j, char *e,
	size_t n)
{
	(void)h, (void)c, (void)j, (void)e, (void)n;
	return NULL;
}

static void v_send(void *i, const struct ab_message *m, struct ab_result *r)
{
	(void)i, (void)m, (void)r;
}

static void v_destroy(void *i)
{
	(void)i;
}

static int v_prepare(void *i, const struct ab_message *m, struct ab_http_request *req,
	void **st, struct ab_result *r)
{
	(void)i;
	(void)m;
	(void)req;
	(void)r;
	*st = NULL;
	return 0;
}

static void v_result(void *i, void *st, const struct ab_http_response *resp,
	struct ab_result *r)
{
	(void)i;
	(void)st;
	(void)resp;
	(void)r;
}

static void test_validate_struct(void **state)
{
	struct ab_plugin api = { .abi = AB_PLUGIN_ABI, .size = sizeof api, .name = "x" };
	char err[512];

	(void)state;
	assert_int_equal(ab_plugin_validate(&api, "x", err, sizeof err), -1);
	assert_non_null(strstr(err, "mandatory"));
	api.size = 8;
	assert_int_equal(ab_plugin_validate(&api, "x", err, sizeof err), -1);
	assert_non_null(strstr(err, "bytes"));
	api.size = sizeof api;
	api.name = "y";
	assert_int_equal(ab_plugin_validate(&api, "x", err, sizeof err), -1);
	assert_non_null(strstr(err, "does not match"));
	assert_int_equal(ab_plugin_validate(NULL, "x", err, sizeof err), -1);

	/* the 1.0/1.1 size is enough; one byte less is not */
	api.name = "x";
	api.create = v_create;
	api.send = v_send;
	api.destroy = v_destroy;
	assert_int_equal(ab_plugin_validate(&api, "x", err, sizeof err), 0);
	api.size = AB_PLUGIN_MIN_SIZE;
	api.default_rate = -5;              /* beyond the size: not read */
	assert_int_equal(ab_plugin_validate(&api, "x", err, sizeof err), 0);
	api.size = AB_PLUGIN_MIN_SIZE - 1;
	assert_int_equal(ab_plugin_validate(&api, "x", err, sizeof err), -1);
	assert_non_null(strstr(err, "bytes"));
	/* a default_rate the struct has must be a number >= 0 */
	api.size = sizeof api;
	assert_int_equal(ab_plugin_validate(&api, "x", err, sizeof err), -1);
	assert_non_null(strstr(err, "default_rate"));
	api.default_rate = NAN;
	assert_int_equal(ab_plugin_validate(&api, "x", err, sizeof err), -1);
	api.default_rate = 0.25;
	assert_int_equal(ab_plugin_validate(&api, "x", err, sizeof err), 0);

	/* ABI 1.3: http_prepare and http_result, both or neither */
	assert_false(ab_plugin_http_split(&api));
	api.http_prepare = v_prepare;
	assert_int_equal(ab_plugin_validate(&api, "x", err, sizeof err), -1);
	assert_non_null(strstr(err, "only one of http_prepare and http_result"));
	assert_false(ab_plugin_http_split(&api));
	api.http_result = v_result;
	assert_int_equal(ab_plugin_validate(&api, "x", err, sizeof err), 0);
	assert_true(ab_plugin_http_split(&api));
	api.http_prepare = NULL;
	assert_int_equal(ab_plugin_validate(&api, "x", err, sizeof err), -1);
	/* a 1.2 struct: what lies beyond it is not read */
	api.size = offsetof(struct ab_plugin, http_prepare);
	assert_int_equal(ab_plugin_validate(&api, "x", err, sizeof err), 0);
	api.http_prepare = v_prepare;
	assert_false(ab_plugin_http_split(&api));
	assert_false(ab_plugin_http_split(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_plugin_loads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_minor_loads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_members_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_abi, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_symbol, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_symbols, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writable_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writable_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_names_and_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_validate_struct, setup, teardown),
	};
	return cmocka_run_group_tests_name("plugin_loader", tests, NULL, NULL);
}
