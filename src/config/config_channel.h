/*
 * config_channel.h - the "channels" section of alertbridge.conf
 * (config_channel.c): one block per channel, its plugin type, the plugin's
 * own settings (passed on as JSON) and the host settings the core keeps.
 *
 *   channels = ( { name = "ops"; type = "slack"; rate = "1/s"; burst = 3;
 *                  fallback = "inbox"; failure_threshold = 3; enabled = true;
 *                  <plugin settings...> }, ... );
 */
#ifndef AB_CONFIG_CHANNEL_H
#define AB_CONFIG_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define AB_PAUSE_BASE_DEFAULT_MS 1000
#define AB_PAUSE_CAP_DEFAULT_MS 30000

struct ab_channel_conf {
	char *name;
	char *type;          /* plugin name */
	json_t *settings;    /* plugin's own settings (name/type removed) as JSON */
	char *file;          /* file and line where the channel is defined */
	int line;
	/* --- host settings (not passed to the plugin) --- */
	double rate;         /* messages per second; 0 = type default (ratelimit.c) */
	int burst;           /* bucket size; 0 = default */
	char *fallback;      /* channel told when this one starts failing, or NULL */
	int failure_threshold; /* consecutive failures before "failing"; 0 = default 3 */
	int64_t pause_base_ms; /* circuit breaker: the first pause after a failure (1s) */
	int64_t pause_cap_ms;  /* ... and the longest, however many probes failed (30s) */
	bool enabled;        /* enabled = false: validated, never created by the daemon;
			      * routes skip it, its queued jobs are held (default true) */
};

/* For config.c's table (config_schema.h): the "channels" list, stored as a
 * struct ab_channel_conf array at dst + f->off and its count at dst +
 * f->off_n.  fallback names are checked later as channel references. */
struct ab_conf_ctx;
struct ab_conf_field;
struct config_setting_t;   /* libconfig.h */
void ab_conf_channels(struct ab_conf_ctx *c, const struct config_setting_t *s,
	const struct ab_conf_field *f, void *dst);
void ab_conf_channels_free(struct ab_channel_conf *chs, size_t n);

#endif
