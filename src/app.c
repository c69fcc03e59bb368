/* fd_app helpers for handlers (any thread). */
#include "factord/app.h"

fd_db *fd_app_db_acquire(fd_app *app, fd_error *err) {
    fd_db *db;
    if (!app || !app->db) {
        fd_error_set(err, 503, "db_unavailable", "the database is not open");
        return NULL;
    }
    db = fd_db_pool_acquire(app->db, err);
    /* Whatever the pool's reason, for a client it means "try again later". */
    if (!db && err) err->status = 503;
    return db;
}

void fd_app_db_release(fd_app *app, fd_db *db) {
    if (app && app->db && db) fd_db_pool_release(app->db, db);
}
