/* Request accessors and response builders: query and header lookup, content type, Accept
 * negotiation, error documents. */
#include <stdlib.h>
#include <string.h>

#include "factord/http.h"
#include "testlib.h"

static fd_kv headers[4];
static fd_request make_request(const char *content_type, const char *accept) {
    fd_request req;
    size_t n = 0;
    memset(&req, 0, sizeof req);
    if (content_type) headers[n++] = (fd_kv){"content-type", (char *)content_type};
    if (accept) headers[n++] = (fd_kv){"accept", (char *)accept};
    req.headers = headers;
    req.n_headers = n;
    return req;
}

TEST(query_lookup) {
    fd_kv q[] = {{"month", "2020-01"}, {"label", "stable"}};
    fd_request req;
    memset(&req, 0, sizeof req);
    req.query = q;
    req.n_query = 2;
    ASSERT_STR_EQ(fd_request_query(&req, "label"), "stable");
    ASSERT(fd_request_query(&req, "Label") == NULL);
    ASSERT(fd_request_query(&req, "x") == NULL);
}

TEST(header_lookup_ignores_case) {
    fd_request req = make_request("text/csv", NULL);
    ASSERT_STR_EQ(fd_request_header(&req, "Content-Type"), "text/csv");
    ASSERT(fd_request_header(&req, "accept") == NULL);
}

TEST(content_type_strips_parameters_and_case) {
    char ct[64];
    fd_request req = make_request(" Text/CSV ; charset=utf-8", NULL);
    fd_request_content_type(&req, ct, sizeof ct);
    ASSERT_STR_EQ(ct, "text/csv");
    req = make_request(NULL, NULL);
    fd_request_content_type(&req, ct, sizeof ct);
    ASSERT_STR_EQ(ct, "");
}

TEST(accept_negotiation) {
    fd_request req = make_request(NULL, NULL);
    ASSERT_INT_EQ(fd_request_accepts(&req, "text/csv"), 0);
    req = make_request(NULL, "text/csv");
    ASSERT_INT_EQ(fd_request_accepts(&req, "text/csv"), 1);
    req = make_request(NULL, "*/*");
    ASSERT_INT_EQ(fd_request_accepts(&req, "text/csv"), 0);
    req = make_request(NULL, "application/json, text/csv");
    ASSERT_INT_EQ(fd_request_accepts(&req, "text/csv"), 0);
    req = make_request(NULL, "text/csv, application/json");
    ASSERT_INT_EQ(fd_request_accepts(&req, "text/csv"), 1);
    req = make_request(NULL, "application/json;q=0.5, text/csv;q=0.9");
    ASSERT_INT_EQ(fd_request_accepts(&req, "text/csv"), 1);
    req = make_request(NULL, "text/*, application/json");
    ASSERT_INT_EQ(fd_request_accepts(&req, "text/csv"), 0);
    req = make_request(NULL, "text/*;q=1, application/json;q=0.1");
    ASSERT_INT_EQ(fd_request_accepts(&req, "text/csv"), 1);
    req = make_request(NULL, "text/csv;q=0");
    ASSERT_INT_EQ(fd_request_accepts(&req, "text/csv"), 0);
}

TEST(error_document_shape) {
    fd_response resp;
    json_t *doc;
    memset(&resp, 0, sizeof resp);
    fd_response_error(&resp, 422, "bad_month", "month '%s' is not YYYY-MM", "2020-13");
    ASSERT_INT_EQ(resp.status, 422);
    ASSERT(resp.content_type == NULL);
    doc = json_loadb(resp.body, resp.body_len, 0, NULL);
    ASSERT(doc != NULL);
    ASSERT_STR_EQ(json_string_value(json_object_get(json_object_get(doc, "error"), "code")),
                  "bad_month");
    ASSERT_STR_EQ(json_string_value(json_object_get(json_object_get(doc, "error"), "message")),
                  "month '2020-13' is not YYYY-MM");
    json_decref(doc);
    free(resp.body);
}

TEST(error_message_with_invalid_utf8_stays_json) {
    fd_response resp;
    json_t *doc;
    memset(&resp, 0, sizeof resp);
    fd_response_error(&resp, 400, "bad_csv", "line 2: id '%s'", "a\xff\xc3");
    ASSERT_INT_EQ(resp.status, 400);
    doc = json_loadb(resp.body, resp.body_len, 0, NULL);
    ASSERT(doc != NULL);
    ASSERT_STR_EQ(json_string_value(json_object_get(json_object_get(doc, "error"), "message")),
                  "line 2: id 'a?" "?'");
    json_decref(doc);
    free(resp.body);
}

TEST(from_error_defaults_to_500) {
    fd_response resp;
    fd_error err = {0, "", "boom"};
    memset(&resp, 0, sizeof resp);
    fd_response_from_error(&resp, &err);
    ASSERT_INT_EQ(resp.status, 500);
    ASSERT(strstr(resp.body, "\"internal\"") != NULL);
    fd_error_set(&err, 404, "no_panel", "no panel for 2020-01");
    fd_response_from_error(&resp, &err);
    ASSERT_INT_EQ(resp.status, 404);
    ASSERT(strstr(resp.body, "no panel for 2020-01") != NULL);
    free(resp.body);
}

TEST_MAIN(T(query_lookup), T(header_lookup_ignores_case), T(content_type_strips_parameters_and_case),
          T(accept_negotiation), T(error_document_shape),
          T(error_message_with_invalid_utf8_stays_json), T(from_error_defaults_to_500))
