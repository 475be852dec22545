/*
 * cli.h - the commands of `alertbridge` and what they share.  alertbridge.c
 * holds the command table (name, handler, usage, help); each handler lives
 * in the module of its area (cli_<area>.c) and gets the global options.
 */
#ifndef AB_CLI_H
#define AB_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

struct ab_config;
struct ab_event;
struct ab_store;

/* The global options every command gets. */
struct ab_cli {
	const char *conf_path;    /* -c */
	const char *plugin_dir;   /* -P, or NULL: the configuration's plugin_dir */
};

/* A command handler: argv[0] is the command's name; returns an exit code
 * from sysexits.h. */
typedef int ab_cli_fn(int argc, char **argv, const struct ab_cli *cli);

/* cli_mail.c: parse [--source NAME] [--profile NAME] [envelope] MAIL.eml|-,
 * and send / explain of a mail or an event JSON (a file or standard input;
 * the input reader tells them apart). */
ab_cli_fn ab_cli_mail;
/* cli_mail.c: the profiles and the detection order. */
ab_cli_fn ab_cli_profiles;
/* cli_lines.c: send --lines FILE|- (one event JSON per line, batched). */
ab_cli_fn ab_cli_send_lines;
/* cli_syslog.c: parse --syslog LINE | --syslog-file FILE, explain --syslog
 * LINE, syslog status [--json]. */
ab_cli_fn ab_cli_syslog;
/* cli_channels.c: test CHANNEL, log --channels (channel health), secret. */
ab_cli_fn ab_cli_test;
ab_cli_fn ab_cli_health;
ab_cli_fn ab_cli_secret;
/* cli_store.c: queue list|retry|drop, log (the delivery log), inbox, status. */
ab_cli_fn ab_cli_queue;
ab_cli_fn ab_cli_status;
ab_cli_fn ab_cli_log;
ab_cli_fn ab_cli_inbox;
/* cli_people.c: users (the directory), prefs (a user's preferences); the notes check prints about it. */
ab_cli_fn ab_cli_users;
ab_cli_fn ab_cli_prefs;
ab_cli_fn ab_cli_user;
void ab_cli_users_notes(const struct ab_config *cfg, FILE *out);

/* ---- cli_common.c: shared by the commands ---- */

/* The configuration, its errors on stderr (NULL then). */
struct ab_config *ab_cli_load_config(const char *conf_path);
/* The same, but a missing file is no error when !required: NULL with
 * *rc = 0 (the command runs without one); *rc = EX_CONFIG on errors. */
struct ab_config *ab_cli_load_config_opt(const char *conf_path, bool required, int *rc);
/* The store of cfg opened for a command (state_dir made first); NULL after
 * a message on stderr. */
struct ab_store *ab_cli_open_store(const struct ab_config *cfg);
/* path, or standard input for "-"; NULL after a message on stderr. */
FILE *ab_cli_open_input(const char *path);
/* All of path ("-": standard input), at most max bytes, NUL-terminated
 * (*len without it); NULL after a message on stderr. */
char *ab_cli_read_input(const char *path, size_t max, size_t *len);
/* The event in canonical JSON text[0..len) (where names it in messages:
 * "FILE" or "FILE:LINE"); NULL after a message on stderr. */
struct ab_event *ab_cli_event_from_text(const char *text, size_t len, const char *where);
/* j (may be NULL; its reference is taken) as one compact line with sorted
 * keys on stdout. */
void ab_cli_print_json_line(json_t *j);
/* The event as indented JSON with sorted keys on stdout. */
void ab_cli_print_event(const struct ab_event *ev);
/* The one `send`: route and commit ev (or enqueue it for the channels a
 * recipient named, direct[0..n_direct)); its id on stdout, what happened
 * on stderr.  An exit code. */
int ab_cli_send_event(const struct ab_config *cfg, struct ab_event *ev,
		      const char *const *direct, size_t n_direct);
/* The one `explain`: the event, how it was parsed (parsing, may be NULL),
 * and the routing decision at now as a dry run in the store (rules,
 * throttle / group / digest state, deliveries).  Nothing is sent. */
int ab_cli_explain_event(const struct ab_config *cfg, struct ab_event *ev, const char *parsing,
			 const char *const *direct, size_t n_direct, int64_t now);

#endif
