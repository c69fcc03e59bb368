/* The token snapshot and bearer checks (include/factord/auth.h). */
#include "factord/auth.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct fd_auth {
    pthread_mutex_t mu;
    fd_token_row *rows; /* (n) */
    size_t n;
    unsigned char key[FD_TOKEN_KEY_BYTES];
    int have_key;
    int64_t changes;  /* the store's counter at the last load */
    int loaded;
};

int fd_auth_create(fd_auth **out, fd_error *err) {
    fd_auth *a;
    if (fd_crypto_init(err)) return -1;
    a = calloc(1, sizeof *a);
    if (!a) return fd_error_set(err, 500, "out_of_memory", "auth");
    pthread_mutex_init(&a->mu, NULL);
    *out = a;
    return 0;
}

void fd_auth_destroy(fd_auth *a) {
    if (!a) return;
    pthread_mutex_destroy(&a->mu);
    sodium_memzero(a->key, sizeof a->key);
    free(a->rows);
    free(a);
}

int fd_auth_refresh(fd_auth *a, fd_db *db, int force, int *changed, fd_error *err) {
    fd_token_row *rows, *old;
    unsigned char key[FD_TOKEN_KEY_BYTES];
    int64_t changes;
    size_t n;
    int have_key, stale;
    if (changed) *changed = 0;
    if (fd_store_token_changes(db, &changes, err)) return -1;
    pthread_mutex_lock(&a->mu);
    stale = force || !a->loaded || changes != a->changes;
    pthread_mutex_unlock(&a->mu);
    if (!stale) return 0;
    if (fd_store_token_load(db, &rows, &n, key, &have_key, err)) return -1;
    pthread_mutex_lock(&a->mu);
    old = a->rows;
    a->rows = rows;
    a->n = n;
    memcpy(a->key, key, sizeof key);
    a->have_key = have_key;
    a->changes = changes;
    a->loaded = 1;
    pthread_mutex_unlock(&a->mu);
    sodium_memzero(key, sizeof key);
    free(old);
    if (changed) *changed = 1;
    return 0;
}

/* The token of "Bearer <token>" (scheme case-insensitive, RFC 9110), or NULL. */
static const char *bearer_token(const char *authorization) {
    const char *s = authorization;
    while (*s == ' ') s++;
    if (strncasecmp(s, "Bearer ", 7) != 0) return NULL;
    s += 7;
    while (*s == ' ') s++;
    return s;
}

fd_auth_result fd_auth_check(fd_auth *a, const char *authorization, unsigned *scopes,
                             char *name, size_t cap) {
    static const unsigned char no_key[FD_TOKEN_KEY_BYTES];
    char id[FD_TOKEN_ID_HEX + 1], token[FD_TOKEN_LEN + 1];
    unsigned char secret[32], hash[FD_TOKEN_HASH_BYTES];
    const fd_token_row *row = NULL;
    const char *presented;
    size_t len;
    fd_auth_result result;
    int match;
    *scopes = 0;
    if (!authorization) return FD_AUTH_MISSING;
    presented = bearer_token(authorization);
    if (!presented) return FD_AUTH_MALFORMED;
    len = strcspn(presented, " ");
    if (len != FD_TOKEN_LEN || presented[len] != '\0') return FD_AUTH_MALFORMED;
    memcpy(token, presented, len + 1);
    if (fd_token_split(token, id, secret) != 0) return FD_AUTH_MALFORMED;
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < a->n && !row; i++)
        if (strcmp(a->rows[i].id, id) == 0) row = &a->rows[i];
    /* The hash is computed (and compared) whether or not the id is known, so an answer
     * takes as long for an unknown id as for a wrong secret. */
    fd_token_hash(a->have_key ? a->key : no_key, secret, hash);
    match = row && sodium_memcmp(hash, row->hash, sizeof hash) == 0;
    if (!match) {
        result = FD_AUTH_UNKNOWN;
    } else if (row->revoked) {
        result = FD_AUTH_REVOKED;
    } else {
        result = FD_AUTH_OK;
        *scopes = fd_scopes_effective(row->scopes);
        if (name && cap) {
            strncpy(name, row->name, cap - 1);
            name[cap - 1] = '\0';
        }
    }
    pthread_mutex_unlock(&a->mu);
    sodium_memzero(secret, sizeof secret);
    sodium_memzero(token, sizeof token);
    return result;
}

size_t fd_auth_active(fd_auth *a) {
    size_t n = 0;
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < a->n; i++) n += !a->rows[i].revoked;
    pthread_mutex_unlock(&a->mu);
    return n;
}
