/*
 * milter.c - the Postfix milter: selects alert mail, turns it into an
 * event, commits it, then answers end-of-message.
 *
 * Public: ab_milter_open, ab_milter_start, ab_milter_set_runtime,
 *   ab_milter_stop, ab_milter_plan (see milter.h).
 *
 * Protocol (ab_milter_plan, once per SMTP session from the configuration
 * snapshot the session keeps): no HELO and no unknown commands ever; no
 * connect step unless a source selects or trusts by client network (the
 * client name and address of an alert then come as EOM macros); no DATA
 * step unless a source selects by recipient; no-reply on MAIL (when no
 * source can release a mail at MAIL FROM), RCPT, headers, EOH, body, and
 * on connect unless it decides; smfi_setsymlist asks for the queue id only
 * (plus the client at EOM), sparing the MTA its default macro work;
 * actions ADDHDR (pass) and DELRCPT (consume).
 * Ordinary mail is released with SMFIS_ACCEPT at CONNECT for the whole
 * session when every source names networks and none holds the client, at
 * MAIL FROM when no source can match its client network and sender, else
 * at DATA when no source matches the recipients - the earliest point at
 * which every recipient is known: Postfix takes SMFIR_ACCEPT at RCPT as
 * "accept the whole message" (milter8.c: MILTER8_STAT_ACCEPT_MSG), so a
 * later alert recipient would be missed, and with no-reply on RCPT
 * libmilter cannot send it anyway.  No allocation and no lock per
 * ordinary message: the per-session state is allocated at negotiation.
 * Alert mail: the message (bounded by max_message/max_header) is parsed,
 * a source selected, trust checked (ab_mail_accept), the event routed and
 * committed with its jobs (fsync) in a group commit shared with the other
 * sessions ending at the same time (committer.c: an EOM waits for at most
 * the commit in progress and its own); only then EOM is answered.  A failed commit answers
 * 451 4.3.0 (TEMPFAIL), or 452 4.3.1 when the store's filesystem is below
 * min_free_mb: Postfix keeps the mail and retries.  A mail over
 * a limit is accepted untouched and logged.  route+CHANNEL@domain
 * recipients send the event to CHANNEL only.
 *
 * Diagnostics (ab_log): one line per alert mail (event id, source,
 * channels), per mail passed because of a limit (which limit), per
 * untrusted sender (what was done), per XML document refused for its
 * DOCTYPE (entities never expanded); the store refusing alerts (TEMPFAIL)
 * once a minute with a count, and once when it takes them again.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <pwd.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <libmilter/mfapi.h>

#include "lib/buf.h"
#include "net/cidr.h"
#include "config/config.h"
#include "ingest/committer.h"
#include "ingest/ingest.h"
#include "lib/log.h"
#include "config/config_mail.h"
#include "ingest/mail_event.h"
#include "ingest/milter.h"
#include "parse/mail.h"
#include "store/store.h"
#include "lib/util.h"
#include "lib/metrics.h"

/* metrics */
static AB_METRIC_COUNTER(m_sessions, "alertbridge_milter_sessions_total", "SMTP sessions the "
	"MTA passed to the milter.", NULL, NULL);
static AB_METRIC_COUNTER(m_released, "alertbridge_milter_released_total", "Messages or "
	"sessions let go, by the stage at which (connect, mail, data, eom).", "stage", NULL);
static AB_METRIC_COUNTER(m_alerts, "alertbridge_milter_alerts_total", "Alert mails taken "
	"(event and jobs committed before the answer).", NULL, NULL);
static AB_METRIC_COUNTER(m_tempfails, "alertbridge_milter_tempfails_total", "Alert mails "
	"answered TEMPFAIL (the MTA keeps and retries them), by reason.", "reason", NULL);

#define MAX_RCPTS 1000
#define COMPLAIN_EVERY_MS 60000   /* the store refusing alerts: a line a minute */

/* The store refusing alerts (full disk, below min_free_mb, locked): one
 * line a minute with the count, one when it takes them again; each mail's
 * queue id at debug level. */
static struct ab_complaint store_refuses = AB_COMPLAINT_INIT;
#define ADDR_MAX 512

struct ab_milter {
	pthread_mutex_t lock;        /* rt */
	struct ab_runtime *rt;
	struct ab_committer *committer;   /* the store, group commits */
	pthread_t thr;
	bool running;
	volatile sig_atomic_t stopping;
	char *unix_path;             /* a unix socket: removed on stop */
	dev_t unix_dev;              /* ... if it is still the one we bound */
	ino_t unix_ino;
};

static struct ab_milter *g_milter;   /* libmilter has one filter per process */

struct msg {
	struct ab_runtime *rt;       /* the session's snapshot (borrowed from the conn) */
	char sender[ADDR_MAX];
	char **rcpts;                /* recipients that some source (or route+) takes */
	size_t n_rcpts;
	size_t n_other;              /* recipients nobody takes (kept as a count only) */
	struct ab_buf raw;
	enum ab_mail_limit limit;
	size_t hdr_big;
};

/* One SMTP session (one MTA connection), allocated once at negotiation. */
struct conn {
	struct ab_runtime *rt;       /* configuration snapshot for the whole session */
	struct ab_milter_plan plan;  /* what was negotiated */
	unsigned long nr;            /* negotiated no-reply flags (plan.steps & SMFIP_NR_*) */
	struct sockaddr_storage client;
	bool has_client;
	char host[300];
	struct msg *msg;             /* &mbuf while a message may be an alert, else NULL */
	struct msg mbuf;
};

/* ------------------------------------------------------------ protocol plan */

void ab_milter_plan(const struct ab_mail_conf *mc, unsigned long mta_actions,
	unsigned long mta_steps, struct ab_milter_plan *p)
{
	unsigned long want = SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_NR_RCPT | SMFIP_NR_HDR |
			     SMFIP_NR_EOH | SMFIP_NR_BODY;
	bool client = false, rcpt = false, mail_final = false, all_net = true;
	size_t i;

	memset(p, 0, sizeof *p);
	p->actions = mta_actions & (SMFIF_ADDHDRS | SMFIF_DELRCPT | SMFIF_SETSYMLIST);
	if (!mc || !mc->n_sources) {
		/* No mail is an alert: release the whole session at CONNECT. */
		p->accept_conn = true;
		p->steps = mta_steps & (SMFIP_NOHELO | SMFIP_NOUNKNOWN);
		return;
	}
	for (i = 0; i < mc->n_sources; i++) {
		const struct ab_mail_source *s = &mc->sources[i];

		client = client || s->n_networks || s->n_trusted;
		all_net = all_net && s->n_networks;
		rcpt = rcpt || s->n_rcpt;
		/* A source that takes any client and sender: MAIL FROM never releases. */
		mail_final = mail_final || (!s->n_networks && !s->n_senders);
	}
	if (all_net) {
		/* Every source names client networks: a client outside them all is
		 * released for the whole session at CONNECT, which must reply. */
		p->conn_decides = true;
	} else if (!client && (p->actions & SMFIF_SETSYMLIST) && (mta_steps & SMFIP_NOCONNECT)) {
		want |= SMFIP_NOCONNECT;
		p->client_macros = true;
	} else {
		want |= SMFIP_NR_CONN;
	}
	if (mail_final)
		want |= SMFIP_NR_MAIL;
	if (!rcpt)
		want |= SMFIP_NODATA;   /* DATA would only repeat the MAIL FROM decision */
	p->steps = mta_steps & want;
}

/* "connect: no-reply, MAIL: decides, ..." for the log line at start and reload. */
static void plan_text(const struct ab_milter_plan *p, char *out, size_t outsz)
{
	unsigned long f = p->steps;

	if (p->accept_conn) {
		snprintf(out, outsz, "no mail source: every SMTP session released at connect");
		return;
	}
	snprintf(out, outsz, "connect: %s, MAIL FROM: %s, RCPT: %s, DATA: %s, macros: %s",
		 f & SMFIP_NOCONNECT ? "skipped" : f & SMFIP_NR_CONN ? "no reply" :
		 p->conn_decides ? "releases the session or continues" : "reply",
		 f & SMFIP_NR_MAIL ? "no reply (cannot release)" : "releases or continues",
		 f & SMFIP_NR_RCPT ? "no reply" : "reply",
		 f & SMFIP_NODATA ? "skipped" : "releases or continues",
		 !(p->actions & SMFIF_SETSYMLIST) ? "MTA defaults" :
		 p->client_macros ? "queue id, client at EOM" : "queue id");
}

/* ------------------------------------------------------------ state */

static struct ab_runtime *cur_rt(void)
{
	struct ab_runtime *rt;

	pthread_mutex_lock(&g_milter->lock);
	rt = ab_runtime_ref(g_milter->rt);
	pthread_mutex_unlock(&g_milter->lock);
	return rt;
}

/* End the current message: free what it collected (the struct is the conn's). */
static void msg_done(struct conn *c)
{
	struct msg *m = &c->mbuf;
	size_t i;

	for (i = 0; i < m->n_rcpts; i++)
		free(m->rcpts[i]);
	free(m->rcpts);
	ab_buf_free(&m->raw);
	memset(m, 0, sizeof *m);
	c->msg = NULL;
}

/* The session state; made at negotiation, or here if an MTA skipped it. */
static struct conn *get_conn(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (!c) {
		c = calloc(1, sizeof *c);
		if (!c)
			return NULL;
		if (smfi_setpriv(ctx, c) != MI_SUCCESS) {
			free(c);
			return NULL;
		}
	}
	if (!c->rt) {
		c->rt = cur_rt();
		/* Not negotiated (an MTA that skipped it): every step replies. */
		ab_milter_plan(c->rt->cfg->mail, SMFIF_ADDHDRS | SMFIF_DELRCPT, 0, &c->plan);
	}
	return c;
}

static sfsistat noreply(const struct conn *c, unsigned long flag)
{
	return c && (c->nr & flag) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* Release the message: SMFIS_ACCEPT, or no reply where the step has none
 * (libmilter would take an ACCEPT it cannot send as the end of the
 * message and lose step with the MTA); DATA then releases it. */
static sfsistat release(struct conn *c, unsigned long flag)
{
	ab_metric_inc(&m_released, flag == SMFIP_NR_MAIL ? "mail" : "data", NULL);   /* metrics */
	if (c)
		msg_done(c);
	return c && (c->nr & flag) ? SMFIS_NOREPLY : SMFIS_ACCEPT;
}

/* Without the connect step the client comes as EOM macros (Postfix:
 * {client_addr} and {client_name}), asked for only then. */
static void client_from_macros(SMFICTX *ctx, struct conn *c)
{
	const char *a = smfi_getsymval(ctx, "{client_addr}");
	const char *n = smfi_getsymval(ctx, "{client_name}");
	struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)&c->client;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)&c->client;

	if (c->has_client || c->host[0] || !a)
		return;
	memset(&c->client, 0, sizeof c->client);
	if (inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		c->has_client = true;
	} else if (inet_pton(AF_INET6, a, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		c->has_client = true;
	}
	snprintf(c->host, sizeof c->host, "%.200s[%.64s]", n ? n : "", a);
}

static void env_of(const struct conn *c, const struct msg *m, struct ab_mail_env *env)
{
	memset(env, 0, sizeof *env);
	env->client = c->has_client ? (const struct sockaddr *)&c->client : NULL;
	env->client_host = c->host[0] ? c->host : NULL;
	env->sender = m->sender;
	env->rcpts = m->rcpts;
	env->n_rcpts = m->n_rcpts;
}

/* ------------------------------------------------------------ callbacks */

static sfsistat cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
			     unsigned long f3, unsigned long *pf0, unsigned long *pf1,
			     unsigned long *pf2, unsigned long *pf3)
{
	static char mac_qid[] = "i";
	static char mac_eom_client[] = "i {client_addr} {client_name}";
	static const int stages[] = { SMFIM_CONNECT, SMFIM_HELO, SMFIM_ENVFROM, SMFIM_ENVRCPT,
				      SMFIM_DATA, SMFIM_EOH };
	struct conn *c = smfi_getpriv(ctx);
	size_t i;

	(void)f2;
	(void)f3;
	if (!c) {
		c = calloc(1, sizeof *c);
		if (!c || smfi_setpriv(ctx, c) != MI_SUCCESS) {
			free(c);
			return SMFIS_REJECT;   /* libmilter: fail the negotiation */
		}
	}
	if (!c->rt)
		c->rt = cur_rt();
	ab_milter_plan(c->rt->cfg->mail, f0, f1, &c->plan);
	c->nr = c->plan.steps & (SMFIP_NR_CONN | SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_HDR |
				 SMFIP_NR_EOH | SMFIP_NR_BODY);
	*pf0 = c->plan.actions;
	*pf1 = c->plan.steps;
	*pf2 = 0;
	*pf3 = 0;
	/* Fewer macros: the MTA computes and sends only what is used. */
	if (c->plan.actions & SMFIF_SETSYMLIST) {
		for (i = 0; i < sizeof stages / sizeof stages[0]; i++)
			smfi_setsymlist(ctx, stages[i], mac_qid);
		smfi_setsymlist(ctx, SMFIM_EOM, c->plan.client_macros ? mac_eom_client : mac_qid);
	}
	return SMFIS_CONTINUE;
}

static sfsistat cb_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *sa)
{
	struct conn *c = get_conn(ctx);

	ab_metric_inc(&m_sessions, NULL, NULL);   /* metrics */
	if (!c || c->plan.accept_conn) {
		ab_metric_inc(&m_released, "connect", NULL);   /* metrics */
		return SMFIS_ACCEPT;    /* no memory (never hold mail up) or no mail source */
	}
	if (sa && (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)) {
		char a[INET6_ADDRSTRLEN] = "";

		memcpy(&c->client, sa, sa->sa_family == AF_INET ? sizeof(struct sockaddr_in) :
		       sizeof(struct sockaddr_in6));
		c->has_client = true;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)sa)->sin_addr, a, sizeof a);
		else
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)sa)->sin6_addr, a,
				  sizeof a);
		snprintf(c->host, sizeof c->host, "%.200s[%s]", hostname ? hostname : "", a);
	} else if (hostname) {
		snprintf(c->host, sizeof c->host, "%.200s", hostname);
	}
	if (c->plan.conn_decides && !(c->nr & SMFIP_NR_CONN)) {
		const struct ab_mail_conf *mc = c->rt->cfg->mail;
		const struct sockaddr *cl = c->has_client ? (const struct sockaddr *)&c->client :
					    NULL;
		size_t i;

		for (i = 0; i < mc->n_sources; i++)
			if (ab_cidr_match_addr(mc->sources[i].networks, mc->sources[i].n_networks, cl))
				return SMFIS_CONTINUE;
		ab_metric_inc(&m_released, "connect", NULL);   /* metrics */
		return SMFIS_ACCEPT;   /* no source takes this client: the whole session */
	}
	return noreply(c, SMFIP_NR_CONN);
}

static sfsistat cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn *c = get_conn(ctx);
	struct ab_mail_conf *mc;
	struct ab_mail_env env;
	struct msg *m;
	size_t i;

	if (!c)
		return SMFIS_ACCEPT;    /* no memory: never hold mail up */
	msg_done(c);
	mc = c->rt->cfg->mail;
	if (!mc || !mc->n_sources)
		return release(c, SMFIP_NR_MAIL);
	m = &c->mbuf;
	m->rt = c->rt;
	ab_mail_addr_clean(argv && argv[0] ? argv[0] : "", m->sender, sizeof m->sender);
	/* Release now unless some source can take this client and sender. */
	env_of(c, m, &env);
	for (i = 0; i < mc->n_sources; i++) {
		const struct ab_mail_source *s = &mc->sources[i];
		struct ab_mail_source tmp = *s;

		tmp.n_rcpt = 0;   /* recipients are not known yet */
		if (ab_mail_source_env_ok(&tmp, &env))
			break;
	}
	if (i == mc->n_sources)
		return release(c, SMFIP_NR_MAIL);
	ab_buf_init(&m->raw, mc->limits.max_message + 1);
	c->msg = m;
	return noreply(c, SMFIP_NR_MAIL);
}

static sfsistat cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct conn *c = get_conn(ctx);
	struct msg *m = c ? c->msg : NULL;
	const struct ab_mail_conf *mc = m && m->rt ? m->rt->cfg->mail : NULL;
	char a[ADDR_MAX], ch[80];
	bool wanted = false;
	size_t i;

	if (!mc || !argv || !argv[0])
		return noreply(c, SMFIP_NR_RCPT);
	ab_mail_addr_clean(argv[0], a, sizeof a);
	wanted = ab_mail_route_channel(mc, a, ch, sizeof ch);
	for (i = 0; !wanted && i < mc->n_sources; i++)
		wanted = ab_mail_source_rcpt(&mc->sources[i], a);
	if (wanted && m->n_rcpts < MAX_RCPTS) {
		char **n = realloc(m->rcpts, (m->n_rcpts + 1) * sizeof *n);

		if (n) {
			m->rcpts = n;
			if ((n[m->n_rcpts] = strdup(a)))
				m->n_rcpts++;
		}
	} else {
		m->n_other++;
	}
	return noreply(c, SMFIP_NR_RCPT);
}

static sfsistat cb_data(SMFICTX *ctx)
{
	struct conn *c = get_conn(ctx);
	struct msg *m = c ? c->msg : NULL;
	struct ab_mail_conf *mc = m && m->rt ? m->rt->cfg->mail : NULL;
	struct ab_mail_env env;
	size_t i;

	if (!mc)
		return release(c, 0);
	env_of(c, m, &env);
	for (i = 0; i < mc->n_sources; i++)
		if (ab_mail_source_env_ok(&mc->sources[i], &env))
			return SMFIS_CONTINUE;
	return release(c, 0);    /* not an alert: let it go untouched */
}

static void over(struct msg *m, enum ab_mail_limit l)
{
	if (m->limit == AB_MAIL_LIMIT_NONE)
		m->limit = l;
}

static void add_raw(struct msg *m, const void *p, size_t n)
{
	if (m->limit == AB_MAIL_LIMIT_MESSAGE)
		return;
	if (ab_buf_append(&m->raw, p, n) < 0) {
		over(m, AB_MAIL_LIMIT_MESSAGE);
		ab_buf_free(&m->raw);   /* passed untouched anyway: free the memory now */
	}
}

static sfsistat cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct conn *c = get_conn(ctx);
	struct msg *m = c ? c->msg : NULL;
	size_t vl = value ? strlen(value) : 0;

	if (m && m->rt) {
		if (vl > m->rt->cfg->mail->limits.max_header) {
			over(m, AB_MAIL_LIMIT_HEADER);
			if (vl > m->hdr_big)
				m->hdr_big = vl;
		}
		add_raw(m, name, strlen(name));
		add_raw(m, ": ", 2);
		add_raw(m, value ? value : "", vl);
		add_raw(m, "\r\n", 2);
	}
	return noreply(c, SMFIP_NR_HDR);
}

static sfsistat cb_eoh(SMFICTX *ctx)
{
	struct conn *c = get_conn(ctx);

	if (c && c->msg && c->msg->rt)
		add_raw(c->msg, "\r\n", 2);
	return noreply(c, SMFIP_NR_EOH);
}

static sfsistat cb_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct conn *c = get_conn(ctx);

	if (c && c->msg && c->msg->rt)
		add_raw(c->msg, chunk, len);
	return noreply(c, SMFIP_NR_BODY);
}

/* Commit (a group commit shared with the other sessions ending now):
 * route+CHANNEL recipients name the channels, else the rules. */
static int commit(const struct ab_config *cfg, const struct ab_mail_accept *acc, char *chans,
		  size_t chsz, char *err, size_t errsz)
{
	struct ab_route_result rr;
	size_t i;
	int rc;

	rc = ab_committer_submit(g_milter->committer, cfg, acc->ev, acc->direct, acc->n_direct,
				 &rr, err, errsz);
	chans[0] = '\0';
	for (i = 0; rc == 0 && i < rr.n; i++)
		snprintf(chans + strlen(chans), chsz - strlen(chans), "%s%s", i ? "," : "",
			 rr.channels[i]);
	return rc;
}

/* Log each line of notes for message qid. */
static void log_notes(const char *qid, const struct ab_buf *notes)
{
	const char *p = notes->len ? notes->data : "", *nl;

	for (; *p; p = nl + 1) {
		if (!(nl = strchr(p, '\n')))
			nl = p + strlen(p);
		ab_log(AB_LOG_WARNING, "milter: %s: %.*s", qid, (int)(nl - p), p);
		if (!*nl)
			break;
	}
}

static sfsistat cb_eom(SMFICTX *ctx)
{
	struct conn *c = get_conn(ctx);
	struct msg *m = c ? c->msg : NULL;
	const struct ab_config *cfg;
	struct ab_mail_conf *mc;
	const struct ab_mail_source *src;
	struct ab_mail *mail = NULL;
	struct ab_mail_env env;
	struct ab_mail_accept acc;
	struct ab_buf notes = AB_BUF_INIT(4096);
	struct ab_event *ev = NULL;
	char err[512], chans[1024];
	const char *qid;
	sfsistat ret = SMFIS_CONTINUE;
	size_t i, left;
	int rc;

	if (!m || !m->rt)
		return SMFIS_CONTINUE;
	cfg = m->rt->cfg;
	mc = cfg->mail;
	qid = smfi_getsymval(ctx, "i");
	if (!qid)
		qid = "NOQUEUE";
	if (m->limit != AB_MAIL_LIMIT_NONE) {
		if (m->limit == AB_MAIL_LIMIT_HEADER)
			ab_log(AB_LOG_NOTICE, "milter: %s: a header of %zu bytes is over max_header "
			       "(%zu): mail passed untouched, no event", qid, m->hdr_big,
			       mc->limits.max_header);
		else
			ab_log(AB_LOG_NOTICE, "milter: %s: message over max_message (%zu bytes): "
			       "mail passed untouched, no event", qid, mc->limits.max_message);
		goto out;
	}
	rc = ab_mail_parse(m->raw.data ? m->raw.data : "", m->raw.len, &mc->limits, &mail, err,
			   sizeof err);
	if (rc != 0) {
		ab_log(AB_LOG_NOTICE, "milter: %s: %s%s: mail passed untouched, no event", qid,
		       rc > 0 ? "over a limit: " : "cannot parse: ", err);
		goto out;
	}
	if (c->plan.client_macros)
		client_from_macros(ctx, c);
	env_of(c, m, &env);
	ab_mail_accept(cfg, NULL, &env, mail, "mail", NULL, NULL, 0, &notes, &acc);
	log_notes(qid, &notes);
	src = acc.src;
	ev = acc.ev;
	switch (acc.verdict) {
	case AB_MAIL_IGNORED:
		goto out;
	case AB_MAIL_REJECTED:
		ab_log(AB_LOG_NOTICE, "milter: %s: source %s: untrusted sender (%s): rejected",
		       qid, src->name, acc.why);
		smfi_setreply(ctx, "550", "5.7.1", "alertbridge: alert mail from an unverified "
			      "sender refused");
		ret = SMFIS_REJECT;
		goto out;
	case AB_MAIL_PASSED:
		ab_log(AB_LOG_NOTICE, "milter: %s: source %s: untrusted sender (%s): mail passed "
		       "untouched, no event", qid, src->name, acc.why);
		goto out;
	case AB_MAIL_NOMEM:
		ab_metric_inc(&m_tempfails, "memory", NULL);   /* metrics */
		smfi_setreply(ctx, "451", "4.3.0", "alertbridge: out of memory, try again later");
		ret = SMFIS_TEMPFAIL;
		goto out;
	case AB_MAIL_ACCEPTED:
		break;
	}
	if ((rc = commit(cfg, &acc, chans, sizeof chans, err, sizeof err)) < 0) {
		ab_complain(&store_refuses, COMPLAIN_EVERY_MS, AB_LOG_ERR, "milter: %s: answering "
			    "TEMPFAIL, the MTA keeps the mail and retries", err);
		ab_log(AB_LOG_DEBUG, "milter: %s: TEMPFAIL: %s", qid, err);
		ab_metric_inc(&m_tempfails, rc == -2 ? "disk" : "store", NULL);   /* metrics */
		if (rc == -2)   /* below min_free_mb */
			smfi_setreply(ctx, "452", "4.3.1", "alertbridge: insufficient system "
				      "storage, try again later");
		else
			smfi_setreply(ctx, "451", "4.3.0", "alertbridge: cannot store the alert "
				      "now, try again later");
		ret = SMFIS_TEMPFAIL;
		goto out;
	}
	ab_complain_clear(&store_refuses, AB_LOG_NOTICE, "milter: alerts are stored again");
	ab_metric_inc(&m_alerts, NULL, NULL);   /* metrics */
	ab_log(AB_LOG_INFO, "milter: %s: event %s (%s, %s) from source %s%s -> %s", qid, ev->id,
	       ev->type, ab_severity_name(ev->severity), src->name,
	       acc.trusted ? "" : " (unverified sender)", chans[0] ? chans : "no channel");
	if (mail->n_bad_utf8)
		ab_log(AB_LOG_NOTICE, "milter: %s: event %s: invalid UTF-8 in %zu header(s)/part(s) "
		       "replaced with U+FFFD", qid, ev->id, mail->n_bad_utf8);
	if (json_is_string(json_object_get(ev->fields, "xml_refused")))   /* profile.c */
		ab_log(AB_LOG_NOTICE, "milter: %s: event %s: %s", qid, ev->id,
		       json_string_value(json_object_get(ev->fields, "xml_refused")));
	if (src->disposition == AB_DISP_PASS) {
		smfi_addheader(ctx, "X-Alertbridge-Event", ev->id);
		goto out;
	}
	for (i = 0, left = m->n_rcpts + m->n_other; i < m->n_rcpts; i++) {
		char ch[80], br[ADDR_MAX + 2];

		if (!ab_mail_source_rcpt(src, m->rcpts[i]) &&
		    !ab_mail_route_channel(mc, m->rcpts[i], ch, sizeof ch))
			continue;
		snprintf(br, sizeof br, "<%s>", m->rcpts[i]);
		if (smfi_delrcpt(ctx, br) == MI_SUCCESS)
			left--;
	}
	if (left == 0)
		ret = SMFIS_DISCARD;
out:
	ab_event_free(ev);
	ab_mail_free(mail);
	ab_buf_free(&notes);
	msg_done(c);
	return ret;
}

static sfsistat cb_abort(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c)
		msg_done(c);
	return SMFIS_CONTINUE;
}

static sfsistat cb_close(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c) {
		msg_done(c);
		ab_runtime_unref(c->rt);
		free(c);
		smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

/* ------------------------------------------------------------ lifecycle */

static struct smfiDesc desc = {
	"alertbridge", SMFI_VERSION, SMFIF_ADDHDRS | SMFIF_DELRCPT,
	cb_connect, NULL, cb_envfrom, cb_envrcpt, cb_header, cb_eoh, cb_body, cb_eom,
	cb_abort, cb_close, NULL, cb_data, cb_negotiate,
};

struct ab_milter *ab_milter_open(struct ab_runtime *rt, const char *user, char *err,
	size_t errsz)
{
	const struct ab_mail_conf *mc = rt->cfg->mail;
	struct ab_milter *m;
	char *sock;

	if (!mc || !mc->socket) {
		snprintf(err, errsz, "no milter socket configured");
		return NULL;
	}
	if (g_milter) {
		snprintf(err, errsz, "the milter is already open");
		return NULL;
	}
	m = calloc(1, sizeof *m);
	sock = strdup(mc->socket);
	if (!m || !sock || !(m->committer = ab_committer_new(rt->cfg->store_path))) {
		free(m);
		free(sock);
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&m->lock, NULL);
	m->rt = ab_runtime_ref(rt);
	g_milter = m;
	if (smfi_register(desc) != MI_SUCCESS || smfi_setconn(sock) != MI_SUCCESS ||
	    smfi_settimeout((int)(mc->timeout_ms / 1000)) != MI_SUCCESS ||
	    smfi_opensocket(true) != MI_SUCCESS) {
		snprintf(err, errsz, "%s:%d: milter socket '%s': cannot listen (in use? bad "
			 "address? the syntax is inet:PORT@HOST or unix:/path)",
			 mc->socket_file ? mc->socket_file : "?", mc->socket_line, mc->socket);
		goto fail;
	}
	if (!strncmp(sock, "unix:", 5) || !strncmp(sock, "local:", 6)) {
		const char *path = strchr(sock, ':') + 1;
		struct passwd *pw = user ? getpwnam(user) : NULL;

		struct stat st;

		/* The MTA (user postfix) must be able to connect: rw for the group. */
		if (pw && chown(path, pw->pw_uid, pw->pw_gid) < 0)
			ab_log(AB_LOG_WARNING, "milter: chown %s: %s", path, strerror(errno));
		chmod(path, 0660);
		/* libmilter removes it at stop only when not running as root. */
		if (lstat(path, &st) == 0 && (m->unix_path = strdup(path)) != NULL) {
			m->unix_dev = st.st_dev;
			m->unix_ino = st.st_ino;
		}
	}
	free(sock);   /* libmilter keeps its own copy of the connection spec */
	return m;
fail:
	free(sock);
	g_milter = NULL;
	ab_runtime_unref(m->rt);
	ab_committer_free(m->committer);
	free(m);
	return NULL;
}

static void *milter_thread(void *arg)
{
	struct ab_milter *m = arg;
	int rc = smfi_main();

	if (!m->stopping) {
		/* libmilter's signal thread took a TERM/INT/HUP meant for us: stop
		 * the whole daemon the normal way. */
		ab_log(AB_LOG_NOTICE, "milter: libmilter stopped (rc %d, a signal); stopping the "
		       "daemon", rc);
		kill(getpid(), SIGTERM);
	}
	return NULL;
}

/* What a Postfix that offers every step (milter_protocol = 6) gets. */
static void log_plan(const struct ab_mail_conf *mc, const char *when)
{
	struct ab_milter_plan p;
	char txt[256];

	ab_milter_plan(mc, SMFIF_ADDHDRS | SMFIF_DELRCPT | SMFIF_SETSYMLIST, 0x1fffffUL /* all */,
		       &p);
	plan_text(&p, txt, sizeof txt);
	ab_log(AB_LOG_INFO, "milter: %sprotocol for new SMTP sessions: %s", when, txt);
}

int ab_milter_start(struct ab_milter *m, char *err, size_t errsz)
{
	int e = pthread_create(&m->thr, NULL, milter_thread, m);

	ab_metric_touch(&m_sessions);   /* metrics: exported from the start */
	ab_metric_touch(&m_alerts);

	if (e) {
		snprintf(err, errsz, "milter thread: %s", strerror(e));
		return -1;
	}
	pthread_setname_np(m->thr, "ab-milter");
	m->running = true;
	ab_log(AB_LOG_NOTICE, "milter listening on %s", m->rt->cfg->mail->socket);
	log_plan(m->rt->cfg->mail, "");
	return 0;
}

void ab_milter_set_runtime(struct ab_milter *m, struct ab_runtime *rt)
{
	struct ab_runtime *old;
	const struct ab_mail_conf *nm = rt->cfg->mail;

	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	old = m->rt;
	if (!nm || !nm->socket || !old->cfg->mail || strcmp(nm->socket, old->cfg->mail->socket))
		ab_log(AB_LOG_WARNING, "reload: a new milter socket takes effect only after a "
		       "restart");
	m->rt = ab_runtime_ref(rt);
	pthread_mutex_unlock(&m->lock);
	ab_runtime_unref(old);
	log_plan(nm, "reload: ");   /* sessions already open keep their snapshot */
}

void ab_milter_stop(struct ab_milter *m)
{
	if (!m)
		return;
	m->stopping = 1;
	smfi_stop();
	if (m->running)
		pthread_join(m->thr, NULL);
	if (m->unix_path) {
		struct stat st;

		if (lstat(m->unix_path, &st) == 0 && S_ISSOCK(st.st_mode) &&
		    st.st_dev == m->unix_dev && st.st_ino == m->unix_ino)
			unlink(m->unix_path);
		free(m->unix_path);
	}
	ab_runtime_unref(m->rt);
	ab_committer_free(m->committer);   /* no session is left: smfi_main returned */
	pthread_mutex_destroy(&m->lock);
	g_milter = NULL;
	free(m);
}
