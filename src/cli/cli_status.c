/*
 * cli_status.c - `alertbridge status [--json]`: one screen for the
 * operator.  The daemon (running or not, its pid, since when, the last
 * reload and whether it took), its inputs (milter socket, syslog
 * listeners, HTTP address) with the events each took, the queue (depth
 * per state and the oldest queued job's age, per channel), each channel's
 * health (healthy / failing since, failures, the last error; paused by
 * the daemon's circuit breaker), and the
 * store (size on disk, free space against min_free_mb).
 *
 * The daemon's side comes from state_dir/daemon.status, which it rewrites
 * every 5 s (alertbridged.c); the rest from the store and the file system,
 * the same figures /metrics shows.
 *
 * Public: ab_cli_status (cli.h).
 * Diagnostics: stderr; EX_CONFIG, EX_CANTCREAT, EX_IOERR as the other
 * commands.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sysexits.h>

#include <jansson.h>

#include "lib/diskroom.h"
#include "lib/util.h"
#include "ingest/spool.h"
#include "config/config.h"
#include "store/store.h"
#include "cli/cli.h"

#define STATUS_STALE_MS 20000   /* the daemon rewrites its file every 5 s */
#define STATUS_FILE_MAX (256 * 1024)

static uint64_t file_bytes(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) ? (uint64_t)sb.st_size : 0;
}

/* The regular files directly in dir, in bytes. */
static uint64_t dir_bytes(const char *dir)
{
	char p[4352];
	uint64_t n = 0;
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' &&
		    snprintf(p, sizeof p, "%s/%s", dir, e->d_name) < (int)sizeof p)
			n += file_bytes(p);
	closedir(d);
	return n;
}

static double mib(uint64_t b)
{
	return (double)b / (1024.0 * 1024.0);
}

/* "3d 4h", "2h 5m", "4m 10s", "12s" */
static void age(int64_t ms, char *out, size_t outsz)
{
	int64_t s = ms < 0 ? 0 : ms / 1000;

	if (s >= 86400)
		snprintf(out, outsz, "%lldd %lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
	else if (s >= 3600)
		snprintf(out, outsz, "%lldh %lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(out, outsz, "%lldm %llds", (long long)(s / 60), (long long)(s % 60));
	else
		snprintf(out, outsz, "%llds", (long long)s);
}

static json_t *time_json_or_null(int64_t ms)
{
	char t[40];

	if (!ms)
		return json_null();
	ab_time_format_rfc3339(ms, t, sizeof t);
	return json_string(t);
}

/* ---- the daemon's file */

/* daemon.status parsed, with "running" added (its pid is alive and the
 * file is fresh); NULL when there is no file (never started here). */
static json_t *daemon_status(const struct ab_config *cfg, int64_t now)
{
	char *path = ab_config_path(cfg, "daemon.status"), *text;
	size_t len;
	json_t *j = NULL;
	int64_t upd = 0;
	json_int_t pid;
	bool alive;

	text = path ? ab_read_file(path, STATUS_FILE_MAX, &len) : NULL;
	free(path);
	if (text)
		j = json_loadb(text, len, 0, NULL);
	free(text);
	if (!json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	pid = json_integer_value(json_object_get(j, "pid"));
	alive = pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
	if (json_is_string(json_object_get(j, "updated_at")))
		ab_time_parse_rfc3339(json_string_value(json_object_get(j, "updated_at")), &upd);
	json_object_set_new(j, "running", json_boolean(alive && now - upd < STATUS_STALE_MS));
	return j;
}

static const char *jstr(const json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));

	return s ? s : "";
}

static long long jint(const json_t *j, const char *key)
{
	return (long long)json_integer_value(json_object_get(j, key));
}

static void print_daemon(const json_t *d, int64_t now)
{
	const json_t *in, *lr, *ev, *ls, *l;
	int64_t started = 0;
	char up[32];
	size_t i;

	if (!d) {
		printf("daemon: not running here (no daemon.status in the state directory yet)\n");
		return;
	}
	ab_time_parse_rfc3339(jstr(d, "started_at"), &started);
	age(now - started, up, sizeof up);
	if (json_is_true(json_object_get(d, "running")))
		printf("daemon: running, pid %lld, up %s (since %s), version %s\n", jint(d, "pid"), up,
			jstr(d, "started_at"), jstr(d, "version"));
	else
		printf("daemon: NOT RUNNING (last seen %s, pid %lld)\n", jstr(d, "updated_at"),
			jint(d, "pid"));
	lr = json_object_get(d, "last_reload");
	if (json_is_object(lr))
		printf("last reload: %s, %s%s%s (%lld taken, %lld refused since the start)\n",
			jstr(lr, "at"), json_is_true(json_object_get(lr, "ok")) ? "taken" :
			"REFUSED, the previous configuration runs", json_is_true(json_object_get(lr,
			"ok")) ? "" : ": ", jstr(lr, "error"), jint(d, "reloads"),
			jint(d, "reload_failures"));
	else
		printf("last reload: none since the start\n");
	in = json_object_get(d, "inputs");
	ev = json_object_get(d, "events_received");
	printf("inputs:\n");
	if ((l = json_object_get(in, "milter")))
		printf("  milter  %s: %lld sessions, %lld alert mails taken\n", jstr(l, "socket"),
			jint(l, "sessions"), jint(l, "alerts"));
	if ((l = json_object_get(in, "syslog"))) {
		printf("  syslog ");
		ls = json_object_get(l, "listeners");
		json_array_foreach(ls, i, lr)
			printf("%s %s %s (%s)", i ? "," : "", jstr(lr, "proto"), jstr(lr, "address"),
				jstr(lr, "name"));
		printf(": %lld lines received, %lld events stored\n", jint(l, "received"),
			jint(ev, "syslog"));
	}
	if ((l = json_object_get(in, "http")))
		printf("  http    %s%s: %lld events, %lld Alertmanager alerts\n", jstr(l, "listen"),
			json_is_true(json_object_get(l, "tls")) ? " (https)" : "", jint(ev, "http"),
			jint(ev, "alertmanager"));
	if (!json_object_size(in))
		printf("  none listening (only 'alertbridge send' brings events in)\n");
	printf("  events the daemon stored since its start: %lld mail, %lld syslog, %lld http, "
		"%lld alertmanager\n", jint(ev, "mail"), jint(ev, "syslog"), jint(ev, "http"),
		jint(ev, "alertmanager"));
}

/* ---- the queue and the channels */

struct chan_stat {
	int64_t n[4];        /* by ab_job_state */
	int64_t oldest;      /* the oldest queued job's created_at (ms), 0: none */
};

struct stats {
	const struct ab_config *cfg;
	struct chan_stat *ch;    /* per configured channel, and one more for the rest */
};

static size_t chan_index(const struct ab_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_channels; i++)
		if (!strcmp(cfg->channels[i].name, name))
			return i;
	return cfg->n_channels;
}

static int on_stats(const char *channel, enum ab_job_state state, int64_t count,
	int64_t oldest_ms, void *arg)
{
	struct stats *s = arg;
	struct chan_stat *c = &s->ch[chan_index(s->cfg, channel)];

	if ((unsigned)state < 4)
		c->n[state] += count;
	if (state == AB_JOB_QUEUED && oldest_ms && (!c->oldest || oldest_ms < c->oldest))
		c->oldest = oldest_ms;
	return 0;
}

struct health {
	const struct ab_config *cfg;
	json_t *rows;            /* channel -> {state, failures, since, last_ok, last_fail, reason} */
};

static int on_health(const struct ab_health_row *r, void *arg)
{
	struct health *h = arg;

	json_object_set_new(h->rows, r->channel, json_pack("{s:s,s:i,s:o,s:o,s:o,s:s}", "state",
		r->state == AB_HEALTH_FAILING ? "failing" : r->state == AB_HEALTH_DISABLED ?
		"disabled" : "healthy", "failures", r->failures, "since", time_json_or_null(r->since),
		"last_ok", time_json_or_null(r->last_ok), "last_fail", time_json_or_null(r->last_fail),
		"last_error", r->reason ? r->reason : ""));
	return 0;
}

/* The channels as JSON: configuration, health and queue, one object each. */
/* Is name in the daemon's list of channels its breaker holds paused? */
static bool paused_now(const json_t *daemon, const char *name)
{
	const json_t *v;
	size_t i;

	if (!daemon || !json_is_true(json_object_get(daemon, "running")))
		return false;
	json_array_foreach(json_object_get(daemon, "paused_channels"), i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), name))
			return true;
	return false;
}

static json_t *channels_json(const struct ab_config *cfg, const struct stats *st,
	const json_t *rows, const json_t *daemon, int64_t now)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i <= cfg->n_channels; i++) {
		const struct chan_stat *c = &st->ch[i];
		const json_t *h = i < cfg->n_channels ? json_object_get(rows, cfg->channels[i].name) :
			NULL;
		json_t *o;

		if (i == cfg->n_channels && !c->n[AB_JOB_QUEUED] && !c->n[AB_JOB_RUNNING] &&
		    !c->n[AB_JOB_DEAD])
			break;   /* jobs of channels no longer configured: only when there are */
		o = json_pack("{s:s,s:b,s:s,s:I,s:I,s:I,s:o}",
			"name", i < cfg->n_channels ? cfg->channels[i].name : "(not configured)",
			"enabled", i < cfg->n_channels && cfg->channels[i].enabled,
			"state", i == cfg->n_channels ? "not configured" : !cfg->channels[i].enabled ?
			"disabled" : h ? jstr(h, "state") : "healthy",
			"queued", (json_int_t)c->n[AB_JOB_QUEUED],
			"running", (json_int_t)c->n[AB_JOB_RUNNING],
			"dead", (json_int_t)c->n[AB_JOB_DEAD],
			"oldest_queued_seconds", c->oldest ? json_integer((now - c->oldest) / 1000) :
			json_null());
		if (o && i < cfg->n_channels)
			json_object_set_new(o, "paused", json_boolean(paused_now(daemon,
				cfg->channels[i].name)));
		if (o && h) {
			const char *k;
			json_t *v;

			json_object_foreach((json_t *)h, k, v)
				if (strcmp(k, "state"))
					json_object_set(o, k, v);
		}
		json_array_append_new(a, o);
	}
	return a;
}

static void print_channels(const json_t *chans)
{
	size_t i;
	const json_t *c;
	char a[32];

	printf("channels:\n");
	json_array_foreach(chans, i, c) {
		const json_t *old = json_object_get(c, "oldest_queued_seconds");

		printf("  %-16s %-8s %lld queued", jstr(c, "name"), jstr(c, "state"),
			jint(c, "queued"));
		if (json_is_integer(old)) {
			age(json_integer_value(old) * 1000, a, sizeof a);
			printf(" (oldest %s)", a);
		}
		printf(", %lld running, %lld dead", jint(c, "running"), jint(c, "dead"));
		if (json_is_true(json_object_get(c, "paused")))
			printf("; PAUSED by its circuit breaker (one probe at a time)");
		if (!strcmp(jstr(c, "state"), "failing"))
			printf("; failing since %s, %lld failure(s) in a row: %s", jstr(c, "since"),
				jint(c, "failures"), jstr(c, "last_error"));
		else if (*jstr(c, "last_ok"))
			printf("; last success %s", jstr(c, "last_ok"));
		printf("\n");
	}
}

int ab_cli_status(int argc, char **argv, const struct ab_cli *cli)
{
	bool json = argc == 2 && strcmp(argv[1], "--json") == 0;
	char wal[4160], jdir[4160], a[32];
	uint64_t db, wl, jn, min_free;
	int64_t avail, n[4] = { 0 }, oldest = 0, now = ab_now_ms();
	struct ab_config *cfg;
	struct ab_store *st;
	struct stats sc;
	struct health hc;
	json_t *daemon, *chans = NULL;
	int rc = 0;

	if (argc > 2 || (argc == 2 && !json)) {
		fprintf(stderr, "usage: alertbridge [-c FILE] status [--json]\n");
		return EX_USAGE;
	}
	if (!(cfg = ab_cli_load_config(cli->conf_path)))
		return EX_CONFIG;
	if (!(st = ab_cli_open_store(cfg))) {
		ab_config_free(cfg);
		return EX_CANTCREAT;
	}
	sc.cfg = cfg;
	hc.cfg = cfg;
	hc.rows = json_object();
	daemon = daemon_status(cfg, now);
	if (!(sc.ch = calloc(cfg->n_channels + 1, sizeof *sc.ch)) || !hc.rows) {
		fprintf(stderr, "alertbridge: out of memory\n");
		rc = EX_OSERR;
		goto out;
	}
	if (ab_store_job_stats(st, on_stats, &sc) < 0 || ab_store_health_list(st, on_health,
		&hc) < 0 || (n[AB_JOB_DONE] = ab_store_count(st, AB_JOB_DONE)) < 0) {
		fprintf(stderr, "alertbridge: %s\n", ab_store_errmsg(st));
		rc = EX_IOERR;
		goto out;
	}
	for (size_t i = 0; i <= cfg->n_channels; i++) {
		for (int k = 0; k < 4; k++)
			if (k != AB_JOB_DONE)
				n[k] += sc.ch[i].n[k];
		if (sc.ch[i].oldest && (!oldest || sc.ch[i].oldest < oldest))
			oldest = sc.ch[i].oldest;
	}
	chans = channels_json(cfg, &sc, hc.rows, daemon, now);
	snprintf(wal, sizeof wal, "%s-wal", cfg->store_path);
	db = file_bytes(cfg->store_path);
	wl = file_bytes(wal);
	jn = ab_spool_dir(cfg->store_path, jdir, sizeof jdir) == 0 ? dir_bytes(jdir) : 0;
	avail = ab_disk_avail(cfg->store_path);
	min_free = (uint64_t)cfg->min_free_mb << 20;
	if (json) {
		json_t *j = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:b,s:{s:I,s:I,s:I,s:I,s:o},s:O,s:O}",
			"store", cfg->store_path, "database_bytes", (json_int_t)db,
			"wal_bytes", (json_int_t)wl, "journal_bytes", (json_int_t)jn,
			"free_bytes", (json_int_t)avail, "min_free_bytes", (json_int_t)min_free,
			"taking_alerts", avail < 0 || (uint64_t)avail >= min_free,
			"jobs", "queued", (json_int_t)n[AB_JOB_QUEUED],
			"running", (json_int_t)n[AB_JOB_RUNNING], "done", (json_int_t)n[AB_JOB_DONE],
			"dead", (json_int_t)n[AB_JOB_DEAD], "oldest_queued_seconds",
			oldest ? json_integer((now - oldest) / 1000) : json_null(),
			"channels", chans, "daemon", daemon ? daemon : json_null());

		ab_cli_print_json_line(j);   /* takes the reference */
		goto out;
	}
	print_daemon(daemon, now);
	printf("queue: %lld queued", (long long)n[AB_JOB_QUEUED]);
	if (oldest) {
		age(now - oldest, a, sizeof a);
		printf(" (the oldest waits for %s)", a);
	}
	printf(", %lld running, %lld dead, %lld done (kept for the retention)\n",
		(long long)n[AB_JOB_RUNNING], (long long)n[AB_JOB_DEAD], (long long)n[AB_JOB_DONE]);
	print_channels(chans);
	printf("store %s: %.1f MiB (database %.1f, write-ahead log %.1f), syslog journal %.1f MiB\n",
		cfg->store_path, mib(db + wl + jn), mib(db), mib(wl), mib(jn));
	if (avail < 0)
		printf("disk: cannot read the free space: %s\n", strerror(errno));
	else
		printf("disk: %.0f MiB free on its filesystem, min_free_mb %d: %s\n", mib(
			(uint64_t)avail), cfg->min_free_mb, !min_free ? "no watermark" :
			(uint64_t)avail >= min_free ? "taking alerts" :
			"BELOW: inputs refuse new alerts (try again) until there is room");
out:
	json_decref(chans);
	json_decref(daemon);
	json_decref(hc.rows);
	free(sc.ch);
	ab_store_close(st);
	ab_config_free(cfg);
	return rc;
}
