/* xoshiro256** (Blackman and Vigna), seeded by splitmix64: see include/factord/rng.h. */
#include "factord/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void fd_rng_seed(fd_rng *rng, uint64_t seed) {
    /* splitmix64 never yields four zero words, the one state xoshiro must avoid. */
    for (int i = 0; i < 4; i++) rng->s[i] = splitmix64(&seed);
}

uint64_t fd_rng_u64(fd_rng *rng) {
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double fd_rng_uniform(fd_rng *rng) {
    return (double)(fd_rng_u64(rng) >> 11) * 0x1.0p-53;
}

uint64_t fd_rng_below(fd_rng *rng, uint64_t n) {
    /* Rejection of the short last block keeps every value equally likely. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = fd_rng_u64(rng);
    while (x >= limit);
    return x % n;
}

double fd_rng_normal(fd_rng *rng) {
    double u, v, s;
    do {
        u = 2.0 * fd_rng_uniform(rng) - 1.0;
        v = 2.0 * fd_rng_uniform(rng) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    return u * sqrt(-2.0 * log(s) / s);
}

void fd_rng_shuffle(fd_rng *rng, size_t *idx, size_t n) {
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)fd_rng_below(rng, i);
        size_t tmp = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = tmp;
    }
}
