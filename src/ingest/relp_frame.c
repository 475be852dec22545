/*
 * relp_frame.c - incremental parsing of a RELP stream, server side, and
 * the response frames (the protocol as librelp's doc/relp.html and its
 * implementation define it; rsyslog's omrelp is the client we serve).
 *
 * Frames are parsed byte by byte through a small state machine: TXNR,
 * COMMAND, DATALEN, DATA, trailer LF.  Only DATA is buffered, capped at max
 * bytes (an ab_buf per session); the rest of an oversize DATA is skipped
 * and the frame passed on marked AB_RELP_TRUNCATED, so a sender's large
 * message costs no more memory than max_message.  A header that breaks
 * the grammar (non-digit in TXNR or DATALEN, more than 9 digits, TXNR 0,
 * a command that is empty, longer than 32 or not letters, DATA not followed
 * by LF) puts the parser in an error state: RELP recovers from errors by
 * ending the session, and the sender retransmits what was not answered.
 *
 * Public: ab_relp_framer_init, ab_relp_framer_free, ab_relp_framer_idle,
 * ab_relp_framer_feed, ab_relp_rsp, ab_relp_open_ok.
 * Diagnostics: errmsg / err, e.g. "bad transaction number (byte 0x41)",
 * "frame not terminated by LF (byte 0x78)".
 */
#include <stdio.h>
#include <string.h>

#include "ingest/relp_frame.h"

enum { S_TXNR, S_CMD, S_LEN, S_DATA, S_TRAILER };

/* relp_version 0 is what librelp speaks; "syslog" is the only command. */
const char ab_relp_open_ok[] = "200 OK\nrelp_version=0\nrelp_software=alertbridge\n"
	"commands=syslog";

void ab_relp_framer_init(struct ab_relp_framer *f, size_t max)
{
	memset(f, 0, sizeof *f);
	f->max = max ? max : 1;
	ab_buf_init(&f->buf, f->max);
	f->state = S_TXNR;
}

void ab_relp_framer_free(struct ab_relp_framer *f)
{
	ab_buf_free(&f->buf);
}

bool ab_relp_framer_idle(const struct ab_relp_framer *f)
{
	return f->state == S_TXNR && f->digits == 0;
}

static int fail(struct ab_relp_framer *f, char *err, size_t errsz, const char *what,
	unsigned char c, bool show)
{
	if (!f->error) {
		f->error = true;
		if (show)
			snprintf(f->errmsg, sizeof f->errmsg, "RELP: %s (byte 0x%02x)", what, c);
		else
			snprintf(f->errmsg, sizeof f->errmsg, "RELP: %s", what);
	}
	if (err && errsz)
		snprintf(err, errsz, "%s", f->errmsg);
	return -1;
}

static void next_frame(struct ab_relp_framer *f)
{
	f->state = S_TXNR;
	f->txnr = 0;
	f->cmdlen = 0;
	f->cmd[0] = '\0';
	f->datalen = f->want = 0;
	f->digits = 0;
	ab_buf_reset(&f->buf);
}

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int ab_relp_framer_feed(struct ab_relp_framer *f, const void *data, size_t n, ab_relp_cb cb,
	void *arg, char *err, size_t errsz)
{
	const unsigned char *p = data, *end = p + n;
	int count = 0;

	if (f->error)
		return fail(f, err, errsz, f->errmsg, 0, false);
	while (p < end) {
		unsigned char c = *p;

		switch (f->state) {
		case S_TXNR:
			if (c >= '0' && c <= '9' && f->digits < 9) {
				f->txnr = f->txnr * 10 + (uint32_t)(c - '0');
				f->digits++;
			} else if (c == ' ' && f->digits > 0 && f->txnr > 0) {
				f->state = S_CMD;
				f->digits = 0;
			} else {
				return fail(f, err, errsz, f->digits >= 9 && c >= '0' && c <= '9' ?
					"transaction number longer than 9 digits" :
					"bad transaction number", c, true);
			}
			p++;
			break;
		case S_CMD:
			if (is_alpha(c) && f->cmdlen < AB_RELP_CMD_MAX) {
				f->cmd[f->cmdlen++] = (char)c;
				f->cmd[f->cmdlen] = '\0';
			} else if (c == ' ' && f->cmdlen > 0) {
				f->state = S_LEN;
			} else {
				return fail(f, err, errsz, "bad command (1 to 32 letters)", c, true);
			}
			p++;
			break;
		case S_LEN:
			if (c >= '0' && c <= '9' && f->digits < 9) {
				f->datalen = f->datalen * 10 + (size_t)(c - '0');
				f->digits++;
				p++;
				break;
			}
			if (f->digits == 0 || (c >= '0' && c <= '9'))
				return fail(f, err, errsz, "bad data length (1 to 9 digits)", c, true);
			if (f->datalen == 0) {
				/* "N cmd 0 LF"; a space before the LF is tolerated */
				f->state = S_TRAILER;
				if (c == ' ')
					p++;
				break;
			}
			if (c != ' ')
				return fail(f, err, errsz, "data length not followed by a space", c,
					true);
			f->want = f->datalen;
			f->state = S_DATA;
			p++;
			break;
		case S_DATA: {
			size_t take = (size_t)(end - p) < f->want ? (size_t)(end - p) : f->want;
			size_t room = f->max - f->buf.len;

			if (room > 0 && ab_buf_append(&f->buf, p, take < room ? take : room) < 0)
				return fail(f, err, errsz, "out of memory", 0, false);
			p += take;
			f->want -= take;
			if (f->want == 0)
				f->state = S_TRAILER;
			break;
		}
		case S_TRAILER:
			if (c != '\n')
				return fail(f, err, errsz, "frame not terminated by LF", c, true);
			p++;
			count++;
			if (cb(f->txnr, f->cmd, f->buf.data ? f->buf.data : "", f->buf.len,
				f->datalen > f->max ? AB_RELP_TRUNCATED : 0, arg) != 0)
				return fail(f, err, errsz, "stopped by the frame callback", 0, false);
			next_frame(f);
			break;
		}
	}
	return count;
}

int ab_relp_rsp(struct ab_buf *out, uint32_t txnr, const char *text)
{
	size_t n = strlen(text);

	return n ? ab_buf_printf(out, "%u rsp %zu %s\n", (unsigned)txnr, n, text) :
		ab_buf_printf(out, "%u rsp 0\n", (unsigned)txnr);
}
