/*
 * tmpl.h - the message templates channels may set (a small mustache-like
 * language, always escaped for where its output goes).
 *
 * Syntax:
 *   {{name}}            a value: a member of the message (title, severity,
 *                       fields.cwe, group.title, ...; see tmpl.c), escaped
 *                       for the target; a missing one is ""
 *   {{#name}}...{{/name}}  a section: a list repeats it for each element
 *                       (whose members come first inside), an object or
 *                       any other truthy value renders it once; false, null,
 *                       "", 0 and [] skip it
 *   {{^name}}...{{/name}}  rendered when name is falsy or missing
 *   {{! comment }}
 * Names are letters, digits, '_', '-' and dots (a path), at most 64 bytes;
 * "." is the current list element.  There is no way to leave a value
 * unescaped.  Bounds: templates of at most TMPL_SRC_MAX bytes and
 * TMPL_DEPTH_MAX nested sections; a render stops at its output cap or after
 * TMPL_STEPS_MAX steps (loop bodies included) and fails then.
 */
#ifndef AB_PLUGINS_TMPL_H
#define AB_PLUGINS_TMPL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "lib/buf.h"
#include "render.h"

#define TMPL_SRC_MAX 16384
#define TMPL_DEPTH_MAX 8
#define TMPL_STEPS_MAX 100000
#define TMPL_NAME_MAX 64

/* How values are escaped: the rd_esc formats, and JSON string contents
 * (for a webhook body shape: the template is JSON, values go inside its
 * strings). */
enum tmpl_esc { TMPL_ESC_RD = 0, TMPL_ESC_JSON = 1 };

struct tmpl;

/* Compile src; NULL with "line L, column C: what" in err. */
struct tmpl *tmpl_compile(const char *src, char *err, size_t errsz);
void tmpl_free(struct tmpl *t);

/* The data a template sees: the payload's members, and what alertbridge
 * adds to them (label, resolved, followup, first_sent, when, count, counts,
 * is_group, test).  A new object; NULL on ENOMEM. */
json_t *tmpl_data(const struct rd_view *v, const json_t *payload);

/* Render t with data into out (its cap is the output cap), values escaped
 * with esc (rd when kind is TMPL_ESC_RD).  0, or -1 with err (the output
 * cap or the step bound was hit, or memory ran out). */
int tmpl_render(const struct tmpl *t, const json_t *data, enum tmpl_esc kind, enum rd_esc esc,
	struct ab_buf *out, char *err, size_t errsz);

/* The templates of a channel: the "template" setting, an object of
 * part -> template text, consumed from cfg.  Only the parts named in
 * parts (NULL-terminated) are allowed.  0 (none set: *out stays empty), or
 * -1 with "setting 'template.PART': line L, column C: ..." in err. */
struct tmpl_set {
	const char *const *parts;
	struct tmpl **t;                /* one per part, NULL when not set */
};
int tmpl_set_parse(json_t *cfg, const char *const *parts, struct tmpl_set *out, char *err,
	size_t errsz);
void tmpl_set_free(struct tmpl_set *s);
/* The template of part, or NULL. */
const struct tmpl *tmpl_part(const struct tmpl_set *s, const char *part);
/* part of s rendered for v (payload: the message's) into a malloc'd
 * string of at most cap bytes; NULL when the part is not set, or when it
 * failed, which is logged (a warning through h naming channel and part):
 * the caller then uses its built-in layout. */
char *tmpl_apply(const struct tmpl_set *s, const char *part, const struct ab_host *h,
	const char *channel, const struct rd_view *v, const json_t *payload, enum tmpl_esc kind,
	enum rd_esc esc, size_t cap);

/* The "title" and "body" parts of s rendered unescaped into v->title and
 * v->summary (each left as it was when its part is not set or failed): the
 * plugin's own layout then escapes them for its target, as it escapes the
 * event's.  own[0..1] get what the caller frees afterwards. */
void tmpl_view(const struct tmpl_set *s, const struct ab_host *h, const json_t *payload,
	struct rd_view *v, char *own[2]);

#endif
