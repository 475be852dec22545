/*
 * syslog.c - the syslog event builder: a scanned line (struct
 * ab_syslog_view, syslog_scan.c) -> one alertbridge event; and
 * ab_syslog_parse, the scan and the build in one.  How lines are read
 * (RFC 5424, RFC 3164 and its variants, where CEF, LEEF and JSON are found
 * and how they split): the header of syslog_scan.c.
 *
 * Every line becomes a "syslog.message" (category system, severity from
 * the PRI) with fields syslog.facility, syslog.severity, syslog.format
 * ("rfc5424" / "rfc3164"), syslog.appname, syslog.procid, syslog.msgid,
 * RFC 5424 SD params as "sd.ID.param" (syslog.sd_invalid when the SD is
 * unreadable), syslog.payload ("cef", "leef", "cee", "json") and
 * syslog.truncated.  Title: the first line of MSG; summary: MSG.
 *
 * CEF and LEEF payloads make a "finding.created" (category security).
 * Header fields are cef.version, cef.vendor, cef.product,
 * cef.device_version, cef.signature_id, cef.name, cef.severity (LEEF:
 * leef.version, leef.vendor, leef.product, leef.product_version,
 * leef.event_id).  Extension keys become "cef.KEY" / "leef.KEY", except a
 * KEY named like a header field or beginning with "ext.": "cef.ext.KEY".
 * So an extension never overwrites the header, and title and severity come
 * from the header (CEF Name and Severity, LEEF EventID and sev on the LEEF
 * scale); msg= (or message=) is the summary, dhost= (or dst=) the asset,
 * the lowercased vendor the tool, vendor and product hint the source.
 * CEF values are unescaped here (\= \\ \n \r, \| \:), header fields too
 * (\| \\); CEF rt and LEEF devTime give occurred_at.
 *
 * JSON (plain, or after "@cee:"): Wazuh/OSSEC alerts, Suricata EVE and
 * Falco by their members, anything else as "json.*" / "cee.*" fields
 * (nested objects as dotted names); text that is no JSON object stays a
 * plain message.
 *
 * Invalid UTF-8 and NUL bytes become U+FFFD: such a line (the scan flags
 * bytes >= 0x80 and NUL; only then is the line validated) is repaired into
 * a copy and scanned again, so every field is built from valid UTF-8 and
 * goes into jansson unchecked (json_*_nocheck).  Escaped text is unescaped
 * into a shadow copy of the line at its own offset, only when the view
 * marks a slice.  Numbers are range-checked: severities through
 * ab_severity_from_text (a 90-digit number is refused, never cast), JSON
 * integers clamped.  No regex, no printf on the hot path.  Severities map
 * through the tables in event.c.  Field values that every line repeats
 * (facility, severity, format, payload) are made once; short text values
 * are shared with earlier lines of the same thread that had the same text
 * (a small table per thread): fields' values are never modified in place,
 * only replaced, so an event holds a reference like any other.
 *
 * Public: ab_syslog_view_event, ab_syslog_view_fields, ab_syslog_later_key,
 * ab_syslog_parse (see syslog.h).
 * Diagnostics: none logged; "out of memory" or "bad argument" in err.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "event/event.h"
#include "parse/syslog.h"
#include "parse/syslog_int.h"
#include "lib/utf8.h"

#define MEMBER_MAX 2047          /* event.c caps most string members at 2 KiB */
#define SUMMARY_MAX (64 * 1024 - 1)
#define KEY_MAX 64               /* longest JSON key taken */
#define KV_KEY_MAX 128           /* longest CEF/LEEF extension key (the scanner's) */
#define SHADOW_STACK 2048        /* lines up to this long unescape on the stack */

struct span {
	const char *p;
	size_t n;
};

struct ctx {
	struct ab_event *ev;
	const struct ab_syslog_view *v;
	int nfields;                 /* variable fields added (capped) */
	bool fail;                   /* allocation failed */
	bool finding;                /* type finding.created (else syslog.message) */
	int payload;                 /* syslog.payload: 1 + index of payload_names, 0 none */
	struct intern_slot *intern;  /* this thread's shared short values, or NULL */
	int64_t payload_ts;
	char *shadow;                /* unescaped text at its offset in the line */
	char *shadow_heap;
	char shadow_stack[SHADOW_STACK];
};

/* ------------------------------------------------------------ small helpers */

/* Length of the longest prefix of n bytes that ends on a UTF-8 boundary. */
static size_t utf8_cut(const char *p, size_t n, size_t max)
{
	if (n <= max)
		return n;
	n = max;
	while (n > 0 && ((unsigned char)p[n] & 0xC0) == 0x80)
		n--;
	return n;
}

static int set_span(struct ctx *c, char **member, const char *p, size_t n, size_t max)
{
	if (ab_event_set_strn(c->ev, member, p, utf8_cut(p, n, max)) < 0) {
		c->fail = true;
		return -1;
	}
	return 0;
}

static int set_lower(struct ctx *c, char **member, const char *p, size_t n)
{
	size_t i;

	if (set_span(c, member, p, n, MEMBER_MAX) < 0)
		return -1;
	for (i = 0; (*member)[i]; i++)
		(*member)[i] = (char)tolower((unsigned char)(*member)[i]);
	return 0;
}

static void set_lit(struct ctx *c, char **member, const char *s)
{
	set_span(c, member, s, strlen(s), SUMMARY_MAX);
}

/* Keys and values are valid UTF-8 here (see the top): no checks. */
static void field_setn(struct ctx *c, const char *key, size_t keylen, json_t *v)
{
	if (!v || json_object_setn_new_nocheck(c->ev->fields, key, keylen, v) < 0)
		c->fail = true;
}

static void field_set(struct ctx *c, const char *key, json_t *v)
{
	field_setn(c, key, strlen(key), v);
}

#define FIELD_LIT(c, lit, v) field_setn((c), lit, sizeof(lit) - 1, (v))

/*
 * Short field values repeat from line to line (vendor, product, version,
 * app name, actions, labels, ports): each thread keeps the last value per
 * slot of a small table (direct-mapped by a hash of the bytes) and a line
 * with the same text takes a reference to it instead of two allocations
 * (and two frees when the event goes).  The values are never modified in
 * place (see shared values below); a miss costs the hash and replaces the
 * slot.  Bounded: INTERN_SLOTS values of at most INTERN_MAX bytes per
 * thread, released when the thread ends.
 */
#define INTERN_SLOTS 256
#define INTERN_MAX 48

struct intern_slot {
	json_t *v;
	uint64_t h;
	size_t n;
	char s[INTERN_MAX];
};

static pthread_key_t intern_key;
static bool intern_key_ok;
static pthread_once_t intern_once = PTHREAD_ONCE_INIT;

static void intern_free(void *p)
{
	struct intern_slot *t = p;

	for (size_t i = 0; i < INTERN_SLOTS; i++)
		json_decref(t[i].v);
	free(t);
}

static void intern_init(void)
{
	intern_key_ok = pthread_key_create(&intern_key, intern_free) == 0;
}

/* This thread's table, or NULL (then nothing is shared). */
static struct intern_slot *intern_table(void)
{
	struct intern_slot *t;

	pthread_once(&intern_once, intern_init);
	if (!intern_key_ok)
		return NULL;
	t = pthread_getspecific(intern_key);
	if (t)
		return t;
	t = calloc(INTERN_SLOTS, sizeof *t);
	if (t && pthread_setspecific(intern_key, t) != 0) {
		free(t);
		t = NULL;
	}
	return t;
}

static json_t *str_value(struct ctx *c, const char *p, size_t n)
{
	const uint64_t k = 0x9e3779b97f4a7c15ull;
	struct intern_slot *e;
	uint64_t h = (n + 1) * k, w;
	size_t i = 0;
	json_t *v;

	if (!c->intern || n > INTERN_MAX)
		return json_stringn_nocheck(p, n);
	for (; i + 8 <= n; i += 8) {            /* 8 bytes at a time */
		memcpy(&w, p + i, 8);
		h = (h ^ w) * k;
		h ^= h >> 29;
	}
	if (i < n) {
		w = 0;
		memcpy(&w, p + i, n - i);
		h = (h ^ w) * k;
		h ^= h >> 29;
	}
	e = &c->intern[(h >> 32) % INTERN_SLOTS];
	if (e->v && e->h == h && e->n == n && !memcmp(e->s, p, n))
		return json_incref(e->v);
	v = json_stringn_nocheck(p, n);
	if (v) {
		json_decref(e->v);
		e->v = json_incref(v);
		e->h = h;
		e->n = n;
		memcpy(e->s, p, n);
	}
	return v;
}

static void field_strn(struct ctx *c, const char *key, size_t keylen, const char *p, size_t n)
{
	field_setn(c, key, keylen, str_value(c, p, n));
}

/*
 * The values every line repeats (syslog.facility 0-23, syslog.severity
 * 0-7, syslog.format, syslog.payload) are made once and shared by every
 * event: a reference (jansson counts them atomically) instead of an
 * allocation each.  Nothing changes a field's value in place (fields are
 * replaced, never modified); a value that could not be made is made per
 * event as before.
 */
static json_t *shared_fac[24], *shared_sev[8], *shared_fmt[2], *shared_payload[4];
static const char *const payload_names[4] = { "cef", "leef", "cee", "json" };
static const char *const format_names[2] = { "rfc3164", "rfc5424" };
static pthread_once_t shared_once = PTHREAD_ONCE_INIT;

static void shared_init(void)
{
	for (int i = 0; i < 24; i++)
		shared_fac[i] = json_integer(i);
	for (int i = 0; i < 8; i++)
		shared_sev[i] = json_integer(i);
	for (int i = 0; i < 2; i++)
		shared_fmt[i] = json_string_nocheck(format_names[i]);
	for (int i = 0; i < 4; i++)
		shared_payload[i] = json_string_nocheck(payload_names[i]);
}

static json_t *shared_int(json_t *const *tab, int n, int i)
{
	return i >= 0 && i < n && tab[i] ? json_incref(tab[i]) : json_integer(i);
}

static json_t *shared_str(json_t *const *tab, const char *const *names, int i)
{
	return tab[i] ? json_incref(tab[i]) : json_string_nocheck(names[i]);
}

/* A field whose count depends on the input: capped. */
static bool field_room(struct ctx *c)
{
	if (c->nfields >= AB_SYSLOG_MAX_FIELDS)
		return false;
	c->nfields++;
	return true;
}

/* The text of s: the line's bytes, or when s is marked escaped its
 * unescaped text, written at the same offset of the shadow copy. */
static struct span text(struct ctx *c, struct ab_syslog_slice s)
{
	const struct ab_syslog_view *v = c->v;
	char *out;

	if (!s.esc)
		return (struct span){ s.p, s.n };
	if (!c->shadow) {
		if (v->len <= sizeof c->shadow_stack) {
			c->shadow = c->shadow_stack;
		} else {
			c->shadow = c->shadow_heap = malloc(v->len);
			if (!c->shadow) {
				c->fail = true;
				return (struct span){ s.p, 0 };
			}
		}
	}
	out = c->shadow + (s.p - v->line);
	return (struct span){ out, ab_syslog_unescape(s, out) };
}

/* ------------------------------------------------------------ UTF-8 */

/* ------------------------------------------------------------ RFC 5424 SD */

/* "sd.ID.param" for each SD-PARAM, unescaped (\" \\ \]). */
static void sd_fields(struct ctx *c)
{
	struct ab_syslog_sd_iter it = { 0 };
	struct ab_syslog_slice id, name, val;
	char key[3 + 32 + 1 + 32 + 1];      /* SD names are at most 32 bytes */

	while (ab_syslog_sd_next(c->v, &it, &id, &name, &val)) {
		struct span t;

		if (!field_room(c))
			continue;
		t = text(c, val);
		memcpy(key, "sd.", 3);
		memcpy(key + 3, id.p, id.n);
		key[3 + id.n] = '.';
		memcpy(key + 4 + id.n, name.p, name.n);
		key[4 + id.n + name.n] = '\0';
		field_strn(c, key, 4 + id.n + name.n, t.p, t.n);
	}
}

/* ------------------------------------------------------------ CEF / LEEF */

/*
 * Where the extension fields of one payload go: "<prefix>KEY", except that
 * a KEY that is one of the header field names, or that begins with "ext.",
 * goes to "<prefix>ext.KEY".  So an extension never overwrites a header
 * field (cef.name stays the header's Name; "name=" lands in cef.ext.name)
 * and no two different keys share a field name.
 */
struct kvname {
	const char *s;
	size_t n;
};

struct kvset {
	const char *prefix;
	size_t plen;
	const struct kvname *hdr;    /* header names without prefix, {NULL} ends */
	const struct kvname *fields; /* the header fields' names, in order */
	int nhdr;
};

#define KVN(lit) { lit, sizeof(lit) - 1 }
static const struct kvname cef_hdr[] = {
	KVN("version"), KVN("vendor"), KVN("product"), KVN("device_version"),
	KVN("signature_id"), KVN("name"), KVN("severity"), { NULL, 0 },
};
static const struct kvname leef_hdr[] = {
	KVN("version"), KVN("vendor"), KVN("product"), KVN("product_version"),
	KVN("event_id"), { NULL, 0 },
};
static const struct kvname cef_fields[7] = {
	KVN("cef.version"), KVN("cef.vendor"), KVN("cef.product"), KVN("cef.device_version"),
	KVN("cef.signature_id"), KVN("cef.name"), KVN("cef.severity"),
};
static const struct kvname leef_fields[5] = {
	KVN("leef.version"), KVN("leef.vendor"), KVN("leef.product"),
	KVN("leef.product_version"), KVN("leef.event_id"),
};
static const struct kvset cef_set = { "cef.", 4, cef_hdr, cef_fields, 7 };
static const struct kvset leef_set = { "leef.", 5, leef_hdr, leef_fields, 5 };

static bool kv_reserved(const struct kvset *set, const char *k, size_t kn)
{
	const struct kvname *h;

	if (kn >= 4 && !memcmp(k, "ext.", 4))
		return true;
	for (h = set->hdr; h->s; h++)
		if (h->n == kn && k[0] == h->s[0] && !memcmp(h->s, k, kn))
			return true;
	return false;
}

/* The header fields, then the pairs (while there is room for fields). */
static void kv_fields(struct ctx *c, const struct kvset *set)
{
	const struct ab_syslog_view *v = c->v;
	char key[KV_KEY_MAX + 16];
	int i;

	for (i = 0; i < set->nhdr; i++) {
		struct span t = text(c, v->hdr[i]);

		field_strn(c, set->fields[i].s, set->fields[i].n, t.p, t.n);
	}
	memcpy(key, set->prefix, set->plen);
	for (i = 0; i < v->nkv; i++) {
		const struct ab_syslog_kv *kv = &v->kv[i];
		size_t kn = kv->key.n, o = set->plen;
		struct span t;

		if (!field_room(c))
			break;
		if (kn > KV_KEY_MAX)
			kn = KV_KEY_MAX;
		if (kv_reserved(set, kv->key.p, kn)) {
			memcpy(key + o, "ext.", 4);
			o += 4;
		}
		memcpy(key + o, kv->key.p, kn);
		key[o + kn] = '\0';
		t = text(c, kv->value);
		field_strn(c, key, o + kn, t.p, t.n);
	}
}

/* Needles lowercase, each beginning with a letter (source_guess). */
#define HINT(needle, source) { needle, sizeof(needle) - 1, source }
static const struct {
	const char *needle;
	size_t n;
	const char *source;
} source_hints[] = {
	HINT("web application firewall", "waf"),
	HINT("waf", "waf"),
	HINT("modsecurity", "waf"),
	HINT("imperva", "waf"),
	HINT("ossec", "hids"),
	HINT("wazuh", "hids"),
	HINT("hids", "hids"),
	HINT("suricata", "ids"),
	HINT("snort", "ids"),
	HINT("intrusion", "ids"),
	HINT("firewall", "firewall"),
	HINT("fortigate", "firewall"),
	HINT("pan-os", "firewall"),
	HINT("palo alto", "firewall"),
	HINT("check point", "firewall"),
	HINT("vpn-1", "firewall"),
	HINT("iptables", "firewall"),
	HINT("falco", "runtime"),
};
#define NHINTS (sizeof source_hints / sizeof source_hints[0])

/* Per first letter, the hints in table order: hint_first[letter] and then
 * hint_next[h] until NHINTS (built once). */
static unsigned char hint_first[26], hint_next[NHINTS];
static pthread_once_t hints_once = PTHREAD_ONCE_INIT;

static void hints_init(void)
{
	memset(hint_first, NHINTS, sizeof hint_first);
	for (size_t h = NHINTS; h-- > 0;) {
		int l = source_hints[h].needle[0] - 'a';

		if (l < 0 || l >= 26)
			continue;
		hint_next[h] = hint_first[l];
		hint_first[l] = (unsigned char)h;
	}
}

/* The first hint (in table order) whose needle occurs in "vendor product",
 * ASCII case-insensitive: one pass over the text, trying at each position
 * only the needles that begin with its letter (every CEF and LEEF line
 * comes here; a strstr per hint was 4% of a CEF line). */
static const char *source_guess(struct span vendor, struct span product)
{
	char both[256];
	size_t i, vn = vendor.n > 120 ? 120 : vendor.n, pn = product.n > 120 ? 120 : product.n;
	size_t n = vn + 1 + pn, best = NHINTS;

	if (vn)
		memcpy(both, vendor.p, vn);
	both[vn] = ' ';
	if (pn)
		memcpy(both + vn + 1, product.p, pn);
	for (i = 0; i < n; i++)
		if (both[i] >= 'A' && both[i] <= 'Z')
			both[i] = (char)(both[i] - 'A' + 'a');
	for (i = 0; i < n && best > 0; i++) {
		unsigned char ch = (unsigned char)both[i];

		if (ch < 'a' || ch > 'z')
			continue;
		for (size_t h = hint_first[ch - 'a']; h < best; h = hint_next[h]) {
			size_t k = source_hints[h].n;

			if (k <= n - i && !memcmp(both + i, source_hints[h].needle, k)) {
				best = h;
				break;
			}
		}
	}
	return best < NHINTS ? source_hints[best].source : "syslog";
}

/* Severity text on a scale ("7", "7.5"), else a word ("High", "Very-High");
 * numbers are range-checked by ab_severity_from_text (never cast). */
static void sev_from_span(struct ctx *c, struct span s, enum ab_sev_scale scale)
{
	char tmp[64];
	enum ab_severity sev;

	while (s.n > 0 && (s.p[0] == ' ' || s.p[0] == '\t'))
		s.p++, s.n--;
	while (s.n > 0 && ab_sl_ws(s.p[s.n - 1]))
		s.n--;
	if (s.n == 0 || s.n >= sizeof tmp)
		return;
	if (s.n <= 2 && ab_sl_digit(s.p[0]) && ab_sl_digit(s.p[s.n - 1])) {
		/* "7", "10": what ab_severity_from_text gives, without strtod */
		c->ev->severity = ab_severity_from_scale(scale, s.n == 1 ? s.p[0] - '0' :
			(s.p[0] - '0') * 10 + (s.p[1] - '0'));
		return;
	}
	memcpy(tmp, s.p, s.n);
	tmp[s.n] = '\0';
	if (ab_severity_from_text(scale, tmp, &sev) == 0 ||
	    (isalpha((unsigned char)tmp[0]) && ab_severity_parse(tmp, &sev) == 0))
		c->ev->severity = sev;
}

/* s without trailing white space, and up to its first line end. */
static struct span first_line(struct span s)
{
	const char *nl = memchr(s.p, '\n', s.n);

	if (nl)
		s.n = (size_t)(nl - s.p);
	while (s.n > 0 && ab_sl_ws(s.p[s.n - 1]))
		s.n--;
	return s;
}

static void alert_common(struct ctx *c, struct span vendor, struct span product,
			 struct span title)
{
	struct ab_event *ev = c->ev;
	const struct ab_syslog_view *v = c->v;
	struct span m = text(c, v->kv_msg);

	c->finding = true;
	ev->category = AB_CAT_SECURITY;
	set_lower(c, &ev->tool, vendor.p, vendor.n);
	pthread_once(&hints_once, hints_init);
	set_lit(c, &ev->source, source_guess(vendor, product));
	while (m.n > 0 && ab_sl_ws(m.p[m.n - 1]))
		m.n--;
	if (!title.n && m.n)
		title = first_line(m);
	if (title.n)
		set_span(c, &ev->title, title.p, title.n, AB_SYSLOG_MAX_TITLE);
	if (m.n)
		set_span(c, &ev->summary, m.p, m.n, SUMMARY_MAX);
	if (v->kv_asset.n) {
		struct span a = text(c, v->kv_asset);

		set_span(c, &ev->asset, a.p, a.n, MEMBER_MAX);
	} else if (v->kv_asset2.n) {
		struct span a = text(c, v->kv_asset2);

		set_span(c, &ev->asset, a.p, a.n, MEMBER_MAX);
	}
}

/* CEF custom fields carry their meaning in a label ("cs1Label=url
 * cs1=https://..."): each labelled one is also "cef.label.<label>" (the
 * label cut to 64 characters of [A-Za-z0-9_.-], others as '_'), so that a
 * profile can ask for the url or the rule name whichever csN holds it. */
static void cef_labels(struct ctx *c)
{
	static const struct { const char *base; size_t len; int n; } custom[] = {
		{ "cs", 2, 6 }, { "cn", 2, 3 }, { "cfp", 3, 4 }, { "c6a", 3, 4 },
		{ "flexString", 10, 2 }, { "flexNumber", 10, 2 }, { "deviceCustomDate", 16, 2 },
	};
	const struct ab_syslog_view *v = c->v;
	unsigned seen[sizeof custom / sizeof custom[0]] = { 0 };
	char key[96], lkey[96];
	size_t i;
	int k;

	/* which "<base><k>Label" keys the extension has; the labels and values
	 * are read from the fields (what became a field, the last one wins) */
	for (k = 0; k < v->nkv && k < AB_SYSLOG_MAX_FIELDS; k++) {
		const struct ab_syslog_slice *kk = &v->kv[k].key;

		if (kk->n < 7 || memcmp(kk->p + kk->n - 5, "Label", 5))
			continue;
		for (i = 0; i < sizeof custom / sizeof custom[0]; i++)
			if (kk->n == custom[i].len + 6 && !memcmp(kk->p, custom[i].base, custom[i].len) &&
			    kk->p[custom[i].len] >= '1' && kk->p[custom[i].len] < '1' + custom[i].n)
				seen[i] |= 1u << (kk->p[custom[i].len] - '0');
	}
	for (i = 0; i < sizeof custom / sizeof custom[0]; i++)
		for (k = 1; seen[i] && k <= custom[i].n; k++) {
			const char *label;
			json_t *val;
			size_t j, o, b = 4 + custom[i].len;

			if (!(seen[i] & (1u << k)))
				continue;
			memcpy(key, "cef.", 4);
			memcpy(key + 4, custom[i].base, custom[i].len);
			key[b] = (char)('0' + k);
			memcpy(key + b + 1, "Label", 6);
			label = json_string_value(json_object_getn(c->ev->fields, key, b + 6));
			key[b + 1] = '\0';
			val = json_object_getn(c->ev->fields, key, b + 1);
			if (!label || !*label || !val)
				continue;
			memcpy(lkey, "cef.label.", 10);
			for (j = 0, o = 10; label[j] && o < 10 + 64; j++, o++) {
				char ch = label[j];

				lkey[o] = (ab_sl_digit(ch) || (ch >= 'a' && ch <= 'z') ||
					   (ch >= 'A' && ch <= 'Z') || ch == '_' || ch == '.' ||
					   ch == '-') ? ch : '_';
			}
			lkey[o] = '\0';
			if (!json_object_getn(c->ev->fields, lkey, o) && field_room(c))
				field_setn(c, lkey, o, json_incref(val));
		}
}

/* CEF: header fields and extension pairs as fields; title = Name (else
 * msg, else the Signature ID), severity = Severity (0-10 on the CEF scale
 * or a word); an extension's own "name=" or "severity=" never changes
 * them. */
static void cef_event(struct ctx *c)
{
	const struct ab_syslog_view *v = c->v;
	struct span title;

	c->payload = 1;
	title = text(c, v->hdr[5]);
	while (title.n > 0 && ab_sl_ws(title.p[title.n - 1]))
		title.n--;
	if (!title.n && !v->kv_msg.n)
		title = text(c, v->hdr[4]);
	alert_common(c, text(c, v->hdr[1]), text(c, v->hdr[2]), title);
	sev_from_span(c, text(c, v->hdr[6]), AB_SCALE_CEF);
}

/* LEEF: header fields and attributes as fields; title = EventID, severity
 * = sev (1-10, LEEF scale). */
static void leef_event(struct ctx *c)
{
	const struct ab_syslog_view *v = c->v;

	c->payload = 2;
	alert_common(c, text(c, v->hdr[1]), text(c, v->hdr[2]), text(c, v->hdr[4]));
	if (v->kv_sev.n)
		sev_from_span(c, text(c, v->kv_sev), AB_SCALE_LEEF);
}

/* ------------------------------------------------------------ JSON */

static json_t *jget(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);

	return b ? json_object_get(v, b) : v;
}

static const char *jstr(json_t *o, const char *a, const char *b)
{
	return json_string_value(jget(o, a, b));
}

/* An integer member clamped to lo..hi (a huge level never reaches a cast). */
static int jint(json_t *v, int lo, int hi)
{
	json_int_t x = json_integer_value(v);

	return x < lo ? lo : x > hi ? hi : (int)x;
}

static void jset(struct ctx *c, char **member, const char *s, size_t max)
{
	if (s)
		set_span(c, member, s, strlen(s), max);
}

/* Copy selected members (scalars and arrays of scalars) into fields. */
struct jsel {
	const char *a, *b, *key;
};

static void jcopy(struct ctx *c, json_t *root, const struct jsel *sel, size_t nsel)
{
	size_t i;

	for (i = 0; i < nsel; i++) {
		json_t *v = jget(root, sel[i].a, sel[i].b);

		if (!v || json_is_object(v))
			continue;
		if (json_is_array(v) && json_array_size(v) > AB_SYSLOG_MAX_FIELDS)
			continue;
		field_set(c, sel[i].key, json_incref(v));
	}
}

static void json_time(struct ctx *c, const char *s)
{
	int64_t t = 0;

	/* the whole text a time (an empty one reads as 0 bytes of none) */
	if (s && *s && ab_syslog_iso_time(s, strlen(s), false, &t) == strlen(s))
		c->payload_ts = t;
}

static const struct jsel wazuh_sel[] = {
	{ "rule", "id", "wazuh.rule.id" },
	{ "rule", "level", "wazuh.rule.level" },
	{ "rule", "description", "wazuh.rule.description" },
	{ "rule", "groups", "wazuh.rule.groups" },
	{ "agent", "id", "wazuh.agent.id" },
	{ "agent", "name", "wazuh.agent.name" },
	{ "agent", "ip", "wazuh.agent.ip" },
	{ "manager", "name", "wazuh.manager.name" },
	{ "decoder", "name", "wazuh.decoder.name" },
	{ "data", "srcip", "wazuh.data.srcip" },
	{ "data", "srcuser", "wazuh.data.srcuser" },
	{ "data", "dstuser", "wazuh.data.dstuser" },
	{ "location", NULL, "wazuh.location" },
	{ "id", NULL, "wazuh.id" },
};

static const struct jsel suricata_sel[] = {
	{ "event_type", NULL, "suricata.event_type" },
	{ "src_ip", NULL, "suricata.src_ip" },
	{ "src_port", NULL, "suricata.src_port" },
	{ "dest_ip", NULL, "suricata.dest_ip" },
	{ "dest_port", NULL, "suricata.dest_port" },
	{ "proto", NULL, "suricata.proto" },
	{ "in_iface", NULL, "suricata.in_iface" },
	{ "flow_id", NULL, "suricata.flow_id" },
	{ "alert", "action", "suricata.alert.action" },
	{ "alert", "signature_id", "suricata.alert.signature_id" },
	{ "alert", "signature", "suricata.alert.signature" },
	{ "alert", "category", "suricata.alert.category" },
	{ "alert", "severity", "suricata.alert.severity" },
};

static const struct jsel falco_sel[] = {
	{ "rule", NULL, "falco.rule" },
	{ "priority", NULL, "falco.priority" },
	{ "hostname", NULL, "falco.hostname" },
	{ "source", NULL, "falco.source" },
	{ "tags", NULL, "falco.tags" },
};

#define NSEL(a) (sizeof(a) / sizeof((a)[0]))

static void json_alert(struct ctx *c, const char *tool, const char *source)
{
	c->finding = true;
	c->ev->category = AB_CAT_SECURITY;
	set_lit(c, &c->ev->tool, tool);
	set_lit(c, &c->ev->source, source);
}

static bool json_wazuh(struct ctx *c, json_t *root)
{
	json_t *level = jget(root, "rule", "level");
	const char *desc = jstr(root, "rule", "description");

	if (!json_is_integer(level))
		return false;
	if (!desc)
		desc = jstr(root, "rule", "comment");     /* OSSEC */
	json_alert(c, jget(root, "rule", "sidid") ? "ossec" : "wazuh", "hids");
	c->ev->severity = ab_severity_from_scale(AB_SCALE_WAZUH,
						 jint(level, -1, 1000));
	jset(c, &c->ev->title, desc, AB_SYSLOG_MAX_TITLE);
	jset(c, &c->ev->summary, jstr(root, "full_log", NULL) ? jstr(root, "full_log", NULL) : desc,
	     SUMMARY_MAX);
	jset(c, &c->ev->asset, jstr(root, "agent", "name"), MEMBER_MAX);
	jcopy(c, root, wazuh_sel, NSEL(wazuh_sel));
	json_time(c, jstr(root, "timestamp", NULL));
	return true;
}

static bool json_suricata(struct ctx *c, json_t *root)
{
	const char *et = jstr(root, "event_type", NULL);
	json_t *sev = jget(root, "alert", "severity");
	char sum[1024];

	if (!et || !jget(root, "src_ip", NULL))
		return false;
	if (strcmp(et, "alert") == 0) {
		json_alert(c, "suricata", "ids");
		if (json_is_integer(sev))
			c->ev->severity = ab_severity_from_scale(AB_SCALE_SURICATA,
								 jint(sev, 0, 1000));
		jset(c, &c->ev->title, jstr(root, "alert", "signature"), AB_SYSLOG_MAX_TITLE);
		snprintf(sum, sizeof sum, "%.400s: %.64s:%lld -> %.64s:%lld (%.200s)",
			 jstr(root, "alert", "signature") ? jstr(root, "alert", "signature") : "alert",
			 jstr(root, "src_ip", NULL) ? jstr(root, "src_ip", NULL) : "?",
			 (long long)json_integer_value(jget(root, "src_port", NULL)),
			 jstr(root, "dest_ip", NULL) ? jstr(root, "dest_ip", NULL) : "?",
			 (long long)json_integer_value(jget(root, "dest_port", NULL)),
			 jstr(root, "alert", "category") ? jstr(root, "alert", "category") : "");
		set_span(c, &c->ev->summary, sum, strlen(sum), SUMMARY_MAX);
		jset(c, &c->ev->asset, jstr(root, "dest_ip", NULL), MEMBER_MAX);
	} else {
		set_lit(c, &c->ev->tool, "suricata");
		set_lit(c, &c->ev->source, "ids");
	}
	jcopy(c, root, suricata_sel, NSEL(suricata_sel));
	json_time(c, jstr(root, "timestamp", NULL));
	return true;
}

static bool json_falco(struct ctx *c, json_t *root)
{
	const char *rule = jstr(root, "rule", NULL), *prio = jstr(root, "priority", NULL);
	const char *out = jstr(root, "output", NULL);
	enum ab_severity sev;

	if (!rule || !prio || !out)
		return false;
	json_alert(c, "falco", "runtime");
	if (ab_severity_parse(prio, &sev) == 0)
		c->ev->severity = sev;
	jset(c, &c->ev->title, rule, AB_SYSLOG_MAX_TITLE);
	jset(c, &c->ev->summary, out, SUMMARY_MAX);
	jset(c, &c->ev->asset, jstr(root, "hostname", NULL), MEMBER_MAX);
	jcopy(c, root, falco_sel, NSEL(falco_sel));
	json_time(c, jstr(root, "time", NULL));
	return true;
}

/* Any other object: top-level scalars as "<prefix>key". */
/* An array holding an object or an array is not a field. */
static bool array_has_containers(json_t *a)
{
	size_t i;
	json_t *e;

	json_array_foreach(a, i, e)
		if (json_is_object(e) || json_is_array(e))
			return true;
	return false;
}

#define JSON_FLAT_DEPTH 4      /* nesting levels flattened into dotted names */
#define JSON_FLAT_KEY 192      /* longest dotted name kept */

/* Members of o as "<prefix>a.b.c" fields: scalars and arrays of scalars,
 * nested objects down to JSON_FLAT_DEPTH (Winlogbeat's winlog.event_id,
 * ECS's log.level), while there is room for fields. */
static void json_flatten(struct ctx *c, json_t *o, char *key, size_t klen, int depth)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v) {
		size_t n = strlen(k);

		if (n > KEY_MAX || klen + n + 2 > JSON_FLAT_KEY)
			continue;
		memcpy(key + klen, k, n + 1);
		if (json_is_object(v)) {
			if (depth + 1 < JSON_FLAT_DEPTH) {
				key[klen + n] = '.';
				key[klen + n + 1] = '\0';
				json_flatten(c, v, key, klen + n + 1, depth + 1);
			}
		} else if (!json_is_array(v) || (json_array_size(v) <= AB_SYSLOG_MAX_FIELDS &&
						  !array_has_containers(v))) {
			if (!field_room(c))
				return;
			field_set(c, key, json_incref(v));
		}
		key[klen] = '\0';
	}
}

static void json_generic(struct ctx *c, json_t *root, const char *prefix)
{
	static const char *const msgkeys[] = { "msg", "message", "title", "description" };
	static const char *const sevkeys[] = { "severity", "level", "priority" };
	const char *s;
	char key[JSON_FLAT_KEY + 8];
	size_t i, pl = strlen(prefix);
	enum ab_severity sev;

	memcpy(key, prefix, pl + 1);
	json_flatten(c, root, key, pl, 0);
	for (i = 0; i < NSEL(msgkeys); i++) {
		if ((s = jstr(root, msgkeys[i], NULL)) != NULL) {
			set_span(c, &c->ev->summary, s, strlen(s), SUMMARY_MAX);
			set_span(c, &c->ev->title, s, strcspn(s, "\r\n"), AB_SYSLOG_MAX_TITLE);
			break;
		}
	}
	for (i = 0; i < NSEL(sevkeys); i++)
		if ((s = jstr(root, sevkeys[i], NULL)) && ab_severity_parse(s, &sev) == 0) {
			c->ev->severity = sev;
			break;
		}
	json_time(c, jstr(root, "timestamp", NULL) ? jstr(root, "timestamp", NULL) :
		  jstr(root, "@timestamp", NULL) ? jstr(root, "@timestamp", NULL) :
		  jstr(root, "time", NULL));
}

static bool parse_json(struct ctx *c, const char *p, size_t n, bool cee)
{
	json_error_t jerr;
	json_t *root = json_loadb(p, n, 0, &jerr);

	if (!root)
		return false;
	if (!json_is_object(root)) {
		json_decref(root);
		return false;
	}
	c->payload = cee ? 3 : 4;
	if (!json_wazuh(c, root) && !json_suricata(c, root) && !json_falco(c, root))
		json_generic(c, root, cee ? "cee." : "json.");
	json_decref(root);
	return true;
}

/* ------------------------------------------------------------ the event */

/* The header's fields: syslog.facility (always: ab_syslog_view_fields
 * knows by it whether they were left out), severity, format, appname,
 * procid, msgid, payload. */
static void header_fields(struct ctx *c)
{
	const struct ab_syslog_view *v = c->v;

	pthread_once(&shared_once, shared_init);
	FIELD_LIT(c, "syslog.facility", shared_int(shared_fac, 24, v->pri / 8));
	FIELD_LIT(c, "syslog.severity", shared_int(shared_sev, 8, v->pri % 8));
	FIELD_LIT(c, "syslog.format", shared_str(shared_fmt, format_names, v->format != 0));
	if (v->app.n)
		field_strn(c, "syslog.appname", 14, v->app.p, v->app.n);
	if (v->procid.n)
		field_strn(c, "syslog.procid", 13, v->procid.p, v->procid.n);
	if (v->msgid.n)
		field_strn(c, "syslog.msgid", 12, v->msgid.p, v->msgid.n);
	if (c->payload)
		FIELD_LIT(c, "syslog.payload", shared_str(shared_payload, payload_names,
							  c->payload - 1));
	if (v->listener)
		field_strn(c, "syslog.listener", 15, v->listener, strlen(v->listener));
}

/* The members every line has; the header's fields unless header_later. */
static void fill_common(struct ctx *c, const char *peer_host, bool header_later)
{
	const struct ab_syslog_view *v = c->v;
	struct ab_event *ev = c->ev;
	const char *mp = v->msg.p;
	size_t mn = v->msg.n;

	if (!header_later)
		header_fields(c);
	if (v->host.n)
		set_span(c, &ev->origin.host, v->host.p, v->host.n, MEMBER_MAX);
	else if (peer_host)
		set_span(c, &ev->origin.host, peer_host, strlen(peer_host), MEMBER_MAX);
	ev->received_at = v->now_ms;
	ev->occurred_at = c->payload_ts ? c->payload_ts : v->ts;
	if (!ev->tool && v->app.n)
		set_span(c, &ev->tool, v->app.p, v->app.n, MEMBER_MAX);
	if (!ev->source)
		set_lit(c, &ev->source, "syslog");
	while (mn > 0 && (mp[mn - 1] == ' ' || mp[mn - 1] == '\t'))
		mn--;
	if (!ev->summary && mn)
		set_span(c, &ev->summary, mp, mn, SUMMARY_MAX);
	if (!ev->title) {
		while (mn > 0 && *mp == ' ')
			mp++, mn--;
		if (mn) {
			const char *nl = memchr(mp, '\n', mn);

			set_span(c, &ev->title, mp, nl ? (size_t)(nl - mp) : mn, AB_SYSLOG_MAX_TITLE);
		} else {
			set_lit(c, &ev->title, "(empty syslog message)");
		}
	}
}

/* The stable id: SHA-256 over the raw line, NUL, the peer host (cut to
 * MEMBER_MAX bytes), hashed in parts (no copy of the line). */
void ab_syslog_event_id(struct ab_event *ev, const char *line, size_t len,
	const char *peer_host)
{
	size_t hostlen = peer_host ? strnlen(peer_host, MEMBER_MAX) : 0;
	const void *parts[3] = { line, "", peer_host };
	size_t lens[3] = { ab_syslog_line_len(line, len), 1, hostlen };

	ab_event_compute_idv(ev, parts, lens, hostlen ? 3 : 1);
}

static void ctx_init(struct ctx *c, const struct ab_syslog_view *v, struct ab_event *ev)
{
	c->ev = ev;
	c->v = v;
	c->nfields = 0;
	c->fail = false;
	c->finding = false;
	c->payload = 0;
	c->payload_ts = v->payload_ts;
	c->shadow = c->shadow_heap = NULL;
	c->intern = intern_table();
}

/* The fields of the line's structured parts, first in the event's fields:
 * RFC 5424 SD params (or syslog.sd_invalid), then a CEF/LEEF payload's
 * header fields and extension pairs (CEF labels last).  Members never
 * depend on them, so they can come later (AB_SYSLOG_FIELDS_LATER). */
static void payload_fields(struct ctx *c)
{
	const struct ab_syslog_view *v = c->v;

	if (v->format == AB_SYSLOG_RFC5424) {
		if (v->flags & AB_SYSLOG_V_SD_INVALID)
			field_set(c, "syslog.sd_invalid", json_true());
		else
			sd_fields(c);
	}
	if (v->payload == AB_SYSLOG_CEF) {
		kv_fields(c, &cef_set);
		if (v->flags & AB_SYSLOG_V_LABELS)
			cef_labels(c);
	} else if (v->payload == AB_SYSLOG_LEEF) {
		kv_fields(c, &leef_set);
	}
}

/* May a view's payload fields come later?  Not for JSON (its decoding
 * makes members and fields together). */
static bool can_defer(const struct ab_syslog_view *v)
{
	return v->payload != AB_SYSLOG_CEE && v->payload != AB_SYSLOG_JSON;
}

/* The event of a view over valid UTF-8 text without NUL; the id from the
 * raw line (line, len).  later: leave out payload_fields (returns 1). */
static int build(const struct ab_syslog_view *v, const char *line, size_t len,
		 const char *peer_host, unsigned flags, struct ab_event *ev, char *err,
		 size_t errsz)
{
	bool later = (flags & AB_SYSLOG_FIELDS_LATER) && can_defer(v);
	bool header_later = later && (flags & AB_SYSLOG_HEADER_LATER);
	struct ctx c;

	ctx_init(&c, v, ev);
	set_lit(&c, &ev->origin.kind, "syslog");
	if (!(flags & AB_SYSLOG_ID_LATER))
		ab_syslog_event_id(ev, line, len, peer_host);
	if (!later)
		payload_fields(&c);
	ev->category = AB_CAT_SYSTEM;
	ev->severity = ab_severity_from_scale(AB_SCALE_SYSLOG, v->pri % 8);
	switch (v->payload) {
	case AB_SYSLOG_CEF:
		cef_event(&c);
		break;
	case AB_SYSLOG_LEEF:
		leef_event(&c);
		break;
	case AB_SYSLOG_CEE:
	case AB_SYSLOG_JSON:
		parse_json(&c, v->body.p, v->body.n, v->payload == AB_SYSLOG_CEE);
		break;
	default:
		break;
	}
	/* the type once, when the payload is known (not replaced on the way) */
	set_lit(&c, &ev->type, c.finding ? "finding.created" : "syslog.message");
	fill_common(&c, peer_host, header_later);
	if (v->flags & AB_SYSLOG_V_TRUNCATED)
		field_set(&c, "syslog.truncated", json_true());
	free(c.shadow_heap);
	if (c.fail) {
		if (err && errsz)
			snprintf(err, errsz, "syslog parse: out of memory");
		return -1;
	}
	return later ? 1 : 0;
}

int ab_syslog_view_fields(const struct ab_syslog_view *v, struct ab_event *ev)
{
	struct ctx c;

	if (!v || !v->line || !ev || !ev->fields)
		return -1;
	/* into the fields the event has (no key of theirs is one of these):
	 * the same set as one build makes, in another order, which nothing
	 * reads (canonical JSON sorts the keys) */
	ctx_init(&c, v, ev);
	c.payload = v->payload == AB_SYSLOG_CEF ? 1 : v->payload == AB_SYSLOG_LEEF ? 2 : 0;
	if (!json_object_get(ev->fields, "syslog.facility"))
		header_fields(&c);   /* left out too (AB_SYSLOG_HEADER_LATER) */
	payload_fields(&c);
	free(c.shadow_heap);
	return c.fail ? -1 : 0;
}

/* The text of slice x into buf (unescaped as marked), NUL-terminated. */
static int slice_text(struct ab_syslog_slice x, char *buf, size_t bufsz, const char **out)
{
	size_t n;

	if (x.n >= bufsz)
		return -1;
	n = x.esc ? ab_syslog_unescape(x, buf) : x.n;
	if (!x.esc && n)
		memcpy(buf, x.p, n);
	buf[n] = '\0';
	*out = buf;
	return 1;
}

bool ab_syslog_view_gives(const char *key)
{
	return key && (!strncmp(key, "cef.", 4) || !strncmp(key, "leef.", 5));
}

int ab_syslog_view_field(const struct ab_syslog_view *v, const char *key, char *buf,
	size_t bufsz, const char **out)
{
	const struct kvset *set = v->payload == AB_SYSLOG_CEF ? &cef_set :
				  v->payload == AB_SYSLOG_LEEF ? &leef_set : NULL;
	const char *rest;
	size_t rn;
	bool ext;

	*out = NULL;
	if (!set || !bufsz || strncmp(key, set->prefix, set->plen))
		return -1;
	/* structured data's fields count against the cap before the pairs */
	if (v->format == AB_SYSLOG_RFC5424 && (v->sd.p || (v->flags & AB_SYSLOG_V_SD_INVALID)))
		return -1;
	rest = key + set->plen;
	rn = strlen(rest);
	if (set == &cef_set && (v->flags & AB_SYSLOG_V_LABELS) && !strncmp(rest, "label.", 6))
		return -1;         /* cef_labels may have made it */
	for (int i = 0; i < set->nhdr; i++)     /* the header's own */
		if (set->hdr[i].n == rn && !memcmp(set->hdr[i].s, rest, rn))
			return v->hdr[i].p ? slice_text(v->hdr[i], buf, bufsz, out) : -1;
	/* a pair: "KEY", or "ext.KEY" for a KEY that kv_reserved moves there;
	 * keys cut to KV_KEY_MAX as kv_fields cuts them; the last one wins */
	ext = rn >= 4 && !memcmp(rest, "ext.", 4);
	if (ext) {
		rest += 4;
		rn -= 4;
		if (!kv_reserved(set, rest, rn))
			return 0;
	}
	if (rn > KV_KEY_MAX || !rn)
		return 0;
	for (int i = v->nkv - 1; i >= 0; i--) {
		const struct ab_syslog_kv *kv = &v->kv[i];
		size_t kn = kv->key.n > KV_KEY_MAX ? KV_KEY_MAX : kv->key.n;

		if (kn == rn && !memcmp(kv->key.p, rest, rn) && kv_reserved(set, rest, rn) == ext)
			return slice_text(kv->value, buf, bufsz, out);
	}
	return 0;
}

bool ab_syslog_later_key(const char *key)
{
	static const char *const header[] = { "syslog.facility", "syslog.severity",
		"syslog.format", "syslog.appname", "syslog.procid", "syslog.msgid",
		"syslog.payload", "syslog.sd_invalid", "syslog.listener" };

	if (!key)
		return false;
	if (!strncmp(key, "sd.", 3) || !strncmp(key, "cef.", 4) || !strncmp(key, "leef.", 5))
		return true;
	for (size_t i = 0; i < sizeof header / sizeof header[0]; i++)
		if (!strcmp(key, header[i]))
			return true;
	return false;
}

int ab_syslog_view_event(const struct ab_syslog_view *v, const char *peer_host,
			 unsigned flags, struct ab_event *ev, char *err, size_t errsz)
{
	struct ab_syslog_view *rv;
	char *buf;
	size_t n;
	int rc;

	if (!v || !v->line || !ev) {
		if (err && errsz)
			snprintf(err, errsz, "syslog parse: bad argument");
		return -1;
	}
	if (!(v->flags & AB_SYSLOG_V_NUL) &&
	    (!(v->flags & AB_SYSLOG_V_HIGH) || ab_utf8_valid(v->line, v->len)))
		return build(v, v->line, v->len, peer_host, flags, ev, err, errsz);
	/* invalid UTF-8 or NUL bytes: read a repaired copy again */
	buf = malloc(3 * v->len + 1);
	rv = malloc(sizeof *rv);
	if (!buf || !rv) {
		free(buf);
		free(rv);
		if (err && errsz)
			snprintf(err, errsz, "syslog parse: out of memory");
		return -1;
	}
	n = ab_utf8_repair(v->line, v->len, buf, true);
	ab_syslog_scan_text(buf, n, v->now_ms,
			    (v->flags & AB_SYSLOG_V_TRUNCATED) | AB_SYSLOG_V_HIGH, rv);
	rv->listener = v->listener;
	/* the repaired view lives only here: its fields come now */
	rc = build(rv, v->line, v->len, peer_host, flags & ~AB_SYSLOG_FIELDS_LATER, ev, err,
		   errsz);
	free(rv);
	free(buf);
	return rc;
}

int ab_syslog_parse(const char *line, size_t len, const char *peer_host, int64_t now_ms,
		    struct ab_event *ev, char *err, size_t errsz)
{
	return ab_syslog_parse_ex(line, len, peer_host, now_ms, 0, ev, err, errsz);
}

int ab_syslog_parse_ex(const char *line, size_t len, const char *peer_host, int64_t now_ms,
		       unsigned flags, struct ab_event *ev, char *err, size_t errsz)
{
	struct ab_syslog_view v;

	if (!line || !ev) {
		if (err && errsz)
			snprintf(err, errsz, "syslog parse: bad argument");
		return -1;
	}
	ab_syslog_scan(line, len, now_ms, &v);
	return ab_syslog_view_event(&v, peer_host, flags, ev, err, errsz);
}
