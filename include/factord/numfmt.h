/* fd_num_format: the one way factord writes a double as text, in every JSON and CSV body,
 * stored JSON document and command output, so the same number prints the same everywhere.
 *
 * The digits are the shortest that read back as exactly x (strtod, jansson, Python's float,
 * factord's own fd_num_parse), and of those the closest to x: Ryu (Adams, "Ryu: fast
 * float-to-string conversion", PLDI 2018), see src/core/dtoa.c. 0.003 prints "0.003",
 * 0.1 + 0.2 prints "0.30000000000000004", 2000.0 prints "2000".
 *
 * Notation, with E the decimal exponent of the first digit (x = d.ddd * 10^E):
 *   -7 < E < 16   plain: "123.45", "0.000001234", "2000", "-0"
 *   otherwise     exponent: "1e-7", "1.5e-300", "1e16", "-9.2233720368547758e18"
 * so integers below 10^16 print as JSON integers a 64-bit reader holds exactly, and larger
 * ones carry an exponent (a JSON reader sees a real, never an integer it cannot hold).
 * Negative zero prints "-0" (it reads back as -0.0).
 *
 * Non-finite values have no text: NaN means "missing" in factord, and neither JSON nor
 * CSV can carry an infinity (factord's parser rejects "inf"); writers put their missing
 * marker instead (fd_textbuf_num: "" in CSV, null in JSON).
 *
 * Pure functions, thread-safe, locale-independent. */
#ifndef FACTORD_NUMFMT_H
#define FACTORD_NUMFMT_H

#include <stddef.h>
#include <stdint.h>

/* Room for the longest text ("-2.2250738585072014e-308" is 24) and its NUL. */
#define FD_NUM_BUF 32

/* x = digits * 10^exponent with digits < 10^17 and no trailing zero digit. */
typedef struct fd_decimal {
    uint64_t digits;
    int32_t exponent;
} fd_decimal;

/* The shortest decimal that rounds to |x|, the closest to |x| among those; x finite and
 * not zero (sign ignored). */
fd_decimal fd_num_shortest(double x);

/* Writes x as above and a NUL; returns the length (0 and "" for NaN and infinities). */
size_t fd_num_format(double x, char buf[FD_NUM_BUF]);

#endif
