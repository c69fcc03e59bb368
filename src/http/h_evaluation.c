/* GET /v1/models/{model}/evaluation?version=&from=&to=[&n=10][&cost=0.003][&importance=1]:
 * out-of-sample evaluation of one version on the return months from..to (DESIGN.md
 * section 4; definitions in docs/metrics.md). lambda starts from the version's in-sample
 * factors and grows with each test month's realisation, so month t only uses factors known
 * before t. Months normally lie after the version's training window; earlier months are
 * evaluated too but flagged in_sample_overlap. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../jobs/train_internal.h"
#include "factord/eval.h"
#include "factord/eval_importance.h"
#include "factord/store_data.h"
#include "serving.h"

/* The fitted characteristic names (without the constant) as JSON. */
static json_t *fitted_columns(const fd_version *v) {
    json_t *cols = json_array();
    for (size_t j = 0; j < v->P - (v->add_constant ? 1 : 0); j++)
        json_array_append_new(cols, json_string(v->columns[j]));
    return cols;
}

static int parse_opts(fd_request *req, fd_eval_opts *o, int *importance, fd_error *err) {
    const char *n = fd_request_query(req, "n"), *c = fd_request_query(req, "cost");
    const char *imp = fd_request_query(req, "importance");
    char *end;
    o->n_buckets = 10;
    o->cost = 0.003;
    if (n) {
        long v = strtol(n, &end, 10);
        if (*end || v < 2 || v > 100)
            return fd_error_set(err, 400, "bad_parameter", "n must be an integer 2..100, got \"%s\"", n);
        o->n_buckets = (int)v;
    }
    if (c) {
        double v = strtod(c, &end);
        if (*end || !isfinite(v) || v < 0 || v >= 1)
            return fd_error_set(err, 400, "bad_parameter", "cost must be a decimal in [0, 1) "
                                "(0.003 = 30 bp), got \"%s\"", c);
        o->cost = v;
    }
    *importance = imp && (strcmp(imp, "1") == 0 || strcmp(imp, "true") == 0);
    return 0;
}

static void handle_evaluation(fd_request *req, fd_response *resp) {
    serving s;
    fd_error err;
    fd_eval_opts opts;
    fd_dataset ds;
    fd_eval *ev = NULL;
    json_t *cols = NULL, *report = NULL, *imp = NULL;
    double *mkt = NULL;
    int importance = 0;
    const char *from = month_param(req, "from", &err), *to = from ? month_param(req, "to", &err) : NULL;
    fd_dataset_init(&ds);
    if (!from || !to || parse_opts(req, &opts, &importance, &err)) {
        fd_response_from_error(resp, &err);
        return;
    }
    if (strcmp(from, to) > 0) {
        fd_response_error(resp, 400, "bad_window", "from %s is after to %s", from, to);
        return;
    }
    if (serving_open(req, &s, &err)) {
        fd_response_from_error(resp, &err);
        return;
    }
    cols = fitted_columns(s.v);
    if (fd_train_load_dataset(s.db, from, to, s.v->spec, cols, &ds, NULL, &err)) goto fail;
    mkt = malloc((ds.T + 1) * sizeof *mkt);
    if (!mkt) {
        fd_error_set(&err, 500, "out_of_memory", "evaluation");
        goto fail;
    }
    for (size_t t = 0; t < ds.T; t++)
        if (fd_store_factor_value(s.db, ds.periods[t].month, "Mkt-RF", &mkt[t], NULL)) mkt[t] = NAN;
    if (fd_eval_model(s.v->m, s.v->F, s.v->T0, &ds, mkt, &opts, &ev, &err)) goto fail;
    if (importance && fd_eval_importance(s.v->m, &ds, &imp, &err)) goto fail;
    report = fd_eval_report(ev);
    json_object_set_new(report, "model", json_string(s.v->model));
    json_object_set_new(report, "version", json_integer(s.v->version));
    json_object_set_new(report, "from", json_string(from));
    json_object_set_new(report, "to", json_string(to));
    json_object_set_new(report, "returns", json_string(s.v->excess_returns ? "excess" : "raw"));
    json_object_set_new(report, "in_sample_overlap",
                        json_boolean(s.v->train_to[0] && strcmp(from, s.v->train_to) <= 0));
    if (imp) json_object_set_new(report, "importance", imp);
    fd_response_json(resp, 200, report);
    goto done;
fail:
    fd_response_from_error(resp, &err);
done:
    fd_eval_destroy(ev);
    fd_dataset_free(&ds);
    json_decref(cols);
    free(mkt);
    serving_close(req, &s);
}

const fd_route fd_routes_evaluation[] = {
    {"GET", "/v1/models/{model}/evaluation", handle_evaluation, 0},
    {NULL, NULL, NULL, 0},
};
