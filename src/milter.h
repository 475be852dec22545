/*
 * milter.h - alertbridged's Postfix milter (libmilter), run in its own
 * thread inside the daemon.
 *
 * Lifecycle, called by alertbridged.c:
 *   ab_milter_open()   register and bind the socket (before privileges
 *                      are dropped, after daemonizing); NULL + err on error
 *   ab_milter_start()  run smfi_main() in a thread (after the signal mask
 *                      is set: libmilter's own signal thread shares it)
 *   ab_milter_set_runtime()  swap the configuration snapshot on reload
 *   ab_milter_stop()   smfi_stop() and join (SIGTERM path)
 * If libmilter itself takes SIGTERM/SIGINT/SIGHUP (its signal thread
 * competes with the daemon's sigwait), smfi_main returns and the milter
 * thread re-raises SIGTERM so the daemon stops as a whole.
 */
#ifndef AB_MILTER_H
#define AB_MILTER_H

#include <stddef.h>

#include "runtime.h"

struct ab_milter;

struct ab_milter *ab_milter_open(struct ab_runtime *rt, const char *user, char *err,
	size_t errsz);
int ab_milter_start(struct ab_milter *m, char *err, size_t errsz);
void ab_milter_set_runtime(struct ab_milter *m, struct ab_runtime *rt);
void ab_milter_stop(struct ab_milter *m);

#endif
