/* SPDX-License-Identifier: MIT */
/*
 * output.c - creating, filling and publishing the data file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output.h"

sg_code output_create(const char *path, int *fd, sg_err *e)
{
    *fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (*fd >= 0)
        return SG_OK;
    if (errno == EEXIST)
        return err_set(e, SG_EUNSAFE,
                       "%s exists but no journal describes it; remove it or "
                       "force the download",
                       path);
    return err_set(e, SG_EIO, "cannot create %s: %s", path, strerror(errno));
}

sg_code output_reopen(const char *path, int *fd, int64_t *size, int *missing,
                      sg_err *e)
{
    struct stat st;
    *missing = 0;
    *fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (*fd < 0) {
        if (errno == ENOENT) {
            *missing = 1;
            return SG_EIO;
        }
        if (errno == ELOOP)
            return err_set(e, SG_EUNSAFE, "%s is a symlink; refusing", path);
        return err_set(e, SG_EIO, "cannot open %s: %s", path,
                       strerror(errno));
    }
    if (fstat(*fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(*fd);
        *fd = -1;
        return err_set(e, SG_EUNSAFE, "%s is not a regular file", path);
    }
    *size = st.st_size;
    return SG_OK;
}

sg_code output_preallocate(int fd, int64_t size, sg_err *e)
{
    if (size <= 0)
        return SG_OK;
    int rc = posix_fallocate(fd, 0, (off_t)size);
    if (rc == 0)
        return SG_OK;
    if (rc == ENOSPC || rc == EFBIG)
        return err_set(e, SG_EIO, "not enough space for %lld bytes: %s",
                       (long long)size, strerror(rc));
    /* The file system cannot reserve (EOPNOTSUPP, EINVAL): at least give
     * the file its size, so offsets past the end are ordinary writes. */
    if (ftruncate(fd, (off_t)size) < 0)
        return err_set(e, SG_EIO, "cannot size the output: %s",
                       strerror(errno));
    return SG_OK;
}

sg_code output_write(int fd, const void *buf, size_t len, int64_t off,
                     sg_err *e)
{
    const char *p = buf;
    while (len) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return err_set(e, SG_EIO, "write failed at offset %lld: %s",
                           (long long)off, strerror(errno));
        }
        p += n;
        len -= (size_t)n;
        off += n;
    }
    return SG_OK;
}

sg_code output_sync(int fd, sg_err *e)
{
    if (fdatasync(fd) == 0)
        return SG_OK;
    return err_set(e, SG_EIO, "fdatasync failed: %s; the data on disk "
                              "cannot be trusted",
                   strerror(errno));
}

sg_code output_sync_dir(const char *path, sg_err *e)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
    if (!dir)
        return err_set(e, SG_ENOMEM, "out of memory");
    if (dir[0] == '\0') { /* "/name" */
        free(dir);
        dir = strdup("/");
        if (!dir)
            return err_set(e, SG_ENOMEM, "out of memory");
    }
    sg_code rc = SG_OK;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0)
        rc = err_set(e, SG_EIO, "cannot sync directory %s: %s", dir,
                     strerror(errno));
    if (fd >= 0)
        close(fd);
    free(dir);
    return rc;
}

sg_code output_rename(const char *from, const char *to, sg_err *e)
{
    if (rename(from, to) < 0)
        return err_set(e, SG_EIO, "cannot rename %s to %s: %s", from, to,
                       strerror(errno));
    return SG_OK;
}

sg_code output_publish(const char *from, const char *to, sg_err *e)
{
    sg_code rc = output_rename(from, to, e);
    return rc ? rc : output_sync_dir(to, e);
}

int output_is_symlink(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : -1;
    return S_ISLNK(st.st_mode) ? 1 : 0;
}

/* Walk the components of dir: call step(prefix, ctx) for each ("a",
 * "a/b", ...), stopping at the first result that is not SG_OK, or at 1
 * from step. */
static sg_code each_prefix(const char *dir,
                           int (*step)(const char *p, void *ctx, sg_err *e),
                           void *ctx, sg_err *e)
{
    if (!dir[0])
        return SG_OK;
    char *p = strdup(dir);
    if (!p)
        return err_set(e, SG_ENOMEM, "out of memory");
    int r = 0;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        if (s[-1] == '/') { /* "a//b", or a trailing slash */
            if (!*s)
                break;
            continue;
        }
        char c = *s;
        *s = '\0';
        r = step(p, ctx, e);
        *s = c;
        if (!c || r)
            break;
    }
    free(p);
    return r < 0 ? e->code : SG_OK;
}

/* Steps return 0 to go on, 1 to stop, -1 with an error in e. */
static int not_a_dir(const char *p, sg_err *e)
{
    err_set(e, SG_EUSAGE, "'%s' exists and is not a directory", p);
    return -1;
}

static int check_step(const char *p, void *ctx, sg_err *e)
{
    struct stat st;
    if (stat(p, &st) < 0) {
        *(int *)ctx = errno == ENOENT;
        return 1; /* the rest is for output_mkdirs */
    }
    return S_ISDIR(st.st_mode) ? 0 : not_a_dir(p, e);
}

sg_code output_check_dirs(const char *dir, int *missing, sg_err *e)
{
    *missing = 0;
    return each_prefix(dir, check_step, missing, e);
}

static int mkdir_step(const char *p, void *ctx, sg_err *e)
{
    char **made = ctx;
    struct stat st;
    if (mkdir(p, 0777) == 0) {
        if (!*made && !(*made = strdup(p))) {
            err_set(e, SG_ENOMEM, "out of memory");
            return -1;
        }
        /* Its parent holds the new entry. */
        return output_sync_dir(p, e) ? -1 : 0;
    }
    if (errno != EEXIST || stat(p, &st) < 0) {
        err_set(e, SG_EIO, "cannot create directory %s: %s", p,
                strerror(errno));
        return -1;
    }
    return S_ISDIR(st.st_mode) ? 0 : not_a_dir(p, e);
}

sg_code output_mkdirs(const char *dir, char **made, sg_err *e)
{
    char *first = NULL;
    sg_code rc = each_prefix(dir, mkdir_step, &first, e);
    if (made)
        *made = first;
    else
        free(first);
    return rc;
}

void output_rmdirs(const char *dir, const char *made)
{
    char *p = strdup(dir);
    size_t stop = strlen(made);
    if (!p)
        return;
    for (size_t n = strlen(p); n >= stop && n > 0;) {
        while (n > 1 && p[n - 1] == '/') /* "a/b/" */
            p[--n] = '\0';
        if ((rmdir(p) < 0 && errno != ENOENT) || n == stop)
            break;
        char *slash = strrchr(p, '/');
        if (!slash)
            break;
        *slash = '\0';
        n = (size_t)(slash - p);
    }
    free(p);
}
