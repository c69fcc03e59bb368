/* Job metrics for /metrics (job_metrics.c): durations by kind and outcome, epochs by kind.
 * Any thread. */
#ifndef FACTORD_JOB_METRICS_H
#define FACTORD_JOB_METRICS_H

/* Adds the collector (idempotent) with zero series for the train and backtest kinds. */
void fd_job_metrics_register(void);
/* outcome: succeeded, failed, cancelled or requeued (stopped for a restart). */
void fd_job_metrics_finished(const char *kind, const char *outcome, double seconds);
/* One epoch (or ALS iteration) reported by a fit of a job of this kind. */
void fd_job_metrics_epoch(const char *kind);

#endif
