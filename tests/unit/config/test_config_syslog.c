/*
 * test_config_syslog.c - unit tests for config_syslog.c (the "syslog"
 * section: listeners, sources, high_water, status_file).
 *
 * Every error kind is one table row: a fixture written to a private temp
 * directory and the exact "FILE:LINE: text" the loader must report.  Then a
 * full valid section (every setting, the defaults) and the address and
 * facility helpers.
 *
 * Diagnostics: cmocka assertions; the loader's error text is printed when
 * a row fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <regex.h>
#include <cmocka.h>

#include "config/config.h"
#include "config/config_syslog.h"
#include "../harness/testutil.h"

static char *dir;

/* Does text match the POSIX extended regex re? */
static bool tu_match(const char *text, const char *re)
{
	regex_t rx;
	bool ok;

	if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0)
		return false;
	ok = regexec(&rx, text, 0, NULL, 0) == 0;
	regfree(&rx);
	return ok;
}

static int setup(void **state)
{
	(void)state;
	dir = tu_tmpdir();
	return dir ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	tu_rm_rf(dir);
	free(dir);
	return 0;
}

struct err_case {
	const char *what;
	const char *conf;     /* the syslog section; line 1 is "state_dir = ..." */
	int line;             /* expected line of the error */
	const char *text;     /* expected substring after "FILE:LINE: " */
};

#define L(name, proto, addr) "{ name = \"" name "\"; proto = \"" proto "\"; address = \"" addr "\"; }"

static const struct err_case cases[] = {
	{ "unknown proto", "syslog = { listeners = (\n{ name = \"a\"; proto = \"sctp\"; "
	  "address = \"127.0.0.1:1\"; }\n); };\n", 3, "unknown protocol 'sctp'" },
	{ "address without port", "syslog = { listeners = (\n" L("a", "tcp", "127.0.0.1") "\n); };\n",
	  3, "bad address '127.0.0.1': no port" },
	{ "port out of range", "syslog = { listeners = (\n" L("a", "udp", "127.0.0.1:70000")
	  "\n); };\n", 3, "port must be 1..65535" },
	{ "unbracketed IPv6", "syslog = { listeners = (\n" L("a", "udp", "::1:514") "\n); };\n",
	  3, "IPv6 address is written \\[ADDR\\]:PORT" },
	{ "relative unix path", "syslog = { listeners = (\n" L("a", "unix", "run/x.sock")
	  "\n); };\n", 3, "unix socket is an absolute path" },
	{ "tls without cert", "syslog = { listeners = (\n" L("a", "tls", "127.0.0.1:6514")
	  "\n); };\n", 3, "needs 'tls_cert' and 'tls_key'" },
	{ "verify_client without ca", "syslog = { listeners = (\n{ name = \"a\"; proto = \"tls\"; "
	  "address = \"127.0.0.1:6514\"; tls_cert = \"/c\"; tls_key = \"/k\"; "
	  "tls_verify_client = true; }\n); };\n", 3, "'tls_verify_client' needs 'tls_ca'" },
	{ "relative certificate", "syslog = { listeners = (\n{ name = \"a\"; proto = \"tls\"; "
	  "address = \"127.0.0.1:6514\";\n tls_cert = \"c.pem\"; tls_key = \"/k\"; }\n); };\n", 4,
	  "setting 'tls_cert' must be an absolute path" },
	{ "tls settings on tcp", "syslog = { listeners = (\n{ name = \"a\"; proto = \"tcp\"; "
	  "address = \"127.0.0.1:1\";\n tls_cert = \"/c\"; }\n); };\n", 4,
	  "tls_\\* settings are only for proto \"tls\"" },
	{ "relp with TLS without a key", "syslog = { listeners = (\n{ name = \"a\"; proto = \"relp\"; "
	  "address = \"127.0.0.1:1\";\n tls_cert = \"/c\"; }\n); };\n", 3,
	  "proto \"relp\" with TLS needs 'tls_cert' and 'tls_key'" },
	{ "max_conns_per_source over max_connections", "syslog = { listeners = (\n{ name = \"a\"; "
	  "proto = \"tcp\"; address = \"127.0.0.1:1\";\n max_connections = 4; "
	  "max_conns_per_source = 5; }\n); };\n", 4,
	  "setting 'max_conns_per_source': 5 is more than max_connections \\(4\\)" },
	{ "duplicate listener name", "syslog = { listeners = (\n" L("a", "tcp", "127.0.0.1:1")
	  ",\n" L("a", "tcp", "127.0.0.1:2") "\n); };\n", 4,
	  "duplicate syslog listener name 'a' \\(first defined at line 3\\)" },
	{ "duplicate address", "syslog = { listeners = (\n" L("a", "tcp", "127.0.0.1:1")
	  ",\n" L("b", "tls", "127.0.0.1:1") "\n); };\n", 4,
	  "address '127.0.0.1:1' is already used by listener 'a'" },
	{ "max_message too small", "syslog = { listeners = (\n{ name = \"a\"; proto = \"udp\"; "
	  "address = \"127.0.0.1:1\";\n max_message = 100; }\n); };\n", 4,
	  "setting 'max_message' must be between 480 and 1048576 \\(got 100\\)" },
	{ "bad idle_timeout", "syslog = { listeners = (\n{ name = \"a\"; proto = \"tcp\"; "
	  "address = \"127.0.0.1:1\";\n idle_timeout = \"soon\"; }\n); };\n", 4,
	  "bad duration 'soon'" },
	{ "bad listener name", "syslog = { listeners = (\n" L("Bad Name", "tcp", "127.0.0.1:1")
	  "\n); };\n", 3, "name 'Bad Name' must match" },
	{ "typo in a listener", "syslog = { listeners = (\n{ name = \"a\"; proto = \"tcp\"; "
	  "adress = \"127.0.0.1:1\"; }\n); };\n", 3,
	  "unknown setting 'adress' in syslog listener 'a'; did you mean 'address'\\?" },
	{ "missing address", "syslog = { listeners = (\n{ name = \"a\"; proto = \"tcp\"; }\n); };\n",
	  3, "missing required setting 'address'" },
	{ "unknown facility", "syslog = { sources = (\n{ name = \"s\";\n facilities = "
	  "[\"auth\", \"local9\"]; }\n); };\n", 4, "unknown facility 'local9'" },
	{ "bad regex", "syslog = { sources = (\n{ name = \"s\";\n regex = \"(unclosed\"; }\n); };\n",
	  4, "bad regular expression at offset 9" },
	{ "bad host glob", "syslog = { sources = (\n{ name = \"s\";\n hosts = [\"web[\"]; }\n); };\n",
	  4, "bad glob 'web\\['" },
	{ "unknown listener in a source", "syslog = { listeners = (\n" L("a", "tcp", "127.0.0.1:1")
	  "\n);\nsources = (\n{ name = \"s\"; listeners = [\"b\"]; }\n); };\n", 6,
	  "syslog source 's': unknown listener 'b'" },
	{ "duplicate source", "syslog = { sources = (\n{ name = \"s\"; },\n{ name = \"s\"; }\n); };\n",
	  4, "duplicate syslog source name 's' \\(first defined at line 3\\)" },
	{ "negative high_water", "syslog = {\n high_water = -1; };\n", 3,
	  "setting 'high_water' must be between 0" },
	{ "listener entry not a group", "syslog = { listeners = (\n\"tcp\"\n); };\n", 4,
	  "entry 1 must be a group" },
};

static void test_errors(void **state)
{
	char *path = tu_path(dir, "bad.conf");
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct err_case *tc = &cases[i];
		char text[8192], want[4096];
		char *errors = NULL;
		struct ab_config *cfg;

		snprintf(text, sizeof text, "state_dir = \"%s\";\n%s", dir, tc->conf);
		assert_int_equal(tu_write(path, text), 0);
		cfg = ab_config_load(path, &errors);
		snprintf(want, sizeof want, "%s:%d: .*%s", path, tc->line, tc->text);
		if (cfg || !errors || !tu_match(errors, want)) {
			print_message("# case '%s': want /%s/\n# got: %s\n", tc->what, want,
				errors ? errors : "(loaded without error)");
			failed++;
		}
		ab_config_free(cfg);
		free(errors);
	}
	free(path);
	assert_int_equal(failed, 0);
}

static void test_valid(void **state)
{
	char *path = tu_path(dir, "good.conf");
	char text[4096], *errors = NULL;
	struct ab_config *cfg;
	const struct ab_syslog_conf *sc;

	(void)state;
	snprintf(text, sizeof text,
		"state_dir = \"%s\";\n"
		"profiles = ( { name = \"wazuh\"; fallback = { tool = \"wazuh\"; }; } );\n"
		"syslog = {\n"
		"  high_water = 5000;\n"
		"  status_file = \"st.json\";\n"
		"  listeners = (\n"
		"    { name = \"udp\"; proto = \"udp\"; address = \"127.0.0.1:5514\"; },\n"
		"    { name = \"tcp\"; proto = \"tcp\"; address = \"[::1]:5514\"; max_message = 8192;\n"
		"      max_connections = 3; idle_timeout = \"30s\"; },\n"
		"    { name = \"tls\"; proto = \"tls\"; address = \"*:6514\"; tls_cert = \"/c.pem\";\n"
		"      tls_key = \"/k.pem\"; tls_ca = \"/ca.pem\"; tls_verify_client = true; },\n"
		"    { name = \"local\"; proto = \"unix\"; address = \"/run/ab.sock\"; },\n"
		"    { name = \"relp\"; proto = \"relp\"; address = \"127.0.0.1:2514\";\n"
		"      max_conns_per_source = 2; idle_timeout_silent = \"5s\"; },\n"
		"    { name = \"relps\"; proto = \"relp\"; address = \"127.0.0.1:2515\";\n"
		"      tls_cert = \"/c.pem\"; tls_key = \"/k.pem\"; }\n"
		"  );\n"
		"  sources = (\n"
		"    { name = \"wazuh\"; listeners = [\"tcp\", \"tls\"]; hosts = [\"siem-*\"];\n"
		"      apps = [\"ossec*\"]; facilities = [\"local4\", \"auth\", \"10\"];\n"
		"      regex = \"rule\\\\s+\\\\d+\"; profile = \"wazuh\"; },\n"
		"    { name = \"noise\"; apps = [\"CRON\"]; drop = true; }\n"
		"  );\n"
		"};\n", dir);
	assert_int_equal(tu_write(path, text), 0);
	cfg = ab_config_load(path, &errors);
	if (!cfg)
		print_message("# %s\n", errors);
	assert_non_null(cfg);
	sc = cfg->syslog;
	assert_non_null(sc);
	assert_int_equal(sc->high_water, 5000);
	assert_string_equal(sc->status_file, "st.json");
	assert_int_equal(sc->n_listeners, 6);
	assert_int_equal(sc->listeners[0].proto, AB_SYSLOG_UDP);
	assert_int_equal(sc->listeners[0].max_message, AB_SYSLOG_DEFAULT_MAX_MESSAGE);
	assert_int_equal(sc->listeners[0].max_connections, AB_SYSLOG_DEFAULT_MAX_CONN);
	assert_int_equal(sc->listeners[0].idle_timeout_ms, AB_SYSLOG_DEFAULT_IDLE_MS);
	assert_int_equal(sc->listeners[0].idle_timeout_silent_ms, AB_SYSLOG_DEFAULT_SILENT_MS);
	assert_int_equal(sc->listeners[0].max_conns_per_source, AB_SYSLOG_DEFAULT_MAX_CONN / 4);
	assert_int_equal(sc->listeners[1].max_conns_per_source, 1);   /* 3 / 4, at least 1 */
	assert_false(sc->listeners[1].tls);
	assert_true(sc->listeners[2].tls);
	assert_int_equal(sc->listeners[4].proto, AB_SYSLOG_RELP);
	assert_false(sc->listeners[4].tls);
	assert_int_equal(sc->listeners[4].max_conns_per_source, 2);
	assert_int_equal(sc->listeners[4].idle_timeout_silent_ms, 5000);
	assert_int_equal(sc->listeners[5].proto, AB_SYSLOG_RELP);
	assert_true(sc->listeners[5].tls);
	assert_int_equal(sc->listeners[1].proto, AB_SYSLOG_TCP);
	assert_string_equal(sc->listeners[1].address, "[::1]:5514");
	assert_int_equal(sc->listeners[1].max_message, 8192);
	assert_int_equal(sc->listeners[1].max_connections, 3);
	assert_int_equal(sc->listeners[1].idle_timeout_ms, 30000);
	assert_int_equal(sc->listeners[2].proto, AB_SYSLOG_TLS);
	assert_string_equal(sc->listeners[2].tls_ca, "/ca.pem");
	assert_true(sc->listeners[2].tls_verify_client);
	assert_int_equal(sc->listeners[3].proto, AB_SYSLOG_UNIX);
	assert_int_equal(sc->listeners[3].line, 12);   /* after the profiles line */
	assert_int_equal(sc->n_sources, 2);
	assert_string_equal(sc->sources[0].name, "wazuh");
	assert_int_equal(sc->sources[0].n_listeners, 2);
	assert_int_equal(sc->sources[0].facilities, (1u << 20) | (1u << 4) | (1u << 10));
	assert_non_null(sc->sources[0].re);
	assert_string_equal(sc->sources[0].profile, "wazuh");
	assert_false(sc->sources[0].drop);
	assert_true(sc->sources[1].drop);
	ab_config_free(cfg);
	free(path);
}

static void test_defaults(void **state)
{
	char *path = tu_path(dir, "min.conf");
	char text[1024], *errors = NULL;
	struct ab_config *cfg;

	(void)state;
	snprintf(text, sizeof text, "state_dir = \"%s\";\nsyslog = { };\n", dir);
	assert_int_equal(tu_write(path, text), 0);
	cfg = ab_config_load(path, &errors);
	assert_non_null(cfg);
	assert_int_equal(cfg->syslog->high_water, AB_SYSLOG_DEFAULT_HIGH_WATER);
	assert_string_equal(cfg->syslog->status_file, "syslog.status");
	assert_int_equal(cfg->syslog->n_listeners, 0);
	ab_config_free(cfg);
	/* No section at all: no syslog config. */
	snprintf(text, sizeof text, "state_dir = \"%s\";\n", dir);
	assert_int_equal(tu_write(path, text), 0);
	cfg = ab_config_load(path, &errors);
	assert_non_null(cfg);
	assert_null(cfg->syslog);
	ab_config_free(cfg);
	free(path);
}

static void test_helpers(void **state)
{
	char host[64], port[16], err[128];

	(void)state;
	assert_int_equal(ab_syslog_addr_split("127.0.0.1:5514", host, sizeof host, port,
		sizeof port, err, sizeof err), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_string_equal(port, "5514");
	assert_int_equal(ab_syslog_addr_split("[::1]:6514", host, sizeof host, port, sizeof port,
		err, sizeof err), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(ab_syslog_addr_split("*:514", host, sizeof host, port, sizeof port, err,
		sizeof err), 0);
	assert_string_equal(host, "");
	assert_int_equal(ab_syslog_addr_split(":514", host, sizeof host, port, sizeof port, err,
		sizeof err), 0);
	assert_int_equal(ab_syslog_addr_split("h:0", host, sizeof host, port, sizeof port, err,
		sizeof err), -1);
	assert_int_equal(ab_syslog_addr_split("h:12x", host, sizeof host, port, sizeof port, err,
		sizeof err), -1);
	assert_int_equal(ab_syslog_addr_split("[::1]514", host, sizeof host, port, sizeof port,
		err, sizeof err), -1);
	assert_int_equal(ab_syslog_facility_parse("kern"), 0);
	assert_int_equal(ab_syslog_facility_parse("AUTHPRIV"), 10);
	assert_int_equal(ab_syslog_facility_parse("local7"), 23);
	assert_int_equal(ab_syslog_facility_parse("23"), 23);
	assert_int_equal(ab_syslog_facility_parse("24"), -1);
	assert_int_equal(ab_syslog_facility_parse("local8"), -1);
	assert_int_equal(ab_syslog_facility_parse(""), -1);
	assert_string_equal(ab_syslog_proto_name(AB_SYSLOG_TLS), "tls");
	assert_string_equal(ab_syslog_proto_name(AB_SYSLOG_RELP), "relp");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_helpers),
	};

	return cmocka_run_group_tests_name("config_syslog", tests, setup, teardown);
}
