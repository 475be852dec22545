/*
 * test_mail.c - unit tests for src/parse/mail.c and src/lib/utf8.c over the
 * fixtures in tests/data/mail/.
 *
 * Public: main (one cmocka group).
 * Diagnostics: cmocka assertions; TAP with CMOCKA_MESSAGE_OUTPUT=TAP.
 *         Fixtures are found under $top_srcdir (default ".").
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
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "lib/buf.h"
#include "parse/mail.h"
#include "lib/utf8.h"

#define MAX_FIXTURE (1u << 20)

static char *load(const char *name, size_t *len)
{
	const char *top = getenv("top_srcdir");
	char path[1024];
	FILE *f;
	char *buf;

	snprintf(path, sizeof(path), "%s/tests/data/mail/%s", top ? top : ".", name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open fixture %s (set top_srcdir)", path);
	buf = malloc(MAX_FIXTURE);
	assert_non_null(buf);
	*len = fread(buf, 1, MAX_FIXTURE, f);
	fclose(f);
	assert_true(*len > 0 && *len < MAX_FIXTURE);
	return buf;
}

static void assert_utf8(const char *s)
{
	json_t *j;

	if (!s)
		return;
	j = json_string(s);
	if (!j)
		fail_msg("not valid UTF-8: \"%.80s\"", s);
	json_decref(j);
}

/* Every string the parser hands out is valid UTF-8. */
static void assert_mail_utf8(const struct ab_mail *m)
{
	size_t i;

	for (i = 0; i < m->n_headers; i++) {
		assert_utf8(m->headers[i].name);
		assert_utf8(m->headers[i].value);
	}
	assert_utf8(m->subject);
	assert_utf8(m->from);
	for (i = 0; i < m->n_to; i++)
		assert_utf8(m->to[i]);
	assert_utf8(m->message_id);
	for (i = 0; i < m->n_auth_results; i++)
		assert_utf8(m->auth_results[i]);
	assert_non_null(m->text);
	assert_utf8(m->text);
	assert_int_equal(strlen(m->text), m->text_len);
	assert_utf8(m->html);
	for (i = 0; i < m->n_links; i++)
		assert_utf8(m->links[i]);
	for (i = 0; i < m->n_attachments; i++) {
		assert_utf8(m->attachments[i].filename);
		assert_utf8(m->attachments[i].content_type);
		assert_utf8(m->attachments[i].content);
	}
}

/* Parse a fixture with lim (NULL: defaults) and check the return code. */
static struct ab_mail *parse_fixture(const char *name, const struct ab_mail_limits *lim,
				     int want_rc, char *err, size_t errsz)
{
	struct ab_mail *m = NULL;
	size_t len;
	char *raw = load(name, &len);
	int rc = ab_mail_parse(raw, len, lim, &m, err, errsz);

	free(raw);
	if (rc != want_rc)
		fail_msg("%s: rc %d, want %d (%s)", name, rc, want_rc, err);
	assert_non_null(m);
	assert_mail_utf8(m);
	return m;
}

static void test_plain_alert(void **state)
{
	char err[256];
	struct ab_mail *m = parse_fixture("plain_alert.eml", NULL, 0, err, sizeof(err));

	(void)state;
	assert_string_equal(m->subject,
			    "[DefectDojo] New finding: SQL Injection in payments-api (High)");
	assert_string_equal(m->from, "defectdojo@scanner.example.com");
	assert_int_equal(m->n_to, 2);
	assert_string_equal(m->to[0], "alerts@example.com");
	assert_string_equal(m->to[1], "appsec-team@example.com");
	assert_int_equal(m->n_bad_utf8, 0);
	/* Tue, 14 May 2024 09:30:10 +0200 */
	assert_int_equal(m->date, INT64_C(1715671810000));
	assert_string_equal(m->message_id, "20240514073010.12345@scanner.example.com");
	assert_int_equal(m->n_auth_results, 2);
	assert_non_null(strstr(m->auth_results[0], "spf=pass"));
	assert_non_null(strstr(m->auth_results[0], "dkim=pass header.d=scanner.example.com"));
	assert_null(strchr(m->auth_results[0], '\n'));
	assert_non_null(strstr(m->auth_results[1], "dmarc=pass"));
	/* case-insensitive lookup, first match, unfolded, in message order */
	assert_string_equal(ab_mail_header(m, "x-alert-severity"), "high");
	assert_string_equal(ab_mail_header(m, "X-DEFECTDOJO-PRODUCT"), "payments-api");
	assert_string_equal(ab_mail_header(m, "content-type"), "text/plain; charset=us-ascii");
	assert_null(ab_mail_header(m, "X-Nope"));
	assert_string_equal(m->headers[0].name, "Return-Path");
	assert_non_null(strstr(m->text, "Title: SQL Injection in /api/v1/charge\nSeverity: High\n"));
	assert_false(m->text_from_html);
	assert_null(m->html);
	assert_int_equal(m->n_links, 2);
	/* the trailing "." and ")" are not part of the URLs */
	assert_string_equal(m->links[0], "https://defectdojo.example.com/finding/4242");
	assert_string_equal(m->links[1], "https://defectdojo.example.com/dashboard");
	assert_ptr_equal(m->url, m->links[0]);
	assert_int_equal(m->n_attachments, 0);
	assert_int_equal(m->limit, AB_MAIL_LIMIT_NONE);
	assert_false(m->truncated);
	ab_mail_free(m);
}

static void test_crlf_line_ends(void **state)
{
	struct ab_buf crlf = AB_BUF_INIT(MAX_FIXTURE);
	struct ab_mail *m = NULL;
	size_t len, i;
	char *raw = load("plain_alert.eml", &len);

	(void)state;
	for (i = 0; i < len; i++) {
		if (raw[i] == '\n')
			assert_int_equal(ab_buf_putc(&crlf, '\r'), 0);
		assert_int_equal(ab_buf_putc(&crlf, raw[i]), 0);
	}
	free(raw);
	assert_int_equal(ab_mail_parse(crlf.data, crlf.len, NULL, &m, NULL, 0), 0);
	assert_null(strchr(m->text, '\r'));
	assert_non_null(strstr(m->text, "Severity: High\nProduct: payments-api\n"));
	assert_string_equal(m->subject,
			    "[DefectDojo] New finding: SQL Injection in payments-api (High)");
	assert_mail_utf8(m);
	ab_mail_free(m);
	ab_buf_free(&crlf);
}

static void test_alternative(void **state)
{
	struct ab_mail *m = parse_fixture("alternative.eml", NULL, 0, NULL, 0);

	(void)state;
	/* text/plain wins over text/html */
	assert_false(m->text_from_html);
	assert_non_null(strstr(m->text, "changed from PASSED to FAILED.\n\nOpen findings"));
	assert_null(strstr(m->text, "<p>"));
	assert_non_null(m->html);
	assert_non_null(strstr(m->html, "<span style=\"color:red\">FAILED</span>"));
	assert_int_equal(m->html_len, strlen(m->html));
	assert_int_equal(m->n_links, 1);
	assert_string_equal(m->url, "https://secobserve.example.org/#/products/17/show");
	assert_int_equal(m->n_parts, 3);
	assert_int_equal(m->n_attachments, 0);
	ab_mail_free(m);
}

static void test_html_only(void **state)
{
	struct ab_mail *m = parse_fixture("html_only.eml", NULL, 0, NULL, 0);

	(void)state;
	assert_true(m->text_from_html);
	assert_non_null(m->html);
	assert_true(strncmp(m->text, "Scan \"Weekly DMZ\" completed\n\nStarted", 36) == 0);
	assert_non_null(strstr(m->text, "Started: 2024-05-16 01:00 EDT\nFinished:"));
	assert_non_null(strstr(m->text,
			       "Host | Plugin | Severity\n"
			       "10.1.2.3 | OpenSSL 3.0.x < 3.0.7 | Critical\n"
			       "10.1.2.4 | Apache httpd 2.4.x < 2.4.58 | Critical"));
	assert_null(strstr(m->text, "tracking"));
	assert_null(strstr(m->text, "also hidden"));
	assert_null(strstr(m->text, "font-family"));
	assert_null(strstr(m->text, "Scan report"));      /* <title> */
	assert_int_equal(m->n_links, 2);
	assert_string_equal(m->links[0], "https://nessus.example.net/#/scans/reports/77");
	assert_string_equal(m->links[1], "mailto:soc@example.com?subject=Weekly%20DMZ");
	assert_ptr_equal(m->url, m->links[0]);
	ab_mail_free(m);
}

static void test_latin1_base64_rfc2047(void **state)
{
	struct ab_mail *m = parse_fixture("latin1_base64.eml", NULL, 0, NULL, 0);

	(void)state;
	/* =?ISO-8859-1?Q?...?= followed by =?UTF-8?B?...?= */
	assert_string_equal(m->subject,
			    "[OSSEC] Alerte niveau 12 : d\xc3\xa9" "faillance d\xc3\xa9tect\xc3\xa9" "e"
			    " \xe2\x80\x94 web-01");
	assert_string_equal(ab_mail_header(m, "From"), "Syst\xc3\xa8me OSSEC <ossec@hids.example.fr>");
	assert_string_equal(ab_mail_header(m, "to"),
			    "\xc3\xa9quipe s\xc3\xa9" "curit\xc3\xa9 <securite@example.fr>");
	/* base64 ISO-8859-1 body converted to UTF-8 */
	assert_non_null(strstr(m->text, "serveur \xc2\xab web-01 \xc2\xbb."));
	assert_non_null(strstr(m->text, "R\xc3\xa8gle 5712 : tentative"));
	assert_string_equal(m->url, "https://wazuh.example.fr/app/alerts?id=1715850000.123");
	ab_mail_free(m);
}

static void test_quoted_printable(void **state)
{
	struct ab_mail *m = parse_fixture("quoted_printable.eml", NULL, 0, NULL, 0);

	(void)state;
	assert_non_null(strstr(m->text, "\"Int\xc3\xa9grit\xc3\xa9 du fichier modifi\xc3\xa9" "e\""));
	assert_non_null(strstr(m->text, "wrapped by the quoted-printable soft line break and"));
	assert_non_null(strstr(m->text, "scheduled \xe2\x80\x94 checksum changed = true\n"));
	assert_null(strstr(m->text, "=3D"));
	assert_null(m->url);
	ab_mail_free(m);
}

static void test_rfc2231_filename(void **state)
{
	struct ab_mail *m = parse_fixture("rfc2231_attachment.eml", NULL, 0, NULL, 0);
	const struct ab_mail_attachment *a;

	(void)state;
	assert_string_equal(m->text, "CIS benchmark drift detected, see the attached report.\n");
	assert_int_equal(m->n_attachments, 2);
	a = &m->attachments[0];
	assert_string_equal(a->filename, "r\xc3\xa9sum\xc3\xa9 d\xc3\xa9rive \xe2\x82\xac.txt");
	assert_string_equal(a->content_type, "text/plain");
	assert_non_null(a->content);
	assert_non_null(strstr(a->content, "host-a: 5.2.1 PermitRootLogin yes"));
	assert_int_equal(a->content_len, strlen(a->content));
	/* binary attachments: name, type and decoded size only */
	a = &m->attachments[1];
	assert_string_equal(a->filename, "report.pdf");
	assert_string_equal(a->content_type, "application/pdf");
	assert_null(a->content);
	assert_int_equal(a->size, 105);
	ab_mail_free(m);
}

static void test_json_attachment(void **state)
{
	struct ab_mail *m = parse_fixture("json_attachment.eml", NULL, 0, NULL, 0);
	const struct ab_mail_attachment *a;
	json_error_t jerr;
	json_t *j;

	(void)state;
	assert_int_equal(m->n_attachments, 1);
	a = &m->attachments[0];
	assert_string_equal(a->filename, "finding.json");
	assert_string_equal(a->content_type, "application/json");
	assert_int_equal(a->size, a->content_len);
	j = json_loadb(a->content, a->content_len, 0, &jerr);
	assert_non_null(j);
	assert_true(json_real_value(json_object_get(json_object_get(j, "detail"),
						    "severity")) == 8.0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "detail"), "type")),
			    "UnauthorizedAccess:EC2/SSHBruteForce");
	json_decref(j);
	ab_mail_free(m);
}

static void test_xml_attachment(void **state)
{
	struct ab_mail *m = parse_fixture("xml_attachment.eml", NULL, 0, NULL, 0);
	const struct ab_mail_attachment *a;
	xmlDocPtr doc;
	xmlNodePtr n;
	xmlChar *desc = NULL;

	(void)state;
	assert_int_equal(m->n_attachments, 1);
	a = &m->attachments[0];
	assert_string_equal(a->filename, "INC-2024-0519.xml");
	assert_string_equal(a->content_type, "application/xml");
	/* no charset parameter: the XML declaration's ISO-8859-1 was used */
	assert_non_null(strstr(a->content, "<Description>Intrusion d\xc3\xa9tect\xc3\xa9" "e</Description>"));
	doc = xmlReadMemory(a->content, (int)a->content_len, NULL, "UTF-8", XML_PARSE_NONET);
	assert_non_null(doc);
	for (n = xmlDocGetRootElement(doc)->children; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST "Incident"))
			break;
	assert_non_null(n);
	for (n = n->children; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST "Description"))
			desc = xmlNodeGetContent(n);
	assert_non_null(desc);
	assert_string_equal((const char *)desc, "Intrusion d\xc3\xa9tect\xc3\xa9" "e");
	xmlFree(desc);
	xmlFreeDoc(doc);
	ab_mail_free(m);
}

static void test_nested(void **state)
{
	struct ab_mail *m = parse_fixture("nested.eml", NULL, 0, NULL, 0);

	(void)state;
	/* mixed > related > alternative: 3 containers + 4 leaves */
	assert_int_equal(m->n_parts, 7);
	assert_non_null(strstr(m->text, "[FIRING:1] TLS certificate for api.example.com expires"));
	assert_false(m->text_from_html);
	assert_non_null(m->html);
	assert_non_null(strstr(m->html, "<img src=\"cid:logo@grafana\">"));
	assert_string_equal(m->url,
			    "https://grafana.example.com/alerting/silence/new?alertmanager=grafana");
	assert_int_equal(m->n_links, 1);
	assert_int_equal(m->n_attachments, 2);
	assert_string_equal(m->attachments[0].content_type, "image/png");
	assert_null(m->attachments[0].filename);
	assert_null(m->attachments[0].content);
	assert_int_equal(m->attachments[0].size, 29);
	assert_string_equal(m->attachments[1].filename, "certs.csv");
	assert_string_equal(m->attachments[1].content_type, "text/csv");
	assert_non_null(strstr(m->attachments[1].content, "api.example.com,2024-05-26T07:00:00Z"));
	ab_mail_free(m);
}

static void test_invalid_utf8(void **state)
{
	struct ab_mail *m = parse_fixture("invalid_utf8.eml", NULL, 0, NULL, 0);

	(void)state;
	/* each bad byte -> U+FFFD; surrogates and > U+10FFFF are invalid too */
	assert_non_null(strstr(m->text, "bad bytes: [\xef\xbf\xbd\xef\xbf\xbd] [\xef\xbf\xbd(] "
			       "[\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd] "
			       "[\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd] "
			       "[\xef\xbf\xbd\xef\xbf\xbd] nul:[] ok: caf\xc3\xa9\nend of report"));
	assert_true(ab_utf8_valid(m->text, m->text_len));
	assert_true(m->n_bad_utf8 >= 1);   /* the milter logs that bytes were replaced */
	ab_mail_free(m);
}

static void test_depth_bomb(void **state)
{
	struct ab_mail_limits lim = { 0, 0, 40, 0, 0 };
	char err[256];
	struct ab_mail *m = parse_fixture("depth_bomb.eml", NULL, 1, err, sizeof(err));

	(void)state;
	assert_int_equal(m->limit, AB_MAIL_LIMIT_DEPTH);
	assert_true(m->truncated);
	assert_string_equal(ab_mail_limit_name(m->limit), "max_depth");
	assert_non_null(strstr(err, "max_depth 20"));
	/* what is safe is still there */
	assert_string_equal(m->subject, "depth bomb");
	assert_string_equal(m->from, "fuzz@example.com");
	assert_string_equal(m->text, "");
	assert_true(m->n_parts <= 21);
	ab_mail_free(m);
	/* with a higher limit the deep text is reached */
	m = parse_fixture("depth_bomb.eml", &lim, 0, err, sizeof(err));
	assert_string_equal(m->text, "deep text");
	assert_int_equal(m->n_parts, 31);
	ab_mail_free(m);
}

static void test_many_parts(void **state)
{
	struct ab_mail_limits lim = { 0, 0, 0, 300, 0 };
	char err[256];
	struct ab_mail *m = parse_fixture("many_parts.eml", NULL, 1, err, sizeof(err));

	(void)state;
	assert_int_equal(m->limit, AB_MAIL_LIMIT_PARTS);
	assert_non_null(strstr(err, "max_parts 100"));
	assert_int_equal(m->n_parts, 100);
	assert_string_equal(m->text, "first part is the body");
	assert_int_equal(m->n_attachments, 98);
	assert_string_equal(m->attachments[97].filename, "f98.bin");
	ab_mail_free(m);
	m = parse_fixture("many_parts.eml", &lim, 0, err, sizeof(err));
	assert_int_equal(m->n_attachments, 199);
	assert_int_equal(m->limit, AB_MAIL_LIMIT_NONE);
	ab_mail_free(m);
}

static void test_long_header(void **state)
{
	struct ab_mail_limits lim = { 0, 128 * 1024, 0, 0, 0 };
	char err[256];
	struct ab_mail *m = parse_fixture("long_header.eml", NULL, 1, err, sizeof(err));
	const char *v;

	(void)state;
	assert_int_equal(m->limit, AB_MAIL_LIMIT_HEADER);
	assert_non_null(strstr(err, "X-Junk"));
	v = ab_mail_header(m, "X-Junk");
	assert_non_null(v);
	assert_true(strlen(v) <= AB_MAIL_DEF_MAX_HEADER);
	assert_string_equal(m->subject, "long header");
	assert_int_equal(m->date, INT64_C(1716170401000));
	assert_string_equal(m->text, "body after a long header\n");
	ab_mail_free(m);
	m = parse_fixture("long_header.eml", &lim, 0, err, sizeof(err));
	assert_true(strlen(ab_mail_header(m, "x-junk")) > AB_MAIL_DEF_MAX_HEADER);
	ab_mail_free(m);
}

static void test_max_message_and_decoded(void **state)
{
	struct ab_mail_limits small_msg = { 400, 0, 0, 0, 0 };
	struct ab_mail_limits small_dec = { 0, 0, 0, 0, 40 };
	char err[256];
	struct ab_mail *m;

	(void)state;
	m = parse_fixture("plain_alert.eml", &small_msg, 1, err, sizeof(err));
	assert_int_equal(m->limit, AB_MAIL_LIMIT_MESSAGE);
	assert_non_null(strstr(err, "max_message 400"));
	assert_non_null(m->text);
	ab_mail_free(m);

	m = parse_fixture("latin1_base64.eml", &small_dec, 1, err, sizeof(err));
	assert_int_equal(m->limit, AB_MAIL_LIMIT_DECODED);
	assert_true(m->text_len <= 40);
	/* cut on a character boundary */
	assert_true(ab_utf8_valid(m->text, m->text_len));
	assert_true(strncmp(m->text, "Alerte OSSEC niveau 12", 22) == 0);
	ab_mail_free(m);

	m = parse_fixture("json_attachment.eml", &small_dec, 1, err, sizeof(err));
	assert_true(m->attachments[0].truncated);
	assert_int_equal(m->attachments[0].size, 262);   /* full size still counted */
	assert_true(m->text_len + m->attachments[0].content_len <= 40);
	ab_mail_free(m);
}

static void test_errors_and_junk(void **state)
{
	static const char *const junk[] = {
		"no colon here at all\n\njust text",
		"\n\n\n",
		("Subject: =?UTF-8?B?////?= =?bogus-charset?Q?x?=\nContent-Type: text/plain; "
		 "charset=x-no-such-charset\n\nbody \xff"),
		"Content-Type: multipart/mixed; boundary=\n\n--\n--\n",
		"Content-Type: multipart/mixed\n\nno boundary",
		"Content-Type: text/html\n\n<table><tr><td>\x00\x01</td></tr>",
		"Date: Mon, 99 Foo 99999 99:99:99 +9999\nFrom: <>\nTo: a:b,c;, @@@\n\nx",
		"Content-Type: application/xml\n\n<?xml version='1.0' encoding='no-such'?><a/>",
	};
	struct ab_mail *m = (struct ab_mail *)1;
	char err[256];
	size_t i;

	(void)state;
	assert_int_equal(ab_mail_parse("", 0, NULL, &m, err, sizeof(err)), -1);
	assert_null(m);
	assert_non_null(strstr(err, "empty"));
	assert_int_equal(ab_mail_parse(NULL, 10, NULL, &m, err, sizeof(err)), -1);
	assert_int_equal(ab_mail_parse("x", 1, NULL, NULL, err, sizeof(err)), -1);
	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		size_t len = strlen(junk[i]);
		int rc;

		if (i == 5)
			len += 12;   /* include the NUL and what follows */
		rc = ab_mail_parse(junk[i], len, NULL, &m, err, sizeof(err));
		assert_true(rc >= -1 && rc <= 1);
		if (m) {
			assert_mail_utf8(m);
			ab_mail_free(m);
		}
	}
}

static void test_utf8_clean(void **state)
{
	struct ab_buf b = AB_BUF_INIT(100), s = AB_BUF_INIT(4);

	(void)state;
	assert_int_equal(ab_utf8_clean(&b, "a\r\nb\rc\x01\td\0e", 11, false), 0);
	assert_string_equal(ab_buf_cstr(&b), "a\nb\nc\tde");
	ab_buf_reset(&b);
	assert_int_equal(ab_utf8_clean(&b, "a\r\nb\tc", 6, true), 0);
	assert_string_equal(ab_buf_cstr(&b), "a  b c");
	ab_buf_reset(&b);
	/* overlong, surrogate, too large, truncated */
	assert_int_equal(ab_utf8_clean(&b, "\xc0\xaf|\xed\xbf\xbf|\xf4\x90\x80\x80|\xe2\x82", 14,
				       false), 0);
	assert_true(ab_utf8_valid(b.data, b.len));
	assert_null(strstr(b.data, "\xc0"));
	/* cut on a character boundary */
	assert_int_equal(ab_utf8_clean(&s, "ab\xc3\xa9", 4, false), 0);
	assert_int_equal(ab_utf8_clean(&s, "x", 1, false), -1);
	ab_buf_free(&s);
	s.max = 3;
	assert_int_equal(ab_utf8_clean(&s, "ab\xc3\xa9", 4, false), -1);
	assert_string_equal(ab_buf_cstr(&s), "ab");
	assert_true(ab_utf8_valid("caf\xc3\xa9", 5));
	assert_false(ab_utf8_valid("a\0b", 3));
	assert_false(ab_utf8_valid("\xed\xa0\x80", 3));
	ab_buf_free(&b);
	ab_buf_free(&s);
}

struct hdr_case {
	const char *name;
	const char *want;
};

static void test_rfc2047_words(void **state)
{
	/* rfc2047_words.eml, CRLF line ends; see the comments for each trap */
	static const struct hdr_case cases[] = {
		/* B words split inside U+2013 (3 bytes), one word padded */
		{ "From", "Wazuh Manager \xe2\x80\x93 Paris <wazuh@siem.example.net>" },
		/* split inside a 3-byte CJK character */
		{ "X-Split-CJK", "\xe7\xa3\x81\xe7\x9b\x98\xe7\xa9\xba\xe9\x97\xb4\xe4\xb8\x8d"
				 "\xe8\xb6\xb3 on db-01" },
		/* the first word ends in "=" padding: the second was lost (GMime 3.2.13) */
		{ "X-Two-Words", "Wazuh notification - (web-01) any - Alert level 12"
				 " - sshd: authentication failed" },
		/* Q: "=C3" | "=A9", and a triplet cut "=" | "A9" across a fold */
		{ "X-Q-Split", "d\xc3\xa9" "faillance caf\xc3\xa9" },
		/* base64 cut inside a quantum: "w6" | "k=" */
		{ "X-B-Quantum", "\xc3\xa9" },
		{ "X-Latin1-Q", "R\xc3\xa9sum\xc3\xa9 de l'alerte" },
		{ "X-Cp1252", "\xe2\x80\x9c" "Disk full\xe2\x80\x9d \xe2\x80\x93 98\xe2\x82\xac" },
		{ "X-Iso2022jp", "\xe3\x83\x87\xe3\x82\xa3\xe3\x82\xb9\xe3\x82\xaf\xe8\xad\xa6"
				 "\xe5\x91\x8a on nas-01" },
		{ "X-Sjis", "\xe3\x83\x87\xe3\x82\xa3\xe3\x82\xb9\xe3\x82\xaf"
			    "\xe8\xad\xa6\xe5\x91\x8a" },
		/* no space between the words, lowercase "?q?" */
		{ "X-No-Space", "caf\xc3\xa9 cr\xc3\xa8me" },
		{ "X-Mixed", "Alert: d\xc3\xa9" "faillance on web-01" },
		/* the space between words of different charsets goes too (RFC 2047 6.2) */
		{ "X-Charsets", "caf\xc3\xa9 cr\xc3\xa8me" },
		/* RFC 2231 language suffix */
		{ "X-Lang", "d\xc3\xa9" "faillance" },
		/* not base64, unknown encoding, unknown charset (Latin-1 bytes), unterminated */
		{ "X-Malformed", "=?UTF-8?B?not base64!!?= =?UTF-8?X?bad?= okx\xc3\xa9 =?UTF-8?B?w6" },
		/* unencoded 8-bit: UTF-8, and Latin-1 read as windows-1252 */
		{ "X-Raw-Utf8", "Temp\xc3\xa9rature \xc3\xa9lev\xc3\xa9" "e" },
		{ "X-Raw-Latin1", "Temp\xc3\xa9rature \xc3\xa9lev\xc3\xa9" "e" },
	};
	struct ab_mail *m = parse_fixture("rfc2047_words.eml", NULL, 0, NULL, 0);
	size_t i;

	(void)state;
	/* folded with CRLF, split inside the first "é" of "défaillance" */
	assert_string_equal(m->subject, "Wazuh notification - (web-01) - Alerte niveau 12 : "
			    "d\xc3\xa9" "faillance d\xc3\xa9tect\xc3\xa9" "e");
	assert_string_equal(ab_mail_header(m, "subject"), m->subject);
	assert_string_equal(m->from, "wazuh@siem.example.net");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *v = ab_mail_header(m, cases[i].name);

		if (!v || strcmp(v, cases[i].want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].name, v ? v : "(none)",
				 cases[i].want);
	}
	assert_int_equal(m->n_bad_utf8, 0);
	assert_string_equal(m->text, "RFC 2047 header test.\n");
	ab_mail_free(m);
}

#define CS62 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* Encoded words built in the test: what GMime 3.2.13 got wrong, and junk. */
static void test_rfc2047_inline(void **state)
{
	static const struct hdr_case cases[] = {
		/* "Dé" | "passement" split inside é, the first word padded */
		{ "Subject: =?UTF-8?B?RMM=?= =?UTF-8?B?qXBhc3NlbWVudA==?=\n\nx",
		  "D\xc3\xa9passement" },
		/* three padded words */
		{ "Subject: =?utf-8?b?YQ==?= =?utf-8?b?Yg==?=\n =?utf-8?b?Yw==?=\n\nx", "abc" },
		/* a lone half character in UTF-8 text stays visible as U+FFFD ... */
		{ "Subject: =?UTF-8?B?RMOpww==?= end\n\nx", "D\xc3\xa9\xef\xbf\xbd end" },
		/* ... but 8-bit bytes with no UTF-8 character at all are windows-1252 */
		{ "Subject: =?UTF-8?B?RMM=?= =?UTF-8?Q?caf=E9?=\n\nx", "D\xc3\x83" "caf\xc3\xa9" },
		{ "Subject: =?UTF-8?Q?a?= b =?UTF-8?Q?c?=\n\nx", "a b c" },
		{ "Subject: pre=?UTF-8?Q?x?=post\n\nx", "prexpost" },
		{ "Subject: =?UTF-8?Q?=ZZ_=4?=\n\nx", "=ZZ =4" },
		{ "Subject: =?UTF-8?Q?" "?=\n\nx", "" },
		{ "Subject: =??Q?caf=E9?=\n\nx", "caf\xc3\xa9" },
		{ "Subject: =?UTF-8?B?////?=\n\nx", "\xc3\xbf\xc3\xbf\xc3\xbf" },
		{ "Subject: =?UTF-8?B?\n\nx", "=?UTF-8?B?" },
		{ "Subject: =?=?=?UTF-8?Q?a?=?=\n\nx", "=?=?a?=" },
		{ "Subject:   spaced   \n\nx", "spaced" },
		{ "subject: =?UTF-16?B?2D3cKQ==?=\n\nx", "\xf0\x9f\x90\xa9" },
		/* charset names: 64 characters at most */
		{ "Subject: =?x-" CS62 "?Q?caf=E9?=\n\nx", "caf\xc3\xa9" },
		{ "Subject: =?x-" CS62 "y?Q?caf=E9?=\n\nx", "=?x-" CS62 "y?Q?caf=E9?=" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ab_mail *m = NULL;
		char err[256];
		int rc = ab_mail_parse(cases[i].name, strlen(cases[i].name), NULL, &m, err,
				       sizeof(err));

		if (rc != 0)
			fail_msg("case %zu: rc %d (%s)", i, rc, err);
		assert_mail_utf8(m);
		if (!m->subject || strcmp(m->subject, cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i,
				 m->subject ? m->subject : "(null)", cases[i].want);
		ab_mail_free(m);
	}
}

/* Pathological encoded-word look-alikes stay linear and bounded. */
static void test_rfc2047_junk(void **state)
{
	static const char *const units[] = {
		"=?a?q?x", "=?", "=?utf-8?b?", "?=", "=?utf-8?q?=", "=?utf-8?b?QUJD?=",
		"=?\x01?q?x?=", "=?utf-8?q?\xff?=", "=?utf-8?q?a?=\t",
	};
	struct ab_buf b = AB_BUF_INIT(300000);
	struct ab_mail *m = NULL;
	size_t u;
	int rc;

	(void)state;
	for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		ab_buf_reset(&b);
		assert_int_equal(ab_buf_puts(&b, "Subject: "), 0);
		while (b.len < 200000)
			assert_int_equal(ab_buf_puts(&b, units[u]), 0);
		assert_int_equal(ab_buf_puts(&b, "\n\nbody"), 0);
		rc = ab_mail_parse(b.data, b.len, NULL, &m, NULL, 0);
		assert_true(rc == 0 || rc == 1);
		assert_mail_utf8(m);
		assert_non_null(m->subject);
		assert_true(strlen(m->subject) <= AB_MAIL_DEF_MAX_HEADER);
		ab_mail_free(m);
	}
	ab_buf_free(&b);
}

static void test_header_case_folded(void **state)
{
	struct ab_mail *m = parse_fixture("header_case.eml", NULL, 0, NULL, 0);

	(void)state;
	/* "SUBJECT:" folded over three lines, unfolded (RFC 5322 2.2.3) */
	assert_string_equal(m->subject,
			    "[Icinga] PROBLEM - Service web-01/http  is CRITICAL since 10:02");
	assert_string_equal(m->from, "icinga@mon.example.org");
	assert_int_equal(m->n_to, 2);
	assert_string_equal(m->to[1], "noc@example.org");
	assert_int_equal(m->date, INT64_C(1715932923000));
	assert_string_equal(m->message_id, "icinga.42@mon.example.org");
	assert_string_equal(ab_mail_header(m, "X-Icinga-State"), "CRITICAL");
	assert_string_equal(ab_mail_header(m, "From"), "Icinga 2 <icinga@mon.example.org>");
	assert_string_equal(m->headers[1].name, "from");     /* names as written */
	/* "TEXT/PLAIN; CHARSET=ISO-8859-1", "QUOTED-PRINTABLE" */
	assert_non_null(strstr(m->text, "(d\xc3\xa9lai d\xc3\xa9pass\xc3\xa9 sur la premi\xc3\xa8re "
			       "requ\xc3\xaate, une tr\xc3\xa8s longue ligne)\nWhen:"));
	assert_false(m->text_from_html);
	ab_mail_free(m);
}

static void test_mbox_no_mime_latin1(void **state)
{
	struct ab_mail *m = parse_fixture("mbox_latin1.eml", NULL, 0, NULL, 0);

	(void)state;
	/* the "From " line is not a header; no MIME headers; 8-bit windows-1252 */
	assert_string_equal(m->headers[0].name, "Return-Path");
	assert_string_equal(m->from, "root@legacy.example.com");
	assert_string_equal(m->subject, "Cron <root@legacy> /etc/cron.daily/logwatch \xe2\x80\x93 "
			    "r\xc3\xa9sultat");
	assert_true(strncmp(m->text, "################### Logwatch 7.5.6", 34) == 0);
	assert_non_null(strstr(m->text, "Machine: legacy \xe2\x80\x9cproduction\xe2\x80\x9d\n"));
	assert_non_null(strstr(m->text, "142 times \xe2\x80\x93 d\xc3\xa9j\xc3\xa0 bloqu\xc3\xa9\n"
			       ">From the archive"));
	assert_int_equal(m->n_bad_utf8, 0);
	assert_int_equal(m->n_parts, 1);
	assert_int_equal(m->n_attachments, 0);
	ab_mail_free(m);
}

static void test_no_mime_utf8(void **state)
{
	struct ab_mail *m = parse_fixture("no_mime_utf8.eml", NULL, 0, NULL, 0);

	(void)state;
	assert_string_equal(m->subject, "SMART error (FailedReadSmartSelfTestLog) on \xc2\xbbnas-01"
			    "\xc2\xab: Pr\xc3\xbc" "fung fehlgeschlagen");
	assert_non_null(strstr(m->text, "   Ger\xc3\xa4t: /dev/sda [SAT], Temperatur 61 \xc2\xb0" "C "
			       "\xe2\x80\x93 \xc3\xbc" "ber dem Grenzwert\n"));
	assert_null(strchr(m->text, '\r'));
	assert_int_equal(m->n_bad_utf8, 0);
	ab_mail_free(m);
}

/* Under a UTF-8 label, damaged UTF-8 (overlong forms, surrogates: a lead
 * byte with continuation bytes) stays UTF-8 with U+FFFD and is counted;
 * lone high bytes are Latin-1 text mislabelled and read as windows-1252. */
static void test_utf8_label_damage(void **state)
{
	static const char broken[] = "From: a@b.example\nSubject: x\nMIME-Version: 1.0\n"
		"Content-Type: text/plain; charset=utf-8\n\nbody \xc0\xaf overlong \xed\xa0\x80 end\n";
	static const char latin[] = "From: a@b.example\nSubject: x\nMIME-Version: 1.0\n"
		"Content-Type: text/plain; charset=utf-8\n\nd\xe9j\xe0 vu\n";
	struct ab_mail *m = NULL;

	(void)state;
	assert_true(ab_mail_parse(broken, strlen(broken), NULL, &m, NULL, 0) >= 0);
	assert_non_null(strstr(m->text, "\xef\xbf\xbd"));
	assert_true(m->n_bad_utf8 >= 1);
	ab_mail_free(m);
	m = NULL;
	assert_true(ab_mail_parse(latin, strlen(latin), NULL, &m, NULL, 0) >= 0);
	assert_string_equal(m->text, "d\xc3\xa9j\xc3\xa0 vu\n");
	ab_mail_free(m);
}

static void test_charsets(void **state)
{
	static const struct hdr_case cases[] = {   /* attachment file name, content */
		{ "koi8r.txt", "\xd0\xa2\xd1\x80\xd0\xb5\xd0\xb2\xd0\xbe\xd0\xb3\xd0\xb0: \xd0\xb4"
			       "\xd0\xb8\xd1\x81\xd0\xba \xd0\xb7\xd0\xb0\xd0\xbf\xd0\xbe\xd0\xbb\xd0"
			       "\xbd\xd0\xb5\xd0\xbd\n" },
		{ "sjis.txt", "\xe8\xad\xa6\xe5\x91\x8a: \xe3\x83\x87\xe3\x82\xa3\xe3\x82\xb9\xe3\x82"
			      "\xaf\xe5\xae\xb9\xe9\x87\x8f\xe4\xb8\x8d\xe8\xb6\xb3 (nas-01)\n" },
		{ "gb2312.txt", "\xe5\x91\x8a\xe8\xad\xa6: \xe7\xa3\x81\xe7\x9b\x98\xe7\xa9\xba"
				"\xe9\x97\xb4\xe4\xb8\x8d\xe8\xb6\xb3 (db-01)\n" },
		{ "utf16.txt", "UTF-16 text: \xc3\xa9t\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac "
			       "\xf0\x9f\x94\xa5\n" },
		{ "utf16-nolabel.txt", "BOM, no charset: na\xc3\xafve\n" },
		{ "latin1-cp1252.txt", "Labelled Latin-1, written in windows-1252: \xe2\x80\x9cquoted"
				       "\xe2\x80\x9d \xe2\x80\x93 caf\xc3\xa9\n" },
		{ "latin1-utf8.txt", "Labelled Latin-1, really UTF-8: caf\xc3\xa9 \xe2\x80\x93 "
				     "\xe6\x97\xa5\xe6\x9c\xac\n" },
		{ "unknown-label.txt", "Unknown label, Latin-1 bytes: caf\xc3\xa9 cr\xc3\xa8me\n" },
		{ "ascii-8bit.txt", "ASCII label, 8-bit windows-1252: \xc3\x89" "chec \xe2\x80\x93 "
				    "r\xc3\xa9" "essayer\n" },
		{ "utf8-latin1.txt", "UTF-8 label, Latin-1 bytes: d\xc3\xa9j\xc3\xa0 vu\n" },
		{ "sjis-utf8.txt", "Shift_JIS label, UTF-8 bytes: \xe8\xad\xa6\xe5\x91\x8a\n" },
		/* a lead byte without its trail byte: U+FFFD, the rest kept */
		{ "sjis-broken.txt", "\xe8\xad\xa6\xe5\x91\x8a\xef\xbf\xbd\n\xe7\xb5\x82\xe3\x82\x8f"
				     "\xe3\x82\x8a\n" },
	};
	struct ab_mail *m = parse_fixture("charsets.eml", NULL, 0, NULL, 0);
	size_t i;

	(void)state;
	/* windows-1252, quoted-printable body */
	assert_string_equal(m->text, "Zabbix: \xe2\x80\x9c" "Disk space is low\xe2\x80\x9d "
			    "\xe2\x80\x93 92 % used on /var \xe2\x80\xa6 \xe2\x82\xac 0,00\n");
	assert_int_equal(m->n_attachments, sizeof(cases) / sizeof(cases[0]));
	for (i = 0; i < m->n_attachments; i++) {
		const struct ab_mail_attachment *a = &m->attachments[i];

		assert_string_equal(a->filename, cases[i].name);
		assert_string_equal(a->content_type, "text/plain");
		if (!a->content || strcmp(a->content, cases[i].want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].name,
				 a->content ? a->content : "(null)", cases[i].want);
		assert_int_equal(a->content_len, strlen(a->content));
	}
	assert_int_equal(m->n_bad_utf8, 1);    /* sjis-broken.txt */
	ab_mail_free(m);
}

static void test_html_meta_charset(void **state)
{
	struct ab_mail *m = parse_fixture("html_latin1_meta.eml", NULL, 0, NULL, 0);

	(void)state;
	/* no charset parameter: <meta ... charset=windows-1252>, quoted-printable */
	assert_true(m->text_from_html);
	assert_non_null(strstr(m->html, "<h1>ZAP Scanning Report \xe2\x80\x93 \xc2\xabshop"));
	assert_true(strncmp(m->text, "ZAP Scanning Report \xe2\x80\x93 \xc2\xabshop.example.com"
			    "\xc2\xbb\n\nSite: https://shop.example.com\nGenerated on", 64) == 0);
	/* a header row of <th> only: no colons; <th> then <td>: "Key: | value" */
	assert_non_null(strstr(m->text, "\nRisk Level | Number of Alerts\nHigh | 2\n"
			       "Informational | 4\n"));
	assert_non_null(strstr(m->text, "\nHigh | Cross Site Scripting (Reflected)\n"
			       "Description | Cross-site Scripting (XSS) is an attack "
			       "technique\xe2\x80\xa6\n"
			       "URL: | https://shop.example.com/search?q=%3Cscript%3E&page=1\n"
			       "Risk: | High (Medium confidence)\nCWE Id: | 79\n"));
	/* entities and windows-1252 characters, &nbsp; as a space */
	assert_non_null(strstr(m->text, "Reference: | caf\xc3\xa9 & cr\xc3\xa8me \xe2\x80\x93 "
			       "\xe2\x80\x9csmart quotes\xe2\x80\x9d \xc3\xa9t\xc3\xa9"));
	assert_null(strstr(m->text, "zap-hidden"));
	assert_null(strstr(m->text, "Verdana"));
	assert_int_equal(m->n_links, 3);
	assert_string_equal(m->links[0], "https://shop.example.com");
	assert_string_equal(m->links[1], "https://shop.example.com/search?q=%3Cscript%3E&page=1");
	assert_string_equal(m->links[2], "https://cwe.mitre.org/data/definitions/79.html");
	assert_ptr_equal(m->url, m->links[0]);
	assert_int_equal(m->n_bad_utf8, 0);
	ab_mail_free(m);
}

static void test_html_alt_empty_text(void **state)
{
	struct ab_mail *m = parse_fixture("html_alt_empty_text.eml", NULL, 0, NULL, 0);

	(void)state;
	/* the text/plain alternative is empty: the HTML (base64) is the text */
	assert_true(m->text_from_html);
	assert_string_equal(m->text,
			    "Grafana alert [FIRING:1] High CPU & load on web-02\n\n"
			    "Severity: | critical\n"
			    "Summary: | CPU > 95 % for 10 min \xe2\x80\x93 d\xc3\xa9passement\n"
			    "Host: | web-02\n\n"
			    "First line\nsecond line\n\nafter a blank line\n\n"
			    "Dashboard | View alert | Silence");
	assert_int_equal(m->text_len, strlen(m->text));
	assert_int_equal(m->n_links, 3);
	assert_string_equal(m->links[1], "https://grafana.example.com/alerting/grafana/uid-42/view");
	assert_string_equal(m->url, "https://grafana.example.com/d/abc/overview");
	assert_int_equal(m->n_attachments, 0);
	ab_mail_free(m);
}

static void test_json_xml_types(void **state)
{
	struct ab_mail *m = parse_fixture("json_octet.eml", NULL, 0, NULL, 0);
	const struct ab_mail_attachment *a;
	json_error_t jerr;
	json_t *j;

	(void)state;
	assert_int_equal(m->n_attachments, 5);
	/* application/octet-stream named *.json: JSON, base64 decoded */
	a = &m->attachments[0];
	assert_string_equal(a->filename, "guardduty-finding.json");
	assert_string_equal(a->content_type, "application/json");
	j = json_loadb(a->content, a->content_len, 0, &jerr);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "detail"), "title")),
			    "Unprotected port on EC2 instance i-0abc123 is being probed");
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(j, "detail"),
								  "description")),
			       "\xe2\x80\x93 Z\xc3\xbcrich"));
	json_decref(j);
	/* text/json, quoted-printable */
	a = &m->attachments[1];
	assert_string_equal(a->content_type, "text/json");
	assert_string_equal(a->content, "{\"alert\": {\"name\": \"QP JSON \xc3\xa9t\xc3\xa9\", "
			    "\"level\": 7}}");
	/* a +json subtype without a name */
	a = &m->attachments[2];
	assert_null(a->filename);
	assert_string_equal(a->content_type, "application/vnd.acme.finding+json");
	assert_string_equal(a->content, "{\"finding\": {\"severity\": \"HIGH\", "
			    "\"cve\": \"CVE-2024-0001\"}}");
	/* octet-stream named *.XML: XML, converted from its declared ISO-8859-1 */
	a = &m->attachments[3];
	assert_string_equal(a->content_type, "application/xml");
	assert_non_null(strstr(a->content, "<name>Caf\xc3\xa9 service exposed</name>"));
	/* any other octet-stream: size only */
	a = &m->attachments[4];
	assert_string_equal(a->content_type, "application/octet-stream");
	assert_null(a->content);
	assert_int_equal(a->size, 17);
	ab_mail_free(m);
}

static void test_utf8_cp1252(void **state)
{
	struct ab_buf b = AB_BUF_INIT(100), s = AB_BUF_INIT(5);

	(void)state;
	assert_int_equal(ab_utf8_from_cp1252(&b, "\x80 \x93q\x94 \x96 caf\xe9 \x81\x9f\xff\r\n", 17,
					     false), 0);
	assert_string_equal(ab_buf_cstr(&b), "\xe2\x82\xac \xe2\x80\x9cq\xe2\x80\x9d \xe2\x80\x93 "
			    "caf\xc3\xa9 \xef\xbf\xbd\xc5\xb8\xc3\xbf\n");
	ab_buf_reset(&b);
	assert_int_equal(ab_utf8_from_cp1252(&b, "a\tb\x01", 4, true), 0);
	assert_string_equal(ab_buf_cstr(&b), "a b ");
	/* cut on a character boundary */
	assert_int_equal(ab_utf8_from_cp1252(&s, "ab\xe9\xe9", 4, false), -1);
	assert_true(s.overflow);
	assert_string_equal(ab_buf_cstr(&s), "ab\xc3\xa9");
	assert_true(ab_utf8_plausible("plain", 5));
	assert_true(ab_utf8_plausible("caf\xc3\xa9 \xff", 7));    /* damaged UTF-8 */
	assert_false(ab_utf8_plausible("caf\xe9", 4));           /* Latin-1 */
	ab_buf_free(&b);
	ab_buf_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_alert),
		cmocka_unit_test(test_crlf_line_ends),
		cmocka_unit_test(test_alternative),
		cmocka_unit_test(test_html_only),
		cmocka_unit_test(test_latin1_base64_rfc2047),
		cmocka_unit_test(test_quoted_printable),
		cmocka_unit_test(test_rfc2231_filename),
		cmocka_unit_test(test_json_attachment),
		cmocka_unit_test(test_xml_attachment),
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_depth_bomb),
		cmocka_unit_test(test_many_parts),
		cmocka_unit_test(test_long_header),
		cmocka_unit_test(test_max_message_and_decoded),
		cmocka_unit_test(test_errors_and_junk),
		cmocka_unit_test(test_utf8_clean),
		cmocka_unit_test(test_rfc2047_words),
		cmocka_unit_test(test_rfc2047_inline),
		cmocka_unit_test(test_rfc2047_junk),
		cmocka_unit_test(test_header_case_folded),
		cmocka_unit_test(test_mbox_no_mime_latin1),
		cmocka_unit_test(test_no_mime_utf8),
		cmocka_unit_test(test_charsets),
		cmocka_unit_test(test_utf8_label_damage),
		cmocka_unit_test(test_html_meta_charset),
		cmocka_unit_test(test_html_alt_empty_text),
		cmocka_unit_test(test_json_xml_types),
		cmocka_unit_test(test_utf8_cp1252),
	};

	return cmocka_run_group_tests_name("mail", tests, NULL, NULL);
}
