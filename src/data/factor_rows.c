/* Row accumulation for the factor parsers (factor_rows.h). */
#include "factor_rows.h"

#include "factord/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int oom(fd_error *err) { return fd_error_set(err, 500, "out_of_memory", "out of memory"); }

int factor_rows_init(factor_rows *r, const char *const *names, size_t n, int tag_is_index,
                     fd_error *err) {
    memset(r, 0, sizeof *r);
    r->tag_is_index = tag_is_index;
    if (n == 0) return fd_error_set(err, 400, "no_factors", "no factor columns");
    r->names = calloc(n, sizeof *r->names);
    if (!r->names) return oom(err);
    if (fd_column_names_check(names, n, "factor column", err) < 0) return -1;
    for (size_t j = 0; j < n; j++) {
        if (!(r->names[j] = strdup(names[j]))) return oom(err);
        r->n_factors = j + 1;
    }
    return 0;
}

int factor_rows_add(factor_rows *r, const char *month, const double *vals, long tag,
                    fd_error *err) {
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        void *m = realloc(r->months, cap * sizeof *r->months);
        if (!m) return oom(err);
        r->months = m;
        double *v = realloc(r->values, cap * r->n_factors * sizeof *v);
        if (!v) return oom(err);
        r->values = v;
        long *t = realloc(r->tags, cap * sizeof *t);
        if (!t) return oom(err);
        r->tags = t;
        r->cap = cap;
    }
    memcpy(r->months[r->n], month, FD_MONTH_LEN);
    memcpy(r->values + r->n * r->n_factors, vals, r->n_factors * sizeof *vals);
    r->tags[r->n++] = tag;
    return 0;
}

/* qsort_r comparator: by month, then input order (so the duplicate reported is the later). */
static int by_month(const void *a, const void *b, void *ctx) {
    const factor_rows *r = ctx;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(r->months[i], r->months[j]);
    return c ? c : (i > j) - (i < j);
}

static void tag_text(const factor_rows *r, long tag, char out[40]) {
    snprintf(out, 40, r->tag_is_index ? "factors[%ld]" : "line %ld", tag);
}

int factor_rows_finish(factor_rows *r, fd_factor_table *out, fd_error *err) {
    fd_factor_table_init(out);
    if (r->n == 0) return fd_error_set(err, 400, "no_rows", "no monthly rows");
    size_t *order = malloc(r->n * sizeof *order);
    if (!order) return oom(err);
    for (size_t i = 0; i < r->n; i++) order[i] = i;
    qsort_r(order, r->n, sizeof *order, by_month, r);
    for (size_t k = 1; k < r->n; k++) {
        if (strcmp(r->months[order[k - 1]], r->months[order[k]]) != 0) continue;
        char first[40], second[40];
        tag_text(r, r->tags[order[k - 1]], first);
        tag_text(r, r->tags[order[k]], second);
        fd_error_set(err, 400, "duplicate_month", "%s: month %s given twice (first at %s)",
                     second, r->months[order[k]], first);
        free(order);
        return -1;
    }
    out->months = malloc(r->n * sizeof *out->months);
    out->values = malloc(r->n * r->n_factors * sizeof *out->values);
    if (!out->months || !out->values) {
        free(order);
        fd_factor_table_free(out);
        return oom(err);
    }
    for (size_t k = 0; k < r->n; k++) {
        memcpy(out->months[k], r->months[order[k]], FD_MONTH_LEN);
        memcpy(out->values + k * r->n_factors, r->values + order[k] * r->n_factors,
               r->n_factors * sizeof *out->values);
    }
    free(order);
    out->n_months = r->n;
    out->n_factors = r->n_factors;
    out->names = r->names; /* moved */
    r->names = NULL;
    r->n_factors = 0;
    return 0;
}

void factor_rows_free(factor_rows *r) {
    for (size_t j = 0; r->names && j < r->n_factors; j++) free(r->names[j]);
    free(r->names);
    free(r->months);
    free(r->values);
    free(r->tags);
    memset(r, 0, sizeof *r);
}
