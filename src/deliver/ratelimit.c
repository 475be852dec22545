/*
 * ratelimit.c - per-channel token buckets (see ratelimit.h).
 *
 * Public: ab_ratelimit_new, ab_ratelimit_free, ab_ratelimit_conf,
 *         ab_ratelimit_take.
 * Diagnostics: none (the dispatcher logs deferrals at debug level).
 *
 * Buckets live in a small array keyed by channel name (bounded: at most
 * AB_RL_MAX channels; the config allows fewer), guarded by one mutex.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "deliver/ratelimit.h"

#define AB_RL_MAX 1024

struct bucket {
	char *channel;
	double tokens;
	int64_t last_ms;
};

struct ab_ratelimit {
	pthread_mutex_t mu;
	struct bucket *b;
	size_t n, cap;
};

struct ab_ratelimit *ab_ratelimit_new(void)
{
	struct ab_ratelimit *rl = calloc(1, sizeof *rl);

	if (rl)
		pthread_mutex_init(&rl->mu, NULL);
	return rl;
}

void ab_ratelimit_free(struct ab_ratelimit *rl)
{
	if (!rl)
		return;
	for (size_t i = 0; i < rl->n; i++)
		free(rl->b[i].channel);
	free(rl->b);
	pthread_mutex_destroy(&rl->mu);
	free(rl);
}

void ab_ratelimit_conf(const struct ab_channel_conf *ch, double default_rate, double *rate,
	int *burst)
{
	*rate = ch->rate > 0 ? ch->rate : default_rate > 0 ? default_rate : 0;
	*burst = ch->burst > 0 ? ch->burst : 1;
}

static struct bucket *find(struct ab_ratelimit *rl, const char *channel, int burst, int64_t now)
{
	for (size_t i = 0; i < rl->n; i++)
		if (!strcmp(rl->b[i].channel, channel))
			return &rl->b[i];
	if (rl->n == rl->cap) {
		size_t ncap = rl->cap ? rl->cap * 2 : 8;
		struct bucket *nb;
		if (ncap > AB_RL_MAX)
			return NULL;
		nb = realloc(rl->b, ncap * sizeof *nb);
		if (!nb)
			return NULL;
		rl->b = nb;
		rl->cap = ncap;
	}
	rl->b[rl->n].channel = strdup(channel);
	if (!rl->b[rl->n].channel)
		return NULL;
	rl->b[rl->n].tokens = burst;
	rl->b[rl->n].last_ms = now;
	return &rl->b[rl->n++];
}

int64_t ab_ratelimit_take(struct ab_ratelimit *rl, const char *channel, double rate, int burst,
	int64_t now_ms)
{
	struct bucket *b;
	int64_t wait = 0;

	if (rate <= 0 || !rl)
		return 0;
	pthread_mutex_lock(&rl->mu);
	b = find(rl, channel, burst, now_ms);
	if (b) {
		if (now_ms > b->last_ms) {
			b->tokens += (double)(now_ms - b->last_ms) * rate / 1000.0;
			b->last_ms = now_ms;
		}
		if (b->tokens > burst)
			b->tokens = burst;
		if (b->tokens >= 1.0) {
			b->tokens -= 1.0;
		} else {
			wait = (int64_t)((1.0 - b->tokens) * 1000.0 / rate) + 1;
		}
	}
	pthread_mutex_unlock(&rl->mu);
	return wait;
}
