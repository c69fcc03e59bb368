/* The monotonic clock every deadline in factord is measured on (request deadlines, import
 * deadlines, drain bounds, uptime). Thread-safe. */
#ifndef FACTORD_CLOCK_H
#define FACTORD_CLOCK_H

/* Seconds on CLOCK_MONOTONIC. */
double fd_now(void);

/* 1 once `deadline` (an fd_now() value; NULL or 0: none) has passed. The deadline is read
 * atomically each time, so another thread may bring it forward while work runs (the
 * server does when a client goes away or the drain runs out of time). */
int fd_deadline_passed(const _Atomic double *deadline);

#endif
