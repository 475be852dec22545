/*
 * cli_mail.c - the mail side of `alertbridge`:
 *   parse [--source NAME] [--profile NAME] MAIL.eml|-
 *                                      the event JSON a mail becomes; stderr
 *                                      says which profile and why
 *   send MAIL.eml|EVENT.json|-         parse, route and enqueue (like the milter);
 *                                      stderr says what happened (queued, grouped,
 *                                      digested, throttled, duplicate)
 *   explain [--at TIME] [--profile NAME] MAIL.eml|EVENT.json|-
 *                                      event, profile choice and trace, every rule
 *                                      with match/no-match and why, throttle /
 *                                      group / digest state and the deliveries (a
 *                                      dry run in the store); sends nothing
 *   profiles                           the profiles, their tools and the order in
 *                                      which their detect blocks are tried
 * send and explain take canonical event JSON too (input starting with '{'),
 * a file and standard input alike: one code path for every input.
 *
 * Public: ab_cli_mail_wants, ab_cli_mail, ab_cli_profiles.
 * Diagnostics: stderr; exit codes from sysexits.h (EX_DATAERR for input
 * that is neither a mail nor an event, EX_TEMPFAIL when the store could
 * not commit, EX_CONFIG for a bad configuration or unknown source).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "lib/buf.h"
#include "cli/cli.h"
#include "config/config.h"
#include "event/event.h"
#include "ingest/ingest.h"
#include "config/mail_conf.h"
#include "ingest/mail_event.h"
#include "parse/detect.h"
#include "parse/mail.h"
#include "parse/profile.h"
#include "route/route.h"
#include "store/store.h"
#include "lib/util.h"

#define MAX_INPUT (64u * 1024 * 1024)

static bool is_json_text(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && isspace((unsigned char)s[i]))
		i++;
	return i < len && (s[i] == '{' || s[i] == '[' || s[i] == '"');   /* never a mail */
}

bool ab_cli_mail_wants(int argc, char **argv)
{
	int i;

	if (argc < 2)
		return false;
	if (!strcmp(argv[0], "send"))
		return strcmp(argv[1], "--lines") != 0;
	if (strcmp(argv[0], "parse") && strcmp(argv[0], "explain"))
		return false;
	for (i = 1; i < argc; i++)
		if (!strncmp(argv[i], "--syslog", 8))
			return false;
	return true;
}

static char *read_all(const char *path, size_t *len)
{
	struct ab_buf b = AB_BUF_INIT(MAX_INPUT);
	char chunk[65536];
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	size_t n;

	if (!f) {
		fprintf(stderr, "alertbridge: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (ab_buf_append(&b, chunk, n) < 0) {
			fprintf(stderr, "alertbridge: %s: larger than %u bytes\n", path, MAX_INPUT);
			ab_buf_free(&b);
			b.overflow = true;   /* (free cleared it): NULL, not "", below */
			break;
		}
	if (f != stdin)
		fclose(f);
	if (!b.data && !b.overflow)
		b.data = strdup("");
	*len = b.len;
	return b.data;
}

static void print_event(const struct ab_event *ev)
{
	json_t *j = ab_event_to_json(ev);
	char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;

	printf("%s\n", s ? s : "{}");
	free(s);
	json_decref(j);
}

/* Build the event from raw input (mail or event JSON). */
static struct ab_event *make_event(const struct ab_config *cfg, const char *path,
				   const char *source, const struct ab_profile *force,
				   struct ab_buf *why, struct ab_buf *trace, char **to_route,
				   size_t to_routesz)
{
	size_t len = 0;
	char *raw = read_all(path, &len), err[512];
	struct ab_mail *m = NULL;
	const struct ab_mail_source *src = NULL;
	struct ab_mail_env env;
	struct ab_event *ev = NULL;
	size_t i;
	int rc;

	if (!raw)
		return NULL;
	if (is_json_text(raw, len)) {
		json_error_t jerr;
		json_t *j = json_loadb(raw, len, JSON_REJECT_DUPLICATES, &jerr);

		free(raw);
		if (!j) {
			fprintf(stderr, "alertbridge: %s:%d:%d: not valid JSON: %s\n", path, jerr.line,
				jerr.column, jerr.text);
			return NULL;
		}
		if (!json_is_object(j)) {
			fprintf(stderr, "alertbridge: %s: not an event: an event is a JSON object "
				"(got %s)\n", path, json_is_array(j) ? "an array; for one event per "
				"line use send --lines" : "a string");
			json_decref(j);
			return NULL;
		}
		ev = ab_event_from_json(j, err, sizeof err);
		json_decref(j);
		if (!ev)
			fprintf(stderr, "alertbridge: %s: not a valid event: %s\n", path, err);
		return ev;
	}
	rc = ab_mail_parse(raw, len, cfg->mail ? &cfg->mail->limits : NULL, &m, err, sizeof err);
	free(raw);
	if (rc < 0) {
		fprintf(stderr, "alertbridge: %s: not a mail message: %s\n", path, err);
		return NULL;
	}
	if (rc > 0)
		fprintf(stderr, "alertbridge: %s: %s (the milter would pass this mail untouched; "
			"the event below is from what could be parsed)\n", path, err);
	memset(&env, 0, sizeof env);
	if (source) {
		src = ab_mail_source_by_name(cfg->mail, source);
		if (!src) {
			fprintf(stderr, "alertbridge: no mail source '%s' in %s\n", source, cfg->path);
			ab_mail_free(m);
			return NULL;
		}
	} else {
		src = ab_mail_source_select(cfg->mail, &env, m);
	}
	if (why) {
		const struct ab_detect_entry *hit = NULL;
		const struct ab_profile *p = ab_mail_pick_profile(cfg->mail, src, m, force, &hit);

		ab_buf_printf(why, "profile %s: ", p ? p->name : "(built-in defaults)");
		if (force)
			ab_buf_printf(why, "forced with --profile");
		else if (src && src->profile)
			ab_buf_printf(why, "pinned by mail source %s", src->name);
		else if (hit)
			ab_detect_describe(hit, why);
		else
			ab_buf_printf(why, "no profile's detect block holds");
	}
	ev = ab_mail_event(cfg->mail, src, m, &env, "cli", force, trace);
	if (!ev)
		fprintf(stderr, "alertbridge: out of memory\n");
	for (i = 0; ev && to_route && i < m->n_to; i++) {
		char ch[80];

		if (ab_mail_route_channel(cfg->mail, m->to[i], ch, sizeof ch) &&
		    ab_config_channel(cfg, ch)) {
			snprintf(*to_route, to_routesz, "%s", ch);
			break;
		}
	}
	ab_mail_free(m);
	return ev;
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

static int do_send(struct ab_config *cfg, struct ab_event *ev, const char *route_to)
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
	if (route_to[0]) {   /* the recipient route+CHANNEL names the channel */
		const char *ch[1] = { route_to };

		r = ab_store_enqueue(st, ev, ch, 1, ab_now_ms(), &o.added);
		rr.n = 1;
		o.duplicate = r == 0 && o.added == 0;
		if (r < 0)
			snprintf(err, sizeof err, "%s", ab_store_errmsg(st));
	} else {
		r = ab_ingest(st, cfg, ev, ab_now_ms(), &rr, &o, err, sizeof err);
	}
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

/* explain: the event, how it was parsed, and the routing decision as a dry
 * run in the store (rules, throttle / group / digest state, deliveries). */
static int do_explain(struct ab_config *cfg, struct ab_event *ev, const char *parsing,
		      const char *route_to, int64_t now)
{
	struct ab_buf rt = AB_BUF_INIT(256 * 1024);
	struct ab_store *st;
	char err[1024], t[40];
	int rc = 0;

	printf("event:\n");
	print_event(ev);
	if (parsing && *parsing)
		printf("\nparsing:\n%s", parsing);
	ab_time_format_rfc3339(now, t, sizeof t);
	if (route_to[0]) {
		printf("\nrules:\n  (not consulted: the recipient route+%s names the channel)\n\n"
		       "channels: %s\n", route_to, route_to);
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

int ab_cli_mail(int argc, char **argv, const char *conf_path, const char *plugin_dir)
{
	const char *source = NULL, *path = NULL, *cmd = argv[0], *pname = NULL;
	const struct ab_profile *force = NULL;
	struct ab_buf why = AB_BUF_INIT(4096);
	struct ab_buf trace = AB_BUF_INIT(256 * 1024);
	struct ab_config *cfg;
	struct ab_event *ev;
	char routebuf[80] = "", *route = routebuf;
	int64_t now = ab_now_ms();
	int i, rc = 0;

	(void)plugin_dir;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--source") && i + 1 < argc && !strcmp(cmd, "parse")) {
			source = argv[++i];
		} else if (!strcmp(argv[i], "--profile") && i + 1 < argc && strcmp(cmd, "send")) {
			pname = argv[++i];
		} else if (!strcmp(argv[i], "--at") && i + 1 < argc && !strcmp(cmd, "explain")) {
			if (ab_time_parse_rfc3339(argv[++i], &now) < 0) {
				fprintf(stderr, "alertbridge: --at '%s' is not an RFC 3339 time such "
					"as 2025-03-30T01:30:00Z\n", argv[i]);
				return EX_USAGE;
			}
		} else if (!path) {
			path = argv[i];
		} else {
			path = NULL, i = argc + 1;
		}
	}
	if (!path || i > argc) {
		fprintf(stderr, "usage: alertbridge [-c FILE] parse [--source NAME] [--profile NAME] "
			"MAIL.eml|-\n"
			"       alertbridge [-c FILE] explain [--at TIME] [--profile NAME] "
			"MAIL.eml|EVENT.json|-\n"
			"       alertbridge [-c FILE] send MAIL.eml|EVENT.json|-\n");
		return EX_USAGE;
	}
	if (!(cfg = ab_cli_load_config(conf_path)))
		return EX_CONFIG;
	if (pname && !(force = ab_mail_profile(cfg->mail, pname))) {
		fprintf(stderr, "alertbridge: no profile '%s' in %s (alertbridge profiles lists "
			"them)\n", pname, cfg->path);
		ab_config_free(cfg);
		ab_buf_free(&trace);
		return EX_CONFIG;
	}
	ev = make_event(cfg, path, source, force, !strcmp(cmd, "parse") ? &why : NULL,
			!strcmp(cmd, "explain") ? &trace : NULL, &route, sizeof routebuf);
	if (why.len)
		fprintf(stderr, "alertbridge: %s\n", ab_buf_cstr(&why));
	ab_buf_free(&why);
	if (!ev) {
		rc = source && !ab_mail_source_by_name(cfg->mail, source) ? EX_CONFIG : EX_DATAERR;
		ab_config_free(cfg);
		ab_buf_free(&trace);
		return rc;
	}
	if (!ev->received_at)
		ev->received_at = now;
	ab_event_ensure_id(ev);
	if (routebuf[0] && ab_channel_disabled(cfg, routebuf)) {   /* enabled = false */
		if (strcmp(cmd, "parse"))
			fprintf(stderr, "alertbridge: note: the recipient names channel '%s', which "
				"is disabled: using the rules\n", routebuf);
		routebuf[0] = '\0';
	}
	if (!strcmp(cmd, "parse"))
		print_event(ev);
	else if (!strcmp(cmd, "explain"))
		rc = do_explain(cfg, ev, ab_buf_cstr(&trace), routebuf, now);
	else
		rc = do_send(cfg, ev, routebuf);
	ab_event_free(ev);
	ab_buf_free(&trace);
	ab_config_free(cfg);
	return rc;
}

static void print_order(const struct ab_mail_conf *mc, bool syslog)
{
	size_t i, n = ab_detect_count(mc ? mc->detect : NULL, syslog);

	printf("%s detection, in the order tried (the first that holds wins):\n",
	       syslog ? "Syslog" : "Mail");
	for (i = 0; i < n; i++) {
		const struct ab_detect_entry *e = ab_detect_at(mc->detect, syslog, i);
		struct ab_buf d = AB_BUF_INIT(8192);

		ab_detect_describe(e, &d);
		printf("  %3zu. %-18s %s%s\n", i + 1, e->profile->name, ab_buf_cstr(&d),
		       e->profile->priority ? " (priority set)" : "");
		ab_buf_free(&d);
	}
	if (!n)
		printf("  (none)\n");
	printf("  then: %s\n\n", syslog ? "the syslog parser's event as it is" :
	       ab_mail_profile(mc, "generic") ? "profile generic" : "the built-in defaults");
}

int ab_cli_profiles(int argc, char **argv, const char *conf_path)
{
	struct ab_config *cfg;
	size_t i;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: alertbridge [-c FILE] profiles\n");
		return EX_USAGE;
	}
	if (!(cfg = ab_cli_load_config(conf_path)))
		return EX_CONFIG;
	printf("Profiles (%zu):\n", cfg->mail ? cfg->mail->n_profiles : (size_t)0);
	for (i = 0; cfg->mail && i < cfg->mail->n_profiles; i++) {
		const struct ab_profile *p = cfg->mail->profiles[i];

		printf("  %-18s %s\n", p->name, p->description ? p->description : "");
		if (p->reference)
			printf("  %-18s   format: %s\n", "", p->reference);
		printf("  %-18s   %s:%d\n", "", p->file ? p->file : "?", p->line);
	}
	printf("\n");
	print_order(cfg->mail, false);
	print_order(cfg->mail, true);
	printf("A mail or syslog source that names a profile pins it; parse --profile NAME "
	       "forces one.\n");
	ab_config_free(cfg);
	return 0;
}
