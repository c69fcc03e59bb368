#include "factord/design_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "factord/scoring.h"
#include "factord/store_data.h"

/* One normalised design of a month for one column set. */
typedef struct design {
    uint64_t sig;  /* hash of the column names and add_constant */
    double *z;     /* (n, P) */
    struct design *next;
} design;

struct fd_cached_month {
    atomic_int refs;          /* the cache's + one per holder */
    char month[FD_MONTH_LEN];
    char stamp[32];
    fd_panel panel;
    size_t *by_id;            /* (n_rows) row indices sorted by id */
    pthread_mutex_t mu;       /* guards designs */
    design *designs;
    uint64_t used;            /* LRU clock value of the last get */
};

struct fd_design_cache {
    pthread_mutex_t mu;
    size_t capacity, n;
    fd_cached_month **months; /* (capacity) */
    uint64_t clock;
};

int fd_design_cache_create(size_t capacity, fd_design_cache **out, fd_error *err) {
    fd_design_cache *c = calloc(1, sizeof *c);
    if (c) c->months = calloc(capacity ? capacity : 1, sizeof *c->months);
    if (!c || !c->months) {
        free(c);
        return fd_error_set(err, 500, "out_of_memory", "design cache");
    }
    c->capacity = capacity ? capacity : 1;
    pthread_mutex_init(&c->mu, NULL);
    *out = c;
    return 0;
}

void fd_design_release(fd_cached_month *m) {
    if (!m || atomic_fetch_sub(&m->refs, 1) != 1) return;
    for (design *d = m->designs, *next; d; d = next) {
        next = d->next;
        free(d->z);
        free(d);
    }
    fd_panel_free(&m->panel);
    free(m->by_id);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

void fd_design_cache_destroy(fd_design_cache *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) fd_design_release(c->months[i]);
    free(c->months);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static int by_id_cmp(const void *a, const void *b, void *ctx) {
    const fd_panel *p = ctx;
    return strcmp(p->ids[*(const size_t *)a], p->ids[*(const size_t *)b]);
}

/* Loads a month from the store into a new entry (no cache lock held). */
static int month_load(fd_db *db, const char *month, const char *stamp, fd_cached_month **out,
                      fd_error *err) {
    fd_cached_month *m = calloc(1, sizeof *m);
    if (!m) return fd_error_set(err, 500, "out_of_memory", "cached month");
    atomic_init(&m->refs, 1);
    pthread_mutex_init(&m->mu, NULL);
    snprintf(m->month, sizeof m->month, "%s", month);
    snprintf(m->stamp, sizeof m->stamp, "%s", stamp);
    fd_panel_init(&m->panel);
    if (fd_store_panel_get(db, month, &m->panel, err)) {
        fd_design_release(m);
        return -1;
    }
    m->by_id = malloc((m->panel.n_rows + 1) * sizeof *m->by_id);
    if (!m->by_id) {
        fd_design_release(m);
        return fd_error_set(err, 500, "out_of_memory", "cached month index");
    }
    for (size_t i = 0; i < m->panel.n_rows; i++) m->by_id[i] = i;
    qsort_r(m->by_id, m->panel.n_rows, sizeof *m->by_id, by_id_cmp, &m->panel);
    *out = m;
    return 0;
}

int fd_design_cache_get(fd_design_cache *c, fd_db *db, const char *month,
                        fd_cached_month **out, fd_error *err) {
    char stamp[32];
    fd_cached_month *m = NULL;
    size_t slot;
    if (fd_store_panel_stamp(db, month, stamp, err)) return -1;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->months[i]->month, month) == 0 && strcmp(c->months[i]->stamp, stamp) == 0) {
            m = c->months[i];
            m->used = ++c->clock;
            atomic_fetch_add(&m->refs, 1);
            break;
        }
    }
    pthread_mutex_unlock(&c->mu);
    if (m) {
        *out = m;
        return 0;
    }
    if (month_load(db, month, stamp, &m, err)) return -1;
    /* Insert, replacing an older stamp of the month or else the least recently used. */
    pthread_mutex_lock(&c->mu);
    slot = c->n;
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->months[i]->month, month) == 0) slot = i;
    if (slot == c->n && c->n == c->capacity) {
        slot = 0;
        for (size_t i = 1; i < c->n; i++)
            if (c->months[i]->used < c->months[slot]->used) slot = i;
    }
    if (slot < c->n)
        fd_design_release(c->months[slot]);
    else
        c->n++;
    c->months[slot] = m;
    m->used = ++c->clock;
    atomic_fetch_add(&m->refs, 1); /* the caller's; the cache keeps the first */
    pthread_mutex_unlock(&c->mu);
    *out = m;
    return 0;
}

const fd_panel *fd_cached_panel(const fd_cached_month *m) { return &m->panel; }

long fd_cached_row(const fd_cached_month *m, const char *id) {
    size_t lo = 0, hi = m->panel.n_rows;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(m->panel.ids[m->by_id[mid]], id);
        if (cmp == 0) return (long)m->by_id[mid];
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static uint64_t columns_sig(char *const *names, size_t Pc, int add_constant) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t j = 0; j < Pc; j++) {
        for (const char *s = names[j]; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
        h = (h ^ 0xffu) * 1099511628211ULL; /* separator */
    }
    return (h ^ (uint64_t)(add_constant ? 1 : 2)) * 1099511628211ULL;
}

int fd_cached_design(fd_cached_month *m, char *const *names, size_t Pc, int add_constant,
                     const double **z, fd_error *err) {
    uint64_t sig = columns_sig(names, Pc, add_constant);
    design *d;
    double *built = NULL;
    pthread_mutex_lock(&m->mu);
    for (d = m->designs; d; d = d->next) {
        if (d->sig == sig) {
            *z = d->z;
            pthread_mutex_unlock(&m->mu);
            return 0;
        }
    }
    pthread_mutex_unlock(&m->mu);
    if (fd_design_matrix(&m->panel, names, Pc, add_constant, &built, err)) return -1;
    pthread_mutex_lock(&m->mu);
    for (d = m->designs; d; d = d->next) { /* another thread may have built it meanwhile */
        if (d->sig == sig) break;
    }
    if (!d) {
        d = malloc(sizeof *d);
        if (!d) {
            pthread_mutex_unlock(&m->mu);
            free(built);
            return fd_error_set(err, 500, "out_of_memory", "design");
        }
        d->sig = sig;
        d->z = built;
        d->next = m->designs;
        m->designs = d;
        built = NULL;
    }
    *z = d->z;
    pthread_mutex_unlock(&m->mu);
    free(built);
    return 0;
}
