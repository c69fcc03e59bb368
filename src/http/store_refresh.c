/* What the loop thread serves from memory but the store owns, kept fresh by a worker:
 * every second (and at once on SIGHUP) one refresh runs off the loop and
 *   - reloads the token snapshot (auth.h) when the store's token change counter moved;
 *   - re-reads the job counts by kind and state for /metrics (h_metrics.c).
 * At most one refresh runs at a time; the loop never touches SQLite itself. */
#include "factord/auth.h"
#include "factord/log.h"
#include "server_internal.h"

#define REFRESH_MS 1000

static void refresh_work(uv_work_t *work) {
    fd_store_refresher *r = work->data;
    fd_error err;
    int changed = 0, ok = 1;
    fd_db *db = fd_app_db_acquire(r->app, &err);
    if (!db) {
        ok = 0;
    } else {
        if (r->app->auth && fd_auth_refresh(r->app->auth, db, 0, &changed, &err) != 0) ok = 0;
        else if (changed)
            fd_info("API tokens reloaded: %zu active", fd_auth_active(r->app->auth));
        if (ok && fd_metrics_jobs_refresh(db, &err) != 0) ok = 0;
        fd_app_db_release(r->app, db);
    }
    if (!ok && !r->failing) fd_warn("cannot refresh tokens and job counts: %s", err.message);
    else if (ok && r->failing) fd_info("tokens and job counts readable again");
    r->failing = !ok;
}

static void refresh_done(uv_work_t *work, int status) {
    fd_store_refresher *r = work->data;
    (void)status;
    r->busy = 0;
}

void fd_store_refresher_now(fd_store_refresher *r) {
    if (!r->started || r->stopped || r->busy) return;
    r->work.data = r;
    if (uv_queue_work(r->timer.loop, &r->work, refresh_work, refresh_done) == 0) r->busy = 1;
}

static void on_refresh_timer(uv_timer_t *timer) { fd_store_refresher_now(timer->data); }

void fd_store_refresher_start(fd_store_refresher *r, uv_loop_t *loop, fd_app *app) {
    r->app = app;
    uv_timer_init(loop, &r->timer);
    r->timer.data = r;
    uv_timer_start(&r->timer, on_refresh_timer, 0, REFRESH_MS); /* the first at once */
    r->started = 1;
}

void fd_store_refresher_stop(fd_store_refresher *r) {
    if (!r->started || r->stopped) return;
    r->stopped = 1;
    uv_close((uv_handle_t *)&r->timer, NULL);
}
