/* fd_panel_builder: assembles an fd_panel row by row, as every panel importer (CSV, JSON,
 * bulk long CSV) needs: it routes the special columns `ret` and `mktcap`, keeps the others
 * as characteristics in input order, rejects duplicate, empty and malformed security ids
 * (fd_panel_id_check), and counts missing cells.
 *
 * Rows are tagged by the caller (a CSV line number, a JSON row index) and errors name the
 * tag as the caller says: "line 12: duplicate id 'AAPL' (first at line 3)" or "rows[11]: ...".
 * The builder owns its memory until fd_panel_builder_finish moves it into a panel;
 * fd_panel_builder_free releases whatever is left (safe after finish). One thread. */
#ifndef FACTORD_PANEL_BUILD_H
#define FACTORD_PANEL_BUILD_H

#include <stddef.h>

#include "factord/error.h"
#include "factord/panel.h"

/* Header checks shared by the importers: every name non-empty, a valid name (text.h) and
 * unique (a hash set: linear in the header); `id` present (its index in *id_col); with
 * date_col != NULL, `date` present too (index in *date_col). 400 "no_id_column" /
 * "no_date_column" / "duplicate_column" / "empty_column_name" / "bad_column_name". */
int fd_panel_header_check(const char *const *names, size_t n, long *id_col, long *date_col,
                          fd_error *err);

/* A security id: non-empty (400 "empty_id") and a valid name (text.h: no NUL or other
 * control character, valid UTF-8; 400 "bad_id"). `where` ("line 12", "rows[3]") leads the
 * message. */
int fd_panel_id_check(const char *id, size_t len, const char *where, fd_error *err);

typedef struct fd_panel_builder {
    fd_panel p;           /* under construction */
    size_t n_in;          /* data columns per row handed to add (no id/date) */
    long ret_in, mkt_in;  /* input index of ret / mktcap, -1 if absent */
    long *char_in;        /* (p.n_cols) input index of each characteristic column */
    size_t cap_rows;
    size_t *slots;        /* open-addressing id set: row index + 1, 0 = empty */
    size_t n_slots;
    long *tags;           /* (n_rows) caller tags, for the duplicate message */
    size_t missing;       /* NaN cells seen in characteristic, ret and mktcap columns */
    int tag_kind;         /* FD_TAG_LINE or FD_TAG_INDEX */
} fd_panel_builder;

enum { FD_TAG_LINE = 0, FD_TAG_INDEX = 1 };

/* names: (n) data column names in input order (`id` and `date` already removed). */
int fd_panel_builder_init(fd_panel_builder *b, const char *month, const char *const *names,
                          size_t n, int tag_kind, fd_error *err);
/* vals: (n) values aligned with the names given to init; NaN = missing. */
int fd_panel_builder_add(fd_panel_builder *b, const char *id, size_t id_len, const double *vals,
                         long tag, fd_error *err);
/* Moves the rows into out (which must be empty/initialised); 400 "no_rows" when none. */
int fd_panel_builder_finish(fd_panel_builder *b, fd_panel *out, fd_error *err);
void fd_panel_builder_free(fd_panel_builder *b);

/* NaN cells of a panel across characteristics, ret and mktcap. */
size_t fd_panel_missing_cells(const fd_panel *p);

#endif
