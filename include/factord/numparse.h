/* Cell parsers for the text formats factord ingests (CSV cells, Ken French files): strict,
 * locale-independent numbers and month keys. Writing numbers: numfmt.h.
 *
 * Accepted: optional spaces/tabs around [+-]digits[.digits][(e|E)[+-]digits] (a leading
 * "." as in ".5" is accepted too). Missing markers: an empty (or all-blank) cell and any
 * case of "nan". Rejected: trailing garbage, hex floats, "inf"/"infinity" spellings and
 * values that overflow a double ("1e999"). Pure functions; thread-safe. */
#ifndef FACTORD_NUMPARSE_H
#define FACTORD_NUMPARSE_H

#include <stddef.h>

#include "factord/panel.h"

typedef enum {
    FD_NUM_OK = 0,      /* *out holds a finite value */
    FD_NUM_MISSING = 1, /* *out = NaN */
    FD_NUM_BAD = -1,    /* not a decimal number */
    FD_NUM_RANGE = -2   /* overflows a double */
} fd_num_status;

/* Parses s[0..len) (need not be NUL-terminated). */
fd_num_status fd_num_parse(const char *s, size_t len, double *out);

/* The same, scaled by 10^shift as if the decimal exponent were written `shift` higher
 * ("2.89" with shift -2 gives the double nearest 0.0289, which 2.89 / 100 need not be). */
fd_num_status fd_num_parse_scaled(const char *s, size_t len, int shift, double *out);

/* The month key of a date cell: "YYYY-MM", "YYYYMM" or "YYYY-MM-DD" (a real calendar day),
 * spaces around ignored, years 1900..2999. Returns 0, or -1 when it is none of these. */
int fd_month_from_cell(const char *s, size_t len, char out[FD_MONTH_LEN]);

#endif
