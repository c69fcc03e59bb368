/* Helpers shared by the handlers that score with a pinned model version (h_score.c,
 * h_evaluation.c): the version addressed by ?version= (or ?label=; default latest), pinned
 * for the request's life together with a pooled store connection. Worker threads only. */
#ifndef FACTORD_HTTP_SERVING_H
#define FACTORD_HTTP_SERVING_H

#include "factord/http.h"
#include "factord/registry.h"
#include "factord/scoring.h"
#include "factord/store.h"

typedef struct serving {
    fd_db *db;
    fd_version *v;
    char label[72]; /* how the version was addressed: a label, "latest" (the default), or ""
                     * for an explicit version number */
} serving;

/* Acquires a connection and pins the version of model req->params[0]; counts the request
 * in factord_model_requests_total under the path's last segment (betas, deciles, ...). */
int serving_open(fd_request *req, serving *s, fd_error *err);
void serving_close(fd_request *req, serving *s);
/* The securities a request asks for: every row of the month, or the ?ids= list. Scores
 * are always computed on the whole month (rank normalisation is cross-sectional), then
 * these rows are reported. */
typedef struct selection {
    size_t *rows; /* (n) panel rows in the order asked */
    size_t n;
} selection;

/* score_csv.c: the CSV answers (200, text/csv; 500 when out of memory). */
/* id,<name>_1..<name>_cols (or id,<name> when cols is 1) for the selected rows of m
 * (n_rows, cols). */
void respond_matrix_csv(fd_response *resp, const fd_panel *p, const selection *sel,
                        const double *m, size_t cols, const char *name);
/* id,er,portfolio,weight from fd_scoring_deciles_json's document. */
void respond_deciles_csv(fd_response *resp, const json_t *doc);
/* id,beta_1..beta_K,er; beta (n_rows, K), er (n_rows). */
void respond_score_csv(fd_response *resp, const fd_panel *p, const double *beta, size_t K,
                       const double *er);

/* What every scoring answer states about itself, in headers (X-Factord-Model, -Version,
 * -Label, -Month, -Forecast-Month, -Lambda-Estimator, -Lambda-Months; those without a
 * value are left out) and in the returned "provenance" object {"model","version","label",
 * "month","forecast_month","lambda_estimator","lambda_months"} (nulls where they do not
 * apply). month: the month whose characteristics were scored (NULL for series);
 * forecast_month: the month the answer forecasts (NULL when none); li: the lambda used
 * (NULL when none; months 0 when the answer holds one lambda per month). */
json_t *serving_provenance(const serving *s, const char *month, const char *forecast_month,
                           const fd_lambda_info *li, fd_response *resp);
/* The query parameter `name` as a validated YYYY-MM (400 when absent or malformed). */
const char *month_param(fd_request *req, const char *name, fd_error *err);

#endif
