/*
 * net/cidr.h - IPv4 and IPv6 networks ("192.0.2.0/24", "2001:db8::/32",
 * one address): the one type and parser behind the outbound guard's
 * allow_networks (net/ssrf.h) and the mail sources' networks and
 * trusted_networks (config/config_mail.h).
 *
 * Host bits: a network with bits set after its prefix ("10.1.2.3/8") is
 * refused, with the network it probably means in the message ("did you
 * mean \"10.0.0.0/8\"?").  Read as 10.0.0.0/8 it would silently trust or
 * allow far more than a typo of "10.1.2.3/32" meant, so the configuration
 * says so at load time instead.
 */
#ifndef AB_NET_CIDR_H
#define AB_NET_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct ab_cidr {
	int family;               /* AF_INET or AF_INET6 */
	unsigned char addr[16];   /* network address, 4 or 16 bytes used */
	unsigned prefix;          /* 0..32 or 0..128 */
};

/* Parse "192.0.2.0/24", "2001:db8::/32" or a bare address (/32, /128).
 * The prefix is 1-3 decimal digits in range; host bits set after it are
 * an error (see above).  Returns 0, or -1 with a message in err that
 * starts "network \"S\": " and says what to write instead. */
int ab_cidr_parse(const char *s, struct ab_cidr *out, char *err, size_t errsz);

/* Does the network contain the address (4 or 16 bytes of family af)? */
bool ab_cidr_contains(const struct ab_cidr *c, int af, const unsigned char *addr);

/* Is the socket address (AF_INET or AF_INET6; NULL: no) in one of the n
 * networks?  An IPv4-mapped IPv6 address (::ffff:a.b.c.d, a dual-stack
 * listener's view of an IPv4 client) also matches IPv4 networks. */
bool ab_cidr_match_addr(const struct ab_cidr *nets, size_t n, const struct sockaddr *sa);

#endif
