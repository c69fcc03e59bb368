/* The SQLite store: connections, migrations, transactions and the connection pool.
 *
 * Every connection is in WAL mode with a busy timeout and foreign keys on; fd_db_open
 * applies the embedded migrations (migrations/NNNN_*.sql) under PRAGMA user_version and
 * refuses a database whose version is newer than the binary. Write transactions are
 * BEGIN IMMEDIATE (fd_db_begin). A connection is used by one thread at a time; the pool
 * hands connections to worker threads. Resource-specific stores live in their own headers
 * (store_data.h for panels and factors, store_models.h, ...). */
#ifndef FACTORD_STORE_H
#define FACTORD_STORE_H

#include <sqlite3.h>
#include <stddef.h>

#include "factord/error.h"

typedef struct fd_db fd_db;

/* Opens (creating if absent) and migrates. Caller closes with fd_db_close. */
int fd_db_open(const char *path, fd_db **out, fd_error *err);
void fd_db_close(fd_db *db);
sqlite3 *fd_db_handle(fd_db *db);
/* Current schema version of the open database and the binary's own. */
int fd_db_schema_version(fd_db *db);
int fd_db_binary_schema_version(void);

int fd_db_begin(fd_db *db, fd_error *err); /* BEGIN IMMEDIATE */
int fd_db_commit(fd_db *db, fd_error *err);
void fd_db_rollback(fd_db *db);
/* Sets the calling thread's commit guard (NULL clears it): before any transaction of any
 * connection commits on this thread, explicit or autocommit, guard(ctx) is called, and a
 * non-zero answer rolls the transaction back instead (fd_db_commit then fails with 503
 * "timeout"). The HTTP server guards each request's handler with the request's deadline, so
 * a request answered 503 at its deadline never commits afterwards (src/http/conn.c). */
void fd_db_guard_commits(int (*guard)(void *ctx), void *ctx);
/* fd_db_commit for a transaction no reader can see the effect of (an import's staged rows
 * before it is published, their removal): the commit guard is not consulted, so a request
 * past its deadline can still clean up after itself. */
int fd_db_commit_invisible(fd_db *db, fd_error *err);
/* Fills err from the connection's last SQLite error (500 "store_error"); returns -1. */
int fd_db_error(fd_db *db, fd_error *err, const char *what);

/* Added for the resource stores (panels, factors, models, jobs):
 * fd_db_error maps SQLITE_BUSY/LOCKED (busy timeout expired) to 503 "store_busy", a retry
 * being the right answer. fd_db_commit rolls the transaction back when COMMIT fails.
 * fd_db_prepare and fd_db_exec report failures through fd_db_error, naming the statement.
 * fd_db_begin_read opens a deferred (read) transaction when none is open, so several SELECTs
 * see one snapshot, and sets *began; fd_db_end_read(db, began) ends it only if it began. */
int fd_db_prepare(fd_db *db, const char *sql, sqlite3_stmt **out, fd_error *err);
int fd_db_exec(fd_db *db, const char *sql, fd_error *err);
int fd_db_begin_read(fd_db *db, int *began, fd_error *err);
void fd_db_end_read(fd_db *db, int began);
/* Writes a consistent copy of the database to dest (VACUUM INTO) while others keep working;
 * fails if dest exists. Not inside a transaction. */
int fd_db_snapshot(fd_db *db, const char *dest, fd_error *err);

/* A thread-safe pool of connections to one database file. */
typedef struct fd_db_pool fd_db_pool;
int fd_db_pool_create(const char *path, fd_db_pool **out, fd_error *err);
void fd_db_pool_destroy(fd_db_pool *pool); /* all connections must have been released */
fd_db *fd_db_pool_acquire(fd_db_pool *pool, fd_error *err);
void fd_db_pool_release(fd_db_pool *pool, fd_db *db);

#endif
