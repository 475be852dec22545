/*
 * html.h - HTML to plain text (libxml2's HTML parser), with link collection.
 *
 * Used on HTML-only alert mails so that profiles can run their regexes and
 * key: value extractors over readable text.
 */
#ifndef AB_PARSE_HTML_H
#define AB_PARSE_HTML_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

#define AB_HTML_MAX_DEPTH 256      /* deeper elements are skipped */
#define AB_HTML_MAX_LINK 2048      /* longer hrefs are ignored */

/*
 * Convert html[0..len) (UTF-8) to text appended to *text:
 *  - block elements (p, div, br, tr, li, h1-h6, table, pre, blockquote, hr,
 *    section, article, header, footer, ...) become line breaks, at most one
 *    blank line in a row; li items start with "- ";
 *  - table cells of a row are separated by " | "; a <th> followed by a
 *    <td> in its row is a key: it ends with ":" ("Severity: | High"), so
 *    that "Key: value" readers find it;
 *  - head, title, script, style, noscript and template are dropped;
 *  - whitespace (and U+00A0) is collapsed outside <pre>; entities decoded;
 *  - a[href] with an http, https or mailto URL is collected into *links
 *    (deduplicated, at most max_links; link text stays in the text).
 * links may be NULL when the caller does not want them; otherwise *links
 * and *n_links are set (the array is malloc'd, free with
 * ab_html_links_free(); NULL when empty).
 * Returns 0, 1 if the text was cut at text->max (what fits is kept) or
 * -1 on error (bad arguments, out of memory, unparsable input).
 */
int ab_html_to_text(const char *html, size_t len, struct ab_buf *text,
		    char ***links, size_t *n_links, size_t max_links);

void ab_html_links_free(char **links, size_t n);

/* True for "http://", "https://" and "mailto:" URLs (case-insensitive). */
bool ab_html_link_ok(const char *url);

#endif
