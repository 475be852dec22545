/*
 * config.c - alertbridge.conf: the top level.  The file is read with
 * libconfig (1.5 or later; @include resolves relative to the directory of
 * the main file) and its root group is walked with the schema engine
 * (config_schema.c) against top_fields[]: the top-level settings are
 * handled here (top_fields[], log_fields[], dispatch_fields[]), each section
 * by its own module (config_channel.c, config_rules.c, config_syslog.c,
 * config_mail.c), which stores its part at the row's offset in struct
 * ab_config.  Once everything is read, the references between sections are
 * resolved here: channel names (rules, teams, default, fallback), mail
 * sources -> profiles (config_mail.c), syslog sources -> profiles.  New
 * settings are added by adding a row (and a struct member).
 *
 * Public functions:
 *   ab_config_load()          read, validate, resolve paths; all errors at once
 *   ab_config_load_partial()  the same, keeping a file with errors (for check)
 *   ab_config_free()          release a configuration
 *   ab_config_channel()       find a channel by name
 *   ab_channel_disabled()     is a channel defined with enabled = false
 *   ab_channels_notes()       the log lines about disabled channels
 *   ab_config_path()          resolve a path relative to state_dir
 *
 * Diagnostics: every problem becomes one line "FILE:LINE: message\n" in the
 * caller's *errors (config_schema.c collects them): libconfig syntax errors
 * and @include problems, then everything the schema and the sections find;
 * here: bad log levels, relative state_dir and secrets_key, bad retention,
 * backoff_base > backoff_cap, unknown channel references (with the defined
 * channels), syslog sources naming an unknown profile.
 *
 * Limits: libconfig 1.5 @include takes one plain file name, relative to the
 * main file's directory; wildcards ("*.conf") are not expanded (the error
 * says so).  A top-level setting such as channels can appear only once, so
 * it cannot be split over several included files.
 */
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/config_schema.h"
#include "lib/buf.h"
#include "lib/diskroom.h"
#include "lib/log.h"
#include "lib/util.h"

#ifndef PKGPLUGINDIR
#define PKGPLUGINDIR "/usr/local/lib/alertbridge/plugins"
#endif

#define AB_CONF_DEFAULT_STATE_DIR "/var/lib/alertbridge"
#define AB_CONF_DEFAULT_STORE "store.db"
#define AB_CONF_LIST_SHOWN 20           /* channel names listed in a hint */

#define MS_SEC 1000LL
#define MS_MIN (60 * MS_SEC)
#define MS_HOUR (60 * MS_MIN)
#define MS_DAY (24 * MS_HOUR)

#define AT(dst, off, type) ((type *)(void *)((char *)(dst) + (off)))

/* One load: the schema run and what the top level keeps until the end. */
struct load {
	struct ab_conf_ctx c;           /* first: handlers get &load->c */
	struct ab_config *cfg;
	char *store_raw;                /* store and pidfile as written */
	char *pidfile_raw;
	const config_setting_t *base_set, *cap_set;   /* for base <= cap */
};

static struct load *load_of(struct ab_conf_ctx *c)
{
	return (struct load *)(void *)c;
}

/* ------------------------------------------------------------------ log, dispatch */

static void h_log_level(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	const char *v = config_setting_get_string(s);
	char sh[AB_CONF_SHOW_MAX + 8];
	int lvl = ab_log_level_parse(v);

	if (lvl < 0) {
		ab_conf_err(c, s, "setting '%s': unknown log level '%s' (use err, warning, notice, "
			    "info, debug)", f->name, ab_conf_show(v, sh, sizeof sh));
		return;
	}
	*AT(dst, f->off, int) = lvl;
}

#define TOFF(m) offsetof(struct ab_config, m)
static const struct ab_conf_field log_fields[] = {
	{ "level", AB_CONF_T_STRING, false, h_log_level, TOFF(log_level), 0, 0, 0 },
	{ "syslog", AB_CONF_T_BOOL, false, ab_conf_h_bool, TOFF(log_syslog), 0, 0, 0 },
};

static void h_log(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	(void)f;
	ab_conf_check_group(c, s, log_fields, sizeof log_fields / sizeof log_fields[0], "log",
			    dst, NULL);
}

/* Remembers the backoff settings for the base <= cap check. */
static void h_backoff(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	int before = c->nerr;

	ab_conf_h_duration(c, s, f, dst);
	if (c->nerr != before)
		return;
	if (!strcmp(f->name, "backoff_base"))
		load_of(c)->base_set = s;
	else
		load_of(c)->cap_set = s;
}

#define DOFF(m) offsetof(struct ab_dispatch_conf, m)
static const struct ab_conf_field dispatch_fields[] = {
	{ "workers", AB_CONF_T_INT, false, ab_conf_h_int, DOFF(workers), 0, 1, 64 },
	{ "in_flight", AB_CONF_T_INT, false, ab_conf_h_int, DOFF(in_flight), 0, 1, 32 },
	{ "backoff_base", AB_CONF_T_DURATION, false, h_backoff, DOFF(backoff_base_ms), 0,
	  1, MS_DAY },
	{ "backoff_cap", AB_CONF_T_DURATION, false, h_backoff, DOFF(backoff_cap_ms), 0,
	  1, 30 * MS_DAY },
	{ "max_age", AB_CONF_T_DURATION, false, ab_conf_h_duration, DOFF(max_age_ms), 0,
	  MS_SEC, 365 * MS_DAY },
	{ "poll", AB_CONF_T_DURATION, false, ab_conf_h_duration, DOFF(poll_ms), 0, 1, MS_HOUR },
	{ "timeout", AB_CONF_T_DURATION, false, ab_conf_h_duration, DOFF(timeout_ms), 0,
	  MS_SEC, MS_DAY },
};

static void h_dispatch(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	struct ab_dispatch_conf *d = &((struct ab_config *)dst)->dispatch;
	const struct load *ld = load_of(c);
	char b[32], k[32];

	(void)f;
	ab_conf_check_group(c, s, dispatch_fields,
			    sizeof dispatch_fields / sizeof dispatch_fields[0], "dispatch", d,
			    NULL);
	if (d->backoff_base_ms > d->backoff_cap_ms) {
		ab_conf_fmt_duration(d->backoff_base_ms, b, sizeof b);
		ab_conf_fmt_duration(d->backoff_cap_ms, k, sizeof k);
		ab_conf_err(c, ld->base_set ? ld->base_set : ld->cap_set ? ld->cap_set : s,
			    "setting 'backoff_base' (%s) is greater than 'backoff_cap' (%s)", b, k);
	}
}

/* ------------------------------------------------------------------ top level */

static void h_abspath(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	const char *v = config_setting_get_string(s);
	char sh[AB_CONF_SHOW_MAX + 8];

	if (v[0] != '/') {
		ab_conf_err(c, s, "setting '%s' must be an absolute path (got '%s')", f->name,
			    ab_conf_show(v, sh, sizeof sh));
		return;
	}
	ab_conf_h_string(c, s, f, dst);
}

/* Kept in struct load; resolved against state_dir at the end. */
static void h_later(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	(void)dst;
	ab_conf_h_string(c, s, f, load_of(c));
}

/* retention: 0 keeps every row; otherwise at least an hour. */
static void h_retention(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	const char *v = config_setting_get_string(s);
	char sh[AB_CONF_SHOW_MAX + 8], lo[32], hi[32], got[32];
	int64_t ms;

	if (ab_duration_parse(v, &ms) != 0) {
		ab_conf_err(c, s, "setting '%s': bad duration '%s' (use 30d, 12h, 2w; \"0\" keeps "
			    "everything)", f->name, ab_conf_show(v, sh, sizeof sh));
		return;
	}
	if (ms != 0 && (ms < f->min || ms > f->max)) {
		ab_conf_fmt_duration(f->min, lo, sizeof lo);
		ab_conf_fmt_duration(f->max, hi, sizeof hi);
		ab_conf_fmt_duration(ms, got, sizeof got);
		ab_conf_err(c, s, "setting '%s' must be 0 (keep everything) or between %s and %s "
			    "(got %s)", f->name, lo, hi, got);
		return;
	}
	*AT(dst, f->off, int64_t) = ms;
}

#define LOFF(m) offsetof(struct load, m)
static const struct ab_conf_field top_fields[] = {
	{ "state_dir", AB_CONF_T_STRING, false, h_abspath, TOFF(state_dir), 0, 0, 0 },
	{ "store", AB_CONF_T_STRING, false, h_later, LOFF(store_raw), 0, 0, 0 },
	{ "plugin_dir", AB_CONF_T_STRING, false, ab_conf_h_string, TOFF(plugin_dir), 0, 0, 0 },
	{ "user", AB_CONF_T_STRING, false, ab_conf_h_string, TOFF(user), 0, 0, 0 },
	{ "pidfile", AB_CONF_T_STRING, false, h_later, LOFF(pidfile_raw), 0, 0, 0 },
	{ "retention", AB_CONF_T_DURATION, false, h_retention, TOFF(retention_ms), 0,
	  MS_HOUR, 100 * 365 * MS_DAY },
	{ "min_free_mb", AB_CONF_T_INT, false, ab_conf_h_int, TOFF(min_free_mb), 0, 0, 1 << 24 },
	{ "log", AB_CONF_T_GROUP, false, h_log, 0, 0, 0, 0 },
	{ "dispatch", AB_CONF_T_GROUP, false, h_dispatch, 0, 0, 0, 0 },
	/* channels, rules, teams, syslog, milter, mail_sources and profiles are
	 * sections with a module each; they store at the row's offsets */
	{ "channels", AB_CONF_T_LIST, false, ab_conf_channels, TOFF(channels), TOFF(n_channels),
	  0, 0 },
	{ "rules", AB_CONF_T_LIST, false, ab_conf_rules, TOFF(rules), TOFF(n_rules), 0, 0 },
	{ "teams", AB_CONF_T_LIST, false, ab_conf_teams, TOFF(teams), TOFF(n_teams), 0, 0 },
	{ "users", AB_CONF_T_LIST, false, ab_conf_users, TOFF(users), TOFF(n_users), 0, 0 },
	{ "people", AB_CONF_T_GROUP, false, ab_conf_people, TOFF(people), 0, 0, 0 },
	{ "default", AB_CONF_T_STRINGS, false, ab_conf_h_chanrefs, TOFF(default_channels),
	  TOFF(n_default), 0, 0 },
	{ "secrets_key", AB_CONF_T_STRING, false, h_abspath, TOFF(secrets_key), 0, 0, 0 },
	{ "syslog", AB_CONF_T_GROUP, false, ab_conf_syslog, TOFF(syslog), 0, 0, 0 },
	{ "http", AB_CONF_T_GROUP, false, ab_conf_http, TOFF(http), 0, 0, 0 },
	{ "milter", AB_CONF_T_GROUP, false, ab_conf_milter, TOFF(mail), 0, 0, 0 },
	{ "mail_sources", AB_CONF_T_LIST, false, ab_conf_mail_sources, TOFF(mail), 0, 0, 0 },
	{ "profiles", AB_CONF_T_LIST, false, ab_conf_profiles, TOFF(mail), 0, 0, 0 },
};

AB_CONF_TABLE_FITS(top_fields);
AB_CONF_TABLE_FITS(log_fields);
AB_CONF_TABLE_FITS(dispatch_fields);

/* Every channel name of rules, teams, default and fallback is defined. */
static void check_refs(struct ab_conf_ctx *c, const struct ab_config *cfg)
{
	struct ab_buf names = AB_BUF_INIT(2048);
	char sh[AB_CONF_SHOW_MAX + 8];
	size_t i;

	for (i = 0; i < cfg->n_channels && i < AB_CONF_LIST_SHOWN; i++)
		ab_buf_printf(&names, "%s%s", i ? ", " : "", cfg->channels[i].name);
	if (cfg->n_channels > AB_CONF_LIST_SHOWN)
		ab_buf_puts(&names, ", ...");
	for (i = 0; i < c->n_refs; i++) {
		const char *v = config_setting_get_string(c->refs[i].elem);

		if (!v || ab_config_channel(cfg, v))
			continue;
		if (cfg->n_channels)
			ab_conf_err(c, c->refs[i].elem, "%s: unknown channel '%s' (defined "
				    "channels: %s)", c->refs[i].owner,
				    ab_conf_show(v, sh, sizeof sh), ab_buf_cstr(&names));
		else
			ab_conf_err(c, c->refs[i].elem,
				    "%s: unknown channel '%s' (no channels are defined)",
				    c->refs[i].owner, ab_conf_show(v, sh, sizeof sh));
	}
	ab_buf_free(&names);
}

/* Users but no people section: the personal lists are in the first inbox
 * channel (subscriptions and the web console work without more). */
static void default_people(struct ab_conf_ctx *c, struct ab_config *cfg)
{
	if (cfg->people || !cfg->n_users)
		return;
	for (size_t i = 0; i < cfg->n_channels; i++) {
		if (cfg->channels[i].type && !strcmp(cfg->channels[i].type, "inbox")) {
			cfg->people = ab_people_default(c, cfg->channels[i].name,
				cfg->users[0].file, cfg->users[0].line);
			return;
		}
	}
}

/* The rules' recipients against the people section and the directory. */
static void check_people(struct ab_conf_ctx *c, const struct ab_config *cfg)
{
	char what[AB_CONF_RULE_NAME_MAX * 2 + 32];

	for (size_t i = 0; i < cfg->n_rules; i++) {
		const struct ab_rule_conf *r = &cfg->rules[i];

		snprintf(what, sizeof what, "rule '%s'", r->name);
		if (r->recipients)
			ab_conf_people_check(c, cfg->people, r->recipients, what, cfg->users,
				cfg->n_users);
	}
	for (size_t t = 0; t < cfg->n_teams; t++) {
		for (size_t i = 0; i < cfg->teams[t].n_rules; i++) {
			const struct ab_rule_conf *r = &cfg->teams[t].rules[i];

			snprintf(what, sizeof what, "team '%s': rule '%s'", cfg->teams[t].name,
				r->name);
			if (r->recipients)
				ab_conf_people_check(c, cfg->people, r->recipients, what,
					cfg->users, cfg->n_users);
		}
	}
}

/* What routing needs of each channel a rule or default names: its owning
 * team and whether it is disabled, looked up once here instead of by name
 * for every event (route.c).  Out of memory leaves a list NULL: routing
 * then looks the names up. */
static struct ab_chan_ref *chan_refs(const struct ab_config *cfg, char *const *names, size_t n)
{
	struct ab_chan_ref *refs;

	if (!n || !(refs = calloc(n, sizeof *refs)))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const struct ab_channel_conf *ch = ab_config_channel(cfg, names[i]);

		refs[i].disabled = ch && !ch->enabled;
		for (size_t k = 0; k < cfg->n_teams && !refs[i].owner; k++)
			for (size_t j = 0; j < cfg->teams[k].n_channels; j++)
				if (!strcmp(cfg->teams[k].channels[j], names[i])) {
					refs[i].owner = &cfg->teams[k];
					break;
				}
	}
	return refs;
}

static void resolve_chan_refs(struct ab_config *cfg)
{
	for (size_t i = 0; i < cfg->n_rules; i++)
		cfg->rules[i].chan_refs = chan_refs(cfg, cfg->rules[i].channels,
						    cfg->rules[i].n_channels);
	for (size_t k = 0; k < cfg->n_teams; k++) {
		struct ab_team_conf *t = &cfg->teams[k];

		for (size_t i = 0; i < t->n_rules; i++)
			t->rules[i].chan_refs = chan_refs(cfg, t->rules[i].channels,
							  t->rules[i].n_channels);
		t->default_refs = chan_refs(cfg, t->default_channels, t->n_default);
	}
	cfg->default_refs = chan_refs(cfg, cfg->default_channels, cfg->n_default);
}

/* A syslog source's profile must be one of the configured profiles; the
 * syslog section keeps a borrowed pointer to them for ab_syslog_process. */
static void check_syslog_profiles(struct ab_conf_ctx *c, struct ab_config *cfg)
{
	struct ab_syslog_conf *sc = cfg->syslog;

	if (!sc)
		return;
	sc->profiles = cfg->mail;
	for (size_t i = 0; i < sc->n_sources; i++) {
		const struct ab_syslog_source_conf *src = &sc->sources[i];

		if (src->profile && !ab_mail_profile(cfg->mail, src->profile))
			ab_conf_err_at(c, src->file, src->line, "syslog source '%s': unknown "
				       "profile '%s' (add it to 'profiles')", src->name,
				       src->profile);
	}
}

/* An HTTP hook's profile must be one of the configured profiles. */
static void check_hook_profiles(struct ab_conf_ctx *c, struct ab_config *cfg)
{
	for (size_t i = 0; cfg->http && i < cfg->http->n_hooks; i++) {
		const struct ab_http_hook *h = &cfg->http->hooks[i];

		if (h->profile && !ab_mail_profile(cfg->mail, h->profile))
			ab_conf_err_at(c, h->file, h->line, "http: hook '%s': unknown profile '%s' "
				       "(add it to 'profiles')", h->name ? h->name : "?", h->profile);
	}
}

static int set_defaults(struct ab_config *cfg, const char *path)
{
	cfg->log_level = AB_LOG_INFO;
	cfg->log_syslog = false;
	cfg->dispatch.workers = 2;
	cfg->dispatch.in_flight = 8;
	cfg->dispatch.backoff_base_ms = 2 * MS_SEC;
	cfg->dispatch.backoff_cap_ms = 10 * MS_MIN;
	cfg->dispatch.max_age_ms = 2 * MS_DAY;
	cfg->dispatch.poll_ms = 500;
	cfg->dispatch.timeout_ms = 30 * MS_SEC;
	cfg->retention_ms = 30 * MS_DAY;
	cfg->min_free_mb = AB_DISKROOM_MB_DEFAULT;
	cfg->path = strdup(path);
	cfg->state_dir = strdup(AB_CONF_DEFAULT_STATE_DIR);
	cfg->plugin_dir = strdup(PKGPLUGINDIR);
	return cfg->path && cfg->state_dir && cfg->plugin_dir ? 0 : -1;
}

/* libconfig does not say which @include failed: read the name from the
 * line it reports.  Returns 0 with the quoted name in out, or -1. */
static int include_name(const char *file, int line, char *out, size_t outsz)
{
	FILE *f = fopen(file, "r");
	char buf[1024];
	int n = 0;

	if (!f)
		return -1;
	while (n < line && n < 65536 && fgets(buf, sizeof buf, f)) {
		if (!strchr(buf, '\n') && !feof(f)) {
			int ch;

			while ((ch = fgetc(f)) != EOF && ch != '\n')
				;
		}
		n++;
	}
	fclose(f);
	if (n == line) {
		const char *p = strstr(buf, "@include"), *q;

		if (p && (p = strchr(p, '"')) && (q = strchr(p + 1, '"'))) {
			snprintf(out, outsz, "%.*s", (int)(q - p - 1), p + 1);
			return 0;
		}
	}
	return -1;
}

/* Read the file; libconfig's own errors become our error lines. */
static int read_file(struct ab_conf_ctx *c, config_t *lc)
{
	char file[PATH_MAX];
	int line;

	errno = 0;
	if (config_read_file(lc, c->path))
		return 0;
	if (config_error_type(lc) == CONFIG_ERR_FILE_IO) {
		int e = errno;

		ab_conf_err_at(c, c->path, 0, "cannot read the configuration file: %s",
			       e ? strerror(e) : "I/O error");
		return -1;
	}
	ab_conf_src_file(c, config_error_file(lc), file, sizeof file);
	line = config_error_line(lc);
	if (config_error_text(lc) && strstr(config_error_text(lc), "include")) {
		char inc[256], sh[AB_CONF_SHOW_MAX + 8];

		if (include_name(file, line, inc, sizeof inc) < 0)
			ab_conf_err_at(c, file, line, "%s (@include takes one file name, relative "
				       "to %s)", config_error_text(lc), c->dir);
		else if (strpbrk(inc, "*?["))
			ab_conf_err_at(c, file, line, "cannot include '%s': libconfig 1.5 does not "
				       "expand wildcards; @include each file by name",
				       ab_conf_show(inc, sh, sizeof sh));
		else
			ab_conf_err_at(c, file, line, "cannot open include file '%s' (relative to "
				       "%s)", ab_conf_show(inc, sh, sizeof sh), c->dir);
	} else
		ab_conf_err_at(c, file, line, "%s",
			       config_error_text(lc) ? config_error_text(lc) : "parse error");
	return -1;
}

static void finish_paths(struct load *ld)
{
	struct ab_config *cfg = ld->cfg;

	cfg->store_path = ab_config_path(cfg, ld->store_raw ? ld->store_raw
							     : AB_CONF_DEFAULT_STORE);
	if (!cfg->store_path)
		ld->c.oom = true;
	if (ld->pidfile_raw) {
		cfg->pidfile = ab_config_path(cfg, ld->pidfile_raw);
		if (!cfg->pidfile)
			ld->c.oom = true;
	}
}

static struct ab_config *load(const char *path, char **errors, bool partial)
{
	struct load ld;
	struct ab_conf_ctx *c = &ld.c;
	bool parsed = false;
	config_t lc;

	memset(&ld, 0, sizeof ld);
	ab_conf_ctx_init(c, path);
	ld.cfg = calloc(1, sizeof *ld.cfg);
	if (!c->dir || !ld.cfg || set_defaults(ld.cfg, c->path) < 0) {
		c->oom = true;
		goto done;
	}
	config_init(&lc);
	config_set_auto_convert(&lc, 0);
	config_set_include_dir(&lc, c->dir);
	if (read_file(c, &lc) == 0) {
		parsed = true;
		ab_conf_check_group(c, config_root_setting(&lc), top_fields,
				    sizeof top_fields / sizeof top_fields[0], "the top level",
				    ld.cfg, NULL);
		check_refs(c, ld.cfg);
		default_people(c, ld.cfg);
		check_people(c, ld.cfg);
		resolve_chan_refs(ld.cfg);
		ab_conf_mail_finish(c, ld.cfg->mail, config_root_setting(&lc));  /* -> profiles */
		check_syslog_profiles(c, ld.cfg);
		check_hook_profiles(c, ld.cfg);
		finish_paths(&ld);
	}
	config_destroy(&lc);
done:
	free(ld.store_raw);
	free(ld.pidfile_raw);
	if (ab_conf_ctx_finish(c, errors) > 0) {
		if (partial && parsed && !c->oom)
			return ld.cfg;
		ab_config_free(ld.cfg);
		return NULL;
	}
	return ld.cfg;
}

struct ab_config *ab_config_load(const char *path, char **errors)
{
	return load(path, errors, false);
}

struct ab_config *ab_config_load_partial(const char *path, char **errors)
{
	return load(path, errors, true);
}

void ab_config_free(struct ab_config *cfg)
{
	if (!cfg)
		return;
	ab_conf_channels_free(cfg->channels, cfg->n_channels);
	ab_conf_rules_free(cfg->rules, cfg->n_rules);
	ab_conf_teams_free(cfg->teams, cfg->n_teams);
	ab_conf_users_free(cfg->users, cfg->n_users);
	ab_conf_people_free(cfg->people);
	ab_conf_strv_free(cfg->default_channels, cfg->n_default);
	free(cfg->default_refs);
	free(cfg->path);
	free(cfg->state_dir);
	free(cfg->store_path);
	free(cfg->plugin_dir);
	free(cfg->user);
	free(cfg->pidfile);
	free(cfg->secrets_key);
	ab_syslog_conf_free(cfg->syslog);
	ab_http_conf_free(cfg->http);
	ab_mail_conf_free(cfg->mail);
	free(cfg);
}

const struct ab_channel_conf *ab_config_channel(const struct ab_config *cfg, const char *name)
{
	size_t i;

	if (!cfg || !name)
		return NULL;
	for (i = 0; i < cfg->n_channels; i++)
		if (cfg->channels[i].name && !strcmp(cfg->channels[i].name, name))
			return &cfg->channels[i];
	return NULL;
}

bool ab_channel_disabled(const struct ab_config *cfg, const char *name)
{
	const struct ab_channel_conf *ch = cfg && name ? ab_config_channel(cfg, name) : NULL;

	return ch && !ch->enabled;
}

int ab_channels_notes(const struct ab_config *cfg, ab_channel_note_fn fn, void *arg)
{
	char line[512];
	int n = 0;

	for (size_t i = 0; i < cfg->n_channels; i++) {
		const struct ab_channel_conf *ch = &cfg->channels[i];

		if (!ch->enabled) {
			snprintf(line, sizeof line, "%s:%d: channel '%s' is disabled (enabled "
				"= false): not loaded, left out of every route, its queued jobs "
				"are held until it is enabled again", ch->file, ch->line, ch->name);
			fn(arg, false, line);
			n++;
		} else if (ch->fallback && ab_channel_disabled(cfg, ch->fallback)) {
			snprintf(line, sizeof line, "%s:%d: channel '%s': its fallback channel "
				"'%s' is disabled: health events of '%s' (failing, recovered) go "
				"only to the log", ch->file, ch->line, ch->name, ch->fallback,
				ch->name);
			fn(arg, true, line);
			n++;
		}
	}
	return n;
}

char *ab_config_path(const struct ab_config *cfg, const char *p)
{
	const char *dir = cfg && cfg->state_dir ? cfg->state_dir : AB_CONF_DEFAULT_STATE_DIR;
	size_t dl = strlen(dir), n;
	char *out;

	if (!p)
		return NULL;
	if (p[0] == '/' || !p[0])
		return strdup(p[0] ? p : dir);
	while (p[0] == '.' && p[1] == '/')
		p += 2;
	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	n = dl + 1 + strlen(p) + 1;
	out = malloc(n);
	if (!out)
		return NULL;
	snprintf(out, n, "%.*s%s%s", (int)dl, dir, dir[dl - 1] == '/' ? "" : "/", p);
	return out;
}
