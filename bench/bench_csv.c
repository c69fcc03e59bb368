/* The benchmark's reader for the long CSV `factord simulate` writes
 * (`id,date,ret,mktcap,c1..cP`, one row per security-month, rows grouped by month in
 * ascending order; `date` is the month key, `month` is accepted too): one fd_panel per month,
 * built with the same fd_panel_builder every importer uses (it routes `ret` and `mktcap`),
 * so fit_bench hands fd_dataset_from_panels exactly what the daemon would store.
 *
 * Loading is outside every timing; it streams the file (memory bounded by the panels). */
#include "bench_csv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "factord/csv.h"
#include "factord/numparse.h"
#include "factord/panel_build.h"

typedef struct load_ctx {
    bench_panels *out;
    size_t n_fields;
    const char **names; /* (n_fields - 2) data column names: ret, mktcap, c1..cP */
    char *header;       /* storage behind names */
    double *vals;       /* (n_fields - 2) one row */
    fd_panel_builder b;
    int open;           /* a builder is collecting the current month */
    char month[FD_MONTH_LEN];
} load_ctx;

static int take_header(load_ctx *c, const fd_csv_row *row, fd_error *err) {
    size_t total = 0;
    if (row->n < 3 || strcmp(row->fields[0], "id") ||
        (strcmp(row->fields[1], "date") && strcmp(row->fields[1], "month")))
        return fd_error_set(err, 400, "bad_header", "line 1: expected id,date,...");
    for (size_t j = 2; j < row->n; j++) total += row->lens[j] + 1;
    c->n_fields = row->n;
    c->names = malloc((row->n - 2) * sizeof *c->names);
    c->vals = malloc((row->n - 2) * sizeof *c->vals);
    c->header = malloc(total);
    if (!c->names || !c->vals || !c->header)
        return fd_error_set(err, 500, "out_of_memory", "header of %zu columns", row->n);
    char *at = c->header;
    for (size_t j = 2; j < row->n; j++) {
        memcpy(at, row->fields[j], row->lens[j] + 1);
        c->names[j - 2] = at;
        at += row->lens[j] + 1;
    }
    return 0;
}

static int close_month(load_ctx *c, fd_error *err) {
    bench_panels *o = c->out;
    if (!c->open) return 0;
    if (o->n == o->cap) {
        size_t cap = o->cap ? 2 * o->cap : 64;
        fd_panel *p = realloc(o->panels, cap * sizeof *p);
        if (!p) return fd_error_set(err, 500, "out_of_memory", "%zu panels", cap);
        o->panels = p;
        o->cap = cap;
    }
    fd_panel_init(&o->panels[o->n]);
    c->open = 0;
    if (fd_panel_builder_finish(&c->b, &o->panels[o->n], err) < 0) {
        fd_panel_free(&o->panels[o->n]);
        fd_panel_builder_free(&c->b);
        return -1;
    }
    fd_panel_builder_free(&c->b);
    o->n++;
    return 0;
}

static int on_row(void *ctx, const fd_csv_row *row, fd_error *err) {
    load_ctx *c = ctx;
    if (fd_csv_row_blank(row)) return 0;
    if (!c->names) return take_header(c, row, err);
    if (row->n != c->n_fields)
        return fd_error_set(err, 400, "bad_row", "line %ld: %zu fields, header has %zu",
                            row->line, row->n, c->n_fields);
    const char *month = row->fields[1];
    if (!c->open || strcmp(month, c->month)) {
        if (c->open && strcmp(month, c->month) < 0)
            return fd_error_set(err, 400, "bad_order",
                                "line %ld: month %s after %s (rows must be grouped by month, "
                                "ascending)", row->line, month, c->month);
        if (close_month(c, err) < 0) return -1;
        if (fd_month_parse(month, NULL, NULL, err) < 0)
            return fd_error_prefix(err, "line %ld", row->line);
        snprintf(c->month, sizeof c->month, "%s", month);
        if (fd_panel_builder_init(&c->b, month, c->names, c->n_fields - 2, FD_TAG_LINE, err) < 0)
            return -1;
        c->open = 1;
    }
    for (size_t j = 2; j < row->n; j++) {
        if (fd_num_parse(row->fields[j], row->lens[j], &c->vals[j - 2]) < 0)
            return fd_error_set(err, 400, "bad_number", "line %ld, column %s: '%s'", row->line,
                                c->names[j - 2], row->fields[j]);
    }
    return fd_panel_builder_add(&c->b, row->fields[0], row->lens[0], c->vals, row->line, err);
}

int bench_panels_load(const char *path, bench_panels *out, fd_error *err) {
    load_ctx c;
    memset(&c, 0, sizeof c);
    memset(out, 0, sizeof *out);
    c.out = out;
    int rc = fd_csv_parse_file(path, on_row, &c, err);
    if (rc == 0) rc = close_month(&c, err);
    if (c.open) fd_panel_builder_free(&c.b);
    free(c.names);
    free(c.vals);
    free(c.header);
    if (rc < 0) bench_panels_free(out);
    return rc;
}

void bench_panels_free(bench_panels *ps) {
    for (size_t i = 0; i < ps->n; i++) fd_panel_free(&ps->panels[i]);
    free(ps->panels);
    memset(ps, 0, sizeof *ps);
}
