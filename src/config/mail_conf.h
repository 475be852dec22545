/*
 * mail_conf.h - the mail side of alertbridge.conf (config_mail.c): the
 * milter listener, mail sources (which mails are alerts, which profile
 * parses them, what happens to the mail) and parser profiles.
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
#ifndef AB_MAIL_CONF_H
#define AB_MAIL_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "event/event.h"
#include "parse/mail.h"
#include "parse/profile.h"

struct ab_net {
	int family;              /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int bits;
};

enum ab_disposition { AB_DISP_PASS = 0, AB_DISP_CONSUME = 1 };
enum ab_untrusted { AB_UNTRUSTED_MARK = 0, AB_UNTRUSTED_REJECT = 1, AB_UNTRUSTED_PASS = 2 };

struct ab_hdr_match {
	char *name;              /* header field name */
	char *pattern;
	void *re;                /* pcre2_code * */
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
	struct ab_net *networks; /* client networks that may use this source */
	size_t n_networks;
	char *profile_name;      /* NULL = built-in defaults */
	const struct ab_profile *profile;
	enum ab_disposition disposition;
	struct ab_net *trusted;  /* trusted client networks */
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

/* "10.0.0.0/8", "::1", "fd00::/8" -> net; 0 or -1. */
int ab_net_parse(const char *s, struct ab_net *out);
bool ab_net_match(const struct ab_net *nets, size_t n, const struct sockaddr *sa);

#endif
