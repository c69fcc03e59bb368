/* Number formatting speed and a long round-trip run (issue 14): fd_num_format (Ryu) next to
 * printf's "%.17g" (exact but not shortest) and the formatter it replaced (the shortest of
 * %.15g, %.16g, %.17g that reads back), on the doubles a scoring body holds (expected
 * returns, betas: normal draws scaled to 1e-2) and on uniform bit patterns. Then ROUND_TRIPS
 * random doubles (default 10^8) printed and read back with strtod, bit for bit.
 * Usage: numfmt_bench [ROUND_TRIPS]   (built and run by bench/numfmt.sh) */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "factord/numfmt.h"
#include "factord/rng.h"

#define N_VALUES 1000000

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static size_t fmt_ryu(double x, char *buf) { return fd_num_format(x, buf); }
static size_t fmt_17g(double x, char *buf) { return (size_t)snprintf(buf, 32, "%.17g", x); }
static size_t fmt_old(double x, char *buf) {
    for (int prec = 15; prec < 17; prec++) {
        int n = snprintf(buf, 32, "%.*g", prec, x);
        if (strtod(buf, NULL) == x) return (size_t)n;
    }
    return (size_t)snprintf(buf, 32, "%.17g", x);
}

/* ns per value and mean length over the best of 3 passes. */
static void time_one(const char *name, size_t (*fn)(double, char *), const double *xs) {
    char buf[32];
    double best = 1e30;
    size_t chars = 0;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now();
        chars = 0;
        for (size_t i = 0; i < N_VALUES; i++) chars += fn(xs[i], buf);
        double t = now() - t0;
        if (t < best) best = t;
    }
    printf("| %s | %.1f | %.2f |\n", name, 1e9 * best / N_VALUES, (double)chars / N_VALUES);
}

int main(int argc, char **argv) {
    long trips = argc > 1 ? atol(argv[1]) : 100000000L;
    double *score = malloc(N_VALUES * sizeof *score), *bits = malloc(N_VALUES * sizeof *bits);
    fd_rng r;
    if (!score || !bits) return 1;
    fd_rng_seed(&r, 1);
    for (size_t i = 0; i < N_VALUES; i++) {
        score[i] = 0.01 * fd_rng_normal(&r);
        uint64_t u = fd_rng_u64(&r);
        memcpy(&bits[i], &u, sizeof u);
        if (!isfinite(bits[i])) bits[i] = (double)u;
    }
    const char *sets[2] = {"scores (0.01 * normal)", "uniform bit patterns"};
    const double *data[2] = {score, bits};
    for (int s = 0; s < 2; s++) {
        printf("%s, %d values:\n\n| formatter | ns/value | chars/value |\n|---|---:|---:|\n",
               sets[s], N_VALUES);
        time_one("fd_num_format (Ryu, shortest)", fmt_ryu, data[s]);
        time_one("snprintf %.17g (not shortest)", fmt_17g, data[s]);
        time_one("shortest of %.15g/%.16g/%.17g + strtod (before)", fmt_old, data[s]);
        printf("\n");
    }
    double t0 = now();
    for (long i = 0; i < trips; i++) {
        uint64_t u = fd_rng_u64(&r);
        double x, back;
        char buf[FD_NUM_BUF];
        memcpy(&x, &u, sizeof x);
        if (i & 1) x = ldexp((double)(u >> 11), (int)(u % 80) - 100); /* typical magnitudes */
        if (!isfinite(x)) continue;
        fd_num_format(x, buf);
        back = strtod(buf, NULL);
        if (memcmp(&back, &x, sizeof x) != 0) {
            printf("MISMATCH: %.17g printed as %s\n", x, buf);
            return 1;
        }
    }
    printf("%ld random doubles round-tripped through strtod bit for bit (%.1f s)\n", trips,
           now() - t0);
    free(score);
    free(bits);
    return 0;
}
