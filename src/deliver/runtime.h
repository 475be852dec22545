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
	struct ab_channel_rt *channels;
	size_t n_channels;
	int refs;                      /* atomic */
};

/* Load plugins and create every channel.  Takes ownership of cfg (freed on
 * failure too).  plugin_dir overrides cfg->plugin_dir when non-NULL.  On
 * error returns NULL with "FILE:LINE: channel NAME: message" lines in
 * *errors (caller frees). */
struct ab_runtime *ab_runtime_build(struct ab_config *cfg, const char *plugin_dir,
	const struct ab_host *host, char **errors);
/* ab_runtime_build_ex flags */
enum {
	AB_RT_WITH_DISABLED = 1,   /* also create the channels with enabled = false
				      (which the daemon's snapshot leaves out) */
	AB_RT_NO_URL_CHECK = 2,    /* leave url settings to the plugin and the guard
				      at send time (`alertbridge test` shows it) */
};
/* The same with flags; warnings (may be NULL): "FILE:LINE: channel 'NAME':
 * warning: ..." lines (a url host that does not resolve now), NULL if none;
 * caller frees. */
struct ab_runtime *ab_runtime_build_ex(struct ab_config *cfg, const char *plugin_dir,
	const struct ab_host *host, unsigned flags, char **errors, char **warnings);
struct ab_runtime *ab_runtime_ref(struct ab_runtime *rt);
void ab_runtime_unref(struct ab_runtime *rt);
struct ab_channel_rt *ab_runtime_channel(struct ab_runtime *rt, const char *name);

#endif
