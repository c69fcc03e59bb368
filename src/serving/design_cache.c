/* An LRU of stored months keyed by month and stamp (see factord/design_cache.h). */
#include "factord/design_cache.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "factord/metrics.h"
#include "factord/store_data.h"

typedef struct slot {
    char month[FD_MONTH_LEN];
    fd_month *m;   /* the cache's reference */
    uint64_t used; /* LRU clock value of the last get */
} slot;

struct fd_design_cache {
    pthread_mutex_t mu;
    size_t capacity, n;
    slot *slots; /* (capacity) */
    uint64_t clock;
    fd_cache_stats stats; /* factord_cache_*_total{cache="design"} */
};

int fd_design_cache_create(size_t capacity, fd_design_cache **out, fd_error *err) {
    fd_design_cache *c = calloc(1, sizeof *c);
    if (c) c->slots = calloc(capacity ? capacity : 1, sizeof *c->slots);
    if (!c || !c->slots) {
        free(c);
        return fd_error_set(err, 500, "out_of_memory", "design cache");
    }
    c->capacity = capacity ? capacity : 1;
    pthread_mutex_init(&c->mu, NULL);
    fd_metrics_register_cache("design", &c->stats);
    *out = c;
    return 0;
}

void fd_design_cache_destroy(fd_design_cache *c) {
    if (!c) return;
    fd_metrics_unregister_cache(&c->stats);
    for (size_t i = 0; i < c->n; i++) fd_month_release(c->slots[i].m);
    free(c->slots);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

int fd_design_cache_get(fd_design_cache *c, fd_db *db, const char *month, fd_month **out,
                        fd_error *err) {
    char stamp[32];
    fd_month *m = NULL;
    size_t at;
    if (fd_store_panel_stamp(db, month, stamp, err)) return -1;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->n; i++) {
        slot *s = &c->slots[i];
        if (strcmp(s->month, month) == 0 && strcmp(fd_month_stamp(s->m), stamp) == 0) {
            m = s->m;
            s->used = ++c->clock;
            fd_month_hold(m);
            break;
        }
    }
    pthread_mutex_unlock(&c->mu);
    if (m) {
        fd_cache_hit(&c->stats);
        *out = m;
        return 0;
    }
    fd_cache_miss(&c->stats);
    if (fd_month_load(db, month, &m, err)) return -1;
    /* Insert, replacing an older stamp of the month or else the least recently used. */
    pthread_mutex_lock(&c->mu);
    at = c->n;
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->slots[i].month, month) == 0) at = i;
    if (at == c->n && c->n == c->capacity) {
        at = 0;
        for (size_t i = 1; i < c->n; i++)
            if (c->slots[i].used < c->slots[at].used) at = i;
    }
    if (at < c->n) {
        if (strcmp(c->slots[at].month, month) != 0) fd_cache_evict(&c->stats);
        fd_month_release(c->slots[at].m);
    } else
        c->n++;
    snprintf(c->slots[at].month, sizeof c->slots[at].month, "%s", month);
    c->slots[at].m = m;
    c->slots[at].used = ++c->clock;
    fd_month_hold(m); /* the caller's; the cache keeps the first */
    pthread_mutex_unlock(&c->mu);
    *out = m;
    return 0;
}
