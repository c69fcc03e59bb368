/* A month's panel from a CSV body (panel_io.h): the streaming tokenizer feeds a builder. */
#include "factord/panel_io.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/csv.h"
#include "factord/numparse.h"
#include "factord/panel_build.h"

typedef struct csv_panel_ctx {
    const char *month;
    int have_header;
    size_t n_fields;
    long id_col;
    char **names;  /* (n_fields) header names */
    double *vals;  /* (n_fields - 1) one row's data cells in input order */
    fd_panel_builder b;
    int builder_ready;
} csv_panel_ctx;

static int take_header(csv_panel_ctx *c, const fd_csv_row *row, fd_error *err) {
    c->n_fields = row->n;
    c->names = calloc(row->n, sizeof *c->names);
    c->vals = malloc(row->n * sizeof *c->vals);
    if (!c->names || !c->vals) return fd_error_set(err, 500, "out_of_memory", "out of memory");
    for (size_t j = 0; j < row->n; j++) {
        size_t n = row->lens[j];
        const char *s = fd_csv_trim(row->fields[j], &n);
        c->names[j] = strndup(s, n);
        if (!c->names[j]) return fd_error_set(err, 500, "out_of_memory", "out of memory");
    }
    if (fd_panel_header_check((const char *const *)c->names, row->n, &c->id_col, NULL, err) < 0)
        return fd_error_prefix(err, "line %ld (header)", row->line);
    /* The builder sees the data columns only: the header without `id`. */
    const char **data_names = malloc(row->n * sizeof *data_names);
    if (!data_names) return fd_error_set(err, 500, "out_of_memory", "out of memory");
    size_t k = 0;
    for (size_t j = 0; j < row->n; j++)
        if ((long)j != c->id_col) data_names[k++] = c->names[j];
    int rc = fd_panel_builder_init(&c->b, c->month, data_names, k, FD_TAG_LINE, err);
    free(data_names);
    c->builder_ready = 1;
    c->have_header = 1;
    return rc;
}

static int on_row(void *ctx, const fd_csv_row *row, fd_error *err) {
    csv_panel_ctx *c = ctx;
    if (fd_csv_row_blank(row)) return 0;
    if (!c->have_header) return take_header(c, row, err);
    if (row->n != c->n_fields)
        return fd_error_set(err, 400, "ragged_row", "line %ld: expected %zu fields, got %zu",
                            row->line, c->n_fields, row->n);
    size_t k = 0;
    for (size_t j = 0; j < row->n; j++) {
        if ((long)j == c->id_col) continue;
        fd_num_status st = fd_num_parse(row->fields[j], row->lens[j], &c->vals[k++]);
        if (st == FD_NUM_BAD)
            return fd_error_set(err, 400, "bad_number",
                                "line %ld, column '%s': \"%.40s\" is not a number", row->line,
                                c->names[j], row->fields[j]);
        if (st == FD_NUM_RANGE)
            return fd_error_set(err, 400, "bad_number",
                                "line %ld, column '%s': \"%.40s\" is not a finite number",
                                row->line, c->names[j], row->fields[j]);
    }
    size_t id_len = row->lens[c->id_col];
    const char *id = fd_csv_trim(row->fields[c->id_col], &id_len);
    return fd_panel_builder_add(&c->b, id, id_len, c->vals, row->line, err);
}

int fd_panel_parse_csv(const char *body, size_t len, const char *month, fd_panel *out,
                       fd_error *err) {
    csv_panel_ctx c;
    memset(&c, 0, sizeof c);
    c.month = month;
    fd_panel_init(out);
    int rc = fd_csv_parse_buffer(body, len, on_row, &c, err);
    if (rc == 0 && !c.have_header)
        rc = fd_error_set(err, 400, "empty_body", "the CSV body has no header row");
    if (rc == 0) rc = fd_panel_builder_finish(&c.b, out, err);
    if (c.builder_ready) fd_panel_builder_free(&c.b);
    for (size_t j = 0; c.names && j < c.n_fields; j++) free(c.names[j]);
    free(c.names);
    free(c.vals);
    return rc;
}
