/*
 * alertbridge.c - the operator's tool: global options, the command table
 * and its help.  Each command's handler lives in the module of its area
 * (cli.h); a verb with several forms (send --lines, parse --syslog, log
 * --channels) picks the form here, from its own arguments.
 *
 *   alertbridge [-c FILE] [-P PLUGIN_DIR] COMMAND ...    (alertbridge help)
 *
 * Exit codes follow sysexits.h; every error says what to do.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "lib/log.h"
#include "lib/util.h"
#include "config/config.h"
#include "net/http.h"
#include "deliver/plugin.h"
#include "deliver/runtime.h"
#include "cli/cli.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG SYSCONFDIR "/alertbridge/alertbridge.conf"

/* One form of a command and what it does. */
struct usage {
	const char *synopsis;   /* after "alertbridge " */
	const char *what;
};

struct command {
	const char *name;
	ab_cli_fn *run;
	struct usage usage[4];   /* ends at a NULL synopsis */
};

static void check_note(void *arg, bool warning, const char *line)
{
	(void)arg;
	fprintf(stderr, "%s: %s\n", warning ? "warning" : "note", line);
}

/* check: every error of the file, of the plugins' settings and of the URLs
 * in one run (a file with errors is still read for its channels). */
static int cmd_check(int argc, char **argv, const struct ab_cli *cli)
{
	char *errors = NULL, *chan_errors = NULL, *warnings = NULL;
	struct ab_config *cfg;
	struct ab_runtime *rt;
	size_t nr, nd;
	bool bad;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: alertbridge [-c FILE] check\n");
		return EX_USAGE;
	}
	cfg = ab_config_load_partial(cli->conf_path, &errors);
	bad = errors != NULL;
	if (errors)
		fputs(errors, stderr);
	free(errors);
	if (!cfg)
		return EX_CONFIG;
	nr = cfg->n_rules;
	if (!bad && ab_mkdir_p(cfg->state_dir, 0750) < 0)
		fprintf(stderr, "alertbridge: warning: state_dir %s: %s\n", cfg->state_dir,
			strerror(errno));
	/* disabled channels too: their settings are checked like any other */
	ab_http_global_init();
	rt = ab_runtime_build_ex(cfg, cli->plugin_dir, AB_RT_WITH_DISABLED, &chan_errors,
				 &warnings);
	ab_http_thread_cleanup();
	if (warnings)
		fputs(warnings, stderr);
	free(warnings);
	if (!rt || bad) {
		if (chan_errors)
			fputs(chan_errors, stderr);
		free(chan_errors);
		ab_runtime_unref(rt);
		return EX_CONFIG;
	}
	ab_channels_notes(rt->cfg, check_note, NULL);
	ab_cli_users_notes(rt->cfg, stderr);
	nd = 0;
	for (size_t i = 0; i < rt->cfg->n_channels; i++)
		nd += !rt->cfg->channels[i].enabled;
	printf("%s: OK: %zu channel(s)", cli->conf_path, rt->n_channels);
	if (nd)
		printf(" (%zu disabled)", nd);
	printf(", %zu rule(s), %zu default channel(s)", nr, rt->cfg->n_default);
	if (rt->cfg->n_users)
		printf(", %zu user(s)", rt->cfg->n_users);
	putchar('\n');
	ab_runtime_unref(rt);
	return 0;
}

/* True if one of argv[1..argc) is opt. */
static bool has_arg(int argc, char **argv, const char *opt)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], opt))
			return true;
	return false;
}

static int cmd_send(int argc, char **argv, const struct ab_cli *cli)
{
	return has_arg(argc, argv, "--lines") ? ab_cli_send_lines(argc, argv, cli) :
		ab_cli_mail(argc, argv, cli);
}

/* parse and explain: of a syslog line, or of a mail / event JSON. */
static int cmd_parse_explain(int argc, char **argv, const struct ab_cli *cli)
{
	return has_arg(argc, argv, "--syslog") || has_arg(argc, argv, "--syslog-file") ?
		ab_cli_syslog(argc, argv, cli) : ab_cli_mail(argc, argv, cli);
}

static int cmd_log(int argc, char **argv, const struct ab_cli *cli)
{
	return has_arg(argc, argv, "--channels") ? ab_cli_health(argc, argv, cli) :
		ab_cli_log(argc, argv, cli);
}

static int cmd_help(int argc, char **argv, const struct ab_cli *cli);

static const struct command commands[] = {
	{ "check", cmd_check, {
		{ "check", "validate the configuration, load every plugin" } } },
	{ "send", cmd_send, {
		{ "send [--source NAME] [ENVELOPE] MAIL.eml|EVENT.json|-",
		  "take a mail as the milter does (or an event), route and enqueue it" },
		{ "send --lines FILE|-", "enqueue one event JSON per line in one commit" } } },
	{ "explain", cmd_parse_explain, {
		{ "explain [--at TIME] [--source NAME] [--profile NAME] [ENVELOPE] "
		  "MAIL.eml|EVENT.json|-",
		  "the event, its rules, throttle/group state and deliveries; sends nothing" },
		{ "explain --syslog 'LINE' [--listener NAME] [--host PEER]",
		  "the same for a syslog line (source, profile, routing)" } } },
	{ "parse", cmd_parse_explain, {
		{ "parse [--source NAME] [--profile NAME] [ENVELOPE] MAIL.eml|-",
		  "a mail -> event JSON; stderr: which profile recognized it and why" },
		{ "parse --syslog 'LINE' | --syslog-file FILE|- [--profile NAME]",
		  "syslog line(s) -> event JSON, one per line" } } },
	{ "profiles", ab_cli_profiles, {
		{ "profiles", "profiles, their tools, the detection order" } } },
	{ "syslog", ab_cli_syslog, {
		{ "syslog status [--json]", "syslog listener counters (received, drops, ...)" } } },
	{ "status", ab_cli_status, {
		{ "status [--json]", "store size, free disk against min_free_mb, job counts" } } },
	{ "queue", ab_cli_queue, {
		{ "queue list [--dead|--all]", "list jobs" },
		{ "queue retry ID | --dead", "make a job, or every dead letter, due now" },
		{ "queue drop ID", "delete a job" } } },
	{ "log", cmd_log, {
		{ "log [--channel NAME] [--json] [-n N]", "delivery log, newest first" },
		{ "log --channels [--json]", "channel health (healthy, failing, disabled)" } } },
	{ "inbox", ab_cli_inbox, {
		{ "inbox [--channel NAME] [--user NAME] list [--unread] [--json] | unread | "
		  "read ID | remove ID... | clear | owners",
		  "the inbox channel's alerts: the shared list or a user's own" } } },
	{ "users", ab_cli_users, {
		{ "users [--json] [--team NAME]", "the people of the configuration: e-mail, "
		  "teams, roles" } } },
	{ "prefs", ab_cli_prefs, {
		{ "prefs USER [list] [--json]", "a user's preferences and the system override" },
		{ "prefs USER set TYPE KIND on|off",
		  "TYPE an event type or glob, KIND email|inbox|chat|*; no reload needed" },
		{ "prefs USER unset TYPE [KIND] | reset", "remove one, or all of the user's" } } },
	{ "user", ab_cli_user, {
		{ "user passwd NAME", "set NAME's console password (stdin, or asked on a tty)" },
		{ "user nopasswd NAME", "remove it: no console sign-in" } } },
	{ "test", ab_cli_test, {
		{ "test CHANNEL [--json]", "send a test message through a channel" } } },
	{ "secret", ab_cli_secret, {
		{ "secret keygen FILE | encrypt [-k KEYFILE] [VALUE|-]",
		  "make a key file; print enc:v1:... for a secret" } } },
	{ "help", cmd_help, {
		{ "help [COMMAND]", "this help, or one command's" } } },
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void print_command(FILE *f, const struct command *c)
{
	for (const struct usage *u = c->usage; u < c->usage + 4 && u->synopsis; u++) {
		if (strlen(u->synopsis) <= 30)
			fprintf(f, "  %-30s %s\n", u->synopsis, u->what);
		else
			fprintf(f, "  %s\n  %-30s %s\n", u->synopsis, "", u->what);
	}
}

/* The usage of every command, or of c only. */
static void usage_of(FILE *f, const struct command *c)
{
	fprintf(f, "usage: alertbridge [-c FILE] [-P PLUGIN_DIR] COMMAND ...\n"
		"       alertbridge -h|--help | -V|--version | COMMAND -h|--help\n");
	if (c) {
		print_command(f, c);
	} else {
		for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
			print_command(f, &commands[i]);
		fputs("ENVELOPE: [--client ADDR] [--sender ADDR] [--rcpt ADDR]... as the MTA "
		      "gives them to the milter\n"
		      "options:\n"
		      "  -c, --config FILE      configuration (default " DEFAULT_CONFIG ")\n"
		      "  -P, --plugin-dir DIR   load plugins from DIR (overrides 'plugin_dir')\n", f);
	}
	fputs("exit: 0 ok, 64 usage, 65 bad input, 69 unavailable, 75 try again, 78 config\n"
	      "settings: alertbridge.conf(5); commands: alertbridge(1)\n", f);
}

static int cmd_help(int argc, char **argv, const struct ab_cli *cli)
{
	(void)cli;
	usage_of(stdout, argc > 1 ? find_command(argv[1]) : NULL);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "plugin-dir", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ab_cli cli = { DEFAULT_CONFIG, NULL };
	const struct command *c;
	int opt;

	ab_log_init("alertbridge", false, AB_LOG_WARNING);
	while ((opt = getopt_long(argc, argv, "+c:P:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': cli.conf_path = optarg; break;
		case 'P': cli.plugin_dir = optarg; break;
		case 'V': printf("alertbridge %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage_of(stdout, NULL); return 0;
		default: usage_of(stderr, NULL); return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage_of(stderr, NULL);
		return EX_USAGE;
	}
	if (!(c = find_command(argv[0]))) {
		fprintf(stderr, "alertbridge: unknown command '%s'\n", argv[0]);
		usage_of(stderr, NULL);
		return EX_USAGE;
	}
	/* COMMAND -h / --help anywhere among its arguments: that command's usage
	 * (never a file or a value named "--help") */
	if (has_arg(argc, argv, "-h") || has_arg(argc, argv, "--help")) {
		usage_of(stdout, c);
		return 0;
	}
	return c->run(argc, argv, &cli);
}
