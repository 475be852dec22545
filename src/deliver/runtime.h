/*
 * runtime.h - a reference-counted snapshot of the running configuration:
 * the validated config plus one live plugin instance per channel (per
 * enabled channel: enabled = false ones are not created, see below).
 *
 * Reload builds a complete new snapshot first and swaps it in only when
 * every plugin loaded and every channel was created; in-flight deliveries
 * keep their reference to the old snapshot until they finish.
 */
#ifndef AB_RUNTIME_H
#define AB_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include "config/config.h"
#include "deliver/plugin.h"

struct ab_channel_rt {
	const char *name;              /* borrowed from cfg */
	struct ab_loaded_plugin plugin;
	void *inst;
};

struct ab_runtime {
	struct ab_config *cfg;         /* owned */
	struct ab_host *host;          /* owned: this snapshot's host services, whose
					  ctx holds cfg's secrets_key */
	struct ab_channel_rt *channels;
	size_t n_channels;
	int refs;                      /* atomic */
};

/* Load plugins and create every channel, with a host of the snapshot's own
 * (ab_host_new with cfg->secrets_key: building a snapshot changes nothing
 * of another, so a refused reload leaves the running one as it was).
 * Settings the plugin declares in path_settings are made absolute against
 * state_dir first; then the plugin's check() runs.  Takes ownership of cfg
 * (freed on failure too).  plugin_dir overrides cfg->plugin_dir when
 * non-NULL.  On error returns NULL with "FILE:LINE: channel NAME: message"
 * lines in *errors (caller frees). */
struct ab_runtime *ab_runtime_build(struct ab_config *cfg, const char *plugin_dir,
	char **errors);
/* ab_runtime_build_ex flags */
enum {
	AB_RT_WITH_DISABLED = 1,   /* also create the channels with enabled = false
				      (which the daemon's snapshot leaves out) */
	AB_RT_NO_CHECK = 2,        /* do not call the plugins' check(): `alertbridge
				      test` shows what the guard does at send time */
};
/* The same with flags; warnings (may be NULL): "FILE:LINE: channel 'NAME':
 * warning: ..." lines (what the plugins' check() warned about, e.g. a url
 * host that does not resolve now), NULL if none; caller frees. */
struct ab_runtime *ab_runtime_build_ex(struct ab_config *cfg, const char *plugin_dir,
	unsigned flags, char **errors, char **warnings);
struct ab_runtime *ab_runtime_ref(struct ab_runtime *rt);
void ab_runtime_unref(struct ab_runtime *rt);
struct ab_channel_rt *ab_runtime_channel(struct ab_runtime *rt, const char *name);
/* The rate (per second, 0 = unlimited) the plugin of channel gives a
 * channel that sets none (ab_plugin.default_rate); 0 for an unknown channel. */
double ab_runtime_default_rate(struct ab_runtime *rt, const char *channel);

/* The file channel keeps its data in: the value of its plugin's first
 * path setting (ab_plugin.path_settings[0]), made absolute against
 * state_dir.  Loads the plugin from plugin_dir (NULL: cfg->plugin_dir) to
 * read the declaration; creates no instance.  Malloc'd; NULL with a
 * message in err when the channel is unknown, its plugin does not load or
 * declares no path setting, or the channel does not set it. */
/* Send a clearly marked test message through a live channel (its
 * plugin's test(), else a system.test event whose summary names by, e.g.
 * "alertbridge test"), the result into res. */
void ab_channel_test(struct ab_channel_rt *ch, const char *by, struct ab_result *res);

char *ab_channel_data_file(const struct ab_config *cfg, const char *plugin_dir,
	const char *channel, char *err, size_t errsz);

#endif
