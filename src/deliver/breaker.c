/*
 * breaker.c - the channel-wide circuit breaker (see breaker.h).
 *
 * Public: ab_breaker_new, ab_breaker_free, ab_breaker_admit,
 *         ab_breaker_unprobe, ab_breaker_result, ab_breaker_probe_due,
 *         ab_breaker_idle, ab_breaker_next_probe, ab_breaker_paused,
 *         ab_breaker_gen, ab_breaker_pause_ms.
 * Diagnostics: none (the dispatcher logs pauses and resumptions).
 *
 * One entry per channel that ever failed, in a small array keyed by name
 * (at most AB_BREAKER_MAX; a channel past that is never paused), under
 * one mutex.  States: closed; open until a time; a probe out.  A probe
 * out for longer than PROBE_LOST_MS (its worker is stuck on a store that
 * refuses its result) is given to another worker.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "deliver/breaker.h"
#include "lib/buf.h"

#define AB_BREAKER_MAX 1024
#define PROBE_WAIT_MS 1000       /* WAIT with a probe out: look again after this */
#define PROBE_LOST_MS 600000     /* a probe out this long is given to another worker */

struct entry {
	char *channel;
	bool open;            /* paused (until), or a probe out (probe_at != 0) */
	int64_t until;        /* the pause ends */
	int64_t probe_at;     /* when the probe went out, 0: none out */
	unsigned fails;       /* failed sends in a row (the pause step) */
};

struct ab_breaker {
	pthread_mutex_t mu;
	struct entry *e;
	size_t n, cap;
	unsigned gen;
};

int64_t ab_breaker_pause_ms(unsigned n, int64_t base_ms, int64_t cap_ms)
{
	int64_t v = base_ms > 0 ? base_ms : 1;

	for (unsigned i = 1; i < n && v < cap_ms; i++)
		v = v > INT64_MAX / 2 ? INT64_MAX : v * 2;
	return v > cap_ms ? cap_ms : v;
}

struct ab_breaker *ab_breaker_new(void)
{
	struct ab_breaker *b = calloc(1, sizeof *b);

	if (b)
		pthread_mutex_init(&b->mu, NULL);
	return b;
}

void ab_breaker_free(struct ab_breaker *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++)
		free(b->e[i].channel);
	free(b->e);
	pthread_mutex_destroy(&b->mu);
	free(b);
}

static struct entry *find(struct ab_breaker *b, const char *channel, bool add)
{
	for (size_t i = 0; i < b->n; i++)
		if (!strcmp(b->e[i].channel, channel))
			return &b->e[i];
	if (!add)
		return NULL;
	if (b->n == b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 8;
		struct entry *ne;

		if (ncap > AB_BREAKER_MAX)
			return NULL;
		ne = realloc(b->e, ncap * sizeof *ne);
		if (!ne)
			return NULL;
		b->e = ne;
		b->cap = ncap;
	}
	memset(&b->e[b->n], 0, sizeof b->e[b->n]);
	if (!(b->e[b->n].channel = strdup(channel)))
		return NULL;
	return &b->e[b->n++];
}

/* Is this entry's probe slot free at now? */
static bool probe_free(const struct entry *e, int64_t now)
{
	return e->open && now >= e->until && (!e->probe_at || now - e->probe_at >= PROBE_LOST_MS);
}

enum ab_breaker_verdict ab_breaker_admit(struct ab_breaker *b, const char *channel, int64_t now,
	int64_t *until)
{
	enum ab_breaker_verdict v = AB_BREAKER_GO;
	struct entry *e;

	pthread_mutex_lock(&b->mu);
	e = find(b, channel, false);
	if (e && e->open) {
		if (probe_free(e, now)) {
			e->probe_at = now;
			v = AB_BREAKER_PROBE;
		} else {
			v = AB_BREAKER_WAIT;
			*until = e->probe_at ? now + PROBE_WAIT_MS : e->until;
		}
	}
	pthread_mutex_unlock(&b->mu);
	return v;
}

void ab_breaker_unprobe(struct ab_breaker *b, const char *channel)
{
	struct entry *e;

	pthread_mutex_lock(&b->mu);
	if ((e = find(b, channel, false)))
		e->probe_at = 0;
	pthread_mutex_unlock(&b->mu);
}

int ab_breaker_result(struct ab_breaker *b, const char *channel, bool failed, int retry_after_s,
	int64_t base_ms, int64_t cap_ms, int64_t now, int64_t *pause_ms)
{
	struct entry *e;
	int64_t p, peer = retry_after_s > 0 ? (int64_t)retry_after_s * 1000 : 0;
	int r = 0;

	pthread_mutex_lock(&b->mu);
	e = find(b, channel, failed);
	if (!e) {
		pthread_mutex_unlock(&b->mu);
		return 0;
	}
	if (!failed) {
		r = e->open ? 1 : 0;
		e->open = false;
		e->probe_at = 0;
		e->fails = 0;
	} else if (e->open && !e->probe_at) {
		/* a send that was out when the channel paused: the pause stands,
		 * only a later Retry-After moves it */
		if (now + peer > e->until)
			e->until = now + peer;
	} else {
		/* the first failure, or the probe's */
		e->fails++;
		p = ab_breaker_pause_ms(e->fails, base_ms, cap_ms);
		if (peer > p)
			p = peer;
		e->open = true;
		e->probe_at = 0;
		e->until = now + p;
		*pause_ms = p;
		r = -1;
	}
	if (r)
		b->gen++;
	pthread_mutex_unlock(&b->mu);
	return r;
}

int ab_breaker_probe_due(struct ab_breaker *b, int64_t now, char *name, size_t namesz)
{
	int found = 0;

	pthread_mutex_lock(&b->mu);
	for (size_t i = 0; i < b->n && !found; i++) {
		if (probe_free(&b->e[i], now)) {
			ab_strlcpy(name, b->e[i].channel, namesz);
			found = 1;
		}
	}
	pthread_mutex_unlock(&b->mu);
	return found;
}

void ab_breaker_idle(struct ab_breaker *b, const char *channel)
{
	struct entry *e;

	pthread_mutex_lock(&b->mu);
	if ((e = find(b, channel, false)) && e->open) {
		e->open = false;
		e->probe_at = 0;
		b->gen++;
	}
	pthread_mutex_unlock(&b->mu);
}

int64_t ab_breaker_next_probe(struct ab_breaker *b)
{
	int64_t next = -1;

	pthread_mutex_lock(&b->mu);
	for (size_t i = 0; i < b->n; i++) {
		const struct entry *e = &b->e[i];

		if (e->open && !e->probe_at && (next < 0 || e->until < next))
			next = e->until;
	}
	pthread_mutex_unlock(&b->mu);
	return next;
}

int ab_breaker_paused(struct ab_breaker *b, char ***names, unsigned *gen)
{
	char **out;
	int n = 0;

	pthread_mutex_lock(&b->mu);
	*gen = b->gen;
	out = calloc(b->n + 1, sizeof *out);
	if (!out) {
		pthread_mutex_unlock(&b->mu);
		return -1;
	}
	for (size_t i = 0; i < b->n; i++) {
		if (!b->e[i].open)
			continue;
		if (!(out[n] = strdup(b->e[i].channel))) {
			while (n > 0)
				free(out[--n]);
			free(out);
			pthread_mutex_unlock(&b->mu);
			return -1;
		}
		n++;
	}
	pthread_mutex_unlock(&b->mu);
	*names = out;
	return n;
}

unsigned ab_breaker_gen(struct ab_breaker *b)
{
	unsigned g;

	pthread_mutex_lock(&b->mu);
	g = b->gen;
	pthread_mutex_unlock(&b->mu);
	return g;
}
