/* common.c - clocks, CRC32C, record frames, payloads and latency
 * histograms shared by the store prototypes.  See common.h. */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

static uint32_t crc_table[8][256];
static int crc_hw = -1;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		crc_table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^
					  crc_table[0][crc_table[t - 1][i] & 0xff];
#if defined(__x86_64__)
	__builtin_cpu_init();
	crc_hw = __builtin_cpu_supports("sse4.2");
#else
	crc_hw = 0;
#endif
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc_sse42(uint32_t crc, const uint8_t *p,
							      size_t len)
{
	uint64_t c = crc;
	while (len >= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		c = _mm_crc32_u64(c, v);
		p += 8;
		len -= 8;
	}
	uint32_t c32 = (uint32_t)c;
	while (len--)
		c32 = _mm_crc32_u8(c32, *p++);
	return c32;
}
#endif

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	if (crc_hw < 0)
		crc_init();
	crc = ~crc;
#if defined(__x86_64__)
	if (crc_hw)
		return ~crc_sse42(crc, p, len);
#endif
	while (len >= 8) {
		uint32_t a = crc ^ get32(p), b = get32(p + 4);
		crc = crc_table[7][a & 0xff] ^ crc_table[6][(a >> 8) & 0xff] ^
		      crc_table[5][(a >> 16) & 0xff] ^ crc_table[4][a >> 24] ^
		      crc_table[3][b & 0xff] ^ crc_table[2][(b >> 8) & 0xff] ^
		      crc_table[1][(b >> 16) & 0xff] ^ crc_table[0][b >> 24];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
	return ~crc;
}

static const char pattern[] =
	"<134>1 2026-11-23T09:00:00.123+01:00 web7 nginx 4242 ACCESS [req@32473 "
	"ip=\"10.1.2.3\" code=\"403\"] blocked request {\"severity\":\"high\","
	"\"title\":\"Intrusion blocked\",\"asset\":\"fw7\",\"fields\":{\"src\":\"10.0.0.5\"}} "
	"<134>1 2026-11-23T09:00:00.123+01:00 web7 nginx 4242 ACCESS [req@32473 "
	"ip=\"10.1.2.3\" code=\"403\"] blocked request {\"severity\":\"high\","
	"\"title\":\"Intrusion blocked\",\"asset\":\"fw7\",\"fields\":{\"src\":\"10.0.0.5\"}} ";

void payload_fill(uint8_t *p, uint32_t len, uint64_t seq)
{
	char head[32];
	int hl = snprintf(head, sizeof head, "seq=%020llu ", (unsigned long long)seq);
	uint32_t i = 0;
	for (; i < len && i < (uint32_t)hl; i++)
		p[i] = (uint8_t)head[i];
	size_t pl = sizeof pattern - 1, off = (size_t)(seq % 61);
	while (i < len) {
		size_t n = pl - off;
		if (n > len - i)
			n = len - i;
		memcpy(p + i, pattern + off, n);
		i += (uint32_t)n;
		off = 0;
	}
}

int payload_check(const uint8_t *p, uint32_t len, uint64_t seq)
{
	uint8_t tmp[REC_MAX];
	if (len > REC_MAX)
		return 0;
	payload_fill(tmp, len, seq);
	return memcmp(tmp, p, len) == 0;
}

uint32_t frame_crc(uint32_t payload_crc, uint64_t seq)
{
	uint8_t b[8];
	put64(b, seq);
	return crc32c(payload_crc, b, 8);
}

size_t frame_record(uint8_t *out, uint64_t seq, const uint8_t *payload, uint32_t len)
{
	put32(out, len);
	put64(out + 8, seq);
	if (payload != out + REC_HDR)
		memcpy(out + REC_HDR, payload, len);
	put32(out + 4, frame_crc(crc32c(0, out + REC_HDR, len), seq));
	return REC_HDR + len;
}

long frame_check(const uint8_t *p, size_t avail, uint64_t *seq)
{
	if (avail < REC_HDR)
		return 0;
	uint32_t len = get32(p);
	if (len == 0 && get32(p + 4) == 0 && get64(p + 8) == 0)
		return 0;
	if (len == 0 || len > REC_MAX || REC_HDR + (size_t)len > avail)
		return -1;
	if (frame_crc(crc32c(0, p + REC_HDR, len), get64(p + 8)) != get32(p + 4))
		return -1;
	*seq = get64(p + 8);
	return (long)(REC_HDR + len);
}

int hist_init(struct hist *h)
{
	h->b = calloc(HIST_BUCKETS, sizeof *h->b);
	h->n = 0;
	h->max_us = 0;
	return h->b ? 0 : -1;
}

void hist_add_ns(struct hist *h, uint64_t ns)
{
	uint64_t us = ns / 1000;
	if (us > h->max_us)
		h->max_us = us;
	if (us >= HIST_BUCKETS - 1)
		us = HIST_BUCKETS - 1;
	h->b[us]++;
	h->n++;
}

uint64_t hist_pct_us(const struct hist *h, double pct)
{
	if (!h->n)
		return 0;
	uint64_t want = (uint64_t)((double)h->n * pct / 100.0);
	if (want >= h->n)
		want = h->n - 1;
	uint64_t acc = 0;
	for (uint32_t i = 0; i < HIST_BUCKETS; i++) {
		acc += h->b[i];
		if (acc > want)
			return i;
	}
	return HIST_BUCKETS - 1;
}

void hist_free(struct hist *h)
{
	free(h->b);
	h->b = NULL;
}
