/* Strict decimal parsing. The common case (at most 19 significant digits that fit in 2^53,
 * decimal exponent within +-22) is computed exactly with one correctly rounded multiply or
 * divide (Clinger's fast path); everything else goes to strtod_l in the C locale, so the
 * result never depends on the process locale and is always correctly rounded. */
#include "factord/numparse.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "factord/daily.h"

static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static locale_t c_locale;

static void c_locale_init(void) { c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

static int is_blank(char c) { return c == ' ' || c == '\t'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int is_nan_word(const char *p, size_t n) {
    return n == 3 && (p[0] | 0x20) == 'n' && (p[1] | 0x20) == 'a' && (p[2] | 0x20) == 'n';
}

/* Slow path for long mantissas or large exponents; the text is already validated. */
static fd_num_status parse_slow(const char *p, size_t n, double *out) {
    char stack[128];
    char *buf = n < sizeof stack ? stack : malloc(n + 1);
    if (!buf) return FD_NUM_BAD;
    memcpy(buf, p, n);
    buf[n] = '\0';
    pthread_once(&c_locale_once, c_locale_init);
    errno = 0;
    double v = c_locale ? strtod_l(buf, NULL, c_locale) : strtod(buf, NULL);
    int range = errno == ERANGE && isinf(v);
    if (buf != stack) free(buf);
    if (range || !isfinite(v)) return FD_NUM_RANGE;
    *out = v;
    return FD_NUM_OK;
}

fd_num_status fd_num_parse_scaled(const char *s, size_t len, int shift, double *out) {
    const char *p = s, *end = s + len;
    while (p < end && is_blank(*p)) p++;
    while (end > p && is_blank(end[-1])) end--;
    if (p == end || is_nan_word(p, (size_t)(end - p))) {
        *out = NAN;
        return FD_NUM_MISSING;
    }
    const char *q = p;
    int neg = 0;
    if (*q == '+' || *q == '-') neg = *q++ == '-';
    uint64_t m = 0;
    int nd = 0, frac = 0, any = 0, exact = 1;
    for (; q < end && is_digit(*q); q++, any = 1) {
        if (nd >= 19) { exact = 0; continue; }
        m = m * 10 + (uint64_t)(*q - '0');
        if (m) nd++;
    }
    if (q < end && *q == '.') {
        for (q++; q < end && is_digit(*q); q++, any = 1) {
            if (nd >= 19) { exact = 0; continue; }
            m = m * 10 + (uint64_t)(*q - '0');
            if (m) nd++;
            frac++;
        }
    }
    if (!any) return FD_NUM_BAD;
    long e = 0;
    if (q < end && (*q == 'e' || *q == 'E')) {
        int eneg = 0, edig = 0;
        q++;
        if (q < end && (*q == '+' || *q == '-')) eneg = *q++ == '-';
        for (; q < end && is_digit(*q); q++, edig = 1)
            if (e < 100000) e = e * 10 + (*q - '0');
        if (!edig) return FD_NUM_BAD;
        if (eneg) e = -e;
    }
    if (q != end) return FD_NUM_BAD;
    long e10 = e - frac + shift;
    if (exact && m == 0) {
        *out = neg ? -0.0 : 0.0;
        return FD_NUM_OK;
    }
    if (exact && m <= (UINT64_C(1) << 53) && e10 >= -22 && e10 <= 22) {
        double v = (double)m;
        v = e10 >= 0 ? v * pow10_exact[e10] : v / pow10_exact[-e10];
        *out = neg ? -v : v;
        return FD_NUM_OK;
    }
    fd_num_status st = parse_slow(p, (size_t)(end - p), out);
    /* Rare inputs (over 19 digits, huge exponents): scale after rounding once. */
    if (st == FD_NUM_OK && shift) *out = shift < 0 ? *out / pow(10, -shift) : *out * pow(10, shift);
    if (st == FD_NUM_OK && !isfinite(*out)) st = FD_NUM_RANGE;
    return st;
}

fd_num_status fd_num_parse(const char *s, size_t len, double *out) {
    return fd_num_parse_scaled(s, len, 0, out);
}

/* snprintf follows LC_NUMERIC; the daemon never calls setlocale, but a library user might,
 * so a decimal comma is mapped back to '.'. */
static size_t format_prec(double x, int prec, char buf[32]) {
    int n = snprintf(buf, 32, "%.*g", prec, x);
    for (int i = 0; i < n; i++)
        if (buf[i] == ',') buf[i] = '.';
    return (size_t)n;
}

/* Fast path for the values panels hold (returns, ratios, prices): the fewest fraction
 * digits k <= 15 such that m / 10^k == x for an integer m < 2^53. That division is what
 * parsing the printed text computes (Clinger's path above; strtod agrees, both being
 * correctly rounded), so the text reads back exactly. 0 when no such k exists. */
static size_t format_fixed(double x, char buf[32]) {
    double ax = fabs(x);
    if (!(ax >= 1e-6 && ax < 1e15)) return 0;
    for (int k = 0; k <= 15; k++) {
        double scaled = ax * pow10_exact[k];
        if (scaled >= 9007199254740992.0) return 0;
        double m = nearbyint(scaled);
        if (m / pow10_exact[k] != ax) continue;
        char digits[24];
        int nd = 0;
        for (uint64_t u = (uint64_t)m; u; u /= 10) digits[nd++] = (char)('0' + u % 10);
        size_t n = 0;
        if (x < 0) buf[n++] = '-';
        if (nd <= k) { /* 0.00ddd */
            buf[n++] = '0';
            buf[n++] = '.';
            for (int z = 0; z < k - nd; z++) buf[n++] = '0';
        }
        for (int i = nd - 1; i >= 0; i--) {
            buf[n++] = digits[i];
            if (i == k && k > 0 && nd > k) buf[n++] = '.';
        }
        buf[n] = '\0';
        return n;
    }
    return 0;
}

size_t fd_num_format(double x, char buf[32]) {
    if (isnan(x)) {
        buf[0] = '\0';
        return 0;
    }
    size_t n = format_fixed(x, buf);
    if (n) return n;
    for (int prec = 15; prec < 17; prec++) {
        n = format_prec(x, prec, buf);
        double back;
        if (fd_num_parse(buf, n, &back) == FD_NUM_OK && back == x) return n;
    }
    return format_prec(x, 17, buf);
}

int fd_month_from_cell(const char *s, size_t len, char out[FD_MONTH_LEN]) {
    while (len && is_blank(*s)) s++, len--;
    while (len && is_blank(s[len - 1])) len--;
    char key[FD_MONTH_LEN];
    if (len == 6) {
        for (size_t i = 0; i < 6; i++)
            if (!is_digit(s[i])) return -1;
        memcpy(key, s, 4);
        key[4] = '-';
        memcpy(key + 5, s + 4, 2);
    } else if (len == 7 || len == 10) {
        int32_t days;
        if (len == 10 && fd_date_parse(s, len, &days) != 0) return -1;
        memcpy(key, s, 7);
    } else {
        return -1;
    }
    key[7] = '\0';
    if (fd_month_parse(key, NULL, NULL, NULL) != 0) return -1;
    memcpy(out, key, FD_MONTH_LEN);
    return 0;
}
