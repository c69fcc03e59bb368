/* Batched imports of daily bars (src/store/prices.c, migrations/0007): the WAL stays bounded
 * during a large import, readers never see part of one, the newest import wins and leaves
 * no superseded rows, an abandoned import is invisible and removed by the next one, and two
 * imports never write at once. */
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/store/db_internal.h"
#include "factord/store_prices.h"
#include "testlib.h"

static char db_path[512];

static fd_db *open_fresh(void) {
    static int n;
    fd_db *db = NULL;
    fd_error err;
    snprintf(db_path, sizeof db_path, "%s/batches-%d.db", tl_tmpdir(), n++);
    if (fd_db_open(db_path, &db, &err) != 0) printf("open %s: %s\n", db_path, err.message);
    return db;
}

static long long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

/* n_tickers x n_days business-day bars from 2010-01-04; close = base + day. */
static fd_bars *make_bars(int n_tickers, int n_days, double base) {
    fd_bars *b = fd_bars_new();
    fd_error err;
    int32_t day0 = fd_date_from_ymd(2010, 1, 4);
    for (int t = 0; t < n_tickers; t++) {
        char ticker[16];
        snprintf(ticker, sizeof ticker, "T%05d", t);
        for (int d = 0, k = 0; k < n_days; d++) {
            if ((day0 + d + 3) % 7 >= 5) continue; /* 1970-01-01 was a Thursday */
            fd_bar bar = {day0 + d, 1, 2, 0.5, base + k, 100};
            if (fd_bars_add(b, ticker, &bar, 0, &err) != 0) printf("add: %s\n", err.message);
            k++;
        }
    }
    fd_bars_finish(b, &err);
    return b;
}

static long long scalar(fd_db *db, const char *sql) {
    sqlite3_stmt *st;
    long long v = -1;
    if (sqlite3_prepare_v2(fd_db_handle(db), sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

typedef struct watch {
    char wal[560];
    long long max_wal;
    int calls;
    fd_db *reader;     /* a second connection looking while the import runs */
    size_t seen_rows;  /* what it saw */
} watch;

static void watch_progress(void *ctx, size_t written) {
    watch *w = ctx;
    fd_prices_extent ext;
    fd_error err;
    (void)written;
    long long size = file_size(w->wal);
    if (size > w->max_wal) w->max_wal = size;
    w->calls++;
    if (w->reader && fd_store_prices_extent(w->reader, &ext, &err) == 0 &&
        ext.rows > w->seen_rows)
        w->seen_rows = ext.rows;
}

/* 300,000 bars, about 13 MB of pages. In chunks of 20,000 (about 1 MB) the WAL stays near
 * SQLite's checkpoint threshold (1,000 pages, 4 MB) plus one chunk; in one transaction it
 * grows by the whole import, which is what the chunking prevents. */
TEST(the_wal_stays_bounded_during_a_large_import) {
    fd_db *db = open_fresh();
    fd_bars *bars = make_bars(300, 1000, 10);
    fd_error err;
    watch w = {0};
    ASSERT(db && bars);
    snprintf(w.wal, sizeof w.wal, "%s-wal", db_path);
    fd_prices_put_opts opts = {20000, watch_progress, &w};
    ASSERT_INT_EQ(fd_store_prices_put_with(db, bars, &opts, &err), 0);
    ASSERT(w.calls >= 10);
    long long db_size = file_size(db_path);
    printf("chunked: max WAL %lld bytes over %d commits, database %lld bytes\n", w.max_wal,
           w.calls, db_size);
    ASSERT(db_size > 10 << 20);
    ASSERT(w.max_wal < 7 << 20);
    ASSERT_INT_EQ(scalar(db, "SELECT count(*) FROM prices"), 300000);
    fd_db_close(db);

    /* The same import in one transaction: the WAL holds all of it. */
    db = open_fresh();
    watch one = {0};
    snprintf(one.wal, sizeof one.wal, "%s-wal", db_path);
    fd_prices_put_opts whole = {1000000, NULL, NULL};
    ASSERT_INT_EQ(fd_store_prices_put_with(db, bars, &whole, &err), 0);
    long long wal_whole = file_size(one.wal);
    printf("one transaction: WAL %lld bytes\n", wal_whole);
    ASSERT(wal_whole > 10 << 20);
    fd_bars_free(bars);
    fd_db_close(db);
}

/* A reader on another connection sees the old bars until the import publishes, then all of
 * the new ones; re-imported bars replace the old values and leave no superseded rows. */
TEST(readers_see_all_of_an_import_or_none_and_the_newest_wins) {
    fd_db *db = open_fresh(), *reader = NULL;
    fd_error err;
    ASSERT(db != NULL);
    ASSERT_INT_EQ(fd_db_open(db_path, &reader, &err), 0);
    fd_bars *old = make_bars(10, 100, 10), *new = make_bars(40, 100, 500);
    ASSERT_INT_EQ(fd_store_prices_put(db, old, &err), 0);
    watch w = {.reader = reader};
    fd_prices_put_opts opts = {500, watch_progress, &w};
    ASSERT_INT_EQ(fd_store_prices_put_with(db, new, &opts, &err), 0);
    ASSERT(w.calls >= 5);
    ASSERT_INT_EQ(w.seen_rows, 1000); /* never more than the old import's bars */
    fd_prices_extent ext;
    ASSERT_INT_EQ(fd_store_prices_extent(reader, &ext, &err), 0);
    ASSERT_INT_EQ(ext.rows, 4000);
    fd_bars *back = NULL;
    ASSERT_INT_EQ(fd_store_prices_load(reader, NULL, NULL, &back, &err), 0);
    size_t n;
    const fd_bar *s = fd_bars_series(back, 3, &n);
    ASSERT_INT_EQ(n, 100);
    ASSERT_NEAR(s[7].close, 507, 0); /* the new value of an old bar */
    ASSERT_INT_EQ(scalar(db, "SELECT count(*) FROM prices"), 4000);
    ASSERT_INT_EQ(scalar(db, "SELECT count(*) FROM price_batch_tickers WHERE superseded = 1"), 0);
    fd_bars_free(back);
    fd_bars_free(old);
    fd_bars_free(new);
    fd_db_close(reader);
    fd_db_close(db);
}

/* The pid of a process that has exited. */
static long dead_pid(void) {
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    waitpid(pid, NULL, 0);
    return (long)pid;
}

TEST(an_abandoned_import_is_invisible_and_removed_by_the_next) {
    fd_db *db = open_fresh();
    fd_error err;
    char sql[512];
    ASSERT(db != NULL);
    fd_bars *bars = make_bars(2, 5, 10);
    ASSERT_INT_EQ(fd_store_prices_put(db, bars, &err), 0);
    /* A process died while writing batch 99: 3 bars, one of them over a stored one. */
    snprintf(sql, sizeof sql,
             "INSERT INTO price_batches (id, state, pid) VALUES (99, 'writing', %ld);"
             "INSERT INTO price_batch_tickers (batch, ticker) VALUES (99, 'T00000'), "
             "(99, 'ZZZ');"
             "INSERT INTO prices (ticker, date, batch, close, volume) VALUES "
             "('T00000', '2010-01-04', 99, 777, 1), ('ZZZ', '2010-01-04', 99, 1, 1), "
             "('ZZZ', '2010-01-05', 99, 1, 1);",
             dead_pid());
    ASSERT_INT_EQ(fd_db_exec(db, sql, &err), 0);
    fd_prices_extent ext;
    ASSERT_INT_EQ(fd_store_prices_extent(db, &ext, &err), 0);
    ASSERT_INT_EQ(ext.rows, 10);
    fd_bars *back = NULL;
    ASSERT_INT_EQ(fd_store_prices_load(db, NULL, NULL, &back, &err), 0);
    ASSERT_INT_EQ(fd_bars_n_tickers(back), 2);
    ASSERT_NEAR(fd_bars_series(back, 0, &(size_t){0})[0].close, 10, 0);
    fd_bars_free(back);
    fd_bars *more = make_bars(1, 3, 50);
    ASSERT_INT_EQ(fd_store_prices_put(db, more, &err), 0);
    ASSERT_INT_EQ(scalar(db, "SELECT count(*) FROM prices WHERE batch = 99"), 0);
    ASSERT_INT_EQ(scalar(db, "SELECT count(*) FROM price_batches WHERE id = 99"), 0);
    ASSERT_INT_EQ(scalar(db, "SELECT count(*) FROM prices"), 10);
    fd_bars_free(bars);
    fd_bars_free(more);
    fd_db_close(db);
}

TEST(two_imports_never_write_at_once) {
    fd_db *db = open_fresh();
    fd_error err;
    char sql[160];
    ASSERT(db != NULL);
    /* A live process (our parent) is writing batch 50. */
    snprintf(sql, sizeof sql,
             "INSERT INTO price_batches (id, state, pid) VALUES (50, 'writing', %ld)",
             (long)getppid());
    ASSERT_INT_EQ(fd_db_exec(db, sql, &err), 0);
    fd_bars *bars = make_bars(1, 3, 10);
    ASSERT_INT_EQ(fd_store_prices_put(db, bars, &err), -1);
    ASSERT_INT_EQ(err.status, 409);
    ASSERT_STR_EQ(err.code, "import_in_progress");
    ASSERT_INT_EQ(fd_db_exec(db, "DELETE FROM price_batches WHERE id = 50", &err), 0);
    ASSERT_INT_EQ(fd_store_prices_put(db, bars, &err), 0);
    fd_bars_free(bars);
    fd_db_close(db);
}

/* A database of schema 6 with bars in the old table keeps them as batch 1. */
TEST(migration_7_keeps_the_stored_bars) {
    char path[512];
    sqlite3 *raw;
    snprintf(path, sizeof path, "%s/batches-v6.db", tl_tmpdir());
    ASSERT_INT_EQ(sqlite3_open(path, &raw), SQLITE_OK);
    for (size_t i = 0; i < 6; i++)
        ASSERT_INT_EQ(sqlite3_exec(raw, fd_migrations[i], NULL, NULL, NULL), SQLITE_OK);
    ASSERT_INT_EQ(sqlite3_exec(raw, "PRAGMA user_version = 6; INSERT INTO prices (ticker, date, "
                               "close, volume) VALUES ('A', '2020-01-02', 5, 1), "
                               "('A', '2020-01-03', 6, 1), ('B', '2020-01-02', 7, 0)",
                               NULL, NULL, NULL),
                  SQLITE_OK);
    sqlite3_close(raw);
    fd_db *db;
    fd_error err;
    ASSERT_INT_EQ(fd_db_open(path, &db, &err), 0);
    fd_bars *back = NULL;
    ASSERT_INT_EQ(fd_store_prices_load(db, NULL, NULL, &back, &err), 0);
    ASSERT_INT_EQ(fd_bars_count(back), 3);
    ASSERT_NEAR(fd_bars_series(back, 1, &(size_t){0})[0].close, 7, 0);
    fd_bars_free(back);
    fd_bars *again = make_bars(1, 1, 1);
    ASSERT_INT_EQ(fd_store_prices_put(db, again, &err), 0);
    ASSERT_INT_EQ(scalar(db, "SELECT count(*) FROM prices WHERE batch = 1"), 3);
    fd_bars_free(again);
    fd_db_close(db);
}

TEST_MAIN(T(the_wal_stays_bounded_during_a_large_import),
          T(readers_see_all_of_an_import_or_none_and_the_newest_wins),
          T(an_abandoned_import_is_invisible_and_removed_by_the_next),
          T(two_imports_never_write_at_once), T(migration_7_keeps_the_stored_bars))
