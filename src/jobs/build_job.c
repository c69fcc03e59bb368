/* The "build_panels" job kind (factord/build_job.h): a panel build from the stored daily
 * bars on a job worker, its progress on the job row and its counts as the job's result. */
#include "factord/build_job.h"

#include <stdio.h>
#include <string.h>

#include "factord/log.h"
#include "factord/store_prices.h"

#define BUILD_TRIES 3 /* a build that finds the store busy at its write is run again */

int fd_build_params_parse(const char *from, const char *to, const char *outliers,
                          const char *max_abs_ret, fd_daily_opts *opts, fd_error *err) {
    const char *names[2] = {"from", "to"}, *values[2] = {from, to};
    char *keys[2] = {opts->from, opts->to};
    memset(opts, 0, sizeof *opts);
    for (int i = 0; i < 2; i++) {
        if (!values[i]) continue;
        if (fd_month_parse(values[i], NULL, NULL, err) != 0)
            return fd_error_prefix(err, "%s", names[i]);
        snprintf(keys[i], FD_MONTH_LEN, "%s", values[i]);
    }
    if (opts->from[0] && opts->to[0] && strcmp(opts->from, opts->to) > 0)
        return fd_error_set(err, 400, "bad_range", "from %s is after to %s", opts->from,
                            opts->to);
    return fd_outlier_policy_parse(outliers, max_abs_ret, "outliers", "max_abs_ret",
                                   &opts->outliers, err);
}

json_t *fd_build_params_json(const fd_daily_opts *opts) {
    char threshold[32];
    json_t *p = json_object();
    if (!p) return NULL;
    if (opts->from[0]) json_object_set_new(p, "from", json_string(opts->from));
    if (opts->to[0]) json_object_set_new(p, "to", json_string(opts->to));
    json_object_set_new(p, "outliers",
                        json_string(fd_outlier_action_name(opts->outliers.action)));
    if (opts->outliers.threshold > 0) {
        snprintf(threshold, sizeof threshold, "%.17g", opts->outliers.threshold);
        json_object_set_new(p, "max_abs_ret", json_string(threshold));
    }
    return p;
}

static const char *param(const json_t *params, const char *key) {
    return json_string_value(json_object_get(params, key));
}

static int job_progress(void *ctx, double progress) {
    return fd_job_progress(ctx, progress, NULL);
}

static int job_commit(void *ctx, fd_db *db, const fd_daily_stats *st, fd_error *err) {
    json_t *result = fd_daily_stats_json(st);
    (void)db; /* the job's own connection, which fd_job_succeed_tx writes through */
    int rc = result ? fd_job_succeed_tx(ctx, result, err)
                    : fd_error_set(err, 500, "out_of_memory", "the build's counts");
    json_decref(result);
    return rc;
}

static int build_job_run(fd_job_ctx *ctx, const json_t *params, fd_error *err) {
    fd_build_hooks hooks = {job_progress, job_commit, ctx};
    fd_daily_opts opts;
    if (fd_build_params_parse(param(params, "from"), param(params, "to"),
                              param(params, "outliers"), param(params, "max_abs_ret"), &opts,
                              err) != 0)
        return -1;
    for (int attempt = 1;; attempt++) {
        int rc = fd_store_panels_from_prices(fd_job_db(ctx), &opts, &hooks, NULL, err);
        if (rc == 0 || err->status != 503 || attempt >= BUILD_TRIES || fd_job_stopping(ctx))
            return rc;
        fd_warn("build job %lld: store busy writing the panels, building again",
                (long long)fd_job_id(ctx));
    }
}

const fd_job_kind fd_job_kind_build_panels = {"build_panels", build_job_run};
