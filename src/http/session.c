/*
 * session.c - the web console's sessions and sign-in throttle (see
 * session.h), in memory, behind one mutex.
 *
 * Public: ab_session_token, ab_session_create, ab_session_find,
 * ab_session_end, ab_session_end_user, ab_login_wait, ab_login_failed,
 * ab_login_succeeded, ab_session_reset.
 * Ids and CSRF tokens are 32 bytes from OpenSSL's RAND_bytes as hex; ids
 * are compared in constant time.  Nothing here logs: an id is a secret.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

#include "http/session.h"
#include "lib/hmac.h"
#include "lib/buf.h"
#include "lib/util.h"

#define THROTTLE_KEYS 1024
#define THROTTLE_KEY_MAX 96

struct slot {
	struct ab_session s;
	int64_t created, seen;
	bool used;
};

struct fail {
	char key[THROTTLE_KEY_MAX];
	int64_t first;           /* the window's start */
	int n;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct slot slots[AB_SESSION_MAX];
static struct fail fails[THROTTLE_KEYS];

int ab_session_token(char out[AB_SESSION_TOKEN_LEN + 1])
{
	unsigned char r[AB_SESSION_TOKEN_LEN / 2];

	if (RAND_bytes(r, sizeof r) != 1)
		return -1;
	for (size_t i = 0; i < sizeof r; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
	return 0;
}

static bool alive(const struct slot *sl, int64_t now)
{
	return sl->used && now - sl->seen < AB_SESSION_IDLE_MS &&
		now - sl->created < AB_SESSION_LIFE_MS;
}

int ab_session_create(const char *user, int64_t now, struct ab_session *s)
{
	struct slot *pick = NULL;

	if (strlen(user) > AB_SESSION_USER_MAX || ab_session_token(s->id) < 0 ||
	    ab_session_token(s->csrf) < 0)
		return -1;
	ab_strlcpy(s->user, user, sizeof s->user);
	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < AB_SESSION_MAX; i++) {
		struct slot *sl = &slots[i];

		if (!alive(sl, now)) {   /* free, or expired */
			pick = sl;
			break;
		}
		if (!pick || sl->seen < pick->seen)
			pick = sl;           /* else the least recently used */
	}
	pick->s = *s;
	pick->created = pick->seen = now;
	pick->used = true;
	pthread_mutex_unlock(&mu);
	return 0;
}

static struct slot *lookup(const char *id)
{
	if (!id || strlen(id) != AB_SESSION_TOKEN_LEN)
		return NULL;
	for (size_t i = 0; i < AB_SESSION_MAX; i++)
		if (slots[i].used && ab_mem_equal_ct(slots[i].s.id, id, AB_SESSION_TOKEN_LEN))
			return &slots[i];
	return NULL;
}

int ab_session_find(const char *id, int64_t now, struct ab_session *s)
{
	struct slot *sl;
	int found = 0;

	pthread_mutex_lock(&mu);
	sl = lookup(id);
	if (sl && alive(sl, now)) {
		sl->seen = now;
		*s = sl->s;
		found = 1;
	} else if (sl) {
		memset(sl, 0, sizeof *sl);
	}
	pthread_mutex_unlock(&mu);
	return found;
}

void ab_session_end(const char *id)
{
	struct slot *sl;

	pthread_mutex_lock(&mu);
	if ((sl = lookup(id)))
		memset(sl, 0, sizeof *sl);
	pthread_mutex_unlock(&mu);
}

int ab_session_end_user(const char *user)
{
	int n = 0;

	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < AB_SESSION_MAX; i++) {
		if (slots[i].used && !strcmp(slots[i].s.user, user)) {
			memset(&slots[i], 0, sizeof slots[i]);
			n++;
		}
	}
	pthread_mutex_unlock(&mu);
	return n;
}

/* key's entry; with make, a new one (a free entry, else the oldest). */
static struct fail *fail_of(const char *key, bool make, int64_t now)
{
	struct fail *pick = NULL;

	for (size_t i = 0; i < THROTTLE_KEYS; i++) {
		struct fail *f = &fails[i];

		if (f->n && !strcmp(f->key, key))
			return f;
		if (!pick || (pick->n && (!f->n || f->first < pick->first)))
			pick = f;
	}
	if (!make)
		return NULL;
	memset(pick, 0, sizeof *pick);
	ab_strlcpy(pick->key, key, sizeof pick->key);
	pick->first = now;
	return pick;
}

int ab_login_wait(const char *key, int64_t now)
{
	struct fail *f;
	int wait = 0;

	pthread_mutex_lock(&mu);
	f = fail_of(key, false, now);
	if (f && now - f->first >= AB_LOGIN_WINDOW_MS)
		memset(f, 0, sizeof *f);     /* the window is over */
	else if (f && f->n >= AB_LOGIN_FAILS)
		wait = (int)((f->first + AB_LOGIN_WINDOW_MS - now + 999) / 1000);
	pthread_mutex_unlock(&mu);
	return wait;
}

void ab_login_failed(const char *key, int64_t now)
{
	struct fail *f;

	pthread_mutex_lock(&mu);
	f = fail_of(key, true, now);
	if (now - f->first >= AB_LOGIN_WINDOW_MS) {
		f->first = now;
		f->n = 0;
	}
	f->n++;
	pthread_mutex_unlock(&mu);
}

void ab_login_succeeded(const char *key)
{
	struct fail *f;

	pthread_mutex_lock(&mu);
	if ((f = fail_of(key, false, 0)))
		memset(f, 0, sizeof *f);
	pthread_mutex_unlock(&mu);
}

void ab_session_reset(void)
{
	pthread_mutex_lock(&mu);
	memset(slots, 0, sizeof slots);
	memset(fails, 0, sizeof fails);
	pthread_mutex_unlock(&mu);
}
