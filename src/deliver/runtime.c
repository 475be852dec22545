/*
 * runtime.c - reference-counted snapshots of the running configuration:
 * the validated config plus one live plugin instance per channel.
 *
 * Public: ab_runtime_build, ab_runtime_build_ex, ab_runtime_ref,
 *         ab_runtime_unref, ab_runtime_channel.
 * A disabled channel (enabled = false) is not loaded by ab_runtime_build;
 * ab_runtime_build_ex(..., AB_RT_WITH_DISABLED, ...) creates it too (check,
 * test).
 * A channel's "url" setting (any plugin: it names the endpoint the plugin
 * sends to) is checked as the plugin will use it: the secret resolved, the
 * scheme (smtp/smtps, or https / http with allow_http), the host's
 * addresses through the SSRF guard and allow_networks; check, start and
 * reload therefore refuse the same configurations.
 * Diagnostics: "FILE:LINE: channel 'NAME': <plugin message>" per channel
 *         that could not be loaded or created, or whose url is refused;
 *         nothing is swapped in then.  A host that does not resolve now is a
 *         warning ("FILE:LINE: channel 'NAME': warning: ...").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "net/http.h"
#include "net/ssrf.h"
#include "deliver/runtime.h"
#include "lib/secret.h"

/* Path-like settings are relative to state_dir, like the store. */
static bool path_key(const char *k)
{
	size_t n = strlen(k);

	return strcmp(k, "path") == 0 || (n > 5 && strcmp(k + n - 5, "_path") == 0) ||
		(n > 5 && strcmp(k + n - 5, "_file") == 0);
}

static json_t *resolve_settings(const struct ab_config *cfg, const json_t *in)
{
	json_t *out = json_deep_copy(in ? in : json_object());
	const char *k;
	json_t *v;

	if (!out)
		return NULL;
	json_object_foreach(out, k, v) {
		if (path_key(k) && json_is_string(v) && json_string_value(v)[0] != '/') {
			char *p = ab_config_path(cfg, json_string_value(v));
			if (!p) {
				json_decref(out);
				return NULL;
			}
			json_string_set(v, p);
			free(p);
		}
	}
	return out;
}

/* The url setting of a channel, as the plugin will use it (see the top). */
static void check_url(const struct ab_channel_conf *cc, const struct ab_host *host,
		      struct ab_buf *errs, struct ab_buf *warns)
{
	const char *ref = json_string_value(json_object_get(cc->settings, "url"));
	json_t *nets = json_object_get(cc->settings, "allow_networks");
	const char **allow = NULL;
	char *url, err[512];
	size_t k;
	int r;

	if (!ref)
		return;
	if (!(url = malloc(AB_SECRET_MAX + 1))) {
		ab_buf_printf(errs, "%s:%d: channel '%s': out of memory\n", cc->file, cc->line,
			      cc->name);
		return;
	}
	if (host->secret(host, ref, url, AB_SECRET_MAX + 1, err, sizeof err) < 0) {
		ab_buf_printf(errs, "%s:%d: channel '%s': setting 'url': %s\n", cc->file, cc->line,
			      cc->name, err);
		free(url);
		return;
	}
	if (json_array_size(nets))
		allow = calloc(json_array_size(nets) + 1, sizeof *allow);
	for (k = 0; allow && k < json_array_size(nets); k++) {
		struct ab_cidr net;

		allow[k] = json_string_value(json_array_get(nets, k));
		if (allow[k] && ab_cidr_parse(allow[k], &net, err, sizeof err) < 0)
			ab_buf_printf(errs, "%s:%d: channel '%s': setting 'allow_networks': %s\n",
				      cc->file, cc->line, cc->name, err);
	}
	if (!strncasecmp(url, "smtp://", 7) || !strncasecmp(url, "smtps://", 8))
		r = ab_smtp_check_url(url, allow, err, sizeof err);
	else
		r = ab_http_check_url(url, json_is_true(json_object_get(cc->settings,
			"allow_http")), allow, err, sizeof err);
	if (r == -1)
		ab_buf_printf(errs, "%s:%d: channel '%s': setting 'url': %s\n", cc->file, cc->line,
			      cc->name, err);
	else if (r == -2 && warns)
		ab_buf_printf(warns, "%s:%d: channel '%s': warning: %s\n", cc->file, cc->line,
			      cc->name, err);
	explicit_bzero(url, AB_SECRET_MAX + 1);
	free(url);
	free(allow);
}

struct ab_runtime *ab_runtime_build(struct ab_config *cfg, const char *plugin_dir,
	const struct ab_host *host, char **errors)
{
	return ab_runtime_build_ex(cfg, plugin_dir, host, 0, errors, NULL);
}

struct ab_runtime *ab_runtime_build_ex(struct ab_config *cfg, const char *plugin_dir,
	const struct ab_host *host, unsigned flags, char **errors, char **warnings)
{
	struct ab_buf errs = AB_BUF_INIT(64 * 1024), warns = AB_BUF_INIT(16 * 1024);
	struct ab_runtime *rt = calloc(1, sizeof *rt);
	const char *dir = plugin_dir ? plugin_dir : cfg->plugin_dir;
	char err[1024];

	*errors = NULL;
	if (warnings)
		*warnings = NULL;
	if (!rt || (cfg->n_channels && !(rt->channels = calloc(cfg->n_channels, sizeof *rt->channels)))) {
		free(rt);
		ab_config_free(cfg);
		*errors = strdup("out of memory\n");
		return NULL;
	}
	rt->cfg = cfg;
	rt->refs = 1;
	for (size_t i = 0; i < cfg->n_channels; i++) {
		const struct ab_channel_conf *cc = &cfg->channels[i];
		struct ab_channel_rt *ch = &rt->channels[rt->n_channels];
		json_t *settings;

		if (!cc->enabled && !(flags & AB_RT_WITH_DISABLED))
			continue;   /* enabled = false: no plugin instance at all */
		if (!cc->name || !cc->type)
			continue;   /* a partial configuration (check): already reported */
		err[0] = '\0';
		if (ab_plugin_load(dir, cc->type, &ch->plugin, err, sizeof err) < 0) {
			ab_buf_printf(&errs, "%s:%d: channel '%s': %s\n", cc->file, cc->line,
				cc->name, err);
			continue;
		}
		settings = resolve_settings(cfg, cc->settings);
		ch->inst = settings ? ch->plugin.api->create(host, cc->name, settings, err,
			sizeof err) : NULL;
		json_decref(settings);
		if (!ch->inst) {
			ab_buf_printf(&errs, "%s:%d: channel '%s' (type %s): %s\n", cc->file,
				cc->line, cc->name, cc->type, err[0] ? err : "could not be created");
			ab_plugin_unload(&ch->plugin);
			continue;
		}
		ch->name = cc->name;
		rt->n_channels++;
		if (!(flags & AB_RT_NO_URL_CHECK))
			check_url(cc, host, &errs, &warns);
	}
	if (warnings && warns.len)
		*warnings = ab_buf_steal(&warns);
	ab_buf_free(&warns);
	if (errs.len) {
		*errors = ab_buf_steal(&errs);
		ab_runtime_unref(rt);
		return NULL;
	}
	return rt;
}

struct ab_runtime *ab_runtime_ref(struct ab_runtime *rt)
{
	__atomic_add_fetch(&rt->refs, 1, __ATOMIC_ACQ_REL);
	return rt;
}

void ab_runtime_unref(struct ab_runtime *rt)
{
	if (!rt || __atomic_sub_fetch(&rt->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (size_t i = 0; i < rt->n_channels; i++) {
		struct ab_channel_rt *ch = &rt->channels[i];
		if (ch->plugin.api->flush)
			ch->plugin.api->flush(ch->inst);
		ch->plugin.api->destroy(ch->inst);
		ab_plugin_unload(&ch->plugin);
	}
	free(rt->channels);
	ab_config_free(rt->cfg);
	free(rt);
}

struct ab_channel_rt *ab_runtime_channel(struct ab_runtime *rt, const char *name)
{
	for (size_t i = 0; i < rt->n_channels; i++)
		if (strcmp(rt->channels[i].name, name) == 0)
			return &rt->channels[i];
	return NULL;
}
