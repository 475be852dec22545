/*
 * http_sink.c - the local HTTP sink and the load generators of
 * bench/route_deliver.sh (issue 13: route and deliver to HTTP, alertbridge
 * against Prometheus Alertmanager on the same sink in the same run).
 *
 * Every alert the bench sends carries a marker "bseq-N" (N a decimal id);
 * the sink scans each request body for markers, counts distinct ids and
 * keeps the first arrival time of each (CLOCK_MONOTONIC, which is one clock
 * for every process of the machine), so a payload that groups several
 * alerts (Alertmanager's) counts each of them and a retried one counts once.
 * The run modes send alerts, record the send time of each, wait until the
 * sink has them all, then fetch the arrival times from the sink and print
 * throughput, latency percentiles and the CPU the measured process used.
 *
 *   http_sink serve -P PORTFILE [-n MAXID]
 *       HTTP/1.1 with keep-alive on 127.0.0.1 (a free port, written to
 *       PORTFILE), one epoll thread; answers every request 200 "ok".
 *       GET /ctl/count[?from=A&to=B] -> "DISTINCT REQUESTS\n" (DISTINCT: the
 *       ids seen, or those in [A, B)); GET /ctl/reset clears;
 *       GET /ctl/dump?from=A&to=B -> "ID NS\n" per id seen in [A, B).
 *       Runs until SIGTERM/SIGINT.
 *   http_sink ceiling -s SINKPORT [-c CONNS] [-t SECONDS] [-z BYTES]
 *       The sink's own keep-alive ceiling: CONNS threads, each one
 *       connection, POST a body of BYTES holding a new marker, read the
 *       answer, repeat, for SECONDS; prints "conns=C requests=R per_s=X".
 *   http_sink tcp -s SINKPORT -d PORT -n COUNT [-b BASE] [-r RATE] [-p PID] [-T S]
 *       CEF syslog lines (severity 7..10, LF-framed) over one TCP connection.
 *   http_sink am -s SINKPORT -d PORT -n COUNT [-b BASE] [-r RATE] [-B BATCH] [-p PID] [-T S]
 *       Alertmanager: POST /api/v2/alerts, BATCH alerts per request (default
 *       100), one keep-alive connection, distinct labels (id = "bseq-N").
 *   http_sink http -s SINKPORT -d PORT -n COUNT [-b BASE] [-r RATE] [-B BATCH] [-p PID] [-T S]
 *       alertbridge: POST /api/v1/events (token "bench-token"), BATCH canonical
 *       events per request as a JSON array, answered 202 once committed.
 *   http_sink lines -n COUNT [-b BASE]
 *       Prints the CEF lines the tcp mode sends (for alertbridge parse, to
 *       make the events of alertbridge send --lines).
 *   http_sink cmd -s SINKPORT -n COUNT [-b BASE] [-p PID] [-T S] -- COMMAND ARGS...
 *       Runs COMMAND (which sends ids BASE..BASE+COUNT-1 itself); every id's
 *       send time is the command's start; the command's own CPU is printed too.
 *   Without -r (or -r 0) everything is sent as fast as possible; with -r RATE
 *   alert i is due at start + i / RATE (alerts already due go out together).
 *   -p PID: the measured process; its utime + stime (/proc/PID/stat) from
 *   the first send to the last arrival, per alert, is printed as cpu_us.
 *   -T: give up after S seconds (default 600) without all alerts: exit 1.
 *   Output, one line: alerts= delivered= secs= per_s= p50_ms= p90_ms=
 *   p99_ms= max_ms= cpu_us= [cmd_cpu_us=].
 *
 * Not part of the tests and not installed.  Diagnostics: "http_sink: ..."
 * on stderr; exit 64 on bad arguments, 1 when a run fails or times out.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MARK "bseq-"
#define MARK_LEN 5

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("http_sink: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_until(int64_t t)
{
	struct timespec ts = { (time_t)(t / 1000000000), (long)(t % 1000000000) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* ------------------------------------------------------------ growing buffer */

struct buf {
	char *p;
	size_t len, cap;
};

static void buf_reserve(struct buf *b, size_t more)
{
	if (b->len + more + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more + 1)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p)
		die("out of memory");
	b->p = p;
	b->cap = cap;
}

static void buf_add(struct buf *b, const void *data, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	buf_reserve(b, 256);
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		die("vsnprintf failed");
	if ((size_t)n >= b->cap - b->len) { /* did not fit: make room and write again */
		buf_reserve(b, (size_t)n);
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

static void buf_drop(struct buf *b, size_t n)
{
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
}

/* ------------------------------------------------------------ the sink */

struct sink_conn {
	int fd;
	int continued; /* "100 Continue" sent for the request being read */
	struct buf in, out;
};

static int64_t *arrival; /* per id: first arrival (ns), 0 = not seen */
static long max_id = 1000000;
static long distinct, requests;
static volatile sig_atomic_t stop_flag;

static void on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void scan_body(const char *p, size_t n, int64_t t)
{
	const char *end = p + n;

	while (p < end && (p = memmem(p, (size_t)(end - p), MARK, MARK_LEN)) != NULL) {
		long id = 0;
		int digits = 0;

		p += MARK_LEN;
		while (p < end && *p >= '0' && *p <= '9' && digits < 12) {
			id = id * 10 + (*p - '0');
			p++;
			digits++;
		}
		if (digits && id < max_id && !arrival[id]) {
			arrival[id] = t;
			distinct++;
		}
	}
}

/* Does the header line h (hl bytes) hold word, in any case? */
static int line_has(const char *h, size_t hl, const char *word)
{
	size_t wl = strlen(word);

	for (size_t i = 0; i + wl <= hl; i++)
		if (!strncasecmp(h + i, word, wl))
			return 1;
	return 0;
}

static long query_long(const char *path, const char *key, long def)
{
	const char *q = strchr(path, '?');
	size_t kl = strlen(key);

	while (q) {
		q++;
		if (!strncmp(q, key, kl) && q[kl] == '=')
			return strtol(q + kl + 1, NULL, 10);
		q = strchr(q, '&');
	}
	return def;
}

static void respond(struct sink_conn *c, int code, const char *body, size_t n, int close_after)
{
	/* close_after: 1 close, 2 say keep-alive (an HTTP/1.0 client that asked), 0 nothing */
	buf_printf(&c->out, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n%s\r\n",
	           code, code == 200 ? "OK" : "Error", n,
	           close_after == 1 ? "Connection: close\r\n" : close_after == 2 ? "Connection: keep-alive\r\n" : "");
	buf_add(&c->out, body, n);
}

static void control(struct sink_conn *c, const char *path)
{
	struct buf b = { 0 };

	if (!strncmp(path, "/ctl/count", 10)) {
		long from = query_long(path, "from", -1), to = query_long(path, "to", max_id), in = 0;
		if (from >= 0) { /* the distinct ids seen in [from, to) */
			for (long i = from; i < to && i < max_id; i++)
				in += arrival[i] != 0;
		}
		buf_printf(&b, "%ld %ld\n", from >= 0 ? in : distinct, requests);
	} else if (!strncmp(path, "/ctl/reset", 10)) {
		memset(arrival, 0, (size_t)max_id * sizeof *arrival);
		distinct = requests = 0;
		buf_printf(&b, "reset\n");
	} else if (!strncmp(path, "/ctl/dump", 9)) {
		long from = query_long(path, "from", 0), to = query_long(path, "to", max_id);
		if (from < 0)
			from = 0;
		if (to > max_id)
			to = max_id;
		for (long i = from; i < to; i++)
			if (arrival[i])
				buf_printf(&b, "%ld %lld\n", i, (long long)arrival[i]);
	} else {
		respond(c, 404, "unknown control\n", 16, 0);
		return;
	}
	respond(c, 200, b.p ? b.p : "", b.len, 0);
	free(b.p);
}

/* Handle every complete request in c->in; -1: close the connection. */
static int sink_requests(struct sink_conn *c, int64_t t)
{
	for (;;) {
		char *hend = memmem(c->in.p, c->in.len, "\r\n\r\n", 4);
		if (!hend)
			return c->in.len > 65536 ? -1 : 0;
		size_t hlen = (size_t)(hend - c->in.p) + 4;
		long clen = 0;
		int close_after = 0, expect = 0, keep = 0;
		char path[512] = "", version[16] = "";

		*hend = '\0'; /* headers as one string; restored below */
		if (sscanf(c->in.p, "%*s %511s %15s", path, version) != 2) {
			return -1;
		}
		int http10 = !strcmp(version, "HTTP/1.0"); /* ab: keep-alive only when asked */
		for (char *l = strstr(c->in.p, "\r\n"); l; l = strstr(l + 2, "\r\n")) {
			char *h = l + 2;
			char *le = strstr(h, "\r\n");
			size_t hl = le ? (size_t)(le - h) : strlen(h);
			if (!strncasecmp(h, "Content-Length:", 15))
				clen = strtol(h + 15, NULL, 10);
			else if (!strncasecmp(h, "Connection:", 11) && line_has(h, hl, "close"))
				close_after = 1;
			else if (!strncasecmp(h, "Connection:", 11) && line_has(h, hl, "keep-alive"))
				keep = 1;
			else if (!strncasecmp(h, "Expect:", 7) && line_has(h, hl, "100-continue"))
				expect = 1;
			else if (!strncasecmp(h, "Transfer-Encoding:", 18) && line_has(h, hl, "chunked")) {
				*hend = '\r';
				respond(c, 501, "chunked bodies are not supported\n", 33, 1);
				fprintf(stderr, "http_sink: a chunked request body (unsupported)\n");
				return -1;
			}
		}
		*hend = '\r';
		if (http10 && !keep)
			close_after = 1;
		if (clen < 0 || clen > 64 * 1024 * 1024)
			return -1;
		if (c->in.len < hlen + (size_t)clen) {
			if (expect && !c->continued) {
				buf_add(&c->out, "HTTP/1.1 100 Continue\r\n\r\n", 25);
				c->continued = 1;
			}
			return 0;
		}
		c->continued = 0;
		if (!strncmp(path, "/ctl/", 5)) {
			control(c, path);
		} else {
			requests++;
			scan_body(c->in.p + hlen, (size_t)clen, t);
			respond(c, 200, "ok", 2, close_after ? 1 : http10 ? 2 : 0);
		}
		buf_drop(&c->in, hlen + (size_t)clen);
		if (close_after)
			return -1;
	}
}

static int sink_flush(struct sink_conn *c)
{
	while (c->out.len) {
		ssize_t n = write(c->fd, c->out.p, c->out.len);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		buf_drop(&c->out, (size_t)n);
	}
	return 0;
}

static void sink_close(int ep, struct sink_conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->in.p);
	free(c->out.p);
	free(c);
}

static int cmd_serve(int argc, char **argv)
{
	const char *portfile = NULL;
	int o;

	while ((o = getopt(argc, argv, "P:n:")) != -1) {
		if (o == 'P')
			portfile = optarg;
		else if (o == 'n')
			max_id = strtol(optarg, NULL, 10);
		else
			return 64;
	}
	if (!portfile || max_id < 1)
		return 64;
	if (!(arrival = calloc((size_t)max_id, sizeof *arrival)))
		die("out of memory");

	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof sa;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) || listen(lfd, 1024) ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl))
		die("listen: %s", strerror(errno));
	FILE *pf = fopen(portfile, "w");
	if (!pf || fprintf(pf, "%d\n", ntohs(sa.sin_port)) < 0 || fclose(pf))
		die("%s: %s", portfile, strerror(errno));

	struct sigaction sig = { .sa_handler = on_stop };
	sigaction(SIGTERM, &sig, NULL);
	sigaction(SIGINT, &sig, NULL);
	signal(SIGPIPE, SIG_IGN);

	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL }, evs[256];
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	char rb[65536];

	while (!stop_flag) {
		int n = epoll_wait(ep, evs, 256, 500);
		int64_t t = now_ns();
		for (int i = 0; i < n; i++) {
			struct sink_conn *c = evs[i].data.ptr;
			if (!c) {
				int fd;
				while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
					c = calloc(1, sizeof *c);
					if (!c)
						die("out of memory");
					c->fd = fd;
					ev.events = EPOLLIN;
					ev.data.ptr = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			int dead = 0;
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
				for (;;) {
					ssize_t r = read(c->fd, rb, sizeof rb);
					if (r > 0) {
						buf_add(&c->in, rb, (size_t)r);
						if ((size_t)r < sizeof rb)
							break;
					} else if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
						break;
					} else {
						dead = 1;
						break;
					}
				}
				if (c->in.len && sink_requests(c, t) < 0)
					dead = 2;
			}
			/* dead 2: the last answer goes out (best effort) before the close */
			if (dead != 1 && sink_flush(c) < 0)
				dead = 1;
			if (dead) {
				sink_close(ep, c);
				continue;
			}
			ev.events = EPOLLIN | (c->out.len ? EPOLLOUT : 0);
			ev.data.ptr = c;
			epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
		}
	}
	return 0;
}

/* ------------------------------------------------------------ blocking client */

static int connect_port(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
	                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa))
		die("connect 127.0.0.1:%d: %s", port, strerror(errno));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die("write: %s", w < 0 ? strerror(errno) : "short write");
		p += w;
		n -= (size_t)w;
	}
}

/*
 * Read one HTTP response on fd (Content-Length or chunked body) into body;
 * rest keeps bytes read past it.  Returns the status code.
 */
static int read_response(int fd, struct buf *rest, struct buf *body)
{
	char rb[16384];
	size_t hlen = 0;
	char *hend;

	body->len = 0;
	for (;;) {
		while (!(hend = rest->p ? memmem(rest->p, rest->len, "\r\n\r\n", 4) : NULL)) {
			ssize_t r = read(fd, rb, sizeof rb);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				die("read response: %s", r < 0 ? strerror(errno) : "connection closed");
			buf_add(rest, rb, (size_t)r);
		}
		hlen = (size_t)(hend - rest->p) + 4;
		int code = 0;
		sscanf(rest->p, "HTTP/%*s %d", &code);
		if (code == 100) { /* 100 Continue: the real answer follows */
			buf_drop(rest, hlen);
			continue;
		}
		*hend = '\0';
		long clen = -1;
		int chunked = 0;
		for (char *l = strstr(rest->p, "\r\n"); l; l = strstr(l + 2, "\r\n")) {
			char *h = l + 2, *le = strstr(h, "\r\n");
			size_t hl = le ? (size_t)(le - h) : strlen(h);
			if (!strncasecmp(h, "Content-Length:", 15))
				clen = strtol(h + 15, NULL, 10);
			else if (!strncasecmp(h, "Transfer-Encoding:", 18) && line_has(h, hl, "chunked"))
				chunked = 1;
		}
		*hend = '\r';
		buf_drop(rest, hlen);
		if (!chunked) {
			if (clen < 0)
				clen = 0;
			while (rest->len < (size_t)clen) {
				ssize_t r = read(fd, rb, sizeof rb);
				if (r < 0 && errno == EINTR)
					continue;
				if (r <= 0)
					die("read body: %s", r < 0 ? strerror(errno) : "connection closed");
				buf_add(rest, rb, (size_t)r);
			}
			buf_add(body, rest->p ? rest->p : "", (size_t)clen);
			buf_drop(rest, (size_t)clen);
			return code;
		}
		for (;;) { /* chunked: SIZE\r\nDATA\r\n ... 0\r\n\r\n */
			char *le;
			while (!(le = rest->p ? memmem(rest->p, rest->len, "\r\n", 2) : NULL)) {
				ssize_t r = read(fd, rb, sizeof rb);
				if (r <= 0)
					die("read chunk: connection closed");
				buf_add(rest, rb, (size_t)r);
			}
			size_t sz = strtoul(rest->p, NULL, 16), need = (size_t)(le - rest->p) + 2 + sz + 2;
			while (rest->len < need) {
				ssize_t r = read(fd, rb, sizeof rb);
				if (r <= 0)
					die("read chunk: connection closed");
				buf_add(rest, rb, (size_t)r);
			}
			buf_add(body, le + 2, sz);
			buf_drop(rest, need);
			if (sz == 0)
				return code;
		}
	}
}

/* One keep-alive client connection. */
struct client {
	int fd;
	struct buf rest, body, req;
	const char *auth;        /* an Authorization header value, or NULL */
};

static int http_call(struct client *c, const char *method, const char *path, const char *ctype,
                     const char *body, size_t n)
{
	c->req.len = 0;
	buf_printf(&c->req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n", method, path);
	if (ctype)
		buf_printf(&c->req, "Content-Type: %s\r\n", ctype);
	if (c->auth)
		buf_printf(&c->req, "Authorization: %s\r\n", c->auth);
	buf_printf(&c->req, "Content-Length: %zu\r\n\r\n", n);
	buf_add(&c->req, body, n);
	write_all(c->fd, c->req.p, c->req.len);
	return read_response(c->fd, &c->rest, &c->body);
}

/* ------------------------------------------------------------ ceiling */

struct ceil_arg {
	int port, bytes;
	long id0, span, done;
	int64_t until;
};

static void *ceil_thread(void *p)
{
	struct ceil_arg *a = p;
	struct client c = { .fd = connect_port(a->port) };
	struct buf b = { 0 };

	for (long k = 0; now_ns() < a->until; k++) {
		b.len = 0;
		buf_printf(&b, "{\"id\":\"" MARK "%ld\",\"pad\":\"", a->id0 + k % a->span);
		while (b.len + 2 < (size_t)a->bytes)
			buf_add(&b, "x", 1);
		buf_add(&b, "\"}", 2);
		if (http_call(&c, "POST", "/ceiling", "application/json", b.p, b.len) != 200)
			die("ceiling: the sink answered an error");
		a->done++;
	}
	close(c.fd);
	free(b.p);
	free(c.rest.p);
	free(c.body.p);
	free(c.req.p);
	return NULL;
}

static int cmd_ceiling(int argc, char **argv)
{
	int port = 0, conns = 2, bytes = 800, o;
	double secs = 3;

	while ((o = getopt(argc, argv, "s:c:t:z:")) != -1) {
		if (o == 's')
			port = atoi(optarg);
		else if (o == 'c')
			conns = atoi(optarg);
		else if (o == 't')
			secs = atof(optarg);
		else if (o == 'z')
			bytes = atoi(optarg);
		else
			return 64;
	}
	if (port <= 0 || conns < 1 || conns > 256 || secs <= 0 || bytes < 32)
		return 64;
	pthread_t th[256];
	struct ceil_arg a[256];
	int64_t t0 = now_ns();
	for (int i = 0; i < conns; i++) {
		a[i] = (struct ceil_arg){ port, bytes, i * 10000L, 10000, 0, t0 + (int64_t)(secs * 1e9) };
		if (pthread_create(&th[i], NULL, ceil_thread, &a[i]))
			die("pthread_create failed");
	}
	long total = 0;
	for (int i = 0; i < conns; i++) {
		pthread_join(th[i], NULL);
		total += a[i].done;
	}
	double el = (double)(now_ns() - t0) / 1e9;
	printf("conns=%d requests=%ld per_s=%.0f\n", conns, total, (double)total / el);
	return 0;
}

/* ------------------------------------------------------------ the run modes */

static double proc_cpu_s(pid_t pid)
{
	char path[64], line[2048];
	unsigned long ut = 0, st = 0;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(line, 1, sizeof line - 1, f);
	fclose(f);
	line[n] = '\0';
	char *p = strrchr(line, ')'); /* the command may hold spaces */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

struct run {
	int sink_port, dest_port, dest_fd, batch;
	long n, base;
	double rate, timeout;
	pid_t pid;
	int64_t *sent; /* per alert i (id base + i): send time */
	struct client ctl;
	char **cmd;
};

static void sink_count(struct run *r, long *distinct_out)
{
	char path[128];

	snprintf(path, sizeof path, "/ctl/count?from=%ld&to=%ld", r->base, r->base + r->n);
	if (http_call(&r->ctl, "GET", path, NULL, "", 0) != 200)
		die("sink: /ctl/count failed");
	*distinct_out = strtol(r->ctl.body.p ? r->ctl.body.p : "0", NULL, 10);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static double pct_ms(const int64_t *v, long n, double q)
{
	if (n == 0)
		return 0;
	long i = (long)(q * (double)(n - 1) + 0.5);
	return (double)v[i] / 1e6;
}

/* Wait for the sink to hold every id, then print the results. */
static int finish(struct run *r, int64_t t0, double cpu0, double cmd_cpu)
{
	long have = 0;
	int64_t deadline = t0 + (int64_t)(r->timeout * 1e9);

	for (;;) {
		sink_count(r, &have);
		if (have >= r->n || now_ns() > deadline)
			break;
		usleep(5000);
	}
	double cpu = proc_cpu_s(r->pid) - cpu0;
	char path[128];
	snprintf(path, sizeof path, "/ctl/dump?from=%ld&to=%ld", r->base, r->base + r->n);
	if (http_call(&r->ctl, "GET", path, NULL, "", 0) != 200)
		die("sink: /ctl/dump failed");

	int64_t *lat = malloc((size_t)r->n * sizeof *lat), last = t0;
	long m = 0;
	if (!lat)
		die("out of memory");
	for (char *p = r->ctl.body.p; p && *p;) {
		char *e;
		long id = strtol(p, &e, 10);
		long long at = strtoll(e, &e, 10);
		if (id >= r->base && id < r->base + r->n && r->sent[id - r->base]) {
			lat[m++] = (int64_t)at - r->sent[id - r->base];
			if (at > last)
				last = at;
		}
		p = strchr(e, '\n');
		if (p)
			p++;
	}
	qsort(lat, (size_t)m, sizeof *lat, cmp_i64);
	double secs = (double)(last - t0) / 1e9;
	printf("alerts=%ld delivered=%ld secs=%.3f per_s=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f "
	       "max_ms=%.2f cpu_us=%.1f",
	       r->n, m, secs, secs > 0 ? (double)m / secs : 0, pct_ms(lat, m, 0.50), pct_ms(lat, m, 0.90),
	       pct_ms(lat, m, 0.99), m ? (double)lat[m - 1] / 1e6 : 0, m ? cpu * 1e6 / (double)m : 0);
	if (cmd_cpu >= 0)
		printf(" cmd_cpu_us=%.1f", m ? cmd_cpu * 1e6 / (double)m : 0);
	printf("\n");
	free(lat);
	if (m < r->n) {
		fprintf(stderr, "http_sink: only %ld of %ld alerts reached the sink in %.0f s\n", m, r->n,
		        r->timeout);
		return 1;
	}
	return 0;
}

/* The CEF line of alert i (id base + i): severity 7..10, so a rule on >= 7 takes all. */
static void cef_line(struct buf *b, long id)
{
	buf_printf(b,
	           "<132>Nov 23 09:00:00 fw%ld CEF:0|Fortinet|FortiGate|7.2|0419016384|Intrusion blocked|%ld|"
	           "src=10.0.%ld.%ld dst=10.0.0.9 spt=4431 dpt=443 act=blocked msg=" MARK "%ld\n",
	           id % 50, 7 + id % 4, (id / 250) % 250, id % 250 + 1, id);
}

static void run_tcp(struct run *r, int64_t t0)
{
	int fd = connect_port(r->dest_port);
	struct buf b = { 0 };

	if (r->rate <= 0) {
		/* everything, in writes of about 64 KiB; a line's send time is its write's */
		long i = 0;
		while (i < r->n) {
			long first = i;
			b.len = 0;
			while (i < r->n && b.len < 65536)
				cef_line(&b, r->base + i++);
			int64_t t = now_ns();
			for (long k = first; k < i; k++)
				r->sent[k] = t;
			write_all(fd, b.p, b.len);
		}
	} else {
		for (long i = 0; i < r->n;) {
			int64_t due = t0 + (int64_t)((double)i * 1e9 / r->rate);
			sleep_until(due);
			long first = i;
			int64_t t = now_ns();
			b.len = 0;
			while (i < r->n && t0 + (int64_t)((double)i * 1e9 / r->rate) <= t)
				cef_line(&b, r->base + i++);
			for (long k = first; k < i; k++)
				r->sent[k] = t;
			write_all(fd, b.p, b.len);
		}
	}
	free(b.p);
	/* keep the connection open until the end: a close is not part of the load */
	r->dest_fd = fd;
}

static void am_alert(struct buf *b, long id)
{
	buf_printf(b,
	           "{\"labels\":{\"alertname\":\"IntrusionBlocked\",\"id\":\"" MARK "%ld\","
	           "\"instance\":\"fw%ld\",\"severity\":\"%s\",\"src\":\"10.0.%ld.%ld\"},"
	           "\"annotations\":{\"summary\":\"Intrusion blocked " MARK "%ld\"}}",
	           id, id % 50, id % 4 >= 2 ? "critical" : "high", (id / 250) % 250, id % 250 + 1, id);
}

/* alertbridge's POST /api/v1/events: canonical events, severity high or
 * critical as the CEF lines (every one matches the bench's rule). */
static void ab_event(struct buf *b, long id)
{
	buf_printf(b,
	           "{\"type\":\"intrusion.blocked\",\"severity\":\"%s\",\"title\":\"Intrusion "
	           "blocked " MARK "%ld\",\"asset\":\"fw%ld\",\"tool\":\"bench\","
	           "\"fields\":{\"src\":\"10.0.%ld.%ld\"}}",
	           id % 4 >= 2 ? "critical" : "high", id, id % 50, (id / 250) % 250, id % 250 + 1);
}

/* BATCH alerts per POST to path over one keep-alive connection; an answer
 * other than want ends the run. */
static void run_post(struct run *r, int64_t t0, const char *path, const char *auth,
	void (*one)(struct buf *, long), int want)
{
	struct client c = { .fd = connect_port(r->dest_port), .auth = auth };
	struct buf b = { 0 };

	for (long i = 0; i < r->n;) {
		if (r->rate > 0)
			sleep_until(t0 + (int64_t)((double)i * 1e9 / r->rate));
		long first = i;
		int64_t t = now_ns();
		b.len = 0;
		buf_add(&b, "[", 1);
		while (i < r->n && i - first < r->batch &&
		       (r->rate <= 0 || t0 + (int64_t)((double)i * 1e9 / r->rate) <= t)) {
			if (i > first)
				buf_add(&b, ",", 1);
			one(&b, r->base + i++);
		}
		buf_add(&b, "]", 1);
		for (long k = first; k < i; k++)
			r->sent[k] = t;
		int code = http_call(&c, "POST", path, "application/json", b.p, b.len);
		if (code != want)
			die("%s answered %d: %.200s", path, code, c.body.p ? c.body.p : "");
	}
	close(c.fd);
	free(b.p);
	free(c.rest.p);
	free(c.body.p);
	free(c.req.p);
}

static double run_cmd(struct run *r, int64_t t0)
{
	pid_t pid = fork();
	int st;
	struct rusage ru;

	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, STDOUT_FILENO); /* our stdout is the result line */
		execvp(r->cmd[0], r->cmd);
		fprintf(stderr, "http_sink: %s: %s\n", r->cmd[0], strerror(errno));
		_exit(127);
	}
	for (long k = 0; k < r->n; k++)
		r->sent[k] = t0;
	if (wait4(pid, &st, 0, &ru) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die("%s failed", r->cmd[0]);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int cmd_run(const char *mode, int argc, char **argv)
{
	struct run r = { .batch = 100, .timeout = 600 };
	int o;

	while ((o = getopt(argc, argv, "+s:d:n:b:r:B:p:T:")) != -1) {
		switch (o) {
		case 's': r.sink_port = atoi(optarg); break;
		case 'd': r.dest_port = atoi(optarg); break;
		case 'n': r.n = strtol(optarg, NULL, 10); break;
		case 'b': r.base = strtol(optarg, NULL, 10); break;
		case 'r': r.rate = atof(optarg); break;
		case 'B': r.batch = atoi(optarg); break;
		case 'p': r.pid = (pid_t)atoi(optarg); break;
		case 'T': r.timeout = atof(optarg); break;
		default: return 64;
		}
	}
	int is_cmd = !strcmp(mode, "cmd");
	if (r.sink_port <= 0 || r.n < 1 || r.base < 0 || r.batch < 1 || (!is_cmd && r.dest_port <= 0) ||
	    (is_cmd && optind >= argc))
		return 64;
	r.cmd = argv + optind;
	if (!(r.sent = calloc((size_t)r.n, sizeof *r.sent)))
		die("out of memory");
	r.ctl.fd = connect_port(r.sink_port);
	signal(SIGPIPE, SIG_IGN);

	double cpu0 = proc_cpu_s(r.pid), cmd_cpu = -1;
	int64_t t0 = now_ns();
	if (!strcmp(mode, "tcp"))
		run_tcp(&r, t0);
	else if (!strcmp(mode, "am"))
		run_post(&r, t0, "/api/v2/alerts", NULL, am_alert, 200);
	else if (!strcmp(mode, "http"))
		run_post(&r, t0, "/api/v1/events", "Bearer bench-token", ab_event, 202);
	else
		cmd_cpu = run_cmd(&r, t0);
	int rc = finish(&r, t0, cpu0, cmd_cpu);
	if (!strcmp(mode, "tcp"))
		close(r.dest_fd);
	close(r.ctl.fd);
	free(r.sent);
	free(r.ctl.rest.p);
	free(r.ctl.body.p);
	free(r.ctl.req.p);
	return rc;
}

static int cmd_lines(int argc, char **argv)
{
	long n = 0, base = 0;
	int o;
	struct buf b = { 0 };

	while ((o = getopt(argc, argv, "n:b:")) != -1) {
		if (o == 'n')
			n = strtol(optarg, NULL, 10);
		else if (o == 'b')
			base = strtol(optarg, NULL, 10);
		else
			return 64;
	}
	if (n < 1 || base < 0)
		return 64;
	for (long i = 0; i < n; i++) {
		b.len = 0;
		cef_line(&b, base + i);
		fwrite(b.p, 1, b.len, stdout);
	}
	free(b.p);
	return fflush(stdout) ? 1 : 0;
}

int main(int argc, char **argv)
{
	int rc = 64;

	if (argc >= 2) {
		const char *mode = argv[1];
		if (!strcmp(mode, "serve"))
			rc = cmd_serve(argc - 1, argv + 1);
		else if (!strcmp(mode, "ceiling"))
			rc = cmd_ceiling(argc - 1, argv + 1);
		else if (!strcmp(mode, "lines"))
			rc = cmd_lines(argc - 1, argv + 1);
		else if (!strcmp(mode, "tcp") || !strcmp(mode, "am") || !strcmp(mode, "http") ||
		         !strcmp(mode, "cmd"))
			rc = cmd_run(mode, argc - 1, argv + 1);
	}
	if (rc == 64)
		fprintf(stderr, "usage: http_sink serve -P PORTFILE [-n MAXID]\n"
		                "       http_sink ceiling -s SINKPORT [-c CONNS] [-t SECONDS] [-z BYTES]\n"
		                "       http_sink tcp|am|http -s SINKPORT -d PORT -n COUNT [-b BASE] [-r RATE]"
		                " [-B BATCH] [-p PID] [-T SECONDS]\n"
		                "       http_sink lines -n COUNT [-b BASE]\n"
		                "       http_sink cmd -s SINKPORT -n COUNT [-b BASE] [-p PID] [-T SECONDS]"
		                " -- COMMAND ARGS...\n");
	return rc;
}
