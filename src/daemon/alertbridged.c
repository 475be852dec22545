/*
 * alertbridged.c - the alertbridge daemon.  main() runs its steps in order,
 * one function each:
 *   parse_args    the options
 *   open_config   configuration (errors on the terminal), logging, the
 *                 state directory; libcurl's global init only when it is
 *                 not thread-safe (else the first request does it: memory)
 *   go_background fork (unless -f) before any database is open; the
 *                 starting process waits for the daemon's verdict and
 *                 exits with it (0 once started, else the failed step's)
 *   open_state    store, channel runtime (plugins loaded, channels created)
 *   detach        off the terminal (unless -f), the pid file
 *   open_inputs   bind the syslog listeners, the milter socket and the HTTP
 *                 listener (still root), then drop privileges
 *   start         dispatcher, scheduler, syslog I/O thread, milter thread,
 *                 HTTP listener
 *   run           the signal loop (below) until SIGTERM or SIGINT
 *   reload        a new runtime from the file, swapped into every part, or
 *                 refused (logged) and the running one kept
 *   shut_down     stop the inputs, drain and stop the threads, close the
 *                 store, remove the pid file.  Every exit after the options
 *                 goes through it, a failed step as well as SIGTERM.
 *
 * Usage: alertbridged [-c FILE] [-f] [-p PIDFILE] [-P PLUGIN_DIR] [-d]
 *
 * Signals (the policy: doc/DESIGN.md "Signals", alertbridged(8)): SIGHUP
 *   and SIGUSR1 reload, SIGTERM and SIGINT drain in-flight work and exit
 *   0.  All four are blocked before any thread exists, so every thread
 *   inherits the block.  Once started, the main thread unblocks HUP, TERM
 *   and INT for a handler and reads USR1 from a signalfd ("signals" below
 *   says why).  libmilter's own signal thread, which waits for HUP, TERM
 *   and INT and stops the milter on any of them, cannot be turned off;
 *   Linux hands a signal sent to the process to the main thread (the
 *   thread group leader) whenever that thread can take it, so libmilter
 *   does not get them.  Should it still get one, the milter thread stops
 *   the daemon as SIGTERM does (milter.c).
 *
 * Diagnostics: config errors as FILE:LINE: message on stderr, exit 78
 *   (EX_CONFIG); store/plugin problems exit 73/69 with what to do; a
 *   reload logs "configuration reloaded: ..." or "reload refused: ...".
 */
#include <errno.h>
#include <getopt.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>
#include <dirent.h>

#include <curl/curl.h>
#include <jansson.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/util.h"
#include "net/http.h"
#include "config/config.h"
#include "config/config_mail.h" /* the milter socket setting */
#include "config/config_http.h" /* the listen address, for the status file */
#include "config/config_syslog.h"
#include "store/store.h"
#include "deliver/dispatch.h"
#include "deliver/plugin.h"
#include "deliver/runtime.h"
#include "deliver/scheduler.h"  /* groups, digests, reminders */
#include "ingest/milter.h"
#include "ingest/syslog_in.h"
#include "http/httpd.h"
#include "lib/metrics.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG SYSCONFDIR "/alertbridge/alertbridge.conf"

/* Everything the steps open, start and close. */
struct daemon_state {
	const char *conf;               /* -c */
	const char *pidfile_arg;        /* -p */
	const char *plugin_dir;         /* -P */
	bool foreground, debug;

	struct ab_config *cfg;          /* loaded, until the runtime takes it */
	int verdict_fd;                 /* background: the starting process waits on it */
	char *pidfile;                  /* -p or 'pidfile' (owned: outlives reloads) */
	int pidfd;                      /* the locked pid file, -1 when none */
	struct ab_store *st;            /* opened first: requeues what was in flight */
	struct ab_runtime *rt;          /* the running snapshot (owns its config) */
	struct ab_syslog_in *syslog_in; /* NULL: no listener */
	struct ab_milter *milter;       /* NULL: no milter socket */
	struct ab_httpd *httpd;         /* NULL: no http section */
	struct ab_dispatcher *disp;
	struct ab_sched *sched;
	bool started;
	int64_t started_ms;
	int64_t reload_ms;              /* the last reload, tried (0: none yet) */
	bool reload_ok;
	char reload_error[512];         /* why it was refused: the first error */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: alertbridged [-c FILE] [-f] [-p PIDFILE] [-P PLUGIN_DIR] [-d]\n"
		"  -c, --config FILE        configuration (default " DEFAULT_CONFIG ")\n"
		"  -f, --foreground         stay in the foreground, log to stderr\n"
		"  -p, --pidfile PIDFILE    write and lock a pid file (overrides 'pidfile')\n"
		"  -P, --plugin-dir DIR     load plugins from this directory (overrides 'plugin_dir')\n"
		"  -d, --debug              debug logging\n"
		"  -h, --help               this help\n"
		"  -V, --version            version and plugin ABI\n"
		"signals: HUP (or USR1) reloads the configuration, TERM/INT stop after in-flight "
		"deliveries\n"
		"manual: alertbridged(8) / alertbridge(1), settings: alertbridge.conf(5)\n");
}

static int write_pidfile(const char *path)
{
	char buf[32];
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	int n;

	if (fd < 0) {
		ab_log(AB_LOG_ERR, "pid file %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ab_log(AB_LOG_ERR, "pid file %s is locked: is another alertbridged running?", path);
		close(fd);
		return -1;
	}
	n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || write(fd, buf, (size_t)n) != n) {
		ab_log(AB_LOG_ERR, "pid file %s: cannot write: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;   /* kept open: the lock lives as long as we do */
}

/* The starting process: wait for the daemon's verdict (one byte, the exit
 * code) and exit with it. */
static _Noreturn void wait_for_daemon(int fd)
{
	unsigned char code;
	ssize_t n;
	sigset_t set;

	sigemptyset(&set);   /* a Ctrl-C stops the waiting, not the daemon */
	pthread_sigmask(SIG_SETMASK, &set, NULL);
	do
		n = read(fd, &code, 1);
	while (n < 0 && errno == EINTR);
	if (n == 1)
		_exit(code);
	fprintf(stderr, "alertbridged: the daemon ended during start-up (see its log)\n");
	_exit(EX_SOFTWARE);
}

/* Fork into the background before any database is opened: SQLite's locks
 * do not pass to a child, and a store opened before the fork would lose
 * them (another process would then take the WAL for its own).  The
 * starting process waits until the daemon says how its start went.
 * Returns in the daemon (new session) with *verdict_fd to write that to. */
static int daemonize(int *verdict_fd)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		close(fds[1]);
		wait_for_daemon(fds[0]);
	}
	close(fds[0]);
	if (setsid() < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	*verdict_fd = fds[1];
	return 0;
}

/* The rest of daemonizing, once the store and the plugins are open: no
 * working directory, no terminal. */
static int leave_terminal(void)
{
	int fd;

	if (chdir("/") < 0)
		return -1;
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return 0;
}

/* Give the state directory and the files in it to the service user. */
static int chown_state(const char *dir, uid_t uid, gid_t gid)
{
	DIR *d;
	struct dirent *de;
	int rc = 0;

	if (chown(dir, uid, gid) < 0)
		return -1;
	d = opendir(dir);
	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (fchownat(dirfd(d), de->d_name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
			rc = -1;
	}
	closedir(d);
	return rc;
}

static int drop_privileges(const struct ab_config *cfg)
{
	struct passwd *pw;

	if (!cfg->user || !cfg->user[0])
		return 0;
	pw = getpwnam(cfg->user);
	if (!pw) {
		ab_log(AB_LOG_ERR, "%s: user '%s' does not exist (create it: useradd --system "
			"%s, or remove 'user')", cfg->path, cfg->user, cfg->user);
		return -1;
	}
	if (geteuid() != 0) {
		if (geteuid() == pw->pw_uid)
			return 0;
		ab_log(AB_LOG_ERR, "cannot switch to user '%s': not started as root", cfg->user);
		return -1;
	}
	if (chown_state(cfg->state_dir, pw->pw_uid, pw->pw_gid) < 0)
		ab_log(AB_LOG_WARNING, "could not give %s to user '%s': %s", cfg->state_dir,
			cfg->user, strerror(errno));
	if (setgroups(0, NULL) < 0 || initgroups(pw->pw_name, pw->pw_gid) < 0 ||
	    setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		ab_log(AB_LOG_ERR, "cannot drop privileges to '%s': %s", cfg->user, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		ab_log(AB_LOG_ERR, "privilege drop to '%s' did not stick", cfg->user);
		return -1;
	}
	ab_log(AB_LOG_INFO, "running as user %s", cfg->user);
	return 0;
}

/* Log a multi-line error text one line at a time. */
static void log_lines(int level, const char *what, const char *text)
{
	const char *p = text ? text : "";

	while (*p) {
		const char *nl = strchr(p, '\n');
		int n = nl ? (int)(nl - p) : (int)strlen(p);
		if (n > 0)
			ab_log(level, "%s: %.*s", what, n, p);
		p += n + (nl ? 1 : 0);
	}
}

static void syslog_wake(void *dispatcher)
{
	ab_dispatch_wake(dispatcher);
}

static void log_channel_note(void *arg, bool warning, const char *line)
{
	(void)arg;
	ab_log(warning ? AB_LOG_WARNING : AB_LOG_NOTICE, "%s", line);
}

/* Plugins, channels and their URLs: the same validation as `alertbridge
 * check` (warnings logged, errors refuse the configuration).  Takes cfg. */
static struct ab_runtime *build_runtime(struct ab_config *cfg, const char *plugin_dir)
{
	char *errors = NULL, *warnings = NULL;
	struct ab_runtime *rt = ab_runtime_build_ex(cfg, plugin_dir, 0, &errors, &warnings);

	if (warnings)
		log_lines(AB_LOG_WARNING, "channels", warnings);
	free(warnings);
	if (!rt)
		log_lines(AB_LOG_ERR, "channels refused", errors);
	free(errors);
	return rt;
}

/* ------------------------------------------------------------ the steps */

/* -1: go on; otherwise the exit code (help, version, usage error). */
static int parse_args(struct daemon_state *d, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "plugin-dir", required_argument, NULL, 'P' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "c:fp:P:dhV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': d->conf = optarg; break;
		case 'f': d->foreground = true; break;
		case 'p': d->pidfile_arg = optarg; break;
		case 'P': d->plugin_dir = optarg; break;
		case 'd': d->debug = true; break;
		case 'V': printf("alertbridged %s (plugin ABI %d.%d)\n", PACKAGE_VERSION,
				  AB_PLUGIN_ABI_MAJOR, AB_PLUGIN_ABI_MINOR);
			return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EX_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}
	return -1;
}

/*
 * libcurl's global init initializes OpenSSL too, which touches about 2 MB
 * of library pages (libcrypto's algorithm tables, libssl): a tenth of what
 * a daemon that sends nothing over HTTP has resident (bench/memory.sh).
 * libcurl >= 7.84 makes curl_global_init thread-safe (CURL_VERSION_THREADSAFE,
 * set where libcurl was built with C11 atomics), so it is left to the first
 * request, which runs it once (ab_http_global_init's pthread_once in
 * net/http.c), and a plugin that calls curl_global_init itself may do so
 * while workers run.  The check is at build time: asking the library
 * (curl_version_info) costs half a megabyte, as it reads the version of
 * every library libcurl links; the runtime libcurl is never older than the
 * headers (the package's dependency on it).  An older libcurl is
 * initialized here, before any thread exists.  0 or -1.
 */
static int http_init(void)
{
#if LIBCURL_VERSION_NUM >= 0x075400
	return 0;
#else
	return ab_http_global_init();
#endif
}

/* Configuration (errors on the terminal), logging, the state directory.
 * 0 or an exit code. */
static int open_config(struct daemon_state *d)
{
	char *errors = NULL;
	const char *pidfile;

	if (http_init() < 0) {
		fprintf(stderr, "alertbridged: libcurl initialisation failed\n");
		return EX_SOFTWARE;
	}
	d->cfg = ab_config_load(d->conf, &errors);
	if (!d->cfg) {
		fputs(errors ? errors : "configuration refused\n", stderr);
		free(errors);
		return EX_CONFIG;
	}
	ab_log_init("alertbridged", !d->foreground || d->cfg->log_syslog,
		d->debug ? AB_LOG_DEBUG : d->cfg->log_level);
	pidfile = d->pidfile_arg ? d->pidfile_arg : d->cfg->pidfile;
	if (pidfile && !(d->pidfile = strdup(pidfile))) {
		ab_log(AB_LOG_ERR, "out of memory");
		return EX_OSERR;
	}
	if (ab_mkdir_p(d->cfg->state_dir, 0750) < 0) {
		ab_log(AB_LOG_ERR, "state_dir %s: %s (create it or set state_dir)",
			d->cfg->state_dir, strerror(errno));
		return EX_CANTCREAT;
	}
	return 0;
}

/* Background, unless -f: from here on the starting process waits for the
 * verdict (see daemonize).  0 or an exit code. */
static int go_background(struct daemon_state *d)
{
	if (d->foreground)
		return 0;
	if (daemonize(&d->verdict_fd) < 0) {
		ab_log(AB_LOG_ERR, "cannot daemonize: %s", strerror(errno));
		return EX_OSERR;
	}
	return 0;
}

/* The store (whatever was in flight when we last stopped goes again) and
 * the runtime, which takes the configuration.  0 or an exit code. */
static int open_state(struct daemon_state *d)
{
	char err[1024];

	d->st = ab_store_open(d->cfg->store_path, err, sizeof err);
	if (!d->st) {
		ab_log(AB_LOG_ERR, "%s", err);
		return EX_CANTCREAT;
	}
	ab_store_requeue_running(d->st, ab_now_ms(), true);   /* even after kill -9 */
	/* the syslog mover's WAL checkpoints run on a thread of their own */
	if (ab_store_checkpointer_start(d->cfg->store_path, 0, 0, err, sizeof err) < 0)
		ab_log(AB_LOG_WARNING, "%s (each commit checkpoints instead)", err);
	d->rt = build_runtime(d->cfg, d->plugin_dir);
	d->cfg = NULL;   /* the runtime's now, or freed */
	return d->rt ? 0 : EX_CONFIG;
}

/* Off the terminal (unless -f) and the pid file.  0 or an exit code. */
static int detach(struct daemon_state *d)
{
	if (!d->foreground && leave_terminal() < 0) {
		ab_log(AB_LOG_ERR, "cannot daemonize: %s", strerror(errno));
		return EX_OSERR;
	}
	if (d->pidfile && (d->pidfd = write_pidfile(d->pidfile)) < 0)
		return EX_CANTCREAT;
	return 0;
}

/* Background: tell the starting process how the start went (once). */
static void tell_starter(struct daemon_state *d, int rc)
{
	unsigned char code = (unsigned char)rc;
	ssize_t n;

	if (d->verdict_fd < 0)
		return;
	n = write(d->verdict_fd, &code, 1);
	(void)n;   /* it is gone: nobody to tell */
	close(d->verdict_fd);
	d->verdict_fd = -1;
}

/* Bind the syslog listeners and the milter socket while still root, then
 * drop privileges.  0 or an exit code. */
static int open_inputs(struct daemon_state *d)
{
	const struct ab_config *cfg = d->rt->cfg;
	char err[1024];

	d->syslog_in = ab_syslog_in_open(cfg, err, sizeof err);
	if (!d->syslog_in && err[0]) {
		ab_log(AB_LOG_ERR, "%s", err);
		return EX_UNAVAILABLE;
	}
	if (cfg->mail && cfg->mail->socket &&
	    !(d->milter = ab_milter_open(d->rt, cfg->user, err, sizeof err))) {
		ab_log(AB_LOG_ERR, "%s", err);
		return EX_UNAVAILABLE;
	}
	d->httpd = ab_httpd_open(cfg, err, sizeof err);
	if (!d->httpd && err[0]) {
		ab_log(AB_LOG_ERR, "%s", err);
		return EX_UNAVAILABLE;
	}
	if (drop_privileges(cfg) < 0)
		return EX_NOPERM;
	return 0;
}

/* ---------------------------------------------------------------- signals */

/* HUP, TERM and INT, the signals libmilter's signal thread waits for too,
 * come to the main thread's handler: once run() begins the main thread
 * never blocks them again, not even while the handler runs (SA_NODEFER,
 * empty mask).  USR1, which libmilter leaves alone, stays blocked in every
 * thread and is read from a signalfd, so it is never pending on the main
 * thread: Linux passes a signal to another thread when the main thread
 * still has one pending, and a HUP right after a USR1 would go to
 * libmilter.  (Two HUPs in a row merge while the first is pending; a HUP
 * next to a TERM or INT may go to libmilter, which only stops the milter,
 * and the daemon stops anyway.) */
static const int caught_signals[] = { SIGHUP, SIGTERM, SIGINT };
static volatile sig_atomic_t reload_wanted;   /* HUP since the last reload began */
static volatile sig_atomic_t stop_signal;     /* TERM or INT: its number */
static int wake_pipe[2] = { -1, -1 };         /* the handler wakes run() */
static int usr1_fd = -1;                      /* signalfd for USR1 */

static void caught_set(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof caught_signals / sizeof caught_signals[0]; i++)
		sigaddset(set, caught_signals[i]);
}

/* Before any thread exists: every thread inherits the block, including
 * the ones libmilter starts.  A signal that comes during start-up waits
 * and is acted on once run() begins. */
static void block_signals(void)
{
	sigset_t set;

	caught_set(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void on_signal(int sig)
{
	int saved = errno;
	ssize_t n;

	if (sig == SIGHUP)
		reload_wanted = 1;
	else
		stop_signal = sig;
	n = write(wake_pipe[1], "", 1);   /* full: a wake-up is pending anyway */
	(void)n;
	errno = saved;
}

/* The handler, its wake-up pipe and the USR1 signalfd, set up while the
 * signals are still blocked; run() unblocks HUP, TERM and INT in the main
 * thread only.  0 or -1. */
static int catch_signals(void)
{
	struct sigaction sa;
	sigset_t usr1;

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    (usr1_fd = signalfd(-1, &usr1, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		ab_log(AB_LOG_ERR, "signal handling: %s", strerror(errno));
		return -1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART | SA_NODEFER;
	for (size_t i = 0; i < sizeof caught_signals / sizeof caught_signals[0]; i++)
		sigaction(caught_signals[i], &sa, NULL);
	return 0;
}

/* ------------------------------------------------------- start and reload */

static AB_METRIC_COUNTER(m_reloads, "alertbridge_config_reloads_total", "Configuration "
	"reloads that took effect.", NULL, NULL);
static AB_METRIC_COUNTER(m_reload_failures, "alertbridge_config_reload_failures_total",
	"Configuration reloads refused (the previous configuration kept running).", NULL, NULL);
static AB_METRIC_GAUGE(m_reload_time, "alertbridge_config_last_reload_success_timestamp_seconds",
	"When the configuration was last reloaded, seconds since the epoch (0: never).", NULL,
	NULL);

/* ------------------------------------------------------------ status file */

#define STATUS_EVERY_MS 5000
static const char *const status_inputs[] = { "mail", "syslog", "http", "alertmanager" };

static json_t *time_json(int64_t ms)
{
	char t[40];

	if (!ms)
		return json_null();
	ab_time_format_rfc3339(ms, t, sizeof t);
	return json_string(t);
}

/* state_dir/daemon.status, for `alertbridge status`: the pid, when it
 * started and wrote this, the last reload and its result, each input with
 * its address and the events it took.  Written at start, after each reload
 * and every STATUS_EVERY_MS; replaced whole (rename). */
static void write_daemon_status(struct daemon_state *d)
{
	const struct ab_config *cfg = d->rt->cfg;
	json_t *j, *in, *ev, *ls;
	char *path, *s;

	j = json_pack("{s:I,s:s,s:s,s:o,s:o,s:I,s:I}", "pid", (json_int_t)getpid(),
		"version", PACKAGE_VERSION, "config", d->conf, "started_at",
		time_json(d->started_ms), "updated_at", time_json(ab_now_ms()),
		"reloads", (json_int_t)ab_metric_value(&m_reloads, NULL, NULL),
		"reload_failures", (json_int_t)ab_metric_value(&m_reload_failures, NULL, NULL));
	if (!j)
		return;
	json_object_set_new(j, "last_reload", d->reload_ms ? json_pack("{s:o,s:b,s:s?}", "at",
		time_json(d->reload_ms), "ok", d->reload_ok, "error",
		d->reload_ok ? NULL : d->reload_error) : json_null());
	in = json_object();
	if (d->milter && cfg->mail && cfg->mail->socket)
		json_object_set_new(in, "milter", json_pack("{s:s,s:I,s:I}", "socket",
			cfg->mail->socket, "sessions",
			(json_int_t)ab_metrics_lookup("alertbridge_milter_sessions_total", NULL, NULL),
			"alerts",
			(json_int_t)ab_metrics_lookup("alertbridge_milter_alerts_total", NULL, NULL)));
	if (d->syslog_in && cfg->syslog) {
		ls = json_array();
		for (size_t i = 0; i < cfg->syslog->n_listeners; i++)
			json_array_append_new(ls, json_pack("{s:s,s:s,s:s}", "name",
				cfg->syslog->listeners[i].name, "proto",
				ab_syslog_proto_name(cfg->syslog->listeners[i].proto), "address",
				cfg->syslog->listeners[i].address));
		json_object_set_new(in, "syslog", json_pack("{s:o,s:I}", "listeners", ls,
			"received", (json_int_t)ab_metrics_lookup("alertbridge_syslog_received_total",
			NULL, NULL)));
	}
	if (d->httpd && cfg->http)
		json_object_set_new(in, "http", json_pack("{s:s,s:b}", "listen", cfg->http->listen,
			"tls", cfg->http->tls_cert != NULL));
	json_object_set_new(j, "inputs", in);
	ev = json_object();
	for (size_t i = 0; i < sizeof status_inputs / sizeof status_inputs[0]; i++)
		json_object_set_new(ev, status_inputs[i], json_integer((json_int_t)ab_metrics_lookup(
			"alertbridge_events_received_total", status_inputs[i], NULL)));
	json_object_set_new(j, "events_received", ev);
	{
		char **names = NULL;
		int n = ab_dispatch_paused(d->disp, &names);
		json_t *pa = json_array();

		for (int i = 0; i < n; i++) {
			json_array_append_new(pa, json_string(names[i]));
			free(names[i]);
		}
		free(names);
		json_object_set_new(j, "paused_channels", pa);
	}
	s = json_dumps(j, JSON_INDENT(2));
	json_decref(j);
	path = ab_config_path(cfg, "daemon.status");
	if (s && path && ab_write_file_atomic(path, s, strlen(s)) < 0) {
		static struct ab_complaint c;

		ab_complain(&c, 600000, AB_LOG_WARNING, "cannot write the status file %s: %s", path,
			strerror(errno));
	}
	free(path);
	free(s);
}


/* The worker threads and the inputs' threads (they inherit the block).
 * 0 or an exit code. */
static int start(struct daemon_state *d)
{
	const struct ab_config *cfg = d->rt->cfg;
	char err[1024];

	d->disp = ab_dispatch_start(cfg->store_path, d->rt, err, sizeof err);
	if (!d->disp) {
		ab_log(AB_LOG_ERR, "%s", err);
		return EX_OSERR;
	}
	d->sched = ab_sched_start(cfg->store_path, d->rt, d->disp, NULL, NULL, err, sizeof err);
	if (!d->sched) {
		ab_log(AB_LOG_ERR, "%s", err);
		return EX_OSERR;
	}
	if (d->syslog_in && ab_syslog_in_start(d->syslog_in, d->rt, cfg->store_path, syslog_wake,
						d->disp, err, sizeof err) < 0) {
		ab_log(AB_LOG_ERR, "%s", err);
		return EX_OSERR;
	}
	if (d->milter && ab_milter_start(d->milter, err, sizeof err) < 0) {
		ab_log(AB_LOG_ERR, "%s", err);
		return EX_OSERR;
	}
	if (d->httpd && ab_httpd_start(d->httpd, d->rt, cfg->store_path, syslog_wake, d->disp,
				       err, sizeof err) < 0) {
		ab_log(AB_LOG_ERR, "%s", err);
		return EX_OSERR;
	}
	ab_metric_touch(&m_reloads);
	ab_metric_touch(&m_reload_failures);
	d->started = true;
	d->started_ms = ab_now_ms();
	write_daemon_status(d);
	ab_log(AB_LOG_NOTICE, "alertbridged %s started: %zu channel(s), %zu rule(s), store %s, "
		"%d worker(s)", PACKAGE_VERSION, d->rt->n_channels, cfg->n_rules, cfg->store_path,
		cfg->dispatch.workers);
	ab_channels_notes(cfg, log_channel_note, NULL);
	return 0;
}

/* Read the file again, build a complete new runtime and swap it into every
 * part; on any error log why and keep the running one. */
static void reload(struct daemon_state *d)
{
	struct ab_runtime *nrt = NULL;
	struct ab_config *cfg;
	char *errors = NULL;

	d->reload_ms = ab_now_ms();
	d->reload_ok = false;
	ab_strlcpy(d->reload_error, "the plugins refused the new settings (see the log)",
		sizeof d->reload_error);
	cfg = ab_config_load(d->conf, &errors);
	if (!cfg) {
		log_lines(AB_LOG_ERR, "configuration refused", errors);
		if (errors)
			snprintf(d->reload_error, sizeof d->reload_error, "%.*s",
				(int)strcspn(errors, "\n"), errors);
	}
	free(errors);
	if (cfg)   /* its own host, with its secrets key: a refusal changes nothing */
		nrt = build_runtime(cfg, d->plugin_dir);
	if (!nrt) {
		ab_log(AB_LOG_ERR, "reload refused: still running the previous configuration");
		ab_metric_inc(&m_reload_failures, NULL, NULL);
		write_daemon_status(d);
		return;
	}
	if (strcmp(nrt->cfg->store_path, d->rt->cfg->store_path) != 0)
		ab_log(AB_LOG_WARNING, "reload: a new store path takes effect only after a restart");
	ab_dispatch_set_runtime(d->disp, nrt);
	ab_syslog_in_set_runtime(d->syslog_in, nrt);
	ab_milter_set_runtime(d->milter, nrt);
	ab_sched_set_runtime(d->sched, nrt);
	ab_httpd_set_runtime(d->httpd, nrt);
	ab_runtime_unref(d->rt);
	d->rt = nrt;
	ab_metric_inc(&m_reloads, NULL, NULL);
	ab_metric_set(&m_reload_time, NULL, NULL, (double)ab_now_ms() / 1000.0);
	d->reload_ok = true;
	ab_log(AB_LOG_NOTICE, "configuration reloaded: %zu channel(s), %zu rule(s)",
		d->rt->n_channels, d->rt->cfg->n_rules);
	ab_channels_notes(d->rt->cfg, log_channel_note, NULL);
	write_daemon_status(d);
}

/* The signal loop: reload on HUP or USR1 (once more when another came
 * during a reload), return on TERM or INT. */
static void run(struct daemon_state *d)
{
	struct pollfd pfd[2] = { { wake_pipe[0], POLLIN, 0 }, { usr1_fd, POLLIN, 0 } };
	struct signalfd_siginfo si;
	char buf[64];
	sigset_t set;
	int rc;

	caught_set(&set);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);   /* this thread only: see "signals" */
	while (!stop_signal) {
		if (reload_wanted) {
			reload_wanted = 0;
			reload(d);
			continue;
		}
		rc = poll(pfd, 2, STATUS_EVERY_MS);
		if (rc == 0)
			write_daemon_status(d);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			ab_log(AB_LOG_ERR, "signal loop: %s; stopping", strerror(errno));
			stop_signal = SIGTERM;
			break;
		}
		while (read(wake_pipe[0], buf, sizeof buf) > 0)
			;
		while (read(usr1_fd, &si, sizeof si) == (ssize_t)sizeof si)
			reload_wanted = 1;
	}
	ab_log(AB_LOG_NOTICE, "signal %d: finishing in-flight deliveries and stopping",
		(int)stop_signal);
}

/* --------------------------------------------------------------- shut down */

/* Whatever the steps opened, in reverse; each part may be missing. */
static void shut_down(struct daemon_state *d)
{
	ab_httpd_stop(d->httpd);           /* answers requests in progress first */
	ab_milter_stop(d->milter);         /* answers in-flight mail first */
	ab_syslog_in_stop(d->syslog_in);   /* commits what it read */
	ab_sched_stop(d->sched);           /* a pass in progress commits */
	ab_dispatch_stop(d->disp);         /* in-flight deliveries finish */
	ab_store_close(d->st);
	ab_store_checkpointer_stop();
	if (d->pidfd >= 0) {
		/* After a privilege drop the directory may not be ours: empty it then. */
		if (unlink(d->pidfile) < 0 && ftruncate(d->pidfd, 0) < 0)
			ab_log(AB_LOG_WARNING, "pid file %s: could not remove it", d->pidfile);
		close(d->pidfd);
	}
	ab_runtime_unref(d->rt);
	ab_config_free(d->cfg);   /* a start that failed before the runtime took it */
	free(d->pidfile);
	for (int i = 0; i < 2; i++)
		if (wake_pipe[i] >= 0)
			close(wake_pipe[i]);
	if (usr1_fd >= 0)
		close(usr1_fd);
	if (d->started)
		ab_log(AB_LOG_NOTICE, "stopped");
}

int main(int argc, char **argv)
{
	struct daemon_state d = { .conf = DEFAULT_CONFIG, .pidfd = -1, .verdict_fd = -1 };
	int rc = parse_args(&d, argc, argv);

	if (rc >= 0)
		return rc;
	block_signals();
	rc = open_config(&d);
	if (!rc)
		rc = go_background(&d);
	if (!rc)
		rc = open_state(&d);
	if (!rc)
		rc = detach(&d);
	if (!rc)
		rc = open_inputs(&d);
	if (!rc && catch_signals() < 0)
		rc = EX_OSERR;
	if (!rc)
		rc = start(&d);
	if (!rc) {
		tell_starter(&d, 0);
		run(&d);
	}
	shut_down(&d);
	tell_starter(&d, rc);   /* a failed start: after the clean-up */
	return rc;
}
