/*
 * session.h - the web console's sign-in state (session.c): sessions in
 * memory (a random 256-bit id in a cookie, a CSRF token of their own, an
 * idle and an absolute lifetime; a restart signs everyone out), and the
 * sign-in throttle (failures per client address and per user name).
 */
#ifndef AB_HTTP_SESSION_H
#define AB_HTTP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AB_SESSION_TOKEN_LEN 64     /* hex characters of an id or a CSRF token */
#define AB_SESSION_USER_MAX 64
#define AB_SESSION_MAX 4096         /* sessions at once: the oldest goes first */
#define AB_SESSION_IDLE_MS (2LL * 3600 * 1000)     /* signed out after 2 h unused */
#define AB_SESSION_LIFE_MS (12LL * 3600 * 1000)    /* and after 12 h whatever */
#define AB_LOGIN_FAILS 5            /* failed sign-ins per key ... */
#define AB_LOGIN_WINDOW_MS (15LL * 60 * 1000)      /* ... in this window, then a wait */

struct ab_session {
	char id[AB_SESSION_TOKEN_LEN + 1];
	char csrf[AB_SESSION_TOKEN_LEN + 1];
	char user[AB_SESSION_USER_MAX + 1];
	bool admin;          /* the user has the role admin (set per request by the console) */
};

/* A random token: AB_SESSION_TOKEN_LEN hex characters.  0 or -1. */
int ab_session_token(char out[AB_SESSION_TOKEN_LEN + 1]);
/* Sign user in at now: a new session into *s.  0 or -1. */
int ab_session_create(const char *user, int64_t now, struct ab_session *s);
/* The session of id at now (its idle time restarts): 1 into *s, 0 none
 * (unknown, signed out or expired). */
int ab_session_find(const char *id, int64_t now, struct ab_session *s);
/* Sign out: the id is no longer valid. */
void ab_session_end(const char *id);
/* Sign every session of user out (their password changed, they were
 * removed).  The number ended. */
int ab_session_end_user(const char *user);

/* The sign-in throttle.  May key (a client address or "user:NAME") try
 * now?  0 yes; else the seconds to wait. */
int ab_login_wait(const char *key, int64_t now);
/* A failed sign-in of key at now; a success forgets key's failures. */
void ab_login_failed(const char *key, int64_t now);
void ab_login_succeeded(const char *key);
/* Tests: forget every session and failure. */
void ab_session_reset(void);

#endif
