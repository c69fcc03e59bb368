/* Name validation, UTF-8 prefixes, the duplicate finder and percent-decoding. */
#include <stdlib.h>
#include <string.h>

#include "factord/text.h"
#include "factord/url.h"
#include "testlib.h"

TEST(names_accept_utf8_and_refuse_control_characters) {
    fd_error err;
    ASSERT_INT_EQ(fd_name_check("AAPL", 4, "id", "bad_id", &err), 0);
    ASSERT_INT_EQ(fd_name_check("Caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, "id", "bad_id", &err), 0);
    ASSERT_INT_EQ(fd_name_check("", 0, "id", "bad_id", &err), -1);
    ASSERT_STR_EQ(err.code, "bad_id");
    ASSERT_INT_EQ(fd_name_check("A\0B", 3, "the id", "bad_id", &err), -1);
    ASSERT_STR_EQ(err.message, "the id has a control character (byte 0x00) at byte 2");
    ASSERT_INT_EQ(fd_name_check("A\xc2\x9f", 3, "x", "c", &err), -1);
    ASSERT_STR_EQ(err.message, "x has a control character (U+009F) at byte 2");
    ASSERT_INT_EQ(fd_name_check("\xf4\x90\x80\x80", 4, "x", "c", &err), -1); /* > U+10FFFF */
    ASSERT_INT_EQ(fd_name_check("\xe2\x82", 2, "x", "c", &err), -1);         /* cut short */
}

TEST(utf8_valid_prefix_stops_at_the_first_bad_sequence) {
    ASSERT_INT_EQ(fd_utf8_valid_prefix("ab\xc3\xa9z", 5), 5);
    ASSERT_INT_EQ(fd_utf8_valid_prefix("ab\xff" "cd", 5), 2);
    ASSERT_INT_EQ(fd_utf8_valid_prefix("ab\xe2\x82", 4), 2);
    ASSERT_INT_EQ(fd_utf8_valid_prefix("", 0), 0);
}

TEST(duplicate_finder_reports_the_first_repeat) {
    const char *names[] = {"a", "b", "c", "b", "a"};
    size_t first = 9, second = 9;
    ASSERT_INT_EQ(fd_names_find_duplicate(names, 5, &first, &second), 1);
    ASSERT_INT_EQ(first, 1);
    ASSERT_INT_EQ(second, 3);
    ASSERT_INT_EQ(fd_names_find_duplicate(names, 3, &first, &second), 0);
    ASSERT_INT_EQ(fd_names_find_duplicate(names, 0, &first, &second), 0);
}

TEST(url_unescape_decodes_and_flags_nul) {
    char a[] = "/v1/panels/2020-01%2d%41%zz%4", b[] = "x%00y";
    int nul = 0;
    ASSERT_INT_EQ(fd_url_unescape(a, &nul), strlen("/v1/panels/2020-01-A%zz%4"));
    ASSERT_STR_EQ(a, "/v1/panels/2020-01-A%zz%4");
    ASSERT_INT_EQ(nul, 0);
    ASSERT_INT_EQ(fd_url_unescape(b, &nul), 3);
    ASSERT_INT_EQ(nul, 1);
}

TEST(url_checks_name_path_and_query_faults) {
    fd_error err;
    ASSERT_INT_EQ(fd_url_check_path("/v1/models/m1/labels", &err), 0);
    ASSERT_INT_EQ(fd_url_check_path("/v1/models/\xff\xfe/labels", &err), -1);
    ASSERT_STR_EQ(err.code, "bad_path");
    ASSERT_INT_EQ(fd_url_check_query("ids", "A,B", &err), 0);
    ASSERT_INT_EQ(fd_url_check_query("ids", "", &err), 0);
    ASSERT_INT_EQ(fd_url_check_query("ids", "A\x01", &err), -1);
    ASSERT_STR_EQ(err.code, "bad_query");
    ASSERT(strstr(err.message, "'ids'") != NULL);
}

TEST_MAIN(T(names_accept_utf8_and_refuse_control_characters),
          T(utf8_valid_prefix_stops_at_the_first_bad_sequence),
          T(duplicate_finder_reports_the_first_repeat), T(url_unescape_decodes_and_flags_nul),
          T(url_checks_name_path_and_query_faults))
