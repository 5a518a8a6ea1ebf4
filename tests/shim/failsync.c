/* SPDX-License-Identifier: MIT */
/*
 * failsync.so - an LD_PRELOAD shim for the tests: fdatasync() on a
 * "*.part" data file fails with EIO, as on a disk that lost written pages.
 * Other files (SQLite's journal) are synced for real, so the test sees
 * what segget commits after the failure.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int fdatasync(int fd)
{
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n > 5) {
        path[n] = '\0';
        if (strcmp(path + n - 5, ".part") == 0) {
            errno = EIO;
            return -1;
        }
    }
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    return real ? real(fd) : fsync(fd);
}
