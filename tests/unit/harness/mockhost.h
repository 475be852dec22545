/*
 * mockhost.h - a mock struct ab_host for unit-testing plugins alone:
 * captures log lines, a settable clock, secrets from a small table, a
 * net_check (SSRF guard) that counts calls and refuses on demand, a
 * url_check that records what it was asked and answers url_result.
 */
#ifndef AB_MOCKHOST_H
#define AB_MOCKHOST_H

#include <stdbool.h>
#include <stdint.h>
#include <alertbridge/plugin.h>

struct mock_host {
	struct ab_host host;      /* pass &mh.host to plugins */
	int64_t now;              /* returned by now_ms */
	char log[8192];           /* every log line appended, '\n'-separated */
	int n_logs;
	bool net_refuse;          /* net_check refuses every address when set */
	int n_net_checks;         /* net_check calls */
	int url_result;           /* url_check's answer (enum ab_url_check), AB_URL_OK */
	int n_url_checks;         /* url_check calls */
	char url_seen[512];       /* the last URL url_check was given */
	int url_kind_seen;        /* ... its kind */
	int url_nets_seen;        /* ... and the number of allow_networks entries */
};

void mock_host_init(struct mock_host *mh);
/* Register a secret ref -> value (up to 16). */
void mock_host_secret(struct mock_host *mh, const char *ref, const char *value);

#endif
