/* Job metrics (metrics.h collector): how long jobs ran, by kind and outcome, and the epochs
 * (ALS iterations for IPCA) their fits reported, by kind. Updated by the job workers;
 * the few (kind, outcome) slots are made under a mutex, counted with atomics. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "factord/metrics.h"
#include "job_metrics.h"

#define MAX_KINDS 8
#define N_OUTCOMES 4

static const char *const outcomes[N_OUTCOMES] = {"succeeded", "failed", "cancelled", "requeued"};
/* A minute's IPCA to a day's ensemble of autoencoders. */
static const double duration_bounds[] = {1,    5,    15,    30,    60,    120,  300,
                                         600,  1800, 3600,  7200,  14400, 43200, 86400};

typedef struct kind_slot {
    char kind[32];
    fd_histogram duration[N_OUTCOMES];
    atomic_ullong epochs;
} kind_slot;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static kind_slot slots[MAX_KINDS];
static atomic_int n_slots;

static void write_jobs(fd_metrics_out *o, void *ud);

static kind_slot *slot_for(const char *kind) {
    kind_slot *s = NULL;
    int n = atomic_load(&n_slots);
    for (int i = 0; i < n; i++)
        if (strcmp(slots[i].kind, kind) == 0) return &slots[i];
    pthread_mutex_lock(&mu);
    n = atomic_load(&n_slots);
    for (int i = 0; i < n && !s; i++)
        if (strcmp(slots[i].kind, kind) == 0) s = &slots[i];
    if (!s && n < MAX_KINDS) {
        s = &slots[n];
        snprintf(s->kind, sizeof s->kind, "%s", kind);
        for (int i = 0; i < N_OUTCOMES; i++)
            fd_histogram_init(&s->duration[i], duration_bounds,
                              sizeof duration_bounds / sizeof duration_bounds[0]);
        atomic_store(&n_slots, n + 1); /* published once filled in */
    }
    pthread_mutex_unlock(&mu);
    return s;
}

void fd_job_metrics_register(void) {
    slot_for("train");
    slot_for("backtest");
    fd_metrics_register(write_jobs, NULL);
}

void fd_job_metrics_finished(const char *kind, const char *outcome, double seconds) {
    kind_slot *s = slot_for(kind);
    for (int i = 0; s && i < N_OUTCOMES; i++)
        if (strcmp(outcomes[i], outcome) == 0) fd_histogram_observe(&s->duration[i], seconds);
}

void fd_job_metrics_epoch(const char *kind) {
    kind_slot *s = slot_for(kind);
    if (s) atomic_fetch_add_explicit(&s->epochs, 1, memory_order_relaxed);
}

static void write_jobs(fd_metrics_out *o, void *ud) {
    int n = atomic_load(&n_slots);
    (void)ud;
    fd_metrics_family(o, "factord_job_duration_seconds", "histogram",
                      "Wall-clock time jobs ran in this process, by kind and outcome.");
    for (int i = 0; i < n; i++)
        for (int k = 0; k < N_OUTCOMES; k++) {
            char lab[128] = "";
            fd_metrics_label(lab, sizeof lab, "kind", slots[i].kind);
            fd_metrics_label(lab, sizeof lab, "outcome", outcomes[k]);
            fd_metrics_histogram(o, "factord_job_duration_seconds", lab, &slots[i].duration[k]);
        }
    fd_metrics_family(o, "factord_training_epochs_total", "counter",
                      "Training epochs (IPCA: ALS iterations) completed, by job kind.");
    for (int i = 0; i < n; i++) {
        char lab[64] = "";
        fd_metrics_label(lab, sizeof lab, "kind", slots[i].kind);
        fd_metrics_sample(o, "factord_training_epochs_total", lab,
                          (double)atomic_load(&slots[i].epochs));
    }
}
