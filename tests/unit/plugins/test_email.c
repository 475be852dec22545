/*
 * test_email.c - unit tests for the email channel plugin with the mock
 * host: settings (each error names its setting), the SSRF guard reached
 * through host->net_check for every send and test (a refusal is PERMANENT,
 * nothing connects, neither the password nor the URL's user info shows in
 * the message), a host without net_check refused at create, and check()
 * (the url through host->url_check, ABI 1.2), and a mail that cannot be
 * built for lack of memory (a retry, never a cut mail; linked with
 * -Wl,--wrap=realloc so the plugin's buffers can be failed).  Rendering
 * and SMTP are covered against a real server by
 * tests/integration/email_e2e.sh.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <alertbridge/plugin.h>
#include "../harness/mockhost.h"

const struct ab_plugin *alertbridge_plugin(void);

static struct mock_host mh;

/* The failing allocator (see test_buf.c): while fail_realloc is set every
 * realloc fails with ENOMEM. */
void *__real_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n);
static bool fail_realloc;
void *__wrap_realloc(void *p, size_t n)
{
	if (fail_realloc) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_realloc(p, n);
}

#define BASE "\"url\": \"smtp://127.0.0.1:2525\", \"from\": \"alerts@example.com\", " \
	"\"to\": [\"ops@example.org\"]"

static void *create(const char *conf, char *err, size_t errsz)
{
	json_t *c = json_loads(conf, 0, NULL);
	void *inst;

	assert_non_null(c);
	err[0] = '\0';
	inst = alertbridge_plugin()->create(&mh.host, "mail", c, err, errsz);
	json_decref(c);
	return inst;
}

static int setup(void **state)
{
	(void)state;
	mock_host_init(&mh);
	return 0;
}

static void test_settings(void **state)
{
	static const struct {
		const char *conf;
		const char *err;   /* NULL: create must succeed */
	} cases[] = {
		{ "{" BASE "}", NULL },
		{ "{" BASE ", \"allow_networks\": [\"127.0.0.0/8\"], \"tls\": \"starttls\", "
			"\"username\": \"u\", \"password\": \"p\", \"timeout\": 5, "
			"\"subject_prefix\": \"[x]\", \"ca_file\": \"/etc/ssl/ca.pem\"}", NULL },
		{ "{" BASE ", \"tls\": \"none\"}", NULL },
		/* a password never crosses the network in clear */
		{ "{" BASE ", \"tls\": \"none\", \"username\": \"u\", \"password\": \"p\"}",
			"setting 'password'" },
		{ "{\"url\": \"smtp://u:UrlPw@127.0.0.1:25\", \"tls\": \"none\", "
			"\"from\": \"a@b.c\", \"to\": [\"d@e.f\"]}", "setting 'url'" },
		{ "{\"url\": \"smtp://u@127.0.0.1:25\", \"tls\": \"none\", "
			"\"from\": \"a@b.c\", \"to\": [\"d@e.f\"]}", NULL },
		{ "{\"url\": \"smtps://127.0.0.1\", \"tls\": \"smtps\", \"from\": \"a@b.c\", "
			"\"to\": [\"d@e.f\"]}", NULL },
		{ "{\"from\": \"a@b.c\", \"to\": [\"d@e.f\"]}", "setting 'url'" },
		{ "{\"url\": \"https://x\", \"from\": \"a@b.c\", \"to\": [\"d@e.f\"]}",
			"setting 'url'" },
		{ "{\"url\": \"smtps://x\", \"tls\": \"starttls\", \"from\": \"a@b.c\", "
			"\"to\": [\"d@e.f\"]}", "setting 'tls'" },
		{ "{" BASE ", \"tls\": \"smtps\"}", "setting 'tls'" },
		{ "{" BASE ", \"password\": \"p\"}", "setting 'username'" },
		{ "{\"url\": \"smtp://x\", \"from\": \"not an address\", \"to\": [\"d@e.f\"]}",
			"setting 'from'" },
		{ "{\"url\": \"smtp://x\", \"from\": \"a@b.c\", \"to\": []}", "setting 'to'" },
		{ "{\"url\": \"smtp://x\", \"from\": \"a@b.c\", \"to\": [\"x@y.z>\\r\\nRCPT\"]}",
			"setting 'to'" },
		{ "{" BASE ", \"allow_networks\": \"127.0.0.0/8\"}", "setting 'allow_networks'" },
		{ "{" BASE ", \"allow_networks\": [1]}", "setting 'allow_networks'" },
		{ "{" BASE ", \"timeout\": 0}", "setting 'timeout'" },
		{ "{" BASE ", \"subject_prefix\": \"a\\r\\nBcc: x@y.z\"}", "setting 'subject_prefix'" },
		{ "{" BASE ", \"bogus\": 1}", "setting 'bogus'" },
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		void *inst = create(cases[i].conf, err, sizeof err);
		if (!cases[i].err) {
			if (!inst)
				fail_msg("case %zu: create failed: %s", i, err);
			alertbridge_plugin()->destroy(inst);
		} else if (inst || !strstr(err, cases[i].err)) {
			fail_msg("case %zu: want an error with \"%s\", got %s \"%s\"", i,
				cases[i].err, inst ? "an instance" : "", err);
		}
	}
}

/* A refused address: permanent, the guard's reason, no secret, no connection. */
static void test_guard_refuses(void **state)
{
	const struct ab_plugin *p = alertbridge_plugin();
	json_t *ev = json_pack("{s:s,s:s,s:s,s:s}", "id", "0123456789abcdef0123456789abcdef",
		"type", "finding.created", "severity", "high", "title", "t");
	struct ab_message m = { .kind = AB_MSG_EVENT, .attempt = 1, .payload = ev,
		.id = "0123456789abcdef0123456789abcdef" };
	struct ab_result res;
	char err[256];
	void *inst = create("{\"url\": \"smtp://bob:UrlSecret77@127.0.0.1:1\", "
		"\"username\": \"alice\", \"password\": \"PwSecret99\", \"from\": \"a@b.c\", "
		"\"to\": [\"d@e.f\"]}", err, sizeof err);

	(void)state;
	assert_non_null(inst);
	mh.net_refuse = true;
	memset(&res, 0, sizeof res);
	p->send(inst, &m, &res);
	assert_int_equal(res.status, AB_PERMANENT);
	assert_int_equal(res.code, 0);
	assert_string_equal(res.message,
		"connection refused by the SSRF guard: mock guard: address refused");
	assert_true(mh.n_net_checks >= 1);
	assert_non_null(strstr(mh.log, "channel mail: connection refused by the SSRF guard"));
	assert_null(strstr(mh.log, "UrlSecret77"));
	assert_null(strstr(mh.log, "PwSecret99"));

	/* `alertbridge test` goes through the same guard */
	mh.n_net_checks = 0;
	memset(&res, 0, sizeof res);
	p->test(inst, &res);
	assert_int_equal(res.status, AB_PERMANENT);
	assert_non_null(strstr(res.message, "refused by the SSRF guard"));
	assert_true(mh.n_net_checks >= 1);
	p->destroy(inst);
	json_decref(ev);
}

/* No memory to build the mail: a retry with a clear message, nothing sent. */
static void test_build_oom(void **state)
{
	const struct ab_plugin *p = alertbridge_plugin();
	json_t *ev = json_pack("{s:s,s:s,s:s,s:s}", "id", "0123456789abcdef0123456789abcdef",
		"type", "finding.created", "severity", "high", "title", "t");
	struct ab_message m = { .kind = AB_MSG_EVENT, .attempt = 1, .payload = ev,
		.id = "0123456789abcdef0123456789abcdef" };
	struct ab_result res;
	char err[256];
	void *inst = create("{" BASE "}", err, sizeof err);

	(void)state;
	assert_non_null(inst);
	mh.n_net_checks = 0;
	memset(&res, 0, sizeof res);
	fail_realloc = true;
	p->send(inst, &m, &res);
	fail_realloc = false;
	assert_int_equal(res.status, AB_RETRY);
	assert_string_equal(res.message, "out of memory while building the mail");
	assert_int_equal(mh.n_net_checks, 0);   /* nothing was connected */
	p->destroy(inst);
	json_decref(ev);
}

/* The guard lets the address through: the connection is attempted (port 1
 * on loopback refuses it) and the failure is a retry, not a guard refusal. */
static void test_guard_allows(void **state)
{
	const struct ab_plugin *p = alertbridge_plugin();
	struct ab_result res;
	char err[256];
	void *inst = create("{\"url\": \"smtp://127.0.0.1:1\", \"password\": \"PwSecret99\", "
		"\"username\": \"alice\", \"from\": \"a@b.c\", \"to\": [\"d@e.f\"], "
		"\"timeout\": 5}", err, sizeof err);

	(void)state;
	assert_non_null(inst);
	memset(&res, 0, sizeof res);
	p->test(inst, &res);
	assert_int_equal(res.status, AB_RETRY);
	assert_null(strstr(res.message, "SSRF"));
	assert_null(strstr(res.message, "PwSecret99"));
	assert_true(mh.n_net_checks >= 1);
	p->destroy(inst);
}

/* A host from before ABI 1.1 (no net_check): the plugin refuses to run
 * unguarded. */
static void test_old_host(void **state)
{
	char err[256] = "";
	json_t *c = json_loads("{" BASE "}", 0, NULL);
	void *inst;

	(void)state;
	mh.host.size = (uint32_t)offsetof(struct ab_host, net_check);
	inst = alertbridge_plugin()->create(&mh.host, "mail", c, err, sizeof err);
	assert_null(inst);
	assert_non_null(strstr(err, "net_check"));
	mh.host.size = sizeof mh.host;
	mh.host.net_check = NULL;
	inst = alertbridge_plugin()->create(&mh.host, "mail", c, err, sizeof err);
	assert_null(inst);
	json_decref(c);
}

/* ABI 1.2: ca_file is a path setting, no default rate, and check() hands
 * the resolved url (smtp) and allow_networks to host->url_check. */
static void test_check(void **state)
{
	const struct ab_plugin *p = alertbridge_plugin();
	char err[256];
	json_t *c;

	(void)state;
	assert_true(p->default_rate == 0);
	assert_string_equal(p->path_settings[0], "ca_file");
	assert_null(p->path_settings[1]);
	assert_non_null(p->check);
	mock_host_secret(&mh, "env:SMTP_URL", "smtps://relay.example.com:465");
	c = json_pack("{s:s,s:s,s:[s],s:[s]}", "url", "env:SMTP_URL", "from", "a@b.c", "to",
		"d@e.f", "allow_networks", "10.0.0.0/8");
	assert_int_equal(p->check(c, &mh.host, err, sizeof err), 0);
	assert_int_equal(mh.n_url_checks, 1);
	assert_string_equal(mh.url_seen, "smtps://relay.example.com:465");
	assert_int_equal(mh.url_kind_seen, AB_URL_SMTP);
	assert_int_equal(mh.url_nets_seen, 1);
	mh.url_result = AB_URL_REFUSED;
	assert_int_equal(p->check(c, &mh.host, err, sizeof err), -1);
	assert_string_equal(err, "setting 'url': mock url check -1");
	mh.url_result = AB_URL_BAD_NETWORK;
	assert_int_equal(p->check(c, &mh.host, err, sizeof err), -1);
	assert_string_equal(err, "setting 'allow_networks': mock url check -3");
	mh.url_result = AB_URL_UNRESOLVED;
	assert_int_equal(p->check(c, &mh.host, err, sizeof err), 1);
	json_decref(c);
	/* an unresolvable secret names the url */
	c = json_pack("{s:s}", "url", "env:SMTP_NOT_SET");
	assert_int_equal(p->check(c, &mh.host, err, sizeof err), -1);
	assert_non_null(strstr(err, "setting 'url': "));
	json_decref(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_settings, setup),
		cmocka_unit_test_setup(test_guard_refuses, setup),
		cmocka_unit_test_setup(test_guard_allows, setup),
		cmocka_unit_test_setup(test_build_oom, setup),
		cmocka_unit_test_setup(test_old_host, setup),
		cmocka_unit_test_setup(test_check, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
