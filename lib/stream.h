/* SPDX-License-Identifier: MIT */
/*
 * stream.h - the bytes of a download taken front to back as they become
 * final: written to a pipe (segget -o -) and hashed, or read back from
 * the data file and hashed, so that a checksum needs no pass over the
 * whole file at the end.
 *
 * A pipe stream holds a ring of window bytes: the transfer copies each
 * byte in (stream_put) at its offset, which the scheduler's window keeps
 * within [pos, pos + window); a disk task writes what is ready to the
 * pipe and frees its room.  A file stream reads what is ready with pread
 * (from the page cache: it was just written).  Either way the work is a
 * disk task (disk.h) of at most a step, one at a time: the loop thread
 * never waits for a slow reader of the pipe, and a cancel is seen
 * between steps and while the pipe is full (a write never takes more
 * than the pipe has room for).  With one stream, bytes go out on the
 * caller's thread, SIGPIPE blocked there for the write.
 *
 * Threads: everything from the loop thread, except the task's run(),
 * which alone touches the hash, the ring's ready part and the
 * descriptors while it runs (stream_busy); stream_cancel from any
 * thread.
 */
#ifndef SG_STREAM_H
#define SG_STREAM_H

#include <stdatomic.h>
#include <stdint.h>

#include "checksum.h"
#include "disk.h"
#include "err.h"

typedef struct stream stream;

/* A stream to the descriptor out through a ring of window bytes (out >=
 * 0), or from the data file src (out < 0; the stream reads its own
 * duplicate of it); sum (copied; NULL: none) is the digest the bytes
 * must have; stop (borrowed, may be NULL) is the owner's cancel flag,
 * seen as stream_cancel is.  SG_ENOMEM or SG_EIO in e. */
sg_code stream_new(stream **st, int out, int64_t window, int src,
                   const checksum *sum, const atomic_int *stop, sg_err *e);

/* Free st.  Its task must not be running (the engine's disk pool was
 * drained, or stream_busy is 0).  NULL is a no-op. */
void stream_free(stream *st);

/* Pipe: bytes [at, at + n) of the download, all within [stream_pos,
 * stream_pos + window) and outside what the task under way takes (the
 * scheduler's window keeps them there).  Loop thread. */
void stream_put(stream *st, const void *p, size_t n, int64_t at);

/* Bytes below ready are final: a task that takes the next of them
 * (submit it with eng_disk; its done() moves the position), or NULL when
 * one is under way, nothing is new, or the stream failed. */
disk_task *stream_next(stream *st, int64_t ready);

/* What was taken so far (moves when a task is done). */
int64_t stream_pos(const stream *st);

/* 1 while a task of st is submitted and its done() has not run: st must
 * not be freed, and what it reads must stay. */
int stream_busy(const stream *st);

/* SG_OK, or why the stream stopped (the message in e, copied):
 * SG_EPIPE when the pipe's reader went away, SG_EIO when a read or
 * write failed. */
sg_code stream_failed(const stream *st, sg_err *e);

/* Every byte was taken: compare the digest (SG_OK without one).
 * SG_ECHECKSUM naming both digests.  Once. */
sg_code stream_verdict(stream *st, sg_err *e);

/* One stream from byte 0 (no ranges): bytes [at, at + n) as they
 * arrive, taken at once when they continue exactly where the stream is
 * and no task runs -- written to the pipe (blocking this thread, as the
 * pipe's reader reads) or hashed; bytes below the position are skipped
 * (a retry starts again at 0).  Others are left for stream_next.  A
 * pipe that fails: its code, with the message in e. */
sg_code stream_feed(stream *st, const void *p, size_t n, int64_t at,
                    sg_err *e);

/* The data is rewritten from byte 0 (a file stream starts over, maybe
 * in a new file src, maybe against another digest sum): the position
 * goes back to 0 and the hash restarts, once the task under way (if
 * any) has ended. */
void stream_restart(stream *st, int src, const checksum *sum);

/* Stop between steps: the task under way ends early (its bytes count as
 * not taken).  Any thread. */
void stream_cancel(stream *st);

#endif
