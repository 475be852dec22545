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
 *   channels ( { name; type; enabled; rate; burst; fallback; failure_threshold;
 *                <plugin settings...> }, ... )
 *   rules    ( { name; events; categories; severities; min_severity;
 *                sources; tools; statuses; min_priority; assets; teams;
 *                fields; not; active; mute; mute_critical; channels; final;
 *                throttle; throttle_key; group_by; group_wait;
 *                group_interval; max_group_size; digest; remind; }, ... )
 *   teams    ( { name; channels; default; rules; }, ... )
 *   default  [ "channel", ... ]
 */
#ifndef AB_CONFIG_H
#define AB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "event/event.h"

struct ab_channel_conf {
	char *name;
	char *type;          /* plugin name */
	json_t *settings;    /* plugin's own settings (name/type removed) as JSON */
	char *file;          /* file and line where the channel is defined */
	int line;
	/* --- host settings (config_channel.c; not passed to the plugin) --- */
	double rate;         /* messages per second; 0 = type default (ratelimit.c) */
	int burst;           /* bucket size; 0 = default */
	char *fallback;      /* channel told when this one starts failing, or NULL */
	int failure_threshold; /* consecutive failures before "failing"; 0 = default 3 */
	bool enabled;        /* enabled = false: validated, never created by the daemon;
			      * routes skip it, its queued jobs are held (default true) */
};

struct ab_window;        /* timewin.h */
struct ab_schedule;      /* timewin.h */
struct ab_field_match;
struct ab_team_conf;

/* Channels one rule (or default) may name: routing keeps them in fixed arrays. */
#define AB_RULE_MAX_CHANNELS 64

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
	/* --- the full rule language (config_rules.c, route.c, noise.c) --- */
	char *key;           /* state key: name, or "team/name" for team rules */
	char **tools, **assets, **teams;   /* globs; 0 = any */
	size_t n_tools, n_assets, n_teams;
	char **statuses;     /* exact, case-insensitive; unset = the active ones */
	size_t n_statuses;
	int min_priority;    /* 1 = highest; 0 = none: priority must be <= this */
	struct ab_field_match *fields;     /* name -> PCRE2 regex, all must match */
	size_t n_fields;
	struct ab_rule_conf *not;          /* nested matcher that excludes, or NULL */
	bool is_not;         /* this is a nested matcher (no actions, no status default) */
	struct ab_window *active, *mute;   /* time windows (timewin.h) */
	size_t n_active, n_mute;
	bool mute_critical;  /* a mute may silence critical events too */
	int64_t throttle_ms; /* 0 = no throttle */
	char **throttle_key; /* field names; 0 = type + fingerprint */
	size_t n_throttle_key;
	char **group_by;     /* field names; grouping when n_group_by > 0 */
	size_t n_group_by;
	int64_t group_wait_ms, group_interval_ms;
	int max_group_size;  /* items listed per group message */
	struct ab_schedule *digest;        /* NULL = no digest */
	bool digest_send_empty;
	int digest_max_items;
	int64_t *remind_ms;  /* offsets before fields.expires_at */
	size_t n_remind;
	const struct ab_team_conf *team;   /* owning team, NULL = global */
};

struct ab_field_match {
	char *name;          /* "title", "asset", ... or a key of fields ("fields.x" too) */
	char *pattern;
	void *re;            /* pcre2_code * */
};

/* A team block: its rules only see events whose team is this name; its
 * channels only ever get events of this team. */
struct ab_team_conf {
	char *name;
	char *file;
	int line;
	char **channels;     /* channels owned by the team */
	size_t n_channels;
	char **default_channels;  /* team fallback; has_default false = global default */
	size_t n_default;
	bool has_default;
	struct ab_rule_conf *rules;
	size_t n_rules;
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
	int64_t retention_ms;     /* default 30d; 0 = keep every row (store pruning) */
	int log_level;            /* AB_LOG_*; default AB_LOG_INFO */
	bool log_syslog;          /* default false */
	struct ab_dispatch_conf dispatch;
	struct ab_channel_conf *channels;
	size_t n_channels;
	struct ab_rule_conf *rules;
	size_t n_rules;
	char **default_channels;
	size_t n_default;
	struct ab_team_conf *teams;   /* team blocks (config_rules.c) */
	size_t n_teams;
	char *secrets_key;        /* key file for enc:v1: secrets; NULL = none */
	struct ab_syslog_conf *syslog;  /* NULL when not configured */
	struct ab_mail_conf *mail;      /* NULL when not configured */
	int refs;                 /* snapshot reference count, see ab_config_ref() */
};

/* Load and validate.  On error returns NULL and *errors holds every
 * problem as "FILE:LINE: message\n" lines (caller frees). */
struct ab_config *ab_config_load(const char *path, char **errors);
/* For `check`: the same, but a file that parsed is returned even when it
 * has errors (then *errors is set), so that the channels that were read can
 * still be validated by their plugins in the same run.  Never run it. */
struct ab_config *ab_config_load_partial(const char *path, char **errors);
void ab_config_free(struct ab_config *cfg);
void ab_syslog_conf_free(struct ab_syslog_conf *sc);
void ab_mail_conf_free(struct ab_mail_conf *mc);
const struct ab_channel_conf *ab_config_channel(const struct ab_config *cfg, const char *name);
/* Is the channel defined with enabled = false?  (false for unknown names) */
bool ab_channel_disabled(const struct ab_config *cfg, const char *name);
/* Resolve a path relative to state_dir (absolute paths are kept); caller frees. */
char *ab_config_path(const struct ab_config *cfg, const char *p);

#endif
