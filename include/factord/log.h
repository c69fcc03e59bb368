/* Levelled logging to stderr, one line per message with an ISO time and the level.
 * Thread-safe (one write per line). The level is process-wide and may change on reload. */
#ifndef FACTORD_LOG_H
#define FACTORD_LOG_H

typedef enum { FD_LOG_DEBUG = 0, FD_LOG_INFO, FD_LOG_WARN, FD_LOG_ERROR } fd_log_level;

void fd_log_set_level(fd_log_level level);
fd_log_level fd_log_get_level(void);
/* Parses "debug" | "info" | "warn" | "error"; returns -1 on anything else. */
int fd_log_parse_level(const char *name, fd_log_level *out);
void fd_log(fd_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define fd_debug(...) fd_log(FD_LOG_DEBUG, __VA_ARGS__)
#define fd_info(...) fd_log(FD_LOG_INFO, __VA_ARGS__)
#define fd_warn(...) fd_log(FD_LOG_WARN, __VA_ARGS__)
#define fd_errorlog(...) fd_log(FD_LOG_ERROR, __VA_ARGS__)

#endif
