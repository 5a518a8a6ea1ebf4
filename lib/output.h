/* SPDX-License-Identifier: MIT */
/*
 * output.h - the data file: NAME.part while downloading, NAME when done.
 *
 * The .part file is created exclusively and never through a symlink,
 * preallocated to the final size so a full disk fails at the start rather
 * than in the middle, written only with pwrite at known offsets, and made
 * durable with fdatasync before the journal may claim its bytes.  The final
 * name appears through rename(2) followed by an fsync of the directory, so
 * after any crash NAME is either absent or complete.
 *
 * All calls are thread-safe in the sense of the underlying system calls:
 * pwrite and fdatasync on one descriptor may run on different threads.
 */
#ifndef SG_OUTPUT_H
#define SG_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Create path exclusively (O_EXCL|O_NOFOLLOW), mode 0644 less umask.  An
 * existing file is SG_EUNSAFE.  On success *fd is open read-write. */
sg_code output_create(const char *path, int *fd, sg_err *e);

/* Open an existing regular file read-write without following a symlink.
 * *size receives its length.  A missing file is SG_EIO with errno ENOENT
 * reported in *missing (1) so callers can start over. */
sg_code output_reopen(const char *path, int *fd, int64_t *size, int *missing,
                      sg_err *e);

/* Reserve size bytes (posix_fallocate; ftruncate where the file system
 * cannot).  Not enough space: SG_EIO naming the size. */
sg_code output_preallocate(int fd, int64_t size, sg_err *e);

/* Write all of buf at off, retrying short writes and EINTR. */
sg_code output_write(int fd, const void *buf, size_t len, int64_t off,
                     sg_err *e);

/* fdatasync.  A failure is fatal for the run: the kernel may have dropped
 * the dirty pages, so no retry can prove the data reached the disk. */
sg_code output_sync(int fd, sg_err *e);

/* fsync the directory that holds path, making a create or rename in it
 * durable. */
sg_code output_sync_dir(const char *path, sg_err *e);

/* rename(from, to) alone; the caller syncs the directory later. */
sg_code output_rename(const char *from, const char *to, sg_err *e);

/* Rename from to to, then fsync their directory. */
sg_code output_publish(const char *from, const char *to, sg_err *e);

/* The -P directory before anything is made: every component of dir that
 * exists must be a directory (a symlink to one will do), else SG_EUSAGE
 * naming it.  *missing is set when a component does not exist yet
 * (output_mkdirs makes it later); other stat errors are left for that
 * call to report.  No file system change.  Any thread. */
sg_code output_check_dirs(const char *dir, int *missing, sg_err *e);

/* mkdir -p: make dir and its missing parents, mode 0777 less the umask,
 * fsyncing the parent of each directory made so that the new entry is
 * as durable as the files that go into it.  *made (when not NULL)
 * receives the outermost directory this call made (heap, the caller's),
 * or NULL when it made none.  A component that exists and is not a
 * directory is SG_EUSAGE; a mkdir or sync that fails, SG_EIO.  Any
 * thread (the disk threads call it). */
sg_code output_mkdirs(const char *dir, char **made, sg_err *e);

/* Undo output_mkdirs after a failure: remove dir, then its parents up to
 * and including made, each only while it is empty.  Never fails. */
void output_rmdirs(const char *dir, const char *made);

/* 1 if path exists as a symlink, 0 if not, -1 on other errors. */
int output_is_symlink(const char *path);

#endif
