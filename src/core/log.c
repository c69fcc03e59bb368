/* Levelled log lines on stderr, as text or as JSON objects (log_format). JSON strings are
 * written by the one escaper every JSON writer shares (fd_textbuf_json_string). */
#include "factord/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "factord/textbuf.h"

static atomic_int log_level = FD_LOG_INFO;
static atomic_int log_json;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

#define LOG_LINE_MAX 4096

void fd_log_set_level(fd_log_level level) { atomic_store(&log_level, (int)level); }
fd_log_level fd_log_get_level(void) { return (fd_log_level)atomic_load(&log_level); }
void fd_log_set_json(int json) { atomic_store(&log_json, json != 0); }
int fd_log_is_json(void) { return atomic_load(&log_json); }
int fd_log_enabled(fd_log_level level) { return (int)level >= atomic_load(&log_level); }

int fd_log_parse_level(const char *name, fd_log_level *out) {
    for (int i = 0; i < 4; i++) {
        if (name && strcmp(name, level_names[i]) == 0) {
            *out = (fd_log_level)i;
            return 0;
        }
    }
    return -1;
}

/* "2024-01-31T12:00:00.123Z" (UTC, milliseconds). */
static void timestamp(char out[32]) {
    struct timespec ts;
    struct tm tm;
    size_t n;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03ldZ", ts.tv_nsec / 1000000L);
}

/* One write per line so concurrent threads do not interleave. */
static void emit(const char *line, size_t n) {
    if (write(STDERR_FILENO, line, n) < 0) { /* nothing sensible to do */ }
}

static void emit_json(fd_log_level level, const char *msg, const char *fields) {
    char ts[32];
    fd_textbuf b;
    timestamp(ts);
    fd_textbuf_init(&b);
    fd_textbuf_puts(&b, "{\"time\":\"");
    fd_textbuf_puts(&b, ts);
    fd_textbuf_puts(&b, "\",\"level\":\"");
    fd_textbuf_puts(&b, level_names[level]);
    fd_textbuf_puts(&b, "\",\"msg\":");
    fd_textbuf_json_string(&b, msg);
    if (fields && *fields) {
        fd_textbuf_putc(&b, ',');
        fd_textbuf_puts(&b, fields);
    }
    fd_textbuf_puts(&b, "}\n");
    if (!b.oom) emit(b.data, b.len);
    fd_textbuf_free(&b);
}

static void emit_text(fd_log_level level, const char *msg) {
    char line[LOG_LINE_MAX], ts[32];
    size_t n;
    timestamp(ts);
    n = (size_t)snprintf(line, sizeof line, "%s %-5s %s", ts, level_names[level], msg);
    if (n >= sizeof line - 1) n = sizeof line - 2;
    line[n++] = '\n';
    emit(line, n);
}

void fd_log(fd_log_level level, const char *fmt, ...) {
    char msg[LOG_LINE_MAX];
    va_list ap;
    if (!fd_log_enabled(level)) return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (fd_log_is_json()) emit_json(level, msg, NULL);
    else emit_text(level, msg);
}

void fd_log_event(fd_log_level level, const char *text, const char *msg,
                  const char *json_fields) {
    if (!fd_log_enabled(level)) return;
    if (fd_log_is_json()) emit_json(level, msg, json_fields);
    else emit_text(level, text);
}
