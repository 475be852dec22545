/*
 * mailmsg.h - the alert mail the e-mail channels send (email over SMTP,
 * graphmail through Microsoft Graph): the settings they share (from, to,
 * subject_prefix), the recipients of a message and the MIME text itself.
 */
#ifndef AB_PLUGINS_MAILMSG_H
#define AB_PLUGINS_MAILMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <alertbridge/plugin.h>

#include "tmpl.h"

#define MM_RCPT_MAX 50
#define MM_ADDR_MAX 254
#define MM_MAIL_MAX (2 * 1024 * 1024)

/* from (required, a plain address), to (optional: 1..MM_RCPT_MAX plain
 * addresses; none for a channel that only e-mails people), subject_prefix
 * (default "[alertbridge]"); domain is from's, for Message-IDs. */
struct mm_conf {
	char *from, *prefix, *domain;
	char **to;               /* NULL-terminated, maybe empty */
	struct tmpl_set tpl;     /* template.subject, title, body, text, html */
	const struct ab_host *host;   /* the plugin sets it before mm_conf_parse (warnings) */
};

/* Consume from, to, subject_prefix and template from cfg into mc.  0, or -1 with
 * "setting 'x': ..." in err (mc is then freed by mm_conf_free too). */
int mm_conf_parse(json_t *cfg, struct mm_conf *mc, char *err, size_t errsz);
void mm_conf_free(struct mm_conf *mc);

/* A plain address (local@domain, no spaces, quotes, brackets or controls). */
bool mm_addr_ok(const char *a);

/* The recipients of msg into out (at most MM_RCPT_MAX, borrowed): the
 * people of the payload's "recipients" when the host set it (their
 * addresses instead of 'to'), else 'to'.  The count, or 0 with the reason
 * in err (nobody to send to: a permanent failure). */
size_t mm_rcpts(char *const *to, const struct ab_message *msg, const char **out, char *err,
	size_t errsz);

/* The mail for msg to to[0..n_to-1] (malloc'd, *len bytes, CRLF lines):
 * multipart/alternative (text, then HTML), threading Message-ID /
 * In-Reply-To / References by the finding's fingerprint, dated now_ms.
 * NULL with err: *oom set when memory ran out (worth another try), else
 * the message cannot be sent as is (larger than MM_MAIL_MAX, no payload). */
char *mm_build(const struct mm_conf *mc, int64_t now_ms, const struct ab_message *msg,
	const char *const *to, size_t n_to, size_t *len, bool *oom, char *err, size_t errsz);

#endif
