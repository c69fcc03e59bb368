/* Shortest round-trip formatting of doubles (numfmt.h), by Ryu (Ulf Adams, "Ryu: fast
 * float-to-string conversion", PLDI 2018), written here from the paper.
 *
 * A finite double x = m2 * 2^e2 owns the interval of reals that round to it: halfway to
 * each neighbour, (x - u/2, x + u/2) with both ends included when m2 is even (round half
 * to even). Scaled by 4 so the ends are integers, the interval is [mm, mp] around mv = 4 m2
 * (mm is closer when x is a power of two: the gap below is half the gap above). Ryu maps
 * mm, mv, mp to decimal with one 64x128-bit multiply each by a precomputed power of five,
 * giving vm, vr, vp = floor(value / 10^e10) for a decimal exponent e10 chosen so they fit
 * in 64 bits, then drops decimal digits while the interval still holds a number with fewer
 * digits, remembering the last digit removed from vr to round the result. The only exact
 * questions (is a dropped tail all zeros, so an end is reachable or a tie is exact) are
 * answered by divisibility of mv, mm, mp by powers of 2 or 5.
 *
 * Checked by tests/unit/test_dtoa.c: strtod round trips of 10^7 random and edge doubles,
 * shortest-ness against a search over printf precisions, and the tables themselves. */
#include "factord/numfmt.h"

#include <string.h>

#include "ryu.h"

__extension__ typedef unsigned __int128 fd_u128;

#define MANTISSA_BITS 52
#define EXPONENT_BIAS 1023

static unsigned pow5_factor(uint64_t v) { /* v > 0 */
    unsigned count = 0;
    while (v % 5 == 0) {
        v /= 5;
        count++;
    }
    return count;
}

static int multiple_of_pow5(uint64_t v, uint32_t p) { return pow5_factor(v) >= p; }

static int multiple_of_pow2(uint64_t v, uint32_t p) { /* p < 64 */
    return (v & ((UINT64_C(1) << p) - 1)) == 0;
}

/* floor(m * mul / 2^j) for a 128-bit mul = {low, high} and j >= 64. */
static uint64_t mul_shift(uint64_t m, const uint64_t mul[2], int32_t j) {
    fd_u128 low = (fd_u128)m * mul[0];
    fd_u128 high = (fd_u128)m * mul[1];
    return (uint64_t)(((low >> 64) + high) >> (j - 64));
}

/* Step 4 when some dropped tail may be exactly zero (rare): track whether vm and vr lose
 * only zeros, to include the lower end and break exact ties to even. */
static uint64_t shorten_exact(uint64_t *vr, uint64_t vp, uint64_t vm, int vm_tz, int vr_tz,
                              int accept_bounds, int32_t *removed) {
    unsigned last = 0;
    while (vp / 10 > vm / 10) {
        vm_tz &= vm % 10 == 0;
        vr_tz &= last == 0;
        last = (unsigned)(*vr % 10);
        *vr /= 10, vp /= 10, vm /= 10;
        ++*removed;
    }
    if (vm_tz) {
        while (vm % 10 == 0) {
            vr_tz &= last == 0;
            last = (unsigned)(*vr % 10);
            *vr /= 10, vp /= 10, vm /= 10;
            ++*removed;
        }
    }
    if (vr_tz && last == 5 && *vr % 2 == 0) last = 4; /* exactly ...50..0: to even */
    /* vr itself is out when it is the excluded lower end. */
    return *vr + ((*vr == vm && (!accept_bounds || !vm_tz)) || last >= 5);
}

/* Step 4, common case (~99%): no tail is exact, so only the first dropped digit rounds. */
static uint64_t shorten_inexact(uint64_t vr, uint64_t vp, uint64_t vm, int32_t *removed) {
    int round_up = 0;
    if (vp / 100 > vm / 100) { /* two digits at a time first */
        round_up = vr % 100 >= 50;
        vr /= 100, vp /= 100, vm /= 100;
        *removed += 2;
    }
    while (vp / 10 > vm / 10) {
        round_up = vr % 10 >= 5;
        vr /= 10, vp /= 10, vm /= 10;
        ++*removed;
    }
    return vr + (vr == vm || round_up);
}

static fd_decimal ryu(uint64_t ieee_m, uint32_t ieee_e) {
    int32_t e2;
    uint64_t m2;
    if (ieee_e == 0) { /* subnormal */
        e2 = 1 - EXPONENT_BIAS - MANTISSA_BITS - 2;
        m2 = ieee_m;
    } else {
        e2 = (int32_t)ieee_e - EXPONENT_BIAS - MANTISSA_BITS - 2;
        m2 = (UINT64_C(1) << MANTISSA_BITS) | ieee_m;
    }
    const int accept_bounds = (m2 & 1) == 0;
    const uint64_t mv = 4 * m2;
    /* The gap below is half the gap above at a power of two (except the smallest normal). */
    const uint32_t mm_shift = ieee_m != 0 || ieee_e <= 1;
    const uint64_t mp_in = mv + 2, mm_in = mv - 1 - mm_shift;

    uint64_t vr, vp, vm;
    int32_t e10;
    int vm_tz = 0, vr_tz = 0; /* the dropped binary tail of vm (vr) is all zeros */
    if (e2 >= 0) {
        /* Divide by 10^q, q = floor(log10 2^e2) minus one to keep a digit for rounding:
         * multiply by 2^e2 / 5^q / 2^q via the reciprocal table. */
        const uint32_t q = fd_ryu_log10_pow2(e2) - (e2 > 3);
        const int32_t k = FD_RYU_POW5_INV_BITS + fd_ryu_pow5_bits((int32_t)q) - 1;
        const int32_t j = -e2 + (int32_t)q + k;
        e10 = (int32_t)q;
        vr = mul_shift(mv, FD_RYU_POW5_INV[q], j);
        vp = mul_shift(mp_in, FD_RYU_POW5_INV[q], j);
        vm = mul_shift(mm_in, FD_RYU_POW5_INV[q], j);
        if (q <= 21) {
            /* The quotient by 10^q is exact iff 5^q divides (2^q does, since e2 >= q); at
             * most one of mm, mv, mp is a multiple of 5. */
            if (mv % 5 == 0)
                vr_tz = multiple_of_pow5(mv, q);
            else if (accept_bounds)
                vm_tz = multiple_of_pow5(mm_in, q);
            else
                vp -= (uint64_t)multiple_of_pow5(mp_in, q); /* mp excluded: step inside */
        }
    } else {
        /* Multiply by 5^-e2 / 2^... so the value is scaled by 10^-e10. */
        const uint32_t q = fd_ryu_log10_pow5(-e2) - (-e2 > 1);
        const int32_t i = -e2 - (int32_t)q;
        const int32_t k = fd_ryu_pow5_bits(i) - FD_RYU_POW5_BITS;
        const int32_t j = (int32_t)q - k;
        e10 = (int32_t)q + e2;
        vr = mul_shift(mv, FD_RYU_POW5[i], j);
        vp = mul_shift(mp_in, FD_RYU_POW5[i], j);
        vm = mul_shift(mm_in, FD_RYU_POW5[i], j);
        if (q <= 1) {
            /* Dividing by 2^q with q <= 1: mv has two zero low bits, mp one, mm one iff
             * mm_shift is 1. */
            vr_tz = 1;
            if (accept_bounds)
                vm_tz = mm_shift == 1;
            else
                --vp;
        } else if (q < 63) {
            /* Exact iff 2^q divides mv (5^-e2 supplies the factors of five). */
            vr_tz = multiple_of_pow2(mv, q);
        }
    }

    int32_t removed = 0;
    uint64_t digits = (vm_tz || vr_tz)
                          ? shorten_exact(&vr, vp, vm, vm_tz, vr_tz, accept_bounds, &removed)
                          : shorten_inexact(vr, vp, vm, &removed);
    return (fd_decimal){digits, e10 + removed};
}

/* Integers below 2^53 are their own shortest decimal; no multiply needed. */
static int small_integer(uint64_t ieee_m, uint32_t ieee_e, fd_decimal *out) {
    const uint64_t m2 = (UINT64_C(1) << MANTISSA_BITS) | ieee_m;
    const int32_t e2 = (int32_t)ieee_e - EXPONENT_BIAS - MANTISSA_BITS;
    if (ieee_e == 0 || e2 > 0 || e2 < -MANTISSA_BITS) return 0;
    const uint64_t fraction = m2 & ((UINT64_C(1) << -e2) - 1);
    if (fraction != 0) return 0;
    *out = (fd_decimal){m2 >> -e2, 0};
    return 1;
}

static fd_decimal shortest_bits(uint64_t ieee_m, uint32_t ieee_e) {
    fd_decimal d;
    if (!small_integer(ieee_m, ieee_e, &d)) d = ryu(ieee_m, ieee_e);
    while (d.digits % 10 == 0) { /* canonical: no trailing zero digits */
        d.digits /= 10;
        d.exponent++;
    }
    return d;
}

fd_decimal fd_num_shortest(double x) {
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    return shortest_bits(bits & ((UINT64_C(1) << MANTISSA_BITS) - 1),
                         (uint32_t)(bits >> MANTISSA_BITS) & 0x7ff);
}

static const char digit_pairs[201] = "00010203040506070809101112131415161718192021222324"
                                     "25262728293031323334353637383940414243444546474849"
                                     "50515253545556575859606162636465666768697071727374"
                                     "75767778798081828384858687888990919293949596979899";

static int decimal_length(uint64_t v) { /* v < 10^17 */
    static const uint64_t pow10[17] = {
        UINT64_C(1), UINT64_C(10), UINT64_C(100), UINT64_C(1000), UINT64_C(10000),
        UINT64_C(100000), UINT64_C(1000000), UINT64_C(10000000), UINT64_C(100000000),
        UINT64_C(1000000000), UINT64_C(10000000000), UINT64_C(100000000000),
        UINT64_C(1000000000000), UINT64_C(10000000000000), UINT64_C(100000000000000),
        UINT64_C(1000000000000000), UINT64_C(10000000000000000)};
    int n = 1;
    while (n < 17 && v >= pow10[n]) n++;
    return n;
}

/* Writes the n decimal digits of v to out[0..n). */
static void put_digits(char *out, uint64_t v, int n) {
    char *p = out + n;
    while (v >= 100) {
        const unsigned r = (unsigned)(v % 100);
        v /= 100;
        p -= 2;
        memcpy(p, digit_pairs + 2 * r, 2);
    }
    if (v >= 10) {
        p -= 2;
        memcpy(p, digit_pairs + 2 * v, 2);
    } else {
        *--p = (char)('0' + v);
    }
}

/* d in the notation numfmt.h states; returns the length written (no NUL). */
static size_t render(char *out, fd_decimal d) {
    char dig[17];
    const int n = decimal_length(d.digits);
    put_digits(dig, d.digits, n);
    int e = n - 1 + d.exponent; /* x = d.ddd * 10^e */
    char *p = out;
    if (e >= 0 && e < 16) {
        if (n <= e + 1) { /* integer: digits then zeros */
            memcpy(p, dig, (size_t)n);
            p += n;
            memset(p, '0', (size_t)(e + 1 - n));
            p += e + 1 - n;
        } else {
            memcpy(p, dig, (size_t)e + 1);
            p += e + 1;
            *p++ = '.';
            memcpy(p, dig + e + 1, (size_t)(n - e - 1));
            p += n - e - 1;
        }
    } else if (e < 0 && e > -7) {
        *p++ = '0';
        *p++ = '.';
        memset(p, '0', (size_t)(-e - 1));
        p += -e - 1;
        memcpy(p, dig, (size_t)n);
        p += n;
    } else {
        *p++ = dig[0];
        if (n > 1) {
            *p++ = '.';
            memcpy(p, dig + 1, (size_t)n - 1);
            p += n - 1;
        }
        *p++ = 'e';
        if (e < 0) {
            *p++ = '-';
            e = -e;
        }
        if (e >= 100) {
            *p++ = (char)('0' + e / 100);
            e %= 100;
            memcpy(p, digit_pairs + 2 * e, 2);
            p += 2;
        } else if (e >= 10) {
            memcpy(p, digit_pairs + 2 * e, 2);
            p += 2;
        } else {
            *p++ = (char)('0' + e);
        }
    }
    return (size_t)(p - out);
}

size_t fd_num_format(double x, char buf[FD_NUM_BUF]) {
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    const uint32_t ieee_e = (uint32_t)(bits >> MANTISSA_BITS) & 0x7ff;
    const uint64_t ieee_m = bits & ((UINT64_C(1) << MANTISSA_BITS) - 1);
    char *p = buf;
    if (ieee_e == 0x7ff) { /* NaN, infinities */
        buf[0] = '\0';
        return 0;
    }
    if (bits >> 63) *p++ = '-';
    if (ieee_e == 0 && ieee_m == 0)
        *p++ = '0';
    else
        p += render(p, shortest_bits(ieee_m, ieee_e));
    *p = '\0';
    return (size_t)(p - buf);
}
