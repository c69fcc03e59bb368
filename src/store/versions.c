/* Model versions: immutable once written. A version is one row of model_versions plus two
 * matrices: the weight bytes (an f64 column, zero-padded, exact length in weights_bytes) and
 * the in-sample factor series F (T, K) whose row months are in `months`. */
#include <stdlib.h>
#include <string.h>

#include "factord/json_write.h"
#include "factord/matrix_blob.h"
#include "factord/store_models.h"

static json_t *json_text_col(sqlite3_stmt *st, int i) {
    const char *s = (const char *)sqlite3_column_text(st, i);
    json_t *v = s ? json_loads(s, JSON_DECODE_ANY, NULL) : NULL;
    return v ? v : json_null();
}

static json_t *window_json(sqlite3_stmt *st, int from, int to) {
    if (sqlite3_column_type(st, from) == SQLITE_NULL) return json_null();
    return json_pack("{s:s,s:s}", "from", (const char *)sqlite3_column_text(st, from), "to",
                     (const char *)sqlite3_column_text(st, to));
}

#define VERSION_SELECT                                                                        \
    "SELECT model, version, state, spec, train_from, train_to, valid_from, valid_to, "       \
    "fit_stats, job_id, created_at, weights_id, weights_bytes, factors_id, months, origin "  \
    "FROM model_versions "

static json_t *version_from_row(sqlite3_stmt *st) {
    json_t *j = json_object();
    json_object_set_new(j, "model", json_string((const char *)sqlite3_column_text(st, 0)));
    json_object_set_new(j, "version", json_integer(sqlite3_column_int64(st, 1)));
    json_object_set_new(j, "state", json_string((const char *)sqlite3_column_text(st, 2)));
    json_object_set_new(j, "spec", json_text_col(st, 3));
    json_object_set_new(j, "train", window_json(st, 4, 5));
    json_object_set_new(j, "valid", window_json(st, 6, 7));
    json_object_set_new(j, "fit_stats", json_text_col(st, 8));
    json_object_set_new(j, "job_id", sqlite3_column_type(st, 9) == SQLITE_NULL
                                         ? json_null()
                                         : json_integer(sqlite3_column_int64(st, 9)));
    json_object_set_new(j, "created_at", json_string((const char *)sqlite3_column_text(st, 10)));
    json_object_set_new(j, "origin", json_text_col(st, 15));
    return j;
}

/* Steps a version query for (model, version) to its row; 404 "no_version" otherwise. The
 * caller finalizes *st. */
static int version_row(fd_db *db, const char *model, int version, sqlite3_stmt **st,
                       fd_error *err) {
    int rc;
    if (fd_db_prepare(db, VERSION_SELECT "WHERE model = ? AND version = ?", st, err) != 0)
        return -1;
    sqlite3_bind_text(*st, 1, model, -1, SQLITE_STATIC);
    sqlite3_bind_int(*st, 2, version);
    rc = sqlite3_step(*st);
    if (rc == SQLITE_ROW) return 0;
    if (rc == SQLITE_DONE)
        return fd_error_set(err, 404, "no_version", "model \"%s\" has no version %d", model,
                            version);
    return fd_db_error(db, err, "reading model version");
}

int fd_store_version_insert_tx(fd_db *db, const fd_version_write *v, int *version,
                               fd_error *err) {
    sqlite3_stmt *st = NULL;
    size_t rows = (v->weights_len + 7) / 8;
    double *padded = rows ? calloc(rows, sizeof *padded) : NULL;
    char *spec = NULL, *stats = NULL, *months = NULL, *origin = NULL;
    int64_t weights_id = 0, factors_id = 0;
    json_t *month_list = json_array();
    int rc = -1;
    if (rows && !padded) {
        json_decref(month_list);
        return fd_error_set(err, 500, "out_of_memory", "copying %zu weight bytes",
                            v->weights_len);
    }
    if (rows) memcpy(padded, v->weights, v->weights_len);
    for (size_t t = 0; t < v->T; t++) json_array_append_new(month_list, json_string(v->months[t]));
    spec = fd_json_dumps(v->spec, JSON_COMPACT);
    stats = v->fit_stats ? fd_json_dumps(v->fit_stats, JSON_COMPACT) : NULL;
    months = fd_json_dumps(month_list, JSON_COMPACT);
    origin = v->origin ? fd_json_dumps(v->origin, JSON_COMPACT) : NULL;
    if (!spec || !months || (v->fit_stats && !stats) || (v->origin && !origin)) {
        fd_error_set(err, 500, "out_of_memory", "encoding version");
        goto out;
    }
    if (fd_db_prepare(db,
                      "SELECT (SELECT count(*) FROM models WHERE name = ?1), "
                      "(SELECT coalesce(max(version), 0) + 1 FROM model_versions "
                      "WHERE model = ?1)",
                      &st, err) != 0)
        goto out;
    sqlite3_bind_text(st, 1, v->model, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        fd_db_error(db, err, "numbering version");
        goto out;
    }
    if (sqlite3_column_int(st, 0) == 0) {
        fd_error_set(err, 404, "no_model", "model \"%s\" was deleted", v->model);
        goto out;
    }
    *version = sqlite3_column_int(st, 1);
    sqlite3_finalize(st);
    st = NULL;
    if (fd_matrix_put(db, FD_DTYPE_F64, padded, rows, 1, &weights_id, err) != 0 ||
        fd_matrix_put(db, FD_DTYPE_F64, v->factors, v->T, v->K, &factors_id, err) != 0)
        goto out;
    if (fd_db_prepare(db,
                      "INSERT INTO model_versions (model, version, state, spec, train_from, "
                      "train_to, valid_from, valid_to, fit_stats, weights_id, weights_bytes, "
                      "factors_id, months, job_id, origin) "
                      "VALUES (?, ?, 'ready', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      &st, err) != 0)
        goto out;
    sqlite3_bind_text(st, 1, v->model, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, *version);
    sqlite3_bind_text(st, 3, spec, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, v->train_from, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, v->train_to, -1, SQLITE_STATIC);
    if (v->valid_from) sqlite3_bind_text(st, 6, v->valid_from, -1, SQLITE_STATIC);
    if (v->valid_to) sqlite3_bind_text(st, 7, v->valid_to, -1, SQLITE_STATIC);
    if (stats) sqlite3_bind_text(st, 8, stats, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, weights_id);
    sqlite3_bind_int64(st, 10, (sqlite3_int64)v->weights_len);
    sqlite3_bind_int64(st, 11, factors_id);
    sqlite3_bind_text(st, 12, months, -1, SQLITE_STATIC);
    if (v->job_id > 0) sqlite3_bind_int64(st, 13, v->job_id);
    if (origin) sqlite3_bind_text(st, 14, origin, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        fd_db_error(db, err, "inserting model version");
        goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    json_decref(month_list);
    free(padded);
    free(spec);
    free(stats);
    free(months);
    free(origin);
    return rc;
}

int fd_store_version_get(fd_db *db, const char *model, int version, json_t **out,
                         fd_error *err) {
    sqlite3_stmt *st = NULL;
    int rc = version_row(db, model, version, &st, err);
    *out = rc == 0 ? version_from_row(st) : NULL;
    sqlite3_finalize(st);
    return rc;
}

int fd_store_version_list(fd_db *db, const char *model, json_t **out, fd_error *err) {
    sqlite3_stmt *st;
    json_t *arr, *m = NULL;
    int rc;
    *out = NULL;
    if (fd_store_model_get(db, model, &m, err) != 0) return -1;
    json_decref(m);
    if (fd_db_prepare(db, VERSION_SELECT "WHERE model = ? ORDER BY version", &st, err) != 0)
        return -1;
    sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    arr = json_array();
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) json_array_append_new(arr, version_from_row(st));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(arr);
        return fd_db_error(db, err, "listing model versions");
    }
    *out = arr;
    return 0;
}

int fd_store_version_latest(fd_db *db, const char *model, int *version, fd_error *err) {
    sqlite3_stmt *st;
    int rc;
    if (fd_db_prepare(db,
                      "SELECT max(version) FROM model_versions WHERE model = ? AND "
                      "state = 'ready'",
                      &st, err) != 0)
        return -1;
    sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        *version = sqlite3_column_int(st, 0);
        rc = 0;
    } else if (rc == SQLITE_ROW) {
        rc = fd_error_set(err, 404, "no_version", "model \"%s\" has no ready version", model);
    } else {
        rc = fd_db_error(db, err, "reading model versions");
    }
    sqlite3_finalize(st);
    return rc;
}

int fd_store_version_weights(fd_db *db, const char *model, int version, void **blob,
                             size_t *len, fd_error *err) {
    sqlite3_stmt *st = NULL;
    double *cells = NULL;
    size_t rows = 0, cols = 0, bytes;
    int64_t id;
    *blob = NULL;
    *len = 0;
    if (version_row(db, model, version, &st, err) != 0) {
        sqlite3_finalize(st);
        return -1;
    }
    id = sqlite3_column_int64(st, 11);
    bytes = (size_t)sqlite3_column_int64(st, 12);
    sqlite3_finalize(st);
    if (fd_matrix_get_f64(db, id, &cells, &rows, &cols, err) != 0) return -1;
    if (cols != 1 || rows != (bytes + 7) / 8) {
        free(cells);
        return fd_error_set(err, 500, "corrupt_matrix",
                            "weights of %s version %d: %zu x %zu cells for %zu bytes", model,
                            version, rows, cols, bytes);
    }
    *blob = cells; /* the padding past `bytes` is zero and ignored */
    *len = bytes;
    return 0;
}

int fd_store_version_factors(fd_db *db, const char *model, int version, double **F,
                             size_t *T, size_t *K, char (**months)[FD_MONTH_LEN],
                             fd_error *err) {
    sqlite3_stmt *st = NULL;
    json_t *list;
    int64_t id;
    *F = NULL;
    *months = NULL;
    *T = *K = 0;
    if (version_row(db, model, version, &st, err) != 0) {
        sqlite3_finalize(st);
        return -1;
    }
    id = sqlite3_column_int64(st, 13);
    list = json_text_col(st, 14);
    sqlite3_finalize(st);
    if (fd_matrix_get_f64(db, id, F, T, K, err) != 0) {
        json_decref(list);
        return -1;
    }
    if (json_array_size(list) != *T) {
        json_decref(list);
        free(*F);
        *F = NULL;
        return fd_error_set(err, 500, "corrupt_matrix",
                            "factors of %s version %d: %zu rows but %zu months", model, version,
                            *T, json_array_size(list));
    }
    if (*T) {
        *months = calloc(*T, sizeof **months);
        if (!*months) {
            json_decref(list);
            free(*F);
            *F = NULL;
            return fd_error_set(err, 500, "out_of_memory", "reading factor months");
        }
        for (size_t t = 0; t < *T; t++) {
            const char *key = json_string_value(json_array_get(list, t));
            snprintf((*months)[t], FD_MONTH_LEN, "%s", key ? key : "");
        }
    }
    json_decref(list);
    return 0;
}
