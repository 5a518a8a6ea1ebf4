/* SPDX-License-Identifier: MIT */
/*
 * origin.c - a finished file's origin as extended attributes (origin.h).
 *
 * Values are stored without a terminating NUL, as curl --xattr does.  The
 * URL goes last and is checked first: a record interrupted half-way (a
 * crash between two fsetxattr calls) has no URL and is no record.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "hdr.h"
#include "origin.h"

#define A_URL "user.xdg.origin.url"
#define A_SIZE "user.segget.size"
#define A_ETAG "user.segget.etag"
#define A_LM "user.segget.last_modified"
#define A_RANGE "user.segget.range"
#define A_MTIME "user.segget.mtime"

/* The URL first: without it, what remains is no record. */
static const char *const names[] = {A_URL, A_SIZE, A_ETAG, A_LM, A_RANGE,
                                    A_MTIME};

/* "SEC.NSEC" of a modification time. */
static void stamp(char *buf, size_t cap, const struct stat *st)
{
    (void)snprintf(buf, cap, "%lld.%09ld", (long long)st->st_mtim.tv_sec,
                   (long)st->st_mtim.tv_nsec);
}

/* Remove the record's attributes from fd.  A new NAME.part has none:
 * one listing, not six removals, for each of a batch's small files. */
static void clear(int fd)
{
    char list[1024];
    ssize_t n = flistxattr(fd, list, sizeof list);
    if (n == 0 || (n < 0 && (errno == ENOTSUP || errno == EOPNOTSUPP)))
        return;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        int listed = n < 0; /* a longer list: remove them all */
        for (ssize_t at = 0; !listed && at < n;
             at += (ssize_t)strlen(list + at) + 1)
            listed = strcmp(list + at, names[i]) == 0;
        if (listed)
            (void)fremovexattr(fd, names[i]);
    }
}

int origin_set(int fd, const char *url, const char *range, int64_t size,
               const char *etag, const char *last_modified)
{
    const char *t;
    size_t tl;
    char num[32];
    /* Only a strong ETag proves a byte-exact copy (the rule the probe and
     * the judge apply, hdr_parse_etag). */
    if (etag && hdr_parse_etag(etag, strlen(etag), &t, &tl) != 1)
        etag = NULL;
    (void)snprintf(num, sizeof num, "%" PRId64, size);
    /* The file as verified: written to since (cp onto it keeps its
     * attributes), it is no longer what the record describes. */
    struct stat st;
    char mtime[48];
    if (fstat(fd, &st) < 0)
        return errno;
    stamp(mtime, sizeof mtime, &st);
    const char *vals[] = {url, num, etag, last_modified, range, mtime};
    if (!url || size < 0)
        return EINVAL;
    /* An earlier record (a resumed NAME.part may carry one) goes first,
     * URL before the rest. */
    clear(fd);
    for (size_t i = sizeof names / sizeof *names; i-- > 0;) {
        if (!vals[i])
            continue;
        if (fsetxattr(fd, names[i], vals[i], strlen(vals[i]), 0) < 0) {
            int err = errno;
            clear(fd);
            return err;
        }
    }
    return 0;
}

/* The value of attribute name of path, heap and NUL-terminated, or NULL:
 * absent (*bad untouched), or unreadable, holding a NUL or out of memory
 * (*bad set). */
static char *get(const char *path, const char *name, int *bad)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        ssize_t n = lgetxattr(path, name, NULL, 0);
        if (n < 0 && (errno == ENODATA || errno == ENOTSUP))
            return NULL;
        if (n < 0 || n > 1 << 20)
            break;
        char *v = malloc((size_t)n + 1);
        if (!v)
            break;
        ssize_t m = lgetxattr(path, name, v, (size_t)n);
        if (m >= 0 && memchr(v, '\0', (size_t)m) == NULL) {
            v[m] = '\0';
            return v;
        }
        free(v);
        if (m >= 0 || errno != ERANGE)
            break;
        /* It grew between the two calls: ask again. */
    }
    *bad = 1;
    return NULL;
}

int origin_get(const char *path, origin *o)
{
    memset(o, 0, sizeof *o);
    o->size = -1;
    int bad = 0;
    int64_t n;
    char *size = NULL;
    o->url = get(path, A_URL, &bad);
    size = o->url ? get(path, A_SIZE, &bad) : NULL;
    int ok = size && hdr_parse_int(size, strlen(size), &n) == 0;
    free(size);
    if (ok) {
        /* Modified since it was recorded: no record. */
        struct stat st;
        char now[48], *then = get(path, A_MTIME, &bad);
        ok = then && lstat(path, &st) == 0;
        if (ok) {
            stamp(now, sizeof now, &st);
            ok = strcmp(then, now) == 0;
        }
        free(then);
    }
    if (ok) {
        o->size = n;
        o->etag = get(path, A_ETAG, &bad);
        o->last_modified = get(path, A_LM, &bad);
        o->range = get(path, A_RANGE, &bad);
    }
    if (!ok || bad) {
        origin_cleanup(o);
        return 0;
    }
    return 1;
}

void origin_cleanup(origin *o)
{
    free(o->url);
    free(o->range);
    free(o->etag);
    free(o->last_modified);
    memset(o, 0, sizeof *o);
    o->size = -1;
}
