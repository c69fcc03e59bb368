/* Monthly panels in the store: one `panels` row per month (names as JSON) plus its matrices
 * (values (n_rows, n_cols), ret and mktcap (n_rows, 1)), and the `securities` registry.
 * Replacing a month is delete + insert in one transaction; the schema trigger
 * panels_free_matrices drops the old month's matrices with its row. Reads: panels_read.c. */
#include <stdio.h>
#include <stdlib.h>

#include "factord/json_write.h"
#include "factord/matrix_blob.h"
#include "factord/panel_build.h"
#include "factord/store_data.h"

/* A JSON array text of n strings; 400 "bad_text" when one is not UTF-8. */
static char *names_json(char *const *names, size_t n, const char *what, fd_error *err) {
    json_t *arr = json_array();
    char *text = NULL;
    if (!arr) goto oom;
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_string(names[i]);
        if (!s) {
            json_decref(arr);
            fd_error_set(err, 400, "bad_text", "%s %zu is not valid UTF-8", what, i + 1);
            return NULL;
        }
        if (json_array_append_new(arr, s) != 0) goto oom;
    }
    text = fd_json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    if (!text) goto oom;
    return text;
oom:
    json_decref(arr);
    fd_error_set(err, 500, "out_of_memory", "encoding the panel's %s names", what);
    return NULL;
}

static int panel_check(const fd_panel *p, fd_error *err) {
    if (fd_month_parse(p->month, NULL, NULL, err) != 0) return -1;
    if ((p->n_rows && !p->ids) || (p->n_cols && !p->col_names) ||
        (p->n_rows && p->n_cols && !p->values))
        return fd_error_set(err, 500, "bad_panel", "panel %s has missing arrays", p->month);
    return 0;
}

/* Widens each security's [first_month, last_month] to include p->month. */
static int securities_upsert(fd_db *db, const fd_panel *p, fd_error *err) {
    sqlite3_stmt *st;
    int rc = 0;
    if (fd_db_prepare(db,
                      "INSERT INTO securities (id, first_month, last_month) VALUES (?1, ?2, ?2) "
                      "ON CONFLICT (id) DO UPDATE SET "
                      "first_month = min(first_month, excluded.first_month), "
                      "last_month = max(last_month, excluded.last_month)",
                      &st, err) != 0)
        return -1;
    sqlite3_bind_text(st, 2, p->month, -1, SQLITE_STATIC);
    for (size_t i = 0; i < p->n_rows && rc == 0; i++) {
        sqlite3_bind_text(st, 1, p->ids[i], -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) rc = fd_db_error(db, err, "recording securities");
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return rc;
}

static int panel_delete_row(fd_db *db, const char *month, int *deleted, fd_error *err) {
    sqlite3_stmt *st;
    int rc;
    if (fd_db_prepare(db, "DELETE FROM panels WHERE month = ?1", &st, err) != 0) return -1;
    sqlite3_bind_text(st, 1, month, -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fd_db_error(db, err, "deleting a panel");
    sqlite3_finalize(st);
    if (deleted) *deleted = sqlite3_changes(fd_db_handle(db)) > 0;
    return rc;
}

static int panel_insert_row(fd_db *db, const fd_panel *p, const char *cols, const char *ids,
                            const int64_t mid[3], fd_error *err) {
    sqlite3_stmt *st;
    int rc;
    if (fd_db_prepare(db,
                      "INSERT INTO panels (month, n_rows, n_cols, n_missing, columns, ids, "
                      "values_id, ret_id, mktcap_id, partial_through) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                      &st, err) != 0)
        return -1;
    sqlite3_bind_text(st, 1, p->month, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)p->n_rows);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)p->n_cols);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)fd_panel_missing_cells(p));
    sqlite3_bind_text(st, 5, cols, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, ids, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, mid[0]);
    if (p->ret) sqlite3_bind_int64(st, 8, mid[1]);
    if (p->mktcap) sqlite3_bind_int64(st, 9, mid[2]);
    if (p->partial_through[0]) sqlite3_bind_text(st, 10, p->partial_through, -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fd_db_error(db, err, "storing a panel");
    sqlite3_finalize(st);
    return rc;
}

int fd_store_panel_write(fd_db *db, const fd_panel *p, fd_error *err) {
    char *cols = NULL, *ids = NULL;
    int64_t mid[3] = {0, 0, 0}; /* matrix ids of values, ret, mktcap */
    int rc = -1;
    if (panel_check(p, err) != 0) return -1;
    if (!(cols = names_json(p->col_names, p->n_cols, "column", err))) goto done;
    if (!(ids = names_json(p->ids, p->n_rows, "security id on row", err))) goto done;
    if (panel_delete_row(db, p->month, NULL, err) != 0) goto done;
    if (fd_matrix_put(db, FD_DTYPE_F64, p->values, p->n_rows, p->n_cols, &mid[0], err) != 0)
        goto done;
    if (p->ret && fd_matrix_put(db, FD_DTYPE_F64, p->ret, p->n_rows, 1, &mid[1], err) != 0)
        goto done;
    if (p->mktcap && fd_matrix_put(db, FD_DTYPE_F64, p->mktcap, p->n_rows, 1, &mid[2], err) != 0)
        goto done;
    if (panel_insert_row(db, p, cols, ids, mid, err) != 0) goto done;
    rc = securities_upsert(db, p, err);
done:
    free(cols);
    free(ids);
    if (rc != 0) fd_error_prefix(err, "panel %s", p->month);
    return rc;
}

int fd_store_panel_put(fd_db *db, const fd_panel *p, fd_error *err) {
    if (fd_db_begin(db, err) != 0) return -1;
    if (fd_store_panel_write(db, p, err) != 0) {
        fd_db_rollback(db);
        return -1;
    }
    return fd_db_commit(db, err);
}

int fd_store_panel_delete(fd_db *db, const char *month, fd_error *err) {
    int deleted = 0;
    if (fd_month_parse(month, NULL, NULL, err) != 0) return -1;
    if (fd_db_begin(db, err) != 0) return -1;
    if (panel_delete_row(db, month, &deleted, err) != 0) {
        fd_db_rollback(db);
        return -1;
    }
    if (!deleted) {
        fd_db_rollback(db);
        return fd_error_set(err, 404, "no_panel", "no panel is stored for %s", month);
    }
    return fd_db_commit(db, err);
}

int fd_store_panel_months(fd_db *db, char (**months)[FD_MONTH_LEN], size_t *n, fd_error *err) {
    sqlite3_stmt *st;
    char (*out)[FD_MONTH_LEN] = NULL;
    size_t len = 0, cap = 0;
    int rc;
    *months = NULL;
    *n = 0;
    if (fd_db_prepare(db, "SELECT month FROM panels ORDER BY month", &st, err) != 0) return -1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            void *grown = realloc(out, ncap * sizeof *out);
            if (!grown) {
                rc = SQLITE_NOMEM;
                break;
            }
            out = grown;
            cap = ncap;
        }
        snprintf(out[len++], FD_MONTH_LEN, "%s", (const char *)sqlite3_column_text(st, 0));
    }
    if (rc != SQLITE_DONE) {
        if (rc == SQLITE_NOMEM) fd_error_set(err, 500, "out_of_memory", "listing panel months");
        else fd_db_error(db, err, "listing panel months");
        sqlite3_finalize(st);
        free(out);
        return -1;
    }
    sqlite3_finalize(st);
    *months = out;
    *n = len;
    return 0;
}
