#include "factord/store_labels.h"
#include "factord/store_models.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static int step_done(fd_db *db, sqlite3_stmt *st, fd_error *err, const char *what) {
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return fd_db_error(db, err, what);
    return 0;
}

int fd_label_valid(const char *name) {
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 64 || !isalpha((unsigned char)name[0]) || strcmp(name, "latest") == 0)
        return 0;
    for (size_t i = 1; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!isalnum(c) && c != '_' && c != '.' && c != '-') return 0;
    }
    return 1;
}

/* Reads a version's state into state (cap bytes); 404 when the version does not exist. */
static int version_state(fd_db *db, const char *model, int version, char *state, size_t cap,
                         fd_error *err) {
    sqlite3_stmt *st;
    int rc;
    if (sqlite3_prepare_v2(fd_db_handle(db),
                           "SELECT state FROM model_versions WHERE model = ?1 AND version = ?2",
                           -1, &st, NULL) != SQLITE_OK)
        return fd_db_error(db, err, "reading a version");
    sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, version);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        snprintf(state, cap, "%s", (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        return 0;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return fd_db_error(db, err, "reading a version");
    return fd_error_set(err, 404, "no_version", "model %s has no version %d", model, version);
}

int fd_store_label_set(fd_db *db, const char *model, const char *label, int version,
                       fd_error *err) {
    sqlite3_stmt *st;
    char state[16];
    if (!fd_label_valid(label))
        return fd_error_set(err, 400, "bad_label",
                            "label \"%s\" must match [A-Za-z][A-Za-z0-9_.-]{0,63} and not be "
                            "\"latest\"", label);
    if (fd_db_begin(db, err)) return -1;
    if (version_state(db, model, version, state, sizeof state, err)) goto fail;
    if (strcmp(state, "ready") != 0) {
        fd_error_set(err, 409, "version_not_ready", "version %d of %s is %s, not ready",
                     version, model, state);
        goto fail;
    }
    if (sqlite3_prepare_v2(fd_db_handle(db),
                           "INSERT INTO labels (model, label, version) VALUES (?1, ?2, ?3) "
                           "ON CONFLICT (model, label) DO UPDATE SET version = excluded.version, "
                           "updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
                           -1, &st, NULL) != SQLITE_OK) {
        fd_db_error(db, err, "moving a label");
        goto fail;
    }
    sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, label, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, version);
    if (step_done(db, st, err, "moving a label")) goto fail;
    return fd_db_commit(db, err);
fail:
    fd_db_rollback(db);
    return -1;
}

int fd_store_label_get(fd_db *db, const char *model, const char *label, int *version,
                       fd_error *err) {
    sqlite3_stmt *st;
    int rc;
    if (sqlite3_prepare_v2(fd_db_handle(db),
                           "SELECT version FROM labels WHERE model = ?1 AND label = ?2", -1, &st,
                           NULL) != SQLITE_OK)
        return fd_db_error(db, err, "reading a label");
    sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, label, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW) return 0;
    if (rc != SQLITE_DONE) return fd_db_error(db, err, "reading a label");
    return fd_error_set(err, 404, "no_label", "model %s has no label \"%s\"", model, label);
}

int fd_store_label_delete(fd_db *db, const char *model, const char *label, fd_error *err) {
    sqlite3_stmt *st;
    if (fd_db_begin(db, err)) return -1;
    if (sqlite3_prepare_v2(fd_db_handle(db), "DELETE FROM labels WHERE model = ?1 AND label = ?2",
                           -1, &st, NULL) != SQLITE_OK) {
        fd_db_error(db, err, "deleting a label");
        goto fail;
    }
    sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, label, -1, SQLITE_STATIC);
    if (step_done(db, st, err, "deleting a label")) goto fail;
    if (sqlite3_changes(fd_db_handle(db)) == 0) {
        fd_error_set(err, 404, "no_label", "model %s has no label \"%s\"", model, label);
        goto fail;
    }
    return fd_db_commit(db, err);
fail:
    fd_db_rollback(db);
    return -1;
}

int fd_store_label_list(fd_db *db, const char *model, json_t **out, fd_error *err) {
    sqlite3_stmt *st;
    json_t *arr, *decl;
    int rc;
    /* An unknown model has no labels to list: 404, as every other route under it. */
    if (fd_store_model_get(db, model, &decl, err) != 0) return -1;
    json_decref(decl);
    arr = json_array();
    if (sqlite3_prepare_v2(fd_db_handle(db),
                           "SELECT label, version, updated_at FROM labels WHERE model = ?1 "
                           "ORDER BY label",
                           -1, &st, NULL) != SQLITE_OK) {
        json_decref(arr);
        return fd_db_error(db, err, "listing labels");
    }
    sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_array_append_new(arr, json_pack("{s:s,s:i,s:s}", "label",
                                             (const char *)sqlite3_column_text(st, 0), "version",
                                             sqlite3_column_int(st, 1), "updated_at",
                                             (const char *)sqlite3_column_text(st, 2)));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(arr);
        return fd_db_error(db, err, "listing labels");
    }
    *out = arr;
    return 0;
}

int fd_store_labels_describe(fd_db *db, const char *model, int version, char *out, size_t cap,
                             fd_error *err) {
    sqlite3_stmt *st;
    size_t used = 0;
    int n = 0, rc;
    if (cap) out[0] = '\0';
    if (fd_db_prepare(db,
                      "SELECT label, version FROM labels WHERE model = ?1 AND "
                      "(?2 = 0 OR version = ?2) ORDER BY label",
                      &st, err))
        return -1;
    sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, version);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (used < cap)
            used += (size_t)snprintf(out + used, cap - used, "%s%s -> version %d", n ? ", " : "",
                                     (const char *)sqlite3_column_text(st, 0),
                                     sqlite3_column_int(st, 1));
        n++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return fd_db_error(db, err, "reading labels");
    return n;
}

int fd_store_version_retire(fd_db *db, const char *model, int version, int force,
                            fd_error *err) {
    sqlite3_stmt *st;
    char state[16], labels[256];
    int labelled;
    if (fd_db_begin(db, err)) return -1;
    if (version_state(db, model, version, state, sizeof state, err)) goto fail;
    labelled = fd_store_labels_describe(db, model, version, labels, sizeof labels, err);
    if (labelled < 0) goto fail;
    if (labelled && !force) {
        fd_error_set(err, 409, "version_labelled",
                     "version %d of %s is labelled (%s); move the labels first, or retire with "
                     "?force=1 to remove them too", version, model, labels);
        goto fail;
    }
    if (labelled) {
        if (fd_db_prepare(db, "DELETE FROM labels WHERE model = ?1 AND version = ?2", &st, err))
            goto fail;
        sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, version);
        if (step_done(db, st, err, "removing the labels of a retired version")) goto fail;
    }
    if (sqlite3_prepare_v2(fd_db_handle(db),
                           "UPDATE model_versions SET state = 'retired' WHERE model = ?1 AND "
                           "version = ?2",
                           -1, &st, NULL) != SQLITE_OK) {
        fd_db_error(db, err, "retiring a version");
        goto fail;
    }
    sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, version);
    if (step_done(db, st, err, "retiring a version")) goto fail;
    return fd_db_commit(db, err);
fail:
    fd_db_rollback(db);
    return -1;
}
