/* Stored daily bars -> stored monthly panels: load the bars the requested months need
 * (their own plus the history their windows read), build, and replace those months in one
 * transaction, so a failure leaves every stored panel as it was. */
#include <stdlib.h>
#include <string.h>

#include "factord/store_data.h"
#include "factord/store_prices.h"

int fd_store_panels_from_prices(fd_db *db, const fd_daily_opts *opts, fd_daily_stats *stats,
                                fd_error *err) {
    static const fd_daily_opts no_opts;
    char from_date[FD_DATE_LEN] = "", to_date[FD_DATE_LEN] = "";
    fd_bars *bars = NULL;
    fd_panel *panels = NULL;
    size_t n = 0;
    int rc = -1;
    if (!opts) opts = &no_opts;
    if (stats) {
        memset(stats, 0, sizeof *stats);
        fd_outlier_log_init(&stats->outliers, &opts->outliers);
    }
    if ((opts->from[0] && fd_month_parse(opts->from, NULL, NULL, err) != 0) ||
        (opts->to[0] && fd_month_parse(opts->to, NULL, NULL, err) != 0))
        return -1;
    if (opts->from[0]) fd_daily_history_start(opts->from, from_date);
    if (opts->to[0]) {
        int y, m;
        fd_month_parse(opts->to, &y, &m, NULL);
        fd_date_format(fd_date_from_ymd(y + m / 12, m % 12 + 1, 1) - 1, to_date);
    }
    if (fd_store_prices_load(db, from_date[0] ? from_date : NULL, to_date[0] ? to_date : NULL,
                             &bars, err) != 0)
        return -1;
    if (fd_daily_build(bars, opts, &panels, &n, stats, err) != 0) goto done;
    if (fd_db_begin(db, err) != 0) goto done;
    for (size_t i = 0; i < n; i++)
        if (fd_store_panel_write(db, &panels[i], err) != 0) {
            fd_error_prefix(err, "panel %s", panels[i].month);
            fd_db_rollback(db);
            goto done;
        }
    rc = fd_db_commit(db, err);
done:
    for (size_t i = 0; i < n; i++) fd_panel_free(&panels[i]);
    free(panels);
    fd_bars_free(bars);
    return rc;
}
