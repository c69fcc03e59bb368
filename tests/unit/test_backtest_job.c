/* The backtest job end to end in one process (factord/backtest.h, store_backtests.h): a
 * simulated panel, three IPCA windows run by the job manager, and the stitched result
 * checked against a direct computation with each window's stored version: the total R^2
 * pooled over all test months, and each month's equal-weighted long-short return, which
 * must come from that month's own window. Plus the store's refusals. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "factord/model_store.h"
#include "factord/backtest.h"
#include "factord/eval.h"
#include "factord/simulate.h"
#include "factord/store_backtests.h"
#include "factord/store_data.h"
#include "factord/store_models.h"
#include "factord/dataset_load.h"
#include "testlib.h"

static const fd_job_kind *const kinds[] = {&fd_job_kind_backtest, NULL};
static char db_path[512];

static fd_db *open_with_panels(const char *name, size_t T) {
    fd_sim_opts o;
    fd_sim_data sim;
    fd_db *db = NULL;
    fd_error err;
    snprintf(db_path, sizeof db_path, "%s/%s.db", tl_tmpdir(), name);
    fd_sim_opts_default(&o);
    o.N = 60;
    o.T = T;
    o.P = 4;
    o.K = 2;
    o.r2 = 0.5;
    if (fd_db_open(db_path, &db, &err) != 0 || fd_simulate(&o, &sim, &err) != 0) {
        fprintf(stderr, "setup: %s\n", err.message);
        fd_db_close(db);
        return NULL;
    }
    for (size_t t = 0; t < sim.n_panels; t++)
        if (fd_store_panel_put(db, &sim.panels[t], &err) != 0) fprintf(stderr, "put: %s\n", err.message);
    fd_sim_data_free(&sim);
    return db;
}

static const char *wait_done(fd_db *db, int64_t id) {
    static char state[32];
    struct timespec pause = {0, 10 * 1000 * 1000};
    for (int i = 0; i < 3000; i++) {
        json_t *job = NULL;
        if (fd_store_job_get(db, id, &job, NULL) != 0) return "missing";
        snprintf(state, sizeof state, "%s", json_string_value(json_object_get(job, "state")));
        json_decref(job);
        if (strcmp(state, "queued") != 0 && strcmp(state, "running") != 0) return state;
        nanosleep(&pause, NULL);
    }
    return state;
}

static int64_t submit(fd_jobs *jobs, fd_db *db, const char *text, fd_error *err) {
    json_t *body = json_loads(text, 0, NULL), *bt = NULL;
    int64_t id = 0;
    if (fd_backtest_submit(jobs, db, body, &bt, err) == 0)
        id = json_integer_value(json_object_get(bt, "id"));
    json_decref(body);
    json_decref(bt);
    return id;
}

/* Sum of squared errors and of squared returns of window idx's months with its version,
 * straight from the model and the stored factors. */
static int window_sums(fd_db *db, int64_t id, int idx, const fd_report_entry *e, double *sse,
                       double *ss, double *ew_ls_first, char first_month[FD_MONTH_LEN]) {
    fd_backtest_window_result w;
    fd_model *m = NULL;
    fd_dataset ds;
    fd_context_spec cs = {0};
    json_t *v = NULL;
    double *beta = NULL, f[8];
    int rc = -1;
    fd_eval *ev = NULL;
    fd_eval_opts opts = {5, 0.003}; /* the backtest asks for quintiles */
    fd_dataset_init(&ds);
    if (fd_store_backtest_window_get(db, id, idx, &w, NULL) != 0) return -1;
    if (fd_model_load_version(db, e->name, w.version, &m, NULL) != 0 ||
        fd_store_version_get(db, e->name, w.version, &v, NULL) != 0 ||
        fd_context_spec_from_json(json_object_get(v, "spec"), m->history, &cs, NULL) != 0 ||
        fd_dataset_load(db, &cs, w.months[0], w.months[w.T - 1], &ds, NULL, NULL) != 0)
        goto out;
    beta = malloc(ds.periods[0].n * m->K * sizeof *beta);
    for (size_t t = 0; t < ds.T; t++) {
        const fd_period *p = &ds.periods[t];
        fd_model_betas_rows(m, p->z, p->n, beta, NULL, NULL);
        fd_model_factors(m, p, f, NULL);
        for (size_t i = 0; i < p->n; i++) {
            double fit = 0;
            for (size_t k = 0; k < m->K; k++) fit += beta[i * m->K + k] * f[k];
            *sse += (p->r[i] - fit) * (p->r[i] - fit);
            *ss += p->r[i] * p->r[i];
        }
    }
    /* The window on its own: its first month's gross long-short return does not depend on
     * any earlier holdings, so the stitch must give the same number. */
    if (fd_eval_create(m->K, ds.P, &opts, &ev, NULL) != 0) goto out;
    {
        double FL[16], *pred = malloc(2 * ds.periods[0].n * sizeof *pred);
        memcpy(FL, w.f, m->K * sizeof *FL);
        memcpy(FL + m->K, w.lambda, m->K * sizeof *FL);
        fd_model_predict(m, &ds.periods[0], FL, 2, pred, NULL, NULL);
        fd_eval_add_month(ev, &ds.periods[0], pred, pred + ds.periods[0].n, NAN, NULL);
        free(pred);
    }
    {
        size_t n;
        *ew_ls_first = fd_eval_strategy_returns(ev, "ew_ls", 0, &n)[0];
        memcpy(first_month, ds.periods[0].month, FD_MONTH_LEN);
    }
    rc = 0;
out:
    fd_eval_destroy(ev);
    fd_context_spec_free(&cs);
    free(beta);
    json_decref(v);
    fd_dataset_free(&ds);
    fd_model_destroy(m);
    fd_backtest_window_result_free(&w);
    return rc;
}

TEST(three_windows_stitch_into_one_evaluation_with_each_months_version) {
    fd_db *db = open_with_panels("stitch", 30);
    fd_jobs_opts opts = {db_path, 1, 1, 0.01, kinds};
    fd_jobs *jobs = NULL;
    fd_report_entry e;
    fd_error err;
    int64_t id;
    double sse = 0, ss = 0;
    ASSERT(db != NULL);
    ASSERT_INT_EQ(fd_jobs_create(&opts, &jobs, &err), 0);
    id = submit(jobs, db, "{\"name\":\"bt\",\"model\":{\"kind\":\"ipca\",\"k\":2},\"windows\":"
                          "{\"train\":12,\"valid\":0,\"test\":6,\"step\":6},\"n\":5}", &err);
    if (id == 0) fprintf(stderr, "submit: %s\n", err.message);
    ASSERT(id > 0);
    ASSERT_STR_EQ(wait_done(db, id), "succeeded");
    fd_jobs_destroy(jobs);
    ASSERT_INT_EQ(fd_store_backtest_result(db, id, &e, &err), 0);
    /* Months 1..30 hold windows testing 13-18, 19-24 and 25-30. */
    ASSERT_INT_EQ(e.T, 18);
    ASSERT_STR_EQ(e.months[0], "2001-02");
    ASSERT_STR_EQ(e.months[17], "2002-07");
    ASSERT_INT_EQ(e.window[5], 0);
    ASSERT_INT_EQ(e.window[6], 1);
    ASSERT_INT_EQ(e.window[17], 2);
    ASSERT_INT_EQ(json_integer_value(json_object_get(json_object_get(e.report, "portfolios"), "n")), 5);
    for (int w = 0; w < 3; w++) {
        double first = NAN;
        char month[FD_MONTH_LEN] = "";
        ASSERT_INT_EQ(window_sums(db, id, w, &e, &sse, &ss, &first, month), 0);
        ASSERT_STR_EQ(month, e.months[6 * w]);
        ASSERT_NEAR(e.series[6 * w * FD_REPORT_N_SERIES], first, 1e-15);
    }
    ASSERT_NEAR(json_number_value(json_object_get(json_object_get(e.report, "r2"), "total_r")),
                1.0 - sse / ss, 1e-12);
    fd_report_entry_free(&e);
    fd_db_close(db);
}

TEST(store_refuses_duplicates_and_unfinished_results) {
    fd_db *db = open_with_panels("store", 4);
    fd_backtest_spec s;
    fd_backtest_window w = {0};
    fd_backtest_window_result r = {0};
    double f[2] = {0.1, 0.2};
    char months[1][FD_MONTH_LEN] = {"2000-04"};
    fd_report_entry e, *list = NULL;
    json_t *body = json_loads("{\"name\":\"s\",\"model\":{\"kind\":\"ipca\",\"k\":2}}", 0, NULL);
    fd_error err;
    size_t n, done;
    int64_t id;
    ASSERT(db != NULL);
    ASSERT_INT_EQ(fd_backtest_spec_parse(body, &s, &err), 0);
    json_decref(body);
    ASSERT_INT_EQ(fd_store_backtest_create(db, 5, &s, 3, &err), 0);
    ASSERT_INT_EQ(fd_store_backtest_create(db, 5, &s, 3, &err), 0); /* same id: no-op */
    ASSERT_INT_EQ(fd_store_backtest_create(db, 6, &s, 3, &err), -1);
    ASSERT_STR_EQ(err.code, "backtest_exists");
    ASSERT_INT_EQ(fd_store_backtest_resolve(db, "s", &id, &err), 0);
    ASSERT_INT_EQ(id, 5);
    ASSERT_INT_EQ(fd_store_backtest_resolve(db, "6", &id, &err), -1);
    ASSERT_INT_EQ(err.status, 404);
    snprintf(w.test_from, sizeof w.test_from, "2000-04");
    snprintf(w.test_to, sizeof w.test_to, "2000-04");
    snprintf(w.fit.train_from, sizeof w.fit.train_from, "2000-02");
    snprintf(w.fit.train_to, sizeof w.fit.train_to, "2000-03");
    r.version = 1;
    r.T = 1;
    r.K = 2;
    r.months = months;
    r.f = f;
    r.lambda = f;
    r.metrics = json_object();
    ASSERT_INT_EQ(fd_store_backtest_window_insert_tx(db, 5, &w, &r, &err), 0);
    ASSERT_INT_EQ(fd_store_backtest_window_insert_tx(db, 5, &w, &r, &err), -1);
    ASSERT_STR_EQ(err.code, "window_exists");
    json_decref(r.metrics);
    ASSERT_INT_EQ(fd_store_backtest_windows_done(db, 5, &done, &err), 0);
    ASSERT_INT_EQ(done, 1);
    memset(&r, 0, sizeof r);
    ASSERT_INT_EQ(fd_store_backtest_window_get(db, 5, 0, &r, &err), 0);
    ASSERT_NEAR(r.f[1], 0.2, 0);
    ASSERT_STR_EQ(r.months[0], "2000-04");
    fd_backtest_window_result_free(&r);
    ASSERT_INT_EQ(fd_store_backtest_window_get(db, 5, 1, &r, &err), -1);
    ASSERT_STR_EQ(err.code, "no_window");
    ASSERT_INT_EQ(fd_store_backtest_result(db, 5, &e, &err), -1);
    ASSERT_STR_EQ(err.code, "backtest_not_finished");
    ASSERT_INT_EQ(fd_store_backtest_results(db, "s,5", &list, &n, &err), -1);
    ASSERT_INT_EQ(err.status, 409);
    ASSERT_INT_EQ(fd_store_backtest_results(db, "", &list, &n, &err), -1);
    ASSERT_INT_EQ(err.status, 400);
    ASSERT_INT_EQ(fd_store_backtest_results(db, "nope", &list, &n, &err), -1);
    ASSERT_INT_EQ(err.status, 404);
    ASSERT(strstr(err.message, "nope") != NULL);
    fd_backtest_spec_free(&s);
    fd_db_close(db);
}

TEST_MAIN(T(three_windows_stitch_into_one_evaluation_with_each_months_version),
          T(store_refuses_duplicates_and_unfinished_results))
