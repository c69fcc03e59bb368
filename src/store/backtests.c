/* Backtest rows (migration 0004): create, find, show and list. The state, progress and
 * error of a backtest are its job's (same id), joined in here; completed windows come from
 * backtest_windows (src/store/backtest_windows.c). */
#include <stdlib.h>
#include <string.h>

#include "factord/json_write.h"
#include "factord/store_backtests.h"

static json_t *text_json(sqlite3_stmt *st, int i) {
    const char *s = (const char *)sqlite3_column_text(st, i);
    json_t *v = s ? json_loads(s, JSON_DECODE_ANY, NULL) : NULL;
    return v ? v : json_null();
}

static json_t *text_or_null(sqlite3_stmt *st, int i) {
    const char *s = (const char *)sqlite3_column_text(st, i);
    return s ? json_string(s) : json_null();
}

int fd_store_backtest_create(fd_db *db, int64_t id, const fd_backtest_spec *s,
                             size_t n_windows, fd_error *err) {
    json_t *spec = fd_backtest_spec_json(s);
    char *text = fd_json_dumps(spec, JSON_COMPACT);
    sqlite3_stmt *st = NULL;
    int rc = -1, step;
    json_decref(spec);
    if (!text) return fd_error_set(err, 500, "out_of_memory", "encoding backtest");
    if (fd_db_prepare(db,
                      "INSERT INTO backtests (id, name, model, kind, k, spec, n_windows) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                      &st, err) != 0)
        goto out;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, s->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, s->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, s->kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)s->k);
    sqlite3_bind_text(st, 6, text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)n_windows);
    step = sqlite3_step(st);
    if (step == SQLITE_DONE) rc = 0;
    else if (sqlite3_extended_errcode(fd_db_handle(db)) == SQLITE_CONSTRAINT_UNIQUE)
        fd_error_set(err, 409, "backtest_exists", "name: a backtest named \"%s\" exists", s->name);
    else fd_db_error(db, err, "inserting backtest");
out:
    sqlite3_finalize(st);
    free(text);
    return rc;
}

int fd_store_backtest_find(fd_db *db, const char *name, int64_t *id, fd_error *err) {
    sqlite3_stmt *st;
    int rc;
    if (fd_db_prepare(db, "SELECT id FROM backtests WHERE name = ?", &st, err) != 0) return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *id = sqlite3_column_int64(st, 0);
    else if (rc == SQLITE_DONE) fd_error_set(err, 404, "no_backtest", "no backtest \"%s\"", name);
    else fd_db_error(db, err, "finding backtest");
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

#define BACKTEST_SELECT                                                                       \
    "SELECT b.id, b.name, b.model, b.kind, b.k, b.n_windows, "                               \
    "(SELECT count(*) FROM backtest_windows w WHERE w.backtest_id = b.id), "                 \
    "coalesce(j.state, 'failed'), coalesce(j.progress, 0), coalesce(j.cancel_requested, 0), " \
    "j.error, b.created_at, b.finished_at, b.spec "                                          \
    "FROM backtests b LEFT JOIN jobs j ON j.id = b.id "

/* The job's error column holds {"code","message"} (or, from old rows, plain text). */
static json_t *job_error(sqlite3_stmt *st, int i) {
    json_t *e = text_json(st, i);
    if (json_is_string(e)) {
        json_t *wrapped = json_pack("{s:s,s:O}", "code", "job_failed", "message", e);
        json_decref(e);
        return wrapped;
    }
    return e;
}

static json_t *backtest_from_row(sqlite3_stmt *st, int with_spec) {
    json_t *j = json_object();
    json_object_set_new(j, "id", json_integer(sqlite3_column_int64(st, 0)));
    json_object_set_new(j, "name", json_string((const char *)sqlite3_column_text(st, 1)));
    json_object_set_new(j, "model", json_string((const char *)sqlite3_column_text(st, 2)));
    json_object_set_new(j, "kind", json_string((const char *)sqlite3_column_text(st, 3)));
    json_object_set_new(j, "k", json_integer(sqlite3_column_int64(st, 4)));
    json_object_set_new(j, "n_windows", json_integer(sqlite3_column_int64(st, 5)));
    json_object_set_new(j, "windows_done", json_integer(sqlite3_column_int64(st, 6)));
    /* A backtest whose job row is gone (never expected) reads as failed. */
    json_object_set_new(j, "state", json_string((const char *)sqlite3_column_text(st, 7)));
    json_object_set_new(j, "progress", json_real(sqlite3_column_double(st, 8)));
    json_object_set_new(j, "cancel_requested", json_boolean(sqlite3_column_int(st, 9)));
    json_object_set_new(j, "error", job_error(st, 10));
    json_object_set_new(j, "created_at", text_or_null(st, 11));
    json_object_set_new(j, "finished_at", text_or_null(st, 12));
    if (with_spec) json_object_set_new(j, "spec", text_json(st, 13));
    return j;
}

static json_t *window_span(sqlite3_stmt *st, int from) {
    if (sqlite3_column_type(st, from) == SQLITE_NULL) return json_null();
    return json_pack("{s:s,s:s}", "from", (const char *)sqlite3_column_text(st, from), "to",
                     (const char *)sqlite3_column_text(st, from + 1));
}

static int windows_json(fd_db *db, int64_t id, json_t *out, fd_error *err) {
    sqlite3_stmt *st;
    json_t *arr = json_array();
    int rc;
    if (fd_db_prepare(db,
                      "SELECT idx, train_from, train_to, valid_from, valid_to, test_from, "
                      "test_to, version, months, metrics, completed_at FROM backtest_windows "
                      "WHERE backtest_id = ? ORDER BY idx",
                      &st, err) != 0) {
        json_decref(arr);
        return -1;
    }
    sqlite3_bind_int64(st, 1, id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *w = json_pack("{s:i,s:o,s:o,s:o,s:i,s:s,s:o,s:o,s:o}", "idx",
                              sqlite3_column_int(st, 0), "train", window_span(st, 1), "valid",
                              window_span(st, 3), "test", window_span(st, 5), "version",
                              sqlite3_column_int(st, 7), "status", "completed", "months",
                              text_json(st, 8), "metrics", text_json(st, 9), "completed_at",
                              text_or_null(st, 10));
        json_array_append_new(arr, w);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(arr);
        return fd_db_error(db, err, "reading backtest windows");
    }
    json_object_set_new(out, "windows", arr);
    return 0;
}

int fd_store_backtest_get(fd_db *db, int64_t id, json_t **out, fd_error *err) {
    sqlite3_stmt *st;
    int rc, began = 0;
    *out = NULL;
    if (fd_db_begin_read(db, &began, err) != 0) return -1;
    if (fd_db_prepare(db, BACKTEST_SELECT "WHERE b.id = ?", &st, err) != 0) {
        fd_db_end_read(db, began);
        return -1;
    }
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *out = backtest_from_row(st, 1);
    else if (rc == SQLITE_DONE)
        fd_error_set(err, 404, "no_backtest", "no backtest %lld", (long long)id);
    else fd_db_error(db, err, "reading backtest");
    sqlite3_finalize(st);
    if (*out && windows_json(db, id, *out, err) != 0) {
        json_decref(*out);
        *out = NULL;
    }
    fd_db_end_read(db, began);
    return *out ? 0 : -1;
}

int fd_store_backtest_list(fd_db *db, json_t **out, fd_error *err) {
    sqlite3_stmt *st;
    json_t *arr;
    int rc;
    *out = NULL;
    if (fd_db_prepare(db, BACKTEST_SELECT "ORDER BY b.id DESC", &st, err) != 0) return -1;
    arr = json_array();
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) json_array_append_new(arr, backtest_from_row(st, 0));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(arr);
        return fd_db_error(db, err, "listing backtests");
    }
    *out = arr;
    return 0;
}
