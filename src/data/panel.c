/* fd_panel lifetime and lookups, and month-key arithmetic ("YYYY-MM"). */
#include "factord/panel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fd_panel_init(fd_panel *p) { memset(p, 0, sizeof *p); }

void fd_panel_free(fd_panel *p) {
    if (!p) return;
    for (size_t i = 0; p->ids && i < p->n_rows; i++) free(p->ids[i]);
    for (size_t j = 0; p->col_names && j < p->n_cols; j++) free(p->col_names[j]);
    free(p->ids);
    free(p->col_names);
    free(p->values);
    free(p->ret);
    free(p->mktcap);
    fd_panel_init(p);
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

int fd_month_parse(const char *text, int *year, int *month, fd_error *err) {
    int y, m;
    if (!text)
        return fd_error_set(err, 400, "bad_month", "missing month key: expected YYYY-MM");
    if (strlen(text) != 7 || !is_digit(text[0]) || !is_digit(text[1]) || !is_digit(text[2]) ||
        !is_digit(text[3]) || text[4] != '-' || !is_digit(text[5]) || !is_digit(text[6]))
        return fd_error_set(err, 400, "bad_month", "bad month key \"%.40s\": expected YYYY-MM",
                            text);
    y = (text[0] - '0') * 1000 + (text[1] - '0') * 100 + (text[2] - '0') * 10 + (text[3] - '0');
    m = (text[5] - '0') * 10 + (text[6] - '0');
    if (m < 1 || m > 12)
        return fd_error_set(err, 400, "bad_month", "bad month key \"%s\": month %02d is not 01..12",
                            text, m);
    if (y < FD_YEAR_FIRST || y > FD_YEAR_LAST)
        return fd_error_set(err, 400, "bad_month", "bad month key \"%s\": year %d is not %d..%d",
                            text, y, FD_YEAR_FIRST, FD_YEAR_LAST);
    if (year) *year = y;
    if (month) *month = m;
    return 0;
}

/* Months since year 0 of a valid key, or -1. */
static long month_index(const char *key) {
    int y = 0, m = 0; /* set by a successful parse; initialised for -O3's flow analysis */
    if (fd_month_parse(key, &y, &m, NULL) != 0) return -1;
    return (long)y * 12 + (m - 1);
}

/* An invalid key, or a result outside FD_MONTH_FIRST..FD_MONTH_LAST, gives "" and -1: the
 * result is always a key fd_month_parse accepts, so arithmetic on it stays total. */
int fd_month_add(const char *key, int delta, char out[FD_MONTH_LEN]) {
    long idx = month_index(key), first = FD_YEAR_FIRST * 12L, last = FD_YEAR_LAST * 12L + 11;
    out[0] = '\0';
    if (idx < 0) return -1;
    idx += delta;
    if (idx < first || idx > last) return -1;
    snprintf(out, FD_MONTH_LEN, "%04ld-%02ld", idx / 12, idx % 12 + 1);
    return 0;
}

/* 0 when either key is invalid (the header requires valid keys). */
int fd_month_diff(const char *a, const char *b) {
    long ia = month_index(a), ib = month_index(b);
    if (ia < 0 || ib < 0) return 0;
    return (int)(ib - ia);
}

long fd_panel_col(const fd_panel *p, const char *name) {
    for (size_t j = 0; j < p->n_cols; j++)
        if (strcmp(p->col_names[j], name) == 0) return (long)j;
    return -1;
}

long fd_panel_row(const fd_panel *p, const char *id) {
    for (size_t i = 0; i < p->n_rows; i++)
        if (strcmp(p->ids[i], id) == 0) return (long)i;
    return -1;
}
