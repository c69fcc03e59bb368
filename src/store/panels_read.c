/* Reading monthly panels back from the store (writes: panels.c). Each read runs in one read
 * transaction, so a concurrent replace of the month is seen wholly or not at all. */
#include <stdlib.h>
#include <string.h>

#include "factord/matrix_blob.h"
#include "factord/store_data.h"

/* Parses a stored JSON array of n strings into a malloc'd array of malloc'd strings. */
static int names_parse(const char *text, size_t n, char ***out, const char *month,
                       const char *what, fd_error *err) {
    json_t *arr = json_loads(text ? text : "", 0, NULL);
    char **names = NULL;
    int rc = -1;
    *out = NULL;
    if (!json_is_array(arr) || json_array_size(arr) != n) {
        fd_error_set(err, 500, "corrupt_panel", "panel %s: stored %s list is not %zu names",
                     month, what, n);
        goto done;
    }
    if (n && !(names = calloc(n, sizeof *names))) goto oom;
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(arr, i));
        if (!s) {
            fd_error_set(err, 500, "corrupt_panel", "panel %s: %s %zu is not a string", month,
                         what, i + 1);
            goto fail;
        }
        if (!(names[i] = strdup(s))) goto oom;
    }
    *out = names;
    rc = 0;
    goto done;
oom:
    fd_error_set(err, 500, "out_of_memory", "panel %s: reading %s names", month, what);
fail:
    for (size_t i = 0; names && i < n; i++) free(names[i]);
    free(names);
done:
    json_decref(arr);
    return rc;
}

/* Allocates *out (rows, cols) and reads matrix id into it. */
static int read_matrix(fd_db *db, sqlite3_int64 id, size_t rows, size_t cols, double **out,
                       fd_error *err) {
    size_t n = rows * cols;
    if (n && !(*out = malloc(n * sizeof **out)))
        return fd_error_set(err, 500, "out_of_memory", "matrix %lld: (%zu, %zu)", (long long)id,
                            rows, cols);
    return fd_matrix_read(db, id, FD_DTYPE_F64, *out, rows, cols, err);
}

/* Fills out from the panels row under st (columns as selected in fd_store_panel_get). */
static int panel_load(fd_db *db, sqlite3_stmt *st, fd_panel *out, fd_error *err) {
    sqlite3_int64 rows = sqlite3_column_int64(st, 0), cols = sqlite3_column_int64(st, 1);
    if (rows < 0 || cols < 0)
        return fd_error_set(err, 500, "corrupt_panel", "panel %s: bad shape", out->month);
    if (names_parse((const char *)sqlite3_column_text(st, 2), (size_t)cols, &out->col_names,
                    out->month, "column", err) != 0)
        return -1;
    out->n_cols = (size_t)cols;
    if (names_parse((const char *)sqlite3_column_text(st, 3), (size_t)rows, &out->ids,
                    out->month, "security id", err) != 0)
        return -1;
    out->n_rows = (size_t)rows;
    if (read_matrix(db, sqlite3_column_int64(st, 4), out->n_rows, out->n_cols, &out->values,
                    err) != 0)
        return -1;
    if (sqlite3_column_type(st, 5) != SQLITE_NULL &&
        read_matrix(db, sqlite3_column_int64(st, 5), out->n_rows, 1, &out->ret, err) != 0)
        return -1;
    if (sqlite3_column_type(st, 6) != SQLITE_NULL &&
        read_matrix(db, sqlite3_column_int64(st, 6), out->n_rows, 1, &out->mktcap, err) != 0)
        return -1;
    if (sqlite3_column_type(st, 7) == SQLITE_TEXT)
        snprintf(out->partial_through, sizeof out->partial_through, "%s",
                 (const char *)sqlite3_column_text(st, 7));
    return 0;
}

int fd_store_panel_get(fd_db *db, const char *month, fd_panel *out, fd_error *err) {
    sqlite3_stmt *st = NULL;
    int began, rc = -1, step;
    fd_panel_init(out);
    if (fd_month_parse(month, NULL, NULL, err) != 0) return -1;
    memcpy(out->month, month, FD_MONTH_LEN);
    if (fd_db_begin_read(db, &began, err) != 0) return -1;
    if (fd_db_prepare(db,
                      "SELECT n_rows, n_cols, columns, ids, values_id, ret_id, mktcap_id, "
                      "partial_through FROM panels WHERE month = ?1",
                      &st, err) != 0)
        goto done;
    sqlite3_bind_text(st, 1, month, -1, SQLITE_STATIC);
    step = sqlite3_step(st);
    if (step == SQLITE_DONE)
        fd_error_set(err, 404, "no_panel", "no panel is stored for %s", month);
    else if (step != SQLITE_ROW)
        fd_db_error(db, err, "reading a panel");
    else
        rc = panel_load(db, st, out, err);
done:
    sqlite3_finalize(st);
    fd_db_end_read(db, began);
    if (rc != 0) fd_panel_free(out);
    return rc;
}

/* One element of the list: {"month","rows","columns","missing","has_ret","has_mktcap",
 * "updated_at","partial_through"}, or NULL when out of memory or the stored columns are not
 * JSON. partial_through is null for a complete month. */
static json_t *list_item(sqlite3_stmt *st) {
    json_t *cols = json_loads((const char *)sqlite3_column_text(st, 2), 0, NULL);
    if (!cols) return NULL;
    return json_pack("{s:s, s:I, s:o, s:I, s:b, s:b, s:s, s:s?}",
                     "month", (const char *)sqlite3_column_text(st, 0),
                     "rows", (json_int_t)sqlite3_column_int64(st, 1),
                     "columns", cols,
                     "missing", (json_int_t)sqlite3_column_int64(st, 3),
                     "has_ret", sqlite3_column_int(st, 4),
                     "has_mktcap", sqlite3_column_int(st, 5),
                     "updated_at", (const char *)sqlite3_column_text(st, 6),
                     "partial_through", (const char *)sqlite3_column_text(st, 7));
}

int fd_store_panel_list(fd_db *db, json_t **out, fd_error *err) {
    sqlite3_stmt *st;
    json_t *arr = json_array();
    int step;
    *out = NULL;
    if (!arr) return fd_error_set(err, 500, "out_of_memory", "listing panels");
    if (fd_db_prepare(db,
                      "SELECT month, n_rows, columns, n_missing, ret_id IS NOT NULL, "
                      "mktcap_id IS NOT NULL, updated_at, partial_through FROM panels "
                      "ORDER BY month",
                      &st, err) != 0) {
        json_decref(arr);
        return -1;
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *item = list_item(st);
        if (!item || json_array_append_new(arr, item) != 0) {
            fd_error_set(err, 500, "corrupt_panel", "listing panels: cannot encode month %s",
                         (const char *)sqlite3_column_text(st, 0));
            break;
        }
    }
    if (step != SQLITE_DONE && step != SQLITE_ROW) fd_db_error(db, err, "listing panels");
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) {
        json_decref(arr);
        return -1;
    }
    *out = arr;
    return 0;
}

int fd_store_panel_columns(fd_db *db, const char *month, json_t **out, fd_error *err) {
    sqlite3_stmt *st;
    int step;
    *out = NULL;
    if (fd_db_prepare(db, "SELECT columns FROM panels WHERE month = ?1", &st, err) != 0)
        return -1;
    sqlite3_bind_text(st, 1, month, -1, SQLITE_STATIC);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *out = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
        if (!json_is_array(*out)) {
            json_decref(*out);
            *out = NULL;
            fd_error_set(err, 500, "corrupt_panel", "the stored columns of %s are not a list",
                         month);
        }
    } else if (step == SQLITE_DONE) {
        fd_error_set(err, 404, "no_panel", "no panel for %s", month);
    } else {
        fd_db_error(db, err, "reading panel columns");
    }
    sqlite3_finalize(st);
    return *out ? 0 : -1;
}

int fd_store_panel_partial_warnings(fd_db *db, const char *from, const char *to,
                                    json_t *warnings, fd_error *err) {
    sqlite3_stmt *st;
    int step;
    if (!json_is_array(warnings)) return 0;
    if (fd_db_prepare(db,
                      "SELECT month, partial_through FROM panels WHERE partial_through IS NOT "
                      "NULL AND (?1 IS NULL OR month >= ?1) AND (?2 IS NULL OR month <= ?2) "
                      "ORDER BY month",
                      &st, err) != 0)
        return -1;
    if (from) sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
    if (to) sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *month = (const char *)sqlite3_column_text(st, 0);
        const char *through = (const char *)sqlite3_column_text(st, 1);
        char message[200];
        snprintf(message, sizeof message,
                 "the returns of %s are partial: its daily bars end on %s, so they are used "
                 "here as if realised; rebuild the panels once the month is complete",
                 month, through);
        json_array_append_new(warnings, json_pack("{s:s,s:s,s:s,s:s}", "code", "partial_month",
                                                  "month", month, "through", through,
                                                  "message", message));
    }
    int rc = step == SQLITE_DONE ? 0 : fd_db_error(db, err, "looking for partial months");
    sqlite3_finalize(st);
    return rc;
}
