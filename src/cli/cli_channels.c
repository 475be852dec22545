/*
 * cli_channels.c - the operator's channel commands:
 *   alertbridge test CHANNEL [--json]     send a test message through the real
 *                                         plugin; prints status, latency, error
 *                                         (a disabled channel too, with a note)
 *   alertbridge log --channels [--json]   channel health (healthy/failing/disabled;
 *                                         disabled: enabled = false, or no longer
 *                                         configured)
 *   alertbridge secret keygen FILE        new AES-256-GCM key file (mode 0600)
 *   alertbridge secret encrypt [-k KEYFILE] [VALUE|-]
 *                                         print "enc:v1:..." (value from stdin
 *                                         when - or absent; key from -k or
 *                                         secrets_key)
 *
 * Public: ab_cli_test, ab_cli_health, ab_cli_secret (cli.h).
 * Diagnostics: errors on stderr say what to do; exit codes from sysexits.h
 * (test: 0 delivered, 69 EX_UNAVAILABLE not delivered).  URLs are shown
 * only redacted; secret values are never printed except the encrypt output.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "lib/buf.h"
#include "cli/cli.h"
#include "config/config.h"
#include "deliver/health.h"
#include "net/http.h"
#include "net/ssrf.h"
#include "deliver/plugin.h"
#include "deliver/runtime.h"
#include "lib/secret.h"
#include "lib/util.h"

#define CLI_SECRET_INPUT_MAX 4096
#define AB_DISABLED_REASON "disabled in the configuration"

static int cmd_test(int argc, char **argv, const char *conf_path, const char *plugin_dir)
{
	const char *name = NULL;
	bool json = false;
	struct ab_config *cfg;
	struct ab_runtime *rt;
	struct ab_channel_rt *ch;
	struct ab_result res;
	char *errors = NULL;
	int64_t t0, ms;
	bool disabled;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!name)
			name = argv[i];
		else
			name = NULL, i = argc;
	}
	if (!name) {
		fprintf(stderr, "usage: alertbridge test CHANNEL [--json]\n");
		return EX_USAGE;
	}
	if (!(cfg = ab_cli_load_config(conf_path)))
		return EX_CONFIG;
	if (!ab_config_channel(cfg, name)) {
		fprintf(stderr, "alertbridge: test: no channel named '%s' in %s\n", name, conf_path);
		ab_config_free(cfg);
		return EX_USAGE;
	}
	disabled = ab_channel_disabled(cfg, name);
	if (disabled)   /* an explicit admin action: sent anyway, but say so */
		fprintf(stderr, "alertbridge: note: channel '%s' is disabled in %s (enabled = "
			"false): the daemon delivers nothing to it; this test is sent anyway\n",
			name, conf_path);
	ab_http_global_init();
	/* the url is not refused here: the test shows what the guard does at send
	 * time (check and the daemon refuse such a configuration) */
	rt = ab_runtime_build_ex(cfg, plugin_dir, AB_RT_WITH_DISABLED | AB_RT_NO_CHECK, &errors,
				 NULL);
	if (!rt) {
		fputs(errors ? errors : "channels refused\n", stderr);
		free(errors);
		return EX_CONFIG;
	}
	ch = ab_runtime_channel(rt, name);
	t0 = ab_mono_ms();
	ab_channel_test(ch, "alertbridge test", &res);
	ms = ab_mono_ms() - t0;
	if (json) {
		json_t *j = json_pack("{s:s,s:s,s:s,s:i,s:I,s:s,s:b}", "channel", name, "type",
			ch->plugin.api->name, "status", ab_status_name(res.status), "code", res.code,
			"latency_ms", (json_int_t)ms, "message", res.message, "enabled", !disabled);
		ab_cli_print_json_line(j);
	} else {
		printf("channel:  %s (%s)\nstatus:   %s\ncode:     %d\nlatency:  %lld ms\n%s %s\n",
			name, ch->plugin.api->name, res.status == AB_OK ? "ok" :
			ab_status_name(res.status), res.code, (long long)ms,
			res.status == AB_OK ? "note:    " : "error:   ", res.message);
		if (res.status == AB_RETRY && res.retry_after > 0)
			printf("retry-after: %d s\n", res.retry_after);
		if (disabled)
			printf("enabled:  no (disabled in the configuration: the daemon sends it "
				"nothing)\n");
	}
	ab_runtime_unref(rt);
	ab_http_thread_cleanup();
	return res.status == AB_OK ? 0 : EX_UNAVAILABLE;
}

struct hctx {
	const struct ab_config *cfg;
	bool json;
	char seen[1024];     /* bitmap of config channels printed */
};

static void fmt_time(int64_t ms, char *out, size_t n)
{
	if (ms <= 0)
		snprintf(out, n, "-");
	else
		ab_time_format_rfc3339(ms, out, n);
}

static void print_row(const struct hctx *h, const char *name, const char *state, int failures,
	int64_t since, int64_t last_ok, int64_t last_fail, const char *reason)
{
	char s[40], o[40], f[40];

	fmt_time(since, s, sizeof s);
	fmt_time(last_ok, o, sizeof o);
	fmt_time(last_fail, f, sizeof f);
	if (h->json) {
		json_t *j = json_pack("{s:s,s:s,s:i,s:s,s:s,s:s,s:s}", "channel", name, "state", state,
			"failures", failures, "since", s, "last_ok", o, "last_failure", f, "reason",
			reason);
		char *txt = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		if (txt)
			printf("%s\n", txt);
		free(txt);
		json_decref(j);
	} else {
		printf("%-16s %-8s %8d  %-24s %-24s %s\n", name, state, failures, s, o, reason);
	}
}

static int health_cb(const struct ab_health_row *r, void *arg)
{
	struct hctx *h = arg;
	const char *state = ab_health_state_name(r->state), *reason = r->reason;

	for (size_t i = 0; i < h->cfg->n_channels; i++)
		if (!strcmp(h->cfg->channels[i].name, r->channel) && i < sizeof h->seen)
			h->seen[i] = 1;
	if (!ab_config_channel(h->cfg, r->channel)) {
		state = "disabled";   /* no longer configured: nothing is delivered */
	} else if (ab_channel_disabled(h->cfg, r->channel)) {
		state = "disabled";   /* enabled = false */
		reason = AB_DISABLED_REASON;
	}
	print_row(h, r->channel, state, r->failures, r->since, r->last_ok, r->last_fail,
		reason);
	return 0;
}

static int cmd_health(int argc, char **argv, const char *conf_path)
{
	struct hctx h;
	struct ab_config *cfg;
	struct ab_store *st;

	memset(&h, 0, sizeof h);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			h.json = true;
		else if (strcmp(argv[i], "--channels")) {
			fprintf(stderr, "usage: alertbridge log --channels [--json]\n");
			return EX_USAGE;
		}
	}
	if (!(cfg = ab_cli_load_config(conf_path)))
		return EX_CONFIG;
	h.cfg = cfg;
	if (!(st = ab_cli_open_store(cfg))) {
		ab_config_free(cfg);
		return EX_CANTCREAT;
	}
	if (!h.json)
		printf("%-16s %-8s %8s  %-24s %-24s %s\n", "CHANNEL", "STATE", "FAILURES", "SINCE",
			"LAST OK", "LAST ERROR");
	if (ab_store_health_list(st, health_cb, &h) < 0) {
		fprintf(stderr, "alertbridge: %s\n", ab_store_errmsg(st));
		ab_store_close(st);
		ab_config_free(cfg);
		return EX_IOERR;
	}
	ab_store_close(st);
	for (size_t i = 0; i < cfg->n_channels && i < sizeof h.seen; i++)
		if (!h.seen[i])
			print_row(&h, cfg->channels[i].name, cfg->channels[i].enabled ? "healthy" :
				"disabled", 0, 0, 0, 0, cfg->channels[i].enabled ?
				"(no deliveries yet)" : AB_DISABLED_REASON);
	ab_config_free(cfg);
	return 0;
}

static char *read_secret_input(const char *arg)
{
	struct ab_buf b = AB_BUF_INIT(CLI_SECRET_INPUT_MAX);
	char chunk[512];
	size_t n;

	if (arg && strcmp(arg, "-"))
		return strdup(arg);
	if (isatty(STDIN_FILENO))
		fprintf(stderr, "secret value (end with Enter, then Ctrl-D): ");
	while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
		if (ab_buf_append(&b, chunk, n) < 0) {
			fprintf(stderr, "alertbridge: secret longer than %d bytes\n",
				CLI_SECRET_INPUT_MAX);
			ab_buf_free(&b);
			return NULL;
		}
	}
	while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
		b.data[--b.len] = '\0';
	if (!b.len) {
		fprintf(stderr, "alertbridge: empty secret\n");
		ab_buf_free(&b);
		return NULL;
	}
	return ab_buf_steal(&b);
}

static int cmd_secret(int argc, char **argv, const char *conf_path)
{
	char err[512];

	if (argc == 3 && !strcmp(argv[1], "keygen")) {
		if (ab_secret_keygen(argv[2], err, sizeof err) < 0) {
			fprintf(stderr, "alertbridge: %s\n", err);
			return EX_CANTCREAT;
		}
		printf("%s: new key (mode 0600); set secrets_key = \"%s\"; in the configuration\n",
			argv[2], argv[2]);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "encrypt")) {
		const char *key = NULL, *val = NULL;
		struct ab_config *cfg = NULL;
		char *plain, *out = NULL;
		int rc = 0;

		for (int i = 2; i < argc; i++) {
			if (!strcmp(argv[i], "-k") && i + 1 < argc)
				key = argv[++i];
			else if (!val)
				val = argv[i];
			else
				goto usage;
		}
		if (!key) {
			if (!(cfg = ab_cli_load_config(conf_path)))
				return EX_CONFIG;
			key = cfg->secrets_key;
			if (!key) {
				fprintf(stderr, "alertbridge: no key: give -k KEYFILE or set secrets_key "
					"in %s ('alertbridge secret keygen FILE' makes one)\n", conf_path);
				ab_config_free(cfg);
				return EX_CONFIG;
			}
		}
		if (!(plain = read_secret_input(val))) {
			ab_config_free(cfg);
			return EX_DATAERR;
		}
		if (ab_secret_encrypt(plain, key, &out, err, sizeof err) < 0) {
			fprintf(stderr, "alertbridge: %s\n", err);
			rc = EX_DATAERR;
		} else {
			printf("%s\n", out);
		}
		memset(plain, 0, strlen(plain));
		free(plain);
		free(out);
		ab_config_free(cfg);
		return rc;
	}
usage:
	fprintf(stderr, "usage: alertbridge secret keygen FILE\n"
		"       alertbridge secret encrypt [-k KEYFILE] [VALUE|-]\n");
	return EX_USAGE;
}

int ab_cli_test(int argc, char **argv, const struct ab_cli *cli)
{
	return cmd_test(argc, argv, cli->conf_path, cli->plugin_dir);
}

int ab_cli_health(int argc, char **argv, const struct ab_cli *cli)
{
	return cmd_health(argc, argv, cli->conf_path);
}

int ab_cli_secret(int argc, char **argv, const struct ab_cli *cli)
{
	return cmd_secret(argc, argv, cli->conf_path);
}
