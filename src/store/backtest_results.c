/* The stitched result of a backtest: its metrics report (backtests.report) and one
 * backtest_returns row per test month, written together with the job's success. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/json_write.h"
#include "factord/store_backtests.h"

int fd_store_backtest_finish_tx(fd_db *db, const fd_report_entry *e, fd_error *err) {
    char *report = fd_json_dumps(e->report, JSON_COMPACT);
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (!report) return fd_error_set(err, 500, "out_of_memory", "encoding backtest report");
    if (fd_db_prepare(db, "DELETE FROM backtest_returns WHERE backtest_id = ?", &st, err) != 0)
        goto out;
    sqlite3_bind_int64(st, 1, e->id);
    if (sqlite3_step(st) != SQLITE_DONE) {
        fd_db_error(db, err, "replacing backtest returns");
        goto out;
    }
    sqlite3_finalize(st);
    if (fd_db_prepare(db,
                      "INSERT INTO backtest_returns (backtest_id, month, window_idx, ew_ls, "
                      "ew_ls_net, ew_lo, ew_lo_net, vw_ls, vw_ls_net, vw_lo, vw_lo_net, ic, "
                      "rank_ic) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      &st, err) != 0)
        goto out;
    for (size_t t = 0; t < e->T; t++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, e->id);
        sqlite3_bind_text(st, 2, e->months[t], -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, e->window[t]);
        for (int s = 0; s < FD_REPORT_N_SERIES; s++) {
            double v = e->series[t * FD_REPORT_N_SERIES + s];
            /* NULL for missing: SQLite would store NaN as NULL anyway, say so explicitly. */
            if (isfinite(v)) sqlite3_bind_double(st, 4 + s, v);
            else sqlite3_bind_null(st, 4 + s);
        }
        if (sqlite3_step(st) != SQLITE_DONE) {
            fd_db_error(db, err, "inserting backtest returns");
            goto out;
        }
    }
    sqlite3_finalize(st);
    if (fd_db_prepare(db,
                      "UPDATE backtests SET report = ?, finished_at = "
                      "strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?",
                      &st, err) != 0)
        goto out;
    sqlite3_bind_text(st, 1, report, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, e->id);
    if (sqlite3_step(st) != SQLITE_DONE) fd_db_error(db, err, "writing backtest report");
    else if (sqlite3_changes(fd_db_handle(db)) != 1)
        fd_error_set(err, 404, "no_backtest", "no backtest %lld", (long long)e->id);
    else rc = 0;
out:
    sqlite3_finalize(st);
    free(report);
    return rc;
}

/* Reads the backtest row into e (identity and report); 409 while no report is stored. */
static int result_head(fd_db *db, int64_t id, fd_report_entry *e, size_t *T, fd_error *err) {
    sqlite3_stmt *st;
    int rc = -1, step;
    if (fd_db_prepare(db,
                      "SELECT name, kind, k, report, (SELECT count(*) FROM backtest_returns r "
                      "WHERE r.backtest_id = b.id) FROM backtests b WHERE id = ?",
                      &st, err) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW && sqlite3_column_type(st, 3) == SQLITE_NULL) {
        fd_error_set(err, 409, "backtest_not_finished", "backtest %lld (%s) has not finished: "
                     "its windows are still running, or it failed or was cancelled",
                     (long long)id, (const char *)sqlite3_column_text(st, 0));
    } else if (step == SQLITE_ROW) {
        e->id = id;
        snprintf(e->name, sizeof e->name, "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(e->kind, sizeof e->kind, "%s", (const char *)sqlite3_column_text(st, 1));
        e->k = (size_t)sqlite3_column_int64(st, 2);
        e->report = json_loads((const char *)sqlite3_column_text(st, 3), 0, NULL);
        *T = (size_t)sqlite3_column_int64(st, 4);
        rc = e->report ? 0 : fd_error_set(err, 500, "corrupt_backtest", "backtest %lld: "
                                          "stored report is not JSON", (long long)id);
    } else if (step == SQLITE_DONE) {
        fd_error_set(err, 404, "no_backtest", "no backtest %lld", (long long)id);
    } else {
        fd_db_error(db, err, "reading backtest");
    }
    sqlite3_finalize(st);
    return rc;
}

static int result_rows(fd_db *db, fd_report_entry *e, size_t T, fd_error *err) {
    sqlite3_stmt *st;
    size_t t = 0;
    int rc;
    e->months = calloc(T ? T : 1, sizeof *e->months);
    e->window = calloc(T ? T : 1, sizeof *e->window);
    e->series = calloc((T ? T : 1) * FD_REPORT_N_SERIES, sizeof *e->series);
    if (!e->months || !e->window || !e->series)
        return fd_error_set(err, 500, "out_of_memory", "backtest returns");
    if (fd_db_prepare(db,
                      "SELECT month, window_idx, ew_ls, ew_ls_net, ew_lo, ew_lo_net, vw_ls, "
                      "vw_ls_net, vw_lo, vw_lo_net, ic, rank_ic FROM backtest_returns WHERE "
                      "backtest_id = ? ORDER BY month",
                      &st, err) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, e->id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && t < T) {
        snprintf(e->months[t], FD_MONTH_LEN, "%s", (const char *)sqlite3_column_text(st, 0));
        e->window[t] = sqlite3_column_int(st, 1);
        for (int s = 0; s < FD_REPORT_N_SERIES; s++)
            e->series[t * FD_REPORT_N_SERIES + s] =
                sqlite3_column_type(st, 2 + s) == SQLITE_NULL ? NAN
                                                               : sqlite3_column_double(st, 2 + s);
        t++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return fd_db_error(db, err, "reading returns");
    e->T = t;
    return 0;
}

int fd_store_backtest_result(fd_db *db, int64_t id, fd_report_entry *out, fd_error *err) {
    size_t T = 0;
    int began = 0, rc = -1;
    memset(out, 0, sizeof *out);
    if (fd_db_begin_read(db, &began, err) != 0) return -1;
    if (result_head(db, id, out, &T, err) == 0 && result_rows(db, out, T, err) == 0) rc = 0;
    fd_db_end_read(db, began);
    if (rc != 0) fd_report_entry_free(out);
    return rc;
}

int fd_store_backtest_resolve(fd_db *db, const char *ref, int64_t *id, fd_error *err) {
    char *end;
    long long v = strtoll(ref, &end, 10);
    if (ref[0] >= '0' && ref[0] <= '9' && *end == '\0') {
        sqlite3_stmt *st;
        int rc;
        if (fd_db_prepare(db, "SELECT 1 FROM backtests WHERE id = ?", &st, err) != 0) return -1;
        sqlite3_bind_int64(st, 1, v);
        rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc == SQLITE_ROW) {
            *id = v;
            return 0;
        }
        if (rc != SQLITE_DONE) return fd_db_error(db, err, "finding backtest");
        return fd_error_set(err, 404, "no_backtest", "no backtest %lld", v);
    }
    return fd_store_backtest_find(db, ref, id, err);
}

int fd_store_backtest_results(fd_db *db, const char *list, fd_report_entry **out, size_t *n,
                              fd_error *err) {
    char *copy = strdup(list ? list : ""), *save = NULL;
    fd_report_entry *e = calloc(FD_BACKTEST_MAX_COMPARE, sizeof *e);
    size_t count = 0;
    int rc = -1;
    *out = NULL;
    *n = 0;
    if (!copy || !e) {
        fd_error_set(err, 500, "out_of_memory", "backtest list");
        goto out;
    }
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int64_t id;
        if (count == FD_BACKTEST_MAX_COMPARE) {
            fd_error_set(err, 400, "bad_parameter", "backtests: at most %d at once",
                         FD_BACKTEST_MAX_COMPARE);
            goto out;
        }
        if (fd_store_backtest_resolve(db, tok, &id, err) != 0 ||
            fd_store_backtest_result(db, id, &e[count], err) != 0) {
            fd_error_prefix(err, "backtests: \"%s\"", tok);
            goto out;
        }
        for (size_t i = 0; i < count; i++)
            if (e[i].id == id) {
                fd_report_entry_free(&e[count]);
                fd_error_set(err, 400, "bad_parameter", "backtests: %lld is listed twice",
                             (long long)id);
                goto out;
            }
        count++;
    }
    if (count == 0) {
        fd_error_set(err, 400, "bad_parameter", "backtests: expected a comma-separated list "
                     "of backtest ids or names");
        goto out;
    }
    *out = e;
    *n = count;
    e = NULL;
    rc = 0;
out:
    for (size_t i = 0; e && i < count; i++) fd_report_entry_free(&e[i]);
    free(e);
    free(copy);
    return rc;
}
