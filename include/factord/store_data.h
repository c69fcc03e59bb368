/* Stores for the data resources: monthly panels and benchmark factors.
 * All functions take a connection the calling thread holds (see store.h). Functions named
 * *_put open and commit their own BEGIN IMMEDIATE transaction; *_write do the same work
 * inside a transaction the caller already holds (bulk import of many months). Failing
 * calls change nothing. */
#ifndef FACTORD_STORE_DATA_H
#define FACTORD_STORE_DATA_H

#include <jansson.h>

#include "factord/factors.h"
#include "factord/panel.h"
#include "factord/store.h"

/* Replaces month p->month wholly (values, ret, mktcap, ids, column names). */
int fd_store_panel_put(fd_db *db, const fd_panel *p, fd_error *err);
int fd_store_panel_write(fd_db *db, const fd_panel *p, fd_error *err);
/* Loads a month into out (initialised by the callee); 404 "no_panel" if absent. */
int fd_store_panel_get(fd_db *db, const char *month, fd_panel *out, fd_error *err);
/* 404 "no_panel" if absent. */
int fd_store_panel_delete(fd_db *db, const char *month, fd_error *err);
/* [{"month","rows","columns":[...],"missing","has_ret","has_mktcap","updated_at"}], ascending. */
int fd_store_panel_list(fd_db *db, json_t **out, fd_error *err);
/* Ascending month keys of all stored panels; caller frees *months. */
int fd_store_panel_months(fd_db *db, char (**months)[FD_MONTH_LEN], size_t *n, fd_error *err);

/* A token that changes whenever the month is replaced (for caches and ETags); 404
 * "no_panel" if absent. */
int fd_store_panel_stamp(fd_db *db, const char *month, char stamp[32], fd_error *err);

/* Upserts every (month, factor) cell of t (NaN cells are skipped), one transaction. */
int fd_store_factors_put(fd_db *db, const fd_factor_table *t, const char *source, fd_error *err);
/* Factors for months in [from, to] (either may be NULL for open-ended), all names. */
int fd_store_factors_get(fd_db *db, const char *from, const char *to, fd_factor_table *out,
                         fd_error *err);
/* One value; returns 0 and sets *out, or -1 with 404 "no_factor" when not stored. */
int fd_store_factor_value(fd_db *db, const char *month, const char *name, double *out,
                          fd_error *err);

#endif
