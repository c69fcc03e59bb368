/* Growable text buffer (textbuf.h). */
#include "factord/textbuf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/numfmt.h"
#include "factord/text.h"

void fd_textbuf_init(fd_textbuf *b) { memset(b, 0, sizeof *b); }

void fd_textbuf_free(fd_textbuf *b) {
    free(b->data);
    fd_textbuf_init(b);
}

static int reserve(fd_textbuf *b, size_t n) {
    if (b->oom) return -1;
    if (b->len + n + 1 <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n + 1) cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) {
        b->oom = 1;
        return -1;
    }
    b->data = d;
    b->cap = cap;
    return 0;
}

void fd_textbuf_put(fd_textbuf *b, const char *s, size_t n) {
    if (reserve(b, n) < 0) return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void fd_textbuf_puts(fd_textbuf *b, const char *s) { fd_textbuf_put(b, s, strlen(s)); }

void fd_textbuf_putc(fd_textbuf *b, char c) { fd_textbuf_put(b, &c, 1); }

void fd_textbuf_csv_field(fd_textbuf *b, const char *s) {
    if (!s[strcspn(s, ",\"\r\n")]) {
        fd_textbuf_puts(b, s);
        return;
    }
    fd_textbuf_putc(b, '"');
    for (const char *p = s; *p; p++) {
        if (*p == '"') fd_textbuf_putc(b, '"');
        fd_textbuf_putc(b, *p);
    }
    fd_textbuf_putc(b, '"');
}

static void put_u_escape(fd_textbuf *b, uint32_t unit) {
    static const char hex[] = "0123456789ABCDEF"; /* as jansson writes them */
    char esc[6] = {'\\', 'u', hex[unit >> 12 & 15], hex[unit >> 8 & 15], hex[unit >> 4 & 15],
                   hex[unit & 15]};
    fd_textbuf_put(b, esc, sizeof esc);
}

void fd_textbuf_json_stringn(fd_textbuf *b, const char *s, size_t len, int ascii) {
    fd_textbuf_putc(b, '"');
    size_t run = 0, i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            i++;
            continue;
        }
        uint32_t cp = c;
        size_t n = c < 0x80 ? 1 : fd_utf8_decode(s + i, len - i, &cp);
        if (n > 1 && !ascii) { /* valid non-ASCII stays as it is */
            i += n;
            continue;
        }
        fd_textbuf_put(b, s + run, i - run);
        if (n == 0) { /* not UTF-8: one replacement character per byte */
            put_u_escape(b, 0xFFFD);
            n = 1;
        } else if (cp == '"' || cp == '\\') {
            char esc[2] = {'\\', (char)cp};
            fd_textbuf_put(b, esc, 2);
        } else if (cp < 0x20) {
            static const char named[] = "btn\0fr"; /* \b \t \n, \f \r (8..13 but 11) */
            if (cp >= 8 && cp <= 13 && named[cp - 8]) {
                char esc[2] = {'\\', named[cp - 8]};
                fd_textbuf_put(b, esc, 2);
            } else {
                put_u_escape(b, cp);
            }
        } else if (cp < 0x10000) {
            put_u_escape(b, cp);
        } else { /* UTF-16 surrogate pair */
            put_u_escape(b, 0xD800 | ((cp - 0x10000) >> 10));
            put_u_escape(b, 0xDC00 | ((cp - 0x10000) & 0x3FF));
        }
        i += n;
        run = i;
    }
    fd_textbuf_put(b, s + run, len - run);
    fd_textbuf_putc(b, '"');
}

void fd_textbuf_json_string(fd_textbuf *b, const char *s) {
    fd_textbuf_json_stringn(b, s, strlen(s), 0);
}

void fd_textbuf_num(fd_textbuf *b, double x, const char *nan_text) {
    if (!isfinite(x)) {
        fd_textbuf_puts(b, nan_text);
        return;
    }
    if (reserve(b, FD_NUM_BUF) < 0) return;
    b->len += fd_num_format(x, b->data + b->len);
}
