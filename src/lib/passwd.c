/*
 * passwd.c - Argon2id password hashes (see passwd.h): libargon2 does the
 * work; OpenSSL's RAND_bytes gives the salt.
 *
 * Public: ab_passwd_hash, ab_passwd_verify.
 * Parameters: OWASP's Argon2id minimum (Password Storage Cheat Sheet):
 * m = 19 MiB, t = 2 passes, one lane, 32-byte tag - about 0.1 s per check
 * here, so a sign-in stays quick and a guess stays dear (sign-ins are
 * also rate-limited).
 */
#include <stdio.h>
#include <string.h>

#include <argon2.h>
#include <openssl/rand.h>

#include "lib/passwd.h"

#define T_COST 2
#define M_COST 19456        /* KiB */
#define LANES 1
#define SALT_LEN 16
#define TAG_LEN 32

int ab_passwd_hash(const char *pw, size_t len, char *out, size_t outsz, char *err,
	size_t errsz)
{
	unsigned char salt[SALT_LEN];
	int rc;

	if (len > AB_PASSWD_MAX) {
		snprintf(err, errsz, "the password is longer than %d bytes", AB_PASSWD_MAX);
		return -1;
	}
	if (RAND_bytes(salt, sizeof salt) != 1) {
		snprintf(err, errsz, "no random salt (OpenSSL RAND_bytes failed)");
		return -1;
	}
	rc = argon2id_hash_encoded(T_COST, M_COST, LANES, pw, len, salt, sizeof salt, TAG_LEN,
		out, outsz);
	if (rc != ARGON2_OK) {
		snprintf(err, errsz, "argon2id: %s", argon2_error_message(rc));
		return -1;
	}
	return 0;
}

int ab_passwd_verify(const char *encoded, const char *pw, size_t len)
{
	/* a valid hash of a password nobody has: the unknown user's check */
	static const char dummy[] = "$argon2id$v=19$m=19456,t=2,p=1$"
		"YWxlcnRicmlkZ2UtZHVtbXk$BEZAGUt6vc+mfvuTqnvyANE1EaT4mFA0gp8A/ixTO9M";

	if (len > AB_PASSWD_MAX)
		return 0;
	if (!encoded) {
		(void)argon2id_verify(dummy, pw, len);
		return 0;
	}
	return argon2id_verify(encoded, pw, len) == ARGON2_OK ? 1 : 0;
}
