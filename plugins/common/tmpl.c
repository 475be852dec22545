/*
 * tmpl.c - message templates (see tmpl.h): compiled once when a channel is
 * created, rendered per message against the payload plus what alertbridge
 * adds, every value escaped for the target.
 *
 * The data (tmpl_data): every member of the payload (an event: id, type,
 * category, severity, source, tool, title, summary, url, asset, team,
 * status, fingerprint, occurred_at, received_at, fields.*; a group or
 * digest: group.* or digest.*, items (a list of events), omitted), and
 * label ("RESOLVED" or the severity's "HIGH"), severity_label, resolved,
 * followup, first_sent (the first alert's time for a follow-up), when (the
 * event's time), count and counts ("2 critical, 5 high") for groups,
 * is_group and test; title and severity as shown (the type when there is no
 * title, a group's title, info when no severity).
 *
 * Public: tmpl_compile, tmpl_free, tmpl_data, tmpl_render, tmpl_set_parse,
 * tmpl_set_free, tmpl_part, tmpl_apply, tmpl_view.
 * Diagnostics: compile errors say where ("line 2, column 7: unclosed
 * section {{#items}}"); render errors say which bound was hit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tmpl.h"

enum kind { N_TEXT, N_VAR, N_SEC, N_INV };

struct node {
	enum kind k;
	const char *s;            /* text (into tmpl.src) or name (owned copy) */
	size_t len;
	struct node *kids;        /* sections */
	size_t n, cap;
};

struct tmpl {
	char *src;
	struct node root;
};

static void node_free(struct node *n)
{
	for (size_t i = 0; i < n->n; i++)
		node_free(&n->kids[i]);
	if (n->k != N_TEXT)
		free((char *)n->s);
	free(n->kids);
}

void tmpl_free(struct tmpl *t)
{
	if (!t)
		return;
	node_free(&t->root);
	free(t->src);
	free(t);
}

static struct node *add(struct node *p)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;
		struct node *k = realloc(p->kids, cap * sizeof *k);

		if (!k)
			return NULL;
		p->kids = k;
		p->cap = cap;
	}
	memset(&p->kids[p->n], 0, sizeof p->kids[0]);
	return &p->kids[p->n++];
}

static void where(const char *src, const char *at, size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	for (const char *p = src; p < at; p++) {
		if (*p == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static bool name_ok(const char *s, size_t n)
{
	if (n == 0 || n > TMPL_NAME_MAX)
		return false;
	if (n == 1 && s[0] == '.')
		return true;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' ||
		      (s[i] == '.' && i > 0 && i + 1 < n && s[i - 1] != '.')))
			return false;
	return true;
}

struct tmpl *tmpl_compile(const char *src, char *err, size_t errsz)
{
	struct tmpl *t = calloc(1, sizeof *t);
	struct node *stack[TMPL_DEPTH_MAX + 1];
	const char *opened[TMPL_DEPTH_MAX + 1];
	size_t depth = 0, line, col, len = src ? strlen(src) : 0;
	const char *p, *end, *why = NULL, *at = NULL;

	if (!t || !(t->src = strdup(src ? src : ""))) {
		snprintf(err, errsz, "out of memory");
		tmpl_free(t);
		return NULL;
	}
	if (len > TMPL_SRC_MAX) {
		snprintf(err, errsz, "longer than %d bytes", TMPL_SRC_MAX);
		tmpl_free(t);
		return NULL;
	}
	p = t->src;
	end = p + len;
	stack[0] = &t->root;
	opened[0] = NULL;
	while (p < end) {
		const char *o = strstr(p, "{{"), *c, *ns, *ne;
		struct node *n;
		char sig = 0;

		if (!o)
			o = end;
		if (o > p) {
			if (!(n = add(stack[depth])))
				goto oom;
			n->k = N_TEXT;
			n->s = p;
			n->len = (size_t)(o - p);
		}
		if (o == end)
			break;
		at = o;
		if (!(c = strstr(o + 2, "}}"))) {
			why = "'{{' without '}}'";
			goto bad;
		}
		ns = o + 2;
		if (*ns == '{') {
			why = "'{{{' (values are always escaped)";
			goto bad;
		}
		if (*ns == '#' || *ns == '^' || *ns == '/' || *ns == '!')
			sig = *ns++;
		p = c + 2;
		if (sig == '!')
			continue;
		while (ns < c && *ns == ' ')
			ns++;
		ne = c;
		while (ne > ns && ne[-1] == ' ')
			ne--;
		if (!name_ok(ns, (size_t)(ne - ns))) {
			why = "bad name (letters, digits, '_', '-', dotted paths; at most 64)";
			goto bad;
		}
		if (sig == '/') {
			const struct node *top = stack[depth];

			if (depth == 0 || top->len != (size_t)(ne - ns) ||
			    memcmp(top->s, ns, top->len) != 0) {
				why = depth ? "{{/...}} closes another section than the open one" :
					"{{/...}} closes no open section";
				goto bad;
			}
			depth--;
			continue;
		}
		if (!(n = add(stack[depth])) || !(n->s = strndup(ns, (size_t)(ne - ns))))
			goto oom;
		n->len = (size_t)(ne - ns);
		n->k = sig == '#' ? N_SEC : sig == '^' ? N_INV : N_VAR;
		if (n->k != N_VAR) {
			if (depth == TMPL_DEPTH_MAX) {
				why = "sections nested too deep";
				goto bad;
			}
			stack[++depth] = n;
			opened[depth] = o;
		}
	}
	if (depth > 0) {
		at = opened[depth];
		why = "section not closed";
		goto bad;
	}
	return t;
bad:
	where(t->src, at, &line, &col);
	snprintf(err, errsz, "line %zu, column %zu: %s", line, col, why);
	tmpl_free(t);
	return NULL;
oom:
	snprintf(err, errsz, "out of memory");
	tmpl_free(t);
	return NULL;
}

/* ------------------------------------------------------------ render */

struct ctx {
	const json_t *stack[TMPL_DEPTH_MAX + 2];
	size_t depth;
	enum tmpl_esc kind;
	enum rd_esc esc;
	struct ab_buf *out;
	unsigned long steps;
	const char *fail;
};

/* name: "." (the current element) or a dotted path whose first part is
 * looked up from the innermost context out. */
static const json_t *lookup(const struct ctx *c, const char *name)
{
	const char *dot = strchr(name, '.');
	char first[TMPL_NAME_MAX + 1];
	const json_t *v = NULL;

	if (strcmp(name, ".") == 0)
		return c->stack[c->depth];
	snprintf(first, sizeof first, "%.*s", dot ? (int)(dot - name) : (int)strlen(name), name);
	for (size_t i = c->depth + 1; i-- > 0 && !v; )
		v = json_object_get(c->stack[i], first);
	while (v && dot) {
		const char *next = strchr(dot + 1, '.');
		char part[TMPL_NAME_MAX + 1];

		snprintf(part, sizeof part, "%.*s", next ? (int)(next - dot - 1) :
			(int)strlen(dot + 1), dot + 1);
		v = json_object_get(v, part);
		dot = next;
	}
	return v;
}

static bool truthy(const json_t *v)
{
	if (!v)
		return false;
	switch (json_typeof(v)) {
	case JSON_STRING: return json_string_length(v) > 0;
	case JSON_INTEGER: return json_integer_value(v) != 0;
	case JSON_REAL: return json_real_value(v) != 0;
	case JSON_TRUE: return true;
	case JSON_ARRAY: return json_array_size(v) > 0;
	case JSON_OBJECT: return true;
	default: return false;
	}
}

static void put_json_text(struct ab_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			ab_buf_printf(b, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			ab_buf_printf(b, "\\u%04x", ch);
		else
			ab_buf_putc(b, (char)ch);
	}
}

static void put_value(struct ctx *c, const json_t *v)
{
	char num[64];
	const char *s = num;

	if (!v)
		return;   /* missing: nothing */
	switch (json_typeof(v)) {
	case JSON_STRING: s = json_string_value(v); break;
	case JSON_INTEGER:
		snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
		break;
	case JSON_REAL: snprintf(num, sizeof num, "%g", json_real_value(v)); break;
	case JSON_TRUE: s = "true"; break;
	case JSON_FALSE: s = "false"; break;
	default: return;   /* null, missing, lists and objects show nothing */
	}
	if (c->kind == TMPL_ESC_JSON)
		put_json_text(c->out, s);
	else
		rd_put(c->out, s, c->esc, 0);
}

static int walk(struct ctx *c, const struct node *n)
{
	for (size_t i = 0; i < n->n; i++) {
		const struct node *k = &n->kids[i];
		const json_t *v;

		if (++c->steps > TMPL_STEPS_MAX) {
			c->fail = "more than the steps a template may take";
			return -1;
		}
		switch (k->k) {
		case N_TEXT:
			ab_buf_append(c->out, k->s, k->len);
			break;
		case N_VAR:
			put_value(c, lookup(c, k->s));
			break;
		case N_INV:
			if (!truthy(lookup(c, k->s)) && walk(c, k) < 0)
				return -1;
			break;
		case N_SEC:
			v = lookup(c, k->s);
			if (!truthy(v))
				break;
			if (json_is_array(v) || json_is_object(v)) {
				size_t m = json_is_array(v) ? json_array_size(v) : 1;

				for (size_t j = 0; j < m; j++) {
					if (++c->steps > TMPL_STEPS_MAX) {   /* empty bodies too */
						c->fail = "more than the steps a template may take";
						return -1;
					}
					c->stack[++c->depth] = json_is_array(v) ? json_array_get(v, j) : v;
					if (walk(c, k) < 0)
						return -1;
					c->depth--;
				}
			} else if (walk(c, k) < 0) {
				return -1;
			}
			break;
		}
		if (c->out->overflow) {
			c->fail = c->out->oom ? "out of memory" : "output larger than its cap";
			return -1;
		}
	}
	return 0;
}

int tmpl_render(const struct tmpl *t, const json_t *data, enum tmpl_esc kind, enum rd_esc esc,
	struct ab_buf *out, char *err, size_t errsz)
{
	struct ctx c;

	memset(&c, 0, sizeof c);
	c.stack[0] = data;
	c.kind = kind;
	c.esc = esc;
	c.out = out;
	if (walk(&c, &t->root) < 0 || out->overflow) {
		snprintf(err, errsz, "template: %s", c.fail ? c.fail : "output larger than its cap");
		return -1;
	}
	return 0;
}

json_t *tmpl_data(const struct rd_view *v, const json_t *payload)
{
	json_t *d = json_is_object(payload) ? json_copy((json_t *)payload) : json_object();
	int rc = 0;

	if (!d)
		return NULL;
	/* the title and severity as shown: the type when there is no title,
	 * info when no severity */
	rc |= json_object_set_new(d, "title", json_string(v->title));
	rc |= json_object_set_new(d, "severity", json_string(v->severity));
	rc |= json_object_set_new(d, "label", json_string(rd_view_label(v)));
	rc |= json_object_set_new(d, "severity_label", json_string(rd_sev_label(v->severity)));
	rc |= json_object_set_new(d, "resolved", json_boolean(v->resolved));
	rc |= json_object_set_new(d, "followup", json_boolean(v->followup));
	rc |= json_object_set_new(d, "first_sent", json_string(v->first_when));
	rc |= json_object_set_new(d, "when", json_string(v->when));
	rc |= json_object_set_new(d, "is_group", json_boolean(v->is_group));
	rc |= json_object_set_new(d, "test", json_boolean(v->test));
	if (v->is_group) {
		rc |= json_object_set_new(d, "count", json_integer(v->count));
		rc |= json_object_set_new(d, "counts", json_string(v->counts));
	}
	if (rc) {
		json_decref(d);
		return NULL;
	}
	return d;
}

/* ------------------------------------------------------------ settings */

void tmpl_set_free(struct tmpl_set *s)
{
	if (!s->t)
		return;
	for (size_t i = 0; s->parts[i]; i++)
		tmpl_free(s->t[i]);
	free(s->t);
	s->t = NULL;
}

const struct tmpl *tmpl_part(const struct tmpl_set *s, const char *part)
{
	for (size_t i = 0; s->t && s->parts[i]; i++)
		if (strcmp(s->parts[i], part) == 0)
			return s->t[i];
	return NULL;
}

int tmpl_set_parse(json_t *cfg, const char *const *parts, struct tmpl_set *out, char *err,
	size_t errsz)
{
	json_t *g = json_object_get(cfg, "template"), *v;
	const char *key;
	size_t n = 0;

	out->parts = parts;
	out->t = NULL;
	if (!g)
		return 0;
	while (parts[n])
		n++;
	if (!json_is_object(g)) {
		snprintf(err, errsz, "setting 'template': a group of parts, e.g. template = "
			"{ %s = \"...\"; }", parts[0]);
		return -1;
	}
	if (!(out->t = calloc(n, sizeof *out->t))) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	json_object_foreach(g, key, v) {
		char why[200];
		size_t i;

		for (i = 0; i < n && strcmp(parts[i], key) != 0; i++)
			;
		if (i == n) {
			struct ab_buf b = AB_BUF_INIT(512);

			for (size_t j = 0; j < n; j++)
				ab_buf_printf(&b, "%s%s", j ? ", " : "", parts[j]);
			snprintf(err, errsz, "setting 'template.%.40s': no such part (this channel "
				"type has: %s)", key, ab_buf_cstr(&b));
			ab_buf_free(&b);
			return -1;
		}
		if (!json_is_string(v)) {
			snprintf(err, errsz, "setting 'template.%s': must be a string", key);
			return -1;
		}
		if (!(out->t[i] = tmpl_compile(json_string_value(v), why, sizeof why))) {
			snprintf(err, errsz, "setting 'template.%s': %s", key, why);
			return -1;
		}
	}
	json_object_del(cfg, "template");
	return 0;
}

char *tmpl_apply(const struct tmpl_set *s, const char *part, const struct ab_host *h,
	const char *channel, const struct rd_view *v, const json_t *payload, enum tmpl_esc kind,
	enum rd_esc esc, size_t cap)
{
	const struct tmpl *t = tmpl_part(s, part);
	struct ab_buf b = AB_BUF_INIT(cap);
	char err[200];
	json_t *data;
	int rc;

	if (!t)
		return NULL;
	if (!(data = tmpl_data(v, payload))) {
		snprintf(err, sizeof err, "template: out of memory");
		rc = -1;
	} else {
		rc = tmpl_render(t, data, kind, esc, &b, err, sizeof err);
	}
	json_decref(data);
	if (rc == 0 && ab_buf_putc(&b, '\0') == 0) {
		b.len--;
		return ab_buf_steal(&b);
	}
	ab_buf_free(&b);
	if (h)
		h->log(h, AB_LOG_WARNING, "%s%s%stemplate.%s: %s; the built-in layout is used",
			channel ? "channel " : "", channel ? channel : "", channel ? ": " : "", part,
			rc < 0 ? err : "output too large");
	return NULL;
}

void tmpl_view(const struct tmpl_set *s, const struct ab_host *h, const json_t *payload,
	struct rd_view *v, char *own[2])
{
	/* both from the event as it is, before either changes v */
	own[0] = tmpl_apply(s, "title", h, NULL, v, payload, TMPL_ESC_RD, RD_ESC_NONE, 4096);
	own[1] = tmpl_apply(s, "body", h, NULL, v, payload, TMPL_ESC_RD, RD_ESC_NONE, 65536);
	if (own[0])
		v->title = own[0];
	if (own[1])
		v->summary = own[1];
}
