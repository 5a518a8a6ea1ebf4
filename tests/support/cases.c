/* SPDX-License-Identifier: MIT */
/*
 * cases.c - the steps of cases.h.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cases.h"

const char *case_path(const char *dir, const char *name)
{
    static char buf[4][700];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

int64_t case_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

void case_fresh_dir(const char *dir)
{
    rm_tree(dir);
    cr_assert_eq(mkdir(dir, 0755), 0, "cannot make %s again", dir);
}

void case_line(char *q, size_t cap, const char *fmt, ...)
{
    size_t n = strlen(q);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q + n, cap - n, fmt, ap);
    va_end(ap);
    n = strlen(q);
    snprintf(q + n, cap - n, "\n");
}

void case_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

int case_batch(const char *dir, const char *queue, const char *const *opts,
               int timeout_s)
{
    const char *argv[32];
    int n = 0;
    for (int i = 0; opts && opts[i] && n < 29; i++)
        argv[n++] = opts[i];
    argv[n++] = "-i";
    argv[n++] = queue;
    argv[n] = NULL;
    return run_segget(dir, argv, timeout_s);
}

int case_single(const char *dir, const char *const *opts, const char *url,
                const char *url2, int timeout_s)
{
    const char *argv[32];
    int n = 0;
    for (int i = 0; opts && opts[i] && n < 29; i++)
        argv[n++] = opts[i];
    argv[n++] = url;
    if (url2)
        argv[n++] = url2;
    argv[n] = NULL;
    return run_segget(dir, argv, timeout_s);
}

void case_fault(srv *s, int64_t size, uint64_t seed, const char *const *more)
{
    static char sz[2][32], sd[2][32];
    static int k;
    k ^= 1;
    snprintf(sz[k], sizeof sz[k], "%lld", (long long)size);
    snprintf(sd[k], sizeof sd[k], "%llu", (unsigned long long)seed);
    const char *args[40] = {"--size", sz[k], "--seed", sd[k]};
    int n = 4;
    for (int i = 0; more && more[i] && n < 38; i++)
        args[n++] = more[i];
    args[n] = NULL;
    fsrv_start(s, args);
}
