/*
 * config.h - alertbridge.conf: libconfig loading, schema validation and
 * reference-counted snapshots.
 *
 * The loaded file is checked against a schema: unknown settings, wrong
 * types, bad durations and globs, duplicate or unknown channel names are
 * errors reported as "FILE:LINE: message" (every error, not only the first).
 * Relative paths are resolved against state_dir.
 *
 * Top-level settings (see conf/alertbridge.conf for the commented default):
 *   state_dir, store, plugin_dir, user, pidfile,
 *   log      { level; syslog; }
 *   dispatch { workers; backoff_base; backoff_cap; max_age; poll; timeout; }
 *   channels ( { name; type; <plugin settings...> }, ... )
 *   rules    ( { name; events; categories; severities; min_severity;
 *                sources; channels; final; }, ... )
 *   default  [ "channel", ... ]
 */
#ifndef AB_CONFIG_H
#define AB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "event.h"

struct ab_channel_conf {
	char *name;
	char *type;          /* plugin name */
	json_t *settings;    /* plugin's own settings (name/type removed) as JSON */
	char *file;          /* file and line where the channel is defined */
	int line;
};

struct ab_rule_conf {
	char *name;          /* "rule N" when unnamed */
	char *file;
	int line;
	char **events;       /* type globs; n_events == 0 matches any */
	size_t n_events;
	unsigned categories; /* bitmask of 1u << ab_category; 0 = any */
	unsigned severities; /* bitmask of 1u << ab_severity; 0 = any */
	int min_severity;    /* -1 = none */
	char **sources;      /* globs; 0 = any */
	size_t n_sources;
	char **channels;     /* names, each a defined channel */
	size_t n_channels;
	bool final;
};

struct ab_dispatch_conf {
	int workers;              /* default 2 */
	int64_t backoff_base_ms;  /* default 2s */
	int64_t backoff_cap_ms;   /* default 10m */
	int64_t max_age_ms;       /* default 2d */
	int64_t poll_ms;          /* default 500ms: how often the store is polled */
	int64_t timeout_ms;       /* default 30s: lease on a running job */
};

struct ab_syslog_conf;   /* syslog_conf.h: listeners and syslog sources */
struct ab_mail_conf;     /* mail_conf.h: milter, mail sources, profiles */

struct ab_config {
	char *path;               /* the file loaded */
	char *state_dir;          /* default "/var/lib/alertbridge" */
	char *store_path;         /* default "<state_dir>/store.db" */
	char *plugin_dir;         /* default PKGPLUGINDIR */
	char *user;               /* NULL = do not drop privileges */
	char *pidfile;            /* NULL = none */
	int log_level;            /* AB_LOG_*; default AB_LOG_INFO */
	bool log_syslog;          /* default false */
	struct ab_dispatch_conf dispatch;
	struct ab_channel_conf *channels;
	size_t n_channels;
	struct ab_rule_conf *rules;
	size_t n_rules;
	char **default_channels;
	size_t n_default;
	char *secrets_key;        /* key file for enc:v1: secrets; NULL = none */
	struct ab_syslog_conf *syslog;  /* NULL when not configured */
	struct ab_mail_conf *mail;      /* NULL when not configured */
	int refs;                 /* snapshot reference count, see ab_config_ref() */
};

/* Load and validate.  On error returns NULL and *errors holds every
 * problem as "FILE:LINE: message\n" lines (caller frees). */
struct ab_config *ab_config_load(const char *path, char **errors);
void ab_config_free(struct ab_config *cfg);
void ab_syslog_conf_free(struct ab_syslog_conf *sc);
void ab_mail_conf_free(struct ab_mail_conf *mc);
const struct ab_channel_conf *ab_config_channel(const struct ab_config *cfg, const char *name);
/* Resolve a path relative to state_dir (absolute paths are kept); caller frees. */
char *ab_config_path(const struct ab_config *cfg, const char *p);

#endif
