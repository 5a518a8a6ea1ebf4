/* SPDX-License-Identifier: MIT */
/*
 * util.h - small helpers shared by several modules: a monotonic clock,
 * string joining, hex digits.  Thread-safe.
 */
#ifndef SG_UTIL_H
#define SG_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "segget.h"

/* Milliseconds on CLOCK_MONOTONIC. */
static inline int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The 64-bit FNV-1a hash of n bytes: stable across machines (the shard
 * rule is built on it), for tables of names, hosts and checksums. */
uint64_t hash_bytes(const char *s, size_t n);

/* The value of a hexadecimal digit, or -1. */
int hexval(char c);

/* name inside dir ("dir/name"; name alone when dir is NULL or empty or
 * name is absolute), heap; NULL when out of memory. */
char *path_join(const char *dir, const char *name);

/* a followed by b in a new heap string, or NULL when out of memory. */
char *str_cat(const char *a, const char *b);

/* An unlinked temporary file, read-write, in $TMPDIR (else /tmp): its
 * descriptor, or -1 with errno set.  Any thread. */
int tmp_fd(void);

#endif
