/*
 * log.h - process logging to stderr or syslog, and secret redaction.
 */
#ifndef AB_LOG_H
#define AB_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <alertbridge/plugin.h>   /* AB_LOG_* levels */

void ab_log_init(const char *ident, bool use_syslog, int max_level);
void ab_log_set_level(int max_level);
void ab_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ab_vlog(int level, const char *fmt, va_list ap);
/* Parse "err", "warning", "notice", "info", "debug"; -1 if unknown. */
int ab_log_level_parse(const char *s);

/* Redact a URL for logs: keep scheme://host[:port], drop userinfo, and
 * replace path/query/fragment with a slash and three asterisks, so
 * https://hooks.slack.com/services/T/B/X becomes https://hooks.slack.com
 * followed by that marker.  Non-URLs become "***". */
void ab_redact_url(const char *url, char *out, size_t outsz);

#endif
