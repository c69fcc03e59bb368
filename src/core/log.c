#include "factord/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_level = FD_LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void fd_log_set_level(fd_log_level level) { atomic_store(&log_level, (int)level); }
fd_log_level fd_log_get_level(void) { return (fd_log_level)atomic_load(&log_level); }

int fd_log_parse_level(const char *name, fd_log_level *out) {
    for (int i = 0; i < 4; i++) {
        if (name && strcmp(name, level_names[i]) == 0) {
            *out = (fd_log_level)i;
            return 0;
        }
    }
    return -1;
}

void fd_log(fd_log_level level, const char *fmt, ...) {
    char line[2048];
    struct timespec ts;
    struct tm tm;
    va_list ap;
    size_t n;
    if ((int)level < atomic_load(&log_level)) return;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof line - n, ".%03ldZ %-5s ", ts.tv_nsec / 1000000L,
                          level_names[level]);
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - n, fmt, ap);
    va_end(ap);
    n = strlen(line);
    if (n >= sizeof line - 1) n = sizeof line - 2;
    line[n++] = '\n';
    /* One write per line so concurrent threads do not interleave. */
    if (write(STDERR_FILENO, line, n) < 0) { /* nothing sensible to do */ }
}
