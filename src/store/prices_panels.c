/* Stored daily bars -> stored monthly panels: load the bars the requested months need
 * (their own plus the history their windows read), build, and replace those months in one
 * transaction, so a failure leaves every stored panel as it was. */
#include <stdlib.h>
#include <string.h>

#include "factord/store_data.h"
#include "factord/store_prices.h"

/* Shares of the progress each phase reports: loading, building, writing. */
#define PHASE_LOAD 0.3
#define PHASE_BUILD 0.5

typedef struct build_progress {
    const fd_build_hooks *hooks;
    double from, span; /* this phase's range of the whole */
} build_progress;

static int report(const fd_build_hooks *hooks, double progress, fd_error *err) {
    if (!hooks || !hooks->progress || hooks->progress(hooks->ctx, progress) == 0) return 0;
    return fd_error_set(err, 409, "cancelled", "the build was cancelled");
}

static int build_phase_progress(void *ctx, double done) {
    build_progress *bp = ctx;
    return bp->hooks->progress(bp->hooks->ctx, bp->from + bp->span * done);
}

/* Replaces the built months in one transaction; the commit hook runs inside it. */
static int write_panels(fd_db *db, const fd_panel *panels, size_t n, const fd_daily_stats *st,
                        const fd_build_hooks *hooks, fd_error *err) {
    if (fd_db_begin(db, err) != 0) return -1;
    for (size_t i = 0; i < n; i++) {
        if (fd_store_panel_write(db, &panels[i], err) != 0) {
            fd_error_prefix(err, "panel %s", panels[i].month);
            goto fail;
        }
        /* No progress callback inside the transaction: it may write the job row itself. */
    }
    if (hooks && hooks->commit && hooks->commit(hooks->ctx, db, st, err) != 0) goto fail;
    return fd_db_commit(db, err);
fail:
    fd_db_rollback(db);
    return -1;
}

int fd_store_panels_from_prices(fd_db *db, const fd_daily_opts *opts,
                                const fd_build_hooks *hooks, fd_daily_stats *stats,
                                fd_error *err) {
    static const fd_daily_opts no_opts;
    char from_date[FD_DATE_LEN] = "", to_date[FD_DATE_LEN] = "";
    fd_daily_stats local;
    fd_bars *bars = NULL;
    fd_panel *panels = NULL;
    size_t n = 0;
    int rc = -1;
    if (!opts) opts = &no_opts;
    if (!stats) stats = &local;
    memset(stats, 0, sizeof *stats);
    fd_outlier_log_init(&stats->outliers, &opts->outliers);
    if ((opts->from[0] && fd_month_parse(opts->from, NULL, NULL, err) != 0) ||
        (opts->to[0] && fd_month_parse(opts->to, NULL, NULL, err) != 0))
        goto done;
    if (opts->from[0]) fd_daily_history_start(opts->from, from_date);
    if (opts->to[0]) {
        int y, m;
        fd_month_parse(opts->to, &y, &m, NULL);
        fd_date_format(fd_date_from_ymd(y + m / 12, m % 12 + 1, 1) - 1, to_date);
    }
    if (report(hooks, 0.0, err) != 0 ||
        fd_store_prices_load(db, from_date[0] ? from_date : NULL, to_date[0] ? to_date : NULL,
                             &bars, err) != 0 ||
        report(hooks, PHASE_LOAD, err) != 0)
        goto done;
    fd_daily_opts with_progress = *opts;
    build_progress bp = {hooks, PHASE_LOAD, PHASE_BUILD};
    if (hooks && hooks->progress) {
        with_progress.progress = build_phase_progress;
        with_progress.progress_ctx = &bp;
    }
    fd_daily_stats_free(stats);
    if (fd_daily_build(bars, &with_progress, &panels, &n, stats, err) != 0 ||
        report(hooks, PHASE_LOAD + PHASE_BUILD, err) != 0)
        goto done;
    fd_bars_free(bars); /* the bars can go before the write: they are the bigger part */
    bars = NULL;
    rc = write_panels(db, panels, n, stats, hooks, err);
done:
    for (size_t i = 0; i < n; i++) fd_panel_free(&panels[i]);
    free(panels);
    fd_bars_free(bars);
    if (stats == &local) fd_daily_stats_free(&local);
    return rc;
}
