/* The monotonic clock (see include/factord/clock.h). */
#include "factord/clock.h"

#include <time.h>

double fd_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
