/* GET /v1/models/{model}/evaluation?version=&from=&to=[&n=10][&cost=0.003][&importance=1]
 * [&series=monthly][&lambda=prevailing|training]: out-of-sample evaluation of one version on
 * the return months from..to, with series=monthly also month by month (long-short and long-only returns gross and net
 * of costs, IC, rank IC, the month's R^2) for dashboards, in one call (the numbers are
 * fd_scoring_evaluate's, src/serving/evaluation.c; definitions in docs/metrics.md). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/scoring.h"
#include "serving.h"

static int parse_opts(fd_request *req, fd_scoring_eval_opts *so, fd_error *err) {
    const char *n = fd_request_query(req, "n"), *c = fd_request_query(req, "cost");
    const char *imp = fd_request_query(req, "importance"), *series = fd_request_query(req, "series");
    fd_eval_opts *o = &so->eval;
    char *end;
    memset(so, 0, sizeof *so);
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
    so->importance = imp && (strcmp(imp, "1") == 0 || strcmp(imp, "true") == 0);
    if (series && strcmp(series, "monthly") != 0)
        return fd_error_set(err, 400, "bad_parameter", "series must be \"monthly\", got \"%.40s\"",
                            series);
    so->monthly = series != NULL;
    return fd_lambda_estimator_parse(fd_request_query(req, "lambda"), "lambda", &so->lambda,
                                     err);
}

static void handle_evaluation(fd_request *req, fd_response *resp) {
    serving s;
    fd_error err;
    json_t *report = NULL;
    fd_scoring_eval_opts so;
    const char *from = month_param(req, "from", &err), *to = from ? month_param(req, "to", &err) : NULL;
    if (!from || !to || parse_opts(req, &so, &err)) {
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
    if (fd_scoring_evaluate(s.v, s.db, from, to, &so, &report, &err))
        fd_response_from_error(resp, &err);
    else
        fd_response_json(resp, 200, report);
    serving_close(req, &s);
}

const fd_route fd_routes_evaluation[] = {
    {"GET", "/v1/models/{model}/evaluation", handle_evaluation, 0},
    {NULL, NULL, NULL, 0},
};
