/*
 * fuzz_html.c - libFuzzer target for the HTML-to-text converter
 * (ab_html_to_text() in src/parse/html.c).
 *
 * Public: LLVMFuzzerTestOneInput.  Each input is converted twice with links
 * on: into a roomy buffer (up to AB_MAIL_MAX_LINKS links) and into a small
 * buffer that already holds a prefix, with a cap and a link limit that
 * depend on the input size so that every cut position is reachable.
 * Checks: the text is valid UTF-8 without NUL, CR or control characters
 * other than TAB and LF, has no trailing blanks and fits the cap; return
 * codes agree with the buffer (1 only when the cap was hit, -1 only with no
 * text and no links) and between the two runs; the small run leaves the
 * prefix alone and its text and links are prefixes of the roomy run's;
 * links pass ab_html_link_ok(), are valid UTF-8 without control
 * characters, at most AB_HTML_MAX_LINK bytes, unique, and no more than
 * max_links.
 * Diagnostics: abort() on a broken invariant.  Seeds: tests/fuzz/corpus/html/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "parse/html.h"
#include "parse/mail.h"
#include "lib/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BIG_MAX (1024u * 1024)
#define PREFIX "> "

static void check_text(const struct ab_buf *b, size_t start, int rc)
{
	const char *s = ab_buf_cstr(b) + start;
	size_t n = b->len - start, i;

	if (b->len > b->max || strlen(ab_buf_cstr(b)) != b->len)
		abort();
	if (!ab_utf8_valid(s, n))
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 && s[i] != '\t' && s[i] != '\n')
			abort();
	if (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n'))
		abort();
	if (rc == 1 && !b->overflow)
		abort();
	if (rc == 0 && b->overflow)
		abort();
}

static void check_links(char **links, size_t n, size_t max, int rc)
{
	size_t i, k, len;

	if (rc < 0 && (links || n))
		abort();
	if (n > max || (n == 0) != (links == NULL))
		abort();
	for (i = 0; i < n; i++) {
		if (!links[i] || !ab_html_link_ok(links[i]))
			abort();
		len = strlen(links[i]);
		if (len == 0 || len > AB_HTML_MAX_LINK || !ab_utf8_valid(links[i], len))
			abort();
		for (k = 0; k < len; k++)
			if ((unsigned char)links[i][k] < 0x20 || links[i][k] == 0x7f)
				abort();
		for (k = 0; k < i; k++)
			if (strcmp(links[k], links[i]) == 0)
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ab_buf big = AB_BUF_INIT(BIG_MAX), small;
	size_t small_max = sizeof(PREFIX) - 1 + 1 + size % 509, small_links = size % 5;
	size_t nb = 0, ns = 0, i, plen = sizeof(PREFIX) - 1;
	char **lb = NULL, **ls = NULL;
	int rb, rs;

	ab_buf_init(&small, small_max);
	if (ab_buf_puts(&small, PREFIX) < 0)
		abort();
	rb = ab_html_to_text((const char *)data, size, &big, &lb, &nb, AB_MAIL_MAX_LINKS);
	rs = ab_html_to_text((const char *)data, size, &small, &ls, &ns, small_links);
	if (rb < -1 || rb > 1 || rs < -1 || rs > 1)
		abort();
	check_text(&big, 0, rb);
	check_text(&small, plen, rs);
	check_links(lb, nb, AB_MAIL_MAX_LINKS, rb);
	check_links(ls, ns, small_links, rs);
	/* Parse failures do not depend on the buffer; memory is not short here. */
	if ((rb < 0) != (rs < 0))
		abort();
	if (memcmp(ab_buf_cstr(&small), PREFIX, plen) != 0)
		abort();
	if ((rb < 0 && big.len != 0) || (rs == 0 && rb == 1))
		abort();
	if (rb == 0) {
		/* The small run stops where its cap was hit: what it has is the
		 * start of the roomy run's text and links. */
		if (small.len - plen > big.len ||
		    memcmp(ab_buf_cstr(&small) + plen, ab_buf_cstr(&big), small.len - plen) != 0)
			abort();
		if (rs == 0 && (small.len - plen != big.len ||
				ns != (nb < small_links ? nb : small_links)))
			abort();
		for (i = 0; i < ns; i++)
			if (i >= nb || strcmp(ls[i], lb[i]) != 0)
				abort();
	}
	ab_html_links_free(lb, nb);
	ab_html_links_free(ls, ns);
	ab_buf_free(&big);
	ab_buf_free(&small);
	return 0;
}
