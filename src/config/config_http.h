/*
 * config_http.h - the "http" section of alertbridge.conf, as parsed by
 * config_http.c and used by the daemon's HTTP listener (src/http/).
 *
 *   http = {
 *     listen = "127.0.0.1:9466";   # HOST:PORT, [V6]:PORT; "*:9466" = every address
 *     tls_cert = "/etc/alertbridge/http.crt";   # both or neither: HTTPS
 *     tls_key = "/etc/alertbridge/http.key";
 *     tokens = [ "env:AB_HTTP_TOKEN" ];   # bearer tokens for /api/ (secrets)
 *     max_body = 1048576;          # bytes of a request body (413 above)
 *     max_header = 8192;           # bytes of the request line and headers (431 above)
 *     max_connections = 64;        # open connections, all clients together
 *     max_connections_per_ip = 16; # open connections from one address
 *     timeout = "10s";             # a connection idle this long is closed
 *     console = { proxy_header = "X-Remote-User"; proxies = ["127.0.0.1/32"]; };
 *                                  # /ui/: sign-in by a trusted reverse proxy
 *     hooks = (                    # POST /api/v1/hooks/NAME: a tool's own webhook
 *       { name = "gitlab"; profile = "gitlab-webhook";
 *         auth = "gitlab"; secret = "env:GITLAB_HOOK_TOKEN"; },
 *       { name = "grafana"; profile = "grafana-webhook"; auth = "hmac-sha256";
 *         header = "X-Grafana-Alerting-Signature"; secret = "file:/etc/ab/grafana"; }
 *     );
 *   };
 * Hook auth: "token" (the bearer tokens above; the default), "gitlab"
 * (X-Gitlab-Token equals the secret), "header" (the named header equals
 * the secret), "hmac-sha256" (the named header holds the hex HMAC-SHA256
 * of the body under the secret, after an optional prefix such as
 * "sha256="), "standard-webhooks" (webhook-id / webhook-timestamp /
 * webhook-signature, the secret "whsec_BASE64").
 */
#ifndef AB_CONFIG_HTTP_H
#define AB_CONFIG_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define AB_HTTP_DEFAULT_LISTEN "127.0.0.1:9466"
#define AB_HTTP_DEFAULT_MAX_BODY (1024 * 1024)
#define AB_HTTP_MAX_BODY_LIMIT (64 * 1024 * 1024)
#define AB_HTTP_DEFAULT_MAX_HEADER 8192
#define AB_HTTP_DEFAULT_MAX_CONN 64
#define AB_HTTP_DEFAULT_MAX_CONN_IP 16
#define AB_HTTP_DEFAULT_TIMEOUT_MS 10000
#define AB_HTTP_MAX_TOKENS 64
#define AB_HTTP_MAX_HOOKS 64

enum ab_hook_auth {
	AB_HOOK_AUTH_TOKEN = 0,
	AB_HOOK_AUTH_GITLAB,
	AB_HOOK_AUTH_HEADER,
	AB_HOOK_AUTH_HMAC,
	AB_HOOK_AUTH_STANDARD,
};

struct ab_cidr;           /* net/cidr.h */

struct ab_http_hook {
	char *name;               /* the path's last part: [a-z0-9_-] */
	char *profile;            /* a configured profile (checked in config.c) */
	char *auth_name;          /* as written; NULL: "token" */
	enum ab_hook_auth auth;
	char *header;             /* header, hmac-sha256: the header's name */
	char *prefix;             /* hmac-sha256: before the hex digest ("sha256="); NULL: none */
	char *secret;             /* a secret reference (lib/secret.h), resolved per request */
	char *file;
	int line;
};

struct ab_http_conf {
	char *listen;             /* "host:port" (checked) */
	char *tls_cert, *tls_key; /* absolute paths, both or neither */
	char **tokens;            /* secret references (lib/secret.h), resolved at start */
	size_t n_tokens;
	int max_body;             /* bytes */
	int max_header;           /* bytes */
	int max_connections;
	int max_connections_per_ip;
	int64_t timeout_ms;       /* idle connection timeout, >= 1 s */
	struct ab_http_hook *hooks;
	size_t n_hooks;
	/* the web console (/ui/): sign-in by a trusted reverse proxy's header */
	char *proxy_header;       /* e.g. "X-Remote-User"; NULL: none */
	struct ab_cidr *proxies;  /* the proxies' addresses it is taken from */
	size_t n_proxies;
	char *file;               /* where the section is */
	int line;
};

/* For config.c's table (config_schema.h): the "http" group, stored as a
 * struct ab_http_conf pointer at dst + f->off. */
struct ab_conf_ctx;
struct ab_conf_field;
struct config_setting_t;   /* libconfig.h */
void ab_conf_http(struct ab_conf_ctx *c, const struct config_setting_t *s,
	const struct ab_conf_field *f, void *dst);
void ab_http_conf_free(struct ab_http_conf *hc);
/* The hook called name, or NULL. */
const struct ab_http_hook *ab_http_hook_find(const struct ab_http_conf *hc, const char *name);

#endif
