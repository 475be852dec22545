/*
 * config_mail.h - the mail side of alertbridge.conf (config_mail.c): the
 * "milter" listener, "mail_sources" (which mails are alerts, which profile
 * parses them, what happens to the mail) and parser "profiles" (which the
 * syslog sources use too).
 *
 *   milter = { socket = "inet:10025@127.0.0.1"; timeout = "30s";
 *              max_message; max_header; max_depth; max_parts; max_decoded;
 *              route_prefix = "route"; };
 *   mail_sources = ( { name; recipients = [globs]; senders = [globs];
 *              headers = ["Name: regex"]; networks = ["10.0.0.0/8"];
 *              profile = "generic"; disposition = "pass" | "consume";
 *              trusted_networks = [...]; authserv_id = "mx.example.com";
 *              auth_methods = ["dkim", "spf", "dmarc"];
 *              untrusted = "mark" | "reject" | "pass";
 *              untrusted_max_severity = "medium"; source = "mail"; } );
 *   profiles = ( "profiles.d/NAME.conf" or a glob, { name = ...; extractors = (...); } );
 */
#ifndef AB_CONFIG_MAIL_H
#define AB_CONFIG_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "event/event.h"
#include "lib/regex.h"
#include "net/cidr.h"
#include "parse/mail.h"
#include "parse/profile.h"

enum ab_disposition { AB_DISP_PASS = 0, AB_DISP_CONSUME = 1 };
enum ab_untrusted { AB_UNTRUSTED_MARK = 0, AB_UNTRUSTED_REJECT = 1, AB_UNTRUSTED_PASS = 2 };

struct ab_hdr_match {
	char *name;              /* header field name */
	char *pattern;
	struct ab_regex *re;     /* lib/regex.h, caseless */
};

struct ab_mail_source {
	char *name;
	char *file;
	int line;
	char **rcpt;             /* envelope recipient globs */
	size_t n_rcpt;
	char **senders;          /* envelope sender globs */
	size_t n_senders;
	struct ab_hdr_match *headers;
	size_t n_headers;
	struct ab_cidr *networks; /* client networks that may use this source */
	size_t n_networks;
	char *profile_name;      /* NULL = built-in defaults */
	const struct ab_profile *profile;
	enum ab_disposition disposition;
	struct ab_cidr *trusted; /* trusted client networks */
	size_t n_trusted;
	char *authserv_id;       /* trusted Authentication-Results producer */
	char **auth_methods;     /* methods whose "pass" makes a sender trusted */
	size_t n_auth_methods;
	enum ab_untrusted untrusted;
	enum ab_severity untrusted_max;
	char *event_source;      /* event "source" when the profile sets none */
};

struct ab_detect;

struct ab_mail_conf {
	char *socket;            /* NULL: no milter */
	char *socket_file;       /* where it was set */
	int socket_line;
	int64_t timeout_ms;
	struct ab_mail_limits limits;
	char *route_prefix;      /* "route": route+CHANNEL@domain */
	struct ab_mail_source *sources;
	size_t n_sources;
	struct ab_profile **profiles;
	size_t n_profiles;
	struct ab_detect *detect;         /* detection order over profiles (parse/detect.h) */
};

const struct ab_profile *ab_mail_profile(const struct ab_mail_conf *mc, const char *name);
const struct ab_mail_source *ab_mail_source_by_name(const struct ab_mail_conf *mc,
	const char *name);

/* For config.c's table (config_schema.h): "milter", "mail_sources" and
 * "profiles" all fill the one struct ab_mail_conf whose pointer is at
 * dst + f->off (made by the first of them to appear). */
struct ab_conf_ctx;
struct ab_conf_field;
struct config_setting_t;   /* libconfig.h */
void ab_conf_milter(struct ab_conf_ctx *c, const struct config_setting_t *s,
	const struct ab_conf_field *f, void *dst);
void ab_conf_mail_sources(struct ab_conf_ctx *c, const struct config_setting_t *s,
	const struct ab_conf_field *f, void *dst);
void ab_conf_profiles(struct ab_conf_ctx *c, const struct config_setting_t *s,
	const struct ab_conf_field *f, void *dst);
/* Once the whole file is read: mail sources -> profiles (root: the file's
 * root setting, for the place of an error). */
void ab_conf_mail_finish(struct ab_conf_ctx *c, struct ab_mail_conf *mc,
	const struct config_setting_t *root);
void ab_mail_conf_free(struct ab_mail_conf *mc);

#endif
