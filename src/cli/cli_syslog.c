/*
 * cli_syslog.c - the syslog commands of `alertbridge`:
 *
 *   parse --syslog 'LINE' [--listener NAME] [--host PEER] [--profile NAME]
 *   parse --syslog-file FILE|- [--listener NAME] [--host PEER] [--profile NAME]
 *       one event JSON (compact, sorted keys) per line on stdout; the syslog
 *       sources and profiles of the configuration apply when it exists (a
 *       line whose source says drop is reported on stderr and not printed);
 *       for one --syslog line stderr says which profile recognized it and why
 *   explain --syslog 'LINE' [--listener NAME] [--host PEER]
 *       the event, the syslog source taken, then each rule with match / the
 *       first reason it did not, and the channels (as `explain` for JSON)
 *   syslog status [--json]
 *       the listeners' counters from the status file the daemon writes
 *
 * Public: ab_cli_syslog (cli.h).
 * Diagnostics: on stderr, exit codes from sysexits.h (64 usage, 66 no
 * input, 78 configuration).  Lines longer than AB_SYSLOG_MAX_LINE in a
 * file are cut (and marked truncated), never read whole.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "lib/buf.h"
#include "cli/cli.h"
#include "config/config.h"
#include "event/event.h"
#include "config/config_mail.h"
#include "parse/detect.h"
#include "parse/profile.h"
#include "parse/syslog.h"
#include "route/route.h"
#include "config/config_syslog.h"
#include "ingest/syslog_source.h"
#include "lib/util.h"

#define STATUS_MAX (1024 * 1024)

struct opts {
	const char *line, *file, *listener, *host, *profile;
	const struct ab_profile *force;
	bool json;
};

static void usage(void)
{
	fprintf(stderr,
		"usage: alertbridge parse --syslog 'LINE' [--listener NAME] [--host PEER] "
		"[--profile NAME]\n"
		"       alertbridge parse --syslog-file FILE|- [--listener NAME] [--host PEER] "
		"[--profile NAME]\n"
		"       alertbridge explain --syslog 'LINE' [--listener NAME] [--host PEER] "
		"[--profile NAME]\n"
		"       alertbridge syslog status [--json]\n");
}

static int get_opts(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof *o);
	for (int i = 1; i < argc; i++) {
		const char **dst = NULL;

		if (strcmp(argv[i], "--syslog") == 0)
			dst = &o->line;
		else if (strcmp(argv[i], "--syslog-file") == 0)
			dst = &o->file;
		else if (strcmp(argv[i], "--listener") == 0)
			dst = &o->listener;
		else if (strcmp(argv[i], "--host") == 0)
			dst = &o->host;
		else if (strcmp(argv[i], "--profile") == 0)
			dst = &o->profile;
		else if (strcmp(argv[i], "--json") == 0) {
			o->json = true;
			continue;
		}
		if (!dst || i + 1 >= argc) {
			fprintf(stderr, "alertbridge: %s: unknown option or missing value '%s'\n",
				argv[0], argv[i]);
			return -1;
		}
		*dst = argv[++i];
	}
	if ((strcmp(argv[0], "parse") == 0 || strcmp(argv[0], "explain") == 0) &&
	    !!o->line == !!o->file) {
		fprintf(stderr, "alertbridge: %s: give exactly one of --syslog LINE or "
			"--syslog-file FILE\n", argv[0]);
		return -1;
	}
	return 0;
}

/* The configuration: required for explain and status; for parse only when
 * the file exists (sources apply then). */
/* Which profile the line went through, and why. */
static void profile_why(const struct opts *o, const struct ab_syslog_source_conf *src,
	const struct ab_detect_entry *hit, const struct ab_event *ev, struct ab_buf *w)
{
	const char *name = json_string_value(json_object_get(ev->fields, "syslog.profile"));

	if (!name) {
		ab_buf_printf(w, "profile: none (no profile's detect block holds: the syslog "
			      "parser's event as it is)");
		return;
	}
	ab_buf_printf(w, "profile %s: ", name);
	if (o->force)
		ab_buf_printf(w, "forced with --profile");
	else if (src && src->profile)
		ab_buf_printf(w, "pinned by syslog source %s", src->name);
	else if (hit)
		ab_detect_describe(hit, w);
}

static void say_profile(const struct opts *o, const struct ab_syslog_source_conf *src,
	const struct ab_detect_entry *hit, const struct ab_event *ev)
{
	struct ab_buf w = AB_BUF_INIT(4096);

	profile_why(o, src, hit, ev, &w);
	fprintf(stderr, "alertbridge: %s\n", ab_buf_cstr(&w));
	ab_buf_free(&w);
}

/* Parse one line and print it; 0, or an exit code. */
static int parse_one(const struct ab_config *cfg, const struct opts *o, const char *line,
	size_t len, bool truncated, unsigned long lineno)
{
	const struct ab_syslog_source_conf *src = NULL;
	const struct ab_detect_entry *hit = NULL;
	struct ab_event *ev = ab_event_new();
	char err[256], *js;
	int r;

	if (!ev) {
		fprintf(stderr, "alertbridge: out of memory\n");
		return EX_OSERR;
	}
	r = ab_syslog_process(cfg ? cfg->syslog : NULL, cfg ? cfg->mail : NULL, o->force,
		o->listener, o->host, line, len, truncated, ab_now_ms(), 0, ev, &src, &hit, NULL, err,
		sizeof err);
	if (r > 0 && o->line)
		say_profile(o, src, hit, ev);
	if (r < 0) {
		fprintf(stderr, "alertbridge: %s\n", err);
		ab_event_free(ev);
		return EX_OSERR;
	}
	if (r == 0) {
		if (lineno)
			fprintf(stderr, "alertbridge: line %lu: dropped by syslog source '%s'\n",
				lineno, src->name);
		else
			fprintf(stderr, "alertbridge: dropped by syslog source '%s'\n", src->name);
		ab_event_free(ev);
		return 0;
	}
	js = ab_event_dumps(ev);
	if (js)
		printf("%s\n", js);
	free(js);
	ab_event_free(ev);
	return js ? 0 : EX_OSERR;
}

static int parse_file(const struct ab_config *cfg, const struct opts *o)
{
	FILE *f = ab_cli_open_input(o->file);
	struct ab_buf b = AB_BUF_INIT(AB_SYSLOG_MAX_LINE);
	char chunk[16384];
	bool over = false;
	unsigned long lineno = 0;
	size_t n;
	int rc = 0;

	if (!f)
		return EX_NOINPUT;
	while (rc == 0 && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		const char *p = chunk, *end = chunk + n;

		while (rc == 0 && p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t take = nl ? (size_t)(nl - p) : (size_t)(end - p);

			if (ab_buf_append_trunc(&b, p, take) < 0)
				over = true;
			p += take;
			if (!nl)
				break;
			p++;
			lineno++;
			if (b.len > 0 || over)
				rc = parse_one(cfg, o, b.data ? b.data : "", b.len, over, lineno);
			ab_buf_reset(&b);
			over = false;
		}
	}
	if (rc == 0 && ferror(f)) {
		fprintf(stderr, "alertbridge: %s: read error: %s\n", o->file, strerror(errno));
		rc = EX_IOERR;
	}
	if (rc == 0 && (b.len > 0 || over))
		rc = parse_one(cfg, o, b.data ? b.data : "", b.len, over, lineno + 1);
	ab_buf_free(&b);
	if (f != stdin)
		fclose(f);
	return rc;
}

/* explain --syslog: how the line was taken (source, profile), then the one
 * explain of its event (cli_common.c); a dropped line is not routed. */
static int explain(const struct ab_config *cfg, const struct opts *o)
{
	const struct ab_syslog_source_conf *src = NULL;
	const struct ab_detect_entry *hit = NULL;
	struct ab_buf how = AB_BUF_INIT(8192);
	struct ab_event *ev = ab_event_new();
	int64_t now = ab_now_ms();
	char err[256];
	int r, rc = 0;

	if (!ev)
		return EX_OSERR;
	r = ab_syslog_process(cfg->syslog, cfg->mail, o->force, o->listener, o->host, o->line,
		strlen(o->line), false, now, 0, ev, &src, &hit, NULL, err, sizeof err);
	if (r < 0) {
		fprintf(stderr, "alertbridge: %s\n", err);
		ab_event_free(ev);
		return EX_OSERR;
	}
	if (src)
		ab_buf_printf(&how, "  syslog source: '%s' (%s:%d)%s%s%s\n", src->name, src->file,
			src->line, src->profile ? ", profile " : "", src->profile ? src->profile : "",
			src->drop ? ": DROPPED (drop = true), not routed" : "");
	else
		ab_buf_printf(&how, "  syslog source: none matched (source \"syslog\")\n");
	ab_buf_printf(&how, "  ");
	profile_why(o, src, hit, ev, &how);
	ab_buf_printf(&how, "\n");
	if (r == 1) {
		rc = ab_cli_explain_event(cfg, ev, ab_buf_cstr(&how), NULL, 0, now);
	} else {
		ab_event_ensure_id(ev);
		printf("event:\n");
		ab_cli_print_event(ev);
		printf("\nparsing:\n%s\nnot routed, nothing was sent\n", ab_buf_cstr(&how));
	}
	ab_buf_free(&how);
	ab_event_free(ev);
	return rc;
}

static const char *str_or(const char *s)
{
	return s ? s : "?";
}

static int status(const struct ab_config *cfg, const struct opts *o)
{
	const char *rel = cfg->syslog && cfg->syslog->status_file ? cfg->syslog->status_file :
		"syslog.status";
	char *path = ab_config_path(cfg, rel), *text;
	json_t *j, *ls, *v;
	json_error_t jerr;
	size_t len, i;
	int pid;

	if (!path)
		return EX_OSERR;
	text = ab_read_file(path, STATUS_MAX, &len);
	if (!text) {
		fprintf(stderr, "alertbridge: %s: %s (is alertbridged running with syslog "
			"listeners?)\n", path, strerror(errno));
		free(path);
		return EX_NOINPUT;
	}
	if (o->json) {
		fputs(text, stdout);
		free(text);
		free(path);
		return 0;
	}
	j = json_loads(text, 0, &jerr);
	free(text);
	if (!json_is_object(j)) {
		fprintf(stderr, "alertbridge: %s: not a status file: %s\n", path, jerr.text);
		json_decref(j);
		free(path);
		return EX_DATAERR;
	}
	pid = (int)json_integer_value(json_object_get(j, "pid"));
	printf("syslog status (%s, updated %s, daemon pid %d%s)\n", path,
		str_or(json_string_value(json_object_get(j, "updated_at"))), pid,
		pid > 0 && kill(pid, 0) < 0 && errno == ESRCH ? ": NOT RUNNING" : "");
	static const char *const keys[] = { "received", "dropped_by_source", "udp_dropped",
		"truncated", "framing_errors", "connections_rejected",
		"connections_refused_per_source", "idle_closed", "silent_closed", "tls_failures", "store_errors", "parse_errors", "pauses", "high_water" };
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
		printf("  %-22s %lld\n", keys[i],
			(long long)json_integer_value(json_object_get(j, keys[i])));
	printf("  %-22s %s\n", "paused", json_is_true(json_object_get(j, "paused")) ? "yes" : "no");
	ls = json_object_get(j, "journal");
	if (json_is_object(ls))
		printf("  journal: %lld unrouted (not written), %lld moved into the store, %lld "
			"waiting, %lld MiB on disk, %lld unreadable\n",
			(long long)json_integer_value(json_object_get(ls, "unrouted")),
			(long long)json_integer_value(json_object_get(ls, "stored")),
			(long long)json_integer_value(json_object_get(ls, "backlog")),
			(long long)(json_integer_value(json_object_get(ls, "disk_bytes")) >> 20),
			(long long)json_integer_value(json_object_get(ls, "corrupt")));
	ls = json_object_get(j, "disk");
	if (json_is_object(ls))
		printf("  disk: %lld MiB free on the journal's filesystem, min_free_mb %lld%s\n",
			(long long)(json_integer_value(json_object_get(ls, "free_bytes")) >> 20),
			(long long)(json_integer_value(json_object_get(ls, "min_free_bytes")) >> 20),
			json_is_true(json_object_get(ls, "low")) ?
			": BELOW, input paused until there is room" : "");
	ls = json_object_get(j, "listeners");
	json_array_foreach(ls, i, v) {
		printf("  listener %-12s %-4s %-24s received %lld, connections %lld, dropped %lld\n",
			str_or(json_string_value(json_object_get(v, "name"))),
			str_or(json_string_value(json_object_get(v, "proto"))),
			str_or(json_string_value(json_object_get(v, "address"))),
			(long long)json_integer_value(json_object_get(v, "received")),
			(long long)json_integer_value(json_object_get(v, "connections")),
			(long long)json_integer_value(json_object_get(v, "dropped")));
	}
	json_decref(j);
	free(path);
	return 0;
}

int ab_cli_syslog(int argc, char **argv, const struct ab_cli *cli)
{
	struct ab_config *cfg = NULL;
	struct opts o;
	int rc;

	if (strcmp(argv[0], "syslog") == 0) {
		if (argc < 2 || strcmp(argv[1], "status") != 0 ||
		    get_opts(argc - 1, argv + 1, &o) < 0) {
			usage();
			return EX_USAGE;
		}
		if (!(cfg = ab_cli_load_config_opt(cli->conf_path, true, &rc)))
			return rc;
		rc = status(cfg, &o);
		ab_config_free(cfg);
		return rc;
	}
	if (get_opts(argc, argv, &o) < 0) {
		usage();
		return EX_USAGE;
	}
	if (strcmp(argv[0], "explain") == 0) {
		if (!o.line) {
			fprintf(stderr, "alertbridge: explain takes --syslog 'LINE'\n");
			return EX_USAGE;
		}
		if (!(cfg = ab_cli_load_config_opt(cli->conf_path, true, &rc)))
			return rc;
	} else {
		cfg = ab_cli_load_config_opt(cli->conf_path, o.profile != NULL, &rc);
		if (rc)
			return rc;
	}
	if (o.profile && !(o.force = ab_mail_profile(cfg->mail, o.profile))) {
		fprintf(stderr, "alertbridge: no profile '%s' in %s (alertbridge profiles lists "
			"them)\n", o.profile, cfg->path);
		ab_config_free(cfg);
		return EX_CONFIG;
	}
	if (strcmp(argv[0], "explain") == 0)
		rc = explain(cfg, &o);
	else
		rc = o.line ? parse_one(cfg, &o, o.line, strlen(o.line), false, 0) :
			parse_file(cfg, &o);
	ab_config_free(cfg);
	return rc;
}
