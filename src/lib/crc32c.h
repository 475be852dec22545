/*
 * crc32c.h - CRC-32C (Castagnoli, polynomial 0x1EDC6F41, reflected), the
 * checksum of the journal's records, segment headers and ledger slots.
 *
 * ab_crc32c(0, p, n) is the standard CRC-32C of p[0..n) ("123456789" gives
 * 0xE3069283); ab_crc32c(ab_crc32c(0, a, na), b, nb) is the CRC of a then b.
 * It uses the SSE 4.2 crc32 instruction when the CPU has it (checked once,
 * with cpuid), else an 8-table software loop; ab_crc32c_sw is that loop on
 * its own (the tests compare the two).  Thread-safe.
 */
#ifndef AB_CRC32C_H
#define AB_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t ab_crc32c(uint32_t crc, const void *buf, size_t len);
uint32_t ab_crc32c_sw(uint32_t crc, const void *buf, size_t len);

#endif
