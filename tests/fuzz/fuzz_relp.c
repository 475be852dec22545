/*
 * fuzz_relp.c - libFuzzer target for a RELP server session (src/ingest/
 * relp_frame.c and relp_sess.c).
 *
 * Public: LLVMFuzzerTestOneInput.  The first input byte picks the maximum
 * message size and the chunk size; the rest is fed in chunks, each message
 * gets the next commit number and every few chunks the session answers what
 * is durable.  Checks: no message longer than max, the DATA buffer never
 * past max, never more than AB_RELP_PENDING_HARD unanswered frames, every
 * answer written ends in LF, and feeding all at once takes the same
 * messages as feeding in chunks.
 * Diagnostics: abort() on a broken invariant.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/relp_sess.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct acc {
	size_t max;
	unsigned long hash;
	uint64_t seq;
	int n;
};

static int take(const char *msg, size_t len, bool truncated, void *arg, uint64_t *seq)
{
	struct acc *a = arg;

	if (len > a->max)
		abort();
	a->n++;
	a->hash = a->hash * 31 + len + truncated;
	for (size_t i = 0; i < len; i++)
		a->hash = a->hash * 131 + (unsigned char)msg[i];
	*seq = ++a->seq;
	return 0;
}

static void answer(struct ab_relp_sess *s, uint64_t done)
{
	size_t len;
	const char *p;

	if (ab_relp_sess_ack(s, done) < 0)
		return;
	p = ab_relp_sess_out(s, &len);
	if (len > 0 && p[len - 1] != '\n')
		abort();
	ab_relp_sess_wrote(s, len);
}

static int run(const uint8_t *p, size_t n, size_t max, size_t step, struct acc *a)
{
	struct ab_relp_sess s;
	char err[160];
	size_t off = 0;
	int bad = 0, k = 0;

	memset(a, 0, sizeof *a);
	a->max = max;
	ab_relp_sess_init(&s, max);
	while (off < n) {
		size_t c = step && n - off > step ? step : n - off;

		if (ab_relp_sess_feed(&s, p + off, c, take, a, err, sizeof err) < 0) {
			bad = 1;
			break;
		}
		if (s.fr.buf.len > max || s.n - s.head > AB_RELP_PENDING_HARD)
			abort();
		if (++k % 3 == 0)
			answer(&s, a->seq / 2);
		off += c;
	}
	if (!bad)
		answer(&s, a->seq);
	if (!bad && s.n != s.head)
		abort();                 /* everything durable: everything answered */
	ab_relp_sess_free(&s);
	return bad;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct acc a1, a2;
	size_t max, step;
	int b1, b2;

	if (size < 1)
		return 0;
	max = 1 + (data[0] & 0x3f);
	step = 1 + (data[0] >> 6);
	b1 = run(data + 1, size - 1, max, 0, &a1);
	b2 = run(data + 1, size - 1, max, step, &a2);
	if (b1 != b2 || (!b1 && (a1.n != a2.n || a1.hash != a2.hash)))
		abort();
	return 0;
}
