/*
 * event_json_bench.c - what writing an event's canonical JSON costs: the
 * direct writer (ab_event_write_json into a reused buffer, as the store
 * does), ab_event_dumps, the jansson way (json_dumps(ab_event_to_json(ev),
 * JSON_COMPACT | JSON_SORT_KEYS)), the stable id (ab_event_ensure_id), and
 * both the id and the text: ensure_id + write_json against one
 * ab_event_write_json_id, reading the text back (json_loadb +
 * ab_event_from_json_take, as the syslog mover read a journal record),
 * the binary form of a journal record now (ab_event_write_bin and
 * ab_event_read_bin), and a copy of the fields alone (json_deep_copy),
 * for a parsed syslog CEF line and a mail-sized event.
 *
 * Usage: event_json_bench [ITERATIONS]   (default 200,000 per case)
 * Prints one line per case: event, way, iterations, ns per event.  It
 * checks first that both ways give the same bytes.  Not part of the tests.
 * Diagnostics: "parse failed", "outputs differ" on stderr and exit 1.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/buf.h"
#include "event/event.h"
#include "parse/syslog.h"

static const char cef_line[] =
	"<134>Jan 15 10:00:00 fw01 CEF:0|Fortinet|Fortigate|v7.2.5|0419016384|ips: "
	"signature detected|7|src=198.51.100.9 dst=10.1.1.5 spt=51512 dpt=443 act=dropped "
	"msg=HTTP.Request.Smuggling attack blocked cs1Label=policy cs1=wan-in";

/* A finding as a mail profile makes it: a paragraph of summary, a few fields. */
static const char mail_json[] =
	"{\"type\":\"finding.created\",\"category\":\"security\",\"severity\":\"high\","
	"\"source\":\"mail\",\"tool\":\"greenbone\",\"title\":\"OpenSSH < 9.3p2 remote code "
	"execution (CVE-2023-38408) on web-03.example.net\",\"summary\":\"The remote host runs "
	"an OpenSSH version before 9.3p2. The PKCS#11 feature in ssh-agent has an insufficiently "
	"trustworthy search path, leading to remote code execution if an agent is forwarded to "
	"an attacker-controlled system.\\n\\nSolution: update to 9.3p2 or later.\\n\\nHost: "
	"web-03.example.net (192.0.2.33)\\nPort: 22/tcp\\nCVSS: 9.8\\nQoD: 80%\\n\\nDetection "
	"method: checks if a vulnerable version is present on the target host. Details: "
	"OpenSSH Remote Code Execution Vulnerability (OID: 1.3.6.1.4.1.25623.1.0.104845)."
	"\\nVersion used: 2024-02-19T05:05:57Z\",\"url\":\"https://gvm.example.net/result/"
	"6f1c2b7e-0d3a-4c51-9f8e-1a2b3c4d5e6f\",\"asset\":\"web-03.example.net\",\"team\":"
	"\"platform\",\"status\":\"open\",\"priority\":2,\"fingerprint\":\"gvm:1.3.6.1.4.1."
	"25623.1.0.104845:web-03\",\"occurred_at\":\"2024-03-01T08:15:00Z\",\"received_at\":"
	"\"2024-03-01T08:15:02.114Z\",\"origin\":{\"kind\":\"mail\",\"message_id\":"
	"\"<20240301081500.1234@gvm.example.net>\",\"from\":\"gvm@example.net\",\"host\":"
	"\"mx1\"},\"fields\":{\"cve\":\"CVE-2023-38408\",\"cvss\":\"9.8\",\"host_ip\":"
	"\"192.0.2.33\",\"port\":\"22/tcp\",\"oid\":\"1.3.6.1.4.1.25623.1.0.104845\","
	"\"qod\":\"80\",\"report_id\":\"a1b2c3d4\",\"task\":\"weekly dmz scan\"}}";

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile size_t sink;

static void run(const char *name, struct ab_event *ev, long iters)
{
	struct ab_buf b = AB_BUF_INIT(AB_EVENT_JSON_MAX);
	char *j1, *j2;
	json_t *t;
	double t0, dt;
	long i;

	j1 = ab_event_dumps(ev);
	t = ab_event_to_json(ev);
	j2 = t ? json_dumps(t, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(t);
	if (!j1 || !j2 || strcmp(j1, j2)) {
		fprintf(stderr, "event_json_bench: %s: outputs differ\n", name);
		exit(1);
	}
	printf("%-6s %zu bytes of JSON\n", name, strlen(j1));
	free(j1);
	free(j2);

	t0 = now_s();
	for (i = 0; i < iters; i++) {
		b.len = 0;
		if (ab_event_write_json(ev, &b) < 0)
			exit(1);
		sink += b.len;
	}
	dt = now_s() - t0;
	printf("%-6s write_json (reused buffer) %8ld x %7.0f ns\n", name, iters, dt / iters * 1e9);

	t0 = now_s();
	for (i = 0; i < iters; i++) {
		char *s = ab_event_dumps(ev);

		sink += s ? strlen(s) : 0;
		free(s);
	}
	dt = now_s() - t0;
	printf("%-6s ab_event_dumps             %8ld x %7.0f ns\n", name, iters, dt / iters * 1e9);

	t0 = now_s();
	for (i = 0; i < iters; i++) {
		json_t *j = ab_event_to_json(ev);
		char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

		sink += s ? strlen(s) : 0;
		free(s);
		json_decref(j);
	}
	dt = now_s() - t0;
	printf("%-6s to_json + json_dumps       %8ld x %7.0f ns\n", name, iters, dt / iters * 1e9);

	t0 = now_s();
	for (i = 0; i < iters; i++) {
		ev->id[0] = '\0';
		ab_event_ensure_id(ev);
		sink += (size_t)ev->id[0];
	}
	dt = now_s() - t0;
	printf("%-6s ensure_id                  %8ld x %7.0f ns\n", name, iters, dt / iters * 1e9);

	t0 = now_s();
	for (i = 0; i < iters; i++) {
		ev->id[0] = '\0';
		ab_event_ensure_id(ev);
		b.len = 0;
		if (ab_event_write_json(ev, &b) < 0)
			exit(1);
		sink += b.len;
	}
	dt = now_s() - t0;
	printf("%-6s ensure_id + write_json     %8ld x %7.0f ns\n", name, iters, dt / iters * 1e9);

	t0 = now_s();
	for (i = 0; i < iters; i++) {
		ev->id[0] = '\0';
		b.len = 0;
		if (ab_event_write_json_id(ev, &b) < 0)
			exit(1);
		sink += b.len;
	}
	dt = now_s() - t0;
	printf("%-6s write_json_id              %8ld x %7.0f ns\n", name, iters, dt / iters * 1e9);

	/* reading it back as the syslog mover does a journal record */
	b.len = 0;
	if (ab_event_write_json_id(ev, &b) < 0)
		exit(1);
	t0 = now_s();
	for (i = 0; i < iters; i++) {
		json_t *j = json_loadb(b.data, b.len, 0, NULL);
		struct ab_event *back = j ? ab_event_from_json_take(j, NULL, 0) : NULL;

		if (!back)
			exit(1);
		sink += back->severity;
		ab_event_free(back);
	}
	dt = now_s() - t0;
	printf("%-6s json_loadb + from_json_take %7ld x %7.0f ns\n", name, iters, dt / iters * 1e9);

	t0 = now_s();
	for (i = 0; i < iters; i++) {
		b.len = 0;
		if (ab_event_write_bin(ev, &b) < 0)
			exit(1);
		sink += b.len;
	}
	dt = now_s() - t0;
	printf("%-6s write_bin (%zu bytes)      %8ld x %7.0f ns\n", name, b.len, iters,
	       dt / iters * 1e9);

	t0 = now_s();
	for (i = 0; i < iters; i++) {
		struct ab_event *back = ab_event_read_bin(b.data, b.len, NULL, 0);

		if (!back)
			exit(1);
		sink += back->severity;
		ab_event_free(back);
	}
	dt = now_s() - t0;
	printf("%-6s read_bin                   %8ld x %7.0f ns\n", name, iters, dt / iters * 1e9);

	t0 = now_s();
	for (i = 0; i < iters; i++) {
		struct ab_event *cp = ab_event_new();

		if (!cp)
			exit(1);
		json_decref(cp->fields);
		cp->fields = json_deep_copy(ev->fields);
		sink += json_object_size(cp->fields);
		ab_event_free(cp);
	}
	dt = now_s() - t0;
	printf("%-6s fields: json_deep_copy     %8ld x %7.0f ns\n", name, iters, dt / iters * 1e9);
	ab_buf_free(&b);
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
	struct ab_event *ev = ab_event_new();
	char err[128];
	json_t *j;

	if (iters <= 0)
		iters = 200000;
	if (!ev || ab_syslog_parse(cef_line, strlen(cef_line), "192.0.2.1", 1705312800000LL, ev,
				   err, sizeof err) != 0) {
		fprintf(stderr, "event_json_bench: parse failed: %s\n", err);
		return 1;
	}
	run("cef", ev, iters);
	ab_event_free(ev);

	j = json_loads(mail_json, 0, NULL);
	ev = j ? ab_event_from_json(j, err, sizeof err) : NULL;
	json_decref(j);
	if (!ev) {
		fprintf(stderr, "event_json_bench: parse failed: %s\n", err);
		return 1;
	}
	run("mail", ev, iters);
	ab_event_free(ev);
	return 0;
}
