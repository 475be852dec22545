/*
 * runtime.c - reference-counted snapshots of the running configuration:
 * the validated config plus one live plugin instance per channel, and the
 * snapshot's own host services.
 *
 * Public: ab_runtime_build, ab_runtime_build_ex, ab_runtime_ref,
 *         ab_runtime_unref, ab_runtime_channel, ab_runtime_default_rate,
 *         ab_channel_data_file, ab_channel_test (a test message through a live
 *         channel, for `alertbridge test` and the console).
 * A disabled channel (enabled = false) is not loaded by ab_runtime_build;
 * ab_runtime_build_ex(..., AB_RT_WITH_DISABLED, ...) creates it too (check,
 * test).
 * The host knows no plugin's settings: a plugin names its file settings
 * (path_settings: relative values are made absolute against state_dir, like
 * the store) and checks its settings against the world itself (check():
 * e.g. its URL through host->url_check, the SSRF guard); check, start and
 * reload therefore refuse the same configurations.
 * Diagnostics: "FILE:LINE: channel 'NAME': <plugin message>" per channel
 *         that could not be loaded or created, or whose check() refused it;
 *         nothing is swapped in then.  A check() warning is
 *         "FILE:LINE: channel 'NAME': warning: ...".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/util.h"
#include "deliver/runtime.h"

static bool declared(const char *const *names, const char *k)
{
	for (size_t i = 0; names && names[i]; i++)
		if (strcmp(names[i], k) == 0)
			return true;
	return false;
}

/* A copy of the settings with the plugin's declared file settings made
 * absolute against state_dir; NULL on ENOMEM. */
static json_t *resolve_settings(const struct ab_config *cfg, const struct ab_plugin *api,
	const json_t *in)
{
	const char *const *paths = ab_plugin_path_settings(api);
	json_t *out = json_deep_copy(in ? in : json_object());
	const char *k;
	json_t *v;

	if (!out)
		return NULL;
	json_object_foreach(out, k, v) {
		if (declared(paths, k) && json_is_string(v) && json_string_value(v)[0] != '/') {
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

/* The plugin's own check of a created channel (see the top). */
static void check_channel(const struct ab_channel_conf *cc, const struct ab_plugin *api,
	const struct ab_host *host, const json_t *settings, struct ab_buf *errs,
	struct ab_buf *warns)
{
	char err[1024];
	int r = ab_plugin_check(api, settings, host, err, sizeof err);

	if (r < 0)
		ab_buf_printf(errs, "%s:%d: channel '%s': %s\n", cc->file, cc->line, cc->name,
			      err[0] ? err : "settings refused by the plugin's check");
	else if (r > 0 && warns)
		ab_buf_printf(warns, "%s:%d: channel '%s': warning: %s\n", cc->file, cc->line,
			      cc->name, err[0] ? err : "(the plugin gave no text)");
}

/* Each channel of the people section must take recipients. */
static void check_people(const struct ab_runtime *rt, struct ab_buf *errs)
{
	const struct ab_people_conf *pc = rt->cfg->people;

	for (int k = 0; pc && k < AB_VIA_COUNT; k++) {
		for (size_t i = 0; pc->channel[k] && i < rt->n_channels; i++) {
			const struct ab_channel_rt *ch = &rt->channels[i];
			const struct ab_channel_conf *cc = ab_config_channel(rt->cfg, ch->name);

			if (strcmp(ch->name, pc->channel[k]) ||
			    ab_plugin_takes_recipients(ch->plugin.api))
				continue;
			ab_buf_printf(errs, "%s:%d: people: %s = \"%s\": channel '%s' (type %s) "
				"cannot deliver to people: its plugin does not address recipients "
				"(use a channel of type email or inbox)\n", pc->file, pc->line,
				ab_via_name((enum ab_via)k), ch->name, ch->name,
				cc ? cc->type : "?");
		}
	}
}

struct ab_runtime *ab_runtime_build(struct ab_config *cfg, const char *plugin_dir,
	char **errors)
{
	return ab_runtime_build_ex(cfg, plugin_dir, 0, errors, NULL);
}

struct ab_runtime *ab_runtime_build_ex(struct ab_config *cfg, const char *plugin_dir,
	unsigned flags, char **errors, char **warnings)
{
	struct ab_buf errs = AB_BUF_INIT(64 * 1024), warns = AB_BUF_INIT(16 * 1024);
	struct ab_runtime *rt = calloc(1, sizeof *rt);
	const char *dir = plugin_dir ? plugin_dir : cfg->plugin_dir;
	char err[1024];

	*errors = NULL;
	if (warnings)
		*warnings = NULL;
	if (!rt || (cfg->n_channels && !(rt->channels = calloc(cfg->n_channels, sizeof *rt->channels))) ||
	    !(rt->host = ab_host_new(cfg->secrets_key))) {
		if (rt)
			free(rt->channels);
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
		settings = resolve_settings(cfg, ch->plugin.api, cc->settings);
		ch->inst = settings ? ch->plugin.api->create(rt->host, cc->name, settings, err,
			sizeof err) : NULL;
		if (!ch->inst) {
			ab_buf_printf(&errs, "%s:%d: channel '%s' (type %s): %s\n", cc->file,
				cc->line, cc->name, cc->type, err[0] ? err : "could not be created");
			json_decref(settings);
			ab_plugin_unload(&ch->plugin);
			continue;
		}
		ch->name = cc->name;
		rt->n_channels++;
		if (!(flags & AB_RT_NO_CHECK))
			check_channel(cc, ch->plugin.api, rt->host, settings, &errs, &warns);
		json_decref(settings);
	}
	check_people(rt, &errs);
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
	ab_host_free(rt->host);   /* after the instances that used it */
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

double ab_runtime_default_rate(struct ab_runtime *rt, const char *channel)
{
	struct ab_channel_rt *ch = rt ? ab_runtime_channel(rt, channel) : NULL;

	return ch ? ab_plugin_default_rate(ch->plugin.api) : 0;
}

char *ab_channel_data_file(const struct ab_config *cfg, const char *plugin_dir,
	const char *channel, char *err, size_t errsz)
{
	const struct ab_channel_conf *cc = ab_config_channel(cfg, channel);
	struct ab_loaded_plugin p;
	const char *const *paths;
	const char *v;
	char *out = NULL;

	if (!cc || !cc->type) {
		snprintf(err, errsz, "%s: no channel named '%s'", cfg->path, channel);
		return NULL;
	}
	if (ab_plugin_load(plugin_dir ? plugin_dir : cfg->plugin_dir, cc->type, &p, err,
			   errsz) < 0)
		return NULL;
	paths = ab_plugin_path_settings(p.api);
	if (!paths || !paths[0]) {
		snprintf(err, errsz, "%s:%d: channel '%s': its plugin %s keeps no data file",
			 cc->file, cc->line, cc->name, cc->type);
	} else if (!(v = json_string_value(json_object_get(cc->settings, paths[0])))) {
		snprintf(err, errsz, "%s:%d: channel '%s': setting '%s' is not set", cc->file,
			 cc->line, cc->name, paths[0]);
	} else if (!(out = ab_config_path(cfg, v))) {
		snprintf(err, errsz, "out of memory");
	}
	ab_plugin_unload(&p);
	return out;
}

void ab_channel_test(struct ab_channel_rt *ch, const char *by, struct ab_result *res)
{
	char when[40], title[160], summary[200], id[33];
	json_t *ev;

	memset(res, 0, sizeof *res);
	ab_result_set(res, AB_RETRY, 0, "plugin returned no result");
	if (ch->plugin.api->test) {
		ch->plugin.api->test(ch->inst, res);
	} else {
		ab_random_id(id);   /* fresh per test: receivers drop duplicates by id */
		ab_time_format_rfc3339(ab_now_ms(), when, sizeof when);
		snprintf(title, sizeof title, "Test message from alertbridge to channel %s",
			ch->name);
		snprintf(summary, sizeof summary, "This is a test message sent by '%s'. No "
			"action is needed.", by);
		ev = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:{s:b}}", "id", id, "type",
			"system.test", "category", "system", "severity", "info", "source",
			"alertbridge", "tool", by, "title", title, "summary", summary,
			"received_at", when, "fields", "test", 1);
		if (ev) {
			struct ab_message m = { .kind = AB_MSG_TEST, .attempt = 1, .payload = ev,
				.id = id };

			ch->plugin.api->send(ch->inst, &m, res);
		}
		json_decref(ev);
	}
	res->message[sizeof res->message - 1] = '\0';
}
