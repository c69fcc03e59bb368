/* The systemd notify protocol without libsystemd: one datagram of `KEY=VALUE` lines sent to
 * the AF_UNIX socket named by $NOTIFY_SOCKET (a path, or "@name" for the abstract
 * namespace). When the variable is unset every call is a no-op that succeeds, so callers
 * never need to know whether they run under systemd. Thread-safe (no shared state). */
#ifndef FACTORD_NOTIFY_H
#define FACTORD_NOTIFY_H

/* Sends `state` ("READY=1\nSTATUS=listening"); 0 if sent or not under systemd, -1 on error
 * (errno set; the daemon logs and carries on: notification is advisory). */
int fd_notify(const char *state);
int fd_notifyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* CLOCK_MONOTONIC in microseconds, as systemd expects in MONOTONIC_USEC=. */
unsigned long long fd_notify_monotonic_usec(void);

#endif
