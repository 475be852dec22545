/*
 * alertbridge.c - the operator's tool.
 *
 *   alertbridge [-c FILE] [-P PLUGIN_DIR] COMMAND ...
 *     check                       validate the config and load every plugin
 *     send FILE|-                 route and enqueue an event (canonical JSON)
 *     explain FILE|-              show how an event would be routed; sends nothing
 *     queue list [--dead|--all]   queued/running/dead jobs
 *     queue retry ID | --dead     make a job (or every dead letter) due now
 *     queue drop ID               delete a job
 *     log [--channel NAME] [--json] [-n N]   the delivery log, newest first
 *     inbox [--channel NAME] list [--unread] [--json] | read ID | remove ID... | clear
 *
 * Exit codes follow sysexits.h; every error says what to do.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "lib/buf.h"
#include "config/channels.h"
#include "cli/cli.h"
#include "config/config.h"
#include "event/event.h"
#include "store/inboxdb.h"
#include "ingest/ingest.h"
#include "lib/log.h"
#include "net/http.h"
#include "deliver/plugin.h"
#include "route/route.h"
#include "deliver/runtime.h"
#include "store/store.h"
#include "lib/util.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG SYSCONFDIR "/alertbridge/alertbridge.conf"
#define MAX_INPUT (1024 * 1024)

static const char *conf_path = DEFAULT_CONFIG;
static const char *plugin_dir;

/* Every command's synopsis: the first word names the command ("log" has two
 * lines); "alertbridge COMMAND -h" prints that command's lines. */
static const char *const usage_lines[] = {
	"check                          validate the configuration, load every plugin",
	"send FILE|-                    route and enqueue an event (canonical JSON)",
	"send --lines FILE|-            enqueue one event JSON per line in one commit",
	"send MAIL.eml                  parse an alert mail, route and enqueue its event",
	"explain [--at TIME] FILE|-     an event's rules, throttle/group state, deliveries;\n"
	"                                 sends nothing",
	"explain --syslog 'LINE'        routing of a syslog line (source, rules); sends nothing",
	"explain MAIL.eml               a mail's profile, event and routing; sends nothing",
	"parse --syslog 'LINE' | --syslog-file FILE|- [--profile NAME]   syslog line(s) -> event\n"
	"                                 JSON, one per line",
	"parse [--source NAME] [--profile NAME] MAIL.eml|-   a mail -> event JSON; stderr:\n"
	"                                 which profile recognized it and why",
	"profiles                       profiles, their tools, the detection order",
	"syslog status [--json]         syslog listener counters (received, drops, ...)",
	"queue list [--dead|--all]      list jobs",
	"queue retry ID | --dead        make a job, or every dead letter, due now",
	"queue drop ID                  delete a job",
	"log [--channel NAME] [--json] [-n N]   delivery log, newest first",
	"log --channels [--json]        channel health (healthy, failing, disabled)",
	"inbox [--channel NAME] list [--unread] [--json] | read ID | remove ID... | clear",
	"test CHANNEL [--json]          send a test message through a channel",
	"secret keygen FILE | encrypt [-k KEYFILE] [VALUE|-]   key file; print enc:v1:...",
};

/* The usage of every command, or of the one named cmd (NULL: all). */
static void usage_of(FILE *f, const char *cmd)
{
	size_t i, n = cmd ? strlen(cmd) : 0;

	fprintf(f, "usage: alertbridge [-c FILE] [-P PLUGIN_DIR] COMMAND ...\n"
		"       alertbridge -h|--help | -V|--version | COMMAND -h|--help\n");
	for (i = 0; i < sizeof usage_lines / sizeof *usage_lines; i++)
		if (!cmd || (!strncmp(usage_lines[i], cmd, n) && usage_lines[i][n] == ' '))
			fprintf(f, "  %s\n", usage_lines[i]);
	if (!cmd)
		fputs("options:\n"
		      "  -c, --config FILE      configuration (default " DEFAULT_CONFIG ")\n"
		      "  -P, --plugin-dir DIR   load plugins from DIR (overrides 'plugin_dir')\n", f);
	fputs("exit: 0 ok, 64 usage, 65 bad input, 69 unavailable, 75 try again, 78 config\n"
	      "settings: alertbridge.conf(5); commands: alertbridge(1)\n", f);
}

static void usage(FILE *f)
{
	usage_of(f, NULL);
}

/* True if cmd is a command usage_lines knows. */
static bool known_command(const char *cmd)
{
	size_t i, n = strlen(cmd);

	for (i = 0; i < sizeof usage_lines / sizeof *usage_lines; i++)
		if (!strncmp(usage_lines[i], cmd, n) && usage_lines[i][n] == ' ')
			return true;
	return false;
}

static void check_note(void *arg, bool warning, const char *line)
{
	(void)arg;
	fprintf(stderr, "%s: %s\n", warning ? "warning" : "note", line);
}

/* check: every error of the file, of the plugins' settings and of the URLs
 * in one run (a file with errors is still read for its channels). */
static int cmd_check(void)
{
	char *errors = NULL, *chan_errors = NULL, *warnings = NULL;
	struct ab_config *cfg = ab_config_load_partial(conf_path, &errors);
	struct ab_runtime *rt;
	size_t nr, nd;
	bool bad = errors != NULL;

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
	rt = ab_runtime_build_ex(cfg, plugin_dir, AB_RT_WITH_DISABLED, &chan_errors, &warnings);
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
	nd = 0;
	for (size_t i = 0; i < rt->cfg->n_channels; i++)
		nd += !rt->cfg->channels[i].enabled;
	printf("%s: OK: %zu channel(s)", conf_path, rt->n_channels);
	if (nd)
		printf(" (%zu disabled)", nd);
	printf(", %zu rule(s), %zu default channel(s)\n", nr, rt->cfg->n_default);
	ab_runtime_unref(rt);
	return 0;
}

static int print_job(const struct ab_job *j, void *arg)
{
	const struct ab_config *cfg = arg;
	char t[40];

	ab_time_format_rfc3339(j->next_at, t, sizeof t);
	printf("%-6lld %-8s %-16s %s attempts=%d next=%s%s%s%s\n", (long long)j->id,
		ab_job_state_name(j->state), j->channel, j->event_id, j->attempts, t,
		j->last_error ? " error=" : "", j->last_error ? j->last_error : "",
		j->state == AB_JOB_QUEUED && ab_channel_disabled(cfg, j->channel) ?
		" (held: channel disabled)" : "");
	return 0;
}

/* An id of a queue job (what = "job", list = "queue list") or of an inbox
 * alert (what = "alert", list = "inbox list"). */
static int parse_id_of(const char *s, int64_t *id, const char *what, const char *list)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v <= 0) {
		fprintf(stderr, "alertbridge: '%s' is not %s id: a positive number (see "
			"'alertbridge %s')\n", s, what, list);
		return -1;
	}
	*id = v;
	return 0;
}

static int parse_id(const char *s, int64_t *id)
{
	return parse_id_of(s, id, "a job", "queue list");
}

static int parse_alert_id(const char *s, int64_t *id)
{
	return parse_id_of(s, id, "an alert", "inbox list");
}

static int cmd_queue(int argc, char **argv)
{
	struct ab_config *cfg;
	struct ab_store *st;
	int rc = 0, n;
	int64_t id;

	if (argc < 2) {
		usage(stderr);
		return EX_USAGE;
	}
	if (!(cfg = ab_cli_load_config(conf_path)))
		return EX_CONFIG;
	if (!(st = ab_cli_open_store(cfg))) {
		ab_config_free(cfg);
		return EX_CANTCREAT;
	}
	if (strcmp(argv[1], "list") == 0) {
		unsigned states = 0;
		if (argc > 2 && strcmp(argv[2], "--dead") == 0)
			states = 1u << AB_JOB_DEAD;
		else if (argc > 2 && strcmp(argv[2], "--all") == 0)
			states = 0xf;
		if (ab_store_list_jobs(st, states, print_job, cfg) < 0)
			rc = EX_IOERR;
	} else if (strcmp(argv[1], "retry") == 0 && argc == 3) {
		if (strcmp(argv[2], "--dead") == 0) {
			n = ab_store_retry_dead(st, ab_now_ms());
		} else if (parse_id(argv[2], &id) == 0) {
			n = ab_store_retry(st, id, ab_now_ms());
			if (n == 0) {
				fprintf(stderr, "alertbridge: no queued or dead job %s\n", argv[2]);
				rc = EX_DATAERR;
			}
		} else {
			n = -2;
			rc = EX_USAGE;
		}
		if (n == -1) {
			fprintf(stderr, "alertbridge: %s\n", ab_store_errmsg(st));
			rc = EX_IOERR;
		} else if (n >= 0 && rc == 0) {
			printf("%d job(s) due now\n", n);
		}
	} else if (strcmp(argv[1], "drop") == 0 && argc == 3) {
		if (parse_id(argv[2], &id) < 0) {
			rc = EX_USAGE;
		} else if ((n = ab_store_drop(st, id)) < 0) {
			fprintf(stderr, "alertbridge: %s\n", ab_store_errmsg(st));
			rc = EX_IOERR;
		} else if (n == 0) {
			fprintf(stderr, "alertbridge: no job %s that can be dropped (a running job "
				"cannot be dropped)\n", argv[2]);
			rc = EX_DATAERR;
		} else {
			printf("dropped job %s\n", argv[2]);
		}
	} else {
		usage(stderr);
		rc = EX_USAGE;
	}
	ab_store_close(st);
	ab_config_free(cfg);
	return rc;
}

static int print_log(const struct ab_log_entry *e, void *arg)
{
	bool json = *(bool *)arg;
	char t[40];

	ab_time_format_rfc3339(e->at, t, sizeof t);
	if (json) {
		json_t *j = json_pack("{s:I,s:s,s:I,s:s,s:s,s:i,s:s,s:i,s:I,s:s?}", "id",
			(json_int_t)e->id, "at", t, "job", (json_int_t)e->job_id, "event", e->event_id,
			"channel", e->channel, "attempt", e->attempt, "result",
			ab_status_name(e->status), "code", e->code, "latency_ms",
			(json_int_t)e->latency_ms, "error", e->error);
		char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		if (s)
			printf("%s\n", s);
		free(s);
		json_decref(j);
	} else {
		printf("%s %-16s job=%lld attempt=%d %-9s code=%d %lldms%s%s\n", t, e->channel,
			(long long)e->job_id, e->attempt, ab_status_name(e->status), e->code,
			(long long)e->latency_ms,
			!e->error || !e->error[0] ? "" : e->status == AB_OK ? " note=" : " error=",
			e->error ? e->error : "");
	}
	return 0;
}

static int cmd_log(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "channel", required_argument, NULL, 'C' },
		{ "json", no_argument, NULL, 'j' },
		{ "limit", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	const char *channel = NULL;
	bool json = false;
	int limit = 100, o, rc = 0;
	struct ab_config *cfg;
	struct ab_store *st;

	optind = 1;
	while ((o = getopt_long(argc, argv, "C:jn:", opts, NULL)) != -1) {
		switch (o) {
		case 'C': channel = optarg; break;
		case 'j': json = true; break;
		case 'n': limit = atoi(optarg); break;
		default: usage(stderr); return EX_USAGE;
		}
	}
	if (!(cfg = ab_cli_load_config(conf_path)))
		return EX_CONFIG;
	if (!(st = ab_cli_open_store(cfg))) {
		ab_config_free(cfg);
		return EX_CANTCREAT;
	}
	if (ab_store_list_log(st, channel, limit > 0 ? limit : 100, print_log, &json) < 0) {
		fprintf(stderr, "alertbridge: %s\n", ab_store_errmsg(st));
		rc = EX_IOERR;
	}
	ab_store_close(st);
	ab_config_free(cfg);
	return rc;
}

static int print_item(const struct ab_inbox_item *it, void *arg)
{
	int mode = *(int *)arg;   /* 0 table, 1 json lines, 2 full */
	char t[40];

	ab_time_format_rfc3339(it->created_at, t, sizeof t);
	if (mode == 1) {
		json_t *j = json_pack("{s:I,s:s,s:s?,s:s?,s:s?,s:s,s:b}", "id", (json_int_t)it->id,
			"event_id", it->event_id, "severity", it->severity, "type", it->type,
			"title", it->title, "created_at", t, "read", it->read);
		char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		if (s)
			printf("%s\n", s);
		free(s);
		json_decref(j);
	} else if (mode == 2) {
		json_t *j = json_loads(it->json ? it->json : "{}", 0, NULL);
		char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
		printf("%s\n", s ? s : (it->json ? it->json : ""));
		free(s);
		json_decref(j);
	} else {
		printf("%-5lld %s %-8s %-24s %s\n", (long long)it->id, it->read ? " " : "*",
			it->severity ? it->severity : "-", it->type ? it->type : "-",
			it->title ? it->title : "");
	}
	return 0;
}

/* The inbox database: the data file the inbox plugin declares (its first
 * path setting), as the daemon resolves it. */
static char *inbox_path(const struct ab_config *cfg, const char *channel)
{
	for (size_t i = 0; i < cfg->n_channels; i++) {
		const struct ab_channel_conf *c = &cfg->channels[i];
		char err[1024], *p;

		if (strcmp(c->type, "inbox") != 0 || (channel && strcmp(c->name, channel) != 0))
			continue;
		if (!(p = ab_channel_data_file(cfg, plugin_dir, c->name, err, sizeof err)))
			fprintf(stderr, "alertbridge: %s\n", err);
		return p;
	}
	fprintf(stderr, "alertbridge: %s: no inbox channel%s%s in the configuration (add one "
		"with type = \"inbox\")\n", cfg->path, channel ? " named " : "", channel ? channel : "");
	return NULL;
}

static int cmd_inbox(int argc, char **argv)
{
	const char *channel = NULL, *sub;
	struct ab_config *cfg;
	struct ab_inbox *ib;
	char err[512], *path;
	int rc = 0, i = 1;

	if (argc > 2 && strcmp(argv[1], "--channel") == 0) {
		channel = argv[2];
		i = 3;
	}
	if (i >= argc) {
		usage(stderr);
		return EX_USAGE;
	}
	sub = argv[i++];
	if (!(cfg = ab_cli_load_config(conf_path)))
		return EX_CONFIG;
	if (!(path = inbox_path(cfg, channel))) {
		ab_config_free(cfg);
		return EX_CONFIG;
	}
	if (!(ib = ab_inbox_open(path, err, sizeof err))) {
		fprintf(stderr, "alertbridge: %s\n", err);
		free(path);
		ab_config_free(cfg);
		return EX_NOINPUT;
	}
	if (strcmp(sub, "list") == 0) {
		bool unread = false;
		int mode = 0;
		for (; i < argc; i++) {
			if (strcmp(argv[i], "--unread") == 0)
				unread = true;
			else if (strcmp(argv[i], "--json") == 0)
				mode = 1;
			else
				rc = EX_USAGE;
		}
		if (rc == 0) {
			if (mode == 0)
				printf("%lld unread of %lld\n", (long long)ab_inbox_unread(ib),
					(long long)ab_inbox_total(ib));
			if (ab_inbox_list(ib, unread, print_item, &mode) < 0)
				rc = EX_IOERR;
		}
	} else if (strcmp(sub, "read") == 0 && i + 1 == argc) {
		int64_t id;
		int mode = 2, r;
		if (parse_alert_id(argv[i], &id) < 0) {
			rc = EX_USAGE;
		} else if ((r = ab_inbox_read(ib, id, print_item, &mode)) == 0) {
			fprintf(stderr, "alertbridge: no inbox item %s (see 'alertbridge inbox list')\n",
				argv[i]);
			rc = EX_DATAERR;
		} else if (r < 0) {
			rc = EX_IOERR;
		}
	} else if (strcmp(sub, "remove") == 0 && i < argc) {
		int64_t ids[256];
		size_t n = 0;
		for (; i < argc && n < 256; i++) {
			if (parse_alert_id(argv[i], &ids[n++]) < 0)
				rc = EX_USAGE;
		}
		if (rc == 0) {
			int r = ab_inbox_remove(ib, ids, n);
			if (r < 0)
				rc = EX_IOERR;
			else
				printf("removed %d item(s)\n", r);
		}
	} else if (strcmp(sub, "clear") == 0 && i == argc) {
		int r = ab_inbox_clear(ib);
		if (r < 0)
			rc = EX_IOERR;
		else
			printf("removed %d item(s)\n", r);
	} else {
		usage(stderr);
		rc = EX_USAGE;
	}
	ab_inbox_close(ib);
	free(path);
	ab_config_free(cfg);
	return rc;
}

int main(int argc, char **argv)
{
	int opt;

	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "plugin-dir", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int i;

	ab_log_init("alertbridge", false, AB_LOG_WARNING);
	while ((opt = getopt_long(argc, argv, "+c:P:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': conf_path = optarg; break;
		case 'P': plugin_dir = optarg; break;
		case 'V': printf("alertbridge %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return EX_USAGE;
	}
	if (!strcmp(argv[0], "help")) {
		if (argc > 1 && known_command(argv[1]))
			usage_of(stdout, argv[1]);
		else
			usage(stdout);
		return 0;
	}
	/* COMMAND -h / --help anywhere among its arguments: that command's usage
	 * (never a file or a value named "--help") */
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			if (!known_command(argv[0]))
				break;
			usage_of(stdout, argv[0]);
			return 0;
		}
	if (strcmp(argv[0], "check") == 0 && argc == 1)
		return cmd_check();
	if (strcmp(argv[0], "profiles") == 0)
		return ab_cli_profiles(argc, argv, conf_path);
	if (ab_cli_mail_wants(argc, argv))   /* parse, send and explain of any input */
		return ab_cli_mail(argc, argv, conf_path, plugin_dir);
	if (ab_cli_route_wants(argc, argv))   /* send --lines */
		return ab_cli_route(argc, argv, conf_path, plugin_dir);
	if (ab_cli_channels_wants(argc, argv))   /* test, log --channels, secret */
		return ab_cli_channels(argc, argv, conf_path, plugin_dir);
	if (ab_cli_syslog_wants(argc, argv))   /* parse/explain --syslog, syslog status */
		return ab_cli_syslog(argc, argv, conf_path, plugin_dir);
	if (strcmp(argv[0], "queue") == 0)
		return cmd_queue(argc, argv);
	if (strcmp(argv[0], "log") == 0)
		return cmd_log(argc, argv);
	if (strcmp(argv[0], "inbox") == 0)
		return cmd_inbox(argc, argv);
	fprintf(stderr, "alertbridge: unknown command '%s'\n", argv[0]);
	usage(stderr);
	return EX_USAGE;
}
