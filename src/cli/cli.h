/*
 * cli.h - subcommands of `alertbridge` that live in their own modules
 * (src/cli_<area>.c); alertbridge.c's main() dispatches to them.
 */
#ifndef AB_CLI_H
#define AB_CLI_H

#include <stdbool.h>

/* cli_syslog.c: `parse --syslog LINE`, `parse --syslog-file FILE`,
 * `explain --syslog LINE`, `syslog status [--json]`.  wants() says whether
 * argv (argv[0] = the command) is one of these. */
bool ab_cli_syslog_wants(int argc, char **argv);
int ab_cli_syslog(int argc, char **argv, const char *conf_path, const char *plugin_dir);

/* cli_channels.c: `test CHANNEL [--json]`, `log --channels [--json]`,
 * `secret keygen FILE | encrypt [-k KEYFILE] [VALUE|-]`. */
bool ab_cli_channels_wants(int argc, char **argv);
int ab_cli_channels(int argc, char **argv, const char *conf_path, const char *plugin_dir);

/* cli_mail.c: `parse [--source NAME] MAIL.eml|-`, and `send`/`explain` of
 * any input (a mail or event JSON, a file or standard input; explain:
 * every rule with match / first reason, throttle and group state, final
 * deliveries, a dry run against the store). */
bool ab_cli_mail_wants(int argc, char **argv);
int ab_cli_mail(int argc, char **argv, const char *conf_path, const char *plugin_dir);
/* profiles: the profiles and the detection order (cli_mail.c). */
int ab_cli_profiles(int argc, char **argv, const char *conf_path);

/* cli_route.c: `send --lines FILE|-` (one event JSON per line, committed
 * together). */
bool ab_cli_route_wants(int argc, char **argv);
int ab_cli_route(int argc, char **argv, const char *conf_path, const char *plugin_dir);
/* The configuration, its errors on stderr (NULL then). */
struct ab_config *ab_cli_load_config(const char *conf_path);
/* The store of cfg opened for a command (state_dir made first); NULL after
 * a message on stderr. */
struct ab_config;
struct ab_store *ab_cli_open_store(const struct ab_config *cfg);

#endif
