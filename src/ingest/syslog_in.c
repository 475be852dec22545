/*
 * syslog_in.c - the syslog listeners (UDP, TCP, TLS, RELP, unix datagram)
 * and their group commit into the store.
 *
 * Public: ab_syslog_in_open, ab_syslog_in_start, ab_syslog_in_set_runtime,
 *         ab_syslog_in_stop (see syslog_in.h).
 *
 * Two threads.  The listener thread: one epoll set, level-triggered.  A
 * round: wait, then read what is ready (at most READ_ROUND bytes per
 * connection, UDP_ROUND datagrams per socket), frame TCP streams with the
 * RFC 6587 framer (one per connection, octet counting or LF detected from
 * the first byte), turn every message into an event (ab_syslog_process:
 * parse, source selection, profile hook) and add it to the current batch.
 * The batch goes to the committer thread, which routes it and appends the
 * lines that go somewhere to the syslog journal (spool.c: one fdatasync per
 * batch; the spool's mover thread ingests them into the store behind us;
 * lines that go nowhere are counted as unrouted, never written), at the
 * end of the first round that drained the input (but no sooner than
 * COMMIT_GAP_MS after the last hand-over: a steady stream makes one fsync
 * per gap, not one per read), or when it is full (BATCH_MAX_EVENTS /
 * BATCH_MAX_BYTES) or BATCH_MAX_MS old; while the
 * committer works, the listener fills the other batch (so a batch spans
 * several rounds under a flood, and commits overlap with parsing).  Only
 * when its append returned are the lines counted as received (by the
 * listener thread, which owns every counter).  If the append fails (the
 * journal is full, a disk error) the batch is kept and retried every
 * RETRY_MS; once the other batch is full too nothing else is read (input
 * pauses; nothing is dropped).  At most two batches are in memory.
 *
 * RELP (proto "relp", relp_sess.h): a session's syslog frames go into the
 * batch like TCP lines; each batch carries a sequence number (gen) and a
 * frame's "200 OK" is written only once the batch that holds its line is
 * committed (done_gen, set when the listener reaps it), so the sender
 * resends what was unanswered at a crash.  One fdatasync thus answers
 * every frame of a batch, of all sessions.  A session with
 * AB_RELP_PENDING_SOFT unanswered frames is not read until answers went
 * out.  At stop the last batch is committed and answered, then each
 * session gets the "serverclose" hint.
 *
 * Backpressure: with high_water > 0 the queued-job count plus the
 * journal's backlog (lines not moved into the store yet) is checked by the
 * listener (a read-only connection of its own, at most every HW_CHECK_MS);
 * above the mark every stream socket
 * (TCP/TLS connections and listening sockets, the unix socket) leaves the
 * epoll set's read interest, so the kernel buffers fill and senders' TCP
 * backs off; UDP datagrams are still read, dropped and counted.  Reading
 * resumes below 90 % of the mark.  Kernel-side UDP drops (SO_RXQ_OVFL) are
 * counted too.
 *
 * Limits: max_message per message (longer ones are truncated and carry
 * fields "syslog.truncated"), max_connections per listener and
 * max_conns_per_source per peer address (extra ones are accepted and
 * closed at once, counted, the log line rate limited), idle_timeout per
 * connection and the shorter idle_timeout_silent for one that sent nothing
 * since its accept, a broken octet count or RELP frame closes the
 * connection.
 *
 * Diagnostics (ab_log): listener start lines, bind/TLS errors with the
 * address and what to do, framing errors and TLS handshake failures per
 * peer (warning), rejected connections, pause/resume (notice), UDP drop
 * summaries and commit failures (rate limited).  Lines are never logged.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "lib/buf.h"
#include "ingest/ingest.h"
#include "lib/log.h"
#include "store/store.h"
#include "config/config_syslog.h"
#include "ingest/relp_sess.h"
#include "ingest/syslog_frame.h"
#include "ingest/syslog_in.h"
#include "ingest/syslog_source.h"
#include "parse/syslog.h"
#include "ingest/spool.h"
#include "route/route.h"
#include "lib/util.h"
#include "lib/metrics.h"

#define READ_ROUND (256 * 1024)      /* bytes per connection per round */
#define UDP_ROUND 256                /* datagrams per socket per round */
#define BATCH_MAX_EVENTS 16384
#define BATCH_MAX_BYTES (8 * 1024 * 1024)
#define BATCH_REC_FLUSH (4u << 20)   /* a batch's records: committed at this size */
#define BATCH_REC_CAP (24u << 20)    /* ... and never larger (records are <= 4 MiB);
                                        with the framing of BATCH_MAX_EVENTS records
                                        below AB_SPOOL_QUEUE, which one append may take */
#define BATCH_REC_KEEP (1u << 20)    /* buffer kept between batches up to this size */
#define BATCH_MAX_MS 200             /* a batch waits at most this long for more lines */
#define COALESCE_LINES 16            /* a round with fewer lines: a trickle (see run) */
#define COMMIT_GAP_MS 3              /* a drained batch waits for more lines this long after
					the last hand-over (a steady stream: one fsync per gap,
					not one per read; a lone line goes at once) */
#define RETRY_MS 500
#define STOP_DRAIN_MS 5000           /* at stop, journal lines moved into the store for up to */
#define HW_CHECK_MS 100
#define STATUS_MS 500                /* the status file while lines come, at most every */
#define STATUS_IDLE_MS 20            /* ... and this soon after the input stopped */
#define DROP_LOG_MS 10000
#define ACCEPT_ROUND 64
#define PEER_MAX 64

enum kind { K_WAKE, K_LISTEN, K_CONN };

struct lsn {
	enum kind kind;               /* K_LISTEN; first member (epoll tag) */
	char name[72];
	char address[256];
	enum ab_syslog_proto proto;
	int fd;
	size_t max_message;
	int max_conn;
	int max_per_src;              /* connections from one peer address */
	int64_t idle_ms;
	int64_t silent_ms;            /* a connection that sent nothing yet */
	SSL_CTX *ssl;
	int nconn;
	bool unlink_path;
	uint64_t received, conns, rejected, dropped, kernel_drops, refused_src;
};

struct conn {
	enum kind kind;               /* K_CONN */
	struct lsn *l;
	int fd;
	SSL *ssl;
	bool handshaken;
	bool want_write;
	bool more;                    /* TLS: stopped at READ_ROUND with data left */
	struct ab_framer fr;
	char peer[PEER_MAX];
	int64_t last_ms;
	int64_t t_accept;
	bool spoke;                   /* bytes of a message came (else: silent) */
	struct ab_relp_sess *relp;    /* proto relp: the session (else NULL) */
	bool out_blocked;             /* relp: answers wait for the socket (EPOLLOUT) */
	bool rd_off;                  /* relp: too many unanswered frames, not read */
	size_t tls_wlen;              /* relp over TLS: length of a write to repeat */
	struct conn *prev, *next;
};

/* A group commit: filled by the listener thread (each line parsed,
 * routed and encoded as a journal record at once, its event freed, so the
 * allocator reuses the same few chunks line after line), appended by the
 * committer thread, counted (or dropped at stop) by the listener again. */
struct batch {
	struct lsn **ls;              /* the listener of each line */
	size_t n;                     /* lines */
	size_t bytes;                 /* their raw bytes */
	struct ab_buf rec;            /* the records of the lines that go somewhere */
	size_t *offs;                 /* where each record starts in rec */
	struct ab_event **evs;        /* the event of each record (ab_spool_put takes them) */
	size_t nrec;
	size_t unrouted;              /* lines that went nowhere (not written) */
	int64_t t0;                   /* when its first line came */
	bool ok;                      /* committed */
	uint64_t errors;              /* failed commit tries */
	uint64_t gen;                 /* commit sequence number (RELP answers wait for it) */
};

struct ab_syslog_in {
	enum kind kind;               /* K_WAKE: the eventfd's tag */
	struct lsn *ls;
	size_t n_ls;
	int ep, wfd;
	pthread_t th;
	bool started;
	atomic_bool stop;
	pthread_mutex_t mu;
	struct ab_runtime *rt;        /* current snapshot (guarded by mu) */
	struct ab_runtime *round_rt;  /* held for one round */
	void (*wake)(void *);
	void *wake_arg;
	struct ab_spool *sp;          /* the journal the committer appends to */
	struct ab_store *st_ro;       /* the listener thread's (high-water count) */
	char *status_path;
	int high_water;
	struct conn *conns;
	/* batches: the listener fills cur while the committer commits sent */
	struct batch bt[2];
	struct batch *cur;
	struct batch *sent;           /* handed over and not counted yet, or NULL */
	bool undrained;               /* this round left input unread (a full round) */
	pthread_t cth;
	bool cstarted;
	pthread_mutex_t cmu;          /* guards c_work, c_done, c_stop */
	pthread_cond_t c_work_cv, c_done_cv;
	bool c_work, c_done, c_stop;
	/* state */
	bool paused;
	int64_t last_hw, last_status, last_drop_log, last_idle;
	uint64_t last_backlog;        /* journal backlog in the last status file */
	bool dirty;
	uint64_t received, batches, dropped_by_source, udp_dropped, truncated, framing_errors,
		conn_rejected, idle_closed, tls_failures, store_errors, pauses, parse_errors,
		unrouted, conn_refused_src, silent_closed;
	uint64_t udp_dropped_logged;
	uint64_t gen_next;            /* the next batch's gen */
	int64_t handed_ms;            /* monotonic: the last hand-over to the committer */
	struct ab_syslog_view view;   /* the scan of the line in add_line */
	struct ab_event *spare;       /* the event of a line that went nowhere, for the next */
	struct ab_syslog_gate gate;   /* members: what round_rt's routing reads (0: no gate,
				       * every line's profile applied whole); view: its event */
	bool gate_went;               /* the gate found this line goes somewhere */
	unsigned round_lines;         /* lines the last round added */
	bool round_lazy;              /* round_rt's rules read no field a line's fields
				       * may leave for later: route before making them */
	uint64_t done_gen;            /* every batch up to this gen is durable */
	/* per-message context while feeding a connection */
	int64_t read_ms;              /* when the bytes being fed were read (received_at) */
	struct lsn *cur_l;
	const char *cur_peer;
	unsigned char *rbuf;          /* READ buffer, max_message + 1 of the largest */
	size_t rbufsz;
};

/* ------------------------------------------------------------ helpers */

static void ssl_errstr(char *out, size_t outsz)
{
	unsigned long e = ERR_get_error();

	if (e)
		ERR_error_string_n(e, out, outsz);
	else
		ab_strlcpy(out, "unknown TLS error", outsz);
	ERR_clear_error();
}

static void peer_name(const struct sockaddr_storage *ss, socklen_t len, char *out, size_t outsz)
{
	char host[NI_MAXHOST];

	if (ss->ss_family == AF_UNIX || len == 0 ||
	    getnameinfo((const struct sockaddr *)ss, len, host, sizeof host, NULL, 0,
		NI_NUMERICHOST) != 0) {
		out[0] = '\0';
		return;
	}
	/* ::ffff:1.2.3.4 -> 1.2.3.4 */
	ab_strlcpy(out, strncmp(host, "::ffff:", 7) == 0 && strchr(host, '.') ? host + 7 : host,
		outsz);
}

static int set_interest(struct ab_syslog_in *in, int fd, void *tag, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = tag };

	return epoll_ctl(in->ep, EPOLL_CTL_MOD, fd, &ev);
}

static uint32_t conn_events(const struct ab_syslog_in *in, const struct conn *c)
{
	if (in->paused || c->rd_off)
		return c->out_blocked ? EPOLLOUT : 0;
	return EPOLLIN | (c->want_write || c->out_blocked ? EPOLLOUT : 0);
}

/* ------------------------------------------------------------ open */

static SSL_CTX *tls_ctx(const struct ab_syslog_listener_conf *lc, char *err, size_t errsz)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	char e[256];

	if (!ctx) {
		snprintf(err, errsz, "syslog listener '%s': cannot create a TLS context", lc->name);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_use_certificate_chain_file(ctx, lc->tls_cert) != 1) {
		ssl_errstr(e, sizeof e);
		snprintf(err, errsz, "%s:%d: syslog listener '%s': tls_cert %s: %s (a PEM "
			"certificate chain readable by root)", lc->file, lc->line, lc->name,
			lc->tls_cert, e);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, lc->tls_key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		ssl_errstr(e, sizeof e);
		snprintf(err, errsz, "%s:%d: syslog listener '%s': tls_key %s: %s (a PEM key "
			"matching tls_cert)", lc->file, lc->line, lc->name, lc->tls_key, e);
		goto fail;
	}
	if (lc->tls_ca) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(lc->tls_ca);

		if (SSL_CTX_load_verify_locations(ctx, lc->tls_ca, NULL) != 1 || !names) {
			ssl_errstr(e, sizeof e);
			snprintf(err, errsz, "%s:%d: syslog listener '%s': tls_ca %s: %s",
				lc->file, lc->line, lc->name, lc->tls_ca, e);
			if (names)
				sk_X509_NAME_pop_free(names, X509_NAME_free);
			goto fail;
		}
		SSL_CTX_set_client_CA_list(ctx, names);
	}
	if (lc->tls_verify_client)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	else
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static int bind_inet(struct lsn *l, const struct ab_syslog_listener_conf *lc, char *err,
	size_t errsz)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[256], port[16], why[128];
	int rc, one = 1, fd = -1, type;

	if (ab_syslog_addr_split(lc->address, host, sizeof host, port, sizeof port, why,
		sizeof why) < 0) {
		snprintf(err, errsz, "%s:%d: syslog listener '%s': %s", lc->file, lc->line,
			lc->name, why);
		return -1;
	}
	type = lc->proto == AB_SYSLOG_UDP ? SOCK_DGRAM : SOCK_STREAM;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = type;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errsz, "%s:%d: syslog listener '%s': address %s: %s", lc->file,
			lc->line, lc->name, lc->address, gai_strerror(rc));
		return -1;
	}
	/* Prefer IPv6 for the wildcard (dual stack), else the first answer. */
	ai = res;
	for (struct addrinfo *p = res; !host[0] && p; p = p->ai_next)
		if (p->ai_family == AF_INET6) {
			ai = p;
			break;
		}
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ai->ai_family == AF_INET6 && !host[0]) {
		int zero = 0;
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
	}
	if (type == SOCK_DGRAM) {
		int rcv = 4 * 1024 * 1024;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
		setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
	}
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
	    (type == SOCK_STREAM && listen(fd, SOMAXCONN) < 0))
		goto fail;
	freeaddrinfo(res);
	l->fd = fd;
	return 0;
fail:
	snprintf(err, errsz, "%s:%d: syslog listener '%s': cannot listen on %s (%s): %s%s",
		lc->file, lc->line, lc->name, lc->address, ab_syslog_proto_name(lc->proto),
		strerror(errno), errno == EADDRINUSE ? " (another program uses it: change "
		"'address' or stop that program)" : errno == EACCES ? " (ports below 1024 need "
		"root at start)" : "");
	if (fd >= 0)
		close(fd);
	freeaddrinfo(res);
	return -1;
}

static int bind_unix(struct lsn *l, const struct ab_syslog_listener_conf *lc, char *err,
	size_t errsz)
{
	struct sockaddr_un sun;
	struct stat sb;
	int fd, rcv = 4 * 1024 * 1024;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (ab_strlcpy(sun.sun_path, lc->address, sizeof sun.sun_path) >= sizeof sun.sun_path) {
		snprintf(err, errsz, "%s:%d: syslog listener '%s': path too long", lc->file,
			lc->line, lc->name);
		return -1;
	}
	/* A socket left over from a previous run is replaced; any other file is not. */
	if (lstat(lc->address, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode)) {
			snprintf(err, errsz, "%s:%d: syslog listener '%s': %s exists and is not a "
				"socket (remove it or choose another path)", lc->file, lc->line,
				lc->name, lc->address);
			return -1;
		}
		unlink(lc->address);
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
		snprintf(err, errsz, "%s:%d: syslog listener '%s': cannot bind %s: %s (does the "
			"directory exist?)", lc->file, lc->line, lc->name, lc->address, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
	chmod(lc->address, 0660);
	l->fd = fd;
	l->unlink_path = true;
	return 0;
}

static void close_listeners(struct ab_syslog_in *in)
{
	for (size_t i = 0; i < in->n_ls; i++) {
		struct lsn *l = &in->ls[i];
		if (l->fd >= 0)
			close(l->fd);
		if (l->unlink_path)
			unlink(l->address);
		SSL_CTX_free(l->ssl);
	}
	free(in->ls);
	in->ls = NULL;
	in->n_ls = 0;
}

/* The events of a batch's records that ab_spool_put did not take. */
static void batch_events_free(struct batch *b)
{
	for (size_t k = 0; b->evs && k < b->nrec; k++) {
		ab_event_free(b->evs[k]);
		b->evs[k] = NULL;
	}
}

static void in_free(struct ab_syslog_in *in)
{
	if (!in)
		return;
	close_listeners(in);
	if (in->ep >= 0)
		close(in->ep);
	if (in->wfd >= 0)
		close(in->wfd);
	free(in->status_path);
	for (int i = 0; i < 2; i++) {
		free(in->bt[i].ls);
		free(in->bt[i].offs);
		batch_events_free(&in->bt[i]);
		free(in->bt[i].evs);
		ab_buf_free(&in->bt[i].rec);
	}
	free(in->rbuf);
	ab_event_free(in->spare);
	ab_event_free(in->gate.view);
	pthread_mutex_destroy(&in->mu);
	pthread_mutex_destroy(&in->cmu);
	pthread_cond_destroy(&in->c_work_cv);
	pthread_cond_destroy(&in->c_done_cv);
	free(in);
}

struct ab_syslog_in *ab_syslog_in_open(const struct ab_config *cfg, char *err, size_t errsz)
{
	const struct ab_syslog_conf *sc = cfg->syslog;
	struct ab_syslog_in *in;
	struct epoll_event ev;

	err[0] = '\0';
	if (!sc || sc->n_listeners == 0)
		return NULL;
	in = calloc(1, sizeof *in);
	if (!in) {
		snprintf(err, errsz, "syslog: out of memory");
		return NULL;
	}
	in->kind = K_WAKE;
	in->ep = in->wfd = -1;
	pthread_mutex_init(&in->mu, NULL);
	pthread_mutex_init(&in->cmu, NULL);
	pthread_cond_init(&in->c_work_cv, NULL);
	pthread_cond_init(&in->c_done_cv, NULL);
	in->high_water = sc->high_water;
	in->ls = calloc(sc->n_listeners, sizeof *in->ls);
	for (int i = 0; i < 2; i++) {
		in->bt[i].ls = calloc(BATCH_MAX_EVENTS, sizeof *in->bt[i].ls);
		in->bt[i].offs = calloc(BATCH_MAX_EVENTS, sizeof *in->bt[i].offs);
		in->bt[i].evs = calloc(BATCH_MAX_EVENTS, sizeof *in->bt[i].evs);
		ab_buf_init(&in->bt[i].rec, BATCH_REC_CAP);
	}
	in->cur = &in->bt[0];
	in->bt[0].gen = 1;
	in->gen_next = 2;
	in->status_path = ab_config_path(cfg, sc->status_file ? sc->status_file : "syslog.status");
	if (!in->ls || !in->bt[0].ls || !in->bt[1].ls || !in->bt[0].offs || !in->bt[1].offs ||
	    !in->bt[0].evs || !in->bt[1].evs ||
	    !in->status_path) {
		snprintf(err, errsz, "syslog: out of memory");
		goto fail;
	}
	in->ep = epoll_create1(EPOLL_CLOEXEC);
	in->wfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (in->ep < 0 || in->wfd < 0) {
		snprintf(err, errsz, "syslog: epoll/eventfd: %s", strerror(errno));
		goto fail;
	}
	ev.events = EPOLLIN;
	ev.data.ptr = in;
	if (epoll_ctl(in->ep, EPOLL_CTL_ADD, in->wfd, &ev) < 0) {
		snprintf(err, errsz, "syslog: epoll: %s", strerror(errno));
		goto fail;
	}
	for (size_t i = 0; i < sc->n_listeners; i++) {
		const struct ab_syslog_listener_conf *lc = &sc->listeners[i];
		struct lsn *l = &in->ls[i];
		int rc;

		in->n_ls++;
		l->kind = K_LISTEN;
		l->fd = -1;
		ab_strlcpy(l->name, lc->name, sizeof l->name);
		ab_strlcpy(l->address, lc->address, sizeof l->address);
		l->proto = lc->proto;
		l->max_message = (size_t)lc->max_message;
		l->max_conn = lc->max_connections;
		l->max_per_src = lc->max_conns_per_source > 0 ? lc->max_conns_per_source :
			l->max_conn;
		l->idle_ms = lc->idle_timeout_ms;
		l->silent_ms = lc->idle_timeout_silent_ms;
		if (l->max_message + 1 > in->rbufsz)
			in->rbufsz = l->max_message + 1;
		if ((lc->proto == AB_SYSLOG_TLS || lc->tls) && !(l->ssl = tls_ctx(lc, err, errsz)))
			goto fail;
		rc = lc->proto == AB_SYSLOG_UNIX ? bind_unix(l, lc, err, errsz) :
			bind_inet(l, lc, err, errsz);
		if (rc < 0)
			goto fail;
		ev.events = EPOLLIN;
		ev.data.ptr = l;
		if (epoll_ctl(in->ep, EPOLL_CTL_ADD, l->fd, &ev) < 0) {
			snprintf(err, errsz, "syslog: epoll: %s", strerror(errno));
			goto fail;
		}
	}
	if (in->rbufsz < READ_ROUND / 4)
		in->rbufsz = READ_ROUND / 4;
	in->rbuf = malloc(in->rbufsz);
	if (!in->rbuf) {
		snprintf(err, errsz, "syslog: out of memory");
		goto fail;
	}
	return in;
fail:
	in_free(in);
	return NULL;
}

/* ------------------------------------------------------------ status file */

/* ---- metrics: the counters of the status file, published for /metrics */
static AB_METRIC_COUNTER(m_sl_received, "alertbridge_syslog_received_total", "Syslog "
	"messages received and committed.", NULL, NULL);
static AB_METRIC_COUNTER(m_sl_udp_dropped, "alertbridge_syslog_udp_dropped_total", "UDP "
	"datagrams dropped: by the kernel (full socket buffer) or while input is paused.",
	"reason", NULL);
static AB_METRIC_COUNTER(m_sl_truncated, "alertbridge_syslog_truncated_total", "Syslog "
	"messages cut at max_message.", NULL, NULL);
static AB_METRIC_COUNTER(m_sl_framing, "alertbridge_syslog_framing_errors_total", "Stream "
	"framing errors (bad octet counts, over-long lines).", NULL, NULL);
static AB_METRIC_COUNTER(m_sl_pauses, "alertbridge_syslog_pauses_total", "Times input "
	"paused at syslog.high_water.", NULL, NULL);
static AB_METRIC_GAUGE(m_sl_paused, "alertbridge_syslog_paused", "1 while syslog input is "
	"paused at the high-water mark (/readyz is then not ready).", NULL, NULL);

static void publish_metrics(const struct ab_syslog_in *in)
{
	uint64_t kernel = 0;

	for (size_t i = 0; i < in->n_ls; i++)
		kernel += in->ls[i].kernel_drops;
	ab_metric_counter_set(&m_sl_received, NULL, NULL, in->received);
	ab_metric_counter_set(&m_sl_udp_dropped, "kernel", NULL, kernel);
	ab_metric_counter_set(&m_sl_udp_dropped, "paused", NULL,
		in->udp_dropped > kernel ? in->udp_dropped - kernel : 0);
	ab_metric_counter_set(&m_sl_truncated, NULL, NULL, in->truncated);
	ab_metric_counter_set(&m_sl_framing, NULL, NULL, in->framing_errors);
	ab_metric_counter_set(&m_sl_pauses, NULL, NULL, in->pauses);
	ab_metric_set(&m_sl_paused, NULL, NULL, in->paused);
}
/* ---- end metrics */

/* When the status file is next due (monotonic ms), -1 when nothing the
 * listener counts has changed: every STATUS_MS while lines come, and
 * STATUS_IDLE_MS after a change once the input has stopped and every line
 * read is committed and counted, so that the end of a burst shows at once
 * (`alertbridge syslog status`, /metrics) instead of up to a second later. */
static int64_t status_due(const struct ab_syslog_in *in)
{
	bool settled = !in->undrained && in->cur->n == 0 && !in->sent;

	if (!in->dirty)
		return -1;
	return in->last_status + (settled ? STATUS_IDLE_MS : STATUS_MS);
}

/* An epoll timeout of at most timeout ms that wakes when the file is due. */
static int status_wait(const struct ab_syslog_in *in, int timeout)
{
	int64_t due = status_due(in), now = ab_mono_ms();

	if (due < 0 || due - now >= timeout)
		return timeout;
	return due > now ? (int)(due - now) : 0;
}

static void write_status(struct ab_syslog_in *in, bool force)
{
	int64_t now = ab_mono_ms(), due = status_due(in);
	json_t *j, *ls;
	char t[40];
	struct ab_spool_stats ss;
	char *s;

	/* called every round: the stats (a statvfs, the journal's lock) only
	 * when the file may be due (the journal's backlog alone: STATUS_MS) */
	if (!force && (due < 0 ? now - in->last_status < STATUS_MS : now < due))
		return;
	ab_spool_get_stats(in->sp, &ss);
	if (!force && !in->dirty && ss.backlog == in->last_backlog)
		return;
	in->last_backlog = ss.backlog;
	in->last_status = now;
	in->dirty = false;
	publish_metrics(in);   /* metrics */
	ab_time_format_rfc3339(ab_now_ms(), t, sizeof t);
	ls = json_array();
	for (size_t i = 0; ls && i < in->n_ls; i++) {
		const struct lsn *l = &in->ls[i];
		json_array_append_new(ls, json_pack("{s:s,s:s,s:s,s:I,s:i,s:I,s:I,s:I,s:I,s:I}",
			"name", l->name, "proto", ab_syslog_proto_name(l->proto), "address",
			l->address, "received", (json_int_t)l->received, "connections", l->nconn,
			"connections_total", (json_int_t)l->conns, "connections_rejected",
			(json_int_t)l->rejected, "connections_refused_per_source",
			(json_int_t)l->refused_src, "dropped", (json_int_t)l->dropped,
			"kernel_dropped", (json_int_t)l->kernel_drops));
	}
	j = json_pack("{s:i,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:b,s:I,s:i,s:o}",
		"pid", (int)getpid(), "updated_at", t,
		"received", (json_int_t)in->received,
		"batches", (json_int_t)in->batches,
		"dropped_by_source", (json_int_t)in->dropped_by_source,
		"udp_dropped", (json_int_t)in->udp_dropped,
		"truncated", (json_int_t)in->truncated,
		"framing_errors", (json_int_t)in->framing_errors,
		"connections_rejected", (json_int_t)in->conn_rejected,
		"idle_closed", (json_int_t)in->idle_closed,
		"tls_failures", (json_int_t)in->tls_failures,
		"store_errors", (json_int_t)in->store_errors,
		"parse_errors", (json_int_t)in->parse_errors,
		"paused", in->paused, "pauses", (json_int_t)in->pauses,
		"high_water", in->high_water,
		"listeners", ls ? ls : json_array());
	if (j) {
		json_object_set_new(j, "connections_refused_per_source",
			json_integer((json_int_t)in->conn_refused_src));
		json_object_set_new(j, "silent_closed", json_integer((json_int_t)in->silent_closed));
	}
	if (j)
		json_object_set_new(j, "journal", json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
			"unrouted", (json_int_t)in->unrouted,
			"stored", (json_int_t)ss.stored,
			"stored_from_memory", (json_int_t)ss.handed,
			"backlog", (json_int_t)ss.backlog,
			"disk_bytes", (json_int_t)ss.disk_bytes,
			"corrupt", (json_int_t)ss.corrupt,
			"store_errors", (json_int_t)ss.store_errors));
	if (j)
		json_object_set_new(j, "disk", json_pack("{s:I,s:I,s:b}",
			"free_bytes", (json_int_t)ss.free_bytes,
			"min_free_bytes", (json_int_t)ss.min_free,
			"low", ss.low));
	s = j ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	json_decref(j);
	if (!s)
		return;
	{
		size_t n = strlen(s);

		s[n] = '\n';       /* replaces the NUL: the length is known */
		if (ab_write_file_atomic(in->status_path, s, n + 1) == 0) {
			free(s);
			return;
		}
	}
	ab_log(AB_LOG_WARNING, "syslog: cannot write status file %s: %s", in->status_path,
		strerror(errno));
	free(s);
}

/* ------------------------------------------------------------ batch and commit */

static void batch_free(struct batch *b)
{
	batch_events_free(b);
	b->n = b->nrec = b->unrouted = 0;
	b->bytes = 0;
	if (b->rec.cap > BATCH_REC_KEEP)
		ab_buf_free(&b->rec);  /* keep the idle footprint small */
	else
		ab_buf_reset(&b->rec);
}

/* Committer thread: make a whole batch durable in the journal (one
 * fdatasync); the lines that route nowhere are only counted. */
static int try_commit(struct ab_syslog_in *in, struct batch *b, char *err, size_t errsz)
{
	return ab_spool_put(in->sp, &b->rec, b->offs, b->evs, b->nrec, err, errsz);
}

/* Wait up to ms on the wake eventfd; true when stopping. */
static bool nap(struct ab_syslog_in *in, int ms)
{
	struct pollfd p = { .fd = in->wfd, .events = POLLIN };

	if (atomic_load(&in->stop))
		return true;
	poll(&p, 1, ms);
	return atomic_load(&in->stop);
}

/* Committer thread, between tries: wait up to ms; true when stopping. */
static bool committer_nap(struct ab_syslog_in *in, int ms)
{
	struct timespec ts;
	bool stopping;

	ab_deadline(&ts, CLOCK_REALTIME, ms);
	pthread_mutex_lock(&in->cmu);
	if (!atomic_load(&in->stop) && !in->c_stop)
		pthread_cond_timedwait(&in->c_work_cv, &in->cmu, &ts);
	stopping = atomic_load(&in->stop) || in->c_stop;
	pthread_mutex_unlock(&in->cmu);
	return stopping;
}

/*
 * The committer thread: commits each handed-over batch (retrying every
 * RETRY_MS while the store fails; meanwhile the listener fills the other
 * batch and then stops reading: input pauses, nothing is dropped), then
 * tells the listener, which counts the lines.  Commits and their fsyncs
 * thus overlap with reading and parsing the next batch.
 */
static void *committer(void *arg)
{
	struct ab_syslog_in *in = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&in->cmu);
	for (;;) {
		struct batch *b;
		char err[1024];
		unsigned tries = 0;
		bool ok = true;

		while (!in->c_work && !in->c_stop)
			pthread_cond_wait(&in->c_work_cv, &in->cmu);
		if (!in->c_work)
			break;
		b = in->sent;
		pthread_mutex_unlock(&in->cmu);
		b->errors = 0;
		while (try_commit(in, b, err, sizeof err) < 0) {
			b->errors++;
			if (tries++ % 20 == 0)
				ab_log(AB_LOG_ERR, "syslog: could not commit %zu line(s): %s; input "
					"paused, retrying", b->n, err);
			if (committer_nap(in, RETRY_MS)) {
				ab_log(AB_LOG_ERR, "syslog: stopping with %zu uncommitted line(s) (not "
					"counted as received): %s", b->n, err);
				ok = false;
				break;
			}
		}
		pthread_mutex_lock(&in->cmu);
		b->ok = ok;
		in->c_work = false;
		in->c_done = true;
		pthread_cond_broadcast(&in->c_done_cv);
		pthread_mutex_unlock(&in->cmu);
		if (write(in->wfd, &one, sizeof one) < 0)     /* the listener counts it */
			ab_log(AB_LOG_DEBUG, "syslog: eventfd: %s", strerror(errno));
		pthread_mutex_lock(&in->cmu);
	}
	pthread_mutex_unlock(&in->cmu);
	return NULL;
}

/* Listener: count the batch the committer is done with, if any. */
static void reap(struct ab_syslog_in *in)
{
	struct batch *b;

	pthread_mutex_lock(&in->cmu);
	if (!in->c_done) {
		pthread_mutex_unlock(&in->cmu);
		return;
	}
	b = in->sent;
	in->sent = NULL;
	in->c_done = false;
	pthread_mutex_unlock(&in->cmu);
	in->store_errors += b->errors;
	if (b->ok) {
		for (size_t i = 0; i < b->n; i++)
			b->ls[i]->received++;
		in->received += b->n;
		in->unrouted += b->unrouted;
		in->batches++;
		in->done_gen = b->gen;     /* batches are reaped in order */
	}
	in->dirty = true;
	batch_free(b);
}

/* Listener: wait until the committer has finished the batch it has. */
static void wait_committer(struct ab_syslog_in *in)
{
	pthread_mutex_lock(&in->cmu);
	while (in->sent && !in->c_done)
		pthread_cond_wait(&in->c_done_cv, &in->cmu);
	pthread_mutex_unlock(&in->cmu);
	reap(in);
}

/* Listener: hand the current batch to the committer.  When the committer
 * still works on the previous one: wait for it if wait, else keep
 * collecting (the committer's wake-up brings us back here). */
static void flush(struct ab_syslog_in *in, bool wait)
{
	struct batch *b = in->cur;

	reap(in);
	if (b->n == 0)
		return;
	if (!wait && ab_mono_ms() - in->handed_ms < COMMIT_GAP_MS)
		return;   /* the run loop wakes at the end of the gap */
	if (in->sent) {
		if (!wait)
			return;
		wait_committer(in);
	}
	in->handed_ms = ab_mono_ms();
	in->cur = b == &in->bt[0] ? &in->bt[1] : &in->bt[0];
	in->cur->gen = in->gen_next++;
	pthread_mutex_lock(&in->cmu);
	in->sent = b;
	in->c_work = true;
	pthread_cond_signal(&in->c_work_cv);
	pthread_mutex_unlock(&in->cmu);
}

/* The gate's question (ab_syslog_process_gated): does the event whose
 * routing members view holds go anywhere in this round? */
static bool gate_goes(const struct ab_event *view, void *arg)
{
	struct ab_syslog_in *in = arg;

	in->gate_went = ab_spool_routes(in->round_rt->cfg, view, in->read_ms);
	return in->gate_went;
}

/* The runtime snapshot for one round, and whether its lines may be routed
 * before their fields are made (once per round: a reload takes effect at
 * the next). */
static void round_begin(struct ab_syslog_in *in)
{
	pthread_mutex_lock(&in->mu);
	in->round_rt = ab_runtime_ref(in->rt);
	pthread_mutex_unlock(&in->mu);
	in->round_lazy = !ab_route_reads_fields(in->round_rt->cfg, ab_syslog_later_key);
	/* with default channels every line with an active status goes
	 * somewhere: the gate would only add work */
	in->gate.members = in->round_rt->cfg->n_default ? 0 : ab_route_members(in->round_rt->cfg);
	if (in->gate.members && !in->gate.view)
		in->gate.view = ab_event_new_at(0);
	in->gate.goes = gate_goes;
	in->gate.arg = in;
	in->round_lines = 0;
}

/* Does any listener take datagrams (UDP, a unix socket)?  Those are lost
 * when the socket's buffer overflows, so the listener never lets them
 * wait. */
static bool takes_datagrams(const struct ab_syslog_in *in)
{
	for (size_t i = 0; i < in->n_ls; i++)
		if (in->ls[i].proto == AB_SYSLOG_UDP || in->ls[i].proto == AB_SYSLOG_UNIX)
			return true;
	return false;
}

/* The line an event was parsed from (ab_spool_encode's keep: only the
 * lines that go somewhere are hashed for their id and, when they were
 * left out, get the fields of their payload). */
struct id_line {
	const char *peer, *msg;
	size_t len;
	const struct ab_syslog_view *later;   /* the fields come from it, or NULL */
};

static int keep_line(struct ab_event *ev, void *arg)
{
	const struct id_line *idl = arg;

	if (idl->later && ab_syslog_view_fields(idl->later, ev) < 0)
		return -1;
	ab_syslog_event_id(ev, idl->msg, idl->len, idl->peer);
	return 0;
}

/* Done with ev: kept for the next line (ab_event_renew_at) or freed. */
static void spare(struct ab_syslog_in *in, struct ab_event *ev)
{
	if (!in->spare)
		in->spare = ev;
	else
		ab_event_free(ev);
}

static void add_line(struct ab_syslog_in *in, struct lsn *l, const char *peer, const char *msg,
	size_t len, bool truncated)
{
	static struct ab_complaint encode_failed = AB_COMPLAINT_INIT;
	const struct ab_config *cfg = in->round_rt->cfg;
	int64_t now = in->read_ms;
	struct ab_event *ev = in->spare;
	struct batch *b = in->cur;
	char err[256];
	int rc;
	struct id_line idl = { peer && *peer ? peer : NULL, msg, len, NULL };

	in->round_lines++;
	if (truncated)
		in->truncated++;
	in->spare = NULL;
	if (!ev || ab_event_renew_at(ev, now) < 0)
		ev = ab_event_new_at(now);
	if (!ev) {
		in->parse_errors++;
		return;
	}
	in->gate_went = false;
	rc = ab_syslog_process_gated(cfg->syslog, cfg->mail, NULL, l->name, idl.peer, msg, len,
		truncated, now, AB_SYSLOG_ID_LATER | AB_SYSLOG_FIELDS_LATER, ev, NULL, NULL,
		in->round_lazy ? &in->view : NULL, &in->gate, err, sizeof err);
	if (rc == 2)
		idl.later = &in->view;
	if (rc <= 0) {
		if (rc == 0)
			in->dropped_by_source++;
		else
			in->parse_errors++;
		in->dirty = true;
		spare(in, ev);
		return;
	}
	if (b->n == 0)
		b->t0 = ab_mono_ms();
	b->offs[b->nrec] = b->rec.len;
	if (rc == 3)
		rc = 0;          /* the gate found it goes nowhere: its profile was not applied */
	else
		rc = ab_spool_encode(cfg, ev, now, in->gate_went, &b->rec, keep_line, &idl);
	if (rc == 1 && b->nrec < AB_SPOOL_HANDOFF / 2) {
		/* handed to the mover with the record (a bounded number: the
		 * rest are decoded from the journal) */
		b->evs[b->nrec] = ev;
		ev = NULL;
	}
	if (ev)
		spare(in, ev);
	if (rc < 0) {
		/* out of memory (the buffer's cap is never reached: flushed far
		 * below it), or a record of more than 4 MiB (a line is at most
		 * 64 KiB: not from a line): lost, and said so */
		ab_complain(&encode_failed, 10000, AB_LOG_ERR, "syslog: %s: line(s) dropped "
			"(counted as parse_errors)", rc == -2 ? "an event's record is over 4 MiB "
			"(lower max_message)" : "out of memory");
		in->parse_errors++;
		in->dirty = true;
		return;
	}
	if (rc == 0)
		b->unrouted++;
	else
		b->nrec++;
	b->ls[b->n++] = l;
	b->bytes += len;
	if (b->n >= BATCH_MAX_EVENTS || b->bytes >= BATCH_MAX_BYTES ||
	    b->rec.len >= BATCH_REC_FLUSH)
		flush(in, true);
}

/* ------------------------------------------------------------ backpressure */

static void apply_pause(struct ab_syslog_in *in)
{
	for (size_t i = 0; i < in->n_ls; i++) {
		struct lsn *l = &in->ls[i];
		if (l->proto != AB_SYSLOG_UDP)
			set_interest(in, l->fd, l, in->paused ? 0 : EPOLLIN);
	}
	for (struct conn *c = in->conns; c; c = c->next)
		set_interest(in, c->fd, c, conn_events(in, c));
}

static void check_high_water(struct ab_syslog_in *in)
{
	int64_t now = ab_mono_ms(), q;
	struct ab_spool_stats ss;
	bool want;

	if (in->high_water <= 0 || now - in->last_hw < HW_CHECK_MS)
		return;
	in->last_hw = now;
	q = ab_store_count(in->st_ro, AB_JOB_QUEUED);
	if (q < 0)
		return;
	ab_spool_get_stats(in->sp, &ss);   /* lines not in the store yet count too */
	q += (int64_t)ss.backlog;
	want = in->paused ? q > (int64_t)in->high_water * 9 / 10 : q > in->high_water;
	if (want == in->paused)
		return;
	in->paused = want;
	ab_metric_set(&m_sl_paused, NULL, NULL, want);   /* metrics: /readyz at once */
	in->dirty = true;
	if (want) {
		in->pauses++;
		ab_log(AB_LOG_NOTICE, "syslog: %lld jobs queued (high_water %d): stream input "
			"paused, UDP datagrams are dropped and counted", (long long)q, in->high_water);
	} else {
		ab_log(AB_LOG_NOTICE, "syslog: %lld jobs queued: input resumed", (long long)q);
	}
	apply_pause(in);
}

/* ------------------------------------------------------------ connections */

static void conn_close(struct ab_syslog_in *in, struct conn *c)
{
	epoll_ctl(in->ep, EPOLL_CTL_DEL, c->fd, NULL);
	if (c->ssl) {
		if (c->handshaken)
			SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	close(c->fd);
	ab_framer_free(&c->fr);
	if (c->relp) {
		ab_relp_sess_free(c->relp);
		free(c->relp);
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		in->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->l->nconn--;
	in->dirty = true;
	free(c);
}

static int frame_cb(const char *msg, size_t len, unsigned flags, void *arg)
{
	struct ab_syslog_in *in = arg;

	add_line(in, in->cur_l, in->cur_peer, msg, len, (flags & AB_FRAME_TRUNCATED) != 0);
	return 0;
}

/* RELP: a syslog frame's message joins the current batch; its answer waits
 * for the commit of that batch, or of the one before when the line went
 * nowhere and the batch is empty (all earlier lines must be durable). */
static int relp_msg(const char *msg, size_t len, bool truncated, void *arg, uint64_t *seq)
{
	struct ab_syslog_in *in = arg;
	struct batch *b = in->cur;
	size_t n0 = b->n;
	uint64_t g = b->gen;

	if (len > 0 && msg[len - 1] == '\n')
		len--;
	if (len > 0)
		add_line(in, in->cur_l, in->cur_peer, msg, len, truncated);
	*seq = in->cur != b || b->n > n0 || b->n > 0 ? g : g - 1;
	return 0;
}

/* RELP: one try to write what is due before the connection is closed. */
static void relp_last_words(struct conn *c)
{
	size_t len;
	const char *p = ab_relp_sess_out(c->relp, &len);

	if (len == 0 || len > INT32_MAX)
		return;
	if (c->ssl) {
		if (c->handshaken && c->tls_wlen == 0)
			(void)SSL_write(c->ssl, p, (int)len);
		ERR_clear_error();
	} else if (send(c->fd, p, len, MSG_NOSIGNAL) < 0) {
		ab_log(AB_LOG_DEBUG, "syslog: peer %s: %s", c->peer, strerror(errno));
	}
}

/* Feed bytes; false when the stream is broken (connection to be closed). */
static bool feed(struct ab_syslog_in *in, struct conn *c, const void *p, size_t n)
{
	char err[160];

	in->read_ms = ab_now_ms();    /* one clock read per read, not per line */
	in->cur_l = c->l;
	in->cur_peer = c->peer;
	c->spoke = true;
	if (c->relp) {
		if (ab_relp_sess_feed(c->relp, p, n, relp_msg, in, err, sizeof err) >= 0) {
			if (ab_relp_sess_busy(c->relp) && !c->rd_off) {
				c->rd_off = true;    /* until answers went out */
				set_interest(in, c->fd, c, conn_events(in, c));
			}
			return true;
		}
		in->framing_errors++;
		ab_log(AB_LOG_WARNING, "syslog: listener '%s': peer %s: %s: closing the "
			"session", c->l->name, c->peer[0] ? c->peer : "?", err);
		relp_last_words(c);      /* a 500 answer, if any */
		return false;
	}
	if (ab_framer_feed(&c->fr, p, n, frame_cb, in, err, sizeof err) < 0) {
		in->framing_errors++;
		ab_log(AB_LOG_WARNING, "syslog: listener '%s': peer %s: %s: closing the "
			"connection", c->l->name, c->peer[0] ? c->peer : "?", err);
		return false;
	}
	return true;
}

static void end_of_stream(struct ab_syslog_in *in, struct conn *c)
{
	in->read_ms = ab_now_ms();
	in->cur_l = c->l;
	in->cur_peer = c->peer;
	ab_framer_finish(&c->fr, frame_cb, in);
	conn_close(in, c);
}

static void conn_read_plain(struct ab_syslog_in *in, struct conn *c)
{
	size_t total = 0;

	while (total < READ_ROUND && !c->rd_off) {
		ssize_t n = read(c->fd, in->rbuf, in->rbufsz);

		if (n > 0) {
			total += (size_t)n;
			if (!feed(in, c, in->rbuf, (size_t)n)) {
				conn_close(in, c);
				return;
			}
			continue;
		}
		if (n == 0) {
			end_of_stream(in, c);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			ab_log(AB_LOG_INFO, "syslog: listener '%s': peer %s: %s", c->l->name,
				c->peer, strerror(errno));
			conn_close(in, c);
			return;
		}
		break;
	}
	if (total >= READ_ROUND)
		in->undrained = true;
	c->last_ms = ab_mono_ms();
}

/*
 * RELP: write the answers that are due.  Plain: send(2); TLS: SSL_write,
 * repeated with the same length after a WANT_* (tls_wlen).  A socket that
 * takes no more sets out_blocked (EPOLLOUT brings us back).  After the
 * answer to "close" the connection is closed.  false when c was freed.
 */
static bool conn_flush_out(struct ab_syslog_in *in, struct conn *c)
{
	bool was = c->out_blocked;

	for (;;) {
		size_t len;
		const char *p = ab_relp_sess_out(c->relp, &len);
		ssize_t n;

		if (len == 0)
			break;
		if (c->ssl) {
			int r, er;

			if (!c->handshaken)
				break;
			if (c->tls_wlen && c->tls_wlen <= len)
				len = c->tls_wlen;
			if (len > INT32_MAX)
				len = INT32_MAX;
			ERR_clear_error();
			r = SSL_write(c->ssl, p, (int)len);
			if (r <= 0) {
				er = SSL_get_error(c->ssl, r);
				if (er == SSL_ERROR_WANT_WRITE || er == SSL_ERROR_WANT_READ) {
					/* WANT_READ: the next read brings what TLS waits
					 * for; relp_ack_all retries every round */
					c->tls_wlen = len;
					c->out_blocked = er == SSL_ERROR_WANT_WRITE;
					break;
				}
				goto broken;
			}
			c->tls_wlen = 0;
			n = r;
		} else {
			n = send(c->fd, p, len, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK) {
					c->out_blocked = true;
					break;
				}
				goto broken;
			}
		}
		ab_relp_sess_wrote(c->relp, (size_t)n);
		c->out_blocked = false;
	}
	if (c->relp->closing && !c->out_blocked) {
		size_t len;

		if (ab_relp_sess_out(c->relp, &len) && len == 0) {
			conn_close(in, c);       /* answered "close" */
			return false;
		}
	}
	if (was != c->out_blocked)
		set_interest(in, c->fd, c, conn_events(in, c));
	return true;
broken:
	ab_log(AB_LOG_INFO, "syslog: listener '%s': peer %s: cannot send RELP answers: %s",
		c->l->name, c->peer, c->ssl ? "TLS error" : strerror(errno));
	ERR_clear_error();
	conn_close(in, c);
	return false;
}

/* RELP: answer what is durable now, on every session. */
static void relp_ack_all(struct ab_syslog_in *in)
{
	struct conn *c, *next;

	for (c = in->conns; c; c = next) {
		next = c->next;
		if (!c->relp)
			continue;
		if (ab_relp_sess_ack(c->relp, in->done_gen) < 0) {
			ab_log(AB_LOG_WARNING, "syslog: listener '%s': peer %s: RELP answers do "
				"not fit in memory: closing the session", c->l->name, c->peer);
			conn_close(in, c);
			continue;
		}
		if (!conn_flush_out(in, c))
			continue;
		if (c->rd_off && !ab_relp_sess_busy(c->relp)) {
			c->rd_off = false;
			set_interest(in, c->fd, c, conn_events(in, c));
		}
	}
}

/* TLS: handshake, then read records.  Returns with c possibly freed. */
static void conn_io_tls(struct ab_syslog_in *in, struct conn *c)
{
	size_t total = 0;
	char e[256];
	int r, er;
	bool ww = false;

	c->last_ms = ab_mono_ms();
	c->more = false;
	if (!c->handshaken) {
		ERR_clear_error();
		r = SSL_accept(c->ssl);
		if (r != 1) {
			er = SSL_get_error(c->ssl, r);
			if (er == SSL_ERROR_WANT_READ || er == SSL_ERROR_WANT_WRITE) {
				bool w = er == SSL_ERROR_WANT_WRITE;
				if (w != c->want_write) {
					c->want_write = w;
					set_interest(in, c->fd, c, conn_events(in, c));
				}
				return;
			}
			ssl_errstr(e, sizeof e);
			in->tls_failures++;
			ab_log(AB_LOG_WARNING, "syslog: listener '%s': peer %s: TLS handshake "
				"failed: %s", c->l->name, c->peer[0] ? c->peer : "?", e);
			conn_close(in, c);
			return;
		}
		c->handshaken = true;
		{
			X509 *cert = SSL_get1_peer_certificate(c->ssl);
			if (cert) {
				char subj[256];
				X509_NAME_oneline(X509_get_subject_name(cert), subj, sizeof subj);
				ab_log(AB_LOG_DEBUG, "syslog: listener '%s': peer %s: client "
					"certificate %s", c->l->name, c->peer, subj);
				X509_free(cert);
			}
		}
	}
	while (total < READ_ROUND && !c->rd_off) {
		ERR_clear_error();
		r = SSL_read(c->ssl, in->rbuf, (int)(in->rbufsz > INT32_MAX ? INT32_MAX : in->rbufsz));
		if (r > 0) {
			total += (size_t)r;
			if (!feed(in, c, in->rbuf, (size_t)r)) {
				conn_close(in, c);
				return;
			}
			continue;
		}
		er = SSL_get_error(c->ssl, r);
		if (er == SSL_ERROR_WANT_READ)
			break;
		if (er == SSL_ERROR_WANT_WRITE) {
			ww = true;
			break;
		}
		if (er == SSL_ERROR_ZERO_RETURN || (er == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
			end_of_stream(in, c);
			return;
		}
		ssl_errstr(e, sizeof e);
		ab_log(AB_LOG_INFO, "syslog: listener '%s': peer %s: TLS: %s", c->l->name, c->peer, e);
		end_of_stream(in, c);
		return;
	}
	if (total >= READ_ROUND)
		c->more = in->undrained = true;
	if (ww != c->want_write) {
		c->want_write = ww;
		set_interest(in, c->fd, c, conn_events(in, c));
	}
}

/* Does peer hold its share of l's connections already?  A connection the
 * peer has closed (FIN received: POLLRDHUP, its last lines maybe still to
 * read) holds nothing from the peer's side and does not count: a sender
 * that opens one connection per line and closes it is never refused for
 * the lines this thread has not read yet. */
static bool over_per_source(const struct ab_syslog_in *in, const struct lsn *l, const char *peer)
{
	int n = 0;

	if (l->max_per_src >= l->max_conn || !peer[0])
		return false;
	for (const struct conn *c = in->conns; c; c = c->next) {
		struct pollfd p = { c->fd, POLLRDHUP, 0 };

		if (c->l != l || strcmp(c->peer, peer) != 0)
			continue;
		if (poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
			continue;
		if (++n >= l->max_per_src)
			return true;
	}
	return false;
}

static void do_accept(struct ab_syslog_in *in, struct lsn *l)
{
	static struct ab_complaint full = AB_COMPLAINT_INIT, per_src = AB_COMPLAINT_INIT;

	for (int k = 0; k < ACCEPT_ROUND; k++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		struct epoll_event ev;
		struct conn *c;
		int fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		char peer[PEER_MAX];

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				ab_log(AB_LOG_WARNING, "syslog: listener '%s': accept: %s", l->name,
					strerror(errno));
			return;
		}
		peer_name(&ss, sl, peer, sizeof peer);
		if (l->nconn >= l->max_conn) {
			close(fd);
			l->rejected++;
			in->conn_rejected++;
			in->dirty = true;
			ab_complain(&full, 10000, AB_LOG_WARNING, "syslog: listener '%s': "
				"connection from %s refused: max_connections (%d) reached", l->name,
				peer, l->max_conn);
			continue;
		}
		if (over_per_source(in, l, peer)) {
			close(fd);
			l->refused_src++;
			in->conn_refused_src++;
			in->dirty = true;
			ab_complain(&per_src, 10000, AB_LOG_WARNING, "syslog: listener '%s': "
				"connection from %s refused: it has max_conns_per_source (%d) open "
				"already", l->name, peer, l->max_per_src);
			continue;
		}
		c = calloc(1, sizeof *c);
		if (!c) {
			close(fd);
			continue;
		}
		c->kind = K_CONN;
		c->l = l;
		c->fd = fd;
		ab_strlcpy(c->peer, peer, sizeof c->peer);
		c->last_ms = c->t_accept = ab_mono_ms();
		ab_framer_init(&c->fr, l->max_message);
		if (l->proto == AB_SYSLOG_RELP) {
			c->relp = malloc(sizeof *c->relp);
			if (!c->relp) {
				ab_framer_free(&c->fr);
				close(fd);
				free(c);
				continue;
			}
			ab_relp_sess_init(c->relp, l->max_message);
		}
		c->handshaken = !l->ssl;
		if (l->ssl) {
			c->ssl = SSL_new(l->ssl);
			if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1)
				goto drop;
		}
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(in->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			goto drop;
		c->next = in->conns;
		if (in->conns)
			in->conns->prev = c;
		in->conns = c;
		l->nconn++;
		l->conns++;
		in->dirty = true;
		continue;
drop:
		SSL_free(c->ssl);
		ab_framer_free(&c->fr);
		if (c->relp) {
			ab_relp_sess_free(c->relp);
			free(c->relp);
		}
		close(fd);
		free(c);
	}
}

/* ------------------------------------------------------------ datagrams */

static void do_dgram(struct ab_syslog_in *in, struct lsn *l)
{
	in->undrained = true;   /* unless a read finds the socket empty */
	for (int k = 0; k < UDP_ROUND; k++) {
		struct sockaddr_storage ss;
		char cbuf[CMSG_SPACE(sizeof(uint32_t))], peer[PEER_MAX];
		struct iovec iov = { in->rbuf, l->max_message + 1 };
		struct msghdr mh;
		struct cmsghdr *cm;
		ssize_t n;
		size_t len;

		memset(&mh, 0, sizeof mh);
		mh.msg_name = &ss;
		mh.msg_namelen = sizeof ss;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof cbuf;
		n = recvmsg(l->fd, &mh, MSG_TRUNC);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				ab_log(AB_LOG_WARNING, "syslog: listener '%s': recv: %s", l->name,
					strerror(errno));
			in->undrained = false;
			return;
		}
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL) {
				uint32_t v;
				memcpy(&v, CMSG_DATA(cm), sizeof v);
				if (v > l->kernel_drops) {
					in->udp_dropped += v - l->kernel_drops;
					l->dropped += v - l->kernel_drops;
					l->kernel_drops = v;
					in->dirty = true;
				}
			}
		}
		if (in->paused && l->proto == AB_SYSLOG_UDP) {
			in->udp_dropped++;
			l->dropped++;
			in->dirty = true;
			continue;
		}
		len = (size_t)n > l->max_message ? l->max_message : (size_t)n;
		peer_name(&ss, mh.msg_namelen, peer, sizeof peer);
		if (len == 0)
			continue;
		in->read_ms = ab_now_ms();
		add_line(in, l, peer, (const char *)in->rbuf, len, (size_t)n > l->max_message);
	}
}

/* ------------------------------------------------------------ the thread */

static void idle_scan(struct ab_syslog_in *in)
{
	static struct ab_complaint silent = AB_COMPLAINT_INIT;
	int64_t now = ab_mono_ms();
	struct conn *c, *next;

	if (now - in->last_idle < 1000)
		return;
	in->last_idle = now;
	for (c = in->conns; c; c = next) {
		next = c->next;
		/* Silent: nothing came since the accept (a TLS handshake alone
		 * does not count): the shorter idle_timeout_silent holds. */
		if (!c->spoke && c->l->silent_ms > 0 && !in->paused &&
		    (c->l->idle_ms == 0 || c->l->silent_ms < c->l->idle_ms) &&
		    now - c->t_accept > c->l->silent_ms) {
			in->idle_closed++;
			in->silent_closed++;
			ab_complain(&silent, 10000, AB_LOG_INFO, "syslog: listener '%s': peer %s "
				"sent nothing for %lld ms (idle_timeout_silent): closing", c->l->name,
				c->peer, (long long)c->l->silent_ms);
			conn_close(in, c);
			continue;
		}
		if (c->l->idle_ms > 0 && !in->paused && now - c->last_ms > c->l->idle_ms) {
			in->idle_closed++;
			ab_log(AB_LOG_INFO, "syslog: listener '%s': peer %s idle for more than "
				"%lld ms: closing", c->l->name, c->peer, (long long)c->l->idle_ms);
			end_of_stream(in, c);
		}
	}
}

static void drop_log(struct ab_syslog_in *in)
{
	int64_t now = ab_mono_ms();

	if (in->udp_dropped == in->udp_dropped_logged || now - in->last_drop_log < DROP_LOG_MS)
		return;
	ab_log(AB_LOG_WARNING, "syslog: %llu UDP datagram(s) dropped so far (%llu since the last "
		"report): the store is behind (high_water) or the socket buffer overflowed; see "
		"'alertbridge syslog status'", (unsigned long long)in->udp_dropped,
		(unsigned long long)(in->udp_dropped - in->udp_dropped_logged));
	in->udp_dropped_logged = in->udp_dropped;
	in->last_drop_log = now;
}

static void *run(void *arg)
{
	struct ab_syslog_in *in = arg;
	struct epoll_event evs[64];

	while (!atomic_load(&in->stop)) {
		bool more = false;
		int n, timeout;

		for (struct conn *c = in->conns; c; c = c->next)
			more |= c->more;
		timeout = more ? 0 : in->paused ? HW_CHECK_MS : 1000;
		if (!more && in->cur->n && !in->sent) {   /* a batch waits: BATCH_MAX_MS */
			int64_t left = BATCH_MAX_MS - (ab_mono_ms() - in->cur->t0);
			int64_t gap = COMMIT_GAP_MS - (ab_mono_ms() - in->handed_ms);

			if (gap > 0 && gap < left)
				left = gap;   /* drained, held for the gap: woken at its end */
			timeout = left > 0 ? (int)left : 0;
			/* A trickle over streams (a few lines per wake-up: a steady
			 * sender's lines one by one): the batch is held for the gap
			 * anyway, so let the lines wait in the sockets until its end
			 * and read them in one round, instead of waking up, reading
			 * and parsing for each.  Nothing is committed later; TCP
			 * holds what comes meanwhile (datagram sockets could drop,
			 * so not with those). */
			if (gap > 0 && gap == left && in->round_lines < COALESCE_LINES &&
			    !takes_datagrams(in)) {
				if (nap(in, (int)gap))
					break;
				timeout = 0;
			}
		}
		n = epoll_wait(in->ep, evs, 64, status_wait(in, timeout));
		if (n < 0 && errno != EINTR) {
			ab_log(AB_LOG_ERR, "syslog: epoll_wait: %s", strerror(errno));
			nap(in, 100);
			continue;
		}
		round_begin(in);
		in->undrained = false;
		for (int i = 0; i < n; i++) {
			enum kind *k = evs[i].data.ptr;

			if (*k == K_WAKE) {
				uint64_t v;
				if (read(in->wfd, &v, sizeof v) < 0 && errno != EAGAIN)
					ab_log(AB_LOG_DEBUG, "syslog: eventfd: %s", strerror(errno));
			} else if (*k == K_LISTEN) {
				struct lsn *l = (struct lsn *)k;
				if (l->proto == AB_SYSLOG_UDP || l->proto == AB_SYSLOG_UNIX)
					do_dgram(in, l);
				else if (!in->paused)
					do_accept(in, l);
			}
		}
		/* Connections after listeners: an accept above never frees a conn
		 * that is still in evs[], and a closed conn is not touched again
		 * because each appears at most once and is handled last. */
		for (int i = 0; i < n; i++) {
			enum kind *k = evs[i].data.ptr;

			if (*k == K_CONN && ((struct conn *)k)->out_blocked &&
			    (evs[i].events & EPOLLOUT) && !conn_flush_out(in, (struct conn *)k))
				continue;
			/* not read while its answers wait: a hang-up ends it now (what
			 * was not answered is resent), else EPOLLHUP would spin */
			if (*k == K_CONN && ((struct conn *)k)->rd_off &&
			    (evs[i].events & (EPOLLHUP | EPOLLERR))) {
				conn_close(in, (struct conn *)k);
				continue;
			}
			if (*k == K_CONN && !in->paused && !((struct conn *)k)->rd_off) {
				struct conn *c = (struct conn *)k;
				if (c->ssl)
					conn_io_tls(in, c);
				else if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
					conn_read_plain(in, c);
			}
		}
		if (more && !in->paused) {
			struct conn *c, *next;
			for (c = in->conns; c; c = next) {
				next = c->next;
				if (c->more)
					conn_io_tls(in, c);
			}
		}
		/* Group commit: one batch spans rounds while input keeps coming
		 * faster than it is read (bigger batches, fewer commits); it is
		 * committed as soon as the input is drained, is full (add_line),
		 * or BATCH_MAX_MS old. */
		if (!in->undrained || in->paused || ab_mono_ms() - in->cur->t0 >= BATCH_MAX_MS)
			flush(in, false);
		else
			reap(in);
		relp_ack_all(in);
		ab_spool_free_spent(in->sp);   /* the mover's, in this thread's arena */
		check_high_water(in);
		idle_scan(in);
		drop_log(in);
		write_status(in, false);
		ab_runtime_unref(in->round_rt);
		in->round_rt = NULL;
		/* Paused: hung-up connections stay readable (EPOLLHUP is always
		 * reported); do not spin on them. */
		if (in->paused && n > 0)
			nap(in, HW_CHECK_MS / 2);
	}
	return NULL;
}

static void stop_committer(struct ab_syslog_in *in)
{
	if (!in->cstarted)
		return;
	pthread_mutex_lock(&in->cmu);
	in->c_stop = true;
	pthread_cond_broadcast(&in->c_work_cv);
	pthread_mutex_unlock(&in->cmu);
	pthread_join(in->cth, NULL);
	in->cstarted = false;
}

int ab_syslog_in_start(struct ab_syslog_in *in, struct ab_runtime *rt, const char *store_path,
	void (*wake)(void *arg), void *wake_arg, char *err, size_t errsz)
{
	if (ab_spool_open(&in->sp, store_path, rt->cfg->syslog->journal_max_mb,
			  rt->cfg->min_free_mb, err, errsz) < 0)
		return -1;
	in->st_ro = ab_store_open(store_path, err, errsz);
	if (!in->st_ro) {
		ab_spool_close(in->sp, 0);
		in->sp = NULL;
		return -1;
	}
	if (ab_spool_start(in->sp, rt, wake, wake_arg, err, errsz) < 0)
		goto fail;
	in->rt = ab_runtime_ref(rt);
	in->wake = wake;
	in->wake_arg = wake_arg;
	in->dirty = true;
	write_status(in, true);
	if (pthread_create(&in->cth, NULL, committer, in) != 0) {
		snprintf(err, errsz, "syslog: cannot start the committer thread");
		goto fail;
	}
	pthread_setname_np(in->cth, "ab-commit");
	in->cstarted = true;
	if (pthread_create(&in->th, NULL, run, in) != 0) {
		snprintf(err, errsz, "syslog: cannot start the listener thread");
		goto fail;
	}
	pthread_setname_np(in->th, "ab-syslog");
	in->started = true;
	for (size_t i = 0; i < in->n_ls; i++)
		ab_log(AB_LOG_NOTICE, "syslog: listening on %s (%s) as '%s', max_message %zu",
			in->ls[i].address, ab_syslog_proto_name(in->ls[i].proto), in->ls[i].name,
			in->ls[i].max_message);
	return 0;
fail:
	stop_committer(in);
	ab_runtime_unref(in->rt);
	in->rt = NULL;
	ab_spool_close(in->sp, 0);
	in->sp = NULL;
	ab_store_close(in->st_ro);
	in->st_ro = NULL;
	return -1;
}

void ab_syslog_in_set_runtime(struct ab_syslog_in *in, struct ab_runtime *rt)
{
	struct ab_runtime *old;

	if (!in)
		return;
	pthread_mutex_lock(&in->mu);
	old = in->rt;
	in->rt = ab_runtime_ref(rt);
	pthread_mutex_unlock(&in->mu);
	ab_runtime_unref(old);
	if (in->sp)
		ab_spool_set_runtime(in->sp, rt);
}

void ab_syslog_in_stop(struct ab_syslog_in *in)
{
	uint64_t one = 1;

	if (!in)
		return;
	if (in->started) {
		atomic_store(&in->stop, true);
		if (write(in->wfd, &one, sizeof one) < 0)
			ab_log(AB_LOG_DEBUG, "syslog: eventfd: %s", strerror(errno));
		pthread_mutex_lock(&in->cmu);      /* a committer between retries: stop now */
		pthread_cond_broadcast(&in->c_work_cv);
		pthread_mutex_unlock(&in->cmu);
		pthread_join(in->th, NULL);
		/* What is still buffered in open connections is committed too. */
		round_begin(in);
		for (struct conn *c = in->conns, *next; c; c = next) {
			next = c->next;
			if (!c->relp)      /* RELP sessions: answered below */
				end_of_stream(in, c);
		}
		flush(in, true);   /* one try: stop is set */
		wait_committer(in);
		relp_ack_all(in);  /* best effort: what is not answered is resent */
		for (struct conn *c = in->conns, *next; c; c = next) {
			next = c->next;
			if (c->relp && ab_relp_sess_serverclose(c->relp) == 0)
				conn_flush_out(in, c);
		}
		ab_runtime_unref(in->round_rt);
		in->round_rt = NULL;
		write_status(in, true);
		ab_log(AB_LOG_NOTICE, "syslog: stopped after %llu line(s) received",
			(unsigned long long)in->received);
	}
	while (in->conns)
		conn_close(in, in->conns);
	wait_committer(in);
	stop_committer(in);
	batch_free(&in->bt[0]);
	batch_free(&in->bt[1]);
	ab_spool_close(in->sp, STOP_DRAIN_MS);
	ab_store_close(in->st_ro);
	ab_runtime_unref(in->rt);
	in_free(in);
}
