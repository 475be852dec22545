/*
 * utf8.h - strict UTF-8 validation and cleaning of text from outside.
 */
#ifndef AB_PARSE_UTF8_H
#define AB_PARSE_UTF8_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/*
 * Append in[0..len) to out as valid UTF-8: invalid sequences become U+FFFD
 * (one per bad byte), NUL bytes are dropped; with single_line every other
 * control character becomes a space, otherwise CR LF and lone CR become LF
 * and control characters other than TAB and LF are dropped.  Stops at
 * out->max on a character boundary.  Returns 0, or -1 if the output was cut
 * (out->overflow set) or memory ran out (overflow not set).
 */
int ab_utf8_clean(struct ab_buf *out, const char *in, size_t len, bool single_line);

/* True if s[0..len) is valid UTF-8 without NUL bytes. */
bool ab_utf8_valid(const char *s, size_t len);

#endif
