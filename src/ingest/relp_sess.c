/*
 * relp_sess.c - a RELP server session without I/O (see relp_sess.h).
 *
 * Commands: "open" (answered at once with our offers: relp_version 0,
 * command syslog), "syslog" (the DATA is a syslog message, handed to the
 * caller; answered "200 OK" when its commit is durable), "close" (answered
 * after every earlier frame, then the session ends).  Any other command is
 * answered "500 command not supported" in turn and the session goes on.
 * A syslog frame before "open", or a second "open", is answered with a 500
 * and ends the session (librelp's server does the same).  Answers leave in
 * the order the frames came; an answer waits for its own commit and those
 * of the frames before it, held in a FIFO of (txnr, commit) pairs.
 *
 * Memory: the frame parser's DATA buffer (max_message), the FIFO (at most
 * AB_RELP_PENDING_HARD entries) and the output buffer (capped OUT_MAX).
 *
 * Public: ab_relp_sess_init, ab_relp_sess_free, ab_relp_sess_feed,
 * ab_relp_sess_ack, ab_relp_sess_serverclose, ab_relp_sess_out,
 * ab_relp_sess_wrote, ab_relp_sess_busy.
 * Diagnostics (err): the parser's, "syslog frame before open", "second
 * open", "more than 65536 unanswered frames", "out of memory".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/relp_sess.h"

#define OUT_MAX (4u << 20)

enum { A_OK, A_CLOSE, A_UNSUPPORTED };

struct ab_relp_pend {
	uint64_t seq;
	uint32_t txnr;
	int what;
};

struct feed_ctx {
	struct ab_relp_sess *s;
	ab_relp_msg_cb cb;
	void *arg;
	char *err;
	size_t errsz;
};

void ab_relp_sess_init(struct ab_relp_sess *s, size_t max_message)
{
	memset(s, 0, sizeof *s);
	ab_relp_framer_init(&s->fr, max_message);
	ab_buf_init(&s->out, OUT_MAX);
}

void ab_relp_sess_free(struct ab_relp_sess *s)
{
	ab_relp_framer_free(&s->fr);
	ab_buf_free(&s->out);
	free(s->pend);
	s->pend = NULL;
	s->head = s->n = s->cap = 0;
}

static int push(struct ab_relp_sess *s, uint32_t txnr, uint64_t seq, int what)
{
	if (s->head > 0 && s->head == s->n)
		s->head = s->n = 0;
	if (s->n == s->cap) {
		struct ab_relp_pend *p;
		size_t cap;

		if (s->head > 0) {           /* slide the live part down first */
			memmove(s->pend, s->pend + s->head, (s->n - s->head) * sizeof *s->pend);
			s->n -= s->head;
			s->head = 0;
		}
		if (s->n == s->cap) {
			if (s->cap >= AB_RELP_PENDING_HARD)
				return -1;
			cap = s->cap ? s->cap * 2 : 64;
			p = realloc(s->pend, cap * sizeof *p);
			if (!p)
				return -1;
			s->pend = p;
			s->cap = cap;
		}
	}
	s->pend[s->n].seq = seq;
	s->pend[s->n].txnr = txnr;
	s->pend[s->n].what = what;
	s->n++;
	return 0;
}

static uint64_t last_seq(const struct ab_relp_sess *s)
{
	return s->n > s->head ? s->pend[s->n - 1].seq : 0;
}

static int on_frame(uint32_t txnr, const char *cmd, const char *data, size_t len,
	unsigned flags, void *arg)
{
	struct feed_ctx *x = arg;
	struct ab_relp_sess *s = x->s;
	uint64_t seq = 0;

	s->frames++;
	if (s->close_rcvd)
		return 0;                /* nothing counts after "close" */
	if (strcmp(cmd, "syslog") == 0) {
		if (!s->open) {
			ab_relp_rsp(&s->out, txnr, "500 command disabled: session not open");
			snprintf(x->err, x->errsz, "RELP: syslog frame before open");
			return -1;
		}
		if (x->cb(data, len, (flags & AB_RELP_TRUNCATED) != 0, x->arg, &seq) != 0) {
			snprintf(x->err, x->errsz, "RELP: message not taken");
			return -1;
		}
		s->msgs++;
		if (seq < last_seq(s))
			seq = last_seq(s);   /* answers stay in order */
		if (push(s, txnr, seq, A_OK) < 0)
			goto full;
		return 0;
	}
	if (strcmp(cmd, "open") == 0) {
		if (s->open) {
			ab_relp_rsp(&s->out, txnr, "500 protocol error: connection already open");
			snprintf(x->err, x->errsz, "RELP: second open in one session");
			return -1;
		}
		s->open = true;
		if (ab_relp_rsp(&s->out, txnr, ab_relp_open_ok) < 0) {
			snprintf(x->err, x->errsz, "RELP: out of memory");
			return -1;
		}
		return 0;
	}
	s->close_rcvd = strcmp(cmd, "close") == 0;
	if (push(s, txnr, last_seq(s), s->close_rcvd ? A_CLOSE : A_UNSUPPORTED) < 0)
		goto full;
	return 0;
full:
	snprintf(x->err, x->errsz, "RELP: more than %d unanswered frames (or out of memory)",
		AB_RELP_PENDING_HARD);
	return -1;
}

int ab_relp_sess_feed(struct ab_relp_sess *s, const void *data, size_t n, ab_relp_msg_cb cb,
	void *arg, char *err, size_t errsz)
{
	struct feed_ctx x = { s, cb, arg, err, errsz };
	char ferr[160];
	int r;

	err[0] = '\0';
	r = ab_relp_framer_feed(&s->fr, data, n, on_frame, &x, ferr, sizeof ferr);
	if (r < 0 && !err[0])
		snprintf(err, errsz, "%s", ferr);
	return r;
}

int ab_relp_sess_ack(struct ab_relp_sess *s, uint64_t done)
{
	int k = 0;

	while (s->head < s->n && s->pend[s->head].seq <= done) {
		const struct ab_relp_pend *p = &s->pend[s->head];
		int rc = p->what == A_OK ? ab_relp_rsp(&s->out, p->txnr, "200 OK") :
			p->what == A_CLOSE ? ab_relp_rsp(&s->out, p->txnr, "") :
			ab_relp_rsp(&s->out, p->txnr, "500 command not supported");

		if (rc < 0)
			return -1;
		if (p->what == A_CLOSE)
			s->closing = true;
		s->head++;
		k++;
	}
	if (s->head == s->n)
		s->head = s->n = 0;
	return k;
}

int ab_relp_sess_serverclose(struct ab_relp_sess *s)
{
	return ab_buf_puts(&s->out, "0 serverclose 0\n");
}

const char *ab_relp_sess_out(const struct ab_relp_sess *s, size_t *len)
{
	*len = s->out.len - s->out_off;
	return s->out.data ? s->out.data + s->out_off : "";
}

void ab_relp_sess_wrote(struct ab_relp_sess *s, size_t n)
{
	s->out_off += n;
	if (s->out_off >= s->out.len) {
		s->out_off = 0;
		ab_buf_reset(&s->out);
	} else if (s->out_off > 64 * 1024) {
		memmove(s->out.data, s->out.data + s->out_off, s->out.len - s->out_off + 1);
		s->out.len -= s->out_off;
		s->out_off = 0;
	}
}

bool ab_relp_sess_busy(const struct ab_relp_sess *s)
{
	return s->n - s->head >= AB_RELP_PENDING_SOFT;
}
