/* Validation of the text that names things: security ids, column and factor names,
 * characteristic lists. One rule for every parser (panel CSV/JSON, bulk import, scoring
 * bodies, factor files, model declarations): a name is non-empty, valid UTF-8 (no overlong
 * forms, surrogates or code points past U+10FFFF) and holds no control character (C0
 * U+0000..U+001F, DEL, C1 U+0080..U+009F), so a stored id can never be cut short by a NUL,
 * collide with another after truncation, or forge a line in a log or a CSV answer.
 * Pure functions; thread-safe. */
#ifndef FACTORD_TEXT_H
#define FACTORD_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "factord/error.h"

/* Length of the longest prefix of s[0..n) that is whole, valid UTF-8 sequences. */
size_t fd_utf8_valid_prefix(const char *s, size_t n);

/* The length (1-4) of the valid UTF-8 sequence at s[0..n) with its code point in *cp, or 0
 * when those bytes are not one (the same rule as fd_utf8_valid_prefix). */
size_t fd_utf8_decode(const char *s, size_t n, uint32_t *cp);

/* 0 when s[0..n) is a valid name; otherwise -1 with a 400 error of the given code whose
 * message says what is wrong and where ("<what> has a control character (byte 0x00) at
 * byte 4"). Callers prefix the line or field. */
int fd_name_check(const char *s, size_t n, const char *what, const char *code, fd_error *err);

/* Finds the first name that repeats an earlier one, in expected linear time (a hash set;
 * a header of 100,000 columns is checked in milliseconds, not minutes). Returns 1 with
 * *first < *second the 0-based positions of the two, 0 when every name is unique, -1 when
 * memory runs out. */
int fd_names_find_duplicate(const char *const *names, size_t n, size_t *first, size_t *second);

/* A header: every name non-empty (400 "empty_column_name"), valid (400 "bad_column_name")
 * and unique (400 "duplicate_column", found with fd_names_find_duplicate). `noun` names a
 * column in messages: "column 3 has an empty name", "column 'bm' appears twice (columns 2
 * and 5)". */
int fd_column_names_check(const char *const *names, size_t n, const char *noun, fd_error *err);

#endif
