/*
 * net/cidr.c - IPv4 and IPv6 networks: parse, contain, match a socket
 * address (see cidr.h; the host-bit rule is explained there).
 *
 * Public: ab_cidr_parse, ab_cidr_contains, ab_cidr_match_addr.
 * Diagnostics: ab_cidr_parse explains a bad network in err, e.g.
 * "network \"127.0.0.1/8\": host bits set after /8 (did you mean
 * \"127.0.0.0/8\"?)"; nothing logged.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "net/cidr.h"

int ab_cidr_parse(const char *s, struct ab_cidr *out, char *err, size_t errsz)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash, *d;
	size_t hlen;
	unsigned maxp, p = 0;
	struct ab_cidr net;

	memset(out, 0, sizeof *out);
	if (!s || !*s) {
		snprintf(err, errsz, "empty network; expected e.g. \"10.0.0.0/8\" or \"fd00::/8\"");
		return -1;
	}
	slash = strchr(s, '/');
	hlen = slash ? (size_t)(slash - s) : strlen(s);
	if (hlen == 0 || hlen >= sizeof host) {
		snprintf(err, errsz, "network \"%.64s\": not an address/prefix; expected e.g. "
			 "\"192.0.2.0/24\", \"2001:db8::/32\" or one address", s);
		return -1;
	}
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, out->addr) == 1) {
		out->family = AF_INET;
		maxp = 32;
	} else if (inet_pton(AF_INET6, host, out->addr) == 1) {
		out->family = AF_INET6;
		maxp = 128;
	} else {
		snprintf(err, errsz, "network \"%.64s\": \"%s\" is not an IPv4 or IPv6 address; "
			 "expected e.g. \"192.0.2.0/24\", \"2001:db8::/32\" or one address", s, host);
		return -1;
	}
	if (!slash) {
		out->prefix = maxp;
		return 0;
	}
	if (slash[1] < '0' || slash[1] > '9') {
		snprintf(err, errsz, "network \"%.64s\": missing prefix length after '/'", s);
		return -1;
	}
	for (d = slash + 1; *d >= '0' && *d <= '9' && d - slash <= 3; d++)
		p = p * 10 + (unsigned)(*d - '0');
	if (*d || p > maxp) {
		snprintf(err, errsz, "network \"%.64s\": prefix length must be 0..%u", s, maxp);
		return -1;
	}
	out->prefix = p;
	/* host bits must be zero */
	net = *out;
	for (unsigned i = 0; i < maxp / 8; i++) {
		unsigned bit0 = i * 8;

		if (bit0 >= p)
			net.addr[i] = 0;
		else if (bit0 + 8 > p)
			net.addr[i] &= (unsigned char)(0xff << (8 - (p - bit0)));
	}
	if (memcmp(net.addr, out->addr, maxp / 8) != 0) {
		char nb[INET6_ADDRSTRLEN];

		inet_ntop(net.family, net.addr, nb, sizeof nb);
		snprintf(err, errsz, "network \"%.64s\": host bits set after /%u "
			 "(did you mean \"%s/%u\"?)", s, p, nb, p);
		return -1;
	}
	return 0;
}

bool ab_cidr_contains(const struct ab_cidr *c, int af, const unsigned char *addr)
{
	unsigned full, rest;

	if (c->family != af)
		return false;
	full = c->prefix / 8;
	rest = c->prefix % 8;
	if (memcmp(c->addr, addr, full) != 0)
		return false;
	if (rest) {
		unsigned char mask = (unsigned char)(0xff << (8 - rest));

		if ((c->addr[full] & mask) != (addr[full] & mask))
			return false;
	}
	return true;
}

bool ab_cidr_match_addr(const struct ab_cidr *nets, size_t n, const struct sockaddr *sa)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	unsigned char a4[4], a6[16];
	bool has4 = false, has6 = false;

	if (!sa)
		return false;
	if (sa->sa_family == AF_INET) {
		memcpy(a4, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		has4 = true;
	} else if (sa->sa_family == AF_INET6) {
		memcpy(a6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
		has6 = true;
		if (!memcmp(a6, mapped, sizeof mapped)) {
			memcpy(a4, a6 + 12, 4);
			has4 = true;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (has4 && ab_cidr_contains(&nets[i], AF_INET, a4))
			return true;
		if (has6 && ab_cidr_contains(&nets[i], AF_INET6, a6))
			return true;
	}
	return false;
}
