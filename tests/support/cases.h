/* SPDX-License-Identifier: MIT */
/*
 * cases.h - the small steps integration tests repeat: run segget on a
 * URL or a queue in a directory, start the fault server on a resource,
 * write a queue, look at what a run left.  All of them fail the test on
 * an error of their own (not of segget's).
 */
#ifndef SG_CASES_H
#define SG_CASES_H

#include <stddef.h>
#include <stdint.h>

#include "harness.h"

/* dir/name, in one of four rotating static buffers. */
const char *case_path(const char *dir, const char *name);

/* Size of the file at path, -1 when it cannot be read. */
int64_t case_size(const char *path);

/* Remove dir and make it again, empty. */
void case_fresh_dir(const char *dir);

/* Append a line (fmt, then "\n") to the string q of capacity cap. */
void case_line(char *q, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Write text to the file at path. */
void case_write(const char *path, const char *text);

/* segget [opts...] url [url2], in dir; its exit status. */
int case_single(const char *dir, const char *const *opts, const char *url,
                const char *url2, int timeout_s);

/* segget [opts...] -i queue, in dir; its exit status. */
int case_batch(const char *dir, const char *queue, const char *const *opts,
               int timeout_s);

/* Start the fault server s with "--size size --seed seed" and more
 * (NULL-terminated, up to 34 words). */
void case_fault(srv *s, int64_t size, uint64_t seed, const char *const *more);

#endif
