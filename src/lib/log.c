/*
 * log.c - process logging to stderr or syslog, and URL redaction for logs.
 *
 * Public: ab_log_init, ab_log_set_level, ab_log, ab_vlog,
 * ab_log_level_parse, ab_complain, ab_complain_clear, ab_complain_set_clock,
 * ab_redact_url (see
 * log.h).
 *
 * Each message is formatted into a fixed buffer (AB_LOG_MSG_MAX bytes,
 * longer messages are cut and end in "..."), and every control character
 * (C0 and DEL, including CR and LF) is replaced by '?' so outside input
 * cannot forge extra log lines.  On stderr a line reads
 * "IDENT[PID]: LEVEL: message" and is written with one write() under a
 * mutex; with syslog it goes out as syslog(prio, "%s", msg).  Before
 * ab_log_init() messages go to stderr as "alertbridge", level info.
 *
 * Diagnostics: none of its own (a failed write to stderr is dropped).
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/util.h"

#define AB_LOG_MSG_MAX 2048
#define AB_LOG_IDENT_MAX 64

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_ident[AB_LOG_IDENT_MAX] = "alertbridge";
static atomic_bool log_syslog = false;
static atomic_int log_max = AB_LOG_INFO;

/* Names in order of level; the first one is what stderr lines show. */
static const struct {
	const char *name;
	int level;
} level_names[] = {
	{ "error", AB_LOG_ERR },
	{ "err", AB_LOG_ERR },
	{ "warning", AB_LOG_WARNING },
	{ "warn", AB_LOG_WARNING },
	{ "notice", AB_LOG_NOTICE },
	{ "info", AB_LOG_INFO },
	{ "debug", AB_LOG_DEBUG },
};

#define N_LEVEL_NAMES (sizeof level_names / sizeof level_names[0])

static const char *level_name(int level)
{
	size_t i;

	for (i = 0; i < N_LEVEL_NAMES; i++)
		if (level_names[i].level == level)
			return level_names[i].name;
	return level < AB_LOG_ERR ? "error" : "debug";
}

void ab_log_init(const char *ident, bool use_syslog, int max_level)
{
	pthread_mutex_lock(&log_lock);
	if (ident && *ident)
		ab_strlcpy(log_ident, ident, sizeof log_ident);
	if (atomic_load(&log_syslog))
		closelog();
	if (use_syslog)
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	atomic_store(&log_syslog, use_syslog);
	atomic_store(&log_max, max_level);
	pthread_mutex_unlock(&log_lock);
}

void ab_log_set_level(int max_level)
{
	atomic_store(&log_max, max_level);
}

int ab_log_level_parse(const char *s)
{
	size_t i;

	if (!s)
		return -1;
	for (i = 0; i < N_LEVEL_NAMES; i++)
		if (strcasecmp(s, level_names[i].name) == 0)
			return level_names[i].level;
	return -1;
}

/* Replace C0 controls and DEL so one message stays one line. */
static void defang(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			*s = '?';
}

static void write_all(int fd, const char *p, size_t n)
{
	int tries = 0;

	while (n > 0 && tries++ < 64) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

/* log.h has no format attribute on ab_vlog; add it here so clang's
 * -Wformat-nonliteral accepts the vsnprintf below. */
void ab_vlog(int level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

void ab_vlog(int level, const char *fmt, va_list ap)
{
	char msg[AB_LOG_MSG_MAX];
	char line[AB_LOG_MSG_MAX + AB_LOG_IDENT_MAX + 64];
	int n, saved = errno;

	if (level > atomic_load(&log_max))
		return;
	n = vsnprintf(msg, sizeof msg, fmt, ap);
	if (n < 0)
		ab_strlcpy(msg, "(unformattable log message)", sizeof msg);
	else if ((size_t)n >= sizeof msg)
		memcpy(msg + sizeof msg - 4, "...", 4);
	defang(msg);
	if (atomic_load(&log_syslog)) {
		syslog(level < AB_LOG_ERR ? LOG_ERR : level > AB_LOG_DEBUG ? LOG_DEBUG : level,
		       "%s", msg);
	} else {
		pthread_mutex_lock(&log_lock);
		n = snprintf(line, sizeof line, "%s[%ld]: %s: %s\n", log_ident,
			     (long)getpid(), level_name(level), msg);
		pthread_mutex_unlock(&log_lock);
		if (n > 0) {
			size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;

			line[len - 1] = '\n';
			write_all(STDERR_FILENO, line, len);
		}
	}
	errno = saved;
}

/* The clock of the complaints (tests set their own). */
static int64_t (*_Atomic complain_clock)(void *);
static void *_Atomic complain_clock_arg;

void ab_complain_set_clock(int64_t (*now_ms)(void *arg), void *arg)
{
	atomic_store(&complain_clock_arg, arg);
	atomic_store(&complain_clock, now_ms);
}

static int64_t complain_now(void)
{
	int64_t (*fn)(void *) = atomic_load(&complain_clock);

	return fn ? fn(atomic_load(&complain_clock_arg)) : ab_mono_ms();
}

bool ab_complain(struct ab_complaint *c, int64_t every_ms, int level, const char *fmt, ...)
{
	char msg[AB_LOG_MSG_MAX];
	int64_t now = complain_now();
	unsigned long quiet;
	va_list ap;

	pthread_mutex_lock(&c->mu);
	if (c->active && now - c->last_ms < every_ms) {
		c->quiet++;
		pthread_mutex_unlock(&c->mu);
		return false;
	}
	quiet = c->quiet;
	c->quiet = 0;
	c->last_ms = now;
	c->active = true;
	pthread_mutex_unlock(&c->mu);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (quiet)
		ab_log(level, "%s [repeated %lu more time(s) since the last such message]", msg,
		       quiet);
	else
		ab_log(level, "%s", msg);
	return true;
}

bool ab_complain_clear(struct ab_complaint *c, int level, const char *fmt, ...)
{
	char msg[AB_LOG_MSG_MAX];
	unsigned long quiet;
	va_list ap;

	pthread_mutex_lock(&c->mu);
	if (!c->active) {
		pthread_mutex_unlock(&c->mu);
		return false;
	}
	quiet = c->quiet;
	c->active = false;
	c->quiet = 0;
	pthread_mutex_unlock(&c->mu);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (quiet)
		ab_log(level, "%s [after %lu more occurrence(s) not logged]", msg, quiet);
	else
		ab_log(level, "%s", msg);
	return true;
}

void ab_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ab_vlog(level, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------ redaction */

static bool scheme_char(char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return !first && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.');
}

/* Characters we are willing to show in a host[:port] (reg-name, IPv4,
 * bracketed IPv6 with zone, port). */
static bool host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == ':' || c == '[' || c == ']' ||
	       c == '%' || c == '~';
}

/*
 * scheme "://" [userinfo "@"] host [":" port] [rest]  ->
 * scheme "://" host [":" port], plus the marker "/" "***" if userinfo or
 * rest was present.
 * Anything else, an empty host, or a result that does not fit becomes "***".
 */
void ab_redact_url(const char *url, char *out, size_t outsz)
{
	const char *p, *auth, *end, *host;
	size_t slen, hlen;
	bool hidden;
	int n;

	if (!out || outsz == 0)
		return;
	ab_strlcpy(out, "***", outsz);
	if (!url || !scheme_char(url[0], true))
		return;
	for (p = url + 1; scheme_char(*p, false); p++)
		if (p - url > 32)
			return;
	if (strncmp(p, "://", 3) != 0)
		return;
	slen = (size_t)(p - url);
	auth = p + 3;
	end = auth + strcspn(auth, "/?#");
	host = auth;
	for (p = auth; p < end; p++)      /* userinfo ends at the last '@' */
		if (*p == '@')
			host = p + 1;
	hlen = (size_t)(end - host);
	if (hlen == 0 || hlen > 300)
		return;
	for (p = host; p < end; p++)
		if (!host_char(*p))
			return;
	hidden = host != auth || *end != '\0';
	n = snprintf(out, outsz, "%.*s://%.*s%s", (int)slen, url, (int)hlen, host,
		     hidden ? "/***" : "");
	if (n < 0 || (size_t)n >= outsz)
		ab_strlcpy(out, "***", outsz);
}
