/* The shortest round-trip formatter (numfmt.h, src/core/dtoa.c): its tables and integer
 * logarithms re-derived with big integers, strtod round trips of 10^7 random and edge-case
 * doubles (10^6 under sanitizers; FACTORD_DTOA_ROUND_TRIPS=N to run more), shortest-ness
 * against a search over printf precisions, and the notation. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/ryu.h"
#include "factord/numfmt.h"
#include "factord/numparse.h"
#include "factord/rng.h"
#include "testlib.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define DEFAULT_ROUND_TRIPS 1000000L
#else
#define DEFAULT_ROUND_TRIPS 10000000L
#endif

/* ---- a small unsigned big integer (little-endian 32-bit limbs) for exact checks ---- */
#define BIG_LIMBS 300 /* 9600 bits: 5^3528 has 8192 */
typedef struct big {
    uint32_t w[BIG_LIMBS];
    int n; /* limbs in use; w[n-1] != 0 unless n == 0 */
} big;

static void big_set(big *a, uint64_t v) {
    memset(a, 0, sizeof *a);
    a->w[0] = (uint32_t)v;
    a->w[1] = (uint32_t)(v >> 32);
    a->n = a->w[1] ? 2 : a->w[0] ? 1 : 0;
}

static void big_mul_small(big *a, uint32_t m) {
    uint64_t carry = 0;
    for (int i = 0; i < a->n; i++) {
        uint64_t t = (uint64_t)a->w[i] * m + carry;
        a->w[i] = (uint32_t)t;
        carry = t >> 32;
    }
    if (carry) a->w[a->n++] = (uint32_t)carry;
}

static int big_bitlen(const big *a) {
    if (a->n == 0) return 0;
    return 32 * (a->n - 1) + (32 - __builtin_clz(a->w[a->n - 1]));
}

static int big_cmp(const big *a, const big *b) {
    if (a->n != b->n) return a->n < b->n ? -1 : 1;
    for (int i = a->n - 1; i >= 0; i--)
        if (a->w[i] != b->w[i]) return a->w[i] < b->w[i] ? -1 : 1;
    return 0;
}

/* out = a * (hi:lo as a 128-bit value). */
static void big_mul_u128(big *out, const big *a, uint64_t lo, uint64_t hi) {
    const uint32_t m[4] = {(uint32_t)lo, (uint32_t)(lo >> 32), (uint32_t)hi,
                           (uint32_t)(hi >> 32)};
    memset(out, 0, sizeof *out);
    for (int j = 0; j < 4; j++) {
        uint64_t carry = 0;
        for (int i = 0; i < a->n; i++) {
            uint64_t t = (uint64_t)a->w[i] * m[j] + out->w[i + j] + carry;
            out->w[i + j] = (uint32_t)t;
            carry = t >> 32;
        }
        for (int k = a->n + j; carry; k++) {
            uint64_t t = (uint64_t)out->w[k] + carry;
            out->w[k] = (uint32_t)t;
            carry = t >> 32;
        }
    }
    out->n = a->n + 4;
    while (out->n > 0 && out->w[out->n - 1] == 0) out->n--;
}

static void big_pow2(big *a, int e) {
    memset(a, 0, sizeof *a);
    a->w[e / 32] = UINT32_C(1) << (e % 32);
    a->n = e / 32 + 1;
}

/* The 128 bits of a starting at bit `from` (a shifted right by `from`, or left when
 * `from` is negative), as {low, high}. */
static void big_bits128(const big *a, int from, uint64_t out[2]) {
    uint32_t w[4] = {0};
    for (int b = 0; b < 128; b++) {
        int src = from + b;
        if (src < 0 || src / 32 >= a->n) continue;
        if (a->w[src / 32] >> (src % 32) & 1) w[b / 32] |= UINT32_C(1) << (b % 32);
    }
    out[0] = (uint64_t)w[1] << 32 | w[0];
    out[1] = (uint64_t)w[3] << 32 | w[2];
}

/* ---- the tables and integer logarithms ---- */

TEST(pow5_table_is_5_to_the_i_in_125_bits) {
    big p;
    big_set(&p, 1);
    for (int i = 0; i < FD_RYU_POW5_COUNT; i++, big_mul_small(&p, 5)) {
        uint64_t want[2];
        big_bits128(&p, big_bitlen(&p) - FD_RYU_POW5_BITS, want);
        if (want[0] != FD_RYU_POW5[i][0] || want[1] != FD_RYU_POW5[i][1]) {
            tl_fail(__FILE__, __LINE__, "FD_RYU_POW5[%d] is not 5^%d in 125 bits", i, i);
            return;
        }
    }
}

/* v = floor(2^j / 5^i) + 1 exactly when (v - 1) 5^i <= 2^j < v 5^i. */
TEST(pow5_inv_table_is_the_rounded_up_reciprocal) {
    big p, lo, hi, two_j;
    big_set(&p, 1);
    for (int i = 0; i < FD_RYU_POW5_INV_COUNT; i++, big_mul_small(&p, 5)) {
        uint64_t v_lo = FD_RYU_POW5_INV[i][0], v_hi = FD_RYU_POW5_INV[i][1];
        uint64_t w_lo = v_lo - 1, w_hi = v_hi - (v_lo == 0);
        big_pow2(&two_j, big_bitlen(&p) - 1 + FD_RYU_POW5_INV_BITS);
        big_mul_u128(&lo, &p, w_lo, w_hi);
        big_mul_u128(&hi, &p, v_lo, v_hi);
        if (big_cmp(&lo, &two_j) > 0 || big_cmp(&two_j, &hi) >= 0) {
            tl_fail(__FILE__, __LINE__, "FD_RYU_POW5_INV[%d] is not 2^j / 5^%d rounded up", i, i);
            return;
        }
    }
}

TEST(pow5_bits_is_the_bit_length_of_5_to_the_e) {
    big p;
    big_set(&p, 1);
    for (int e = 0; e <= 3528; e++, big_mul_small(&p, 5))
        if (fd_ryu_pow5_bits(e) != big_bitlen(&p)) {
            tl_fail(__FILE__, __LINE__, "pow5_bits(%d) = %d, 5^%d has %d bits", e,
                    fd_ryu_pow5_bits(e), e, big_bitlen(&p));
            return;
        }
}

/* floor(log10(base^e)) for e = 0..max, by counting powers of ten up to base^e. */
static int check_log10(uint32_t base, int max, uint32_t (*approx)(int32_t)) {
    big x, ten;
    big_set(&x, 1);
    big_set(&ten, 10); /* 10^(k+1) */
    uint32_t k = 0;
    for (int e = 0; e <= max; e++, big_mul_small(&x, base)) {
        while (big_cmp(&ten, &x) <= 0) {
            big_mul_small(&ten, 10);
            k++;
        }
        if (approx(e) != k) {
            tl_fail(__FILE__, __LINE__, "floor(log10(%u^%d)) = %u, approximation %u", base, e, k,
                    approx(e));
            return -1;
        }
    }
    return 0;
}

TEST(log10_pow2_is_exact_over_its_range) { check_log10(2, 1650, fd_ryu_log10_pow2); }
TEST(log10_pow5_is_exact_over_its_range) { check_log10(5, 2620, fd_ryu_log10_pow5); }

/* ---- round trips ---- */

static double from_bits(uint64_t b) {
    double x;
    memcpy(&x, &b, sizeof x);
    return x;
}

static uint64_t to_bits(double x) {
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

/* RFC 8259's number: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static int is_json_number(const char *s) {
    if (*s == '-') s++;
    if (*s == '0')
        s++;
    else if (*s >= '1' && *s <= '9')
        while (*s >= '0' && *s <= '9') s++;
    else
        return 0;
    if (*s == '.') {
        if (!(*++s >= '0' && *s <= '9')) return 0;
        while (*s >= '0' && *s <= '9') s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-') s++;
        if (!(*s >= '0' && *s <= '9')) return 0;
        while (*s >= '0' && *s <= '9') s++;
    }
    return *s == '\0';
}

/* x prints as text that strtod and fd_num_parse both read back bit for bit. */
static int round_trips(double x) {
    char buf[FD_NUM_BUF];
    size_t n = fd_num_format(x, buf);
    double a = strtod(buf, NULL), b = NAN;
    if (n != strlen(buf) || n >= FD_NUM_BUF || to_bits(a) != to_bits(x) ||
        fd_num_parse(buf, n, &b) != FD_NUM_OK || to_bits(b) != to_bits(x)) {
        tl_fail(__FILE__, __LINE__, "%.17g (bits %016llx) printed as \"%s\", read back %.17g",
                x, (unsigned long long)to_bits(x), buf, a);
        return -1;
    }
    return 0;
}

static long round_trip_count(void) {
    const char *env = getenv("FACTORD_DTOA_ROUND_TRIPS");
    long n = env ? strtol(env, NULL, 10) : DEFAULT_ROUND_TRIPS;
    return n > 0 ? n : DEFAULT_ROUND_TRIPS;
}

/* One of the kinds of doubles below, by index: uniform bit patterns (every exponent),
 * subnormals, short decimals as data holds them (1-15 digits, exponents -30..30), returns
 * and ratios in [-1, 1), integers, and any decimal exponent. */
static double sample(fd_rng *r, long i) {
    uint64_t u = fd_rng_u64(r);
    switch (i % 6) {
    case 0: { /* any finite bit pattern */
        double x = from_bits(u);
        return isfinite(x) ? x : from_bits(u & ~(UINT64_C(1) << 62));
    }
    case 1: return from_bits(u & ~(UINT64_C(0x7ff) << 52)); /* subnormal or zero */
    case 2: {
        int digits = 1 + (int)(u % 15), e = (int)((u >> 8) % 61) - 30;
        uint64_t m = fd_rng_u64(r) % (uint64_t)pow(10, digits);
        return (u >> 20 & 1 ? -1.0 : 1.0) * (double)m * pow(10, e);
    }
    case 3: return 2 * fd_rng_uniform(r) - 1;
    case 4: return (double)(int64_t)(u >> (u % 64)) * (u >> 7 & 1 ? -1 : 1);
    default: return fd_rng_uniform(r) * pow(10, (int)(u % 617) - 308);
    }
}

TEST(edge_cases_round_trip) {
    const double fixed[] = {0.0, -0.0, DBL_MAX, -DBL_MAX, DBL_MIN, -DBL_MIN, DBL_TRUE_MIN,
                            -DBL_TRUE_MIN, nextafter(DBL_MIN, 0), nextafter(DBL_MAX, 0),
                            9007199254740991.0, 9007199254740992.0, 9007199254740993.0,
                            1e15, 1e16, 1e-6, 1e-7, 0.1, 0.2, 0.3, 1.0 / 3, 2.0 / 3,
                            5e-324, 1.7976931348623157e308, 2.2250738585072014e-308};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        if (round_trips(fixed[i])) return;
    /* Every power of ten and of two that is a double, and their neighbours. */
    for (int k = -323; k <= 308; k++) {
        char s[16];
        snprintf(s, sizeof s, "1e%d", k);
        double x = strtod(s, NULL);
        if (round_trips(x) || round_trips(nextafter(x, 0)) || round_trips(nextafter(x, INFINITY)))
            return;
    }
    for (int k = -1074; k <= 1023; k++) {
        double x = ldexp(1, k);
        if (round_trips(x) || round_trips(-x) || round_trips(nextafter(x, 0)) ||
            round_trips(nextafter(x, INFINITY)))
            return;
    }
}

TEST(ten_million_doubles_round_trip_through_strtod) {
    fd_rng r;
    fd_rng_seed(&r, 20240601);
    long n = round_trip_count();
    for (long i = 0; i < n; i++)
        if (round_trips(sample(&r, i))) return;
    printf("# %ld doubles round-tripped\n", n);
}

/* A decimal of at most 15 significant digits is the shortest text of its double (two such
 * decimals are further apart than two neighbouring doubles), so it prints back digit for
 * digit: "0.003" reads as a double that prints "0.003". */
TEST(short_decimals_print_as_written) {
    fd_rng r;
    fd_rng_seed(&r, 7);
    for (int i = 0; i < 300000; i++) {
        int digits = 1 + (int)fd_rng_below(&r, 15);
        uint64_t m = 1 + fd_rng_below(&r, (uint64_t)pow(10, digits) - 1);
        int e = (int)fd_rng_below(&r, 615) - 307 - (digits - 1); /* normal doubles */
        char text[48];
        snprintf(text, sizeof text, "%llue%d", (unsigned long long)m, e);
        while (m % 10 == 0) m /= 10, e++;
        fd_decimal d = fd_num_shortest(strtod(text, NULL));
        if (d.digits != m || d.exponent != e) {
            tl_fail(__FILE__, __LINE__, "%s gave %llue%d", text, (unsigned long long)d.digits,
                    d.exponent);
            return;
        }
    }
}

/* ---- shortest-ness against printf ---- */

static int digit_count(uint64_t v) {
    int n = 1;
    while (v >= 10) v /= 10, n++;
    return n;
}

static int reads_as(const char *text, double x) { return to_bits(strtod(text, NULL)) == to_bits(x); }

/* For positive finite x with Ryu's n digits: the fewest printf %.{p-1}e digits that read
 * back (a search over p = 1..17) is n, and the digits agree (Ryu picks the closest, as a
 * correctly rounded printf does), except at powers of two where the interval below is
 * half the one above and Ryu may find a shorter decimal above x that rounding misses.
 * Neither (n-1)-digit decimal bracketing x reads back, so no shorter one exists. */
static int check_shortest(double x, long *skipped) {
    fd_decimal d = fd_num_shortest(x);
    int n = digit_count(d.digits);
    char buf[64];
    int p_min = 0;
    for (int p = 1; p <= 17 && !p_min; p++) {
        snprintf(buf, sizeof buf, "%.*e", p - 1, x);
        if (reads_as(buf, x)) p_min = p;
    }
    if (n > p_min || (n < p_min && (to_bits(x) & ((UINT64_C(1) << 52) - 1)) != 0)) {
        tl_fail(__FILE__, __LINE__, "%.17g: Ryu %d digits, printf search %d", x, n, p_min);
        return -1;
    }
    if (n == p_min) {
        char want[24], got[24];
        snprintf(buf, sizeof buf, "%.*e", n - 1, x);
        size_t k = 0;
        for (const char *c = buf; *c && *c != 'e'; c++)
            if (*c != '.') want[k++] = *c;
        want[k] = '\0';
        snprintf(got, sizeof got, "%llu", (unsigned long long)d.digits);
        if (strcmp(want, got) != 0) {
            tl_fail(__FILE__, __LINE__, "%.17g: Ryu digits %s, printf %s", x, got, want);
            return -1;
        }
    }
    if (n == 1) return 0;
    /* The first n-1 digits of x, truncated (41 correctly rounded digits show them unless a
     * run of nines rounded up, which shows as zeros: skipped). */
    snprintf(buf, sizeof buf, "%.40e", x);
    char *e = strchr(buf, 'e');
    int exp10 = atoi(e + 1), tail_zero = 1;
    uint64_t lo = (uint64_t)(buf[0] - '0');
    for (int i = 1; i < n - 1; i++) lo = lo * 10 + (uint64_t)(buf[i + 1] - '0');
    for (char *c = buf + n; c < e; c++) tail_zero &= *c == '0';
    if (tail_zero) {
        ++*skipped;
        return 0;
    }
    for (uint64_t cand = lo; cand <= lo + 1; cand++) {
        char text[48];
        snprintf(text, sizeof text, "%llue%d", (unsigned long long)cand, exp10 - (n - 2));
        if (reads_as(text, x)) {
            tl_fail(__FILE__, __LINE__, "%.17g: %s reads back but Ryu gave %d digits", x, text,
                    n);
            return -1;
        }
    }
    return 0;
}

TEST(output_is_the_shortest_and_closest) {
    fd_rng r;
    fd_rng_seed(&r, 99);
    long skipped = 0, n = 200000;
    for (long i = 0; i < n; i++) {
        double x = fabs(sample(&r, i));
        if (x == 0) continue;
        if (check_shortest(x, &skipped)) return;
    }
    for (int k = -1074; k <= 1023; k++) /* the asymmetric intervals */
        if (check_shortest(ldexp(1, k), &skipped)) return;
    ASSERT(skipped < n / 100);
}

/* ---- notation ---- */

static const char *fmt(double x) {
    static char buf[FD_NUM_BUF];
    fd_num_format(x, buf);
    return buf;
}

TEST(notation_plain_between_1e_minus_7_and_1e16) {
    ASSERT_STR_EQ(fmt(0.003), "0.003");
    ASSERT_STR_EQ(fmt(0.1), "0.1");
    ASSERT_STR_EQ(fmt(0.1 + 0.2), "0.30000000000000004");
    ASSERT_STR_EQ(fmt(-0.0039), "-0.0039");
    ASSERT_STR_EQ(fmt(2000), "2000");
    ASSERT_STR_EQ(fmt(1), "1");
    ASSERT_STR_EQ(fmt(123.45), "123.45");
    ASSERT_STR_EQ(fmt(0.000123), "0.000123");
    ASSERT_STR_EQ(fmt(1.234e-6), "0.000001234");
    ASSERT_STR_EQ(fmt(9007199254740991.0), "9007199254740991");
    ASSERT_STR_EQ(fmt(1e15), "1000000000000000");
    ASSERT_STR_EQ(fmt(1.5e15), "1500000000000000");
    ASSERT_STR_EQ(fmt(0.0), "0");
    ASSERT_STR_EQ(fmt(-0.0), "-0");
}

TEST(notation_exponent_outside) {
    ASSERT_STR_EQ(fmt(1e-7), "1e-7");
    ASSERT_STR_EQ(fmt(-1.5e-7), "-1.5e-7");
    ASSERT_STR_EQ(fmt(1e16), "1e16");
    ASSERT_STR_EQ(fmt(1e22), "1e22");
    ASSERT_STR_EQ(fmt(18014398509481984.0), "1.8014398509481984e16");
    ASSERT_STR_EQ(fmt(DBL_MAX), "1.7976931348623157e308");
    ASSERT_STR_EQ(fmt(DBL_MIN), "2.2250738585072014e-308");
    ASSERT_STR_EQ(fmt(-DBL_TRUE_MIN), "-5e-324");
    ASSERT_STR_EQ(fmt(1.2345e100), "1.2345e100");
}

TEST(non_finite_values_have_no_text) {
    char buf[FD_NUM_BUF] = "x";
    ASSERT_INT_EQ(fd_num_format(NAN, buf), 0);
    ASSERT_STR_EQ(buf, "");
    ASSERT_INT_EQ(fd_num_format(INFINITY, buf), 0);
    ASSERT_INT_EQ(fd_num_format(-INFINITY, buf), 0);
}

TEST(every_text_is_a_json_number) {
    fd_rng r;
    fd_rng_seed(&r, 3);
    char buf[FD_NUM_BUF];
    for (long i = 0; i < 300000; i++) {
        fd_num_format(sample(&r, i), buf);
        if (!is_json_number(buf)) {
            tl_fail(__FILE__, __LINE__, "\"%s\" is not a JSON number", buf);
            return;
        }
    }
}

TEST_MAIN(T(pow5_table_is_5_to_the_i_in_125_bits), T(pow5_inv_table_is_the_rounded_up_reciprocal),
          T(pow5_bits_is_the_bit_length_of_5_to_the_e), T(log10_pow2_is_exact_over_its_range),
          T(log10_pow5_is_exact_over_its_range), T(edge_cases_round_trip),
          T(ten_million_doubles_round_trip_through_strtod), T(short_decimals_print_as_written),
          T(output_is_the_shortest_and_closest), T(notation_plain_between_1e_minus_7_and_1e16),
          T(notation_exponent_outside), T(non_finite_values_have_no_text),
          T(every_text_is_a_json_number))
