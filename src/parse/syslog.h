/*
 * syslog.h - one syslog line -> one alertbridge event.
 *
 * RFC 5424 first, then RFC 3164 and its real-world variants; then the MSG
 * part is examined for CEF, LEEF 1.0/2.0, "@cee:" JSON and plain JSON
 * (Wazuh/OSSEC alerts, Suricata EVE, Falco).  Pure functions, no I/O.
 * How RFC 3164 variants are read and how CEF/LEEF header and extension
 * fields are named (cef.name vs cef.ext.name): the header of syslog.c.
 */
#ifndef AB_PARSE_SYSLOG_H
#define AB_PARSE_SYSLOG_H

#include <stddef.h>
#include <stdint.h>

#include "event/event.h"

/* Longest line parsed; longer input is truncated and the event carries
 * fields."syslog.truncated" = true. */
#define AB_SYSLOG_MAX_LINE (64 * 1024)
/* Longest title (bytes, cut on a UTF-8 boundary). */
#define AB_SYSLOG_MAX_TITLE 256
/* Most key=value pairs taken from one CEF/LEEF extension or JSON object. */
#define AB_SYSLOG_MAX_FIELDS 128

/*
 * Fill ev (created by the caller with ab_event_new()) from one line of
 * len bytes (no terminator needed; a trailing CR/LF is ignored).
 * peer_host (may be NULL) is used for origin.host when the line names no
 * host, and goes into the id.  now_ms is the receive time; it also picks
 * the year of an RFC 3164 timestamp (the one nearest to now).
 *
 * Every line becomes an event: malformed input falls back to a plain
 * "syslog.message".  Invalid UTF-8 and NUL bytes are replaced by U+FFFD.
 * Returns 0, or -1 with a message in err only when memory runs out or an
 * argument is NULL.
 */
int ab_syslog_parse(const char *line, size_t len, const char *peer_host, int64_t now_ms,
		    struct ab_event *ev, char *err, size_t errsz);

#endif
