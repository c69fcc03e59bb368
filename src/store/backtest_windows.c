/* Completed backtest windows (backtest_windows, migration 0004): each row is written in the
 * transaction that writes the window's model version, with the realised factors and lambdas
 * of its test months as two (T, K) f64 matrices. */
#include <stdlib.h>
#include <string.h>

#include "factord/json_write.h"
#include "factord/matrix_blob.h"
#include "factord/store_backtests.h"

void fd_backtest_window_result_free(fd_backtest_window_result *r) {
    free(r->months);
    free(r->f);
    free(r->lambda);
    json_decref(r->metrics);
    memset(r, 0, sizeof *r);
}

static void bind_month(sqlite3_stmt *st, int i, const char *m) {
    if (m && m[0]) sqlite3_bind_text(st, i, m, -1, SQLITE_STATIC);
}

int fd_store_backtest_window_insert_tx(fd_db *db, int64_t id, const fd_backtest_window *w,
                                       const fd_backtest_window_result *r, fd_error *err) {
    json_t *months = json_array();
    char *months_text = NULL, *metrics_text = NULL;
    int64_t f_id, lambda_id;
    sqlite3_stmt *st = NULL;
    int rc = -1;
    for (size_t t = 0; t < r->T; t++) json_array_append_new(months, json_string(r->months[t]));
    months_text = fd_json_dumps(months, JSON_COMPACT);
    metrics_text = fd_json_dumps(r->metrics, JSON_COMPACT);
    if (!months_text || !metrics_text) {
        fd_error_set(err, 500, "out_of_memory", "encoding backtest window");
        goto out;
    }
    if (fd_matrix_put(db, FD_DTYPE_F64, r->f, r->T, r->K, &f_id, err) != 0 ||
        fd_matrix_put(db, FD_DTYPE_F64, r->lambda, r->T, r->K, &lambda_id, err) != 0)
        goto out;
    if (fd_db_prepare(db,
                      "INSERT INTO backtest_windows (backtest_id, idx, train_from, train_to, "
                      "valid_from, valid_to, test_from, test_to, version, months, factors_id, "
                      "lambda_id, metrics) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      &st, err) != 0)
        goto out;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, w->idx);
    bind_month(st, 3, w->fit.train_from);
    bind_month(st, 4, w->fit.train_to);
    bind_month(st, 5, w->fit.valid_from);
    bind_month(st, 6, w->fit.valid_to);
    bind_month(st, 7, w->test_from);
    bind_month(st, 8, w->test_to);
    sqlite3_bind_int(st, 9, r->version);
    sqlite3_bind_text(st, 10, months_text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 11, f_id);
    sqlite3_bind_int64(st, 12, lambda_id);
    sqlite3_bind_text(st, 13, metrics_text, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_DONE) rc = 0;
    else if (sqlite3_extended_errcode(fd_db_handle(db)) == SQLITE_CONSTRAINT_PRIMARYKEY)
        fd_error_set(err, 409, "window_exists", "backtest %lld already recorded window %d",
                     (long long)id, w->idx);
    else fd_db_error(db, err, "inserting backtest window");
out:
    sqlite3_finalize(st);
    json_decref(months);
    free(months_text);
    free(metrics_text);
    return rc;
}

int fd_store_backtest_windows_done(fd_db *db, int64_t id, size_t *n, fd_error *err) {
    sqlite3_stmt *st;
    int rc;
    if (fd_db_prepare(db, "SELECT count(*) FROM backtest_windows WHERE backtest_id = ?", &st,
                      err) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *n = (size_t)sqlite3_column_int64(st, 0);
    else fd_db_error(db, err, "counting backtest windows");
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

/* Months of a JSON array text into a malloc'd array of keys. */
static int months_parse(const char *text, size_t T, char (**out)[FD_MONTH_LEN],
                        fd_error *err) {
    json_t *arr = text ? json_loads(text, 0, NULL) : NULL;
    int rc = 0;
    *out = calloc(T ? T : 1, sizeof **out);
    if (!*out) rc = fd_error_set(err, 500, "out_of_memory", "window months");
    else if (!json_is_array(arr) || json_array_size(arr) != T)
        rc = fd_error_set(err, 500, "corrupt_backtest", "window months do not match its "
                          "%zu factor rows", T);
    for (size_t t = 0; rc == 0 && t < T; t++)
        snprintf((*out)[t], FD_MONTH_LEN, "%s", json_string_value(json_array_get(arr, t)));
    json_decref(arr);
    return rc;
}

int fd_store_backtest_window_get(fd_db *db, int64_t id, int idx,
                                 fd_backtest_window_result *out, fd_error *err) {
    sqlite3_stmt *st;
    int64_t f_id = 0, lambda_id = 0;
    size_t rows = 0, cols = 0, rows2 = 0, cols2 = 0;
    int rc = -1, step;
    memset(out, 0, sizeof *out);
    if (fd_db_prepare(db,
                      "SELECT version, months, factors_id, lambda_id, metrics FROM "
                      "backtest_windows WHERE backtest_id = ? AND idx = ?",
                      &st, err) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, idx);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        const char *metrics = (const char *)sqlite3_column_text(st, 4);
        out->version = sqlite3_column_int(st, 0);
        f_id = sqlite3_column_int64(st, 2);
        lambda_id = sqlite3_column_int64(st, 3);
        out->metrics = metrics ? json_loads(metrics, 0, NULL) : NULL;
        rc = fd_matrix_get_f64(db, f_id, &out->f, &rows, &cols, err) == 0 &&
                     fd_matrix_get_f64(db, lambda_id, &out->lambda, &rows2, &cols2, err) == 0
                 ? 0
                 : -1;
        if (rc == 0 && (rows != rows2 || cols != cols2))
            rc = fd_error_set(err, 500, "corrupt_backtest", "window %d: factors (%zu, %zu) and "
                              "lambdas (%zu, %zu) differ in shape", idx, rows, cols, rows2, cols2);
        out->T = rows;
        out->K = cols;
        if (rc == 0) rc = months_parse((const char *)sqlite3_column_text(st, 1), rows,
                                       &out->months, err);
    } else if (step == SQLITE_DONE) {
        fd_error_set(err, 404, "no_window", "backtest %lld has no completed window %d",
                     (long long)id, idx);
    } else {
        fd_db_error(db, err, "reading backtest window");
    }
    sqlite3_finalize(st);
    if (rc != 0) fd_backtest_window_result_free(out);
    return rc;
}
