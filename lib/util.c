/* SPDX-License-Identifier: MIT */
/*
 * util.c - string helpers, and unlinked temporary files.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

char *str_cat(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    if (!s)
        return NULL;
    memcpy(s, a, la);
    memcpy(s + la, b, lb + 1);
    return s;
}

char *path_join(const char *dir, const char *name)
{
    if (!dir || !dir[0] || name[0] == '/')
        return strdup(name);
    size_t n = strlen(dir);
    char *d = dir[n - 1] == '/' ? strdup(dir) : str_cat(dir, "/");
    char *p = d ? str_cat(d, name) : NULL;
    free(d);
    return p;
}

uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}


int tmp_fd(void)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    int fd = -1;
#ifdef O_TMPFILE
    fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
#endif
    if (fd < 0) {
        char *path = str_cat(dir, "/segget-XXXXXX");
        if (path && (fd = mkstemp(path)) >= 0)
            (void)unlink(path);
        free(path);
    }
    return fd;
}
