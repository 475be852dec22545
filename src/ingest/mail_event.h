/*
 * mail_event.h - from a raw alert mail to an event: mail source selection
 * (envelope recipient/sender, client network, header regexes), sender
 * trust (client networks, Authentication-Results) and the profile run.
 * Shared by the milter and by `alertbridge parse|send|explain`: both take
 * a mail through ab_mail_accept().
 */
#ifndef AB_MAIL_EVENT_H
#define AB_MAIL_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "lib/buf.h"
#include "config/config.h"
#include "event/event.h"
#include "config/config_mail.h"
#include "parse/mail.h"

/* The SMTP envelope as the milter saw it (all members may be NULL/0). */
struct ab_mail_env {
	const struct sockaddr *client;
	const char *client_host;     /* for origin.host */
	const char *sender;          /* MAIL FROM address without <> */
	char *const *rcpts;          /* RCPT TO addresses without <> */
	size_t n_rcpts;
};

/* Strip <>, surrounding blanks and ESMTP parameters: "<a@b> SIZE=1" -> "a@b". */
void ab_mail_addr_clean(const char *in, char *out, size_t outsz);

/* Can src still match once headers are known?  (network, sender, recipients) */
bool ab_mail_source_env_ok(const struct ab_mail_source *src, const struct ab_mail_env *env);
/* Does the recipient match one of src's recipient globs? */
bool ab_mail_source_rcpt(const struct ab_mail_source *src, const char *rcpt);
/* Full match, headers included (m may be NULL: header conditions fail). */
bool ab_mail_source_match(const struct ab_mail_source *src, const struct ab_mail_env *env,
	const struct ab_mail *m);
/* First matching source, or NULL. */
const struct ab_mail_source *ab_mail_source_select(const struct ab_mail_conf *mc,
	const struct ab_mail_env *env, const struct ab_mail *m);

/* route+CHANNEL@domain: copies CHANNEL into chan and returns true. */
bool ab_mail_route_channel(const struct ab_mail_conf *mc, const char *rcpt, char *chan,
	size_t chansz);

/* Is the sender trusted for src?  why gets the reason either way. */
bool ab_mail_trusted(const struct ab_mail_source *src, const struct ab_mail_env *env,
	const struct ab_mail *m, char *why, size_t whysz);

struct ab_profile;
struct ab_detect_entry;

/* The profile for a parsed mail: force when set; else src's profile when
 * it names one; else the first detect alternative that holds (*hit gets
 * it; hit may be NULL); else the profile named "generic" (NULL when not
 * defined: the built-in defaults). */
const struct ab_profile *ab_mail_pick_profile(const struct ab_mail_conf *mc,
	const struct ab_mail_source *src, const struct ab_mail *m, const struct ab_profile *force,
	const struct ab_detect_entry **hit);

/* Why that profile, in words (forced, pinned by a source, the detect
 * alternative hit that held, or none held), appended to out. */
void ab_mail_profile_reason(const struct ab_mail_source *src, const struct ab_profile *force,
	const struct ab_detect_entry *hit, struct ab_buf *out);

/* Build the event for a parsed mail with the profile ab_mail_pick_profile
 * chooses (fields.profile names it).  kind is the origin kind ("mail" or
 * "cli").  trace (may be NULL) gets the profile choice and trace.
 * Returns the event or NULL (no memory). */
struct ab_event *ab_mail_event(const struct ab_mail_conf *mc, const struct ab_mail_source *src,
	const struct ab_mail *m, const struct ab_mail_env *env, const char *kind,
	const struct ab_profile *force, struct ab_buf *trace);

/* Mark an event from an untrusted sender: severity capped at max, title
 * prefixed "[unverified sender] ", fields.unverified_sender = true. */
void ab_mail_mark_unverified(struct ab_event *ev, enum ab_severity max, const char *why);

/* What the acceptance of one mail decided. */
enum ab_mail_verdict {
	AB_MAIL_IGNORED,    /* no mail source takes it: pass it untouched */
	AB_MAIL_PASSED,     /* untrusted sender, its source says untrusted = "pass" */
	AB_MAIL_REJECTED,   /* untrusted sender, its source says untrusted = "reject" */
	AB_MAIL_ACCEPTED,   /* an event (marked when the sender is unverified) */
	AB_MAIL_NOMEM,
};

struct ab_mail_accept {
	enum ab_mail_verdict verdict;
	const struct ab_mail_source *src;   /* the source that took it, or NULL */
	bool trusted;
	char why[256];                      /* why the sender is (not) trusted */
	struct ab_event *ev;                /* ACCEPTED (or any verdict with
	                                     * AB_MAIL_ALWAYS_EVENT): caller frees */
	/* enabled channels named by route+CHANNEL recipients (borrowed from
	 * the configuration): they take the event instead of the rules */
	const char *direct[AB_RULE_MAX_CHANNELS];
	size_t n_direct;
};

/* Build the event whatever the verdict (parse, explain and send of the
 * CLI show what a mail becomes and then say what the milter would do). */
#define AB_MAIL_ALWAYS_EVENT 1u

/*
 * The one acceptance path of an alert mail, for the milter and the CLI:
 * select the mail source (src when the caller names one), check the
 * sender's trust and apply the source's untrusted policy, build the event
 * (kind, force and trace as for ab_mail_event), mark it when unverified,
 * and collect the route+CHANNEL recipients (the envelope's; the To:
 * addresses only when there is no envelope at all: no recipient, sender
 * or client).  notes (may be NULL) gets one line per recipient that names
 * a disabled or an undefined channel.  out->ev is NULL unless the verdict
 * is AB_MAIL_ACCEPTED or flags has AB_MAIL_ALWAYS_EVENT.
 */
void ab_mail_accept(const struct ab_config *cfg, const struct ab_mail_source *src,
	const struct ab_mail_env *env, const struct ab_mail *m, const char *kind,
	const struct ab_profile *force, struct ab_buf *trace, unsigned flags,
	struct ab_buf *notes, struct ab_mail_accept *out);

#endif
