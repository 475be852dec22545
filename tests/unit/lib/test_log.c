/*
 * test_log.c - unit tests for src/lib/log.c: URL redaction table, level names,
 * the stderr line format, level filtering, control-character defanging and
 * the message cap.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/log.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *in;
	const char *out;
} redact_cases[] = {
	{ "https://hooks.slack.com/services/T/B/X", "https://hooks.slack.com/***" },
	{ "https://hooks.slack.com", "https://hooks.slack.com" },
	{ "https://hooks.slack.com/", "https://hooks.slack.com/***" },
	{ "https://example.com:8443/hook?token=abc", "https://example.com:8443/***" },
	{ "https://example.com?token=abc", "https://example.com/***" },
	{ "https://example.com#frag", "https://example.com/***" },
	{ "https://user:secret@example.com/x", "https://example.com/***" },
	{ "https://user:secret@example.com", "https://example.com/***" },
	{ "https://a@b@example.com/x", "https://example.com/***" },
	{ "http://[2001:db8::1]:8080/p", "http://[2001:db8::1]:8080/***" },
	{ "smtp+starttls://mail.example.com:587", "smtp+starttls://mail.example.com:587" },
	{ "HTTPS://Example.COM/x", "HTTPS://Example.COM/***" },
	{ "not a url", "***" },
	{ "", "***" },
	{ "hooks.slack.com/services/T/B/X", "***" },
	{ "https:/example.com/x", "***" },
	{ "https://", "***" },
	{ "https:///path", "***" },
	{ "https://user@/x", "***" },
	{ "https://exa mple.com/x", "***" },
	{ "https://exa\nmple.com/x", "***" },
	{ "1http://example.com", "***" },
	{ "env:SLACK_URL", "***" },
};

static void test_redact_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < N(redact_cases); i++) {
		char out[256];

		memset(out, 'X', sizeof out);
		ab_redact_url(redact_cases[i].in, out, sizeof out);
		if (strcmp(out, redact_cases[i].out) != 0)
			fail_msg("redact '%s': got '%s' want '%s'", redact_cases[i].in, out,
				 redact_cases[i].out);
	}
}

static void test_redact_small_buffer(void **state)
{
	char out[12], tiny[2];

	(void)state;
	ab_redact_url("https://hooks.slack.com/services/T/B/X", out, sizeof out);
	assert_string_equal(out, "***");            /* does not fit: never a partial URL */
	ab_redact_url("https://hooks.slack.com/x", tiny, sizeof tiny);
	assert_string_equal(tiny, "*");
	ab_redact_url(NULL, out, sizeof out);
	assert_string_equal(out, "***");
	ab_redact_url("https://x/", NULL, 0);       /* no crash */
}

static const struct {
	const char *in;
	int level;
} level_cases[] = {
	{ "err", AB_LOG_ERR },
	{ "error", AB_LOG_ERR },
	{ "ERR", AB_LOG_ERR },
	{ "warning", AB_LOG_WARNING },
	{ "warn", AB_LOG_WARNING },
	{ "notice", AB_LOG_NOTICE },
	{ "info", AB_LOG_INFO },
	{ "Info", AB_LOG_INFO },
	{ "debug", AB_LOG_DEBUG },
	{ "", -1 },
	{ "verbose", -1 },
	{ "crit", -1 },
	{ "info ", -1 },
};

static void test_level_parse(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < N(level_cases); i++)
		if (ab_log_level_parse(level_cases[i].in) != level_cases[i].level)
			fail_msg("level '%s': got %d want %d", level_cases[i].in,
				 ab_log_level_parse(level_cases[i].in), level_cases[i].level);
	assert_int_equal(ab_log_level_parse(NULL), -1);
}

/* Run fn with stderr redirected to a temporary file; return what it wrote. */
static char *capture(void (*fn)(void))
{
	char path[] = "/tmp/ab_test_log.XXXXXX";
	static char out[8192];
	int fd = mkstemp(path), saved;
	ssize_t n;

	assert_true(fd >= 0);
	unlink(path);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	fn();
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	n = read(fd, out, sizeof out - 1);
	close(fd);
	assert_true(n >= 0);
	out[n] = '\0';
	return out;
}

static void log_basic(void)
{
	ab_log_init("alertbridged", false, AB_LOG_INFO);
	ab_log(AB_LOG_ERR, "store: %s", "disk full");
	ab_log(AB_LOG_WARNING, "w");
	ab_log(AB_LOG_INFO, "n=%d", 3);
	ab_log(AB_LOG_DEBUG, "hidden");              /* above max_level */
	ab_log_set_level(AB_LOG_DEBUG);
	ab_log(AB_LOG_DEBUG, "shown");
	ab_log_set_level(AB_LOG_ERR);
	ab_log(AB_LOG_WARNING, "hidden too");
}

static void test_log_format(void **state)
{
	char want[512];
	char *out;
	long pid = (long)getpid();

	(void)state;
	out = capture(log_basic);
	snprintf(want, sizeof want,
		 "alertbridged[%ld]: error: store: disk full\n"
		 "alertbridged[%ld]: warning: w\n"
		 "alertbridged[%ld]: info: n=3\n"
		 "alertbridged[%ld]: debug: shown\n", pid, pid, pid, pid);
	assert_string_equal(out, want);
}

static void log_forged(void)
{
	ab_log_init("abtest", false, AB_LOG_DEBUG);
	ab_log(AB_LOG_WARNING, "user %s", "x\nabtest[1]: error: forged\r\x1b[31m\x7f\t.");
}

static void test_log_defang(void **state)
{
	char want[256];
	char *out;

	(void)state;
	out = capture(log_forged);
	snprintf(want, sizeof want,
		 "abtest[%ld]: warning: user x?abtest[1]: error: forged??[31m??.\n",
		 (long)getpid());
	assert_string_equal(out, want);
}

static void log_long(void)
{
	char big[5000];

	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	ab_log_init("abtest", false, AB_LOG_INFO);
	ab_log(AB_LOG_INFO, "%s", big);
}

static void test_log_cap(void **state)
{
	char *out, *nl;
	size_t len;

	(void)state;
	out = capture(log_long);
	nl = strchr(out, '\n');
	assert_non_null(nl);
	assert_string_equal(nl, "\n");               /* exactly one line */
	len = (size_t)(nl - out);
	assert_true(len < 2200);                     /* capped near 2048 */
	assert_memory_equal(nl - 3, "...", 3);        /* and marked as cut */
}

static void log_complaints(void)
{
	static struct ab_complaint c = AB_COMPLAINT_INIT;

	ab_log_init("abtest", false, AB_LOG_INFO);
	ab_complain_clear(&c, AB_LOG_NOTICE, "not logged: nothing was complained about");
	for (int i = 0; i < 1000; i++)   /* an hour apart at most: one line */
		ab_complain(&c, 3600000, AB_LOG_ERR, "queue: %s", "locked");
	ab_complain_clear(&c, AB_LOG_NOTICE, "queue: readable again");
	ab_complain_clear(&c, AB_LOG_NOTICE, "not logged: already cleared");
	ab_complain(&c, 3600000, AB_LOG_ERR, "queue: %s", "locked again");   /* new episode */
	ab_complain(&c, 0, AB_LOG_ERR, "every time %d", 1);   /* interval 0: each one */
	ab_complain(&c, 0, AB_LOG_ERR, "every time %d", 2);
}

static void test_complain(void **state)
{
	char want[1024];
	long pid = (long)getpid();

	(void)state;
	snprintf(want, sizeof want,
		 "abtest[%ld]: error: queue: locked\n"
		 "abtest[%ld]: notice: queue: readable again [after 999 more occurrence(s) not "
		 "logged]\n"
		 "abtest[%ld]: error: queue: locked again\n"
		 "abtest[%ld]: error: every time 1\n"
		 "abtest[%ld]: error: every time 2\n", pid, pid, pid, pid, pid);
	assert_string_equal(capture(log_complaints), want);
}

/* The injectable clock: one line per interval with the count of what it
 * held back, none in between, the recovery with the count since then, and
 * a new episode that starts at once. */
static int64_t fake_ms;

static int64_t fake_clock(void *arg)
{
	(void)arg;
	return fake_ms;
}

static void log_complaints_clock(void)
{
	static struct ab_complaint c = AB_COMPLAINT_INIT;
	int logged = 0;

	ab_log_init("abtest", false, AB_LOG_INFO);
	ab_complain_set_clock(fake_clock, NULL);
	for (fake_ms = 1000; fake_ms < 1000 + 2 * 60000 + 500; fake_ms += 100)   /* 10/s, 2 min */
		logged += ab_complain(&c, 60000, AB_LOG_ERR, "queue: disk full");
	assert_int_equal(logged, 3);    /* at 0 s, 60 s, 120 s */
	fake_ms += 100;
	ab_complain(&c, 60000, AB_LOG_ERR, "queue: disk full");   /* held back */
	assert_true(ab_complain_clear(&c, AB_LOG_NOTICE, "queue: readable again"));
	assert_false(ab_complain_clear(&c, AB_LOG_NOTICE, "not logged"));
	assert_true(ab_complain(&c, 60000, AB_LOG_ERR, "queue: disk full again"));
	ab_complain_set_clock(NULL, NULL);
}

static void test_complain_clock(void **state)
{
	char want[1024];
	long pid = (long)getpid();

	(void)state;
	snprintf(want, sizeof want,
		 "abtest[%ld]: error: queue: disk full\n"
		 "abtest[%ld]: error: queue: disk full [repeated 599 more time(s) since the last "
		 "such message]\n"
		 "abtest[%ld]: error: queue: disk full [repeated 599 more time(s) since the last "
		 "such message]\n"
		 "abtest[%ld]: notice: queue: readable again [after 5 more occurrence(s) not "
		 "logged]\n"
		 "abtest[%ld]: error: queue: disk full again\n", pid, pid, pid, pid, pid);
	assert_string_equal(capture(log_complaints_clock), want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redact_table),
		cmocka_unit_test(test_redact_small_buffer),
		cmocka_unit_test(test_level_parse),
		cmocka_unit_test(test_log_format),
		cmocka_unit_test(test_log_defang),
		cmocka_unit_test(test_log_cap),
		cmocka_unit_test(test_complain),
		cmocka_unit_test(test_complain_clock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
