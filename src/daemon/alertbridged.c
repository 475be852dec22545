/*
 * alertbridged.c - the alertbridge daemon: loads the configuration, opens
 * the store, loads the channel plugins, drops privileges, runs the
 * delivery workers and handles signals.
 *
 * Usage: alertbridged [-c FILE] [-f] [-p PIDFILE] [-P PLUGIN_DIR] [-d]
 * Signals: SIGTERM/SIGINT drain in-flight deliveries and exit 0; SIGUSR1
 *   reloads the configuration (a broken new file is refused and the old
 *   one keeps running).  SIGHUP is reserved (libmilter treats it as stop).
 * Diagnostics: config errors as FILE:LINE: message on stderr, exit 78
 *   (EX_CONFIG); store/plugin problems exit 73/69 with what to do.
 */
#include <errno.h>
#include <getopt.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>
#include <dirent.h>

#include "lib/buf.h"
#include "config/config.h"
#include "deliver/dispatch.h"
#include "config/config_mail.h"   /* milter settings */
#include "ingest/milter.h"
#include "lib/log.h"
#include "net/http.h"
#include "deliver/plugin.h"
#include "deliver/runtime.h"
#include "deliver/scheduler.h"   /* groups, digests, reminders */
#include "store/store.h"
#include "ingest/syslog_in.h"
#include "lib/util.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG SYSCONFDIR "/alertbridge/alertbridge.conf"

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
		"signals: TERM/INT stop after in-flight deliveries, USR1 reloads the configuration\n"
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

static int daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
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

/* --- syslog listeners: wake the dispatcher after a group commit --- */
static void syslog_wake(void *d)
{
	ab_dispatch_wake(d);
}
/* --- end syslog listeners --- */

/* --- channels: disabled channels and fallbacks, once per load --- */
static void log_channel_note(void *arg, bool warning, const char *line)
{
	(void)arg;
	ab_log(warning ? AB_LOG_WARNING : AB_LOG_NOTICE, "%s", line);
}

/* Plugins, channels and their URLs: the same validation as `alertbridge
 * check` (warnings logged, errors refuse the configuration). */
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

static struct ab_runtime *load_runtime(const char *path, const char *plugin_dir)
{
	char *errors = NULL;
	struct ab_config *cfg = ab_config_load(path, &errors);

	if (!cfg) {
		log_lines(AB_LOG_ERR, "configuration refused", errors);
		free(errors);
		return NULL;
	}
	return build_runtime(cfg, plugin_dir);
}

int main(int argc, char **argv)
{
	const char *conf = DEFAULT_CONFIG, *pidfile = NULL, *plugin_dir = NULL;
	bool foreground = false, debug = false;
	struct ab_runtime *rt;
	struct ab_dispatcher *disp;
	struct ab_sched *sched;
	struct ab_milter *milter = NULL;   /* mail ingestion, NULL when not configured */
	struct ab_syslog_in *syslog_in = NULL;   /* syslog listeners */
	struct ab_store *st;
	struct ab_config *cfg;
	char *errors = NULL, err[1024];
	sigset_t sigs;
	int opt, pidfd = -1, sig;

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

	while ((opt = getopt_long(argc, argv, "c:fp:P:dhV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': conf = optarg; break;
		case 'f': foreground = true; break;
		case 'p': pidfile = optarg; break;
		case 'P': plugin_dir = optarg; break;
		case 'd': debug = true; break;
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

	if (ab_http_global_init() < 0) {
		fprintf(stderr, "alertbridged: libcurl initialisation failed\n");
		return EX_SOFTWARE;
	}
	/* Validate first, with errors on the terminal. */
	cfg = ab_config_load(conf, &errors);
	if (!cfg) {
		fputs(errors ? errors : "configuration refused\n", stderr);
		free(errors);
		return EX_CONFIG;
	}
	ab_log_init("alertbridged", !foreground || cfg->log_syslog,
		debug ? AB_LOG_DEBUG : cfg->log_level);
	if (!pidfile)
		pidfile = cfg->pidfile;

	if (ab_mkdir_p(cfg->state_dir, 0750) < 0) {
		ab_log(AB_LOG_ERR, "state_dir %s: %s (create it or set state_dir)", cfg->state_dir,
			strerror(errno));
		ab_config_free(cfg);
		return EX_CANTCREAT;
	}
	st = ab_store_open(cfg->store_path, err, sizeof err);
	if (!st) {
		ab_log(AB_LOG_ERR, "%s", err);
		ab_config_free(cfg);
		return EX_CANTCREAT;
	}
	/* Whatever was in flight when we last stopped (even by kill -9) goes again. */
	ab_store_requeue_running(st, ab_now_ms(), true);

	rt = build_runtime(cfg, plugin_dir);
	if (!rt) {
		ab_store_close(st);
		return EX_CONFIG;
	}
	cfg = rt->cfg;

	if (!foreground && daemonize() < 0) {
		ab_log(AB_LOG_ERR, "cannot daemonize: %s", strerror(errno));
		return EX_OSERR;
	}
	if (pidfile && (pidfd = write_pidfile(pidfile)) < 0)
		return EX_CANTCREAT;
	/* --- syslog listeners: bind as root, before the privilege drop --- */
	syslog_in = ab_syslog_in_open(cfg, err, sizeof err);
	if (!syslog_in && err[0]) {
		ab_log(AB_LOG_ERR, "%s", err);
		return EX_UNAVAILABLE;
	}
	/* --- end syslog listeners --- */
	/* --- milter (mail ingestion): bind before dropping privileges --- */
	if (cfg->mail && cfg->mail->socket &&
	    !(milter = ab_milter_open(rt, cfg->user, err, sizeof err))) {
		ab_log(AB_LOG_ERR, "%s", err);
		return EX_UNAVAILABLE;
	}
	/* --- end milter --- */
	if (drop_privileges(cfg) < 0)
		return EX_NOPERM;

	/* Signals are taken synchronously by this thread only. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGUSR1);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	disp = ab_dispatch_start(cfg->store_path, rt, err, sizeof err);
	if (!disp) {
		ab_log(AB_LOG_ERR, "%s", err);
		return EX_OSERR;
	}
	/* --- scheduler: due groups, digests, reminders --- */
	sched = ab_sched_start(cfg->store_path, rt, disp, NULL, NULL, err, sizeof err);
	if (!sched) {
		ab_log(AB_LOG_ERR, "%s", err);
		return EX_OSERR;
	}
	/* --- end scheduler --- */
	/* --- syslog listeners --- */
	if (syslog_in && ab_syslog_in_start(syslog_in, rt, cfg->store_path, syslog_wake, disp, err,
		sizeof err) < 0) {
		ab_log(AB_LOG_ERR, "%s", err);
		return EX_OSERR;
	}
	/* --- end syslog listeners --- */
	/* --- milter (mail ingestion): smfi_main in its own thread --- */
	if (milter && ab_milter_start(milter, err, sizeof err) < 0) {
		ab_log(AB_LOG_ERR, "%s", err);
		return EX_OSERR;
	}
	/* --- end milter --- */
	ab_log(AB_LOG_NOTICE, "alertbridged %s started: %zu channel(s), %zu rule(s), store %s, "
		"%d worker(s)", PACKAGE_VERSION, rt->n_channels, cfg->n_rules, cfg->store_path,
		cfg->dispatch.workers);
	ab_channels_notes(cfg, log_channel_note, NULL);   /* channels */

	for (;;) {
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGUSR1) {
			struct ab_runtime *nrt = load_runtime(conf, plugin_dir);
			if (!nrt) {
				ab_log(AB_LOG_ERR, "reload refused: still running the previous "
					"configuration");
				continue;
			}
			if (strcmp(nrt->cfg->store_path, rt->cfg->store_path) != 0)
				ab_log(AB_LOG_WARNING, "reload: a new store path takes effect only "
					"after a restart");
			ab_dispatch_set_runtime(disp, nrt);
			ab_syslog_in_set_runtime(syslog_in, nrt);   /* syslog */
			ab_milter_set_runtime(milter, nrt);         /* milter */
			ab_sched_set_runtime(sched, nrt);           /* scheduler */
			ab_runtime_unref(rt);
			rt = nrt;
			ab_log(AB_LOG_NOTICE, "configuration reloaded: %zu channel(s), %zu rule(s)",
				rt->n_channels, rt->cfg->n_rules);
			ab_channels_notes(rt->cfg, log_channel_note, NULL);
			continue;
		}
		if (sig == SIGHUP) {
			ab_log(AB_LOG_NOTICE, "SIGHUP ignored: use SIGUSR1 to reload, SIGTERM to stop");
			continue;
		}
		ab_log(AB_LOG_NOTICE, "signal %d: finishing in-flight deliveries and stopping", sig);
		break;
	}
	ab_milter_stop(milter);         /* milter: answers in-flight mail first */
	ab_syslog_in_stop(syslog_in);   /* syslog: commits what it read */
	ab_sched_stop(sched);           /* scheduler: a pass in progress commits */
	ab_dispatch_stop(disp);
	ab_store_close(st);
	if (pidfile && pidfd >= 0) {
		/* After a privilege drop the directory may not be ours: empty it then. */
		if (unlink(pidfile) < 0 && ftruncate(pidfd, 0) < 0)
			ab_log(AB_LOG_WARNING, "pid file %s: could not remove it", pidfile);
		close(pidfd);
	}
	ab_runtime_unref(rt);
	ab_log(AB_LOG_NOTICE, "stopped");
	return 0;
}
