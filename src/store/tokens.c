/* The token store (migration 0005; include/factord/tokens.h). The hashing key is made with
 * libsodium's randombytes on the first token and never leaves the database. */
#include "factord/tokens.h"

#include <ctype.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static int token_name_valid(const char *name) {
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > FD_TOKEN_NAME_MAX) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!isalnum(c) && c != '_' && c != '.' && c != '-') return 0;
    }
    return 1;
}

/* Reads the key into key; *have 0 when none was made yet. */
static int read_key(fd_db *db, unsigned char key[FD_TOKEN_KEY_BYTES], int *have,
                    fd_error *err) {
    sqlite3_stmt *st;
    int rc;
    *have = 0;
    memset(key, 0, FD_TOKEN_KEY_BYTES);
    if (fd_db_prepare(db, "SELECT key FROM auth_key WHERE id = 1", &st, err)) return -1;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == FD_TOKEN_KEY_BYTES) {
        memcpy(key, sqlite3_column_blob(st, 0), FD_TOKEN_KEY_BYTES);
        *have = 1;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return fd_db_error(db, err, "reading the auth key");
    return 0;
}

/* Inside the caller's transaction: the key, made now if the database has none. */
static int key_tx(fd_db *db, unsigned char key[FD_TOKEN_KEY_BYTES], fd_error *err) {
    sqlite3_stmt *st;
    int have, rc;
    if (read_key(db, key, &have, err)) return -1;
    if (have) return 0;
    randombytes_buf(key, FD_TOKEN_KEY_BYTES);
    if (fd_db_prepare(db, "INSERT INTO auth_key (id, key) VALUES (1, ?1)", &st, err)) return -1;
    sqlite3_bind_blob(st, 1, key, FD_TOKEN_KEY_BYTES, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return fd_db_error(db, err, "storing the auth key");
    return 0;
}

static json_t *scopes_json(const char *text) {
    json_t *a = json_array();
    const char *s = text;
    while (s && *s) {
        size_t len = strcspn(s, ",");
        json_array_append_new(a, json_stringn(s, len));
        s += len + (s[len] == ',');
    }
    return a;
}

static const char token_columns[] = "SELECT id, name, scopes, created_at, revoked_at FROM tokens";

static json_t *token_row_json(sqlite3_stmt *st) {
    const char *revoked = (const char *)sqlite3_column_text(st, 4);
    return json_pack("{s:s,s:s,s:o,s:s,s:s?}", "id", (const char *)sqlite3_column_text(st, 0),
                     "name", (const char *)sqlite3_column_text(st, 1), "scopes",
                     scopes_json((const char *)sqlite3_column_text(st, 2)), "created_at",
                     (const char *)sqlite3_column_text(st, 3), "revoked_at", revoked);
}

static int token_get_json(fd_db *db, const char *id, json_t **out, fd_error *err) {
    char sql[sizeof token_columns + 32];
    sqlite3_stmt *st;
    snprintf(sql, sizeof sql, "%s WHERE id = ?1", token_columns);
    if (fd_db_prepare(db, sql, &st, err)) return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return fd_db_error(db, err, "reading a token");
    }
    *out = token_row_json(st);
    sqlite3_finalize(st);
    return 0;
}

int fd_store_token_create(fd_db *db, const char *name, unsigned scopes,
                          char token_out[FD_TOKEN_LEN + 1], json_t **info, fd_error *err) {
    unsigned char key[FD_TOKEN_KEY_BYTES], id_bin[FD_TOKEN_ID_HEX / 2], secret[32];
    unsigned char hash[FD_TOKEN_HASH_BYTES];
    char id[FD_TOKEN_ID_HEX + 1], secret_hex[FD_TOKEN_SECRET_HEX + 1], scope_text[64];
    sqlite3_stmt *st;
    int rc;
    if (info) *info = NULL;
    if (fd_crypto_init(err)) return -1;
    if (!token_name_valid(name))
        return fd_error_set(err, 400, "bad_name",
                            "token name \"%.70s\" must be 1-64 characters of A-Z a-z 0-9 _ . -",
                            name ? name : "");
    if (!scopes || (scopes & ~(unsigned)FD_SCOPE_ALL))
        return fd_error_set(err, 400, "bad_scope", "a token needs at least one known scope");
    fd_scopes_format(scopes, scope_text, sizeof scope_text);
    randombytes_buf(id_bin, sizeof id_bin);
    randombytes_buf(secret, sizeof secret);
    sodium_bin2hex(id, sizeof id, id_bin, sizeof id_bin);
    sodium_bin2hex(secret_hex, sizeof secret_hex, secret, sizeof secret);
    if (fd_db_begin(db, err)) goto wipe;
    if (key_tx(db, key, err)) goto fail;
    fd_token_hash(key, secret, hash);
    if (fd_db_prepare(db, "INSERT INTO tokens (id, name, scopes, hash) VALUES (?1, ?2, ?3, ?4)",
                      &st, err))
        goto fail;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, scope_text, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, hash, sizeof hash, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if ((rc & 0xff) == SQLITE_CONSTRAINT) {
        fd_error_set(err, 409, "token_exists", "a token named \"%s\" exists already", name);
        goto fail;
    }
    if (rc != SQLITE_DONE) {
        fd_db_error(db, err, "storing a token");
        goto fail;
    }
    if (info && token_get_json(db, id, info, err)) goto fail;
    if (fd_db_commit(db, err)) goto wipe;
    snprintf(token_out, FD_TOKEN_LEN + 1, "fdt_%s_%s", id, secret_hex);
    sodium_memzero(key, sizeof key);
    sodium_memzero(secret, sizeof secret);
    sodium_memzero(secret_hex, sizeof secret_hex);
    return 0;
fail:
    fd_db_rollback(db);
wipe:
    if (info) {
        json_decref(*info);
        *info = NULL;
    }
    sodium_memzero(key, sizeof key);
    sodium_memzero(secret, sizeof secret);
    sodium_memzero(secret_hex, sizeof secret_hex);
    return -1;
}

int fd_store_token_list(fd_db *db, json_t **out, fd_error *err) {
    char sql[sizeof token_columns + 40];
    sqlite3_stmt *st;
    json_t *list = json_array();
    int rc;
    snprintf(sql, sizeof sql, "%s ORDER BY created_at, rowid", token_columns);
    if (fd_db_prepare(db, sql, &st, err)) {
        json_decref(list);
        return -1;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) json_array_append_new(list, token_row_json(st));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(list);
        return fd_db_error(db, err, "listing tokens");
    }
    *out = list;
    return 0;
}

int fd_store_token_revoke(fd_db *db, const char *id_or_name, fd_error *err) {
    sqlite3_stmt *st;
    int rc, revoked = -1;
    if (fd_db_begin(db, err)) return -1;
    if (fd_db_prepare(db, "SELECT revoked_at IS NOT NULL FROM tokens WHERE id = ?1 OR name = ?1",
                      &st, err))
        goto fail;
    sqlite3_bind_text(st, 1, id_or_name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) revoked = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        fd_db_error(db, err, "reading a token");
        goto fail;
    }
    if (revoked < 0) {
        fd_error_set(err, 404, "no_token", "no token has the id or name \"%.80s\"", id_or_name);
        goto fail;
    }
    if (revoked) {
        fd_error_set(err, 409, "token_revoked", "token \"%.80s\" is revoked already", id_or_name);
        goto fail;
    }
    if (fd_db_prepare(db,
                      "UPDATE tokens SET revoked_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') "
                      "WHERE id = ?1 OR name = ?1",
                      &st, err))
        goto fail;
    sqlite3_bind_text(st, 1, id_or_name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        fd_db_error(db, err, "revoking a token");
        goto fail;
    }
    return fd_db_commit(db, err);
fail:
    fd_db_rollback(db);
    return -1;
}

int fd_store_token_load(fd_db *db, fd_token_row **rows, size_t *n,
                        unsigned char key[FD_TOKEN_KEY_BYTES], int *have_key, fd_error *err) {
    sqlite3_stmt *st = NULL;
    fd_token_row *out = NULL;
    size_t count = 0, cap = 0;
    int began = 0, rc;
    *rows = NULL;
    *n = 0;
    if (fd_db_begin_read(db, &began, err)) return -1;
    if (read_key(db, key, have_key, err) ||
        fd_db_prepare(db, "SELECT id, name, scopes, hash, revoked_at IS NOT NULL FROM tokens",
                      &st, err))
        goto fail;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fd_token_row *r;
        if (count == cap) {
            size_t grown_cap = cap ? cap * 2 : 8;
            fd_token_row *grown = realloc(out, grown_cap * sizeof *grown);
            if (!grown) {
                fd_error_set(err, 500, "out_of_memory", "loading tokens");
                goto fail;
            }
            out = grown;
            cap = grown_cap;
        }
        r = &out[count];
        memset(r, 0, sizeof *r);
        snprintf(r->id, sizeof r->id, "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(r->name, sizeof r->name, "%s", (const char *)sqlite3_column_text(st, 1));
        if (sqlite3_column_bytes(st, 3) != FD_TOKEN_HASH_BYTES ||
            fd_scopes_parse((const char *)sqlite3_column_text(st, 2), &r->scopes, NULL))
            continue; /* a damaged row authorises nothing */
        memcpy(r->hash, sqlite3_column_blob(st, 3), FD_TOKEN_HASH_BYTES);
        r->revoked = sqlite3_column_int(st, 4);
        count++;
    }
    if (rc != SQLITE_DONE) {
        fd_db_error(db, err, "loading tokens");
        goto fail;
    }
    sqlite3_finalize(st);
    fd_db_end_read(db, began);
    *rows = out;
    *n = count;
    return 0;
fail:
    sqlite3_finalize(st);
    fd_db_end_read(db, began);
    free(out);
    return -1;
}

int fd_store_token_changes(fd_db *db, int64_t *n, fd_error *err) {
    sqlite3_stmt *st;
    int rc;
    if (fd_db_prepare(db, "SELECT n FROM token_changes WHERE id = 1", &st, err)) return -1;
    rc = sqlite3_step(st);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return fd_db_error(db, err, "reading token changes");
    return 0;
}
