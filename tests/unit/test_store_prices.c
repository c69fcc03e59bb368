/* Daily bars in the store (include/factord/store_prices.h): upsert, range loads, the
 * extent, and panels built from stored bars (full and incremental). */
#include <math.h>
#include <stdlib.h>

#include "factord/store_data.h"
#include "factord/store_prices.h"
#include "testlib.h"

static fd_db *open_fresh(void) {
    static int n;
    char path[512];
    fd_db *db = NULL;
    fd_error err;
    snprintf(path, sizeof path, "%s/prices-%d.db", tl_tmpdir(), n++);
    if (fd_db_open(path, &db, &err) != 0) printf("open %s: %s\n", path, err.message);
    return db;
}

static fd_bars *parse(const char *csv) {
    fd_bars *b = fd_bars_new();
    fd_error err;
    if (fd_bars_read_buffer(b, csv, strlen(csv), &err) != 0) {
        printf("parse: %s\n", err.message);
        fd_bars_free(b);
        return NULL;
    }
    return b;
}

/* Two tickers over Jan..Mar 2020; YYY's open/high/low are empty (stored as NULL). */
static const char *const csv =
    "ticker,date,open,high,low,close,volume\n"
    "XXX,2020-01-31,1,2,0.5,10,100\n"
    "XXX,2020-02-28,1,2,0.5,11,0\n"
    "XXX,2020-03-31,1,2,0.5,12.1,100\n"
    "YYY,2020-02-03,,,,5,10\n"
    "YYY,2020-03-02,,,,6,10\n";

TEST(bars_round_trip_through_the_store) {
    fd_db *db = open_fresh();
    ASSERT(db != NULL);
    fd_bars *b = parse(csv), *back = NULL;
    ASSERT(b != NULL);
    fd_error err;
    ASSERT_INT_EQ(fd_store_prices_put(db, b, &err), 0);
    ASSERT_INT_EQ(fd_store_prices_load(db, NULL, NULL, &back, &err), 0);
    ASSERT_INT_EQ(fd_bars_count(back), 5);
    ASSERT_INT_EQ(fd_bars_n_tickers(back), 2);
    size_t n;
    const fd_bar *y = fd_bars_series(back, 1, &n);
    ASSERT_STR_EQ(fd_bars_ticker(back, 1), "YYY");
    ASSERT_INT_EQ(n, 2);
    ASSERT(isnan(y[0].open));
    ASSERT_NEAR(y[1].close, 6, 0);
    const fd_bar *x = fd_bars_series(back, 0, &n);
    ASSERT_NEAR(x[1].volume, 0, 0);
    ASSERT_NEAR(x[0].low, 0.5, 0);
    fd_prices_extent ext;
    ASSERT_INT_EQ(fd_store_prices_extent(db, &ext, &err), 0);
    ASSERT_INT_EQ(ext.rows, 5);
    ASSERT_STR_EQ(ext.first_date, "2020-01-31");
    ASSERT_STR_EQ(ext.last_date, "2020-03-31");
    fd_bars_free(b);
    fd_bars_free(back);
    fd_db_close(db);
}

TEST(put_replaces_an_existing_bar_and_keeps_others) {
    fd_db *db = open_fresh();
    fd_bars *b = parse(csv), *again = parse("ticker,date,open,high,low,close,volume\n"
                                            "XXX,2020-02-28,1,2,0.5,99,7\n"),
            *back = NULL;
    ASSERT(db && b && again);
    fd_error err;
    ASSERT_INT_EQ(fd_store_prices_put(db, b, &err), 0);
    ASSERT_INT_EQ(fd_store_prices_put(db, again, &err), 0);
    ASSERT_INT_EQ(fd_store_prices_load(db, "2020-02-01", "2020-02-29", &back, &err), 0);
    ASSERT_INT_EQ(fd_bars_count(back), 2); /* XXX Feb 28, YYY Feb 3 */
    size_t n;
    const fd_bar *x = fd_bars_series(back, 0, &n);
    ASSERT_INT_EQ(n, 1);
    ASSERT_NEAR(x[0].close, 99, 0);
    ASSERT_NEAR(x[0].volume, 7, 0);
    fd_bars_free(back);
    ASSERT_INT_EQ(fd_store_prices_load(db, "2030-01-01", NULL, &back, &err), 0);
    ASSERT_INT_EQ(fd_bars_count(back), 0);
    fd_bars_free(back);
    ASSERT_INT_EQ(fd_store_prices_load(db, "2020-1-1", NULL, &back, &err), -1);
    ASSERT_STR_EQ(err.code, "bad_date");
    fd_bars_free(b);
    fd_bars_free(again);
    fd_db_close(db);
}

TEST(panels_from_prices_are_stored_and_rebuilt_incrementally) {
    fd_db *db = open_fresh();
    fd_bars *b = parse(csv);
    ASSERT(db && b);
    fd_error err;
    ASSERT_INT_EQ(fd_store_prices_put(db, b, &err), 0);
    fd_daily_stats st;
    ASSERT_INT_EQ(fd_store_panels_from_prices(db, NULL, NULL, &st, &err), 0);
    ASSERT_INT_EQ(st.months, 3);
    ASSERT_INT_EQ(st.zero_volume_days, 1);
    fd_daily_stats_free(&st);
    fd_panel p;
    ASSERT_INT_EQ(fd_store_panel_get(db, "2020-03", &p, &err), 0);
    ASSERT_INT_EQ(p.n_rows, 2);
    ASSERT_INT_EQ(p.n_cols, FD_DAILY_N_CHARS);
    ASSERT(p.ret != NULL);
    long r = fd_panel_row(&p, "XXX");
    ASSERT(r >= 0);
    ASSERT_NEAR(p.ret[r], 0.1, 1e-12);
    ASSERT_NEAR(p.ret[fd_panel_row(&p, "YYY")], 0.2, 1e-12);
    fd_panel_free(&p);

    /* A new month arrives: only April is rebuilt, from bars reaching back far enough. */
    fd_bars *apr = parse("ticker,date,open,high,low,close,volume\n"
                         "XXX,2020-04-30,1,2,0.5,6.05,100\n");
    ASSERT(apr != NULL);
    ASSERT_INT_EQ(fd_store_prices_put(db, apr, &err), 0);
    fd_daily_opts o = {.from = "2020-04", .to = "2020-04"};
    ASSERT_INT_EQ(fd_store_panels_from_prices(db, &o, NULL, &st, &err), 0);
    ASSERT_INT_EQ(st.months, 1);
    ASSERT_STR_EQ(st.first_month, "2020-04");
    fd_daily_stats_free(&st);
    ASSERT_INT_EQ(fd_store_panel_get(db, "2020-04", &p, &err), 0);
    ASSERT_INT_EQ(p.n_rows, 1);
    ASSERT_NEAR(p.ret[0], -0.5, 1e-12);
    ASSERT_NEAR(p.values[fd_panel_col(&p, "dolvol")], log(12.1 * 100), 1e-12);
    fd_panel_free(&p);

    fd_daily_opts none = {.from = "2031-01"};
    ASSERT_INT_EQ(fd_store_panels_from_prices(db, &none, NULL, &st, &err), -1);
    ASSERT_INT_EQ(err.status, 422);
    fd_daily_stats_free(&st);
    fd_bars_free(b);
    fd_bars_free(apr);
    fd_db_close(db);
}

typedef struct watched {
    double last;
    int calls, monotone, stop_at, fail_commit, in_tx;
    sqlite3 *h;
} watched;

static int watch_progress(void *ctx, double p) {
    watched *w = ctx;
    if (p < w->last) w->monotone = 0;
    if (!sqlite3_get_autocommit(w->h)) w->in_tx = 1;
    w->last = p;
    return ++w->calls == w->stop_at;
}

static int watch_commit(void *ctx, fd_db *db, const fd_daily_stats *st, fd_error *err) {
    watched *w = ctx;
    (void)db;
    if (st->months != 3) return fd_error_set(err, 500, "bad_stats", "months %zu", st->months);
    return w->fail_commit ? fd_error_set(err, 409, "cancelled", "refused") : 0;
}

/* Progress runs 0 -> 1 outside the write transaction; the commit hook runs inside it, and
 * a failing hook or a stop leaves no panel stored. */
TEST(build_hooks_see_progress_and_can_refuse_the_commit) {
    fd_db *db = open_fresh();
    fd_bars *b = parse(csv);
    ASSERT(db && b);
    fd_error err;
    ASSERT_INT_EQ(fd_store_prices_put(db, b, &err), 0);
    watched w = {.monotone = 1, .fail_commit = 1, .h = fd_db_handle(db)};
    fd_build_hooks hooks = {watch_progress, watch_commit, &w};
    ASSERT_INT_EQ(fd_store_panels_from_prices(db, NULL, &hooks, NULL, &err), -1);
    ASSERT_STR_EQ(err.code, "cancelled");
    json_t *list;
    ASSERT_INT_EQ(fd_store_panel_list(db, &list, &err), 0);
    ASSERT_INT_EQ(json_array_size(list), 0);
    json_decref(list);
    w = (watched){.monotone = 1, .stop_at = 2, .h = fd_db_handle(db)};
    ASSERT_INT_EQ(fd_store_panels_from_prices(db, NULL, &hooks, NULL, &err), -1);
    ASSERT_INT_EQ(err.status, 409);
    w = (watched){.monotone = 1, .h = fd_db_handle(db)};
    fd_daily_stats st;
    ASSERT_INT_EQ(fd_store_panels_from_prices(db, NULL, &hooks, &st, &err), 0);
    ASSERT_INT_EQ(st.months, 3);
    fd_daily_stats_free(&st);
    ASSERT(w.monotone && w.calls >= 3 && !w.in_tx);
    ASSERT_NEAR(w.last, 0.8, 1e-12); /* the write phase reports no progress of its own */
    ASSERT_INT_EQ(fd_store_panel_list(db, &list, &err), 0);
    ASSERT_INT_EQ(json_array_size(list), 3);
    json_decref(list);
    fd_bars_free(b);
    fd_db_close(db);
}

/* A partial month keeps its flag through the store, and a rebuild with the month complete
 * clears it. */
TEST(a_partial_month_is_stored_as_partial_until_rebuilt_complete) {
    fd_db *db = open_fresh();
    fd_bars *b = parse(csv), *apr = parse("ticker,date,open,high,low,close,volume\n"
                                          "XXX,2020-04-09,1,2,0.5,13,100\n"),
            *rest = parse("ticker,date,open,high,low,close,volume\n"
                          "XXX,2020-04-30,1,2,0.5,14,100\n");
    ASSERT(db && b && apr && rest);
    fd_error err;
    fd_panel p;
    ASSERT_INT_EQ(fd_store_prices_put(db, b, &err), 0);
    ASSERT_INT_EQ(fd_store_prices_put(db, apr, &err), 0);
    ASSERT_INT_EQ(fd_store_panels_from_prices(db, NULL, NULL, NULL, &err), 0);
    ASSERT_INT_EQ(fd_store_panel_get(db, "2020-04", &p, &err), 0);
    ASSERT_STR_EQ(p.partial_through, "2020-04-09");
    fd_panel_free(&p);
    ASSERT_INT_EQ(fd_store_panel_get(db, "2020-03", &p, &err), 0);
    ASSERT_STR_EQ(p.partial_through, "");
    fd_panel_free(&p);
    json_t *w = json_array();
    ASSERT_INT_EQ(fd_store_panel_partial_warnings(db, "2020-01", "2020-12", w, &err), 0);
    ASSERT_INT_EQ(json_array_size(w), 1);
    ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(w, 0), "month")), "2020-04");
    ASSERT_INT_EQ(fd_store_panel_partial_warnings(db, "2020-01", "2020-03", w, &err), 0);
    ASSERT_INT_EQ(json_array_size(w), 1);
    json_decref(w);
    ASSERT_INT_EQ(fd_store_prices_put(db, rest, &err), 0);
    fd_daily_opts o = {.from = "2020-04"};
    ASSERT_INT_EQ(fd_store_panels_from_prices(db, &o, NULL, NULL, &err), 0);
    ASSERT_INT_EQ(fd_store_panel_get(db, "2020-04", &p, &err), 0);
    ASSERT_STR_EQ(p.partial_through, "");
    fd_panel_free(&p);
    fd_bars_free(b);
    fd_bars_free(apr);
    fd_bars_free(rest);
    fd_db_close(db);
}

TEST_MAIN(T(bars_round_trip_through_the_store), T(put_replaces_an_existing_bar_and_keeps_others),
          T(panels_from_prices_are_stored_and_rebuilt_incrementally),
          T(build_hooks_see_progress_and_can_refuse_the_commit),
          T(a_partial_month_is_stored_as_partial_until_rebuilt_complete))
