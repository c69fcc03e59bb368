/* Row-by-row panel assembly shared by the CSV, JSON and bulk importers (panel_build.h). */
#include "factord/panel_build.h"
#include "factord/text.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fd_panel_header_check(const char *const *names, size_t n, long *id_col, long *date_col,
                          fd_error *err) {
    *id_col = -1;
    if (date_col) *date_col = -1;
    if (fd_column_names_check(names, n, "column", err) < 0) return -1;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], "id") == 0) *id_col = (long)i;
        if (date_col && strcmp(names[i], "date") == 0) *date_col = (long)i;
    }
    if (*id_col < 0)
        return fd_error_set(err, 400, "no_id_column", "no 'id' column among the %zu columns", n);
    if (date_col && *date_col < 0)
        return fd_error_set(err, 400, "no_date_column", "no 'date' column among the %zu columns",
                            n);
    return 0;
}

int fd_panel_id_check(const char *id, size_t len, const char *where, fd_error *err) {
    if (len == 0) return fd_error_set(err, 400, "empty_id", "%s: empty id", where);
    if (fd_name_check(id, len, "the id", "bad_id", err) < 0)
        return fd_error_prefix(err, "%s", where);
    return 0;
}

static uint64_t hash_id(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

/* "line 12" or "rows[11]". */
static void tag_text(const fd_panel_builder *b, long tag, char out[40]) {
    snprintf(out, 40, b->tag_kind == FD_TAG_INDEX ? "rows[%ld]" : "line %ld", tag);
}

static int oom(fd_error *err) { return fd_error_set(err, 500, "out_of_memory", "out of memory"); }

int fd_panel_builder_init(fd_panel_builder *b, const char *month, const char *const *names,
                          size_t n, int tag_kind, fd_error *err) {
    memset(b, 0, sizeof *b);
    fd_panel_init(&b->p);
    snprintf(b->p.month, sizeof b->p.month, "%s", month);
    b->n_in = n;
    b->ret_in = b->mkt_in = -1;
    b->tag_kind = tag_kind;
    b->char_in = malloc((n ? n : 1) * sizeof *b->char_in);
    b->p.col_names = calloc(n ? n : 1, sizeof *b->p.col_names);
    if (!b->char_in || !b->p.col_names) return oom(err);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], "ret") == 0) {
            b->ret_in = (long)i;
        } else if (strcmp(names[i], "mktcap") == 0) {
            b->mkt_in = (long)i;
        } else {
            b->p.col_names[b->p.n_cols] = strdup(names[i]);
            if (!b->p.col_names[b->p.n_cols]) return oom(err);
            b->char_in[b->p.n_cols++] = (long)i;
        }
    }
    return 0;
}

static int grow_rows(fd_panel_builder *b, fd_error *err) {
    size_t cap = b->cap_rows ? b->cap_rows * 2 : 256;
    fd_panel *p = &b->p;
    char **ids = realloc(p->ids, cap * sizeof *ids);
    if (!ids) return oom(err);
    p->ids = ids;
    long *tags = realloc(b->tags, cap * sizeof *tags);
    if (!tags) return oom(err);
    b->tags = tags;
    if (p->n_cols) {
        double *v = realloc(p->values, cap * p->n_cols * sizeof *v);
        if (!v) return oom(err);
        p->values = v;
    }
    if (b->ret_in >= 0) {
        double *v = realloc(p->ret, cap * sizeof *v);
        if (!v) return oom(err);
        p->ret = v;
    }
    if (b->mkt_in >= 0) {
        double *v = realloc(p->mktcap, cap * sizeof *v);
        if (!v) return oom(err);
        p->mktcap = v;
    }
    b->cap_rows = cap;
    return 0;
}

/* Keeps the id set at most half full so probes stay short. */
static int grow_slots(fd_panel_builder *b, fd_error *err) {
    size_t n = b->n_slots ? b->n_slots * 2 : 1024;
    size_t *slots = calloc(n, sizeof *slots);
    if (!slots) return oom(err);
    for (size_t r = 0; r < b->p.n_rows; r++) {
        size_t h = hash_id(b->p.ids[r], strlen(b->p.ids[r])) & (n - 1);
        while (slots[h]) h = (h + 1) & (n - 1);
        slots[h] = r + 1;
    }
    free(b->slots);
    b->slots = slots;
    b->n_slots = n;
    return 0;
}

int fd_panel_builder_add(fd_panel_builder *b, const char *id, size_t id_len, const double *vals,
                         long tag, fd_error *err) {
    fd_panel *p = &b->p;
    char where[40], first[40];
    tag_text(b, tag, where);
    if (fd_panel_id_check(id, id_len, where, err) < 0) return -1;
    if ((p->n_rows + 1) * 2 > b->n_slots && grow_slots(b, err) < 0) return -1;
    size_t h = hash_id(id, id_len) & (b->n_slots - 1);
    for (; b->slots[h]; h = (h + 1) & (b->n_slots - 1)) {
        size_t r = b->slots[h] - 1;
        if (strncmp(p->ids[r], id, id_len) == 0 && p->ids[r][id_len] == '\0') {
            tag_text(b, b->tags[r], first);
            return fd_error_set(err, 400, "duplicate_id", "%s: duplicate id '%.*s' (first at %s)",
                                where, (int)(id_len > 100 ? 100 : id_len), id, first);
        }
    }
    if (p->n_rows == b->cap_rows && grow_rows(b, err) < 0) return -1;
    size_t r = p->n_rows;
    p->ids[r] = strndup(id, id_len);
    if (!p->ids[r]) return oom(err);
    b->slots[h] = r + 1;
    b->tags[r] = tag;
    for (size_t j = 0; j < p->n_cols; j++) {
        double v = vals[b->char_in[j]];
        p->values[r * p->n_cols + j] = v;
        b->missing += isnan(v) != 0;
    }
    if (p->ret) {
        p->ret[r] = vals[b->ret_in];
        b->missing += isnan(p->ret[r]) != 0;
    }
    if (p->mktcap) {
        p->mktcap[r] = vals[b->mkt_in];
        b->missing += isnan(p->mktcap[r]) != 0;
    }
    p->n_rows++;
    return 0;
}

int fd_panel_builder_finish(fd_panel_builder *b, fd_panel *out, fd_error *err) {
    if (b->p.n_rows == 0)
        return fd_error_set(err, 400, "no_rows", "month %s: no data rows", b->p.month);
    *out = b->p;
    fd_panel_init(&b->p);
    return 0;
}

void fd_panel_builder_free(fd_panel_builder *b) {
    fd_panel_free(&b->p);
    free(b->char_in);
    free(b->slots);
    free(b->tags);
    b->char_in = NULL;
    b->slots = NULL;
    b->tags = NULL;
}

size_t fd_panel_missing_cells(const fd_panel *p) {
    size_t miss = 0, cells = p->n_rows * p->n_cols;
    for (size_t i = 0; i < cells; i++) miss += isnan(p->values[i]) != 0;
    for (size_t i = 0; p->ret && i < p->n_rows; i++) miss += isnan(p->ret[i]) != 0;
    for (size_t i = 0; p->mktcap && i < p->n_rows; i++) miss += isnan(p->mktcap[i]) != 0;
    return miss;
}
