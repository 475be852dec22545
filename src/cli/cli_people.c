/*
 * cli_people.c - the people commands of alertbridge(1):
 *
 *   users [--json] [--team NAME]   the users of the configuration: name,
 *                                  display name, e-mail, teams, roles
 *   prefs USER [list] [--json]     a user's preferences, and what
 *                                  people.system_override keeps on
 *   prefs USER set TYPE KIND on|off   TYPE an event type or glob, KIND
 *                                  email, inbox, chat or "*"; takes effect
 *                                  with the next event (no reload)
 *   prefs USER unset TYPE [KIND]   remove one (or every kind of TYPE)
 *   prefs USER reset               remove all of the user's preferences
 *   user passwd NAME               set the console password (standard input,
 *                                  or asked twice on a terminal; Argon2id)
 *   user nopasswd NAME             remove it: no console sign-in
 *
 * Public: ab_cli_users, ab_cli_prefs, ab_cli_user (cli.h), ab_cli_users_notes (for
 * check).
 * Diagnostics: stderr; EX_USAGE for bad arguments, EX_CONFIG for a
 * configuration that does not load.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <termios.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "config/config.h"
#include "lib/passwd.h"
#include "lib/util.h"
#include "store/logindb.h"
#include "store/prefsdb.h"
#include "store/store.h"

static json_t *strv(char **v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static void print_list(char **v, size_t n)
{
	if (n == 0)
		fputs("-", stdout);
	for (size_t i = 0; i < n; i++)
		printf("%s%s", i ? "," : "", v[i]);
}

int ab_cli_users(int argc, char **argv, const struct ab_cli *cli)
{
	const char *team = NULL;
	bool json = false;
	struct ab_config *cfg;
	size_t shown = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--team") && i + 1 < argc)
			team = argv[++i];
		else {
			fprintf(stderr, "usage: alertbridge [-c FILE] users [--json] [--team NAME]\n");
			return EX_USAGE;
		}
	}
	if (!(cfg = ab_cli_load_config(cli->conf_path)))
		return EX_CONFIG;
	for (size_t i = 0; i < cfg->n_users; i++) {
		const struct ab_user_conf *u = &cfg->users[i];

		if (team && !ab_user_in_team(u, team))
			continue;
		shown++;
		if (json) {
			ab_cli_print_json_line(json_pack("{s:s,s:s?,s:s?,s:o,s:o,s:b}", "name", u->name,
				"email", u->email, "display_name", u->display_name,
				"teams", strv(u->teams, u->n_teams), "roles", strv(u->roles, u->n_roles),
				"admin", u->admin));
			continue;
		}
		printf("%-16s %-24s %-32s teams ", u->name, u->display_name ? u->display_name :
			u->name, u->email ? u->email : "(no e-mail)");
		print_list(u->teams, u->n_teams);
		fputs("  roles ", stdout);
		print_list(u->roles, u->n_roles);
		fputc('\n', stdout);
	}
	if (!json && shown == 0)
		printf("no users%s%s (add a users = ( ... ) section: alertbridge.conf(5))\n",
			team ? " on team " : "", team ? team : "");
	ab_config_free(cfg);
	return 0;
}

void ab_cli_users_notes(const struct ab_config *cfg, FILE *out)
{
	for (size_t i = 0; i < cfg->n_users; i++) {
		const struct ab_user_conf *u = &cfg->users[i];

		if (!u->email)
			fprintf(out, "%s:%d: note: user '%s' has no e-mail address: e-mail for "
				"them is skipped (set email = \"...\")\n", u->file, u->line, u->name);
		if (u->n_teams == 0 && !u->admin)
			fprintf(out, "%s:%d: note: user '%s' is on no team and not an admin: they "
				"see no event (set teams = [...])\n", u->file, u->line, u->name);
	}
}

/* ------------------------------------------------------------------ prefs */

#define PREFS_USAGE "usage: alertbridge [-c FILE] prefs USER [list] [--json]\n" \
	"       alertbridge [-c FILE] prefs USER set TYPE KIND on|off\n" \
	"       alertbridge [-c FILE] prefs USER unset TYPE [KIND]\n" \
	"       alertbridge [-c FILE] prefs USER reset\n" \
	"TYPE: an event type or glob (\"finding.*\"); KIND: email, inbox, chat or \"*\"\n"

static bool pattern_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > AB_PREF_PATTERN_MAX)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

static bool kind_ok(const char *k)
{
	return !strcmp(k, "*") || ab_via_find(k) >= 0;
}

static int prefs_list(struct ab_store *st, const struct ab_config *cfg, const char *user,
	bool json)
{
	const struct ab_prefs *p = ab_prefs_current(st);
	const struct ab_people_conf *pc = cfg->people;
	json_t *rows = NULL, *ov = NULL;
	size_t n = 0;

	if (!p) {
		fprintf(stderr, "alertbridge: prefs: %s\n", ab_store_errmsg(st));
		return EX_SOFTWARE;
	}
	if (json && (!(rows = json_array()) || !(ov = json_array()))) {
		json_decref(rows);
		fprintf(stderr, "alertbridge: out of memory\n");
		return EX_SOFTWARE;
	}
	for (size_t i = 0; i < p->n; i++) {
		const struct ab_pref *r = &p->rows[i];
		char at[AB_RFC3339_MAX];

		if (strcmp(r->user, user))
			continue;
		ab_time_format_rfc3339(r->set_at, at, sizeof at);
		if (json) {
			json_array_append_new(rows, json_pack("{s:s,s:s,s:b,s:s}", "type",
				r->pattern, "kind", r->kind, "on", r->on, "set_at", at));
		} else {
			if (!n)
				printf("%-32s %-6s %-4s %s\n", "TYPE", "KIND", "", "SET");
			printf("%-32s %-6s %-4s %s\n", r->pattern, r->kind, r->on ? "on" : "off", at);
		}
		n++;
	}
	for (size_t i = 0; pc && i < pc->n_override; i++)
		if (json)
			json_array_append_new(ov, json_string(pc->system_override[i]));
	if (json) {
		ab_cli_print_json_line(json_pack("{s:s,s:o,s:o}", "user", user, "preferences",
			rows, "system_override", ov));
		return 0;
	}
	if (!n)
		printf("%s has no preferences: they get what the rules send them\n", user);
	if (pc && pc->n_override) {
		fputs("kept on whatever the preference (people.system_override):", stdout);
		for (size_t i = 0; i < pc->n_override; i++)
			printf(" %s", pc->system_override[i]);
		fputc('\n', stdout);
	}
	return 0;
}

int ab_cli_prefs(int argc, char **argv, const struct ab_cli *cli)
{
	const char *user, *sub = "list";
	struct ab_config *cfg;
	struct ab_store *st;
	bool json = false, known;
	int rc = 0, na = 0;
	const char *args[5];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (na < 5)
			args[na++] = argv[i];
		else
			na = 6;
	}
	if (na >= 2)
		sub = args[1];
	/* USER [list] | USER set TYPE KIND on|off | USER unset TYPE [KIND] | USER reset */
	if (na < 1 || !((!strcmp(sub, "list") && na <= 2) || (!strcmp(sub, "set") && na == 5) ||
	    (!strcmp(sub, "unset") && (na == 3 || na == 4)) || (!strcmp(sub, "reset") &&
	    na == 2))) {
		fputs(PREFS_USAGE, stderr);
		return EX_USAGE;
	}
	if (na >= 3 && !pattern_ok(args[2])) {
		fprintf(stderr, "alertbridge: prefs: TYPE '%s' must be an event type or glob: 1 "
			"to %d characters, no spaces\n", args[2], AB_PREF_PATTERN_MAX);
		return EX_USAGE;
	}
	if (na >= 4 && !kind_ok(args[3])) {
		fprintf(stderr, "alertbridge: prefs: KIND '%s' must be email, inbox, chat or "
			"\"*\" (every kind)\n", args[3]);
		return EX_USAGE;
	}
	if (na == 5 && strcmp(args[4], "on") && strcmp(args[4], "off")) {
		fprintf(stderr, "alertbridge: prefs: '%s': say on or off\n", args[4]);
		return EX_USAGE;
	}
	user = args[0];
	if (!(cfg = ab_cli_load_config(cli->conf_path)))
		return EX_CONFIG;
	known = ab_users_find(cfg->users, cfg->n_users, user) != NULL;
	if (!known && (!strcmp(sub, "set") || !strcmp(sub, "list"))) {
		fprintf(stderr, "alertbridge: prefs: no user '%s' in the users section%s\n", user,
			cfg->n_users ? "" : " (there is none: add users = ( ... ))");
		ab_config_free(cfg);
		return EX_DATAERR;
	}
	if (!(st = ab_cli_open_store(cfg))) {
		ab_config_free(cfg);
		return EX_CANTCREAT;
	}
	if (!strcmp(sub, "list")) {
		rc = prefs_list(st, cfg, user, json);
	} else if (!strcmp(sub, "set")) {
		bool on = !strcmp(args[4], "on");

		if (ab_prefs_set(st, user, args[2], args[3], on, ab_now_ms()) < 0) {
			fprintf(stderr, "alertbridge: prefs: %s\n", ab_store_errmsg(st));
			rc = EX_TEMPFAIL;
		} else {
			printf("%s: %s by %s %s (from the next event on)\n", user, args[2], args[3],
				on ? "on" : "off");
		}
	} else if (!strcmp(sub, "unset")) {
		int n;

		if ((n = ab_prefs_unset(st, user, args[2], na == 4 ? args[3] : NULL)) < 0) {
			fprintf(stderr, "alertbridge: prefs: %s\n", ab_store_errmsg(st));
			rc = EX_TEMPFAIL;
		} else {
			printf("%s: %d preference%s removed\n", user, n, n == 1 ? "" : "s");
		}
	} else {
		int n = ab_prefs_unset(st, user, NULL, NULL);

		if (n < 0) {
			fprintf(stderr, "alertbridge: prefs: %s\n", ab_store_errmsg(st));
			rc = EX_TEMPFAIL;
		} else {
			printf("%s: %d preference%s removed: they get what the rules send them\n",
				user, n, n == 1 ? "" : "s");
		}
	}
	ab_store_close(st);
	ab_config_free(cfg);
	return rc;
}

/* ------------------------------------------------------------------ user */

/* One line of standard input without its newline, echo off on a
 * terminal (prompt on stderr then).  Its length, or -1. */
static long read_secret_line(const char *prompt, char *out, size_t outsz)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) == 1;
	size_t n;

	if (tty) {
		fputs(prompt, stderr);
		if (tcgetattr(STDIN_FILENO, &old) == 0) {
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		} else {
			tty = false;
		}
	}
	if (!fgets(out, (int)outsz, stdin))
		out[0] = '\0';
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	n = strcspn(out, "\r\n");
	if (!out[n] && n + 1 >= outsz)
		return -1;   /* longer than the buffer */
	out[n] = '\0';
	return (long)n;
}

int ab_cli_user(int argc, char **argv, const struct ab_cli *cli)
{
	char pw[AB_PASSWD_MAX + 2], again[AB_PASSWD_MAX + 2], hash[AB_PASSWD_HASH_MAX];
	char err[256];
	struct ab_config *cfg;
	struct ab_store *st;
	long n;
	int rc = 0;

	if (argc != 3 || (strcmp(argv[1], "passwd") && strcmp(argv[1], "nopasswd"))) {
		fprintf(stderr, "usage: alertbridge [-c FILE] user passwd NAME   (the password "
			"from standard input, or asked twice on a terminal)\n"
			"       alertbridge [-c FILE] user nopasswd NAME (no console sign-in)\n");
		return EX_USAGE;
	}
	if (!(cfg = ab_cli_load_config(cli->conf_path)))
		return EX_CONFIG;
	if (!strcmp(argv[1], "passwd") && !ab_users_find(cfg->users, cfg->n_users, argv[2])) {
		fprintf(stderr, "alertbridge: user: no user '%s' in the users section\n", argv[2]);
		ab_config_free(cfg);
		return EX_DATAERR;
	}
	if (!(st = ab_cli_open_store(cfg))) {
		ab_config_free(cfg);
		return EX_CANTCREAT;
	}
	if (!strcmp(argv[1], "nopasswd")) {
		int r = ab_login_delete(st, argv[2]);

		if (r < 0) {
			fprintf(stderr, "alertbridge: user: %s\n", ab_store_errmsg(st));
			rc = EX_TEMPFAIL;
		} else {
			printf("%s: %s\n", argv[2], r ? "password removed: no console sign-in" :
				"had no password");
		}
		goto done;
	}
	n = read_secret_line("New password: ", pw, sizeof pw);
	if (n >= 0 && isatty(STDIN_FILENO) == 1 &&
	    (read_secret_line("Again: ", again, sizeof again) < 0 || strcmp(pw, again))) {
		fprintf(stderr, "alertbridge: user: the passwords differ; nothing changed\n");
		rc = EX_DATAERR;
	} else if (n < AB_PASSWD_MIN) {
		fprintf(stderr, "alertbridge: user: a password needs %d to %d characters; nothing "
			"changed\n", AB_PASSWD_MIN, AB_PASSWD_MAX);
		rc = EX_DATAERR;
	} else if (ab_passwd_hash(pw, (size_t)n, hash, sizeof hash, err, sizeof err) < 0) {
		fprintf(stderr, "alertbridge: user: %s\n", err);
		rc = EX_SOFTWARE;
	} else if (ab_login_set(st, argv[2], hash, ab_now_ms()) < 0) {
		fprintf(stderr, "alertbridge: user: %s\n", ab_store_errmsg(st));
		rc = EX_TEMPFAIL;
	} else {
		printf("%s: password set (Argon2id); they can sign in to the console\n", argv[2]);
	}
	explicit_bzero(pw, sizeof pw);
	explicit_bzero(again, sizeof again);
done:
	ab_store_close(st);
	ab_config_free(cfg);
	return rc;
}
