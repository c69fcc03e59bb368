/* Strict JSON objects: request bodies name only the fields a parser knows, so a misspelt
 * option ("epoch" for "epochs", "vaild") is a 400 naming it rather than silently ignored.
 * Pure; thread-safe. */
#ifndef FACTORD_JSON_FIELDS_H
#define FACTORD_JSON_FIELDS_H

#include <jansson.h>

#include "factord/error.h"

/* 0 when every key of obj is in `known` (NULL-terminated); otherwise -1 with a 400 error of
 * `code` saying "<where><key>: unknown field (known: a, b, c)". where may be "" or a path
 * such as "windows.". A non-object obj passes (callers check types themselves). */
int fd_json_known_fields(const json_t *obj, const char *const *known, const char *where,
                         const char *code, fd_error *err);

#endif
