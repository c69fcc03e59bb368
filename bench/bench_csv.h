/* bench_panels: the monthly panels of a `factord simulate` long CSV
 * (id,date,ret,mktcap,c1..cP), for fit_bench.
 * The caller owns the result and releases it with bench_panels_free (also safe after a
 * failed load). One thread. */
#ifndef FACTORD_BENCH_CSV_H
#define FACTORD_BENCH_CSV_H

#include <stddef.h>

#include "factord/error.h"
#include "factord/panel.h"

typedef struct bench_panels {
    fd_panel *panels; /* (n) ascending months */
    size_t n, cap;
} bench_panels;

/* Reads rows grouped by ascending month. 400 errors name the line. */
int bench_panels_load(const char *path, bench_panels *out, fd_error *err);
void bench_panels_free(bench_panels *ps);

#endif
