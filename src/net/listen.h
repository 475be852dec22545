/*
 * listen.h - a listening TCP socket on HOST:PORT, for the daemon's servers.
 */
#ifndef AB_NET_LISTEN_H
#define AB_NET_LISTEN_H

#include <stddef.h>

/* Bind and listen on host (numeric or a name; "" = every address: IPv6
 * dual stack where there is IPv6) and port, SO_REUSEADDR, close-on-exec;
 * nonblocking when nonblock.  The socket, or -1 with the reason in err
 * ("cannot listen on 127.0.0.1:9466: Address already in use ..."). */
int ab_listen_tcp(const char *host, const char *port, int backlog, int nonblock, char *err,
	size_t errsz);

#endif
