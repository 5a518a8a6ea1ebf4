/* SPDX-License-Identifier: MIT */
/*
 * origin.h - what a finished file says about where it came from, so that
 * running the same command again can tell it is complete.
 *
 * Extended attributes, set on NAME.part before it gets its name:
 *
 *   user.xdg.origin.url          the URL without credentials (the name
 *                                curl and wget2 --xattr use)
 *   user.segget.size             the file's size, in decimal
 *   user.segget.etag             the strong ETag it was verified with
 *   user.segget.last_modified    its Last-Modified, as the server sent it
 *   user.segget.range            the --range spec it holds part of
 *   user.segget.mtime            the file's modification time when
 *                                recorded ("SEC.NSEC"): a file written
 *                                to since (cp onto it keeps the
 *                                attributes) has no record
 *
 * The last three are absent when there was none.  A record is the whole
 * set or nothing: origin_set removes what it set when a later attribute
 * fails, and origin_get wants at least the URL and the size.  A file
 * system without user attributes (ENOTSUP) simply keeps no record.
 *
 * Threads: any (the disk threads call these: setting an attribute may
 * wait for the file system's journal).
 */
#ifndef SG_ORIGIN_H
#define SG_ORIGIN_H

#include <stdint.h>

typedef struct origin {
    char *url;           /* heap, or NULL */
    char *range;         /* heap, or NULL */
    char *etag;          /* heap, or NULL: strong only */
    char *last_modified; /* heap, or NULL */
    int64_t size;        /* -1 when unknown */
} origin;

/* Record the origin of the open regular file fd: url (without
 * credentials), the --range spec or NULL, size, and the validators (an
 * ETag is kept only when strong; either may be NULL).  Any attributes of
 * an earlier record are replaced.  Returns 0, or the errno of the
 * failure, after which fd carries no record (ENOTSUP or EOPNOTSUPP: the
 * file system keeps no user attributes; E2BIG or ENOSPC: a URL too long
 * for it).  Never fails a download: callers at most mention it. */
int origin_set(int fd, const char *url, const char *range, int64_t size,
               const char *etag, const char *last_modified);

/* Read the record of the file at path (not through a symlink) into *o,
 * which the caller frees with origin_cleanup whatever the result.
 * Returns 1 when there is one (a URL and a size), else 0: no attributes,
 * an incomplete or malformed record, no support, or out of memory. */
int origin_get(const char *path, origin *o);

void origin_cleanup(origin *o);

#endif
