/* SPDX-License-Identifier: MIT */
/*
 * failsync.so - an LD_PRELOAD shim for the tests, acting on "*.part" data
 * files only (SQLite's journal is left alone, so a test sees what segget
 * commits):
 *   SG_SHIM=sync       fdatasync() fails with EIO, as on a disk that lost
 *                      written pages;
 *   SG_SHIM=full:N     pwrite() fails with ENOSPC once N bytes were
 *                      written, as on a disk that filled up.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static int is_part(int fd)
{
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 5)
        return 0;
    path[n] = '\0';
    return strcmp(path + n - 5, ".part") == 0;
}

static const char *mode(void)
{
    const char *m = getenv("SG_SHIM");
    return m ? m : "";
}

int fdatasync(int fd)
{
    if (strcmp(mode(), "sync") == 0 && is_part(fd)) {
        errno = EIO;
        return -1;
    }
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    return real ? real(fd) : fsync(fd);
}

static long long written; /* bytes written to .part files */

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
    ssize_t (*real)(int, const void *, size_t, off_t) =
        (ssize_t(*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT,
                                                           "pwrite");
    if (strncmp(mode(), "full:", 5) == 0 && is_part(fd)) {
        long long cap = atoll(mode() + 5);
        if (written >= cap) {
            errno = ENOSPC;
            return -1;
        }
        if (written + (long long)len > cap)
            len = (size_t)(cap - written); /* a short write, then ENOSPC */
        written += (long long)len;
    }
    return real(fd, buf, len, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off)
{
    return pwrite(fd, buf, len, off);
}
