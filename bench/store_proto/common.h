/* common.h - shared pieces of the store prototypes (bench/store_proto):
 * clocks, CRC32C (SSE4.2 with a table fallback), the record frame, the
 * deterministic payload used by the tests, and a latency histogram.
 *
 * Record frame (the journal writes it verbatim; LMDB and SQLite store
 * the payload under the sequence number):
 *
 *   u32 len      payload length (1 .. REC_MAX)
 *   u32 crc      CRC32C over payload then seq (so a producer can checksum
 *                the payload before it knows its sequence number)
 *   u64 seq      global sequence number, consecutive from 1
 *   u8  payload[len]
 *
 * Prototype code: not part of the daemon, not built by make. */
#ifndef STORE_PROTO_COMMON_H
#define STORE_PROTO_COMMON_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#define REC_HDR 16u
#define REC_MAX 4096u

static inline uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

static inline void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static inline uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* Deterministic payload of record seq with length len (printable, so it
 * looks like a syslog line / JSON to compressors and page cache alike). */
void payload_fill(uint8_t *p, uint32_t len, uint64_t seq);
/* 1 if p[0..len) is exactly payload_fill(len, seq). */
int payload_check(const uint8_t *p, uint32_t len, uint64_t seq);

/* CRC of a frame from the CRC of its payload (crc32c(0, payload, len)). */
uint32_t frame_crc(uint32_t payload_crc, uint64_t seq);
/* Frame record seq into out (REC_HDR + len bytes); returns frame size. */
size_t frame_record(uint8_t *out, uint64_t seq, const uint8_t *payload, uint32_t len);
/* Check a frame at p with avail bytes: returns frame size if intact,
 * 0 if it is all zero / too short for a header (end of data), -1 if torn
 * or corrupt.  *seq gets the sequence number. */
long frame_check(const uint8_t *p, size_t avail, uint64_t *seq);

/* Latency histogram: 1 us buckets up to 2 s, then an overflow bucket. */
#define HIST_BUCKETS 2000001u
struct hist {
	uint32_t *b;
	uint64_t n;
	uint64_t max_us;
};
int hist_init(struct hist *h);
void hist_add_ns(struct hist *h, uint64_t ns);
uint64_t hist_pct_us(const struct hist *h, double pct);
void hist_free(struct hist *h);

#endif
