/*
 * chantest.h - helpers shared by the channel plugin unit tests
 * (test_slack.c, test_teams.c, test_mattermost.c, test_webhook.c): sample
 * events, groups and digests, and a create/send wrapper over the plugin
 * linked into the test with the mock host and mock HTTP.
 */
#ifndef AB_CHANTEST_H
#define AB_CHANTEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <alertbridge/plugin.h>
#include "mockhost.h"
#include "mockhttp.h"

const struct ab_plugin *alertbridge_plugin(void);

static struct mock_host ct_mh;

static inline json_t *ct_event(const char *sev, const char *title, const char *summary)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:{s:i}}",
		"id", "0123456789abcdef0123456789abcdef", "type", "finding.created",
		"category", "security", "severity", sev, "source", "code_scan", "tool", "semgrep",
		"title", title, "summary", summary, "asset", "payments-api", "team", "blue",
		"url", "https://findings.example.com/f/42", "fields", "cvss", 9);
}

static inline json_t *ct_group(int n_items, int omitted, bool digest)
{
	json_t *items = json_array();
	for (int i = 0; i < n_items; i++) {
		char t[64];
		snprintf(t, sizeof t, "finding %d", i);
		json_array_append_new(items, ct_event(i % 2 ? "high" : "critical", t, "s"));
	}
	return json_pack("{s:{s:s,s:s,s:s,s:i,s:{s:i,s:i},s:{s:i},s:s,s:s},s:o,s:i}",
		digest ? "digest" : "group", "key", "k1", "rule", "scan", "title",
		"Code scan results", "count", n_items + omitted, "counts", "critical",
		(n_items + 1) / 2, "high", n_items / 2 + omitted, "by_type", "finding.created",
		n_items + omitted, "first_at", "2024-05-01T12:00:00Z", "last_at",
		"2024-05-01T12:05:00Z", "items", items, "omitted", omitted);
}

/* Create an instance from a JSON config text; fails the test on error. */
static inline void *ct_create(const char *conf)
{
	char err[256] = "";
	json_t *c = json_loads(conf, 0, NULL);
	void *inst;

	assert_non_null(c);
	inst = alertbridge_plugin()->create(&ct_mh.host, "chan", c, err, sizeof err);
	json_decref(c);
	if (!inst)
		fail_msg("create: %s", err);
	return inst;
}

/* Create expecting failure; returns the error text (static). */
static inline const char *ct_create_err(const char *conf)
{
	static char err[256];
	json_t *c = json_loads(conf, 0, NULL);
	void *inst;

	err[0] = '\0';
	assert_non_null(c);
	inst = alertbridge_plugin()->create(&ct_mh.host, "chan", c, err, sizeof err);
	json_decref(c);
	assert_null(inst);
	return err;
}

/* Send payload (reference stolen) and return the parsed body sent (new ref). */
static inline json_t *ct_send(void *inst, enum ab_msg_kind kind, json_t *payload,
	struct ab_result *res)
{
	struct ab_message m = { .kind = kind, .attempt = 1, .payload = payload,
		.id = "0123456789abcdef0123456789abcdef" };
	json_error_t je;

	mock_http.calls = 0;
	alertbridge_plugin()->send(inst, &m, res);
	json_decref(payload);
	if (!mock_http.calls || !mock_http.body)
		return NULL;
	return json_loads(mock_http.body, 0, &je);
}

static inline int ct_setup(void **state)
{
	(void)state;
	mock_host_init(&ct_mh);
	mock_http_install(&ct_mh.host);
	return 0;
}

static inline int ct_teardown(void **state)
{
	(void)state;
	mock_http_reset();
	return 0;
}

/* Code points in a UTF-8 string. */
static inline size_t ct_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

#endif
