/*
 * config_http.c - the "http" section of alertbridge.conf: the daemon's HTTP
 * listener (see config_http.h for the syntax and the struct it fills).
 *
 * Public (config_http.h): ab_conf_http (section handler of config.c's
 *   table), ab_http_conf_free.
 * Diagnostics (all as FILE:LINE: via ab_conf_err, every error reported):
 *   a bad 'listen' address, relative certificate paths, only one of
 *   tls_cert / tls_key, empty or over-long tokens, too many tokens, limits
 *   out of range, max_connections_per_ip above max_connections; hooks:
 *   a bad or duplicate name, an unknown auth, a secret or header missing
 *   for the auth that needs it (the profile is checked in config.c).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_schema.h"
#include "config/config_http.h"
#include "config/config_syslog.h"   /* ab_syslog_addr_split: the one HOST:PORT parser */
#include "lib/secret.h"

static void h_listen(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	const char *v = config_setting_get_string(s);
	char host[256], port[16], why[128], sh[AB_CONF_SHOW_MAX + 8];

	if (ab_syslog_addr_split(v, host, sizeof host, port, sizeof port, why, sizeof why) < 0) {
		ab_conf_err(c, s, "http: setting 'listen': bad address '%s': %s (write "
			"\"127.0.0.1:9466\", \"[::1]:9466\" or \"*:9466\")",
			ab_conf_show(v, sh, sizeof sh), why);
		return;
	}
	ab_conf_h_string(c, s, f, dst);
}

static void h_abs(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	const char *v = config_setting_get_string(s);
	char sh[AB_CONF_SHOW_MAX + 8];

	if (v[0] != '/') {
		ab_conf_err(c, s, "http: setting '%s' must be an absolute path (got '%s')", f->name,
			ab_conf_show(v, sh, sizeof sh));
		return;
	}
	ab_conf_h_string(c, s, f, dst);
}

/* Secret references: "env:NAME", "file:/path", "enc:v1:..." or the token
 * itself; never echoed in a message. */
static void h_tokens(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	int n = config_setting_length(s);

	if (n > AB_HTTP_MAX_TOKENS) {
		ab_conf_err(c, s, "http: setting 'tokens': %d tokens (at most %d)", n,
			AB_HTTP_MAX_TOKENS);
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = config_setting_get_string(e);

		if (!v || !v[0] || strlen(v) >= AB_SECRET_MAX) {
			ab_conf_err(c, config_setting_source_line(e) ? e : s, "http: setting "
				"'tokens': entry %d is empty or longer than %d bytes", i + 1,
				AB_SECRET_MAX - 1);
			return;
		}
		for (const char *p = v; *p; p++)
			if ((unsigned char)*p < 0x21 || *p == 0x7f) {
				ab_conf_err(c, config_setting_source_line(e) ? e : s, "http: setting "
					"'tokens': entry %d holds a space or control character (a "
					"bearer token is one word)", i + 1);
				return;
			}
	}
	ab_conf_h_strings(c, s, f, dst);
}


/* ---- hooks */

static bool hook_name_ok(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)v[i]) || isdigit((unsigned char)v[i]) || v[i] == '_' ||
		      v[i] == '-'))
			return false;
	return true;
}

static void h_hook_name(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	char sh[AB_CONF_SHOW_MAX + 8];

	if (!hook_name_ok(config_setting_get_string(s))) {
		ab_conf_err(c, s, "setting 'name': '%s' is not a hook name (1 to 64 of a-z, 0-9, "
			"_ and -: it is the last part of /api/v1/hooks/NAME)",
			ab_conf_show(config_setting_get_string(s), sh, sizeof sh));
		return;
	}
	ab_conf_h_string(c, s, f, dst);
}

static const char *const auth_names[] = {
	[AB_HOOK_AUTH_TOKEN] = "token", [AB_HOOK_AUTH_GITLAB] = "gitlab",
	[AB_HOOK_AUTH_HEADER] = "header", [AB_HOOK_AUTH_HMAC] = "hmac-sha256",
	[AB_HOOK_AUTH_STANDARD] = "standard-webhooks",
};

static void h_hook_auth(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	const char *v = config_setting_get_string(s);
	char sh[AB_CONF_SHOW_MAX + 8];

	for (size_t i = 0; i < sizeof auth_names / sizeof auth_names[0]; i++)
		if (!strcmp(v, auth_names[i])) {
			ab_conf_h_string(c, s, f, dst);
			return;
		}
	ab_conf_err(c, s, "setting 'auth': unknown '%s' (token, gitlab, header, hmac-sha256, "
		"standard-webhooks)", ab_conf_show(v, sh, sizeof sh));
}

#define KOFF(m) offsetof(struct ab_http_hook, m)
static const struct ab_conf_field hook_fields[] = {
	{ "name", AB_CONF_T_STRING, true, h_hook_name, KOFF(name), 0, 0, 0 },
	{ "profile", AB_CONF_T_STRING, true, ab_conf_h_string, KOFF(profile), 0, 0, 0 },
	{ "auth", AB_CONF_T_STRING, false, h_hook_auth, KOFF(auth_name), 0, 0, 0 },
	{ "header", AB_CONF_T_STRING, false, ab_conf_h_string, KOFF(header), 0, 0, 0 },
	{ "prefix", AB_CONF_T_STRING, false, ab_conf_h_string, KOFF(prefix), 0, 0, 0 },
	{ "secret", AB_CONF_T_STRING, false, ab_conf_h_string, KOFF(secret), 0, 0, 0 },
};
AB_CONF_TABLE_FITS(hook_fields);

static void do_hook(struct ab_conf_ctx *c, const config_setting_t *g, int idx,
	const char *label, void *arg)
{
	struct ab_http_conf *hc = arg;
	struct ab_http_hook *h = &hc->hooks[hc->n_hooks];

	(void)idx;
	ab_conf_check_group(c, g, hook_fields, sizeof hook_fields / sizeof hook_fields[0], label,
		h, NULL);
	h->file = ab_conf_strdup(c, config_setting_source_file(g) ?
		config_setting_source_file(g) : "?");
	h->line = config_setting_source_line(g);
	hc->n_hooks++;
	for (size_t i = 0; h->auth_name && i < sizeof auth_names / sizeof auth_names[0]; i++)
		if (!strcmp(h->auth_name, auth_names[i]))
			h->auth = (enum ab_hook_auth)i;
	if (h->auth != AB_HOOK_AUTH_TOKEN && (!h->secret || !h->secret[0]))
		ab_conf_err(c, g, "auth '%s' needs a 'secret' (env:NAME, file:/path, enc:v1:... "
			"or the value)", auth_names[h->auth]);
	if ((h->auth == AB_HOOK_AUTH_HEADER || h->auth == AB_HOOK_AUTH_HMAC) &&
	    (!h->header || !h->header[0]))
		ab_conf_err(c, g, "auth '%s' needs a 'header' (the request header that carries "
			"it)", auth_names[h->auth]);
	if (h->auth == AB_HOOK_AUTH_TOKEN && h->secret)
		ab_conf_err(c, config_setting_get_member(g, "secret"), "auth 'token' takes the "
			"http tokens, not a 'secret' (set auth = \"header\" or another)");
	for (size_t k = 0; h->name && k + 1 < hc->n_hooks; k++)
		if (hc->hooks[k].name && !strcmp(hc->hooks[k].name, h->name))
			ab_conf_err(c, g, "hook '%s' defined twice (first at line %d)", h->name,
				hc->hooks[k].line);
}

static void h_hooks(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	static const struct ab_conf_list list = {
		"http hooks", "{ name = \"gitlab\"; profile = \"gitlab-webhook\"; auth = "
		"\"gitlab\"; secret = \"env:GITLAB_HOOK_TOKEN\"; }", "hook", hook_name_ok,
	};
	struct ab_http_conf *hc = dst;
	int n = config_setting_length(s);

	(void)f;
	if (n > AB_HTTP_MAX_HOOKS) {
		ab_conf_err(c, s, "http: %d hooks (at most %d)", n, AB_HTTP_MAX_HOOKS);
		return;
	}
	if ((hc->hooks = ab_conf_calloc(c, (size_t)n + 1, sizeof *hc->hooks)))
		ab_conf_each_group(c, s, &list, do_hook, hc);
}

const struct ab_http_hook *ab_http_hook_find(const struct ab_http_conf *hc, const char *name)
{
	for (size_t i = 0; hc && i < hc->n_hooks; i++)
		if (hc->hooks[i].name && !strcmp(hc->hooks[i].name, name))
			return &hc->hooks[i];
	return NULL;
}

#define HOFF(m) offsetof(struct ab_http_conf, m)

static void h_proxy_header(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	const char *v = config_setting_get_string(s);

	for (const char *p = v; *p; p++) {
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_') {
			ab_conf_err(c, s, "http: console: proxy_header must be a header name such "
				"as \"X-Remote-User\"");
			return;
		}
	}
	ab_conf_h_string(c, s, f, dst);
}

static const struct ab_conf_field console_fields[] = {
	{ "proxy_header", AB_CONF_T_STRING, false, h_proxy_header, HOFF(proxy_header), 0, 0, 0 },
	{ "proxies", AB_CONF_T_STRINGS, false, ab_conf_h_nets, HOFF(proxies), HOFF(n_proxies),
	  0, 0 },
};
AB_CONF_TABLE_FITS(console_fields);

static void h_console(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	struct ab_http_conf *hc = dst;

	(void)f;
	ab_conf_check_group(c, s, console_fields, sizeof console_fields /
		sizeof console_fields[0], "http: console", hc, NULL);
	if (!hc->proxy_header != !hc->n_proxies)
		ab_conf_err(c, s, "http: console: proxy_header and proxies go together (the "
			"header is taken only from the proxies' addresses)");
}

static const struct ab_conf_field http_fields[] = {
	{ "listen", AB_CONF_T_STRING, false, h_listen, HOFF(listen), 0, 0, 0 },
	{ "tls_cert", AB_CONF_T_STRING, false, h_abs, HOFF(tls_cert), 0, 0, 0 },
	{ "tls_key", AB_CONF_T_STRING, false, h_abs, HOFF(tls_key), 0, 0, 0 },
	{ "tokens", AB_CONF_T_STRINGS, false, h_tokens, HOFF(tokens), HOFF(n_tokens), 0, 0 },
	{ "max_body", AB_CONF_T_INT, false, ab_conf_h_int, HOFF(max_body), 0, 1024,
	  AB_HTTP_MAX_BODY_LIMIT },
	{ "max_header", AB_CONF_T_INT, false, ab_conf_h_int, HOFF(max_header), 0, 1024,
	  1024 * 1024 },
	{ "max_connections", AB_CONF_T_INT, false, ab_conf_h_int, HOFF(max_connections), 0, 1,
	  4096 },
	{ "max_connections_per_ip", AB_CONF_T_INT, false, ab_conf_h_int,
	  HOFF(max_connections_per_ip), 0, 1, 4096 },
	{ "timeout", AB_CONF_T_DURATION, false, ab_conf_h_duration, HOFF(timeout_ms), 0, 1000,
	  3600 * 1000 },
	{ "hooks", AB_CONF_T_LIST, false, h_hooks, 0, 0, 0, 0 },
	{ "console", AB_CONF_T_GROUP, false, h_console, 0, 0, 0, 0 },
};
AB_CONF_TABLE_FITS(http_fields);

void ab_conf_http(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	struct ab_http_conf **hcp = (struct ab_http_conf **)(void *)((char *)dst + f->off);
	struct ab_http_conf *hc = ab_conf_calloc(c, 1, sizeof *hc);

	if (!hc)
		return;
	ab_http_conf_free(*hcp);
	*hcp = hc;
	hc->max_body = AB_HTTP_DEFAULT_MAX_BODY;
	hc->max_header = AB_HTTP_DEFAULT_MAX_HEADER;
	hc->max_connections = AB_HTTP_DEFAULT_MAX_CONN;
	hc->max_connections_per_ip = AB_HTTP_DEFAULT_MAX_CONN_IP;
	hc->timeout_ms = AB_HTTP_DEFAULT_TIMEOUT_MS;
	ab_conf_check_group(c, s, http_fields, sizeof http_fields / sizeof http_fields[0],
		"http", hc, NULL);
	if (!hc->listen)
		hc->listen = ab_conf_strdup(c, AB_HTTP_DEFAULT_LISTEN);
	hc->file = ab_conf_strdup(c, config_setting_source_file(s) ?
		config_setting_source_file(s) : "?");
	hc->line = config_setting_source_line(s);
	if (!hc->tls_cert != !hc->tls_key)
		ab_conf_err(c, s, "http: 'tls_cert' and 'tls_key' go together (HTTPS needs both; "
			"remove both for plain HTTP)");
	if (hc->max_connections_per_ip > hc->max_connections)
		ab_conf_err(c, config_setting_get_member(s, "max_connections_per_ip"), "http: "
			"setting 'max_connections_per_ip' (%d) is above 'max_connections' (%d)",
			hc->max_connections_per_ip, hc->max_connections);
}

void ab_http_conf_free(struct ab_http_conf *hc)
{
	if (!hc)
		return;
	free(hc->listen);
	free(hc->tls_cert);
	free(hc->tls_key);
	ab_conf_strv_free(hc->tokens, hc->n_tokens);
	for (size_t i = 0; hc->hooks && i < hc->n_hooks; i++) {
		struct ab_http_hook *h = &hc->hooks[i];

		free(h->name);
		free(h->profile);
		free(h->auth_name);
		free(h->header);
		free(h->prefix);
		free(h->secret);
		free(h->file);
	}
	free(hc->hooks);
	free(hc->proxy_header);
	free(hc->proxies);
	free(hc->file);
	free(hc);
}
