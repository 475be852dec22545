/*
 * syslog_in.h - the syslog listeners: UDP, TCP (RFC 6587 octet counting or
 * LF framing, detected per connection), TLS over TCP (RFC 5425, OpenSSL,
 * optional client-certificate verification), RELP (plain or TLS; each line
 * answered only once durable) and a unix datagram socket.
 *
 * One I/O thread serves every listener with epoll.  What it reads in one
 * round is parsed (syslog_source.h), routed and committed to the store in
 * one transaction (group commit) before it is counted as received.  When
 * the store holds more than syslog.high_water queued jobs, stream
 * listeners stop reading (the senders' TCP backs off) and UDP datagrams
 * are dropped and counted.  Counters go to the status file
 * (syslog.status_file, JSON) that `alertbridge syslog status` prints.
 */
#ifndef AB_SYSLOG_IN_H
#define AB_SYSLOG_IN_H

#include <stddef.h>
#include "config/config.h"
#include "deliver/runtime.h"

struct ab_syslog_in;

/* Bind every listener of cfg->syslog and load TLS certificates (call as
 * root, before dropping privileges).  Returns NULL with a message in err;
 * returns NULL with err[0] == '\0' when no listener is configured. */
struct ab_syslog_in *ab_syslog_in_open(const struct ab_config *cfg, char *err, size_t errsz);
/* Open a store connection and start the I/O thread.  wake (may be NULL) is
 * called after each group commit (e.g. ab_dispatch_wake).  Takes a
 * reference on rt.  0 or -1 with a message in err. */
int ab_syslog_in_start(struct ab_syslog_in *in, struct ab_runtime *rt, const char *store_path,
	void (*wake)(void *arg), void *wake_arg, char *err, size_t errsz);
/* Reload: sources and routing of the new snapshot apply from the next
 * round; listener changes need a restart. */
void ab_syslog_in_set_runtime(struct ab_syslog_in *in, struct ab_runtime *rt);
/* Commit what was read, write the status file, close everything, join. */
void ab_syslog_in_stop(struct ab_syslog_in *in);

#endif
