/* journal.h - prototype of an append-only segmented journal with group
 * commit, CRC32C-framed records and per-reader ledgers (bench/store_proto).
 *
 * Layout of a journal directory:
 *   NNNNNNNNNNNNNNNNNNNN.seg   segment number N (20 digits); byte i of it is
 *                              at stream position N * seg_size + i
 *   ledger.<reader>            the reader's position, two checksummed slots
 *
 * Records never straddle segments.  A segment the writer left ends with an
 * end-of-segment marker frame (len 0xFFFFFFFF) or with zeros.  Within a
 * segment, sequence numbers are consecutive; the scan stops at the first
 * frame that is zero, torn (CRC), or out of sequence (stale bytes of a
 * recycled segment).
 *
 * The narrow store interface the prototypes measure:
 *   jnl_append(batch) -> returns after the fdatasync covering it (= ack)
 *   jnl_reader_next(from position) -> records up to the committed position
 *   jnl_reader_ack(position) -> persisted in the reader's ledger
 *   jnl_reclaim(min over ledgers) -> whole segments below it deleted/recycled */
#ifndef STORE_PROTO_JOURNAL_H
#define STORE_PROTO_JOURNAL_H

#include <stdint.h>
#include <stddef.h>

enum jnl_prealloc {
	JNL_GROW = 0,      /* plain appends: file size grows with every batch */
	JNL_FALLOCATE = 1, /* fallocate(seg_size) when a segment is created */
	JNL_RECYCLE = 2,   /* segments pre-written (zeros) or recycled from consumed ones */
};

struct jnl_opts {
	const char *dir;
	uint64_t seg_size;
	enum jnl_prealloc prealloc;
	size_t write_chunk; /* 0: one pwrite per batch piece; else split writes (crash test) */
	int nosync;         /* 1: no fdatasync (to see the CPU ceiling) */
};

struct jnl;

/* Opens (creating the directory if needed) and recovers: scans the last
 * segment, stops at the first torn/zero/out-of-sequence frame, and cuts the
 * rest (ftruncate, or zero-range for preallocated segments).  stats: torn
 * frames found (0/1) and bytes cut. */
int jnl_open(struct jnl **out, const struct jnl_opts *o, int *torn, uint64_t *cut_bytes);
/* Sequence number the next appended record must carry. */
uint64_t jnl_next_seq(const struct jnl *j);
/* Stream position after the last durable record. */
uint64_t jnl_end_pos(const struct jnl *j);
/* Appends n framed records (contiguous, consecutive seqs from
 * jnl_next_seq) and fdatasyncs.  Returns 0 once durable. */
int jnl_append(struct jnl *j, const uint8_t *frames, size_t bytes, size_t n);
/* Creates `count` zero-filled segments ahead of the current one. */
int jnl_prewrite(struct jnl *j, int count);
void jnl_close(struct jnl *j);
uint64_t jnl_syncs(const struct jnl *j);
uint64_t jnl_sync_ns(const struct jnl *j);

struct jnl_reader;
/* Opens reader `name`, loading its ledger (position 0 if none). */
int jnl_reader_open(struct jnl_reader **out, const char *dir, uint64_t seg_size, const char *name);
/* Reads the next record before stream position `limit` (the committed
 * end; UINT64_MAX when reading a closed journal).  Returns 1 with the
 * payload (valid until the next call), 0 at the end, -1 on corruption. */
int jnl_reader_next(struct jnl_reader *r, uint64_t limit, const uint8_t **payload, uint32_t *len,
		    uint64_t *seq);
uint64_t jnl_reader_pos(const struct jnl_reader *r);
/* Moves to a segment start (position idx * seg_size); for verification. */
void jnl_reader_seek(struct jnl_reader *r, uint64_t pos);
/* Lowest segment number present, or -1 if none. */
int64_t jnl_first_segment(const char *dir);
/* Highest segment number present, or -1 if none. */
int64_t jnl_last_segment(const char *dir);
/* Persists the current position in the ledger (write + fdatasync). */
int jnl_reader_ack(struct jnl_reader *r);
void jnl_reader_close(struct jnl_reader *r);
/* Removes (or, with recycle_spares > 0, renames into future segment
 * numbers until that many spares exist) every segment wholly below
 * min_pos.  Returns the number of segments reclaimed. */
int jnl_reclaim(const char *dir, uint64_t seg_size, uint64_t min_pos, int recycle_spares);

#endif
