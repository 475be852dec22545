/*
 * routes.h - the daemon's HTTP endpoints, one table (routes.c).
 */
#ifndef AB_HTTP_ROUTES_H
#define AB_HTTP_ROUTES_H

#include <stddef.h>

#include "http/router.h"

extern const struct ab_http_route ab_http_routes[];
extern const size_t ab_http_n_routes;

#endif
