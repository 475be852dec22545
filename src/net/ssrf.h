/*
 * net/ssrf.h - the outbound address guard (server-side request forgery).
 *
 * Every address alertbridge connects to for a channel goes through
 * ab_ssrf_check(): loopback, private, link-local, CGNAT, ULA, multicast,
 * reserved, documentation and unspecified addresses, cloud metadata
 * endpoints and the IPv6 forms that embed such an IPv4 address are refused,
 * unless the channel lists a network containing the address in its
 * allow_networks setting.
 */
#ifndef AB_NET_SSRF_H
#define AB_NET_SSRF_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct ab_cidr {
	int family;               /* AF_INET or AF_INET6 */
	unsigned char addr[16];   /* network address, 4 or 16 bytes used */
	unsigned prefix;          /* 0..32 or 0..128 */
};

/* Parse "192.0.2.0/24", "2001:db8::/32" or a bare address (/32, /128).
 * Host bits set after the prefix are an error (with the network it should
 * probably be).  Returns 0, or -1 with a message in err. */
int ab_cidr_parse(const char *s, struct ab_cidr *out, char *err, size_t errsz);

/* Does the network contain the address (4 or 16 bytes of family af)? */
bool ab_cidr_contains(const struct ab_cidr *c, int af, const unsigned char *addr);

/* Check one socket address.  Returns 0 when the connection may be made, -1
 * when it is refused, with the reason and how to allow it in why.
 * allow_networks: NULL-terminated CIDR strings (invalid entries are ignored;
 * validate them with ab_cidr_parse when the configuration is loaded). */
int ab_ssrf_check(const struct sockaddr *sa, socklen_t len, const char *const *allow_networks,
	char *why, size_t whysz);

#endif
