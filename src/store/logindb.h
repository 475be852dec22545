/*
 * logindb.h - the web console's local accounts in the store (schema
 * version 5): one password hash (lib/passwd.h, Argon2id) per user name of
 * the users section, set with `alertbridge user passwd NAME`.
 */
#ifndef AB_LOGINDB_H
#define AB_LOGINDB_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* Set (or replace) user's hash.  0 or -1. */
int ab_login_set(struct ab_store *s, const char *user, const char *hash, int64_t now);
/* user's hash into hash: 1 found, 0 none, -1 error. */
int ab_login_get(struct ab_store *s, const char *user, char *hash, size_t hashsz);
/* Remove user's password: 1 removed, 0 there was none, -1 error. */
int ab_login_delete(struct ab_store *s, const char *user);

#endif
