/*
 * null_milter.c - the "do-nothing libmilter filter" peer of bench/milter.sh
 * (the peer README's performance table names): a plain libmilter filter that accepts every
 * message at MAIL FROM and asks for nothing else.  It registers only an
 * envfrom callback and no negotiate callback, so libmilter itself turns
 * off the steps it has no callback for (connect, HELO, RCPT, DATA,
 * headers, body) - what a typical minimal filter gets without trying.
 *
 * Usage: null_milter inet:PORT@127.0.0.1 | unix:/path
 * Runs until SIGTERM/SIGINT/SIGHUP (libmilter's signal handling).
 * Not part of the tests and not installed.
 * Diagnostics: "null_milter: ..." on stderr and exit 75 (EX_TEMPFAIL)
 * when the socket cannot be opened, 64 (EX_USAGE) on bad arguments.
 */
#include <stdbool.h>
#include <stdio.h>
#include <sysexits.h>

#include <libmilter/mfapi.h>

static sfsistat nm_envfrom(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return SMFIS_ACCEPT;
}

static struct smfiDesc nm_desc = {
	"null_milter", SMFI_VERSION, 0,
	NULL, NULL, nm_envfrom, NULL, NULL, NULL, NULL, NULL,
	NULL, NULL, NULL, NULL, NULL,
};

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: null_milter inet:PORT@HOST | unix:/path\n");
		return EX_USAGE;
	}
	if (smfi_register(nm_desc) != MI_SUCCESS || smfi_setconn(argv[1]) != MI_SUCCESS ||
	    smfi_opensocket(true) != MI_SUCCESS) {
		fprintf(stderr, "null_milter: cannot listen on %s\n", argv[1]);
		return EX_TEMPFAIL;
	}
	return smfi_main() == MI_SUCCESS ? 0 : EX_SOFTWARE;
}
