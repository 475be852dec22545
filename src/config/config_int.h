/*
 * config_int.h - the schema engine of config.c, shared with the section
 * modules that parse their own part of alertbridge.conf:
 *   config_syslog.c  the "syslog" group (listeners, syslog sources)
 *   config_mail.c    "milter", "mail_sources" and "profiles"
 * A section module walks its group with ab_conf_check_group() and a table
 * of struct ab_conf_field rows, reports problems with ab_conf_err() (which
 * adds FILE:LINE), and stores its result in struct ab_config.
 */
#ifndef AB_CONFIG_INT_H
#define AB_CONFIG_INT_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "lib/buf.h"
#include "config/config.h"

#define AB_CONF_RULE_NAME_MAX 128

/* A channel name that must exist once all channels are known. */
struct ref {
	const config_setting_t *elem;   /* the string element */
	char *owner;                    /* "rule 'x'" or "default" */
};

struct ab_conf_ctx {
	struct ab_config *cfg;
	const char *path;               /* main file as given */
	char *dir;                      /* its directory (include dir) */
	struct ab_buf errs;
	int nerr;
	bool oom;
	char prefix[AB_CONF_RULE_NAME_MAX + 48]; /* "rule 'x': " inside a rule */
	struct ref *refs;
	size_t n_refs, cap_refs;
	char *store_raw;                /* store and pidfile as written */
	char *pidfile_raw;
	const config_setting_t *base_set, *cap_set;
};

enum ab_conf_ftype { FT_STRING, FT_BOOL, FT_INT, FT_DURATION, FT_GROUP, FT_LIST, FT_STRINGS };

struct ab_conf_field;
typedef void (*ab_conf_field_fn)(struct ab_conf_ctx *c, const config_setting_t *s, const struct ab_conf_field *f,
			 void *dst);

/* One schema row: check_group() checks the type, then fn validates and
 * stores at dst + off (h_string, h_bool, h_int, h_duration are the generic
 * ones); off_n is the element count of list handlers; min/max bound h_int
 * and h_duration (ms). */
struct ab_conf_field {
	const char *name;
	enum ab_conf_ftype type;
	bool required;
	ab_conf_field_fn fn;
	size_t off;
	size_t off_n;        /* element count for list handlers */
	long long min, max;
};

/* Extra members of an open group (channel plugin settings). */
typedef void (*ab_conf_extra_fn)(struct ab_conf_ctx *c, const config_setting_t *s, void *dst);

/* Helpers for section modules (wrappers around config.c's own). */
void ab_conf_err(struct ab_conf_ctx *c, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ab_conf_err_at(struct ab_conf_ctx *c, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void ab_conf_check_group(struct ab_conf_ctx *c, const config_setting_t *g,
	const struct ab_conf_field *fields, size_t nfields, const char *what, void *dst,
	ab_conf_extra_fn extra);
/* Generic handlers: store at (char *)dst + f->off. */
void ab_conf_h_string(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst);              /* char * */
void ab_conf_h_bool(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst);              /* bool */
void ab_conf_h_int(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst);              /* int, min..max */
void ab_conf_h_duration(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst);              /* int64_t ms, min..max */
void ab_conf_h_globs(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst);              /* char **, size_t at off_n */
void ab_conf_h_strings(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst);              /* char **, size_t at off_n */
void ab_conf_h_chanrefs(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst);              /* char **, size_t at off_n */
bool ab_conf_text_ok(const char *s, size_t max);
const char *ab_conf_show(const char *s, char *out, size_t outsz);
void ab_conf_place(const struct ab_conf_ctx *c, const config_setting_t *s, char *out,
	size_t outsz);                                          /* "FILE:LINE" */
void ab_conf_src_file(const struct ab_conf_ctx *c, const char *f, char *out, size_t outsz);
char *ab_conf_strdup(struct ab_conf_ctx *c, const char *s);
void *ab_conf_calloc(struct ab_conf_ctx *c, size_t n, size_t sz);
json_t *ab_conf_to_json(struct ab_conf_ctx *c, const config_setting_t *s);
struct ab_config *ab_conf_config(struct ab_conf_ctx *c);

/* Remember a channel-name string setting, checked once all channels are known. */
int ab_conf_add_ref(struct ab_conf_ctx *c, const config_setting_t *elem, const char *owner);
/* Channel host settings (config_channel.c). */
void ab_conf_h_rate(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst);              /* double, "N/s|m|h" */
void ab_conf_h_fallback(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst);              /* char *, a channel name */

/* Section handlers (one module each) and their destructors. */
void ab_conf_syslog(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst);
void ab_conf_milter(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst);
void ab_conf_mail_sources(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst);
void ab_conf_profiles(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst);
/* After the whole file was read: resolve mail sources -> profiles. */
void ab_conf_mail_finish(struct ab_conf_ctx *c, const config_setting_t *root);
/* config_rules.c: "rules" and "teams" and their destructor. */
void ab_conf_rules(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst);
void ab_conf_teams(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst);
void ab_conf_rules_free(struct ab_config *cfg);

/* Cross references of the syslog section, once every section is read. */
void ab_conf_syslog_finish(struct ab_conf_ctx *c);

#endif
