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

#include <stddef.h>
#include <sys/socket.h>

#include "net/cidr.h"          /* struct ab_cidr, ab_cidr_parse for allow_networks */

/* Check one socket address.  Returns 0 when the connection may be made, -1
 * when it is refused, with the reason and how to allow it in why.
 * allow_networks: NULL-terminated CIDR strings (invalid entries are ignored;
 * validate them with ab_cidr_parse when the configuration is loaded). */
int ab_ssrf_check(const struct sockaddr *sa, socklen_t len, const char *const *allow_networks,
	char *why, size_t whysz);

#endif
