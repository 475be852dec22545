/*
 * config_schema.c - the schema engine of alertbridge.conf: groups are walked
 * against tables of struct ab_conf_field rows, values are checked and stored
 * by handlers, and every problem becomes one error line.  It knows no
 * section: the section modules and config.c bring their own tables.
 *
 * Public functions (config_schema.h):
 *   ab_conf_ctx_init(), ab_conf_ctx_finish()   a run and its error text
 *   ab_conf_err(), ab_conf_err_at()            report a problem
 *   ab_conf_check_group()                      one group against one table
 *   ab_conf_each_group()                       a list of groups, entry by entry
 *   ab_conf_h_string/_bool/_int/_duration/_globs/_strings/_chanrefs/_nets
 *                                              the generic handlers
 *   ab_conf_add_ref()                          a channel name to check later
 *   ab_conf_text_ok, _show, _fmt_duration, _place, _src_file, _strdup,
 *   _calloc, _strv_free                        helpers for handlers
 *
 * Diagnostics: every problem is one line "FILE:LINE: message\n" (or
 * "FILE: message" without a line), where FILE is the main file or the
 * included file the setting is in.  The engine's own: unknown settings (with
 * a "did you mean" hint for a near miss), wrong types, missing required
 * settings, bad strings, out-of-range numbers and durations, bad globs, too
 * long lists, list entries that are not groups.  At most AB_CONF_MAX_ERRORS
 * lines are kept; the rest are counted in a last line.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_schema.h"
#include "lib/util.h"
#include "net/cidr.h"

#define AB_CONF_MAX_ERRORS 100          /* error lines kept */
#define AB_CONF_ERRBUF_MAX (64 * 1024)  /* bytes of error text */

#define MS_SEC 1000LL
#define MS_MIN (60 * MS_SEC)
#define MS_HOUR (60 * MS_MIN)
#define MS_DAY (24 * MS_HOUR)

#define AT(dst, off, type) ((type *)(void *)((char *)(dst) + (off)))

/* ------------------------------------------------------------------ a run */

int ab_conf_ctx_init(struct ab_conf_ctx *c, const char *path)
{
	char *slash;

	memset(c, 0, sizeof *c);
	ab_buf_init(&c->errs, AB_CONF_ERRBUF_MAX);
	c->path = path ? path : "";
	c->dir = strdup(c->path);
	if (!c->dir) {
		c->oom = true;
		return -1;
	}
	slash = strrchr(c->dir, '/');
	if (!slash)
		snprintf(c->dir, strlen(c->dir) + 1, ".");
	else if (slash == c->dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	return 0;
}

int ab_conf_ctx_finish(struct ab_conf_ctx *c, char **errors)
{
	size_t i;

	if (errors)
		*errors = NULL;
	if (c->oom)
		ab_conf_err_at(c, c->path, 0, "out of memory while loading the configuration");
	if (c->nerr > AB_CONF_MAX_ERRORS)
		ab_buf_printf(&c->errs, "%s: %d more errors not shown\n", c->path,
			      c->nerr - AB_CONF_MAX_ERRORS);
	for (i = 0; i < c->n_refs; i++)
		free(c->refs[i].owner);
	free(c->refs);
	c->refs = NULL;
	c->n_refs = c->cap_refs = 0;
	free(c->dir);
	c->dir = NULL;
	if (c->nerr > 0 && errors) {
		*errors = ab_buf_steal(&c->errs);
		if (!*errors)
			*errors = strdup("out of memory\n");
	}
	ab_buf_free(&c->errs);
	return c->nerr;
}

/* ------------------------------------------------------------------ errors */

const char *ab_conf_show(const char *s, char *out, size_t outsz)
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

/* Included files are recorded by libconfig as written in @include, so
 * relative ones are joined to the include directory. */
void ab_conf_src_file(const struct ab_conf_ctx *c, const char *f, char *out, size_t outsz)
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

void ab_conf_err_at(struct ab_conf_ctx *c, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr_at(c, file, line, fmt, ap);
	va_end(ap);
}

/* Located at setting s: its file and line, or its parent's. */
void ab_conf_err(struct ab_conf_ctx *c, const config_setting_t *s, const char *fmt, ...)
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
	ab_conf_src_file(c, f, file, sizeof file);
	va_start(ap, fmt);
	verr_at(c, file, line, fmt, ap);
	va_end(ap);
}

char *ab_conf_strdup(struct ab_conf_ctx *c, const char *s)
{
	char *p = strdup(s ? s : "");

	if (!p)
		c->oom = true;
	return p;
}

void *ab_conf_calloc(struct ab_conf_ctx *c, size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);

	if (!p)
		c->oom = true;
	return p;
}

void ab_conf_place(const struct ab_conf_ctx *c, const config_setting_t *s, char *out,
	size_t outsz)
{
	char file[PATH_MAX];

	ab_conf_src_file(c, config_setting_source_file(s), file, sizeof file);
	snprintf(out, outsz, "%s:%u", file, config_setting_source_line(s));
}

/* ------------------------------------------------------------------ helpers */

void ab_conf_fmt_duration(int64_t ms, char *out, size_t outsz)
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

bool ab_conf_text_ok(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || i >= max)
			return false;
	return i > 0;
}

static bool type_ok(const config_setting_t *s, enum ab_conf_type t)
{
	int ty = config_setting_type(s);
	int i, n;

	switch (t) {
	case AB_CONF_T_STRING:
	case AB_CONF_T_DURATION:
		return ty == CONFIG_TYPE_STRING;
	case AB_CONF_T_BOOL:
		return ty == CONFIG_TYPE_BOOL;
	case AB_CONF_T_INT:
		return ty == CONFIG_TYPE_INT || ty == CONFIG_TYPE_INT64;
	case AB_CONF_T_GROUP:
		return ty == CONFIG_TYPE_GROUP;
	case AB_CONF_T_LIST:
		return ty == CONFIG_TYPE_LIST;
	case AB_CONF_T_STRINGS:
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

static const char *type_words(enum ab_conf_type t)
{
	switch (t) {
	case AB_CONF_T_STRING: return "a string";
	case AB_CONF_T_BOOL: return "true or false";
	case AB_CONF_T_INT: return "an integer";
	case AB_CONF_T_DURATION: return "a duration string such as \"30s\"";
	case AB_CONF_T_GROUP: return "a group { ... }";
	case AB_CONF_T_LIST: return "a list ( { ... }, ... )";
	case AB_CONF_T_STRINGS: return "a list of strings [\"a\", \"b\"]";
	}
	return "?";
}

/* ------------------------------------------------------------------ groups */

void ab_conf_check_group(struct ab_conf_ctx *c, const config_setting_t *g,
	const struct ab_conf_field *fields, size_t nfields, const char *what, void *dst,
	ab_conf_extra_fn extra)
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
				ab_conf_err(c, s, "unknown setting '%s' in %s; did you mean '%s'?",
					    name, what, best);
			else
				ab_conf_err(c, s, "unknown setting '%s' in %s", name, what);
			continue;
		}
		if (k < sizeof seen / sizeof seen[0])
			seen[k] = true;
		if (!type_ok(s, f->type)) {
			ab_conf_err(c, s, "%ssetting '%s' must be %s", c->prefix, name,
				    type_words(f->type));
			continue;
		}
		f->fn(c, s, f, dst);
	}
	for (k = 0; k < nfields && k < sizeof seen / sizeof seen[0]; k++)
		if (fields[k].required && !seen[k])
			ab_conf_err(c, g, "%s: missing required setting '%s'", what,
				    fields[k].name);
}

void ab_conf_each_group(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_list *how, ab_conf_group_fn fn, void *arg)
{
	int i, n = config_setting_length(s);

	for (i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(s, (unsigned)i);
		char label[sizeof c->prefix - 2];
		const char *nm = NULL;

		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			ab_conf_err(c, g, "%s: entry %d must be a group %s", how->what, i + 1,
				    how->shape);
			continue;
		}
		if (!how->kind) {
			fn(c, g, i, NULL, arg);
			continue;
		}
		if (config_setting_lookup_string(g, "name", &nm) && how->name_ok(nm))
			snprintf(label, sizeof label, "%s '%s'", how->kind, nm);
		else
			snprintf(label, sizeof label, "%s %d", how->kind, i + 1);
		snprintf(c->prefix, sizeof c->prefix, "%s: ", label);
		fn(c, g, i, label, arg);
		c->prefix[0] = '\0';
	}
}

/* ------------------------------------------------------------------ generic handlers */

void ab_conf_h_string(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	const char *v = config_setting_get_string(s);
	char **p = AT(dst, f->off, char *);
	char sh[AB_CONF_SHOW_MAX + 8];

	if (!ab_conf_text_ok(v, AB_CONF_STR_MAX)) {
		ab_conf_err(c, s, "%ssetting '%s': bad value '%s' (must be non-empty, without "
			    "control characters, shorter than %d)", c->prefix, f->name,
			    ab_conf_show(v, sh, sizeof sh), AB_CONF_STR_MAX);
		return;
	}
	free(*p);
	*p = ab_conf_strdup(c, v);
}

void ab_conf_h_bool(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	(void)c;
	*AT(dst, f->off, bool) = config_setting_get_bool(s) != 0;
}

void ab_conf_h_int(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	long long v = config_setting_get_int64(s);

	if (v < f->min || v > f->max) {
		ab_conf_err(c, s, "%ssetting '%s' must be between %lld and %lld (got %lld)",
			    c->prefix, f->name, f->min, f->max, v);
		return;
	}
	*AT(dst, f->off, int) = (int)v;
}

void ab_conf_h_duration(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	const char *v = config_setting_get_string(s);
	char sh[AB_CONF_SHOW_MAX + 8], lo[32], hi[32], got[32];
	int64_t ms;

	if (ab_duration_parse(v, &ms) != 0) {
		ab_conf_err(c, s, "%ssetting '%s': bad duration '%s' (use 30s, 5m, 1h, 2d)",
			    c->prefix, f->name, ab_conf_show(v, sh, sizeof sh));
		return;
	}
	if (ms < f->min || ms > f->max) {
		ab_conf_fmt_duration(f->min, lo, sizeof lo);
		ab_conf_fmt_duration(f->max, hi, sizeof hi);
		ab_conf_fmt_duration(ms, got, sizeof got);
		ab_conf_err(c, s, "%ssetting '%s' must be between %s and %s (got %s)", c->prefix,
			    f->name, lo, hi, got);
		return;
	}
	*AT(dst, f->off, int64_t) = ms;
}

/* Copy a list of strings (type already checked) into a NULL-free array. */
void ab_conf_h_strings(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	char ***arr = AT(dst, f->off, char **);
	size_t *n = AT(dst, f->off_n, size_t);
	int i, len = config_setting_length(s);

	if (len > AB_CONF_MAX_LIST) {
		ab_conf_err(c, s, "%ssetting '%s' has %d entries (at most %d)", c->prefix, f->name,
			    len, AB_CONF_MAX_LIST);
		return;
	}
	*arr = ab_conf_calloc(c, (size_t)len, sizeof **arr);
	if (!*arr)
		return;
	for (i = 0; i < len; i++) {
		(*arr)[i] = ab_conf_strdup(c, config_setting_get_string_elem(s, (unsigned)i));
		if (!(*arr)[i])
			return;
		(*n)++;
	}
}

void ab_conf_h_globs(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	char sh[AB_CONF_SHOW_MAX + 8];
	int i, n = config_setting_length(s);

	for (i = 0; i < n && i < AB_CONF_MAX_LIST; i++) {
		const char *v = config_setting_get_string_elem(s, (unsigned)i);

		if (!ab_glob_valid(v) || !ab_conf_text_ok(v, AB_CONF_STR_MAX)) {
			ab_conf_err(c, config_setting_get_elem(s, (unsigned)i), "%sbad glob '%s' in "
				    "'%s' (empty, unterminated '[' or trailing '\\')", c->prefix,
				    ab_conf_show(v, sh, sizeof sh), f->name);
			return;
		}
	}
	ab_conf_h_strings(c, s, f, dst);
}

int ab_conf_add_ref(struct ab_conf_ctx *c, const config_setting_t *elem, const char *owner)
{
	if (c->n_refs == c->cap_refs) {
		size_t ncap = c->cap_refs ? 2 * c->cap_refs : 16;
		struct ab_conf_ref *r = realloc(c->refs, ncap * sizeof *r);

		if (!r) {
			c->oom = true;
			return -1;
		}
		c->refs = r;
		c->cap_refs = ncap;
	}
	c->refs[c->n_refs].elem = elem;
	c->refs[c->n_refs].owner = ab_conf_strdup(c, owner);
	if (!c->refs[c->n_refs].owner)
		return -1;
	c->n_refs++;
	return 0;
}

/* Copied now, checked against the channels once all are known. */
void ab_conf_h_chanrefs(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	char owner[sizeof c->prefix];
	size_t len = strlen(c->prefix);
	int i, n = config_setting_length(s);

	ab_conf_h_strings(c, s, f, dst);
	if (len >= 2)
		snprintf(owner, sizeof owner, "%.*s", (int)(len - 2), c->prefix);
	else
		snprintf(owner, sizeof owner, "%s", f->name);
	for (i = 0; i < n && i < AB_CONF_MAX_LIST; i++)
		if (ab_conf_add_ref(c, config_setting_get_elem(s, (unsigned)i), owner) < 0)
			return;
}

void ab_conf_strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void ab_conf_h_nets(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	struct ab_cidr **arr = (struct ab_cidr **)(void *)((char *)dst + f->off);
	size_t *n = (size_t *)(void *)((char *)dst + f->off_n);
	int len = config_setting_length(s);

	if (len > AB_CONF_MAX_LIST) {
		ab_conf_err(c, s, "%ssetting '%s': at most %d networks", c->prefix, f->name,
			AB_CONF_MAX_LIST);
		return;
	}
	*arr = ab_conf_calloc(c, (size_t)len, sizeof **arr);
	if (!*arr)
		return;
	for (int i = 0; i < len; i++) {
		const char *v = config_setting_get_string_elem(s, (unsigned)i);
		char err[256];

		if (ab_cidr_parse(v, &(*arr)[*n], err, sizeof err) < 0) {
			ab_conf_err(c, config_setting_get_elem(s, (unsigned)i), "%ssetting '%s': bad "
				"%s", c->prefix, f->name, err);
			continue;
		}
		(*n)++;
	}
}
