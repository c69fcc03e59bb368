/* Config file parsing and validation. One table describes every key: its type, where it
 * lives in fd_config, its range and whether SIGHUP may change it; parsing, diffing and
 * applying reloads are all driven by that table so a new key is one line here. */
#include "factord/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "factord/log.h"

typedef enum {
    KEY_ADDR, KEY_PATH, KEY_INT, KEY_SIZE, KEY_SECONDS, KEY_LEVEL, KEY_CHOICE, KEY_LIST
} key_type;

typedef struct config_key {
    const char *name;
    key_type type;
    size_t offset; /* of the field inside fd_config */
    size_t size;   /* of the field, for diffing and copying */
    double min, max;
    int reloadable;
    const char *choices;                         /* KEY_CHOICE: "a|b" */
    int (*item_ok)(const char *item, size_t len); /* KEY_LIST: validates one item */
} config_key;

static int host_item_ok(const char *item, size_t len);
static int origin_item_ok(const char *item, size_t len);

#define FIELD(f) offsetof(fd_config, f), sizeof(((fd_config *)0)->f)
#define GiB (1024.0 * 1024.0 * 1024.0)

static const config_key config_keys[] = {
    {"listen", KEY_ADDR, FIELD(listen_addr), 0, 0, 0, NULL, NULL},
    {"port", KEY_INT, FIELD(port), 0, 65535, 0, NULL, NULL},
    {"db", KEY_PATH, FIELD(db_path), 0, 0, 0, NULL, NULL},
    {"log_level", KEY_LEVEL, FIELD(log_level), 0, 0, 1, NULL, NULL},
    {"worker_threads", KEY_INT, FIELD(worker_threads), 1, 128, 0, NULL, NULL},
    {"body_limit", KEY_SIZE, FIELD(body_limit), 1024, 16 * GiB, 1, NULL, NULL},
    {"spool_limit", KEY_SIZE, FIELD(spool_limit), 1024, 1024 * GiB, 1, NULL, NULL},
    {"spool_dir", KEY_PATH, FIELD(spool_dir), 0, 0, 0, NULL, NULL},
    {"request_timeout", KEY_SECONDS, FIELD(request_timeout), 0.001, 86400, 1, NULL, NULL},
    {"import_timeout", KEY_SECONDS, FIELD(import_timeout), 0.001, 86400, 1, NULL, NULL},
    {"max_connections", KEY_INT, FIELD(max_connections), 1, 1000000, 0, NULL, NULL},
    {"header_timeout", KEY_SECONDS, FIELD(header_timeout), 0.1, 3600, 1, NULL, NULL},
    {"body_min_rate", KEY_SIZE, FIELD(body_min_rate), 0, 1024 * GiB, 1, NULL, NULL},
    {"drain_timeout", KEY_SECONDS, FIELD(drain_timeout), 0.1, 3600, 1, NULL, NULL},
    {"memory_limit", KEY_SIZE, FIELD(memory_limit), 0, 1024 * GiB, 1, NULL, NULL},
    {"request_memory_limit", KEY_SIZE, FIELD(request_memory_limit), 1024 * 1024, 1024 * GiB, 1,
     NULL, NULL},
    {"blas_threads", KEY_INT, FIELD(blas_threads), 1, 64, 1, NULL, NULL},
    {"training_threads", KEY_INT, FIELD(training_threads), 1, 64, 1, NULL, NULL},
    {"auth", KEY_CHOICE, FIELD(auth), 0, 0, 1, "required|off", NULL},
    {"allowed_hosts", KEY_LIST, FIELD(allowed_hosts), 0, 0, 1, NULL, host_item_ok},
    {"cors_origins", KEY_LIST, FIELD(cors_origins), 0, 0, 1, NULL, origin_item_ok},
    {"log_format", KEY_CHOICE, FIELD(log_format), 0, 0, 1, "text|json", NULL},
};
#define N_KEYS (sizeof config_keys / sizeof config_keys[0])

void fd_config_defaults(fd_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->listen_addr, sizeof cfg->listen_addr, "127.0.0.1");
    cfg->port = 8080;
    snprintf(cfg->db_path, sizeof cfg->db_path, "factord.db");
    snprintf(cfg->log_level, sizeof cfg->log_level, "info");
    cfg->worker_threads = 4;
    cfg->body_limit = (size_t)64 << 20;
    cfg->spool_limit = (size_t)4 << 30;
    cfg->request_timeout = 30.0;
    /* A 200 MB bulk import takes tens of seconds; spooled uploads get their own deadline. */
    cfg->import_timeout = 600.0;
    cfg->max_connections = 1024;
    cfg->header_timeout = 15.0;
    cfg->body_min_rate = 1024;
    /* The systemd unit's TimeoutStopSec (45 s) leaves 15 s beyond this for workers to stop. */
    cfg->drain_timeout = 30.0;
    /* A 64 MB JSON panel of 7-character numbers builds a tree of about 400 MB; four workers
     * at that size fit in the total. */
    cfg->memory_limit = (size_t)2 << 30;
    cfg->request_memory_limit = (size_t)512 << 20;
    /* Requests already run concurrently on the worker pool; one BLAS thread each keeps
     * the 2 cores from being oversubscribed. Training raises it for its own calls. */
    cfg->blas_threads = 1;
    cfg->training_threads = 1;
    snprintf(cfg->auth, sizeof cfg->auth, "off");
    snprintf(cfg->allowed_hosts, sizeof cfg->allowed_hosts, "localhost,127.0.0.1,::1");
    snprintf(cfg->log_format, sizeof cfg->log_format, "text");
}

/* A host name or IP literal as a Host header carries it (without the port; IPv6 without
 * brackets), or "*" for any. */
static int host_item_ok(const char *item, size_t len) {
    if (len == 1 && item[0] == '*') return 1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)item[i];
        if (!isalnum(c) && c != '-' && c != '.' && c != ':' && c != '_') return 0;
    }
    return len > 0 && len < 256;
}

/* An origin as browsers send it: scheme://host[:port], no path. */
static int origin_item_ok(const char *item, size_t len) {
    const char *sep = memmem(item, len, "://", 3);
    size_t rest;
    if (!sep || sep == item) return 0;
    for (const char *c = item; c < sep; c++)
        if (!isalpha((unsigned char)*c)) return 0;
    rest = len - (size_t)(sep + 3 - item);
    if (rest == 0) return 0;
    for (const char *c = sep + 3; c < item + len; c++) {
        unsigned char ch = (unsigned char)*c;
        if (!isalnum(ch) && ch != '-' && ch != '.' && ch != ':' && ch != '[' && ch != ']')
            return 0;
    }
    return 1;
}

/* Validates a comma-separated list item by item; returns the first bad item's index + 1. */
static size_t list_bad_item(const config_key *k, const char *value, const char **item,
                            size_t *item_len) {
    size_t index = 0;
    for (const char *s = value; *s;) {
        size_t len = strcspn(s, ",");
        const char *start = s, *end = s + len;
        while (start < end && isspace((unsigned char)*start)) start++;
        while (end > start && isspace((unsigned char)end[-1])) end--;
        index++;
        if (!k->item_ok(start, (size_t)(end - start))) {
            *item = start;
            *item_len = (size_t)(end - start);
            return index;
        }
        s += len + (s[len] == ',');
    }
    return 0;
}

int fd_config_is_loopback(const char *addr) {
    struct in_addr v4;
    struct in6_addr v6;
    if (inet_pton(AF_INET, addr, &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, addr, &v6) != 1) return 0;
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return 1;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
}

int fd_config_auth_required(const fd_config *cfg) { return strcmp(cfg->auth, "required") == 0; }

int fd_config_check(const fd_config *cfg, fd_error *err) {
    if (!fd_config_auth_required(cfg) && !fd_config_is_loopback(cfg->listen_addr))
        return fd_error_set(err, 400, "bad_config",
                            "listen = %s is not a loopback address, so auth must be 'required' "
                            "(create a token with `factord token create`)",
                            cfg->listen_addr);
    return 0;
}

int fd_config_parse_size(const char *text, size_t *out) {
    char *end;
    unsigned long long v, mult = 1;
    if (!text || !isdigit((unsigned char)text[0])) return -1;
    errno = 0;
    v = strtoull(text, &end, 10);
    if (errno) return -1;
    if (*end == 'k' || *end == 'K') mult = 1ULL << 10, end++;
    else if (*end == 'M') mult = 1ULL << 20, end++;
    else if (*end == 'G') mult = 1ULL << 30, end++;
    if (*end != '\0') return -1;
    if (v > SIZE_MAX / mult) return -1;
    *out = (size_t)(v * mult);
    return 0;
}

static const config_key *find_key(const char *name) {
    for (size_t i = 0; i < N_KEYS; i++)
        if (strcmp(config_keys[i].name, name) == 0) return &config_keys[i];
    return NULL;
}

static int bad(fd_error *err, const char *where, const char *key, const char *fmt,
               const char *value, const config_key *k) {
    char what[256];
    snprintf(what, sizeof what, fmt, value, k ? k->min : 0.0, k ? k->max : 0.0);
    return fd_error_set(err, 400, "bad_config", "%s: %s: %s", where, key, what);
}

int fd_config_set(fd_config *cfg, const char *key, const char *value, const char *where,
                  fd_error *err) {
    const config_key *k = find_key(key);
    char *field = (char *)cfg;
    char *end;
    if (!k) {
        fd_error_set(err, 400, "bad_config", "%s: unknown key '%s'", where, key);
        return -1;
    }
    if (!value || !*value) return bad(err, where, key, "empty value%s", "", NULL);
    field += k->offset;
    switch (k->type) {
    case KEY_ADDR: {
        unsigned char buf[sizeof(struct in6_addr)];
        if (strlen(value) >= k->size ||
            (inet_pton(AF_INET, value, buf) != 1 && inet_pton(AF_INET6, value, buf) != 1))
            return bad(err, where, key, "'%s' is not an IPv4 or IPv6 address", value, NULL);
        break;
    }
    case KEY_PATH:
        if (strlen(value) >= k->size)
            return bad(err, where, key, "path '%.64s...' is too long", value, NULL);
        break;
    case KEY_CHOICE: {
        size_t n = strlen(value);
        const char *c = strstr(k->choices, value);
        int ok = 0;
        for (; c && !ok; c = strstr(c + 1, value))
            ok = (c == k->choices || c[-1] == '|') && (c[n] == '|' || c[n] == '\0');
        if (!ok) {
            char what[128];
            snprintf(what, sizeof what, "'%%s' is not one of %s", k->choices);
            return bad(err, where, key, what, value, NULL);
        }
        break;
    }
    case KEY_LIST: {
        const char *item = NULL;
        size_t item_len = 0, index;
        if (strlen(value) >= k->size)
            return bad(err, where, key, "list '%.64s...' is too long", value, NULL);
        index = list_bad_item(k, value, &item, &item_len);
        if (index)
            return fd_error_set(err, 400, "bad_config", "%s: %s: item %zu '%.*s' is not %s", where,
                                key, index, (int)(item_len > 80 ? 80 : item_len), item,
                                k->item_ok == origin_item_ok ? "an origin (scheme://host[:port])"
                                                             : "a host name or IP address");
        break;
    }
    case KEY_LEVEL: {
        fd_log_level level;
        if (fd_log_parse_level(value, &level) != 0)
            return bad(err, where, key, "'%s' is not one of debug, info, warn, error", value,
                       NULL);
        break;
    }
    case KEY_INT: {
        long v;
        errno = 0;
        v = strtol(value, &end, 10);
        if (errno || *end || end == value)
            return bad(err, where, key, "'%s' is not an integer", value, NULL);
        if (v < k->min || v > k->max)
            return bad(err, where, key, "%s is out of range (%.0f to %.0f)", value, k);
        *(int *)field = (int)v;
        return 0;
    }
    case KEY_SIZE: {
        size_t v;
        if (fd_config_parse_size(value, &v) != 0)
            return bad(err, where, key, "'%s' is not a size (bytes, or a number with k, M or G)",
                       value, NULL);
        if ((double)v < k->min || (double)v > k->max)
            return bad(err, where, key, "%s is out of range (%.0f to %.0f bytes)", value, k);
        *(size_t *)field = v;
        return 0;
    }
    case KEY_SECONDS: {
        double v;
        errno = 0;
        v = strtod(value, &end);
        if (errno || *end || end == value || !isfinite(v))
            return bad(err, where, key, "'%s' is not a number of seconds", value, NULL);
        if (v < k->min || v > k->max)
            return bad(err, where, key, "%s is out of range (%g to %g seconds)", value, k);
        *(double *)field = v;
        return 0;
    }
    }
    /* String keys: clear the whole field so equal values compare equal byte for byte. */
    memset(field, 0, k->size);
    snprintf(field, k->size, "%s", value);
    return 0;
}

static char *trim(char *s) {
    char *e;
    while (isspace((unsigned char)*s)) s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
    return s;
}

/* Parses one line into cfg; `seen` holds the line number each key was set on. */
static int parse_line(fd_config *cfg, char *line, const char *where, int lineno,
                      int seen[N_KEYS], fd_error *err) {
    char *hash = strchr(line, '#'), *eq, *key, *value;
    const config_key *k;
    if (hash) *hash = '\0';
    line = trim(line);
    if (!*line) return 0;
    eq = strchr(line, '=');
    if (!eq) return fd_error_set(err, 400, "bad_config", "%s: expected 'key = value', got '%.80s'",
                                 where, line);
    *eq = '\0';
    key = trim(line);
    value = trim(eq + 1);
    if (!*key) return fd_error_set(err, 400, "bad_config", "%s: missing key before '='", where);
    k = find_key(key);
    if (k && seen[k - config_keys])
        return fd_error_set(err, 400, "bad_config", "%s: %s: already set on line %d", where, key,
                            seen[k - config_keys]);
    if (fd_config_set(cfg, key, value, where, err) != 0) return -1;
    seen[k - config_keys] = lineno;
    return 0;
}

int fd_config_load(fd_config *cfg, const char *path, fd_error *err) {
    fd_config next = *cfg;
    int seen[N_KEYS] = {0};
    char line[1024], where[600];
    int lineno = 0, rc = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return fd_error_set(err, 400, "bad_config", "%s: cannot open: %s", path, strerror(errno));
    while (rc == 0 && fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        lineno++;
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        if (n == sizeof line - 1 && line[n - 1] != '\n' && !feof(f)) {
            rc = fd_error_set(err, 400, "bad_config", "%s: line longer than %zu bytes", where,
                              sizeof line - 2);
            break;
        }
        rc = parse_line(&next, line, where, lineno, seen, err);
    }
    if (rc == 0 && ferror(f))
        rc = fd_error_set(err, 400, "bad_config", "%s: read error", path);
    fclose(f);
    if (rc == 0) *cfg = next;
    return rc;
}

int fd_config_diff(const fd_config *a, const fd_config *b, int reloadable, char *out,
                   size_t cap) {
    int n = 0;
    size_t used = 0;
    if (cap) out[0] = '\0';
    for (size_t i = 0; i < N_KEYS; i++) {
        const config_key *k = &config_keys[i];
        if (k->reloadable != reloadable) continue;
        if (memcmp((const char *)a + k->offset, (const char *)b + k->offset, k->size) == 0)
            continue;
        if (used < cap)
            used += (size_t)snprintf(out + used, cap - used, "%s%s", n ? ", " : "", k->name);
        n++;
    }
    return n;
}

void fd_config_apply_reloadable(fd_config *cur, const fd_config *next) {
    for (size_t i = 0; i < N_KEYS; i++) {
        const config_key *k = &config_keys[i];
        if (k->reloadable)
            memcpy((char *)cur + k->offset, (const char *)next + k->offset, k->size);
    }
}
