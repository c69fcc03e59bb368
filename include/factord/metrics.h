/* Metrics for GET /metrics (Prometheus text exposition format 0.0.4).
 *
 * Three things live here:
 *   - a writer (fd_metrics_out) that the scrape builds the page with: one family header,
 *     then its samples, label values escaped;
 *   - fixed-bucket histograms and the cache counters, lock-free (atomics), updated from any
 *     thread and read by the scrape;
 *   - the collector registry: a subsystem that owns metrics registers a function once, and
 *     every scrape calls it to write its families. Caches need less: put an fd_cache_stats
 *     in the cache, count with fd_cache_hit / fd_cache_miss / fd_cache_evict, and register
 *     it by name with fd_metrics_register_cache; it then appears as
 *     factord_cache_{hits,misses,evictions}_total{cache="NAME"}.
 *
 * Names follow Prometheus conventions (promtool check metrics passes): counters end in
 * _total, units are base units in the name (_seconds, _bytes), every family has HELP and
 * TYPE. The families factord writes are listed in docs/observability.md. */
#ifndef FACTORD_METRICS_H
#define FACTORD_METRICS_H

#include <stdatomic.h>
#include <stddef.h>

#include "factord/textbuf.h"

/* ---- writing the page (one scrape, one thread) ---- */

typedef struct fd_metrics_out {
    fd_textbuf buf;
} fd_metrics_out;

/* "# HELP name help\n# TYPE name type\n"; type is counter, gauge or histogram. */
void fd_metrics_family(fd_metrics_out *o, const char *name, const char *type,
                       const char *help);
/* One sample: name{labels} value. labels is the inside of the braces, already escaped
 * (build it with fd_metrics_label), or NULL / "" for none. */
void fd_metrics_sample(fd_metrics_out *o, const char *name, const char *labels, double value);
/* Appends key="value" (with a leading comma when out is not empty) to out (cap bytes),
 * escaping backslash, double quote and newline as the format asks. */
void fd_metrics_label(char *out, size_t cap, const char *key, const char *value);

/* ---- histograms ---- */

#define FD_HISTOGRAM_MAX_BOUNDS 20

typedef struct fd_histogram {
    const double *bounds;  /* (n_bounds) ascending upper bounds; +Inf is implicit */
    size_t n_bounds;
    atomic_ullong counts[FD_HISTOGRAM_MAX_BOUNDS + 1]; /* per bucket, not cumulative */
    atomic_ullong sum_ns;  /* sum of the observations, in billionths of the unit */
} fd_histogram;

/* Bounds shared by the request-latency histograms (seconds). */
extern const double fd_latency_bounds[];
extern const size_t fd_latency_n_bounds;

void fd_histogram_init(fd_histogram *h, const double *bounds, size_t n_bounds);
void fd_histogram_observe(fd_histogram *h, double value); /* any thread */
/* name_bucket{labels,le="..."}, name_sum and name_count (after its family header). */
void fd_metrics_histogram(fd_metrics_out *o, const char *name, const char *labels,
                          const fd_histogram *h);

/* ---- caches ---- */

typedef struct fd_cache_stats {
    atomic_ullong hits, misses, evictions;
} fd_cache_stats;

static inline void fd_cache_hit(fd_cache_stats *s) { atomic_fetch_add(&s->hits, 1); }
static inline void fd_cache_miss(fd_cache_stats *s) { atomic_fetch_add(&s->misses, 1); }
static inline void fd_cache_evict(fd_cache_stats *s) { atomic_fetch_add(&s->evictions, 1); }

/* Lists a cache's counters under `name` (a static string: "design", ...). Registering the
 * same stats again is a no-op; unregister before the stats are freed. Any thread. Returns
 * -1 when FD_METRICS_MAX_CACHES are registered already. */
#define FD_METRICS_MAX_CACHES 32
int fd_metrics_register_cache(const char *name, fd_cache_stats *stats);
void fd_metrics_unregister_cache(fd_cache_stats *stats);

/* ---- collectors ---- */

typedef void (*fd_metrics_collect_fn)(fd_metrics_out *o, void *ud);

/* Adds fn(ud) to every scrape, after factord's own families (same pair again: no-op).
 * Any thread; -1 when FD_METRICS_MAX_COLLECTORS are registered. A collector runs on the
 * scraping worker thread and must only read atomics or take its own locks briefly. */
#define FD_METRICS_MAX_COLLECTORS 32
int fd_metrics_register(fd_metrics_collect_fn fn, void *ud);
void fd_metrics_unregister(fd_metrics_collect_fn fn, void *ud);
/* Runs the registered collectors, then writes the cache families. */
void fd_metrics_collect(fd_metrics_out *o);

/* ---- the process (Linux /proc) and the build ---- */

/* process_cpu_seconds_total, process_resident_memory_bytes,
 * process_virtual_memory_bytes, process_open_fds, process_max_fds,
 * process_start_time_seconds: the names every Prometheus client library uses. */
void fd_metrics_process(fd_metrics_out *o);
/* The factord version ("0.1.0") and the commit it was built from ("" when unknown). */
const char *fd_build_version(void);
const char *fd_build_commit(void);

#endif
