/* Months ready for models: panel, id index, normalised designs (see factord/month.h). */
#include "factord/month.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "factord/preprocess.h"
#include "factord/store_data.h"

/* One normalised design of the month for one column set. */
typedef struct design {
    uint64_t sig;  /* hash of the column names and add_constant */
    double *z;     /* (n_rows, P) */
    struct design *next;
} design;

struct fd_month {
    atomic_int refs;
    char stamp[32];
    fd_panel own;             /* the loaded panel (fd_month_load) */
    const fd_panel *panel;    /* &own, or the borrowed panel */
    size_t *by_id;            /* (n_rows) row indices sorted by id */
    pthread_mutex_t mu;       /* guards designs */
    design *designs;
};

static int by_id_cmp(const void *a, const void *b, void *ctx) {
    const fd_panel *p = ctx;
    return strcmp(p->ids[*(const size_t *)a], p->ids[*(const size_t *)b]);
}

void fd_month_hold(fd_month *m) { atomic_fetch_add(&m->refs, 1); }

void fd_month_release(fd_month *m) {
    if (!m || atomic_fetch_sub(&m->refs, 1) != 1) return;
    for (design *d = m->designs, *next; d; d = next) {
        next = d->next;
        free(d->z);
        free(d);
    }
    fd_panel_free(&m->own);
    free(m->by_id);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

static fd_month *month_new(const char *stamp) {
    fd_month *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    atomic_init(&m->refs, 1);
    pthread_mutex_init(&m->mu, NULL);
    snprintf(m->stamp, sizeof m->stamp, "%s", stamp ? stamp : "");
    fd_panel_init(&m->own);
    m->panel = &m->own;
    return m;
}

static int month_index(fd_month *m, fd_error *err) {
    size_t n = m->panel->n_rows;
    m->by_id = malloc((n + 1) * sizeof *m->by_id);
    if (!m->by_id) return fd_error_set(err, 500, "out_of_memory", "month index");
    for (size_t i = 0; i < n; i++) m->by_id[i] = i;
    qsort_r(m->by_id, n, sizeof *m->by_id, by_id_cmp, (void *)m->panel);
    return 0;
}

int fd_month_load(fd_db *db, const char *month, fd_month **out, fd_error *err) {
    char stamp[32];
    fd_month *m;
    *out = NULL;
    if (fd_store_panel_stamp(db, month, stamp, err)) return -1;
    if (!(m = month_new(stamp))) return fd_error_set(err, 500, "out_of_memory", "month");
    if (fd_store_panel_get(db, month, &m->own, err) || month_index(m, err)) {
        fd_month_release(m);
        return -1;
    }
    *out = m;
    return 0;
}

int fd_month_borrow(const fd_panel *panel, const char *stamp, fd_month **out, fd_error *err) {
    fd_month *m = month_new(stamp);
    *out = NULL;
    if (!m) return fd_error_set(err, 500, "out_of_memory", "month");
    m->panel = panel;
    if (month_index(m, err)) {
        fd_month_release(m);
        return -1;
    }
    *out = m;
    return 0;
}

const fd_panel *fd_month_panel(const fd_month *m) { return m->panel; }

const char *fd_month_stamp(const fd_month *m) { return m->stamp; }

long fd_month_row(const fd_month *m, const char *id) {
    size_t lo = 0, hi = m->panel->n_rows;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(m->panel->ids[m->by_id[mid]], id);
        if (cmp == 0) return (long)m->by_id[mid];
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* 422 "missing_columns" naming (up to eight of) the names p lacks; col (Pc) receives every
 * column index (-1 where absent). */
static int resolve_columns(const fd_panel *p, char *const *names, size_t Pc, int strict,
                           long *col, fd_error *err) {
    char missing[400] = "";
    size_t n_missing = 0;
    for (size_t j = 0; j < Pc; j++) {
        col[j] = fd_panel_col(p, names[j]);
        if (col[j] < 0 && n_missing++ < 8) {
            size_t len = strlen(missing);
            snprintf(missing + len, sizeof missing - len, "%s%s", len ? ", " : "", names[j]);
        }
    }
    if (strict && n_missing)
        return fd_error_set(err, 422, "missing_columns",
                            "the panel of %s lacks %zu characteristic(s) the model was fitted on: %s",
                            p->month, n_missing, missing);
    return 0;
}

/* z (n_rows, Pc + add_constant) of panel p; *z malloc'd. */
static int design_matrix(const fd_panel *p, char *const *names, size_t Pc, int add_constant,
                         int strict, double **z, fd_error *err) {
    size_t n = p->n_rows, P = Pc + (add_constant ? 1 : 0);
    double *sel = malloc((n ? n : 1) * (Pc ? Pc : 1) * sizeof *sel);
    double *out = malloc((n ? n : 1) * (P ? P : 1) * sizeof *out);
    long *col = malloc((Pc ? Pc : 1) * sizeof *col);
    if (!sel || !out || !col) {
        fd_error_set(err, 500, "out_of_memory", "design matrix of %s", p->month);
        goto fail;
    }
    if (resolve_columns(p, names, Pc, strict, col, err)) goto fail;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < Pc; j++)
            sel[i * Pc + j] = col[j] < 0 ? NAN : p->values[i * p->n_cols + col[j]];
    if (fd_preprocess_rank_normalize(sel, n, Pc, err)) goto fail;
    for (size_t i = 0; i < n; i++) {
        memcpy(out + i * P, sel + i * Pc, Pc * sizeof *out);
        if (add_constant) out[i * P + Pc] = 1.0;
    }
    free(sel);
    free(col);
    *z = out;
    return 0;
fail:
    free(sel);
    free(out);
    free(col);
    return -1;
}

static uint64_t columns_sig(char *const *names, size_t Pc, int add_constant) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t j = 0; j < Pc; j++) {
        for (const char *s = names[j]; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
        h = (h ^ 0xffu) * 1099511628211ULL; /* separator */
    }
    return (h ^ (uint64_t)(add_constant ? 1 : 2)) * 1099511628211ULL;
}

int fd_month_design(fd_month *m, char *const *names, size_t Pc, int add_constant, int strict,
                    const double **z, fd_error *err) {
    uint64_t sig = columns_sig(names, Pc, add_constant);
    design *d;
    double *built = NULL;
    if (strict) { /* the check is cheap; a cached design says nothing about strictness */
        long *col = malloc((Pc ? Pc : 1) * sizeof *col);
        int rc = col ? resolve_columns(m->panel, names, Pc, 1, col, err)
                     : fd_error_set(err, 500, "out_of_memory", "design columns");
        free(col);
        if (rc) return -1;
    }
    pthread_mutex_lock(&m->mu);
    for (d = m->designs; d; d = d->next) {
        if (d->sig == sig) {
            *z = d->z;
            pthread_mutex_unlock(&m->mu);
            return 0;
        }
    }
    pthread_mutex_unlock(&m->mu);
    if (design_matrix(m->panel, names, Pc, add_constant, 0, &built, err)) return -1;
    pthread_mutex_lock(&m->mu);
    for (d = m->designs; d; d = d->next) { /* another thread may have built it meanwhile */
        if (d->sig == sig) break;
    }
    if (!d) {
        d = malloc(sizeof *d);
        if (!d) {
            pthread_mutex_unlock(&m->mu);
            free(built);
            return fd_error_set(err, 500, "out_of_memory", "design");
        }
        d->sig = sig;
        d->z = built;
        d->next = m->designs;
        m->designs = d;
        built = NULL;
    }
    *z = d->z;
    pthread_mutex_unlock(&m->mu);
    free(built);
    return 0;
}
