/*
 * html.c - HTML to plain text with libxml2's HTML parser.
 *
 * Public: ab_html_to_text, ab_html_links_free, ab_html_link_ok.
 * Diagnostics: none; callers see -1 (unparsable input or no memory) or 1
 *         (text cut at the buffer's cap).
 *
 * The input is untrusted mail content, already UTF-8 (IGNORE_ENC: a <meta
 * charset> in it is not obeyed again).  It is parsed with NONET (no network),
 * without NOENT/DTDLOAD (no entity expansion from outside), errors and
 * warnings silenced, in recovery mode.  The tree walk is iterative and
 * skips anything deeper than AB_HTML_MAX_DEPTH; output is bounded by the
 * caller's ab_buf and by max_links.
 */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "lib/buf.h"
#include "parse/html.h"
#include "lib/utf8.h"

#define MAX_NL 2        /* at most one blank line in a row */

struct emit {
	struct ab_buf *b;
	size_t start;           /* b->len when we began: never trim before it */
	int pending_nl;
	bool pending_sp;
	int pre;                /* inside <pre> */
	bool cut;               /* the buffer's cap was hit */
	size_t th_start;        /* b->len when the last <th> began */
	size_t row_start;       /* b->len when the last <tr> began */
	char **links;
	size_t n_links, max_links;
	bool nomem;
};

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
	xmlInitParser();
}

bool ab_html_link_ok(const char *url)
{
	return url && (strncasecmp(url, "http://", 7) == 0 ||
		       strncasecmp(url, "https://", 8) == 0 ||
		       strncasecmp(url, "mailto:", 7) == 0);
}

void ab_html_links_free(char **links, size_t n)
{
	size_t i;

	if (!links)
		return;
	for (i = 0; i < n; i++)
		free(links[i]);
	free(links);
}

static const char *const skip_tags[] = {
	"head", "title", "script", "style", "noscript", "template", NULL
};
/* Elements that end a paragraph (blank line) and ones that end a line. */
static const char *const para_tags[] = {
	"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "pre", "blockquote", NULL
};
static const char *const line_tags[] = {
	"div", "tr", "li", "hr", "section", "article", "header", "footer", "ul", "ol",
	"dl", "dt", "dd", "form", "fieldset", "address", "center", "main", "nav",
	"aside", "figure", "figcaption", "thead", "tbody", "tfoot", "caption",
	"details", "summary", "body", NULL
};

static bool in_list(const char *name, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(name, *list) == 0)
			return true;
	return false;
}

static bool is_cell(const xmlNode *n)
{
	return n->type == XML_ELEMENT_NODE && n->name &&
		(strcmp((const char *)n->name, "td") == 0 ||
		 strcmp((const char *)n->name, "th") == 0);
}

static bool is_elem(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->name &&
		strcmp((const char *)n->name, name) == 0;
}

/* The next element among n's siblings, or NULL. */
static const xmlNode *next_elem(const xmlNode *n)
{
	for (n = n->next; n && n->type != XML_ELEMENT_NODE; n = n->next)
		;
	return n;
}

/* Append as valid UTF-8 (libxml2 passes invalid input through); when the
 * cap is reached keep what fits, cut on a character boundary. */
static void out(struct emit *e, const char *p, size_t n)
{
	if (e->cut || n == 0)
		return;
	if (ab_utf8_clean(e->b, p, n, false) < 0) {
		e->cut = true;
		if (e->b->oom || !e->b->overflow)
			e->nomem = true;
	}
}

static void trim_spaces(struct emit *e)
{
	struct ab_buf *b = e->b;

	while (b->len > e->start && (b->data[b->len - 1] == ' ' || b->data[b->len - 1] == '\t'))
		b->data[--b->len] = '\0';
}

static void want_nl(struct emit *e, int n)
{
	if (e->pending_nl < n)
		e->pending_nl = n;
}

/* Emit pending breaks/space before a visible character. */
static void flush(struct emit *e)
{
	struct ab_buf *b = e->b;

	if (e->pending_nl) {
		if (b->len > e->start) {
			int have = 0, i;

			trim_spaces(e);
			/* count newlines already at the end */
			while ((size_t)have < b->len - e->start && have < MAX_NL &&
			       b->data[b->len - 1 - (size_t)have] == '\n')
				have++;
			for (i = have; i < e->pending_nl; i++)
				out(e, "\n", 1);
		}
		e->pending_nl = 0;
		e->pending_sp = false;
	} else if (e->pending_sp) {
		if (b->len > e->start && b->data[b->len - 1] != '\n' && b->data[b->len - 1] != ' ')
			out(e, " ", 1);
		e->pending_sp = false;
	}
}

static void put_text(struct emit *e, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p && !e->cut) {
		if (e->pre) {
			const unsigned char *q = p;

			flush(e);
			while (*q && *q != '\r')
				q++;
			out(e, (const char *)p, (size_t)(q - p));
			p = *q ? q + 1 : q;   /* drop CR */
			continue;
		}
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' ||
		    *p == '\v') {
			e->pending_sp = true;
			p++;
		} else if (p[0] == 0xc2 && p[1] == 0xa0) {   /* U+00A0 */
			e->pending_sp = true;
			p += 2;
		} else {
			const unsigned char *q = p;

			flush(e);
			while (*q && *q != ' ' && *q != '\t' && *q != '\n' && *q != '\r' &&
			       *q != '\f' && *q != '\v' && !(q[0] == 0xc2 && q[1] == 0xa0))
				q++;
			out(e, (const char *)p, (size_t)(q - p));
			p = q;
		}
	}
}

static void add_link(struct emit *e, const char *href)
{
	const char *s = href, *end;
	size_t n, i;
	char *copy, **nl;

	if (!e->links && e->max_links == 0)
		return;
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		end--;
	n = (size_t)(end - s);
	if (n == 0 || n > AB_HTML_MAX_LINK || e->n_links >= e->max_links)
		return;
	for (i = 0; i < n; i++)     /* no control characters inside a URL */
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return;
	if (!ab_utf8_valid(s, n))
		return;
	copy = strndup(s, n);
	if (!copy) {
		e->nomem = true;
		return;
	}
	if (!ab_html_link_ok(copy)) {
		free(copy);
		return;
	}
	for (i = 0; i < e->n_links; i++) {
		if (strcmp(e->links[i], copy) == 0) {
			free(copy);
			return;
		}
	}
	nl = realloc(e->links, (e->n_links + 1) * sizeof(*nl));
	if (!nl) {
		free(copy);
		e->nomem = true;
		return;
	}
	e->links = nl;
	e->links[e->n_links++] = copy;
}

/* Returns true when the walk should descend into the node's children. */
static bool enter(struct emit *e, xmlNode *n, bool want_links)
{
	const char *name;

	if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
		if (n->content)
			put_text(e, (const char *)n->content);
		return false;
	}
	if (n->type != XML_ELEMENT_NODE || !n->name)
		return false;
	name = (const char *)n->name;
	if (in_list(name, skip_tags))
		return false;
	if (strcmp(name, "br") == 0) {
		/* each <br> is one line break, so <br><br> leaves a blank line */
		if (e->pending_nl < MAX_NL && e->b->len > e->start)
			e->pending_nl++;
		return false;
	}
	if (is_cell(n)) {
		const xmlNode *p;

		for (p = n->prev; p && p->type != XML_ELEMENT_NODE; p = p->prev)
			;
		if (p && is_cell(p)) {
			if (e->b->len == e->row_start)
				flush(e);       /* empty cells so far: the row's line break */
			e->pending_nl = 0;
			e->pending_sp = false;
			trim_spaces(e);
			out(e, " | ", 3);
		}
		if (is_elem(n, "th"))
			e->th_start = e->b->len;
		return true;
	}
	if (in_list(name, para_tags)) {
		want_nl(e, 2);
		if (strcmp(name, "pre") == 0)
			e->pre++;
	} else if (in_list(name, line_tags)) {
		want_nl(e, 1);
		if (strcmp(name, "tr") == 0)
			e->row_start = e->b->len;
		if (strcmp(name, "li") == 0) {
			flush(e);
			out(e, "- ", 2);
		}
	}
	if (want_links && strcmp(name, "a") == 0) {
		xmlChar *href = xmlGetProp(n, (const xmlChar *)"href");

		if (href) {
			add_link(e, (const char *)href);
			xmlFree(href);
		}
	}
	return true;
}

static void leave(struct emit *e, xmlNode *n)
{
	const char *name;

	if (n->type != XML_ELEMENT_NODE || !n->name)
		return;
	name = (const char *)n->name;
	if (strcmp(name, "th") == 0 && is_elem(next_elem(n), "td")) {
		/* a row header before its value: "Key: | value" for key: value readers */
		struct ab_buf *b = e->b;

		if (b->len > e->th_start && b->len > e->start && b->data[b->len - 1] != ':' &&
		    b->data[b->len - 1] != '\n')
			out(e, ":", 1);
		return;
	}
	if (in_list(name, para_tags)) {
		want_nl(e, 2);
		if (strcmp(name, "pre") == 0 && e->pre > 0)
			e->pre--;
	} else if (in_list(name, line_tags)) {
		want_nl(e, 1);
	}
}

int ab_html_to_text(const char *html, size_t len, struct ab_buf *text,
		    char ***links, size_t *n_links, size_t max_links)
{
	struct emit e;
	htmlDocPtr doc;
	xmlNode *root, *n;
	int depth = 0;

	if (links)
		*links = NULL;
	if (n_links)
		*n_links = 0;
	if (!html || !text || len > INT_MAX || (links && !n_links))
		return -1;
	pthread_once(&xml_once, xml_init);
	/* IGNORE_ENC: the text is UTF-8 whatever a <meta charset> in it says */
	doc = htmlReadMemory(html, (int)len, NULL, "UTF-8",
			     HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
			     HTML_PARSE_RECOVER | HTML_PARSE_NOBLANKS | HTML_PARSE_IGNORE_ENC);
	if (!doc)
		return len == 0 ? 0 : -1;

	memset(&e, 0, sizeof(e));
	e.b = text;
	e.start = text->len;
	e.max_links = links ? max_links : 0;

	root = xmlDocGetRootElement(doc);
	n = root;
	while (n && !e.cut && !e.nomem) {
		if (enter(&e, n, links != NULL) && n->children && depth < AB_HTML_MAX_DEPTH) {
			n = n->children;
			depth++;
			continue;
		}
		for (;;) {
			leave(&e, n);
			if (n == root) {
				n = NULL;
				break;
			}
			if (n->next) {
				n = n->next;
				break;
			}
			n = n->parent;
			depth--;
		}
	}
	xmlFreeDoc(doc);

	/* drop trailing blanks; a pending break at the end is not written */
	while (text->len > e.start && (text->data[text->len - 1] == ' ' ||
				      text->data[text->len - 1] == '\n' ||
				      text->data[text->len - 1] == '\t'))
		text->data[--text->len] = '\0';

	if (e.nomem) {
		ab_html_links_free(e.links, e.n_links);
		return -1;
	}
	if (links) {
		*links = e.links;
		*n_links = e.n_links;
	}
	return e.cut ? 1 : 0;
}
