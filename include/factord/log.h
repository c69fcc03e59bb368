/* Levelled logging to stderr, one line per message with an ISO time and the level, as text
 * ("2024-01-31T12:00:00.123Z info  listening ...") or, with log_format = json, one JSON
 * object per line ({"time","level","msg"} plus an event's own fields). Thread-safe (one
 * write per line). The level and format are process-wide and may change on reload. */
#ifndef FACTORD_LOG_H
#define FACTORD_LOG_H

typedef enum { FD_LOG_DEBUG = 0, FD_LOG_INFO, FD_LOG_WARN, FD_LOG_ERROR } fd_log_level;

void fd_log_set_level(fd_log_level level);
fd_log_level fd_log_get_level(void);
/* Parses "debug" | "info" | "warn" | "error"; returns -1 on anything else. */
int fd_log_parse_level(const char *name, fd_log_level *out);
void fd_log_set_json(int json);
int fd_log_is_json(void);
/* 1 if a message of this level would be written. */
int fd_log_enabled(fd_log_level level);
void fd_log(fd_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An event with fields (the access log): written as `text` in text mode, or as
 * {"time","level","msg":msg, <json_fields>} in JSON mode, where json_fields is the inside
 * of an object ("\"status\":200,\"path\":\"/x\""), already valid JSON. */
void fd_log_event(fd_log_level level, const char *text, const char *msg,
                  const char *json_fields);

#define fd_debug(...) fd_log(FD_LOG_DEBUG, __VA_ARGS__)
#define fd_info(...) fd_log(FD_LOG_INFO, __VA_ARGS__)
#define fd_warn(...) fd_log(FD_LOG_WARN, __VA_ARGS__)
#define fd_errorlog(...) fd_log(FD_LOG_ERROR, __VA_ARGS__)

#endif
