/*
 * httpd.h - the daemon's HTTP listener (libmicrohttpd): /metrics, /healthz,
 * /readyz and the ingest API (http/routes.c), with the limits of the
 * configuration's http section (config/config_http.h) and TLS when a
 * certificate is configured.
 */
#ifndef AB_HTTPD_H
#define AB_HTTPD_H

#include <stddef.h>

#include "config/config.h"
#include "deliver/runtime.h"

struct ab_httpd;

/* Bind the listening socket, read the TLS certificate and key and resolve
 * the bearer tokens (as root, before privileges are dropped).  NULL with a
 * message in err; NULL with err[0] == '\0' when there is no http section. */
struct ab_httpd *ab_httpd_open(const struct ab_config *cfg, char *err, size_t errsz);
/* Start serving (threads of its own; they inherit the signal mask).  Takes
 * a reference on rt.  wake (may be NULL) is called after each commit.
 * 0 or -1 with a message in err. */
int ab_httpd_start(struct ab_httpd *h, struct ab_runtime *rt, const char *store_path,
	void (*wake)(void *arg), void *wake_arg, char *err, size_t errsz);
/* Reload: the new snapshot and its tokens (kept as they were, and logged,
 * when they cannot be resolved); listener settings need a restart. */
void ab_httpd_set_runtime(struct ab_httpd *h, struct ab_runtime *rt);
/* Stop: requests in progress finish (a commit is answered), then close. */
void ab_httpd_stop(struct ab_httpd *h);

#endif
