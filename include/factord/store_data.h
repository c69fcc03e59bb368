/* Stores for the data resources: monthly panels, benchmark factors and macro series.
 * All functions take a connection the calling thread holds (see store.h). Functions named
 * *_put open and commit their own BEGIN IMMEDIATE transaction; *_write do the same work
 * inside a transaction the caller already holds (bulk import of many months). Failing
 * calls change nothing. */
#ifndef FACTORD_STORE_DATA_H
#define FACTORD_STORE_DATA_H

#include <jansson.h>

#include "factord/factors.h"
#include "factord/panel.h"
#include "factord/series.h"
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
/* Appends to warnings (a JSON array; anything else is left alone) one {"code":
 * "partial_month","month","through","message"} per stored panel of from..to (NULL = open)
 * that is partial (fd_panel.partial_through), for answers that use those months' returns as
 * realised. */
int fd_store_panel_partial_warnings(fd_db *db, const char *from, const char *to,
                                    json_t *warnings, fd_error *err);
/* Ascending month keys of all stored panels; caller frees *months. */
int fd_store_panel_months(fd_db *db, char (**months)[FD_MONTH_LEN], size_t *n, fd_error *err);

/* A token that changes whenever the month is replaced (for caches and ETags); 404
 * "no_panel" if absent. */
int fd_store_panel_stamp(fd_db *db, const char *month, char stamp[32], fd_error *err);
/* The characteristic column names of a stored month as a JSON array (new reference), without
 * reading its values; 404 "no_panel" if absent. */
int fd_store_panel_columns(fd_db *db, const char *month, json_t **out, fd_error *err);

/* Named monthly series of either kind (factord/series.h), in one table each:
 * _put upserts every (month, name) cell of t (NaN cells are skipped) in one transaction;
 * _get reads months in [from, to] (either may be NULL for open-ended), all names;
 * _value reads one cell: 0 and *out, or -1 with 404 "no_factor" / "no_macro". */
int fd_store_series_put(fd_db *db, fd_series_kind kind, const fd_factor_table *t,
                        const char *source, fd_error *err);
int fd_store_series_get(fd_db *db, fd_series_kind kind, const char *from, const char *to,
                        fd_factor_table *out, fd_error *err);
int fd_store_series_value(fd_db *db, fd_series_kind kind, const char *month, const char *name,
                          double *out, fd_error *err);

/* The same for benchmark factors (FD_SERIES_FACTOR). */
int fd_store_factors_put(fd_db *db, const fd_factor_table *t, const char *source, fd_error *err);
/* Factors for months in [from, to] (either may be NULL for open-ended), all names. */
int fd_store_factors_get(fd_db *db, const char *from, const char *to, fd_factor_table *out,
                         fd_error *err);
/* One value; returns 0 and sets *out, or -1 with 404 "no_factor" when not stored. */
int fd_store_factor_value(fd_db *db, const char *month, const char *name, double *out,
                          fd_error *err);

#endif
