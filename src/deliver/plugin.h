/*
 * plugin.h (core) - the dlopen plugin loader and the host services given
 * to plugins.
 *
 * Loading rules: only "<plugin_dir>/<name>.so" with name made of [a-z0-9_-],
 * RTLD_NOW | RTLD_LOCAL, the file and the directory must not be writable by
 * group or others (nor owned by another non-root user), exactly one
 * exported entry symbol, the same ABI major and a struct at least as large
 * as ABI 1.0's (the members a later minor version appended are read only
 * when the plugin's struct has them).
 */
#ifndef AB_CORE_PLUGIN_H
#define AB_CORE_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <alertbridge/plugin.h>

struct ab_loaded_plugin {
	const struct ab_plugin *api;
	void *handle;    /* dlopen handle */
	char *path;
};

/* 0 on success, -1 with a message (what to do) in err. */
int ab_plugin_load(const char *dir, const char *name, struct ab_loaded_plugin *out,
	char *err, size_t errsz);
void ab_plugin_unload(struct ab_loaded_plugin *p);
/* Validate an entry's struct (ABI major, size at least the ABI 1.0 struct,
 * name, mandatory callbacks, a sane default_rate, http_prepare and
 * http_result both or neither). */
int ab_plugin_validate(const struct ab_plugin *api, const char *name, char *err, size_t errsz);

/* The optional ABI 1.2 members, or what their absence means when the
 * plugin's struct predates them: no default rate (0), no path settings
 * (NULL), no check (0: nothing to say). */
double ab_plugin_default_rate(const struct ab_plugin *api);
const char *const *ab_plugin_path_settings(const struct ab_plugin *api);
/* ABI 1.3: does the plugin split send() into http_prepare and http_result
 * (both set and covered by its struct)? */
bool ab_plugin_http_split(const struct ab_plugin *api);
/* ABI 1.4: does the plugin address a message's "recipients" (flags has
 * AB_PLUGIN_F_RECIPIENTS and its struct covers flags)? */
bool ab_plugin_takes_recipients(const struct ab_plugin *api);
/* AB_PLUGIN_F_PAYLOAD_TEXT (ABI 1.5). */
bool ab_plugin_takes_text(const struct ab_plugin *api);
/* api->check(config, host, ...) when the plugin has one: 0, -1 refused or
 * 1 warning, with the plugin's message in err. */
int ab_plugin_check(const struct ab_plugin *api, const json_t *config,
	const struct ab_host *host, char *err, size_t errsz);

/* The host services for one runtime (ab_runtime_build makes one per
 * snapshot): logging through ab_log, the real clock, the guarded HTTP
 * helper, the SSRF guard and the URL check, and secrets resolved with
 * secrets_key, the configuration's key file (NULL: an enc: reference fails
 * with a message saying to set it; file: and env: always work).  Its ctx
 * points at its own state and nothing is process-global, so the running
 * snapshot and a reload being built never share a key.  NULL on ENOMEM.
 * Free with ab_host_free once no plugin instance uses it. */
struct ab_host *ab_host_new(const char *secrets_key);
void ab_host_free(struct ab_host *h);

#endif
