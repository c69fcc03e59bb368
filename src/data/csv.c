/* Streaming CSV tokenizer (see csv.h). A byte-at-a-time state machine with fast inner scans
 * over runs of ordinary bytes, which is what makes a 5 MB month tokenize in a few ms. */
#include "factord/csv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ST_FIELD_START, ST_UNQUOTED, ST_QUOTED, ST_AFTER_QUOTE };

struct fd_csv {
    fd_csv_row_fn fn;
    void *ctx;
    size_t max_row, max_fields;
    char *buf; /* field text of the current row, each field NUL-terminated */
    size_t len, cap;
    size_t field_start; /* offset in buf where the current field began */
    size_t *starts;     /* (nf) offsets of completed fields */
    size_t nf, fcap;
    const char **fields; /* (nf) handed to the callback */
    size_t *lens;
    int state;
    long line, row_line, quote_line;
    int pending_cr; /* the last byte was CR: an LF right after it is the same line break */
    int started;    /* first byte seen (BOM check done) */
    int failed;
};

/* Bytes that end a run of ordinary field text. A NUL is among them so it can be refused:
 * no field of any format may hold one. */
static const unsigned char is_special[256] = {[','] = 1, ['\n'] = 1, ['\r'] = 1, [0] = 1};

fd_csv *fd_csv_new(fd_csv_row_fn fn, void *ctx, size_t max_row_bytes, size_t max_fields) {
    fd_csv *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->fn = fn;
    c->ctx = ctx;
    c->max_row = max_row_bytes ? max_row_bytes : FD_CSV_DEFAULT_MAX_ROW;
    c->max_fields = max_fields ? max_fields : FD_CSV_DEFAULT_MAX_FIELDS;
    c->state = ST_FIELD_START;
    c->line = c->row_line = 1;
    return c;
}

void fd_csv_free(fd_csv *c) {
    if (!c) return;
    free(c->buf);
    free(c->starts);
    free(c->fields);
    free(c->lens);
    free(c);
}

/* Every failure is final: later feeds refuse to run on a half-parsed row. */
#define FAIL(c, ...) ((c)->failed = 1, fd_error_set(__VA_ARGS__))
#define FAIL_OOM(c, err) FAIL(c, err, 500, "out_of_memory", "out of memory")

static int append(fd_csv *c, const char *s, size_t n, fd_error *err) {
    if (c->len + n + 1 > c->max_row)
        return FAIL(c, err, 400, "bad_csv", "line %ld: row longer than %zu bytes", c->row_line,
                    c->max_row);
    if (c->len + n + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 1024;
        while (cap < c->len + n + 1) cap *= 2;
        char *nb = realloc(c->buf, cap);
        if (!nb) return FAIL_OOM(c, err);
        c->buf = nb;
        c->cap = cap;
    }
    memcpy(c->buf + c->len, s, n);
    c->len += n;
    return 0;
}

static int end_field(fd_csv *c, fd_error *err) {
    if (c->nf + 1 > c->max_fields)
        return FAIL(c, err, 400, "bad_csv", "line %ld: more than %zu fields", c->row_line,
                    c->max_fields);
    if (append(c, "", 1, err) < 0) return -1; /* the NUL */
    if (c->nf == c->fcap) {
        size_t cap = c->fcap ? c->fcap * 2 : 64;
        size_t *ns = realloc(c->starts, cap * sizeof *ns);
        if (!ns) return FAIL_OOM(c, err);
        c->starts = ns;
        const char **nfld = realloc(c->fields, cap * sizeof *nfld);
        if (!nfld) return FAIL_OOM(c, err);
        c->fields = nfld;
        size_t *nl = realloc(c->lens, cap * sizeof *nl);
        if (!nl) return FAIL_OOM(c, err);
        c->lens = nl;
        c->fcap = cap;
    }
    c->starts[c->nf++] = c->field_start;
    c->field_start = c->len;
    return 0;
}

static int emit_row(fd_csv *c, fd_error *err) {
    for (size_t i = 0; i < c->nf; i++) {
        c->fields[i] = c->buf + c->starts[i];
        size_t next = i + 1 < c->nf ? c->starts[i + 1] : c->len;
        c->lens[i] = next - c->starts[i] - 1;
    }
    fd_csv_row row = {c->nf, c->fields, c->lens, c->row_line};
    int rc = c->fn(c->ctx, &row, err);
    c->len = c->nf = c->field_start = 0;
    if (rc < 0) c->failed = 1;
    return rc;
}

static int fail_nul(fd_csv *c, long line, fd_error *err) {
    return FAIL(c, err, 400, "bad_csv", "line %ld: a field holds a NUL byte", line);
}

/* A line break ends the field and the row. */
static int end_row(fd_csv *c, char ch, fd_error *err) {
    if (end_field(c, err) < 0 || emit_row(c, err) < 0) return -1;
    c->line++;
    c->row_line = c->line;
    c->pending_cr = ch == '\r';
    c->state = ST_FIELD_START;
    return 0;
}

int fd_csv_feed(fd_csv *c, const char *data, size_t len, fd_error *err) {
    if (c->failed) return fd_error_set(err, 400, "bad_csv", "parse already failed");
    size_t i = 0;
    if (!c->started && len > 0) {
        c->started = 1;
        if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) i = 3;
    }
    while (i < len) {
        char ch = data[i];
        if (c->pending_cr) {
            c->pending_cr = 0;
            if (ch == '\n') {
                i++;
                continue;
            }
        }
        switch (c->state) {
        case ST_FIELD_START:
            if (ch == '"') {
                c->state = ST_QUOTED;
                c->quote_line = c->line;
                i++;
                break;
            }
            c->state = ST_UNQUOTED;
            /* fall through */
        case ST_UNQUOTED: {
            size_t j = i;
            while (j < len && !is_special[(unsigned char)data[j]]) j++;
            if (j > i && append(c, data + i, j - i, err) < 0) return -1;
            i = j;
            if (i == len) break;
            ch = data[i++];
            if (ch == ',') {
                if (end_field(c, err) < 0) return -1;
                c->state = ST_FIELD_START;
            } else if (ch == '\0') {
                return fail_nul(c, c->line, err);
            } else if (end_row(c, ch, err) < 0) {
                return -1;
            }
            break;
        }
        case ST_QUOTED: {
            size_t j = i;
            while (j < len && data[j] != '"' && data[j] != '\0') {
                if (data[j] == '\n') c->line++;
                j++;
            }
            if (j > i && append(c, data + i, j - i, err) < 0) return -1;
            i = j;
            if (i < len && data[i] == '\0') return fail_nul(c, c->line, err);
            if (i < len) {
                i++;
                c->state = ST_AFTER_QUOTE;
            }
            break;
        }
        case ST_AFTER_QUOTE:
            i++;
            if (ch == '"') {
                if (append(c, "\"", 1, err) < 0) return -1;
                c->state = ST_QUOTED;
            } else if (ch == ',') {
                if (end_field(c, err) < 0) return -1;
                c->state = ST_FIELD_START;
            } else if (ch == '\n' || ch == '\r') {
                if (end_row(c, ch, err) < 0) return -1;
            } else if (ch == '\0') {
                return fail_nul(c, c->line, err);
            } else {
                return FAIL(c, err, 400, "bad_csv",
                            "line %ld: unexpected character '%c' after a closing quote",
                            c->line, ch);
            }
            break;
        }
    }
    return 0;
}

int fd_csv_finish(fd_csv *c, fd_error *err) {
    if (c->failed) return fd_error_set(err, 400, "bad_csv", "parse already failed");
    if (c->state == ST_QUOTED)
        return FAIL(c, err, 400, "bad_csv", "line %ld: unterminated quoted field",
                    c->quote_line);
    if (c->state == ST_FIELD_START && c->nf == 0) return 0; /* input ended with a break */
    if (end_field(c, err) < 0 || emit_row(c, err) < 0) return -1;
    c->state = ST_FIELD_START;
    return 0;
}

int fd_csv_parse_buffer(const char *data, size_t len, fd_csv_row_fn fn, void *ctx,
                        fd_error *err) {
    fd_csv *c = fd_csv_new(fn, ctx, 0, 0);
    if (!c) return fd_error_set(err, 500, "out_of_memory", "out of memory");
    int rc = fd_csv_feed(c, data, len, err);
    if (rc == 0) rc = fd_csv_finish(c, err);
    fd_csv_free(c);
    return rc;
}

int fd_csv_parse_file(const char *path, fd_csv_row_fn fn, void *ctx, fd_error *err) {
    enum { CHUNK = 256 * 1024 };
    FILE *f = fopen(path, "rb");
    if (!f)
        return fd_error_set(err, errno == ENOENT ? 404 : 500, "io_error", "cannot open %s: %s",
                            path, strerror(errno));
    char *chunk = malloc(CHUNK);
    fd_csv *c = fd_csv_new(fn, ctx, 0, 0);
    int rc = 0;
    if (!chunk || !c) {
        rc = fd_error_set(err, 500, "out_of_memory", "out of memory");
    } else {
        size_t n;
        while (rc == 0 && (n = fread(chunk, 1, CHUNK, f)) > 0) rc = fd_csv_feed(c, chunk, n, err);
        if (rc == 0 && ferror(f))
            rc = fd_error_set(err, 500, "io_error", "reading %s failed", path);
        if (rc == 0) rc = fd_csv_finish(c, err);
    }
    fd_csv_free(c);
    free(chunk);
    fclose(f);
    return rc;
}

int fd_csv_row_blank(const fd_csv_row *row) {
    if (row->n != 1) return 0;
    for (const char *p = row->fields[0]; *p; p++)
        if (*p != ' ' && *p != '\t') return 0;
    return 1;
}

const char *fd_csv_trim(const char *s, size_t *len) {
    size_t n = *len;
    while (n && (*s == ' ' || *s == '\t')) s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    *len = n;
    return s;
}
