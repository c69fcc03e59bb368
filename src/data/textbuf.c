/* Growable text buffer (textbuf.h). */
#include "factord/textbuf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "factord/numparse.h"

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

void fd_textbuf_json_string(fd_textbuf *b, const char *s) {
    fd_textbuf_putc(b, '"');
    const char *run = s;
    for (const char *p = s;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c != 0 && c >= 0x20 && c != '"' && c != '\\') continue;
        fd_textbuf_put(b, run, (size_t)(p - run));
        if (c == 0) break;
        char esc[8];
        if (c == '"' || c == '\\')
            snprintf(esc, sizeof esc, "\\%c", c);
        else
            snprintf(esc, sizeof esc, "\\u%04x", c);
        fd_textbuf_puts(b, esc);
        run = p + 1;
    }
    fd_textbuf_putc(b, '"');
}

void fd_textbuf_num(fd_textbuf *b, double x, const char *nan_text) {
    if (isnan(x)) {
        fd_textbuf_puts(b, nan_text);
        return;
    }
    char tmp[32];
    size_t n = fd_num_format(x, tmp);
    fd_textbuf_put(b, tmp, n);
}
