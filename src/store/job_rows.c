/* Job rows: the job manager's queue and every client's view of a job (see jobs.h and
 * store_models.h). Each write is one short BEGIN IMMEDIATE transaction so a progress update
 * never holds the write lock while a model fits. */
#include <stdlib.h>
#include <string.h>

#include "factord/json_write.h"
#include "factord/store_models.h"

#define JOB_NOW "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
#define JOB_COLS                                                                             \
    "id, kind, model, state, params, progress, losses, result, error, created_at, "         \
    "started_at, finished_at, heartbeat_at, attempts, cancel_requested"

static const char *const job_states[] = {"queued", "running", "succeeded", "failed",
                                         "cancelled", NULL};

int fd_job_state_valid(const char *s) {
    for (int i = 0; s && job_states[i]; i++)
        if (strcmp(s, job_states[i]) == 0) return 1;
    return 0;
}

const char *fd_job_state_name(int i) { return i >= 0 && i < 5 ? job_states[i] : NULL; }

int fd_store_job_state_counts(fd_db *db, json_t **out, fd_error *err) {
    sqlite3_stmt *st;
    json_t *counts = json_object();
    int rc;
    *out = NULL;
    if (fd_db_prepare(db, "SELECT kind, state, count(*) FROM jobs GROUP BY kind, state", &st,
                      err) != 0) {
        json_decref(counts);
        return -1;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *kind = (const char *)sqlite3_column_text(st, 0);
        json_t *per = json_object_get(counts, kind);
        if (!per) {
            per = json_object();
            json_object_set_new(counts, kind, per);
        }
        json_object_set_new(per, (const char *)sqlite3_column_text(st, 1),
                            json_integer(sqlite3_column_int64(st, 2)));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(counts);
        return fd_db_error(db, err, "counting jobs");
    }
    *out = counts;
    return 0;
}

static json_t *col_text_or_null(sqlite3_stmt *st, int i) {
    const char *s = (const char *)sqlite3_column_text(st, i);
    return s ? json_string(s) : json_null();
}

/* Parses a JSON column; text that is not JSON (an old plain-text error) comes back as a
 * string, SQL NULL as null. */
static json_t *col_json(sqlite3_stmt *st, int i) {
    const char *s = (const char *)sqlite3_column_text(st, i);
    json_t *v;
    if (!s) return json_null();
    v = json_loads(s, JSON_DECODE_ANY, NULL);
    return v ? v : json_string(s);
}

/* Builds the job JSON from a row selected with JOB_COLS. */
static json_t *job_from_row(sqlite3_stmt *st) {
    json_t *j = json_object();
    json_t *losses = col_json(st, 6), *error = col_json(st, 8);
    if (json_is_string(error)) {
        json_t *e = json_pack("{s:s,s:O}", "code", "job_failed", "message", error);
        json_decref(error);
        error = e;
    }
    if (json_is_null(losses)) {
        json_decref(losses);
        losses = json_array();
    }
    json_object_set_new(j, "id", json_integer(sqlite3_column_int64(st, 0)));
    json_object_set_new(j, "kind", col_text_or_null(st, 1));
    json_object_set_new(j, "model", col_text_or_null(st, 2));
    json_object_set_new(j, "state", col_text_or_null(st, 3));
    json_object_set_new(j, "params", col_json(st, 4));
    json_object_set_new(j, "progress", json_real(sqlite3_column_double(st, 5)));
    json_object_set_new(j, "losses", losses);
    json_object_set_new(j, "result", col_json(st, 7));
    json_object_set_new(j, "error", error);
    json_object_set_new(j, "created_at", col_text_or_null(st, 9));
    json_object_set_new(j, "started_at", col_text_or_null(st, 10));
    json_object_set_new(j, "finished_at", col_text_or_null(st, 11));
    json_object_set_new(j, "heartbeat_at", col_text_or_null(st, 12));
    json_object_set_new(j, "attempts", json_integer(sqlite3_column_int64(st, 13)));
    json_object_set_new(j, "cancel_requested", json_boolean(sqlite3_column_int(st, 14)));
    return j;
}

/* Runs a prepared write statement to completion; returns the number of changed rows or -1. */
static int step_done(fd_db *db, sqlite3_stmt *st, const char *what, fd_error *err) {
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) return fd_db_error(db, err, what);
    return sqlite3_changes(fd_db_handle(db));
}

int fd_store_job_insert(fd_db *db, const char *kind, const char *model, const json_t *params,
                        int64_t *id, json_t **out, fd_error *err) {
    sqlite3_stmt *st = NULL;
    char *text = params ? fd_json_dumps(params, JSON_COMPACT) : strdup("{}");
    int rc = -1;
    if (out) *out = NULL;
    if (!text) return fd_error_set(err, 500, "out_of_memory", "encoding job params");
    if (fd_db_begin(db, err) != 0) goto out;
    if (fd_db_prepare(db, "INSERT INTO jobs (kind, model, params) VALUES (?, ?, ?)", &st,
                      err) != 0)
        goto out;
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    if (model) sqlite3_bind_text(st, 2, model, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
    if (step_done(db, st, "inserting job", err) < 0) goto out;
    *id = sqlite3_last_insert_rowid(fd_db_handle(db));
    /* Read back inside the transaction: once committed, a worker may claim it at once. */
    if (out && fd_store_job_get(db, *id, out, err) != 0) goto out;
    rc = fd_db_commit(db, err);
out:
    sqlite3_finalize(st);
    if (rc != 0) {
        fd_db_rollback(db);
        if (out) {
            json_decref(*out);
            *out = NULL;
        }
    }
    free(text);
    return rc;
}

int fd_store_job_get(fd_db *db, int64_t id, json_t **out, fd_error *err) {
    sqlite3_stmt *st;
    int rc;
    *out = NULL;
    if (fd_db_prepare(db, "SELECT " JOB_COLS " FROM jobs WHERE id = ?", &st, err) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *out = job_from_row(st);
    else if (rc == SQLITE_DONE) fd_error_set(err, 404, "no_job", "no job %lld", (long long)id);
    else fd_db_error(db, err, "reading job");
    sqlite3_finalize(st);
    return *out ? 0 : -1;
}

int fd_store_job_list(fd_db *db, const char *state, const char *model, int limit,
                      json_t **out, fd_error *err) {
    sqlite3_stmt *st;
    json_t *arr;
    int rc;
    *out = NULL;
    if (state && !fd_job_state_valid(state))
        return fd_error_set(err, 400, "bad_state",
                            "state: \"%s\" is not one of queued, running, succeeded, failed, "
                            "cancelled", state);
    if (fd_db_prepare(db,
                      "SELECT " JOB_COLS " FROM jobs WHERE (?1 IS NULL OR state = ?1) "
                      "AND (?2 IS NULL OR model = ?2) ORDER BY id DESC LIMIT ?3",
                      &st, err) != 0)
        return -1;
    if (state) sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
    if (model) sqlite3_bind_text(st, 2, model, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, limit > 0 ? limit : 100);
    arr = json_array();
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *job = job_from_row(st);
        /* A list stays small: up to 1,000 loss points per job are for GET /v1/jobs/{id}. */
        json_object_set_new(job, "n_losses", json_integer((json_int_t)json_array_size(
                                                  json_object_get(job, "losses"))));
        json_object_del(job, "losses");
        json_array_append_new(arr, job);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(arr);
        return fd_db_error(db, err, "listing jobs");
    }
    *out = arr;
    return 0;
}

int fd_store_job_claim(fd_db *db, const char *const *kinds, fd_job_claim *out, fd_error *err) {
    sqlite3_stmt *sel = NULL, *upd = NULL;
    json_t *names = json_array();
    char *names_text = NULL;
    int rc = -1, step;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; kinds && kinds[i]; i++) json_array_append_new(names, json_string(kinds[i]));
    names_text = fd_json_dumps(names, JSON_COMPACT);
    json_decref(names);
    if (!names_text) return fd_error_set(err, 500, "out_of_memory", "claiming a job");
    /* A read first: idle workers look every second, and a write lock for nothing would queue
     * them behind every long import (and make that import wait for them). */
    if (fd_db_prepare(db,
                      "SELECT 1 FROM jobs WHERE state = 'queued' AND "
                      "kind IN (SELECT value FROM json_each(?)) LIMIT 1",
                      &sel, err) != 0)
        goto out;
    sqlite3_bind_text(sel, 1, names_text, -1, SQLITE_STATIC);
    step = sqlite3_step(sel);
    sqlite3_finalize(sel);
    sel = NULL;
    if (step == SQLITE_DONE) {
        rc = 0;
        goto out;
    }
    if (step != SQLITE_ROW) {
        fd_db_error(db, err, "looking for queued jobs");
        goto out;
    }
    if (fd_db_begin(db, err) != 0) goto out;
    /* Jobs cancelled while queued (by another process) never start. */
    if (fd_db_exec(db,
                   "UPDATE jobs SET state = 'cancelled', finished_at = " JOB_NOW
                   " WHERE state = 'queued' AND cancel_requested = 1",
                   err) != 0)
        goto out;
    if (fd_db_prepare(db,
                      "SELECT id, kind, model, params FROM jobs WHERE state = 'queued' AND "
                      "kind IN (SELECT value FROM json_each(?)) ORDER BY id LIMIT 1",
                      &sel, err) != 0)
        goto out;
    sqlite3_bind_text(sel, 1, names_text, -1, SQLITE_STATIC);
    step = sqlite3_step(sel);
    if (step == SQLITE_DONE) {
        rc = fd_db_commit(db, err);
        goto out;
    }
    if (step != SQLITE_ROW) {
        fd_db_error(db, err, "claiming a job");
        goto out;
    }
    out->id = sqlite3_column_int64(sel, 0);
    snprintf(out->kind, sizeof out->kind, "%s", (const char *)sqlite3_column_text(sel, 1));
    if (sqlite3_column_text(sel, 2))
        snprintf(out->model, sizeof out->model, "%s", (const char *)sqlite3_column_text(sel, 2));
    out->params = json_loads((const char *)sqlite3_column_text(sel, 3), 0, NULL);
    if (!out->params) out->params = json_object();
    if (fd_db_prepare(db,
                      "UPDATE jobs SET state = 'running', progress = 0, losses = '[]', "
                      "error = NULL, result = NULL, attempts = attempts + 1, started_at = " JOB_NOW
                      ", heartbeat_at = " JOB_NOW " WHERE id = ?",
                      &upd, err) != 0)
        goto out;
    sqlite3_bind_int64(upd, 1, out->id);
    if (step_done(db, upd, "claiming a job", err) < 0) goto out;
    rc = fd_db_commit(db, err);
out:
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    if (rc != 0) {
        fd_db_rollback(db);
        json_decref(out->params);
        memset(out, 0, sizeof *out);
    }
    free(names_text);
    return rc;
}

int fd_store_job_requeue_running(fd_db *db, int *n, fd_error *err) {
    int changed;
    if (fd_db_begin(db, err) != 0) return -1;
    if (fd_db_exec(db,
                   "UPDATE jobs SET state = 'queued', progress = 0, losses = NULL, "
                   "started_at = NULL, heartbeat_at = NULL WHERE state = 'running'",
                   err) != 0) {
        fd_db_rollback(db);
        return -1;
    }
    changed = sqlite3_changes(fd_db_handle(db));
    if (fd_db_commit(db, err) != 0) return -1;
    if (n) *n = changed;
    return 0;
}

int fd_store_job_heartbeat(fd_db *db, int64_t id, double progress, const char *losses,
                           int *cancel_requested, fd_error *err) {
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (fd_db_begin(db, err) != 0) return -1;
    if (fd_db_prepare(db,
                      "UPDATE jobs SET progress = ?, losses = ?, heartbeat_at = " JOB_NOW
                      " WHERE id = ? AND state = 'running' RETURNING cancel_requested",
                      &st, err) != 0)
        goto out;
    sqlite3_bind_double(st, 1, progress);
    sqlite3_bind_text(st, 2, losses ? losses : "[]", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, id);
    switch (sqlite3_step(st)) {
    case SQLITE_ROW:
        *cancel_requested = sqlite3_column_int(st, 0);
        break;
    case SQLITE_DONE: /* the row stopped running under us (deleted by hand): stop too */
        *cancel_requested = 1;
        break;
    default:
        fd_db_error(db, err, "writing job progress");
        goto out;
    }
    sqlite3_finalize(st);
    st = NULL;
    rc = fd_db_commit(db, err);
out:
    sqlite3_finalize(st);
    if (rc != 0) fd_db_rollback(db);
    return rc;
}

int fd_store_job_finish_tx(fd_db *db, int64_t id, const char *state, const json_t *result,
                           const fd_error *error, const char *losses, fd_error *err) {
    sqlite3_stmt *st;
    char *result_text = result ? fd_json_dumps(result, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    char *error_text = NULL;
    int requeue = strcmp(state, "queued") == 0, changed;
    if (error) {
        json_t *e = json_pack("{s:s,s:s,s:i}", "code", error->code, "message", error->message,
                              "status", error->status);
        error_text = e ? fd_json_dumps(e, JSON_COMPACT) : NULL;
        json_decref(e);
    }
    if (fd_db_prepare(db,
                      requeue ? "UPDATE jobs SET state = 'queued', progress = 0, losses = NULL, "
                                "started_at = NULL, heartbeat_at = NULL "
                                "WHERE id = ?1 AND state = 'running'"
                              : "UPDATE jobs SET state = ?2, result = ?3, error = ?4, "
                                "losses = coalesce(?5, losses), "
                                "progress = CASE WHEN ?2 = 'succeeded' THEN 1 ELSE progress END,"
                                " finished_at = " JOB_NOW ", heartbeat_at = " JOB_NOW
                                " WHERE id = ?1 AND state = 'running' AND "
                                "(?2 <> 'succeeded' OR cancel_requested = 0)",
                      &st, err) != 0) {
        free(result_text);
        free(error_text);
        return -1;
    }
    sqlite3_bind_int64(st, 1, id);
    if (!requeue) {
        sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
        if (result_text) sqlite3_bind_text(st, 3, result_text, -1, SQLITE_STATIC);
        if (error_text) sqlite3_bind_text(st, 4, error_text, -1, SQLITE_STATIC);
        if (losses) sqlite3_bind_text(st, 5, losses, -1, SQLITE_STATIC);
    }
    changed = step_done(db, st, "finishing job", err);
    sqlite3_finalize(st);
    free(result_text);
    free(error_text);
    if (changed < 0) return -1;
    if (changed == 0)
        return fd_error_set(err, 409, "job_not_running",
                            "job %lld is no longer running or was cancelled", (long long)id);
    return 0;
}

int fd_store_job_finish(fd_db *db, int64_t id, const char *state, const json_t *result,
                        const fd_error *error, const char *losses, fd_error *err) {
    if (fd_db_begin(db, err) != 0) return -1;
    if (fd_store_job_finish_tx(db, id, state, result, error, losses, err) != 0) {
        fd_db_rollback(db);
        return -1;
    }
    return fd_db_commit(db, err);
}

int fd_store_job_cancel(fd_db *db, int64_t id, int *was_running, fd_error *err) {
    sqlite3_stmt *st = NULL;
    char state[16] = "";
    int rc = -1, step;
    *was_running = 0;
    if (fd_db_begin(db, err) != 0) return -1;
    if (fd_db_prepare(db, "SELECT state FROM jobs WHERE id = ?", &st, err) != 0) goto out;
    sqlite3_bind_int64(st, 1, id);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        snprintf(state, sizeof state, "%s", (const char *)sqlite3_column_text(st, 0));
    } else if (step == SQLITE_DONE) {
        fd_error_set(err, 404, "no_job", "no job %lld", (long long)id);
        goto out;
    } else {
        fd_db_error(db, err, "reading job");
        goto out;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (strcmp(state, "queued") == 0) {
        if (fd_db_prepare(db,
                          "UPDATE jobs SET state = 'cancelled', finished_at = " JOB_NOW
                          " WHERE id = ?",
                          &st, err) != 0)
            goto out;
    } else if (strcmp(state, "running") == 0) {
        *was_running = 1;
        if (fd_db_prepare(db, "UPDATE jobs SET cancel_requested = 1 WHERE id = ?", &st, err) != 0)
            goto out;
    } else {
        fd_error_set(err, 409, "job_finished", "job %lld already ended (%s)", (long long)id,
                     state);
        goto out;
    }
    sqlite3_bind_int64(st, 1, id);
    if (step_done(db, st, "cancelling job", err) < 0) goto out;
    rc = fd_db_commit(db, err);
out:
    sqlite3_finalize(st);
    if (rc != 0) fd_db_rollback(db);
    return rc;
}
