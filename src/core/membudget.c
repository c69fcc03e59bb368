/* Request memory budgets (membudget.h). */
#include "factord/membudget.h"

#include <jansson.h>
#include <malloc.h>
#include <stdlib.h>

static _Atomic size_t total_used;
static _Atomic size_t total_limit;
static _Thread_local fd_mem_account *current;

void fd_mem_set_total_limit(size_t bytes) { atomic_store(&total_limit, bytes); }
size_t fd_mem_total(void) { return atomic_load(&total_used); }

void fd_mem_account_init(fd_mem_account *a, size_t limit) {
    atomic_init(&a->used, 0);
    atomic_init(&a->peak, 0);
    atomic_init(&a->exceeded, FD_MEM_OK);
    a->limit = limit;
}

static int refuse(fd_mem_account *a, int why) {
    int none = FD_MEM_OK;
    atomic_compare_exchange_strong(&a->exceeded, &none, why);
    return why;
}

int fd_mem_charge(fd_mem_account *a, size_t n) {
    size_t used = atomic_fetch_add(&a->used, n) + n, limit = atomic_load(&total_limit);
    size_t total = atomic_fetch_add(&total_used, n) + n, peak = atomic_load(&a->peak);
    int why = a->limit && used > a->limit ? FD_MEM_OVER_REQUEST
              : limit && total > limit    ? FD_MEM_OVER_TOTAL
                                          : FD_MEM_OK;
    if (why != FD_MEM_OK) {
        atomic_fetch_sub(&a->used, n);
        atomic_fetch_sub(&total_used, n);
        return refuse(a, why);
    }
    while (used > peak && !atomic_compare_exchange_weak(&a->peak, &peak, used)) {
    }
    return FD_MEM_OK;
}

void fd_mem_credit(fd_mem_account *a, size_t n) {
    size_t used = atomic_load(&a->used);
    /* Never below zero: memory from before the request may be freed during it. */
    while (!atomic_compare_exchange_weak(&a->used, &used, used > n ? used - n : 0)) {
    }
    atomic_fetch_sub(&total_used, used > n ? n : used);
}

void fd_mem_account_close(fd_mem_account *a) {
    atomic_fetch_sub(&total_used, atomic_exchange(&a->used, 0));
}

void fd_mem_enter(fd_mem_account *a) { current = a; }
void fd_mem_leave(void) { current = NULL; }

int fd_mem_charge_current(size_t n) {
    return current && fd_mem_charge(current, n) != FD_MEM_OK ? -1 : 0;
}

/* jansson's allocator: plain malloc underneath (what it returns may be freed with free(),
 * as json_dumps' callers do), charged by the usable size. */
static void *json_alloc(size_t n) {
    void *p = malloc(n);
    if (p && current && fd_mem_charge(current, malloc_usable_size(p)) != FD_MEM_OK) {
        free(p);
        return NULL;
    }
    return p;
}

static void json_release(void *p) {
    if (p && current) fd_mem_credit(current, malloc_usable_size(p));
    free(p);
}

void fd_mem_install_jansson(void) { json_set_alloc_funcs(json_alloc, json_release); }
