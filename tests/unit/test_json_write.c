/* fd_json_dumps (json_write.h): jansson's text for every flag factord uses, except reals,
 * which print as fd_num_format prints them; strings always valid JSON. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/json_write.h"
#include "factord/numfmt.h"
#include "factord/rng.h"
#include "testlib.h"

static const char *const words[] = {"a", "id", "caf\xc3\xa9", "tab\there", "q\"uote",
                                    "back\\slash", "nl\n", "\x01\x1f", "emoji \xf0\x9f\x98\x80",
                                    "", "del\x7f", "slash/"};

/* A random document of integers, strings, booleans and nulls (no reals: those print
 * differently on purpose), nested up to `depth`. */
static json_t *random_doc(fd_rng *r, int depth) {
    int kind = depth > 0 ? (int)fd_rng_below(r, 7) : (int)fd_rng_below(r, 5);
    switch (kind) {
    case 0: return json_integer((json_int_t)fd_rng_u64(r) >> fd_rng_below(r, 64));
    case 1: return json_string(words[fd_rng_below(r, sizeof words / sizeof *words)]);
    case 2: return json_boolean(fd_rng_below(r, 2));
    case 3: return json_null();
    case 4: return json_integer(-(json_int_t)fd_rng_below(r, 1000));
    case 5: {
        json_t *a = json_array();
        for (uint64_t n = fd_rng_below(r, 4); n > 0; n--) json_array_append_new(a, random_doc(r, depth - 1));
        return a;
    }
    default: {
        json_t *o = json_object();
        for (uint64_t n = fd_rng_below(r, 4); n > 0; n--)
            json_object_set_new(o, words[fd_rng_below(r, sizeof words / sizeof *words)],
                                random_doc(r, depth - 1));
        return o;
    }
    }
}

TEST(same_text_as_jansson_for_every_flag) {
    const size_t flags[] = {0,
                            JSON_COMPACT,
                            JSON_COMPACT | JSON_ENSURE_ASCII,
                            JSON_INDENT(2),
                            JSON_INDENT(3) | JSON_SORT_KEYS,
                            JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII,
                            JSON_INDENT(1) | JSON_COMPACT};
    fd_rng r;
    fd_rng_seed(&r, 5);
    for (int i = 0; i < 2000; i++) {
        json_t *doc = json_object();
        json_object_set_new(doc, "v", random_doc(&r, 4));
        for (size_t f = 0; f < sizeof flags / sizeof *flags; f++) {
            char *want = json_dumps(doc, flags[f]), *got = fd_json_dumps(doc, flags[f]);
            int same = want && got && strcmp(want, got) == 0;
            if (!same) tl_fail(__FILE__, __LINE__, "flags %zx:\n%s\n%s", flags[f], want, got);
            free(want);
            free(got);
            if (!same) {
                json_decref(doc);
                return;
            }
        }
        json_decref(doc);
    }
}

TEST(reals_print_shortest) {
    json_t *doc = json_pack("{s:f,s:f,s:f,s:f,s:[f,f]}", "lr", 0.003, "sum", 0.1 + 0.2, "whole",
                            2000.0, "tiny", 1e-9, "pair", -0.0, 1e300);
    char *text = fd_json_dumps(doc, JSON_COMPACT);
    ASSERT_STR_EQ(text, "{\"lr\":0.003,\"sum\":0.30000000000000004,\"whole\":2000,"
                        "\"tiny\":1e-9,\"pair\":[-0,1e300]}");
    free(text);
    json_decref(doc);
}

/* The text reads back (jansson, strtod) as the same values. */
TEST(reals_read_back_exactly) {
    fd_rng r;
    fd_rng_seed(&r, 11);
    json_t *a = json_array();
    for (int i = 0; i < 20000; i++) {
        uint64_t u = fd_rng_u64(&r);
        double x;
        memcpy(&x, &u, sizeof x);
        if (!isfinite(x)) x = (double)u;
        json_array_append_new(a, json_real(i % 2 ? x : fd_rng_normal(&r)));
    }
    char *text = fd_json_dumps(a, JSON_COMPACT);
    json_t *back = json_loads(text, 0, NULL);
    ASSERT(back && json_array_size(back) == json_array_size(a));
    for (size_t i = 0; i < json_array_size(a); i++) {
        double want = json_real_value(json_array_get(a, i));
        double got = json_number_value(json_array_get(back, i));
        if (!(got == want)) {
            tl_fail(__FILE__, __LINE__, "%.17g read back as %.17g", want, got);
            break;
        }
    }
    free(text);
    json_decref(a);
    json_decref(back);
}

TEST(scalars_need_encode_any) {
    json_t *s = json_string("x");
    ASSERT(fd_json_dumps(s, 0) == NULL);
    char *text = fd_json_dumps(s, JSON_ENCODE_ANY);
    ASSERT_STR_EQ(text, "\"x\"");
    free(text);
    json_decref(s);
    ASSERT(fd_json_dumps(NULL, JSON_ENCODE_ANY) == NULL);
}

TEST(invalid_utf8_becomes_replacement_characters) {
    fd_textbuf b;
    fd_textbuf_init(&b);
    fd_textbuf_json_stringn(&b, "a\xff\xc3(\xed\xa0\x80z", 8, 0);
    ASSERT_STR_EQ(b.data, "\"a\\uFFFD\\uFFFD(\\uFFFD\\uFFFD\\uFFFDz\"");
    fd_textbuf_free(&b);
    fd_textbuf_init(&b);
    fd_textbuf_json_stringn(&b, "caf\xc3\xa9 \xf0\x9f\x98\x80", 10, 1);
    ASSERT_STR_EQ(b.data, "\"caf\\u00E9 \\uD83D\\uDE00\"");
    fd_textbuf_free(&b);
}

TEST(deep_nesting_is_refused_not_overflowed) {
    json_t *root = json_array(), *cur = root;
    for (int i = 0; i < 5000; i++) {
        json_t *next = json_array();
        json_array_append_new(cur, next);
        cur = next;
    }
    ASSERT(fd_json_dumps(root, JSON_COMPACT) == NULL);
    json_decref(root);
}

TEST_MAIN(T(same_text_as_jansson_for_every_flag), T(reals_print_shortest),
          T(reals_read_back_exactly), T(scalars_need_encode_any),
          T(invalid_utf8_becomes_replacement_characters), T(deep_nesting_is_refused_not_overflowed))
