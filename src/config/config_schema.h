/*
 * config_schema.h - the schema engine every part of alertbridge.conf is read
 * with: a group of settings is walked against a table of struct ab_conf_field
 * rows (name, type, required, handler, where to store), and every problem is
 * collected as one "FILE:LINE: message" line, all of them in one run.
 *
 * The section modules (config_channel, config_mail, config_rules,
 * config_syslog) and the top level (config.c) use it; it knows none of them.
 * A handler gets the setting, its row and dst, the struct the group is
 * stored in; the generic handlers store at (char *)dst + f->off.
 */
#ifndef AB_CONFIG_SCHEMA_H
#define AB_CONFIG_SCHEMA_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define AB_CONF_RULE_NAME_MAX 128   /* a rule name; c->prefix holds "rule 'NAME': " */
#define AB_CONF_NAME_MAX 64         /* channel names and types; "did you mean" hints */
#define AB_CONF_STR_MAX 4096        /* ab_conf_h_string: paths and other strings */
#define AB_CONF_SHOW_MAX 80         /* characters of a value echoed in errors */
#define AB_CONF_MAX_LIST 1024       /* strings in one list setting */
#define AB_CONF_MAX_FIELDS 32       /* rows of one table that "required" is checked for */

/* A table fits the engine's bookkeeping (required settings are tracked for
 * the first AB_CONF_MAX_FIELDS rows). */
#define AB_CONF_TABLE_FITS(t) \
	_Static_assert(sizeof t / sizeof t[0] <= AB_CONF_MAX_FIELDS, #t " too long")

/* A string setting naming a channel, checked once every channel is known
 * (rules may come before the channels in the file). */
struct ab_conf_ref {
	const config_setting_t *elem;   /* the string element */
	char *owner;                    /* "rule 'x'", "default", ... for the message */
};

/* One run over one file and what it includes. */
struct ab_conf_ctx {
	const char *path;               /* main file as given */
	char *dir;                      /* its directory (include dir) */
	struct ab_buf errs;             /* the error lines */
	int nerr;                       /* errors found, kept or not */
	bool oom;                       /* an allocation failed: reported once at the end */
	char prefix[AB_CONF_RULE_NAME_MAX + 48]; /* "rule 'x': " while inside an entry */
	struct ab_conf_ref *refs;       /* channel names to check (ab_conf_add_ref) */
	size_t n_refs, cap_refs;
};

/* Start a run over path: its directory, an empty error list.  -1 when out
 * of memory (c->oom is set, the run can still be finished). */
int ab_conf_ctx_init(struct ab_conf_ctx *c, const char *path);
/* End a run: add the "out of memory" and "N more errors not shown" lines,
 * hand the error text to *errors when there were errors (else NULL; caller
 * frees), release the context.  Returns the number of errors. */
int ab_conf_ctx_finish(struct ab_conf_ctx *c, char **errors);

/* The type check_group() requires before it calls the row's handler. */
enum ab_conf_type {
	AB_CONF_T_STRING,
	AB_CONF_T_BOOL,
	AB_CONF_T_INT,
	AB_CONF_T_DURATION,        /* a string such as "30s" */
	AB_CONF_T_GROUP,
	AB_CONF_T_LIST,            /* ( { ... }, ... ) */
	AB_CONF_T_STRINGS,         /* [ "a", "b" ] or ( "a", "b" ) */
};

struct ab_conf_field;
typedef void (*ab_conf_field_fn)(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst);

/* One schema row: ab_conf_check_group() checks the type, then fn validates
 * and stores at dst + off; off_n is the element count of list handlers;
 * min/max bound ab_conf_h_int and ab_conf_h_duration (ms). */
struct ab_conf_field {
	const char *name;
	enum ab_conf_type type;
	bool required;
	ab_conf_field_fn fn;
	size_t off;
	size_t off_n;        /* element count for list handlers */
	long long min, max;
};

/* Members of an open group that no row names (channel plugin settings). */
typedef void (*ab_conf_extra_fn)(struct ab_conf_ctx *c, const config_setting_t *s, void *dst);

/* Errors: "FILE:LINE: message" at setting s (or the nearest parent with a
 * line), or at file and line (line 0: "FILE: message"). */
void ab_conf_err(struct ab_conf_ctx *c, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ab_conf_err_at(struct ab_conf_ctx *c, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Walk the members of group g against fields[]: unknown members go to extra
 * (when set) or are errors with a "did you mean" hint; wrong types and
 * missing required settings are errors.  what names the group in messages. */
void ab_conf_check_group(struct ab_conf_ctx *c, const config_setting_t *g,
	const struct ab_conf_field *fields, size_t nfields, const char *what, void *dst,
	ab_conf_extra_fn extra);

/* A list of groups for ab_conf_each_group(). */
struct ab_conf_list {
	const char *what;    /* the list in messages: "channels", "syslog listeners" */
	const char *shape;   /* an example entry: "{ name = \"...\"; }" */
	const char *kind;    /* an entry in messages: "channel" gives the label "channel 'NAME'"
	                      * or "channel N"; NULL: no label, c->prefix is left alone */
	bool (*name_ok)(const char *name);  /* names the label may show (with kind) */
};
/* Called for the entry at idx (from 0); with a kind, label is the entry's
 * label and c->prefix is "LABEL: " until fn returns (then it is cleared). */
typedef void (*ab_conf_group_fn)(struct ab_conf_ctx *c, const config_setting_t *g, int idx,
	const char *label, void *arg);
/* Call fn for every group of the list s, in order; any other element is the
 * error "WHAT: entry N must be a group SHAPE". */
void ab_conf_each_group(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_list *how, ab_conf_group_fn fn, void *arg);

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
/* Channel names (char **, size_t at off_n), each remembered with
 * ab_conf_add_ref() under the owner c->prefix names (or the setting). */
void ab_conf_h_chanrefs(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst);
/* IPv4/IPv6 networks (net/cidr.h: struct ab_cidr *, size_t at off_n),
 * each checked (host bits after the prefix are an error). */
void ab_conf_h_nets(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst);
/* Remember a channel-name string setting; 0 or -1 (out of memory). */
int ab_conf_add_ref(struct ab_conf_ctx *c, const config_setting_t *elem, const char *owner);

/* Non-empty, no control characters, shorter than max. */
bool ab_conf_text_ok(const char *s, size_t max);
/* A value for a message: control characters become '?', long ones end in "...". */
const char *ab_conf_show(const char *s, char *out, size_t outsz);
/* "30s", "5m", "2d", "1500ms": the largest unit that divides ms. */
void ab_conf_fmt_duration(int64_t ms, char *out, size_t outsz);
/* Where setting s is, as "FILE:LINE", for "first defined at" hints. */
void ab_conf_place(const struct ab_conf_ctx *c, const config_setting_t *s, char *out,
	size_t outsz);
/* The file a setting came from (libconfig's name f), as the admin can open it. */
void ab_conf_src_file(const struct ab_conf_ctx *c, const char *f, char *out, size_t outsz);
/* strdup / calloc that set c->oom on failure. */
char *ab_conf_strdup(struct ab_conf_ctx *c, const char *s);
void *ab_conf_calloc(struct ab_conf_ctx *c, size_t n, size_t sz);
/* Free a string list made by ab_conf_h_strings, _globs or _chanrefs. */
void ab_conf_strv_free(char **v, size_t n);

#endif
