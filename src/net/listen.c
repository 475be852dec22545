/*
 * listen.c - a listening TCP socket (see listen.h).
 *
 * Public: ab_listen_tcp.
 * Diagnostics: the address and errno's text in err, with what to do for
 *   "in use" (another program has the port) and "permission denied"
 *   (ports below 1024 need root at start).
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/listen.h"

int ab_listen_tcp(const char *host, const char *port, int backlog, int nonblock, char *err,
	size_t errsz)
{
	struct addrinfo hints, *res = NULL, *ai;
	int rc, one = 1, fd = -1;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host && host[0] ? host : NULL, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errsz, "address %s:%s: %s", host && host[0] ? host : "*", port,
			gai_strerror(rc));
		return -1;
	}
	/* Prefer IPv6 for the wildcard (dual stack), else the first answer. */
	ai = res;
	for (struct addrinfo *p = res; !(host && host[0]) && p; p = p->ai_next)
		if (p->ai_family == AF_INET6) {
			ai = p;
			break;
		}
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0),
		0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ai->ai_family == AF_INET6 && !(host && host[0])) {
		int zero = 0;
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
	}
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, backlog) < 0)
		goto fail;
	freeaddrinfo(res);
	return fd;
fail:
	snprintf(err, errsz, "cannot listen on %s:%s: %s%s", host && host[0] ? host : "*", port,
		strerror(errno), errno == EADDRINUSE ? " (another program uses the port: change "
		"the address or stop that program)" : errno == EACCES ? " (ports below 1024 need "
		"root at start)" : "");
	if (fd >= 0)
		close(fd);
	freeaddrinfo(res);
	return -1;
}
