/*
 * config_mail.c - the "milter", "mail_sources" and "profiles" sections of
 * alertbridge.conf (struct ab_mail_conf, see config_mail.h for the syntax).
 *
 * Public (config_mail.h): ab_conf_milter, ab_conf_mail_sources,
 *   ab_conf_profiles (section handlers of config.c's table),
 *   ab_conf_mail_finish (cross references, called once all is read),
 *   ab_mail_conf_free, ab_mail_profile, ab_mail_source_by_name.
 *
 * Profiles: each element of "profiles" is either an inline group or a
 * string naming profile files, relative to the main file's directory; a
 * string may be a glob (profiles.d/ star .conf, expanded in sorted order),
 * which libconfig's own @include cannot do.  A profile file holds one
 * top-level group "profile = { name = ...; extractors = ( ... ); };".
 *
 * Diagnostics: "FILE:LINE: ..." through ab_conf_err for every bad value:
 * unknown extractor types, bad targets in maps, bad regexes (with the
 * PCRE2 message and offset), bad networks (net/cidr.h: host bits after
 * the prefix are refused with the network meant), unknown profiles, duplicate
 * names, a profile file that cannot be read or parsed (its own line).
 */
#include <glob.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_mail.h"
#include "config/config_schema.h"
#include "lib/buf.h"
#include "lib/regex.h"
#include "lib/util.h"
#include "net/cidr.h"
#include "parse/detect.h"

#define MAX_PROFILES 256
#define MAX_SOURCES 256
#define MAX_EXTRACTORS 64
#define MAX_PROFILE_FILES 256

#define MOFF(m) offsetof(struct ab_mail_conf, m)
#define SOFF(m) offsetof(struct ab_mail_source, m)
#define XOFF(m) offsetof(struct ab_extractor, m)
#define DOFF(m) offsetof(struct ab_detect_alt, m)
#define MAX_DETECT 16            /* alternatives per profile */
#define POFF(m) offsetof(struct ab_profile, m)

/* The struct ab_mail_conf at dst + f->off, made by the first section. */
static struct ab_mail_conf *get_mc(struct ab_conf_ctx *c, const struct ab_conf_field *f,
				   void *dst)
{
	struct ab_mail_conf **mcp = (struct ab_mail_conf **)(void *)((char *)dst + f->off);

	if (!*mcp) {
		struct ab_mail_conf *mc = ab_conf_calloc(c, 1, sizeof *mc);

		if (!mc)
			return NULL;
		mc->timeout_ms = 30000;
		ab_mail_limits_default(&mc->limits);
		*mcp = mc;
	}
	return *mcp;
}

/* ------------------------------------------------------------ milter */

static void h_socket(struct ab_conf_ctx *c, const config_setting_t *s, const struct ab_conf_field *f,
		     void *dst)
{
	const char *v = config_setting_get_string(s);
	struct ab_mail_conf *mc = dst;

	if (strncmp(v, "unix:", 5) && strncmp(v, "local:", 6) && strncmp(v, "inet:", 5) &&
	    strncmp(v, "inet6:", 6)) {
		ab_conf_err(c, s, "milter: socket '%.80s' must be unix:/path, inet:PORT@HOST or "
			    "inet6:PORT@HOST (note: Postfix writes inet:HOST:PORT, libmilter "
			    "inet:PORT@HOST)", v);
		return;
	}
	if (!strncmp(v, "inet", 4) && !strchr(v, '@')) {
		ab_conf_err(c, s, "milter: socket '%.80s' has no @HOST: listen on loopback with "
			    "inet:PORT@127.0.0.1 (an empty host would listen on every address)", v);
		return;
	}
	ab_conf_h_string(c, s, f, dst);
	free(mc->socket_file);
	mc->socket_file = ab_conf_strdup(c, config_setting_source_file(s) ?
					 config_setting_source_file(s) : "");
	mc->socket_line = (int)config_setting_source_line(s);
}

static void h_size(struct ab_conf_ctx *c, const config_setting_t *s, const struct ab_conf_field *f,
		   void *dst)
{
	long long v = config_setting_get_int64(s);

	if (v < f->min || v > f->max) {
		ab_conf_err(c, s, "milter: setting '%s' must be between %lld and %lld (got %lld)",
			    f->name, f->min, f->max, v);
		return;
	}
	*(size_t *)(void *)((char *)dst + f->off) = (size_t)v;
}

static void h_route_prefix(struct ab_conf_ctx *c, const config_setting_t *s,
			   const struct ab_conf_field *f, void *dst)
{
	const char *v = config_setting_get_string(s);
	size_t i;

	for (i = 0; v[i]; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') || v[i] == '-' ||
		      v[i] == '_' || v[i] == '.'))
			break;
	if (!v[0] || v[i] || i > 64) {
		ab_conf_err(c, s, "milter: route_prefix '%.80s' must be a plain local part such as "
			    "\"route\" (mail to route+CHANNEL@domain goes to CHANNEL)", v);
		return;
	}
	ab_conf_h_string(c, s, f, dst);
}

#define LIM(m) (MOFF(limits) + offsetof(struct ab_mail_limits, m))
static const struct ab_conf_field milter_fields[] = {
	{ "socket", AB_CONF_T_STRING, true, h_socket, MOFF(socket), 0, 0, 0 },
	{ "timeout", AB_CONF_T_DURATION, false, ab_conf_h_duration, MOFF(timeout_ms), 0,
	  1000, 3600000 },
	{ "max_message", AB_CONF_T_INT, false, h_size, LIM(max_message), 0, 1024, 1LL << 30 },
	{ "max_header", AB_CONF_T_INT, false, h_size, LIM(max_header), 0, 256, 16LL << 20 },
	{ "max_depth", AB_CONF_T_INT, false, h_size, LIM(max_depth), 0, 1, 100 },
	{ "max_parts", AB_CONF_T_INT, false, h_size, LIM(max_parts), 0, 1, 10000 },
	{ "max_decoded", AB_CONF_T_INT, false, h_size, LIM(max_decoded), 0, 1024, 1LL << 30 },
	{ "route_prefix", AB_CONF_T_STRING, false, h_route_prefix, MOFF(route_prefix), 0, 0, 0 },
};

void ab_conf_milter(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	struct ab_mail_conf *mc = get_mc(c, f, dst);

	if (!mc)
		return;
	ab_conf_check_group(c, s, milter_fields, sizeof milter_fields / sizeof milter_fields[0],
			    "milter", mc, NULL);
}

/* ------------------------------------------------------------ mail sources */

static void h_disposition(struct ab_conf_ctx *c, const config_setting_t *s,
			  const struct ab_conf_field *f, void *dst)
{
	const char *v = config_setting_get_string(s);
	struct ab_mail_source *src = dst;

	(void)f;
	if (!strcmp(v, "pass"))
		src->disposition = AB_DISP_PASS;
	else if (!strcmp(v, "consume"))
		src->disposition = AB_DISP_CONSUME;
	else
		ab_conf_err(c, s, "mail source: disposition '%.40s' must be \"pass\" (deliver, "
			    "add X-Alertbridge-Event) or \"consume\" (remove the bridge "
			    "recipients)", v);
}

static void h_untrusted(struct ab_conf_ctx *c, const config_setting_t *s,
			const struct ab_conf_field *f, void *dst)
{
	const char *v = config_setting_get_string(s);
	struct ab_mail_source *src = dst;

	(void)f;
	if (!strcmp(v, "mark"))
		src->untrusted = AB_UNTRUSTED_MARK;
	else if (!strcmp(v, "reject"))
		src->untrusted = AB_UNTRUSTED_REJECT;
	else if (!strcmp(v, "pass"))
		src->untrusted = AB_UNTRUSTED_PASS;
	else
		ab_conf_err(c, s, "mail source: untrusted '%.40s' must be \"mark\" (cap the "
			    "severity, add \"unverified sender\"), \"reject\" or \"pass\" (no "
			    "event, mail untouched)", v);
}

static void h_maxsev(struct ab_conf_ctx *c, const config_setting_t *s,
		     const struct ab_conf_field *f, void *dst)
{
	const char *v = config_setting_get_string(s);
	struct ab_mail_source *src = dst;
	enum ab_severity sev;

	(void)f;
	if (ab_severity_parse(v, &sev) < 0 || strcmp(ab_severity_name(sev), v)) {
		ab_conf_err(c, s, "mail source: untrusted_max_severity '%.40s' must be one of "
			    "critical, high, medium, low, info", v);
		return;
	}
	src->untrusted_max = sev;
}

static void h_hdrs(struct ab_conf_ctx *c, const config_setting_t *s, const struct ab_conf_field *f,
		   void *dst)
{
	struct ab_mail_source *src = dst;
	int i, len = config_setting_length(s);

	(void)f;
	if (len > 64) {
		ab_conf_err(c, s, "mail source: at most 64 header matches");
		return;
	}
	src->headers = ab_conf_calloc(c, (size_t)len, sizeof *src->headers);
	if (!src->headers)
		return;
	for (i = 0; i < len; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = config_setting_get_string(e), *colon = strchr(v, ':');
		struct ab_hdr_match *h = &src->headers[src->n_headers];
		const char *pat;
		char msg[160];
		size_t eo;

		if (!colon || colon == v || colon - v > 128) {
			ab_conf_err(c, e, "mail source: header match '%.80s' must be \"Name: "
				    "regex\", e.g. \"X-Mailer: ^DefectDojo\"", v);
			continue;
		}
		pat = colon + 1;
		while (*pat == ' ')
			pat++;
		h->re = ab_regex_compile(pat, AB_REGEX_CASELESS, &eo, msg, sizeof msg);
		if (!h->re) {
			ab_conf_err(c, e, "mail source: header match '%.80s': bad regex at offset "
				    "%zu: %s", v, eo, msg);
			continue;
		}
		h->name = strndup(v, (size_t)(colon - v));
		h->pattern = ab_conf_strdup(c, pat);
		src->n_headers++;
	}
}

static void h_name(struct ab_conf_ctx *c, const config_setting_t *s, const struct ab_conf_field *f,
		   void *dst)
{
	const char *v = config_setting_get_string(s);
	size_t i;

	for (i = 0; v[i]; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') || v[i] == '-' ||
		      v[i] == '_'))
			break;
	if (!v[0] || v[i] || i > 64) {
		ab_conf_err(c, s, "setting '%s': bad name '%.80s' (use [a-z0-9_-], at most 64 "
			    "characters)", f->name, v);
		return;
	}
	ab_conf_h_string(c, s, f, dst);
}

static const struct ab_conf_field source_fields[] = {
	{ "name", AB_CONF_T_STRING, true, h_name, SOFF(name), 0, 0, 0 },
	{ "recipients", AB_CONF_T_STRINGS, false, ab_conf_h_globs, SOFF(rcpt), SOFF(n_rcpt), 0, 0 },
	{ "senders", AB_CONF_T_STRINGS, false, ab_conf_h_globs, SOFF(senders), SOFF(n_senders),
	  0, 0 },
	{ "headers", AB_CONF_T_STRINGS, false, h_hdrs, 0, 0, 0, 0 },
	{ "networks", AB_CONF_T_STRINGS, false, ab_conf_h_nets, SOFF(networks), SOFF(n_networks), 0, 0 },
	{ "profile", AB_CONF_T_STRING, false, h_name, SOFF(profile_name), 0, 0, 0 },
	{ "disposition", AB_CONF_T_STRING, false, h_disposition, 0, 0, 0, 0 },
	{ "trusted_networks", AB_CONF_T_STRINGS, false, ab_conf_h_nets, SOFF(trusted), SOFF(n_trusted),
	  0, 0 },
	{ "authserv_id", AB_CONF_T_STRING, false, ab_conf_h_string, SOFF(authserv_id), 0, 0, 0 },
	{ "auth_methods", AB_CONF_T_STRINGS, false, ab_conf_h_strings, SOFF(auth_methods),
	  SOFF(n_auth_methods), 0, 0 },
	{ "untrusted", AB_CONF_T_STRING, false, h_untrusted, 0, 0, 0, 0 },
	{ "untrusted_max_severity", AB_CONF_T_STRING, false, h_maxsev, 0, 0, 0, 0 },
	{ "source", AB_CONF_T_STRING, false, ab_conf_h_string, SOFF(event_source), 0, 0, 0 },
};

static void free_source(struct ab_mail_source *s)
{
	size_t i;

	free(s->name);
	free(s->file);
	for (i = 0; i < s->n_rcpt; i++)
		free(s->rcpt[i]);
	free(s->rcpt);
	for (i = 0; i < s->n_senders; i++)
		free(s->senders[i]);
	free(s->senders);
	for (i = 0; s->headers && i < s->n_headers; i++) {
		free(s->headers[i].name);
		free(s->headers[i].pattern);
		ab_regex_free(s->headers[i].re);
	}
	free(s->headers);
	free(s->networks);
	free(s->profile_name);
	free(s->trusted);
	free(s->authserv_id);
	for (i = 0; i < s->n_auth_methods; i++)
		free(s->auth_methods[i]);
	free(s->auth_methods);
	free(s->event_source);
}

void ab_conf_mail_sources(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	struct ab_mail_conf *mc = get_mc(c, f, dst);
	int i, len = config_setting_length(s);

	if (!mc)
		return;
	if (len > MAX_SOURCES) {
		ab_conf_err(c, s, "mail_sources: at most %d sources", MAX_SOURCES);
		return;
	}
	mc->sources = ab_conf_calloc(c, (size_t)len, sizeof *mc->sources);
	if (!mc->sources)
		return;
	for (i = 0; i < len; i++) {
		const config_setting_t *g = config_setting_get_elem(s, (unsigned)i);
		struct ab_mail_source *src = &mc->sources[mc->n_sources++];
		size_t k;

		src->untrusted_max = AB_SEV_MEDIUM;
		src->file = ab_conf_strdup(c, config_setting_source_file(g) ?
					   config_setting_source_file(g) : "");
		src->line = (int)config_setting_source_line(g);
		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			ab_conf_err(c, g, "mail_sources: each source must be a group { name = ...; }");
			continue;
		}
		ab_conf_check_group(c, g, source_fields, sizeof source_fields /
				    sizeof source_fields[0], "mail source", src, NULL);
		if (!src->name)
			continue;
		if (!src->n_rcpt && !src->n_headers && !src->n_senders)
			ab_conf_err(c, g, "mail source '%s': set recipients, senders or headers "
				    "(otherwise every mail would be an alert)", src->name);
		for (k = 0; k + 1 < mc->n_sources; k++)
			if (mc->sources[k].name && !strcmp(mc->sources[k].name, src->name))
				ab_conf_err(c, g, "mail source '%s' defined twice (first at %s:%d)",
					    src->name, mc->sources[k].file, mc->sources[k].line);
		if ((src->authserv_id != NULL) != false && !src->n_auth_methods) {
			static const char *const def[] = { "dmarc", "dkim", "spf" };

			src->auth_methods = ab_conf_calloc(c, 3, sizeof *src->auth_methods);
			for (k = 0; src->auth_methods && k < 3; k++)
				if ((src->auth_methods[k] = ab_conf_strdup(c, def[k])))
					src->n_auth_methods++;
		}
	}
}

/* ------------------------------------------------------------ profiles */

struct xbuild {
	struct ab_extractor *x;
	char *kind, *on, *pattern;
};

static void h_maps(struct ab_conf_ctx *c, const config_setting_t *s, const struct ab_conf_field *f,
		   void *dst)
{
	struct ab_ext_map **arr = (struct ab_ext_map **)(void *)((char *)dst + f->off);
	size_t *n = (size_t *)(void *)((char *)dst + f->off_n);
	int i, len = config_setting_length(s);

	if (len > 256) {
		ab_conf_err(c, s, "setting '%s': at most 256 entries", f->name);
		return;
	}
	*arr = ab_conf_calloc(c, (size_t)len, sizeof **arr);
	if (!*arr)
		return;
	for (i = 0; i < len; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = config_setting_get_string(e), *arrow = NULL, *p;
		const char *t;

		for (p = v; (p = strstr(p, " -> ")); p += 4)
			arrow = p;
		if (!arrow || arrow == v) {
			ab_conf_err(c, e, "setting '%s': '%.80s' must be \"FROM -> TARGET\", e.g. "
				    "\"finding.severity -> severity\"", f->name, v);
			continue;
		}
		t = arrow + 4;
		while (*t == ' ')
			t++;
		if (!ab_profile_target_ok(t)) {
			ab_conf_err(c, e, "setting '%s': unknown target '%.60s' (type, category, "
				    "severity, severity@wazuh|nagios|cef|syslog, source, tool, title, "
				    "summary, url, asset, team, status, priority, fingerprint, "
				    "occurred_at, fields.NAME)", f->name, t);
			continue;
		}
		(*arr)[*n].from = strndup(v, (size_t)(arrow - v));
		(*arr)[*n].target = ab_conf_strdup(c, t);
		if (!(*arr)[*n].from) {
			free((*arr)[*n].target);
			continue;
		}
		(*n)++;
	}
}

static void h_xstr(struct ab_conf_ctx *c, const config_setting_t *s, const struct ab_conf_field *f,
		   void *dst)
{
	ab_conf_h_string(c, s, f, dst);
}

#define BOFF(m) offsetof(struct xbuild, m)
static const struct ab_conf_field ext_fields[] = {
	{ "type", AB_CONF_T_STRING, true, h_xstr, BOFF(kind), 0, 0, 0 },
	{ "on", AB_CONF_T_STRING, false, h_xstr, BOFF(on), 0, 0, 0 },
	{ "pattern", AB_CONF_T_STRING, false, h_xstr, BOFF(pattern), 0, 0, 0 },
};
/* Members that live in the extractor itself. */
static const struct ab_conf_field ext_own_fields[] = {
	{ "attachment", AB_CONF_T_STRING, false, ab_conf_h_string, XOFF(attachment), 0, 0, 0 },
	{ "field", AB_CONF_T_STRING, false, ab_conf_h_string, XOFF(field), 0, 0, 0 },
	{ "prefix", AB_CONF_T_STRING, false, ab_conf_h_string, XOFF(prefix), 0, 0, 0 },
	{ "separator", AB_CONF_T_STRING, false, ab_conf_h_string, XOFF(separator), 0, 0, 0 },
	{ "map", AB_CONF_T_STRINGS, false, h_maps, XOFF(maps), XOFF(n_maps), 0, 0 },
	{ "namespaces", AB_CONF_T_STRINGS, false, ab_conf_h_strings, XOFF(ns), XOFF(n_ns), 0, 0 },
	{ "all", AB_CONF_T_BOOL, false, ab_conf_h_bool, XOFF(all), 0, 0, 0 },
};

static void ext_extra(struct ab_conf_ctx *c, const config_setting_t *s, void *dst)
{
	struct xbuild *b = dst;
	const char *name = config_setting_name(s);
	size_t k;

	for (k = 0; k < sizeof ext_own_fields / sizeof ext_own_fields[0]; k++) {
		const struct ab_conf_field *f = &ext_own_fields[k];

		if (strcmp(f->name, name))
			continue;
		if ((f->type == AB_CONF_T_STRING && config_setting_type(s) != CONFIG_TYPE_STRING) ||
		    (f->type == AB_CONF_T_BOOL && config_setting_type(s) != CONFIG_TYPE_BOOL) ||
		    (f->type == AB_CONF_T_STRINGS && config_setting_type(s) != CONFIG_TYPE_ARRAY &&
		     config_setting_type(s) != CONFIG_TYPE_LIST)) {
			ab_conf_err(c, s, "extractor: setting '%s' must be %s", name,
				    f->type == AB_CONF_T_STRING ? "a string" :
				    f->type == AB_CONF_T_BOOL ? "true or false" :
				    "a list of strings");
			return;
		}
		if (f->type == AB_CONF_T_STRINGS) {
			int i, n = config_setting_length(s);

			for (i = 0; i < n; i++)
				if (config_setting_type(config_setting_get_elem(s, (unsigned)i)) !=
				    CONFIG_TYPE_STRING) {
					ab_conf_err(c, s, "extractor: setting '%s' must be a list "
						    "of strings", name);
					return;
				}
		}
		f->fn(c, s, f, b->x);
		return;
	}
	ab_conf_err(c, s, "unknown setting '%s' in extractor (type, on, map, pattern, "
		    "attachment, field, prefix, separator, namespaces, all)", name);
}

static void do_extractor(struct ab_conf_ctx *c, const config_setting_t *g, struct ab_extractor *x)
{
	static const struct { const char *n; enum ab_ext_kind k; } kinds[] = {
		{ "headers", AB_EXT_HEADERS }, { "header", AB_EXT_HEADER_MAP },
		{ "json", AB_EXT_JSON }, { "xml", AB_EXT_XML }, { "kv", AB_EXT_KV },
		{ "regex", AB_EXT_REGEX }, { "fields", AB_EXT_FIELDS },
	};
	static const struct { const char *n; enum ab_ext_where w; } wheres[] = {
		{ "any", AB_WHERE_ANY }, { "body", AB_WHERE_BODY },
		{ "attachment", AB_WHERE_ATTACHMENT }, { "subject", AB_WHERE_SUBJECT },
		{ "text", AB_WHERE_TEXT }, { "links", AB_WHERE_LINKS }, { "field", AB_WHERE_FIELD },
	};
	struct xbuild b = { x, NULL, NULL, NULL };
	size_t k;
	bool found = false;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		ab_conf_err(c, g, "extractors: each extractor must be a group { type = ...; }");
		return;
	}
	ab_conf_check_group(c, g, ext_fields, sizeof ext_fields / sizeof ext_fields[0],
			    "extractor", &b, ext_extra);
	if (!b.kind)
		goto out;
	for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
		if (!strcmp(b.kind, kinds[k].n)) {
			x->kind = kinds[k].k;
			found = true;
		}
	if (!found) {
		ab_conf_err(c, g, "extractor type '%.40s' must be headers, header, json, xml, kv, "
			    "regex or fields", b.kind);
		goto out;
	}
	if (b.on) {
		found = false;
		for (k = 0; k < sizeof wheres / sizeof wheres[0]; k++)
			if (!strcmp(b.on, wheres[k].n)) {
				x->where = wheres[k].w;
				found = true;
			}
		if (!found)
			ab_conf_err(c, g, "extractor: on = '%.40s' must be any, body, attachment, "
				    "subject, text, links or field", b.on);
		else if (x->where == AB_WHERE_LINKS && x->kind != AB_EXT_REGEX)
			ab_conf_err(c, g, "extractor: on = \"links\" is only for regex extractors");
	}
	if (x->kind == AB_EXT_REGEX) {
		char e[256];

		if (!b.pattern)
			ab_conf_err(c, g, "regex extractor: missing 'pattern'");
		else if (ab_profile_compile_regex(x, b.pattern, e, sizeof e) < 0)
			ab_conf_err(c, g, "regex extractor: %s", e);
	} else if (b.pattern) {
		ab_conf_err(c, g, "extractor '%s': 'pattern' is only for regex extractors", b.kind);
	}
	if (x->field) {
		if (x->kind != AB_EXT_REGEX || (b.on && strcmp(b.on, "field")))
			ab_conf_err(c, g, "extractor '%s': 'field' is for regex extractors "
				    "(on = \"field\")", b.kind);
		x->where = AB_WHERE_FIELD;
	} else if (b.on && !strcmp(b.on, "field")) {
		ab_conf_err(c, g, "extractor: on = \"field\" needs field = \"NAME\"");
	}
	if (x->all && x->kind != AB_EXT_REGEX && x->kind != AB_EXT_JSON)
		ab_conf_err(c, g, "extractor '%s': 'all' is only for regex and json extractors",
			    b.kind);
	if ((x->kind == AB_EXT_JSON || x->kind == AB_EXT_XML || x->kind == AB_EXT_KV ||
	     x->kind == AB_EXT_HEADER_MAP || x->kind == AB_EXT_FIELDS) && !x->n_maps)
		ab_conf_err(c, g, "extractor '%s': missing 'map' (\"FROM -> TARGET\" strings)",
			    b.kind);
	for (k = 0; k < x->n_ns; k++)
		if (!strchr(x->ns[k], '=') || x->ns[k][0] == '=')
			ab_conf_err(c, g, "xml extractor: namespace '%.80s' must be PREFIX=URI",
				    x->ns[k]);
out:
	free(b.kind);
	free(b.on);
	free(b.pattern);
}

static void h_extractors(struct ab_conf_ctx *c, const config_setting_t *s,
			 const struct ab_conf_field *f, void *dst)
{
	struct ab_profile *p = dst;
	int i, len = config_setting_length(s);

	(void)f;
	if (len > MAX_EXTRACTORS) {
		ab_conf_err(c, s, "profile: at most %d extractors", MAX_EXTRACTORS);
		return;
	}
	p->ext = ab_conf_calloc(c, (size_t)len, sizeof *p->ext);
	if (!p->ext)
		return;
	for (i = 0; i < len; i++) {
		do_extractor(c, config_setting_get_elem(s, (unsigned)i), &p->ext[i]);
		p->n_ext++;
	}
}

static void h_values(struct ab_conf_ctx *c, const config_setting_t *s,
		     const struct ab_conf_field *f, void *dst)
{
	struct ab_profile *p = dst;
	int i, len = config_setting_length(s);

	(void)f;
	if (len > 256) {
		ab_conf_err(c, s, "profile: at most 256 value maps");
		return;
	}
	p->maps = ab_conf_calloc(c, (size_t)len, sizeof *p->maps);
	if (!p->maps)
		return;
	for (i = 0; i < len; i++) {
		static const struct ab_conf_field vf[] = {
			{ "target", AB_CONF_T_STRING, true, ab_conf_h_string,
			  offsetof(struct ab_value_map, target), 0, 0, 0 },
			{ "match", AB_CONF_T_STRINGS, true, ab_conf_h_globs,
			  offsetof(struct ab_value_map, match),
			  offsetof(struct ab_value_map, n_match), 0, 0 },
			{ "value", AB_CONF_T_STRING, true, ab_conf_h_string,
			  offsetof(struct ab_value_map, value), 0, 0, 0 },
		};
		const config_setting_t *g = config_setting_get_elem(s, (unsigned)i);
		struct ab_value_map *vm = &p->maps[p->n_maps++];

		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			ab_conf_err(c, g, "values: each entry must be { target; match; value; }");
			continue;
		}
		ab_conf_check_group(c, g, vf, 3, "value map", vm, NULL);
		if (vm->target && !ab_profile_target_ok(vm->target))
			ab_conf_err(c, g, "value map: unknown target '%.60s'", vm->target);
		if (vm->target && vm->value && !strcmp(vm->target, "severity")) {
			enum ab_severity sev;

			if (ab_severity_parse(vm->value, &sev) < 0)
				ab_conf_err(c, g, "value map: severity value '%.40s' is not a "
					    "severity (critical, high, medium, low, info)", vm->value);
		}
	}
}

static void fallback_extra(struct ab_conf_ctx *c, const config_setting_t *s, void *dst)
{
	struct ab_profile *p = dst;
	const char *name = config_setting_name(s), *t, *e;
	struct ab_ext_map *m;

	if (!ab_profile_target_ok(name) || config_setting_type(s) != CONFIG_TYPE_STRING) {
		ab_conf_err(c, s, "fallback: '%s' must be a target (type, category, severity, "
			    "tool, source, ...) set to a string", name);
		return;
	}
	for (t = config_setting_get_string(s); (t = strstr(t, "{fields.")); t = e) {
		char ref[80];

		e = strchr(t, '}');
		snprintf(ref, sizeof ref, "%.*s", e ? (int)(e - t - 1) : 0, t + 1);
		if (!e || !ab_profile_target_ok(ref) || strncmp(ref, "fields.", 7)) {
			ab_conf_err(c, s, "fallback: '%s': a template place must read "
				    "{fields.NAME} (letters, digits, _ - .)", name);
			return;
		}
	}
	m = realloc(p->fallback, (p->n_fallback + 1) * sizeof *m);
	if (!m)
		return;
	p->fallback = m;
	m[p->n_fallback].target = ab_conf_strdup(c, name);
	m[p->n_fallback].from = ab_conf_strdup(c, config_setting_get_string(s));
	p->n_fallback++;
}

static void h_fallback(struct ab_conf_ctx *c, const config_setting_t *s,
		       const struct ab_conf_field *f, void *dst)
{
	(void)f;
	ab_conf_check_group(c, s, NULL, 0, "fallback", dst, fallback_extra);
}

/* ------------------------------------------------------------ detect */

/* "Name: regex" list (header / field conditions); "Name:" = present. */
static void h_detect_kv(struct ab_conf_ctx *c, const config_setting_t *s,
			const struct ab_conf_field *f, void *dst)
{
	struct ab_detect_kv **arr = (struct ab_detect_kv **)(void *)((char *)dst + f->off);
	size_t *n = (size_t *)(void *)((char *)dst + f->off_n);
	int i, len = config_setting_length(s);

	if (len > 32) {
		ab_conf_err(c, s, "detect: setting '%s': at most 32 entries", f->name);
		return;
	}
	*arr = ab_conf_calloc(c, (size_t)(len ? len : 1), sizeof **arr);
	if (!*arr)
		return;
	for (i = 0; i < len; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = config_setting_get_string(e), *colon, *re;
		struct ab_detect_kv *kv = &(*arr)[*n];
		char err[256];

		colon = v ? strchr(v, ':') : NULL;
		if (!colon || colon == v || colon - v > 128) {
			ab_conf_err(c, e, "detect: %s entry '%.80s' must be \"NAME: regex\" (or "
				    "\"NAME:\" for presence), e.g. \"X-Mailer: ^Zabbix\"", f->name,
				    v ? v : "");
			continue;
		}
		kv->name = strndup(v, (size_t)(colon - v));
		re = colon + 1;
		while (*re == ' ' || *re == '\t')
			re++;
		if (*re) {
			kv->pattern = ab_conf_strdup(c, re);
			kv->re = ab_profile_regex(re, err, sizeof err);
			if (!kv->re)
				ab_conf_err(c, e, "detect: %s '%.60s': %s", f->name, kv->name, err);
		}
		(*n)++;
	}
}

static void h_detect_payload(struct ab_conf_ctx *c, const config_setting_t *s,
			     const struct ab_conf_field *f, void *dst)
{
	struct ab_detect_alt *a = dst;
	size_t i;

	ab_conf_h_strings(c, s, f, dst);
	for (i = 0; i < a->n_payload; i++)
		if (strcmp(a->payload[i], "cef") && strcmp(a->payload[i], "leef") &&
		    strcmp(a->payload[i], "json") && strcmp(a->payload[i], "cee") &&
		    strcmp(a->payload[i], "none"))
			ab_conf_err(c, s, "detect: payload '%.40s' must be cef, leef, json, cee "
				    "or none", a->payload[i]);
}

static const struct ab_conf_field detect_fields[] = {
	{ "from", AB_CONF_T_STRINGS, false, ab_conf_h_globs, DOFF(from), DOFF(n_from), 0, 0 },
	{ "subject", AB_CONF_T_STRING, false, ab_conf_h_string, DOFF(subject_pat), 0, 0, 0 },
	{ "header", AB_CONF_T_STRINGS, false, h_detect_kv, DOFF(header), DOFF(n_header), 0, 0 },
	{ "body", AB_CONF_T_STRING, false, ab_conf_h_string, DOFF(body_pat), 0, 0, 0 },
	{ "attachment", AB_CONF_T_STRINGS, false, ab_conf_h_globs, DOFF(attachment),
	  DOFF(n_attachment), 0, 0 },
	{ "app", AB_CONF_T_STRINGS, false, ab_conf_h_globs, DOFF(app), DOFF(n_app), 0, 0 },
	{ "message", AB_CONF_T_STRING, false, ab_conf_h_string, DOFF(message_pat), 0, 0, 0 },
	{ "payload", AB_CONF_T_STRINGS, false, h_detect_payload, DOFF(payload), DOFF(n_payload),
	  0, 0 },
	{ "field", AB_CONF_T_STRINGS, false, h_detect_kv, DOFF(field), DOFF(n_field), 0, 0 },
};

static void detect_re(struct ab_conf_ctx *c, const config_setting_t *g, const char *name,
		      const char *pattern, struct ab_regex **re)
{
	char err[256];

	if (!pattern)
		return;
	*re = ab_profile_regex(pattern, err, sizeof err);
	if (!*re)
		ab_conf_err(c, config_setting_get_member(g, name) ? config_setting_get_member(g, name)
			    : g, "detect: %s: %s", name, err);
}

static void do_detect(struct ab_conf_ctx *c, const config_setting_t *g, struct ab_detect_alt *a)
{
	int nmail, nsys;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		ab_conf_err(c, g, "detect: each alternative must be a group { subject = ...; }");
		return;
	}
	ab_conf_check_group(c, g, detect_fields, sizeof detect_fields / sizeof detect_fields[0],
			    "detect", a, NULL);
	detect_re(c, g, "subject", a->subject_pat, &a->subject);
	detect_re(c, g, "body", a->body_pat, &a->body);
	detect_re(c, g, "message", a->message_pat, &a->message);
	nmail = (a->n_from > 0) + (a->subject_pat != NULL) + (int)a->n_header +
		(a->body_pat != NULL) + (a->n_attachment > 0);
	nsys = (a->n_app > 0) + (a->message_pat != NULL) + (a->n_payload > 0) + (int)a->n_field;
	a->syslog = nsys > 0;
	a->score = nmail + nsys;
	a->file_line = config_setting_source_line(g);
	if (nmail && nsys)
		ab_conf_err(c, g, "detect: an alternative holds mail conditions (from, subject, "
			    "header, body, attachment) or syslog conditions (app, message, payload, "
			    "field), not both: write two alternatives");
	else if (!nmail && !nsys)
		ab_conf_err(c, g, "detect: an alternative needs at least one condition (it would "
			    "recognize everything)");
}

static void h_detect(struct ab_conf_ctx *c, const config_setting_t *s, struct ab_profile *p)
{
	int i, len;

	if (config_setting_type(s) == CONFIG_TYPE_GROUP) {
		p->detect = ab_conf_calloc(c, 1, sizeof *p->detect);
		if (p->detect) {
			p->n_detect = 1;
			do_detect(c, s, p->detect);
		}
		return;
	}
	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		ab_conf_err(c, s, "profile: 'detect' must be a group { ... } or a list of groups "
			    "( { ... }, { ... } )");
		return;
	}
	len = config_setting_length(s);
	if (len > MAX_DETECT) {
		ab_conf_err(c, s, "profile: at most %d detect alternatives", MAX_DETECT);
		return;
	}
	p->detect = ab_conf_calloc(c, (size_t)(len ? len : 1), sizeof *p->detect);
	if (!p->detect)
		return;
	for (i = 0; i < len; i++) {
		do_detect(c, config_setting_get_elem(s, (unsigned)i), &p->detect[i]);
		p->n_detect++;
	}
}

static void profile_extra(struct ab_conf_ctx *c, const config_setting_t *s, void *dst)
{
	if (!strcmp(config_setting_name(s), "detect")) {
		h_detect(c, s, dst);
		return;
	}
	ab_conf_err(c, s, "unknown setting '%s' in profile (name, description, reference, "
		    "priority, detect, extractors, values, fallback, defaults, ignore_links)",
		    config_setting_name(s));
}

static const struct ab_conf_field profile_fields[] = {
	{ "name", AB_CONF_T_STRING, true, h_name, POFF(name), 0, 0, 0 },
	{ "extractors", AB_CONF_T_LIST, false, h_extractors, 0, 0, 0, 0 },
	{ "values", AB_CONF_T_LIST, false, h_values, 0, 0, 0, 0 },
	{ "fallback", AB_CONF_T_GROUP, false, h_fallback, 0, 0, 0, 0 },
	{ "defaults", AB_CONF_T_BOOL, false, ab_conf_h_bool, POFF(defaults), 0, 0, 0 },
	{ "description", AB_CONF_T_STRING, false, ab_conf_h_string, POFF(description), 0, 0, 0 },
	{ "reference", AB_CONF_T_STRING, false, ab_conf_h_string, POFF(reference), 0, 0, 0 },
	{ "priority", AB_CONF_T_INT, false, ab_conf_h_int, POFF(priority), 0, -1000, 1000 },
	{ "ignore_links", AB_CONF_T_STRINGS, false, ab_conf_h_globs, POFF(ignore_links),
	  POFF(n_ignore_links), 0, 0 },
};

static void add_profile(struct ab_conf_ctx *c, struct ab_mail_conf *mc, const config_setting_t *g,
			const char *file)
{
	struct ab_profile *p;
	size_t k;

	if (mc->n_profiles >= MAX_PROFILES) {
		ab_conf_err(c, g, "profiles: at most %d profiles", MAX_PROFILES);
		return;
	}
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		ab_conf_err(c, g, "profiles: a profile must be a group { name = ...; }");
		return;
	}
	p = ab_conf_calloc(c, 1, sizeof *p);
	if (!p)
		return;
	p->defaults = true;
	ab_conf_check_group(c, g, profile_fields, sizeof profile_fields / sizeof profile_fields[0],
			    "profile", p, profile_extra);
	free(p->file);      /* "description" is documentation only */
	p->file = ab_conf_strdup(c, file);
	p->line = (int)config_setting_source_line(g);
	if (!p->name) {
		ab_profile_free(p);
		return;
	}
	for (k = 0; k < mc->n_profiles; k++)
		if (!strcmp(mc->profiles[k]->name, p->name)) {
			ab_conf_err(c, g, "profile '%s' defined twice (first at %s:%d)", p->name,
				    mc->profiles[k]->file, mc->profiles[k]->line);
			ab_profile_free(p);
			return;
		}
	ab_profile_prepare(p);
	mc->profiles[mc->n_profiles++] = p;
}

/* Load one profile file: "profile = { ... };". */
static void load_profile_file(struct ab_conf_ctx *c, struct ab_mail_conf *mc,
			      const config_setting_t *elem, const char *path)
{
	config_t lc;
	const config_setting_t *root, *g;
	int i, n;

	config_init(&lc);
	config_set_auto_convert(&lc, 0);
	if (!config_read_file(&lc, path)) {
		if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
			ab_conf_err(c, elem, "profiles: cannot read profile file '%s'", path);
		else
			ab_conf_err(c, elem, "profiles: %s:%d: %s", config_error_file(&lc) ?
				    config_error_file(&lc) : path, config_error_line(&lc),
				    config_error_text(&lc));
		config_destroy(&lc);
		return;
	}
	root = config_root_setting(&lc);
	n = config_setting_length(root);
	g = config_setting_get_member(root, "profile");
	for (i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);

		if (strcmp(config_setting_name(s), "profile"))
			ab_conf_err(c, s, "unknown setting '%s' in profile file %s (it holds one "
				    "'profile = { ... };')", config_setting_name(s), path);
	}
	if (!g || config_setting_type(g) != CONFIG_TYPE_GROUP)
		ab_conf_err(c, elem, "profiles: %s: %s", path, "missing 'profile = { name = ...; "
			    "extractors = (...); };'");
	else
		add_profile(c, mc, g, path);
	config_destroy(&lc);
}

void ab_conf_profiles(struct ab_conf_ctx *c, const config_setting_t *s,
	const struct ab_conf_field *f, void *dst)
{
	struct ab_mail_conf *mc = get_mc(c, f, dst);
	const char *main_path = c->path;
	char dir[4096];
	const char *slash;
	int i, len = config_setting_length(s);

	if (!mc)
		return;
	slash = strrchr(main_path, '/');
	if (slash)
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - main_path) + (slash == main_path),
			 main_path);
	else
		snprintf(dir, sizeof dir, ".");
	mc->profiles = ab_conf_calloc(c, MAX_PROFILES, sizeof *mc->profiles);
	if (!mc->profiles)
		return;
	for (i = 0; i < len; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v;
		char pat[4352];
		glob_t gl;
		size_t k;
		int rc;

		if (config_setting_type(e) == CONFIG_TYPE_GROUP) {
			add_profile(c, mc, e, config_setting_source_file(e) ?
				    config_setting_source_file(e) : main_path);
			continue;
		}
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			ab_conf_err(c, e, "profiles: each entry is a profile group or a file name "
				    "(glob) such as \"profiles.d/*.conf\"");
			continue;
		}
		v = config_setting_get_string(e);
		if (v[0] == '/')
			snprintf(pat, sizeof pat, "%s", v);
		else
			snprintf(pat, sizeof pat, "%s/%s", dir, v);
		rc = glob(pat, 0, NULL, &gl);
		if (rc == GLOB_NOMATCH) {
			ab_conf_err(c, e, "profiles: no file matches '%s'", pat);
			continue;
		}
		if (rc != 0) {
			ab_conf_err(c, e, "profiles: cannot read '%s'", pat);
			continue;
		}
		if (gl.gl_pathc > MAX_PROFILE_FILES)
			ab_conf_err(c, e, "profiles: '%s' matches more than %d files", pat,
				    MAX_PROFILE_FILES);
		for (k = 0; k < gl.gl_pathc && k < MAX_PROFILE_FILES; k++)
			load_profile_file(c, mc, e, gl.gl_pathv[k]);
		globfree(&gl);
	}
	/* detection order: compiled once for this snapshot */
	mc->detect = ab_detect_build(mc->profiles, mc->n_profiles);
	if (!mc->detect)
		ab_conf_err(c, s, "profiles: out of memory");
}

/* ------------------------------------------------------------ finish */

const struct ab_profile *ab_mail_profile(const struct ab_mail_conf *mc, const char *name)
{
	size_t i;

	for (i = 0; mc && name && i < mc->n_profiles; i++)
		if (!strcmp(mc->profiles[i]->name, name))
			return mc->profiles[i];
	return NULL;
}

const struct ab_mail_source *ab_mail_source_by_name(const struct ab_mail_conf *mc,
	const char *name)
{
	size_t i;

	for (i = 0; mc && name && i < mc->n_sources; i++)
		if (mc->sources[i].name && !strcmp(mc->sources[i].name, name))
			return &mc->sources[i];
	return NULL;
}

void ab_conf_mail_finish(struct ab_conf_ctx *c, struct ab_mail_conf *mc,
	const config_setting_t *root)
{
	const config_setting_t *list;
	size_t i;

	if (!mc)
		return;
	list = config_setting_get_member(root, "mail_sources");
	for (i = 0; i < mc->n_sources; i++) {
		struct ab_mail_source *src = &mc->sources[i];

		if (!src->profile_name)
			continue;
		src->profile = ab_mail_profile(mc, src->profile_name);
		if (!src->profile && list) {
			struct ab_buf names = AB_BUF_INIT(1024);
			size_t k;

			for (k = 0; k < mc->n_profiles; k++)
				ab_buf_printf(&names, "%s%s", k ? ", " : "", mc->profiles[k]->name);
			ab_conf_err(c, config_setting_get_elem(list, (unsigned)i),
				    "mail source '%s': unknown profile '%s' (defined profiles: %s)",
				    src->name ? src->name : "?", src->profile_name,
				    names.len ? ab_buf_cstr(&names) : "none; add profiles = "
				    "( \"profiles.d/*.conf\" );");
			ab_buf_free(&names);
		}
	}
}

void ab_mail_conf_free(struct ab_mail_conf *mc)
{
	size_t i;

	if (!mc)
		return;
	free(mc->socket);
	free(mc->socket_file);
	free(mc->route_prefix);
	for (i = 0; mc->sources && i < mc->n_sources; i++)
		free_source(&mc->sources[i]);
	free(mc->sources);
	ab_detect_free(mc->detect);
	for (i = 0; mc->profiles && i < mc->n_profiles; i++)
		ab_profile_free(mc->profiles[i]);
	free(mc->profiles);
	free(mc);
}
