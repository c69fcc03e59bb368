/* API tokens: scopes, the token format and their store (migration 0005).
 *
 * A token is "fdt_" + 16 hex characters of public id + "_" + 64 hex characters of secret
 * (32 random bytes from libsodium). Only the id and the keyed hash of the secret are stored:
 * BLAKE2b-256 (crypto_generichash) keyed with the database's own random 32-byte key, made on
 * first use. A presented token is checked by id, then by comparing hashes in constant time
 * (sodium_memcmp), so neither the table nor the timing of an answer gives the secret away.
 *
 * Scopes: read (GET routes, inline scoring), ingest (data writes), train (declare, train,
 * import versions, backtests, cancel jobs), admin (labels, retire, delete models; implies
 * the other three). The table of which route needs which scope is src/http/route_rules.c.
 *
 * Store functions take a connection the caller holds (store.h conventions: BEGIN IMMEDIATE
 * for writes, failing calls change nothing). Pure helpers may be called from any thread. */
#ifndef FACTORD_TOKENS_H
#define FACTORD_TOKENS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "factord/store.h"

enum {
    FD_SCOPE_READ = 1u << 0,
    FD_SCOPE_INGEST = 1u << 1,
    FD_SCOPE_TRAIN = 1u << 2,
    FD_SCOPE_ADMIN = 1u << 3,
    FD_SCOPE_ALL = (1u << 4) - 1,
};

#define FD_TOKEN_ID_HEX 16
#define FD_TOKEN_SECRET_HEX 64
#define FD_TOKEN_HASH_BYTES 32
#define FD_TOKEN_KEY_BYTES 32
/* "fdt_" + id + "_" + secret */
#define FD_TOKEN_LEN (4 + FD_TOKEN_ID_HEX + 1 + FD_TOKEN_SECRET_HEX)
#define FD_TOKEN_NAME_MAX 64

/* Initialises libsodium (idempotent, thread-safe). -1 with a 500 error if it cannot. */
int fd_crypto_init(fd_error *err);

/* "read,train" -> bit set; 400 "bad_scope" naming an unknown scope or an empty list. */
int fd_scopes_parse(const char *text, unsigned *out, fd_error *err);
/* Bit set -> "read,ingest" (canonical order); admin is written alone when set. */
void fd_scopes_format(unsigned scopes, char *out, size_t cap);
/* The scope bits a holder of `scopes` effectively has (admin implies all). */
unsigned fd_scopes_effective(unsigned scopes);
/* The name of one scope bit ("read"), or "none" for 0. */
const char *fd_scope_name(unsigned bit);

/* Splits a presented token into its id (FD_TOKEN_ID_HEX + 1 bytes) and the 32 secret
 * bytes; -1 when it is not in the token format. */
int fd_token_split(const char *token, char id[FD_TOKEN_ID_HEX + 1],
                   unsigned char secret[32]);
/* hash (32) = BLAKE2b-256 of the secret keyed with key (32). */
void fd_token_hash(const unsigned char key[FD_TOKEN_KEY_BYTES], const unsigned char secret[32],
                   unsigned char hash[FD_TOKEN_HASH_BYTES]);

/* One stored token as the verifier needs it. */
typedef struct fd_token_row {
    char id[FD_TOKEN_ID_HEX + 1];
    char name[FD_TOKEN_NAME_MAX + 1];
    unsigned scopes;
    unsigned char hash[FD_TOKEN_HASH_BYTES];
    int revoked;
} fd_token_row;

/* Makes a token named `name` ([A-Za-z0-9_.-], 1..64; 409 "token_exists" when taken) with
 * `scopes`; writes the token text (FD_TOKEN_LEN + 1 bytes) into token_out, the only time
 * it exists in clear. *info (may be NULL) receives the JSON of the row as in list. */
int fd_store_token_create(fd_db *db, const char *name, unsigned scopes,
                          char token_out[FD_TOKEN_LEN + 1], json_t **info, fd_error *err);
/* [{"id","name","scopes":[...],"created_at","revoked_at"|null}] by creation. */
int fd_store_token_list(fd_db *db, json_t **out, fd_error *err);
/* Revokes the token with this id or name; 404 "no_token"; 409 "token_revoked" if it
 * already is. */
int fd_store_token_revoke(fd_db *db, const char *id_or_name, fd_error *err);
/* Every token (revoked ones flagged) and the hashing key: *rows malloc'd (NULL when none),
 * freed by the caller. key is zero-filled (and *have_key 0) while no token was ever made. */
int fd_store_token_load(fd_db *db, fd_token_row **rows, size_t *n,
                        unsigned char key[FD_TOKEN_KEY_BYTES], int *have_key, fd_error *err);
/* The change counter bumped by every token insert, update and delete. */
int fd_store_token_changes(fd_db *db, int64_t *n, fd_error *err);

#endif
