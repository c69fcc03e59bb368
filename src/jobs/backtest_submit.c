/* Starting a backtest and describing one: shared by POST /v1/backtests and the CLI (see
 * factord/backtest.h). */
#include <stdlib.h>
#include <string.h>

#include "factord/store_backtests.h"
#include "factord/store_data.h"
#include "factord/store_models.h"

/* The earliest month a training block may start (the month after the first stored panel)
 * and the latest month with stored returns; "" when there is none. */
static int data_range(fd_db *db, char first[FD_MONTH_LEN], char last[FD_MONTH_LEN],
                      fd_error *err) {
    json_t *list, *p;
    size_t i;
    first[0] = last[0] = '\0';
    if (fd_store_panel_list(db, &list, err) != 0) return -1;
    json_array_foreach(list, i, p) {
        const char *month = json_string_value(json_object_get(p, "month"));
        if (!month) continue;
        if (!first[0]) fd_month_add(month, 1, first);
        if (json_is_true(json_object_get(p, "has_ret"))) snprintf(last, FD_MONTH_LEN, "%s", month);
    }
    json_decref(list);
    return 0;
}

/* Resolves the spec against the stored panels and lays out its windows; 422 when they do
 * not fit or a month they need is not stored. */
static int plan_against_store(fd_db *db, fd_backtest_spec *s, fd_backtest_window **w,
                              size_t *n, fd_error *err) {
    char first[FD_MONTH_LEN], last[FD_MONTH_LEN];
    fd_train_windows span;
    if (data_range(db, first, last, err) != 0 || fd_backtest_resolve(s, first, last, err) != 0 ||
        fd_backtest_plan(s, w, n, err) != 0)
        return -1;
    /* Every month from start-1 to the last test month must be stored. */
    memset(&span, 0, sizeof span);
    memcpy(span.train_from, s->start, FD_MONTH_LEN);
    memcpy(span.train_to, (*w)[*n - 1].test_to, FD_MONTH_LEN);
    if (fd_train_windows_check(db, &span, err) != 0) {
        free(*w);
        *w = NULL;
        return -1;
    }
    return 0;
}

int fd_backtest_submit(fd_jobs *jobs, fd_db *db, const json_t *body, json_t **out,
                       fd_error *err) {
    fd_backtest_spec spec;
    fd_backtest_window *windows = NULL;
    json_t *params = NULL, *job = NULL;
    size_t n = 0;
    int64_t id = 0;
    int rc = -1;
    if (out) *out = NULL;
    if (fd_backtest_spec_parse(body, &spec, err) != 0 ||
        plan_against_store(db, &spec, &windows, &n, err) != 0)
        goto out;
    if (fd_store_backtest_find(db, spec.name, &id, NULL) == 0) {
        fd_error_set(err, 409, "backtest_exists", "name: a backtest named \"%s\" exists (id %lld)",
                     spec.name, (long long)id);
        goto out;
    }
    if (fd_store_model_create(db, spec.name, spec.kind, spec.k, spec.model_spec, NULL, err) != 0) {
        if (err && err->status == 409)
            fd_error_prefix(err, "name: the backtest's refits are versions of a model named "
                            "like it");
        goto out;
    }
    params = fd_backtest_spec_json(&spec);
    if (fd_jobs_submit(jobs, db, "backtest", spec.name, params, &job, err) != 0) {
        fd_store_model_delete(db, spec.name, 1, NULL);
        goto out;
    }
    id = json_integer_value(json_object_get(job, "id"));
    if (fd_store_backtest_create(db, id, &spec, n, err) != 0) {
        fd_jobs_cancel(jobs, db, id, NULL, NULL);
        fd_store_model_delete(db, spec.name, 1, NULL);
        goto out;
    }
    if (out && fd_backtest_get(db, id, out, err) != 0) goto out;
    rc = 0;
out:
    json_decref(params);
    json_decref(job);
    free(windows);
    fd_backtest_spec_free(&spec);
    return rc;
}

static json_t *span_json(const char *from, const char *to) {
    return from[0] ? json_pack("{s:s,s:s}", "from", from, "to", to) : json_null();
}

/* Appends the windows the store has not recorded yet, from the stored spec's plan. */
static int add_pending(json_t *bt, fd_error *err) {
    json_t *list = json_object_get(bt, "windows");
    const char *state = json_string_value(json_object_get(bt, "state"));
    fd_backtest_spec spec;
    fd_backtest_window *w = NULL;
    size_t n = 0, done = json_array_size(list);
    int rc = -1;
    if (fd_backtest_spec_parse(json_object_get(bt, "spec"), &spec, err) == 0 &&
        fd_backtest_plan(&spec, &w, &n, err) == 0) {
        for (size_t i = done; i < n; i++) {
            int running = i == done && state && strcmp(state, "running") == 0;
            json_array_append_new(
                list, json_pack("{s:i,s:o,s:o,s:o,s:s}", "idx", w[i].idx, "train",
                                span_json(w[i].fit.train_from, w[i].fit.train_to), "valid",
                                span_json(w[i].fit.valid_from, w[i].fit.valid_to), "test",
                                span_json(w[i].test_from, w[i].test_to), "status",
                                running ? "running" : "pending"));
        }
        rc = 0;
    }
    free(w);
    fd_backtest_spec_free(&spec);
    return rc;
}

int fd_backtest_get(fd_db *db, int64_t id, json_t **out, fd_error *err) {
    if (fd_store_backtest_get(db, id, out, err) != 0) return -1;
    if (add_pending(*out, err) != 0) {
        json_decref(*out);
        *out = NULL;
        return fd_error_prefix(err, "backtest %lld: stored spec", (long long)id);
    }
    return 0;
}
