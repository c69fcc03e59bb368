/* fd_csv: a streaming RFC 4180 tokenizer. Feed it chunks of any size (a whole body or 64 KiB
 * reads of a 200 MB file); it calls back once per complete row. Memory is bounded by the
 * longest row (max_row_bytes), never by the input.
 *
 * Dialect: ',' separates fields; rows end with LF, CRLF or a lone CR; a field that starts
 * with '"' is quoted (it may hold separators, line breaks and "" for a quote; the closing
 * quote must be followed by a separator or the end of the row); a quote inside an unquoted
 * field is kept literally. A UTF-8 byte-order mark before the first byte is skipped. A
 * blank line is delivered as one empty field (fd_csv_row_blank) so callers that care about
 * blocks (Ken French files) can see it.
 *
 * Errors (400 "bad_csv") name the line: an unterminated quote (the line where it opened),
 * a character after a closing quote, a NUL byte anywhere (no format factord reads has one,
 * and a NUL would cut the NUL-terminated field short), a row over the limits. Line numbers are 1-based
 * physical lines; a row reports the line it starts on.
 *
 * Ownership: the caller owns the fd_csv (fd_csv_new / fd_csv_free); the row passed to the
 * callback and its strings are valid only during the callback. One thread at a time. */
#ifndef FACTORD_CSV_H
#define FACTORD_CSV_H

#include <stddef.h>

#include "factord/error.h"

typedef struct fd_csv fd_csv;

typedef struct fd_csv_row {
    size_t n;            /* fields (>= 1) */
    const char **fields; /* (n) NUL-terminated field text, quotes removed */
    const size_t *lens;  /* (n) byte lengths */
    long line;           /* 1-based line the row starts on */
} fd_csv_row;

/* Returns 0 to go on, -1 to stop the parse (the callback fills err). */
typedef int (*fd_csv_row_fn)(void *ctx, const fd_csv_row *row, fd_error *err);

#define FD_CSV_DEFAULT_MAX_ROW (16u << 20) /* bytes of field text in one row */
#define FD_CSV_DEFAULT_MAX_FIELDS 100000u

/* max_row_bytes / max_fields of 0 take the defaults. NULL on out of memory. */
fd_csv *fd_csv_new(fd_csv_row_fn fn, void *ctx, size_t max_row_bytes, size_t max_fields);
void fd_csv_free(fd_csv *c);

/* Tokenizes data[0..len) and calls back for each row it completes. */
int fd_csv_feed(fd_csv *c, const char *data, size_t len, fd_error *err);
/* End of input: delivers a last row that lacks a line break; fails on an open quote. */
int fd_csv_finish(fd_csv *c, fd_error *err);

/* Convenience: feed a whole buffer and finish. */
int fd_csv_parse_buffer(const char *data, size_t len, fd_csv_row_fn fn, void *ctx,
                        fd_error *err);
/* Same, reading a file in chunks (constant memory). 404/500 errors for an unreadable file. */
int fd_csv_parse_file(const char *path, fd_csv_row_fn fn, void *ctx, fd_error *err);

/* 1 for a row that is a blank line: one field holding nothing but spaces or tabs. */
int fd_csv_row_blank(const fd_csv_row *row);

/* Skips the spaces and tabs around a field (header names, ids, keys): returns the start of
 * the trimmed text and sets *len to its length. Does not modify the field. */
const char *fd_csv_trim(const char *field, size_t *len);

#endif
