/*
 * relp_sess.h - one RELP server session without I/O: frames in (via
 * relp_frame.h), syslog messages out to the caller, and the answers, each
 * released only once the caller says the message is durable.
 *
 * Every message the caller takes gets a commit sequence number (its
 * group commit); ab_relp_sess_ack(s, done) answers, in order, every frame
 * whose sequence is <= done.  So a sender hears "200 OK" for a line only
 * after its fsync, and resends what was unanswered when we died.
 */
#ifndef AB_RELP_SESS_H
#define AB_RELP_SESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ingest/relp_frame.h"
#include "lib/buf.h"

/* Unanswered frames: above SOFT the caller stops reading the session until
 * answers went out; a sender that pushes more than HARD is broken. */
#define AB_RELP_PENDING_SOFT 1024
#define AB_RELP_PENDING_HARD 65536

/* A syslog message of the session: take it and set *seq to the commit it
 * belongs to (0 or an already durable one: answered at the next ack). 0 to
 * go on, non-zero to break the session. */
typedef int (*ab_relp_msg_cb)(const char *msg, size_t len, bool truncated, void *arg,
	uint64_t *seq);

struct ab_relp_pend;

struct ab_relp_sess {
	struct ab_relp_framer fr;
	bool open;                /* "open" answered */
	bool close_rcvd;          /* "close" came: later frames are ignored */
	bool closing;             /* "close" answered: end after the output is written */
	struct ab_relp_pend *pend;
	size_t head, n, cap;      /* pend[head..n) wait for their commit */
	struct ab_buf out;        /* answers not written yet, from out_off */
	size_t out_off;
	uint64_t frames, msgs;
};

void ab_relp_sess_init(struct ab_relp_sess *s, size_t max_message);
void ab_relp_sess_free(struct ab_relp_sess *s);

/* Feed bytes read from the peer.  Number of frames, or -1 when the
 * session is to end (err says why; out may hold a final error answer that
 * is worth writing). */
int ab_relp_sess_feed(struct ab_relp_sess *s, const void *data, size_t n, ab_relp_msg_cb cb,
	void *arg, char *err, size_t errsz);

/* Answer the frames whose commit is <= done, in order.  Number answered,
 * or -1 when out is full (end the session). */
int ab_relp_sess_ack(struct ab_relp_sess *s, uint64_t done);

/* Queue the server's "serverclose" hint (at shutdown).  0 or -1. */
int ab_relp_sess_serverclose(struct ab_relp_sess *s);

/* Answers waiting to be written, and how many bytes of them were. */
const char *ab_relp_sess_out(const struct ab_relp_sess *s, size_t *len);
void ab_relp_sess_wrote(struct ab_relp_sess *s, size_t n);

/* Too many unanswered frames: stop reading this session for now. */
bool ab_relp_sess_busy(const struct ab_relp_sess *s);

#endif
