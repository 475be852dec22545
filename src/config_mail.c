/*
 * config_mail.c - the "milter", "mail_sources" and "profiles" sections of
 * alertbridge.conf.  Placeholder until the mail-ingestion work lands: the
 * sections are refused with a clear message.
 */
#include "config_int.h"

void ab_conf_milter(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	(void)f;
	(void)dst;
	ab_conf_err(c, s, "the 'milter' section is not supported by this build yet");
}

void ab_conf_mail_sources(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	(void)f;
	(void)dst;
	ab_conf_err(c, s, "the 'mail_sources' section is not supported by this build yet");
}

void ab_conf_profiles(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	(void)f;
	(void)dst;
	ab_conf_err(c, s, "the 'profiles' section is not supported by this build yet");
}

void ab_mail_conf_free(struct ab_mail_conf *mc)
{
	(void)mc;
}
