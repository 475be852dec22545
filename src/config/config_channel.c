/*
 * config_channel.c - the host settings of a channel block, which the core
 * keeps and the plugin never sees:
 *   rate = "1/s"            token bucket rate: N per s, m or h ("2/s", "30/m")
 *   burst = 3               bucket size (ab_conf_h_int in config.c's table)
 *   fallback = "inbox"      channel told when this one starts failing
 *   failure_threshold = 3   consecutive failures before "failing"
 *   enabled = false         the channel stays configured (and validated) but
 *                           the daemon does not create it, routing leaves it
 *                           out (route.h) and its queued jobs are held
 *                           (dispatch.c) until it is enabled again
 *
 * Public: ab_conf_h_rate, ab_conf_h_fallback (rows of config.c's
 * channel_fields table); ab_channel_disabled, ab_channels_notes (disabled
 * channels).
 * Diagnostics: "FILE:LINE: channel 'x': setting 'rate' ..." via ab_conf_err;
 * an unknown fallback channel is reported by config.c's reference check.
 * A fallback that names a disabled channel is allowed; ab_channels_notes
 * gives the one line the daemon logs about it at load.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/channels.h"
#include "config/config_int.h"

void ab_conf_h_rate(struct ab_conf_ctx *c, const config_setting_t *s,
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
	*(double *)((char *)dst + f->off) = n / per;
}

void ab_conf_h_fallback(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	const char *v = config_setting_get_string(s);
	char owner[sizeof c->prefix];
	size_t len = strlen(c->prefix);
	char **out = (char **)((char *)dst + f->off);

	if (len >= 2)
		snprintf(owner, sizeof owner, "%.*s: setting 'fallback'", (int)(len - 2), c->prefix);
	else
		snprintf(owner, sizeof owner, "setting 'fallback'");
	free(*out);
	*out = ab_conf_strdup(c, v);
	ab_conf_add_ref(c, s, owner);
}

/* ------------------------------------------------------------ enabled = false */

bool ab_channel_disabled(const struct ab_config *cfg, const char *name)
{
	const struct ab_channel_conf *ch = cfg && name ? ab_config_channel(cfg, name) : NULL;

	return ch && !ch->enabled;
}

int ab_channels_notes(const struct ab_config *cfg, ab_channel_note_fn fn, void *arg)
{
	char line[512];
	int n = 0;

	for (size_t i = 0; i < cfg->n_channels; i++) {
		const struct ab_channel_conf *ch = &cfg->channels[i];

		if (!ch->enabled) {
			snprintf(line, sizeof line, "%s:%d: channel '%s' is disabled (enabled = "
				"false): not loaded, left out of every route, its queued jobs are "
				"held until it is enabled again", ch->file, ch->line, ch->name);
			fn(arg, false, line);
			n++;
		} else if (ch->fallback && ab_channel_disabled(cfg, ch->fallback)) {
			snprintf(line, sizeof line, "%s:%d: channel '%s': its fallback channel '%s' "
				"is disabled: health events of '%s' (failing, recovered) go only to "
				"the log", ch->file, ch->line, ch->name, ch->fallback, ch->name);
			fn(arg, true, line);
			n++;
		}
	}
	return n;
}
