/* Request metrics behind /metrics: per route (its pattern, never the raw path, so the
 * series stay few) a counter by status code and a latency histogram, and per model and
 * version a counter of scoring requests by endpoint.
 *
 * Route slots are made once, from the router's tables, before the first request; the loop
 * thread (request completion) and the scoring workers update atomics, the scrape reads
 * them. Model series live in a mutex-guarded table, bounded (MAX_MODEL_SERIES). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "factord/log.h"
#include "factord/router.h"
#include "server_internal.h"

#define MAX_ROUTE_SLOTS 96
#define MAX_MODEL_SERIES 4096
#define STATUS_MIN 100
#define STATUS_MAX 599

typedef struct route_slot {
    const fd_route *route;  /* NULL: requests no route matched */
    atomic_ullong by_status[STATUS_MAX - STATUS_MIN + 1];
    fd_histogram latency;
} route_slot;

static route_slot slots[MAX_ROUTE_SLOTS];
static size_t n_slots;
static pthread_once_t slots_once = PTHREAD_ONCE_INIT;
static atomic_ullong aborted;

static void add_table(const fd_route *table) {
    for (const fd_route *r = table; r->method && n_slots < MAX_ROUTE_SLOTS; r++) {
        slots[n_slots].route = r;
        fd_histogram_init(&slots[n_slots++].latency, fd_latency_bounds, fd_latency_n_bounds);
    }
}

static void make_slots(void) {
    fd_histogram_init(&slots[0].latency, fd_latency_bounds, fd_latency_n_bounds);
    n_slots = 1;
    for (const fd_route *const *t = fd_route_tables; *t; t++) add_table(*t);
    add_table(fd_routes_debug);
}

void fd_http_metrics_init(void) { pthread_once(&slots_once, make_slots); }

static route_slot *slot_of(const fd_route *route) {
    for (size_t i = 1; route && i < n_slots; i++)
        if (slots[i].route == route) return &slots[i];
    return &slots[0];
}

void fd_http_metrics_request(const fd_route *route, int status, double seconds) {
    route_slot *s;
    fd_http_metrics_init();
    if (status < STATUS_MIN || status > STATUS_MAX) {
        atomic_fetch_add_explicit(&aborted, 1, memory_order_relaxed);
        return;
    }
    s = slot_of(route);
    atomic_fetch_add_explicit(&s->by_status[status - STATUS_MIN], 1, memory_order_relaxed);
    fd_histogram_observe(&s->latency, seconds);
}

/* ---- per model and version ---- */

typedef struct model_series {
    char model[128];
    int version;
    char endpoint[24];
    unsigned long long count;
} model_series;

static pthread_mutex_t models_mu = PTHREAD_MUTEX_INITIALIZER;
static model_series *series;
static size_t n_series, cap_series;
static int series_full_logged;

void fd_http_metrics_model(const char *model, int version, const char *endpoint) {
    model_series *s = NULL;
    pthread_mutex_lock(&models_mu);
    for (size_t i = 0; i < n_series && !s; i++)
        if (series[i].version == version && !strcmp(series[i].endpoint, endpoint) &&
            !strcmp(series[i].model, model))
            s = &series[i];
    if (!s && n_series == cap_series && cap_series < MAX_MODEL_SERIES) {
        size_t cap = cap_series ? cap_series * 2 : 64;
        model_series *grown = realloc(series, cap * sizeof *grown);
        if (grown) series = grown, cap_series = cap;
    }
    if (!s && n_series < cap_series) {
        s = &series[n_series++];
        memset(s, 0, sizeof *s);
        snprintf(s->model, sizeof s->model, "%s", model);
        snprintf(s->endpoint, sizeof s->endpoint, "%s", endpoint);
        s->version = version;
    } else if (!s && !series_full_logged) {
        series_full_logged = 1;
        fd_warn("metrics: %d model/version/endpoint series reached; new ones are not counted",
                MAX_MODEL_SERIES);
    }
    if (s) s->count++;
    pthread_mutex_unlock(&models_mu);
}

/* ---- the scrape ---- */

void fd_http_metrics_write(fd_metrics_out *o) {
    char lab[512], code[16];
    fd_http_metrics_init();
    fd_metrics_family(o, "factord_http_requests_total", "counter",
                      "HTTP requests answered, by route pattern, method and status code.");
    for (size_t i = 0; i < n_slots; i++) {
        const fd_route *r = slots[i].route;
        for (int st = STATUS_MIN; st <= STATUS_MAX; st++) {
            unsigned long long n = atomic_load_explicit(&slots[i].by_status[st - STATUS_MIN],
                                                        memory_order_relaxed);
            if (!n) continue;
            lab[0] = '\0';
            snprintf(code, sizeof code, "%d", st);
            fd_metrics_label(lab, sizeof lab, "route", r ? r->pattern : "unmatched");
            fd_metrics_label(lab, sizeof lab, "method", r ? r->method : "any");
            fd_metrics_label(lab, sizeof lab, "code", code);
            fd_metrics_sample(o, "factord_http_requests_total", lab, (double)n);
        }
    }
    fd_metrics_family(o, "factord_http_request_duration_seconds", "histogram",
                      "Time from a request's first byte to its answer being queued, by route "
                      "pattern and method (HEAD counts as GET).");
    for (size_t i = 0; i < n_slots; i++) {
        const fd_route *r = slots[i].route;
        unsigned long long total = 0;
        for (size_t b = 0; b <= slots[i].latency.n_bounds; b++)
            total += atomic_load_explicit(&slots[i].latency.counts[b], memory_order_relaxed);
        if (!total) continue;
        lab[0] = '\0';
        fd_metrics_label(lab, sizeof lab, "route", r ? r->pattern : "unmatched");
        fd_metrics_label(lab, sizeof lab, "method", r ? r->method : "any");
        fd_metrics_histogram(o, "factord_http_request_duration_seconds", lab, &slots[i].latency);
    }
    fd_metrics_family(o, "factord_http_requests_aborted_total", "counter",
                      "Requests whose connection closed before an answer was sent.");
    fd_metrics_sample(o, "factord_http_requests_aborted_total", NULL,
                      (double)atomic_load(&aborted));
    fd_metrics_family(o, "factord_model_requests_total", "counter",
                      "Scoring requests served, by model, version and endpoint.");
    pthread_mutex_lock(&models_mu);
    for (size_t i = 0; i < n_series; i++) {
        char version[16];
        lab[0] = '\0';
        snprintf(version, sizeof version, "%d", series[i].version);
        fd_metrics_label(lab, sizeof lab, "model", series[i].model);
        fd_metrics_label(lab, sizeof lab, "version", version);
        fd_metrics_label(lab, sizeof lab, "endpoint", series[i].endpoint);
        fd_metrics_sample(o, "factord_model_requests_total", lab, (double)series[i].count);
    }
    pthread_mutex_unlock(&models_mu);
}
