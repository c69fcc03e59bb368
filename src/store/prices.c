/* Daily bars in the store (table prices, migrations/0002_prices.sql): upsert of a whole
 * container in one transaction, range loads and the stored extent. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/store_prices.h"

static void bind_maybe(sqlite3_stmt *st, int i, double v) {
    if (isnan(v)) sqlite3_bind_null(st, i);
    else sqlite3_bind_double(st, i, v);
}

int fd_store_prices_put(fd_db *db, const fd_bars *bars, fd_error *err) {
    sqlite3_stmt *st;
    int rc = 0;
    if (fd_db_begin(db, err) != 0) return -1;
    if (fd_db_prepare(db,
                      "INSERT INTO prices (ticker, date, open, high, low, close, volume) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (ticker, date) DO "
                      "UPDATE SET open = excluded.open, high = excluded.high, "
                      "low = excluded.low, close = excluded.close, volume = excluded.volume",
                      &st, err) != 0) {
        fd_db_rollback(db);
        return -1;
    }
    for (size_t i = 0; i < fd_bars_n_tickers(bars) && rc == 0; i++) {
        size_t n;
        const fd_bar *s = fd_bars_series(bars, i, &n);
        sqlite3_bind_text(st, 1, fd_bars_ticker(bars, i), -1, SQLITE_STATIC);
        for (size_t k = 0; k < n; k++) {
            char date[FD_DATE_LEN];
            fd_date_format(s[k].date, date);
            sqlite3_bind_text(st, 2, date, -1, SQLITE_TRANSIENT);
            bind_maybe(st, 3, s[k].open);
            bind_maybe(st, 4, s[k].high);
            bind_maybe(st, 5, s[k].low);
            sqlite3_bind_double(st, 6, s[k].close);
            sqlite3_bind_double(st, 7, s[k].volume);
            if (sqlite3_step(st) != SQLITE_DONE) {
                rc = fd_db_error(db, err, "storing daily bars");
                break;
            }
            sqlite3_reset(st);
        }
    }
    sqlite3_finalize(st);
    if (rc != 0) {
        fd_db_rollback(db);
        return -1;
    }
    return fd_db_commit(db, err);
}

static double column_maybe(sqlite3_stmt *st, int i) {
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

static int check_bound(const char *date, fd_error *err) {
    int32_t d;
    if (date && fd_date_parse(date, strlen(date), &d) != 0)
        return fd_error_set(err, 400, "bad_date", "date \"%.40s\" is not YYYY-MM-DD", date);
    return 0;
}

int fd_store_prices_load(fd_db *db, const char *from_date, const char *to_date, fd_bars **out,
                         fd_error *err) {
    sqlite3_stmt *st;
    int step = SQLITE_DONE, rc = 0;
    *out = NULL;
    if (check_bound(from_date, err) || check_bound(to_date, err)) return -1;
    fd_bars *b = fd_bars_new();
    if (!b) return fd_error_set(err, 500, "out_of_memory", "loading daily bars");
    if (fd_db_prepare(db,
                      "SELECT ticker, date, open, high, low, close, volume FROM prices "
                      "WHERE (?1 IS NULL OR date >= ?1) AND (?2 IS NULL OR date <= ?2)",
                      &st, err) != 0) {
        fd_bars_free(b);
        return -1;
    }
    if (from_date) sqlite3_bind_text(st, 1, from_date, -1, SQLITE_STATIC);
    if (to_date) sqlite3_bind_text(st, 2, to_date, -1, SQLITE_STATIC);
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *ticker = (const char *)sqlite3_column_text(st, 0);
        const char *date = (const char *)sqlite3_column_text(st, 1);
        fd_bar bar = {0, column_maybe(st, 2), column_maybe(st, 3), column_maybe(st, 4),
                      column_maybe(st, 5), column_maybe(st, 6)};
        if (!ticker || !date || fd_date_parse(date, strlen(date), &bar.date) != 0)
            rc = fd_error_set(err, 500, "bad_stored_bar", "stored bar (%s, %s) is malformed",
                              ticker ? ticker : "?", date ? date : "?");
        else if (fd_bars_add(b, ticker, &bar, 0, err) != 0)
            rc = fd_error_prefix(err, "stored bar (%s, %s)", ticker, date);
    }
    if (rc == 0 && step != SQLITE_DONE) rc = fd_db_error(db, err, "loading daily bars");
    sqlite3_finalize(st);
    if (rc == 0) rc = fd_bars_finish(b, err);
    if (rc != 0) {
        fd_bars_free(b);
        return -1;
    }
    *out = b;
    return 0;
}

int fd_store_prices_extent(fd_db *db, fd_prices_extent *out, fd_error *err) {
    sqlite3_stmt *st;
    memset(out, 0, sizeof *out);
    if (fd_db_prepare(db, "SELECT count(*), min(date), max(date) FROM prices", &st, err))
        return -1;
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        out->rows = (size_t)sqlite3_column_int64(st, 0);
        const char *lo = (const char *)sqlite3_column_text(st, 1);
        const char *hi = (const char *)sqlite3_column_text(st, 2);
        if (lo) snprintf(out->first_date, sizeof out->first_date, "%.10s", lo);
        if (hi) snprintf(out->last_date, sizeof out->last_date, "%.10s", hi);
    } else {
        fd_db_error(db, err, "reading the daily bars extent");
    }
    sqlite3_finalize(st);
    return step == SQLITE_ROW ? 0 : -1;
}

int fd_store_prices_any(fd_db *db, int *any, fd_error *err) {
    sqlite3_stmt *st;
    if (fd_db_prepare(db, "SELECT 1 FROM prices LIMIT 1", &st, err) != 0) return -1;
    int step = sqlite3_step(st), rc = 0;
    *any = step == SQLITE_ROW;
    if (step != SQLITE_ROW && step != SQLITE_DONE) rc = fd_db_error(db, err, "looking for bars");
    sqlite3_finalize(st);
    return rc;
}
