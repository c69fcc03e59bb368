/* The one lambda (see include/factord/lambda.h). */
#include "factord/lambda.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[] = {"prevailing", "training"};

int fd_lambda_estimator_parse(const char *text, const char *what, fd_lambda_estimator *out,
                              fd_error *err) {
    *out = FD_LAMBDA_PREVAILING;
    if (!text) return 0;
    for (int i = 0; i < 2; i++)
        if (strcmp(text, names[i]) == 0) return (*out = (fd_lambda_estimator)i), 0;
    return fd_error_set(err, 400, "bad_parameter",
                        "%s must be prevailing or training, got \"%.40s\"", what, text);
}

const char *fd_lambda_estimator_name(fd_lambda_estimator est) { return names[est]; }

static void window_of(const json_t *win, char *from, char *to) {
    const char *f = json_string_value(json_object_get(win, "from"));
    const char *t = json_string_value(json_object_get(win, "to"));
    snprintf(from, FD_MONTH_LEN, "%s", f && t ? f : "");
    snprintf(to, FD_MONTH_LEN, "%s", f && t ? t : "");
}

void fd_lambda_windows_from_json(const json_t *version, fd_lambda_windows *w) {
    window_of(json_object_get(version, "train"), w->train_from, w->train_to);
    window_of(json_object_get(version, "valid"), w->valid_from, w->valid_to);
}

void fd_factor_history_init(fd_factor_history *h, size_t K) {
    memset(h, 0, sizeof *h);
    h->K = K;
}

void fd_factor_history_free(fd_factor_history *h) {
    free(h->F);
    free(h->months);
    free(h->skipped);
    fd_factor_history_init(h, h->K);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q) return -1;
    *p = q;
    *cap = c;
    return 0;
}

int fd_factor_history_append(fd_factor_history *h, const double *F,
                             const char (*months)[FD_MONTH_LEN], size_t T, fd_error *err) {
    size_t cap = h->cap;
    if (grow((void **)&h->months, &cap, h->T + T, sizeof *h->months) ||
        grow((void **)&h->F, &h->cap, h->T + T, h->K * sizeof *h->F))
        return fd_error_set(err, 500, "out_of_memory", "factor history");
    memcpy(h->F + h->T * h->K, F, T * h->K * sizeof *h->F);
    memcpy(h->months + h->T, months, T * sizeof *h->months);
    h->T += T;
    return 0;
}

int fd_factor_history_push(fd_factor_history *h, const char *month, const double *f,
                           fd_error *err) {
    char key[1][FD_MONTH_LEN];
    snprintf(key[0], FD_MONTH_LEN, "%s", month);
    return fd_factor_history_append(h, f, (const char (*)[FD_MONTH_LEN])key, 1, err);
}

int fd_factor_history_skip(fd_factor_history *h, const char *month, fd_error *err) {
    if (grow((void **)&h->skipped, &h->cap_skipped, h->n_skipped + 1, sizeof *h->skipped))
        return fd_error_set(err, 500, "out_of_memory", "factor history");
    snprintf(h->skipped[h->n_skipped++], FD_MONTH_LEN, "%s", month);
    return 0;
}

const char *fd_factor_history_last(const fd_factor_history *h) {
    return h->T ? h->months[h->T - 1] : "";
}

static int in_window(const char *m, const char *from, const char *to) {
    return from[0] && strcmp(m, from) >= 0 && strcmp(m, to) <= 0;
}

int fd_lambda_estimate(const fd_factor_history *h, const char *asof, fd_lambda_estimator est,
                       const fd_lambda_windows *w, double *lambda, fd_lambda_info *info,
                       fd_error *err) {
    fd_lambda_info li;
    size_t K = h->K;
    memset(&li, 0, sizeof li);
    li.estimator = est;
    snprintf(li.asof, sizeof li.asof, "%s", asof);
    for (size_t k = 0; k < K; k++) lambda[k] = 0.0;
    for (size_t t = 0; t < h->T; t++) {
        const char *m = h->months[t];
        int train = in_window(m, w->train_from, w->train_to);
        if (est == FD_LAMBDA_TRAINING ? !train : strcmp(m, asof) > 0) continue;
        for (size_t k = 0; k < K; k++) lambda[k] += h->F[t * K + k];
        if (!li.months++) snprintf(li.first, sizeof li.first, "%s", m);
        snprintf(li.last, sizeof li.last, "%s", m);
        if (train) li.training++;
        else if (in_window(m, w->valid_from, w->valid_to)) li.validation++;
        else li.realised++;
    }
    for (size_t i = 0; est == FD_LAMBDA_PREVAILING && i < h->n_skipped; i++)
        li.skipped += strcmp(h->skipped[i], asof) <= 0;
    if (info) *info = li;
    if (!li.months)
        return fd_error_set(err, 422, "no_factor_history",
                            "no factor realisation is known at %s for the %s estimator", asof,
                            names[est]);
    for (size_t k = 0; k < K; k++) lambda[k] /= (double)li.months;
    return 0;
}

json_t *fd_lambda_info_json(const fd_lambda_info *li, const double *lambda, size_t K) {
    char text[320];
    json_t *j;
    if (li->estimator == FD_LAMBDA_TRAINING)
        snprintf(text, sizeof text,
                 "mean of the %zu factor realisations of the training window (%s..%s)",
                 li->months, li->first, li->last);
    else
        snprintf(text, sizeof text,
                 "prevailing mean of the %zu factor realisations known at the end of %s: %zu "
                 "training, %zu validation and %zu later months (%zu later months without "
                 "panels skipped)", li->months, li->asof, li->training, li->validation,
                 li->realised, li->skipped);
    j = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:s,s:s,s:s}", "estimator",
                  names[li->estimator], "asof", li->asof, "months", (json_int_t)li->months,
                  "training_months", (json_int_t)li->training, "validation_months",
                  (json_int_t)li->validation, "realised_months", (json_int_t)li->realised,
                  "skipped_months", (json_int_t)li->skipped, "first", li->first, "last",
                  li->last, "description", text);
    if (j && lambda) {
        json_t *v = json_array();
        for (size_t k = 0; k < K; k++)
            json_array_append_new(v, isfinite(lambda[k]) ? json_real(lambda[k]) : json_null());
        json_object_set_new(j, "values", v);
    }
    return j;
}
