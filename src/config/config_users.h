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

/* The delivery kinds people get alerts by, each carried by one channel
 * (the people section), and what preferences are set per. */
enum ab_via {
	AB_VIA_EMAIL = 0,
	AB_VIA_INBOX = 1,
	AB_VIA_CHAT = 2,
	AB_VIA_COUNT
};

/* A rule's recipients = { teams; roles; users; via; }: the people it
 * reaches, besides (or instead of) its channels. */
struct ab_recipients_conf {
	char **teams;        /* their members; none: the members of the event's team
			      * (unless only users are given: then just those) */
	size_t n_teams;
	char **roles;        /* only members with one of these; none or "all": any */
	size_t n_roles;
	bool all_roles;      /* roles is empty or names "all" */
	char **users;        /* named users (the directory's names), always */
	size_t n_users;
	unsigned via;        /* bitmask of 1u << enum ab_via; never 0 */
	char *file;          /* where the recipients group is */
	int line;
};

/* The people section: which channel carries each kind, how e-mail to
 * several people goes, and the event types a preference cannot turn off. */
struct ab_people_conf {
	char *channel[AB_VIA_COUNT];   /* channel names, or NULL: that kind is not set up */
	bool together;       /* email_mode = "together": one message to all of an
			      * event's people (default "each": one per person) */
	char **system_override;        /* event type globs */
	size_t n_override;
	char *file;
	int line;
};

/* The default of system_override (DefectDojo's: mentions and review
 * requests, in our event names). */
#define AB_PEOPLE_OVERRIDE_DEFAULT { "*.mentioned", "review.requested" }

/* "email", "inbox", "chat"; and back (-1 when unknown). */
const char *ab_via_name(enum ab_via v);
int ab_via_find(const char *name);

/* Handlers for config tables: a rule's "recipients" group (stored as a
 * struct ab_recipients_conf * at dst + f->off) and the top-level "people"
 * group (a struct ab_people_conf * at dst + f->off). */
void ab_conf_recipients(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst);
void ab_conf_recipients_free(struct ab_recipients_conf *r);
void ab_conf_people(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst);
void ab_conf_people_free(struct ab_people_conf *p);
/* The people section a configuration with users but without one gets:
 * inbox the given channel (the first inbox channel), the default
 * override; file and line name the users section. */
struct ab_people_conf *ab_people_default(struct ab_conf_ctx *c, const char *inbox,
	const char *file, int line);
/* With the whole configuration read: every kind a rule's via names has its
 * people channel, every user it names is in the directory (errors at the
 * recipients group's FILE:LINE). */
void ab_conf_people_check(struct ab_conf_ctx *c, const struct ab_people_conf *people,
	const struct ab_recipients_conf *r, const char *rule, const struct ab_user_conf *users,
	size_t n_users);

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
