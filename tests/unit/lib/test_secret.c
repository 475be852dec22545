/*
 * test_secret.c - tests for secret references (secret.c): env:, file:,
 * literal values, enc:v1 round trips, tampering with IV, ciphertext and
 * tag, a wrong key, key file modes, keygen refusing to overwrite, and that
 * no error message ever carries the secret value.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "lib/secret.h"

#define SECRET "https://hooks.slack.com/services/T000/B000/XSECRETXSECRETX"

static char dir[64];
static char key1[128], key2[128];

static void path_in_dir(char *out, size_t outsz, const char *name)
{
	snprintf(out, outsz, "%s/%s", dir, name);
}

static void write_file(const char *name, const char *content, mode_t mode)
{
	char p[128];
	FILE *f;

	path_in_dir(p, sizeof p, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	assert_int_equal(chmod(p, mode), 0);
}

static int setup(void **state)
{
	char err[256];

	(void)state;
	snprintf(dir, sizeof dir, "/tmp/ab_secret_XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	path_in_dir(key1, sizeof key1, "key1");
	path_in_dir(key2, sizeof key2, "key2");
	if (ab_secret_keygen(key1, err, sizeof err) != 0 ||
	    ab_secret_keygen(key2, err, sizeof err) != 0) {
		fprintf(stderr, "keygen: %s\n", err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void assert_no_secret(const char *err)
{
	if (strstr(err, "XSECRETX") || strstr(err, "hunter2"))
		fail_msg("error message leaks the secret: %s", err);
}

/* ------------------------------------------------------------ plain refs */

struct ref_case {
	const char *ref;
	int want;
	const char *value;      /* expected value, or a substring of err */
};

static void test_resolve_refs(void **state)
{
	static char fileref[160], crlf[160], empty[160], missing[160], longf[160], two[160];
	char big[AB_SECRET_MAX + 100];
	const struct ref_case cases[] = {
		{ "env:AB_TEST_SECRET", 0, "hunter2" },
		{ "env:AB_TEST_UNSET_VAR", -1, "environment variable AB_TEST_UNSET_VAR is not set" },
		{ "env:AB_TEST_EMPTY", -1, "AB_TEST_EMPTY is empty" },
		{ "env:", -1, "no variable name" },
		{ fileref, 0, SECRET },
		{ crlf, 0, "hunter2" },
		{ two, 0, "first" },
		{ empty, -1, "first line is empty" },
		{ missing, -1, "No such file" },
		{ longf, -1, "longer than 4096" },
		{ "file:", -1, "no path" },
		{ "plain-literal-token", 0, "plain-literal-token" },
		{ "https://example.com/hook", 0, "https://example.com/hook" },
		{ "enc:v2:abc", 0, "enc:v2:abc" },   /* unknown scheme: a literal */
	};
	char out[AB_SECRET_MAX + 1], err[512];

	(void)state;
	setenv("AB_TEST_SECRET", "hunter2", 1);
	setenv("AB_TEST_EMPTY", "", 1);
	unsetenv("AB_TEST_UNSET_VAR");
	write_file("url", SECRET "\n", 0600);
	write_file("crlf", "hunter2\r\nsecond line\n", 0600);
	write_file("two", "first\nsecond\n", 0600);
	write_file("empty", "\nhunter2\n", 0600);
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	write_file("long", big, 0600);
	snprintf(fileref, sizeof fileref, "file:%s/url", dir);
	snprintf(crlf, sizeof crlf, "file:%s/crlf", dir);
	snprintf(two, sizeof two, "file:%s/two", dir);
	snprintf(empty, sizeof empty, "file:%s/empty", dir);
	snprintf(missing, sizeof missing, "file:%s/nope", dir);
	snprintf(longf, sizeof longf, "file:%s/long", dir);

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct ref_case *c = &cases[i];
		int rc = ab_secret_resolve(c->ref, key1, out, sizeof out, err, sizeof err);

		if (rc != c->want)
			fail_msg("%s: got %d (%s), want %d", c->ref, rc, err, c->want);
		if (rc == 0)
			assert_string_equal(out, c->value);
		else if (!strstr(err, c->value))
			fail_msg("%s: error \"%s\" lacks \"%s\"", c->ref, err, c->value);
		assert_no_secret(err);
	}
}

static void test_out_too_small(void **state)
{
	char out[8], err[256];

	(void)state;
	setenv("AB_TEST_SECRET2", "hunter2hunter2", 1);
	assert_int_equal(ab_secret_resolve("env:AB_TEST_SECRET2", NULL, out, sizeof out, err,
		sizeof err), -1);
	assert_non_null(strstr(err, "too long"));
	assert_no_secret(err);
	assert_int_equal(ab_secret_resolve("hunter2hunter2", NULL, out, sizeof out, err,
		sizeof err), -1);
	assert_no_secret(err);
}

/* ------------------------------------------------------------ enc:v1 */

static void test_round_trip(void **state)
{
	const char *values[] = { "x", "hunter2", SECRET, "ünïcødé ✓", NULL };
	char out[AB_SECRET_MAX + 1], err[256];
	char *enc, *enc2;

	(void)state;
	for (size_t i = 0; values[i]; i++) {
		assert_int_equal(ab_secret_encrypt(values[i], key1, &enc, err, sizeof err), 0);
		assert_non_null(enc);
		assert_memory_equal(enc, "enc:v1:", 7);
		if (strlen(values[i]) >= 6)  /* a 1-char value may occur in base64 by chance */
			assert_null(strstr(enc, values[i]));
		assert_int_equal(ab_secret_resolve(enc, key1, out, sizeof out, err, sizeof err), 0);
		assert_string_equal(out, values[i]);
		/* a fresh IV every time */
		assert_int_equal(ab_secret_encrypt(values[i], key1, &enc2, err, sizeof err), 0);
		assert_string_not_equal(enc, enc2);
		free(enc);
		free(enc2);
	}
	assert_int_equal(ab_secret_encrypt("", key1, &enc, err, sizeof err), -1);
	assert_null(enc);
}

static char *b64_flip(const char *enc, size_t off_from, int from_end)
{
	const char *b64 = enc + 7;
	size_t l = strlen(b64), n, pad = 0;
	unsigned char raw[8192];
	char *res;

	while (l > pad && b64[l - 1 - pad] == '=')
		pad++;
	n = (size_t)EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)l) - pad;
	raw[from_end ? n - 1 - off_from : off_from] ^= 0x01;
	res = malloc(7 + (n + 2) / 3 * 4 + 1);
	assert_non_null(res);
	memcpy(res, "enc:v1:", 7);
	EVP_EncodeBlock((unsigned char *)res + 7, raw, (int)n);
	return res;
}

struct tamper_case {
	const char *what;
	size_t off;
	int from_end;
};

static void test_tamper(void **state)
{
	const struct tamper_case cases[] = {
		{ "IV first byte", 0, 0 },
		{ "IV last byte", 11, 0 },
		{ "ciphertext first byte", 12, 0 },
		{ "ciphertext last byte", 16, 1 },
		{ "tag first byte", 15, 1 },
		{ "tag last byte", 0, 1 },
	};
	char out[256], err[256], *enc;

	(void)state;
	assert_int_equal(ab_secret_encrypt(SECRET, key1, &enc, err, sizeof err), 0);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *bad = b64_flip(enc, cases[i].off, cases[i].from_end);
		int rc = ab_secret_resolve(bad, key1, out, sizeof out, err, sizeof err);
		if (rc != -1)
			fail_msg("%s: tampered secret accepted", cases[i].what);
		assert_string_equal(err,
			"secret enc:v1:...: decryption failed (wrong key or tampered)");
		free(bad);
	}
	/* wrong key */
	assert_int_equal(ab_secret_resolve(enc, key2, out, sizeof out, err, sizeof err), -1);
	assert_non_null(strstr(err, "decryption failed (wrong key or tampered)"));
	assert_no_secret(err);
	free(enc);
}

struct malformed_case {
	const char *ref;
	const char *err;
};

static void test_malformed(void **state)
{
	const struct malformed_case cases[] = {
		{ "enc:v1:", "not valid base64" },
		{ "enc:v1:abc", "not valid base64" },
		{ "enc:v1:ab=c", "not valid base64" },
		{ "enc:v1:a b=", "not valid base64" },
		{ "enc:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "too short" },
	};
	char out[256], err[256];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(ab_secret_resolve(cases[i].ref, key1, out, sizeof out, err,
			sizeof err), -1);
		if (!strstr(err, cases[i].err))
			fail_msg("%s: error \"%s\" lacks \"%s\"", cases[i].ref, err, cases[i].err);
	}
}

/* ------------------------------------------------------------ key files */

struct mode_case {
	mode_t mode;
	int want;
};

static void test_key_modes(void **state)
{
	const struct mode_case cases[] = {
		{ 0600, 0 }, { 0400, 0 }, { 0644, -1 }, { 0640, -1 }, { 0604, -1 }, { 0660, -1 },
	};
	char out[256], err[512], *enc;
	char kp[128];

	(void)state;
	assert_int_equal(ab_secret_encrypt("hunter2", key1, &enc, err, sizeof err), 0);
	path_in_dir(kp, sizeof kp, "key1");
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc;
		assert_int_equal(chmod(kp, cases[i].mode), 0);
		rc = ab_secret_resolve(enc, key1, out, sizeof out, err, sizeof err);
		if (rc != cases[i].want)
			fail_msg("mode %04o: got %d (%s)", (unsigned)cases[i].mode, rc, err);
		if (rc != 0) {
			assert_non_null(strstr(err, "must be 0600 or stricter"));
			assert_non_null(strstr(err, kp));
		}
	}
	assert_int_equal(chmod(kp, 0600), 0);
	free(enc);
}

static void test_key_file_errors(void **state)
{
	char kp[128], err[512], *enc;
	struct stat st;

	(void)state;
	/* keygen refuses to overwrite and leaves the key alone */
	assert_int_equal(ab_secret_keygen(key1, err, sizeof err), -1);
	assert_non_null(strstr(err, "already exists"));
	assert_int_equal(stat(key1, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 32);
	/* missing, wrong size, hex form */
	path_in_dir(kp, sizeof kp, "nokey");
	assert_int_equal(ab_secret_encrypt("x", kp, &enc, err, sizeof err), -1);
	assert_non_null(strstr(err, "No such file"));
	write_file("shortkey", "0123456789", 0600);
	path_in_dir(kp, sizeof kp, "shortkey");
	assert_int_equal(ab_secret_encrypt("x", kp, &enc, err, sizeof err), -1);
	assert_non_null(strstr(err, "expected 32 bytes"));
	write_file("hexkey", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
		0600);
	path_in_dir(kp, sizeof kp, "hexkey");
	assert_int_equal(ab_secret_encrypt("hunter2", kp, &enc, err, sizeof err), 0);
	{
		char out[64];
		assert_int_equal(ab_secret_resolve(enc, kp, out, sizeof out, err, sizeof err), 0);
		assert_string_equal(out, "hunter2");
	}
	free(enc);
	assert_int_equal(ab_secret_resolve("enc:v1:AAAA", NULL, kp, sizeof kp, err, sizeof err),
		-1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve_refs),
		cmocka_unit_test(test_out_too_small),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_key_modes),
		cmocka_unit_test(test_key_file_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
