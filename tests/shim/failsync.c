/* SPDX-License-Identifier: MIT */
/*
 * failsync.so - an LD_PRELOAD shim for the tests, acting on "*.part" data
 * files only (SQLite's journal is left alone, so a test sees what segget
 * commits):
 *   SG_SHIM=sync       fdatasync() fails with EIO, as on a disk that lost
 *                      written pages;
 *   SG_SHIM=full:N     pwrite() fails with ENOSPC once N bytes were
 *                      written, as on a disk that filled up;
 *   SG_SHIM=order      every range pwritten before an fdatasync is
 *                      appended to SG_SHIM_LOG as "start end" once that
 *                      fdatasync returned, and each data sync is slowed
 *                      by 20 ms, so a test can check that the journal
 *                      never claims a byte before it was synced;
 *   SG_SHIM=reads      every pread() of a .part file appends the number of
 *                      bytes read to SG_SHIM_LOG (checksums read back);
 *   SG_SHIM=slowsync:MS  every fdatasync() of a .part file sleeps MS
 *                      milliseconds first, then syncs (a slow disk: commit
 *                      rounds stay in flight long enough to be cancelled);
 *   SG_SHIM=noxattr    fsetxattr() of a .part file fails with ENOTSUP, as
 *                      on a file system without user attributes;
 *   SG_SHIM=xattrfull  ... with ENOSPC, as for a URL too long for it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/xattr.h>
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

/* Ranges written to .part files so far, merged ("order" mode). */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long long iv[8192][2];
static int niv;

static void note_write(long long a, long long b)
{
    pthread_mutex_lock(&mu);
    int i;
    for (i = 0; i < niv; i++)
        if (a <= iv[i][1] && b >= iv[i][0]) { /* touches: merge */
            if (a < iv[i][0])
                iv[i][0] = a;
            if (b > iv[i][1])
                iv[i][1] = b;
            break;
        }
    if (i == niv && niv < 8192) {
        iv[niv][0] = a;
        iv[niv][1] = b;
        niv++;
    }
    pthread_mutex_unlock(&mu);
}

int fdatasync(int fd)
{
    int part = is_part(fd);
    if (strcmp(mode(), "sync") == 0 && part) {
        errno = EIO;
        return -1;
    }
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    static int failed_once;
    if (strncmp(mode(), "slowfail:", 9) == 0 && part &&
        !__atomic_exchange_n(&failed_once, 1, __ATOMIC_SEQ_CST)) {
        long ms = atol(mode() + 9);
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
        errno = EIO;
        return -1;
    }
    if (strncmp(mode(), "slowsync:", 9) == 0 && part) {
        long ms = atol(mode() + 9);
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
    }
    int order = strcmp(mode(), "order") == 0 && part;
    static long long snap[8192][2];
    int nsnap = 0;
    if (order) {
        pthread_mutex_lock(&mu);
        nsnap = niv;
        memcpy(snap, iv, sizeof(iv[0]) * (size_t)niv);
        pthread_mutex_unlock(&mu);
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    int rc = real ? real(fd) : fsync(fd);
    const char *log = getenv("SG_SHIM_LOG");
    if (order && rc == 0 && log) {
        FILE *f = fopen(log, "a");
        if (f) {
            for (int i = 0; i < nsnap; i++)
                fprintf(f, "%lld %lld\n", snap[i][0], snap[i][1]);
            fclose(f);
        }
    }
    return rc;
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
    ssize_t n = real(fd, buf, len, off);
    if (n > 0 && strcmp(mode(), "order") == 0 && is_part(fd))
        note_write((long long)off, (long long)off + n);
    return n;
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off)
{
    return pwrite(fd, buf, len, off);
}

ssize_t pread(int fd, void *buf, size_t len, off_t off)
{
    ssize_t (*real)(int, void *, size_t, off_t) =
        (ssize_t(*)(int, void *, size_t, off_t))dlsym(RTLD_NEXT, "pread");
    ssize_t n = real(fd, buf, len, off);
    const char *log = getenv("SG_SHIM_LOG");
    if (n > 0 && log && strcmp(mode(), "reads") == 0 && is_part(fd)) {
        FILE *f = fopen(log, "a");
        if (f) {
            fprintf(f, "%lld\n", (long long)n);
            fclose(f);
        }
    }
    return n;
}

ssize_t pread64(int fd, void *buf, size_t len, off_t off)
{
    return pread(fd, buf, len, off);
}

static int ends_with(const char *s, const char *sfx)
{
    size_t n = strlen(s), k = strlen(sfx);
    return n >= k && strcmp(s + n - k, sfx) == 0;
}

int rename(const char *from, const char *to)
{
    int (*real)(const char *, const char *) =
        (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
    if (strcmp(mode(), "renamefail") == 0 && ends_with(from, ".part")) {
        errno = EBUSY;
        return -1;
    }
    return real(from, to);
}

int unlink(const char *path)
{
    int (*real)(const char *) =
        (int (*)(const char *))dlsym(RTLD_NEXT, "unlink");
    if (strcmp(mode(), "unlinkfail") == 0 && ends_with(path, ".segget")) {
        errno = EIO;
        return -1;
    }
    return real(path);
}

int fsetxattr(int fd, const char *name, const void *value, size_t size,
              int flags)
{
    int (*real)(int, const char *, const void *, size_t, int) =
        (int (*)(int, const char *, const void *, size_t, int))dlsym(
            RTLD_NEXT, "fsetxattr");
    int no = strcmp(mode(), "noxattr") == 0, full =
        strcmp(mode(), "xattrfull") == 0;
    if ((no || full) && is_part(fd)) {
        errno = no ? ENOTSUP : ENOSPC;
        return -1;
    }
    return real(fd, name, value, size, flags);
}
