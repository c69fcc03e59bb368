/* Reading and writing one month's panel as CSV or JSON (the bodies of PUT/GET
 * /v1/panels/{month}).
 *
 * CSV: a header row naming the columns, one of them `id`; `ret` and `mktcap` are optional
 * special columns; every other column is a numeric characteristic. Cells are decimal
 * numbers; empty and NaN/nan mean missing (see numparse.h for what is rejected).
 * JSON: columnar {"columns":["id","ret",...],"rows":[["AAPL",0.01,...],...]} or records
 * {"rows":[{"id":"AAPL","ret":0.01,...},...]} (a column missing from a record is missing);
 * pandas' orients too: split {"columns":[...],"index":[ids],"data":[[...],...]} (the index
 * holds the ids unless a column is named "id") and records, a bare [{"id":..,..},...];
 * null means missing, values must be numbers; ids are strings (integral numbers such as
 * PERMNOs are accepted and written as integers). An optional "month" member must equal the
 * month being parsed.
 *
 * Parsers fill `out` (initialised by the callee, freed by the caller with fd_panel_free
 * even on failure) and fail with a 400 naming the line (CSV), or row index and column
 * (JSON). Writers return a malloc'd body the caller frees. Pure functions; thread-safe. */
#ifndef FACTORD_PANEL_IO_H
#define FACTORD_PANEL_IO_H

#include <stddef.h>

#include "factord/error.h"
#include "factord/panel.h"

int fd_panel_parse_csv(const char *body, size_t len, const char *month, fd_panel *out,
                       fd_error *err);
int fd_panel_parse_json(const char *body, size_t len, const char *month, fd_panel *out,
                        fd_error *err);

/* CSV with header id[,ret][,mktcap],chars...; missing cells empty. */
int fd_panel_write_csv(const fd_panel *p, char **body, size_t *len, fd_error *err);
/* {"month":..,"columns":["id",("ret",)("mktcap",)...],"rows":[[id,v,...],...]}, NaN as
 * null: the columnar form the parser reads back. */
int fd_panel_write_json(const fd_panel *p, char **body, size_t *len, fd_error *err);

/* Copies the rows of `p` whose ids are listed in the comma-separated `ids` (in the panel's
 * order; unknown ids are ignored) into out. */
int fd_panel_select_ids(const fd_panel *p, const char *ids, fd_panel *out, fd_error *err);

#endif
