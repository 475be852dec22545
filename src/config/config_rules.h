/*
 * config_rules.h - the "rules" and "teams" sections of alertbridge.conf
 * (config_rules.c): the rule language (matchers, time windows, throttle,
 * grouping, digests, reminders) and team blocks, as route.c and noise.c
 * read them.
 *
 *   rules = ( { name; events; categories; severities; min_severity;
 *               sources; tools; statuses; min_priority; assets; teams;
 *               fields; not; active; mute; mute_critical; channels; final;
 *               throttle; throttle_key; group_by; group_wait;
 *               group_interval; max_group_size; digest; remind; }, ... );
 *   teams = ( { name; channels; default; rules = ( ... ); }, ... );
 */
#ifndef AB_CONFIG_RULES_H
#define AB_CONFIG_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/regex.h"

struct ab_window;        /* timewin.h */
struct ab_schedule;      /* timewin.h */
struct ab_field_match;
struct ab_team_conf;
struct ab_recipients_conf;

/* Channels one rule (or default) may name: routing keeps them in fixed arrays. */
#define AB_RULE_MAX_CHANNELS 64

/* What routing needs of one channel a rule (or default) names, resolved
 * once the whole configuration is read (config.c), so that routing looks
 * no name up per event. */
struct ab_chan_ref {
	const struct ab_team_conf *owner;  /* the team that owns the channel, or NULL */
	bool disabled;                     /* defined with enabled = false */
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
	struct ab_chan_ref *chan_refs;     /* one per channel (config.c); NULL: by name */
	bool final;
	bool send_resolved;  /* false: a resolved event (ab_resolved) goes nowhere by this rule */
	/* --- the full rule language (route.c, noise.c) --- */
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
	struct ab_recipients_conf *recipients;  /* people it reaches (config_users.h), or NULL */
};

struct ab_field_match {
	char *name;          /* "title", "asset", ... or a key of fields ("fields.x" too) */
	char *pattern;
	struct ab_regex *re; /* lib/regex.h */
	int member;          /* the event member name is (AB_EVM_, AB_EVF_ROUTE), or -1 */
	const char *key;     /* else the key of fields: name without "fields." */
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
	struct ab_chan_ref *default_refs;  /* one per default channel (config.c), or NULL */
	bool has_default;
	struct ab_rule_conf *rules;
	size_t n_rules;
};

/* For config.c's table (config_schema.h): "rules" and "teams", each stored
 * as an array at dst + f->off and its count at dst + f->off_n.  Channel
 * names are checked later as channel references. */
struct ab_conf_ctx;
struct ab_conf_field;
struct config_setting_t;   /* libconfig.h */
void ab_conf_rules(struct ab_conf_ctx *c, const struct config_setting_t *s,
	const struct ab_conf_field *f, void *dst);
void ab_conf_teams(struct ab_conf_ctx *c, const struct config_setting_t *s,
	const struct ab_conf_field *f, void *dst);
void ab_conf_rules_free(struct ab_rule_conf *rules, size_t n);
void ab_conf_teams_free(struct ab_team_conf *teams, size_t n);

#endif
