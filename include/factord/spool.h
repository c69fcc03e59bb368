/* Spool files: request bodies streamed to disk instead of memory (FD_ROUTE_SPOOL routes:
 * bulk imports, daily bars). They go in the spool directory (config `spool_dir`; by default
 * $TMPDIR, else /tmp, which the systemd unit makes private with PrivateTmp=), named
 * factord-spool-<tag>-XXXXXX, where <tag> is a hash of the database's real path. One daemon
 * holds a database at a time (store.h's lock), so at start-up every spool file with its tag
 * is a leftover of a crash (kill -9, power loss) and fd_spool_sweep removes it, while the
 * spools of other daemons on the same machine are left alone.
 *
 * A spool file is unlinked as soon as nothing needs it: when the handler is done, or at
 * once when the client goes away (conn.c). Thread-safe (no state). */
#ifndef FACTORD_SPOOL_H
#define FACTORD_SPOOL_H

#include <stddef.h>

#include "factord/app.h"
#include "factord/error.h"

/* The directory spool files go in (cfg->spool_dir, else $TMPDIR, else /tmp). */
const char *fd_spool_dir(const fd_config *cfg, char *buf, size_t cap);

/* Creates an empty spool file (mode 0600, O_CLOEXEC); *path is malloc'd (caller frees
 * and unlinks), *fd the open descriptor. Returns 0 or an errno value. */
int fd_spool_create(const fd_config *cfg, char **path, int *fd);

/* Removes this database's spool files left in the spool directory; counts what went. */
int fd_spool_sweep(const fd_config *cfg, size_t *files, unsigned long long *bytes,
                   fd_error *err);

#endif
