/*
 * cli_route.c - the batch side of `alertbridge` and the configuration loader
 * and store opener every command shares (ab_cli_load_config, ab_cli_open_store):
 *   send --lines FILE|-   one event JSON per line (a scan's findings),
 *       routed and committed together in batches of LINES_PER_COMMIT; the
 *       ids are printed in input order.
 *
 * Public: ab_cli_route_wants, ab_cli_route, ab_cli_open_store,
 * ab_cli_load_config.
 * Diagnostics: "alertbridge: FILE:LINE: ..." for input that is not an
 * event; store errors say that nothing of the batch was queued.  Exit
 * codes from sysexits.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "lib/buf.h"
#include "cli/cli.h"
#include "config/config.h"
#include "deliver/plugin.h"
#include "event/event.h"
#include "ingest/ingest.h"
#include "store/store.h"
#include "lib/util.h"

#define MAX_INPUT (1024 * 1024)
#define MAX_LINE (1024 * 1024)
#define LINES_PER_COMMIT 1000

bool ab_cli_route_wants(int argc, char **argv)
{
	return argc == 3 && !strcmp(argv[0], "send") && !strcmp(argv[1], "--lines");
}

struct ab_config *ab_cli_load_config(const char *conf_path)
{
	char *errors = NULL;
	struct ab_config *cfg = ab_config_load(conf_path, &errors);

	if (!cfg) {
		fputs(errors ? errors : "configuration refused\n", stderr);
		free(errors);
		return NULL;
	}
	return cfg;
}

struct ab_store *ab_cli_open_store(const struct ab_config *cfg)
{
	char err[1024];
	struct ab_store *st;

	if (ab_mkdir_p(cfg->state_dir, 0750) < 0) {
		fprintf(stderr, "alertbridge: state_dir %s: %s (create it, or run as the user the "
			"daemon runs as)\n", cfg->state_dir, strerror(errno));
		return NULL;
	}
	st = ab_store_open(cfg->store_path, err, sizeof err);
	if (!st)
		fprintf(stderr, "alertbridge: %s\n", err);
	return st;
}

static struct ab_event *parse_event(const char *text, size_t len, const char *where)
{
	json_error_t jerr;
	char err[512];
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	struct ab_event *ev;

	if (!j) {
		fprintf(stderr, "alertbridge: %s: not valid JSON: %s\n", where, jerr.text);
		return NULL;
	}
	ev = ab_event_from_json(j, err, sizeof err);
	json_decref(j);
	if (!ev)
		fprintf(stderr, "alertbridge: %s: not a valid event: %s\n", where, err);
	return ev;
}

static FILE *open_in(const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");

	if (!f)
		fprintf(stderr, "alertbridge: %s: %s\n", path, strerror(errno));
	return f;
}

static int send_lines(const char *path, const char *conf_path)
{
	struct ab_config *cfg = ab_cli_load_config(conf_path);
	struct ab_store *st = NULL;
	struct ab_buf ids = AB_BUF_INIT(64 * 1024 * 1024);
	char *line = NULL, err[1024], where[64];
	size_t cap = 0, lineno = 0, in_batch = 0, total = 0;
	ssize_t len;
	FILE *f = NULL;
	int rc = EX_DATAERR;

	if (!cfg)
		return EX_CONFIG;
	if (!(f = open_in(path)))
		goto out;
	if (!(st = ab_cli_open_store(cfg))) {
		rc = EX_CANTCREAT;
		goto out;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		struct ab_event *ev;

		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		snprintf(where, sizeof where, "%s:%zu", path, lineno);
		if (len > MAX_LINE) {
			fprintf(stderr, "alertbridge: %s: line longer than %d bytes\n", where, MAX_LINE);
			goto fail;
		}
		if (!(ev = parse_event(line, (size_t)len, where)))
			goto fail;
		if (!in_batch && ab_store_begin(st) < 0) {
			fprintf(stderr, "alertbridge: %s\n", ab_store_errmsg(st));
			ab_event_free(ev);
			rc = EX_TEMPFAIL;
			goto out;
		}
		if (ab_ingest(st, cfg, ev, ab_now_ms(), NULL, NULL, err, sizeof err) < 0) {
			fprintf(stderr, "alertbridge: %s: %s\n", where, err);
			ab_event_free(ev);
			rc = EX_TEMPFAIL;
			goto fail;
		}
		ab_buf_printf(&ids, "%s\n", ev->id);
		ab_event_free(ev);
		if (++in_batch == LINES_PER_COMMIT) {
			if (ab_store_commit(st) < 0) {
				fprintf(stderr, "alertbridge: %s (lines up to %s: the last %zu were "
					"not queued)\n", ab_store_errmsg(st), where, in_batch);
				rc = EX_TEMPFAIL;
				goto out;
			}
			total += in_batch;
			in_batch = 0;
		}
	}
	if (in_batch && ab_store_commit(st) < 0) {
		fprintf(stderr, "alertbridge: %s (the last %zu lines were not queued)\n",
			ab_store_errmsg(st), in_batch);
		rc = EX_TEMPFAIL;
		goto out;
	}
	total += in_batch;
	fputs(ab_buf_cstr(&ids), stdout);
	fprintf(stderr, "alertbridge: %zu event(s) queued\n", total);
	rc = 0;
	goto out;
fail:
	if (in_batch)
		ab_store_rollback(st);
	fprintf(stderr, "alertbridge: %zu event(s) queued before the error; the %zu of the "
		"open batch were not\n", total, in_batch);
out:
	free(line);
	if (f && f != stdin)
		fclose(f);
	ab_store_close(st);
	ab_config_free(cfg);
	ab_buf_free(&ids);
	return rc;
}

int ab_cli_route(int argc, char **argv, const char *conf_path, const char *plugin_dir)
{
	(void)plugin_dir;
	return send_lines(argv[2], conf_path);
}
