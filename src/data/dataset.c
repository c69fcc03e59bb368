/* Model-ready samples from stored monthly panels (see factord/dataset.h): alignment of
 * month t-1 characteristics with month t returns, normalisation, excess returns and the
 * managed portfolios. */
#include "factord/dataset.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/log.h"
#include "factord/preprocess.h"

void fd_dataset_init(fd_dataset *ds) { memset(ds, 0, sizeof *ds); }

static void period_free(fd_period *p) {
    for (size_t i = 0; p->ids && i < p->n; i++) free(p->ids[i]);
    free(p->ids);
    free(p->z);
    free(p->r);
    free(p->mktcap);
    free(p->x);
    memset(p, 0, sizeof *p);
}

void fd_dataset_free(fd_dataset *ds) {
    if (!ds) return;
    for (size_t t = 0; ds->periods && t < ds->T; t++) period_free(&ds->periods[t]);
    for (size_t j = 0; ds->col_names && j < ds->P; j++) free(ds->col_names[j]);
    free(ds->periods);
    free(ds->col_names);
    fd_dataset_init(ds);
}

/* glibc's qsort_r passes the panel, so the id sort needs no global state. */
static int cmp_row_id(const void *a, const void *b, void *ctx) {
    const fd_panel *p = ctx;
    return strcmp(p->ids[*(const size_t *)a], p->ids[*(const size_t *)b]);
}

/* Row of `id` in p through rows (p->n_rows) sorted by id, or -1. */
static long find_row(const fd_panel *p, const size_t *rows, const char *id) {
    size_t lo = 0, hi = p->n_rows;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(p->ids[rows[mid]], id);
        if (c == 0) return (long)rows[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

typedef struct build_ctx {
    size_t n_sel;        /* selected characteristic columns */
    const char *const *names;
    int add_constant;
    size_t P;            /* n_sel + add_constant */
    fd_dataset_stats stats;
} build_ctx;

/* Period for month cur from characteristics of prev; *kept = 0 leaves p empty. */
static int build_period(const build_ctx *c, const fd_panel *prev, const fd_panel *cur, double rf,
                        fd_period *p, size_t *dropped, int *ridged, fd_error *err) {
    size_t n_prev = prev->n_rows, P = c->P, kept = 0;
    double *zfull = NULL;
    size_t *rows = NULL;
    long *col = NULL;
    int rc = -1;

    memset(p, 0, sizeof *p);
    *dropped = 0;
    *ridged = 0;
    memcpy(p->month, cur->month, FD_MONTH_LEN);
    zfull = malloc((n_prev ? n_prev : 1) * (c->n_sel ? c->n_sel : 1) * sizeof *zfull);
    rows = malloc((cur->n_rows ? cur->n_rows : 1) * sizeof *rows);
    col = malloc((c->n_sel ? c->n_sel : 1) * sizeof *col);
    p->ids = calloc(n_prev ? n_prev : 1, sizeof *p->ids);
    p->z = malloc((n_prev ? n_prev : 1) * (P ? P : 1) * sizeof *p->z);
    p->r = malloc((n_prev ? n_prev : 1) * sizeof *p->r);
    p->x = malloc((P ? P : 1) * sizeof *p->x);
    if (prev->mktcap) p->mktcap = malloc((n_prev ? n_prev : 1) * sizeof *p->mktcap);
    if (!zfull || !rows || !col || !p->ids || !p->z || !p->r || !p->x ||
        (prev->mktcap && !p->mktcap)) {
        fd_error_set(err, 500, "out_of_memory", "period %s: %zu securities", cur->month, n_prev);
        goto out;
    }

    /* Normalise over the whole month t-1 cross-section: the same z then prices month t
     * whether or not a security's return arrives, so scores never depend on the future. */
    for (size_t j = 0; j < c->n_sel; j++) col[j] = fd_panel_col(prev, c->names[j]);
    for (size_t i = 0; i < n_prev; i++)
        for (size_t j = 0; j < c->n_sel; j++)
            zfull[i * c->n_sel + j] = col[j] < 0 ? NAN : prev->values[i * prev->n_cols + col[j]];
    if (fd_preprocess_rank_normalize(zfull, n_prev, c->n_sel, err) != 0) goto out;

    for (size_t i = 0; i < cur->n_rows; i++) rows[i] = i;
    qsort_r(rows, cur->n_rows, sizeof *rows, cmp_row_id, (void *)cur);
    for (size_t i = 0; i < n_prev; i++) {
        long j = find_row(cur, rows, prev->ids[i]);
        if (j < 0 || isnan(cur->ret[j])) {
            (*dropped)++;
            continue;
        }
        p->ids[kept] = strdup(prev->ids[i]);
        if (!p->ids[kept]) {
            p->n = kept;
            fd_error_set(err, 500, "out_of_memory", "period %s: security ids", cur->month);
            goto out;
        }
        memcpy(p->z + kept * P, zfull + i * c->n_sel, c->n_sel * sizeof *zfull);
        if (c->add_constant) p->z[kept * P + c->n_sel] = 1.0;
        p->r[kept] = isnan(rf) ? cur->ret[j] : cur->ret[j] - rf;
        if (p->mktcap) p->mktcap[kept] = prev->mktcap[i];
        kept++;
    }
    p->n = kept;
    if (kept > 0 &&
        fd_preprocess_managed_portfolio(p->z, p->r, kept, P, p->x, ridged, err) != 0) {
        fd_error_prefix(err, "period %s", cur->month);
        goto out;
    }
    rc = 0;
out:
    free(zfull);
    free(rows);
    free(col);
    if (rc != 0 || kept == 0) period_free(p);
    return rc;
}

/* Resolves the selected column names and copies them into ds->col_names. */
static int select_columns(const fd_panel *panels, size_t n, const fd_dataset_opts *opts,
                          build_ctx *c, fd_dataset *ds, fd_error *err) {
    static const char *const none[1] = {NULL};
    if (opts && opts->columns) {
        c->names = opts->columns;
        c->n_sel = opts->n_columns;
    } else {
        c->names = n ? (const char *const *)panels[0].col_names : none;
        c->n_sel = n ? panels[0].n_cols : 0;
    }
    for (size_t j = 0; j < c->n_sel; j++) {
        int seen = 0;
        for (size_t k = 0; k < n && !seen; k++) seen = fd_panel_col(&panels[k], c->names[j]) >= 0;
        if (!seen)
            return fd_error_set(err, 422, "unknown_column",
                                "column \"%s\" is in none of the %zu panels", c->names[j], n);
    }
    c->add_constant = opts && opts->add_constant;
    c->P = c->n_sel + (c->add_constant ? 1 : 0);
    ds->col_names = calloc(c->P ? c->P : 1, sizeof *ds->col_names);
    if (!ds->col_names) return fd_error_set(err, 500, "out_of_memory", "column names");
    ds->P = c->P;
    for (size_t j = 0; j < c->P; j++) {
        ds->col_names[j] = strdup(j < c->n_sel ? c->names[j] : "const");
        if (!ds->col_names[j]) return fd_error_set(err, 500, "out_of_memory", "column names");
    }
    return 0;
}

int fd_dataset_from_panels(const fd_panel *panels, size_t n, const fd_dataset_opts *opts,
                           fd_dataset *out, fd_error *err) {
    build_ctx c;
    memset(&c, 0, sizeof c);
    fd_dataset_init(out);
    for (size_t i = 1; i < n; i++)
        if (strcmp(panels[i - 1].month, panels[i].month) >= 0)
            return fd_error_set(err, 422, "bad_order", "panel %zu (%s) does not follow %s", i,
                                panels[i].month, panels[i - 1].month);
    if (select_columns(panels, n, opts, &c, out, err) != 0) goto fail;
    out->periods = calloc(n ? n : 1, sizeof *out->periods);
    if (!out->periods) {
        fd_error_set(err, 500, "out_of_memory", "%zu periods", n);
        goto fail;
    }
    for (size_t i = 1; i < n; i++) {
        char before[FD_MONTH_LEN];
        double rf = NAN;
        size_t dropped;
        int ridged;
        fd_period *p = &out->periods[out->T];
        if (!panels[i].ret) continue;
        fd_month_add(panels[i].month, -1, before);
        if (strcmp(before, panels[i - 1].month) != 0) continue;
        if (opts && opts->rf) rf = opts->rf[i];
        if (build_period(&c, &panels[i - 1], &panels[i], rf, p, &dropped, &ridged, err) != 0)
            goto fail;
        c.stats.n_dropped += dropped;
        if (p->n == 0) continue;
        out->T++;
        c.stats.n_excess += !isnan(rf);
        c.stats.n_ridge += ridged != 0;
    }
    if (out->T == 0) {
        fd_error_set(err, 422, "empty_dataset",
                     "no month with returns follows a month with characteristics (%zu panels)",
                     n);
        goto fail;
    }
    if (c.stats.n_ridge)
        fd_warn("dataset: %zu of %zu periods had fewer usable securities than the %zu "
                "characteristics; their managed portfolios use a ridge",
                c.stats.n_ridge, out->T, out->P);
    if (opts && opts->stats) *opts->stats = c.stats;
    return 0;
fail:
    fd_dataset_free(out);
    return -1;
}
