/*
 * utf8.h - strict UTF-8 validation and cleaning of text from outside, and
 * the one decoder of a UTF-8 sequence (ab_utf8_seq) every layer uses.
 */
#ifndef AB_PARSE_UTF8_H
#define AB_PARSE_UTF8_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

/*
 * Length (1-4) of the valid UTF-8 sequence at s[0..n), or 0 when the bytes
 * there are not one (or n is 0).  Strict RFC 3629, as jansson: no overlong
 * forms, no surrogates, nothing above U+10FFFF, no sequence cut by the end.
 * A NUL byte is a valid 1-byte sequence; callers that refuse NUL check it.
 */
size_t ab_utf8_seq(const char *s, size_t n);

/*
 * Append in[0..len) to out as valid UTF-8: invalid sequences become U+FFFD
 * (one per bad byte), NUL bytes are dropped; with single_line every other
 * control character becomes a space, otherwise CR LF and lone CR become LF
 * and control characters other than TAB and LF are dropped.  Stops at
 * out->max on a character boundary.  Returns 0, or -1 if the output was cut
 * (out->overflow set, out->oom not) or memory ran out (out->oom set).
 */
int ab_utf8_clean(struct ab_buf *out, const char *in, size_t len, bool single_line);

/* s[0..n) into out (room for 3n bytes) with each byte that is not part of
 * a valid sequence, and each NUL when nul_too, as U+FFFD; the length
 * written.  The one repair that keeps a text's length and everything else
 * (ab_utf8_clean also drops controls and folds newlines). */
size_t ab_utf8_repair(const char *s, size_t n, char *out, bool nul_too);

/* True if s[0..len) is valid UTF-8 without NUL bytes. */
bool ab_utf8_valid(const char *s, size_t len);

/*
 * Count in s[0..len) the valid multibyte UTF-8 sequences (*multi) and the
 * bytes that are not part of a valid sequence (*bad); ASCII, NUL and
 * control characters count for neither.
 */
void ab_utf8_count(const char *s, size_t len, size_t *multi, size_t *bad);

/*
 * True if s[0..len) reads as UTF-8: no bad byte, or at least one valid
 * multibyte sequence (then its few bad bytes are damage, not another
 * charset).  False for 8-bit text in a legacy charset.
 */
bool ab_utf8_plausible(const char *s, size_t len);

/*
 * Append windows-1252 text in[0..len) to out as UTF-8, cleaned as by
 * ab_utf8_clean() (same single_line rules, same cap and return values).
 * ISO-8859-1 is read the same way (its C1 range is unused in practice and
 * mailers label windows-1252 text as ISO-8859-1); the five bytes that
 * windows-1252 leaves undefined become U+FFFD.
 */
int ab_utf8_from_cp1252(struct ab_buf *out, const char *in, size_t len, bool single_line);

#endif
