/*
 * httpchan.c - the create/send/test/destroy skeleton shared by the HTTP
 * channel plugins (slack, teams, mattermost, webhook), driven by the
 * plugin's descriptor hc_plugin_desc (see httpchan.h).
 *
 * Public: alertbridge_plugin() (the plugin's only exported symbol),
 *   hc_create, hc_send, hc_http_prepare, hc_http_result, hc_test,
 *   hc_destroy, hc_check, hc_path_settings (through HC_PLUGIN),
 *   hc_header_add, hc_header_printf.
 * hc_send is hc_http_prepare, host->http, hc_http_result: one path whether
 * the host sends one message (send) or many at once (ABI 1.3's split).
 * Diagnostics: create() errors come from rd_http_parse, the plugin's
 *   parser ("setting 'x': ...") or rd_no_extra ("setting 'x': unknown
 *   setting for a NAME channel"), else "out of memory"; send results carry
 *   the render/headers error or rd_http_post's redacted HTTP message.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "httpchan.h"
#include "render.h"


struct hc_inst {
	const struct ab_host *host;
	char *channel;
	struct rd_http http;
	void *priv;                     /* the plugin's settings (hc_desc.parse) */
};

const char *const hc_path_settings[] = { "ca_file", NULL };

const struct ab_plugin *alertbridge_plugin(void);
const struct ab_plugin *alertbridge_plugin(void)
{
	return &hc_plugin_desc.plugin;
}

int hc_header_add(struct hc_headers *hh, const char *line)
{
	if (hh->n >= HC_HEADERS_MAX)
		return -1;
	hh->v[hh->n++] = line;
	hh->v[hh->n] = NULL;
	return 0;
}

int hc_header_printf(struct hc_headers *hh, const char *fmt, ...)
{
	struct ab_buf b = AB_BUF_INIT(HC_HEADER_LINE_MAX);
	va_list ap;
	char *line;
	int rc;

	if (hh->n >= HC_HEADERS_MAX)
		return -1;
	va_start(ap, fmt);
	rc = ab_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (rc < 0 || !(line = ab_buf_steal(&b))) {
		ab_buf_free(&b);
		return -1;
	}
	hh->own[hh->n_own++] = line;
	return hc_header_add(hh, line);
}

static void headers_free(struct hc_headers *hh)
{
	for (size_t i = 0; i < hh->n_own; i++)
		free(hh->own[i]);
}

void hc_destroy(void *p)
{
	struct hc_inst *in = p;

	if (!in)
		return;
	if (in->priv && hc_plugin_desc.destroy)
		hc_plugin_desc.destroy(in->priv);
	rd_http_free(&in->http);
	free(in->channel);
	free(in);
}

void *hc_create(const struct ab_host *host, const char *channel, const json_t *config,
	char *err, size_t errsz)
{
	const struct hc_desc *d = &hc_plugin_desc;
	struct hc_inst *in = calloc(1, sizeof *in);
	json_t *cfg = json_deep_copy(config);

	if (!in || !cfg || !(in->channel = strdup(channel))) {
		snprintf(err, errsz, "out of memory");
		goto fail;
	}
	in->host = host;
	if (rd_http_parse(host, cfg, &in->http, !d->url_rule, err, errsz) < 0)
		goto fail;
	if (d->parse && d->parse(host, cfg, &in->priv, err, errsz) < 0)
		goto fail;
	if (d->url_rule) {
		const char *why = d->url_rule(in->priv, in->http.url != NULL);

		if (why) {
			snprintf(err, errsz, "%s", why);
			goto fail;
		}
	}
	if (rd_no_extra(cfg, d->plugin.name, err, errsz) < 0)
		goto fail;
	json_decref(cfg);
	return in;
fail:
	json_decref(cfg);
	hc_destroy(in);
	return NULL;
}

/* One message between hc_http_prepare and hc_http_result: what its
 * request points to. */
struct hc_call {
	struct hc_headers hh;
	char *body;
};

static void call_free(struct hc_call *call)
{
	if (!call)
		return;
	headers_free(&call->hh);
	free(call->body);
	free(call);
}

int hc_http_prepare(void *p, const struct ab_message *hmsg, struct ab_http_request *req,
	void **state, struct ab_result *res)
{
	const struct hc_desc *d = &hc_plugin_desc;
	struct hc_inst *in = p;
	struct ab_message m, *msg = &m;
	struct hc_call *call;
	char err[200];
	size_t len = 0;
	char *body;

	*state = NULL;
	rd_msg(in->host, hmsg, &m);   /* the members this host has */
	if (d->send && d->send(in->host, &in->http, in->priv, msg, res))
		return 0;
	if (d->skip && d->skip(in->priv, msg, err, sizeof err)) {
		ab_result_set(res, AB_OK, 0, err);
		return 0;
	}
	if (!(body = d->render(in->priv, msg, &len, err, sizeof err))) {
		ab_result_set(res, AB_PERMANENT, 0, err);
		return 0;
	}
	if (!(call = calloc(1, sizeof *call))) {
		free(body);
		ab_result_set(res, AB_RETRY, 0, "out of memory");
		return 0;
	}
	call->body = body;
	if (d->headers &&
	    d->headers(in->host, in->priv, msg, body, len, &call->hh, err, sizeof err) < 0) {
		ab_result_set(res, AB_RETRY, 0, err);
		call_free(call);
		return 0;
	}
	rd_http_request(&in->http, call->hh.n ? call->hh.v : NULL, body, len,
		d->content_type ? d->content_type : "application/json", req);
	*state = call;
	return 1;
}

void hc_http_result(void *p, void *state, const struct ab_http_response *resp,
	struct ab_result *res)
{
	(void)p;
	if (resp)
		rd_http_result(resp, res);
	call_free(state);
}

void hc_send(void *p, const struct ab_message *msg, struct ab_result *res)
{
	struct hc_inst *in = p;
	struct ab_http_request rq;
	void *state;

	memset(&rq, 0, sizeof rq);
	if (hc_http_prepare(in, msg, &rq, &state, res) == 0)
		return;
	rd_http_send(in->host, &rq, res);
	hc_http_result(in, state, NULL, NULL);
}

void hc_test(void *p, struct ab_result *res)
{
	struct hc_inst *in = p;

	rd_send_test(in->host, in->channel, hc_send, in, res);
}

int hc_check(const json_t *config, const struct ab_host *host, char *err, size_t errsz)
{
	json_t *cfg = json_deep_copy(config);
	struct rd_http hs;
	int r;

	if (!cfg) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	r = rd_http_parse(host, cfg, &hs, false, err, errsz);
	json_decref(cfg);
	if (r < 0)
		return -1;
	if (hs.url)
		r = rd_check_url(host, hs.url, hs.allow_http ? AB_URL_HTTP : AB_URL_HTTPS,
			hs.allow_networks, err, errsz);
	for (size_t i = 0; r >= 0 && hc_plugin_desc.check_urls && hc_plugin_desc.check_urls[i];
	     i++) {
		const char *key = hc_plugin_desc.check_urls[i];
		const char *u = json_string_value(json_object_get(config, key));
		char why[400];
		int r2;

		if (!u)
			continue;
		r2 = rd_check_url(host, u, hs.allow_http ? AB_URL_HTTP : AB_URL_HTTPS,
			hs.allow_networks, why, sizeof why);
		if (r2 != 0 && (r == 0 || r2 < 0)) {
			/* rd_check_url names 'url': name the setting checked */
			snprintf(err, errsz, "setting '%s'%s", key, strncmp(why, "setting 'url'", 13) ?
				why : why + 13);
			r = r2;
		}
	}
	rd_http_free(&hs);
	return r;
}
