/* Name and id validation (text.h). */
#include "factord/text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bytes in the UTF-8 sequence starting at s[0..n), or 0 when it is not a valid one. */
static size_t utf8_sequence(const unsigned char *s, size_t n) {
    size_t len = s[0] < 0x80 ? 1 : (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3
               : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (len == 0 || len > n || (len == 2 && s[0] < 0xC2) || s[0] > 0xF4) return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    /* Overlong 3- and 4-byte forms, UTF-16 surrogates, code points past U+10FFFF. */
    if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] >= 0xA0) ||
        (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] >= 0x90))
        return 0;
    return len;
}

size_t fd_utf8_valid_prefix(const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, len;
    while (i < n && (len = utf8_sequence(p + i, n - i)) != 0) i += len;
    return i;
}

size_t fd_utf8_decode(const char *s, size_t n, uint32_t *cp) {
    const unsigned char *p = (const unsigned char *)s;
    size_t len = n ? utf8_sequence(p, n) : 0;
    if (len == 0) return 0;
    uint32_t c = len == 1 ? p[0] : p[0] & (0x7Fu >> len);
    for (size_t i = 1; i < len; i++) c = c << 6 | (p[i] & 0x3Fu);
    *cp = c;
    return len;
}

int fd_name_check(const char *s, size_t n, const char *what, const char *code, fd_error *err) {
    const unsigned char *p = (const unsigned char *)s;
    if (n == 0) return fd_error_set(err, 400, code, "%s is empty", what);
    for (size_t i = 0; i < n;) {
        size_t len = utf8_sequence(p + i, n - i);
        if (len == 0)
            return fd_error_set(err, 400, code, "%s is not valid UTF-8 (byte 0x%02X at byte %zu)",
                                what, p[i], i + 1);
        if (p[i] < 0x20 || p[i] == 0x7F || (p[i] == 0xC2 && p[i + 1] < 0xA0))
            return fd_error_set(err, 400, code, "%s has a control character (%s%02X) at byte "
                                "%zu", what, len == 2 ? "U+00" : "byte 0x", p[i + len - 1], i + 1);
        i += len;
    }
    return 0;
}

static uint64_t hash_text(const char *s) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

int fd_names_find_duplicate(const char *const *names, size_t n, size_t *first, size_t *second) {
    size_t cap = 16, *slots; /* position + 1 of each name; 0 = empty; at most half full */
    while (cap < 2 * n) cap *= 2;
    if (!(slots = calloc(cap, sizeof *slots))) return -1;
    for (size_t i = 0; i < n; i++) {
        size_t h = hash_text(names[i]) & (cap - 1);
        for (; slots[h]; h = (h + 1) & (cap - 1)) {
            if (strcmp(names[slots[h] - 1], names[i]) == 0) {
                *first = slots[h] - 1;
                *second = i;
                free(slots);
                return 1;
            }
        }
        slots[h] = i + 1;
    }
    free(slots);
    return 0;
}

int fd_column_names_check(const char *const *names, size_t n, const char *noun, fd_error *err) {
    size_t first, second;
    char what[80];
    for (size_t i = 0; i < n; i++) {
        if (names[i][0] == '\0')
            return fd_error_set(err, 400, "empty_column_name", "%s %zu has an empty name", noun,
                                i + 1);
        snprintf(what, sizeof what, "the name of %s %zu", noun, i + 1);
        if (fd_name_check(names[i], strlen(names[i]), what, "bad_column_name", err) < 0)
            return -1;
    }
    switch (fd_names_find_duplicate(names, n, &first, &second)) {
    case 0: return 0;
    case 1:
        return fd_error_set(err, 400, "duplicate_column", "%s '%s' appears twice (%ss %zu and "
                            "%zu)", noun, names[second], noun, first + 1, second + 1);
    default: return fd_error_set(err, 500, "out_of_memory", "checking %zu %s names", n, noun);
    }
}
