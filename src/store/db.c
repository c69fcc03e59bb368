/* SQLite connections: open with the house pragmas, migrate, transactions, error mapping.
 * The connection pool lives in db_pool.c. */
#include "db_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "factord/log.h"

/* Long enough to ride out a checkpoint or another writer's transaction, short enough that a
 * stuck writer turns into a 503 rather than a hung request. */
#define FD_DB_BUSY_TIMEOUT_MS 5000
#define FD_DB_WAL_LIMIT_TEXT "33554432" /* 32 MiB (docs/operations.md, "The WAL") */

struct fd_db {
    sqlite3 *h;
};

sqlite3 *fd_db_handle(fd_db *db) { return db->h; }

int fd_db_error(fd_db *db, fd_error *err, const char *what) {
    int code = sqlite3_extended_errcode(db->h);
    int primary = code & 0xff;
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
        return fd_error_set(err, 503, "store_busy", "%s: database busy, retry later (%s)", what,
                            sqlite3_errmsg(db->h));
    return fd_error_set(err, 500, "store_error", "%s: %s (sqlite %d)", what,
                        sqlite3_errmsg(db->h), code);
}

int fd_db_prepare(fd_db *db, const char *sql, sqlite3_stmt **out, fd_error *err) {
    if (sqlite3_prepare_v2(db->h, sql, -1, out, NULL) != SQLITE_OK) {
        char what[96];
        snprintf(what, sizeof what, "prepare \"%.60s\"", sql);
        *out = NULL;
        return fd_db_error(db, err, what);
    }
    return 0;
}

int fd_db_exec(fd_db *db, const char *sql, fd_error *err) {
    if (sqlite3_exec(db->h, sql, NULL, NULL, NULL) != SQLITE_OK) {
        char what[96];
        snprintf(what, sizeof what, "\"%.60s\"", sql);
        return fd_db_error(db, err, what);
    }
    return 0;
}

/* The calling thread's commit guard (fd_db_guard_commits). Every connection's commit hook
 * consults it, so it sees every commit, explicit or autocommit. */
static _Thread_local int (*commit_guard)(void *ctx);
static _Thread_local void *commit_guard_ctx;
static _Thread_local int commit_unguarded; /* inside fd_db_commit_invisible */

void fd_db_guard_commits(int (*guard)(void *ctx), void *ctx) {
    commit_guard = guard;
    commit_guard_ctx = ctx;
}

/* SQLite's commit hook: non-zero turns the commit into a rollback
 * (SQLITE_CONSTRAINT_COMMITHOOK). */
static int db_commit_hook(void *unused) {
    (void)unused;
    return commit_guard && !commit_unguarded && commit_guard(commit_guard_ctx) != 0;
}

int fd_db_begin(fd_db *db, fd_error *err) { return fd_db_exec(db, "BEGIN IMMEDIATE", err); }

int fd_db_commit(fd_db *db, fd_error *err) {
    if (fd_db_exec(db, "COMMIT", err) == 0) return 0;
    if (sqlite3_extended_errcode(db->h) == SQLITE_CONSTRAINT_COMMITHOOK)
        fd_error_set(err, 503, "timeout", "the request passed its deadline before its changes "
                     "were committed; nothing was stored");
    fd_db_rollback(db);
    return -1;
}

int fd_db_commit_invisible(fd_db *db, fd_error *err) {
    commit_unguarded = 1;
    int rc = fd_db_commit(db, err);
    commit_unguarded = 0;
    return rc;
}

void fd_db_rollback(fd_db *db) {
    /* SQLite may already have rolled back on its own (SQLITE_FULL, IOERR, ...). */
    if (!sqlite3_get_autocommit(db->h)) sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
}

int fd_db_begin_read(fd_db *db, int *began, fd_error *err) {
    *began = 0;
    if (!sqlite3_get_autocommit(db->h)) return 0;
    if (fd_db_exec(db, "BEGIN DEFERRED", err) != 0) return -1;
    *began = 1;
    return 0;
}

void fd_db_end_read(fd_db *db, int began) {
    /* A read transaction has nothing to keep: ending it by rollback cannot fail. */
    if (began) fd_db_rollback(db);
}

/* Reads a single-integer PRAGMA; returns -1 and fills err on failure. */
static int db_pragma_int(fd_db *db, const char *pragma, long long *out, fd_error *err) {
    sqlite3_stmt *st;
    int rc;
    if (fd_db_prepare(db, pragma, &st, err) != 0) return -1;
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        fd_db_error(db, err, pragma);
        sqlite3_finalize(st);
        return -1;
    }
    *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return 0;
}

int fd_db_schema_version(fd_db *db) {
    long long v;
    if (db_pragma_int(db, "PRAGMA user_version", &v, NULL) != 0) return -1;
    return (int)v;
}

int fd_db_binary_schema_version(void) { return (int)fd_migrations_count; }

static int db_too_new(long long v, size_t n, fd_error *err) {
    return fd_error_set(err, 500, "schema_too_new",
                        "database schema version %lld is newer than this factord (%zu); "
                        "upgrade factord",
                        v, n);
}

/* Fails when the open transaction left a foreign key dangling (a table rebuild gone wrong). */
static int db_check_foreign_keys(fd_db *db, int version, fd_error *err) {
    sqlite3_stmt *st;
    int rc;
    if (fd_db_prepare(db, "PRAGMA foreign_key_check", &st, err) != 0) return -1;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        fd_error_set(err, 500, "migration_failed",
                     "migration %d leaves a foreign key violation in table %s", version,
                     (const char *)sqlite3_column_text(st, 0));
    } else if (rc != SQLITE_DONE) {
        fd_db_error(db, err, "PRAGMA foreign_key_check");
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Applies migration number v+1 inside the caller's transaction. */
static int db_apply_one(fd_db *db, const char *sql, long long v, fd_error *err) {
    char bump[64];
    char *msg = NULL;
    if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fd_error_set(err, 500, "migration_failed", "migration %lld failed: %s", v + 1,
                     msg ? msg : sqlite3_errmsg(db->h));
        sqlite3_free(msg);
        return -1;
    }
    if (db_check_foreign_keys(db, (int)(v + 1), err) != 0) return -1;
    snprintf(bump, sizeof bump, "PRAGMA user_version = %lld", v + 1);
    return fd_db_exec(db, bump, err);
}

int fd_db_migrate_with(fd_db *db, const char *const *sqls, size_t n, fd_error *err) {
    long long v, from;
    int rc = 0;
    if (db_pragma_int(db, "PRAGMA user_version", &v, err) != 0) return -1;
    from = v;
    if (v < 0 || (unsigned long long)v > n) return db_too_new(v, n, err);
    if ((size_t)v == n) return 0;
    if (fd_db_exec(db, "PRAGMA foreign_keys = OFF", err) != 0) return -1;
    for (;;) {
        if (fd_db_begin(db, err) != 0) { rc = -1; break; }
        /* Another process may have migrated between our read and our write lock. */
        if (db_pragma_int(db, "PRAGMA user_version", &v, err) != 0) { rc = -1; break; }
        if (v < 0 || (unsigned long long)v > n) { rc = db_too_new(v, n, err); break; }
        if ((size_t)v == n) break;
        if (db_apply_one(db, sqls[v], v, err) != 0) { rc = -1; break; }
        if (fd_db_commit(db, err) != 0) { rc = -1; break; }
        if (v + 1 == (long long)n)
            fd_info("store: schema migrated from version %lld to %zu", from, n);
    }
    fd_db_rollback(db);
    if (fd_db_exec(db, "PRAGMA foreign_keys = ON", rc == 0 ? err : NULL) != 0) rc = -1;
    return rc;
}

/* Steps a statement, retrying SQLITE_BUSY for up to the busy timeout. Switching a fresh file
 * to WAL needs an exclusive lock, and SQLite answers BUSY at once, without calling the busy
 * handler, when two connections would otherwise deadlock on a rollback-journal file: that
 * happens when several processes or pool connections open a new database together. */
static int db_step_retrying_busy(sqlite3_stmt *st) {
    enum { PAUSE_MS = 10 };
    int rc;
    for (int waited = 0;; waited += PAUSE_MS) {
        rc = sqlite3_step(st);
        if ((rc & 0xff) != SQLITE_BUSY || waited >= FD_DB_BUSY_TIMEOUT_MS) return rc;
        sqlite3_reset(st);
        sqlite3_sleep(PAUSE_MS);
    }
}

/* Sets the connection pragmas. synchronous=NORMAL is safe with WAL: a commit is appended to
 * the WAL with write() before COMMIT returns, so killing the process (kill -9, crash) never
 * loses or tears a committed transaction; the WAL is fsynced at checkpoints, so only an OS
 * crash or power loss can roll back the last few commits, and never corrupts the file. FULL
 * would add an fsync to every commit for that case alone. */
static int db_configure(fd_db *db, const char *path, fd_error *err) {
    sqlite3_stmt *st;
    const char *mode;
    int ok;
    sqlite3_extended_result_codes(db->h, 1);
    sqlite3_busy_timeout(db->h, FD_DB_BUSY_TIMEOUT_MS);
    sqlite3_commit_hook(db->h, db_commit_hook, NULL);
    if (fd_db_prepare(db, "PRAGMA journal_mode = WAL", &st, err) != 0) return -1;
    if (db_step_retrying_busy(st) != SQLITE_ROW) {
        fd_db_error(db, err, "PRAGMA journal_mode = WAL");
        sqlite3_finalize(st);
        return -1;
    }
    mode = (const char *)sqlite3_column_text(st, 0);
    /* An in-memory database answers "memory"; any file database must really be in WAL. */
    ok = mode && (strcmp(mode, "wal") == 0 ||
                  (strcmp(mode, "memory") == 0 && (!path[0] || strcmp(path, ":memory:") == 0)));
    if (!ok) fd_error_set(err, 500, "store_error", "%s: cannot switch to WAL (journal mode %s)",
                          path, mode ? mode : "unknown");
    sqlite3_finalize(st);
    if (!ok) return -1;
    /* journal_size_limit: after a transaction larger than this (a panel build), the WAL file
     * is truncated back to it once checkpointed, instead of keeping its largest size. */
    return fd_db_exec(db,
                      "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; "
                      "PRAGMA journal_size_limit = " FD_DB_WAL_LIMIT_TEXT,
                      err);
}

int fd_db_open(const char *path, fd_db **out, fd_error *err) {
    fd_db *db;
    int rc;
    *out = NULL;
    db = calloc(1, sizeof *db);
    if (!db) return fd_error_set(err, 500, "out_of_memory", "opening database %s", path);
    /* NOMUTEX: a connection is used by one thread at a time (the pool's rule). */
    rc = sqlite3_open_v2(path, &db->h,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        fd_error_set(err, 500, "store_error", "cannot open database %s: %s", path,
                     db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
        sqlite3_close(db->h);
        free(db);
        return -1;
    }
    if (db_configure(db, path, err) != 0 ||
        fd_db_migrate_with(db, fd_migrations, fd_migrations_count, err) != 0) {
        fd_error_prefix(err, "database %s", path);
        fd_db_close(db);
        return -1;
    }
    *out = db;
    return 0;
}

void fd_db_close(fd_db *db) {
    if (!db) return;
    fd_db_rollback(db);
    /* close_v2 defers the close if a caller leaked a statement instead of failing. */
    sqlite3_close_v2(db->h);
    free(db);
}

int fd_db_snapshot(fd_db *db, const char *dest, fd_error *err) {
    sqlite3_stmt *st;
    int rc;
    /* VACUUM INTO writes a consistent, compacted copy from one read transaction while writers
     * carry on; it refuses to overwrite an existing file, which keeps old snapshots safe. */
    if (fd_db_prepare(db, "VACUUM INTO ?1", &st, err) != 0) return -1;
    sqlite3_bind_text(st, 1, dest, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        char what[300];
        snprintf(what, sizeof what, "snapshot to %.250s", dest);
        fd_db_error(db, err, what);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}
