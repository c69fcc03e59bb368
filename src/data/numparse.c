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
