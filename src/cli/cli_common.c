/*
 * cli_common.c - what every command of `alertbridge` shares: loading the
 * configuration, opening the store, reading an input file or standard
 * input, printing an event, and the one `send` and the one `explain` of an
 * event, whatever input it came from (mail, event JSON, syslog line).
 *
 * Public: ab_cli_load_config, ab_cli_load_config_opt, ab_cli_open_store,
 *   ab_cli_open_input, ab_cli_read_input, ab_cli_event_from_text,
 *   ab_cli_print_json_line, ab_cli_print_event,
 *   ab_cli_send_event, ab_cli_explain_event.
 * Diagnostics: "alertbridge: ..." on stderr, saying what to do; the exit
 * codes the commands return are from sysexits.h (EX_TEMPFAIL when the
 * store could not commit: nothing was queued, try again).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>

#include "lib/buf.h"
#include "lib/util.h"
#include "config/config.h"
#include "event/event.h"
#include "store/store.h"
#include "route/route.h"
#include "ingest/ingest.h"
#include "cli/cli.h"

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

struct ab_config *ab_cli_load_config_opt(const char *conf_path, bool required, int *rc)
{
	struct stat sb;
	struct ab_config *cfg;

	*rc = 0;
	if (!required && stat(conf_path, &sb) < 0 && errno == ENOENT)
		return NULL;
	if (!(cfg = ab_cli_load_config(conf_path)))
		*rc = EX_CONFIG;
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
	else
		ab_store_set_min_free(st, (uint64_t)cfg->min_free_mb << 20);
	return st;
}

FILE *ab_cli_open_input(const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");

	if (!f)
		fprintf(stderr, "alertbridge: %s: %s\n", path, strerror(errno));
	return f;
}

char *ab_cli_read_input(const char *path, size_t max, size_t *len)
{
	struct ab_buf b = AB_BUF_INIT(max);
	char chunk[65536];
	FILE *f = ab_cli_open_input(path);
	size_t n;
	bool bad = false;

	if (!f)
		return NULL;
	while (!bad && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (ab_buf_append(&b, chunk, n) < 0) {
			if (b.overflow)
				fprintf(stderr, "alertbridge: %s: larger than %zu bytes\n", path, max);
			else
				fprintf(stderr, "alertbridge: %s: out of memory\n", path);
			bad = true;
		}
	if (!bad && ferror(f)) {
		fprintf(stderr, "alertbridge: %s: %s\n", path, strerror(errno));
		bad = true;
	}
	if (f != stdin)
		fclose(f);
	if (bad) {
		ab_buf_free(&b);
		return NULL;
	}
	if (!b.data && !(b.data = strdup(""))) {
		fprintf(stderr, "alertbridge: %s: out of memory\n", path);
		return NULL;
	}
	*len = b.len;
	return b.data;
}

struct ab_event *ab_cli_event_from_text(const char *text, size_t len, const char *where)
{
	json_error_t jerr;
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	struct ab_event *ev;
	char err[512];

	if (!j) {
		fprintf(stderr, "alertbridge: %s: not valid JSON (line %d, column %d): %s\n", where,
			jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		fprintf(stderr, "alertbridge: %s: not an event: an event is a JSON object "
			"(got %s)\n", where, json_is_array(j) ? "an array; for one event per "
			"line use send --lines" : "a string");
		json_decref(j);
		return NULL;
	}
	ev = ab_event_from_json(j, err, sizeof err);
	json_decref(j);
	if (!ev)
		fprintf(stderr, "alertbridge: %s: not a valid event: %s\n", where, err);
	return ev;
}

void ab_cli_print_json_line(json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	if (s)
		printf("%s\n", s);
	free(s);
	json_decref(j);
}

void ab_cli_print_event(const struct ab_event *ev)
{
	json_t *j = ab_event_to_json(ev);
	char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;

	printf("%s\n", s ? s : "{}");
	free(s);
	json_decref(j);
}

/* What send did, in the operator's words (stderr; the id is on stdout). */
static void send_notes(const struct ab_event *ev, const struct ab_route_result *rr,
		       const struct ab_ingest_outcome *o)
{
	if (rr->n == 0) {
		if (!rr->n_disabled)   /* disabled ones: ab_ingest logged why */
			fprintf(stderr, "alertbridge: note: no rule and no default channel takes "
				"this event; it was stored but goes nowhere\n");
		return;
	}
	if (rr->disabled_fallback)
		fprintf(stderr, "alertbridge: note: the channels of the matching rules are "
			"disabled: queued for the default channels instead\n");
	if (o->duplicate && o->added == 0) {
		fprintf(stderr, "alertbridge: note: event %s was already stored (the same "
			"input gives the same id): not queued again\n", ev->id);
		return;
	}
	if (o->grouped)
		fprintf(stderr, "alertbridge: note: added to a group message for %d channel(s); "
			"it goes out when the group is sent ('explain' shows when)\n", o->grouped);
	if (o->digested)
		fprintf(stderr, "alertbridge: note: collected into a digest for %d channel(s); "
			"it goes out with the next digest\n", o->digested);
	if (o->suppressed)
		fprintf(stderr, "alertbridge: note: suppressed by a throttle for %d channel(s) "
			"(counted; the next delivery says how many were suppressed)\n",
			o->suppressed);
	if (o->added)
		fprintf(stderr, "alertbridge: queued %d delivery job(s)\n", o->added);
}

int ab_cli_send_event(const struct ab_config *cfg, struct ab_event *ev,
		      const char *const *direct, size_t n_direct)
{
	struct ab_route_result rr;
	struct ab_ingest_outcome o;
	struct ab_store *st;
	char err[1024];
	int r, rc = 0;

	if (!(st = ab_cli_open_store(cfg)))
		return EX_CANTCREAT;
	memset(&rr, 0, sizeof rr);
	memset(&o, 0, sizeof o);
	if (n_direct)   /* a recipient route+CHANNEL names the channels */
		r = ab_ingest_direct(st, ev, direct, n_direct, ab_now_ms(), &rr, &o, err,
				     sizeof err);
	else
		r = ab_ingest(st, cfg, ev, ab_now_ms(), &rr, &o, err, sizeof err);
	if (r < 0) {
		fprintf(stderr, "alertbridge: %s (nothing was queued; try again)\n", err);
		rc = EX_TEMPFAIL;
	} else {
		printf("%s\n", ev->id);
		send_notes(ev, &rr, &o);
	}
	ab_store_close(st);
	return rc;
}

int ab_cli_explain_event(const struct ab_config *cfg, struct ab_event *ev, const char *parsing,
			 const char *const *direct, size_t n_direct, int64_t now)
{
	struct ab_buf rt = AB_BUF_INIT(256 * 1024);
	struct ab_store *st;
	char err[1024], t[40];
	int rc = 0;

	if (!ev->received_at)
		ev->received_at = now;
	ab_event_ensure_id(ev);
	printf("event:\n");
	ab_cli_print_event(ev);
	if (parsing && *parsing)
		printf("\nparsing:\n%s", parsing);
	ab_time_format_rfc3339(now, t, sizeof t);
	if (n_direct) {
		printf("\nrules:\n  (not consulted: a recipient route+CHANNEL names the "
		       "channel)\n\nchannels:");
		for (size_t i = 0; i < n_direct; i++)
			printf("%s %s", i ? "," : "", direct[i]);
		printf("\n");
	} else if (!(st = ab_cli_open_store(cfg))) {
		rc = EX_CANTCREAT;
	} else {
		if (ab_ingest_explain(st, cfg, ev, now, &rt, err, sizeof err) < 0) {
			fprintf(stderr, "alertbridge: %s\n", err);
			rc = EX_TEMPFAIL;
		} else {
			printf("\nat %s:\n%s", t, ab_buf_cstr(&rt));
		}
		ab_store_close(st);
	}
	if (!rc)
		printf("\nnothing was sent\n");
	ab_buf_free(&rt);
	return rc;
}
