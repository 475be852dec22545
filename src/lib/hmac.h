/*
 * hmac.h - HMAC-SHA256 over a message given in parts, and the keys of
 * Standard Webhooks ("whsec_" + base64), for signing (the webhook
 * channel) and verifying (the HTTP hooks).  OpenSSL's EVP_MAC.
 */
#ifndef AB_LIB_HMAC_H
#define AB_LIB_HMAC_H

#include <stdbool.h>
#include <stddef.h>

#define AB_HMAC_SHA256_LEN 32
#define AB_WHSEC_MAX 192          /* bytes of a decoded whsec_ key */

/* mac = HMAC-SHA256(key, parts[0] || ... || parts[n-1]).  0 or -1. */
int ab_hmac_sha256(const void *key, size_t keylen, const void *const *parts,
	const size_t *lens, size_t n, unsigned char mac[AB_HMAC_SHA256_LEN]);

/* "whsec_BASE64" -> key bytes (at most AB_WHSEC_MAX).  Returns the key's
 * length, or -1 when s is not "whsec_" followed by valid base64 of
 * 1..AB_WHSEC_MAX bytes. */
int ab_whsec_decode(const char *s, unsigned char key[AB_WHSEC_MAX]);

/* Base64 (standard alphabet, padded) of in[0..n) into out (NUL-ended; at
 * least 4 * ((n + 2) / 3) + 1 bytes). */
void ab_base64(const unsigned char *in, size_t n, char *out);

/* a[0..n) == b[0..n), in time independent of where they differ. */
bool ab_mem_equal_ct(const void *a, const void *b, size_t n);

#endif
