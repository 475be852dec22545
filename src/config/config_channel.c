/*
 * config_channel.c - the "channels" section of alertbridge.conf: one block
 * per channel with its name and plugin type, the plugin's own settings
 * (every other member, converted to JSON for the plugin) and the host
 * settings, which the core keeps and the plugin never sees:
 *   rate = "1/s"            token bucket rate: N per s, m or h ("2/s", "30/m")
 *   burst = 3               bucket size
 *   fallback = "inbox"      channel told when this one starts failing
 *   failure_threshold = 3   consecutive failures before "failing"
 *   pause_base = "1s"       circuit breaker (deliver/breaker.h): a failed send
 *   pause_cap = "30s"       pauses the channel this long, doubling per failed
 *                           probe up to pause_cap (base <= cap is checked)
 *   enabled = false         the channel stays configured (and validated) but
 *                           the daemon does not create it, routing leaves it
 *                           out (route.h) and its queued jobs are held
 *                           (dispatch.c) until it is enabled again
 *
 * Public (config_channel.h): ab_conf_channels (the section handler of
 * config.c's table), ab_conf_channels_free.  The lookups over a loaded
 * configuration (ab_config_channel, ab_channel_disabled, ab_channels_notes)
 * are in config.c.
 * Diagnostics, "FILE:LINE: channel 'x': ..." via ab_conf_err: more than
 * AB_CONF_MAX_CHANNELS channels, entries that are not groups, bad names and
 * types, duplicate names (with the place of the first), bad rates, plugin
 * settings nested too deeply or of a type JSON cannot hold.  An unknown
 * fallback channel is reported by config.c's reference check; a fallback
 * that names a disabled channel is allowed (ab_channels_notes says so).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_channel.h"
#include "config/config_schema.h"

#define AB_CONF_MAX_CHANNELS 1024
#define AB_CONF_MAX_DEPTH 16            /* nesting of channel settings */

#define AT(dst, off, type) ((type *)(void *)((char *)(dst) + (off)))

/* ------------------------------------------------------------------ plugin settings */

static json_t *to_json(struct ab_conf_ctx *c, const config_setting_t *s, int depth)
{
	json_t *j = NULL;
	int i, n;

	if (depth > AB_CONF_MAX_DEPTH) {
		ab_conf_err(c, s, "%ssetting is nested more than %d levels deep", c->prefix,
			    AB_CONF_MAX_DEPTH);
		return NULL;
	}
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
		j = json_integer(config_setting_get_int(s));
		break;
	case CONFIG_TYPE_INT64:
		j = json_integer(config_setting_get_int64(s));
		break;
	case CONFIG_TYPE_FLOAT:
		j = json_real(config_setting_get_float(s));
		if (!j) {
			ab_conf_err(c, s, "%ssetting '%s' is not a finite number", c->prefix,
				    config_setting_name(s) ? config_setting_name(s) : "(element)");
			return NULL;
		}
		break;
	case CONFIG_TYPE_BOOL:
		j = json_boolean(config_setting_get_bool(s));
		break;
	case CONFIG_TYPE_STRING:
		j = json_string(config_setting_get_string(s));
		if (!j) {
			ab_conf_err(c, s, "%ssetting '%s' is not valid UTF-8", c->prefix,
				    config_setting_name(s) ? config_setting_name(s) : "(element)");
			return NULL;
		}
		break;
	case CONFIG_TYPE_ARRAY:
	case CONFIG_TYPE_LIST:
	case CONFIG_TYPE_GROUP:
		n = config_setting_length(s);
		j = config_setting_type(s) == CONFIG_TYPE_GROUP ? json_object() : json_array();
		if (!j)
			break;
		for (i = 0; i < n; i++) {
			const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
			json_t *v = to_json(c, e, depth + 1);

			if (!v) {
				json_decref(j);
				return NULL;
			}
			if (json_is_object(j) ? json_object_set_new(j, config_setting_name(e), v)
					      : json_array_append_new(j, v)) {
				json_decref(j);
				c->oom = true;
				return NULL;
			}
		}
		break;
	default:
		ab_conf_err(c, s, "%ssetting has an unsupported type", c->prefix);
		return NULL;
	}
	if (!j)
		c->oom = true;
	return j;
}

static void h_chan_extra(struct ab_conf_ctx *c, const config_setting_t *s, void *dst)
{
	struct ab_channel_conf *ch = dst;
	json_t *v = to_json(c, s, 1);

	if (v && json_object_set_new(ch->settings, config_setting_name(s), v))
		c->oom = true;
}

/* ------------------------------------------------------------------ name and type */

static bool name_ok(const char *s, bool first_special)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		unsigned char ch = (unsigned char)s[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');

		if (!alnum && (first_special ? i == 0 : false))
			return false;
		if (!alnum && ch != '_' && ch != '-')
			return false;
	}
	return i > 0 && i <= AB_CONF_NAME_MAX;
}

static bool channel_name_ok(const char *s)
{
	return name_ok(s, true);
}

static void h_chan_name(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	const char *v = config_setting_get_string(s);
	char sh[AB_CONF_SHOW_MAX + 8];

	if (!channel_name_ok(v)) {
		ab_conf_err(c, s, "channel name '%s' must match [a-z0-9][a-z0-9_-]{0,63}",
			    ab_conf_show(v, sh, sizeof sh));
		return;
	}
	*AT(dst, f->off, char *) = ab_conf_strdup(c, v);
}

static void h_chan_type(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	const char *v = config_setting_get_string(s);
	char sh[AB_CONF_SHOW_MAX + 8];

	if (!name_ok(v, false)) {
		ab_conf_err(c, s, "%schannel type '%s' must match [a-z0-9_-]+ (at most %d "
			    "characters)", c->prefix, ab_conf_show(v, sh, sizeof sh),
			    AB_CONF_NAME_MAX);
		return;
	}
	*AT(dst, f->off, char *) = ab_conf_strdup(c, v);
}

/* ------------------------------------------------------------------ host settings */

static void h_rate(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	const char *v = config_setting_get_string(s);
	char *end = NULL;
	double per = 0, n;

	errno = 0;
	n = strtod(v, &end);
	if (end && end != v && *end == '/') {
		if (!strcmp(end, "/s"))
			per = 1;
		else if (!strcmp(end, "/m"))
			per = 60;
		else if (!strcmp(end, "/h"))
			per = 3600;
	}
	if (errno || per == 0 || !(n > 0) || n > 1000000) {
		ab_conf_err(c, s, "%ssetting 'rate': '%.40s' is not a rate; write N/s, N/m or "
			"N/h with N > 0, e.g. \"1/s\" (Slack allows 1 message per second)",
			c->prefix, v);
		return;
	}
	*AT(dst, f->off, double) = n / per;
}

static void h_fallback(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	const char *v = config_setting_get_string(s);
	char owner[sizeof c->prefix];
	size_t len = strlen(c->prefix);
	char **out = AT(dst, f->off, char *);

	if (len >= 2)
		snprintf(owner, sizeof owner, "%.*s: setting 'fallback'", (int)(len - 2), c->prefix);
	else
		snprintf(owner, sizeof owner, "setting 'fallback'");
	free(*out);
	*out = ab_conf_strdup(c, v);
	ab_conf_add_ref(c, s, owner);
}

#define COFF(m) offsetof(struct ab_channel_conf, m)
static const struct ab_conf_field channel_fields[] = {
	{ "name", AB_CONF_T_STRING, true, h_chan_name, COFF(name), 0, 0, 0 },
	{ "type", AB_CONF_T_STRING, true, h_chan_type, COFF(type), 0, 0, 0 },
	/* host settings: kept out of the plugin's settings */
	{ "rate", AB_CONF_T_STRING, false, h_rate, COFF(rate), 0, 0, 0 },
	{ "burst", AB_CONF_T_INT, false, ab_conf_h_int, COFF(burst), 0, 1, 1000 },
	{ "fallback", AB_CONF_T_STRING, false, h_fallback, COFF(fallback), 0, 0, 0 },
	{ "failure_threshold", AB_CONF_T_INT, false, ab_conf_h_int, COFF(failure_threshold), 0,
	  1, 1000 },
	{ "enabled", AB_CONF_T_BOOL, false, ab_conf_h_bool, COFF(enabled), 0, 0, 0 },
	{ "pause_base", AB_CONF_T_DURATION, false, ab_conf_h_duration, COFF(pause_base_ms), 0,
	  10, 3600 * 1000LL },
	{ "pause_cap", AB_CONF_T_DURATION, false, ab_conf_h_duration, COFF(pause_cap_ms), 0,
	  10, 24 * 3600 * 1000LL },
};
AB_CONF_TABLE_FITS(channel_fields);

/* ------------------------------------------------------------------ the list */

static void free_channel(struct ab_channel_conf *ch)
{
	free(ch->name);
	free(ch->type);
	free(ch->file);
	free(ch->fallback);
	json_decref(ch->settings);
	memset(ch, 0, sizeof *ch);
}

struct chparse {
	struct ab_channel_conf *chs;
	size_t *n;
	const config_setting_t **defs;    /* where each kept channel is defined */
};

static void do_channel(struct ab_conf_ctx *c, const config_setting_t *g, int idx,
	const char *what, void *arg)
{
	struct chparse *cp = arg;
	struct ab_channel_conf *ch = &cp->chs[*cp->n];
	char sh[AB_CONF_SHOW_MAX + 8], file[PATH_MAX];
	size_t i;

	(void)idx;
	ch->settings = json_object();
	if (!ch->settings) {
		c->oom = true;
		return;
	}
	ab_conf_src_file(c, config_setting_source_file(g), file, sizeof file);
	ch->file = ab_conf_strdup(c, file);
	ch->line = config_setting_source_line(g);
	ch->enabled = true;
	ch->pause_base_ms = AB_PAUSE_BASE_DEFAULT_MS;
	ch->pause_cap_ms = AB_PAUSE_CAP_DEFAULT_MS;
	ab_conf_check_group(c, g, channel_fields, sizeof channel_fields / sizeof channel_fields[0],
			    what, ch, h_chan_extra);
	if (ch->pause_base_ms > ch->pause_cap_ms) {
		char b[32], k[32];

		ab_conf_fmt_duration(ch->pause_base_ms, b, sizeof b);
		ab_conf_fmt_duration(ch->pause_cap_ms, k, sizeof k);
		ab_conf_err(c, g, "channel '%s': setting 'pause_base' (%s) is greater than "
			    "'pause_cap' (%s)", ch->name ? ch->name : "?", b, k);
	}
	if (!ch->name) {
		free_channel(ch);
		return;
	}
	for (i = 0; i < *cp->n; i++) {
		if (!strcmp(cp->chs[i].name, ch->name)) {
			char first[PATH_MAX + 16];

			ab_conf_place(c, cp->defs[i], first, sizeof first);
			ab_conf_err(c, g, "duplicate channel name '%s' (first defined at %s)",
				    ab_conf_show(ch->name, sh, sizeof sh), first);
			free_channel(ch);
			return;
		}
	}
	cp->defs[*cp->n] = g;
	(*cp->n)++;
}

void ab_conf_channels(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	static const struct ab_conf_list list = {
		"channels", "{ name = \"...\"; type = \"...\"; }", "channel", channel_name_ok,
	};
	struct ab_channel_conf **chs = AT(dst, f->off, struct ab_channel_conf *);
	struct chparse cp = { NULL, AT(dst, f->off_n, size_t), NULL };
	int n = config_setting_length(s);

	if (n > AB_CONF_MAX_CHANNELS) {
		ab_conf_err(c, s, "setting 'channels' has %d channels (at most %d)", n,
			    AB_CONF_MAX_CHANNELS);
		return;
	}
	*chs = ab_conf_calloc(c, (size_t)n, sizeof **chs);
	cp.defs = ab_conf_calloc(c, (size_t)n, sizeof *cp.defs);
	if (!*chs || !cp.defs) {
		free(cp.defs);
		return;
	}
	cp.chs = *chs;
	ab_conf_each_group(c, s, &list, do_channel, &cp);
	free(cp.defs);
}

void ab_conf_channels_free(struct ab_channel_conf *chs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free_channel(&chs[i]);
	free(chs);
}
