/* The daemon's configuration: a `key = value` file with `#` comments, overridden by flags.
 *
 * Keys (defaults in etc/factord.conf): listen, port, db, log_level, worker_threads,
 * body_limit, spool_limit, spool_dir, request_timeout, import_timeout, max_connections,
 * header_timeout, body_min_rate, drain_timeout, memory_limit, request_memory_limit,
 * blas_threads, training_threads,
 * auth, allowed_hosts, cors_origins, log_format. Sizes accept
 * the suffixes k, M, G (powers of 1024). Unknown keys, duplicate keys, empty values and
 * out-of-range values are errors whose message names the file, the line and the key.
 *
 * Some keys only take effect at start-up (listen, port, db, worker_threads); the others
 * are "reloadable" and are applied on SIGHUP. All functions are pure (no globals) and may
 * be called from any thread on configs the caller owns. */
#ifndef FACTORD_CONFIG_H
#define FACTORD_CONFIG_H

#include <stddef.h>

#include "factord/app.h"
#include "factord/error.h"

/* Fills cfg with the built-in defaults. */
void fd_config_defaults(fd_config *cfg);

/* Sets one key from its text form. `where` names the source in error messages
 * ("factord.conf:12", "--port"). Returns 0, or -1 with a 400 "bad_config" error. */
int fd_config_set(fd_config *cfg, const char *key, const char *value, const char *where,
                  fd_error *err);

/* Parses the file at `path` over cfg (which the caller has already filled, usually with
 * fd_config_defaults). All-or-nothing: on error cfg is left exactly as it was. */
int fd_config_load(fd_config *cfg, const char *path, fd_error *err);

/* "64M" -> 67108864. Accepts a decimal integer with an optional k/K, M or G suffix.
 * Returns -1 on anything else, including overflow. */
int fd_config_parse_size(const char *text, size_t *out);

/* Writes into `out` the comma-separated names of the keys whose values differ between
 * `a` and `b`, choosing the reloadable keys (reloadable = 1) or the restart-only ones
 * (reloadable = 0). Returns how many differ. */
int fd_config_diff(const fd_config *a, const fd_config *b, int reloadable, char *out,
                   size_t cap);

/* Copies the reloadable keys of `next` into `cur`; restart-only keys keep their values. */
void fd_config_apply_reloadable(fd_config *cur, const fd_config *next);

/* Rules across keys, checked on the whole config at start-up and before a reload applies:
 * a listen address that is not loopback needs auth = required. 400 "bad_config". */
int fd_config_check(const fd_config *cfg, fd_error *err);
/* 1 for 127.0.0.0/8, ::1 and ::ffff:127.x.y.z. */
int fd_config_is_loopback(const char *addr);
int fd_config_auth_required(const fd_config *cfg);

#endif
