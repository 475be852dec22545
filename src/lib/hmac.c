/*
 * hmac.c - HMAC-SHA256 in parts, Standard Webhooks keys, base64 and a
 * constant-time comparison (see hmac.h), on OpenSSL.  Built into the
 * library and into the webhook channel plugin (one source, two users).
 *
 * Public: ab_hmac_sha256, ab_whsec_decode, ab_base64, ab_mem_equal_ct.
 * Diagnostics: none (results say it).
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "lib/hmac.h"

int ab_hmac_sha256(const void *key, size_t keylen, const void *const *parts,
	const size_t *lens, size_t n, unsigned char mac[AB_HMAC_SHA256_LEN])
{
	EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *c = m ? EVP_MAC_CTX_new(m) : NULL;
	OSSL_PARAM params[2];
	size_t ml = 0;
	int ok;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	ok = c && EVP_MAC_init(c, key, keylen, params) == 1;
	for (size_t i = 0; ok && i < n; i++)
		ok = EVP_MAC_update(c, parts[i], lens[i]) == 1;
	ok = ok && EVP_MAC_final(c, mac, &ml, AB_HMAC_SHA256_LEN) == 1 && ml == AB_HMAC_SHA256_LEN;
	EVP_MAC_CTX_free(c);
	EVP_MAC_free(m);
	return ok ? 0 : -1;
}

int ab_whsec_decode(const char *s, unsigned char key[AB_WHSEC_MAX])
{
	unsigned char tmp[AB_WHSEC_MAX * 2];
	const char *b64;
	size_t n;
	int len;

	if (!s || strncmp(s, "whsec_", 6) != 0)
		return -1;
	b64 = s + 6;
	n = strlen(b64);
	if (n == 0 || n % 4 || n / 4 * 3 > sizeof tmp)
		return -1;
	len = EVP_DecodeBlock(tmp, (const unsigned char *)b64, (int)n);
	if (len < 0)
		return -1;
	if (b64[n - 1] == '=')
		len--;
	if (n >= 2 && b64[n - 2] == '=')
		len--;
	if (len < 1 || len > AB_WHSEC_MAX)
		return -1;
	memcpy(key, tmp, (size_t)len);
	OPENSSL_cleanse(tmp, sizeof tmp);
	return len;
}

void ab_base64(const unsigned char *in, size_t n, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

bool ab_mem_equal_ct(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}
