/* lambda: the factor premium behind every expected return, computed in one place.
 *
 * A version's factor history is its stored realisations (the training window and, since
 * the contract change, the validation window) followed by the realisations computed from
 * the stored panels of later months. lambda as of the end of month `asof` is the mean of
 * the history's rows the estimator admits:
 *   prevailing (the default)  every realisation of a month <= asof: training, validation
 *                             and realised months alike (the prevailing mean known at asof)
 *   training                  the training window's realisations only, whatever asof is
 *                             (the in-sample convention of Kelly, Pruitt and Su)
 * Expected returns made at the end of t use lambda as of t; the evaluation of return month
 * t uses lambda as of t-1, so the two agree for the same version and month. Every answer
 * that uses lambda states the estimator and the number of months (fd_lambda_info_json).
 *
 * Pure functions over caller-owned data; thread-safe. */
#ifndef FACTORD_LAMBDA_H
#define FACTORD_LAMBDA_H

#include <jansson.h>
#include <stddef.h>

#include "factord/error.h"
#include "factord/panel.h"

typedef enum { FD_LAMBDA_PREVAILING = 0, FD_LAMBDA_TRAINING = 1 } fd_lambda_estimator;

/* "prevailing" or "training"; NULL gives the default (prevailing); anything else 400
 * "bad_parameter" naming the parameter `what`. */
int fd_lambda_estimator_parse(const char *text, const char *what, fd_lambda_estimator *out,
                              fd_error *err);
const char *fd_lambda_estimator_name(fd_lambda_estimator est);

/* The windows a version was fitted on ("" for no validation). */
typedef struct fd_lambda_windows {
    char train_from[FD_MONTH_LEN], train_to[FD_MONTH_LEN];
    char valid_from[FD_MONTH_LEN], valid_to[FD_MONTH_LEN];
} fd_lambda_windows;

/* The windows of a version JSON as the store gives it ({"train":{"from","to"},
 * "valid":{...}|null}). */
void fd_lambda_windows_from_json(const json_t *version, fd_lambda_windows *w);

/* A factor history: T rows in ascending month order, plus the months after the stored
 * rows whose realisation could not be computed (no panels). Owns its arrays. */
typedef struct fd_factor_history {
    size_t T, K, cap;
    double *F;                    /* (T, K) row-major */
    char (*months)[FD_MONTH_LEN]; /* (T) */
    size_t n_skipped, cap_skipped;
    char (*skipped)[FD_MONTH_LEN];
} fd_factor_history;

void fd_factor_history_init(fd_factor_history *h, size_t K);
void fd_factor_history_free(fd_factor_history *h);
/* Appends row f (K) of `month` (after every row so far). 500 when out of memory. */
int fd_factor_history_push(fd_factor_history *h, const char *month, const double *f,
                           fd_error *err);
/* Appends rows F (T, K) of months (T). */
int fd_factor_history_append(fd_factor_history *h, const double *F,
                             const char (*months)[FD_MONTH_LEN], size_t T, fd_error *err);
/* Records a month without a realisation. */
int fd_factor_history_skip(fd_factor_history *h, const char *month, fd_error *err);
/* The last month of the history's rows, or "" when empty. */
const char *fd_factor_history_last(const fd_factor_history *h);

/* What a lambda is made of. */
typedef struct fd_lambda_info {
    fd_lambda_estimator estimator;
    char asof[FD_MONTH_LEN];
    size_t months;     /* realisations averaged = training + validation + realised */
    size_t training;   /* of months in the training window */
    size_t validation; /* of months in the validation window */
    size_t realised;   /* of later months (computed from stored panels) */
    size_t skipped;    /* later months up to asof without a realisation */
    char first[FD_MONTH_LEN], last[FD_MONTH_LEN]; /* months of the first and last row used */
} fd_lambda_info;

/* lambda (K) as of the end of `asof` under estimator est (see above). info may be NULL.
 * 422 "no_factor_history" when no row is admitted. */
int fd_lambda_estimate(const fd_factor_history *h, const char *asof, fd_lambda_estimator est,
                       const fd_lambda_windows *w, double *lambda, fd_lambda_info *info,
                       fd_error *err);

/* {"values":[K],"estimator","asof","months","training_months","validation_months",
 *  "realised_months","skipped_months","first","last","description"} (values omitted when
 * lambda is NULL). New reference. */
json_t *fd_lambda_info_json(const fd_lambda_info *info, const double *lambda, size_t K);

#endif
