/*
 * cli_mail.c - mail and event JSON in `alertbridge`:
 *   parse [--source NAME] [--profile NAME] [ENVELOPE] MAIL.eml|-
 *       the event JSON a mail becomes; stderr says which profile and why,
 *       and what the milter would do with the mail
 *   send [--source NAME] [ENVELOPE] MAIL.eml|EVENT.json|-
 *       parse, route and enqueue, as the milter does: the same mail source
 *       selection, sender trust and untrusted policy (ab_mail_accept), then
 *       the one send (cli_common.c); stderr says what happened
 *   explain [--at TIME] [--source NAME] [--profile NAME] [ENVELOPE] MAIL.eml|EVENT.json|-
 *       event, profile choice and trace, then the one explain (a dry run
 *       in the store); sends nothing
 *   profiles
 *       the profiles, their tools and the order in which their detect
 *       blocks are tried
 * ENVELOPE is what the milter gets from the MTA: --client ADDR (the SMTP
 * client's IP address, for trusted_networks and client networks),
 * --sender ADDR (MAIL FROM), --rcpt ADDR (RCPT TO, repeatable; without
 * it the To: addresses stand in).  Input starting with '{' is canonical
 * event JSON: one reader for a file and standard input alike.
 *
 * Public: ab_cli_mail, ab_cli_profiles (cli.h).
 * A mail no source takes is still sent by `send` (the operator asked for
 * it; a note says the milter would pass it untouched).
 * Diagnostics: stderr; exit codes from sysexits.h (EX_DATAERR for input
 * that is neither a mail nor an event, or a mail whose source refuses or
 * passes an untrusted sender; EX_TEMPFAIL when the store could not commit;
 * EX_CONFIG for a bad configuration or an unknown source or profile).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "lib/buf.h"
#include "lib/util.h"
#include "config/config.h"
#include "config/config_mail.h"
#include "event/event.h"
#include "parse/detect.h"
#include "parse/mail.h"
#include "parse/profile.h"
#include "ingest/mail_event.h"
#include "cli/cli.h"

#define MAX_INPUT (64u * 1024 * 1024)
#define MAX_RCPTS 64

/* What the command line says: the verb, its options, the envelope. */
struct mail_opts {
	const char *cmd, *path, *source, *profile, *client, *sender;
	char *rcpts[MAX_RCPTS];
	size_t n_rcpts;
	int64_t at;
	struct sockaddr_storage client_sa;
};

/* The event of the input, and what taking it like the milter decided. */
struct mail_input {
	struct ab_event *ev;
	bool is_mail;
	struct ab_mail_accept acc;   /* for a mail */
};

static bool is_json_text(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && isspace((unsigned char)s[i]))
		i++;
	return i < len && (s[i] == '{' || s[i] == '[' || s[i] == '"');   /* never a mail */
}

/* Which profile, and why (for parse). */
static void profile_why(const struct ab_config *cfg, const struct ab_mail_source *src,
			const struct ab_mail *m, const struct ab_profile *force, struct ab_buf *why)
{
	const struct ab_detect_entry *hit = NULL;
	const struct ab_profile *p = ab_mail_pick_profile(cfg->mail, src, m, force, &hit);

	ab_buf_printf(why, "profile %s: ", p ? p->name : "(built-in defaults)");
	ab_mail_profile_reason(src, force, hit, why);
}

/* What the milter would do with this mail, when that is not "take it". */
static void verdict_note(const struct ab_mail_accept *a)
{
	const char *hint = "; --client ADDR gives the address the mail came from";

	switch (a->verdict) {
	case AB_MAIL_IGNORED:
		fprintf(stderr, "alertbridge: note: no mail source takes this mail: the milter "
			"would pass it untouched (the event is built with the profiles' "
			"detection)\n");
		break;
	case AB_MAIL_REJECTED:
		fprintf(stderr, "alertbridge: note: untrusted sender (%s): mail source %s "
			"refuses it (untrusted = \"reject\"), the milter would answer 550%s\n",
			a->why, a->src->name, hint);
		break;
	case AB_MAIL_PASSED:
		fprintf(stderr, "alertbridge: note: untrusted sender (%s): mail source %s passes "
			"it untouched (untrusted = \"pass\"), the milter would make no event%s\n",
			a->why, a->src->name, hint);
		break;
	case AB_MAIL_ACCEPTED:
		if (a->src && !a->trusted)
			fprintf(stderr, "alertbridge: note: untrusted sender (%s): the event is "
				"marked unverified (mail source %s)%s\n", a->why, a->src->name, hint);
		break;
	case AB_MAIL_NOMEM:
		break;
	}
}

/* Print each line of notes as a note on stderr. */
static void print_notes(const struct ab_buf *notes)
{
	const char *p = notes->len ? notes->data : "", *nl;

	for (; *p; p = nl + 1) {
		if (!(nl = strchr(p, '\n')))
			nl = p + strlen(p);
		fprintf(stderr, "alertbridge: note: %.*s\n", (int)(nl - p), p);
		if (!*nl)
			break;
	}
}

/* Read the input and make its event: a mail goes through the milter's
 * acceptance path.  0, or an exit code after a message. */
static int read_event(const struct ab_config *cfg, const struct mail_opts *o,
		      const struct ab_profile *force, struct ab_buf *why, struct ab_buf *trace,
		      struct mail_input *in)
{
	const struct ab_mail_source *src = NULL;
	struct ab_buf notes = AB_BUF_INIT(4096);
	struct ab_mail *m = NULL;
	struct ab_mail_env env;
	size_t len = 0;
	char *raw, err[512];
	int rc;

	memset(in, 0, sizeof *in);
	if (o->source && !(src = ab_mail_source_by_name(cfg->mail, o->source))) {
		fprintf(stderr, "alertbridge: no mail source '%s' in %s\n", o->source, cfg->path);
		return EX_CONFIG;
	}
	if (!(raw = ab_cli_read_input(o->path, MAX_INPUT, &len)))
		return EX_NOINPUT;
	if (is_json_text(raw, len)) {
		in->ev = ab_cli_event_from_text(raw, len, o->path);
		free(raw);
		return in->ev ? 0 : EX_DATAERR;
	}
	in->is_mail = true;
	rc = ab_mail_parse(raw, len, cfg->mail ? &cfg->mail->limits : NULL, &m, err, sizeof err);
	free(raw);
	if (rc < 0) {
		fprintf(stderr, "alertbridge: %s: not a mail message: %s\n", o->path, err);
		return EX_DATAERR;
	}
	if (rc > 0)
		fprintf(stderr, "alertbridge: %s: %s (the milter would pass this mail untouched; "
			"the event below is from what could be parsed)\n", o->path, err);
	memset(&env, 0, sizeof env);
	if (o->client) {
		env.client = (const struct sockaddr *)&o->client_sa;
		env.client_host = o->client;
	}
	env.sender = o->sender;
	env.rcpts = o->rcpts;
	env.n_rcpts = o->n_rcpts;
	ab_mail_accept(cfg, src, &env, m, "cli", force, trace, AB_MAIL_ALWAYS_EVENT, &notes,
		       &in->acc);
	in->ev = in->acc.ev;
	if (why)
		profile_why(cfg, in->acc.src, m, force, why);
	print_notes(&notes);
	ab_buf_free(&notes);
	ab_mail_free(m);
	if (!in->ev) {
		fprintf(stderr, "alertbridge: out of memory\n");
		return EX_OSERR;
	}
	verdict_note(&in->acc);
	return 0;
}

/* An IPv4 or IPv6 address for --client; -1 if it is not one. */
static int client_addr(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, s, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		return 0;
	}
	return -1;
}

static int mail_usage(void)
{
	fprintf(stderr, "usage: alertbridge [-c FILE] parse [--source NAME] [--profile NAME] "
		"[ENVELOPE] MAIL.eml|-\n"
		"       alertbridge [-c FILE] explain [--at TIME] [--source NAME] [--profile NAME] "
		"[ENVELOPE] MAIL.eml|EVENT.json|-\n"
		"       alertbridge [-c FILE] send [--source NAME] [ENVELOPE] MAIL.eml|EVENT.json|-\n"
		"ENVELOPE: [--client ADDR] [--sender ADDR] [--rcpt ADDR]... (as the MTA would "
		"give them to the milter)\n");
	return EX_USAGE;
}

/* Options of parse / send / explain; 0 or an exit code after a message. */
static int mail_options(int argc, char **argv, struct mail_opts *o)
{
	memset(o, 0, sizeof *o);
	o->cmd = argv[0];
	o->at = ab_now_ms();
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool has = i + 1 < argc;

		if (!strcmp(a, "--source") && has) {
			o->source = argv[++i];
		} else if (!strcmp(a, "--profile") && has && strcmp(o->cmd, "send")) {
			o->profile = argv[++i];
		} else if (!strcmp(a, "--at") && has && !strcmp(o->cmd, "explain")) {
			if (ab_time_parse_rfc3339(argv[++i], &o->at) < 0) {
				fprintf(stderr, "alertbridge: --at '%s' is not an RFC 3339 time such "
					"as 2025-03-30T01:30:00Z\n", argv[i]);
				return EX_USAGE;
			}
		} else if (!strcmp(a, "--client") && has) {
			o->client = argv[++i];
			if (client_addr(o->client, &o->client_sa) < 0) {
				fprintf(stderr, "alertbridge: --client '%s' is not an IPv4 or IPv6 "
					"address\n", o->client);
				return EX_USAGE;
			}
		} else if (!strcmp(a, "--sender") && has) {
			o->sender = argv[++i];
		} else if (!strcmp(a, "--rcpt") && has) {
			if (o->n_rcpts == MAX_RCPTS) {
				fprintf(stderr, "alertbridge: at most %d --rcpt\n", MAX_RCPTS);
				return EX_USAGE;
			}
			o->rcpts[o->n_rcpts++] = argv[++i];
		} else if (!o->path && (a[0] != '-' || !strcmp(a, "-"))) {
			o->path = a;
		} else {
			return mail_usage();
		}
	}
	return o->path ? 0 : mail_usage();
}

int ab_cli_mail(int argc, char **argv, const struct ab_cli *cli)
{
	const struct ab_profile *force = NULL;
	struct ab_buf why = AB_BUF_INIT(4096);
	struct ab_buf trace = AB_BUF_INIT(256 * 1024);
	struct ab_config *cfg;
	struct mail_input in;
	struct mail_opts o;
	bool parse, explain;
	int rc;

	if ((rc = mail_options(argc, argv, &o)) != 0)
		return rc;
	parse = !strcmp(o.cmd, "parse");
	explain = !strcmp(o.cmd, "explain");
	if (!(cfg = ab_cli_load_config(cli->conf_path)))
		return EX_CONFIG;
	if (o.profile && !(force = ab_mail_profile(cfg->mail, o.profile))) {
		fprintf(stderr, "alertbridge: no profile '%s' in %s (alertbridge profiles lists "
			"them)\n", o.profile, cfg->path);
		ab_config_free(cfg);
		return EX_CONFIG;
	}
	rc = read_event(cfg, &o, force, parse ? &why : NULL, explain ? &trace : NULL, &in);
	if (why.len)
		fprintf(stderr, "alertbridge: %s\n", ab_buf_cstr(&why));
	if (rc == 0) {
		if (!in.ev->received_at)
			in.ev->received_at = o.at;
		ab_event_ensure_id(in.ev);
		if (parse) {
			ab_cli_print_event(in.ev);
		} else if (explain) {
			rc = ab_cli_explain_event(cfg, in.ev, ab_buf_cstr(&trace), in.acc.direct,
						  in.acc.n_direct, o.at);
		} else if (in.is_mail && (in.acc.verdict == AB_MAIL_REJECTED ||
					  in.acc.verdict == AB_MAIL_PASSED)) {
			fprintf(stderr, "alertbridge: nothing was queued (the mail source's untrusted "
				"policy refuses this mail)\n");
			rc = EX_DATAERR;
		} else {
			rc = ab_cli_send_event(cfg, in.ev, in.acc.direct, in.acc.n_direct);
		}
	}
	ab_event_free(in.ev);
	ab_buf_free(&why);
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

int ab_cli_profiles(int argc, char **argv, const struct ab_cli *cli)
{
	struct ab_config *cfg;
	size_t i;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: alertbridge [-c FILE] profiles\n");
		return EX_USAGE;
	}
	if (!(cfg = ab_cli_load_config(cli->conf_path)))
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
