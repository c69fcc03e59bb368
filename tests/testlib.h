/* Tiny test library: each tests/unit/test_*.c is its own program (one process per file, as
 * libuv does) built from TEST(name) functions listed in TEST_MAIN. Each test prints one line,
 * "PASS name" or "FAIL name: why", which tests/run counts. Typed asserts print both operands
 * and return from the test on failure. */
#ifndef FACTORD_TESTLIB_H
#define FACTORD_TESTLIB_H

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct tl_case { const char *name; void (*fn)(void); } tl_case;

/* Set by the asserts; reset before each test. */
extern int tl_failed;

void tl_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int tl_run(const tl_case *cases, int argc, char **argv);
/* Path of a fresh temporary directory, removed (recursively) at exit. */
const char *tl_tmpdir(void);

#define TEST(name) static void name(void)
#define TEST_MAIN(...)                                                    \
    int main(int argc, char **argv) {                                     \
        static const tl_case cases[] = {__VA_ARGS__, {NULL, NULL}};       \
        return tl_run(cases, argc, argv);                                 \
    }
#define T(name) {#name, name}

#define ASSERT(cond) do { if (!(cond)) { tl_fail(__FILE__, __LINE__, "%s", #cond); return; } } while (0)
#define ASSERT_INT_EQ(a, b) do { long long _a = (long long)(a), _b = (long long)(b);           \
    if (_a != _b) { tl_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, _a, _b); return; } } while (0)
#define ASSERT_STR_EQ(a, b) do { const char *_a = (a), *_b = (b);                              \
    if (!_a || !_b || strcmp(_a, _b) != 0) {                                                   \
        tl_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b, _a ? _a : "(null)",  \
                _b ? _b : "(null)"); return; } } while (0)
/* |a - b| <= tol, or both NaN. */
#define ASSERT_NEAR(a, b, tol) do { double _a = (a), _b = (b), _t = (tol);                     \
    if (!((isnan(_a) && isnan(_b)) || fabs(_a - _b) <= _t)) {                                  \
        tl_fail(__FILE__, __LINE__, "%s ~ %s: %.17g vs %.17g (|diff| %.3g > %.3g)", #a, #b,    \
                _a, _b, fabs(_a - _b), _t); return; } } while (0)

#endif
