#include "factord/json_fields.h"

#include <stdio.h>
#include <string.h>

int fd_json_known_fields(const json_t *obj, const char *const *known, const char *where,
                         const char *code, fd_error *err) {
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)obj, key, value) {
        char list[256] = "";
        size_t used = 0;
        int ok = 0;
        for (int i = 0; known[i]; i++) ok |= strcmp(key, known[i]) == 0;
        if (ok) continue;
        for (int i = 0; known[i] && used < sizeof list; i++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                                     known[i]);
        return fd_error_set(err, 400, code, "%s%.100s: unknown field (known: %s)", where, key,
                            list);
    }
    return 0;
}
