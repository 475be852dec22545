/*
 * config_syslog.c - the "syslog" section of alertbridge.conf: listeners,
 * syslog sources and the store high-water mark (see config_syslog.h for the
 * syntax and the struct it fills).
 *
 * Public (config_syslog.h): ab_conf_syslog (section handler of config.c's
 *         table), ab_syslog_conf_free, ab_syslog_proto_name,
 *         ab_syslog_facility_parse, ab_syslog_addr_split.
 * Diagnostics (all as FILE:LINE: via ab_conf_err, every error reported):
 *   bad or duplicate listener/source names, unknown proto, bad addresses
 *   ("127.0.0.1:5514", "[::1]:5514", "/abs/path" for unix), duplicate
 *   addresses, tls settings missing for proto "tls" or given for another
 *   proto, relative certificate paths, out-of-range limits, unknown
 *   facilities, regexes PCRE2 refuses (with the offset), sources naming an
 *   unknown listener.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_schema.h"
#include "config/config_syslog.h"
#include "lib/regex.h"

#define NAME_MAX_LEN 64
#define ADDR_MAX 256

static const char *const facility_names[24] = {
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
	"authpriv", "ftp", "ntp", "security", "console", "solaris-cron", "local0", "local1",
	"local2", "local3", "local4", "local5", "local6", "local7",
};

const char *ab_syslog_proto_name(enum ab_syslog_proto p)
{
	switch (p) {
	case AB_SYSLOG_UDP: return "udp";
	case AB_SYSLOG_TCP: return "tcp";
	case AB_SYSLOG_TLS: return "tls";
	case AB_SYSLOG_UNIX: return "unix";
	case AB_SYSLOG_RELP: return "relp";
	}
	return "?";
}

int ab_syslog_facility_parse(const char *s)
{
	char *end;
	long v;

	if (!s || !*s)
		return -1;
	for (int i = 0; i < 24; i++)
		if (strcasecmp(s, facility_names[i]) == 0)
			return i;
	if (!isdigit((unsigned char)s[0]))
		return -1;
	v = strtol(s, &end, 10);
	return (*end || v < 0 || v > 23) ? -1 : (int)v;
}

int ab_syslog_addr_split(const char *addr, char *host, size_t hostsz, char *port,
	size_t portsz, char *err, size_t errsz)
{
	const char *colon, *h = addr;
	size_t hl;
	char *end;
	long pv;

	if (!addr || !*addr || strlen(addr) >= ADDR_MAX) {
		snprintf(err, errsz, "empty or too long");
		return -1;
	}
	if (addr[0] == '[') {
		const char *rb = strchr(addr, ']');
		if (!rb || rb[1] != ':') {
			snprintf(err, errsz, "an IPv6 address is written [ADDR]:PORT");
			return -1;
		}
		h = addr + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon) {
			snprintf(err, errsz, "no port (write HOST:PORT, e.g. 127.0.0.1:5514)");
			return -1;
		}
		if (memchr(addr, ':', (size_t)(colon - addr))) {
			snprintf(err, errsz, "an IPv6 address is written [ADDR]:PORT");
			return -1;
		}
		hl = (size_t)(colon - addr);
	}
	pv = strtol(colon + 1, &end, 10);
	if (!isdigit((unsigned char)colon[1]) || *end || pv < 1 || pv > 65535) {
		snprintf(err, errsz, "port must be 1..65535");
		return -1;
	}
	if (hl >= hostsz) {
		snprintf(err, errsz, "host too long");
		return -1;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (strcmp(host, "*") == 0)
		host[0] = '\0';
	snprintf(port, portsz, "%ld", pv);
	return 0;
}

static bool name_ok(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > NAME_MAX_LEN || !(islower((unsigned char)v[0]) || isdigit((unsigned char)v[0])))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)v[i]) || isdigit((unsigned char)v[i]) || v[i] == '_' ||
		      v[i] == '-'))
			return false;
	return true;
}

static void h_name(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	const char *v = config_setting_get_string(s);

	if (!name_ok(v)) {
		ab_conf_err(c, s, "%s%s name '%.64s' must match [a-z0-9][a-z0-9_-]{0,63}",
			c->prefix, f->name, v);
		return;
	}
	*(char **)(void *)((char *)dst + f->off) = ab_conf_strdup(c, v);
}

static void h_proto(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	struct ab_syslog_listener_conf *l = dst;
	const char *v = config_setting_get_string(s);

	(void)f;
	for (int p = AB_SYSLOG_UDP; p <= AB_SYSLOG_RELP; p++) {
		if (strcmp(v, ab_syslog_proto_name((enum ab_syslog_proto)p)) == 0) {
			l->proto = (enum ab_syslog_proto)p;
			return;
		}
	}
	ab_conf_err(c, s, "%ssetting 'proto': unknown protocol '%.64s' (use udp, tcp, tls, "
		"relp or unix)", c->prefix, v);
	l->proto = (enum ab_syslog_proto)-1;
}

static void h_abs(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	const char *v = config_setting_get_string(s);

	if (v[0] != '/') {
		ab_conf_err(c, s, "%ssetting '%s' must be an absolute path (got '%.200s')",
			c->prefix, f->name, v);
		return;
	}
	ab_conf_h_string(c, s, f, dst);
}

static void h_facilities(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	struct ab_syslog_source_conf *src = dst;
	int n = config_setting_length(s);

	(void)f;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = config_setting_get_string(e);
		int fac = ab_syslog_facility_parse(v);

		if (fac < 0) {
			ab_conf_err(c, config_setting_source_line(e) ? e : s, "%sunknown facility "
				"'%.64s' (use kern, user, mail, daemon, auth, syslog, ..., local0-local7 "
				"or 0-23)", c->prefix, v);
			continue;
		}
		src->facilities |= 1u << fac;
	}
}

static void h_regex(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	struct ab_syslog_source_conf *src = dst;
	const char *v = config_setting_get_string(s);
	char msg[256];
	size_t off = 0;
	struct ab_regex *re;

	re = ab_regex_compile(v, 0, &off, msg, sizeof msg);
	if (!re) {
		ab_conf_err(c, s, "%ssetting 'regex': bad regular expression at offset %zu: %s",
			c->prefix, off, msg);
		return;
	}
	src->re = re;
	ab_conf_h_string(c, s, f, dst);
}

#define LOFF(m) offsetof(struct ab_syslog_listener_conf, m)
static const struct ab_conf_field listener_fields[] = {
	{ "name", AB_CONF_T_STRING, true, h_name, LOFF(name), 0, 0, 0 },
	{ "proto", AB_CONF_T_STRING, true, h_proto, 0, 0, 0, 0 },
	{ "address", AB_CONF_T_STRING, true, ab_conf_h_string, LOFF(address), 0, 0, 0 },
	{ "tls_cert", AB_CONF_T_STRING, false, h_abs, LOFF(tls_cert), 0, 0, 0 },
	{ "tls_key", AB_CONF_T_STRING, false, h_abs, LOFF(tls_key), 0, 0, 0 },
	{ "tls_ca", AB_CONF_T_STRING, false, h_abs, LOFF(tls_ca), 0, 0, 0 },
	{ "tls_verify_client", AB_CONF_T_BOOL, false, ab_conf_h_bool, LOFF(tls_verify_client), 0,
	  0, 0 },
	{ "max_message", AB_CONF_T_INT, false, ab_conf_h_int, LOFF(max_message), 0,
	  AB_SYSLOG_MIN_MESSAGE, AB_SYSLOG_MAX_MESSAGE },
	{ "max_connections", AB_CONF_T_INT, false, ab_conf_h_int, LOFF(max_connections), 0,
	  1, 65536 },
	{ "max_conns_per_source", AB_CONF_T_INT, false, ab_conf_h_int,
	  LOFF(max_conns_per_source), 0, 1, 65536 },
	{ "idle_timeout", AB_CONF_T_DURATION, false, ab_conf_h_duration, LOFF(idle_timeout_ms), 0,
	  0, 7LL * 24 * 3600 * 1000 },
	{ "idle_timeout_silent", AB_CONF_T_DURATION, false, ab_conf_h_duration,
	  LOFF(idle_timeout_silent_ms), 0, 0, 7LL * 24 * 3600 * 1000 },
};

#define SOFF(m) offsetof(struct ab_syslog_source_conf, m)
static const struct ab_conf_field source_fields[] = {
	{ "name", AB_CONF_T_STRING, true, h_name, SOFF(name), 0, 0, 0 },
	{ "listeners", AB_CONF_T_STRINGS, false, ab_conf_h_strings, SOFF(listeners),
	  SOFF(n_listeners), 0, 0 },
	{ "hosts", AB_CONF_T_STRINGS, false, ab_conf_h_globs, SOFF(hosts), SOFF(n_hosts), 0, 0 },
	{ "apps", AB_CONF_T_STRINGS, false, ab_conf_h_globs, SOFF(apps), SOFF(n_apps), 0, 0 },
	{ "facilities", AB_CONF_T_STRINGS, false, h_facilities, 0, 0, 0, 0 },
	{ "regex", AB_CONF_T_STRING, false, h_regex, SOFF(regex), 0, 0, 0 },
	{ "profile", AB_CONF_T_STRING, false, h_name, SOFF(profile), 0, 0, 0 },
	{ "drop", AB_CONF_T_BOOL, false, ab_conf_h_bool, SOFF(drop), 0, 0, 0 },
};

static void check_listener(struct ab_conf_ctx *c, const config_setting_t *g,
	struct ab_syslog_conf *sc, const config_setting_t **defs, size_t idx)
{
	struct ab_syslog_listener_conf *l = &sc->listeners[idx];
	char host[ADDR_MAX], port[16], why[128];
	bool tls_set = l->tls_cert || l->tls_key || l->tls_ca || l->tls_verify_client;

	const config_setting_t *a = config_setting_get_member(g, "address");

	if ((int)l->proto < 0 || !l->address)
		return;
	if (l->proto == AB_SYSLOG_UNIX) {
		if (l->address[0] != '/' || strlen(l->address) >= 108)
			ab_conf_err(c, a, "%ssetting 'address': a unix socket is an absolute path "
				"shorter than 108 bytes (got '%.200s')", c->prefix, l->address);
	} else if (ab_syslog_addr_split(l->address, host, sizeof host, port, sizeof port, why,
		   sizeof why) < 0) {
		ab_conf_err(c, a, "%ssetting 'address': bad address '%.200s': %s", c->prefix,
			l->address, why);
	}
	/* proto "relp" is RELP over TLS when tls_* settings are given */
	l->tls = l->proto == AB_SYSLOG_TLS || (l->proto == AB_SYSLOG_RELP && tls_set);
	if (l->tls && (!l->tls_cert || !l->tls_key))
		ab_conf_err(c, g, "%sproto \"%s\" with TLS needs 'tls_cert' and 'tls_key'", c->prefix,
			ab_syslog_proto_name(l->proto));
	if (l->tls && l->tls_verify_client && !l->tls_ca)
		ab_conf_err(c, g, "%s'tls_verify_client' needs 'tls_ca' (the CA that signs client "
			"certificates)", c->prefix);
	if (!l->tls && l->proto != AB_SYSLOG_RELP && tls_set)
		ab_conf_err(c, config_setting_get_member(g, "tls_cert") ? config_setting_get_member(g,
			"tls_cert") : g, "%stls_* settings are only for proto \"tls\" and \"relp\" "
			"(this is \"%s\")", c->prefix, ab_syslog_proto_name(l->proto));
	if (config_setting_get_member(g, "max_conns_per_source") &&
	    l->max_conns_per_source > l->max_connections)
		ab_conf_err(c, config_setting_get_member(g, "max_conns_per_source"),
			"%ssetting 'max_conns_per_source': %d is more than max_connections (%d)",
			c->prefix, l->max_conns_per_source, l->max_connections);
	if (!config_setting_get_member(g, "max_conns_per_source"))
		l->max_conns_per_source = l->max_connections / 4 > 0 ? l->max_connections / 4 : 1;
	for (size_t i = 0; i < idx; i++) {
		const struct ab_syslog_listener_conf *o = &sc->listeners[i];
		bool same_family = (o->proto == AB_SYSLOG_UDP) == (l->proto == AB_SYSLOG_UDP);

		if (l->name && o->name && strcmp(l->name, o->name) == 0)
			ab_conf_err(c, g, "duplicate syslog listener name '%s' (first defined at "
				"line %d)", l->name, config_setting_source_line(defs[i]));
		if (o->address && same_family && strcmp(o->address, l->address) == 0)
			ab_conf_err(c, a, "%saddress '%.200s' is already used by listener '%s'",
				c->prefix, l->address, o->name ? o->name : "?");
	}
}

struct llist {
	struct ab_syslog_conf *sc;
	const config_setting_t **defs;    /* where each listener is defined */
};

static void do_listener(struct ab_conf_ctx *c, const config_setting_t *g, int idx,
	const char *what, void *arg)
{
	struct llist *ll = arg;
	struct ab_syslog_conf *sc = ll->sc;
	struct ab_syslog_listener_conf *l = &sc->listeners[sc->n_listeners];

	(void)idx;
	l->max_message = AB_SYSLOG_DEFAULT_MAX_MESSAGE;
	l->max_connections = AB_SYSLOG_DEFAULT_MAX_CONN;
	l->idle_timeout_ms = AB_SYSLOG_DEFAULT_IDLE_MS;
	l->idle_timeout_silent_ms = AB_SYSLOG_DEFAULT_SILENT_MS;
	ab_conf_check_group(c, g, listener_fields,
		sizeof listener_fields / sizeof listener_fields[0], what, l, NULL);
	l->file = ab_conf_strdup(c, config_setting_source_file(g) ?
		config_setting_source_file(g) : "?");
	l->line = config_setting_source_line(g);
	ll->defs[sc->n_listeners] = g;
	sc->n_listeners++;
	check_listener(c, g, sc, ll->defs, sc->n_listeners - 1);
}

static void h_listeners(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	static const struct ab_conf_list list = {
		"syslog listeners", "{ name = \"...\"; proto = \"tcp\"; address = "
		"\"127.0.0.1:5514\"; }", "syslog listener", name_ok,
	};
	struct ab_syslog_conf *sc = dst;
	struct llist ll = { sc, NULL };
	int n = config_setting_length(s);

	(void)f;
	if (n > AB_SYSLOG_MAX_LISTENERS) {
		ab_conf_err(c, s, "syslog: %d listeners (at most %d)", n, AB_SYSLOG_MAX_LISTENERS);
		return;
	}
	sc->listeners = ab_conf_calloc(c, (size_t)n + 1, sizeof *sc->listeners);
	ll.defs = calloc((size_t)n + 1, sizeof *ll.defs);
	if (sc->listeners && ll.defs)
		ab_conf_each_group(c, s, &list, do_listener, &ll);
	free(ll.defs);
}

static void do_source(struct ab_conf_ctx *c, const config_setting_t *g, int idx,
	const char *what, void *arg)
{
	struct ab_syslog_conf *sc = arg;
	struct ab_syslog_source_conf *src = &sc->sources[sc->n_sources];

	(void)idx;
	ab_conf_check_group(c, g, source_fields, sizeof source_fields / sizeof source_fields[0],
		what, src, NULL);
	src->file = ab_conf_strdup(c, config_setting_source_file(g) ?
		config_setting_source_file(g) : "?");
	src->line = config_setting_source_line(g);
	for (size_t k = 0; k < sc->n_sources; k++)
		if (src->name && sc->sources[k].name && !strcmp(src->name, sc->sources[k].name))
			ab_conf_err(c, g, "duplicate syslog source name '%s' (first defined at line "
				"%d)", src->name, sc->sources[k].line);
	sc->n_sources++;
}

static void h_sources(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	static const struct ab_conf_list list = {
		"syslog sources", "{ name = \"...\"; apps = [\"...\"]; }", "syslog source",
		name_ok,
	};
	struct ab_syslog_conf *sc = dst;
	int n = config_setting_length(s);

	(void)f;
	if (n > AB_SYSLOG_MAX_SOURCES) {
		ab_conf_err(c, s, "syslog: %d sources (at most %d)", n, AB_SYSLOG_MAX_SOURCES);
		return;
	}
	sc->sources = ab_conf_calloc(c, (size_t)n + 1, sizeof *sc->sources);
	if (sc->sources)
		ab_conf_each_group(c, s, &list, do_source, sc);
}

static void h_high_water(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	ab_conf_h_int(c, s, f, dst);
}

#define COFF(m) offsetof(struct ab_syslog_conf, m)
static const struct ab_conf_field syslog_fields[] = {
	{ "listeners", AB_CONF_T_LIST, false, h_listeners, 0, 0, 0, 0 },
	{ "sources", AB_CONF_T_LIST, false, h_sources, 0, 0, 0, 0 },
	{ "high_water", AB_CONF_T_INT, false, h_high_water, COFF(high_water), 0, 0, 100000000 },
	{ "status_file", AB_CONF_T_STRING, false, ab_conf_h_string, COFF(status_file), 0, 0, 0 },
	{ "journal_max_mb", AB_CONF_T_INT, false, ab_conf_h_int, COFF(journal_max_mb), 0, 64,
	  1048576 },
};

void ab_conf_syslog(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	struct ab_syslog_conf **scp = (struct ab_syslog_conf **)(void *)((char *)dst + f->off);
	struct ab_syslog_conf *sc;

	sc = ab_conf_calloc(c, 1, sizeof *sc);
	if (!sc)
		return;
	ab_syslog_conf_free(*scp);
	*scp = sc;
	sc->high_water = AB_SYSLOG_DEFAULT_HIGH_WATER;
	ab_conf_check_group(c, s, syslog_fields, sizeof syslog_fields / sizeof syslog_fields[0],
		"syslog", sc, NULL);
	if (!sc->status_file)
		sc->status_file = ab_conf_strdup(c, "syslog.status");
	/* Sources may only name listeners that exist. */
	for (size_t i = 0; i < sc->n_sources; i++) {
		const struct ab_syslog_source_conf *src = &sc->sources[i];

		for (size_t k = 0; k < src->n_listeners; k++) {
			bool found = false;

			for (size_t j = 0; j < sc->n_listeners && !found; j++)
				found = sc->listeners[j].name &&
					strcmp(sc->listeners[j].name, src->listeners[k]) == 0;
			if (!found) {
				const config_setting_t *g = config_setting_get_elem(
					config_setting_get_member(s, "sources"), (unsigned)i);
				ab_conf_err(c, g, "syslog source '%s': unknown listener '%.64s' "
					"(define it in syslog.listeners)", src->name ? src->name : "?",
					src->listeners[k]);
			}
		}
	}
}

void ab_syslog_conf_free(struct ab_syslog_conf *sc)
{
	if (!sc)
		return;
	for (size_t i = 0; i < sc->n_listeners; i++) {
		struct ab_syslog_listener_conf *l = &sc->listeners[i];
		free(l->name);
		free(l->address);
		free(l->tls_cert);
		free(l->tls_key);
		free(l->tls_ca);
		free(l->file);
	}
	free(sc->listeners);
	for (size_t i = 0; i < sc->n_sources; i++) {
		struct ab_syslog_source_conf *src = &sc->sources[i];
		free(src->name);
		ab_conf_strv_free(src->listeners, src->n_listeners);
		ab_conf_strv_free(src->hosts, src->n_hosts);
		ab_conf_strv_free(src->apps, src->n_apps);
		free(src->regex);
		ab_regex_free(src->re);
		free(src->profile);
		free(src->file);
	}
	free(sc->sources);
	free(sc->status_file);
	free(sc);
}
