/* Daily bars in the store (table prices of migrations/0002_prices.sql, batched by 0007: one
 * row per ticker, trading day and import batch, dates "YYYY-MM-DD") and the step that turns
 * them into stored monthly panels.
 * All functions take a connection the calling thread holds (see store.h); writers open and
 * commit their own BEGIN IMMEDIATE transaction, and a failing call changes nothing. */
#ifndef FACTORD_STORE_PRICES_H
#define FACTORD_STORE_PRICES_H

#include "factord/daily.h"
#include "factord/store.h"

/* Upserts every bar of a finished container: a bar already stored for the same security and
 * day is replaced. The bars become visible all at once (a reader sees all of them or none)
 * although they are written in transactions of chunk_rows bars, so the WAL is checkpointed
 * as the import goes instead of growing by the whole file (docs/operations.md, "The WAL").
 * A failed or interrupted import leaves nothing visible; what a crash leaves behind is removed
 * by the next import. One import writes at a time: 409 "import_in_progress" while another
 * process or thread is writing one. */
int fd_store_prices_put(fd_db *db, const fd_bars *bars, fd_error *err);

typedef struct fd_prices_put_opts {
    size_t chunk_rows; /* bars per transaction; 0 = the default (200,000) */
    /* After each intermediate commit, with the bars written so far. May be NULL. */
    void (*progress)(void *ctx, size_t rows_written);
    void *ctx;
} fd_prices_put_opts;
int fd_store_prices_put_with(fd_db *db, const fd_bars *bars, const fd_prices_put_opts *opts,
                             fd_error *err);

/* Loads the bars dated in [from_date, to_date] ("YYYY-MM-DD"; NULL = open-ended) into a new
 * finished container the caller frees with fd_bars_free. An empty range gives an empty
 * container, not an error; 400 "bad_date" for a malformed bound. */
int fd_store_prices_load(fd_db *db, const char *from_date, const char *to_date, fd_bars **out,
                         fd_error *err);

typedef struct fd_prices_extent {
    size_t rows;                                          /* bars stored */
    char first_date[FD_DATE_LEN], last_date[FD_DATE_LEN]; /* "" when none */
} fd_prices_extent;
int fd_store_prices_extent(fd_db *db, fd_prices_extent *out, fd_error *err);
/* *any = 1 when at least one bar is stored (one index probe, unlike the extent's scan). */
int fd_store_prices_any(fd_db *db, int *any, fd_error *err);

/* What a caller may watch and add to a build (all may be NULL). */
typedef struct fd_build_hooks {
    /* The share done, in [0, 1], between phases and while building; a non-zero return stops
     * the build (409 "cancelled"). Never called inside the write transaction. */
    int (*progress)(void *ctx, double progress);
    /* Called inside the transaction that replaces the panels, with the build's stats; a
     * failure rolls the panels back. */
    int (*commit)(void *ctx, fd_db *db, const fd_daily_stats *stats, fd_error *err);
    void *ctx;
} fd_build_hooks;

/* Builds the panels of months opts->from..opts->to (either "" = the stored extent) from the
 * stored bars, reading back to fd_daily_history_start(from) so the windows are complete,
 * and replaces those months' panels in one transaction. Fills stats (may be NULL; release
 * it with fd_daily_stats_free, success or not). hooks may be NULL. 422 "no_bars" when no bar
 * falls in the range. */
int fd_store_panels_from_prices(fd_db *db, const fd_daily_opts *opts,
                                const fd_build_hooks *hooks, fd_daily_stats *stats,
                                fd_error *err);

#endif
