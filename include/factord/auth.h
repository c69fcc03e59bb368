/* Bearer-token verification for the HTTP server: an in-memory snapshot of the token store
 * (tokens.h), so a request is authorised on the loop thread, before its body is read,
 * without touching SQLite.
 *
 * The snapshot is refreshed by fd_auth_refresh from a worker (the server polls the store's
 * token change counter every second and on SIGHUP), so a token created or revoked with
 * `factord token` in another process takes effect within about a second. Every function may
 * be called from any thread (one mutex; checks hold it for one hash). */
#ifndef FACTORD_AUTH_H
#define FACTORD_AUTH_H

#include <stddef.h>

#include "factord/error.h"
#include "factord/store.h"
#include "factord/tokens.h"

typedef struct fd_auth fd_auth;

int fd_auth_create(fd_auth **out, fd_error *err);
void fd_auth_destroy(fd_auth *a); /* NULL is fine */

/* Reloads the snapshot when the store's change counter moved since the last load (always
 * when force). *changed (may be NULL) says whether it did. */
int fd_auth_refresh(fd_auth *a, fd_db *db, int force, int *changed, fd_error *err);

typedef enum {
    FD_AUTH_OK = 0,
    FD_AUTH_MISSING,   /* no Authorization header */
    FD_AUTH_MALFORMED, /* not "Bearer <token>" in the token format */
    FD_AUTH_UNKNOWN,   /* no such token, or the secret does not match */
    FD_AUTH_REVOKED,
} fd_auth_result;

/* Checks an Authorization header value (NULL when absent). On FD_AUTH_OK, *scopes gets the
 * effective scopes (admin expanded) and name (cap bytes, may be NULL) the token's name. */
fd_auth_result fd_auth_check(fd_auth *a, const char *authorization, unsigned *scopes,
                             char *name, size_t cap);
/* Tokens in the snapshot that are not revoked. */
size_t fd_auth_active(fd_auth *a);

#endif
