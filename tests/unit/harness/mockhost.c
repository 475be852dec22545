/*
 * mockhost.c - mock host services for plugin unit tests (see mockhost.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mockhost.h"

static struct {
	const struct mock_host *mh;
	char ref[128];
	char value[512];
} secrets[16];
static int n_secrets;

static void mock_log(const struct ab_host *h, int level, const char *fmt, ...)
{
	struct mock_host *mh = h->ctx;
	size_t used = strlen(mh->log);
	va_list ap;

	(void)level;
	va_start(ap, fmt);
	if (used < sizeof mh->log - 2) {
		vsnprintf(mh->log + used, sizeof mh->log - used - 1, fmt, ap);
		used = strlen(mh->log);
		mh->log[used] = '\n';
		mh->log[used + 1] = '\0';
	}
	va_end(ap);
	mh->n_logs++;
}

static int64_t mock_now(const struct ab_host *h)
{
	return ((const struct mock_host *)h->ctx)->now;
}

static int mock_secret(const struct ab_host *h, const char *ref, char *out, size_t outsz,
	char *err, size_t errsz)
{
	for (int i = 0; i < n_secrets; i++) {
		if (secrets[i].mh == h->ctx && strcmp(secrets[i].ref, ref) == 0) {
			snprintf(out, outsz, "%s", secrets[i].value);
			return 0;
		}
	}
	if (strncmp(ref, "enc:", 4) == 0 || strncmp(ref, "file:", 5) == 0 ||
	    strncmp(ref, "env:", 4) == 0) {
		snprintf(err, errsz, "mock host: unknown secret %s", ref);
		return -1;
	}
	snprintf(out, outsz, "%s", ref);
	return 0;
}

static int mock_net_check(const struct ab_host *h, const struct sockaddr *sa, size_t salen,
	const char *const *allow_networks, char *why, size_t whysz)
{
	struct mock_host *mh = h->ctx;

	(void)sa;
	(void)salen;
	(void)allow_networks;
	mh->n_net_checks++;
	if (mh->net_refuse) {
		snprintf(why, whysz, "mock guard: address refused");
		return -1;
	}
	return 0;
}

static int mock_url_check(const struct ab_host *h, const char *url, enum ab_url_kind kind,
	const char *const *allow_networks, char *why, size_t whysz)
{
	struct mock_host *mh = h->ctx;

	mh->n_url_checks++;
	snprintf(mh->url_seen, sizeof mh->url_seen, "%s", url ? url : "");
	mh->url_kind_seen = (int)kind;
	for (mh->url_nets_seen = 0; allow_networks && allow_networks[mh->url_nets_seen];)
		mh->url_nets_seen++;
	if (mh->url_result != AB_URL_OK)
		snprintf(why, whysz, "mock url check %d", mh->url_result);
	return mh->url_result;
}

void mock_host_init(struct mock_host *mh)
{
	memset(mh, 0, sizeof *mh);
	mh->host.abi = AB_PLUGIN_ABI;
	mh->host.size = sizeof mh->host;
	mh->host.ctx = mh;
	mh->host.log = mock_log;
	mh->host.now_ms = mock_now;
	mh->host.secret = mock_secret;
	mh->host.http = NULL;
	mh->host.net_check = mock_net_check;
	mh->host.url_check = mock_url_check;
	mh->now = 1700000000000LL;
}

void mock_host_secret(struct mock_host *mh, const char *ref, const char *value)
{
	if (n_secrets >= 16)
		return;
	secrets[n_secrets].mh = mh;
	snprintf(secrets[n_secrets].ref, sizeof secrets[0].ref, "%s", ref);
	snprintf(secrets[n_secrets].value, sizeof secrets[0].value, "%s", value);
	n_secrets++;
}
