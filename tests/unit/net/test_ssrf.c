/*
 * test_ssrf.c - table-driven tests for the outbound address guard
 * (net/ssrf.c): which addresses are refused, how allow_networks lets them
 * through, and the refusal text (networks themselves: test_cidr.c).
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

#include "net/ssrf.h"

static const char *const allow_lo[] = { "127.0.0.0/8", NULL };
static const char *const allow_mix[] = { "not-a-network", "10.1.0.0/16", "fd00::/8", NULL };
static const char *const allow_host[] = { "169.254.169.254", "::1", NULL };
static const char *const allow_teredo[] = { "2001::/32", NULL };

struct addr_case {
	const char *addr;
	const char *const *allow;
	int want;               /* 0 allowed, -1 refused */
	const char *why;        /* substring of the reason when refused */
};

static const struct addr_case addr_cases[] = {
	/* IPv4 public */
	{ "8.8.8.8", NULL, 0, NULL },
	{ "1.1.1.1", NULL, 0, NULL },
	{ "52.85.12.34", NULL, 0, NULL },
	{ "100.63.255.255", NULL, 0, NULL },
	{ "100.128.0.0", NULL, 0, NULL },
	{ "172.15.255.255", NULL, 0, NULL },
	{ "172.32.0.0", NULL, 0, NULL },
	{ "192.0.1.1", NULL, 0, NULL },
	{ "198.17.255.255", NULL, 0, NULL },
	{ "198.20.0.0", NULL, 0, NULL },
	{ "223.255.255.255", NULL, 0, NULL },
	/* IPv4 refused */
	{ "0.0.0.0", NULL, -1, "0.0.0.0/8" },
	{ "0.1.2.3", NULL, -1, "\"this network\"" },
	{ "10.0.0.1", NULL, -1, "private address (10.0.0.0/8)" },
	{ "10.255.255.255", NULL, -1, "10.0.0.0/8" },
	{ "100.64.0.1", NULL, -1, "carrier-grade NAT" },
	{ "100.127.255.254", NULL, -1, "100.64.0.0/10" },
	{ "127.0.0.1", NULL, -1, "127.0.0.1 is a loopback address (127.0.0.0/8); "
		"add \"127.0.0.0/8\" to the channel's allow_networks" },
	{ "127.255.255.254", NULL, -1, "loopback" },
	{ "169.254.169.254", NULL, -1, "cloud metadata" },
	{ "169.254.1.1", NULL, -1, "link-local address (169.254.0.0/16)" },
	{ "172.16.0.1", NULL, -1, "172.16.0.0/12" },
	{ "172.31.255.255", NULL, -1, "private" },
	{ "192.0.0.8", NULL, -1, "192.0.0.0/24" },
	{ "192.0.2.10", NULL, -1, "documentation" },
	{ "192.168.1.1", NULL, -1, "192.168.0.0/16" },
	{ "198.18.0.1", NULL, -1, "benchmarking" },
	{ "198.19.255.255", NULL, -1, "198.18.0.0/15" },
	{ "198.51.100.7", NULL, -1, "198.51.100.0/24" },
	{ "203.0.113.99", NULL, -1, "203.0.113.0/24" },
	{ "224.0.0.1", NULL, -1, "multicast" },
	{ "239.255.255.250", NULL, -1, "224.0.0.0/4" },
	{ "240.0.0.1", NULL, -1, "reserved" },
	{ "255.255.255.255", NULL, -1, "broadcast" },
	/* IPv4 with allow_networks */
	{ "127.0.0.1", allow_lo, 0, NULL },
	{ "127.8.9.10", allow_lo, 0, NULL },
	{ "10.0.0.1", allow_lo, -1, "10.0.0.0/8" },
	{ "10.1.2.3", allow_mix, 0, NULL },
	{ "10.2.0.1", allow_mix, -1, "private" },
	{ "169.254.169.254", allow_host, 0, NULL },
	{ "169.254.169.253", allow_host, -1, "link-local" },
	/* IPv6 public */
	{ "2606:4700::1111", NULL, 0, NULL },
	{ "2a00:1450:4001:80b::200e", NULL, 0, NULL },
	{ "2001:4860:4860::8888", NULL, 0, NULL },
	/* IPv6 refused */
	{ "::", NULL, -1, "unspecified" },
	{ "::1", NULL, -1, "::1 is a loopback address (::1/128)" },
	{ "fc00::1", NULL, -1, "unique local" },
	{ "fd12:3456::1", NULL, -1, "fc00::/7" },
	{ "fd00:ec2::254", NULL, -1, "cloud metadata" },
	{ "fe80::1", NULL, -1, "link-local" },
	{ "febf:ffff::1", NULL, -1, "fe80::/10" },
	{ "fec0::1", NULL, -1, "site-local" },
	{ "ff02::1", NULL, -1, "multicast" },
	{ "2001:db8::1", NULL, -1, "documentation" },
	{ "2001:0:4136:e378:8000:63bf:3fff:fdd2", NULL, -1, "Teredo" },
	{ "100::1", NULL, -1, "discard-only" },
	{ "64:ff9b:1::a00:1", NULL, -1, "local-use NAT64" },
	/* IPv6 embedding IPv4 */
	{ "::ffff:127.0.0.1", NULL, -1, "embeds 127.0.0.1 (IPv4-mapped form), a loopback" },
	{ "::ffff:169.254.169.254", NULL, -1, "cloud metadata" },
	{ "::ffff:10.0.0.1", NULL, -1, "10.0.0.0/8" },
	{ "::ffff:8.8.8.8", NULL, 0, NULL },
	{ "::ffff:0:192.168.0.1", NULL, -1, "IPv4-translated" },
	{ "::127.0.0.1", NULL, -1, "IPv4-compatible" },
	{ "::0.0.0.2", NULL, -1, "0.0.0.0/8" },
	{ "::8.8.4.4", NULL, 0, NULL },
	{ "64:ff9b::127.0.0.1", NULL, -1, "NAT64" },
	{ "64:ff9b::a9fe:a9fe", NULL, -1, "169.254.169.254" },
	{ "64:ff9b::8.8.8.8", NULL, 0, NULL },
	{ "2002:7f00:1::1", NULL, -1, "6to4" },
	{ "2002:c0a8:101::", NULL, -1, "192.168.0.0/16" },
	{ "2002:808:808::1", NULL, 0, NULL },
	/* IPv6 with allow_networks */
	{ "::1", allow_host, 0, NULL },
	{ "::1", allow_lo, -1, "loopback" },
	{ "::ffff:127.0.0.1", allow_lo, 0, NULL },
	{ "64:ff9b::7f00:1", allow_lo, 0, NULL },
	{ "fd99::1", allow_mix, 0, NULL },
	{ "fe80::1", allow_mix, -1, "link-local" },
	{ "2001:0:1::1", allow_teredo, 0, NULL },
};

static int make_sa(const char *addr, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof *ss);
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(443);
		*len = sizeof *s6;
		return inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1 ? 0 : -1;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(443);
		*len = sizeof *s4;
		return inet_pton(AF_INET, addr, &s4->sin_addr) == 1 ? 0 : -1;
	}
}

static void test_addresses(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof addr_cases / sizeof addr_cases[0]; i++) {
		const struct addr_case *c = &addr_cases[i];
		struct sockaddr_storage ss;
		socklen_t len;
		char why[512];
		int rc;

		assert_int_equal(make_sa(c->addr, &ss, &len), 0);
		rc = ab_ssrf_check((struct sockaddr *)&ss, len, c->allow, why, sizeof why);
		if (rc != c->want)
			fail_msg("%s: got %d (%s), want %d", c->addr, rc, why, c->want);
		if (c->want == 0) {
			assert_string_equal(why, "");
		} else {
			if (!strstr(why, c->why))
				fail_msg("%s: reason \"%s\" lacks \"%s\"", c->addr, why, c->why);
			if (!strstr(why, "allow_networks"))
				fail_msg("%s: reason \"%s\" does not say how to allow it", c->addr, why);
		}
	}
}

static void test_bad_sockaddr(void **state)
{
	struct sockaddr_in s4;
	struct sockaddr sa;
	char why[256];

	(void)state;
	memset(&sa, 0, sizeof sa);
	sa.sa_family = AF_UNIX;
	assert_int_equal(ab_ssrf_check(&sa, sizeof sa, NULL, why, sizeof why), -1);
	assert_non_null(strstr(why, "not IPv4 or IPv6"));
	memset(&s4, 0, sizeof s4);
	s4.sin_family = AF_INET;
	/* too short for its family */
	assert_int_equal(ab_ssrf_check((struct sockaddr *)&s4, 2, NULL, why, sizeof why), -1);
	assert_int_equal(ab_ssrf_check(NULL, 0, NULL, why, sizeof why), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_bad_sockaddr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
