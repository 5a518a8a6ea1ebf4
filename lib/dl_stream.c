/* SPDX-License-Identifier: MIT */
/*
 * dl_stream.c - a download's bytes in order (stream.h): to a pipe
 * (o.output_fd), and hashed against the checksum the data must match,
 * while the transfer runs.
 *
 * Over ranges, the scheduler's window (sched_window) keeps every request
 * within a window ahead of what the stream took, a chunk each, lowest
 * offsets first, so the stream's position moves on steadily: for a pipe
 * the window is the memory (o.buffer); for a file the window bounds
 * what is left to hash when the last byte arrives (FILE_WINDOW, at the
 * page cache's pace).  A byte is taken only once the request that wrote
 * it has ended without taking it back (sched_ready).  With one stream
 * (no ranges) the bytes are taken as they arrive.
 *
 * Loop thread only.  The stream's task has a lane of its own, so hashing
 * and checkpoints run side by side; a download does not end while the
 * task is under way (dl_tick waits), so nothing it reads is freed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dl.h"
#include "dl_xfer.h"
#include "plan.h"
#include "util.h"

#define FILE_WINDOW (256LL << 20)
#define CHUNK_MIN (256LL << 10)
#define CHUNK_MAX (16LL << 20)
#define DRAIN_REPORT_MS 200

void dl_choose_sum(sg_download *dl, const digest_set *ds)
{
    if (dl->sum_source[0] && dl->sum_source[0] == '-')
        return; /* the user's (--checksum, --checksum-file) */
    dl->has_sum = 0;
    dl->sum_source[0] = '\0';
    /* What a server declares covers the whole object, never a --range
     * of it. */
    if (dl->o.no_verify || dl->has_range)
        return;
    const digest_decl *d = digest_best(ds);
    if (d) {
        dl->sum = d->sum;
        dl->has_sum = 1;
        (void)snprintf(dl->sum_source, sizeof dl->sum_source, "%s",
                       d->source);
    }
    char skipped[512];
    digest_unchecked(ds, skipped, sizeof skipped);
    if (skipped[0] && !dl->said_unchecked) {
        dl->said_unchecked = 1;
        dl_notice(dl, "%s: %s", d ? "also declared, not checkable"
                                  : "the server's checksum is not checkable",
                  skipped);
    }
}

sg_code dl_pipe_prepare(sg_download *dl)
{
    int64_t size = dl->pr.res.size;
    free(dl->segs);
    dl->n = 0;
    if (!(dl->segs = calloc(PLAN_MAX_SEGMENTS, sizeof *dl->segs)))
        return err_set(&dl->err, SG_ENOMEM, "out of memory");
    /* One segment: the window cuts it as the stream moves. */
    if (size != 0) {
        dl->segs[0] = (sg_segment){.end = size < 0 ? INT64_MAX : size};
        dl->n = 1;
    }
    dl->meta.size = size;
    return SG_OK;
}

int dl_stream_can_restart(const sg_download *dl)
{
    /* Bytes that went to a pipe (or are going: a task under way) cannot
     * be taken back. */
    return !dl->pipe || !dl->stream ||
           (stream_pos(dl->stream) == 0 && !stream_busy(dl->stream));
}

sg_code dl_stream_begin(sg_download *dl)
{
    dl_choose_sum(dl, &dl->pr.res.digests);
    dl->streaming = dl->pipe || dl->has_sum;
    if (!dl->streaming)
        return SG_OK; /* an earlier transfer's stream, if any, is idle */
    const checksum *sum = dl->has_sum ? &dl->sum : NULL;
    sg_code rc = SG_OK;
    if (dl->stream)
        stream_restart(dl->stream, dl->fd, sum);
    else
        rc = stream_new(&dl->stream, dl->pipe ? dl->o.output_fd : -1,
                        dl->o.buffer, dl->fd, sum, &dl->cancel, &dl->err);
    if (rc || !dl->meta.ranges)
        return rc;
    struct dl_xfer *x = dl->x;
    int64_t win = dl->pipe ? dl->o.buffer : FILE_WINDOW;
    int64_t chunk = win / (2 * x->s.nconns);
    chunk = chunk < CHUNK_MIN ? CHUNK_MIN : chunk > CHUNK_MAX ? CHUNK_MAX
                                                              : chunk;
    if (chunk > win)
        chunk = win;
    sched_window(&x->s, win, chunk);
    sched_consumed(&x->s, 0);
    return SG_OK;
}

sg_code dl_stream_write(sg_download *dl, const char *p, size_t n,
                        int64_t at, sg_err *e)
{
    /* A pipe over ranges takes only sealed bytes (from the ring). */
    if (dl->pipe && dl->meta.ranges) {
        stream_put(dl->stream, p, n, at);
        return SG_OK;
    }
    if (!dl->meta.ranges && at < stream_pos(dl->stream)) {
        /* A retry of one stream starts again at byte 0.  A file is
         * written again from there: so is its hash.  A pipe has those
         * bytes already: only a validator proves these are the same. */
        if (!dl->pipe) {
            stream_restart(dl->stream, dl->fd, dl->has_sum ? &dl->sum
                                                           : NULL);
        } else if (!dl->pr.res.etag && !dl->pr.res.last_modified) {
            return err_set(e, SG_ECHANGED,
                           "the server sends no validator (ETag or "
                           "Last-Modified), so its answer to a retry cannot "
                           "be proven to continue the %lld bytes already "
                           "written to the output",
                           (long long)stream_pos(dl->stream));
        }
    }
    /* One connection: taken at once (a file's are hashed, never read
     * back).  Several: the loop thread is theirs, the disk threads
     * hash. */
    if (!dl->meta.ranges || dl->x->s.nconns == 1)
        return stream_feed(dl->stream, p, n, at, e);
    return SG_OK;
}

void dl_stream_retract(sg_download *dl, int64_t at)
{
    if (!dl->streaming || stream_pos(dl->stream) <= at)
        return;
    if (!dl->pipe) {
        stream_restart(dl->stream, dl->fd, dl->has_sum ? &dl->sum : NULL);
        return;
    }
    /* Only one stream without ranges gets here: its bytes went out as
     * they came. */
    if (!dl->err.code)
        err_set(&dl->err, SG_EPROTO,
                "a response proved malformed after %lld of its bytes were "
                "written to the output",
                (long long)(stream_pos(dl->stream) - at));
    dl->verdict = XV_FAILED;
}

/* Give the stream what is ready. */
static void feed(sg_download *dl, int64_t ready)
{
    disk_task *t = stream_next(dl->stream, ready);
    if (t)
        eng_disk(dl->g, t); /* beside the checkpoints: its own lane */
}

sg_code dl_stream_tick(sg_download *dl)
{
    struct dl_xfer *x = dl->x;
    stream *st = dl->stream;
    sg_code rc = stream_failed(st, &dl->err);
    if (rc)
        return rc;
    feed(dl, sched_ready(&x->s, stream_pos(st)));
    if (dl->meta.ranges)
        sched_consumed(&x->s, stream_pos(st));
    return SG_OK;
}

void dl_stream_stop(sg_download *dl)
{
    stream_cancel(dl->stream);
}

/* The end of the data: the plan's furthest end (the size, or where one
 * stream of unknown length ended). */
static int64_t data_end(const sg_download *dl)
{
    int64_t end = 0;
    for (int i = 0; i < dl->n; i++)
        if (dl->segs[i].end > end)
            end = dl->segs[i].end;
    return end;
}

void dl_drain(sg_download *dl)
{
    if (!dl->streaming) {
        dl->st = ST_VERIFY;
        dl_state(dl, SG_STATE_VERIFYING, dl->meta.size, dl->meta.size);
        dl_disk(dl, ST_VERIFY);
        return;
    }
    dl->st = ST_DRAIN;
}

void dl_sum_mismatch(sg_download *dl)
{
    char *why = strdup(err_msg(&dl->err));
    const char *src = dl->sum_source;
    err_reset(&dl->err);
    if (dl->pipe)
        err_set(&dl->err, SG_ECHECKSUM,
                "%s (%s%s); the output received every byte, and they are "
                "wrong",
                why ? why : "checksum mismatch",
                src[0] == '-' ? "given with " : "declared by the server in ",
                src);
    else
        err_set(&dl->err, SG_ECHECKSUM, "%s (%s%s); %s kept for inspection",
                why ? why : "checksum mismatch",
                src[0] == '-' ? "given with " : "declared by the server in ",
                src, dl->part);
    free(why);
}

void dl_drain_tick(sg_download *dl, int64_t now, int64_t *wake)
{
    (void)wake;
    stream *st = dl->stream;
    int64_t end = data_end(dl);
    if (atomic_load(&dl->cancel))
        stream_cancel(st);
    if (stream_busy(st))
        return; /* its end wakes the loop */
    if (atomic_load(&dl->cancel)) {
        dl_interrupted(dl);
        return;
    }
    sg_code rc = stream_failed(st, &dl->err);
    if (rc) {
        dl_fail(dl, rc);
        return;
    }
    if (stream_pos(st) < end) {
        feed(dl, end);
        if (dl->has_sum && now - dl->drain_report >= DRAIN_REPORT_MS) {
            dl->drain_report = now;
            dl_state(dl, SG_STATE_VERIFYING, end, stream_pos(st));
        }
        return;
    }
    if ((rc = stream_verdict(st, &dl->err))) {
        dl_sum_mismatch(dl);
        dl_fail(dl, rc);
        return;
    }
    dl->sum_checked = dl->has_sum;
    if (dl->pipe) {
        dl->rc = SG_OK;
        dl->st = ST_END;
        dl_state(dl, SG_STATE_DONE, end, end);
        return;
    }
    dl->st = ST_VERIFY;
    dl_state(dl, SG_STATE_VERIFYING, end, end);
    dl_disk(dl, ST_VERIFY);
}
