/*
 * config_syslog.c - the "syslog" section of alertbridge.conf (listeners
 * and syslog sources).  Placeholder until the syslog-ingestion work lands:
 * the section is refused with a clear message.
 */
#include "config_int.h"

void ab_conf_syslog(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	(void)f;
	(void)dst;
	ab_conf_err(c, s, "the 'syslog' section is not supported by this build yet");
}

void ab_syslog_conf_free(struct ab_syslog_conf *sc)
{
	(void)sc;
}
