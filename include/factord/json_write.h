/* fd_json_dumps: jansson documents to text with factord's numbers. jansson writes reals
 * with printf's %.17g (or a fixed JSON_REAL_PRECISION), so 0.003 comes out as
 * 0.0030000000000000001 and no precision is both short and exact for every value; this
 * writer prints them with fd_num_format (numfmt.h), the same text as every CSV and
 * streamed JSON body. Everything else is as json_dumps writes it, for the same flags:
 * JSON_COMPACT, JSON_INDENT(n), JSON_ENSURE_ASCII, JSON_SORT_KEYS and JSON_ENCODE_ANY
 * (JSON_ESCAPE_SLASH and JSON_EMBED are not used by factord and ignored); object keys in
 * insertion order; strings as fd_textbuf_json_stringn writes them. Thread-safe for
 * documents no other thread changes. */
#ifndef FACTORD_JSON_WRITE_H
#define FACTORD_JSON_WRITE_H

#include <jansson.h>

#include "factord/textbuf.h"

/* The text of `json`, NUL-terminated, to free(); NULL when out of memory, when `json` is
 * NULL, or when it is neither an object nor an array and JSON_ENCODE_ANY is not set. */
char *fd_json_dumps(const json_t *json, size_t flags);

/* Appends the text to b; -1 (b unchanged in length) for the cases fd_json_dumps returns
 * NULL for, or a document nested deeper than 1000 levels. */
int fd_json_write(fd_textbuf *b, const json_t *json, size_t flags);

#endif
