/*
 * plugin.h (core) - the dlopen plugin loader and the host services given
 * to plugins.
 *
 * Loading rules: only "<plugin_dir>/<name>.so" with name made of [a-z0-9_-],
 * RTLD_NOW | RTLD_LOCAL, the file and the directory must not be writable by
 * group or others (nor owned by another non-root user), exactly one
 * exported entry symbol, the same ABI major and a struct at least as large
 * as the one this host knows.
 */
#ifndef AB_CORE_PLUGIN_H
#define AB_CORE_PLUGIN_H

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
/* Validate an entry's struct (ABI, size, name, mandatory callbacks). */
int ab_plugin_validate(const struct ab_plugin *api, const char *name, char *err, size_t errsz);

/* The daemon's host services (log through ab_log, real clock, secrets). */
const struct ab_host *ab_host_default(void);
/* Make the host resolve "enc:v1:" secrets with key_file (the configuration's
 * secrets_key; NULL: enc: references fail with a message saying to set it);
 * "file:" and "env:" always work.  Call before building a runtime; the last
 * call wins. */
void ab_host_set_secrets_key(const char *key_file);

#endif
