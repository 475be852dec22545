/*
 * test_cidr.c - unit tests for net/cidr.c, the one network type of the
 * outbound guard's allow_networks and the mail sources' networks: parsing
 * (families, prefixes, the host-bit rule and its "did you mean"),
 * containment at every prefix boundary, and socket addresses (IPv4,
 * IPv6, IPv4-mapped IPv6 against IPv4 networks).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "net/cidr.h"

struct cidr_case {
	const char *s;
	int want;
	int family;
	unsigned prefix;
	const char *err;
};

static const struct cidr_case cidr_cases[] = {
	{ "127.0.0.0/8", 0, AF_INET, 8, NULL },
	{ "10.1.0.0/16", 0, AF_INET, 16, NULL },
	{ "0.0.0.0/0", 0, AF_INET, 0, NULL },
	{ "192.0.2.1", 0, AF_INET, 32, NULL },
	{ "192.0.2.1/32", 0, AF_INET, 32, NULL },
	{ "fd00::/8", 0, AF_INET6, 8, NULL },
	{ "::1", 0, AF_INET6, 128, NULL },
	{ "2001:db8::/32", 0, AF_INET6, 32, NULL },
	{ "::/0", 0, AF_INET6, 0, NULL },
	{ "", -1, 0, 0, "empty" },
	{ "/8", -1, 0, 0, "not an address" },
	{ "localhost", -1, 0, 0, "not an IPv4 or IPv6 address" },
	{ "127.0.0.1/8", -1, 0, 0, "did you mean \"127.0.0.0/8\"" },
	{ "fd00::1/8", -1, 0, 0, "did you mean \"fd00::/8\"" },
	{ "10.0.0.0/33", -1, 0, 0, "0..32" },
	{ "fd00::/129", -1, 0, 0, "0..128" },
	{ "10.0.0.0/", -1, 0, 0, "missing prefix" },
	{ "10.0.0.0/-1", -1, 0, 0, "missing prefix" },
	{ "10.0.0.0/8x", -1, 0, 0, "0..32" },
	{ "10.0.0/8", -1, 0, 0, "not an IPv4" },
	/* the host-bit rule: refused with the network meant, both families */
	{ "10.1.2.3/8", -1, 0, 0, "host bits set after /8 (did you mean \"10.0.0.0/8\"?)" },
	{ "192.0.2.1/31", -1, 0, 0, "did you mean \"192.0.2.0/31\"" },
	{ "192.0.2.128/25", 0, AF_INET, 25, NULL },
	{ "192.0.2.129/25", -1, 0, 0, "did you mean \"192.0.2.128/25\"" },
	{ "0.0.0.1/0", -1, 0, 0, "did you mean \"0.0.0.0/0\"" },
	{ "2001:db8::1/64", -1, 0, 0, "did you mean \"2001:db8::/64\"" },
	{ "2001:db8::1/128", 0, AF_INET6, 128, NULL },
	{ "::ffff:192.0.2.0/120", 0, AF_INET6, 120, NULL },
	/* the prefix: decimal digits only, in range */
	{ "10.0.0.0/08", 0, AF_INET, 8, NULL },
	{ "10.0.0.0/0008", -1, 0, 0, "0..32" },
	{ "10.0.0.0/ 8", -1, 0, 0, "missing prefix" },
	{ "10.0.0.0/+8", -1, 0, 0, "missing prefix" },
	{ "10.0.0.0/8/8", -1, 0, 0, "0..32" },
	{ "10.0.0.0/99999999999999999999", -1, 0, 0, "0..32" },
	{ " 10.0.0.0/8", -1, 0, 0, "not an IPv4" },
	{ "fe80::1%eth0", -1, 0, 0, "not an IPv4" },
	{ "0123456789abcdef0123456789abcdef0123456789abcdef0123456789/8", -1, 0, 0,
	  "not an address/prefix" },
};

static void test_cidr_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cidr_cases / sizeof cidr_cases[0]; i++) {
		const struct cidr_case *c = &cidr_cases[i];
		struct ab_cidr out;
		char err[256] = "";
		int rc = ab_cidr_parse(c->s, &out, err, sizeof err);

		if (rc != c->want)
			fail_msg("\"%s\": got %d (%s), want %d", c->s, rc, err, c->want);
		if (rc == 0) {
			assert_int_equal(out.family, c->family);
			assert_int_equal(out.prefix, c->prefix);
		} else if (!strstr(err, c->err)) {
			fail_msg("\"%s\": error \"%s\" lacks \"%s\"", c->s, err, c->err);
		}
	}
}

static void test_cidr_contains(void **state)
{
	struct ab_cidr c;
	unsigned char a[16];
	char err[128];

	(void)state;
	assert_int_equal(ab_cidr_parse("100.64.0.0/10", &c, err, sizeof err), 0);
	inet_pton(AF_INET, "100.127.255.255", a);
	assert_true(ab_cidr_contains(&c, AF_INET, a));
	inet_pton(AF_INET, "100.128.0.0", a);
	assert_false(ab_cidr_contains(&c, AF_INET, a));
	inet_pton(AF_INET6, "::ffff:100.64.0.1", a);
	assert_false(ab_cidr_contains(&c, AF_INET6, a));   /* family must match */
	assert_int_equal(ab_cidr_parse("::/0", &c, err, sizeof err), 0);
	assert_true(ab_cidr_contains(&c, AF_INET6, a));
}

/* Every prefix length: the network of an address contains it, and the
 * address with the first bit after the prefix flipped is outside only
 * when that bit belongs to the prefix. */
static void test_prefix_boundaries(void **state)
{
	unsigned char a[16], b[16];
	char s[80], nb[INET6_ADDRSTRLEN], err[256];
	struct ab_cidr c;

	(void)state;
	inet_pton(AF_INET6, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", a);
	for (unsigned p = 0; p <= 128; p++) {
		unsigned char n[16];

		for (unsigned i = 0; i < 16; i++) {
			unsigned bit0 = i * 8;

			n[i] = bit0 >= p ? 0 : bit0 + 8 <= p ? a[i] :
			       (unsigned char)(a[i] & (0xff << (8 - (p - bit0))));
		}
		inet_ntop(AF_INET6, n, nb, sizeof nb);
		snprintf(s, sizeof s, "%s/%u", nb, p);
		if (ab_cidr_parse(s, &c, err, sizeof err) != 0)
			fail_msg("%s: %s", s, err);
		assert_true(ab_cidr_contains(&c, AF_INET6, a));
		if (p > 0) {
			memcpy(b, a, 16);
			b[(p - 1) / 8] ^= (unsigned char)(0x80 >> ((p - 1) % 8));
			assert_false(ab_cidr_contains(&c, AF_INET6, b));
		}
		if (p < 128) {
			memcpy(b, a, 16);
			b[p / 8] ^= (unsigned char)(0x80 >> (p % 8));
			assert_true(ab_cidr_contains(&c, AF_INET6, b));
		}
	}
}

static void test_match_addr(void **state)
{
	struct ab_cidr nets[2];
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;
	struct sockaddr un = { .sa_family = AF_UNIX };
	char err[128];

	(void)state;
	assert_int_equal(ab_cidr_parse("192.0.2.0/24", &nets[0], err, sizeof err), 0);
	assert_int_equal(ab_cidr_parse("2001:db8::/32", &nets[1], err, sizeof err), 0);
	memset(&s4, 0, sizeof s4);
	s4.sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.77", &s4.sin_addr);
	assert_true(ab_cidr_match_addr(nets, 2, (struct sockaddr *)&s4));
	assert_false(ab_cidr_match_addr(nets + 1, 1, (struct sockaddr *)&s4));
	inet_pton(AF_INET, "192.0.3.1", &s4.sin_addr);
	assert_false(ab_cidr_match_addr(nets, 2, (struct sockaddr *)&s4));
	memset(&s6, 0, sizeof s6);
	s6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8:1::5", &s6.sin6_addr);
	assert_true(ab_cidr_match_addr(nets, 2, (struct sockaddr *)&s6));
	/* a dual-stack listener sees an IPv4 client as ::ffff:a.b.c.d */
	inet_pton(AF_INET6, "::ffff:192.0.2.9", &s6.sin6_addr);
	assert_true(ab_cidr_match_addr(nets, 1, (struct sockaddr *)&s6));
	inet_pton(AF_INET6, "::ffff:198.51.100.9", &s6.sin6_addr);
	assert_false(ab_cidr_match_addr(nets, 2, (struct sockaddr *)&s6));
	/* IPv4-compatible ::a.b.c.d is not mapped */
	inet_pton(AF_INET6, "::192.0.2.9", &s6.sin6_addr);
	assert_false(ab_cidr_match_addr(nets, 2, (struct sockaddr *)&s6));
	assert_false(ab_cidr_match_addr(nets, 2, &un));
	assert_false(ab_cidr_match_addr(nets, 2, NULL));
	assert_false(ab_cidr_match_addr(NULL, 0, (struct sockaddr *)&s4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr_parse),
		cmocka_unit_test(test_cidr_contains),
		cmocka_unit_test(test_prefix_boundaries),
		cmocka_unit_test(test_match_addr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
