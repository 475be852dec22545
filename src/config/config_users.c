/*
 * config_users.c - reads and checks the "users" section (config_users.h):
 * names, e-mail addresses, display names, teams and roles, and answers the
 * directory questions routing and the CLI ask (find a user, team
 * membership, roles, what a user may see).
 *
 * Public (config_users.h): ab_conf_users, ab_conf_users_free, ab_users_find,
 * ab_user_in_team, ab_user_has_role, ab_user_sees.
 *
 * Diagnostics, all "FILE:LINE: user 'NAME': ...": a missing or malformed
 * name, a duplicate name (with where the first one is), an address that is
 * not one mailbox (user@domain, no spaces or control characters, at most
 * 254 characters), a bad team name or role word, more than MAX_USERS.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_users.h"
#include "lib/util.h"

#define MAX_USERS 10000
#define MAX_EMAIL 254
#define MAX_ROLE 32
#define SHOW 96

#define UOFF(m) offsetof(struct ab_user_conf, m)
#define AT(dst, off, type) ((type *)(void *)((char *)(dst) + (off)))

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > AB_USER_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._@+-", *s))
			return false;
	return true;
}

/* One mailbox: local@domain, printable ASCII or UTF-8, no spaces, no
 * brackets or commas (a list or a display name is not an address). */
static bool email_ok(const char *s)
{
	const char *at = strchr(s, '@');
	size_t n = strlen(s);

	if (n < 3 || n > MAX_EMAIL || !at || at == s || !at[1] || strchr(at + 1, '@'))
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f || strchr("<>,;\"()[]\\", *s))
			return false;
	return true;
}

static bool role_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MAX_ROLE)
		return false;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && !strchr("_-", *s))
			return false;
	return true;
}

static void h_email(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	const char *v = config_setting_get_string(s);
	char sh[SHOW];

	if (!email_ok(v)) {
		ab_conf_err(c, s, "%ssetting 'email' must be one address such as "
			"\"alice@example.com\" (got '%s')", c->prefix, ab_conf_show(v, sh, sizeof sh));
		return;
	}
	*AT(dst, f->off, char *) = ab_conf_strdup(c, v);
}

static bool team_ok(const char *s)
{
	return ab_conf_text_ok(s, 65) && !strchr(s, '/');
}

/* A string list (ab_conf_h_strings) whose every element must pass ok();
 * each one that does not is an error "PREFIXWHAT 'VALUE' must be RULE". */
static void strings_each(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst, bool (*ok)(const char *), const char *what,
	const char *rule)
{
	char sh[SHOW];

	ab_conf_h_strings(c, s, f, dst);
	char **v = *AT(dst, f->off, char **);
	size_t n = *AT(dst, f->off_n, size_t);

	for (size_t i = 0; v && i < n; i++)
		if (!ok(v[i]))
			ab_conf_err(c, config_setting_get_elem(s, (unsigned)i), "%s%s '%s' must be %s",
				c->prefix, what, ab_conf_show(v[i], sh, sizeof sh), rule);
}

static void h_roles(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	strings_each(c, s, f, dst, role_ok, "role", "a lower-case word (a-z, 0-9, '_', '-'; "
		"at most 32 characters) such as \"lead\", \"member\" or \"admin\"");
}

static void h_teams(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	strings_each(c, s, f, dst, team_ok, "team", "1 to 64 characters, no '/'");
}

static void h_display(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	const char *v = config_setting_get_string(s);

	if (!ab_conf_text_ok(v, 129)) {
		ab_conf_err(c, s, "%ssetting 'display_name' must be 1 to 128 characters without "
			"control characters", c->prefix);
		return;
	}
	*AT(dst, f->off, char *) = ab_conf_strdup(c, v);
}

static void h_taken(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	(void)c;
	(void)s;
	(void)f;
	(void)dst;  /* taken in do_user() */
}

static const struct ab_conf_field user_fields[] = {
	{ "name", AB_CONF_T_STRING, true, h_taken, 0, 0, 0, 0 },
	{ "email", AB_CONF_T_STRING, false, h_email, UOFF(email), 0, 0, 0 },
	{ "display_name", AB_CONF_T_STRING, false, h_display, UOFF(display_name), 0, 0, 0 },
	{ "teams", AB_CONF_T_STRINGS, false, h_teams, UOFF(teams), UOFF(n_teams), 0, 0 },
	{ "roles", AB_CONF_T_STRINGS, false, h_roles, UOFF(roles), UOFF(n_roles), 0, 0 },
};
AB_CONF_TABLE_FITS(user_fields);

struct ulist {
	struct ab_user_conf *users;
	size_t *n;
	const config_setting_t **defs;
};

static void do_user(struct ab_conf_ctx *c, const config_setting_t *g, int idx,
	const char *label, void *arg)
{
	struct ulist *ul = arg;
	struct ab_user_conf *u = &ul->users[*ul->n];
	const char *nm = NULL;
	char file[PATH_MAX], what[AB_USER_NAME_MAX + 16], sh[SHOW];

	(void)label;
	if (!config_setting_lookup_string(g, "name", &nm) || !name_ok(nm)) {
		ab_conf_err(c, g, "users: entry %d needs name = \"...\" (1 to %d characters: "
			"letters, digits, '.', '_', '@', '+', '-')%s%s%s", idx + 1, AB_USER_NAME_MAX,
			nm ? ", got '" : "", nm ? ab_conf_show(nm, sh, sizeof sh) : "", nm ? "'" : "");
		return;
	}
	for (size_t k = 0; k < *ul->n; k++) {
		if (!strcmp(ul->users[k].name, nm)) {
			char first[PATH_MAX + 16];

			ab_conf_place(c, ul->defs[k], first, sizeof first);
			ab_conf_err(c, g, "duplicate user name '%s' (first defined at %s)", nm, first);
			return;
		}
	}
	u->name = ab_conf_strdup(c, nm);
	ab_conf_src_file(c, config_setting_source_file(g), file, sizeof file);
	u->file = ab_conf_strdup(c, file);
	u->line = config_setting_source_line(g);
	snprintf(what, sizeof what, "user '%s'", nm);
	snprintf(c->prefix, sizeof c->prefix, "%s: ", what);
	ab_conf_check_group(c, g, user_fields, sizeof user_fields / sizeof user_fields[0], what,
		u, NULL);
	c->prefix[0] = '\0';
	u->admin = ab_user_has_role(u, AB_USER_ROLE_ADMIN);
	ul->defs[*ul->n] = g;
	(*ul->n)++;
}

void ab_conf_users(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	static const struct ab_conf_list list = {
		"users", "{ name = \"...\"; email = \"...\"; teams = [...]; roles = [...]; }",
		NULL, NULL,
	};
	struct ab_user_conf **users = AT(dst, f->off, struct ab_user_conf *);
	size_t *n = AT(dst, f->off_n, size_t);
	int len = config_setting_length(s);
	struct ulist ul = { NULL, n, NULL };

	if (len > MAX_USERS) {
		ab_conf_err(c, s, "setting 'users' has %d users (at most %d)", len, MAX_USERS);
		return;
	}
	if (len == 0)
		return;
	*users = ab_conf_calloc(c, (size_t)len, sizeof **users);
	ul.defs = ab_conf_calloc(c, (size_t)len, sizeof *ul.defs);
	if (*users && ul.defs) {
		ul.users = *users;
		ab_conf_each_group(c, s, &list, do_user, &ul);
	}
	free(ul.defs);
}

void ab_conf_users_free(struct ab_user_conf *users, size_t n)
{
	for (size_t i = 0; users && i < n; i++) {
		struct ab_user_conf *u = &users[i];

		free(u->name);
		free(u->email);
		free(u->display_name);
		ab_conf_strv_free(u->teams, u->n_teams);
		ab_conf_strv_free(u->roles, u->n_roles);
		free(u->file);
	}
	free(users);
}

const struct ab_user_conf *ab_users_find(const struct ab_user_conf *users, size_t n,
	const char *name)
{
	for (size_t i = 0; name && i < n; i++)
		if (!strcmp(users[i].name, name))
			return &users[i];
	return NULL;
}

bool ab_user_in_team(const struct ab_user_conf *u, const char *team)
{
	for (size_t i = 0; team && i < u->n_teams; i++)
		if (!strcmp(u->teams[i], team))
			return true;
	return false;
}

bool ab_user_has_role(const struct ab_user_conf *u, const char *role)
{
	for (size_t i = 0; role && i < u->n_roles; i++)
		if (!strcasecmp(u->roles[i], role))
			return true;
	return false;
}

bool ab_user_sees(const struct ab_user_conf *u, const char *team)
{
	return u->admin || (team && *team && ab_user_in_team(u, team));
}

/* ------------------------------------------------------------ recipients, people */

static const char *const via_names[AB_VIA_COUNT] = { "email", "inbox", "chat" };

const char *ab_via_name(enum ab_via v)
{
	return (unsigned)v < AB_VIA_COUNT ? via_names[v] : "?";
}

int ab_via_find(const char *name)
{
	for (int i = 0; name && i < AB_VIA_COUNT; i++)
		if (!strcmp(via_names[i], name))
			return i;
	return -1;
}

static bool via_ok(const char *s)
{
	return ab_via_find(s) >= 0;
}

static bool role_or_all_ok(const char *s)
{
	return !strcasecmp(s, "all") || role_ok(s);
}

static bool user_name_ok(const char *s)
{
	return name_ok(s);
}

#define ROFF(m) offsetof(struct ab_recipients_conf, m)

static void h_rc_roles(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	strings_each(c, s, f, dst, role_or_all_ok, "role", "\"all\" or a lower-case word "
		"(a-z, 0-9, '_', '-') such as \"lead\"");
}

static void h_rc_users(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	strings_each(c, s, f, dst, user_name_ok, "user", "a user's name");
}

/* via's words, read as a string list, then kept as a bitmask. */
struct strv {
	char **v;
	size_t n;
};

static void h_rc_via(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	struct ab_recipients_conf *r = dst;
	struct ab_conf_field g = *f;
	struct strv words = { NULL, 0 };

	g.off = offsetof(struct strv, v);
	g.off_n = offsetof(struct strv, n);
	strings_each(c, s, &g, &words, via_ok, "via", "\"email\", \"inbox\" or \"chat\"");
	for (size_t i = 0; i < words.n; i++) {
		int k = ab_via_find(words.v[i]);

		if (k >= 0)
			r->via |= 1u << k;
	}
	ab_conf_strv_free(words.v, words.n);
}

static const struct ab_conf_field recipients_fields[] = {
	{ "teams", AB_CONF_T_STRINGS, false, h_teams, ROFF(teams), ROFF(n_teams), 0, 0 },
	{ "roles", AB_CONF_T_STRINGS, false, h_rc_roles, ROFF(roles), ROFF(n_roles), 0, 0 },
	{ "users", AB_CONF_T_STRINGS, false, h_rc_users, ROFF(users), ROFF(n_users), 0, 0 },
	{ "via", AB_CONF_T_STRINGS, true, h_rc_via, 0, 0, 0, 0 },
};
AB_CONF_TABLE_FITS(recipients_fields);

void ab_conf_recipients(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	struct ab_recipients_conf *r = ab_conf_calloc(c, 1, sizeof *r);
	char file[PATH_MAX];

	if (!r)
		return;
	ab_conf_check_group(c, s, recipients_fields,
		sizeof recipients_fields / sizeof recipients_fields[0], "recipients", r, NULL);
	r->all_roles = r->n_roles == 0;
	for (size_t i = 0; i < r->n_roles; i++)
		if (!strcasecmp(r->roles[i], "all"))
			r->all_roles = true;
	ab_conf_src_file(c, config_setting_source_file(s), file, sizeof file);
	r->file = ab_conf_strdup(c, file);
	r->line = config_setting_source_line(s);
	if (config_setting_get_member(s, "via") && !r->via)
		ab_conf_err(c, s, "%srecipients: via needs at least one of \"email\", \"inbox\", "
			"\"chat\"", c->prefix);
	*AT(dst, f->off, struct ab_recipients_conf *) = r;
}

void ab_conf_recipients_free(struct ab_recipients_conf *r)
{
	if (!r)
		return;
	ab_conf_strv_free(r->teams, r->n_teams);
	ab_conf_strv_free(r->roles, r->n_roles);
	ab_conf_strv_free(r->users, r->n_users);
	free(r->file);
	free(r);
}

#define POFF(m) offsetof(struct ab_people_conf, m)

static void h_pp_mode(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	const char *v = config_setting_get_string(s);
	char sh[SHOW];

	(void)f;
	if (!strcmp(v, "each") || !strcmp(v, "together")) {
		((struct ab_people_conf *)dst)->together = !strcmp(v, "together");
		return;
	}
	ab_conf_err(c, s, "people: email_mode must be \"each\" (one message per person) or "
		"\"together\" (one message to all), got '%s'", ab_conf_show(v, sh, sizeof sh));
}

static void h_pp_channel(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	ab_conf_h_string(c, s, f, dst);
	if (ab_conf_add_ref(c, s, "people") < 0)
		c->oom = true;
}

static const struct ab_conf_field people_fields[] = {
	{ "email", AB_CONF_T_STRING, false, h_pp_channel, POFF(channel[AB_VIA_EMAIL]), 0, 0, 0 },
	{ "inbox", AB_CONF_T_STRING, false, h_pp_channel, POFF(channel[AB_VIA_INBOX]), 0, 0, 0 },
	{ "chat", AB_CONF_T_STRING, false, h_pp_channel, POFF(channel[AB_VIA_CHAT]), 0, 0, 0 },
	{ "email_mode", AB_CONF_T_STRING, false, h_pp_mode, 0, 0, 0, 0 },
	{ "system_override", AB_CONF_T_STRINGS, false, ab_conf_h_globs, POFF(system_override),
	  POFF(n_override), 0, 0 },
};
AB_CONF_TABLE_FITS(people_fields);

/* system_override's default list into p. */
static void default_override(struct ab_conf_ctx *c, struct ab_people_conf *p)
{
	static const char *const defaults[] = AB_PEOPLE_OVERRIDE_DEFAULT;
	size_t n = sizeof defaults / sizeof defaults[0];

	p->system_override = ab_conf_calloc(c, n, sizeof *p->system_override);
	for (size_t i = 0; p->system_override && i < n; i++)
		if ((p->system_override[i] = ab_conf_strdup(c, defaults[i])))
			p->n_override = i + 1;
}

struct ab_people_conf *ab_people_default(struct ab_conf_ctx *c, const char *inbox,
	const char *file, int line)
{
	struct ab_people_conf *p = ab_conf_calloc(c, 1, sizeof *p);

	if (!p)
		return NULL;
	p->channel[AB_VIA_INBOX] = ab_conf_strdup(c, inbox);
	p->file = ab_conf_strdup(c, file);
	p->line = line;
	default_override(c, p);
	return p;
}

void ab_conf_people(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	struct ab_people_conf *p = ab_conf_calloc(c, 1, sizeof *p);
	char file[PATH_MAX];

	if (!p)
		return;
	ab_conf_check_group(c, s, people_fields, sizeof people_fields / sizeof people_fields[0],
		"people", p, NULL);
	if (!config_setting_get_member(s, "system_override"))
		default_override(c, p);
	ab_conf_src_file(c, config_setting_source_file(s), file, sizeof file);
	p->file = ab_conf_strdup(c, file);
	p->line = config_setting_source_line(s);
	*AT(dst, f->off, struct ab_people_conf *) = p;
}

void ab_conf_people_free(struct ab_people_conf *p)
{
	if (!p)
		return;
	for (int k = 0; k < AB_VIA_COUNT; k++)
		free(p->channel[k]);
	ab_conf_strv_free(p->system_override, p->n_override);
	free(p->file);
	free(p);
}

void ab_conf_people_check(struct ab_conf_ctx *c, const struct ab_people_conf *people,
	const struct ab_recipients_conf *r, const char *rule, const struct ab_user_conf *users,
	size_t n_users)
{
	for (int k = 0; k < AB_VIA_COUNT; k++)
		if ((r->via & (1u << k)) && !(people && people->channel[k]))
			ab_conf_err_at(c, r->file, r->line, "%s: recipients: via \"%s\" needs "
				"people = { %s = \"CHANNEL\"; } naming the channel that %s", rule,
				via_names[k], via_names[k], k == AB_VIA_EMAIL ? "e-mails people" :
				k == AB_VIA_INBOX ? "keeps the personal alert lists (an inbox "
				"channel)" : "messages people");
	for (size_t i = 0; i < r->n_users; i++)
		if (!ab_users_find(users, n_users, r->users[i]))
			ab_conf_err_at(c, r->file, r->line, "%s: recipients: unknown user '%s' "
				"(%s)", rule, r->users[i], n_users ? "not in the users section" :
				"no users are defined");
	if (!n_users)
		ab_conf_err_at(c, r->file, r->line, "%s: recipients: no users are defined (add a "
			"users section)", rule);
}
