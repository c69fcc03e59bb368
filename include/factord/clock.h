/* The monotonic clock every deadline in factord is measured on (request deadlines, import
 * deadlines, drain bounds, uptime). Thread-safe. */
#ifndef FACTORD_CLOCK_H
#define FACTORD_CLOCK_H

/* Seconds on CLOCK_MONOTONIC. */
double fd_now(void);

#endif
