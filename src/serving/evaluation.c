/* Out-of-sample evaluation of a pinned version over stored months (see
 * include/factord/scoring.h, fd_scoring_evaluate). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/dataset_load.h"
#include "factord/eval.h"
#include "factord/eval_importance.h"
#include "factord/eval_r2.h"
#include "factord/scoring.h"
#include "factord/store_data.h"

/* lambda (T, K): row t is lambda as of the month before test month t over the version's
 * history (its stored rows, the served realisations of the months between, and the test
 * months' own realisations F (T, K)). *lam receives the JSON of its estimator and of the
 * lambdas of the first and last test month. */
static int test_lambdas(const fd_version *v, fd_db *db, const fd_dataset *ds, const double *F,
                        fd_lambda_estimator est, double *lambda, json_t **lam, fd_error *err) {
    fd_factor_history known, h;
    fd_lambda_info first, li;
    char until[FD_MONTH_LEN];
    const double *last_row = lambda + (ds->T - 1) * v->K;
    int rc = -1;
    fd_factor_history_init(&known, v->K);
    fd_factor_history_init(&h, v->K);
    for (size_t t = 0; t < ds->T; t++)
        if (fd_factor_history_push(&known, ds->periods[t].month, F + t * v->K, err)) goto done;
    fd_month_add(ds->periods[ds->T - 1].month, -1, until);
    if (fd_scoring_history(v, db, est == FD_LAMBDA_TRAINING ? "" : until, &known, &h, err))
        goto done;
    for (size_t t = 0; t < ds->T; t++) {
        char asof[FD_MONTH_LEN];
        fd_month_add(ds->periods[t].month, -1, asof);
        if (fd_lambda_estimate(&h, asof, est, &v->windows, lambda + t * v->K, &li, err)) {
            fd_error_prefix(err, "test month %s", ds->periods[t].month);
            goto done;
        }
        if (t == 0) first = li;
    }
    *lam = json_pack("{s:s,s:o,s:o}", "estimator", fd_lambda_estimator_name(est), "first_month",
                     fd_lambda_info_json(&first, lambda, v->K), "last_month",
                     fd_lambda_info_json(&li, last_row, v->K));
    rc = 0;
done:
    fd_factor_history_free(&known);
    fd_factor_history_free(&h);
    return rc;
}

int fd_scoring_evaluate(const fd_version *v, fd_db *db, const char *from, const char *to,
                        const fd_scoring_eval_opts *o, json_t **out, fd_error *err) {
    fd_dataset ds;
    fd_eval *ev = NULL;
    json_t *report = NULL, *imp = NULL, *lam = NULL;
    double *mkt = NULL, *F = NULL, *lambda = NULL;
    int rc = -1;
    *out = NULL;
    fd_dataset_init(&ds);
    if (fd_dataset_load(db, &v->cs, from, to, &ds, NULL, err)) goto done;
    mkt = malloc((ds.T + 1) * sizeof *mkt);
    F = malloc((ds.T * v->K + 1) * sizeof *F);      /* (T, K) realised factors */
    lambda = malloc((ds.T * v->K + 1) * sizeof *F); /* (T, K) lambda known before each month */
    if (!mkt || !F || !lambda) {
        fd_error_set(err, 500, "out_of_memory", "evaluation");
        goto done;
    }
    for (size_t t = 0; t < ds.T; t++)
        if (fd_store_factor_value(db, ds.periods[t].month, "Mkt-RF", &mkt[t], NULL)) mkt[t] = NAN;
    if (fd_r2_factor_series(v->m, &ds, F, err) ||
        test_lambdas(v, db, &ds, F, o->lambda, lambda, &lam, err) ||
        fd_eval_model(v->m, &ds, F, lambda, mkt, &o->eval, &ev, err))
        goto done;
    if (o->importance && fd_eval_importance(v->m, &ds, &imp, err)) goto done;
    report = fd_eval_report(ev);
    json_object_set_new(report, "model", json_string(v->model));
    json_object_set_new(report, "version", json_integer(v->version));
    json_object_set_new(report, "from", json_string(from));
    json_object_set_new(report, "to", json_string(to));
    json_object_set_new(report, "returns", json_string(v->excess_returns ? "excess" : "raw"));
    json_object_set_new(report, "in_sample_overlap",
                        json_boolean(v->train_to[0] && strcmp(from, v->train_to) <= 0));
    json_object_set_new(report, "lambda", lam);
    lam = NULL;
    fd_store_panel_partial_warnings(db, from, to, json_object_get(report, "warnings"), NULL);
    if (imp) json_object_set_new(report, "importance", imp);
    if (o->monthly) json_object_set_new(report, "series", fd_eval_monthly(ev));
    imp = NULL;
    *out = report;
    rc = 0;
done:
    json_decref(imp);
    json_decref(lam);
    fd_eval_destroy(ev);
    fd_dataset_free(&ds);
    free(mkt);
    free(F);
    free(lambda);
    return rc;
}
