/*
 * cli_store.c - the store's side of `alertbridge`:
 *   queue list [--dead|--all]   queued / running / dead jobs
 *   queue retry ID | --dead     make a job (or every dead letter) due now
 *   queue drop ID               delete a job (not a running one)
 *   log [--channel NAME] [--json] [-n N]   the delivery log, newest first
 *   inbox [--channel NAME] [--user NAME] list [--unread] [--json] | unread |
 *         read ID | remove ID... | clear | owners   the shared list, or a user's
 *         own (in people.inbox's channel unless --channel names one)
 *
 * Public: ab_cli_queue, ab_cli_log, ab_cli_inbox (cli.h).
 * Diagnostics: stderr, saying what to do; exit codes from sysexits.h
 * (EX_DATAERR for an id that is not there, EX_IOERR when the store fails).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>

#include <jansson.h>

#include "lib/diskroom.h"
#include "lib/util.h"
#include "ingest/spool.h"
#include "config/config.h"
#include "event/event.h"
#include "store/store.h"
#include "store/inboxdb.h"
#include "deliver/runtime.h"
#include "cli/cli.h"

static void usage_queue(void)
{
	fprintf(stderr, "usage: alertbridge [-c FILE] queue list [--dead|--all] | retry ID | "
		"retry --dead | drop ID\n");
}

static void usage_log(void)
{
	fprintf(stderr, "usage: alertbridge [-c FILE] log [--channel NAME] [--json] [-n N]\n");
}

static void usage_inbox(void)
{
	fprintf(stderr, "usage: alertbridge [-c FILE] inbox [--channel NAME] [--user NAME] "
		"list [--unread] [--json] | unread | read ID | remove ID... | clear | owners\n");
}

static int print_job(const struct ab_job *j, void *arg)
{
	const struct ab_config *cfg = arg;
	char t[40];

	ab_time_format_rfc3339(j->next_at, t, sizeof t);
	printf("%-6lld %-8s %-16s %s%s%s attempts=%d next=%s%s%s%s\n", (long long)j->id,
		ab_job_state_name(j->state), j->channel, j->event_id,
		j->recipient && *j->recipient ? " to=" : "", j->recipient ? j->recipient : "",
		j->attempts, t, j->last_error ? " error=" : "", j->last_error ? j->last_error : "",
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

int ab_cli_queue(int argc, char **argv, const struct ab_cli *cli)
{
	struct ab_config *cfg;
	struct ab_store *st;
	int rc = 0, n;
	int64_t id;

	if (argc < 2) {
		usage_queue();
		return EX_USAGE;
	}
	if (!(cfg = ab_cli_load_config(cli->conf_path)))
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
		usage_queue();
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
		json_t *j = json_pack("{s:I,s:s,s:I,s:s,s:s,s:i,s:s,s:i,s:I,s:s?,s:s?}", "id",
			(json_int_t)e->id, "at", t, "job", (json_int_t)e->job_id, "event", e->event_id,
			"channel", e->channel, "attempt", e->attempt, "result",
			ab_status_name(e->status), "code", e->code, "latency_ms",
			(json_int_t)e->latency_ms, "error", e->error, "recipient",
			e->recipient && *e->recipient ? e->recipient : NULL);
		ab_cli_print_json_line(j);
	} else {
		printf("%s %-16s job=%lld%s%s attempt=%d %-9s code=%d %lldms%s%s\n", t,
			e->channel, (long long)e->job_id, e->recipient && *e->recipient ? " to=" : "",
			e->recipient ? e->recipient : "", e->attempt, ab_status_name(e->status),
			e->code, (long long)e->latency_ms,
			!e->error || !e->error[0] ? "" : e->status == AB_OK ? " note=" : " error=",
			e->error ? e->error : "");
	}
	return 0;
}

int ab_cli_log(int argc, char **argv, const struct ab_cli *cli)
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
		default: usage_log(); return EX_USAGE;
		}
	}
	if (!(cfg = ab_cli_load_config(cli->conf_path)))
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
		ab_cli_print_json_line(j);
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
static char *inbox_path(const struct ab_config *cfg, const char *plugin_dir, const char *channel)
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

/* inbox owners: one line per list. */
static int print_owner(const char *owner, int64_t total, int64_t unread, void *arg)
{
	(void)arg;
	printf("%-24s %lld unread of %lld\n", *owner ? owner : "(shared)", (long long)unread,
		(long long)total);
	return 0;
}

int ab_cli_inbox(int argc, char **argv, const struct ab_cli *cli)
{
	const char *channel = NULL, *user = NULL, *sub;
	struct ab_config *cfg;
	struct ab_inbox *ib;
	char err[512], *path;
	int rc = 0, i = 1;

	for (; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--channel") == 0)
			channel = argv[i + 1];
		else if (strcmp(argv[i], "--user") == 0)
			user = argv[i + 1];
		else
			break;
	}
	if (i >= argc) {
		usage_inbox();
		return EX_USAGE;
	}
	sub = argv[i++];
	if (!(cfg = ab_cli_load_config(cli->conf_path)))
		return EX_CONFIG;
	if (user && !channel && cfg->people && cfg->people->channel[AB_VIA_INBOX])
		channel = cfg->people->channel[AB_VIA_INBOX];   /* where personal lists are */
	if (!(path = inbox_path(cfg, cli->plugin_dir, channel))) {
		ab_config_free(cfg);
		return EX_CONFIG;
	}
	if (!(ib = ab_inbox_open(path, err, sizeof err))) {
		fprintf(stderr, "alertbridge: %s\n", err);
		free(path);
		ab_config_free(cfg);
		return EX_NOINPUT;
	}
	if (user && cfg->n_users && !ab_users_find(cfg->users, cfg->n_users, user))
		fprintf(stderr, "alertbridge: note: '%s' is not in the users directory (removed?); "
			"their list is shown as it was kept\n", user);
	if (ab_inbox_set_owner(ib, user) < 0) {
		fprintf(stderr, "alertbridge: %s\n", ab_inbox_errmsg(ib));
		rc = EX_USAGE;
	} else if (strcmp(sub, "unread") == 0 && i == argc) {
		int64_t n = ab_inbox_unread(ib);

		if (n < 0)
			rc = EX_IOERR;
		else
			printf("%lld\n", (long long)n);
	} else if (strcmp(sub, "owners") == 0 && i == argc) {
		if (ab_inbox_owners(ib, print_owner, NULL) < 0)
			rc = EX_IOERR;
	} else if (strcmp(sub, "list") == 0) {
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
		usage_inbox();
		rc = EX_USAGE;
	}
	ab_inbox_close(ib);
	free(path);
	ab_config_free(cfg);
	return rc;
}
