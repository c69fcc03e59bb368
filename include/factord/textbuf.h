/* fd_textbuf: a growable byte buffer for the text factord writes (CSV and JSON bodies of
 * many megabytes, where building a jansson tree per cell would cost more than the data).
 * Appends never fail visibly: an allocation failure sets `oom` and later appends are
 * no-ops, so writers check once at the end. The caller owns `data` (take it or free it with
 * fd_textbuf_free). One thread. */
#ifndef FACTORD_TEXTBUF_H
#define FACTORD_TEXTBUF_H

#include <stddef.h>

typedef struct fd_textbuf {
    char *data; /* NUL-terminated when not empty */
    size_t len, cap;
    int oom;
} fd_textbuf;

void fd_textbuf_init(fd_textbuf *b);
void fd_textbuf_free(fd_textbuf *b);
void fd_textbuf_put(fd_textbuf *b, const char *s, size_t n);
void fd_textbuf_puts(fd_textbuf *b, const char *s);
void fd_textbuf_putc(fd_textbuf *b, char c);
/* A CSV field, quoted (RFC 4180) only when it holds ',', '"', CR or LF. */
void fd_textbuf_csv_field(fd_textbuf *b, const char *s);
/* A JSON string literal of s[0..len): '"', '\\' and control characters escaped (\n, \t,
 * ... or \u00XX); with `ascii`, every non-ASCII character as \uXXXX (a surrogate pair past
 * the BMP). Bytes that are not UTF-8 become U+FFFD, one per byte, so the text is always
 * valid JSON. */
void fd_textbuf_json_stringn(fd_textbuf *b, const char *s, size_t len, int ascii);
/* The same for a NUL-terminated string, non-ASCII kept as UTF-8. */
void fd_textbuf_json_string(fd_textbuf *b, const char *s);

/* A number via fd_num_format (numfmt.h); NaN and infinities write `nan_text` ("" for CSV,
 * "null" for JSON). */
void fd_textbuf_num(fd_textbuf *b, double x, const char *nan_text);

#endif
