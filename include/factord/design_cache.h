/* A cache of scoring inputs: a stored month's panel and its normalised design matrices,
 * keyed by the month and the panel's stamp (new on every replacement, never reused), so a
 * replaced month is never served from the cache. Serving reads the same months many times
 * a day; loading a 5,000 x 94 month and rank-normalising it dominated a request's cost.
 *
 * Entries are immutable and reference-counted: fd_design_cache_get returns a held entry
 * (release it with fd_design_release); eviction (least recently used, beyond `capacity`
 * months) only drops the cache's reference. Thread-safe. */
#ifndef FACTORD_DESIGN_CACHE_H
#define FACTORD_DESIGN_CACHE_H

#include <stddef.h>

#include "factord/panel.h"
#include "factord/store.h"

typedef struct fd_design_cache fd_design_cache;
typedef struct fd_cached_month fd_cached_month;

int fd_design_cache_create(size_t capacity, fd_design_cache **out, fd_error *err);
void fd_design_cache_destroy(fd_design_cache *c);

/* The panel of `month` as stored now (404 "no_panel" when absent). */
int fd_design_cache_get(fd_design_cache *c, fd_db *db, const char *month,
                        fd_cached_month **out, fd_error *err);
const fd_panel *fd_cached_panel(const fd_cached_month *m);
/* z (n, P): columns `names` (Pc of them) of the panel, rank-normalised over the month, plus a
 * constant column when add_constant (P = Pc + add_constant). Computed once per column set
 * and kept with the month; 422 "missing_columns" naming what the panel lacks. The matrix
 * belongs to the entry: valid while the caller holds it. */
int fd_cached_design(fd_cached_month *m, char *const *names, size_t Pc, int add_constant,
                     const double **z, fd_error *err);
/* Row of a security id in the panel, or -1 (binary search on a sorted index). */
long fd_cached_row(const fd_cached_month *m, const char *id);
void fd_design_release(fd_cached_month *m);

#endif
