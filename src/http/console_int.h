/*
 * console_int.h - what the web console's modules share (console.c: the
 * pages of every user; admin.c: the admin's pages): forms, pages in the
 * console's frame, redirects, the session, the bell.  Only src/http
 * includes it.
 */
#ifndef AB_HTTP_CONSOLE_INT_H
#define AB_HTTP_CONSOLE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "http/router.h"
#include "http/session.h"

/* The k-th (from 0) value of field name of a form body, decoded: 1, 0
 * when absent, -1 when malformed. */
int ab_ui_form_get(const char *body, const char *name, int k, char *out, size_t outsz);
/* A 303 to a path of the console. */
void ab_ui_redirect(struct ab_http_resp *rs, const char *to);
/* The console's frame: head, header with the bell (s NULL: signed out) and
 * the page's h1; then the page's own HTML into rs->body; then the end. */
void ab_ui_page_begin(struct ab_http_resp *rs, int status, const char *title,
	const struct ab_session *s, int64_t unread);
void ab_ui_page_end(struct ab_http_resp *rs);
/* A page that says one thing (escaped). */
void ab_ui_message(struct ab_http_resp *rs, int status, const char *title, const char *text,
	const struct ab_session *s);
/* The user's unread count for the bell (0 when it cannot be read). */
int64_t ab_ui_unread(struct ab_http_app *app, const char *user);

/* admin.c: GET /ui/admin and POST /ui/admin/test, /ui/admin/replay, for
 * a user with the role admin (others get 403). */
void ab_ui_admin_get(struct ab_http_app *app, const struct ab_session *s,
	const struct ab_http_req *rq, struct ab_http_resp *rs);
void ab_ui_admin_post(struct ab_http_app *app, const struct ab_session *s, const char *action,
	const struct ab_http_req *rq, struct ab_http_resp *rs);

#endif
