/* The period context builder (see factord/context.h and factord/period.h). */
#include "factord/context.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/log.h"
#include "factord/preprocess.h"

/* The months behind the history steps: one entry per calendar month first .. first+n-1. */
typedef struct hist_month {
    const double *z;  /* (rows, P) the month's design, NULL without a panel */
    double *z_own;    /* z when copied (else a view of a month the dataset holds) */
    double *x;        /* (P) managed portfolio of the month, NULL when unknown */
    int x_own;        /* x belongs to the entry (else to a period) */
} hist_month;

struct fd_history {
    size_t n, P;
    hist_month *m; /* (n) */
};

static void history_free(struct fd_history *h) {
    if (!h) return;
    for (size_t i = 0; i < h->n; i++) {
        free(h->m[i].z_own);
        if (h->m[i].x_own) free(h->m[i].x);
    }
    free(h->m);
    free(h);
}

/* ---- accessors (factord/period.h) ---- */

size_t fd_period_history(const fd_period *p) { return p->L > 1 ? p->L : 1; }

const double *fd_period_z_at(const fd_period *p, size_t l, size_t i) {
    size_t L = fd_period_history(p);
    if (l >= L || i >= p->n) return NULL;
    if (l == L - 1) return p->z + i * p->P;
    if (!p->hist) return NULL;
    const hist_month *e = &p->hist->m[p->hist_at - (L - 1) + l];
    int32_t row = p->hist_row[l * p->n + i];
    return e->z && row >= 0 ? e->z + (size_t)row * p->hist->P : NULL;
}

const double *fd_period_x_at(const fd_period *p, size_t l) {
    size_t L = fd_period_history(p);
    if (l >= L) return NULL;
    if (l == L - 1) return p->x;
    return p->hist ? p->hist->m[p->hist_at + 2 - L + l].x : NULL;
}

/* ---- dataset lifetime (factord/dataset.h) ---- */

void fd_dataset_init(fd_dataset *ds) { memset(ds, 0, sizeof *ds); }

static void period_free(fd_period *p) {
    if (!(p->borrowed & FD_BORROW_IDS))
        for (size_t i = 0; p->ids && i < p->n; i++) free(p->ids[i]);
    if (!(p->borrowed & FD_BORROW_IDS)) free(p->ids);
    if (!(p->borrowed & FD_BORROW_Z)) free(p->z);
    if (!(p->borrowed & FD_BORROW_MKTCAP)) free(p->mktcap);
    free(p->r);
    free(p->x);
    free(p->observed);
    free(p->macro);
    free(p->hist_row);
    memset(p, 0, sizeof *p);
}

static void free_names(char **names, size_t n) {
    for (size_t j = 0; names && j < n; j++) free(names[j]);
    free(names);
}

void fd_dataset_free(fd_dataset *ds) {
    if (!ds) return;
    for (size_t t = 0; ds->periods && t < ds->T; t++) period_free(&ds->periods[t]);
    free(ds->periods);
    free_names(ds->col_names, ds->P);
    free_names(ds->observed, ds->n_observed);
    free_names(ds->macro, ds->n_macro);
    history_free(ds->hist);
    for (size_t i = 0; i < ds->n_held; i++) fd_month_release(ds->held[i]);
    free(ds->held);
    fd_dataset_init(ds);
}

/* ---- the build ---- */

typedef struct build {
    const fd_context_spec *cs;
    const fd_month_source *src;
    fd_dataset *ds;
    char *const *cols;   /* the selected characteristic names */
    size_t n_cols;
    unsigned char *seen; /* (n_cols) column found in some month */
    size_t L;
    fd_dataset_stats stats;
    size_t cap_held;
} build;

static int oom(fd_error *err, const char *what) {
    return fd_error_set(err, 500, "out_of_memory", "%s", what);
}

static int dup_names(char ***out, char *const *names, size_t n, fd_error *err) {
    *out = calloc(n ? n : 1, sizeof **out);
    if (!*out) return oom(err, "names");
    for (size_t j = 0; j < n; j++)
        if (!((*out)[j] = strdup(names[j]))) return oom(err, "names");
    return 0;
}

/* Fixes the column selection (the spec's, or every column of panel p) and copies names
 * into the dataset. */
static int select_columns(build *b, const fd_panel *p, fd_error *err) {
    const fd_context_spec *cs = b->cs;
    fd_dataset *ds = b->ds;
    b->cols = cs->columns ? cs->columns : p->col_names;
    b->n_cols = cs->columns ? cs->n_columns : p->n_cols;
    ds->P = b->n_cols + (cs->add_constant ? 1 : 0);
    b->seen = calloc(b->n_cols ? b->n_cols : 1, 1);
    ds->col_names = calloc(ds->P ? ds->P : 1, sizeof *ds->col_names);
    if (!b->seen || !ds->col_names) return oom(err, "column names");
    for (size_t j = 0; j < ds->P; j++)
        if (!(ds->col_names[j] = strdup(j < b->n_cols ? b->cols[j] : "const")))
            return oom(err, "column names");
    if (dup_names(&ds->observed, cs->observed, cs->n_observed, err) ||
        dup_names(&ds->macro, cs->macro, cs->n_macro, err))
        return -1;
    ds->n_observed = cs->n_observed;
    ds->n_macro = cs->n_macro;
    ds->L = b->L;
    return 0;
}

static int hold(build *b, fd_month *m, fd_error *err) {
    fd_dataset *ds = b->ds;
    if (ds->n_held == b->cap_held) {
        size_t cap = b->cap_held ? 2 * b->cap_held : 8;
        fd_month **grown = realloc(ds->held, cap * sizeof *grown);
        if (!grown) return oom(err, "held months");
        ds->held = grown;
        b->cap_held = cap;
    }
    fd_month_hold(m);
    ds->held[ds->n_held++] = m;
    return 0;
}

/* Notes which selected columns month m has (for "unknown_column"). */
static void mark_seen(build *b, const fd_month *m) {
    const fd_panel *p = fd_month_panel(m);
    for (size_t j = 0; j < b->n_cols; j++) b->seen[j] |= fd_panel_col(p, b->cols[j]) >= 0;
}

/* The month's design on the selected columns. */
static int design_of(build *b, fd_month *m, const double **z, fd_error *err) {
    return fd_month_design(m, b->cols, b->n_cols, b->cs->add_constant, b->cs->strict_columns,
                           z, err);
}

/* A named series value; NaN when the source has none. */
static int series(build *b, fd_series_kind kind, const char *name, const char *key, double *v,
                  fd_error *err) {
    *v = NAN;
    return b->src->series ? b->src->series(b->src->ctx, kind, name, key, v, err) : 0;
}

/* Observed factors of month t and macro series of t-1 into p. */
static int period_series(build *b, fd_period *p, const char *t, const char *prev, int forecast,
                         fd_error *err) {
    const fd_context_spec *cs = b->cs;
    if (cs->n_observed && !(p->observed = malloc(cs->n_observed * sizeof *p->observed)))
        return oom(err, "observed factors");
    if (cs->n_macro && !(p->macro = malloc(cs->n_macro * sizeof *p->macro)))
        return oom(err, "macro series");
    for (size_t j = 0; j < cs->n_observed; j++) {
        p->observed[j] = NAN;
        if (forecast) continue; /* returns of month t+1 are not known at t */
        if (series(b, FD_SERIES_FACTOR, cs->observed[j], t, &p->observed[j], err)) return -1;
        if (cs->require_series && isnan(p->observed[j]))
            return fd_error_set(err, 422, "missing_series",
                                "factor series \"%s\" has no value for %s (the model reads it "
                                "as an observed factor of that month)", cs->observed[j], t);
    }
    for (size_t j = 0; j < cs->n_macro; j++) {
        if (series(b, FD_SERIES_MACRO, cs->macro[j], prev, &p->macro[j], err)) return -1;
        if ((cs->require_series || forecast) && isnan(p->macro[j]))
            return fd_error_set(err, 422, "missing_series",
                                "macro series \"%s\" has no value for %s (the model reads it "
                                "for the return month after)", cs->macro[j], prev);
    }
    return 0;
}

/* Period t from month t-1 (prev, its design zp) and month t (cur): the securities of t-1
 * with a return at t, their z rows, excess returns, market caps and managed portfolio.
 * Leaves p empty (n = 0) when no security qualifies. */
static int pair_period(build *b, fd_month *prev, const double *zp, fd_month *cur, fd_period *p,
                       fd_error *err) {
    const fd_panel *pp = fd_month_panel(prev), *pc = fd_month_panel(cur);
    size_t n_prev = pp->n_rows, P = b->ds->P, kept = 0;
    double rf = NAN;
    int ridged = 0;
    memset(p, 0, sizeof *p);
    memcpy(p->month, pc->month, FD_MONTH_LEN);
    p->P = P;
    if (b->cs->excess_returns && series(b, FD_SERIES_FACTOR, "RF", pc->month, &rf, err))
        return -1;
    p->ids = calloc(n_prev ? n_prev : 1, sizeof *p->ids);
    p->z = malloc((n_prev ? n_prev : 1) * (P ? P : 1) * sizeof *p->z);
    p->r = malloc((n_prev ? n_prev : 1) * sizeof *p->r);
    p->x = malloc((P ? P : 1) * sizeof *p->x);
    if (pp->mktcap) p->mktcap = malloc((n_prev ? n_prev : 1) * sizeof *p->mktcap);
    if (!p->ids || !p->z || !p->r || !p->x || (pp->mktcap && !p->mktcap))
        return fd_error_set(err, 500, "out_of_memory", "period %s: %zu securities", pc->month,
                            n_prev);
    for (size_t i = 0; i < n_prev; i++) {
        long j = fd_month_row(cur, pp->ids[i]);
        if (j < 0 || isnan(pc->ret[j])) {
            b->stats.n_dropped++;
            continue;
        }
        if (!(p->ids[kept] = strdup(pp->ids[i]))) {
            p->n = kept;
            return fd_error_set(err, 500, "out_of_memory", "period %s: security ids", pc->month);
        }
        memcpy(p->z + kept * P, zp + i * P, P * sizeof *p->z);
        p->r[kept] = isnan(rf) ? pc->ret[j] : pc->ret[j] - rf;
        if (p->mktcap) p->mktcap[kept] = pp->mktcap[i];
        p->n = ++kept;
    }
    if (kept == 0) return 0;
    if (fd_preprocess_managed_portfolio(p->z, p->r, kept, P, p->x, &ridged, err) != 0)
        return fd_error_prefix(err, "period %s", pc->month);
    b->stats.n_excess += !isnan(rf);
    b->stats.n_ridge += ridged != 0;
    return 0;
}

/* The (L-1, n) rows of p's securities in the months of its history steps 0 .. L-2, which
 * are win[0 .. L-2] (NULL where not stored). */
static int history_rows(build *b, fd_period *p, fd_month *const *win, fd_error *err) {
    size_t L = b->L;
    p->L = L;
    p->hist = b->ds->hist;
    if (L < 2) return 0;
    p->hist_row = malloc((L - 1) * (p->n ? p->n : 1) * sizeof *p->hist_row);
    if (!p->hist_row) return oom(err, "history rows");
    for (size_t l = 0; l + 1 < L; l++)
        for (size_t i = 0; i < p->n; i++)
            p->hist_row[l * p->n + i] = win[l] ? (int32_t)fd_month_row(win[l], p->ids[i]) : -1;
    return 0;
}

/* Records month i's design in the history table, as a view when the months are kept. */
static int history_design(build *b, size_t i, fd_month *m, const double *z, fd_error *err) {
    hist_month *e = &b->ds->hist->m[i];
    size_t bytes = fd_month_panel(m)->n_rows * b->ds->P * sizeof *z;
    if (b->src->keep_months) {
        e->z = z;
        return hold(b, m, err);
    }
    if (!(e->z_own = malloc(bytes ? bytes : 1))) return oom(err, "history design");
    memcpy(e->z_own, z, bytes);
    e->z = e->z_own;
    return 0;
}

/* x of a month outside the periods (only the history reads it). */
static int history_x(build *b, size_t i, fd_month *prev, const double *zp, fd_month *cur,
                     fd_error *err) {
    fd_period tmp;
    fd_dataset_stats keep = b->stats;
    int rc = pair_period(b, prev, zp, cur, &tmp, err);
    b->stats = keep; /* not a period of the dataset: its drops do not count */
    if (rc == 0 && tmp.n > 0) {
        b->ds->hist->m[i].x = tmp.x;
        b->ds->hist->m[i].x_own = 1;
        tmp.x = NULL;
    }
    period_free(&tmp);
    return rc;
}

static int history_alloc(build *b, size_t n, fd_error *err) {
    if (b->L < 2) return 0;
    b->ds->hist = calloc(1, sizeof *b->ds->hist);
    if (!b->ds->hist || !(b->ds->hist->m = calloc(n, sizeof *b->ds->hist->m)))
        return oom(err, "history");
    b->ds->hist->n = n;
    b->ds->hist->P = b->ds->P;
    return 0;
}

static int get_month(build *b, const char *key, fd_month **m, fd_error *err) {
    fd_error e;
    *m = NULL;
    if (b->src->month(b->src->ctx, key, m, &e) == 0) return 0;
    if (e.status == 404) return 0;
    if (err) *err = e;
    return -1;
}

static int unknown_columns(build *b, size_t months, fd_error *err) {
    for (size_t j = 0; j < b->n_cols; j++)
        if (!b->seen[j])
            return fd_error_set(err, 422, "unknown_column",
                                "column \"%s\" is in none of the %zu panels", b->cols[j],
                                months);
    return 0;
}

static int grow_periods(fd_dataset *ds, size_t *cap, fd_error *err) {
    if (ds->T < *cap) return 0;
    size_t c = *cap ? 2 * *cap : 16;
    fd_period *grown = realloc(ds->periods, c * sizeof *grown);
    if (!grown) return oom(err, "periods");
    memset(grown + *cap, 0, (c - *cap) * sizeof *grown);
    ds->periods = grown;
    *cap = c;
    return 0;
}

/* Releases the window (L + 1 months) and the build's scratch; on failure the dataset. */
static int build_end(build *b, fd_month **win, const double **wz, int rc) {
    for (size_t l = 0; win && l <= b->L; l++) fd_month_release(win[l]);
    free(win);
    free((void *)wz);
    free(b->seen);
    if (rc != 0) fd_dataset_free(b->ds);
    return rc;
}

int fd_context_build(const fd_context_spec *cs, const fd_month_source *src, const char *from,
                     const char *to, fd_dataset *out, fd_dataset_stats *stats, fd_error *err) {
    build b = {.cs = cs, .src = src, .ds = out, .L = cs->history > 1 ? cs->history : 1};
    int span = fd_month_diff(from, to);
    size_t L = b.L, n = (size_t)(span > 0 ? span : 0) + 1 + L, cap = 0, stored = 0;
    fd_month **win = calloc(L + 1, sizeof *win); /* months i-L .. i, held */
    const double **wz = calloc(L + 1, sizeof *wz);
    char key[FD_MONTH_LEN];
    int rc = -1;
    fd_dataset_init(out);
    if (span < 0 || fd_month_parse(from, NULL, NULL, err) || fd_month_parse(to, NULL, NULL, err)) {
        if (span < 0) fd_error_set(err, 400, "bad_window", "from %s is after to %s", from, to);
        goto done;
    }
    if (!win || !wz) {
        oom(err, "context window");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        fd_month *m;
        int in_window = i + 1 >= L; /* month from-1 .. to */
        /* Month i is from-L+i; one before the first key (1900-01) has no panel. */
        if (fd_month_add(from, (int)i - (int)L, key) != 0)
            m = NULL;
        else if (get_month(&b, key, &m, err))
            goto done;
        if (!m && in_window && cs->require_window) {
            fd_error_set(err, 422, "missing_panels",
                         "no stored panel for %s (needed for the window %s..%s)", key, from, to);
            goto done;
        }
        /* Slide the window: win[L] is month i, win[L-1] month i-1. */
        fd_month_release(win[0]);
        memmove(win, win + 1, L * sizeof *win);
        memmove(wz, wz + 1, L * sizeof *wz);
        win[L] = m;
        wz[L] = NULL;
        if (!m) continue;
        stored++;
        if (!out->col_names &&
            (select_columns(&b, fd_month_panel(m), err) || history_alloc(&b, n, err)))
            goto done;
        mark_seen(&b, m);
        /* Designs are needed for the history (every month) or as t-1 of a period. */
        if (L > 1 && (design_of(&b, m, &wz[L], err) || history_design(&b, i, m, wz[L], err)))
            goto done;
        if (!win[L - 1] || !fd_month_panel(m)->ret) continue;
        if (!wz[L - 1] && design_of(&b, win[L - 1], &wz[L - 1], err)) goto done;
        if (!in_window || i + 1 == L) { /* month before from: its x for the history */
            if (L > 1 && history_x(&b, i, win[L - 1], wz[L - 1], m, err)) goto done;
            continue;
        }
        if (grow_periods(out, &cap, err)) goto done;
        fd_period *p = &out->periods[out->T];
        if (pair_period(&b, win[L - 1], wz[L - 1], m, p, err) ||
            history_rows(&b, p, win, err) ||
            period_series(&b, p, key, fd_month_panel(win[L - 1])->month, 0, err)) {
            out->T++; /* freed with the dataset */
            goto done;
        }
        if (p->n == 0) {
            period_free(p);
            continue;
        }
        p->hist_at = i - 1;
        if (L > 1) out->hist->m[i].x = p->x;
        out->T++;
    }
    if (!out->col_names) {
        fd_error_set(err, 422, "empty_dataset", "no stored panel in %s..%s", from, to);
        goto done;
    }
    if (unknown_columns(&b, stored, err)) goto done;
    if (out->T == 0) {
        fd_error_set(err, 422, "empty_dataset",
                     "no month with returns follows a month with characteristics (%zu panels)",
                     stored);
        goto done;
    }
    if (b.stats.n_ridge)
        fd_warn("dataset: %zu of %zu periods had fewer usable securities than the %zu "
                "characteristics; their managed portfolios use a ridge",
                b.stats.n_ridge, out->T, out->P);
    if (stats) *stats = b.stats;
    rc = 0;
done:
    return build_end(&b, win, wz, rc);
}

int fd_context_forecast(const fd_context_spec *cs, const fd_month_source *src,
                        const char *month, fd_dataset *out, fd_error *err) {
    build b = {.cs = cs, .src = src, .ds = out, .L = cs->history > 1 ? cs->history : 1};
    size_t L = b.L;
    fd_month **win = calloc(L + 1, sizeof *win); /* months t-L+1 .. t at 0 .. L-1 */
    const double **wz = calloc(L + 1, sizeof *wz);
    char key[FD_MONTH_LEN], next[FD_MONTH_LEN];
    fd_period *p;
    int rc = -1;
    fd_dataset_init(out);
    if (!win || !wz || !(out->periods = calloc(1, sizeof *out->periods))) {
        oom(err, "forecast context");
        goto done;
    }
    if (b.src->month(b.src->ctx, month, &win[L - 1], err)) goto done;
    if (select_columns(&b, fd_month_panel(win[L - 1]), err) || history_alloc(&b, L, err))
        goto done;
    for (size_t l = 0; l < L; l++) {
        if (l + 1 < L && fd_month_add(month, (int)l - (int)(L - 1), key) == 0 &&
            get_month(&b, key, &win[l], err))
            goto done;
        if (!win[l]) continue;
        mark_seen(&b, win[l]);
        if (design_of(&b, win[l], &wz[l], err)) goto done;
        if (L > 1 && history_design(&b, l, win[l], wz[l], err)) goto done;
        if (L > 1 && l > 0 && win[l - 1] && fd_month_panel(win[l])->ret &&
            history_x(&b, l, win[l - 1], wz[l - 1], win[l], err))
            goto done;
    }
    if (unknown_columns(&b, 1, err)) goto done;
    /* The period: every security of month t, views of its panel and design. */
    const fd_panel *pt = fd_month_panel(win[L - 1]);
    p = &out->periods[0];
    out->T = 1;
    fd_month_add(month, 1, next); /* "" after the last key: the forecast month has no name */
    memcpy(p->month, next, FD_MONTH_LEN);
    p->n = pt->n_rows;
    p->P = out->P;
    p->ids = pt->ids;
    p->z = (double *)wz[L - 1];
    p->mktcap = pt->mktcap;
    p->borrowed = FD_BORROW_IDS | FD_BORROW_Z | FD_BORROW_MKTCAP;
    p->hist_at = L - 1;
    if (hold(&b, win[L - 1], err) || history_rows(&b, p, win, err) ||
        period_series(&b, p, next, month, 1, err))
        goto done;
    rc = 0;
done:
    return build_end(&b, win, wz, rc);
}
