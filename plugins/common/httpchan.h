/*
 * httpchan.h - the common skeleton of the HTTP channel plugins (slack,
 * teams, mattermost, webhook): one POST of a rendered body per message.
 *
 * A plugin defines one descriptor, hc_plugin_desc, with its name and
 * description (HC_PLUGIN), a parser for its own settings into a private
 * struct, a render function and optional hooks; httpchan.c provides
 * create/send/test/destroy, the exported alertbridge_plugin() and the
 * common settings (url, allow_http, allow_networks, timeout, ca_file: see
 * rd_http in render.h), with ca_file declared a path setting and a check()
 * of the url through the host's guard.  Linked into each plugin as the
 * convenience library plugins/common/libabchan.la (with libabrender.la);
 * only alertbridge_plugin is exported (-export-symbols-regex).
 *
 * create: copy the config, rd_http_parse, parse (plugin settings),
 *   rd_no_extra (an unknown setting is an error naming the plugin).
 * send:   skip? -> AB_OK with the note; render -> AB_PERMANENT on error;
 *   headers -> AB_RETRY on error; rd_http_post with content_type.  Split
 *   for the host (ABI 1.3): http_prepare does all of that up to the
 *   request, http_result maps the answer (rd_http_result); send is the two
 *   around host->http.
 * test:   rd_test_event for the channel, sent as an AB_MSG_TEST message.
 * check:  rd_http_parse, then rd_check_url (https, or http with allow_http).
 */
#ifndef AB_PLUGIN_HTTPCHAN_H
#define AB_PLUGIN_HTTPCHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include <alertbridge/plugin.h>

#include "render.h"

#define HC_HEADERS_MAX 40           /* extra request headers per message */
#define HC_HEADER_LINE_MAX 8192     /* one formatted header line */

/* Extra headers for one request: "Name: value" lines, NULL-terminated. */
struct hc_headers {
	const char *v[HC_HEADERS_MAX + 1];
	size_t n;
	char *own[HC_HEADERS_MAX];      /* lines from hc_header_printf, freed after the POST */
	size_t n_own;
};

/* Add a line that stays valid until send returns (e.g. from the private
 * struct).  Returns 0, or -1 when HC_HEADERS_MAX lines are already there. */
int hc_header_add(struct hc_headers *hh, const char *line);
/* Add a line formatted into storage the base frees after the request.
 * Returns 0, or -1 when full, too long (HC_HEADER_LINE_MAX) or on ENOMEM. */
int hc_header_printf(struct hc_headers *hh, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

struct hc_desc {
	struct ab_plugin plugin;        /* HC_PLUGIN("name", "description") */
	const char *content_type;       /* NULL = "application/json" */
	/* Consume the plugin's own keys from cfg (a copy; what is left over is
	 * reported as unknown) and build the private struct into *priv.
	 * Returns 0, or -1 with "setting 'x': ..." in err; on -1 a non-NULL
	 * *priv is released with destroy.  NULL = no settings (priv NULL). */
	int (*parse)(const struct ab_host *h, json_t *cfg, void **priv, char *err,
		size_t errsz);
	/* Optional: true when msg is not for this channel; the message is then
	 * reported delivered (AB_OK) with note as the result text. */
	bool (*skip)(const void *priv, const struct ab_message *msg, char *note, size_t notesz);
	/* The request body (malloc'd, *len bytes), or NULL with err: the
	 * message can never be sent as is (AB_PERMANENT). */
	char *(*render)(const void *priv, const struct ab_message *msg, size_t *len, char *err,
		size_t errsz);
	/* Optional: add request headers, which may depend on the body (e.g.
	 * signatures).  Returns 0, or -1 with err (AB_RETRY). */
	int (*headers)(const struct ab_host *h, const void *priv, const struct ab_message *msg,
		const char *body, size_t len, struct hc_headers *out, char *err, size_t errsz);
	void (*destroy)(void *priv);    /* optional: release the private struct */
	/* Optional: for a plugin whose url is not always needed (Slack: a
	 * token instead): NULL when the settings fit has_url, else the error
	 * ("setting 'url': ...").  Without it url is required. */
	const char *(*url_rule)(const void *priv, bool has_url);
	/* Optional: send msg some other way than one POST of render's body to
	 * url (Slack's Web API: several calls): true when it did (res holds the
	 * result), false to go on as usual.  Runs in send and http_prepare. */
	bool (*send)(const struct ab_host *h, const struct rd_http *hs, void *priv,
		const struct ab_message *msg, struct ab_result *res);
	/* Optional, NULL-terminated: more settings holding a URL that check()
	 * passes through the host's guard as url when they are set. */
	const char *const *check_urls;
};

/* Defined by the plugin: its descriptor. */
extern const struct hc_desc hc_plugin_desc;

/* The plugin entry points, for HC_PLUGIN. */
void *hc_create(const struct ab_host *host, const char *channel, const json_t *config,
	char *err, size_t errsz);
void hc_send(void *inst, const struct ab_message *msg, struct ab_result *res);
int hc_http_prepare(void *inst, const struct ab_message *msg, struct ab_http_request *req,
	void **state, struct ab_result *res);
void hc_http_result(void *inst, void *state, const struct ab_http_response *resp,
	struct ab_result *res);
void hc_test(void *inst, struct ab_result *res);
void hc_destroy(void *inst);
int hc_check(const json_t *config, const struct ab_host *host, char *err, size_t errsz);
/* The common path settings: { "ca_file", NULL }. */
extern const char *const hc_path_settings[];

/* rate: the default messages per second of a channel (ab_plugin.default_rate). */
#define HC_PLUGIN(nm, desc, rate) HC_PLUGIN_FLAGS(nm, desc, rate, 0)
/* fl: AB_PLUGIN_F_* (a plugin with AB_PLUGIN_F_PAYLOAD_TEXT gets messages
 * whose payload is NULL and payload_text set in skip, render and headers). */
#define HC_PLUGIN_FLAGS(nm, desc, rate, fl) {                           \
		.abi = AB_PLUGIN_ABI, .size = sizeof(struct ab_plugin),   \
		.name = (nm), .description = (desc),                      \
		.create = hc_create, .send = hc_send, .test = hc_test,    \
		.flush = NULL, .destroy = hc_destroy,                     \
		.default_rate = (rate), .path_settings = hc_path_settings, \
		.check = hc_check,                                        \
		.http_prepare = hc_http_prepare,                          \
		.http_result = hc_http_result,                            \
		.flags = (fl),                                            \
	}

#endif
