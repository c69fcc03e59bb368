/* Token format, scopes and the keyed hash (include/factord/tokens.h). Pure functions over
 * libsodium; the store is src/store/tokens.c and the verifier src/http/auth.c. */
#include "factord/tokens.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "factord/error.h"

int fd_crypto_init(fd_error *err) {
    if (sodium_init() < 0)
        return fd_error_set(err, 500, "crypto_unavailable", "libsodium failed to initialise");
    return 0;
}

static const struct {
    const char *name;
    unsigned bit;
} scope_names[] = {
    {"read", FD_SCOPE_READ},
    {"ingest", FD_SCOPE_INGEST},
    {"train", FD_SCOPE_TRAIN},
    {"admin", FD_SCOPE_ADMIN},
};
#define N_SCOPES (sizeof scope_names / sizeof scope_names[0])

const char *fd_scope_name(unsigned bit) {
    for (size_t i = 0; i < N_SCOPES; i++)
        if (scope_names[i].bit == bit) return scope_names[i].name;
    return "none";
}

unsigned fd_scopes_effective(unsigned scopes) {
    return scopes & FD_SCOPE_ADMIN ? FD_SCOPE_ALL : scopes;
}

int fd_scopes_parse(const char *text, unsigned *out, fd_error *err) {
    unsigned scopes = 0;
    const char *s = text ? text : "";
    while (*s) {
        size_t len = strcspn(s, ",");
        size_t i;
        while (len > 0 && *s == ' ') s++, len--;
        for (i = 0; i < N_SCOPES; i++)
            if (strlen(scope_names[i].name) == len && strncmp(s, scope_names[i].name, len) == 0)
                break;
        if (i == N_SCOPES)
            return fd_error_set(err, 400, "bad_scope",
                                "unknown scope \"%.*s\": expected read, ingest, train or admin",
                                (int)(len > 40 ? 40 : len), s);
        scopes |= scope_names[i].bit;
        s += len;
        if (*s == ',') s++;
    }
    if (!scopes)
        return fd_error_set(err, 400, "bad_scope",
                            "no scope given: name one or more of read, ingest, train, admin");
    *out = scopes;
    return 0;
}

void fd_scopes_format(unsigned scopes, char *out, size_t cap) {
    size_t used = 0;
    if (cap == 0) return;
    out[0] = '\0';
    if (scopes & FD_SCOPE_ADMIN) scopes = FD_SCOPE_ADMIN;
    for (size_t i = 0; i < N_SCOPES; i++) {
        if (!(scopes & scope_names[i].bit) || used >= cap) continue;
        used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? "," : "",
                                 scope_names[i].name);
    }
}

static int all_hex(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

int fd_token_split(const char *token, char id[FD_TOKEN_ID_HEX + 1], unsigned char secret[32]) {
    const char *sec;
    size_t bin_len;
    if (!token || strlen(token) != FD_TOKEN_LEN || strncmp(token, "fdt_", 4) != 0 ||
        token[4 + FD_TOKEN_ID_HEX] != '_')
        return -1;
    sec = token + 4 + FD_TOKEN_ID_HEX + 1;
    if (!all_hex(token + 4, FD_TOKEN_ID_HEX) || !all_hex(sec, FD_TOKEN_SECRET_HEX)) return -1;
    memcpy(id, token + 4, FD_TOKEN_ID_HEX);
    id[FD_TOKEN_ID_HEX] = '\0';
    if (sodium_hex2bin(secret, 32, sec, FD_TOKEN_SECRET_HEX, NULL, &bin_len, NULL) != 0 ||
        bin_len != 32)
        return -1;
    return 0;
}

void fd_token_hash(const unsigned char key[FD_TOKEN_KEY_BYTES], const unsigned char secret[32],
                   unsigned char hash[FD_TOKEN_HASH_BYTES]) {
    crypto_generichash(hash, FD_TOKEN_HASH_BYTES, secret, 32, key, FD_TOKEN_KEY_BYTES);
}
