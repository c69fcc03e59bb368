/* API tokens: scopes, the token format, the keyed hash, the store (only hashes kept,
 * revocation, the change counter) and the verifier's snapshot. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "factord/auth.h"
#include "factord/tokens.h"
#include "testlib.h"

static fd_db *open_db(const char *name) {
    char path[600];
    fd_db *db = NULL;
    fd_error err;
    snprintf(path, sizeof path, "%s/%s", tl_tmpdir(), name);
    return fd_db_open(path, &db, &err) == 0 ? db : NULL;
}

TEST(scopes_parse_and_format) {
    unsigned s;
    char text[64];
    fd_error err;
    ASSERT_INT_EQ(fd_scopes_parse("read", &s, &err), 0);
    ASSERT_INT_EQ(s, FD_SCOPE_READ);
    ASSERT_INT_EQ(fd_scopes_parse("train, read,ingest", &s, &err), 0);
    ASSERT_INT_EQ(s, FD_SCOPE_READ | FD_SCOPE_INGEST | FD_SCOPE_TRAIN);
    fd_scopes_format(s, text, sizeof text);
    ASSERT_STR_EQ(text, "read,ingest,train");
    ASSERT_INT_EQ(fd_scopes_parse("admin,read", &s, &err), 0);
    fd_scopes_format(s, text, sizeof text);
    ASSERT_STR_EQ(text, "admin");
    ASSERT_INT_EQ(fd_scopes_effective(FD_SCOPE_ADMIN), FD_SCOPE_ALL);
    ASSERT_INT_EQ(fd_scopes_effective(FD_SCOPE_TRAIN), FD_SCOPE_TRAIN);
    ASSERT_INT_EQ(fd_scopes_parse("read,root", &s, &err), -1);
    ASSERT_STR_EQ(err.code, "bad_scope");
    ASSERT(strstr(err.message, "root"));
    ASSERT_INT_EQ(fd_scopes_parse("", &s, &err), -1);
    ASSERT_INT_EQ(fd_scopes_parse("reader", &s, &err), -1);
}

TEST(token_format_is_checked_whole) {
    char id[FD_TOKEN_ID_HEX + 1];
    unsigned char secret[32];
    char good[FD_TOKEN_LEN + 1];
    snprintf(good, sizeof good, "fdt_%s_%s", "0123456789abcdef",
             "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
    ASSERT_INT_EQ(fd_token_split(good, id, secret), 0);
    ASSERT_STR_EQ(id, "0123456789abcdef");
    ASSERT_INT_EQ(secret[1], 0x11);
    ASSERT_INT_EQ(secret[31], 0xff);
    good[10] = 'G'; /* not hex */
    ASSERT_INT_EQ(fd_token_split(good, id, secret), -1);
    good[10] = 'A'; /* upper-case hex is not the format either */
    ASSERT_INT_EQ(fd_token_split(good, id, secret), -1);
    ASSERT_INT_EQ(fd_token_split("fdt_short", id, secret), -1);
    ASSERT_INT_EQ(fd_token_split(NULL, id, secret), -1);
}

TEST(hash_depends_on_key_and_secret) {
    unsigned char k1[32] = {1}, k2[32] = {2}, s1[32] = {3}, s2[32] = {4};
    unsigned char a[32], b[32], c[32], ref[32];
    ASSERT_INT_EQ(fd_crypto_init(NULL), 0);
    fd_token_hash(k1, s1, a);
    fd_token_hash(k2, s1, b);
    fd_token_hash(k1, s2, c);
    ASSERT(memcmp(a, b, 32) != 0);
    ASSERT(memcmp(a, c, 32) != 0);
    /* BLAKE2b-256 keyed, as documented. */
    crypto_generichash(ref, 32, s1, 32, k1, 32);
    ASSERT(memcmp(a, ref, 32) == 0);
}

TEST(store_keeps_hashes_only_and_revokes) {
    fd_db *db = open_db("tokens.db");
    char token[FD_TOKEN_LEN + 1], other[FD_TOKEN_LEN + 1];
    fd_token_row *rows;
    unsigned char key[32], secret[32], hash[32];
    char id[FD_TOKEN_ID_HEX + 1];
    size_t n;
    int have_key;
    int64_t c0, c1, c2;
    json_t *list, *info;
    fd_error err;
    sqlite3_stmt *st;
    ASSERT(db);
    ASSERT_INT_EQ(fd_store_token_load(db, &rows, &n, key, &have_key, &err), 0);
    ASSERT_INT_EQ(n, 0);
    ASSERT_INT_EQ(have_key, 0);
    ASSERT_INT_EQ(fd_store_token_changes(db, &c0, &err), 0);
    ASSERT_INT_EQ(fd_store_token_create(db, "ci", FD_SCOPE_READ | FD_SCOPE_TRAIN, token, &info,
                                        &err), 0);
    ASSERT_STR_EQ(json_string_value(json_object_get(info, "name")), "ci");
    json_decref(info);
    ASSERT_INT_EQ(strlen(token), FD_TOKEN_LEN);
    ASSERT_INT_EQ(fd_store_token_create(db, "ci", FD_SCOPE_READ, other, NULL, &err), -1);
    ASSERT_STR_EQ(err.code, "token_exists");
    ASSERT_INT_EQ(fd_store_token_create(db, "has space", FD_SCOPE_READ, other, NULL, &err), -1);
    ASSERT_STR_EQ(err.code, "bad_name");
    ASSERT_INT_EQ(fd_store_token_changes(db, &c1, &err), 0);
    ASSERT(c1 > c0);
    /* The secret appears nowhere in the database; its keyed hash does. */
    ASSERT_INT_EQ(fd_store_token_load(db, &rows, &n, key, &have_key, &err), 0);
    ASSERT_INT_EQ(n, 1);
    ASSERT_INT_EQ(have_key, 1);
    ASSERT_INT_EQ(fd_token_split(token, id, secret), 0);
    ASSERT_STR_EQ(rows[0].id, id);
    fd_token_hash(key, secret, hash);
    ASSERT(memcmp(rows[0].hash, hash, 32) == 0);
    ASSERT_INT_EQ(rows[0].scopes, FD_SCOPE_READ | FD_SCOPE_TRAIN);
    free(rows);
    ASSERT_INT_EQ(sqlite3_prepare_v2(fd_db_handle(db),
                                     "SELECT count(*) FROM tokens WHERE instr(hex(hash), upper(?1)) "
                                     "OR instr(id || name || scopes, ?1)",
                                     -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, token + 4 + FD_TOKEN_ID_HEX + 1, -1, SQLITE_STATIC);
    ASSERT_INT_EQ(sqlite3_step(st), SQLITE_ROW);
    ASSERT_INT_EQ(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);
    /* The list shows no secret or hash. */
    ASSERT_INT_EQ(fd_store_token_list(db, &list, &err), 0);
    ASSERT_INT_EQ(json_array_size(list), 1);
    ASSERT(json_object_get(json_array_get(list, 0), "hash") == NULL);
    ASSERT(json_is_null(json_object_get(json_array_get(list, 0), "revoked_at")));
    json_decref(list);
    /* Revoke by id; again is 409; unknown 404. */
    ASSERT_INT_EQ(fd_store_token_revoke(db, id, &err), 0);
    ASSERT_INT_EQ(fd_store_token_revoke(db, "ci", &err), -1);
    ASSERT_STR_EQ(err.code, "token_revoked");
    ASSERT_INT_EQ(fd_store_token_revoke(db, "nobody", &err), -1);
    ASSERT_STR_EQ(err.code, "no_token");
    ASSERT_INT_EQ(fd_store_token_changes(db, &c2, &err), 0);
    ASSERT(c2 > c1);
    fd_db_close(db);
}

TEST(verifier_accepts_only_the_exact_live_token) {
    fd_db *db = open_db("verify.db");
    fd_auth *a;
    fd_error err;
    char token[FD_TOKEN_LEN + 1], bad[FD_TOKEN_LEN + 1], header[FD_TOKEN_LEN + 16], name[65];
    unsigned scopes;
    int changed;
    ASSERT(db);
    ASSERT_INT_EQ(fd_auth_create(&a, &err), 0);
    ASSERT_INT_EQ(fd_auth_refresh(a, db, 0, &changed, &err), 0);
    ASSERT_INT_EQ(changed, 1);
    ASSERT_INT_EQ(fd_auth_refresh(a, db, 0, &changed, &err), 0);
    ASSERT_INT_EQ(changed, 0); /* nothing moved: no reload */
    ASSERT_INT_EQ(fd_store_token_create(db, "ops", FD_SCOPE_ADMIN, token, NULL, &err), 0);
    snprintf(header, sizeof header, "Bearer %s", token);
    ASSERT_INT_EQ(fd_auth_check(a, header, &scopes, name, sizeof name), FD_AUTH_UNKNOWN);
    ASSERT_INT_EQ(fd_auth_refresh(a, db, 0, &changed, &err), 0);
    ASSERT_INT_EQ(changed, 1);
    ASSERT_INT_EQ(fd_auth_active(a), 1);
    ASSERT_INT_EQ(fd_auth_check(a, header, &scopes, name, sizeof name), FD_AUTH_OK);
    ASSERT_INT_EQ(scopes, FD_SCOPE_ALL);
    ASSERT_STR_EQ(name, "ops");
    snprintf(header, sizeof header, "bearer   %s", token); /* scheme is case-insensitive */
    ASSERT_INT_EQ(fd_auth_check(a, header, &scopes, NULL, 0), FD_AUTH_OK);
    memcpy(bad, token, sizeof bad);
    bad[FD_TOKEN_LEN - 1] = bad[FD_TOKEN_LEN - 1] == '0' ? '1' : '0';
    snprintf(header, sizeof header, "Bearer %s", bad);
    ASSERT_INT_EQ(fd_auth_check(a, header, &scopes, NULL, 0), FD_AUTH_UNKNOWN);
    ASSERT_INT_EQ(scopes, 0);
    snprintf(header, sizeof header, "Bearer %s extra", token);
    ASSERT_INT_EQ(fd_auth_check(a, header, &scopes, NULL, 0), FD_AUTH_MALFORMED);
    ASSERT_INT_EQ(fd_auth_check(a, "Basic dXNlcjpwYXNz", &scopes, NULL, 0), FD_AUTH_MALFORMED);
    ASSERT_INT_EQ(fd_auth_check(a, NULL, &scopes, NULL, 0), FD_AUTH_MISSING);
    ASSERT_INT_EQ(fd_store_token_revoke(db, "ops", &err), 0);
    ASSERT_INT_EQ(fd_auth_refresh(a, db, 0, NULL, &err), 0);
    snprintf(header, sizeof header, "Bearer %s", token);
    ASSERT_INT_EQ(fd_auth_check(a, header, &scopes, NULL, 0), FD_AUTH_REVOKED);
    ASSERT_INT_EQ(fd_auth_active(a), 0);
    fd_auth_destroy(a);
    fd_db_close(db);
}

TEST_MAIN(T(scopes_parse_and_format), T(token_format_is_checked_whole),
          T(hash_depends_on_key_and_secret), T(store_keeps_hashes_only_and_revokes),
          T(verifier_accepts_only_the_exact_live_token))
