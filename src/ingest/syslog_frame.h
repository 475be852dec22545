/*
 * syslog_frame.h - incremental framing of a syslog TCP stream (RFC 6587).
 *
 * Per connection the first byte decides: a digit -> octet counting
 * ("LEN SP MSG"), anything else -> non-transparent framing (messages end
 * with LF, NUL or CRLF).  No I/O: the caller feeds what it read and gets
 * each complete message through a callback.
 */
#ifndef AB_SYSLOG_FRAME_H
#define AB_SYSLOG_FRAME_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

enum ab_frame_mode {
	AB_FRAME_DETECT = 0,   /* nothing seen yet */
	AB_FRAME_OCTET = 1,    /* RFC 6587 3.4.1 octet counting */
	AB_FRAME_LF = 2,       /* RFC 6587 3.4.2 non-transparent (LF / NUL / CRLF) */
};

/* Flags passed with a message. */
#define AB_FRAME_TRUNCATED 0x1   /* longer than max: only the first max bytes */

/* Octet counts with more digits than this are hostile: error state. */
#define AB_FRAME_MAX_DIGITS 9

/* Called once per complete message; msg is not NUL-terminated and is only
 * valid during the call.  Return 0 to go on, non-zero to stop feeding. */
typedef int (*ab_frame_cb)(const char *msg, size_t len, unsigned flags, void *arg);

struct ab_framer {
	enum ab_frame_mode mode;
	size_t max;              /* longest message passed on */
	struct ab_buf buf;       /* partial message, never more than max bytes */
	/* octet counting */
	bool in_len;             /* reading LEN digits */
	size_t len_digits;
	size_t want;             /* bytes of the current message still to come */
	bool trunc;              /* current message is oversize: bytes past max are dropped */
	/* LF mode */
	bool discarding;         /* dropping the rest of an oversize line */
	bool error;
	char errmsg[128];
};

void ab_framer_init(struct ab_framer *f, size_t max);
void ab_framer_free(struct ab_framer *f);

/*
 * Feed n bytes.  Returns the number of messages passed to cb, or -1 when
 * the stream is broken (bad or absurd octet count: the caller should close
 * the connection; errmsg says why, also copied to err), cb asked to stop,
 * or memory ran out.  After an error every further feed returns -1.
 * In octet-counting mode a message longer than max (but with a sane count)
 * is passed on truncated and the rest skipped; in LF mode an oversize line
 * is passed on truncated and the rest dropped up to the next terminator.
 */
int ab_framer_feed(struct ab_framer *f, const void *data, size_t n, ab_frame_cb cb, void *arg,
		   char *err, size_t errsz);

/* End of stream: pass on a final unterminated line (LF mode) or a partial
 * octet-counted message (marked truncated).  Returns messages passed, or -1. */
int ab_framer_finish(struct ab_framer *f, ab_frame_cb cb, void *arg);

#endif
