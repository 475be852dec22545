/*
 * config_http.c - the "http" section of alertbridge.conf: the daemon's HTTP
 * listener (see config_http.h for the syntax and the struct it fills).
 *
 * Public (config_http.h): ab_conf_http (section handler of config.c's
 *   table), ab_http_conf_free.
 * Diagnostics (all as FILE:LINE: via ab_conf_err, every error reported):
 *   a bad 'listen' address, relative certificate paths, only one of
 *   tls_cert / tls_key, empty or over-long tokens, too many tokens, limits
 *   out of range, max_connections_per_ip above max_connections.
 */
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

#define HOFF(m) offsetof(struct ab_http_conf, m)
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
	free(hc->file);
	free(hc);
}
