/*
 * routes.c - the table of the daemon's HTTP endpoints (routes.h): method,
 * path, bearer token or not, handler.  A new endpoint is one row here and
 * a handler in its own module (status.c, events.c, alertmanager.c, hooks.c,
 * console.c).
 *
 * Public: ab_http_routes, ab_http_n_routes.
 */
#include "http/alertmanager.h"
#include "http/console.h"
#include "http/events.h"
#include "http/hooks.h"
#include "http/routes.h"
#include "http/status.h"

const struct ab_http_route ab_http_routes[] = {
	{ "GET", "/metrics", false, ab_http_get_metrics },
	{ "GET", "/healthz", false, ab_http_get_healthz },
	{ "GET", "/readyz", false, ab_http_get_readyz },
	{ "POST", "/api/v1/events", true, ab_http_post_events },
	{ "POST", "/api/v1/alertmanager", true, ab_http_post_alertmanager },
	/* each hook checks its own authentication (token or the tool's scheme) */
	{ "POST", "/api/v1/hooks/", false, ab_http_post_hook },
	/* the web console: its own sign-in, sessions and CSRF tokens */
	{ "GET", "/ui/*", false, ab_http_get_ui },
	{ "POST", "/ui/*", false, ab_http_post_ui },
};
const size_t ab_http_n_routes = sizeof ab_http_routes / sizeof ab_http_routes[0];
