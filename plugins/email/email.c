/*
 * email.c - the "email" channel plugin: re-rendered alert mail over SMTP
 * (libcurl).
 *
 * Settings:
 *   url        (string, required, secret) "smtp://host:587" or "smtps://host:465"
 *   tls        "starttls" (default for smtp://: STARTTLS is required, the
 *              send fails if the server does not offer it), "smtps"
 *              (implicit TLS, the default for smtps://) or "none" (no TLS;
 *              then a password is refused: it would cross in clear)
 *   username, password  (strings, optional; password is a secret) AUTH
 *   from       (string, required) sender address
 *   to         (list of addresses, 1..50) where alerts go; leave it out for
 *              a channel that only e-mails people (the people section)
 *   subject_prefix (string, default "[alertbridge]")
 *   ca_file    (string) PEM CA bundle for the server certificate (a path
 *              setting: relative to state_dir)
 *   timeout    (seconds, 1..300, default 30)
 *   allow_networks (list of CIDR strings, e.g. ["10.0.0.0/8"]) networks let
 *              through the SSRF guard: every address the plugin connects to
 *              is checked by the host (host->net_check) and loopback,
 *              private, link-local, CGNAT, ULA, multicast, ... are refused
 *              unless listed here (a relay on 127.0.0.1 needs
 *              ["127.0.0.0/8"]).  A refusal is a permanent failure;
 *              check() applies the same guard to the URL (host->url_check)
 *              for `alertbridge check`, start and reload.
 *
 * Mail: plugins/common/mailmsg.c (multipart text + HTML, threading by
 * the finding).  The envelope recipients are exactly 'to', or for a
 * message to people (ABI 1.4, AB_PLUGIN_F_RECIPIENTS) exactly the
 * addresses of its "recipients", which only the host sets.
 *
 * Public: alertbridge_plugin() (the only exported symbol).
 * Diagnostics: create() and check() errors start with the setting name
 * ("setting 'url': smtp://...: refused by the SSRF guard: ..."); send results
 * say what failed with the server's last reply when there was one
 * ("STARTTLS required ... but the server did not offer it", "SMTP 535:
 * authentication failed (535 5.7.8 ...)", "connection refused by the SSRF
 * guard: 127.0.0.1 is a loopback address ...") and never show the password
 * or the URL's user info.  Outcome: authentication failures, 5xx replies,
 * missing STARTTLS, untrusted certificates, SSRF refusals and bad URLs are
 * PERMANENT; 4xx replies, timeouts and connection errors RETRY.  Logs: a
 * warning per SSRF refusal.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <alertbridge/plugin.h>

#include "lib/buf.h"
#include "mailmsg.h"
#include "render.h"

#define EM_NETS_MAX 64
#define EM_REPLY_MAX 160

enum em_tls { EM_TLS_STARTTLS, EM_TLS_SMTPS, EM_TLS_NONE };

struct em_inst {
	const struct ab_host *host;
	char *channel;
	char *url, *username, *password, *ca_file;
	struct mm_conf mc;       /* from, to, subject_prefix */
	char **allow;            /* allow_networks, NULL-terminated or NULL */
	enum em_tls tls;
	long timeout_ms;
};

/* Does url carry a password in its user info (smtp://user:pw@host)?  A URL
 * curl cannot parse counts as yes: it is refused where that matters. */
static bool url_has_password(const char *url)
{
	CURLU *u = curl_url();
	char *pw = NULL;
	bool has;

	if (!u)
		return true;
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
		curl_url_cleanup(u);
		return true;
	}
	has = curl_url_get(u, CURLUPART_PASSWORD, &pw, 0) == CURLUE_OK && pw && *pw;
	curl_free(pw);
	curl_url_cleanup(u);
	return has;
}

static void em_free(struct em_inst *in)
{
	if (in->password) {
		OPENSSL_cleanse(in->password, strlen(in->password));
		free(in->password);
	}
	if (in->url) {
		OPENSSL_cleanse(in->url, strlen(in->url));
		free(in->url);
	}
	free(in->username);
	free(in->ca_file);
	mm_conf_free(&in->mc);
	rd_strv_free(in->allow);
	free(in->channel);
	free(in);
}

static int take_str(json_t *cfg, const char *name, char **out, char *err, size_t errsz)
{
	json_t *v = json_object_get(cfg, name);

	if (!v)
		return 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) > 1024 ||
	    strpbrk(json_string_value(v), "\r\n")) {
		snprintf(err, errsz, "setting '%s': must be a one-line string", name);
		return -1;
	}
	if (!(*out = strdup(json_string_value(v)))) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	json_object_del(cfg, name);
	return 0;
}

static void *em_create(const struct ab_host *host, const char *channel, const json_t *config,
	char *err, size_t errsz)
{
	struct em_inst *in = calloc(1, sizeof *in);
	json_t *cfg = json_deep_copy(config), *v;
	char *url_ref = NULL, *pw_ref = NULL, *tls = NULL;

	if (!in || !cfg || !(in->channel = strdup(channel))) {
		snprintf(err, errsz, "out of memory");
		goto fail;
	}
	in->host = host;
	in->timeout_ms = 30000;
	if (host->size < offsetof(struct ab_host, net_check) + sizeof host->net_check ||
	    !host->net_check) {
		snprintf(err, errsz, "this host offers no SSRF guard for SMTP (net_check, plugin "
			"ABI >= 1.1): upgrade alertbridge");
		goto fail;
	}
	if (take_str(cfg, "url", &url_ref, err, errsz) < 0 ||
	    take_str(cfg, "password", &pw_ref, err, errsz) < 0 ||
	    take_str(cfg, "username", &in->username, err, errsz) < 0 ||
	    take_str(cfg, "ca_file", &in->ca_file, err, errsz) < 0 ||
	    take_str(cfg, "tls", &tls, err, errsz) < 0)
		goto fail;
	if (!url_ref) {
		snprintf(err, errsz, "setting 'url': missing (smtp://host:587 or smtps://host:465)");
		goto fail;
	}
	if (!(in->url = rd_secret(host, "url", url_ref, err, errsz)))
		goto fail;
	if (strncasecmp(in->url, "smtp://", 7) && strncasecmp(in->url, "smtps://", 8)) {
		snprintf(err, errsz, "setting 'url': must start with smtp:// or smtps://");
		goto fail;
	}
	in->tls = strncasecmp(in->url, "smtps://", 8) == 0 ? EM_TLS_SMTPS : EM_TLS_STARTTLS;
	if (tls) {
		if (!strcmp(tls, "starttls") && in->tls != EM_TLS_SMTPS)
			in->tls = EM_TLS_STARTTLS;
		else if (!strcmp(tls, "smtps") && in->tls == EM_TLS_SMTPS)
			in->tls = EM_TLS_SMTPS;
		else if (!strcmp(tls, "none") && in->tls != EM_TLS_SMTPS)
			in->tls = EM_TLS_NONE;
		else {
			snprintf(err, errsz, "setting 'tls': \"starttls\" or \"none\" with smtp://, "
				"\"smtps\" with smtps://");
			goto fail;
		}
	}
	if (pw_ref && !(in->password = rd_secret(host, "password", pw_ref, err, errsz)))
		goto fail;
	if (in->password && !in->username) {
		snprintf(err, errsz, "setting 'username': required with 'password'");
		goto fail;
	}
	if (in->tls == EM_TLS_NONE && url_has_password(in->url)) {
		snprintf(err, errsz, "setting 'url': a password in the URL is refused with tls = "
			"\"none\" (it would cross the network in clear)");
		goto fail;
	}
	if (in->password && in->tls == EM_TLS_NONE) {
		snprintf(err, errsz, "setting 'password': refused with tls = \"none\" (it would "
			"cross the network in clear); use \"starttls\" or smtps://");
		goto fail;
	}
	in->mc.host = host;
	if (mm_conf_parse(cfg, &in->mc, err, errsz) < 0)
		goto fail;
	if ((v = json_object_get(cfg, "allow_networks"))) {
		if (!json_is_array(v) || !(in->allow = rd_strv(v, EM_NETS_MAX))) {
			snprintf(err, errsz, "setting 'allow_networks': must be a list of at most "
				"%d CIDR strings, e.g. [\"10.0.0.0/8\"]", EM_NETS_MAX);
			goto fail;
		}
		json_object_del(cfg, "allow_networks");
	}
	if ((v = json_object_get(cfg, "timeout"))) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 300) {
			snprintf(err, errsz, "setting 'timeout': seconds, 1..300");
			goto fail;
		}
		in->timeout_ms = (long)json_integer_value(v) * 1000;
		json_object_del(cfg, "timeout");
	}
	if (rd_no_extra(cfg, "email", err, errsz) < 0)
		goto fail;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errsz, "libcurl initialisation failed");
		goto fail;
	}
	free(url_ref);
	free(pw_ref);
	free(tls);
	json_decref(cfg);
	return in;
fail:
	free(url_ref);
	if (pw_ref)
		OPENSSL_cleanse(pw_ref, strlen(pw_ref));
	free(pw_ref);
	free(tls);
	json_decref(cfg);
	if (in)
		em_free(in);
	return NULL;
}

struct reader {
	const char *p;
	size_t left;
};

static size_t read_cb(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct reader *r = arg;
	size_t n = size * nmemb < r->left ? size * nmemb : r->left;

	memcpy(buf, r->p, n);
	r->p += n;
	r->left -= n;
	return n;
}

/* Per-send state shared with the libcurl callbacks. */
struct em_conn {
	const struct em_inst *in;
	bool refused;                 /* the SSRF guard refused an address */
	bool passed;                  /* ... and let another one through */
	char why[AB_RESULT_MSG_MAX];  /* ... and why (the first refusal) */
	char reply[EM_REPLY_MAX];     /* the server's last reply line, printable */
};

/* CURLOPT_OPENSOCKETFUNCTION: the host's SSRF guard on every address. */
static curl_socket_t open_socket_cb(void *clientp, curlsocktype purpose,
	struct curl_sockaddr *address)
{
	struct em_conn *cx = clientp;
	const struct ab_host *h = cx->in->host;
	char why[AB_RESULT_MSG_MAX];

	if (purpose != CURLSOCKTYPE_IPCXN) {
		if (!cx->refused)
			snprintf(cx->why, sizeof cx->why, "unexpected socket type");
		cx->refused = true;
		return CURL_SOCKET_BAD;
	}
	if (h->net_check(h, &address->addr, (size_t)address->addrlen,
			 (const char *const *)cx->in->allow, why, sizeof why) != 0) {
		if (!cx->refused)
			snprintf(cx->why, sizeof cx->why, "%s", why);
		cx->refused = true;
		return CURL_SOCKET_BAD;
	}
	cx->passed = true;
	return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

/* CURLOPT_DEBUGFUNCTION: keep the server's last reply line (what it said
 * about a refusal: "535 5.7.8 Authentication credentials invalid").  Only
 * incoming protocol lines are looked at: what we send (AUTH data) never is. */
static int debug_cb(CURL *c, curl_infotype type, char *data, size_t size, void *clientp)
{
	struct em_conn *cx = clientp;
	size_t o = 0;

	(void)c;
	if (type != CURLINFO_HEADER_IN || size < 3 || !isdigit((unsigned char)data[0]))
		return 0;
	for (size_t i = 0; i < size && o + 1 < sizeof cx->reply; i++) {
		unsigned char ch = (unsigned char)data[i];
		if (ch == '\r' || ch == '\n')
			break;
		cx->reply[o++] = ch < 0x20 || ch >= 0x7f ? '?' : (char)ch;
	}
	cx->reply[o] = '\0';
	return 0;
}

/* Replace every occurrence of needle (4 bytes or more) in s by "***". */
static void scrub(char *s, const char *needle, size_t nlen)
{
	char *p;

	if (!needle || nlen < 4)
		return;
	while ((p = memmem(s, strlen(s), needle, nlen)) != NULL) {
		memcpy(p, "***", 3);
		memmove(p + 3, p + nlen, strlen(p + nlen) + 1);
	}
}

/* Nothing secret in a result message: the password, the URL, its user info. */
static void scrub_secrets(const struct em_inst *in, char *msg)
{
	const char *start, *at, *end;

	if (in->password)
		scrub(msg, in->password, strlen(in->password));
	scrub(msg, in->url, strlen(in->url));
	start = strstr(in->url, "://");
	start = start ? start + 3 : in->url;
	end = start + strcspn(start, "/?#");
	at = NULL;
	for (const char *p = start; p < end; p++)
		if (*p == '@')
			at = p;
	if (at)
		scrub(msg, start, (size_t)(at - start));
}

static void classify(const struct em_inst *in, CURLcode rc, long code, const char *ebuf,
	const struct em_conn *cx, struct ab_result *res)
{
	char msg[AB_RESULT_MSG_MAX], said[EM_REPLY_MAX + 4] = "";
	enum ab_status st = AB_RETRY;

	if (cx->reply[0] && code >= 400)
		snprintf(said, sizeof said, " (%s)", cx->reply);
	if (cx->refused && !cx->passed) {   /* else judge what the allowed address did */
		st = AB_PERMANENT;
		snprintf(msg, sizeof msg, "connection refused by the SSRF guard: %.200s",
			cx->why);
	} else switch (rc) {
	case CURLE_USE_SSL_FAILED:
		st = AB_PERMANENT;
		snprintf(msg, sizeof msg, "STARTTLS required (tls = \"starttls\") but the server "
			"did not offer it: nothing was sent; fix the server or set tls = \"none\" "
			"knowingly");
		break;
	case CURLE_LOGIN_DENIED:
		st = AB_PERMANENT;
		snprintf(msg, sizeof msg, "SMTP %ld: authentication failed%s: check username and "
			"password (app password)", code, said);
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
		st = AB_PERMANENT;
		snprintf(msg, sizeof msg, "TLS certificate of the SMTP server not trusted: %.150s "
			"(set ca_file)", ebuf);
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		st = AB_PERMANENT;
		snprintf(msg, sizeof msg, "bad SMTP URL: %.150s", ebuf);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(msg, sizeof msg, "timed out after %ld s%s", in->timeout_ms / 1000, said);
		break;
	default:
		if (code >= 500)
			st = AB_PERMANENT;
		if (code >= 400 && cx->reply[0])
			snprintf(msg, sizeof msg, "SMTP %ld: %.170s", code, cx->reply);
		else
			snprintf(msg, sizeof msg, "SMTP%s%.0ld: %.180s", code ? " " : "", code,
				*ebuf ? ebuf : curl_easy_strerror(rc));
		break;
	}
	scrub_secrets(in, msg);
	/* no SMTP reply code for a refusal of ours (the last reply was EHLO's 250) */
	ab_result_set(res, st, (cx->refused && !cx->passed) || rc == CURLE_USE_SSL_FAILED ? 0
		: (int)code, msg);
}

static void em_send(void *p, const struct ab_message *hmsg, struct ab_result *res)
{
	struct em_inst *in = p;
	struct ab_message m;
	const struct ab_message *msg = (rd_msg(in->host, hmsg, &m), &m);
	char err[200], ebuf[CURL_ERROR_SIZE] = "";
	size_t len = 0;
	bool oom = false;
	const char *to[MM_RCPT_MAX];
	size_t n_to = mm_rcpts(in->mc.to, msg, to, err, sizeof err);
	char *mail = n_to ? mm_build(&in->mc, in->host->now_ms(in->host), msg, to, n_to, &len,
		&oom, err, sizeof err) : NULL;
	struct curl_slist *rcpt = NULL;
	struct em_conn cx;
	struct reader rd;
	CURL *c;
	CURLcode rc;
	long code = 0;
	char from[MM_ADDR_MAX + 3];

	if (!mail) {
		ab_result_set(res, oom ? AB_RETRY : AB_PERMANENT, 0, err);
		return;
	}
	c = curl_easy_init();
	if (!c) {
		free(mail);
		ab_result_set(res, AB_RETRY, 0, "cannot initialise libcurl");
		return;
	}
	for (size_t i = 0; i < n_to; i++) {
		char a[MM_ADDR_MAX + 3];
		struct curl_slist *n;
		snprintf(a, sizeof a, "<%s>", to[i]);
		if (!(n = curl_slist_append(rcpt, a))) {
			curl_slist_free_all(rcpt);
			curl_easy_cleanup(c);
			OPENSSL_cleanse(mail, len);
			free(mail);
			ab_result_set(res, AB_RETRY, 0, "out of memory");
			return;
		}
		rcpt = n;
	}
	memset(&cx, 0, sizeof cx);
	cx.in = in;
	snprintf(from, sizeof from, "<%s>", in->mc.from);
	rd.p = mail;
	rd.left = len;
	curl_easy_setopt(c, CURLOPT_URL, in->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	/* a proxy from the environment would hide the real peer from the guard */
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket_cb);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &cx);
	curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, debug_cb);
	curl_easy_setopt(c, CURLOPT_DEBUGDATA, &cx);
	curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);   /* feeds debug_cb only */
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, in->timeout_ms < 10000 ? in->timeout_ms
		: 10000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, in->timeout_ms);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, &rd);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	if (in->tls == EM_TLS_STARTTLS)
		curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (in->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, in->ca_file);
	if (in->username)
		curl_easy_setopt(c, CURLOPT_USERNAME, in->username);
	if (in->password)
		curl_easy_setopt(c, CURLOPT_PASSWORD, in->password);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (rc == CURLE_OK) {
		char ok[64];
		snprintf(ok, sizeof ok, "SMTP %ld: accepted for %zu recipient%s", code, n_to,
			n_to == 1 ? "" : "s");
		ab_result_set(res, AB_OK, (int)code, ok);
	} else {
		classify(in, rc, code, ebuf, &cx, res);
		if (cx.refused && !cx.passed)
			in->host->log(in->host, AB_LOG_WARNING, "email: channel %s: %s", in->channel,
				res->message);
	}
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(c);
	OPENSSL_cleanse(mail, len);
	free(mail);
}

static void em_test(void *p, struct ab_result *res)
{
	struct em_inst *in = p;

	rd_send_test(in->host, in->channel, em_send, in, res);
}

static void em_destroy(void *p)
{
	if (p)
		em_free(p);
}

/* check(): the url as create() resolved it, through the host's URL check
 * (smtp:// or smtps://, the SSRF guard with allow_networks). */
static int em_check(const json_t *config, const struct ab_host *host, char *err, size_t errsz)
{
	const char *ref = json_string_value(json_object_get(config, "url"));
	json_t *nets = json_object_get(config, "allow_networks");
	char *url, **allow = NULL;
	int r;

	if (!ref)
		return 0;   /* create() refused it already */
	if (json_is_array(nets) && json_array_size(nets) &&
	    !(allow = rd_strv(nets, EM_NETS_MAX))) {
		snprintf(err, errsz, "setting 'allow_networks': must be a list of at most %d CIDR "
			"strings, e.g. [\"10.0.0.0/8\"]", EM_NETS_MAX);
		return -1;
	}
	if (!(url = rd_secret(host, "url", ref, err, errsz))) {
		rd_strv_free(allow);
		return -1;
	}
	r = rd_check_url(host, url, AB_URL_SMTP, allow, err, errsz);
	OPENSSL_cleanse(url, strlen(url));
	free(url);
	rd_strv_free(allow);
	return r;
}

static const char *const em_path_settings[] = { "ca_file", NULL };

static const struct ab_plugin em_plugin = {
	.abi = AB_PLUGIN_ABI,
	.size = sizeof(struct ab_plugin),
	.name = "email",
	.description = "re-rendered alert mail over SMTP (STARTTLS/SMTPS, AUTH)",
	.create = em_create,
	.send = em_send,
	.test = em_test,
	.flush = NULL,
	.destroy = em_destroy,
	.default_rate = 0,
	.path_settings = em_path_settings,
	.check = em_check,
	.http_prepare = NULL,
	.http_result = NULL,
	.flags = AB_PLUGIN_F_RECIPIENTS,
};

const struct ab_plugin *alertbridge_plugin(void);
const struct ab_plugin *alertbridge_plugin(void)
{
	return &em_plugin;
}
