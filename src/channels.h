/*
 * channels.h - host-side channel services shared by the daemon and the
 * operator tool (config_channel.c): the secret resolver given to plugins,
 * and the notes about disabled channels.
 */
#ifndef AB_CHANNELS_H
#define AB_CHANNELS_H

#include <stdbool.h>

/* Make the plugin host resolve "enc:v1:" secrets with key_file (NULL: enc:
 * references fail with a message saying to set secrets_key); "file:" and
 * "env:" always work.  Call before building a runtime; the last call wins. */
void ab_channels_secrets(const char *key_file);

/* Notes about disabled channels (enabled = false), one line each, for the
 * daemon's log at start/reload and `alertbridge check`: every disabled
 * channel, and every enabled channel whose fallback is disabled (its
 * health events then go only to the log).  Returns the number of lines. */
struct ab_config;
typedef void (*ab_channel_note_fn)(void *arg, bool warning, const char *line);
int ab_channels_notes(const struct ab_config *cfg, ab_channel_note_fn fn, void *arg);

#endif
