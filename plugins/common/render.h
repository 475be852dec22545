/*
 * render.h - shared rendering helpers linked into every chat/HTTP channel
 * plugin (slack, teams, mattermost, webhook, email) as the convenience
 * library plugins/common/libabrender.la: a normalised view of
 * any message kind (event, group, digest, test), severity colours and
 * emoji, truncation at UTF-8 boundaries, and escaping per target format.
 *
 * Everything here is self-contained (jansson + libabbase): plugins reach the
 * host only through struct ab_host.  Every function is hidden from the
 * plugin's exports (the plugins link with -export-symbols-regex).
 */
#ifndef AB_PLUGIN_RENDER_H
#define AB_PLUGIN_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include <alertbridge/plugin.h>

#include "lib/buf.h"

#define RD_TITLE_MAX 1024   /* bytes kept of any title */

/* A flat view of any message kind.  Strings are borrowed from the payload
 * (valid during send) or point into the view's own buffers; never NULL
 * ("" when absent). */
struct rd_view {
	enum ab_msg_kind kind;
	bool is_group;              /* group or digest */
	bool test;                  /* fields.test */
	const char *id, *type, *category, *severity, *source, *tool, *asset, *team, *status;
	const char *title, *summary, *url;
	char when[64];              /* occurred_at, else received_at, else period/last_at */
	/* group / digest */
	const json_t *items;        /* array of events (may be NULL) */
	long long count, omitted;
	char counts[256];           /* "2 critical, 5 high" (most severe first) */
	char title_buf[RD_TITLE_MAX];
	long long suppressed;       /* fields.throttle_suppressed */
	/* lifecycle (ABI 1.6): the event says its finding is over (ab_resolved);
	 * it follows an earlier delivery of its fingerprint (msg->thread), sent
	 * first_when (RFC 3339), earlier deliveries before this one */
	bool resolved, followup;
	char first_when[40];
	unsigned earlier;
};

/* The label in brackets before a title: "RESOLVED" for a resolved event,
 * else the severity's ("CRITICAL" ...). */
const char *rd_view_label(const struct rd_view *v);
/* Its colour: green for a resolved event, else the severity's (rd_sev_color). */
const char *rd_view_color(const struct rd_view *v);
/* For a follow-up (v->followup), the sentence that names the first alert:
 * "Resolves the alert first sent 2026-12-04T16:50:47Z." or "Follows up
 * ..." (plus " Updated N times since." when it was); nothing otherwise. */
void rd_followup(const struct rd_view *v, struct ab_buf *b);

/* *msg as the host gave it, members newer than the host's ABI zeroed (a
 * plugin built for a newer ABI must not read past the host's struct): every
 * plugin looks at a message through this copy. */
void rd_msg(const struct ab_host *h, const struct ab_message *msg, struct ab_message *out);
/* res->ref = ref (cut to fit) when the host knows the member (ABI 1.6). */
void rd_set_ref(const struct ab_host *h, struct ab_result *res, const char *ref);

/* Fill v from a message; payload must be an object.  Returns 0 or -1 with
 * a message in err (e.g. a group payload without "group"). */
int rd_view_init(struct rd_view *v, const struct ab_message *msg, char *err, size_t errsz);

/* A string member of an object, or "" (never NULL). */
const char *rd_str(const json_t *o, const char *key);

/* Severity helpers (unknown -> info). */
int rd_sev_rank(const char *sev);             /* critical 4 .. info 0 */
const char *rd_sev_color(const char *sev);    /* "#RRGGBB" */
const char *rd_sev_emoji(const char *sev);    /* Slack/Mattermost emoji code */
const char *rd_sev_teams(const char *sev);    /* Adaptive Card color name */
const char *rd_sev_label(const char *sev);    /* "CRITICAL" ... */

/* Length in bytes of the longest prefix of s (len bytes) that holds at most
 * max_chars code points and at most max_bytes bytes and does not cut a
 * UTF-8 sequence. */
size_t rd_utf8_prefix(const char *s, size_t len, size_t max_chars, size_t max_bytes);
/* Number of code points in s (invalid bytes count as one each). */
size_t rd_utf8_chars(const char *s);

/* Append s to b escaped for the format, stopping (at a character boundary)
 * once max_chars code points of the *escaped* output were written; when
 * cut, append the ellipsis "…".  Returns true when s was truncated.
 * max_chars 0 = no limit (the buffer's cap still applies). */
enum rd_esc {
	RD_ESC_NONE = 0,
	RD_ESC_SLACK,     /* & < > as entities: "<!channel>" cannot ping */
	RD_ESC_MARKDOWN,  /* Mattermost Markdown: \-escape specials, break @mentions */
	RD_ESC_HTML,      /* & < > " ' as entities */
	RD_ESC_HEADER,    /* mail header: CR, LF and other controls become spaces */
};
bool rd_put(struct ab_buf *b, const char *s, enum rd_esc esc, size_t max_chars);
/* s percent-encoded (RFC 3986: unreserved characters kept) into b: a URL
 * path segment or a form value. */
void rd_put_pct(struct ab_buf *b, const char *s);
/* Same into a fresh malloc'd string (NULL on ENOMEM). */
char *rd_esc(const char *s, enum rd_esc esc, size_t max_chars);

/* A one-line plain-text summary of the message ("[HIGH] title (asset)" or
 * "Group: N alerts ... "), for fallbacks and subjects; malloc'd. */
char *rd_oneline(const struct rd_view *v, size_t max_chars);

/* Build a NULL-terminated string list from a JSON array of strings
 * (setting values); NULL on a non-string element or ENOMEM.  Free with
 * rd_strv_free. */
char **rd_strv(const json_t *arr, size_t max);
void rd_strv_free(char **v);

/* Resolve a secret setting through the host into a malloc'd string;
 * NULL with "setting 'NAME': why" in err. */
char *rd_secret(const struct ab_host *h, const char *name, const char *ref, char *err,
	size_t errsz);

/* Common HTTP settings shared by the HTTP plugins: url (secret), allow_http,
 * allow_networks, timeout, ca_file.  parse() consumes those keys from cfg
 * (a copy; the caller keeps the rest) and fills hs. */
struct rd_http {
	char *url;                  /* resolved, secret */
	bool allow_http;
	char **allow_networks;      /* NULL-terminated or NULL */
	long timeout_ms;
	char *ca_file;
};
int rd_http_parse(const struct ab_host *h, json_t *cfg, struct rd_http *hs, bool url_required,
	char *err, size_t errsz);
void rd_http_free(struct rd_http *hs);
/* A check() of a url setting through host->url_check: 0; -1 with
 * "setting 'url': why" (or "setting 'allow_networks': why") in err when it
 * is refused; 1 with "setting 'url': why" when its host does not resolve
 * now (a warning).  0 when the host has no url_check (ABI < 1.2): the send
 * time guard still applies. */
int rd_check_url(const struct ab_host *h, const char *url, enum ab_url_kind kind,
	char *const *allow_networks, char *err, size_t errsz);
/* The POST of body to hs's URL as a request (rq borrows every pointer). */
void rd_http_request(const struct rd_http *hs, const char *const *headers, const char *body,
	size_t len, const char *content_type, struct ab_http_request *rq);
/* Map an HTTP answer into res (status, retry_after, code, message with the
 * service's error text). */
void rd_http_result(const struct ab_http_response *rs, struct ab_result *res);
/* Perform rq with the host's HTTP helper, map the answer with
 * rd_http_result and release it. */
void rd_http_send(const struct ab_host *h, const struct ab_http_request *rq,
	struct ab_result *res);
/* Send body (JSON) with the host's HTTP helper and map the answer into res:
 * rd_http_request, then rd_http_send. */
void rd_http_post(const struct ab_host *h, const struct rd_http *hs, const char *const *headers,
	const char *body, size_t len, const char *content_type, struct ab_result *res);

/* Report unknown keys left in cfg: returns -1 with "setting 'x': unknown
 * setting for NAME" in err when cfg has any key left. */
int rd_no_extra(const json_t *cfg, const char *plugin, char *err, size_t errsz);

/* JSON string of s escaped for esc and cut to max_chars (NULL on ENOMEM). */
json_t *rd_jstr(const char *s, enum rd_esc esc, size_t max_chars);
/* The canonical test event for channel (fields.test = true), new reference. */
json_t *rd_test_event(const struct ab_host *h, const char *channel);
/* A plugin's test(): send(inst, ...) the test event of channel as an
 * AB_MSG_TEST message (RETRY "out of memory" when it cannot be made). */
void rd_send_test(const struct ab_host *h, const char *channel,
	void (*send)(void *inst, const struct ab_message *msg, struct ab_result *res),
	void *inst, struct ab_result *res);
/* Is s an http(s) URL safe to put in a link (no spaces, quotes, <, >, |)? */
bool rd_url_ok(const char *s);

#endif
