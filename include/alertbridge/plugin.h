/*
 * alertbridge/plugin.h - the channel plugin ABI: the one installed header an
 * out-of-tree plugin needs (with jansson's).
 *
 * A channel plugin is a shared object in the plugin directory that exports
 * exactly one symbol, AB_PLUGIN_SYMBOL, a function returning a pointer to a
 * constant struct ab_plugin.  The host checks the ABI major version and the
 * struct size before it calls anything else.  A plugin reaches the host only
 * through struct ab_host (logging, clock, secrets, HTTP, the SSRF guard): it
 * never links against daemon symbols, so it can be unit-tested with a mock
 * host.
 *
 * Messages and channel settings are handed over as jansson objects: the
 * canonical event JSON (see doc/alertbridge.conf.5 and doc/DESIGN.md, "The event"),
 * or a group/digest/test object.  The plugin renders and transports; the
 * host owns queueing, retries, rate limits and health.
 *
 * The in-tree plugins (plugins/ in the source tree) include this header
 * too, and additionally link noinst convenience libraries that are not
 * installed: src/libabbase.la (capped buffers and small utilities,
 * src/lib/buf.h and util.h), plugins/common/libabrender.la (rendering,
 * render.h), plugins/common/libabchan.la (the HTTP channel skeleton,
 * httpchan.h) and, for the inbox, src/libabinbox.la (src/store/inboxdb.h).
 * They are compiled into each .so, which still exports only its entry
 * symbol.  doc/DESIGN.md describes the tree.
 *
 * Compatibility: members are only ever appended.  A host reads a plugin's
 * member only when api->size covers it (AB_PLUGIN_HAS), and a plugin reads
 * a host's only when h->size covers it (AB_HOST_HAS): a plugin built for an
 * older minor version loads and works, without what it does not declare.
 */
#ifndef ALERTBRIDGE_PLUGIN_H
#define ALERTBRIDGE_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AB_PLUGIN_ABI_MAJOR 1
#define AB_PLUGIN_ABI_MINOR 6
#define AB_PLUGIN_ABI ((uint32_t)((AB_PLUGIN_ABI_MAJOR << 16) | AB_PLUGIN_ABI_MINOR))
#define AB_PLUGIN_ABI_MAJOR_OF(v) ((uint32_t)(v) >> 16)
#define AB_PLUGIN_ABI_MINOR_OF(v) ((uint32_t)(v) & 0xffffu)

/* The one exported symbol: const struct ab_plugin *alertbridge_plugin(void). */
#define AB_PLUGIN_SYMBOL "alertbridge_plugin"

/* Outcome of a send or test.  The host decides what happens next. */
enum ab_status {
	AB_OK = 0,        /* delivered */
	AB_RETRY = 1,     /* temporary failure: try again later */
	AB_PERMANENT = 2, /* will never work as is: dead-letter */
};

#define AB_RESULT_MSG_MAX 256

#define AB_RESULT_REF_MAX 128

struct ab_result {
	enum ab_status status;
	int retry_after;                  /* RETRY: seconds the peer asked for, 0 = host decides */
	int code;                         /* protocol status (HTTP code, SMTP reply), 0 if none */
	char message[AB_RESULT_MSG_MAX];  /* short human text, never a secret */
	/* ABI >= 1.6 (write it only when host->abi says 1.6 or later): on AB_OK,
	 * the service's reference of what was sent, for later messages about
	 * the same finding (Slack: "CHANNEL:TS"); "" when there is none.  The
	 * host keeps the first delivery's (see struct ab_thread). */
	char ref[AB_RESULT_REF_MAX];
};

/*
 * Payload shapes (all JSON objects; plugins must render every kind):
 *
 * AB_MSG_EVENT, AB_MSG_TEST: one canonical event (doc/DESIGN.md, "The event").
 *   A test message has fields.test = true and a title saying it is a test.
 *   An event that went out after a throttle window carries
 *   fields.throttle_suppressed = N (events suppressed in that window).
 *
 * AB_MSG_GROUP: many events of one group (grouping rules):
 *   { "group": { "key": "...", "rule": "NAME", "title": "...", "count": N,
 *                "counts": { "critical": n, "high": n, ... },   severity -> n
 *                "by_type": { "finding.created": n, ... },
 *                "group_by": { "tool": "...", "asset": "..." },
 *                "first_at": "RFC 3339", "last_at": "RFC 3339",
 *                "url": "..." (optional) },
 *     "items": [ event, ... ],     top items, most severe first
 *     "omitted": M }               items not listed (count - len(items))
 *
 * People (ABI 1.4): a message the host sends to people (a rule's
 *   recipients, a user's subscription) carries them in the payload's
 *   top-level "recipients": [ { "name": "alice", "email": "a@example.com"
 *   or absent, "display_name": "Alice Doe", "rule": "RULE" or absent for a
 *   personal subscription, "reason": "why, in words" }, ... ] (one person, or for
 *   e-mail with email_mode "together" several).  The host sets the member
 *   for such messages and removes it from every other one, so nothing from
 *   an event can name a recipient.  Only a plugin that declares
 *   AB_PLUGIN_F_RECIPIENTS is given them (its channel may carry a kind in
 *   the people section): it must address exactly those people (e-mail:
 *   their addresses instead of its own 'to'; inbox: each person's own list).
 *
 * AB_MSG_DIGEST: a scheduled summary; like a group with "digest" in place
 *   of "group": { "digest": { "rule": "NAME", "title": "...", "schedule": "...",
 *                 "period_start": "...", "period_end": "...", "count": N,
 *                 "counts": {...}, "by_type": {...} },
 *     "items": [ event, ... ], "omitted": M }
 */
enum ab_msg_kind {
	AB_MSG_EVENT = 0,
	AB_MSG_GROUP = 1,
	AB_MSG_DIGEST = 2,
	AB_MSG_TEST = 3,
};

struct ab_message {
	enum ab_msg_kind kind;
	const char *id;          /* idempotency key, stable across retries */
	unsigned attempt;        /* 1 for the first try */
	const json_t *payload;   /* borrowed; valid during the call only.  NULL only
				    for a plugin with AB_PLUGIN_F_PAYLOAD_TEXT that
				    is given payload_text instead */
	/* ABI >= 1.5: when payload is NULL, the payload as JSON text, compact
	 * with sorted keys (byte for byte what json_dumps(payload, JSON_COMPACT |
	 * JSON_SORT_KEYS) would give): payload_len bytes and a NUL; else NULL.
	 * Borrowed as payload. */
	const char *payload_text;
	size_t payload_len;
	/* ABI >= 1.6 (read it only when host->abi says 1.6 or later): for an
	 * event whose fingerprint this channel (and recipient) delivered before,
	 * within the store's retention, the first of those deliveries; NULL for
	 * a new finding and for every other message.  A plugin renders such an
	 * event as a follow-up of the first: Slack updates that message and
	 * replies in its thread, cards name it, mail threads under it. */
	const struct ab_thread *thread;
};

struct ab_thread {
	const char *event_id;    /* the event first delivered */
	const char *ref;         /* what the plugin said of it (ab_result.ref), or "" */
	int64_t first_at;        /* when it was delivered, ms since the epoch */
	unsigned count;          /* deliveries of the fingerprint before this one */
};

enum ab_log_level {
	AB_LOG_ERR = 3,
	AB_LOG_WARNING = 4,
	AB_LOG_NOTICE = 5,
	AB_LOG_INFO = 6,
	AB_LOG_DEBUG = 7,
};

/*
 * HTTP helper (host->http).  One request, no redirects followed, SSRF guard on
 * every address connected to, https only unless allow_http, capped answer.
 * Strings are borrowed for the duration of the call.
 */
struct ab_http_request {
	const char *method;                 /* NULL = "POST" */
	const char *url;                    /* secret: never logged unredacted */
	const char *const *headers;         /* NULL-terminated "Name: value" list, or NULL */
	const void *body;                   /* request body, or NULL */
	size_t body_len;
	const char *content_type;           /* sets Content-Type when not NULL */
	long timeout_ms;                    /* whole request; 0 = 10000 (connect <= 5000) */
	bool allow_http;                    /* permit plain http:// */
	const char *const *allow_networks;  /* NULL-terminated CIDRs let through the guard */
	size_t max_response;                /* body cap in bytes; 0 = 65536 */
	const char *ca_file;                /* PEM CA bundle; NULL = system store */
};

#define AB_HTTP_ERROR_MAX 256

/*
 * Always filled in by host->http, whatever the outcome.  body is malloc'd,
 * NUL-terminated and at most max_response bytes (truncated is set when the
 * peer sent more); release it with host->http_free (plain free(body) works
 * as well).  outcome: AB_OK for 2xx; AB_RETRY for 429, 5xx, transport
 * errors and timeouts; AB_PERMANENT for 3xx (redirects are refused), other
 * 4xx, SSRF refusals, bad URLs and http:// without allow_http.
 */
struct ab_http_response {
	int status;                 /* HTTP status code, 0 when there was no answer */
	enum ab_status outcome;
	char *body;                 /* never NULL after the call ("" when empty) unless ENOMEM */
	size_t body_len;
	bool truncated;             /* the answer was longer than max_response */
	int retry_after;            /* seconds from Retry-After (delta or HTTP-date), 0 if none */
	int64_t latency_ms;
	long num_connects;          /* new connections made (0 = an existing one was reused) */
	char error[AB_HTTP_ERROR_MAX]; /* "" on AB_OK; URL always redacted */
};

struct sockaddr;  /* <sys/socket.h>; only pointed to here */

/* host->url_check: which URLs a setting may hold. */
enum ab_url_kind {
	AB_URL_HTTPS = 0,   /* https:// only */
	AB_URL_HTTP = 1,    /* https:// or http:// (the channel allows plain http) */
	AB_URL_SMTP = 2,    /* smtp:// or smtps:// */
};

/* host->url_check results. */
enum ab_url_check {
	AB_URL_OK = 0,
	AB_URL_REFUSED = -1,     /* bad URL, wrong scheme, or refused by the SSRF guard */
	AB_URL_UNRESOLVED = -2,  /* the host does not resolve now: a warning, not an error */
	AB_URL_BAD_NETWORK = -3, /* an allow_networks entry is not a network (why names it) */
};

struct ab_host {
	uint32_t abi;   /* AB_PLUGIN_ABI of the host */
	uint32_t size;  /* sizeof(struct ab_host) of the host */
	void *ctx;      /* host private */
	void (*log)(const struct ab_host *h, int level, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));
	int64_t (*now_ms)(const struct ab_host *h); /* wall clock, ms since the epoch */
	/* Resolve a secret reference ("enc:v1:...", "file:/path", "env:NAME" or a
	 * literal) into out.  Returns 0, or -1 with a message in err. */
	int (*secret)(const struct ab_host *h, const char *ref, char *out, size_t outsz,
		char *err, size_t errsz);
	/* Perform an HTTP request through the host's guarded helper (SSRF guard,
	 * timeouts, capped body).  Always fills resp; returns 0 when
	 * resp->outcome is AB_OK, else -1.  May be NULL. */
	int (*http)(const struct ab_host *h, const struct ab_http_request *req,
		struct ab_http_response *resp);
	/* Release what http() put into resp (safe to call twice).  May be NULL
	 * exactly when http is NULL; check AB_HOST_HAS(h, http_free) first. */
	void (*http_free)(const struct ab_host *h, struct ab_http_response *resp);
	/* The SSRF guard for plugins that open their own connections (SMTP):
	 * may the channel connect to sa?  allow_networks: NULL-terminated CIDR
	 * strings from the channel's settings, or NULL.  Returns 0, or -1 when
	 * refused, with the reason and how to allow it in why.  Call it for
	 * every address before connecting (libcurl: CURLOPT_OPENSOCKETFUNCTION).
	 * ABI >= 1.1: check AB_HOST_HAS(h, net_check) first. */
	int (*net_check)(const struct ab_host *h, const struct sockaddr *sa, size_t salen,
		const char *const *allow_networks, char *why, size_t whysz);
	/* The configuration check of a URL, for a plugin's check(): the URL
	 * parses, has the scheme kind allows, and every address its host
	 * resolves to now passes the SSRF guard with allow_networks
	 * (NULL-terminated CIDR strings, or NULL).  Returns AB_URL_OK, or a
	 * negative enum ab_url_check with the reason in why (the URL only
	 * redacted).  ABI >= 1.2; appended last: check AB_HOST_HAS(h, url_check). */
	int (*url_check)(const struct ab_host *h, const char *url, enum ab_url_kind kind,
		const char *const *allow_networks, char *why, size_t whysz);
};

struct ab_plugin {
	uint32_t abi;             /* AB_PLUGIN_ABI the plugin was built against */
	uint32_t size;            /* sizeof(struct ab_plugin) */
	const char *name;         /* must equal the file name without ".so" */
	const char *description;
	/* Create an instance for one channel.  config holds the channel's own
	 * settings (the host removes name/type and other host settings).  An
	 * unknown or bad setting is an error: return NULL with a message in err
	 * that starts with the setting name. */
	void *(*create)(const struct ab_host *host, const char *channel,
		const json_t *config, char *err, size_t errsz);
	void (*send)(void *inst, const struct ab_message *msg, struct ab_result *res);
	void (*test)(void *inst, struct ab_result *res);  /* optional */
	void (*flush)(void *inst);                        /* optional */
	void (*destroy)(void *inst);

	/* ABI >= 1.2, all optional (0 / NULL: none).  The host reads them only
	 * when size covers them (AB_PLUGIN_HAS). */

	/* Messages per second a channel of this type may send when the channel
	 * sets no rate (0 = unlimited), e.g. a service's documented limit per
	 * incoming webhook.  The channel's rate and burst settings override it. */
	double default_rate;
	/* The settings whose string values are file names, NULL-terminated:
	 * the host makes a relative value absolute against state_dir before it
	 * calls check() and create(); no other setting is touched.  The first
	 * entry is the file the channel keeps its data in, for plugins that
	 * keep one (`alertbridge inbox` opens the inbox channel's by it). */
	const char *const *path_settings;
	/* Check the settings against the world before the configuration is
	 * accepted (`alertbridge check`, daemon start and reload), after
	 * create() accepted them: e.g. resolve the URL and pass it through
	 * host->url_check.  config as for create().  Returns 0; -1 when the
	 * configuration must be refused; 1 when it is accepted with a warning.
	 * err holds the message for -1 and 1 (start it with the setting name);
	 * the host prefixes the file, line and channel name. */
	int (*check)(const json_t *config, const struct ab_host *host, char *err,
		size_t errsz);

	/* ABI >= 1.3, optional, both or neither (a plugin with one of them is
	 * refused): send() split in two, for a plugin whose send() is one
	 * request through host->http.  The host then runs the requests of
	 * many messages at once through its guarded HTTP helper (the same
	 * checks, SSRF guard, caps, timeouts and response as host->http) on
	 * connections it keeps alive, and turns each response into the
	 * message's result.  send() stays mandatory and must give the same
	 * result on its own (older hosts, `alertbridge test`, tests).
	 *
	 * http_prepare: build the request for msg into *req (zeroed by the
	 * host).  Returns 1 when *req is filled: the host performs it and then
	 * calls http_result exactly once with the *state set here; everything
	 * req points to (URL, headers, body) must stay valid until then, e.g.
	 * owned by *state.  Returns 0 when res already holds the final result
	 * and no request is to be made (a message the channel skips, one that
	 * cannot be rendered): *state is not used then.  msg and its payload
	 * are valid during the call only.
	 *
	 * http_result: turn the response into res, as send() would have, and
	 * release state.  resp is NULL when the host drops the request without
	 * performing it (it is stopping): only release state then (res is
	 * ignored).  resp->body is the host's: do not free it. */
	int (*http_prepare)(void *inst, const struct ab_message *msg,
		struct ab_http_request *req, void **state, struct ab_result *res);
	void (*http_result)(void *inst, void *state, const struct ab_http_response *resp,
		struct ab_result *res);

	/* ABI >= 1.4, optional: AB_PLUGIN_F_* bits. */
	unsigned flags;
};

/* The plugin addresses the people a message's "recipients" names (see
 * "People" above); without it, the host refuses its channels as a kind of
 * the people section. */
#define AB_PLUGIN_F_RECIPIENTS 1u
/* ABI >= 1.5: the plugin takes a message's payload as text.  The host may
 * then call send() / http_prepare() with payload NULL and the stored text
 * in payload_text (no parse, no tree: a plugin that sends the payload as
 * it is, as the webhook does, needs neither), and parses the text itself
 * only when it needs a member.  The host still passes a tree for messages
 * it changes (people's recipients) and for every call before 1.5. */
#define AB_PLUGIN_F_PAYLOAD_TEXT 2u

/* Does the struct behind p (with its size member) have member m? */
#define AB_PLUGIN_HAS(p, m) \
	((p)->size >= offsetof(struct ab_plugin, m) + sizeof(((struct ab_plugin *)0)->m))
#define AB_HOST_HAS(h, m) \
	((h)->size >= offsetof(struct ab_host, m) + sizeof(((struct ab_host *)0)->m))
/* The size of the ABI 1.0 / 1.1 struct ab_plugin: the least a host accepts. */
#define AB_PLUGIN_MIN_SIZE offsetof(struct ab_plugin, default_rate)

typedef const struct ab_plugin *(*ab_plugin_entry_fn)(void);

/* Helper for plugins: fill a result. */
static inline void ab_result_set(struct ab_result *r, enum ab_status st, int code,
	const char *msg)
{
	size_t i = 0;
	r->status = st;
	r->code = code;
	r->retry_after = 0;
	if (msg)
		for (; msg[i] && i + 1 < sizeof r->message; i++)
			r->message[i] = msg[i];
	r->message[i] = '\0';
}

#ifdef __cplusplus
}
#endif
#endif /* ALERTBRIDGE_PLUGIN_H */
