/*
 * channels.h - host-side channel services shared by the daemon and the
 * operator tool (config_channel.c): the secret resolver given to plugins.
 */
#ifndef AB_CHANNELS_H
#define AB_CHANNELS_H

/* Make the plugin host resolve "enc:v1:" secrets with key_file (NULL: enc:
 * references fail with a message saying to set secrets_key); "file:" and
 * "env:" always work.  Call before building a runtime; the last call wins. */
void ab_channels_secrets(const char *key_file);

#endif
