/* SPDX-License-Identifier: MIT */
/*
 * content.h - the fault server's resource, computable at any offset.
 *
 * Byte i of resource (seed) is byte i%8 of splitmix64(seed, i/8), so the
 * server can serve any range of any size without a file and a test can
 * check a download without a copy.
 */
#ifndef SG_CONTENT_H
#define SG_CONTENT_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t content_word(uint64_t seed, uint64_t k)
{
    uint64_t z = seed * 0xD1B54A32D192ED03ull + k * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Fill buf with bytes [off, off+len) of resource seed. */
static inline void content_fill(uint64_t seed, uint64_t off, unsigned char *buf,
                                size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint64_t at = off + i, w = content_word(seed, at >> 3);
        for (unsigned b = (unsigned)(at & 7); b < 8 && i < len; b++, i++)
            buf[i] = (unsigned char)(w >> (b * 8));
    }
}

#endif
