/*
 * test_file_plugin.c - unit tests for the file channel plugin
 * (plugins/file/file.c, linked in directly and reached through
 * alertbridge_plugin() with the mock host): settings, one sorted compact
 * JSON line per message, file mode, rotation, the line cap, write errors
 * (/dev/full, a short write under RLIMIT_FSIZE) and the test action.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <alertbridge/plugin.h>
#include "../harness/mockhost.h"

const struct ab_plugin *alertbridge_plugin(void);

struct fixture {
	char dir[64];
	char path[128];
	struct mock_host mh;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (!f)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/ab_file_XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof f->path, "%s/alerts.jsonl", f->dir);
	mock_host_init(&f->mh);
	umask(022);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char p[160];

	unlink(f->path);
	snprintf(p, sizeof p, "%s.1", f->path);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void *create_cfg(struct fixture *f, const char *cfgtext, char *err, size_t errsz)
{
	json_error_t je;
	json_t *cfg = json_loads(cfgtext, 0, &je);
	void *inst;

	assert_non_null(cfg);
	inst = alertbridge_plugin()->create(&f->mh.host, "audit", cfg, err, errsz);
	json_decref(cfg);
	return inst;
}

static void *create_path(struct fixture *f, const char *path, const char *extra)
{
	char cfg[512], err[512] = "";
	void *inst;

	snprintf(cfg, sizeof cfg, "{\"path\": \"%s\"%s}", path, extra);
	inst = create_cfg(f, cfg, err, sizeof err);
	if (!inst)
		fprintf(stderr, "create: %s\n", err);
	assert_non_null(inst);
	return inst;
}

static struct ab_result send_json(void *inst, const char *payload)
{
	struct ab_result r;
	json_error_t je;
	json_t *j = json_loads(payload, JSON_DECODE_ANY, &je);
	struct ab_message m = { .kind = AB_MSG_EVENT, .attempt = 1, .payload = j,
		.id = "id1" };

	assert_non_null(j);
	memset(&r, 0x55, sizeof r);
	alertbridge_plugin()->send(inst, &m, &r);
	json_decref(j);
	return r;
}

/* The whole file as a string (small files only); caller frees. */
static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	size_t n;

	assert_non_null(fp);
	buf = calloc(1, 1 << 16);
	assert_non_null(buf);
	n = fread(buf, 1, (1 << 16) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static off_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static void test_plugin_struct(void **state)
{
	const struct ab_plugin *p = alertbridge_plugin();

	(void)state;
	assert_int_equal(p->abi, AB_PLUGIN_ABI);
	assert_int_equal(p->size, sizeof(struct ab_plugin));
	assert_string_equal(p->name, "file");
	assert_non_null(p->description);
	assert_non_null(p->create);
	assert_non_null(p->send);
	assert_non_null(p->test);
	assert_non_null(p->destroy);
	/* ABI 1.2: path is the one file setting (made absolute by the host);
	 * no rate limit, nothing to check beyond create() */
	assert_non_null(p->path_settings);
	assert_string_equal(p->path_settings[0], "path");
	assert_null(p->path_settings[1]);
	assert_true(p->default_rate == 0);
	assert_null(p->check);
}

static void test_bad_settings(void **state)
{
	struct fixture *f = *state;
	char cfg[256], err[512];
	static const struct { const char *cfg, *want; } cases[] = {
		{ "{}", "setting 'path': required" },
		{ "{\"path\": 1}", "setting 'path': " },
		{ "{\"path\": \"\"}", "setting 'path': " },
		{ "{\"path\": \"/tmp/ab-x.jsonl\", \"fsync\": \"yes\"}", "setting 'fsync': " },
		{ "{\"path\": \"/tmp/ab-x.jsonl\", \"max_bytes\": 5}",
		  "setting 'max_bytes': unknown setting for the file channel" },
		{ "{\"path\": \"/nonexistent-dir/a.jsonl\"}", "setting 'path': cannot open" },
		{ "[]", "setting 'path': " },
		{ NULL, "setting 'path': cannot open" },   /* the directory itself */
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (cases[i].cfg)
			snprintf(cfg, sizeof cfg, "%s", cases[i].cfg);
		else
			snprintf(cfg, sizeof cfg, "{\"path\": \"%s\"}", f->dir);
		err[0] = '\0';
		assert_null(create_cfg(f, cfg, err, sizeof err));
		if (strncmp(err, cases[i].want, strlen(cases[i].want)) != 0)
			fail_msg("case %zu: got \"%s\", want prefix \"%s\"", i, err, cases[i].want);
	}
	assert_int_equal(access("/tmp/ab-x.jsonl", F_OK), -1);
}

static void test_lines(void **state)
{
	struct fixture *f = *state;
	void *inst = create_path(f, f->path, "");
	static const struct { const char *in, *line; } cases[] = {
		{ "{\"z\": 1, \"a\": {\"y\": true, \"b\": null}}",
		  "{\"a\":{\"b\":null,\"y\":true},\"z\":1}\n" },
		{ "{\"title\": \"two\\nlines\"}", "{\"title\":\"two\\nlines\"}\n" },
		{ "{}", "{}\n" },
	};
	char want[512] = "";
	struct stat st;
	char *got;

	/* create() made the file, mode 0640 */
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct ab_result r = send_json(inst, cases[i].in);
		size_t used = strlen(want);

		assert_int_equal(r.status, AB_OK);
		snprintf(want + used, sizeof want - used, "%s", cases[i].line);
		got = slurp(f->path);
		assert_string_equal(got, want);
		free(got);
	}
	/* ABI 1.5: the host's text is the line as it is */
	{
		static const char text[] = "{\"a\":\"x\\ty\",\"z\":1}";
		struct ab_message m = { .kind = AB_MSG_EVENT, .attempt = 1, .id = "id2",
			.payload_text = text, .payload_len = sizeof text - 1 };
		struct ab_result r;
		size_t used = strlen(want);

		assert_true(alertbridge_plugin()->flags & AB_PLUGIN_F_PAYLOAD_TEXT);
		alertbridge_plugin()->send(inst, &m, &r);
		assert_int_equal(r.status, AB_OK);
		snprintf(want + used, sizeof want - used, "%s\n", text);
		got = slurp(f->path);
		assert_string_equal(got, want);
		free(got);
	}
	alertbridge_plugin()->destroy(inst);
}

static void test_fsync_and_rotation(void **state)
{
	struct fixture *f = *state;
	void *inst = create_path(f, f->path, ", \"fsync\": true");
	char rotated[160], *got;

	assert_int_equal(send_json(inst, "{\"n\":1}").status, AB_OK);
	snprintf(rotated, sizeof rotated, "%s.1", f->path);
	assert_int_equal(rename(f->path, rotated), 0);
	assert_int_equal(send_json(inst, "{\"n\":2}").status, AB_OK);
	got = slurp(rotated);
	assert_string_equal(got, "{\"n\":1}\n");
	free(got);
	got = slurp(f->path);
	assert_string_equal(got, "{\"n\":2}\n");
	free(got);
	/* deleted: recreated on the next send */
	assert_int_equal(unlink(f->path), 0);
	assert_int_equal(send_json(inst, "{\"n\":3}").status, AB_OK);
	got = slurp(f->path);
	assert_string_equal(got, "{\"n\":3}\n");
	free(got);
	alertbridge_plugin()->destroy(inst);
}

static void test_line_cap(void **state)
{
	struct fixture *f = *state;
	void *inst = create_path(f, f->path, "");
	const size_t big = (1u << 20) + 16;
	struct ab_message m = { .kind = AB_MSG_EVENT, .attempt = 1, .payload = NULL,
		.id = "big" };
	struct ab_result r;
	char *s = malloc(big + 1);
	json_t *j;

	assert_non_null(s);
	memset(s, 'x', big);
	s[big] = '\0';
	j = json_pack("{s:s}", "title", s);
	assert_non_null(j);
	m.payload = j;
	alertbridge_plugin()->send(inst, &m, &r);
	assert_int_equal(r.status, AB_PERMANENT);
	assert_non_null(strstr(r.message, "1 MiB"));
	assert_int_equal(file_size(f->path), 0);
	json_decref(j);
	free(s);
	m.payload = NULL;
	alertbridge_plugin()->send(inst, &m, &r);
	assert_int_equal(r.status, AB_PERMANENT);
	alertbridge_plugin()->destroy(inst);
}

static void test_disk_full(void **state)
{
	struct fixture *f = *state;
	void *inst = create_path(f, "/dev/full", "");
	struct ab_result r = send_json(inst, "{\"a\":1}");

	assert_int_equal(r.status, AB_RETRY);
	assert_non_null(strstr(r.message, "/dev/full"));
	assert_non_null(strstr(r.message, "No space left"));
	alertbridge_plugin()->destroy(inst);
}

static void test_short_write_undone(void **state)
{
	struct fixture *f = *state;
	void *inst = create_path(f, f->path, "");
	struct rlimit old, lim;
	struct sigaction ign, prev;
	struct ab_result r;
	off_t before;
	char *got;

	assert_int_equal(send_json(inst, "{\"first\":1}").status, AB_OK);
	before = file_size(f->path);
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	assert_int_equal(sigaction(SIGXFSZ, &ign, &prev), 0);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)before + 10;   /* room for 10 bytes of the next line */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	r = send_json(inst, "{\"second\":\"a line longer than ten bytes\"}");
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(sigaction(SIGXFSZ, &prev, NULL), 0);
	assert_int_equal(r.status, AB_RETRY);
	assert_non_null(strstr(r.message, "short write"));
	assert_int_equal(file_size(f->path), before);    /* the fragment was removed */
	assert_int_equal(send_json(inst, "{\"third\":3}").status, AB_OK);
	got = slurp(f->path);
	assert_string_equal(got, "{\"first\":1}\n{\"third\":3}\n");
	free(got);
	alertbridge_plugin()->destroy(inst);
}

static void test_test_action(void **state)
{
	struct fixture *f = *state;
	const struct ab_plugin *p = alertbridge_plugin();
	void *inst = create_path(f, f->path, "");
	char want[256];
	struct ab_result r;

	memset(&r, 0x55, sizeof r);
	p->test(inst, &r);
	assert_int_equal(r.status, AB_OK);
	snprintf(want, sizeof want, "file %s is writable", f->path);
	assert_string_equal(r.message, want);
	assert_int_equal(file_size(f->path), 0);          /* nothing written */
	/* the directory goes away: test fails, send asks for a retry */
	assert_int_equal(unlink(f->path), 0);
	assert_int_equal(rmdir(f->dir), 0);
	p->test(inst, &r);
	assert_int_equal(r.status, AB_PERMANENT);
	assert_non_null(strstr(r.message, f->path));
	r = send_json(inst, "{}");
	assert_int_equal(r.status, AB_RETRY);
	assert_non_null(strstr(r.message, "No such file"));
	p->destroy(inst);
	assert_int_equal(mkdir(f->dir, 0700), 0);        /* for teardown */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plugin_struct),
		cmocka_unit_test_setup_teardown(test_bad_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fsync_and_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_line_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_write_undone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_test_action, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
