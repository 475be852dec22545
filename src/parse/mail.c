/*
 * mail.c - parse a raw RFC 5322 message (GMime 3) into struct ab_mail.
 *
 * Public: ab_mail_parse, ab_mail_free, ab_mail_header, ab_mail_limits_default,
 *         ab_mail_limit_name.
 * Diagnostics: ab_mail_parse writes into err: why it failed ("mail: empty
 *         message", "mail: not a mail message"), or which limit was hit and
 *         what was kept ("mail: MIME nesting deeper than max_depth 20; deeper
 *         parts skipped").  It never logs by itself.
 *
 * The message is untrusted.  Only the first max_message bytes are parsed;
 * each header value is cut at max_header; the MIME tree is walked with a
 * depth cap (max_depth) and an entity count cap (max_parts); decoded content
 * (text, html, attachment bodies) is read in chunks through GMime's decoding
 * and charset filters and kept up to max_decoded bytes in total, body parts
 * first.  Every string handed out is valid UTF-8 without NUL bytes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "buf.h"
#include "parse/html.h"
#include "parse/mail.h"
#include "parse/utf8.h"

#define DEPTH_HARD_MAX 512          /* whatever the configuration says */
#define READ_CHUNK 8192

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;

static void gmime_init(void)
{
	g_mime_init();
}

struct ctx {
	struct ab_mail_limits lim;
	struct ab_mail *m;
	size_t budget;              /* decoded bytes still allowed */
	GMimeObject **leaves;       /* borrowed from the message */
	size_t n_leaves, cap_leaves;
	bool stop;                  /* max_parts hit: walk no further */
	char sniff[64];             /* charset found in an XML declaration */
	bool nomem;
	char *err;
	size_t errsz;
};

void ab_mail_limits_default(struct ab_mail_limits *lim)
{
	lim->max_message = AB_MAIL_DEF_MAX_MESSAGE;
	lim->max_header = AB_MAIL_DEF_MAX_HEADER;
	lim->max_depth = AB_MAIL_DEF_MAX_DEPTH;
	lim->max_parts = AB_MAIL_DEF_MAX_PARTS;
	lim->max_decoded = AB_MAIL_DEF_MAX_DECODED;
}

const char *ab_mail_limit_name(enum ab_mail_limit l)
{
	switch (l) {
	case AB_MAIL_LIMIT_NONE: return "none";
	case AB_MAIL_LIMIT_MESSAGE: return "max_message";
	case AB_MAIL_LIMIT_HEADER: return "max_header";
	case AB_MAIL_LIMIT_DEPTH: return "max_depth";
	case AB_MAIL_LIMIT_PARTS: return "max_parts";
	case AB_MAIL_LIMIT_DECODED: return "max_decoded";
	}
	return "unknown";
}

static void seterr(char *err, size_t errsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errsz)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

/* Record a limit; the first one hit names the reason and the message. */
static void hit(struct ctx *c, enum ab_mail_limit l, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void hit(struct ctx *c, enum ab_mail_limit l, const char *fmt, ...)
{
	va_list ap;

	c->m->truncated = true;
	if (c->m->limit != AB_MAIL_LIMIT_NONE)
		return;
	c->m->limit = l;
	if (c->err && c->errsz) {
		va_start(ap, fmt);
		vsnprintf(c->err, c->errsz, fmt, ap);
		va_end(ap);
	}
}

/* Cleaned, malloc'd copy of s (at most max bytes); NULL for NULL or ENOMEM
 * (c->nomem set).  *cut tells whether it was shortened. */
static char *clean_dup(struct ctx *c, const char *s, size_t max, bool single_line, bool *cut)
{
	struct ab_buf b = AB_BUF_INIT(max);
	char *r;

	if (cut)
		*cut = false;
	if (!s)
		return NULL;
	if (!ab_utf8_valid(s, strlen(s)))
		c->m->n_bad_utf8++;
	if (ab_utf8_clean(&b, s, strlen(s), single_line) < 0) {
		if (!b.overflow) {
			ab_buf_free(&b);
			c->nomem = true;
			return NULL;
		}
		if (cut)
			*cut = true;
	}
	r = ab_buf_steal(&b);
	if (!r)
		c->nomem = true;
	return r;
}

/* ------------------------------------------------------------ lists */

static int push_str(char ***arr, size_t *n, char *s)
{
	char **na;

	if (!s)
		return -1;
	na = realloc(*arr, (*n + 1) * sizeof(*na));
	if (!na) {
		free(s);
		return -1;
	}
	*arr = na;
	na[(*n)++] = s;
	return 0;
}

static void free_strv(char **v, size_t n)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ------------------------------------------------------------ headers */

struct hdr_ref {
	GMimeHeader *h;
	gint64 offset;
	size_t seq;
};

static int hdr_cmp(const void *a, const void *b)
{
	const struct hdr_ref *x = a, *y = b;

	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * GMime 3 keeps the top-level Content-* fields on the MIME part, the rest on
 * the message; put them back together in their order in the message.
 */
static struct hdr_ref *collect_headers(struct ctx *c, GMimeMessage *msg, size_t *count)
{
	GMimeHeaderList *lists[2];
	GMimeObject *body = g_mime_message_get_mime_part(msg);
	struct hdr_ref *refs;
	size_t total = 0, n = 0, l;
	int i, k;

	lists[0] = g_mime_object_get_header_list(GMIME_OBJECT(msg));
	lists[1] = body ? g_mime_object_get_header_list(body) : NULL;
	for (l = 0; l < 2; l++) {
		k = lists[l] ? g_mime_header_list_get_count(lists[l]) : 0;
		total += k > 0 ? (size_t)k : 0;
	}
	*count = 0;
	if (total == 0)
		return NULL;
	refs = calloc(total, sizeof(*refs));
	if (!refs) {
		c->nomem = true;
		return NULL;
	}
	for (l = 0; l < 2; l++) {
		k = lists[l] ? g_mime_header_list_get_count(lists[l]) : 0;
		for (i = 0; i < k; i++) {
			GMimeHeader *h = g_mime_header_list_get_header_at(lists[l], i);

			if (!h || !g_mime_header_get_name(h))
				continue;
			refs[n].h = h;
			refs[n].offset = g_mime_header_get_offset(h);
			refs[n].seq = n;
			n++;
		}
	}
	qsort(refs, n, sizeof(*refs), hdr_cmp);
	*count = n;
	return refs;
}

static void take_headers(struct ctx *c, GMimeMessage *msg)
{
	struct ab_mail *m = c->m;
	struct hdr_ref *refs;
	size_t i, count;

	refs = collect_headers(c, msg, &count);
	if (!refs)
		return;
	if (count > AB_MAIL_MAX_HEADERS) {
		hit(c, AB_MAIL_LIMIT_HEADER, "mail: %zu header fields, only the first %d kept",
		    count, AB_MAIL_MAX_HEADERS);
		count = AB_MAIL_MAX_HEADERS;
	}
	m->headers = calloc(count, sizeof(*m->headers));
	if (!m->headers) {
		free(refs);
		c->nomem = true;
		return;
	}
	for (i = 0; i < count && !c->nomem; i++) {
		GMimeHeader *h = refs[i].h;
		const char *value = g_mime_header_get_value(h);
		const char *rawv = g_mime_header_get_raw_value(h);
		struct ab_mail_header *mh = &m->headers[m->n_headers];
		bool cut = false;

		mh->name = clean_dup(c, g_mime_header_get_name(h), c->lim.max_header, true, NULL);
		mh->value = clean_dup(c, value ? value : "", c->lim.max_header, true, &cut);
		if (!mh->name || !mh->value) {
			free(mh->name);
			free(mh->value);
			mh->name = mh->value = NULL;
			c->nomem = true;
			break;
		}
		m->n_headers++;
		if (cut || (rawv && strlen(rawv) > c->lim.max_header))
			hit(c, AB_MAIL_LIMIT_HEADER,
			    "mail: header '%.64s' longer than max_header %zu; value cut",
			    mh->name, c->lim.max_header);
		if (strcasecmp(mh->name, "Authentication-Results") == 0 &&
		    m->n_auth_results < AB_MAIL_MAX_AUTH) {
			if (push_str(&m->auth_results, &m->n_auth_results, strdup(mh->value)) < 0)
				c->nomem = true;
		}
	}
	free(refs);
}

static void add_addresses(struct ctx *c, InternetAddressList *list, char ***arr, size_t *n,
			  size_t max, int level)
{
	int i, count;

	if (!list || level > 1)     /* groups do not nest; ignore if they claim to */
		return;
	count = internet_address_list_length(list);
	for (i = 0; i < count && *n < max && !c->nomem; i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);

		if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
			char *a = addr && *addr ? clean_dup(c, addr, c->lim.max_header, true, NULL) :
				  NULL;

			if (a && strlen(a) > AB_MAIL_MAX_ADDR)
				free(a);
			else if (a && push_str(arr, n, a) < 0)
				c->nomem = true;
		} else if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			add_addresses(c, internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)),
				      arr, n, max, level + 1);
		}
	}
}

static void take_envelope(struct ctx *c, GMimeMessage *msg)
{
	struct ab_mail *m = c->m;
	const char *s;
	char **from = NULL;
	size_t n_from = 0;
	GDateTime *dt;
	bool cut = false;

	s = g_mime_message_get_subject(msg);
	if (s) {
		m->subject = clean_dup(c, s, c->lim.max_header, true, &cut);
		if (cut)
			hit(c, AB_MAIL_LIMIT_HEADER, "mail: Subject longer than max_header %zu; cut",
			    c->lim.max_header);
	}
	add_addresses(c, g_mime_message_get_from(msg), &from, &n_from, 1, 0);
	if (n_from) {
		m->from = from[0];
		from[0] = NULL;
	}
	free_strv(from, n_from);
	add_addresses(c, g_mime_message_get_to(msg), &m->to, &m->n_to, AB_MAIL_MAX_RCPT, 0);

	dt = g_mime_message_get_date(msg);
	if (dt) {
		gint64 secs = g_date_time_to_unix(dt);

		/* 1970 .. 9999 only; anything else counts as no date */
		if (secs > 0 && secs < INT64_C(253402300800))
			m->date = (int64_t)secs * 1000 + g_date_time_get_microsecond(dt) / 1000;
	}
	s = g_mime_message_get_message_id(msg);
	if (s && *s)
		m->message_id = clean_dup(c, s, c->lim.max_header, true, NULL);
	if (m->message_id && strlen(m->message_id) > AB_MAIL_MAX_ADDR) {
		free(m->message_id);   /* not a valid one: as if absent */
		m->message_id = NULL;
	}
}

/* ------------------------------------------------------------ MIME walk */

static void add_leaf(struct ctx *c, GMimeObject *obj)
{
	if (c->n_leaves == c->cap_leaves) {
		size_t ncap = c->cap_leaves ? c->cap_leaves * 2 : 8;
		GMimeObject **nl = realloc(c->leaves, ncap * sizeof(*nl));

		if (!nl) {
			c->nomem = true;
			return;
		}
		c->leaves = nl;
		c->cap_leaves = ncap;
	}
	c->leaves[c->n_leaves++] = obj;
}

/* Recursion depth is bounded by lim.max_depth (<= DEPTH_HARD_MAX). */
static void walk(struct ctx *c, GMimeObject *obj, size_t depth)
{
	if (!obj || c->stop || c->nomem)
		return;
	if (c->m->n_parts >= c->lim.max_parts) {
		hit(c, AB_MAIL_LIMIT_PARTS, "mail: more than max_parts %zu MIME parts; the rest skipped",
		    c->lim.max_parts);
		c->stop = true;
		return;
	}
	c->m->n_parts++;
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int i, n = g_mime_multipart_get_count(mp);

		if (n > 0 && depth >= c->lim.max_depth) {
			hit(c, AB_MAIL_LIMIT_DEPTH,
			    "mail: MIME nesting deeper than max_depth %zu; deeper parts skipped",
			    c->lim.max_depth);
			return;
		}
		for (i = 0; i < n && !c->stop && !c->nomem; i++)
			walk(c, g_mime_multipart_get_part(mp, i), depth + 1);
		return;
	}
	add_leaf(c, obj);
}

static bool ieq(const char *a, const char *b)
{
	return a && b && strcasecmp(a, b) == 0;
}

static bool is_utf8_charset(const char *cs)
{
	return ieq(cs, "utf-8") || ieq(cs, "utf8") || ieq(cs, "us-ascii") || ieq(cs, "ascii");
}

static bool text_like(const char *type, const char *sub)
{
	size_t l;

	if (!type || !sub)
		return false;
	if (ieq(type, "text"))
		return true;
	if (ieq(type, "application") && (ieq(sub, "json") || ieq(sub, "xml")))
		return true;
	l = strlen(sub);
	return (l > 4 && strcasecmp(sub + l - 4, "+xml") == 0) ||
		(l > 5 && strcasecmp(sub + l - 5, "+json") == 0);
}

/*
 * Decode a leaf part's content (transfer encoding, then charset cs to UTF-8
 * unless cs is NULL) in chunks.  Up to dst->max bytes go to dst (dst may be NULL to
 * only count); *size gets the full decoded size.
 */
static void read_content(GMimePart *part, const char *cs, struct ab_buf *dst, size_t *size)
{
	GMimeDataWrapper *dw = g_mime_part_get_content(part);
	GMimeStream *src, *fs;
	GMimeContentEncoding enc;
	char chunk[READ_CHUNK];
	ssize_t n;

	*size = 0;
	if (!dw || !(src = g_mime_data_wrapper_get_stream(dw)))
		return;
	if (g_mime_stream_reset(src) < 0)
		return;
	fs = g_mime_stream_filter_new(src);
	enc = g_mime_data_wrapper_get_encoding(dw);
	if (enc == GMIME_CONTENT_ENCODING_BASE64 || enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    enc == GMIME_CONTENT_ENCODING_UUENCODE) {
		GMimeFilter *f = g_mime_filter_basic_new(enc, FALSE);

		g_mime_stream_filter_add(GMIME_STREAM_FILTER(fs), f);
		g_object_unref(f);
	}
	if (cs && *cs && !is_utf8_charset(cs)) {
		/* unknown charsets stay as they are; invalid UTF-8 is replaced later */
		GMimeFilter *f = g_mime_filter_charset_new(cs, "UTF-8");

		if (f) {
			g_mime_stream_filter_add(GMIME_STREAM_FILTER(fs), f);
			g_object_unref(f);
		}
	}
	while ((n = g_mime_stream_read(fs, chunk, sizeof(chunk))) > 0) {
		*size += (size_t)n;
		if (dst && !dst->overflow)
			(void)ab_buf_append_trunc(dst, chunk, (size_t)n);
	}
	g_object_unref(fs);
}

static bool is_xml(GMimeContentType *ct)
{
	const char *type = ct ? g_mime_content_type_get_media_type(ct) : NULL;
	const char *sub = ct ? g_mime_content_type_get_media_subtype(ct) : NULL;
	size_t l = sub ? strlen(sub) : 0;

	return type && sub && (ieq(sub, "xml") || (l > 4 && strcasecmp(sub + l - 4, "+xml") == 0));
}

/*
 * The charset to convert from: the Content-Type parameter, or for XML without
 * one the encoding named in the XML declaration (copied into sniff).
 */
static const char *part_charset(GMimePart *part, char sniff[64])
{
	const char *cs = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
	struct ab_buf head = AB_BUF_INIT(256);
	const char *p, *end, *q;
	size_t size;
	char quote;

	if (cs && *cs)
		return cs;
	if (!is_xml(g_mime_object_get_content_type(GMIME_OBJECT(part))))
		return NULL;
	read_content(part, NULL, &head, &size);
	p = ab_buf_cstr(&head);
	if (strncmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	if (strncmp(p, "<?xml", 5) != 0 || !(end = strstr(p, "?>")) ||
	    !(p = strstr(p, "encoding")) || p > end) {
		ab_buf_free(&head);
		return NULL;
	}
	p += 8;
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (*p++ != '=') {
		ab_buf_free(&head);
		return NULL;
	}
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	quote = *p++;
	q = (quote == '"' || quote == '\'') ? strchr(p, quote) : NULL;
	if (!q || q > end || q == p || (size_t)(q - p) >= 64) {
		ab_buf_free(&head);
		return NULL;
	}
	memcpy(sniff, p, (size_t)(q - p));
	sniff[q - p] = '\0';
	ab_buf_free(&head);
	return sniff;
}

/* Decode part and clean it into a malloc'd string within the budget. */
static char *take_text(struct ctx *c, GMimePart *part, size_t *outlen, size_t *size,
		       bool *cut, const char *what)
{
	struct ab_buf raw = AB_BUF_INIT(c->budget), clean = AB_BUF_INIT(c->budget);
	char *r;

	*cut = false;
	read_content(part, part_charset(part, c->sniff), &raw, size);
	if (raw.overflow)
		*cut = true;
	if (raw.len && !ab_utf8_valid(raw.data, raw.len))
		c->m->n_bad_utf8++;
	if (ab_utf8_clean(&clean, raw.data ? raw.data : "", raw.len, false) < 0) {
		if (!clean.overflow) {
			c->nomem = true;
			ab_buf_free(&raw);
			ab_buf_free(&clean);
			return NULL;
		}
		*cut = true;
	}
	ab_buf_free(&raw);
	if (*cut)
		hit(c, AB_MAIL_LIMIT_DECODED, "mail: decoded content over max_decoded %zu; %s cut",
		    c->lim.max_decoded, what);
	*outlen = clean.len;
	c->budget -= clean.len <= c->budget ? clean.len : c->budget;
	r = ab_buf_steal(&clean);
	if (!r)
		c->nomem = true;
	return r;
}

static void take_attachment(struct ctx *c, GMimeObject *obj)
{
	struct ab_mail *m = c->m;
	struct ab_mail_attachment *a, *na;
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	const char *type = ct ? g_mime_content_type_get_media_type(ct) : NULL;
	const char *sub = ct ? g_mime_content_type_get_media_subtype(ct) : NULL;
	struct ab_buf tb = AB_BUF_INIT(256);

	na = realloc(m->attachments, (m->n_attachments + 1) * sizeof(*na));
	if (!na) {
		c->nomem = true;
		return;
	}
	m->attachments = na;
	a = &na[m->n_attachments++];
	memset(a, 0, sizeof(*a));

	(void)ab_buf_printf(&tb, "%.100s/%.100s", type ? type : "application",
			    sub ? sub : "octet-stream");
	a->content_type = clean_dup(c, ab_buf_cstr(&tb), 256, true, NULL);
	ab_buf_free(&tb);
	if (a->content_type) {
		char *p;

		for (p = a->content_type; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
	}
	if (!GMIME_IS_PART(obj))      /* message/rfc822 and the like: type only */
		return;
	a->filename = clean_dup(c, g_mime_part_get_filename(GMIME_PART(obj)),
				AB_MAIL_MAX_FILENAME, true, NULL);
	if (text_like(type, sub) && !c->nomem)
		a->content = take_text(c, GMIME_PART(obj), &a->content_len, &a->size,
				       &a->truncated, "attachment");
	else
		read_content(GMIME_PART(obj), NULL, NULL, &a->size);
}

/* Is this leaf the message body (inline, no file name, text/plain or html)? */
static int body_kind(GMimeObject *obj)
{
	GMimeContentDisposition *cd;

	if (!GMIME_IS_PART(obj))
		return 0;
	cd = g_mime_object_get_content_disposition(obj);
	if (cd && g_mime_content_disposition_is_attachment(cd))
		return 0;
	if (g_mime_part_get_filename(GMIME_PART(obj)))
		return 0;
	if (g_mime_content_type_is_type(g_mime_object_get_content_type(obj), "text", "plain"))
		return 1;
	if (g_mime_content_type_is_type(g_mime_object_get_content_type(obj), "text", "html"))
		return 2;
	return 0;
}

/* ------------------------------------------------------------ links */

static bool has_link(const struct ab_mail *m, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < m->n_links; i++)
		if (strlen(m->links[i]) == n && memcmp(m->links[i], s, n) == 0)
			return true;
	return false;
}

static void add_link(struct ctx *c, const char *s, size_t n)
{
	char *d;

	if (n == 0 || n > AB_HTML_MAX_LINK || c->m->n_links >= AB_MAIL_MAX_LINKS ||
	    has_link(c->m, s, n))
		return;
	d = strndup(s, n);
	if (push_str(&c->m->links, &c->m->n_links, d) < 0)
		c->nomem = true;
}

static bool url_end(unsigned char ch)
{
	return ch <= 0x20 || ch == 0x7f || ch == '<' || ch == '>' || ch == '"' || ch == '\'' ||
		ch == '`' || ch == '{' || ch == '}' || ch == '|' || ch == '\\' || ch == '^';
}

/* Bare http(s) URLs in text. */
static void scan_links(struct ctx *c, const char *text)
{
	const char *p = text;

	while ((p = strcasestr(p, "http")) != NULL && c->m->n_links < AB_MAIL_MAX_LINKS &&
	       !c->nomem) {
		const char *q;
		size_t skip;

		if (strncasecmp(p, "http://", 7) == 0)
			skip = 7;
		else if (strncasecmp(p, "https://", 8) == 0)
			skip = 8;
		else {
			p += 4;
			continue;
		}
		q = p + skip;
		while (*q && !url_end((unsigned char)*q))
			q++;
		while (q > p + skip && strchr(".,;:!?)]*", q[-1]))
			q--;
		if (q > p + skip)
			add_link(c, p, (size_t)(q - p));
		p = q > p + skip ? q : p + skip;
	}
}

/* ------------------------------------------------------------ body */

static void take_body(struct ctx *c)
{
	struct ab_mail *m = c->m;
	GMimePart *text = NULL, *html = NULL;
	bool *is_body;
	size_t i, size;
	bool cut;

	is_body = calloc(c->n_leaves ? c->n_leaves : 1, sizeof(*is_body));
	if (!is_body) {
		c->nomem = true;
		return;
	}
	for (i = 0; i < c->n_leaves; i++) {
		int k = body_kind(c->leaves[i]);

		if (k == 1 && !text) {
			text = GMIME_PART(c->leaves[i]);
			is_body[i] = true;
		} else if (k == 2 && !html) {
			html = GMIME_PART(c->leaves[i]);
			is_body[i] = true;
		}
	}
	if (text)
		m->text = take_text(c, text, &m->text_len, &size, &cut, "text body");
	if (html && !c->nomem)
		m->html = take_text(c, html, &m->html_len, &size, &cut, "html body");
	if (m->html && !c->nomem) {
		/* links always; the text too when there is no text/plain part */
		struct ab_buf hb = AB_BUF_INIT(text ? m->html_len + 1 : c->budget);
		char **links = NULL;
		size_t n_links = 0, j;
		int r = ab_html_to_text(m->html, m->html_len, &hb, &links, &n_links,
					AB_MAIL_MAX_LINKS);

		for (j = 0; j < n_links; j++)
			add_link(c, links[j], strlen(links[j]));
		ab_html_links_free(links, n_links);
		if (!text && r >= 0) {
			struct ab_buf tb = AB_BUF_INIT(c->budget);

			if (r == 1)
				hit(c, AB_MAIL_LIMIT_DECODED,
				    "mail: decoded content over max_decoded %zu; text of html cut",
				    c->lim.max_decoded);
			if (ab_utf8_clean(&tb, ab_buf_cstr(&hb), hb.len, false) < 0 && !tb.overflow)
				c->nomem = true;
			m->text_len = tb.len;
			m->text = ab_buf_steal(&tb);
			m->text_from_html = true;
			c->budget -= m->text_len <= c->budget ? m->text_len : c->budget;
		}
		ab_buf_free(&hb);
	}
	if (!m->text && !c->nomem) {
		m->text = strdup("");
		m->text_len = 0;
	}
	if (!m->text)
		c->nomem = true;
	else
		scan_links(c, m->text);
	for (i = 0; i < m->n_links; i++) {
		if (strncasecmp(m->links[i], "http", 4) == 0) {
			m->url = m->links[i];
			break;
		}
	}
	for (i = 0; i < c->n_leaves && !c->nomem; i++)
		if (!is_body[i])
			take_attachment(c, c->leaves[i]);
	free(is_body);
}

/* ------------------------------------------------------------ API */

void ab_mail_free(struct ab_mail *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->n_headers; i++) {
		free(m->headers[i].name);
		free(m->headers[i].value);
	}
	free(m->headers);
	free(m->subject);
	free(m->from);
	free_strv(m->to, m->n_to);
	free(m->message_id);
	free_strv(m->auth_results, m->n_auth_results);
	free(m->text);
	free(m->html);
	free_strv(m->links, m->n_links);
	for (i = 0; i < m->n_attachments; i++) {
		free(m->attachments[i].filename);
		free(m->attachments[i].content_type);
		free(m->attachments[i].content);
	}
	free(m->attachments);
	free(m);
}

const char *ab_mail_header(const struct ab_mail *m, const char *name)
{
	size_t i;

	if (!m || !name)
		return NULL;
	for (i = 0; i < m->n_headers; i++)
		if (strcasecmp(m->headers[i].name, name) == 0)
			return m->headers[i].value;
	return NULL;
}

static GMimeMessage *construct(const char *raw, size_t len, GMimeParserOptions *opts,
			       bool close_headers)
{
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;

	stream = g_mime_stream_mem_new_with_buffer(raw, len);
	if (close_headers) {
		g_mime_stream_seek(stream, 0, GMIME_STREAM_SEEK_END);
		g_mime_stream_write(stream, "\n\n", 2);
		g_mime_stream_reset(stream);
	}
	parser = g_mime_parser_new_with_stream(stream);
	g_object_unref(stream);
	msg = g_mime_parser_construct_message(parser, opts);
	g_object_unref(parser);
	return msg;
}

int ab_mail_parse(const char *raw, size_t len, const struct ab_mail_limits *lim,
		  struct ab_mail **out, char *err, size_t errsz)
{
	static const char *fallback[] = { "UTF-8", "windows-1252", NULL };
	struct ctx c;
	GMimeParserOptions *opts;
	GMimeMessage *msg;

	if (err && errsz)
		err[0] = '\0';
	if (!out)
		return -1;
	*out = NULL;
	if (!raw || len == 0) {
		seterr(err, errsz, "mail: empty message");
		return -1;
	}
	memset(&c, 0, sizeof(c));
	ab_mail_limits_default(&c.lim);
	if (lim) {
		if (lim->max_message)
			c.lim.max_message = lim->max_message;
		if (lim->max_header)
			c.lim.max_header = lim->max_header;
		if (lim->max_depth)
			c.lim.max_depth = lim->max_depth;
		if (lim->max_parts)
			c.lim.max_parts = lim->max_parts;
		if (lim->max_decoded)
			c.lim.max_decoded = lim->max_decoded;
	}
	if (c.lim.max_depth > DEPTH_HARD_MAX)
		c.lim.max_depth = DEPTH_HARD_MAX;
	c.budget = c.lim.max_decoded;
	c.err = err;
	c.errsz = errsz;
	c.m = calloc(1, sizeof(*c.m));
	if (!c.m) {
		seterr(err, errsz, "mail: out of memory");
		return -1;
	}
	if (len > c.lim.max_message) {
		hit(&c, AB_MAIL_LIMIT_MESSAGE,
		    "mail: message of %zu bytes over max_message %zu; only the start parsed",
		    len, c.lim.max_message);
		len = c.lim.max_message;
	}

	pthread_once(&gmime_once, gmime_init);
	opts = g_mime_parser_options_new();
	g_mime_parser_options_set_rfc2047_compliance_mode(opts, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_fallback_charsets(opts, fallback);
	msg = construct(raw, len, opts, false);
	if (!msg)   /* cut inside the header block (or no end of it): close it */
		msg = construct(raw, len, opts, true);
	if (!msg) {
		g_mime_parser_options_free(opts);
		ab_mail_free(c.m);
		seterr(err, errsz, "mail: not a mail message (no header block found)");
		return -1;
	}

	take_headers(&c, msg);
	if (!c.nomem)
		take_envelope(&c, msg);
	if (!c.nomem)
		walk(&c, g_mime_message_get_mime_part(msg), 0);
	if (!c.nomem)
		take_body(&c);

	free(c.leaves);
	g_object_unref(msg);
	g_mime_parser_options_free(opts);
	if (c.nomem) {
		ab_mail_free(c.m);
		seterr(err, errsz, "mail: out of memory");
		return -1;
	}
	*out = c.m;
	return c.m->limit != AB_MAIL_LIMIT_NONE ? 1 : 0;
}
