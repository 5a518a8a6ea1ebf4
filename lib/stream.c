/* SPDX-License-Identifier: MIT */
/*
 * stream.c - the in-order consumer of stream.h.
 *
 * Steps are bounded (a quarter of the ring, or FILE_STEP read back) so
 * the window moves on steadily and a cancel is seen soon.  Measured on
 * this project's 2-core test machine: sha256 of the page cache at about
 * 1.3 GB/s, so a 16 MiB step takes about 13 ms.
 */
#define _GNU_SOURCE /* F_GETPIPE_SZ */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "stream.h"

#define FILE_STEP (16L << 20)
#define READ_BUF (1L << 20)
#define PIPE_PIECE (64L << 10)
#define PIPE_STEP (1L << 20)
#define POLL_MS 200

struct stream {
    disk_task t;           /* first: the task is the stream */
    int out, src;
    int64_t window;
    unsigned char *ring;   /* pipe: window bytes */
    unsigned char *buf;    /* file: READ_BUF bytes */
    checksum sum;
    int has_sum;
    checksum_hash *h;
    int64_t pos;           /* taken */
    int busy;
    int restart;           /* stream_restart while busy: with these */
    int next_src, next_has_sum;
    checksum next_sum;
    atomic_int cancel;
    const atomic_int *stop; /* the owner's cancel, or NULL */
    int pipe_size;         /* the output is a pipe of this size, or 0 */
    /* The task's: [from, to), and how it ended. */
    int64_t from, to, took;
    sg_code rc;
    sg_err err;
    sg_code failed;        /* sticky */
    sg_err ferr;
    int judged;
};

sg_code stream_new(stream **out, int fd, int64_t window, int src,
                   const checksum *sum, const atomic_int *stop, sg_err *e)
{
    stream *st = calloc(1, sizeof *st);
    *out = st;
    if (!st)
        return err_set(e, SG_ENOMEM, "out of memory");
    st->out = fd;
    st->src = st->next_src = -1;
    st->window = window;
    st->stop = stop;
    struct stat sb;
    if (fd >= 0 && fstat(fd, &sb) == 0 && S_ISFIFO(sb.st_mode))
        st->pipe_size = fcntl(fd, F_GETPIPE_SZ);
    if (sum) {
        st->sum = *sum;
        st->has_sum = 1;
    }
    if (fd >= 0 ? !(st->ring = malloc((size_t)window))
                : !(st->buf = malloc(READ_BUF)))
        goto oom;
    /* Its own descriptor: the download may close its own at any time. */
    if (fd < 0 && src >= 0 &&
        (st->src = fcntl(src, F_DUPFD_CLOEXEC, 0)) < 0) {
        stream_free(st);
        *out = NULL;
        return err_set(e, SG_EIO, "cannot duplicate a descriptor: %s",
                       strerror(errno));
    }
    if (st->has_sum && !(st->h = checksum_begin(&st->sum)))
        goto oom;
    return SG_OK;
oom:
    stream_free(st);
    *out = NULL;
    return err_set(e, SG_ENOMEM, "out of memory");
}

void stream_free(stream *st)
{
    if (!st)
        return;
    checksum_drop(st->h);
    if (st->src >= 0)
        close(st->src);
    if (st->next_src >= 0)
        close(st->next_src);
    free(st->ring);
    free(st->buf);
    err_reset(&st->err);
    err_reset(&st->ferr);
    free(st);
}

void stream_put(stream *st, const void *p, size_t n, int64_t at)
{
    const unsigned char *b = p;
    while (n) {
        size_t off = (size_t)(at % st->window);
        size_t k = (size_t)st->window - off < n ? (size_t)st->window - off
                                                : n;
        memcpy(st->ring + off, b, k);
        b += k;
        n -= k;
        at += (int64_t)k;
    }
}

static int cancelled(const stream *st)
{
    return atomic_load(&st->cancel) || (st->stop && atomic_load(st->stop));
}

/* How much a write to the output may take without blocking: a pipe's
 * free room (its size less what its reader has not read yet), else a
 * piece. */
static size_t room(const stream *st, size_t n)
{
    size_t r = PIPE_PIECE;
    int used = 0;
    if (st->pipe_size > 0 && ioctl(st->out, FIONREAD, &used) == 0)
        r = used >= st->pipe_size ? 0 : (size_t)(st->pipe_size - used);
    return r < n ? r : n;
}

/* Write all of p to the output, waiting for room with poll (and writing
 * no more than there is room for) so that a cancel is seen while its
 * reader dawdles. */
static sg_code emit(stream *st, const unsigned char *p, size_t n)
{
    while (n) {
        if (cancelled(st))
            return SG_EINTERRUPTED;
        struct pollfd pf = {.fd = st->out, .events = POLLOUT};
        int r = poll(&pf, 1, POLL_MS);
        if (r < 0 && errno != EINTR)
            return err_set(&st->err, SG_EIO, "cannot wait on the output: "
                                              "%s",
                           strerror(errno));
        /* A reader that went away: the write fails at once (EPIPE),
         * however full the pipe was left. */
        size_t k = r <= 0                                       ? 0
                   : pf.revents & (POLLERR | POLLHUP | POLLNVAL) ? 1
                                                                 : room(st, n);
        if (k == 0)
            continue;
        ssize_t w = write(st->out, p, k);
        if (w < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (w < 0 && errno == EPIPE)
            return err_set(&st->err, SG_EPIPE,
                           "the output's reader went away after %lld bytes "
                           "were written to it",
                           (long long)(st->from + st->took));
        if (w < 0)
            return err_set(&st->err, SG_EIO, "cannot write the output: %s",
                           strerror(errno));
        if (st->h)
            checksum_update(st->h, p, (size_t)w);
        p += w;
        n -= (size_t)w;
        st->took += w;
    }
    return SG_OK;
}

static sg_code take_ring(stream *st)
{
    int64_t at = st->from;
    while (at < st->to) {
        size_t off = (size_t)(at % st->window);
        int64_t k = st->window - (int64_t)off;
        if (k > st->to - at)
            k = st->to - at;
        sg_code rc = emit(st, st->ring + off, (size_t)k);
        if (rc)
            return rc;
        at += k;
    }
    return SG_OK;
}

static sg_code take_file(stream *st)
{
    for (int64_t at = st->from; at < st->to;) {
        if (cancelled(st))
            return SG_EINTERRUPTED;
        size_t want = st->to - at > READ_BUF ? (size_t)READ_BUF
                                             : (size_t)(st->to - at);
        ssize_t n = pread(st->src, st->buf, want, (off_t)at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return err_set(&st->err, SG_EIO,
                           "cannot read the data back to hash it: %s",
                           n < 0 ? strerror(errno) : "unexpected end");
        if (st->h)
            checksum_update(st->h, st->buf, (size_t)n);
        at += n;
        st->took = at - st->from;
    }
    return SG_OK;
}

static void run(disk_task *t)
{
    stream *st = (stream *)(void *)t;
    st->took = 0;
    st->rc = st->out >= 0 ? take_ring(st) : take_file(st);
}

sg_code stream_feed(stream *st, const void *p, size_t n, int64_t at,
                    sg_err *e)
{
    const unsigned char *b = p;
    if (st->busy || st->failed || at > st->pos || at + (int64_t)n <= st->pos)
        return SG_OK;
    size_t skip = (size_t)(st->pos - at);
    b += skip;
    n -= skip;
    if (st->out < 0) {
        if (st->h)
            checksum_update(st->h, b, n);
        st->pos += (int64_t)n;
        return SG_OK;
    }
    st->from = st->pos;
    st->took = 0;
    /* On the caller's thread: a reader that went away is EPIPE, never a
     * SIGPIPE that ends the process (the one it raises is taken back). */
    sigset_t pipe_sig, old;
    sigemptyset(&pipe_sig);
    sigaddset(&pipe_sig, SIGPIPE);
    int had = 0;
    {
        sigset_t pend;
        had = sigpending(&pend) == 0 && sigismember(&pend, SIGPIPE);
    }
    pthread_sigmask(SIG_BLOCK, &pipe_sig, &old);
    sg_code rc = emit(st, b, n); /* hashes what it wrote */
    if (rc == SG_EPIPE && !had)
        (void)sigtimedwait(&pipe_sig, NULL, &(struct timespec){0, 0});
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    st->pos += st->took;
    if (rc == SG_OK)
        return SG_OK;
    if (rc != SG_EINTERRUPTED) {
        st->failed = rc;
        err_merge(&st->ferr, &st->err);
        err_set(e, rc, "%s", err_msg(&st->ferr));
    } else {
        err_set(e, rc, "interrupted");
    }
    err_reset(&st->err);
    return rc;
}

static void restart_now(stream *st)
{
    st->restart = 0;
    st->pos = 0;
    if (st->src >= 0)
        close(st->src);
    st->src = st->next_src;
    st->next_src = -1;
    st->has_sum = st->next_has_sum;
    st->sum = st->next_sum;
    checksum_drop(st->h);
    st->h = st->has_sum ? checksum_begin(&st->sum) : NULL;
    if (st->has_sum && !st->h && !st->failed) {
        st->failed = SG_ENOMEM;
        err_set(&st->ferr, SG_ENOMEM, "out of memory");
    }
}

static void done(disk_task *t)
{
    stream *st = (stream *)(void *)t;
    st->busy = 0;
    st->pos += st->took;
    if (st->rc && st->rc != SG_EINTERRUPTED && !st->failed) {
        st->failed = st->rc;
        err_merge(&st->ferr, &st->err);
    }
    err_reset(&st->err);
    if (st->restart)
        restart_now(st);
}

disk_task *stream_next(stream *st, int64_t ready)
{
    if (st->busy || st->failed || ready <= st->pos ||
        atomic_load(&st->cancel))
        return NULL;
    int64_t step = st->out >= 0 ? st->window / 4 : FILE_STEP;
    if (st->out >= 0 && step > PIPE_STEP)
        step = PIPE_STEP; /* the position, and the window, move often */
    if (step < 1)
        step = 1;
    st->from = st->pos;
    st->to = ready - st->pos > step ? st->pos + step : ready;
    st->busy = 1;
    st->t.run = run;
    st->t.done = done;
    st->t.lane = st; /* one step at a time, in order */
    return &st->t;
}

int64_t stream_pos(const stream *st)
{
    return st->pos;
}

int stream_busy(const stream *st)
{
    return st->busy;
}

sg_code stream_failed(const stream *st, sg_err *e)
{
    if (st->failed && e)
        err_set(e, st->failed, "%s", err_msg(&st->ferr));
    return st->failed;
}

sg_code stream_verdict(stream *st, sg_err *e)
{
    if (!st->h || st->judged)
        return SG_OK;
    st->judged = 1;
    checksum_hash *h = st->h;
    st->h = NULL;
    return checksum_end(h, &st->sum, e); /* frees h */
}

void stream_restart(stream *st, int src, const checksum *sum)
{
    st->judged = 0;
    if (st->next_src >= 0)
        close(st->next_src);
    st->next_src = st->out < 0 && src >= 0
                       ? fcntl(src, F_DUPFD_CLOEXEC, 0)
                       : -1;
    if (st->out < 0 && src >= 0 && st->next_src < 0 && !st->failed) {
        st->failed = SG_EIO;
        err_set(&st->ferr, SG_EIO, "cannot duplicate a descriptor: %s",
                strerror(errno));
    }
    st->next_has_sum = sum != NULL;
    if (sum)
        st->next_sum = *sum;
    if (st->busy)
        st->restart = 1;
    else
        restart_now(st);
}

void stream_cancel(stream *st)
{
    if (st)
        atomic_store(&st->cancel, 1);
}
