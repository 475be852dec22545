/*
 * relp_frame.h - incremental parsing of a RELP stream (the Reliable Event
 * Logging Protocol of rsyslog's omrelp / librelp, server side) and the
 * responses a server sends.
 *
 * A frame is "TXNR SP COMMAND SP DATALEN [SP DATA] LF": TXNR 1..9 digits,
 * COMMAND 1..32 letters, DATALEN 1..9 digits, DATA exactly DATALEN bytes
 * (absent when DATALEN is 0).  No I/O: the caller feeds what it read and
 * gets each complete frame through a callback.
 */
#ifndef AB_RELP_FRAME_H
#define AB_RELP_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define AB_RELP_CMD_MAX 32
#define AB_RELP_TXNR_MAX 999999999u

/* Flags passed with a frame. */
#define AB_RELP_TRUNCATED 0x1   /* DATA longer than max: only the first max bytes */

/* Called once per complete frame; cmd is NUL-terminated, data is not (both
 * valid during the call only).  Return 0 to go on, non-zero to stop. */
typedef int (*ab_relp_cb)(uint32_t txnr, const char *cmd, const char *data, size_t len,
	unsigned flags, void *arg);

struct ab_relp_framer {
	int state;
	size_t max;              /* longest DATA passed on */
	struct ab_buf buf;       /* DATA of the current frame, at most max bytes */
	uint32_t txnr;
	char cmd[AB_RELP_CMD_MAX + 1];
	size_t cmdlen;
	size_t datalen, want;    /* announced, still to come */
	unsigned digits;
	bool error;
	char errmsg[128];
};

void ab_relp_framer_init(struct ab_relp_framer *f, size_t max);
void ab_relp_framer_free(struct ab_relp_framer *f);
/* True between frames (nothing of a frame buffered). */
bool ab_relp_framer_idle(const struct ab_relp_framer *f);

/*
 * Feed n bytes.  Returns the number of frames passed to cb, or -1 when the
 * stream is broken (malformed header, missing trailer, out of memory, cb
 * asked to stop): errmsg says why (also copied to err); the caller closes
 * the session.  After an error every further feed returns -1.  DATA longer
 * than max is passed on cut to max bytes with AB_RELP_TRUNCATED.
 */
int ab_relp_framer_feed(struct ab_relp_framer *f, const void *data, size_t n, ab_relp_cb cb,
	void *arg, char *err, size_t errsz);

/* Append the response frame "TXNR rsp LEN TEXT LF" to out.  0 or -1 (out's
 * cap). */
int ab_relp_rsp(struct ab_buf *out, uint32_t txnr, const char *text);

/* The "open" answer's text: 200 OK and the server's offers. */
extern const char ab_relp_open_ok[];

#endif
