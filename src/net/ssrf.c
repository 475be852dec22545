/*
 * net/ssrf.c - the outbound address guard (server-side request forgery).
 *
 * The HTTP helper calls ab_ssrf_check() from libcurl's open-socket callback
 * for every address it is about to connect to (so every resolved address and
 * a DNS answer that changes between check and use are covered), and
 * `alertbridge check` calls it for the addresses a channel URL resolves to.
 *
 * Refused: IPv4 0/8, 10/8, 100.64/10, 127/8, 169.254/16 (cloud metadata
 * 169.254.169.254), 172.16/12, 192.0.0/24, 192.0.2/24, 192.168/16,
 * 198.18/15, 198.51.100/24, 203.0.113/24, 224/4, 240/4 (and
 * 255.255.255.255); IPv6 ::, ::1, 100::/64, fc00::/7 (metadata fd00:ec2::254),
 * fe80::/10, fec0::/10, ff00::/8, 2001:db8::/32, Teredo 2001::/32, the
 * local-use NAT64 prefix 64:ff9b:1::/48, and the forms that embed an IPv4
 * address (mapped ::ffff:0:0/96, translated ::ffff:0:0:0/96, compatible
 * ::/96, NAT64 64:ff9b::/96, 6to4 2002::/16), which are judged by the
 * embedded address.  A network in allow_networks lets an address through
 * (for an embedded form, a v4 network containing the embedded address too).
 *
 * Public: ab_ssrf_check (networks: net/cidr.h).
 * Diagnostics: the reason in why, e.g. "127.0.0.1 is a loopback address
 * (127.0.0.0/8); add \"127.0.0.0/8\" to the channel's allow_networks to
 * permit it".
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/cidr.h"
#include "net/ssrf.h"

struct range {
	const char *cidr;
	const char *what;
};

static const struct range v4_refused[] = {
	{ "0.0.0.0/8", "\"this network\"" },
	{ "10.0.0.0/8", "private" },
	{ "100.64.0.0/10", "carrier-grade NAT" },
	{ "127.0.0.0/8", "loopback" },
	{ "169.254.169.254/32", "cloud metadata" },
	{ "169.254.0.0/16", "link-local" },
	{ "172.16.0.0/12", "private" },
	{ "192.0.0.0/24", "IETF protocol assignment" },
	{ "192.0.2.0/24", "documentation" },
	{ "192.168.0.0/16", "private" },
	{ "198.18.0.0/15", "benchmarking" },
	{ "198.51.100.0/24", "documentation" },
	{ "203.0.113.0/24", "documentation" },
	{ "224.0.0.0/4", "multicast" },
	{ "255.255.255.255/32", "broadcast" },
	{ "240.0.0.0/4", "reserved" },
};

static const struct range v6_refused[] = {
	{ "::/128", "unspecified" },
	{ "::1/128", "loopback" },
	{ "100::/64", "discard-only" },
	{ "fd00:ec2::254/128", "cloud metadata" },
	{ "fc00::/7", "unique local" },
	{ "fe80::/10", "link-local" },
	{ "fec0::/10", "site-local" },
	{ "ff00::/8", "multicast" },
	{ "2001:db8::/32", "documentation" },
	{ "2001::/32", "Teredo tunnel" },
	{ "64:ff9b:1::/48", "local-use NAT64" },
};

/* IPv6 forms carrying an IPv4 address at byte offset off. */
struct embed {
	const char *cidr;
	const char *what;
	int off;
};

static const struct embed v6_embedded[] = {
	{ "::ffff:0:0/96", "IPv4-mapped", 12 },
	{ "::ffff:0:0:0/96", "IPv4-translated", 12 },
	{ "64:ff9b::/96", "NAT64", 12 },
	{ "2002::/16", "6to4", 2 },
	{ "::/96", "IPv4-compatible", 12 },  /* after ::/128 and ::1 */
};

/* Is the address in one of the allowed networks? Invalid entries never match. */
static bool allowed(const char *const *allow, int af, const unsigned char *addr)
{
	char ignore[8];
	struct ab_cidr c;

	for (size_t i = 0; allow && allow[i] && i < 1024; i++)
		if (ab_cidr_parse(allow[i], &c, ignore, sizeof ignore) == 0 &&
		    ab_cidr_contains(&c, af, addr))
			return true;
	return false;
}

/* The first table entry containing addr, or NULL. */
static const struct range *lookup(const struct range *tab, size_t n, int af,
	const unsigned char *addr)
{
	char ignore[8];
	struct ab_cidr c;

	for (size_t i = 0; i < n; i++)
		if (ab_cidr_parse(tab[i].cidr, &c, ignore, sizeof ignore) == 0 &&
		    ab_cidr_contains(&c, af, addr))
			return &tab[i];
	return NULL;
}

static void refuse(char *why, size_t whysz, const char *shown, const char *embeds,
	const struct range *r)
{
	if (embeds)
		snprintf(why, whysz, "%s embeds %s, a %s address (%s); add \"%s\" to the "
			"channel's allow_networks to permit it", shown, embeds, r->what, r->cidr,
			r->cidr);
	else
		snprintf(why, whysz, "%s is a %s address (%s); add \"%s\" to the channel's "
			"allow_networks to permit it", shown, r->what, r->cidr, r->cidr);
}

int ab_ssrf_check(const struct sockaddr *sa, socklen_t len, const char *const *allow_networks,
	char *why, size_t whysz)
{
	char shown[INET6_ADDRSTRLEN], v4shown[INET_ADDRSTRLEN];
	const struct range *r;
	const unsigned char *a;

	if (whysz)
		why[0] = '\0';
	if (!sa) {
		snprintf(why, whysz, "no address");
		return -1;
	}
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		a = (const unsigned char *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		inet_ntop(AF_INET, a, shown, sizeof shown);
		r = lookup(v4_refused, sizeof v4_refused / sizeof v4_refused[0], AF_INET, a);
		if (!r || allowed(allow_networks, AF_INET, a))
			return 0;
		refuse(why, whysz, shown, NULL, r);
		return -1;
	}
	if (sa->sa_family != AF_INET6 || len < (socklen_t)sizeof(struct sockaddr_in6)) {
		snprintf(why, whysz, "address family %d is not IPv4 or IPv6", (int)sa->sa_family);
		return -1;
	}
	a = (const unsigned char *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	inet_ntop(AF_INET6, a, shown, sizeof shown);
	if (allowed(allow_networks, AF_INET6, a))
		return 0;
	r = lookup(v6_refused, sizeof v6_refused / sizeof v6_refused[0], AF_INET6, a);
	if (r) {
		refuse(why, whysz, shown, NULL, r);
		return -1;
	}
	for (size_t i = 0; i < sizeof v6_embedded / sizeof v6_embedded[0]; i++) {
		const struct embed *e = &v6_embedded[i];
		const unsigned char *v4 = a + e->off;
		struct ab_cidr c;
		char ignore[8];

		if (ab_cidr_parse(e->cidr, &c, ignore, sizeof ignore) != 0 ||
		    !ab_cidr_contains(&c, AF_INET6, a))
			continue;
		r = lookup(v4_refused, sizeof v4_refused / sizeof v4_refused[0], AF_INET, v4);
		if (!r || allowed(allow_networks, AF_INET, v4))
			return 0;
		inet_ntop(AF_INET, v4, v4shown, sizeof v4shown);
		{
			char emb[INET_ADDRSTRLEN + 32];
			snprintf(emb, sizeof emb, "%s (%s form)", v4shown, e->what);
			refuse(why, whysz, shown, emb, r);
		}
		return -1;
	}
	return 0;
}
