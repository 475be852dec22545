/*
 * log.h - process logging to stderr or syslog, and secret redaction.
 */
#ifndef AB_LOG_H
#define AB_LOG_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <alertbridge/plugin.h>   /* AB_LOG_* levels */

void ab_log_init(const char *ident, bool use_syslog, int max_level);
void ab_log_set_level(int max_level);
void ab_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ab_vlog(int level, const char *fmt, va_list ap);
/* Parse "err", "warning", "notice", "info", "debug"; -1 if unknown. */
int ab_log_level_parse(const char *s);

/*
 * A condition that can repeat many times a second (a queue that cannot be
 * read, events that go nowhere): ab_complain() logs it at most once per
 * every_ms, and that line ends with how many repeats were not logged since
 * the previous one; ab_complain_clear() logs one line that it is over,
 * only if it was complained about.  Thread-safe; one static struct
 * ab_complaint per condition (the collectd c_complain habit).
 */
struct ab_complaint {
	pthread_mutex_t mu;
	int64_t last_ms;        /* monotonic time of the last line, 0: none */
	unsigned long quiet;    /* repeats not logged since then */
	bool active;
};
#define AB_COMPLAINT_INIT { PTHREAD_MUTEX_INITIALIZER, 0, 0, false }
/* Both return true when they logged a line. */
bool ab_complain(struct ab_complaint *c, int64_t every_ms, int level, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
bool ab_complain_clear(struct ab_complaint *c, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Tests: the monotonic clock (ms) ab_complain reads; NULL restores
 * ab_mono_ms.  Process-wide; set it before any complaint. */
void ab_complain_set_clock(int64_t (*now_ms)(void *arg), void *arg);

/* Redact a URL for logs: keep scheme://host[:port], drop userinfo, and
 * replace path/query/fragment with a slash and three asterisks, so
 * https://hooks.slack.com/services/T/B/X becomes https://hooks.slack.com
 * followed by that marker.  Non-URLs become "***". */
void ab_redact_url(const char *url, char *out, size_t outsz);

#endif
