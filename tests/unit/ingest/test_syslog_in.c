/*
 * test_syslog_in.c - unit tests for the syslog input pieces that can be
 * tested alone: source selection and line processing (syslog_source.c),
 * the store's group commit (ab_store_begin/commit/rollback), and the
 * listeners themselves (syslog_in.c) run in-process on loopback with a
 * private store: TCP (octet counting and LF), UDP, unix datagram,
 * truncation, a broken octet count, max_connections, idle_timeout, and
 * backpressure (high_water pauses TCP, UDP drops are counted).
 *
 * Waits are bounded polls of the status file; nothing asserts a duration.
 * Diagnostics: cmocka assertions.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "lib/buf.h"
#include "config/config.h"
#include "deliver/plugin.h"
#include "deliver/runtime.h"
#include "store/store.h"
#include "config/config_syslog.h"
#include "ingest/syslog_in.h"
#include "ingest/spool.h"
#include "ingest/syslog_source.h"
#include "parse/syslog.h"
#include "store/journal.h"
#include "../harness/testutil.h"
#include "lib/util.h"

static char *dir;

static int setup(void **state)
{
	(void)state;
	dir = tu_tmpdir();
	return dir ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	tu_rm_rf(dir);
	free(dir);
	return 0;
}

static struct ab_config *load_text(const char *name, const char *body)
{
	char *path = tu_path(dir, name), text[8192], *errors = NULL;
	struct ab_config *cfg;

	snprintf(text, sizeof text, "state_dir = \"%s/%s.d\";\n%s", dir, name, body);
	assert_int_equal(tu_write(path, text), 0);
	cfg = ab_config_load(path, &errors);
	if (!cfg)
		print_message("# %s\n", errors);
	free(errors);
	free(path);
	assert_non_null(cfg);
	assert_int_equal(ab_mkdir_p(cfg->state_dir, 0755), 0);
	return cfg;
}

/* ------------------------------------------------------------ sources */

static const char sources_conf[] =
	"profiles = ( { name = \"wazuh\"; fallback = { tool = \"wazuh\"; }; } );\n"
	"syslog = { listeners = ( { name = \"tcp\"; proto = \"tcp\"; address = \"127.0.0.1:1\"; },\n"
	"  { name = \"udp\"; proto = \"udp\"; address = \"127.0.0.1:1\"; } );\n"
	"  sources = (\n"
	"    { name = \"cron\"; apps = [\"CRON\"]; drop = true; },\n"
	"    { name = \"auth\"; facilities = [\"auth\", \"authpriv\"]; listeners = [\"tcp\"]; },\n"
	"    { name = \"siem\"; hosts = [\"siem-*\"]; profile = \"wazuh\"; },\n"
	"    { name = \"sqli\"; regex = \"(?i)sql\\\\s+injection\"; }\n"
	"  ); };\n";

static int process(const struct ab_config *cfg, const char *listener, const char *line,
	const struct ab_syslog_source_conf **src, struct ab_event **out)
{
	struct ab_event *ev = ab_event_new();
	char err[128];
	int r;

	assert_non_null(ev);
	r = ab_syslog_process(cfg->syslog, cfg->mail, NULL, listener, "192.0.2.7", line,
		strlen(line), false, 1700000000000LL, 0, ev, src, NULL, NULL, err, sizeof err);
	*out = ev;
	return r;
}

static void test_select(void **state)
{
	struct ab_config *cfg = load_text("src.conf", sources_conf);
	const struct ab_syslog_source_conf *src;
	struct ab_event *ev;

	(void)state;
	/* app-name CRON: dropped by its source */
	assert_int_equal(process(cfg, "tcp", "<78>Nov 23 09:00:00 web1 CRON[12]: (root) CMD x",
		&src, &ev), 0);
	assert_non_null(src);
	assert_string_equal(src->name, "cron");
	ab_event_free(ev);
	/* auth facility (4) over tcp */
	assert_int_equal(process(cfg, "tcp", "<34>1 2026-11-23T09:00:00Z web1 sshd 1 - - "
		"Failed password", &src, &ev), 1);
	assert_string_equal(src->name, "auth");
	assert_string_equal(ev->source, "auth");
	assert_string_equal(json_string_value(json_object_get(ev->fields, "syslog.source")), "auth");
	assert_string_equal(json_string_value(json_object_get(ev->fields, "syslog.listener")), "tcp");
	ab_event_free(ev);
	/* the same line over udp: 'auth' is for tcp only, no other source takes it */
	assert_int_equal(process(cfg, "udp", "<34>1 2026-11-23T09:00:00Z web1 sshd 1 - - "
		"Failed password", &src, &ev), 1);
	assert_null(src);
	assert_string_equal(ev->source, "syslog");
	ab_event_free(ev);
	/* host glob; the profile hook records the profile */
	assert_int_equal(process(cfg, "udp", "<134>1 2026-11-23T09:00:00Z siem-01 ossec - - - "
		"alert", &src, &ev), 1);
	assert_string_equal(src->name, "siem");
	assert_string_equal(json_string_value(json_object_get(ev->fields, "syslog.profile")),
		"wazuh");
	ab_event_free(ev);
	/* regex over the line */
	assert_int_equal(process(cfg, NULL, "<134>Nov 23 09:00:00 waf1 modsec: SQL  Injection "
		"attempt", &src, &ev), 1);
	assert_string_equal(src->name, "sqli");
	ab_event_free(ev);
	/* the CLI (no listener) never matches listener-restricted sources */
	assert_int_equal(process(cfg, NULL, "<34>1 2026-11-23T09:00:00Z web1 sshd 1 - - "
		"Failed password", &src, &ev), 1);
	assert_null(src);
	ab_event_free(ev);
	ab_config_free(cfg);
}

static void test_process_marks(void **state)
{
	struct ab_event *ev = ab_event_new();
	char err[128];

	(void)state;
	assert_int_equal(ab_syslog_process(NULL, NULL, NULL, "tcp", NULL, "<13>hello", 9, true, 1, 0,
		ev, NULL, NULL, NULL, err, sizeof err), 1);
	assert_true(json_is_true(json_object_get(ev->fields, "syslog.truncated")));
	assert_string_equal(ev->source, "syslog");
	assert_int_equal(ev->received_at, 1);
	ab_event_free(ev);
}

/* With a view and AB_SYSLOG_FIELDS_LATER, the payload's fields wait while
 * nothing needs them (2); a profile, or detection that reads fields,
 * makes them first (1); adding them later gives the whole event. */
static void test_process_later(void **state)
{
	static const char cef[] = "<132>Nov 23 09:00:00 fw1 CEF:0|Acme|Box|1|7|Blocked|9|act=deny";
	static const char siem[] = "<134>1 2026-11-23T09:00:00Z siem-01 ossec - - [a@1 b=\"c\"] "
		"alert";
	static const char detect_conf[] =
		"profiles = ( { name = \"acme\"; fallback = { tool = \"acme\"; };\n"
		"  detect = { payload = [\"cef\"]; field = [\"cef.product: ^Box$\"]; }; },\n"
		"  { name = \"leefy\"; detect = { payload = [\"leef\"]; field = [\"leef.vendor: .\"]; }; },\n"
		"  { name = \"web\"; detect = { field = [\"syslog.appname: ^nginx$\"]; }; } );\n";
	static const char other[] = "<132>Nov 23 09:00:00 fw1 CEF:0|Other|Thing|1|7|Seen|3|act=x";
	static const char sd_line[] = "<13>1 2026-11-23T09:00:00Z h app - - [a@1 b=\"c\"] hi";
	struct ab_config *cfg = load_text("later.conf", sources_conf);
	struct ab_config *dcfg = load_text("later-detect.conf", detect_conf);
	struct ab_syslog_view *v = malloc(sizeof *v);
	struct ab_event *ev = ab_event_new(), *whole = ab_event_new();
	char err[128], *a, *b;

	(void)state;
	assert_non_null(v);
	assert_int_equal(ab_syslog_process(cfg->syslog, cfg->mail, NULL, "tcp", "192.0.2.7", cef,
		strlen(cef), false, 1, AB_SYSLOG_FIELDS_LATER, ev, NULL, NULL, v, err, sizeof err), 2);
	assert_string_equal(ev->title, "Blocked");
	assert_int_equal(ev->severity, AB_SEV_CRITICAL);
	assert_null(json_object_get(ev->fields, "cef.act"));
	assert_string_equal(json_string_value(json_object_get(ev->fields, "syslog.listener")), "tcp");
	assert_int_equal(ab_syslog_view_fields(v, ev), 0);
	assert_int_equal(ab_syslog_process(cfg->syslog, cfg->mail, NULL, "tcp", "192.0.2.7", cef,
		strlen(cef), false, 1, 0, whole, NULL, NULL, NULL, err, sizeof err), 1);
	a = ab_event_dumps(ev);
	b = ab_event_dumps(whole);
	assert_string_equal(a, b);
	free(a);
	free(b);
	ab_event_free(ev);
	/* a source with a profile: the profile reads the fields, so they come now */
	ev = ab_event_new();
	assert_int_equal(ab_syslog_process(cfg->syslog, cfg->mail, NULL, "udp", "192.0.2.7", siem,
		strlen(siem), false, 1, AB_SYSLOG_FIELDS_LATER, ev, NULL, NULL, v, err, sizeof err), 1);
	assert_string_equal(json_string_value(json_object_get(ev->fields, "sd.a@1.b")), "c");
	assert_string_equal(ev->tool, "wazuh");
	ab_event_free(ev);
	/* JSON is decoded whole */
	ev = ab_event_new();
	assert_int_equal(ab_syslog_process(NULL, NULL, NULL, "tcp", NULL, "<13>app: {\"k\":1}", 16,
		false, 1, AB_SYSLOG_FIELDS_LATER, ev, NULL, NULL, v, err, sizeof err), 1);
	assert_int_equal(json_integer_value(json_object_get(ev->fields, "json.k")), 1);
	ab_event_free(ev);
	/* detection that reads a field: made before it, and the profile found */
	ev = ab_event_new();
	assert_int_equal(ab_syslog_process(NULL, dcfg->mail, NULL, "tcp", NULL, cef, strlen(cef),
		false, 1, AB_SYSLOG_FIELDS_LATER, ev, NULL, NULL, v, err, sizeof err), 1);
	assert_string_equal(json_string_value(json_object_get(ev->fields, "cef.act")), "deny");
	assert_string_equal(json_string_value(json_object_get(ev->fields, "syslog.profile")),
		"acme");
	ab_event_free(ev);
	/* an RFC 5424 line reaches no alternative that reads a payload field
	 * (acme wants CEF, leefy LEEF; web reads syslog.appname, which is
	 * there): its fields wait */
	ev = ab_event_new();
	assert_int_equal(ab_syslog_process(NULL, dcfg->mail, NULL, "tcp", NULL,
		sd_line, strlen(sd_line), false, 1,
		AB_SYSLOG_FIELDS_LATER, ev, NULL, NULL, v, err, sizeof err), 2);
	assert_null(json_object_get(ev->fields, "sd.a@1.b"));
	assert_int_equal(ab_syslog_view_fields(v, ev), 0);
	assert_string_equal(json_string_value(json_object_get(ev->fields, "sd.a@1.b")), "c");
	ab_event_free(ev);
	/* a CEF line: acme's condition reads cef.product, so the fields are
	 * made to look, and it does not hold */
	ev = ab_event_new();
	assert_int_equal(ab_syslog_process(NULL, dcfg->mail, NULL, "tcp", NULL, other,
		strlen(other), false, 1, AB_SYSLOG_FIELDS_LATER, ev, NULL, NULL, v, err, sizeof err),
		1);
	assert_string_equal(json_string_value(json_object_get(ev->fields, "cef.act")), "x");
	assert_null(json_object_get(ev->fields, "syslog.profile"));
	ab_event_free(ev);
	/* no sources and no detection: the header's fields wait too */
	ev = ab_event_new();
	assert_int_equal(ab_syslog_process(NULL, NULL, NULL, "tcp", NULL, cef, strlen(cef), false,
		1, AB_SYSLOG_FIELDS_LATER, ev, NULL, NULL, v, err, sizeof err), 2);
	assert_null(json_object_get(ev->fields, "syslog.facility"));
	assert_null(json_object_get(ev->fields, "syslog.payload"));
	assert_null(json_object_get(ev->fields, "syslog.listener"));   /* a header field */
	assert_true(ab_syslog_later_key("syslog.listener"));   /* a rule on it: made first */
	assert_int_equal(ev->severity, AB_SEV_CRITICAL);
	assert_int_equal(ab_syslog_view_fields(v, ev), 0);
	assert_string_equal(json_string_value(json_object_get(ev->fields, "syslog.listener")), "tcp");
	assert_int_equal(json_integer_value(json_object_get(ev->fields, "syslog.facility")), 16);
	assert_string_equal(json_string_value(json_object_get(ev->fields, "syslog.payload")), "cef");
	assert_string_equal(json_string_value(json_object_get(ev->fields, "cef.act")), "deny");
	ab_event_free(ev);
	/* detection without header conditions: the app and the payload read
	 * from the view, the header's fields wait for a line it does not take */
	{
		struct ab_config *acfg = load_text("later-app.conf",
			"profiles = ( { name = \"sshy\"; detect = { app = [\"sshd\"]; };\n"
			"  fallback = { tool = \"sshy\"; }; },\n"
			"  { name = \"cefy\"; detect = { payload = [\"cef\"]; app = [\"fw*\"]; };\n"
			"  fallback = { tool = \"cefy\"; }; } );\n");
		static const char ssh[] = "<38>Nov 23 09:00:00 h sshd[7]: Failed password";
		static const char web[] = "<13>Nov 23 09:00:00 h nginx: GET /";
		static const char fw[] = "<132>Nov 23 09:00:00 h fw1: CEF:0|A|B|1|7|Seen|3|act=x";

		ev = ab_event_new();
		assert_int_equal(ab_syslog_process(NULL, acfg->mail, NULL, "tcp", NULL, ssh,
			strlen(ssh), false, 1, AB_SYSLOG_FIELDS_LATER, ev, NULL, NULL, v, err,
			sizeof err), 1);
		assert_string_equal(ev->tool, "sshy");
		assert_string_equal(json_string_value(json_object_get(ev->fields,
			"syslog.appname")), "sshd");
		ab_event_free(ev);
		ev = ab_event_new();
		assert_int_equal(ab_syslog_process(NULL, acfg->mail, NULL, "tcp", NULL, fw,
			strlen(fw), false, 1, AB_SYSLOG_FIELDS_LATER, ev, NULL, NULL, v, err,
			sizeof err), 1);
		assert_string_equal(ev->tool, "cefy");
		ab_event_free(ev);
		ev = ab_event_new();
		assert_int_equal(ab_syslog_process(NULL, acfg->mail, NULL, "tcp", NULL, web,
			strlen(web), false, 1, AB_SYSLOG_FIELDS_LATER, ev, NULL, NULL, v, err,
			sizeof err), 2);
		assert_null(json_object_get(ev->fields, "syslog.appname"));
		assert_null(json_object_get(ev->fields, "syslog.profile"));
		assert_int_equal(ab_syslog_view_fields(v, ev), 0);
		assert_string_equal(json_string_value(json_object_get(ev->fields,
			"syslog.appname")), "nginx");
		ab_event_free(ev);
		ab_config_free(acfg);
	}
	/* without a view the flag does nothing */
	ev = ab_event_new();
	assert_int_equal(ab_syslog_process(NULL, NULL, NULL, "tcp", NULL, cef, strlen(cef), false,
		1, AB_SYSLOG_FIELDS_LATER, ev, NULL, NULL, NULL, err, sizeof err), 1);
	assert_string_equal(json_string_value(json_object_get(ev->fields, "cef.act")), "deny");
	ab_event_free(ev);
	ab_event_free(whole);
	free(v);
	ab_config_free(cfg);
	ab_config_free(dcfg);
}

/* ------------------------------------------------------------ group commit */

static int64_t count_rows(const char *db, const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	int64_t n = -1;

	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return n;
}

static struct ab_event *mkev(int i)
{
	struct ab_event *ev = ab_event_new();
	char t[32];

	snprintf(t, sizeof t, "event %d", i);
	ab_event_set_str(ev, &ev->title, t);
	ab_event_ensure_id(ev);
	return ev;
}

static void test_group_commit(void **state)
{
	char *db = tu_path(dir, "gc.db"), err[256];
	struct ab_store *st = ab_store_open(db, err, sizeof err);
	const char *ch[] = { "a" }, *bad[] = { "" };
	struct ab_event *ev[4];

	(void)state;
	assert_non_null(st);
	for (int i = 0; i < 4; i++)
		ev[i] = mkev(i);
	assert_int_equal(ab_store_begin(st), 0);
	assert_int_equal(ab_store_begin(st), -1);   /* one batch at a time */
	for (int i = 0; i < 3; i++)
		assert_int_equal(ab_store_enqueue(st, ev[i], ch, 1, 1, NULL), 0);
	assert_int_equal(ab_store_commit(st), 0);
	assert_int_equal(count_rows(db, "SELECT COUNT(*) FROM events"), 3);
	assert_int_equal(ab_store_count(st, AB_JOB_QUEUED), 3);
	/* rollback: nothing of the batch stays */
	assert_int_equal(ab_store_begin(st), 0);
	assert_int_equal(ab_store_enqueue(st, ev[3], ch, 1, 1, NULL), 0);
	ab_store_rollback(st);
	assert_int_equal(count_rows(db, "SELECT COUNT(*) FROM events"), 3);
	/* a failing enqueue inside a batch rolls the whole batch back */
	assert_int_equal(ab_store_begin(st), 0);
	assert_int_equal(ab_store_enqueue(st, ev[3], ch, 1, 1, NULL), 0);
	assert_int_equal(ab_store_enqueue(st, ev[3], bad, 1, 1, NULL), -1);
	assert_int_equal(ab_store_enqueue(st, ev[3], ch, 1, 1, NULL), -1);
	assert_int_equal(ab_store_commit(st), -1);
	assert_int_equal(count_rows(db, "SELECT COUNT(*) FROM events"), 3);
	assert_int_equal(ab_store_commit(st), -1);   /* no batch open */
	/* and the connection works normally afterwards */
	assert_int_equal(ab_store_enqueue(st, ev[3], ch, 1, 1, NULL), 0);
	assert_int_equal(count_rows(db, "SELECT COUNT(*) FROM events"), 4);
	for (int i = 0; i < 4; i++)
		ab_event_free(ev[i]);
	ab_store_close(st);
	free(db);
}

/* ------------------------------------------------------------ listeners */

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static int tcp_connect(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	return fd;
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		assert_true(w > 0);
		p += w;
		n -= (size_t)w;
	}
}

static void udp_send(int port, const char *msg)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_int_equal(sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&a, sizeof a),
		(ssize_t)strlen(msg));
	close(fd);
}

static void unix_send(const char *path, const char *msg)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	ab_strlcpy(a.sun_path, path, sizeof a.sun_path);
	assert_int_equal(sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&a, sizeof a),
		(ssize_t)strlen(msg));
	close(fd);
}

/* A counter from the status file, "journal.stored" for one of an object
 * in it (-1 when unreadable). */
static long long stat_get(const char *path, const char *key)
{
	json_t *j = json_load_file(path, 0, NULL), *v;
	const char *dot = strchr(key, '.');
	long long n = -1;

	v = dot ? json_object_get(json_object_getn(j, key, (size_t)(dot - key)), dot + 1) :
		json_object_get(j, key);
	if (json_is_integer(v))
		n = json_integer_value(v);
	else if (json_is_boolean(v))
		n = json_is_true(v);
	json_decref(j);
	return n;
}

/* Poll (bounded: 20 s) until the status counter reaches want. */
static bool wait_stat(const char *path, const char *key, long long want)
{
	for (int i = 0; i < 400; i++) {
		if (stat_get(path, key) >= want)
			return true;
		usleep(50 * 1000);
	}
	print_message("# %s: %s = %lld, want %lld\n", path, key, stat_get(path, key), want);
	return false;
}

/* Poll (bounded: 20 s) until the peer closes the connection. */
static bool wait_closed(int fd)
{
	struct timeval tv = { .tv_sec = 20 };
	char c;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	return recv(fd, &c, 1, 0) <= 0;
}

struct rig {
	struct ab_runtime *rt;
	struct ab_syslog_in *in;
	char status[512];
	char store[512];
	int port;
	char sock[256];
};

/* routing: NULL for a (disabled) default channel that every line routes
 * to, so it is kept (lines that route nowhere are only counted, never
 * written, and most tests count the store's rows); else rules that send
 * to the channel "off". */
static void rig_start_routed(struct rig *r, const char *name, const char *extra_listener_opts,
	int high_water, const char *routing)
{
	char body[4096], err[512], *errors = NULL;
	struct ab_config *cfg;

	r->port = free_port();
	snprintf(r->sock, sizeof r->sock, "%s/%s.sock", dir, name);
	snprintf(body, sizeof body,
		"channels = ( { name = \"off\"; type = \"file\"; path = \"x.jsonl\"; "
		"enabled = false; } );\n%s\n"
		"syslog = { high_water = %d; listeners = (\n"
		" { name = \"tcp\"; proto = \"tcp\"; address = \"127.0.0.1:%d\"; %s },\n"
		" { name = \"udp\"; proto = \"udp\"; address = \"127.0.0.1:%d\"; max_message = 1024; },\n"
		" { name = \"local\"; proto = \"unix\"; address = \"%s\"; } ); };\n",
		routing ? routing : "default = [\"off\"];", high_water, r->port, extra_listener_opts,
		r->port, r->sock);
	cfg = load_text(name, body);
	snprintf(r->status, sizeof r->status, "%s/syslog.status", cfg->state_dir);
	snprintf(r->store, sizeof r->store, "%s", cfg->store_path);
	r->rt = ab_runtime_build(cfg, NULL, &errors);
	assert_non_null(r->rt);
	r->in = ab_syslog_in_open(r->rt->cfg, err, sizeof err);
	if (!r->in)
		print_message("# %s\n", err);
	assert_non_null(r->in);
	assert_int_equal(ab_syslog_in_start(r->in, r->rt, r->rt->cfg->store_path, NULL, NULL, err,
		sizeof err), 0);
}

static void rig_start(struct rig *r, const char *name, const char *extra_listener_opts,
	int high_water)
{
	rig_start_routed(r, name, extra_listener_opts, high_water, NULL);
}

static void rig_stop(struct rig *r)
{
	ab_syslog_in_stop(r->in);
	ab_runtime_unref(r->rt);
}

static void test_listeners(void **state)
{
	struct rig r;
	char line[256], *big;
	int a, b, c;

	(void)state;
	rig_start(&r, "lsn", "max_message = 1024;", 0);
	/* octet counting */
	a = tcp_connect(r.port);
	for (int i = 0; i < 50; i++) {
		char msg[128];
		int n = snprintf(msg, sizeof msg, "<13>1 2026-11-23T09:00:00Z h app - - - octet %d", i);
		int m = snprintf(line, sizeof line, "%d %s", n, msg);
		send_all(a, line, (size_t)m);
	}
	/* LF framing, and one 100 KiB line that must be truncated at 1024 */
	b = tcp_connect(r.port);
	for (int i = 0; i < 50; i++) {
		int m = snprintf(line, sizeof line, "<13>Nov 23 09:00:00 h app: lf %d\n", i);
		send_all(b, line, (size_t)m);
	}
	big = malloc(100 * 1024 + 2);
	memset(big, 'A', 100 * 1024);
	memcpy(big, "<13>big ", 8);
	big[100 * 1024] = '\n';
	send_all(b, big, 100 * 1024 + 1);
	free(big);
	/* an absurd octet count closes that connection */
	c = tcp_connect(r.port);
	send_all(c, "99999999999 <13>x", 17);
	assert_true(wait_closed(c));
	close(c);
	for (int i = 0; i < 10; i++) {
		snprintf(line, sizeof line, "<13>Nov 23 09:00:00 h app: udp %d", i);
		udp_send(r.port, line);
	}
	for (int i = 0; i < 5; i++) {
		snprintf(line, sizeof line, "<13>Nov 23 09:00:00 h app: unix %d", i);
		unix_send(r.sock, line);
	}
	assert_true(wait_stat(r.status, "received", 116));
	assert_int_equal(stat_get(r.status, "framing_errors"), 1);
	assert_int_equal(stat_get(r.status, "truncated"), 1);
	close(a);
	close(b);
	rig_stop(&r);
	assert_int_equal(count_rows(r.store, "SELECT COUNT(*) FROM events"), 116);
	assert_int_equal(count_rows(r.store, "SELECT COUNT(*) FROM events WHERE json LIKE "
		"'%\"syslog.truncated\":true%'"), 1);
	assert_int_equal(count_rows(r.store, "SELECT COUNT(*) FROM events WHERE json LIKE "
		"'%\"syslog.listener\":\"local\"%'"), 5);
	assert_int_equal(stat_get(r.status, "received"), 116);
}

/* lines over one TCP connection to r's listener, all received, then r
 * stopped (its store and status file stay to be read) */
static void send_lines_and_stop(struct rig *r, const char *const *lines, size_t n)
{
	int a = tcp_connect(r->port);

	for (size_t i = 0; i < n; i++)
		send_all(a, lines[i], strlen(lines[i]));
	assert_true(wait_stat(r->status, "received", (long long)n));
	close(a);
	rig_stop(r);
}

/* Lines routed on their members, their payload's fields made only for
 * those that go somewhere: the kept ones are whole (CEF extension and
 * label fields, RFC 5424 SD params, the listener's marks), the others are
 * counted and never written. */
static void test_routed_whole(void **state)
{
	static const char *const lines[] = {
		"<132>Nov 23 09:00:00 fw1 CEF:0|Fortinet|FortiGate|7.2|100|Intrusion blocked|9|"
		"act=blocked dst=10.0.0.9 cs1Label=policy cs1=deny-all msg=kept\n",
		"<132>Nov 23 09:00:00 fw1 CEF:0|Fortinet|FortiGate|7.2|100|Intrusion seen|3|"
		"act=allowed dst=10.0.0.9 msg=dropped\n",
		"<130>1 2026-11-23T09:00:00Z web1 nginx 42 ID7 [req@32473 ip=\"10.1.2.3\" "
		"code=\"403\"] kept too\n",
		"<134>1 2026-11-23T09:00:00Z web1 nginx 42 ID7 [req@32473 ip=\"10.1.2.4\"] info\n",
		"<130>Nov 23 09:00:00 fw1 LEEF:1.0|Trend|DS|1|4000000|cat=malware\tsev=9\tdst=h\n",
	};
	struct rig r;

	(void)state;
	rig_start_routed(&r, "whole", "", 0, "rules = ( { name = \"crit\"; "
		"min_severity = \"critical\"; channels = [\"off\"]; } );");
	send_lines_and_stop(&r, lines, sizeof lines / sizeof lines[0]);
	assert_int_equal(count_rows(r.store, "SELECT COUNT(*) FROM events"), 3);
	assert_int_equal(count_rows(r.store, "SELECT COUNT(*) FROM events WHERE "
		"json_extract(json, '$.fields.\"cef.act\"') = 'blocked' AND "
		"json_extract(json, '$.fields.\"cef.label.policy\"') = 'deny-all' AND "
		"json_extract(json, '$.fields.\"cef.vendor\"') = 'Fortinet' AND "
		"json_extract(json, '$.fields.\"syslog.listener\"') = 'tcp' AND "
		"json_extract(json, '$.summary') = 'kept'"), 1);
	assert_int_equal(count_rows(r.store, "SELECT COUNT(*) FROM events WHERE "
		"json_extract(json, '$.fields.\"sd.req@32473.ip\"') = '10.1.2.3' AND "
		"json_extract(json, '$.fields.\"sd.req@32473.code\"') = '403' AND "
		"json_extract(json, '$.fields.\"syslog.appname\"') = 'nginx'"), 1);
	assert_int_equal(count_rows(r.store, "SELECT COUNT(*) FROM events WHERE "
		"json_extract(json, '$.fields.\"leef.cat\"') = 'malware' AND "
		"json_extract(json, '$.fields.\"leef.vendor\"') = 'Trend'"), 1);
	assert_int_equal(count_rows(r.store, "SELECT COUNT(*) FROM events WHERE json LIKE "
		"'%dropped%' OR json LIKE '%10.1.2.4%'"), 0);
	assert_int_equal(stat_get(r.status, "journal.unrouted"), 2);
}

/* Lines a profile applies to, routed on the members it gives before the
 * rest of it is applied (the gate): a line whose profile makes it critical
 * is kept whole (the profile's title, fields and fallback, a field its
 * template read), the others are counted and never written. */
static void test_gated_by_profile(void **state)
{
	static const char *const lines[] = {
		"<13>Nov 23 09:00:00 h1 acme: level=boom owner=ops disk on fire\n",
		"<13>Nov 23 09:00:00 h1 acme: level=calm owner=ops all quiet\n",
		"<13>Nov 23 09:00:00 h1 acme: level=boom owner=dev fan on fire\n",
		"<13>Nov 23 09:00:00 h1 other: level=boom owner=ops not acme's\n",
	};
	struct rig r;

	(void)state;
	rig_start_routed(&r, "gated", "", 0,
		"profiles = ( { name = \"acme\"; detect = { app = [\"acme\"]; };\n"
		" extractors = ( { type = \"regex\"; on = \"text\"; pattern = "
		"\"level=(?<severity>\\\\w+) owner=(?<fields_owner>\\\\w+) (?<title>.+)\"; } );\n"
		" values = ( { target = \"severity\"; match = [\"boom\"];"
		" value = \"critical\"; } );\n"
		" fallback = { team = \"{fields.owner}\"; tool = \"acme\"; }; } );\n"
		"rules = ( { name = \"crit\"; min_severity = \"critical\"; teams = [\"ops\"];"
		" channels = [\"off\"]; } );");
	send_lines_and_stop(&r, lines, sizeof lines / sizeof lines[0]);
	assert_int_equal(count_rows(r.store, "SELECT COUNT(*) FROM events"), 1);
	assert_int_equal(count_rows(r.store, "SELECT COUNT(*) FROM events WHERE "
		"json_extract(json, '$.title') = 'disk on fire' AND "
		"json_extract(json, '$.severity') = 'critical' AND "
		"json_extract(json, '$.team') = 'ops' AND "
		"json_extract(json, '$.tool') = 'acme' AND "
		"json_extract(json, '$.fields.owner') = 'ops' AND "
		"json_extract(json, '$.fields.\"syslog.profile\"') = 'acme'"), 1);
	assert_int_equal(stat_get(r.status, "journal.unrouted"), 3);
}

/* A record in the journal as it is: head (format, routing time) and body. */
static void journal_put(struct ab_journal *jn, unsigned char format, const void *body,
	size_t n)
{
	unsigned char *rec = malloc(9 + n);
	struct ab_journal_rec jr;
	char err[256];

	assert_non_null(rec);
	rec[0] = format;
	for (int i = 0; i < 8; i++)
		rec[1 + i] = (unsigned char)((uint64_t)1700000000000LL >> (8 * i));
	memcpy(rec + 9, body, n);
	jr = (struct ab_journal_rec){ rec, (uint32_t)(9 + n), 0 };
	if (ab_journal_append(jn, &jr, 1, NULL, err, sizeof err) < 0)
		fail_msg("append: %s", err);
	free(rec);
}

/* The journal's record formats: the binary form written now, canonical
 * JSON that journals of earlier versions hold (a journal left by an
 * upgrade is moved as it is), and a record of no known format (skipped,
 * counted as corrupt, the others still moved). */
static void test_journal_formats(void **state)
{
	static const char json_ev[] = "{\"id\":\"0123456789abcdef0123456789abcdef\","
		"\"type\":\"syslog.message\",\"severity\":\"critical\",\"title\":\"from json\","
		"\"received_at\":\"2023-11-14T22:13:20Z\",\"origin\":{\"kind\":\"syslog\"},"
		"\"fields\":{\"cef.act\":\"deny\"}}";
	struct ab_config *cfg = load_text("formats", "");
	struct ab_journal_opts o = { .segment_size = AB_SPOOL_SEGMENT,
		.max_bytes = 8ull * AB_SPOOL_SEGMENT, .max_record = AB_SPOOL_RECORD_MAX };
	struct ab_event *ev = ab_event_new();
	struct ab_buf b = AB_BUF_INIT(1 << 20);
	struct ab_journal *jn;
	char jdir[4096], err[256];
	struct rig r;

	(void)state;
	assert_int_equal(ab_spool_dir(cfg->store_path, jdir, sizeof jdir), 0);
	assert_int_equal(ab_mkdir_p(jdir, 0750), 0);
	if (ab_journal_open(&jn, jdir, &o, NULL, err, sizeof err) < 0)
		fail_msg("journal: %s", err);
	journal_put(jn, 1, json_ev, strlen(json_ev));
	journal_put(jn, 9, "?", 1);
	ab_event_set_str(ev, &ev->title, "from binary");
	ev->severity = AB_SEV_CRITICAL;
	ab_event_set_str(ev, &ev->origin.kind, "syslog");
	ab_event_ensure_id(ev);
	assert_int_equal(ab_event_write_bin(ev, &b), 0);
	journal_put(jn, 2, b.data, b.len);
	ab_journal_close(jn);
	ab_config_free(cfg);
	ab_event_free(ev);
	ab_buf_free(&b);
	rig_start_routed(&r, "formats", "", 0, NULL);
	assert_true(wait_stat(r.status, "journal.stored", 2));
	rig_stop(&r);
	assert_int_equal(count_rows(r.store, "SELECT COUNT(*) FROM events WHERE "
		"json_extract(json, '$.title') = 'from json' AND "
		"json_extract(json, '$.fields.\"cef.act\"') = 'deny'"), 1);
	assert_int_equal(count_rows(r.store, "SELECT COUNT(*) FROM events WHERE "
		"json_extract(json, '$.title') = 'from binary'"), 1);
	assert_int_equal(stat_get(r.status, "journal.corrupt"), 1);
}

static void test_limits(void **state)
{
	struct rig r;
	int a, b;

	(void)state;
	/* max_connections: the second connection is closed at once */
	rig_start(&r, "lim", "max_connections = 1;", 0);
	a = tcp_connect(r.port);
	send_all(a, "<13>first\n", 10);
	assert_true(wait_stat(r.status, "received", 1));
	b = tcp_connect(r.port);
	assert_true(wait_closed(b));
	close(b);
	assert_true(wait_stat(r.status, "connections_rejected", 1));
	close(a);
	rig_stop(&r);
	/* idle_timeout: a silent connection is closed */
	rig_start(&r, "idle", "idle_timeout = \"1s\";", 0);
	a = tcp_connect(r.port);
	send_all(a, "<13>then silence\n", 17);
	assert_true(wait_closed(a));
	close(a);
	assert_true(wait_stat(r.status, "idle_closed", 1));
	assert_int_equal(stat_get(r.status, "received"), 1);
	rig_stop(&r);
}

static void test_backpressure(void **state)
{
	struct rig r;
	struct ab_store *st;
	const char *ch[] = { "elsewhere" };
	char err[256], line[128];
	int a;

	(void)state;
	rig_start(&r, "hw", "", 5);
	/* 10 queued jobs (no dispatcher runs): above high_water 5 */
	st = ab_store_open(r.store, err, sizeof err);
	assert_non_null(st);
	for (int i = 0; i < 10; i++) {
		struct ab_event *ev = mkev(100 + i);
		assert_int_equal(ab_store_enqueue(st, ev, ch, 1, 1, NULL), 0);
		ab_event_free(ev);
	}
	assert_true(wait_stat(r.status, "paused", 1));
	a = tcp_connect(r.port);
	for (int i = 0; i < 20; i++) {
		int m = snprintf(line, sizeof line, "<13>held back %d\n", i);
		send_all(a, line, (size_t)m);
	}
	for (int i = 0; i < 3; i++)
		udp_send(r.port, "<13>dropped while paused");
	assert_true(wait_stat(r.status, "udp_dropped", 3));
	/* TCP was not read while paused (the UDP drops above came later) */
	assert_int_equal(stat_get(r.status, "received"), 0);
	assert_int_equal(stat_get(r.status, "paused"), 1);
	for (int64_t id = 1; id <= 10; id++)
		assert_int_equal(ab_store_drop(st, id), 1);
	assert_true(wait_stat(r.status, "received", 20));
	assert_int_equal(stat_get(r.status, "paused"), 0);
	close(a);
	ab_store_close(st);
	rig_stop(&r);
	assert_int_equal(stat_get(r.status, "received"), 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_process_marks),
		cmocka_unit_test(test_process_later),
		cmocka_unit_test(test_group_commit),
		cmocka_unit_test(test_listeners),
		cmocka_unit_test(test_routed_whole),
		cmocka_unit_test(test_gated_by_profile),
		cmocka_unit_test(test_journal_formats),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_backpressure),
	};

	return cmocka_run_group_tests_name("syslog_in", tests, setup, teardown);
}
