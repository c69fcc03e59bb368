/* Benchmark factor returns (Fama-French and friends) from the three forms clients send to
 * PUT /v1/factors, into an fd_factor_table in decimals, and back out for GET.
 *
 *  - raw Ken French CSV, exactly as downloaded: free-text preamble, then the monthly block
 *    (a header row ",Mkt-RF,SMB,..." followed by rows keyed YYYYMM), then blocks that are
 *    ignored (the "Annual Factors" block keyed by year, the copyright line). Only the first
 *    monthly block is read. -99.99 and -999 mean missing.
 *  - clean CSV: header "date,Mkt-RF,..." (first column date/month), dates YYYYMM, YYYY-MM
 *    or YYYY-MM-DD; empty or NaN cells are missing.
 *  - JSON: {"units":"percent"|"decimal","factors":[{"month":"2020-01","Mkt-RF":0.5,...}]},
 *    null = missing; factor names are the keys, in order of first appearance.
 * Units are always explicit: percent values are divided by 100.
 *
 * Months come out sorted ascending; a month given twice is an error naming both lines.
 * Parsers initialise `out`; the caller frees it with fd_factor_table_free even on failure.
 * Errors are 400s naming the line (CSV) or the array index (JSON). Thread-safe. */
#ifndef FACTORD_FRENCH_H
#define FACTORD_FRENCH_H

#include <stddef.h>

#include "factord/error.h"
#include "factord/factors.h"

typedef enum { FD_UNITS_UNSET = 0, FD_UNITS_PERCENT, FD_UNITS_DECIMAL } fd_units;

/* "percent" or "decimal"; NULL gives 400 "missing_units", anything else 400 "bad_units". */
int fd_units_parse(const char *text, fd_units *out, fd_error *err);

/* 1 when the body looks like a raw Ken French file rather than a clean CSV: its first
 * non-blank line does not start with a date/month header. */
int fd_french_is_raw(const char *body, size_t len);

int fd_french_parse_raw(const char *body, size_t len, fd_units units, fd_factor_table *out,
                        fd_error *err);
int fd_french_parse_csv(const char *body, size_t len, fd_units units, fd_factor_table *out,
                        fd_error *err);
/* `units` from the request (may be UNSET) must agree with the body's "units" when both
 * are given; one of them is required. */
int fd_french_parse_json(const char *body, size_t len, fd_units units, fd_factor_table *out,
                         fd_error *err);

/* "date,Mkt-RF,..." with YYYY-MM dates and decimal values, missing cells empty. */
int fd_factors_write_csv(const fd_factor_table *t, char **body, size_t *len, fd_error *err);
/* {"units":"decimal","names":[...],"factors":[{"month":..,"Mkt-RF":..},...]}, NaN as null:
 * the JSON form the parser reads back. */
int fd_factors_write_json(const fd_factor_table *t, char **body, size_t *len, fd_error *err);

#endif
