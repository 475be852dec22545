/*
 * cli_people.c - the directory commands of alertbridge(1):
 *
 *   users [--json] [--team NAME]   the users of the configuration: name,
 *                                  display name, e-mail, teams, roles
 *
 * Public: ab_cli_users (cli.h), ab_cli_users_notes (for check).
 * Diagnostics: stderr; EX_USAGE for bad arguments, EX_CONFIG for a
 * configuration that does not load.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include <jansson.h>

#include "cli/cli.h"
#include "config/config.h"

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
