/*
 * secret.h - secret references: "env:NAME", "file:/path", "enc:v1:..." or a
 * literal value, and the AES-256-GCM key file behind "enc:v1:".
 */
#ifndef AB_SECRET_H
#define AB_SECRET_H

#include <stddef.h>

#define AB_SECRET_MAX 4096        /* longest secret value, bytes */
#define AB_SECRET_KEY_LEN 32      /* AES-256 */

/* Resolve ref into out (NUL-terminated).  "env:NAME": the variable (unset or
 * empty is an error naming NAME).  "file:/path": the first line, trailing
 * CR/LF stripped, at most 4 KiB.  "enc:v1:<base64(iv12|ciphertext|tag16)>":
 * decrypted with the key in key_file (mode 0600 or stricter).  Anything else
 * is the value itself.  Returns 0, or -1 with a message in err that never
 * contains the secret value. */
int ab_secret_resolve(const char *ref, const char *key_file, char *out, size_t outsz,
	char *err, size_t errsz);

/* Encrypt plaintext into a malloc'd "enc:v1:..." string in *out (caller
 * frees).  Returns 0, or -1 with a message in err. */
int ab_secret_encrypt(const char *plaintext, const char *key_file, char **out,
	char *err, size_t errsz);

/* Create key_file (mode 0600) holding 32 random bytes.  Refuses to replace an
 * existing file.  Returns 0, or -1 with a message in err. */
int ab_secret_keygen(const char *key_file, char *err, size_t errsz);

#endif
