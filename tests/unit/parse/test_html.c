/*
 * test_html.c - unit tests for src/parse/html.c (HTML to text, links).
 *
 * Public: main (one cmocka group).
 * Diagnostics: cmocka assertions; TAP with CMOCKA_MESSAGE_OUTPUT=TAP.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "lib/buf.h"
#include "parse/html.h"

/* The text must be valid UTF-8 (jansson refuses anything else). */
static void assert_utf8(const char *s)
{
	json_t *j = json_string(s);

	assert_non_null(j);
	json_decref(j);
}

/* Convert html and return the malloc'd text; links optional. */
static char *conv(const char *html, size_t max, int want_rc, char ***links, size_t *n_links,
		  size_t max_links)
{
	struct ab_buf b = AB_BUF_INIT(max);
	int rc = ab_html_to_text(html, strlen(html), &b, links, n_links, max_links);
	char *s;

	assert_int_equal(rc, want_rc);
	s = ab_buf_steal(&b);
	assert_non_null(s);
	assert_utf8(s);
	return s;
}

struct text_case {
	const char *html;
	const char *want;
};

static const struct text_case text_cases[] = {
	/* whitespace collapsed, inline elements joined */
	{ "<p>  Found   <b>3</b>\n\t issues  </p>", "Found 3 issues" },
	/* entities and U+00A0 */
	{ "<div>a&nbsp;&amp;&nbsp;b &lt;x&gt; &eacute;t&eacute; &#x20AC;</div>",
	  "a & b <x> \xc3\xa9t\xc3\xa9 \xe2\x82\xac" },
	/* block elements end lines; paragraphs leave one blank line */
	{ "<div>one</div><div>two</div><p>three</p><p>four</p>", "one\ntwo\n\nthree\n\nfour" },
	{ "<h1>Title</h1>body<hr>after", "Title\n\nbody\nafter" },
	{ "<section>s</section><article>a</article><header>h</header><footer>f</footer>",
	  "s\na\nh\nf" },
	/* br: one break each, at most one blank line */
	{ "a<br>b<br><br>c<br><br><br><br>d", "a\nb\n\nc\n\nd" },
	{ "<br><br>lead", "lead" },
	/* lists */
	{ "<ul><li>one</li><li>two</li></ul>", "- one\n- two" },
	/* tables: cells of a row joined with " | ", rows on lines */
	{ "<table><tr><th>Host</th><th>Sev</th></tr><tr><td>10.0.0.1</td><td>High</td></tr>"
	  "</table>after", "Host | Sev\n10.0.0.1 | High\n\nafter" },
	{ "<table><tr><td> a </td>\n<td></td><td>c</td></tr></table>", "a | | c" },
	/* a <th> before a <td> is a key: "Key: | value" (a colon is not doubled) */
	{ "<table><tr><th>Risk</th><td>High</td></tr><tr><th>Sev: </th><td>x</td></tr>"
	  "<tr><th> <b>Host</b>&nbsp;</th><!-- c -->\n<td>web-01</td><td>2</td></tr></table>",
	  "Risk: | High\nSev: | x\nHost: | web-01 | 2" },
	/* header rows of <th> only, and an empty <th>, get no colon */
	{ "<table><tr><th>Host</th><th>Sev</th></tr><tr><td>h1</td><td>High</td></tr>"
	  "<tr><th></th><td>v</td></tr></table>", "Host | Sev\nh1 | High\n | v" },
	{ "<table><tr><th><p>Key</p></th><td>v</td></tr></table>", "Key: | v" },
	/* named and numeric entities */
	{ "<p>a &amp; b&nbsp;c &#8211; &eacute;t&eacute; &#x2014; &lt;&gt; &quot;q&quot;</p>",
	  "a & b c \xe2\x80\x93 \xc3\xa9t\xc3\xa9 \xe2\x80\x94 <> \"q\"" },
	/* the text is UTF-8 already: a <meta charset> in it is not obeyed */
	{ "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; "
	  "charset=iso-8859-1\"></head><body><p>caf\xc3\xa9</p></body></html>", "caf\xc3\xa9" },
	{ "<meta charset=\"windows-1252\"><p>\xe2\x80\x9cq\xe2\x80\x9d</p>",
	  "\xe2\x80\x9cq\xe2\x80\x9d" },
	/* dropped elements */
	{ "<html><head><title>T</title><style>p{color:red}</style></head><body>"
	  "<script>var x = 'hidden';</script>shown<noscript>no</noscript></body></html>", "shown" },
	/* pre keeps its spacing */
	{ "<pre>  a   b\n  c</pre>", "  a   b\n  c" },
	{ "<blockquote>q</blockquote>x", "q\n\nx" },
	/* broken markup is recovered */
	{ "<div><p>unclosed <b>bold<div>next", "unclosed bold\nnext" },
	{ "", "" },
	{ "plain text only", "plain text only" },
};

static void test_text_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(text_cases) / sizeof(text_cases[0]); i++) {
		char *s = conv(text_cases[i].html, 4096, 0, NULL, NULL, 0);

		if (strcmp(s, text_cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, s, text_cases[i].want);
		free(s);
	}
}

static void test_script_style_dropped(void **state)
{
	char *s;

	(void)state;
	s = conv("<html><head><style>body{font-family:Arial}</style>"
		 "<script>var tracking='do-not-show';</script></head>"
		 "<body><p>visible</p><script type=\"text/javascript\">alert(1)</script>"
		 "<style>.x{}</style></body></html>", 4096, 0, NULL, NULL, 0);
	assert_string_equal(s, "visible");
	assert_null(strstr(s, "tracking"));
	assert_null(strstr(s, "alert"));
	assert_null(strstr(s, "font-family"));
	free(s);
}

static void test_links(void **state)
{
	char **links = NULL;
	size_t n = 0;
	char *s;

	(void)state;
	s = conv("<p>See <a href=\" https://dd.example.com/finding/1 \">finding 1</a>, "
		 "<a href=\"HTTP://upper.example.com/\">up</a> "
		 "<a href=\"mailto:soc@example.com\">mail</a> "
		 "<a href=\"javascript:alert(1)\">js</a> <a href=\"ftp://x/\">ftp</a> "
		 "<a href=\"/relative\">rel</a> <a>no href</a> "
		 "<a href=\"https://dd.example.com/finding/1\">again</a></p>",
		 4096, 0, &links, &n, 10);
	/* link text stays */
	assert_non_null(strstr(s, "See finding 1, up mail js ftp rel no href again"));
	assert_int_equal(n, 3);
	assert_string_equal(links[0], "https://dd.example.com/finding/1");
	assert_string_equal(links[1], "HTTP://upper.example.com/");
	assert_string_equal(links[2], "mailto:soc@example.com");
	ab_html_links_free(links, n);
	free(s);
}

static void test_links_capped(void **state)
{
	struct ab_buf html = AB_BUF_INIT(100000);
	struct ab_buf b = AB_BUF_INIT(100000);
	char **links = NULL;
	size_t n = 0;
	int i;

	(void)state;
	for (i = 0; i < 100; i++)
		assert_int_equal(ab_buf_printf(&html, "<a href=\"https://h.example/%d\">l%d</a>", i, i), 0);
	assert_int_equal(ab_html_to_text(html.data, html.len, &b, &links, &n, 5), 0);
	assert_int_equal(n, 5);
	assert_string_equal(links[4], "https://h.example/4");
	ab_html_links_free(links, n);
	ab_buf_free(&html);
	ab_buf_free(&b);
}

static void test_link_ok(void **state)
{
	(void)state;
	assert_true(ab_html_link_ok("https://a"));
	assert_true(ab_html_link_ok("Http://a"));
	assert_true(ab_html_link_ok("MAILTO:x@y"));
	assert_false(ab_html_link_ok("javascript:x"));
	assert_false(ab_html_link_ok("data:text/html,x"));
	assert_false(ab_html_link_ok(NULL));
}

static void test_truncated_on_char_boundary(void **state)
{
	/* "é" is two bytes; a cap of 4 must not split the third one */
	char *s;

	(void)state;
	s = conv("<p>\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9</p>", 5, 1, NULL, NULL, 0);
	assert_string_equal(s, "\xc3\xa9\xc3\xa9");
	free(s);
}

static void test_appends_to_existing(void **state)
{
	struct ab_buf b = AB_BUF_INIT(100);

	(void)state;
	assert_int_equal(ab_buf_puts(&b, "prefix: "), 0);
	assert_int_equal(ab_html_to_text("<p> x </p><br>", 14, &b, NULL, NULL, 0), 0);
	assert_string_equal(ab_buf_cstr(&b), "prefix: x");
	ab_buf_free(&b);
}

static void test_deep_nesting(void **state)
{
	struct ab_buf html = AB_BUF_INIT(1 << 20);
	char *s;
	int i;

	(void)state;
	for (i = 0; i < 20000; i++)
		assert_int_equal(ab_buf_puts(&html, "<div><span>"), 0);
	assert_int_equal(ab_buf_puts(&html, "deep</span>"), 0);
	s = conv(html.data, 1 << 20, 0, NULL, NULL, 0);
	/* no crash and bounded output; deep content may be dropped */
	assert_true(strlen(s) < 1000);
	free(s);
	ab_buf_free(&html);
}

static void test_invalid_input(void **state)
{
	struct ab_buf b = AB_BUF_INIT(100);
	char **links = (char **)1;
	size_t n = 7;
	char *s;

	(void)state;
	assert_int_equal(ab_html_to_text(NULL, 0, &b, NULL, NULL, 0), -1);
	assert_int_equal(ab_html_to_text("x", 1, NULL, NULL, NULL, 0), -1);
	assert_int_equal(ab_html_to_text("x", 1, &b, &links, NULL, 0), -1);
	assert_int_equal(ab_html_to_text("<a href=x>", 10, &b, &links, &n, 0), 0);
	assert_null(links);
	assert_int_equal(n, 0);
	ab_buf_free(&b);
	/* invalid UTF-8 and binary junk still give valid UTF-8 */
	s = conv("<p>bad \xff\xfe \xc3\x28 bytes</p>\x01\x02<b>\x80</b>", 4096, 0, NULL, NULL, 0);
	assert_non_null(strstr(s, "bytes"));
	free(s);
	/* numeric references out of range: libxml2 checks them, the text stays UTF-8 */
	s = conv("<p>a&#99999999999999999999;b&#x110000;c&#0;d&#xD800;e&#-5;f&#1e90;end</p>",
		 4096, 0, NULL, NULL, 0);
	assert_non_null(strstr(s, "end"));
	assert_null(strchr(s, '\x01'));
	free(s);
	/* no external entities, no network */
	s = conv("<!DOCTYPE html [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><p>&x;</p>",
		 4096, 0, NULL, NULL, 0);
	assert_null(strstr(s, "root:"));
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_table),
		cmocka_unit_test(test_script_style_dropped),
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_links_capped),
		cmocka_unit_test(test_link_ok),
		cmocka_unit_test(test_truncated_on_char_boundary),
		cmocka_unit_test(test_appends_to_existing),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_invalid_input),
	};

	return cmocka_run_group_tests_name("html", tests, NULL, NULL);
}
