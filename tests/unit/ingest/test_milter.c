/*
 * test_milter.c - unit tests for ab_milter_plan(): which milter protocol
 * steps, no-reply flags, actions and macro lists one SMTP session asks
 * for, from the mail sources and from what the MTA offers.  Table-driven:
 * each row is a set of sources, an MTA offer, the flags that must be set
 * and those that must not.  (The protocol itself is exercised against
 * miltertest in tests/milter and a real Postfix in tests/integration.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <libmilter/mfapi.h>

#include "config/config_mail.h"
#include "ingest/milter.h"

/* What Postfix 3.x offers with milter_protocol = 6 (milter8.c), plus the
 * no-reply flags libmilter can always fake. */
#define PF_ACTIONS (SMFIF_ADDHDRS | SMFIF_CHGBODY | SMFIF_ADDRCPT | SMFIF_DELRCPT | \
		    SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_CHGFROM | SMFIF_ADDRCPT_PAR | \
		    SMFIF_SETSYMLIST)
#define NR_ALL (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_DATA | \
		SMFIP_NR_UNKN | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY)
#define PF_STEPS (SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL | SMFIP_NORCPT | SMFIP_NOBODY | \
		  SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_SKIP | \
		  SMFIP_RCPT_REJ | NR_ALL | SMFIP_HDR_LEADSPC)
/* Never asked for: alert mail needs its headers, body and EOM. */
#define NEVER (SMFIP_NOMAIL | SMFIP_NORCPT | SMFIP_NOBODY | SMFIP_NOHDRS | SMFIP_NOEOH | \
	       SMFIP_NR_HELO | SMFIP_NR_DATA | SMFIP_NR_UNKN | SMFIP_RCPT_REJ)

/* Source kinds for the table. */
#define S_RCPT    1
#define S_SENDER  2
#define S_NET     4
#define S_TRUST   8
#define S_HEADER  16

static const struct {
	const char *name;
	int src[3];               /* up to 3 sources, 0 = none */
	unsigned long actions, steps;   /* offered by the MTA */
	unsigned long set, clear; /* steps that must be / must not be asked for */
	bool accept_conn, client_macros, symlist, conn_decides;
} cases[] = {
	{ "recipient source: no connect, no reply at MAIL, decide at DATA",
	  { S_RCPT }, PF_ACTIONS, PF_STEPS,
	  SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_NR_MAIL | SMFIP_NR_RCPT |
	  SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY,
	  SMFIP_NODATA | SMFIP_NR_CONN | NEVER, false, true, true, false },
	{ "sender source: no connect, MAIL decides, no DATA",
	  { S_SENDER }, PF_ACTIONS, PF_STEPS,
	  SMFIP_NOCONNECT | SMFIP_NODATA | SMFIP_NR_RCPT,
	  SMFIP_NR_MAIL | SMFIP_NR_CONN | NEVER, false, true, true, false },
	{ "network source: connect replies (releases other clients), MAIL decides",
	  { S_NET }, PF_ACTIONS, PF_STEPS,
	  SMFIP_NODATA,
	  SMFIP_NOCONNECT | SMFIP_NR_CONN | SMFIP_NR_MAIL | NEVER, false, false, true, true },
	{ "network sources with recipients: connect releases, DATA decides",
	  { S_NET | S_RCPT, S_NET | S_SENDER }, PF_ACTIONS, PF_STEPS,
	  0,
	  SMFIP_NOCONNECT | SMFIP_NR_CONN | SMFIP_NR_MAIL | SMFIP_NODATA | NEVER,
	  false, false, true, true },
	{ "trusted networks: connect kept; recipients: no reply at MAIL",
	  { S_RCPT | S_TRUST }, PF_ACTIONS, PF_STEPS,
	  SMFIP_NR_CONN | SMFIP_NR_MAIL,
	  SMFIP_NOCONNECT | SMFIP_NODATA | NEVER, false, false, true, false },
	{ "recipient + sender sources: MAIL cannot release, DATA decides",
	  { S_RCPT, S_SENDER }, PF_ACTIONS, PF_STEPS,
	  SMFIP_NOCONNECT | SMFIP_NR_MAIL,
	  SMFIP_NODATA | NEVER, false, true, true, false },
	{ "sender + network on one source: MAIL decides",
	  { S_SENDER | S_NET, S_SENDER }, PF_ACTIONS, PF_STEPS,
	  SMFIP_NR_CONN | SMFIP_NODATA,
	  SMFIP_NR_MAIL | SMFIP_NOCONNECT | NEVER, false, false, true, false },
	{ "header-only source: every mail reaches EOM",
	  { S_HEADER }, PF_ACTIONS, PF_STEPS,
	  SMFIP_NOCONNECT | SMFIP_NR_MAIL | SMFIP_NODATA,
	  NEVER, false, true, true, false },
	{ "no macro lists offered: connect kept (the client is needed at EOM)",
	  { S_RCPT }, SMFIF_ADDHDRS | SMFIF_DELRCPT, PF_STEPS,
	  SMFIP_NR_CONN | SMFIP_NR_MAIL,
	  SMFIP_NOCONNECT | NEVER, false, false, false, false },
	{ "old MTA (protocol 2): only the steps it knows, no no-reply",
	  { S_RCPT }, SMFIF_ADDHDRS | SMFIF_DELRCPT, 0x7f,
	  SMFIP_NOHELO,
	  SMFIP_NOCONNECT | SMFIP_NODATA | SMFIP_NOUNKNOWN | NR_ALL | NEVER,
	  false, false, false, false },
	{ "no source: release the session at connect, which must reply",
	  { 0 }, PF_ACTIONS, PF_STEPS,
	  SMFIP_NOHELO,
	  SMFIP_NOCONNECT | SMFIP_NR_CONN | NEVER, true, false, true, false },
};

static char *glob_rcpt[] = { (char *)"alerts@example.com" };
static char *glob_sender[] = { (char *)"scanner@example.net" };
static struct ab_cidr nets[1];
static struct ab_hdr_match hdrs[1];

static void fill(struct ab_mail_source *s, int kind)
{
	memset(s, 0, sizeof *s);
	s->name = (char *)"t";
	if (kind & S_RCPT) {
		s->rcpt = glob_rcpt;
		s->n_rcpt = 1;
	}
	if (kind & S_SENDER) {
		s->senders = glob_sender;
		s->n_senders = 1;
	}
	if (kind & S_NET) {
		s->networks = nets;
		s->n_networks = 1;
	}
	if (kind & S_TRUST) {
		s->trusted = nets;
		s->n_trusted = 1;
	}
	if (kind & S_HEADER) {
		s->headers = hdrs;
		s->n_headers = 1;
	}
}

static void test_plans(void **state)
{
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct ab_mail_source src[3];
		struct ab_mail_conf mc;
		struct ab_milter_plan p;

		memset(&mc, 0, sizeof mc);
		mc.sources = src;
		for (k = 0; k < 3 && cases[i].src[k]; k++)
			fill(&src[mc.n_sources++], cases[i].src[k]);
		ab_milter_plan(&mc, cases[i].actions, cases[i].steps, &p);
		print_message("# %s: steps 0x%lx actions 0x%lx\n", cases[i].name, p.steps,
			      p.actions);
		assert_int_equal(p.steps & cases[i].set, cases[i].set);
		assert_int_equal(p.steps & cases[i].clear, 0);
		assert_int_equal(p.steps & ~cases[i].steps, 0);       /* only what is offered */
		assert_int_equal(p.actions & ~cases[i].actions, 0);
		assert_true(p.accept_conn == cases[i].accept_conn);
		assert_true(p.client_macros == cases[i].client_macros);
		assert_true(!!(p.actions & SMFIF_SETSYMLIST) == cases[i].symlist);
		assert_true(p.conn_decides == cases[i].conn_decides);
		if (!p.accept_conn)   /* ADDHDR for pass, DELRCPT for consume */
			assert_int_equal(p.actions & (SMFIF_ADDHDRS | SMFIF_DELRCPT),
					 cases[i].actions & (SMFIF_ADDHDRS | SMFIF_DELRCPT));
		assert_int_equal(p.actions & (SMFIF_CHGBODY | SMFIF_ADDRCPT | SMFIF_CHGHDRS |
					      SMFIF_QUARANTINE | SMFIF_CHGFROM), 0);
	}
}

static void test_null_conf(void **state)
{
	struct ab_milter_plan p;

	(void)state;
	ab_milter_plan(NULL, PF_ACTIONS, PF_STEPS, &p);
	assert_true(p.accept_conn);
	assert_int_equal(p.steps & (SMFIP_NOCONNECT | SMFIP_NR_CONN), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plans),
		cmocka_unit_test(test_null_conf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
