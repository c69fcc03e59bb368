/* fd_eval_model against tests/data/oos_expected.json (tests/ref/oos_ref.py recomputes every
 * metric with numpy/scipy). The model is a fixed linear one defined here: beta(z) = z A,
 * factors taken from the fixture by month, so only the evaluator is under test. Covers a
 * month with fewer securities than deciles, a missing market cap, tied expected returns,
 * a month without MktRF, and the t -> t+1 timing of lambda. Tolerance 1e-10. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/eval.h"
#include "factord/eval_importance.h"
#include "factord/lambda.h"
#include "testlib.h"

typedef struct fixed_model {
    fd_model base;
    double A[64];        /* (P, K) */
    const fd_dataset *ds;
    double *F;           /* (T, K) factors of the test months */
} fixed_model;

static int fixed_betas(const fd_model *m, const fd_period *p, double *beta, double *alpha,
                       fd_error *e) {
    const fixed_model *fm = (const fixed_model *)m;
    const double *z = p->z;
    size_t n = p->n;
    (void)e;
    (void)alpha;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < m->K; k++) {
            beta[i * m->K + k] = 0;
            for (size_t j = 0; j < m->P; j++) beta[i * m->K + k] += z[i * m->P + j] * fm->A[j * m->K + k];
        }
    return 0;
}

static int fixed_factors(const fd_model *m, const fd_period *p, double *f, fd_error *e) {
    const fixed_model *fm = (const fixed_model *)m;
    size_t t = (size_t)(p - fm->ds->periods);
    (void)e;
    memcpy(f, fm->F + t * m->K, m->K * sizeof *f);
    return 0;
}

static const fd_model_ops fixed_ops = {.kind = "fixed", .betas = fixed_betas,
                                       .factors = fixed_factors};

static double *numbers(json_t *arr, double *out) {
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (json_is_array(v)) {
            out = numbers(v, out);
        } else {
            *out++ = json_is_null(v) ? NAN : json_number_value(v);
        }
    }
    return out;
}

static int near(json_t *obj, const char *key, double got) {
    json_t *v = json_object_get(obj, key);
    double want = !v || json_is_null(v) ? NAN : json_number_value(v);
    if ((isnan(want) && isnan(got)) || fabs(want - got) <= 1e-10) return 1;
    tl_fail(__FILE__, __LINE__, "%s: got %.15g want %.15g", key, got, want);
    return 0;
}

typedef struct fixture {
    json_t *ref;
    fixed_model fm;
    fd_dataset ds;
    double F0[64], mkt[32];
    size_t T0;
} fixture;

static int fixture_load(fixture *fx) {
    json_error_t je;
    json_t *jp;
    size_t i, K, P, T;
    memset(fx, 0, sizeof *fx);
    fx->ref = json_load_file("tests/data/oos_expected.json", 0, &je);
    if (!fx->ref) return -1;
    K = (size_t)json_integer_value(json_object_get(fx->ref, "K"));
    P = (size_t)json_integer_value(json_object_get(fx->ref, "P"));
    jp = json_object_get(fx->ref, "periods");
    T = json_array_size(jp);
    fx->fm.base = (fd_model){.ops = &fixed_ops, .P = P, .K = K, .history = 1};
    numbers(json_object_get(fx->ref, "A"), fx->fm.A);
    numbers(json_object_get(fx->ref, "F0"), fx->F0);
    fx->T0 = json_array_size(json_object_get(fx->ref, "F0"));
    fx->ds.T = T;
    fx->ds.P = P;
    fx->ds.periods = calloc(T, sizeof *fx->ds.periods);
    fx->ds.col_names = calloc(P, sizeof *fx->ds.col_names);
    for (i = 0; i < P; i++) {
        char name[32];
        snprintf(name, sizeof name, "c%zu", i);
        fx->ds.col_names[i] = strdup(name);
    }
    fx->fm.F = malloc(T * K * sizeof *fx->fm.F);
    fx->fm.ds = &fx->ds;
    for (i = 0; i < T; i++) {
        json_t *p = json_array_get(jp, i), *ids = json_object_get(p, "ids"), *m;
        fd_period *d = &fx->ds.periods[i];
        d->n = json_array_size(ids);
        snprintf(d->month, sizeof d->month, "%s", json_string_value(json_object_get(p, "month")));
        d->ids = calloc(d->n, sizeof *d->ids);
        for (size_t k = 0; k < d->n; k++) d->ids[k] = strdup(json_string_value(json_array_get(ids, k)));
        d->z = malloc(d->n * P * sizeof *d->z);
        d->r = malloc(d->n * sizeof *d->r);
        d->mktcap = malloc(d->n * sizeof *d->mktcap);
        d->x = malloc(P * sizeof *d->x);
        numbers(json_object_get(p, "z"), d->z);
        numbers(json_object_get(p, "r"), d->r);
        numbers(json_object_get(p, "mktcap"), d->mktcap);
        numbers(json_object_get(p, "x"), d->x);
        numbers(json_object_get(p, "f"), fx->fm.F + i * K);
        m = json_object_get(p, "mktrf");
        fx->mkt[i] = json_is_null(m) ? NAN : json_number_value(m);
    }
    return 0;
}

static void fixture_free(fixture *fx) {
    for (size_t i = 0; i < fx->ds.T; i++) {
        fd_period *d = &fx->ds.periods[i];
        for (size_t k = 0; k < d->n; k++) free(d->ids[k]);
        free(d->ids); free(d->z); free(d->r); free(d->mktcap); free(d->x);
    }
    for (size_t j = 0; j < fx->ds.P; j++) free(fx->ds.col_names[j]);
    free(fx->ds.col_names);
    free(fx->ds.periods);
    free(fx->fm.F);
    json_decref(fx->ref);
}

/* The fixture evaluated with lambda_{t-1} from the one lambda: the prevailing mean of the
 * in-sample rows (months before the first test month) and the test months realised before
 * t, which is the reference's mean of F0 and the earlier test factors. */
static int fixture_eval(fixture *fx, const fd_eval_opts *opts, fd_eval **ev, fd_error *err) {
    size_t K = fx->fm.base.K, T = fx->ds.T;
    double *lambda = malloc(T * K * sizeof *lambda);
    fd_factor_history h;
    fd_lambda_windows w = {"", "", "", ""};
    int rc = lambda ? 0 : -1;
    fd_factor_history_init(&h, K);
    for (size_t t = 0; t < fx->T0 && rc == 0; t++) {
        char m[FD_MONTH_LEN];
        fd_month_add(fx->ds.periods[0].month, (int)t - (int)fx->T0, m);
        rc = fd_factor_history_push(&h, m, fx->F0 + t * K, err);
    }
    for (size_t t = 0; t < T && rc == 0; t++) {
        char asof[FD_MONTH_LEN];
        fd_month_add(fx->ds.periods[t].month, -1, asof);
        rc = fd_lambda_estimate(&h, asof, FD_LAMBDA_PREVAILING, &w, lambda + t * K, NULL, err) ||
             fd_factor_history_push(&h, fx->ds.periods[t].month, fx->fm.F + t * K, err);
    }
    fd_factor_history_free(&h);
    if (rc == 0) rc = fd_eval_model(&fx->fm.base, &fx->ds, NULL, lambda, fx->mkt, opts, ev, err);
    free(lambda);
    return rc;
}

TEST(evaluator_matches_numpy_reference) {
    fixture fx;
    json_t *ref, *rep, *exp;
    fd_eval *ev = NULL;
    fd_error err;
    if (fixture_load(&fx)) { fixture_free(&fx); ASSERT(!"fixture loads"); }
    ref = fx.ref;
    fd_eval_opts opts = {(int)json_integer_value(json_object_get(ref, "nb")),
                         json_number_value(json_object_get(ref, "cost"))};
    int rc = fixture_eval(&fx, &opts, &ev, &err);
    if (rc == 0) {
        const char *keys[] = {"total_r", "pred_r", "total_x", "pred_x", "total_r_mkt"};
        const char *skeys[] = {"months", "mean", "volatility", "sharpe", "turnover", "mean_net",
                               "sharpe_net", "max_drawdown", "sortino", "calmar"};
        const char *strats[] = {"ew_ls", "ew_lo", "vw_ls", "vw_lo"};
        rep = fd_eval_report(ev);
        exp = json_object_get(ref, "expected");
        for (int k = 0; k < 5; k++)
            near(json_object_get(exp, "r2"), keys[k],
                 json_number_value(json_object_get(json_object_get(rep, "r2"), keys[k])));
        const char *ic[] = {"mean", "tstat", "rank_mean", "rank_tstat"};
        for (int k = 0; k < 4; k++)
            near(json_object_get(exp, "ic"), ic[k],
                 json_number_value(json_object_get(json_object_get(rep, "ic"), ic[k])));
        for (int s = 0; s < 4; s++) {
            json_t *es = json_object_get(json_object_get(exp, "strategies"), strats[s]);
            json_t *gs = json_object_get(json_object_get(rep, "strategies"), strats[s]);
            for (int k = 0; k < 10; k++) {
                json_t *g = json_object_get(gs, skeys[k]);
                near(es, skeys[k], json_is_null(g) ? NAN : json_number_value(g));
            }
        }
        const char *ckeys[] = {"returns", "total_errors", "pred_errors"};
        for (int k = 0; k < 3; k++) {
            json_t *ec = json_object_get(json_object_get(exp, "concentration"), ckeys[k]);
            json_t *gc = json_object_get(json_object_get(rep, "concentration"), ckeys[k]);
            near(ec, "share", json_number_value(json_object_get(gc, "share")));
            near(ec, "ret", json_number_value(json_object_get(gc, "ret")));
            if (strcmp(json_string_value(json_object_get(ec, "id")),
                       json_string_value(json_object_get(gc, "id"))) != 0 ||
                strcmp(json_string_value(json_object_get(ec, "month")),
                       json_string_value(json_object_get(gc, "month"))) != 0)
                rc = -1;
        }
        /* No security-month holds 10% of any sum in this panel: no warning. */
        if (json_array_size(json_object_get(rep, "warnings")) != 0) rc = -1;
        json_decref(rep);
    }
    fd_eval_destroy(ev);
    fixture_free(&fx);
    ASSERT_INT_EQ(rc, 0);
}

TEST(bad_options_are_rejected) {
    fd_eval *ev = NULL;
    fd_error err;
    fd_eval_opts one = {1, 0.003}, neg = {10, -0.1};
    ASSERT_INT_EQ(fd_eval_create(2, 3, &one, &ev, &err), -1);
    ASSERT_INT_EQ(err.status, 400);
    ASSERT_INT_EQ(fd_eval_create(2, 3, &neg, &ev, &err), -1);
    ASSERT_STR_EQ(err.code, "bad_cost");
}

/* Linear betas z A: the gradient of beta_k in z_j is A[j][k], so the mean absolute
 * gradient is mean_k |A[j][k]|; the R^2 drop is recomputed here directly. */
TEST(importance_of_linear_betas_is_exact) {
    fixture fx;
    json_t *imp = NULL;
    fd_error err;
    int rc;
    if (fixture_load(&fx)) { fixture_free(&fx); ASSERT(!"fixture loads"); }
    rc = fd_eval_importance(&fx.fm.base, &fx.ds, &imp, &err);
    if (rc == 0) {
        size_t P = fx.ds.P, K = fx.fm.base.K, i;
        json_t *row;
        double prev_drop = INFINITY;
        ASSERT_INT_EQ(json_array_size(imp), P);
        json_array_foreach(imp, i, row) {
            size_t j = (size_t)atoi(json_string_value(json_object_get(row, "characteristic")) + 1);
            double want_grad = 0, sse0 = 0, sse = 0, ss = 0;
            for (size_t k = 0; k < K; k++) want_grad += fabs(fx.fm.A[j * K + k]) / (double)K;
            for (size_t t = 0; t < fx.ds.T; t++) {
                const fd_period *p = &fx.ds.periods[t];
                for (size_t a = 0; a < p->n; a++) {
                    double full = 0, cut = 0;
                    for (size_t k = 0; k < K; k++) {
                        double b = 0;
                        for (size_t c = 0; c < P; c++) b += p->z[a * P + c] * fx.fm.A[c * K + k];
                        full += b * fx.fm.F[t * K + k];
                        cut += (b - p->z[a * P + j] * fx.fm.A[j * K + k]) * fx.fm.F[t * K + k];
                    }
                    sse0 += (p->r[a] - full) * (p->r[a] - full);
                    sse += (p->r[a] - cut) * (p->r[a] - cut);
                    ss += p->r[a] * p->r[a];
                }
            }
            double drop = json_number_value(json_object_get(row, "r2_drop"));
            if (fabs(json_number_value(json_object_get(row, "gradient")) - want_grad) > 1e-8)
                tl_fail(__FILE__, __LINE__, "gradient of c%zu", j);
            if (fabs(drop - (sse - sse0) / ss) > 1e-12) tl_fail(__FILE__, __LINE__, "drop of c%zu", j);
            if (drop > prev_drop) tl_fail(__FILE__, __LINE__, "not sorted by drop");
            prev_drop = drop;
        }
    }
    json_decref(imp);
    fixture_free(&fx);
    ASSERT_INT_EQ(rc, 0);
}

/* The month-by-month series (evaluation?series=monthly) against the reference's per-month
 * values: labels, sizes, each month's own R^2, IC and the strategies gross and net. */
TEST(monthly_series_matches_numpy_reference) {
    fixture fx;
    fd_eval *ev = NULL;
    fd_error err;
    if (fixture_load(&fx)) { fixture_free(&fx); ASSERT(!"fixture loads"); }
    fd_eval_opts opts = {(int)json_integer_value(json_object_get(fx.ref, "nb")),
                         json_number_value(json_object_get(fx.ref, "cost"))};
    int rc = fixture_eval(&fx, &opts, &ev, &err);
    if (rc == 0) {
        const char *keys[] = {"n", "total_r2", "pred_r2", "ic", "rank_ic", "ew_ls", "ew_ls_net",
                              "ew_lo", "ew_lo_net", "vw_ls", "vw_ls_net", "vw_lo", "vw_lo_net"};
        json_t *got = fd_eval_monthly(ev);
        json_t *want = json_object_get(json_object_get(fx.ref, "expected"), "monthly");
        ASSERT_INT_EQ(json_array_size(got), fx.ds.T);
        ASSERT_INT_EQ(json_array_size(want), fx.ds.T);
        for (size_t t = 0; t < fx.ds.T; t++) {
            json_t *g = json_array_get(got, t), *w = json_array_get(want, t);
            ASSERT_STR_EQ(json_string_value(json_object_get(g, "month")),
                          json_string_value(json_object_get(w, "month")));
            ASSERT_INT_EQ(json_object_size(g), 1 + sizeof keys / sizeof keys[0]);
            for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
                json_t *v = json_object_get(g, keys[k]);
                ASSERT(v != NULL);
                near(w, keys[k], json_is_null(v) ? NAN : json_number_value(v));
            }
        }
        json_decref(got);
    }
    fd_eval_destroy(ev);
    fixture_free(&fx);
    ASSERT_INT_EQ(rc, 0);
}

TEST_MAIN(T(evaluator_matches_numpy_reference), T(importance_of_linear_betas_is_exact),
          T(monthly_series_matches_numpy_reference),
          T(bad_options_are_rejected))
