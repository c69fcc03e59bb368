/* `factord serve` glue for the job manager: every job kind the daemon runs, and the manager's
 * life inside fd_app. */
#include "factord/backtest.h"
#include "factord/build_job.h"
#include "factord/jobs.h"
#include "factord/log.h"
#include "factord/train.h"

/* The job kinds the daemon knows; a new kind (backtests) adds its line here. */
static const fd_job_kind *const daemon_job_kinds[] = {
    &fd_job_kind_train,
    &fd_job_kind_backtest,
    &fd_job_kind_build_panels,
    NULL,
};

int fd_jobs_start(fd_app *app, fd_error *err) {
    fd_jobs_opts opts = {.db_path = app->cfg.db_path,
                         .threads = app->cfg.training_threads > 0 ? app->cfg.training_threads : 1,
                         .blas_threads = app->cfg.blas_threads,
                         .flush_interval = 0.5,
                         .kinds = daemon_job_kinds};
    fd_jobs *jobs;
    if (fd_jobs_create(&opts, &jobs, err) != 0) return -1;
    app->jobs = jobs;
    fd_info("jobs: %d training thread(s), %d BLAS thread(s) each", opts.threads,
            opts.blas_threads);
    return 0;
}

void fd_jobs_stop(fd_app *app) {
    fd_jobs_destroy(app->jobs);
    app->jobs = NULL;
}
