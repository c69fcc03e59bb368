/* Request counters behind /metrics. Written on the loop thread, read by any thread. */
#include <stdatomic.h>

#include "factord/http.h"
#include "factord/server.h"
#include "server_internal.h"

static atomic_ullong timeouts;
static atomic_long in_flight;
static _Atomic double started;

void fd_stats_start(void) { atomic_store(&started, fd_now()); }
void fd_stats_request_begin(void) { atomic_fetch_add(&in_flight, 1); }
void fd_stats_request_end(void) { atomic_fetch_sub(&in_flight, 1); }
long fd_stats_in_flight(void) { return atomic_load(&in_flight); }
void fd_stats_timeout(void) { atomic_fetch_add(&timeouts, 1); }

void fd_http_counters_get(fd_http_counters *out) {
    double t0 = atomic_load(&started);
    out->timeouts = atomic_load(&timeouts);
    out->in_flight = atomic_load(&in_flight);
    out->uptime = t0 > 0 ? fd_now() - t0 : 0;
}
