/*
 * fuzz_frame.c - libFuzzer target for the RFC 6587 framer (src/ingest/syslog_frame.c).
 *
 * Public: LLVMFuzzerTestOneInput.  The first input byte picks the maximum
 * message size and the chunk size; the rest is fed in chunks.  Checks that
 * no message is longer than max, the buffer never grows past max + small,
 * and feeding all at once gives the same messages as feeding in chunks.
 * Diagnostics: abort() on a broken invariant.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/syslog_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct acc {
	size_t max;
	unsigned long hash;
	int n;
};

static int cb(const char *msg, size_t len, unsigned flags, void *arg)
{
	struct acc *a = arg;
	size_t i;

	if (len > a->max || (len == 0 && !(flags & AB_FRAME_TRUNCATED)))
		abort();
	a->n++;
	a->hash = a->hash * 31 + len + flags;
	for (i = 0; i < len; i++)
		a->hash = a->hash * 131 + (unsigned char)msg[i];
	return 0;
}

static int run(const uint8_t *p, size_t n, size_t max, size_t step, struct acc *a)
{
	struct ab_framer f;
	char err[128];
	size_t off = 0;
	int bad = 0;

	a->max = max;
	a->hash = 0;
	a->n = 0;
	ab_framer_init(&f, max);
	while (off < n) {
		size_t k = step && n - off > step ? step : n - off;

		if (ab_framer_feed(&f, p + off, k, cb, a, err, sizeof err) < 0) {
			bad = 1;
			break;
		}
		if (f.buf.cap > max + 2)
			abort();
		off += k;
	}
	if (!bad && ab_framer_finish(&f, cb, a) < 0)
		abort();
	ab_framer_free(&f);
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
