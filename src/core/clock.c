/* The monotonic clock (see include/factord/clock.h). */
#include "factord/clock.h"

#include <stdatomic.h>
#include <time.h>

double fd_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int fd_deadline_passed(const _Atomic double *deadline) {
    double at = deadline ? atomic_load(deadline) : 0;
    return at > 0 && fd_now() > at;
}
