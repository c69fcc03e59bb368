/* A pool of connections to one database file, shared by the HTTP workers and the job
 * runners. Connections open lazily up to FD_DB_POOL_MAX; beyond that acquire waits for a
 * release. A thread must not hold two connections at once (it could wait on itself). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "factord/log.h"
#include "factord/store.h"

/* SQLite has one writer at a time anyway; more readers than this only add memory. */
#define FD_DB_POOL_MAX 16

struct fd_db_pool {
    char *path;
    pthread_mutex_t mu;
    pthread_cond_t cv;        /* signalled when a connection goes idle or a slot frees */
    fd_db *idle[FD_DB_POOL_MAX];
    size_t n_idle;
    size_t n_open;            /* idle + handed out + being opened */
};

int fd_db_pool_create(const char *path, fd_db_pool **out, fd_error *err) {
    fd_db_pool *pool;
    fd_db *first;
    *out = NULL;
    pool = calloc(1, sizeof *pool);
    if (!pool || !(pool->path = strdup(path))) {
        free(pool);
        return fd_error_set(err, 500, "out_of_memory", "creating the database pool");
    }
    /* Open (and migrate) one connection now so start-up reports a bad database at once. */
    if (fd_db_open(path, &first, err) != 0) {
        free(pool->path);
        free(pool);
        return -1;
    }
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->cv, NULL);
    pool->idle[0] = first;
    pool->n_idle = 1;
    pool->n_open = 1;
    *out = pool;
    return 0;
}

void fd_db_pool_destroy(fd_db_pool *pool) {
    if (!pool) return;
    if (pool->n_idle != pool->n_open)
        fd_warn("store: pool destroyed with %zu connection(s) still acquired",
                pool->n_open - pool->n_idle);
    for (size_t i = 0; i < pool->n_idle; i++) fd_db_close(pool->idle[i]);
    pthread_cond_destroy(&pool->cv);
    pthread_mutex_destroy(&pool->mu);
    free(pool->path);
    free(pool);
}

fd_db *fd_db_pool_acquire(fd_db_pool *pool, fd_error *err) {
    fd_db *db = NULL;
    pthread_mutex_lock(&pool->mu);
    while (pool->n_idle == 0 && pool->n_open >= FD_DB_POOL_MAX)
        pthread_cond_wait(&pool->cv, &pool->mu);
    if (pool->n_idle > 0) {
        db = pool->idle[--pool->n_idle];
        pthread_mutex_unlock(&pool->mu);
        return db;
    }
    pool->n_open++; /* reserve the slot, then open without holding the lock */
    pthread_mutex_unlock(&pool->mu);
    if (fd_db_open(pool->path, &db, err) == 0) return db;
    pthread_mutex_lock(&pool->mu);
    pool->n_open--;
    pthread_cond_signal(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
    return NULL;
}

void fd_db_pool_release(fd_db_pool *pool, fd_db *db) {
    if (!db) return;
    if (!sqlite3_get_autocommit(fd_db_handle(db))) {
        /* A caller's bug; never hand the next thread a half-done transaction. */
        fd_warn("store: connection released inside a transaction; rolling back");
        fd_db_rollback(db);
    }
    pthread_mutex_lock(&pool->mu);
    pool->idle[pool->n_idle++] = db;
    pthread_cond_signal(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
}
