/*
 * milter.h - alertbridged's Postfix milter (libmilter), run in its own
 * thread inside the daemon.
 *
 * Lifecycle, called by alertbridged.c:
 *   ab_milter_open()   register and bind the socket (before privileges
 *                      are dropped, after daemonizing); NULL + err on error
 *   ab_milter_start()  run smfi_main() in a thread (after the daemon has
 *                      blocked its signals: every thread inherits the block)
 *   ab_milter_set_runtime()  swap the configuration snapshot on reload (for
 *                      new SMTP sessions: an open session keeps its own)
 *   ab_milter_stop()   smfi_stop(), join, remove a unix socket it bound
 *                      (shut-down path; also when never started)
 * smfi_main starts libmilter's own signal thread, which waits for SIGHUP,
 * SIGTERM and SIGINT and stops the milter on any of them; the daemon
 * arranges that its main thread takes these signals instead (doc/DESIGN.md
 * "Signals").  Should libmilter still take one, smfi_main returns and the
 * milter thread raises SIGTERM so the daemon stops as a whole.
 *
 *   ab_milter_plan()   what one SMTP session negotiates, from the mail
 *                      sources and what the MTA offers (SMFIF_* actions,
 *                      SMFIP_* steps): skip every step no source needs, no
 *                      reply wherever a step cannot release mail
 */
#ifndef AB_MILTER_H
#define AB_MILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "deliver/runtime.h"

struct ab_milter;
struct ab_mail_conf;

struct ab_milter_plan {
	unsigned long actions;   /* SMFIF_* asked for */
	unsigned long steps;     /* SMFIP_NO* and SMFIP_NR_* asked for */
	bool accept_conn;        /* no mail source: release the session at connect */
	bool conn_decides;       /* all sources name networks: connect releases others */
	bool client_macros;      /* no connect step: client name/address as EOM macros */
};

void ab_milter_plan(const struct ab_mail_conf *mc, unsigned long mta_actions,
	unsigned long mta_steps, struct ab_milter_plan *p);

struct ab_milter *ab_milter_open(struct ab_runtime *rt, const char *user, char *err,
	size_t errsz);
int ab_milter_start(struct ab_milter *m, char *err, size_t errsz);
void ab_milter_set_runtime(struct ab_milter *m, struct ab_runtime *rt);
void ab_milter_stop(struct ab_milter *m);

#endif
