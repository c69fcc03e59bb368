/* Panel builds as jobs (POST /v1/panels/build): the build of monthly panels from the stored
 * daily bars runs on a job worker with progress, and its counts are the job's result, so a
 * build longer than any request deadline neither fails the client nor loses its answer.
 * The panels and the job's success commit in one transaction (fd_job_succeed_tx). */
#ifndef FACTORD_BUILD_JOB_H
#define FACTORD_BUILD_JOB_H

#include <jansson.h>

#include "factord/daily.h"
#include "factord/jobs.h"

/* The "build_panels" job kind; its result is fd_daily_stats_json of the build. */
extern const fd_job_kind fd_job_kind_build_panels;

/* The job's params: {"from","to","outliers","max_abs_ret"}, each absent when defaulted. */
json_t *fd_build_params_json(const fd_daily_opts *opts);
/* Parses the query parameters of POST /v1/panels/build (any of from, to, outliers,
 * max_abs_ret, as strings; NULL = absent) into opts: 400 naming the parameter. */
int fd_build_params_parse(const char *from, const char *to, const char *outliers,
                          const char *max_abs_ret, fd_daily_opts *opts, fd_error *err);

#endif
