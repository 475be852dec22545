/*
 * config_users.h - the "users" section of alertbridge.conf (config_users.c):
 * the people alerts can go to, with their teams and roles.
 *
 *   users = ( { name = "alice"; email = "alice@example.com";
 *               display_name = "Alice Doe"; teams = ["secops"];
 *               roles = ["lead"]; }, ... );
 *
 * A user sees the events of their teams; a user with the role "admin" sees
 * every event.  Roles are free words ("lead", "member", "admin", ...) that
 * rules pick recipients by.  The list may live in its own file with
 * libconfig's @include.
 */
#ifndef AB_CONFIG_USERS_H
#define AB_CONFIG_USERS_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config_schema.h"

#define AB_USER_NAME_MAX 64
#define AB_USER_ROLE_ADMIN "admin"

struct ab_user_conf {
	char *name;          /* unique: [A-Za-z0-9._@+-], 1 to 64 characters */
	char *email;         /* NULL: none (check says so) */
	char *display_name;  /* NULL: the name */
	char **teams;        /* team names (events' "team" member) */
	size_t n_teams;
	char **roles;        /* lower-case words */
	size_t n_roles;
	bool admin;          /* "admin" is one of the roles */
	char *file;          /* where it was defined, for check and explain */
	int line;
};

/* The section handler of config.c's table: a list of user groups. */
void ab_conf_users(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst);
void ab_conf_users_free(struct ab_user_conf *users, size_t n);

/* The user called name, or NULL. */
const struct ab_user_conf *ab_users_find(const struct ab_user_conf *users, size_t n,
	const char *name);
/* Is the user on team (compared exactly)? */
bool ab_user_in_team(const struct ab_user_conf *u, const char *team);
/* Does the user have role (compared case-insensitively)? */
bool ab_user_has_role(const struct ab_user_conf *u, const char *role);
/* May the user see an event of team (NULL or "": an event of no team)?
 * Admins see all; the others the events of their teams only. */
bool ab_user_sees(const struct ab_user_conf *u, const char *team);

#endif
