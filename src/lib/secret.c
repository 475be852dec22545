/*
 * secret.c - resolve secret references and the "enc:v1:" encryption.
 *
 * A setting that holds a secret (webhook URL, SMTP password, signing key)
 * may be written as "env:NAME", "file:/path" (first line), "enc:v1:<b64>" or
 * the literal value.  enc:v1 is AES-256-GCM (OpenSSL EVP): base64 of a
 * 12-byte random IV, the ciphertext and the 16-byte tag, with the additional
 * authenticated data "alertbridge:enc:v1".  The key file holds the 32-byte
 * key, raw (as written by ab_secret_keygen) or as 64 hex digits with an
 * optional newline; it must be a regular file with no group/other access.
 *
 * Public: ab_secret_resolve, ab_secret_encrypt, ab_secret_keygen.
 * Diagnostics: messages in err name the reference ("env:NAME", "file:PATH",
 * "enc:v1:...") or the key file and say what to do; they never contain the
 * secret value.  Buffers that held key or plaintext are cleansed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "lib/secret.h"

#define ENC_PREFIX "enc:v1:"
#define IV_LEN 12
#define TAG_LEN 16
#define AAD "alertbridge:enc:v1"
/* base64 text of the longest accepted blob */
#define ENC_B64_MAX (((IV_LEN + AB_SECRET_MAX + TAG_LEN) + 2) / 3 * 4 + 8)

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Read the 32-byte key after checking the file's type and mode. */
static int load_key(const char *key_file, unsigned char key[AB_SECRET_KEY_LEN],
	char *err, size_t errsz)
{
	unsigned char raw[80];
	struct stat st;
	ssize_t n;
	size_t len = 0;
	int fd, rc = -1;

	if (!key_file || !*key_file) {
		snprintf(err, errsz, "no key file configured (set secrets_key, create one "
			"with 'alertbridge secret keygen')");
		return -1;
	}
	fd = open(key_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		snprintf(err, errsz, "key file %s: %s", key_file, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(err, errsz, "key file %s: %s", key_file, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errsz, "key file %s: not a regular file", key_file);
		goto out;
	}
	if (st.st_mode & 077) {
		snprintf(err, errsz, "key file %s: mode %04o gives access to group or others; "
			"it must be 0600 or stricter (chmod 600 %s)", key_file,
			(unsigned)(st.st_mode & 07777), key_file);
		goto out;
	}
	while (len < sizeof raw) {
		n = read(fd, raw + len, sizeof raw - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errsz, "key file %s: %s", key_file, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len == AB_SECRET_KEY_LEN) {
		memcpy(key, raw, AB_SECRET_KEY_LEN);
		rc = 0;
	} else if (len == 2 * AB_SECRET_KEY_LEN ||
		   (len == 2 * AB_SECRET_KEY_LEN + 1 && raw[len - 1] == '\n')) {
		rc = 0;
		for (size_t i = 0; i < AB_SECRET_KEY_LEN; i++) {
			int hi = hexval(raw[2 * i]), lo = hexval(raw[2 * i + 1]);
			if (hi < 0 || lo < 0) {
				rc = -1;
				break;
			}
			key[i] = (unsigned char)(hi << 4 | lo);
		}
	}
	if (rc != 0)
		snprintf(err, errsz, "key file %s: expected 32 bytes (or 64 hex digits), "
			"create one with 'alertbridge secret keygen'", key_file);
out:
	OPENSSL_cleanse(raw, sizeof raw);
	close(fd);
	return rc;
}

/* Strict base64 decode (padding required, no whitespace).  Returns length or -1. */
static long b64_decode(const char *in, size_t inlen, unsigned char *out, size_t outsz)
{
	int n;
	size_t pad = 0;

	if (inlen == 0 || inlen % 4 != 0 || inlen > INT_MAX || inlen / 4 * 3 > outsz)
		return -1;
	for (size_t i = 0; i < inlen; i++) {
		char c = in[i];
		if (c == '=') {
			if (i < inlen - 2)
				return -1;
			pad++;
		} else if (pad || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
				     (c >= '0' && c <= '9') || c == '+' || c == '/')) {
			return -1;
		}
	}
	n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)inlen);
	if (n < 0 || (size_t)n < pad)
		return -1;
	return (long)((size_t)n - pad);
}

static int decrypt_v1(const char *b64, const char *key_file, char *out, size_t outsz,
	char *err, size_t errsz)
{
	unsigned char key[AB_SECRET_KEY_LEN];
	unsigned char *pt = NULL;
	EVP_CIPHER_CTX *ctx = NULL;
	size_t b64len = strlen(b64), ctlen;
	long blen;
	int len, fin, rc = -1;
	unsigned char *buf;

	if (b64len > ENC_B64_MAX) {
		snprintf(err, errsz, "secret enc:v1:...: too long (at most %d bytes of secret)",
			AB_SECRET_MAX);
		return -1;
	}
	buf = malloc(b64len / 4 * 3 + 3);
	if (!buf) {
		snprintf(err, errsz, "secret enc:v1:...: out of memory");
		return -1;
	}
	blen = b64_decode(b64, b64len, buf, b64len / 4 * 3 + 3);
	if (blen < 0) {
		snprintf(err, errsz, "secret enc:v1:...: not valid base64 (was it copied whole?)");
		goto out;
	}
	if ((size_t)blen < IV_LEN + TAG_LEN + 1) {
		snprintf(err, errsz, "secret enc:v1:...: too short to be an encrypted secret");
		goto out;
	}
	if (load_key(key_file, key, err, errsz) != 0)
		goto out;
	ctlen = (size_t)blen - IV_LEN - TAG_LEN;
	pt = malloc(ctlen + 1);
	ctx = EVP_CIPHER_CTX_new();
	if (!pt || !ctx) {
		snprintf(err, errsz, "secret enc:v1:...: out of memory");
		goto out;
	}
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, IV_LEN, NULL) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, key, buf) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &len, (const unsigned char *)AAD,
		    (int)(sizeof AAD - 1)) != 1 ||
	    EVP_DecryptUpdate(ctx, pt, &len, buf + IV_LEN, (int)ctlen) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
		    buf + IV_LEN + ctlen) != 1 ||
	    EVP_DecryptFinal_ex(ctx, pt + len, &fin) != 1) {
		snprintf(err, errsz, "secret enc:v1:...: decryption failed (wrong key or tampered)");
		goto out;
	}
	len += fin;
	if ((size_t)len != ctlen || memchr(pt, '\0', ctlen)) {
		snprintf(err, errsz, "secret enc:v1:...: decrypted value contains a NUL byte");
		goto out;
	}
	if (ctlen >= outsz) {
		snprintf(err, errsz, "secret enc:v1:...: value too long (%zu bytes, room for %zu)",
			ctlen, outsz ? outsz - 1 : 0);
		goto out;
	}
	memcpy(out, pt, ctlen);
	out[ctlen] = '\0';
	rc = 0;
out:
	OPENSSL_cleanse(key, sizeof key);
	if (pt) {
		OPENSSL_cleanse(pt, ctlen + 1);
		free(pt);
	}
	EVP_CIPHER_CTX_free(ctx);
	free(buf);
	return rc;
}

static int read_file_secret(const char *path, char *out, size_t outsz, char *err, size_t errsz)
{
	char buf[AB_SECRET_MAX + 2];
	size_t len = 0, line;
	ssize_t n;
	int fd, rc = -1;

	if (!*path) {
		snprintf(err, errsz, "secret file:: no path after \"file:\"");
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errsz, "secret file:%s: %s", path, strerror(errno));
		return -1;
	}
	while (len < sizeof buf - 1) {
		n = read(fd, buf + len, sizeof buf - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errsz, "secret file:%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (memchr(buf, '\n', len))
			break;
	}
	buf[len] = '\0';
	line = strcspn(buf, "\n");
	if (line == len && len > AB_SECRET_MAX) {
		snprintf(err, errsz, "secret file:%s: first line longer than %d bytes", path,
			AB_SECRET_MAX);
		goto out;
	}
	if (line > 0 && buf[line - 1] == '\r')
		line--;
	if (memchr(buf, '\0', line)) {
		snprintf(err, errsz, "secret file:%s: contains a NUL byte", path);
		goto out;
	}
	if (line == 0) {
		snprintf(err, errsz, "secret file:%s: first line is empty", path);
		goto out;
	}
	if (line >= outsz) {
		snprintf(err, errsz, "secret file:%s: value too long (%zu bytes, room for %zu)",
			path, line, outsz ? outsz - 1 : 0);
		goto out;
	}
	memcpy(out, buf, line);
	out[line] = '\0';
	rc = 0;
out:
	OPENSSL_cleanse(buf, sizeof buf);
	close(fd);
	return rc;
}

int ab_secret_resolve(const char *ref, const char *key_file, char *out, size_t outsz,
	char *err, size_t errsz)
{
	size_t len;

	if (errsz)
		err[0] = '\0';
	if (!ref || !out || outsz == 0) {
		snprintf(err, errsz, "secret: no reference or no room for the value");
		return -1;
	}
	out[0] = '\0';
	if (strncmp(ref, "env:", 4) == 0) {
		const char *name = ref + 4, *v;
		if (!*name) {
			snprintf(err, errsz, "secret env:: no variable name after \"env:\"");
			return -1;
		}
		v = getenv(name);
		if (!v) {
			snprintf(err, errsz,
				"secret env:%.128s: environment variable %.128s is not set",
				name, name);
			return -1;
		}
		if (!*v) {
			snprintf(err, errsz,
				"secret env:%.128s: environment variable %.128s is empty",
				name, name);
			return -1;
		}
		len = strlen(v);
		if (len >= outsz || len > AB_SECRET_MAX) {
			snprintf(err, errsz, "secret env:%.128s: value too long (%zu bytes)",
				name, len);
			return -1;
		}
		memcpy(out, v, len + 1);
		return 0;
	}
	if (strncmp(ref, "file:", 5) == 0)
		return read_file_secret(ref + 5, out, outsz, err, errsz);
	if (strncmp(ref, ENC_PREFIX, sizeof ENC_PREFIX - 1) == 0)
		return decrypt_v1(ref + sizeof ENC_PREFIX - 1, key_file, out, outsz, err, errsz);
	len = strlen(ref);
	if (len >= outsz || len > AB_SECRET_MAX) {
		snprintf(err, errsz, "secret value too long (%zu bytes, room for %zu)", len,
			outsz - 1 < AB_SECRET_MAX ? outsz - 1 : (size_t)AB_SECRET_MAX);
		return -1;
	}
	memcpy(out, ref, len + 1);
	return 0;
}

int ab_secret_encrypt(const char *plaintext, const char *key_file, char **out,
	char *err, size_t errsz)
{
	unsigned char key[AB_SECRET_KEY_LEN];
	unsigned char *blob = NULL;
	EVP_CIPHER_CTX *ctx = NULL;
	size_t ptlen, blen, olen;
	char *res = NULL;
	int len, fin, rc = -1;

	*out = NULL;
	if (errsz)
		err[0] = '\0';
	ptlen = plaintext ? strlen(plaintext) : 0;
	if (ptlen == 0 || ptlen > AB_SECRET_MAX) {
		snprintf(err, errsz, "secret encrypt: the value must be 1..%d bytes", AB_SECRET_MAX);
		return -1;
	}
	if (load_key(key_file, key, err, errsz) != 0)
		return -1;
	blen = IV_LEN + ptlen + TAG_LEN;
	blob = malloc(blen);
	olen = sizeof ENC_PREFIX - 1 + (blen + 2) / 3 * 4 + 1;
	res = malloc(olen);
	ctx = EVP_CIPHER_CTX_new();
	if (!blob || !res || !ctx) {
		snprintf(err, errsz, "secret encrypt: out of memory");
		goto out;
	}
	if (RAND_bytes(blob, IV_LEN) != 1) {
		snprintf(err, errsz, "secret encrypt: no random bytes for the IV");
		goto out;
	}
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, IV_LEN, NULL) != 1 ||
	    EVP_EncryptInit_ex(ctx, NULL, NULL, key, blob) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &len, (const unsigned char *)AAD,
		    (int)(sizeof AAD - 1)) != 1 ||
	    EVP_EncryptUpdate(ctx, blob + IV_LEN, &len, (const unsigned char *)plaintext,
		    (int)ptlen) != 1 ||
	    EVP_EncryptFinal_ex(ctx, blob + IV_LEN + len, &fin) != 1 ||
	    (size_t)(len + fin) != ptlen ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, blob + IV_LEN + ptlen) != 1) {
		snprintf(err, errsz, "secret encrypt: AES-256-GCM failed");
		goto out;
	}
	memcpy(res, ENC_PREFIX, sizeof ENC_PREFIX - 1);
	EVP_EncodeBlock((unsigned char *)res + sizeof ENC_PREFIX - 1, blob, (int)blen);
	*out = res;
	res = NULL;
	rc = 0;
out:
	OPENSSL_cleanse(key, sizeof key);
	if (blob) {
		OPENSSL_cleanse(blob, blen);
		free(blob);
	}
	free(res);
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int ab_secret_keygen(const char *key_file, char *err, size_t errsz)
{
	unsigned char key[AB_SECRET_KEY_LEN];
	size_t done = 0;
	int fd, rc = -1;

	if (errsz)
		err[0] = '\0';
	if (!key_file || !*key_file) {
		snprintf(err, errsz, "secret keygen: no key file given");
		return -1;
	}
	fd = open(key_file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			snprintf(err, errsz, "key file %s already exists; refusing to overwrite it "
				"(secrets encrypted with it would become unreadable)", key_file);
		else
			snprintf(err, errsz, "key file %s: %s", key_file, strerror(errno));
		return -1;
	}
	if (fchmod(fd, 0600) != 0) {
		snprintf(err, errsz, "key file %s: chmod: %s", key_file, strerror(errno));
		goto out;
	}
	if (RAND_bytes(key, sizeof key) != 1) {
		snprintf(err, errsz, "key file %s: no random bytes available", key_file);
		goto out;
	}
	while (done < sizeof key) {
		ssize_t n = write(fd, key + done, sizeof key - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errsz, "key file %s: write: %s", key_file,
				n < 0 ? strerror(errno) : "short write");
			goto out;
		}
		done += (size_t)n;
	}
	if (fsync(fd) != 0) {
		snprintf(err, errsz, "key file %s: fsync: %s", key_file, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(key, sizeof key);
	if (close(fd) != 0 && rc == 0) {
		snprintf(err, errsz, "key file %s: close: %s", key_file, strerror(errno));
		rc = -1;
	}
	if (rc != 0)
		unlink(key_file);
	return rc;
}
