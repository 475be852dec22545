/*
 * channels.h - the notes about disabled channels (config_channel.c), shared
 * by the daemon's log and `alertbridge check`.
 */
#ifndef AB_CHANNELS_H
#define AB_CHANNELS_H

#include <stdbool.h>

/* Notes about disabled channels (enabled = false), one line each, for the
 * daemon's log at start/reload and `alertbridge check`: every disabled
 * channel, and every enabled channel whose fallback is disabled (its
 * health events then go only to the log).  Returns the number of lines. */
struct ab_config;
typedef void (*ab_channel_note_fn)(void *arg, bool warning, const char *line);
int ab_channels_notes(const struct ab_config *cfg, ab_channel_note_fn fn, void *arg);

#endif
