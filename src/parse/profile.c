/*
 * profile.c - the profile engine: ordered extractors over a parsed mail or
 * a message text -> event fields (see profile.h for the model).
 *
 * Public: ab_profile_target_ok, ab_profile_compile_regex, ab_profile_regex,
 *   ab_profile_free,
 *   ab_profile_apply_mail, ab_profile_apply_text, ab_profile_apply_syslog.
 *
 * Extractors: X-Alert-* headers; header name maps; JSON (jansson, decode
 * depth capped, a string holding JSON is decoded when a path goes on into
 * it, as in AWS SNS "Message"); XML via XPath (libxml2 with NONET, without
 * NOENT/DTDLOAD; a document with a DOCTYPE is refused outright so no
 * entity can ever be expanded); "Key: value" lines; PCRE2 named groups
 * (lib/regex.h: its match budget; a budget hit yields nothing).  Values are cleaned to single-line UTF-8
 * and capped at AB_PROFILE_MAX_VALUE bytes (the summary keeps line ends).
 *
 * Diagnostics: none logged; what each extractor did (and why it yielded
 * nothing: bad JSON, DOCTYPE refused, no match) goes to the caller's trace.
 * A refused DOCTYPE is also set as fields.xml_refused ("WHERE: ...") for
 * the caller to log (the milter does).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <gmime/gmime.h>

#include "lib/buf.h"
#include "event/event.h"
#include "parse/html.h"
#include "parse/mail.h"
#include "parse/profile.h"
#include "parse/syslog.h"
#include "lib/regex.h"
#include "lib/utf8.h"
#include "lib/util.h"

#define RE_MAX_SUBJECT (64u * 1024)
#define RE_MAX_TEXT (1024u * 1024)
#define ALL_MAX_MATCHES 1000u     /* matches an "all" extractor offers */
#define RE_MAX_NAMES 64u          /* named groups in one extractor regex */
#define FIELD_NAME_MAX 64         /* bytes of NAME in a fields.NAME target */

/* A target is a row of the event's member table that profiles may set
 * (AB_EVF_PROFILE in event/event_members.h), by its index AB_EVM_..., or
 * T_FIELD for "fields.NAME". */
enum target {
	T_COUNT = AB_EVM_COUNT,
	T_FIELD = T_COUNT,
};

enum scale { SC_WORDS = -1 };

/* A fields.NAME value found so far. */
struct cfield {
	char name[FIELD_NAME_MAX + 1];
	char *val;
	int from;                 /* extractor that set it */
	bool settled;             /* it had its value after the first pass */
	bool mapped;              /* a value map changed it in this pass */
};

struct cand {
	char *val[T_COUNT];
	int sev_scale;            /* SC_WORDS or enum ab_sev_scale */
	int cur_ext;              /* extractor running (-1: maps, fallback, defaults) */
	bool agg;                 /* it is an "all" extractor: highest severity wins */
	const struct ab_profile *prof;
	int from[T_COUNT];        /* extractor that set val[t] (-1: none) */
	bool worse;               /* "all": this match raised the severity, its other
				     captures replace the extractor's earlier ones */
	struct cfield *fl;        /* fields.NAME, in the order found (at most
				     AB_PROFILE_MAX_FIELDS): fl0, then on the heap */
	size_t nfl, capfl;
	struct cfield fl0[8];
	struct ab_buf *trace;
	bool oom;
	uint64_t want;            /* 0: every target; else the members (1 << AB_EVM_...)
				     to work out, the others left alone */
	bool want_fields;         /* with want: fields.NAME too (a fallback reads them) */
	bool unsure;              /* a field left out could not be read from the line */
};

/* Is tg a target of a pass that works out want (0: all) and, with want,
 * fields.NAME only when want_fields? */
static bool tg_wanted(uint64_t want, bool want_fields, const struct ab_target *tg)
{
	if (!want)
		return true;
	if (tg->member == T_FIELD)
		return want_fields;
	return tg->member >= 0 && (want & (1ull << tg->member));
}

static bool wanted(const struct cand *c, const struct ab_target *tg)
{
	return tg_wanted(c->want, c->want_fields, tg);
}

static bool want_member(const struct cand *c, int member)
{
	return !c->want || (c->want & (1ull << member));
}

struct view {
	const char *subject;
	const char *text;
	size_t text_len;
	const struct ab_mail *m;  /* NULL for plain text */
	json_t *evfields;         /* syslog: the parser's fields ("fields" extractor) */
	const struct ab_syslog_view *later;   /* syslog: the line's scan, when the payload's
				     fields were left out of evfields (ab_syslog_view_field) */
};

/* The text of the event's field key (NULL: none) for a syslog view: from
 * its fields, or the line's scan for one left out.  json: the value when
 * it is not a string (the caller writes it out). */
static const char *evfield(struct cand *c, const struct view *vw, const char *key,
			   char *buf, size_t bufsz, json_t **json)
{
	json_t *v;
	const char *t = NULL;
	int r;

	*json = NULL;
	/* a payload field is not in evfields while the scan is given */
	if (vw->later && ab_syslog_view_gives(key)) {
		r = ab_syslog_view_field(vw->later, key, buf, bufsz, &t);
		if (r >= 0)
			return t;
	}
	v = vw->evfields ? json_object_get(vw->evfields, key) : NULL;
	if (!v && vw->later && ab_syslog_later_key(key)) {
		c->unsure = true;       /* left out, and the scan cannot tell */
		return NULL;
	}
	if (!v || json_is_null(v))
		return NULL;
	if (json_is_string(v))
		return json_string_value(v);
	*json = v;
	return NULL;
}

/* ------------------------------------------------------------ targets */

/* Index of a target, T_FIELD for "fields.NAME" (*fname set), -1 if bad. */
static int target_parse(const char *name, int *scale, const char **fname)
{
	if (scale)
		*scale = SC_WORDS;
	if (!name)
		return -1;
	if (!strncmp(name, "fields.", 7)) {
		const char *p = name + 7;

		if (!*p || strlen(p) > FIELD_NAME_MAX)
			return -1;
		for (; *p; p++)
			if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
				return -1;
		if (fname)
			*fname = name + 7;
		return T_FIELD;
	}
	if (!strncmp(name, "severity@", 9)) {
		enum ab_sev_scale sc;

		if (ab_sev_scale_parse(name + 9, &sc) < 0)
			return -1;
		if (scale)
			*scale = (int)sc;
		return AB_EVM_SEVERITY;
	}
	return ab_event_member_find(name, AB_EVF_PROFILE);
}

bool ab_profile_target_ok(const char *name)
{
	return target_parse(name, NULL, NULL) >= 0;
}

static void target_read(const char *name, struct ab_target *tg)
{
	tg->name = name;
	tg->field = NULL;
	tg->member = target_parse(name, &tg->scale, &tg->field);
}

void ab_profile_prepare(struct ab_profile *p)
{
	size_t i, k;

	for (i = 0; i < p->n_ext; i++) {
		struct ab_extractor *x = &p->ext[i];

		for (k = 0; k < x->n_maps; k++) {
			target_read(x->maps[k].target, &x->maps[k].tg);
			x->maps[k].unscanned = x->kind == AB_EXT_FIELDS &&
				ab_syslog_later_key(x->maps[k].from) &&
				!ab_syslog_view_gives(x->maps[k].from);
		}
		x->field_unscanned = x->kind == AB_EXT_REGEX && x->where == AB_WHERE_FIELD &&
			ab_syslog_later_key(x->field) && !ab_syslog_view_gives(x->field);
	}
	for (i = 0; i < p->n_maps; i++)
		target_read(p->maps[i].target, &p->maps[i].tg);
	p->fallback_fields = false;
	for (i = 0; i < p->n_fallback; i++) {
		target_read(p->fallback[i].target, &p->fallback[i].tg);
		if (strstr(p->fallback[i].from, "{fields."))
			p->fallback_fields = true;
	}
}

/* Regex group names cannot hold '.' or '@': fields_X -> fields.X,
 * severity_wazuh -> severity@wazuh. */
static void group_target(const char *g, char *out, size_t outsz)
{
	if (!strncmp(g, "fields_", 7))
		snprintf(out, outsz, "fields.%s", g + 7);
	else if (!strncmp(g, "severity_", 9))
		snprintf(out, outsz, "severity@%s", g + 9);
	else
		snprintf(out, outsz, "%s", g);
}

/* ------------------------------------------------------------ candidates */

static void trace_put(struct cand *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void trace_put(struct cand *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ab_buf_vprintf(c->trace, fmt, ap);
	va_end(ap);
}

/* A line of the trace; nothing (not even its arguments) without one. */
#define tracef(c, ...) ((c)->trace ? trace_put((c), __VA_ARGS__) : (void)0)

/* Printable ASCII with no run of spaces: clean as it is. */
static bool plain_ascii(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)v[i];

		if (ch < 0x20 || ch >= 0x7f || (ch == ' ' && i + 1 < n && v[i + 1] == ' '))
			return false;
	}
	return true;
}

/* Clean a value: UTF-8, trimmed, capped; single line unless multi. */
static char *clean_value(const char *v, size_t len, bool multi)
{
	size_t cap = multi ? AB_PROFILE_MAX_SUMMARY : AB_PROFILE_MAX_VALUE;
	struct ab_buf b = AB_BUF_INIT(cap);
	size_t s = 0, e;
	char *out;

	while (s < len && isspace((unsigned char)v[s]))
		s++;
	e = len;
	while (e > s && isspace((unsigned char)v[e - 1]))
		e--;
	if (e == s)
		return NULL;
	if (e - s < cap && plain_ascii(v + s, e - s))
		return strndup(v + s, e - s);    /* what the cleaning below would give */
	if (ab_utf8_clean(&b, v + s, e - s, !multi) < 0 && (b.oom || !b.overflow)) {
		ab_buf_free(&b);
		return NULL;
	}
	out = ab_buf_steal(&b);
	if (out && !multi) {     /* a value over folded lines: one space per run */
		size_t i, o = 0;

		for (i = 0; out[i]; i++)
			if (!(out[i] == ' ' && o > 0 && out[o - 1] == ' '))
				out[o++] = out[i];
		out[o] = '\0';
	}
	return out;
}

/* A raw severity on its scale as a rank, -1 when not understood; a tool
 * word the profile's severity value maps know is ranked as its mapped word
 * (Zabbix "Disaster", Checkmk "DOWN"). */
static int sev_rank(const struct cand *c, const char *v, int scale)
{
	enum ab_severity sev;
	size_t i, k;

	for (i = 0; c->prof && i < c->prof->n_maps; i++) {
		const struct ab_value_map *vm = &c->prof->maps[i];

		if (vm->tg.member != AB_EVM_SEVERITY || vm->tg.scale != SC_WORDS)
			continue;
		for (k = 0; k < vm->n_match; k++)
			if (ab_glob_match(vm->match[k], v))
				return ab_severity_parse(vm->value, &sev) == 0 ? (int)sev : -1;
	}

	if (scale != SC_WORDS && ab_severity_from_text((enum ab_sev_scale)scale, v, &sev) == 0)
		return (int)sev;
	return ab_severity_parse(v, &sev) == 0 ? (int)sev : -1;
}

static struct cfield *cfield_get(const struct cand *c, const char *name)
{
	for (size_t i = 0; i < c->nfl; i++)
		if (!strcmp(c->fl[i].name, name))
			return &c->fl[i];
	return NULL;
}

/* A new field (name at most 64 bytes), NULL when memory ran out. */
static struct cfield *cfield_add(struct cand *c, const char *name)
{
	size_t n = strnlen(name, sizeof c->fl0[0].name - 1);
	struct cfield *f;

	if (c->nfl == c->capfl) {
		size_t cap = c->capfl * 2;

		f = malloc(cap * sizeof *f);
		if (!f) {
			c->oom = true;
			return NULL;
		}
		memcpy(f, c->fl, c->nfl * sizeof *f);
		if (c->fl != c->fl0)
			free(c->fl);
		c->fl = f;
		c->capfl = cap;
	}
	f = &c->fl[c->nfl++];
	memcpy(f->name, name, n);
	f->name[n] = '\0';
	f->val = NULL;
	f->from = -1;
	f->settled = f->mapped = false;
	return f;
}

/* Offer a value for a target: the first one wins, except that within one
 * "all" extractor a higher severity replaces a lower one.  who says where
 * it came from (trace).  Returns true if it was taken. */
static bool offer_tg(struct cand *c, const struct ab_target *tg, const char *v, size_t len,
		     const char *who)
{
	const char *fname = tg->field;
	int scale = tg->scale, t = tg->member;
	struct cfield *f = NULL;
	char *val;

	if (t < 0 || !v || !wanted(c, tg))
		return false;
	if (t == T_FIELD) {
		f = cfield_get(c, fname);
		if ((f && !(c->worse && f->from == c->cur_ext)) || c->nfl >= AB_PROFILE_MAX_FIELDS)
			return false;
	} else if (c->val[t] && !(c->agg && c->from[t] == c->cur_ext &&
				  (t == AB_EVM_SEVERITY || c->worse))) {
		return false;
	}
	val = clean_value(v, len, t == AB_EVM_SUMMARY);
	if (!val)
		return false;
	if (t == AB_EVM_SEVERITY && c->val[t]) {     /* aggregation: keep the higher */
		if (sev_rank(c, val, scale) <= sev_rank(c, c->val[t], c->sev_scale)) {
			free(val);
			return false;
		}
		free(c->val[t]);
		c->val[t] = NULL;
	}
	if (t == T_FIELD) {
		if (!f)
			f = cfield_add(c, fname);
		if (!f) {
			free(val);
			return false;
		}
		free(f->val);                /* set before by this "all" extractor */
		f->val = val;
		f->from = c->cur_ext;
		val = NULL;
	} else {
		free(c->val[t]);     /* set before by this "all" extractor's lesser match */
		c->val[t] = val;
		c->from[t] = c->cur_ext;
		if (t == AB_EVM_SEVERITY) {
			c->sev_scale = scale;
		}
		val = NULL;
	}
	tracef(c, "    %s = \"%.120s\"  (%s)\n", tg->name, t == T_FIELD ? f->val : c->val[t], who);
	free(val);
	return true;
}

/* The same for a target given as text. */
static bool offer(struct cand *c, const char *target, const char *v, size_t len, const char *who)
{
	struct ab_target tg;

	target_read(target, &tg);
	return offer_tg(c, &tg, v, len, who);
}

static bool offer_str(struct cand *c, const char *target, const char *v, const char *who)
{
	return v ? offer(c, target, v, strlen(v), who) : false;
}

/* A fallback value, its {fields.NAME} placeholders filled from the fields
 * found so far (percent-encoded in a url).  A placeholder whose field was
 * not found leaves the target to the defaults. */
static void offer_fallback(struct cand *c, const struct ab_ext_map *m)
{
	const char *v = m->from, *p, *end = NULL;
	bool url = m->tg.member == AB_EVM_URL;
	struct ab_buf b;

	if (!wanted(c, &m->tg))
		return;
	if (!strstr(v, "{fields.")) {
		offer_tg(c, &m->tg, v, strlen(v), "fallback");
		return;
	}
	ab_buf_init(&b, AB_PROFILE_MAX_VALUE);
	for (p = v; *p; p = end) {
		const char *open = strstr(p, "{fields."), *close;
		char name[72];
		const struct cfield *f;
		size_t k;

		if (!open || !(close = strchr(open, '}'))) {
			ab_buf_append(&b, p, strlen(p));
			break;
		}
		ab_buf_append(&b, p, (size_t)(open - p));
		end = close + 1;
		snprintf(name, sizeof name, "%.*s", (int)(close - open - 8), open + 8);
		f = cfield_get(c, name);
		if (!f || !f->val) {
			tracef(c, "    %s: no fields.%s for its template\n", m->target, name);
			ab_buf_free(&b);
			return;
		}
		for (v = f->val, k = 0; v[k]; k++) {
			unsigned char ch = (unsigned char)v[k];

			if (!url || isalnum(ch) || strchr("-._~", ch))
				ab_buf_append(&b, &v[k], 1);
			else
				ab_buf_printf(&b, "%%%02X", ch);
		}
	}
	if (!b.overflow && b.data)
		offer_tg(c, &m->tg, b.data, b.len, "fallback");
	ab_buf_free(&b);
}

/* ------------------------------------------------------------ headers */

static void ext_headers(struct cand *c, const struct ab_extractor *x, const struct view *vw)
{
	const char *prefix = x->prefix ? x->prefix : "X-Alert-";
	size_t pl = strlen(prefix), i, k;
	int n = 0;

	if (!vw->m)
		return;
	for (i = 0; i < vw->m->n_headers; i++) {
		const struct ab_mail_header *h = &vw->m->headers[i];
		char target[96], suffix[72];

		if (strncasecmp(h->name, prefix, pl) != 0 || !h->name[pl] ||
		    strlen(h->name + pl) >= 64)
			continue;
		for (k = 0; h->name[pl + k]; k++) {
			char ch = (char)tolower((unsigned char)h->name[pl + k]);

			suffix[k] = ch == '-' ? '_' : ch;
		}
		suffix[k] = '\0';
		if (!strcmp(suffix, "occurred") || !strcmp(suffix, "time"))
			snprintf(target, sizeof target, "occurred_at");
		else if (target_parse(suffix, NULL, NULL) >= 0 && strncmp(suffix, "fields", 6))
			snprintf(target, sizeof target, "%s", suffix);
		else if (!strncmp(suffix, "field_", 6))
			snprintf(target, sizeof target, "fields.%s", suffix + 6);
		else
			snprintf(target, sizeof target, "fields.%s", suffix);
		if (offer_str(c, target, h->value, h->name))
			n++;
	}
	if (!n)
		tracef(c, "    no %s* header\n", prefix);
}

static void ext_header_map(struct cand *c, const struct ab_extractor *x, const struct view *vw)
{
	size_t i;

	if (!vw->m)
		return;
	for (i = 0; i < x->n_maps; i++) {
		const char *v = ab_mail_header(vw->m, x->maps[i].from);

		if (v)
			offer_tg(c, &x->maps[i].tg, v, strlen(v), x->maps[i].from);
	}
}

/* ------------------------------------------------------------ JSON */

static json_t *json_parse_text(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && isspace((unsigned char)s[i]))
		i++;
	if (i == len || (s[i] != '{' && s[i] != '['))
		return NULL;
	/* DISABLE_EOF_CHECK: mailers append footers after the JSON (AWS SNS). */
	return json_loadb(s + i, len - i, JSON_REJECT_DUPLICATES | JSON_DISABLE_EOF_CHECK, NULL);
}

/* A JSON value as text (caller frees). */
static char *json_text(const json_t *v)
{
	char num[64];

	if (json_is_string(v))
		return strndup(json_string_value(v), json_string_length(v));
	if (json_is_integer(v)) {
		snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
		return strdup(num);
	}
	if (json_is_real(v)) {
		snprintf(num, sizeof num, "%g", json_real_value(v));
		return strdup(num);
	}
	if (json_is_true(v))
		return strdup("true");
	if (json_is_false(v))
		return strdup("false");
	return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
}

static bool is_json_type(const char *ct)
{
	return ct && (strstr(ct, "json") != NULL);
}

static bool is_xml_type(const char *ct)
{
	return ct && (strstr(ct, "xml") != NULL);
}

static bool att_selected(const struct ab_extractor *x, const struct ab_mail_attachment *a,
			 bool (*type_ok)(const char *))
{
	if (!a->content)
		return false;
	if (x->attachment)
		return a->filename && ab_glob_match(x->attachment, a->filename);
	return type_ok(a->content_type);
}

struct jwalk {
	struct cand *c;
	const struct ab_target *target;
	const char *who;
	bool all;
	unsigned found;
};

/* Walk a.b[0].c from cur and offer the value found at its end.  "[*]" visits
 * every element (all) or the elements until one has the value.  A string
 * met with path left is decoded as JSON (AWS SNS "Message").  Returns true
 * when a value was found. */
static bool jwalk(struct jwalk *w, json_t *cur, const char *p, int depth)
{
	json_t *inner = NULL;
	bool hit = false;

	if (!cur || depth > AB_PROFILE_MAX_JSON_DEPTH || w->found >= ALL_MAX_MATCHES)
		return false;
	if (*p == '.')
		p++;
	if (!*p) {
		char *s;

		if (json_is_null(cur))
			return false;
		s = json_text(cur);
		if (!s) {
			w->c->oom = true;
			return false;
		}
		w->found++;
		offer_tg(w->c, w->target, s, strlen(s), w->who);
		free(s);
		return true;
	}
	if (json_is_string(cur)) {
		inner = json_parse_text(json_string_value(cur), json_string_length(cur));
		if (!inner)
			return false;
		cur = inner;
	}
	if (*p == '[' && p[1] == '*' && p[2] == ']') {
		size_t i;
		json_t *e;

		if (json_is_array(cur))
			json_array_foreach(cur, i, e)
				if (jwalk(w, e, p + 3, depth + 1)) {
					hit = true;
					if (!w->all)
						break;
				}
	} else if (*p == '[') {
		char *end;
		long idx;

		errno = 0;
		idx = strtol(p + 1, &end, 10);
		if (*end == ']' && !errno && idx >= 0 && json_is_array(cur))
			hit = jwalk(w, json_array_get(cur, (size_t)idx), end + 1, depth + 1);
	} else {
		char key[256];
		size_t k = 0;

		while (*p && *p != '.' && *p != '[' && k + 1 < sizeof key)
			key[k++] = *p++;
		key[k] = '\0';
		if (json_is_object(cur) && (!*p || *p == '.' || *p == '['))
			hit = jwalk(w, json_object_get(cur, key), p, depth + 1);
	}
	json_decref(inner);
	return hit;
}

static void json_apply(struct cand *c, const struct ab_extractor *x, json_t *doc, const char *who)
{
	size_t i;

	for (i = 0; i < x->n_maps; i++) {
		char w[160];
		const char *path = x->maps[i].from;
		struct jwalk jw = { c, &x->maps[i].tg, w, x->all, 0 };

		if (!wanted(c, &x->maps[i].tg))
			continue;        /* it would offer nothing this pass takes */
		snprintf(w, sizeof w, "%s %s", who, path);
		if (*path == '$')
			path++;
		jwalk(&jw, doc, path, 0);
	}
}

static void ext_json(struct cand *c, const struct ab_extractor *x, const struct view *vw)
{
	json_t *doc;
	size_t i;
	int docs = 0;

	if (x->where != AB_WHERE_ATTACHMENT && !x->attachment) {
		doc = json_parse_text(vw->text, vw->text_len);
		if (doc) {
			json_apply(c, x, doc, "body");
			json_decref(doc);
			docs++;
		} else if (x->where == AB_WHERE_BODY) {
			tracef(c, "    the body is not JSON\n");
		}
	}
	if (vw->m && x->where != AB_WHERE_BODY) {
		for (i = 0; i < vw->m->n_attachments; i++) {
			const struct ab_mail_attachment *a = &vw->m->attachments[i];
			char who[128];

			if (!att_selected(x, a, is_json_type))
				continue;
			doc = json_parse_text(a->content, a->content_len);
			if (!doc) {
				tracef(c, "    attachment %s: not valid JSON\n",
				       a->filename ? a->filename : "(unnamed)");
				continue;
			}
			snprintf(who, sizeof who, "attachment %.80s",
				 a->filename ? a->filename : "(unnamed)");
			json_apply(c, x, doc, who);
			json_decref(doc);
			docs++;
		}
	}
	if (!docs)
		tracef(c, "    no JSON document found\n");
}

/* ------------------------------------------------------------ XML */

static void xml_silent(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static bool looks_xml(const char *s, size_t len)
{
	size_t i = 0;

	if (len >= 3 && (unsigned char)s[0] == 0xef && (unsigned char)s[1] == 0xbb &&
	    (unsigned char)s[2] == 0xbf)
		i = 3;
	while (i < len && isspace((unsigned char)s[i]))
		i++;
	return i < len && s[i] == '<';
}

/* A refused DOCTYPE is said in the trace and on the event (fields.xml_refused),
 * so that whoever makes the event (the milter) can log it. */
static void xml_refused(struct cand *c, const char *who)
{
	char v[200];

	tracef(c, "    %s: XML with a DOCTYPE refused (entities are never expanded)\n", who);
	snprintf(v, sizeof v, "%s: XML with a DOCTYPE refused, entities not expanded", who);
	offer_str(c, "fields.xml_refused", v, "XML extractor");
}

static void xml_apply(struct cand *c, const struct ab_extractor *x, const char *s, size_t len,
		      const char *who)
{
	xmlDocPtr doc;
	xmlXPathContextPtr xp;
	size_t i;

	if (len > AB_PROFILE_MAX_XML) {
		tracef(c, "    %s: XML larger than %u bytes ignored\n", who, AB_PROFILE_MAX_XML);
		return;
	}
	/* A DOCTYPE is where entities live: refuse before the parser sees it. */
	if (memmem(s, len, "<!DOCTYPE", 9) || memmem(s, len, "<!doctype", 9)) {
		xml_refused(c, who);
		return;
	}
	xmlSetGenericErrorFunc(NULL, xml_silent);
	/* Stored as UTF-8 whatever the declaration says: force the encoding.
	 * NONET, and neither NOENT nor DTDLOAD: entities are never substituted. */
	doc = xmlReadMemory(s, (int)len, "alert.xml", "UTF-8",
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
			    XML_PARSE_NOCDATA);
	if (!doc) {
		tracef(c, "    %s: not well-formed XML\n", who);
		return;
	}
	if (doc->intSubset || doc->extSubset) {
		xml_refused(c, who);
		xmlFreeDoc(doc);
		return;
	}
	xp = xmlXPathNewContext(doc);
	if (!xp) {
		c->oom = true;
		xmlFreeDoc(doc);
		return;
	}
	for (i = 0; i < x->n_ns; i++) {
		char pfx[64];
		const char *eq = strchr(x->ns[i], '=');

		if (!eq || (size_t)(eq - x->ns[i]) >= sizeof pfx)
			continue;
		memcpy(pfx, x->ns[i], (size_t)(eq - x->ns[i]));
		pfx[eq - x->ns[i]] = '\0';
		xmlXPathRegisterNs(xp, (const xmlChar *)pfx, (const xmlChar *)(eq + 1));
	}
	for (i = 0; i < x->n_maps; i++) {
		xmlXPathObjectPtr r = xmlXPathEvalExpression((const xmlChar *)x->maps[i].from, xp);
		xmlChar *str = NULL;
		char w[256];

		if (!r)
			continue;
		if (r->type == XPATH_NODESET) {
			if (r->nodesetval && r->nodesetval->nodeNr > 0)
				str = xmlNodeGetContent(r->nodesetval->nodeTab[0]);
		} else {
			str = xmlXPathCastToString(r);
		}
		if (str) {
			snprintf(w, sizeof w, "%s %s", who, x->maps[i].from);
			offer_tg(c, &x->maps[i].tg, (const char *)str, strlen((const char *)str), w);
			xmlFree(str);
		}
		xmlXPathFreeObject(r);
	}
	xmlXPathFreeContext(xp);
	xmlFreeDoc(doc);
}

static void ext_xml(struct cand *c, const struct ab_extractor *x, const struct view *vw)
{
	size_t i;
	int docs = 0;

	if (x->where != AB_WHERE_ATTACHMENT && !x->attachment &&
	    looks_xml(vw->text, vw->text_len)) {
		xml_apply(c, x, vw->text, vw->text_len, "body");
		docs++;
	}
	if (vw->m && x->where != AB_WHERE_BODY) {
		for (i = 0; i < vw->m->n_attachments; i++) {
			const struct ab_mail_attachment *a = &vw->m->attachments[i];
			char who[128];

			if (!att_selected(x, a, is_xml_type))
				continue;
			snprintf(who, sizeof who, "attachment %.80s",
				 a->filename ? a->filename : "(unnamed)");
			xml_apply(c, x, a->content, a->content_len, who);
			docs++;
		}
	}
	if (!docs)
		tracef(c, "    no XML document found\n");
}

/* ------------------------------------------------------------ key: value */

static void ext_kv(struct cand *c, const struct ab_extractor *x, const struct view *vw)
{
	const char *sep = x->separator ? x->separator : ":";
	size_t sl = strlen(sep);
	const char *p = vw->text, *end = vw->text + vw->text_len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *s, *k0, *k1;
		size_t i;

		k0 = p;
		while (k0 < le && (*k0 == ' ' || *k0 == '\t' || *k0 == '*' || *k0 == '-'))
			k0++;
		s = NULL;
		if (sl && (size_t)(le - k0) > sl) {
			const char *q;

			for (q = k0; q + sl <= le; q++)
				if (!memcmp(q, sep, sl)) {
					s = q;
					break;
				}
		}
		if (s && s > k0 && s - k0 < 128) {
			k1 = s;
			while (k1 > k0 && (k1[-1] == ' ' || k1[-1] == '\t'))
				k1--;
			const char *v = s + sl;

			/* HTML tables become "Key: | value": skip the cell separator. */
			while (v < le && (*v == ' ' || *v == '\t' || *v == '|'))
				v++;
			for (i = 0; i < x->n_maps; i++) {
				size_t kl = strlen(x->maps[i].from);

				if ((size_t)(k1 - k0) == kl && !strncasecmp(k0, x->maps[i].from, kl))
					offer_tg(c, &x->maps[i].tg, v, (size_t)(le - v),
						 x->maps[i].from);
			}
		}
		p = nl ? nl + 1 : end;
	}
}

/* ------------------------------------------------------------ regex */

struct ab_regex *ab_profile_regex(const char *pattern, char *err, size_t errsz)
{
	char msg[256];
	size_t eo;
	struct ab_regex *re = ab_regex_compile(pattern, AB_REGEX_MULTILINE, &eo, msg, sizeof msg);

	if (!re)
		snprintf(err, errsz, "bad regex at offset %zu: %s", eo, msg);
	return re;
}

int ab_profile_compile_regex(struct ab_extractor *x, const char *pattern, char *err, size_t errsz)
{
	struct ab_re_group *groups;
	struct ab_regex *re;
	unsigned n, i;

	re = ab_profile_regex(pattern, err, errsz);
	if (!re)
		return -1;
	n = ab_regex_name_count(re);
	if (n == 0 || n > RE_MAX_NAMES) {
		if (n)
			snprintf(err, errsz, "regex has %u named groups (at most %u)", n,
				 RE_MAX_NAMES);
		else
			snprintf(err, errsz, "regex has no named group (?<target>...): it would "
				 "set nothing");
		ab_regex_free(re);
		return -1;
	}
	groups = calloc(n, sizeof *groups);
	if (!groups) {
		snprintf(err, errsz, "out of memory");
		ab_regex_free(re);
		return -1;
	}
	for (i = 0; i < n; i++) {
		struct ab_re_group *gr = &groups[i];
		const char *name = ab_regex_name(re, i, &gr->g);

		group_target(name, gr->text, sizeof gr->text);
		target_read(gr->text, &gr->tg);
		if (gr->tg.member < 0) {
			snprintf(err, errsz, "regex group '%s' is not a target (type, severity, "
				 "title, url, asset, ..., fields_NAME, severity_wazuh)", name);
			free(groups);
			ab_regex_free(re);
			return -1;
		}
	}
	ab_regex_free(x->re);
	free(x->groups);
	x->re = re;
	x->groups = groups;
	x->n_groups = n;
	return 0;
}

/* Run x's regex over s; every named group that matched is offered.  With
 * x->all every match is (up to ALL_MAX_MATCHES), else the first. */
static bool regex_on(struct cand *c, const struct ab_extractor *x, const char *s, size_t len,
		     const char *who)
{
	const struct ab_regex *re = x->re;
	const struct ab_re_group *gn = x->groups;
	unsigned n = x->n_groups, i, npairs;
	const size_t *ov;
	size_t start = 0;
	unsigned matches = 0;
	int rc = AB_REGEX_NOMATCH, pass;

	while (start <= len && matches < ALL_MAX_MATCHES) {
		rc = ab_regex_exec(re, s, len, start, &ov, &npairs);
		if (rc != AB_REGEX_MATCH)
			break;
		matches++;
		/* severity first: with "all", the match that raises it brings its
		 * other captures along (the worst finding's id, name, ...) */
		c->worse = false;
		for (pass = 0; pass < 2; pass++)
			for (i = 0; i < n; i++) {
				unsigned g = gn[i].g;
				bool sev = gn[i].tg.member == AB_EVM_SEVERITY, took;

				if (g >= npairs || ov[2 * g] == AB_REGEX_UNSET || sev != (pass == 0))
					continue;
				took = offer_tg(c, &gn[i].tg, s + ov[2 * g], ov[2 * g + 1] - ov[2 * g],
						who);
				if (sev && took && x->all && matches > 1)
					c->worse = true;
			}
		c->worse = false;
		if (!x->all)
			break;
		start = ov[1];
		if (ov[1] == ov[0]) {     /* empty match: step over one character */
			start++;
			while (start < len && ((unsigned char)s[start] & 0xc0) == 0x80)
				start++;
		}
	}
	if (rc == AB_REGEX_ERROR && !matches)
		c->oom = true;
	if (rc == AB_REGEX_LIMIT)
		tracef(c, "    %s: regex gave up (match limit)\n", who);
	return matches > 0;
}

/* Could x's regex still set anything?  Not when it offers only to targets
 * that earlier extractors have set (the first value wins; only an "all"
 * extractor replaces its own). */
static bool regex_may_offer(const struct cand *c, const struct ab_extractor *x)
{
	for (unsigned i = 0; i < x->n_groups; i++) {
		const struct ab_target *tg = &x->groups[i].tg;

		if (!wanted(c, tg))
			continue;
		if (x->all)
			return true;
		if (tg->member != T_FIELD) {
			if (!c->val[tg->member])
				return true;
		} else if (!cfield_get(c, tg->field) && c->nfl < AB_PROFILE_MAX_FIELDS) {
			return true;
		}
	}
	return false;
}

static void ext_regex(struct cand *c, const struct ab_extractor *x, const struct view *vw)
{
	bool hit = false;
	size_t i;

	if (!x->re)
		return;
	if (!regex_may_offer(c, x)) {
		tracef(c, "    not run: every target it sets has its value\n");
		return;
	}
	if (x->where == AB_WHERE_FIELD) {
		char num[64], buf[AB_PROFILE_MAX_VALUE + 1];
		json_t *v;
		const char *t = evfield(c, vw, x->field, buf, sizeof buf, &v);

		if (json_is_integer(v)) {
			snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
			t = num;
		}
		if (!t || !regex_on(c, x, t, strnlen(t, RE_MAX_TEXT), x->field))
			tracef(c, "    field %s: %s\n", x->field, t ? "no match" : "not set");
		return;
	}
	if (x->where == AB_WHERE_LINKS) {
		/* every link of the mail, in order (HTML first), until one matches */
		for (i = 0; vw->m && i < vw->m->n_links && !hit; i++)
			hit = regex_on(c, x, vw->m->links[i], strnlen(vw->m->links[i], RE_MAX_SUBJECT),
				       "link");
		if (!hit)
			tracef(c, "    no link matches\n");
		return;
	}
	if (x->where == AB_WHERE_ATTACHMENT) {
		for (i = 0; vw->m && i < vw->m->n_attachments; i++) {
			const struct ab_mail_attachment *a = &vw->m->attachments[i];
			char who[128];

			if (!a->content || (x->attachment && (!a->filename ||
			    !ab_glob_match(x->attachment, a->filename))))
				continue;
			snprintf(who, sizeof who, "attachment %.80s",
				 a->filename ? a->filename : "(unnamed)");
			if (a->content_type && !strcmp(a->content_type, "text/html")) {
				/* an HTML report: its text, as the body would be read */
				struct ab_buf t = AB_BUF_INIT(RE_MAX_TEXT);

				if (ab_html_to_text(a->content, a->content_len, &t, NULL, NULL, 0) >= 0 &&
				    t.data)
					hit |= regex_on(c, x, t.data, t.len, who);
				ab_buf_free(&t);
				continue;
			}
			hit |= regex_on(c, x, a->content, a->content_len < RE_MAX_TEXT ?
					a->content_len : RE_MAX_TEXT, who);
		}
		if (!hit)
			tracef(c, "    no attachment matches\n");
		return;
	}
	if ((x->where == AB_WHERE_ANY || x->where == AB_WHERE_SUBJECT) && vw->subject)
		hit = regex_on(c, x, vw->subject, strnlen(vw->subject, RE_MAX_SUBJECT), "subject");
	if (x->where == AB_WHERE_ANY || x->where == AB_WHERE_TEXT || x->where == AB_WHERE_BODY)
		hit |= regex_on(c, x, vw->text, vw->text_len < RE_MAX_TEXT ? vw->text_len :
				RE_MAX_TEXT, "text");
	if (!hit)
		tracef(c, "    no match\n");
}

/* ------------------------------------------------------------ event fields */

static void ext_fields(struct cand *c, const struct ab_extractor *x, const struct view *vw)
{
	size_t i;
	int n = 0;

	for (i = 0; vw->evfields && i < x->n_maps; i++) {
		json_t *v;
		char *s;

		if (!wanted(c, &x->maps[i].tg))
			continue;
		if (vw->later) {     /* the gate's pass: the line may hold what is left out */
			char buf[AB_PROFILE_MAX_VALUE + 1];
			const char *t = evfield(c, vw, x->maps[i].from, buf, sizeof buf, &v);

			if (t) {
				n += offer_tg(c, &x->maps[i].tg, t, strlen(t), x->maps[i].from);
				continue;
			}
			if (!v)
				continue;
		} else {
			v = json_object_get(vw->evfields, x->maps[i].from);
		}
		if (!v || json_is_null(v))
			continue;
		if (json_is_string(v)) {     /* most are: offered without a copy (up to a NUL) */
			n += offer_tg(c, &x->maps[i].tg, json_string_value(v),
				      strnlen(json_string_value(v), json_string_length(v)),
				      x->maps[i].from);
			continue;
		}
		s = json_text(v);
		if (!s) {
			c->oom = true;
			continue;
		}
		n += offer_tg(c, &x->maps[i].tg, s, strlen(s), x->maps[i].from);
		free(s);
	}
	if (!n)
		tracef(c, "    no field taken\n");
}

/* ------------------------------------------------------------ defaults */

static const char *const subject_sev_words[] = {
	"critical", "emergency", "high", "severe", "medium", "moderate", "warning", "low",
	"informational", "info",
};

static void subject_severity(struct cand *c, const char *subject)
{
	const char *p = subject;

	while (p && *p) {
		const char *w;
		size_t n, i;

		while (*p && !isalpha((unsigned char)*p))
			p++;
		w = p;
		while (isalpha((unsigned char)*p))
			p++;
		n = (size_t)(p - w);
		for (i = 0; n && i < sizeof subject_sev_words / sizeof subject_sev_words[0]; i++)
			if (strlen(subject_sev_words[i]) == n &&
			    !strncasecmp(w, subject_sev_words[i], n)) {
				offer(c, "severity", w, n, "default: severity word in the subject");
				return;
			}
	}
}

static const char *first_line(const char *text, size_t len, size_t *n)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *q = p;

		while (q < le && isspace((unsigned char)*q))
			q++;
		if (q < le) {
			*n = (size_t)(le - q) > 256 ? 256 : (size_t)(le - q);
			return q;
		}
		p = nl ? nl + 1 : end;
	}
	return NULL;
}

/* The default url: the first http(s) link that no ignore_links glob of
 * the profile matches. */
static const char *default_link(const struct ab_profile *p, const struct ab_mail *m)
{
	size_t i, k;

	if (!p || !p->n_ignore_links)
		return m->url;
	for (i = 0; i < m->n_links; i++) {
		const char *l = m->links[i];

		if (strncasecmp(l, "http://", 7) && strncasecmp(l, "https://", 8))
			continue;
		for (k = 0; k < p->n_ignore_links; k++)
			if (ab_glob_match(p->ignore_links[k], l))
				break;
		if (k == p->n_ignore_links)
			return l;
	}
	return NULL;
}

static void run_defaults(struct cand *c, const struct view *vw, const struct ab_event *ev,
			 const struct ab_profile *p)
{
	char when[40];

	tracef(c, "  defaults:\n");
	if (!ev->title && want_member(c, AB_EVM_TITLE)) {
		if (vw->subject)
			offer_str(c, "title", vw->subject, "default: Subject");
		else {
			size_t n = 0;
			const char *l = first_line(vw->text, vw->text_len, &n);

			if (l)
				offer(c, "title", l, n, "default: first line of the text");
		}
	}
	if (!ev->summary && vw->text_len && want_member(c, AB_EVM_SUMMARY))
		offer(c, "summary", vw->text, vw->text_len, "default: text");
	if (vw->m && vw->m->date && !ev->occurred_at) {
		ab_time_format_rfc3339(vw->m->date, when, sizeof when);
		offer_str(c, "occurred_at", when, "default: Date");
	}
	if (vw->subject)
		subject_severity(c, vw->subject);
	if (vw->m && !ev->url && want_member(c, AB_EVM_URL) && default_link(p, vw->m))
		offer_str(c, "url", default_link(p, vw->m), "default: first link");
}

/* ------------------------------------------------------------ conversion */

static int parse_time(const char *s, int64_t *ms)
{
	char buf[64], *end;
	long long n;
	GDateTime *dt;
	size_t i;

	if (ab_time_parse_rfc3339(s, ms) == 0)
		return 0;
	/* "2024-05-01 12:00:00" (+ optional zone) -> RFC 3339 with T (UTC if no zone). */
	if (strlen(s) < sizeof buf - 2 && strlen(s) >= 19 && s[10] == ' ') {
		snprintf(buf, sizeof buf, "%s", s);
		buf[10] = 'T';
		for (i = 19; buf[i] == ' '; )
			memmove(buf + i, buf + i + 1, strlen(buf + i));
		if (ab_time_parse_rfc3339(buf, ms) == 0)
			return 0;
		if (strlen(buf) == 19) {
			buf[19] = 'Z';
			buf[20] = '\0';
			if (ab_time_parse_rfc3339(buf, ms) == 0)
				return 0;
		}
	}
	errno = 0;
	n = strtoll(s, &end, 10);
	if (!*end && !errno && n > 0) {
		*ms = n > 100000000000LL ? n : n * 1000;   /* epoch ms or s */
		return 0;
	}
	dt = g_mime_utils_header_decode_date(s);   /* RFC 5322 dates */
	if (dt) {
		*ms = g_date_time_to_unix(dt) * 1000;
		g_date_time_unref(dt);
		return 0;
	}
	return -1;
}

/* Set a string member cut to max bytes on a character boundary: the
 * caps of ab_event_from_json() (event.c), so that what the store keeps
 * loads back (tests/fuzz/fuzz_mail.c checks it). */
static void set_capped(struct ab_event *ev, char **member, const char *v, size_t max)
{
	size_t n = strlen(v);

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)v[n] & 0xc0) == 0x80)
			n--;
	}
	ab_event_set_strn(ev, member, v, n);
}


static void convert(struct cand *c, struct ab_event *ev)
{
	size_t t;

	for (t = 0; t < T_COUNT; t++) {
		const char *v = c->val[t];
		char lower[128];
		size_t i;

		if (!v)
			continue;
		switch (t) {
		case AB_EVM_TYPE:
			for (i = 0; v[i] && i + 1 < sizeof lower; i++)
				lower[i] = isspace((unsigned char)v[i]) ? '_' :
					   (char)tolower((unsigned char)v[i]);
			while (i > 0 && ((unsigned char)v[i] & 0xc0) == 0x80)
				i--;    /* cut on a character boundary */
			ab_event_set_strn(ev, &ev->type, lower, i);
			break;
		case AB_EVM_CATEGORY: {
			enum ab_category cat;

			if (ab_category_parse(v, &cat) == 0)
				ev->category = cat;
			else
				tracef(c, "  category \"%.60s\" is not security/system/error: kept %s\n",
				       v, ab_category_name(ev->category));
			break;
		}
		case AB_EVM_SEVERITY: {
			enum ab_severity sev;

			if (c->sev_scale != SC_WORDS &&
			    ab_severity_from_text((enum ab_sev_scale)c->sev_scale, v, &sev) == 0)
				ev->severity = sev;
			else if ((c->sev_scale == SC_WORDS || !strpbrk(v, "0123456789")) &&
				 ab_severity_parse(v, &sev) == 0)
				ev->severity = sev;     /* a word; a number off the scale is refused */
			else
				tracef(c, "  severity \"%.60s\" not understood%s: kept %s\n", v,
				       c->sev_scale == SC_WORDS ? "" : " on the scale",
				       ab_severity_name(ev->severity));
			break;
		}
		case AB_EVM_PRIORITY: {
			const char *p = (v[0] == 'p' || v[0] == 'P') ? v + 1 : v;
			char *end;
			long n = strtol(p, &end, 10);

			if (!*end && n >= 1 && n <= AB_EVENT_PRIORITY_MAX)
				ev->priority = (int)n;
			break;
		}
		case AB_EVM_OCCURRED_AT: {
			int64_t ms;

			if (parse_time(v, &ms) == 0)
				ev->occurred_at = ms;
			else
				tracef(c, "  occurred_at \"%.60s\" is not a time: ignored\n", v);
			break;
		}
		default: {    /* a string member, cut to what from_json takes */
			char **m = ab_event_str_member(ev, (enum ab_event_member_id)t);

			if (m && strlen(v) <= ab_event_member_defs[t].max) {
				ab_event_take_str(ev, m, c->val[t]);   /* the value: no copy */
				c->val[t] = NULL;
			} else if (m) {
				set_capped(ev, m, v, ab_event_member_defs[t].max);
			}
			break;
		}
		}
	}
	for (size_t i = 0; !c->want && i < c->nfl; i++)   /* the parser's own fields stay */
		if (c->fl[i].val && !json_object_get(ev->fields, c->fl[i].name) &&
		    json_object_set_new(ev->fields, c->fl[i].name, json_string(c->fl[i].val)) < 0)
			c->oom = true;
}

/* Targets a value map may no longer change: those it changed in this pass,
 * and in the second pass (after fallback and defaults) every target that
 * already had its value in the first, so that no value is mapped twice
 * (for fields: cfield.mapped and .settled). */
struct mapped {
	bool t[T_COUNT];
};

static void value_maps(struct cand *c, const struct ab_profile *p, struct mapped *skip)
{
	struct mapped done;
	size_t i, k;

	memcpy(done.t, skip->t, sizeof done.t);
	for (i = 0; i < c->nfl; i++)
		c->fl[i].mapped = false;
	for (i = 0; i < p->n_maps; i++) {
		const struct ab_value_map *vm = &p->maps[i];
		int t = vm->tg.member;
		struct cfield *f = NULL;
		const char *cur;

		if (t < 0)
			continue;
		if (t == T_FIELD) {
			f = cfield_get(c, vm->tg.field);
			if (!f || f->settled || f->mapped)
				continue;
			cur = f->val;
		} else {
			if (done.t[t])
				continue;
			cur = c->val[t];
		}
		if (!cur)
			continue;
		for (k = 0; k < vm->n_match; k++) {
			char *nv;

			if (!ab_glob_match(vm->match[k], cur))
				continue;
			tracef(c, "  map %s: \"%.60s\" -> \"%s\"\n", vm->target, cur, vm->value);
			nv = strdup(vm->value);
			if (!nv) {
				c->oom = true;
				break;
			}
			if (f) {
				free(f->val);
				f->val = nv;
				f->mapped = true;
			} else {
				free(c->val[t]);
				c->val[t] = nv;
				if (t == AB_EVM_SEVERITY)
					c->sev_scale = SC_WORDS;
				done.t[t] = true;
			}
			break;
		}
	}
}

/* After the first pass: every target and field with a value is settled. */
static void settle(struct cand *c, struct mapped *skip)
{
	size_t t;

	for (t = 0; t < T_COUNT; t++)
		skip->t[t] = c->val[t] != NULL;
	for (t = 0; t < c->nfl; t++)
		c->fl[t].settled = true;
}

static const char *kind_name(enum ab_ext_kind k)
{
	switch (k) {
	case AB_EXT_HEADERS: return "headers";
	case AB_EXT_JSON: return "json";
	case AB_EXT_XML: return "xml";
	case AB_EXT_KV: return "kv";
	case AB_EXT_REGEX: return "regex";
	case AB_EXT_HEADER_MAP: return "header";
	case AB_EXT_FIELDS: return "fields";
	}
	return "?";
}

/* Apply p to what vw shows of ev, into `to`: ev itself, or (want set: see
 * struct cand) an event that gets only the wanted members. */
static int apply(const struct ab_profile *p, const struct view *vw, const struct ab_event *ev,
		 struct ab_event *to, struct ab_buf *trace, uint64_t want)
{
	struct cand c;
	struct mapped skip;
	size_t i;
	int rc;

	memset(&c, 0, sizeof c);
	memset(&skip, 0, sizeof skip);
	c.want = want;
	c.want_fields = want && p && p->fallback_fields;
	c.sev_scale = SC_WORDS;
	c.cur_ext = -1;
	for (i = 0; i < T_COUNT; i++)
		c.from[i] = -1;
	c.trace = trace;
	c.prof = p;
	c.fl = c.fl0;
	c.capfl = sizeof c.fl0 / sizeof c.fl0[0];
	if (p)
		tracef(&c, "profile %s (%s:%d):\n", p->name, p->file ? p->file : "?", p->line);
	else
		tracef(&c, "profile: built-in defaults only\n");
	for (i = 0; p && i < p->n_ext; i++) {
		const struct ab_extractor *x = &p->ext[i];

		tracef(&c, "  extractor %zu (%s%s):\n", i + 1, kind_name(x->kind),
		       x->all ? ", all" : "");
		c.cur_ext = (int)i;
		c.agg = x->all;
		switch (x->kind) {
		case AB_EXT_HEADERS: ext_headers(&c, x, vw); break;
		case AB_EXT_HEADER_MAP: ext_header_map(&c, x, vw); break;
		case AB_EXT_JSON: ext_json(&c, x, vw); break;
		case AB_EXT_XML: ext_xml(&c, x, vw); break;
		case AB_EXT_KV: ext_kv(&c, x, vw); break;
		case AB_EXT_REGEX: ext_regex(&c, x, vw); break;
		case AB_EXT_FIELDS: ext_fields(&c, x, vw); break;
		}
	}
	c.cur_ext = -1;
	c.agg = false;
	if (p)
		value_maps(&c, p, &skip);
	if (c.val[AB_EVM_SEVERITY] && sev_rank(&c, c.val[AB_EVM_SEVERITY], c.sev_scale) < 0) {
		/* a word no scale knows ("page") leaves room for fallback/defaults */
		tracef(&c, "  severity \"%.60s\" not understood: ignored\n", c.val[AB_EVM_SEVERITY]);
		free(c.val[AB_EVM_SEVERITY]);
		c.val[AB_EVM_SEVERITY] = NULL;
	}
	if (p) {
		settle(&c, &skip);
		if (p->n_fallback)
			tracef(&c, "  fallback:\n");
		for (i = 0; i < p->n_fallback; i++)
			offer_fallback(&c, &p->fallback[i]);
	}
	if (c.val[AB_EVM_OCCURRED_AT]) {     /* a time that does not parse leaves room for Date */
		int64_t ms;

		if (parse_time(c.val[AB_EVM_OCCURRED_AT], &ms) < 0) {
			tracef(&c, "  occurred_at \"%.60s\" is not a time: ignored\n",
			       c.val[AB_EVM_OCCURRED_AT]);
			free(c.val[AB_EVM_OCCURRED_AT]);
			c.val[AB_EVM_OCCURRED_AT] = NULL;
		}
	}
	if (!p || p->defaults)
		run_defaults(&c, vw, ev, p);
	if (p)
		value_maps(&c, p, &skip);   /* fallback and defaults may bring words to map */
	convert(&c, to);
	rc = c.oom || c.unsure ? -1 : 0;
	for (i = 0; i < T_COUNT; i++)
		free(c.val[i]);
	for (i = 0; i < c.nfl; i++)
		free(c.fl[i].val);
	if (c.fl != c.fl0)
		free(c.fl);
	return rc;
}

int ab_profile_apply_mail(const struct ab_profile *p, const struct ab_mail *m,
	struct ab_event *ev, struct ab_buf *trace)
{
	struct view vw = { m->subject, m->text, m->text_len, m, NULL, NULL };

	return apply(p, &vw, ev, ev, trace, 0);
}

int ab_profile_apply_text(const struct ab_profile *p, const char *subject, const char *text,
	struct ab_event *ev, struct ab_buf *trace)
{
	struct view vw = { subject, text ? text : "", text ? strlen(text) : 0, NULL, NULL,
		NULL };

	return apply(p, &vw, ev, ev, trace, 0);
}

int ab_profile_apply_syslog(const struct ab_profile *p, struct ab_event *ev, struct ab_buf *trace)
{
	const char *text = ev->summary ? ev->summary : "";
	struct view vw = { NULL, text, strlen(text), NULL, ev->fields, NULL };

	/* The text is the summary itself: apply() changes the event's members
	 * (convert) only after its last read of the view. */
	return apply(p, &vw, ev, ev, trace, 0);
}

bool ab_profile_syslog_reads_unscanned(const struct ab_profile *p, uint64_t members)
{
	bool wf = p->fallback_fields;

	for (size_t i = 0; i < p->n_ext; i++) {
		const struct ab_extractor *x = &p->ext[i];

		if (x->kind == AB_EXT_FIELDS) {
			for (size_t k = 0; k < x->n_maps; k++)
				if (x->maps[k].unscanned && tg_wanted(members, wf, &x->maps[k].tg))
					return true;
		} else if (x->field_unscanned) {
			for (unsigned g = 0; g < x->n_groups; g++)
				if (tg_wanted(members, wf, &x->groups[g].tg))
					return true;
		}
	}
	return false;
}

int ab_profile_syslog_members(const struct ab_profile *p, const struct ab_event *ev,
	const struct ab_syslog_view *later, uint64_t members, struct ab_event *out)
{
	const char *text = ev->summary ? ev->summary : "";
	struct view vw = { NULL, text, strlen(text), NULL, ev->fields, later };
	int bad = 0;

	for (int m = 0; m < AB_EVM_COUNT; m++)
		if (members & (1ull << m))
			bad |= ab_event_copy_member(out, ev, (enum ab_event_member_id)m);
	if (bad)
		return -1;
	return members ? apply(p, &vw, ev, out, NULL, members) : 0;
}

/* ------------------------------------------------------------ freeing */

static void free_maps(struct ab_ext_map *m, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(m[i].from);
		free(m[i].target);
	}
	free(m);
}

static void free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void free_kv(struct ab_detect_kv *kv, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(kv[i].name);
		free(kv[i].pattern);
		ab_regex_free(kv[i].re);
	}
	free(kv);
}

static void detect_alt_free(struct ab_detect_alt *a)
{
	free_strv(a->from, a->n_from);
	free_strv(a->attachment, a->n_attachment);
	free_strv(a->app, a->n_app);
	free_strv(a->payload, a->n_payload);
	free_kv(a->header, a->n_header);
	free_kv(a->field, a->n_field);
	ab_regex_free(a->subject);
	ab_regex_free(a->body);
	ab_regex_free(a->message);
	free(a->subject_pat);
	free(a->body_pat);
	free(a->message_pat);
}

void ab_profile_free(struct ab_profile *p)
{
	size_t i, k;

	if (!p)
		return;
	for (i = 0; i < p->n_ext; i++) {
		struct ab_extractor *x = &p->ext[i];

		free(x->attachment);
		free(x->field);
		free(x->prefix);
		free(x->separator);
		free(x->pattern);
		free_maps(x->maps, x->n_maps);
		free(x->groups);
		for (k = 0; k < x->n_ns; k++)
			free(x->ns[k]);
		free(x->ns);
		ab_regex_free(x->re);
	}
	free(p->ext);
	for (i = 0; i < p->n_maps; i++) {
		free(p->maps[i].target);
		free(p->maps[i].value);
		for (k = 0; k < p->maps[i].n_match; k++)
			free(p->maps[i].match[k]);
		free(p->maps[i].match);
	}
	free(p->maps);
	free_maps(p->fallback, p->n_fallback);
	for (i = 0; i < p->n_detect; i++)
		detect_alt_free(&p->detect[i]);
	free(p->detect);
	free(p->description);
	free(p->reference);
	free_strv(p->ignore_links, p->n_ignore_links);
	free(p->name);
	free(p->file);
	free(p);
}
