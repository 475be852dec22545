/*
 * console.h - the web console under /ui/ (console.c): GET pages and
 * static files, POST forms (sign-in, sign-out, read, remove, clear).
 */
#ifndef AB_HTTP_CONSOLE_H
#define AB_HTTP_CONSOLE_H

#include "http/router.h"

void ab_http_get_ui(struct ab_http_app *app, const struct ab_http_req *rq,
	struct ab_http_resp *rs);
void ab_http_post_ui(struct ab_http_app *app, const struct ab_http_req *rq,
	struct ab_http_resp *rs);

#endif
