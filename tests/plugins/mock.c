/*
 * mock.c - a scriptable test channel.  Settings:
 *   script = "ok" | "retry" | "permanent" | "retry:N" (retry the first N
 *            sends of each message id, then ok), retry_after (seconds),
 *   record = path: every send appends "<id> <attempt> <status>\n",
 *   payload = path: every send appends "<id> text|tree <payload>\n": how
 *            the host gave the payload (ABI 1.5: the plugin declares
 *            AB_PLUGIN_F_PAYLOAD_TEXT) and the payload's compact JSON.
 * Used by the dispatcher tests and the daemon integration tests.
 *
 * Built a second time with -DMOCK_SPLIT as "mocksplit", with ABI 1.3's
 * http_prepare/http_result and one more setting:
 *   url = an http:// URL on 127.0.0.0/8: every message is a POST of
 *         {"id": ID} there, its result the answer's (record as above);
 *         without url the script decides in http_prepare (no request).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <alertbridge/plugin.h>

const struct ab_plugin *alertbridge_plugin(void);

struct mock {
	const struct ab_host *host;
	char script[32];
	int retry_first;
	int retry_after;
	char record[1024];
	char payload[1024];
	char url[1024];
};

static void *create(const struct ab_host *h, const char *channel, const json_t *cfg,
	char *err, size_t errsz)
{
	struct mock *m = calloc(1, sizeof *m);
	const char *key;
	json_t *v;

	(void)channel;
	if (!m)
		return NULL;
	m->host = h;
	snprintf(m->script, sizeof m->script, "ok");
	json_object_foreach((json_t *)cfg, key, v) {
		if (strcmp(key, "script") == 0 && json_is_string(v)) {
			snprintf(m->script, sizeof m->script, "%s", json_string_value(v));
			if (strncmp(m->script, "retry:", 6) == 0)
				m->retry_first = atoi(m->script + 6);
		} else if (strcmp(key, "retry_after") == 0 && json_is_integer(v)) {
			m->retry_after = (int)json_integer_value(v);
		} else if (strcmp(key, "record") == 0 && json_is_string(v)) {
			snprintf(m->record, sizeof m->record, "%s", json_string_value(v));
		} else if (strcmp(key, "payload") == 0 && json_is_string(v)) {
			snprintf(m->payload, sizeof m->payload, "%s", json_string_value(v));
#ifdef MOCK_SPLIT
		} else if (strcmp(key, "url") == 0 && json_is_string(v)) {
			snprintf(m->url, sizeof m->url, "%s", json_string_value(v));
#endif
		} else {
			snprintf(err, errsz, "setting '%s': unknown setting for the mock channel", key);
			free(m);
			return NULL;
		}
	}
	return m;
}

static void record(const struct mock *m, const char *id, unsigned attempt, enum ab_status st)
{
	char line[256];
	int fd, n;

	if (!m->record[0])
		return;
	n = snprintf(line, sizeof line, "%s %u %d\n", id, attempt, (int)st);
	fd = open(m->record, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0) {
		if (write(fd, line, (size_t)n) != n)
			m->host->log(m->host, AB_LOG_WARNING, "mock: short write");
		close(fd);
	}
}

static void record_payload(const struct mock *m, const struct ab_message *msg)
{
	char *tree = NULL;
	FILE *f;

	if (!m->payload[0] || !(f = fopen(m->payload, "a")))
		return;
	if (msg->payload)
		tree = json_dumps(msg->payload, JSON_COMPACT | JSON_SORT_KEYS);
	fprintf(f, "%s %s %.*s\n", msg->id, msg->payload ? "tree" : "text",
		msg->payload ? (int)strlen(tree ? tree : "") : (int)msg->payload_len,
		msg->payload ? (tree ? tree : "") : msg->payload_text);
	free(tree);
	fclose(f);
}

static void scripted(void *inst, const struct ab_message *msg, struct ab_result *r)
{
	struct mock *m = inst;
	enum ab_status st = AB_OK;

	record_payload(m, msg);

	if (strcmp(m->script, "retry") == 0)
		st = AB_RETRY;
	else if (strcmp(m->script, "permanent") == 0)
		st = AB_PERMANENT;
	else if (m->retry_first > 0 && (int)msg->attempt <= m->retry_first)
		st = AB_RETRY;
	ab_result_set(r, st, st == AB_OK ? 200 : st == AB_RETRY ? 503 : 404,
		st == AB_OK ? "ok" : st == AB_RETRY ? "mock: try later" : "mock: gone");
	if (st == AB_RETRY)
		r->retry_after = m->retry_after;
	record(m, msg->id, msg->attempt, st);
}

#ifdef MOCK_SPLIT
static const char *const allow_lo[] = { "127.0.0.0/8", NULL };

/* A request between http_prepare and http_result. */
struct call {
	char id[80];
	unsigned attempt;
	char body[128];
};

static int prepare(void *inst, const struct ab_message *msg, struct ab_http_request *req,
	void **state, struct ab_result *r)
{
	struct mock *m = inst;
	struct call *c;

	*state = NULL;
	if (m->url[0])
		record_payload(m, msg);
	if (!m->url[0]) {
		scripted(inst, msg, r);
		return 0;
	}
	if (!(c = calloc(1, sizeof *c))) {
		ab_result_set(r, AB_RETRY, 0, "mock: out of memory");
		return 0;
	}
	snprintf(c->id, sizeof c->id, "%s", msg->id);
	c->attempt = msg->attempt;
	snprintf(c->body, sizeof c->body, "{\"id\": \"%s\"}", c->id);
	req->url = m->url;
	req->body = c->body;
	req->body_len = strlen(c->body);
	req->content_type = "application/json";
	req->allow_http = true;
	req->allow_networks = allow_lo;
	req->timeout_ms = 5000;
	*state = c;
	return 1;
}

static void result(void *inst, void *state, const struct ab_http_response *resp,
	struct ab_result *r)
{
	struct call *c = state;

	if (resp) {
		ab_result_set(r, resp->outcome, resp->status,
			resp->outcome == AB_OK ? "ok" : resp->error);
		r->retry_after = resp->retry_after;
		record(inst, c->id, c->attempt, resp->outcome);
	}
	free(c);
}

static void sendit(void *inst, const struct ab_message *msg, struct ab_result *r)
{
	struct mock *m = inst;
	struct ab_http_request req;
	struct ab_http_response resp;
	void *state;

	memset(&req, 0, sizeof req);
	if (prepare(inst, msg, &req, &state, r) == 0)
		return;
	memset(&resp, 0, sizeof resp);
	m->host->http(m->host, &req, &resp);
	result(inst, state, &resp, r);
	m->host->http_free(m->host, &resp);
}
#else
static void sendit(void *inst, const struct ab_message *msg, struct ab_result *r)
{
	scripted(inst, msg, r);
}
#endif

static void destroy(void *inst)
{
	free(inst);
}

static const struct ab_plugin api = {
	.abi = AB_PLUGIN_ABI, .size = sizeof(struct ab_plugin),
#ifdef MOCK_SPLIT
	.name = "mocksplit", .http_prepare = prepare, .http_result = result,
#else
	.name = "mock",
#endif
	.description = "scriptable test channel",
	.create = create, .send = sendit, .destroy = destroy,
	.flags = AB_PLUGIN_F_PAYLOAD_TEXT,
};

const struct ab_plugin *alertbridge_plugin(void)
{
	return &api;
}
