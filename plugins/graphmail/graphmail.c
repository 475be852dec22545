/*
 * graphmail.c - the "graphmail" channel plugin: the alert mail of the
 * email channel sent through Microsoft Graph, for Microsoft 365 tenants
 * where SMTP AUTH is switched off.
 *
 * Settings:
 *   tenant         (string, required) the directory (tenant) id or its
 *                  domain ("contoso.onmicrosoft.com")
 *   client_id      (string, required) the app registration's application id
 *   client_secret  (string, secret) the app's client secret, or
 *   certificate    (path) a PEM file holding the app's certificate and its
 *                  private key (RSA), readable by the daemon and by nobody
 *                  else (mode 0600 or 0640): a signed client assertion (RFC
 *                  7523, RS256, x5t) instead of a secret.  Exactly one.
 *   from           (string, required) the mailbox that sends (its address /
 *                  user principal name); the app needs the Mail.Send
 *                  application permission (an application access policy may
 *                  narrow it to this mailbox)
 *   to, subject_prefix   as for email (plugins/common/mailmsg.h); 'to' may
 *                  be left out for a channel that only e-mails people
 *   graph_url      (default "https://graph.microsoft.com/v1.0")
 *   login_url      (default "https://login.microsoftonline.com")
 *   scope          (default "https://graph.microsoft.com/.default")
 *                  the three differ for national clouds (and for tests)
 *   allow_http, allow_networks, timeout, ca_file   see render.h (rd_http);
 *                  they apply to both hosts
 * Rate: 0.5 messages per second unless the channel sets rate (Exchange
 * Online sends at most 30 messages a minute from one mailbox).
 *
 * Token: OAuth 2.0 client credentials, POST LOGIN/TENANT/oauth2/v2.0/token;
 * the access token is kept (one per channel, shared by the workers) until
 * a minute before it expires, and fetched again once when Graph answers
 * 401 (revoked or expired early).  Mail: POST GRAPH/users/FROM/sendMail
 * with the MIME message base64-encoded as text/plain, so Graph sends the
 * same multipart text + HTML mail with the same threading headers
 * (Message-ID, In-Reply-To, References) as the email channel; Graph
 * answers 202.  429 and 503 with Retry-After are retried after it; bad
 * credentials, a missing permission and an unknown mailbox are permanent.
 *
 * Public: alertbridge_plugin() (the only exported symbol).
 * Diagnostics: create() errors start with the setting name; results say
 * which step failed ("token: HTTP 401: invalid_client: AADSTS7000215 ...",
 * "sendMail: HTTP 403: ErrorAccessDenied ..."); secrets, the token and the
 * assertion never appear in results or logs.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <alertbridge/plugin.h>

#include "lib/buf.h"
#include "mailmsg.h"
#include "render.h"

#define GM_ID_MAX 128
#define GM_TOKEN_MAX 16384        /* access tokens are a few KB */
#define GM_BODY_MAX (MM_MAIL_MAX / 3 * 4 + 8)
#define GM_TOKEN_MARGIN_MS 60000  /* a token is fetched again this long before it expires */

struct gm_inst {
	const struct ab_host *host;
	char *channel;
	char *tenant, *client_id, *secret, *graph_url, *login_url, *scope;
	EVP_PKEY *key;                /* certificate mode: the private key */
	char x5t[64];                 /* ... and the certificate's SHA-1 thumbprint, base64url */
	struct mm_conf mc;
	struct rd_http hs;            /* allow_http, allow_networks, timeout, ca_file */
	pthread_mutex_t mu;           /* token, token_exp */
	char *token;
	int64_t token_exp;
};

static void cleanse_free(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

static void gm_free(struct gm_inst *in)
{
	free(in->channel);
	free(in->tenant);
	free(in->client_id);
	cleanse_free(in->secret);
	cleanse_free(in->token);
	free(in->graph_url);
	free(in->login_url);
	free(in->scope);
	EVP_PKEY_free(in->key);
	mm_conf_free(&in->mc);
	rd_http_free(&in->hs);
	pthread_mutex_destroy(&in->mu);
	free(in);
}

/* A one-line string setting, consumed; absent leaves *out as it is. */
static int take(json_t *cfg, const char *name, char **out, char *err, size_t errsz)
{
	json_t *v = json_object_get(cfg, name);

	if (!v)
		return 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) > 4096 ||
	    strpbrk(json_string_value(v), "\r\n")) {
		snprintf(err, errsz, "setting '%s': must be a one-line string", name);
		return -1;
	}
	free(*out);
	if (!(*out = strdup(json_string_value(v)))) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	json_object_del(cfg, name);
	return 0;
}

/* Tenant and client ids: GUIDs or domain names. */
static bool id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > GM_ID_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '.'))
			return false;
	return true;
}

/* base64url without padding (JWT) of n bytes into b. */
static void put_b64url(struct ab_buf *b, const void *p, size_t n)
{
	size_t cap = 4 * ((n + 2) / 3) + 1;
	unsigned char *t = malloc(cap);
	int len;

	if (!t) {
		ab_buf_fail(b);
		return;
	}
	len = EVP_EncodeBlock(t, p, (int)n);
	while (len > 0 && t[len - 1] == '=')
		len--;
	for (int i = 0; i < len; i++)
		ab_buf_putc(b, t[i] == '+' ? '-' : t[i] == '/' ? '_' : (char)t[i]);
	free(t);
}

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* Certificate mode: the private key and the thumbprint from the PEM. */
static int load_cert(struct gm_inst *in, const char *pem, char *err, size_t errsz)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *x = NULL;
	unsigned char *der = NULL, md[SHA_DIGEST_LENGTH];
	struct ab_buf t = AB_BUF_INIT(sizeof in->x5t - 1);
	int n;

	if (bio)
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	if (bio && x) {
		BIO_free(bio);
		bio = BIO_new_mem_buf(pem, -1);
		/* no passphrase prompt on a terminal: an encrypted key is refused */
		in->key = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
	}
	BIO_free(bio);
	if (!x || !in->key || EVP_PKEY_get_base_id(in->key) != EVP_PKEY_RSA ||
	    X509_check_private_key(x, in->key) != 1 || (n = i2d_X509(x, &der)) <= 0) {
		snprintf(err, errsz, "setting 'certificate': %s", !x ? "no PEM certificate found" :
			!in->key ? "no unencrypted PEM private key next to the certificate" :
			EVP_PKEY_get_base_id(in->key) != EVP_PKEY_RSA ? "the key is not RSA (RS256)" :
			"the private key does not belong to the certificate");
		X509_free(x);
		return -1;
	}
	SHA1(der, (size_t)n, md);
	OPENSSL_free(der);
	X509_free(x);
	put_b64url(&t, md, sizeof md);
	snprintf(in->x5t, sizeof in->x5t, "%s", ab_buf_cstr(&t));
	ab_buf_free(&t);
	return 0;
}

/* The certificate file: at most 64 KiB, readable by nobody but its owner
 * and group (it holds a private key). */
static char *read_pem(const char *path, char *err, size_t errsz)
{
	struct ab_buf b = AB_BUF_INIT(64 * 1024);
	char chunk[4096];
	struct stat st;
	size_t n;
	FILE *f = fopen(path, "re");

	if (!f || fstat(fileno(f), &st) < 0) {
		snprintf(err, errsz, "setting 'certificate': %s: %s", path, strerror(errno));
		if (f)
			fclose(f);
		return NULL;
	}
	if (st.st_mode & S_IROTH) {
		snprintf(err, errsz, "setting 'certificate': %s holds a private key and is "
			"readable by everybody: chmod 600 (or 640) it", path);
		fclose(f);
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		ab_buf_append(&b, chunk, n);
	fclose(f);
	OPENSSL_cleanse(chunk, sizeof chunk);
	if (b.overflow || !b.len) {
		snprintf(err, errsz, "setting 'certificate': %s: %s", path, b.len ?
			"larger than 64 KiB" : "empty");
		if (b.data)
			OPENSSL_cleanse(b.data, b.len);
		ab_buf_free(&b);
		return NULL;
	}
	return ab_buf_steal(&b);
}

static void *gm_create(const struct ab_host *host, const char *channel, const json_t *config,
	char *err, size_t errsz)
{
	struct gm_inst *in = calloc(1, sizeof *in);
	json_t *cfg = json_deep_copy(config);
	char *secret_ref = NULL, *cert_ref = NULL, *pem = NULL;

	if (!in || !cfg || !(in->channel = strdup(channel))) {
		snprintf(err, errsz, "out of memory");
		free(in);
		json_decref(cfg);
		return NULL;
	}
	pthread_mutex_init(&in->mu, NULL);
	in->host = host;
	if (take(cfg, "tenant", &in->tenant, err, errsz) < 0 ||
	    take(cfg, "client_id", &in->client_id, err, errsz) < 0 ||
	    take(cfg, "client_secret", &secret_ref, err, errsz) < 0 ||
	    take(cfg, "certificate", &cert_ref, err, errsz) < 0 ||
	    take(cfg, "graph_url", &in->graph_url, err, errsz) < 0 ||
	    take(cfg, "login_url", &in->login_url, err, errsz) < 0 ||
	    take(cfg, "scope", &in->scope, err, errsz) < 0)
		goto fail;
	if (!in->tenant || !id_ok(in->tenant)) {
		snprintf(err, errsz, "setting 'tenant': required, the directory (tenant) id or "
			"domain");
		goto fail;
	}
	if (!in->client_id || !id_ok(in->client_id)) {
		snprintf(err, errsz, "setting 'client_id': required, the application (client) id");
		goto fail;
	}
	if (!secret_ref == !cert_ref) {
		snprintf(err, errsz, "setting 'client_secret': give either client_secret or "
			"certificate (a PEM with the certificate and its key)");
		goto fail;
	}
	if (secret_ref && !(in->secret = rd_secret(host, "client_secret", secret_ref, err, errsz)))
		goto fail;
	if (cert_ref && (!(pem = read_pem(cert_ref, err, errsz)) ||
			 load_cert(in, pem, err, errsz) < 0))
		goto fail;
	if ((!in->graph_url && !(in->graph_url = strdup("https://graph.microsoft.com/v1.0"))) ||
	    (!in->login_url && !(in->login_url = strdup("https://login.microsoftonline.com"))) ||
	    (!in->scope && !(in->scope = strdup("https://graph.microsoft.com/.default")))) {
		snprintf(err, errsz, "out of memory");
		goto fail;
	}
	/* trailing slashes would make "//users" */
	for (char *u = in->graph_url; *u && u[strlen(u) - 1] == '/'; )
		u[strlen(u) - 1] = '\0';
	for (char *u = in->login_url; *u && u[strlen(u) - 1] == '/'; )
		u[strlen(u) - 1] = '\0';
	if (rd_http_parse(host, cfg, &in->hs, false, err, errsz) < 0)
		goto fail;
	if (in->hs.url) {
		snprintf(err, errsz, "setting 'url': graphmail has graph_url and login_url");
		goto fail;
	}
	in->mc.host = host;
	if (mm_conf_parse(cfg, &in->mc, err, errsz) < 0 || rd_no_extra(cfg, "graphmail", err,
			errsz) < 0)
		goto fail;
	free(secret_ref);
	free(cert_ref);
	cleanse_free(pem);
	json_decref(cfg);
	return in;
fail:
	free(secret_ref);
	free(cert_ref);
	cleanse_free(pem);
	json_decref(cfg);
	gm_free(in);
	return NULL;
}

/* The signed client assertion (RFC 7523) for the token endpoint aud. */
static int assertion(const struct gm_inst *in, const char *aud, struct ab_buf *out)
{
	unsigned char rnd[16], sig[1024];
	char jti[33];
	size_t siglen = sizeof sig;
	int64_t now = in->host->now_ms(in->host) / 1000;
	json_t *h = json_pack("{s:s,s:s,s:s}", "alg", "RS256", "typ", "JWT", "x5t", in->x5t);
	json_t *p;
	char *hs, *ps;
	EVP_MD_CTX *md;
	int rc = -1;

	if (RAND_bytes(rnd, sizeof rnd) != 1)
		return -1;
	for (size_t i = 0; i < sizeof rnd; i++)
		snprintf(jti + 2 * i, 3, "%02x", rnd[i]);
	p = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I}", "aud", aud, "iss", in->client_id, "sub",
		in->client_id, "jti", jti, "nbf", (json_int_t)now, "iat", (json_int_t)now, "exp",
		(json_int_t)(now + 600));
	hs = h ? json_dumps(h, JSON_COMPACT) : NULL;
	ps = p ? json_dumps(p, JSON_COMPACT) : NULL;
	json_decref(h);
	json_decref(p);
	if (hs && ps) {
		put_b64url(out, hs, strlen(hs));
		ab_buf_putc(out, '.');
		put_b64url(out, ps, strlen(ps));
	}
	md = EVP_MD_CTX_new();
	if (hs && ps && md && !out->overflow &&
	    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, in->key) == 1 &&
	    EVP_DigestSign(md, sig, &siglen, (const unsigned char *)out->data, out->len) == 1) {
		ab_buf_putc(out, '.');
		put_b64url(out, sig, siglen);
		rc = out->overflow ? -1 : 0;
	}
	EVP_MD_CTX_free(md);
	free(hs);
	free(ps);
	return rc;
}

static void release(const struct ab_host *h, struct ab_http_response *rs)
{
	if (h->http_free && h->size >= sizeof(struct ab_host))
		h->http_free(h, rs);
	else
		free(rs->body);
}

/* The request of the plugin's settings (hs) to url. */
static void request(const struct gm_inst *in, const char *url, const char *const *headers,
	const char *body, size_t len, const char *type, struct ab_http_request *rq)
{
	struct rd_http hs = in->hs;

	hs.url = (char *)url;
	rd_http_request(&hs, headers, body, len, type, rq);
}

/* "what: HTTP 401: invalid_client: AADSTS7000215: ..." from an answer. */
static void fail_result(const char *what, const struct ab_http_response *rs,
	struct ab_result *res)
{
	char msg[AB_RESULT_MSG_MAX];
	json_t *j = rs->body && rs->body_len ? json_loadb(rs->body, rs->body_len, 0, NULL) : NULL;
	const json_t *e = json_object_get(j, "error");
	const char *code = json_is_string(e) ? json_string_value(e) :
		json_string_value(json_object_get(e, "code"));
	const char *text = json_is_string(e) ? json_string_value(json_object_get(j,
		"error_description")) : json_string_value(json_object_get(e, "message"));

	if (rs->status && code)
		snprintf(msg, sizeof msg, "%s: HTTP %d: %.60s: %.140s", what, rs->status, code,
			text ? text : "");
	else
		snprintf(msg, sizeof msg, "%s: %.200s", what, rs->error[0] ? rs->error :
			"request failed");
	for (char *c = msg; *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = ' ';
	ab_result_set(res, rs->outcome, rs->status, msg);
	res->retry_after = rs->retry_after;
	json_decref(j);
}

/* A fresh access token into in->token (in->mu held).  0, or -1 with res. */
static int fetch_token(struct gm_inst *in, struct ab_result *res)
{
	struct ab_buf url = AB_BUF_INIT(2048), form = AB_BUF_INIT(GM_TOKEN_MAX),
		jwt = AB_BUF_INIT(GM_TOKEN_MAX);
	struct ab_http_request rq;
	struct ab_http_response rs;
	json_t *j = NULL;
	const char *tok;
	json_int_t ttl;
	int rc = -1;

	ab_buf_printf(&url, "%s/", in->login_url);
	rd_put_pct(&url, in->tenant);
	ab_buf_puts(&url, "/oauth2/v2.0/token");
	ab_buf_puts(&form, "grant_type=client_credentials&client_id=");
	rd_put_pct(&form, in->client_id);
	ab_buf_puts(&form, "&scope=");
	rd_put_pct(&form, in->scope);
	if (in->secret) {
		ab_buf_puts(&form, "&client_secret=");
		rd_put_pct(&form, in->secret);
	} else if (assertion(in, ab_buf_cstr(&url), &jwt) == 0) {
		ab_buf_puts(&form, "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3A"
			"client-assertion-type%3Ajwt-bearer&client_assertion=");
		ab_buf_append(&form, jwt.data, jwt.len);
	} else {
		ab_buf_fail(&form);
	}
	if (url.overflow || form.overflow) {
		ab_result_set(res, AB_RETRY, 0, "token: cannot build the request (out of memory?)");
		goto out;
	}
	request(in, ab_buf_cstr(&url), NULL, form.data, form.len,
		"application/x-www-form-urlencoded", &rq);
	rq.max_response = GM_TOKEN_MAX;
	memset(&rs, 0, sizeof rs);
	in->host->http(in->host, &rq, &rs);
	if (rs.outcome != AB_OK) {
		fail_result("token", &rs, res);
		/* 400 / 401 invalid_client, unauthorized_client, invalid_scope: the
		 * settings are wrong, a retry would not help */
		release(in->host, &rs);
		goto out;
	}
	j = json_loadb(rs.body ? rs.body : "", rs.body_len, 0, NULL);
	release(in->host, &rs);
	tok = json_string_value(json_object_get(j, "access_token"));
	ttl = json_integer_value(json_object_get(j, "expires_in"));
	if (ttl > 86400)
		ttl = 86400;   /* a day at most: no overflow below, and fetched daily */
	if (!tok || !*tok || strlen(tok) >= GM_TOKEN_MAX || strpbrk(tok, "\r\n ") || ttl <= 0) {
		ab_result_set(res, AB_RETRY, 0, "token: the answer holds no access_token and "
			"expires_in");
		goto out;
	}
	cleanse_free(in->token);
	if (!(in->token = strdup(tok))) {
		ab_result_set(res, AB_RETRY, 0, "token: out of memory");
		goto out;
	}
	in->token_exp = in->host->now_ms(in->host) + (ttl * 1000 > 2 * GM_TOKEN_MARGIN_MS ?
		ttl * 1000 - GM_TOKEN_MARGIN_MS : ttl * 500);
	rc = 0;
out:
	if (jwt.data)
		OPENSSL_cleanse(jwt.data, jwt.len);
	if (form.data)
		OPENSSL_cleanse(form.data, form.len);   /* it holds the secret */
	ab_buf_free(&jwt);
	ab_buf_free(&form);
	ab_buf_free(&url);
	json_decref(j);   /* tok's copy is in->token */
	return rc;
}

#define BEARER "Authorization: Bearer "

/* BEARER TOKEN into hdr: the kept token, or a fresh one when there is
 * none, it expires within the margin, or it is the one hdr holds already
 * (Graph refused it: refused; another worker may have fetched a new one
 * meanwhile, which is then used as it is).  0, or -1 with res. */
static int bearer(struct gm_inst *in, bool refused, struct ab_buf *hdr, struct ab_result *res)
{
	int rc = 0;

	pthread_mutex_lock(&in->mu);
	if (!in->token || in->host->now_ms(in->host) >= in->token_exp ||
	    (refused && strcmp(ab_buf_cstr(hdr) + strlen(BEARER), in->token) == 0))
		rc = fetch_token(in, res);
	if (rc == 0) {
		OPENSSL_cleanse(hdr->data, hdr->len);
		ab_buf_reset(hdr);
		ab_buf_printf(hdr, BEARER "%s", in->token);
		if (hdr->overflow) {
			ab_result_set(res, AB_RETRY, 0, "token: too long");
			rc = -1;
		}
	}
	pthread_mutex_unlock(&in->mu);
	return rc;
}

static void gm_send(void *p, const struct ab_message *hmsg, struct ab_result *res)
{
	struct gm_inst *in = p;
	struct ab_message m;
	const struct ab_message *msg = (rd_msg(in->host, hmsg, &m), &m);
	const char *to[MM_RCPT_MAX];
	char err[200];
	size_t len = 0, n_to;
	bool oom = false;
	char *mail;
	struct ab_buf url = AB_BUF_INIT(2048), body = AB_BUF_INIT(GM_BODY_MAX),
		auth = AB_BUF_INIT(GM_TOKEN_MAX + 64);
	struct ab_http_response rs;

	n_to = mm_rcpts(in->mc.to, msg, to, err, sizeof err);
	mail = n_to ? mm_build(&in->mc, in->host->now_ms(in->host), msg, to, n_to, &len, &oom,
		err, sizeof err) : NULL;
	if (!mail) {
		ab_result_set(res, oom ? AB_RETRY : AB_PERMANENT, 0, err);
		return;
	}
	if (body.max >= 4 * ((len + 2) / 3) + 1) {
		unsigned char *b64 = malloc(4 * ((len + 2) / 3) + 1);
		int n = b64 ? EVP_EncodeBlock(b64, (const unsigned char *)mail, (int)len) : -1;

		if (n >= 0)
			ab_buf_append(&body, b64, (size_t)n);
		else
			ab_buf_fail(&body);
		free(b64);
	} else {
		ab_buf_fail(&body);
	}
	OPENSSL_cleanse(mail, len);
	free(mail);
	ab_buf_printf(&url, "%s/users/", in->graph_url);
	rd_put_pct(&url, in->mc.from);
	ab_buf_puts(&url, "/sendMail");
	if (body.overflow || url.overflow) {
		ab_result_set(res, body.oom ? AB_RETRY : AB_PERMANENT, 0,
			"sendMail: the mail is too large for Graph");
		goto out;
	}
	for (int round = 0; round < 2; round++) {
		struct ab_http_request rq;
		const char *hdrs[2];

		if (bearer(in, round > 0, &auth, res) < 0)
			goto out;
		hdrs[0] = ab_buf_cstr(&auth);
		hdrs[1] = NULL;
		request(in, ab_buf_cstr(&url), hdrs, body.data, body.len, "text/plain", &rq);
		memset(&rs, 0, sizeof rs);
		in->host->http(in->host, &rq, &rs);
		if (rs.status == 401 && round == 0) {
			/* revoked or expired early: once more with a fresh token */
			release(in->host, &rs);
			continue;
		}
		if (rs.outcome == AB_OK) {
			char ok[96];

			snprintf(ok, sizeof ok, "Graph %d: accepted for %zu recipient%s", rs.status,
				n_to, n_to == 1 ? "" : "s");
			ab_result_set(res, AB_OK, rs.status, ok);
		} else {
			fail_result("sendMail", &rs, res);
		}
		release(in->host, &rs);
		break;
	}
out:
	if (auth.data)
		OPENSSL_cleanse(auth.data, auth.len);
	ab_buf_free(&auth);
	ab_buf_free(&body);
	ab_buf_free(&url);
}

static void gm_test(void *p, struct ab_result *res)
{
	struct gm_inst *in = p;

	rd_send_test(in->host, in->channel, gm_send, in, res);
}

static void gm_destroy(void *p)
{
	if (p)
		gm_free(p);
}

/* Both hosts through the SSRF guard (`alertbridge check`, start, reload). */
static int gm_check(const json_t *config, const struct ab_host *host, char *err, size_t errsz)
{
	static const char *const keys[] = { "graph_url", "login_url" };
	static const char *const dflt[] = { "https://graph.microsoft.com/v1.0",
		"https://login.microsoftonline.com" };
	const json_t *nets = json_object_get(config, "allow_networks");
	char **allow = nets ? rd_strv(nets, 64) : NULL;
	int worst = 0;

	for (int i = 0; i < 2; i++) {
		const char *u = json_string_value(json_object_get(config, keys[i]));
		char why[256];
		int r = rd_check_url(host, u ? u : dflt[i], json_is_true(json_object_get(config,
			"allow_http")) ? AB_URL_HTTP : AB_URL_HTTPS, allow, why, sizeof why);

		if (r != 0 && (worst == 0 || r < 0)) {
			/* rd_check_url says "setting 'url'": name the setting checked */
			const char *rest = strncmp(why, "setting 'url'", 13) == 0 ? why + 13 : why;

			snprintf(err, errsz, "setting '%s'%s", keys[i], rest);
			worst = r < 0 ? -1 : 1;
		}
		if (worst < 0)
			break;
	}
	rd_strv_free(allow);
	return worst;
}

static const char *const gm_path_settings[] = { "ca_file", "certificate", NULL };

static const struct ab_plugin gm_plugin = {
	.abi = AB_PLUGIN_ABI,
	.size = sizeof(struct ab_plugin),
	.name = "graphmail",
	.description = "alert mail through Microsoft Graph (sendMail, OAuth 2.0 client credentials)",
	.create = gm_create,
	.send = gm_send,
	.test = gm_test,
	.flush = NULL,
	.destroy = gm_destroy,
	.default_rate = 0.5,
	.path_settings = gm_path_settings,   /* relative to state_dir */
	.check = gm_check,
	.flags = AB_PLUGIN_F_RECIPIENTS,
};

const struct ab_plugin *alertbridge_plugin(void);
const struct ab_plugin *alertbridge_plugin(void)
{
	return &gm_plugin;
}
