/*
 * passwd.h - password hashes for the web console's local accounts:
 * Argon2id (libargon2) in its standard encoded form
 * ("$argon2id$v=19$m=19456,t=2,p=1$SALT$HASH"), a random 16-byte salt
 * per hash, and verification in constant time.
 */
#ifndef AB_PASSWD_H
#define AB_PASSWD_H

#include <stddef.h>

#define AB_PASSWD_HASH_MAX 160    /* bytes of an encoded hash, with its NUL */
#define AB_PASSWD_MIN 8           /* characters a new password needs */
#define AB_PASSWD_MAX 1024        /* bytes of a password */

/* Hash pw[0..len) into out.  0, or -1 with the reason in err. */
int ab_passwd_hash(const char *pw, size_t len, char *out, size_t outsz, char *err,
	size_t errsz);
/* Does pw match encoded?  1 yes, 0 no (also for a malformed hash).
 * encoded NULL: spends the time of a real check and answers 0, so that an
 * unknown user takes as long as a wrong password. */
int ab_passwd_verify(const char *encoded, const char *pw, size_t len);

#endif
