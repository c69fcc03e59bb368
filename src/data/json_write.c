/* jansson documents to text with shortest round-trip reals (json_write.h). */
#include "factord/json_write.h"

#include <stdlib.h>
#include <string.h>

#include "factord/numfmt.h"

#define MAX_DEPTH 1000
#define INDENT_OF(flags) ((int)((flags) & 0x1F)) /* jansson's JSON_INDENT(n) bits */

/* A newline and the indentation of `depth` when indenting; else a space after a
 * separator (`space`) unless compact. */
static void put_indent(fd_textbuf *b, size_t flags, int depth, int space) {
    int step = INDENT_OF(flags);
    if (step > 0) {
        fd_textbuf_putc(b, '\n');
        for (int i = 0; i < depth * step; i++) fd_textbuf_putc(b, ' ');
    } else if (space && !(flags & JSON_COMPACT)) {
        fd_textbuf_putc(b, ' ');
    }
}

static void put_string(fd_textbuf *b, const char *s, size_t len, size_t flags) {
    fd_textbuf_json_stringn(b, s, len, (flags & JSON_ENSURE_ASCII) != 0);
}

typedef struct key_ref {
    const char *key;
    size_t len;
} key_ref;

static int key_cmp(const void *a, const void *b) {
    const key_ref *x = a, *y = b;
    int c = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int write_value(fd_textbuf *b, const json_t *j, size_t flags, int depth);

static int write_member(fd_textbuf *b, const char *key, size_t len, const json_t *v,
                        size_t flags, int depth, int last) {
    put_string(b, key, len, flags);
    fd_textbuf_puts(b, flags & JSON_COMPACT ? ":" : ": ");
    if (write_value(b, v, flags, depth + 1) < 0) return -1;
    if (!last) fd_textbuf_putc(b, ',');
    put_indent(b, flags, last ? depth : depth + 1, !last);
    return 0;
}

static int write_object(fd_textbuf *b, const json_t *j, size_t flags, int depth) {
    size_t n = json_object_size(j), i = 0;
    fd_textbuf_putc(b, '{');
    if (n == 0) {
        fd_textbuf_putc(b, '}');
        return 0;
    }
    put_indent(b, flags, depth + 1, 0);
    if (flags & JSON_SORT_KEYS) {
        key_ref *keys = malloc(n * sizeof *keys);
        if (!keys) return -1;
        for (void *it = json_object_iter((json_t *)j); it && i < n;
             it = json_object_iter_next((json_t *)j, it), i++)
            keys[i] = (key_ref){json_object_iter_key(it), json_object_iter_key_len(it)};
        qsort(keys, i, sizeof *keys, key_cmp);
        for (size_t k = 0; k < i; k++)
            if (write_member(b, keys[k].key, keys[k].len,
                             json_object_getn(j, keys[k].key, keys[k].len), flags, depth,
                             k + 1 == i) < 0) {
                free(keys);
                return -1;
            }
        free(keys);
    } else {
        for (void *it = json_object_iter((json_t *)j); it; i++) {
            void *next = json_object_iter_next((json_t *)j, it);
            if (write_member(b, json_object_iter_key(it), json_object_iter_key_len(it),
                             json_object_iter_value(it), flags, depth, next == NULL) < 0)
                return -1;
            it = next;
        }
    }
    fd_textbuf_putc(b, '}');
    return 0;
}

static int write_array(fd_textbuf *b, const json_t *j, size_t flags, int depth) {
    size_t n = json_array_size(j);
    fd_textbuf_putc(b, '[');
    if (n == 0) {
        fd_textbuf_putc(b, ']');
        return 0;
    }
    put_indent(b, flags, depth + 1, 0);
    for (size_t i = 0; i < n; i++) {
        if (write_value(b, json_array_get(j, i), flags, depth + 1) < 0) return -1;
        if (i + 1 < n) fd_textbuf_putc(b, ',');
        put_indent(b, flags, i + 1 < n ? depth + 1 : depth, i + 1 < n);
    }
    fd_textbuf_putc(b, ']');
    return 0;
}

static int write_value(fd_textbuf *b, const json_t *j, size_t flags, int depth) {
    if (!j || depth > MAX_DEPTH) return -1;
    switch (json_typeof(j)) {
    case JSON_OBJECT: return write_object(b, j, flags, depth);
    case JSON_ARRAY: return write_array(b, j, flags, depth);
    case JSON_STRING:
        put_string(b, json_string_value(j), json_string_length(j), flags);
        return 0;
    case JSON_INTEGER: {
        char buf[24];
        long long v = (long long)json_integer_value(j);
        unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
        char *p = buf + sizeof buf;
        do *--p = (char)('0' + u % 10);
        while (u /= 10);
        if (v < 0) *--p = '-';
        fd_textbuf_put(b, p, (size_t)(buf + sizeof buf - p));
        return 0;
    }
    case JSON_REAL: /* jansson holds only finite reals */
        fd_textbuf_num(b, json_real_value(j), "null");
        return 0;
    case JSON_TRUE: fd_textbuf_puts(b, "true"); return 0;
    case JSON_FALSE: fd_textbuf_puts(b, "false"); return 0;
    case JSON_NULL: fd_textbuf_puts(b, "null"); return 0;
    }
    return -1;
}

int fd_json_write(fd_textbuf *b, const json_t *json, size_t flags) {
    size_t len = b->len;
    if (!json || (!(flags & JSON_ENCODE_ANY) && !json_is_object(json) && !json_is_array(json)))
        return -1;
    if (write_value(b, json, flags, 0) < 0 || b->oom) {
        if (!b->oom) {
            b->len = len;
            if (b->data) b->data[len] = '\0';
        }
        return -1;
    }
    return 0;
}

char *fd_json_dumps(const json_t *json, size_t flags) {
    fd_textbuf b;
    fd_textbuf_init(&b);
    if (fd_json_write(&b, json, flags) < 0) {
        fd_textbuf_free(&b);
        return NULL;
    }
    return b.data; /* NUL-terminated: a document is never empty text */
}
