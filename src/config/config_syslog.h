/*
 * config_syslog.h - the "syslog" section of alertbridge.conf, as parsed by
 * config_syslog.c and used by syslog_in.c and syslog_source.c.
 *
 *   syslog = {
 *     high_water = 100000;      # queued jobs above which TCP input pauses
 *     journal_max_mb = 1024;    # disk the syslog journal may use, >= 64 (full: input waits)
 *     status_file = "syslog.status";   # relative to state_dir
 *     listeners = (
 *       { name = "tcp"; proto = "tcp"; address = "127.0.0.1:5514";
 *         max_message = 65536; max_connections = 256; max_conns_per_source = 64;
 *         idle_timeout = "10m"; idle_timeout_silent = "30s"; },
 *       { name = "relp"; proto = "relp"; address = "127.0.0.1:2514"; },  # tls_* too
 *       { name = "tls"; proto = "tls"; address = "[::]:6514";
 *         tls_cert = "/etc/...crt"; tls_key = "/etc/...key";
 *         tls_ca = "/etc/...ca"; tls_verify_client = true; },
 *       { name = "local"; proto = "unix"; address = "/run/alertbridge/syslog.sock"; }
 *     );
 *     sources = (
 *       { name = "wazuh"; listeners = ["tcp"]; hosts = ["siem-*"]; apps = ["ossec*"];
 *         facilities = ["local4", "auth"]; regex = "rule"; profile = "wazuh"; drop = false; }
 *     );
 *   };
 */
#ifndef AB_CONFIG_SYSLOG_H
#define AB_CONFIG_SYSLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/regex.h"

enum ab_syslog_proto {
	AB_SYSLOG_UDP = 0,
	AB_SYSLOG_TCP = 1,
	AB_SYSLOG_TLS = 2,
	AB_SYSLOG_UNIX = 3,       /* unix datagram socket */
	AB_SYSLOG_RELP = 4,       /* RELP over TCP (TLS with tls_cert/tls_key) */
};

struct ab_mail_conf;      /* config_mail.h: the profiles */

#define AB_SYSLOG_DEFAULT_MAX_MESSAGE (64 * 1024)
#define AB_SYSLOG_MIN_MESSAGE 480           /* RFC 5424 6.1 */
#define AB_SYSLOG_MAX_MESSAGE (1024 * 1024)
#define AB_SYSLOG_DEFAULT_MAX_CONN 256
#define AB_SYSLOG_DEFAULT_IDLE_MS (10 * 60 * 1000)
#define AB_SYSLOG_DEFAULT_SILENT_MS (30 * 1000)
#define AB_SYSLOG_DEFAULT_HIGH_WATER 100000
#define AB_SYSLOG_MAX_LISTENERS 64
#define AB_SYSLOG_MAX_SOURCES 1024

struct ab_syslog_listener_conf {
	char *name;
	enum ab_syslog_proto proto;
	char *address;            /* "host:port", "[v6]:port" or "/path" (unix) */
	char *tls_cert, *tls_key, *tls_ca;   /* absolute paths (tls) */
	bool tls_verify_client;   /* require a client certificate signed by tls_ca */
	int max_message;          /* bytes; longer messages are truncated and marked */
	int max_connections;      /* tcp/tls/relp */
	int max_conns_per_source; /* per peer address; set: max_connections / 4, >= 1 */
	int64_t idle_timeout_ms;  /* tcp/tls/relp; 0 = never */
	int64_t idle_timeout_silent_ms;  /* until the first message; 0 = idle_timeout */
	bool tls;                 /* proto tls, or relp with tls_cert/tls_key */
	char *file;               /* where it is defined */
	int line;
};

struct ab_syslog_source_conf {
	char *name;
	char **listeners;         /* listener names; none = any */
	size_t n_listeners;
	char **hosts;             /* globs over origin.host; none = any */
	size_t n_hosts;
	char **apps;              /* globs over the app-name / tag; none = any */
	size_t n_apps;
	uint32_t facilities;      /* bitmask of 1u << facility (0..23); 0 = any */
	char *regex;              /* PCRE2 over the line as received; NULL = any */
	struct ab_regex *re;      /* lib/regex.h, compiled from regex */
	char *profile;            /* profile name, NULL = none */
	bool drop;                /* lines of this source are counted and dropped */
	char *file;
	int line;
};

struct ab_syslog_conf {
	struct ab_syslog_listener_conf *listeners;
	size_t n_listeners;
	struct ab_syslog_source_conf *sources;
	size_t n_sources;
	int high_water;           /* queued jobs; 0 = no limit */
	int journal_max_mb;       /* disk cap of the syslog journal, MiB; 0 = the default */
	char *status_file;        /* as written; relative paths are under state_dir */
	const struct ab_mail_conf *profiles;  /* borrowed from cfg->mail: named profiles
	                                       * (set by config.c once all is read) */
};

const char *ab_syslog_proto_name(enum ab_syslog_proto p);
/* Split "host:port" / "[v6]:port" (host may be "*" or empty = any address).
 * 0 or -1 with the reason in err. */
int ab_syslog_addr_split(const char *addr, char *host, size_t hostsz, char *port,
	size_t portsz, char *err, size_t errsz);
/* Facility name ("kern", "auth", "local4", ... or "0".."23") -> number, or -1. */
int ab_syslog_facility_parse(const char *s);

/* For config.c's table (config_schema.h): the "syslog" group, stored as a
 * struct ab_syslog_conf pointer at dst + f->off. */
struct ab_conf_ctx;
struct ab_conf_field;
struct config_setting_t;   /* libconfig.h */
void ab_conf_syslog(struct ab_conf_ctx *c, const struct config_setting_t *s,
	const struct ab_conf_field *f, void *dst);
void ab_syslog_conf_free(struct ab_syslog_conf *sc);

#endif
