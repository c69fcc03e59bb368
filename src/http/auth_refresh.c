/* Keeps the token snapshot (auth.h) in step with the store: every second, and at once on
 * SIGHUP, a worker reads the store's token change counter and reloads the tokens when it
 * moved. At most one refresh runs at a time; the loop never touches SQLite itself. */
#include "factord/auth.h"
#include "factord/log.h"
#include "server_internal.h"

#define AUTH_REFRESH_MS 1000

static void refresh_work(uv_work_t *work) {
    fd_auth_refresher *r = work->data;
    fd_error err;
    int changed = 0;
    fd_db *db = fd_app_db_acquire(r->app, &err);
    if (!db || fd_auth_refresh(r->app->auth, db, 0, &changed, &err) != 0) {
        if (!r->failing) fd_warn("cannot refresh the API tokens: %s", err.message);
        r->failing = 1;
    } else {
        if (r->failing) fd_info("API tokens readable again");
        r->failing = 0;
        if (changed) fd_info("API tokens reloaded: %zu active", fd_auth_active(r->app->auth));
    }
    if (db) fd_app_db_release(r->app, db);
}

static void refresh_done(uv_work_t *work, int status) {
    fd_auth_refresher *r = work->data;
    (void)status;
    r->busy = 0;
}

void fd_auth_refresher_now(fd_auth_refresher *r) {
    if (!r->started || r->stopped || r->busy) return;
    r->work.data = r;
    if (uv_queue_work(r->timer.loop, &r->work, refresh_work, refresh_done) == 0) r->busy = 1;
}

static void on_refresh_timer(uv_timer_t *timer) { fd_auth_refresher_now(timer->data); }

void fd_auth_refresher_start(fd_auth_refresher *r, uv_loop_t *loop, fd_app *app) {
    r->app = app;
    if (!app->auth) return;
    uv_timer_init(loop, &r->timer);
    r->timer.data = r;
    uv_timer_start(&r->timer, on_refresh_timer, AUTH_REFRESH_MS, AUTH_REFRESH_MS);
    r->started = 1;
}

void fd_auth_refresher_stop(fd_auth_refresher *r) {
    if (!r->started || r->stopped) return;
    r->stopped = 1;
    uv_close((uv_handle_t *)&r->timer, NULL);
}
