/*
 * config.h - alertbridge.conf loaded and checked: struct ab_config, the
 * top-level settings, and the lookups over a loaded configuration.
 *
 * The loaded file is checked against a schema (config_schema.h): unknown
 * settings, wrong types, bad durations and globs, duplicate or unknown
 * channel names are errors reported as "FILE:LINE: message" (every error,
 * not only the first).  Relative paths are resolved against state_dir.
 * A loaded configuration is not reference-counted itself: the daemon shares
 * it inside the reference-counted snapshot of deliver/runtime.h.
 *
 * Top-level settings (see conf/alertbridge.conf for the commented default):
 *   state_dir, store, plugin_dir, user, pidfile, retention, secrets_key,
 *   log      { level; syslog; }
 *   dispatch { workers; backoff_base; backoff_cap; max_age; poll; timeout; }
 *   default  [ "channel", ... ]
 * and the sections, one module each:
 *   channels                             config_channel.h
 *   rules, teams                         config_rules.h
 *   syslog                               config_syslog.h
 *   http                                 config_http.h
 *   milter, mail_sources, profiles       config_mail.h
 */
#ifndef AB_CONFIG_H
#define AB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config_channel.h"
#include "config/config_http.h"
#include "config/config_mail.h"
#include "config/config_rules.h"
#include "config/config_users.h"
#include "config/config_syslog.h"

struct ab_dispatch_conf {
	int workers;              /* default 2 */
	int in_flight;            /* default 8: HTTP requests in flight per worker and host */
	int64_t backoff_base_ms;  /* default 2s */
	int64_t backoff_cap_ms;   /* default 10m */
	int64_t max_age_ms;       /* default 2d */
	int64_t poll_ms;          /* default 500ms: how often the store is polled */
	int64_t timeout_ms;       /* default 30s: lease on a running job */
};

struct ab_config {
	char *path;               /* the file loaded */
	char *state_dir;          /* default "/var/lib/alertbridge" */
	char *store_path;         /* default "<state_dir>/store.db" */
	char *plugin_dir;         /* default PKGPLUGINDIR */
	char *user;               /* NULL = do not drop privileges */
	char *pidfile;            /* NULL = none */
	int64_t retention_ms;     /* default 30d; 0 = keep every row (store pruning) */
	int min_free_mb;          /* default 64; 0 = off: below it inputs answer "try again" */
	int log_level;            /* AB_LOG_*; default AB_LOG_INFO */
	bool log_syslog;          /* default false */
	struct ab_dispatch_conf dispatch;
	struct ab_channel_conf *channels;
	size_t n_channels;
	struct ab_rule_conf *rules;
	size_t n_rules;
	char **default_channels;
	size_t n_default;
	struct ab_chan_ref *default_refs; /* one per default channel (routing), or NULL */
	struct ab_team_conf *teams;   /* team blocks */
	size_t n_teams;
	struct ab_user_conf *users;   /* the directory (config_users.h) */
	size_t n_users;
	struct ab_people_conf *people; /* the people section (config_users.h), or NULL */
	char *secrets_key;        /* key file for enc:v1: secrets; NULL = none */
	struct ab_syslog_conf *syslog;  /* NULL when not configured */
	struct ab_mail_conf *mail;      /* NULL when not configured */
	struct ab_http_conf *http;      /* NULL when not configured: no HTTP listener */
};

/* Load and validate.  On error returns NULL and *errors holds every
 * problem as "FILE:LINE: message\n" lines (caller frees). */
struct ab_config *ab_config_load(const char *path, char **errors);
/* For `check`: the same, but a file that parsed is returned even when it
 * has errors (then *errors is set), so that the channels that were read can
 * still be validated by their plugins in the same run.  Never run it. */
struct ab_config *ab_config_load_partial(const char *path, char **errors);
void ab_config_free(struct ab_config *cfg);
/* The channel called name, or NULL. */
const struct ab_channel_conf *ab_config_channel(const struct ab_config *cfg, const char *name);
/* Is the channel defined with enabled = false?  (false for unknown names) */
bool ab_channel_disabled(const struct ab_config *cfg, const char *name);
/* Notes about disabled channels (enabled = false), one line each, for the
 * daemon's log at start/reload and `alertbridge check`: every disabled
 * channel, and every enabled channel whose fallback is disabled (its
 * health events then go only to the log).  Returns the number of lines. */
typedef void (*ab_channel_note_fn)(void *arg, bool warning, const char *line);
int ab_channels_notes(const struct ab_config *cfg, ab_channel_note_fn fn, void *arg);
/* Resolve a path relative to state_dir (absolute paths are kept); caller frees. */
char *ab_config_path(const struct ab_config *cfg, const char *p);

#endif
