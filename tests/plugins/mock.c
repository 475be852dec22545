/*
 * mock.c - a scriptable test channel.  Settings:
 *   script = "ok" | "retry" | "permanent" | "retry:N" (retry the first N
 *            sends of each message id, then ok), retry_after (seconds),
 *   record = path: every send appends "<id> <attempt> <status>\n".
 * Used by the dispatcher tests and the daemon integration tests.
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
		} else {
			snprintf(err, errsz, "setting '%s': unknown setting for the mock channel", key);
			free(m);
			return NULL;
		}
	}
	return m;
}

static void sendit(void *inst, const struct ab_message *msg, struct ab_result *r)
{
	struct mock *m = inst;
	enum ab_status st = AB_OK;
	char line[256];
	int fd, n;

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
	if (m->record[0]) {
		n = snprintf(line, sizeof line, "%s %u %d\n", msg->id, msg->attempt, (int)st);
		fd = open(m->record, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0) {
			if (write(fd, line, (size_t)n) != n)
				m->host->log(m->host, AB_LOG_WARNING, "mock: short write");
			close(fd);
		}
	}
}

static void destroy(void *inst)
{
	free(inst);
}

static const struct ab_plugin api = {
	.abi = AB_PLUGIN_ABI, .size = sizeof(struct ab_plugin), .name = "mock",
	.description = "scriptable test channel",
	.create = create, .send = sendit, .destroy = destroy,
};

const struct ab_plugin *alertbridge_plugin(void)
{
	return &api;
}
