/*
 * mail.h - a raw RFC 5322 message parsed (GMime 3) into a normalized,
 * bounded structure for the profile extractors.
 *
 * Every string in struct ab_mail is valid UTF-8 without NUL bytes (invalid
 * sequences become U+FFFD); single-line fields have control characters
 * replaced by spaces; text uses "\n" line ends.
 *
 * Text in other charsets is converted: header values are RFC 2047 decoded
 * (adjacent encoded words of one charset decoded together, so a character
 * split between two words survives); parts are converted from their
 * charset (the Content-Type parameter, else an XML declaration or an HTML
 * <meta charset>).  Without a usable charset (none, US-ASCII, unknown),
 * text that reads as UTF-8 is UTF-8 and anything else windows-1252, so
 * 8-bit text is never dropped; ISO-8859-1 is read as windows-1252; text
 * that is valid UTF-8 with non-ASCII characters is UTF-8 whatever 8-bit
 * charset its label names.
 */
#ifndef AB_PARSE_MAIL_H
#define AB_PARSE_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ab_mail_limits {
	size_t max_message;  /* raw bytes parsed; the rest is ignored */
	size_t max_header;   /* one header field (decoded value) */
	size_t max_depth;    /* MIME nesting below the top-level entity */
	size_t max_parts;    /* MIME entities walked, containers included */
	size_t max_decoded;  /* decoded bytes kept in total (text, html, attachments) */
};

#define AB_MAIL_DEF_MAX_MESSAGE (10u * 1024 * 1024)
#define AB_MAIL_DEF_MAX_HEADER  (64u * 1024)
#define AB_MAIL_DEF_MAX_DEPTH   20u
#define AB_MAIL_DEF_MAX_PARTS   100u
#define AB_MAIL_DEF_MAX_DECODED (5u * 1024 * 1024)

#define AB_MAIL_MAX_HEADERS   1000  /* header fields kept */
#define AB_MAIL_MAX_RCPT      100   /* To addresses kept */
#define AB_MAIL_MAX_AUTH      20    /* Authentication-Results kept */
#define AB_MAIL_MAX_LINKS     64
#define AB_MAIL_MAX_FILENAME  1024
#define AB_MAIL_MAX_ADDR      998   /* longer addresses and Message-IDs (past RFC 5322's
				       line limit) are not valid: dropped */

/* Why parsing stopped short (the first limit hit). */
enum ab_mail_limit {
	AB_MAIL_LIMIT_NONE = 0,
	AB_MAIL_LIMIT_MESSAGE,
	AB_MAIL_LIMIT_HEADER,
	AB_MAIL_LIMIT_DEPTH,
	AB_MAIL_LIMIT_PARTS,
	AB_MAIL_LIMIT_DECODED,
};

struct ab_mail_header {
	char *name;
	char *value;   /* unfolded, RFC 2047 decoded */
};

struct ab_mail_attachment {
	char *filename;      /* RFC 2231/2047 decoded; NULL if none */
	char *content_type;  /* lowercase "type/subtype"; a generic type
				(application/octet-stream, ...) whose file name ends
				in .json/.ndjson/.jsonl, .xml/.nessus, .txt/.log or .csv is
				given as application/json, application/xml,
				text/plain or text/csv */
	size_t size;         /* size in bytes after the transfer decoding (base64,
				quoted-printable; counted even when not kept) */
	char *content;       /* text-like types only (every text type;
				application/json, xml, x-json, ndjson, jsonl; +json
				and +xml subtypes; the types named from a file name
				above): converted to UTF-8, NUL-terminated; NULL
				otherwise */
	size_t content_len;  /* XML was converted from its charset (the Content-Type
				parameter or the XML declaration) to UTF-8: parse it
				with the encoding forced to UTF-8 */
	bool truncated;      /* content cut by max_decoded */
};

struct ab_mail {
	struct ab_mail_header *headers;   /* top-level header fields, in order */
	size_t n_headers;
	char *subject;                    /* NULL when absent */
	char *from;                       /* first mailbox address "user@domain", or NULL */
	char **to;                        /* mailbox addresses of To: (groups expanded) */
	size_t n_to;
	int64_t date;                     /* ms since the epoch; 0 when absent/invalid */
	char *message_id;                 /* without <>; NULL when absent */
	char **auth_results;              /* Authentication-Results values, in order */
	size_t n_auth_results;
	char *text;                       /* never NULL: the first inline text/plain
					     part, else (none, or only white space in
					     it) the first text/html one as text */
	size_t text_len;
	bool text_from_html;
	char *html;                       /* first text/html body part (UTF-8), or NULL */
	size_t html_len;
	char **links;                     /* http(s)/mailto, deduplicated, HTML first */
	size_t n_links;
	const char *url;                  /* first http(s) link (points into links) or NULL */
	struct ab_mail_attachment *attachments;
	size_t n_attachments;
	size_t n_parts;                   /* MIME entities walked */
	bool truncated;                   /* some content was cut or skipped */
	size_t n_bad_utf8;                /* headers/parts whose invalid UTF-8 became U+FFFD */
	enum ab_mail_limit limit;         /* first limit hit */
};

void ab_mail_limits_default(struct ab_mail_limits *lim);
const char *ab_mail_limit_name(enum ab_mail_limit l);   /* "max_depth", ..., "none" */

/*
 * Parse raw[0..len).  lim may be NULL for the defaults (zero members also
 * take the default).  Returns 0 and *out; 1 when a limit was hit: *out holds
 * what could be parsed safely, (*out)->limit says which limit and err says
 * what happened (the caller should pass the mail untouched and log); -1 on
 * error (empty input, no memory, not a message) with err set and *out NULL.
 */
int ab_mail_parse(const char *raw, size_t len, const struct ab_mail_limits *lim,
		  struct ab_mail **out, char *err, size_t errsz);
void ab_mail_free(struct ab_mail *m);

/* First header named name (case-insensitive), or NULL. */
const char *ab_mail_header(const struct ab_mail *m, const char *name);

#endif
