/* Bulk import of a long CSV, one row per (security, month), for many months at once:
 *
 *     id,date,ret,mktcap,<characteristic>,...
 *
 * `id` and `date` are required (date as YYYY-MM, YYYY-MM-DD or YYYYMM); `ret` and `mktcap`
 * are optional as in a panel; every other column is a numeric characteristic shared by
 * all months. Rows may come in any order.
 *
 * The file is never held in memory: rows are tokenized in chunks and staged in a private
 * temporary SQLite database (on disk, with a bounded page cache); then each month is
 * assembled in turn and written with fd_store_panel_write, every month inside ONE
 * BEGIN IMMEDIATE transaction on `db`, so the import is all-or-nothing. Memory therefore
 * scales with the largest month, not the file.
 *
 * Errors name the line: 400 for bad input (as the panel parsers), 503 "timeout" when the
 * deadline passes before the commit (then nothing is written). Runs on the calling thread;
 * `db` must be held by it. */
#ifndef FACTORD_BULK_IMPORT_H
#define FACTORD_BULK_IMPORT_H

#include <stddef.h>

#include "factord/error.h"
#include "factord/french.h"
#include "factord/outliers.h"
#include "factord/store.h"

typedef struct fd_import_result {
    size_t months;       /* panels written (each replaces the stored month wholly) */
    size_t rows;         /* data rows */
    size_t missing;      /* missing cells across characteristics, ret and mktcap */
    size_t n_cols;       /* characteristic columns */
    char **col_names;    /* (n_cols) malloc'd; fd_import_result_free releases them */
    int has_ret, has_mktcap;
    char first[FD_MONTH_LEN], last[FD_MONTH_LEN];
    fd_outlier_log outliers; /* returns beyond 100%, stored as given (docs/outliers.md) */
} fd_import_result;

/* units applies to `ret` only (percent is divided by 100); UNSET means decimal.
 * deadline: after it the import gives up (fd_deadline_passed: NULL for none; re-read as
 * the import goes, so it may be brought forward meanwhile). The months' returns are
 * checked against the outlier threshold (kept, counted in res->outliers). res is
 * released with fd_import_result_free, success or not. */
int fd_bulk_import_file(fd_db *db, const char *path, fd_units units,
                        const _Atomic double *deadline, fd_import_result *res, fd_error *err);
void fd_import_result_free(fd_import_result *res);

#endif
