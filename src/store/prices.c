/* Daily bars in the store (tables prices, price_batches and price_batch_tickers of
 * migrations/0002 and 0007): batched upserts that commit as they go and publish at once,
 * range loads and the stored extent.
 *
 * An import: (1) reclaim what a dead importer left; (2) open a 'writing' batch; (3) insert
 * its bars in transactions of chunk_rows bars (invisible: readers see committed batches
 * only), so the WAL is checkpointed between them instead of holding the whole file; (4) flip
 * the batch to 'committed' in one small transaction, the moment every bar becomes visible;
 * (5) delete the bars it superseded, ticker by ticker, also in short transactions. A failure
 * before (4) removes the batch's bars; a crash leaves them to (1) of the next import. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "factord/log.h"
#include "factord/store_prices.h"

#define PRICES_CHUNK_ROWS 200000 /* bars per transaction: ~20 MB of pages */
#define COMMITTED "(SELECT id FROM price_batches WHERE state = 'committed')"

static void bind_maybe(sqlite3_stmt *st, int i, double v) {
    if (isnan(v)) sqlite3_bind_null(st, i);
    else sqlite3_bind_double(st, i, v);
}

/* Runs a prepared statement to completion; -1 with err on failure. */
static int step_done(fd_db *db, sqlite3_stmt *st, const char *what, fd_error *err) {
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fd_db_error(db, err, what);
    sqlite3_reset(st);
    return rc;
}

static int process_alive(long pid) {
    return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/* ---- removing bars: an abandoned or failed batch, or what a batch superseded ---- */

/* Deletes, ticker by ticker and in invisible transactions of about chunk_rows bars, the bars
 * of `batch` (superseded = 0) or the older bars that `batch` superseded (superseded = 1),
 * over the tickers price_batch_tickers lists for it. */
static int batch_sweep(fd_db *db, int64_t batch, int superseded, size_t chunk_rows,
                       fd_error *err) {
    sqlite3_stmt *next = NULL, *del = NULL, *done = NULL;
    int rc = 0, step;
    size_t in_tx = 0;
    char last[64] = "";
    if (fd_db_prepare(db,
                      "SELECT ticker FROM price_batch_tickers WHERE batch = ?1 AND ticker > ?2 "
                      "AND (?3 = 0 OR superseded = 1) ORDER BY ticker LIMIT 1",
                      &next, err) != 0 ||
        fd_db_prepare(db,
                      superseded ? "DELETE FROM prices WHERE ticker = ?1 AND batch < ?2 AND date "
                                   "IN (SELECT date FROM prices WHERE ticker = ?1 AND batch = ?2)"
                                 : "DELETE FROM prices WHERE ticker = ?1 AND batch = ?2",
                      &del, err) != 0 ||
        fd_db_prepare(db,
                      superseded ? "UPDATE price_batch_tickers SET superseded = 0 "
                                   "WHERE batch = ?2 AND ticker = ?1"
                                 : "DELETE FROM price_batch_tickers WHERE batch = ?2 AND "
                                   "ticker = ?1",
                      &done, err) != 0)
        rc = -1;
    if (rc == 0) rc = fd_db_begin(db, err);
    while (rc == 0) {
        sqlite3_bind_int64(next, 1, batch);
        sqlite3_bind_text(next, 2, last, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(next, 3, superseded);
        step = sqlite3_step(next);
        if (step == SQLITE_ROW)
            snprintf(last, sizeof last, "%s", (const char *)sqlite3_column_text(next, 0));
        sqlite3_reset(next);
        if (step == SQLITE_DONE) break;
        if (step != SQLITE_ROW) {
            rc = fd_db_error(db, err, "listing a batch's tickers");
            break;
        }
        sqlite3_bind_text(del, 1, last, -1, SQLITE_STATIC);
        sqlite3_bind_int64(del, 2, batch);
        sqlite3_bind_text(done, 1, last, -1, SQLITE_STATIC);
        sqlite3_bind_int64(done, 2, batch);
        if (step_done(db, del, "removing daily bars", err) != 0) {
            rc = -1;
            break;
        }
        in_tx += (size_t)sqlite3_changes(fd_db_handle(db)) + 1;
        if (step_done(db, done, "removing daily bars", err) != 0) {
            rc = -1;
            break;
        }
        if (in_tx >= chunk_rows) {
            in_tx = 0;
            if (fd_db_commit_invisible(db, err) != 0 || fd_db_begin(db, err) != 0) rc = -1;
        }
    }
    if (rc == 0) rc = fd_db_commit_invisible(db, err);
    else fd_db_rollback(db);
    sqlite3_finalize(next);
    sqlite3_finalize(del);
    sqlite3_finalize(done);
    return rc;
}

/* Removes an unpublished batch: its bars, then its row. */
static int batch_remove(fd_db *db, int64_t batch, size_t chunk_rows, fd_error *err) {
    char sql[96];
    if (batch_sweep(db, batch, 0, chunk_rows, err) != 0) return -1;
    snprintf(sql, sizeof sql, "DELETE FROM price_batches WHERE id = %lld AND state = 'writing'",
             (long long)batch);
    return fd_db_exec(db, sql, err);
}

/* What earlier imports left: 'writing' batches of processes that are gone, and committed
 * batches whose superseded bars were not all deleted. */
static int reclaim(fd_db *db, size_t chunk_rows, fd_error *err) {
    sqlite3_stmt *st;
    int64_t ids[64];
    int kinds[64], n = 0, step;
    if (fd_db_prepare(db,
                      "SELECT id, state, pid FROM price_batches WHERE state = 'writing' UNION "
                      "SELECT DISTINCT batch, 'committed', 0 FROM price_batch_tickers "
                      "WHERE superseded = 1 LIMIT 64",
                      &st, err) != 0)
        return -1;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int writing = strcmp((const char *)sqlite3_column_text(st, 1), "writing") == 0;
        if (writing && process_alive((long)sqlite3_column_int64(st, 2))) continue;
        ids[n] = sqlite3_column_int64(st, 0);
        kinds[n++] = writing;
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) return fd_db_error(db, err, "looking for abandoned imports");
    for (int i = 0; i < n; i++) {
        fd_info("store: %s daily-bar batch %lld left by an earlier import",
                kinds[i] ? "removing the abandoned" : "finishing the clean-up of",
                (long long)ids[i]);
        if ((kinds[i] ? batch_remove(db, ids[i], chunk_rows, err)
                      : batch_sweep(db, ids[i], 1, chunk_rows, err)) != 0)
            return -1;
    }
    return 0;
}

/* ---- writing ---- */

/* Opens a 'writing' batch for this process; 409 while another live one writes. */
static int batch_open(fd_db *db, int64_t *batch, fd_error *err) {
    sqlite3_stmt *st;
    int rc = 0, step;
    if (fd_db_begin(db, err) != 0) return -1;
    if (fd_db_prepare(db, "SELECT id, pid FROM price_batches WHERE state = 'writing'", &st,
                      err) != 0) {
        fd_db_rollback(db);
        return -1;
    }
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW)
        if (process_alive((long)sqlite3_column_int64(st, 1)))
            rc = fd_error_set(err, 409, "import_in_progress",
                              "another import of daily bars is being written (batch %lld, "
                              "process %lld); retry when it is done",
                              (long long)sqlite3_column_int64(st, 0),
                              (long long)sqlite3_column_int64(st, 1));
    sqlite3_finalize(st);
    if (rc == 0) {
        char sql[128];
        snprintf(sql, sizeof sql, "INSERT INTO price_batches (state, pid) VALUES ('writing', %ld)",
                 (long)getpid());
        rc = fd_db_exec(db, sql, err);
    }
    if (rc != 0) {
        fd_db_rollback(db);
        return -1;
    }
    *batch = sqlite3_last_insert_rowid(fd_db_handle(db));
    return fd_db_commit_invisible(db, err);
}

typedef struct batch_writer {
    fd_db *db;
    int64_t batch;
    sqlite3_stmt *bar, *ticker, *had;
    size_t in_tx, written;
    const fd_prices_put_opts *opts;
} batch_writer;

/* Inserts ticker i's bars, noting whether the ticker had bars before. */
static int write_ticker(batch_writer *w, const fd_bars *bars, size_t i, fd_error *err) {
    size_t n;
    const fd_bar *s = fd_bars_series(bars, i, &n);
    const char *ticker = fd_bars_ticker(bars, i);
    sqlite3_bind_text(w->had, 1, ticker, -1, SQLITE_STATIC);
    int had = sqlite3_step(w->had);
    sqlite3_reset(w->had);
    if (had != SQLITE_ROW && had != SQLITE_DONE)
        return fd_db_error(w->db, err, "storing daily bars");
    sqlite3_bind_int64(w->ticker, 1, w->batch);
    sqlite3_bind_text(w->ticker, 2, ticker, -1, SQLITE_STATIC);
    sqlite3_bind_int(w->ticker, 3, had == SQLITE_ROW);
    if (step_done(w->db, w->ticker, "storing daily bars", err) != 0) return -1;
    sqlite3_bind_text(w->bar, 1, ticker, -1, SQLITE_STATIC);
    sqlite3_bind_int64(w->bar, 3, w->batch);
    for (size_t k = 0; k < n; k++) {
        char date[FD_DATE_LEN];
        fd_date_format(s[k].date, date);
        sqlite3_bind_text(w->bar, 2, date, -1, SQLITE_TRANSIENT);
        bind_maybe(w->bar, 4, s[k].open);
        bind_maybe(w->bar, 5, s[k].high);
        bind_maybe(w->bar, 6, s[k].low);
        sqlite3_bind_double(w->bar, 7, s[k].close);
        sqlite3_bind_double(w->bar, 8, s[k].volume);
        if (step_done(w->db, w->bar, "storing daily bars", err) != 0) return -1;
    }
    w->in_tx += n;
    w->written += n;
    return 0;
}

/* Inserts every bar into the open batch, committing every chunk_rows bars. */
static int batch_fill(batch_writer *w, const fd_bars *bars, size_t chunk_rows, fd_error *err) {
    int rc = 0;
    if (fd_db_prepare(w->db,
                      "INSERT INTO prices (ticker, date, batch, open, high, low, close, volume) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                      &w->bar, err) != 0 ||
        fd_db_prepare(w->db,
                      "INSERT INTO price_batch_tickers (batch, ticker, superseded) "
                      "VALUES (?1, ?2, ?3)",
                      &w->ticker, err) != 0 ||
        fd_db_prepare(w->db, "SELECT 1 FROM prices WHERE ticker = ?1 LIMIT 1", &w->had, err) != 0)
        return -1;
    if (fd_db_begin(w->db, err) != 0) return -1;
    for (size_t i = 0; i < fd_bars_n_tickers(bars) && rc == 0; i++) {
        rc = write_ticker(w, bars, i, err);
        if (rc == 0 && w->in_tx >= chunk_rows) {
            w->in_tx = 0;
            rc = fd_db_commit_invisible(w->db, err);
            if (rc == 0 && w->opts && w->opts->progress)
                w->opts->progress(w->opts->ctx, w->written);
            if (rc == 0) rc = fd_db_begin(w->db, err);
        }
    }
    if (rc == 0) return fd_db_commit_invisible(w->db, err);
    fd_db_rollback(w->db);
    return -1;
}

/* Makes the batch's bars visible: the one commit the request deadline may refuse. */
static int batch_publish(fd_db *db, int64_t batch, size_t rows, fd_error *err) {
    char sql[160];
    if (fd_db_begin(db, err) != 0) return -1;
    snprintf(sql, sizeof sql, "UPDATE price_batches SET state = 'committed', rows = %zu "
             "WHERE id = %lld AND state = 'writing'", rows, (long long)batch);
    if (fd_db_exec(db, sql, err) != 0) {
        fd_db_rollback(db);
        return -1;
    }
    if (sqlite3_changes(fd_db_handle(db)) != 1) {
        fd_db_rollback(db);
        return fd_error_set(err, 409, "import_lost", "daily-bar batch %lld was removed while "
                            "it was written", (long long)batch);
    }
    return fd_db_commit(db, err);
}

int fd_store_prices_put_with(fd_db *db, const fd_bars *bars, const fd_prices_put_opts *opts,
                             fd_error *err) {
    size_t chunk = opts && opts->chunk_rows ? opts->chunk_rows : PRICES_CHUNK_ROWS;
    batch_writer w = {.db = db, .opts = opts};
    fd_error cleanup;
    if (reclaim(db, chunk, err) != 0 || batch_open(db, &w.batch, err) != 0) return -1;
    int rc = batch_fill(&w, bars, chunk, err);
    sqlite3_finalize(w.bar);
    sqlite3_finalize(w.ticker);
    sqlite3_finalize(w.had);
    if (rc == 0) rc = batch_publish(db, w.batch, w.written, err);
    if (rc != 0) {
        if (batch_remove(db, w.batch, chunk, &cleanup) != 0) /* the next import's reclaim */
            fd_warn("store: daily-bar batch %lld not removed: %s", (long long)w.batch,
                    cleanup.message);
        return -1;
    }
    /* Published: what it superseded is invisible already; a failure here is finished by the
     * next import's reclaim, so it is not the caller's failure. */
    if (batch_sweep(db, w.batch, 1, chunk, &cleanup) != 0)
        fd_warn("store: superseded daily bars of batch %lld kept for now: %s",
                (long long)w.batch, cleanup.message);
    return 0;
}

int fd_store_prices_put(fd_db *db, const fd_bars *bars, fd_error *err) {
    return fd_store_prices_put_with(db, bars, NULL, err);
}

/* ---- reading: committed batches only, the highest batch of each (ticker, date) ---- */

static double column_maybe(sqlite3_stmt *st, int i) {
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

static int check_bound(const char *date, fd_error *err) {
    int32_t d;
    if (date && fd_date_parse(date, strlen(date), &d) != 0)
        return fd_error_set(err, 400, "bad_date", "date \"%.40s\" is not YYYY-MM-DD", date);
    return 0;
}

typedef struct pending_bar {
    int have;
    char ticker[40];
    fd_bar bar;
} pending_bar;

static int flush_pending(fd_bars *b, pending_bar *p, fd_error *err) {
    if (!p->have) return 0;
    p->have = 0;
    if (fd_bars_add(b, p->ticker, &p->bar, 0, err) != 0) {
        char date[FD_DATE_LEN];
        fd_date_format(p->bar.date, date);
        return fd_error_prefix(err, "stored bar (%s, %s)", p->ticker, date);
    }
    return 0;
}

int fd_store_prices_load(fd_db *db, const char *from_date, const char *to_date, fd_bars **out,
                         fd_error *err) {
    sqlite3_stmt *st;
    int step = SQLITE_DONE, rc = 0;
    pending_bar p = {0};
    *out = NULL;
    if (check_bound(from_date, err) || check_bound(to_date, err)) return -1;
    fd_bars *b = fd_bars_new();
    if (!b) return fd_error_set(err, 500, "out_of_memory", "loading daily bars");
    /* Key order with the batch last: the last row of each (ticker, date) is its bar. */
    if (fd_db_prepare(db,
                      "SELECT ticker, date, open, high, low, close, volume FROM prices "
                      "WHERE batch IN " COMMITTED " AND (?1 IS NULL OR date >= ?1) AND "
                      "(?2 IS NULL OR date <= ?2) ORDER BY ticker, date, batch",
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
        if (!ticker || !date || strlen(ticker) >= sizeof p.ticker ||
            fd_date_parse(date, strlen(date), &bar.date) != 0) {
            rc = fd_error_set(err, 500, "bad_stored_bar", "stored bar (%s, %s) is malformed",
                              ticker ? ticker : "?", date ? date : "?");
            break;
        }
        if (!(p.have && p.bar.date == bar.date && strcmp(p.ticker, ticker) == 0))
            rc = flush_pending(b, &p, err);
        p.have = 1;
        p.bar = bar;
        snprintf(p.ticker, sizeof p.ticker, "%s", ticker);
    }
    if (rc == 0 && step != SQLITE_DONE) rc = fd_db_error(db, err, "loading daily bars");
    sqlite3_finalize(st);
    if (rc == 0) rc = flush_pending(b, &p, err);
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
    if (fd_db_prepare(db,
                      "SELECT count(*), min(date), max(date) FROM (SELECT ticker, date FROM "
                      "prices WHERE batch IN " COMMITTED " GROUP BY ticker, date)",
                      &st, err))
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
    if (fd_db_prepare(db, "SELECT 1 FROM prices WHERE batch IN " COMMITTED " LIMIT 1", &st,
                      err) != 0)
        return -1;
    int step = sqlite3_step(st), rc = 0;
    *any = step == SQLITE_ROW;
    if (step != SQLITE_ROW && step != SQLITE_DONE) rc = fd_db_error(db, err, "looking for bars");
    sqlite3_finalize(st);
    return rc;
}
