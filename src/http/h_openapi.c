/* GET /openapi.json: the API description (docs/openapi.json, OpenAPI 3.1), embedded in the
 * binary at build time so the daemon always describes itself. Open to anyone (it says what
 * exists, not what is stored). Inline: a static buffer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "factord/http.h"

extern const char fd_openapi_json[];
extern const size_t fd_openapi_json_len;

static void openapi(fd_request *req, fd_response *resp) {
    char *copy = malloc(fd_openapi_json_len + 1);
    (void)req;
    if (!copy) {
        fd_response_error(resp, 500, "out_of_memory", "API description");
        return;
    }
    memcpy(copy, fd_openapi_json, fd_openapi_json_len + 1);
    fd_response_text(resp, 200, "application/json", copy, fd_openapi_json_len);
    snprintf(resp->cache_control, sizeof resp->cache_control, "max-age=300");
}

const fd_route fd_routes_openapi[] = {
    {"GET", "/openapi.json", openapi, FD_ROUTE_INLINE},
    {NULL, NULL, NULL, 0},
};
