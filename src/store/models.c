/* Model rows: a named kind, its number of factors K and the spec it was declared with
 * (models.spec holds {"hyper", "columns", "excess_returns", "add_constant", "observed",
 * "macro"}). Versions live in versions.c,
 * job rows in job_rows.c. */
#include <stdlib.h>
#include <string.h>

#include "factord/json_write.h"
#include "factord/store_models.h"
#include "factord/store_labels.h"

static json_t *model_from_row(sqlite3_stmt *st) {
    const char *spec_text = (const char *)sqlite3_column_text(st, 3);
    json_t *spec = spec_text ? json_loads(spec_text, 0, NULL) : NULL;
    json_t *j = json_object(), *v;
    json_object_set_new(j, "name", json_string((const char *)sqlite3_column_text(st, 0)));
    json_object_set_new(j, "kind", json_string((const char *)sqlite3_column_text(st, 1)));
    json_object_set_new(j, "k", json_integer(sqlite3_column_int64(st, 2)));
    v = json_object_get(spec, "hyper");
    json_object_set_new(j, "hyper", v ? json_incref(v) : json_object());
    v = json_object_get(spec, "columns");
    json_object_set_new(j, "columns", v ? json_incref(v) : json_null());
    json_object_set_new(j, "excess_returns",
                        json_boolean(json_is_true(json_object_get(spec, "excess_returns"))));
    json_object_set_new(j, "add_constant",
                        json_boolean(json_is_true(json_object_get(spec, "add_constant"))));
    v = json_object_get(spec, "observed");
    json_object_set_new(j, "observed", json_is_array(v) ? json_incref(v) : json_array());
    v = json_object_get(spec, "macro");
    json_object_set_new(j, "macro", json_is_array(v) ? json_incref(v) : json_array());
    json_object_set_new(j, "created_at", json_string((const char *)sqlite3_column_text(st, 4)));
    json_object_set_new(j, "versions", json_integer(sqlite3_column_int64(st, 5)));
    json_object_set_new(j, "latest_version", sqlite3_column_type(st, 6) == SQLITE_NULL
                                                 ? json_null()
                                                 : json_integer(sqlite3_column_int64(st, 6)));
    json_decref(spec);
    return j;
}

#define MODEL_SELECT                                                                          \
    "SELECT m.name, m.kind, m.k, m.spec, m.created_at, "                                     \
    "(SELECT count(*) FROM model_versions v WHERE v.model = m.name), "                       \
    "(SELECT max(version) FROM model_versions v WHERE v.model = m.name AND v.state = 'ready') " \
    "FROM models m "

int fd_store_model_get(fd_db *db, const char *name, json_t **out, fd_error *err) {
    sqlite3_stmt *st;
    int rc;
    *out = NULL;
    if (fd_db_prepare(db, MODEL_SELECT "WHERE m.name = ?", &st, err) != 0) return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *out = model_from_row(st);
    else if (rc == SQLITE_DONE) fd_error_set(err, 404, "no_model", "no model \"%s\"", name);
    else fd_db_error(db, err, "reading model");
    sqlite3_finalize(st);
    return *out ? 0 : -1;
}

int fd_store_model_list(fd_db *db, json_t **out, fd_error *err) {
    sqlite3_stmt *st;
    json_t *arr;
    int rc;
    *out = NULL;
    if (fd_db_prepare(db, MODEL_SELECT "ORDER BY m.name", &st, err) != 0) return -1;
    arr = json_array();
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) json_array_append_new(arr, model_from_row(st));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(arr);
        return fd_db_error(db, err, "listing models");
    }
    *out = arr;
    return 0;
}

int fd_store_model_create(fd_db *db, const char *name, const char *kind, size_t k,
                          const json_t *spec, json_t **out, fd_error *err) {
    sqlite3_stmt *st = NULL;
    char *spec_text = fd_json_dumps(spec, JSON_COMPACT);
    int rc = -1, step;
    if (out) *out = NULL;
    if (!spec_text) return fd_error_set(err, 500, "out_of_memory", "encoding model spec");
    if (fd_db_begin(db, err) != 0) goto out;
    if (fd_db_prepare(db,
                      "INSERT INTO models (name, kind, k, spec) VALUES (?, ?, ?, ?) "
                      "ON CONFLICT (name) DO NOTHING",
                      &st, err) != 0)
        goto out;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)k);
    sqlite3_bind_text(st, 4, spec_text, -1, SQLITE_STATIC);
    step = sqlite3_step(st);
    if (step != SQLITE_DONE) {
        fd_db_error(db, err, "inserting model");
        goto out;
    }
    if (sqlite3_changes(fd_db_handle(db)) == 0) {
        fd_error_set(err, 409, "model_exists", "a model named \"%s\" already exists", name);
        goto out;
    }
    rc = fd_db_commit(db, err);
out:
    sqlite3_finalize(st);
    if (rc != 0) fd_db_rollback(db);
    free(spec_text);
    if (rc == 0 && out) return fd_store_model_get(db, name, out, err);
    return rc;
}

int fd_store_model_delete(fd_db *db, const char *name, int force, fd_error *err) {
    static const char *const deletes[] = {
        "DELETE FROM labels WHERE model = ?",
        "DELETE FROM model_versions WHERE model = ?", /* triggers free their matrices */
        "DELETE FROM models WHERE name = ?",
    };
    sqlite3_stmt *st = NULL;
    char labels[256];
    int rc = -1, labelled;
    if (fd_db_begin(db, err) != 0) return -1;
    if (fd_db_prepare(db,
                      "SELECT (SELECT count(*) FROM models WHERE name = ?1), "
                      "(SELECT min(id) FROM jobs WHERE model = ?1 AND "
                      "state IN ('queued', 'running'))",
                      &st, err) != 0)
        goto out;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        fd_db_error(db, err, "reading model");
        goto out;
    }
    if (sqlite3_column_int(st, 0) == 0) {
        fd_error_set(err, 404, "no_model", "no model \"%s\"", name);
        goto out;
    }
    if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
        fd_error_set(err, 409, "model_busy",
                     "model \"%s\" has job %lld queued or running; cancel it first", name,
                     (long long)sqlite3_column_int64(st, 1));
        goto out;
    }
    labelled = fd_store_labels_describe(db, name, 0, labels, sizeof labels, err);
    if (labelled < 0) goto out;
    if (labelled && !force) {
        fd_error_set(err, 409, "model_labelled",
                     "model \"%s\" has labelled versions (%s); move or delete the labels "
                     "first, or delete with ?force=1", name, labels);
        goto out;
    }
    for (size_t i = 0; i < sizeof deletes / sizeof deletes[0]; i++) {
        sqlite3_finalize(st);
        if (fd_db_prepare(db, deletes[i], &st, err) != 0) goto out;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            fd_db_error(db, err, "deleting model");
            goto out;
        }
    }
    rc = fd_db_commit(db, err);
out:
    sqlite3_finalize(st);
    if (rc != 0) fd_db_rollback(db);
    return rc;
}
