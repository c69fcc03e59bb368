/* Opening the store: pragmas, migrations under PRAGMA user_version, refusal of newer
 * databases, atomicity of a failing migration, concurrent first opens, schema rules. */
#include <pthread.h>
#include <stdlib.h>

#include "../../src/store/db_internal.h"
#include "factord/store.h"
#include "testlib.h"

static const char *fresh_path(void) {
    static char path[512];
    static int n;
    snprintf(path, sizeof path, "%s/mig-%d.db", tl_tmpdir(), n++);
    return path;
}

/* Runs one SQL statement that returns a single integer. */
static long long query_int(sqlite3 *h, const char *sql) {
    sqlite3_stmt *st;
    long long v = -12345;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK) return v;
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int table_exists(sqlite3 *h, const char *name) {
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '%s'", name);
    return query_int(h, sql) == 1;
}

TEST(migrates_an_empty_database_to_the_binary_version) {
    fd_db *db;
    fd_error err;
    static const char *const tables[] = {"securities", "matrices", "panels", "factors",
                                         "models", "model_versions", "labels", "jobs"};
    ASSERT(fd_db_binary_schema_version() >= 1);
    ASSERT_INT_EQ(fd_db_open(fresh_path(), &db, &err), 0);
    ASSERT_INT_EQ(fd_db_schema_version(db), fd_db_binary_schema_version());
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        if (!table_exists(fd_db_handle(db), tables[i])) {
            tl_fail(__FILE__, __LINE__, "table %s missing", tables[i]);
            break;
        }
    }
    fd_db_close(db);
}

TEST(reopening_is_idempotent_and_keeps_data) {
    const char *path = fresh_path();
    fd_db *db;
    fd_error err;
    ASSERT_INT_EQ(fd_db_open(path, &db, &err), 0);
    ASSERT_INT_EQ(sqlite3_exec(fd_db_handle(db),
                               "INSERT INTO models (name, kind, k) VALUES ('m', 'ipca', 3)", NULL,
                               NULL, NULL), SQLITE_OK);
    fd_db_close(db);
    ASSERT_INT_EQ(fd_db_open(path, &db, &err), 0);
    ASSERT_INT_EQ(fd_db_schema_version(db), fd_db_binary_schema_version());
    ASSERT_INT_EQ(query_int(fd_db_handle(db), "SELECT k FROM models WHERE name = 'm'"), 3);
    fd_db_close(db);
}

TEST(connection_pragmas_are_wal_fk_and_busy_timeout) {
    fd_db *db;
    fd_error err;
    sqlite3_stmt *st;
    ASSERT_INT_EQ(fd_db_open(fresh_path(), &db, &err), 0);
    ASSERT_INT_EQ(sqlite3_prepare_v2(fd_db_handle(db), "PRAGMA journal_mode", -1, &st, NULL),
                  SQLITE_OK);
    ASSERT_INT_EQ(sqlite3_step(st), SQLITE_ROW);
    ASSERT_STR_EQ((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    ASSERT_INT_EQ(query_int(fd_db_handle(db), "PRAGMA foreign_keys"), 1);
    ASSERT_INT_EQ(query_int(fd_db_handle(db), "PRAGMA busy_timeout"), 5000);
    ASSERT_INT_EQ(query_int(fd_db_handle(db), "PRAGMA synchronous"), 1); /* NORMAL */
    fd_db_close(db);
}

TEST(newer_database_is_refused_with_a_clear_message) {
    const char *path = fresh_path();
    sqlite3 *h;
    fd_db *db = NULL;
    fd_error err;
    char expect[128];
    ASSERT_INT_EQ(sqlite3_open(path, &h), SQLITE_OK);
    ASSERT_INT_EQ(sqlite3_exec(h, "PRAGMA user_version = 999", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    fd_error_clear(&err);
    ASSERT_INT_EQ(fd_db_open(path, &db, &err), -1);
    ASSERT(db == NULL);
    ASSERT_STR_EQ(err.code, "schema_too_new");
    ASSERT_INT_EQ(err.status, 500);
    snprintf(expect, sizeof expect,
             "database schema version 999 is newer than this factord (%d); upgrade factord",
             fd_db_binary_schema_version());
    if (!strstr(err.message, expect)) {
        tl_fail(__FILE__, __LINE__, "message \"%s\" lacks \"%s\"", err.message, expect);
        return;
    }
    ASSERT_INT_EQ(sqlite3_open(path, &h), SQLITE_OK);
    ASSERT_INT_EQ(query_int(h, "PRAGMA user_version"), 999);
    ASSERT(!table_exists(h, "panels"));
    sqlite3_close(h);
}

TEST(missing_migrations_are_applied_in_order) {
    static const char *const sqls[] = {"CREATE TABLE a (x INTEGER);",
                                       "ALTER TABLE a ADD COLUMN y INTEGER;",
                                       "INSERT INTO a (x, y) VALUES (1, 2);"};
    fd_db *db;
    fd_error err;
    ASSERT_INT_EQ(fd_db_open(":memory:", &db, &err), 0);
    ASSERT_INT_EQ(sqlite3_exec(fd_db_handle(db), "PRAGMA user_version = 0", NULL, NULL, NULL),
                  SQLITE_OK);
    ASSERT_INT_EQ(fd_db_migrate_with(db, sqls, 1, &err), 0);
    ASSERT_INT_EQ(fd_db_schema_version(db), 1);
    ASSERT_INT_EQ(fd_db_migrate_with(db, sqls, 3, &err), 0);
    ASSERT_INT_EQ(fd_db_schema_version(db), 3);
    ASSERT_INT_EQ(query_int(fd_db_handle(db), "SELECT y FROM a WHERE x = 1"), 2);
    ASSERT_INT_EQ(fd_db_migrate_with(db, sqls, 3, &err), 0); /* nothing left to do */
    ASSERT_INT_EQ(query_int(fd_db_handle(db), "SELECT count(*) FROM a"), 1);
    fd_db_close(db);
}

TEST(failing_migration_leaves_the_previous_version) {
    const char *path = fresh_path();
    size_t n = fd_migrations_count;
    const char **sqls = calloc(n + 2, sizeof *sqls);
    fd_db *db;
    fd_error err;
    ASSERT(sqls != NULL);
    for (size_t i = 0; i < n; i++) sqls[i] = fd_migrations[i];
    sqls[n] = "CREATE TABLE good (x INTEGER);";
    sqls[n + 1] = "CREATE TABLE half (y INTEGER); INSERT INTO no_such_table VALUES (1);";
    ASSERT_INT_EQ(fd_db_open(path, &db, &err), 0);
    fd_error_clear(&err);
    ASSERT_INT_EQ(fd_db_migrate_with(db, sqls, n + 2, &err), -1);
    free(sqls);
    ASSERT_STR_EQ(err.code, "migration_failed");
    ASSERT(strstr(err.message, "no_such_table") != NULL);
    ASSERT_INT_EQ(fd_db_schema_version(db), (long long)n + 1);
    ASSERT(table_exists(fd_db_handle(db), "good"));
    ASSERT(!table_exists(fd_db_handle(db), "half"));
    ASSERT(sqlite3_get_autocommit(fd_db_handle(db)));          /* no transaction left open */
    ASSERT_INT_EQ(query_int(fd_db_handle(db), "PRAGMA foreign_keys"), 1); /* restored */
    fd_db_close(db);
}

TEST(migration_leaving_a_dangling_foreign_key_fails) {
    static const char *const sqls[] = {
        "CREATE TABLE parent (id INTEGER PRIMARY KEY);"
        "CREATE TABLE child (p INTEGER REFERENCES parent (id));",
        "INSERT INTO child VALUES (42);"};
    fd_db *db;
    fd_error err;
    ASSERT_INT_EQ(fd_db_open(":memory:", &db, &err), 0);
    ASSERT_INT_EQ(sqlite3_exec(fd_db_handle(db), "PRAGMA user_version = 0", NULL, NULL, NULL),
                  SQLITE_OK);
    ASSERT_INT_EQ(fd_db_migrate_with(db, sqls, 2, &err), -1);
    ASSERT_STR_EQ(err.code, "migration_failed");
    ASSERT(strstr(err.message, "child") != NULL);
    ASSERT_INT_EQ(fd_db_schema_version(db), 1);
    ASSERT_INT_EQ(query_int(fd_db_handle(db), "SELECT count(*) FROM child"), 0);
    fd_db_close(db);
}

typedef struct { const char *path; int rc; char message[512]; } open_arg;

static void *open_thread(void *p) {
    open_arg *a = p;
    fd_db *db;
    fd_error err;
    a->rc = fd_db_open(a->path, &db, &err);
    if (a->rc == 0) fd_db_close(db);
    else snprintf(a->message, sizeof a->message, "%s", err.message);
    return NULL;
}

/* The migrations are not idempotent (plain CREATE TABLE): if two openers both applied
 * version 1, the second would fail. */
TEST(concurrent_first_opens_apply_migrations_once) {
    enum { N = 4 };
    const char *path = fresh_path();
    pthread_t th[N];
    open_arg args[N];
    fd_db *db;
    fd_error err;
    for (int i = 0; i < N; i++) {
        args[i] = (open_arg){.path = path, .rc = -2};
        pthread_create(&th[i], NULL, open_thread, &args[i]);
    }
    for (int i = 0; i < N; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < N; i++) {
        if (args[i].rc != 0) {
            tl_fail(__FILE__, __LINE__, "opener %d failed: %s", i, args[i].message);
            return;
        }
    }
    ASSERT_INT_EQ(fd_db_open(path, &db, &err), 0);
    ASSERT_INT_EQ(fd_db_schema_version(db), fd_db_binary_schema_version());
    fd_db_close(db);
}

/* Deleting a model removes its versions, labels and their matrices; a labelled version
 * cannot be deleted on its own. */
TEST(schema_cascades_model_deletion_and_protects_labelled_versions) {
    fd_db *db;
    fd_error err;
    sqlite3 *h;
    ASSERT_INT_EQ(fd_db_open(":memory:", &db, &err), 0);
    h = fd_db_handle(db);
    ASSERT_INT_EQ(sqlite3_exec(h,
        "INSERT INTO models (name, kind, k) VALUES ('m', 'ca1', 3);"
        "INSERT INTO matrices (id, dtype, rows, cols, checksum, data) VALUES "
        "  (1, 'f64', 0, 0, 0, x''), (2, 'f64', 0, 0, 0, x'');"
        "INSERT INTO model_versions (model, version, state, weights_id, factors_id) "
        "  VALUES ('m', 1, 'ready', 1, 2);"
        "INSERT INTO labels (model, label, version) VALUES ('m', 'stable', 1);",
        NULL, NULL, NULL), SQLITE_OK);
    ASSERT(sqlite3_exec(h, "DELETE FROM model_versions WHERE version = 1", NULL, NULL, NULL) !=
           SQLITE_OK);
    ASSERT(sqlite3_exec(h, "UPDATE model_versions SET state = 'bogus'", NULL, NULL, NULL) !=
           SQLITE_OK);
    ASSERT_INT_EQ(sqlite3_exec(h, "DELETE FROM models WHERE name = 'm'", NULL, NULL, NULL),
                  SQLITE_OK);
    ASSERT_INT_EQ(query_int(h, "SELECT count(*) FROM model_versions"), 0);
    ASSERT_INT_EQ(query_int(h, "SELECT count(*) FROM labels"), 0);
    ASSERT_INT_EQ(query_int(h, "SELECT count(*) FROM matrices"), 0);
    fd_db_close(db);
}

TEST(jobs_reject_unknown_states_and_invalid_json) {
    fd_db *db;
    fd_error err;
    sqlite3 *h;
    ASSERT_INT_EQ(fd_db_open(":memory:", &db, &err), 0);
    h = fd_db_handle(db);
    ASSERT_INT_EQ(sqlite3_exec(h, "INSERT INTO jobs (kind, params) VALUES ('train', '{\"a\":1}')",
                               NULL, NULL, NULL), SQLITE_OK);
    ASSERT(sqlite3_exec(h, "INSERT INTO jobs (kind, state) VALUES ('train', 'done')", NULL, NULL,
                        NULL) != SQLITE_OK);
    ASSERT(sqlite3_exec(h, "INSERT INTO jobs (kind, params) VALUES ('train', '{oops')", NULL,
                        NULL, NULL) != SQLITE_OK);
    ASSERT_INT_EQ(query_int(h, "SELECT count(*) FROM jobs WHERE state = 'queued'"), 1);
    fd_db_close(db);
}

TEST_MAIN(T(migrates_an_empty_database_to_the_binary_version),
          T(reopening_is_idempotent_and_keeps_data),
          T(connection_pragmas_are_wal_fk_and_busy_timeout),
          T(newer_database_is_refused_with_a_clear_message),
          T(missing_migrations_are_applied_in_order),
          T(failing_migration_leaves_the_previous_version),
          T(migration_leaving_a_dangling_foreign_key_fails),
          T(concurrent_first_opens_apply_migrations_once),
          T(schema_cascades_model_deletion_and_protects_labelled_versions),
          T(jobs_reject_unknown_states_and_invalid_json))
