/* Internals of Ryu (src/core/dtoa.c), shared with tests/unit/test_dtoa.c, which checks the
 * tables and the integer logarithms below against exact big-integer arithmetic over every
 * argument the conversion uses. Not a public header. */
#ifndef FACTORD_RYU_H
#define FACTORD_RYU_H

#include <stdint.h>

#include "ryu_tables.inc"

/* The bit length of 5^e (ceil(log2(5^e)) for e >= 1, 1 for e = 0), exact for
 * 0 <= e <= 3528; dtoa.c uses 0 <= e < FD_RYU_POW5_INV_COUNT. */
static inline int32_t fd_ryu_pow5_bits(int32_t e) {
    return (int32_t)((((uint32_t)e) * 1217359u) >> 19) + 1;
}

/* floor(log10(2^e)), exact for 0 <= e <= 1650; dtoa.c uses 0 <= e <= 969. */
static inline uint32_t fd_ryu_log10_pow2(int32_t e) { return (((uint32_t)e) * 78913u) >> 18; }

/* floor(log10(5^e)), exact for 0 <= e <= 2620; dtoa.c uses 0 <= e <= 1076. */
static inline uint32_t fd_ryu_log10_pow5(int32_t e) { return (((uint32_t)e) * 732923u) >> 20; }

#endif
