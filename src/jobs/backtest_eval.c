/* The out-of-sample side of a backtest: each window's test months right after its refit,
 * and the stitch of all windows into one evaluation (see factord/backtest.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backtest_internal.h"
#include "factord/model_store.h"
#include "factord/eval_r2.h"
#include "factord/eval_stats.h"
#include "factord/lambda.h"
#include "factord/store_data.h"
#include "factord/store_models.h"
#include "factord/dataset_load.h"

/* What evaluating one window's test months needs. */
typedef struct window_inputs {
    fd_model *m;
    fd_dataset ds;  /* the test months, on the version's fitted columns */
    double *F0;     /* (T0, K) the version's stored factors; NULL unless asked */
    size_t T0;
    char (*months)[FD_MONTH_LEN]; /* (T0) their months */
    fd_lambda_windows windows;    /* the version's training and validation windows */
    double *mkt;    /* (ds.T) Mkt-RF of each month, NaN where not stored */
} window_inputs;

static void inputs_free(window_inputs *in) {
    fd_model_destroy(in->m);
    fd_dataset_free(&in->ds);
    free(in->F0);
    free(in->months);
    free(in->mkt);
    memset(in, 0, sizeof *in);
}

static int inputs_load(fd_db *db, const char *model, int version, const char *from,
                       const char *to, int with_F0, window_inputs *in, fd_error *err) {
    json_t *vj = NULL;
    fd_context_spec cs = {0};
    size_t K = 0;
    int rc = -1;
    memset(in, 0, sizeof *in);
    fd_dataset_init(&in->ds);
    if (fd_store_version_get(db, model, version, &vj, err) != 0 ||
        fd_model_load_version(db, model, version, &in->m, err) != 0)
        goto out;
    fd_lambda_windows_from_json(vj, &in->windows);
    if (with_F0 && fd_store_version_factors(db, model, version, &in->F0, &in->T0, &K,
                                            &in->months, err) != 0)
        goto out;
    if (fd_context_spec_from_json(json_object_get(vj, "spec"), in->m->history, &cs, err) != 0 ||
        fd_dataset_load(db, &cs, from, to, &in->ds, NULL, err) != 0)
        goto out;
    in->mkt = malloc((in->ds.T + 1) * sizeof *in->mkt);
    if (!in->mkt) {
        fd_error_set(err, 500, "out_of_memory", "market returns");
        goto out;
    }
    for (size_t t = 0; t < in->ds.T; t++)
        if (fd_store_factor_value(db, in->ds.periods[t].month, "Mkt-RF", &in->mkt[t], NULL))
            in->mkt[t] = NAN;
    rc = 0;
out:
    if (rc != 0) inputs_free(in);
    json_decref(vj);
    fd_context_spec_free(&cs);
    return rc;
}

int fd_backtest_window_evaluate(fd_db *db, const char *model, int version,
                                const fd_backtest_window *w, const fd_eval_opts *opts,
                                fd_backtest_window_result *out, fd_error *err) {
    window_inputs in;
    fd_eval *ev = NULL;
    fd_factor_history h;
    size_t T, K;
    int rc = -1;
    memset(out, 0, sizeof *out);
    if (inputs_load(db, model, version, w->test_from, w->test_to, 1, &in, err) != 0) return -1;
    T = in.ds.T;
    K = in.m->K;
    fd_factor_history_init(&h, K);
    out->version = version;
    out->T = T;
    out->K = K;
    out->months = calloc(T + 1, sizeof *out->months);
    out->f = malloc((T * K + 1) * sizeof *out->f);      /* (T, K) */
    out->lambda = malloc((T * K + 1) * sizeof *out->f); /* (T, K) */
    if (!out->months || !out->f || !out->lambda) {
        fd_error_set(err, 500, "out_of_memory", "window %d evaluation", w->idx);
        goto out;
    }
    if (fd_r2_factor_series(in.m, &in.ds, out->f, err) != 0 ||
        fd_factor_history_append(&h, in.F0, (const char (*)[FD_MONTH_LEN])in.months, in.T0,
                                 err) != 0)
        goto out;
    /* lambda_{t-1}: the prevailing mean over the version's stored factors (training and
     * validation windows) and the window's earlier test factors (factord/lambda.h): what
     * serving would have used at t-1. */
    for (size_t t = 0; t < T; t++) {
        char asof[FD_MONTH_LEN];
        memcpy(out->months[t], in.ds.periods[t].month, FD_MONTH_LEN);
        fd_month_add(out->months[t], -1, asof);
        if (fd_lambda_estimate(&h, asof, FD_LAMBDA_PREVAILING, &in.windows, out->lambda + t * K,
                               NULL, err) != 0 ||
            fd_factor_history_push(&h, out->months[t], out->f + t * K, err) != 0)
            goto out;
    }
    if (fd_eval_model(in.m, &in.ds, out->f, out->lambda, in.mkt, opts, &ev, err) != 0) goto out;
    out->metrics = fd_eval_report(ev);
    json_object_set_new(out->metrics, "version", json_integer(version));
    json_object_set_new(out->metrics, "from", json_string(T ? out->months[0] : w->test_from));
    json_object_set_new(out->metrics, "to", json_string(T ? out->months[T - 1] : w->test_to));
    fd_store_panel_partial_warnings(db, w->test_from, w->test_to,
                                    json_object_get(out->metrics, "warnings"), NULL);
    rc = 0;
out:
    if (rc != 0) fd_backtest_window_result_free(out);
    fd_eval_destroy(ev);
    fd_factor_history_free(&h);
    inputs_free(&in);
    return rc;
}

/* The months stitched so far, grown window by window. */
typedef struct stitched {
    size_t T, cap;
    char (*months)[FD_MONTH_LEN];
    int *window;
    double *ic, *rank_ic;
} stitched;

static int stitched_grow(stitched *st, size_t more) {
    size_t cap = st->cap;
    void *p;
    if (st->T + more <= cap) return 0;
    while (cap < st->T + more) cap = cap ? 2 * cap : 64;
    if (!(p = realloc(st->months, cap * sizeof *st->months))) return -1;
    st->months = p;
    if (!(p = realloc(st->window, cap * sizeof *st->window))) return -1;
    st->window = p;
    if (!(p = realloc(st->ic, cap * sizeof *st->ic))) return -1;
    st->ic = p;
    if (!(p = realloc(st->rank_ic, cap * sizeof *st->rank_ic))) return -1;
    st->rank_ic = p;
    st->cap = cap;
    return 0;
}

/* Adds window idx's test months to ev and st, with the factors and lambdas stored for it. */
static int stitch_window(fd_db *db, int64_t id, const fd_backtest_spec *s, int idx,
                         fd_eval **ev, stitched *st, fd_error *err) {
    fd_backtest_window_result res;
    window_inputs in;
    double *FL = NULL, *pred = NULL;
    size_t nmax = 1, K;
    int rc = -1;
    if (fd_store_backtest_window_get(db, id, idx, &res, err) != 0) return -1;
    if (res.T == 0) {
        fd_backtest_window_result_free(&res);
        return 0;
    }
    if (inputs_load(db, s->name, res.version, res.months[0], res.months[res.T - 1], 0, &in,
                    err) != 0) {
        fd_backtest_window_result_free(&res);
        return -1;
    }
    K = in.m->K;
    if (in.ds.T != res.T || res.K != K) {
        fd_error_set(err, 409, "panels_changed", "window %d: its test months %s..%s now give "
                     "%zu period(s), %zu when it was evaluated; the panels changed", idx,
                     res.months[0], res.months[res.T - 1], in.ds.T, res.T);
        goto out;
    }
    if (!*ev) {
        fd_eval_opts opts = {s->n_buckets, s->cost};
        if (fd_eval_create(K, in.ds.P, &opts, ev, err) != 0) goto out;
    }
    for (size_t t = 0; t < in.ds.T; t++)
        if (in.ds.periods[t].n > nmax) nmax = in.ds.periods[t].n;
    FL = malloc(2 * K * sizeof *FL);       /* (2, K): f_t, then lambda_{t-1} */
    pred = malloc(2 * nmax * sizeof *pred); /* (2, n): fitted, then expected returns */
    if (!FL || !pred || stitched_grow(st, in.ds.T) != 0) {
        fd_error_set(err, 500, "out_of_memory", "stitching window %d", idx);
        goto out;
    }
    for (size_t t = 0; t < in.ds.T; t++) {
        const fd_period *p = &in.ds.periods[t];
        const double *er = pred + p->n;
        if (strcmp(p->month, res.months[t]) != 0) {
            fd_error_set(err, 409, "panels_changed", "window %d: month %s was evaluated as %s; "
                         "the panels changed", idx, p->month, res.months[t]);
            goto out;
        }
        memcpy(FL, res.f + t * K, K * sizeof *FL);
        memcpy(FL + K, res.lambda + t * K, K * sizeof *FL);
        if (fd_model_predict(in.m, p, FL, 2, pred, NULL, err) != 0 ||
            fd_eval_add_month(*ev, p, pred, er, in.mkt[t], err) != 0)
            goto out;
        memcpy(st->months[st->T], p->month, FD_MONTH_LEN);
        st->window[st->T] = idx;
        st->ic[st->T] = fd_stats_pearson(er, p->r, p->n);
        st->rank_ic[st->T] = fd_stats_spearman(er, p->r, p->n);
        st->T++;
    }
    rc = 0;
out:
    free(FL);
    free(pred);
    inputs_free(&in);
    fd_backtest_window_result_free(&res);
    return rc;
}

/* The identity of the backtest added to the stitched metrics. */
static void report_identity(json_t *r, int64_t id, const fd_backtest_spec *s, size_t n,
                            const fd_report_entry *e) {
    json_object_set_new(r, "backtest", json_integer(id));
    json_object_set_new(r, "name", json_string(s->name));
    json_object_set_new(r, "model", json_string(s->name));
    json_object_set_new(r, "kind", json_string(s->kind));
    json_object_set_new(r, "k", json_integer((json_int_t)s->k));
    json_object_set_new(r, "windows", json_integer((json_int_t)n));
    json_object_set_new(r, "from", e->T ? json_string(e->months[0]) : json_null());
    json_object_set_new(r, "to", e->T ? json_string(e->months[e->T - 1]) : json_null());
    json_object_set_new(r, "returns", json_string(json_is_true(json_object_get(
                                                      s->model_spec, "excess_returns"))
                                                      ? "excess"
                                                      : "raw"));
    json_object_set_new(r, "lambda",
                        json_pack("{s:s,s:s}", "estimator", "prevailing", "description",
                                  "prevailing mean of the window version's stored factors "
                                  "(training and validation windows) and the window's earlier "
                                  "test factors"));
}

/* Moves the stitched months and the evaluator's series into out. */
static int entry_fill(const fd_eval *ev, stitched *st, fd_report_entry *out, fd_error *err) {
    out->series = malloc((st->T * FD_REPORT_N_SERIES + 1) * sizeof *out->series);
    if (!out->series) return fd_error_set(err, 500, "out_of_memory", "backtest series");
    for (int s = 0; s < FD_REPORT_N_SERIES - 2; s++) {
        size_t n = 0;
        /* Series s is strategy s / 2, gross for even s (named like the strategy) and net
         * for odd s. */
        const double *v = ev ? fd_eval_strategy_returns(ev, fd_report_series_names[s & ~1],
                                                        s & 1, &n)
                             : NULL;
        for (size_t t = 0; t < st->T; t++)
            out->series[t * FD_REPORT_N_SERIES + s] = v && t < n ? v[t] : NAN;
    }
    for (size_t t = 0; t < st->T; t++) {
        out->series[t * FD_REPORT_N_SERIES + FD_REPORT_N_SERIES - 2] = st->ic[t];
        out->series[t * FD_REPORT_N_SERIES + FD_REPORT_N_SERIES - 1] = st->rank_ic[t];
    }
    out->T = st->T;
    out->months = st->months;
    out->window = st->window;
    st->months = NULL;
    st->window = NULL;
    return 0;
}

int fd_backtest_stitch(fd_db *db, int64_t id, const fd_backtest_spec *s, size_t n,
                       fd_backtest_stitch_progress progress, void *ctx, fd_report_entry *out,
                       fd_error *err) {
    fd_eval *ev = NULL;
    stitched st = {0};
    int rc = -1;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        if (progress && progress(ctx, (double)i / (double)n)) {
            fd_error_set(err, 409, "cancelled", "backtest %lld was cancelled", (long long)id);
            goto out;
        }
        if (stitch_window(db, id, s, (int)i, &ev, &st, err) != 0) {
            fd_error_prefix(err, "stitching window %zu", i);
            goto out;
        }
    }
    if (entry_fill(ev, &st, out, err) != 0) goto out;
    out->id = id;
    snprintf(out->name, sizeof out->name, "%s", s->name);
    snprintf(out->kind, sizeof out->kind, "%s", s->kind);
    out->k = s->k;
    if (ev) {
        out->report = fd_eval_report(ev);
    } else {
        out->report = json_object();
        json_object_set_new(out->report, "months", json_integer(0));
    }
    report_identity(out->report, id, s, n, out);
    if (out->T)
        fd_store_panel_partial_warnings(db, out->months[0], out->months[out->T - 1],
                                        json_object_get(out->report, "warnings"), NULL);
    rc = 0;
out:
    if (rc != 0) fd_report_entry_free(out);
    fd_eval_destroy(ev);
    free(st.months);
    free(st.window);
    free(st.ic);
    free(st.rank_ic);
    return rc;
}
