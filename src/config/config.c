/*
 * config.c - alertbridge.conf: libconfig loading, schema validation and
 * reference-counted snapshots.
 *
 * The file is read with libconfig (1.5 or later; @include resolves relative
 * to the directory of the main file) and every group is walked against a
 * schema table: one row per setting with its name, type, whether it is
 * required and a handler that validates and stores the value.  New settings
 * are added by adding a row (and a struct member) - see top_fields[],
 * log_fields[], dispatch_fields[], channel_fields[] and rule_fields[].
 * Channel settings other than name and type are free-form and are converted
 * to JSON for the plugin.
 *
 * Public functions:
 *   ab_config_load()     read, validate, resolve paths; all errors at once
 *   ab_config_free()     release a configuration
 *   ab_config_channel()  find a channel by name
 *   ab_config_path()     resolve a path relative to state_dir
 *
 * Diagnostics: every problem becomes one line "FILE:LINE: message\n" in the
 * caller's *errors: libconfig syntax errors, unknown settings (with a "did
 * you mean" hint), wrong types, out-of-range numbers, bad durations, globs,
 * severity and category names, duplicate channel or rule names (with the
 * place of the first), unknown channel references, rules without channels,
 * missing channel name/type and backoff_base > backoff_cap.  At most
 * AB_CONF_MAX_ERRORS lines are kept; the rest are counted.
 *
 * Limits: libconfig 1.5 @include takes one plain file name, relative to the
 * main file's directory; wildcards ("*.conf") are not expanded (the error
 * says so).  A top-level setting such as channels can appear only once, so
 * it cannot be split over several included files.
 */
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "config/config.h"
#include "config/config_int.h"
#include "lib/log.h"
#include "lib/util.h"

#ifndef PKGPLUGINDIR
#define PKGPLUGINDIR "/usr/local/lib/alertbridge/plugins"
#endif

#define AB_CONF_DEFAULT_STATE_DIR "/var/lib/alertbridge"
#define AB_CONF_DEFAULT_STORE "store.db"

#define AB_CONF_MAX_ERRORS 100          /* error lines kept */
#define AB_CONF_ERRBUF_MAX (64 * 1024)  /* bytes of error text */
#define AB_CONF_MAX_CHANNELS 1024
#define AB_CONF_MAX_RULES 4096
#define AB_CONF_MAX_LIST 1024           /* strings in one list setting */
#define AB_CONF_MAX_DEPTH 16            /* nesting of channel settings */
#define AB_CONF_NAME_MAX 64             /* channel name and type */
#define AB_CONF_STR_MAX 4096            /* paths and other strings */
#define AB_CONF_SHOW_MAX 80             /* chars of a value echoed in errors */
#define AB_CONF_LIST_SHOWN 20           /* channel names listed in a hint */
#define AB_CONF_MAX_FIELDS 32           /* rows in one schema table */

#define MS_SEC 1000LL
#define MS_MIN (60 * MS_SEC)
#define MS_HOUR (60 * MS_MIN)
#define MS_DAY (24 * MS_HOUR)


/* ------------------------------------------------------------------ errors */

/* Copy a value for an error message: control characters become '?', long
 * values are cut with "...". */
static const char *show(const char *s, char *out, size_t outsz)
{
	size_t i, n = 0;

	if (!s)
		s = "";
	for (i = 0; s[i] && n + 4 < outsz && i < AB_CONF_SHOW_MAX; i++)
		out[n++] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	if (s[i] && n + 4 <= outsz) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}

/* The file name a setting came from, as the admin can open it: included
 * files are recorded by libconfig as written in @include, so relative ones
 * are joined to the include directory. */
static void src_file(const struct ab_conf_ctx *c, const char *f, char *out, size_t outsz)
{
	size_t dl = c->dir ? strlen(c->dir) : 0;

	if (!f || !strcmp(f, c->path) || f[0] == '/' || !c->dir || !strcmp(c->dir, ".") ||
	    (!strncmp(f, c->dir, dl) && f[dl] == '/'))   /* libconfig >= 1.7 joins itself */
		snprintf(out, outsz, "%s", f ? f : c->path);
	else
		snprintf(out, outsz, "%s/%s", c->dir, f);
}

static void verr_at(struct ab_conf_ctx *c, const char *file, int line, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));
static void verr_at(struct ab_conf_ctx *c, const char *file, int line, const char *fmt, va_list ap)
{
	char msg[1024];

	c->nerr++;
	if (c->nerr > AB_CONF_MAX_ERRORS)
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (line > 0)
		ab_buf_printf(&c->errs, "%s:%d: %s\n", file, line, msg);
	else
		ab_buf_printf(&c->errs, "%s: %s\n", file, msg);
}

static void err_at(struct ab_conf_ctx *c, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void err_at(struct ab_conf_ctx *c, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr_at(c, file, line, fmt, ap);
	va_end(ap);
}

/* Error located at setting s (its file and line, or its parent's). */
static void err(struct ab_conf_ctx *c, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void err(struct ab_conf_ctx *c, const config_setting_t *s, const char *fmt, ...)
{
	char file[PATH_MAX];
	int line = 0;
	const char *f = NULL;
	va_list ap;

	while (s && config_setting_source_line(s) == 0)
		s = config_setting_parent(s);
	if (s) {
		line = config_setting_source_line(s);
		f = config_setting_source_file(s);
	}
	src_file(c, f, file, sizeof file);
	va_start(ap, fmt);
	verr_at(c, file, line, fmt, ap);
	va_end(ap);
}

static char *xstrdup(struct ab_conf_ctx *c, const char *s)
{
	char *p = strdup(s ? s : "");

	if (!p)
		c->oom = true;
	return p;
}

static void *xcalloc(struct ab_conf_ctx *c, size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);

	if (!p)
		c->oom = true;
	return p;
}

/* Where a setting is, as "FILE:LINE", for "first defined at" hints. */
static void place(const struct ab_conf_ctx *c, const config_setting_t *s, char *out, size_t outsz)
{
	char file[PATH_MAX];

	src_file(c, config_setting_source_file(s), file, sizeof file);
	snprintf(out, outsz, "%s:%u", file, config_setting_source_line(s));
}

/* ------------------------------------------------------------------ helpers */

static void fmt_duration(int64_t ms, char *out, size_t outsz)
{
	static const struct { long long ms; const char *unit; } u[] = {
		{ 7 * MS_DAY, "w" }, { MS_DAY, "d" }, { MS_HOUR, "h" }, { MS_MIN, "m" },
		{ MS_SEC, "s" },
	};
	size_t i;

	for (i = 0; i < sizeof u / sizeof u[0]; i++) {
		if (ms != 0 && ms % u[i].ms == 0) {
			snprintf(out, outsz, "%lld%s", (long long)(ms / u[i].ms), u[i].unit);
			return;
		}
	}
	snprintf(out, outsz, "%lldms", (long long)ms);
}

/* Levenshtein distance of two short names (longer ones count as far). */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[AB_CONF_NAME_MAX + 1];

	if (la > AB_CONF_NAME_MAX || lb > AB_CONF_NAME_MAX)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

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

static bool text_ok(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || i >= max)
			return false;
	return i > 0;
}

static bool type_ok(const config_setting_t *s, enum ab_conf_ftype t)
{
	int ty = config_setting_type(s);
	int i, n;

	switch (t) {
	case FT_STRING:
	case FT_DURATION:
		return ty == CONFIG_TYPE_STRING;
	case FT_BOOL:
		return ty == CONFIG_TYPE_BOOL;
	case FT_INT:
		return ty == CONFIG_TYPE_INT || ty == CONFIG_TYPE_INT64;
	case FT_GROUP:
		return ty == CONFIG_TYPE_GROUP;
	case FT_LIST:
		return ty == CONFIG_TYPE_LIST;
	case FT_STRINGS:
		if (ty != CONFIG_TYPE_ARRAY && ty != CONFIG_TYPE_LIST)
			return false;
		n = config_setting_length(s);
		for (i = 0; i < n; i++)
			if (config_setting_type(config_setting_get_elem(s, (unsigned)i)) !=
			    CONFIG_TYPE_STRING)
				return false;
		return true;
	}
	return false;
}

static const char *type_words(enum ab_conf_ftype t)
{
	switch (t) {
	case FT_STRING: return "a string";
	case FT_BOOL: return "true or false";
	case FT_INT: return "an integer";
	case FT_DURATION: return "a duration string such as \"30s\"";
	case FT_GROUP: return "a group { ... }";
	case FT_LIST: return "a list ( { ... }, ... )";
	case FT_STRINGS: return "a list of strings [\"a\", \"b\"]";
	}
	return "?";
}

/* Walk the members of group g against fields[]; unknown members go to
 * extra (when set) or are errors.  what names the group in messages. */
static void check_group(struct ab_conf_ctx *c, const config_setting_t *g, const struct ab_conf_field *fields,
			size_t nfields, const char *what, void *dst, ab_conf_extra_fn extra)
{
	bool seen[AB_CONF_MAX_FIELDS] = { false };
	int i, n = config_setting_length(g);
	size_t k;

	for (i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(s);
		const struct ab_conf_field *f = NULL;

		for (k = 0; k < nfields; k++) {
			if (!strcmp(fields[k].name, name)) {
				f = &fields[k];
				break;
			}
		}
		if (!f) {
			const char *best = NULL;
			size_t bd = SIZE_MAX;

			if (extra) {
				extra(c, s, dst);
				continue;
			}
			for (k = 0; k < nfields; k++) {
				size_t d = distance(name, fields[k].name);

				if (d < bd) {
					bd = d;
					best = fields[k].name;
				}
			}
			if (best && bd <= 2 && bd < strlen(name))
				err(c, s, "unknown setting '%s' in %s; did you mean '%s'?", name,
				    what, best);
			else
				err(c, s, "unknown setting '%s' in %s", name, what);
			continue;
		}
		if (k < sizeof seen / sizeof seen[0])
			seen[k] = true;
		if (!type_ok(s, f->type)) {
			err(c, s, "%ssetting '%s' must be %s", c->prefix, name,
			    type_words(f->type));
			continue;
		}
		f->fn(c, s, f, dst);
	}
	for (k = 0; k < nfields && k < sizeof seen / sizeof seen[0]; k++)
		if (fields[k].required && !seen[k])
			err(c, g, "%s: missing required setting '%s'", what, fields[k].name);
}

/* ------------------------------------------------------------------ generic handlers */

#define AT(dst, off, type) ((type *)(void *)((char *)(dst) + (off)))

static void h_string(struct ab_conf_ctx *c, const config_setting_t *s, const struct ab_conf_field *f, void *dst)
{
	const char *v = config_setting_get_string(s);
	char **p = AT(dst, f->off, char *);
	char sh[AB_CONF_SHOW_MAX + 8];

	if (!text_ok(v, AB_CONF_STR_MAX)) {
		err(c, s, "%ssetting '%s': bad value '%s' (must be non-empty, without control "
		    "characters, shorter than %d)", c->prefix, f->name, show(v, sh, sizeof sh),
		    AB_CONF_STR_MAX);
		return;
	}
	free(*p);
	*p = xstrdup(c, v);
}

static void h_bool(struct ab_conf_ctx *c, const config_setting_t *s, const struct ab_conf_field *f, void *dst)
{
	(void)c;
	*AT(dst, f->off, bool) = config_setting_get_bool(s) != 0;
}

static void h_int(struct ab_conf_ctx *c, const config_setting_t *s, const struct ab_conf_field *f, void *dst)
{
	long long v = config_setting_get_int64(s);

	if (v < f->min || v > f->max) {
		err(c, s, "%ssetting '%s' must be between %lld and %lld (got %lld)", c->prefix,
		    f->name, f->min, f->max, v);
		return;
	}
	*AT(dst, f->off, int) = (int)v;
}

static void h_duration(struct ab_conf_ctx *c, const config_setting_t *s, const struct ab_conf_field *f,
		       void *dst)
{
	const char *v = config_setting_get_string(s);
	char sh[AB_CONF_SHOW_MAX + 8], lo[32], hi[32], got[32];
	int64_t ms;

	if (ab_duration_parse(v, &ms) != 0) {
		err(c, s, "%ssetting '%s': bad duration '%s' (use 30s, 5m, 1h, 2d)", c->prefix,
		    f->name, show(v, sh, sizeof sh));
		return;
	}
	if (ms < f->min || ms > f->max) {
		fmt_duration(f->min, lo, sizeof lo);
		fmt_duration(f->max, hi, sizeof hi);
		fmt_duration(ms, got, sizeof got);
		err(c, s, "%ssetting '%s' must be between %s and %s (got %s)", c->prefix, f->name,
		    lo, hi, got);
		return;
	}
	*AT(dst, f->off, int64_t) = ms;
}

/* Copy a list of strings (type already checked) into a NULL-free array. */
static void copy_strings(struct ab_conf_ctx *c, const config_setting_t *s, const struct ab_conf_field *f,
			 char ***arr, size_t *n)
{
	int i, len = config_setting_length(s);

	if (len > AB_CONF_MAX_LIST) {
		err(c, s, "%ssetting '%s' has %d entries (at most %d)", c->prefix, f->name, len,
		    AB_CONF_MAX_LIST);
		return;
	}
	*arr = xcalloc(c, (size_t)len, sizeof **arr);
	if (!*arr)
		return;
	for (i = 0; i < len; i++) {
		(*arr)[i] = xstrdup(c, config_setting_get_string_elem(s, (unsigned)i));
		if (!(*arr)[i])
			return;
		(*n)++;
	}
}

/* A list element (err() falls back to the list when it has no line). */
static const config_setting_t *elem_at(const config_setting_t *s, int i)
{
	return config_setting_get_elem(s, (unsigned)i);
}

/* ------------------------------------------------------------------ log, dispatch */

static void h_log_level(struct ab_conf_ctx *c, const config_setting_t *s, const struct ab_conf_field *f,
			void *dst)
{
	const char *v = config_setting_get_string(s);
	char sh[AB_CONF_SHOW_MAX + 8];
	int lvl = ab_log_level_parse(v);

	if (lvl < 0) {
		err(c, s, "setting '%s': unknown log level '%s' (use err, warning, notice, info, "
		    "debug)", f->name, show(v, sh, sizeof sh));
		return;
	}
	*AT(dst, f->off, int) = lvl;
}

static const struct ab_conf_field log_fields[] = {
	{ "level", FT_STRING, false, h_log_level, offsetof(struct ab_config, log_level), 0, 0, 0 },
	{ "syslog", FT_BOOL, false, h_bool, offsetof(struct ab_config, log_syslog), 0, 0, 0 },
};

static void h_log(struct ab_conf_ctx *c, const config_setting_t *s, const struct ab_conf_field *f, void *dst)
{
	(void)f;
	check_group(c, s, log_fields, sizeof log_fields / sizeof log_fields[0], "log", dst, NULL);
}

/* Remembers the backoff settings for the base <= cap check. */
static void h_backoff(struct ab_conf_ctx *c, const config_setting_t *s, const struct ab_conf_field *f,
		      void *dst)
{
	int before = c->nerr;

	h_duration(c, s, f, dst);
	if (c->nerr != before)
		return;
	if (!strcmp(f->name, "backoff_base"))
		c->base_set = s;
	else
		c->cap_set = s;
}

#define DOFF(m) offsetof(struct ab_dispatch_conf, m)
static const struct ab_conf_field dispatch_fields[] = {
	{ "workers", FT_INT, false, h_int, DOFF(workers), 0, 1, 64 },
	{ "backoff_base", FT_DURATION, false, h_backoff, DOFF(backoff_base_ms), 0, 1, MS_DAY },
	{ "backoff_cap", FT_DURATION, false, h_backoff, DOFF(backoff_cap_ms), 0, 1, 30 * MS_DAY },
	{ "max_age", FT_DURATION, false, h_duration, DOFF(max_age_ms), 0, MS_SEC, 365 * MS_DAY },
	{ "poll", FT_DURATION, false, h_duration, DOFF(poll_ms), 0, 1, MS_HOUR },
	{ "timeout", FT_DURATION, false, h_duration, DOFF(timeout_ms), 0, MS_SEC, MS_DAY },
};

static void h_dispatch(struct ab_conf_ctx *c, const config_setting_t *s, const struct ab_conf_field *f,
		       void *dst)
{
	struct ab_dispatch_conf *d = &((struct ab_config *)dst)->dispatch;
	char b[32], k[32];

	(void)f;
	check_group(c, s, dispatch_fields, sizeof dispatch_fields / sizeof dispatch_fields[0],
		    "dispatch", d, NULL);
	if (d->backoff_base_ms > d->backoff_cap_ms) {
		fmt_duration(d->backoff_base_ms, b, sizeof b);
		fmt_duration(d->backoff_cap_ms, k, sizeof k);
		err(c, c->base_set ? c->base_set : c->cap_set ? c->cap_set : s,
		    "setting 'backoff_base' (%s) is greater than 'backoff_cap' (%s)", b, k);
	}
}

/* ------------------------------------------------------------------ channels */

static json_t *to_json(struct ab_conf_ctx *c, const config_setting_t *s, int depth)
{
	json_t *j = NULL;
	int i, n;

	if (depth > AB_CONF_MAX_DEPTH) {
		err(c, s, "%ssetting is nested more than %d levels deep", c->prefix,
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
			err(c, s, "%ssetting '%s' is not a finite number", c->prefix,
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
			err(c, s, "%ssetting '%s' is not valid UTF-8", c->prefix,
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
		err(c, s, "%ssetting has an unsupported type", c->prefix);
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

static void h_chan_name(struct ab_conf_ctx *c, const config_setting_t *s, const struct ab_conf_field *f,
			void *dst)
{
	const char *v = config_setting_get_string(s);
	char sh[AB_CONF_SHOW_MAX + 8];

	if (!name_ok(v, true)) {
		err(c, s, "channel name '%s' must match [a-z0-9][a-z0-9_-]{0,63}",
		    show(v, sh, sizeof sh));
		return;
	}
	*AT(dst, f->off, char *) = xstrdup(c, v);
}

static void h_chan_type(struct ab_conf_ctx *c, const config_setting_t *s, const struct ab_conf_field *f,
			void *dst)
{
	const char *v = config_setting_get_string(s);
	char sh[AB_CONF_SHOW_MAX + 8];

	if (!name_ok(v, false)) {
		err(c, s, "%schannel type '%s' must match [a-z0-9_-]+ (at most %d characters)",
		    c->prefix, show(v, sh, sizeof sh), AB_CONF_NAME_MAX);
		return;
	}
	*AT(dst, f->off, char *) = xstrdup(c, v);
}

#define COFF(m) offsetof(struct ab_channel_conf, m)
static const struct ab_conf_field channel_fields[] = {
	{ "name", FT_STRING, true, h_chan_name, COFF(name), 0, 0, 0 },
	{ "type", FT_STRING, true, h_chan_type, COFF(type), 0, 0, 0 },
	/* host settings (config_channel.c): kept out of the plugin's settings */
	{ "rate", FT_STRING, false, ab_conf_h_rate, COFF(rate), 0, 0, 0 },
	{ "burst", FT_INT, false, ab_conf_h_int, COFF(burst), 0, 1, 1000 },
	{ "fallback", FT_STRING, false, ab_conf_h_fallback, COFF(fallback), 0, 0, 0 },
	{ "failure_threshold", FT_INT, false, ab_conf_h_int, COFF(failure_threshold), 0, 1, 1000 },
	{ "enabled", FT_BOOL, false, ab_conf_h_bool, COFF(enabled), 0, 0, 0 },
};

static void free_channel(struct ab_channel_conf *ch)
{
	free(ch->name);
	free(ch->type);
	free(ch->file);
	free(ch->fallback);
	json_decref(ch->settings);
	memset(ch, 0, sizeof *ch);
}

static void do_channel(struct ab_conf_ctx *c, const config_setting_t *g, int idx,
		       const config_setting_t **defs)
{
	struct ab_config *cfg = c->cfg;
	struct ab_channel_conf *ch = &cfg->channels[cfg->n_channels];
	const char *nm = NULL;
	char what[AB_CONF_NAME_MAX + 32], sh[AB_CONF_SHOW_MAX + 8], file[PATH_MAX];
	size_t i;

	if (config_setting_lookup_string(g, "name", &nm) && name_ok(nm, true))
		snprintf(what, sizeof what, "channel '%s'", nm);
	else
		snprintf(what, sizeof what, "channel %d", idx + 1);
	snprintf(c->prefix, sizeof c->prefix, "%s: ", what);
	ch->settings = json_object();
	if (!ch->settings) {
		c->oom = true;
		return;
	}
	src_file(c, config_setting_source_file(g), file, sizeof file);
	ch->file = xstrdup(c, file);
	ch->line = config_setting_source_line(g);
	ch->enabled = true;
	check_group(c, g, channel_fields, sizeof channel_fields / sizeof channel_fields[0], what,
		    ch, h_chan_extra);
	c->prefix[0] = '\0';
	if (!ch->name) {
		free_channel(ch);
		return;
	}
	for (i = 0; i < cfg->n_channels; i++) {
		if (!strcmp(cfg->channels[i].name, ch->name)) {
			char first[PATH_MAX + 16];

			place(c, defs[i], first, sizeof first);
			err(c, g, "duplicate channel name '%s' (first defined at %s)",
			    show(ch->name, sh, sizeof sh), first);
			free_channel(ch);
			return;
		}
	}
	defs[cfg->n_channels] = g;
	cfg->n_channels++;
}

static void h_channels(struct ab_conf_ctx *c, const config_setting_t *s, const struct ab_conf_field *f,
		       void *dst)
{
	struct ab_config *cfg = dst;
	const config_setting_t **defs;
	int i, n = config_setting_length(s);

	(void)f;
	if (n > AB_CONF_MAX_CHANNELS) {
		err(c, s, "setting 'channels' has %d channels (at most %d)", n,
		    AB_CONF_MAX_CHANNELS);
		return;
	}
	cfg->channels = xcalloc(c, (size_t)n, sizeof *cfg->channels);
	defs = xcalloc(c, (size_t)n, sizeof *defs);
	if (!cfg->channels || !defs) {
		free(defs);
		return;
	}
	for (i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(s, (unsigned)i);

		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			err(c, elem_at(s, i), "channels: entry %d must be a group "
			    "{ name = \"...\"; type = \"...\"; }", i + 1);
			continue;
		}
		do_channel(c, g, i, defs);
	}
	free(defs);
}

/* ------------------------------------------------------------------ rules, default */

static int add_ref(struct ab_conf_ctx *c, const config_setting_t *elem, const char *owner)
{
	if (c->n_refs == c->cap_refs) {
		size_t ncap = c->cap_refs ? 2 * c->cap_refs : 16;
		struct ref *r = realloc(c->refs, ncap * sizeof *r);

		if (!r) {
			c->oom = true;
			return -1;
		}
		c->refs = r;
		c->cap_refs = ncap;
	}
	c->refs[c->n_refs].elem = elem;
	c->refs[c->n_refs].owner = xstrdup(c, owner);
	if (!c->refs[c->n_refs].owner)
		return -1;
	c->n_refs++;
	return 0;
}

/* Channel name lists: copied now, checked against the channels once all
 * are known (rules may come before channels in the file). */
static void h_chanrefs(struct ab_conf_ctx *c, const config_setting_t *s, const struct ab_conf_field *f,
		       void *dst)
{
	char owner[sizeof c->prefix];
	size_t len = strlen(c->prefix);
	int i, n = config_setting_length(s);

	copy_strings(c, s, f, AT(dst, f->off, char **), AT(dst, f->off_n, size_t));
	if (len >= 2)
		snprintf(owner, sizeof owner, "%.*s", (int)(len - 2), c->prefix);
	else
		snprintf(owner, sizeof owner, "%s", f->name);
	for (i = 0; i < n && i < AB_CONF_MAX_LIST; i++)
		if (add_ref(c, elem_at(s, i), owner) < 0)
			return;
}

static void h_globs(struct ab_conf_ctx *c, const config_setting_t *s, const struct ab_conf_field *f, void *dst)
{
	char sh[AB_CONF_SHOW_MAX + 8];
	int i, n = config_setting_length(s);

	for (i = 0; i < n && i < AB_CONF_MAX_LIST; i++) {
		const char *v = config_setting_get_string_elem(s, (unsigned)i);

		if (!ab_glob_valid(v) || !text_ok(v, AB_CONF_STR_MAX)) {
			err(c, elem_at(s, i), "%sbad glob '%s' in '%s' (empty, unterminated '[' "
			    "or trailing '\\')", c->prefix, show(v, sh, sizeof sh), f->name);
			return;
		}
	}
	copy_strings(c, s, f, AT(dst, f->off, char **), AT(dst, f->off_n, size_t));
}

/* The rules and teams sections are parsed in config_rules.c. */

static void free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ------------------------------------------------------------------ for section modules */

int ab_conf_add_ref(struct ab_conf_ctx *c, const config_setting_t *elem, const char *owner)
{
	return add_ref(c, elem, owner);
}

void ab_conf_err(struct ab_conf_ctx *c, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;
	char msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	err(c, s, "%s", msg);
}

void ab_conf_err_at(struct ab_conf_ctx *c, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	char msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	err_at(c, file, line, "%s", msg);
}

void ab_conf_check_group(struct ab_conf_ctx *c, const config_setting_t *g,
	const struct ab_conf_field *fields, size_t nfields, const char *what, void *dst,
	ab_conf_extra_fn extra)
{
	check_group(c, g, fields, nfields, what, dst, extra);
}

void ab_conf_h_string(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	h_string(c, s, f, dst);
}

void ab_conf_h_bool(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	h_bool(c, s, f, dst);
}

void ab_conf_h_int(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	h_int(c, s, f, dst);
}

void ab_conf_h_duration(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	h_duration(c, s, f, dst);
}

void ab_conf_h_globs(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	h_globs(c, s, f, dst);
}

void ab_conf_h_strings(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	copy_strings(c, s, f, AT(dst, f->off, char **), AT(dst, f->off_n, size_t));
}

void ab_conf_h_chanrefs(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	h_chanrefs(c, s, f, dst);
}

bool ab_conf_text_ok(const char *s, size_t max)
{
	return text_ok(s, max);
}

const char *ab_conf_show(const char *s, char *out, size_t outsz)
{
	return show(s, out, outsz);
}

void ab_conf_place(const struct ab_conf_ctx *c, const config_setting_t *s, char *out,
	size_t outsz)
{
	place(c, s, out, outsz);
}

void ab_conf_src_file(const struct ab_conf_ctx *c, const char *f, char *out, size_t outsz)
{
	src_file(c, f, out, outsz);
}

char *ab_conf_strdup(struct ab_conf_ctx *c, const char *s)
{
	return xstrdup(c, s);
}

void *ab_conf_calloc(struct ab_conf_ctx *c, size_t n, size_t sz)
{
	return xcalloc(c, n, sz);
}

json_t *ab_conf_to_json(struct ab_conf_ctx *c, const config_setting_t *s)
{
	return to_json(c, s, 0);
}

struct ab_config *ab_conf_config(struct ab_conf_ctx *c)
{
	return c->cfg;
}

/* ------------------------------------------------------------------ top level */

static void h_abspath(struct ab_conf_ctx *c, const config_setting_t *s, const struct ab_conf_field *f,
		      void *dst)
{
	const char *v = config_setting_get_string(s);
	char sh[AB_CONF_SHOW_MAX + 8];

	if (v[0] != '/') {
		err(c, s, "setting '%s' must be an absolute path (got '%s')", f->name,
		    show(v, sh, sizeof sh));
		return;
	}
	h_string(c, s, f, dst);
}

/* Stored in the context; resolved against state_dir at the end. */
static void h_later(struct ab_conf_ctx *c, const config_setting_t *s, const struct ab_conf_field *f, void *dst)
{
	(void)dst;
	h_string(c, s, f, c);
}

/* retention: 0 keeps every row; otherwise at least an hour. */
static void h_retention(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	const char *v = config_setting_get_string(s);
	char sh[AB_CONF_SHOW_MAX + 8], lo[32], hi[32], got[32];
	int64_t ms;

	if (ab_duration_parse(v, &ms) != 0) {
		err(c, s, "setting '%s': bad duration '%s' (use 30d, 12h, 2w; \"0\" keeps "
		    "everything)", f->name, show(v, sh, sizeof sh));
		return;
	}
	if (ms != 0 && (ms < f->min || ms > f->max)) {
		fmt_duration(f->min, lo, sizeof lo);
		fmt_duration(f->max, hi, sizeof hi);
		fmt_duration(ms, got, sizeof got);
		err(c, s, "setting '%s' must be 0 (keep everything) or between %s and %s (got %s)",
		    f->name, lo, hi, got);
		return;
	}
	*AT(dst, f->off, int64_t) = ms;
}

#define TOFF(m) offsetof(struct ab_config, m)
static const struct ab_conf_field top_fields[] = {
	{ "state_dir", FT_STRING, false, h_abspath, TOFF(state_dir), 0, 0, 0 },
	{ "store", FT_STRING, false, h_later, offsetof(struct ab_conf_ctx, store_raw), 0, 0, 0 },
	{ "plugin_dir", FT_STRING, false, h_string, TOFF(plugin_dir), 0, 0, 0 },
	{ "user", FT_STRING, false, h_string, TOFF(user), 0, 0, 0 },
	{ "pidfile", FT_STRING, false, h_later, offsetof(struct ab_conf_ctx, pidfile_raw), 0, 0, 0 },
	{ "retention", FT_DURATION, false, h_retention, TOFF(retention_ms), 0, MS_HOUR,
	  100 * 365 * MS_DAY },
	{ "log", FT_GROUP, false, h_log, 0, 0, 0, 0 },
	{ "dispatch", FT_GROUP, false, h_dispatch, 0, 0, 0, 0 },
	{ "channels", FT_LIST, false, h_channels, 0, 0, 0, 0 },
	{ "rules", FT_LIST, false, ab_conf_rules, 0, 0, 0, 0 },
	{ "teams", FT_LIST, false, ab_conf_teams, 0, 0, 0, 0 },
	{ "default", FT_STRINGS, false, h_chanrefs, TOFF(default_channels), TOFF(n_default), 0, 0 },
	{ "secrets_key", FT_STRING, false, h_abspath, TOFF(secrets_key), 0, 0, 0 },
	/* Sections with their own module (config_int.h). */
	{ "syslog", FT_GROUP, false, ab_conf_syslog, 0, 0, 0, 0 },
	{ "milter", FT_GROUP, false, ab_conf_milter, 0, 0, 0, 0 },
	{ "mail_sources", FT_LIST, false, ab_conf_mail_sources, 0, 0, 0, 0 },
	{ "profiles", FT_LIST, false, ab_conf_profiles, 0, 0, 0, 0 },
};

#define TABLE_FITS(t) _Static_assert(sizeof t / sizeof t[0] <= AB_CONF_MAX_FIELDS, #t " too long")
TABLE_FITS(top_fields);
TABLE_FITS(log_fields);
TABLE_FITS(dispatch_fields);
TABLE_FITS(channel_fields);

static void check_refs(struct ab_conf_ctx *c)
{
	const struct ab_config *cfg = c->cfg;
	struct ab_buf names = AB_BUF_INIT(2048);
	char sh[AB_CONF_SHOW_MAX + 8];
	size_t i;

	for (i = 0; i < cfg->n_channels && i < AB_CONF_LIST_SHOWN; i++)
		ab_buf_printf(&names, "%s%s", i ? ", " : "", cfg->channels[i].name);
	if (cfg->n_channels > AB_CONF_LIST_SHOWN)
		ab_buf_puts(&names, ", ...");
	for (i = 0; i < c->n_refs; i++) {
		const char *v = config_setting_get_string(c->refs[i].elem);

		if (!v || ab_config_channel(cfg, v))
			continue;
		if (cfg->n_channels)
			err(c, c->refs[i].elem, "%s: unknown channel '%s' (defined channels: %s)",
			    c->refs[i].owner, show(v, sh, sizeof sh), ab_buf_cstr(&names));
		else
			err(c, c->refs[i].elem,
			    "%s: unknown channel '%s' (no channels are defined)",
			    c->refs[i].owner, show(v, sh, sizeof sh));
	}
	ab_buf_free(&names);
}

static int set_defaults(struct ab_config *cfg, const char *path)
{
	cfg->refs = 1;
	cfg->log_level = AB_LOG_INFO;
	cfg->log_syslog = false;
	cfg->dispatch.workers = 2;
	cfg->dispatch.backoff_base_ms = 2 * MS_SEC;
	cfg->dispatch.backoff_cap_ms = 10 * MS_MIN;
	cfg->dispatch.max_age_ms = 2 * MS_DAY;
	cfg->dispatch.poll_ms = 500;
	cfg->dispatch.timeout_ms = 30 * MS_SEC;
	cfg->retention_ms = 30 * MS_DAY;
	cfg->path = strdup(path);
	cfg->state_dir = strdup(AB_CONF_DEFAULT_STATE_DIR);
	cfg->plugin_dir = strdup(PKGPLUGINDIR);
	return cfg->path && cfg->state_dir && cfg->plugin_dir ? 0 : -1;
}

/* libconfig does not say which @include failed: read the name from the
 * line it reports.  Returns 0 with the quoted name in out, or -1. */
static int include_name(const char *file, int line, char *out, size_t outsz)
{
	FILE *f = fopen(file, "r");
	char buf[1024];
	int n = 0;

	if (!f)
		return -1;
	while (n < line && n < 65536 && fgets(buf, sizeof buf, f)) {
		if (!strchr(buf, '\n') && !feof(f)) {
			int ch;

			while ((ch = fgetc(f)) != EOF && ch != '\n')
				;
		}
		n++;
	}
	fclose(f);
	if (n == line) {
		const char *p = strstr(buf, "@include"), *q;

		if (p && (p = strchr(p, '"')) && (q = strchr(p + 1, '"'))) {
			snprintf(out, outsz, "%.*s", (int)(q - p - 1), p + 1);
			return 0;
		}
	}
	return -1;
}

/* Read the file; libconfig's own errors become our error lines. */
static int read_file(struct ab_conf_ctx *c, config_t *lc)
{
	char file[PATH_MAX];

	errno = 0;
	if (config_read_file(lc, c->path))
		return 0;
	if (config_error_type(lc) == CONFIG_ERR_FILE_IO) {
		int e = errno;

		err_at(c, c->path, 0, "cannot read the configuration file: %s",
		       e ? strerror(e) : "I/O error");
		return -1;
	}
	src_file(c, config_error_file(lc), file, sizeof file);
	if (config_error_text(lc) && strstr(config_error_text(lc), "include")) {
		char inc[256], sh[AB_CONF_SHOW_MAX + 8];

		if (include_name(file, config_error_line(lc), inc, sizeof inc) < 0)
			err_at(c, file, config_error_line(lc), "%s (@include takes one file "
			       "name, relative to %s)", config_error_text(lc), c->dir);
		else if (strpbrk(inc, "*?["))
			err_at(c, file, config_error_line(lc), "cannot include '%s': libconfig "
			       "1.5 does not expand wildcards; @include each file by name",
			       show(inc, sh, sizeof sh));
		else
			err_at(c, file, config_error_line(lc), "cannot open include file '%s' "
			       "(relative to %s)", show(inc, sh, sizeof sh), c->dir);
	} else
		err_at(c, file, config_error_line(lc), "%s",
		       config_error_text(lc) ? config_error_text(lc) : "parse error");
	return -1;
}

static void finish_paths(struct ab_conf_ctx *c)
{
	struct ab_config *cfg = c->cfg;

	cfg->store_path = ab_config_path(cfg, c->store_raw ? c->store_raw : AB_CONF_DEFAULT_STORE);
	if (!cfg->store_path)
		c->oom = true;
	if (c->pidfile_raw) {
		cfg->pidfile = ab_config_path(cfg, c->pidfile_raw);
		if (!cfg->pidfile)
			c->oom = true;
	}
}

static struct ab_config *load(const char *path, char **errors, bool partial)
{
	struct ab_conf_ctx c;
	bool parsed = false;
	config_t lc;
	char *slash;
	size_t i;

	if (errors)
		*errors = NULL;
	memset(&c, 0, sizeof c);
	ab_buf_init(&c.errs, AB_CONF_ERRBUF_MAX);
	c.path = path ? path : "";
	c.cfg = calloc(1, sizeof *c.cfg);
	c.dir = strdup(c.path);
	if (!c.cfg || !c.dir || set_defaults(c.cfg, c.path) < 0) {
		c.oom = true;
		goto done;
	}
	slash = strrchr(c.dir, '/');
	if (!slash)
		snprintf(c.dir, strlen(c.dir) + 1, ".");
	else if (slash == c.dir)
		slash[1] = '\0';
	else
		*slash = '\0';

	config_init(&lc);
	config_set_auto_convert(&lc, 0);
	config_set_include_dir(&lc, c.dir);
	if (read_file(&c, &lc) == 0) {
		parsed = true;
		check_group(&c, config_root_setting(&lc), top_fields,
			    sizeof top_fields / sizeof top_fields[0], "the top level", c.cfg, NULL);
		check_refs(&c);
		ab_conf_mail_finish(&c, config_root_setting(&lc));   /* mail sources -> profiles */
		ab_conf_syslog_finish(&c);                           /* syslog sources -> profiles */
		finish_paths(&c);
	}
	config_destroy(&lc);
done:
	if (c.oom)
		err_at(&c, c.path, 0, "out of memory while loading the configuration");
	if (c.nerr > AB_CONF_MAX_ERRORS)
		ab_buf_printf(&c.errs, "%s: %d more errors not shown\n", c.path,
			      c.nerr - AB_CONF_MAX_ERRORS);
	for (i = 0; i < c.n_refs; i++)
		free(c.refs[i].owner);
	free(c.refs);
	free(c.store_raw);
	free(c.pidfile_raw);
	free(c.dir);
	if (c.nerr > 0) {
		if (errors) {
			*errors = ab_buf_steal(&c.errs);
			if (!*errors)
				*errors = strdup("out of memory\n");
		}
		ab_buf_free(&c.errs);
		if (partial && parsed && !c.oom)
			return c.cfg;
		ab_config_free(c.cfg);
		return NULL;
	}
	ab_buf_free(&c.errs);
	return c.cfg;
}

struct ab_config *ab_config_load(const char *path, char **errors)
{
	return load(path, errors, false);
}

struct ab_config *ab_config_load_partial(const char *path, char **errors)
{
	return load(path, errors, true);
}

void ab_config_free(struct ab_config *cfg)
{
	size_t i;

	if (!cfg)
		return;
	for (i = 0; i < cfg->n_channels; i++)
		free_channel(&cfg->channels[i]);
	free(cfg->channels);
	ab_conf_rules_free(cfg);
	free_strv(cfg->default_channels, cfg->n_default);
	free(cfg->path);
	free(cfg->state_dir);
	free(cfg->store_path);
	free(cfg->plugin_dir);
	free(cfg->user);
	free(cfg->pidfile);
	free(cfg->secrets_key);
	ab_syslog_conf_free(cfg->syslog);
	ab_mail_conf_free(cfg->mail);
	free(cfg);
}

const struct ab_channel_conf *ab_config_channel(const struct ab_config *cfg, const char *name)
{
	size_t i;

	if (!cfg || !name)
		return NULL;
	for (i = 0; i < cfg->n_channels; i++)
		if (cfg->channels[i].name && !strcmp(cfg->channels[i].name, name))
			return &cfg->channels[i];
	return NULL;
}

char *ab_config_path(const struct ab_config *cfg, const char *p)
{
	const char *dir = cfg && cfg->state_dir ? cfg->state_dir : AB_CONF_DEFAULT_STATE_DIR;
	size_t dl = strlen(dir), n;
	char *out;

	if (!p)
		return NULL;
	if (p[0] == '/' || !p[0])
		return strdup(p[0] ? p : dir);
	while (p[0] == '.' && p[1] == '/')
		p += 2;
	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	n = dl + 1 + strlen(p) + 1;
	out = malloc(n);
	if (!out)
		return NULL;
	snprintf(out, n, "%.*s%s%s", (int)dl, dir, dir[dl - 1] == '/' ? "" : "/", p);
	return out;
}
