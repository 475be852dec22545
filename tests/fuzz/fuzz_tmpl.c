/*
 * fuzz_tmpl.c - libFuzzer target for the message templates
 * (plugins/common/tmpl.c).
 *
 * Public: LLVMFuzzerTestOneInput.  The input is a template, then (after
 * the first NUL byte, if any) the JSON of the data it renders against (a
 * fixed event when absent or not JSON).  Checks: compile either works or
 * says where it failed ("line L, column C: ..." or a size limit); a
 * compiled template renders within its output cap (a render that fails
 * says why) with each escape; HTML-escaped values leave no raw '<', '>'
 * or '"' of the data in the output of "{{title}}"; JSON escaping keeps a
 * "{\"t\":\"{{title}}\"}" document valid JSON.
 * Diagnostics: abort() on a broken invariant.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tmpl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OUT_CAP 65536

static const char fixed[] = "{\"type\":\"finding.created\",\"severity\":\"high\","
	"\"title\":\"<b>\\\"x\\\"</b> & y\",\"fields\":{\"cwe\":89,\"l\":[1,2,3]},"
	"\"items\":[{\"title\":\"a\"},{\"title\":\"b\",\"asset\":\"c\"}]}";

static void render_all(const struct tmpl *t, const json_t *d)
{
	static const enum rd_esc escs[] = { RD_ESC_NONE, RD_ESC_SLACK, RD_ESC_MARKDOWN,
		RD_ESC_HTML, RD_ESC_HEADER };
	char err[200];

	for (size_t i = 0; i <= sizeof escs / sizeof escs[0]; i++) {
		struct ab_buf b = AB_BUF_INIT(OUT_CAP);
		bool json = i == sizeof escs / sizeof escs[0];
		int rc = tmpl_render(t, d, json ? TMPL_ESC_JSON : TMPL_ESC_RD, json ? RD_ESC_NONE :
			escs[i], &b, err, sizeof err);

		if (b.len > OUT_CAP || (rc < 0 && strncmp(err, "template: ", 10) != 0))
			abort();
		ab_buf_free(&b);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t tlen = nul ? (size_t)(nul - data) : size;
	char *src = strndup((const char *)data, tlen), err[200];
	json_t *d = nul ? json_loadb((const char *)nul + 1, size - tlen - 1, 0, NULL) : NULL;
	struct tmpl *t;

	if (!src)
		return 0;
	if (!json_is_object(d)) {
		json_decref(d);
		d = json_loads(fixed, 0, NULL);
	}
	t = tmpl_compile(src, err, sizeof err);
	if (!t && strncmp(err, "line ", 5) != 0 && strncmp(err, "longer than", 11) != 0 &&
	    strcmp(err, "out of memory") != 0)
		abort();
	if (t) {
		render_all(t, d);
		tmpl_free(t);
	}
	/* the data's title through the escapes that must hold */
	{
		struct tmpl *h = tmpl_compile("{{title}}", err, sizeof err);
		struct tmpl *j = tmpl_compile("{\"t\":\"{{title}}\"}", err, sizeof err);
		struct ab_buf b = AB_BUF_INIT(OUT_CAP), c = AB_BUF_INIT(OUT_CAP);
		json_t *back;

		if (!h || !j)
			abort();
		if (tmpl_render(h, d, TMPL_ESC_RD, RD_ESC_HTML, &b, err, sizeof err) == 0 &&
		    b.len && (memchr(b.data, '<', b.len) || memchr(b.data, '>', b.len) ||
			      memchr(b.data, '"', b.len)))
			abort();
		if (tmpl_render(j, d, TMPL_ESC_JSON, RD_ESC_NONE, &c, err, sizeof err) == 0) {
			if (!(back = json_loadb(c.data ? c.data : "", c.len, 0, NULL)))
				abort();
			json_decref(back);
		}
		ab_buf_free(&b);
		ab_buf_free(&c);
		tmpl_free(h);
		tmpl_free(j);
	}
	json_decref(d);
	free(src);
	return 0;
}
