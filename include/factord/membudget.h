/* Memory budgets for requests: one per request (request_memory_limit) and one for all the
 * requests in flight together (memory_limit).
 *
 * A request's account is charged for its buffered body (by the server, on the loop
 * thread) and for what its handler builds while it runs: every jansson allocation (a 60 MB
 * JSON body used to become a 1.3 GB tree) and the rows a panel builder grows, charged to
 * the account the calling thread has entered (fd_mem_enter). A charge that would take the
 * account past its limit, or all accounts together past the process limit, fails: the
 * allocation returns NULL, the parse fails, and the server answers 413 (this request is too
 * big) or 503 with Retry-After (too much is in flight right now) instead of whatever the
 * handler made of the failure. An account's charges all leave the total when the request
 * ends, wherever its memory is freed, so the total never drifts.
 *
 * Frees on the entered thread credit the account back (so a handler that builds and drops
 * documents is charged for what it holds, not what it ever made); memory allocated before
 * and freed during the request only brings the account down to zero. Thread-safe. */
#ifndef FACTORD_MEMBUDGET_H
#define FACTORD_MEMBUDGET_H

#include <stdatomic.h>
#include <stddef.h>

enum { FD_MEM_OK = 0, FD_MEM_OVER_REQUEST = 1, FD_MEM_OVER_TOTAL = 2 };

typedef struct fd_mem_account {
    _Atomic size_t used;   /* bytes charged and not credited back */
    _Atomic size_t peak;   /* the most `used` has been */
    atomic_int exceeded;   /* FD_MEM_OVER_*: the first limit a charge ran into */
    size_t limit;          /* request_memory_limit when the request began; 0 = none */
} fd_mem_account;

/* The limit for all accounts together (memory_limit; 0 = none). Any thread, any time. */
void fd_mem_set_total_limit(size_t bytes);
/* Bytes charged to all open accounts. */
size_t fd_mem_total(void);

void fd_mem_account_init(fd_mem_account *a, size_t limit);
/* Charges n bytes: FD_MEM_OK, or the limit it would pass (nothing charged then; the
 * account remembers the first refusal in `exceeded`). */
int fd_mem_charge(fd_mem_account *a, size_t n);
void fd_mem_credit(fd_mem_account *a, size_t n);
/* The request is over: its charges leave the total. */
void fd_mem_account_close(fd_mem_account *a);

/* The calling thread's current account (NULL: none, nothing is charged). */
void fd_mem_enter(fd_mem_account *a);
void fd_mem_leave(void);
/* Charges the current account, if any; -1 when refused. */
int fd_mem_charge_current(size_t n);

/* Routes jansson's allocations through the current account. Call once, before any thread
 * uses jansson (factord serve does at start-up). */
void fd_mem_install_jansson(void);

#endif
