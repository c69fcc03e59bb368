/* Serving's cache of stored months (factord/month.h: the panel, its id index and its
 * normalised designs), keyed by the month and the panel's stamp (new on every replacement,
 * never reused), so a replaced month is never served from the cache. Serving reads the same
 * months many times a day; loading a 5,000 x 94 month and rank-normalising it dominated a
 * request's cost.
 *
 * fd_design_cache_get returns a held month (release it with fd_month_release); eviction
 * (least recently used, beyond `capacity` months) only drops the cache's reference.
 * Thread-safe. */
#ifndef FACTORD_DESIGN_CACHE_H
#define FACTORD_DESIGN_CACHE_H

#include <stddef.h>

#include "factord/month.h"
#include "factord/store.h"

typedef struct fd_design_cache fd_design_cache;

int fd_design_cache_create(size_t capacity, fd_design_cache **out, fd_error *err);
void fd_design_cache_destroy(fd_design_cache *c);

/* The month as stored now (404 "no_panel" when absent). */
int fd_design_cache_get(fd_design_cache *c, fd_db *db, const char *month, fd_month **out,
                        fd_error *err);

#endif
