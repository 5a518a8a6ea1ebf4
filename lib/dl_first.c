/* SPDX-License-Identifier: MIT */
/*
 * dl_first.c - a batch's first GET of a file: "Range: bytes=0-(L-1)".
 *
 * A file under L bytes arrives whole in this one request, with no probe
 * and no journal of its own: it is verified (size by the judge, checksum
 * as it arrived) and handed to the batch, which syncs it, commits it in
 * its queue journal and only then gives it its name.  A larger file keeps
 * the first L bytes (a 206 for them) in NAME.part and goes on as a
 * download of its own, which adopts them when its probe finds the same
 * size and validator; a server that ignores the range and sends more than
 * L is cut off, and the file starts over as a download.  A first GET
 * that proves the file larger (206 with a larger total) and would need
 * more than FIRST_REST_MS for its rest ends after FIRST_BIG_MS: its bytes
 * are kept, and the file gets its connections and its checkpoints
 * (nothing of a GET is durable before it ends, so a kill during a slow
 * one lost all of it).  A revalidation
 * (-N) asks without a Range, with If-None-Match / If-Modified-Since: a
 * 304 leaves the file as it is.  Failures are retried by the same health
 * rules as every request (sched_strike).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dl.h"
#include "output.h"
#include "util.h"

#define FIRST_BIG_MS 100   /* a large file's first GET is judged then, */
#define FIRST_REST_MS 1000 /* and stopped if its rest needs longer */

struct dl_first {
    eng_req q;
    int running, ended;
    int big;          /* the body is too large for one GET */
    int answered;     /* a request of it reached the server */
    int64_t big_at;   /* the file proved larger than L then (ms), 0 */
    sched_src health;
    int64_t next_at;
    checksum_hash *hash;
};

static sg_code accept_body(eng_req *q, sg_err *e)
{
    sg_download *dl = q->owner;
    struct dl_first *f = dl->first;
    if (!q->v.partial && q->v.len >= dl->first_limit) {
        f->big = 1; /* the whole of a large file: not in one GET */
        return err_set(e, SG_EPROTO, "too large for one request");
    }
    if (q->v.partial && q->v.total > q->v.len)
        f->big_at = now_ms();
    if (dl->fd >= 0) {
        /* A retry: the same file, from its start. */
        if (ftruncate(dl->fd, 0) < 0)
            return err_set(e, SG_EIO, "cannot truncate %s: %s", dl->part,
                           strerror(errno));
    } else {
        /* The name is claimed in the queue journal: a .part there is
         * ours. */
        if (unlink(dl->part) < 0 && errno != ENOENT)
            return err_set(e, SG_EIO, "cannot remove %s: %s", dl->part,
                           strerror(errno));
        sg_code rc = output_create(dl->part, &dl->fd, e);
        if (rc)
            return rc;
        dl->made_part = 1;
    }
    checksum_drop(f->hash);
    f->hash = NULL;
    /* No probe: this response says what checksum the server declares. */
    dl_choose_sum(dl, &q->r.digests);
    if (dl->has_sum && !(f->hash = checksum_begin(&dl->sum)))
        return err_set(e, SG_ENOMEM, "out of memory");
    return SG_OK;
}

static sg_code write_body(eng_req *q, const char *p, size_t n, int64_t off,
                          sg_err *e)
{
    sg_download *dl = q->owner;
    struct dl_first *f = dl->first;
    sg_code rc = output_write(dl->fd, p, n, off, e);
    if (rc)
        return rc;
    if (f->hash)
        checksum_update(f->hash, p, n);
    dl->received += (int64_t)n;
    return SG_OK;
}

static void on_done(eng_req *q)
{
    sg_download *dl = q->owner;
    dl->first->running = 0;
    dl->first->ended = 1;
}

static const eng_ops ops = {accept_body, write_body, on_done};

sg_code dl_first_begin(sg_download *dl)
{
    if (!(dl->first = calloc(1, sizeof *dl->first)))
        return err_set(&dl->err, SG_ENOMEM, "out of memory");
    dl->st = ST_FIRST;
    return SG_OK;
}

void dl_first_end(sg_download *dl)
{
    struct dl_first *f = dl->first;
    if (!f)
        return;
    if (dl->g)
        eng_stop(dl->g, &f->q);
    eng_req_cleanup(&f->q);
    checksum_drop(f->hash);
    free(f);
    dl->first = NULL;
}

static void fail(sg_download *dl, sg_code rc, const char *msg)
{
    err_set(&dl->err, rc, "%s", msg && msg[0] ? msg : sg_strerror(rc));
    dl_fail(dl, rc);
}

/* Too large for one GET: keep what came when it is the start of the
 * file (a 206 for it), and ask the batch for connections. */
static void go_big(sg_download *dl)
{
    struct dl_first *f = dl->first;
    const eng_req *q = &f->q;
    if (dl->fd >= 0) {
        close(dl->fd);
        dl->fd = -1;
    }
    if (!f->big && q->v.partial && q->got > 0) {
        const char *etag = q->r.etag_strong ? q->r.etag : NULL;
        dl->adopt.len = q->got;
        dl->adopt.size = q->v.total;
        if ((etag && !(dl->adopt.etag = strdup(etag))) ||
            (q->r.last_modified &&
             !(dl->adopt.last_modified = strdup(q->r.last_modified)))) {
            fail(dl, SG_ENOMEM, "out of memory");
            return;
        }
    } else if (dl->made_part) {
        (void)unlink(dl->part);
        dl->made_part = 0;
    }
    dl->part_ours = 1; /* the queue owns the name */
    dl_first_end(dl);
    dl->first_limit = 0;
    dl->st = ST_GRANT;
}

/* The whole file is here: hand it to the batch for its name. */
static void small(sg_download *dl)
{
    struct dl_first *f = dl->first;
    const eng_req *q = &f->q;
    if (q->v.verdict == JV_EMPTY) {
        /* No body (a 416, a total of 0): an empty file, whatever an
         * earlier attempt wrote. */
        checksum_drop(f->hash);
        f->hash = NULL;
        if (dl->fd >= 0 ? ftruncate(dl->fd, 0) < 0
                        : unlink(dl->part) < 0 && errno != ENOENT) {
            fail(dl, SG_EIO, "cannot empty the partial file");
            return;
        }
        if (dl->fd < 0 && output_create(dl->part, &dl->fd, &dl->err)) {
            dl_fail(dl, dl->err.code);
            return;
        }
        dl->made_part = 1;
        if (dl->has_sum && !(f->hash = checksum_begin(&dl->sum))) {
            fail(dl, SG_ENOMEM, "out of memory");
            return;
        }
    }
    if (f->hash) {
        checksum_hash *h = f->hash;
        f->hash = NULL;
        if (checksum_end(h, &dl->sum, &dl->err)) {
            dl_sum_mismatch(dl);
            dl_fail(dl, dl->err.code);
            return;
        }
        dl->sum_checked = 1;
    }
    dl->meta.size = q->got;
    dl->st = ST_PUBLISH;
    dl->hooks->publish(dl, dl->hooks_ud, dl->fd, q->got, q->r.etag,
                       q->r.last_modified, 0);
}

/* Judge the end of the request: what next. */
static void settle(sg_download *dl, int64_t now)
{
    struct dl_first *f = dl->first;
    const eng_req *q = &f->q;
    f->answered |= q->reached;
    if (q->end == EE_STOPPED || (q->end == EE_SINK && f->big) ||
        (q->end == EE_JUDGED && q->v.verdict == JV_BODY && q->v.partial &&
         q->v.total > q->v.len)) {
        go_big(dl);
        return;
    }
    if (q->end == EE_JUDGED && (q->v.verdict == JV_BODY ||
                                q->v.verdict == JV_EMPTY)) {
        small(dl);
        return;
    }
    if (q->end == EE_JUDGED && q->v.verdict == JV_UNCHANGED) {
        if (dl->fd >= 0) {
            /* An earlier attempt had begun a new version: none of it. */
            close(dl->fd);
            dl->fd = -1;
            (void)unlink(dl->part);
            dl->made_part = 0;
        }
        dl->unchanged = 1;
        dl->rc = SG_OK;
        dl->st = ST_END;
        return;
    }
    if (q->transient && q->got == 0 &&
        policy_refusal(q->r.status, q->end == EE_FAILED ? q->fail : FK_NONE) &&
        dl->hooks->refused &&
        dl->hooks->refused(dl, dl->hooks_ud, q->r.retry_after)) {
        dl->deferred = 1;
        fail(dl, SG_ENETWORK, "deferred: its host serves fewer connections");
        return;
    }
    if (q->transient &&
        !sched_strike(&f->health, f->health.gen, dl->o.max_tries,
                      q->r.retry_after, eng_random(), now)) {
        f->next_at = f->health.next_at;
        return;
    }
    sg_code rc = q->code ? q->code : SG_ENETWORK;
    err_copy(&dl->err, rc, &q->err);
    dl_fail(dl, rc);
}

int dl_first_tick(sg_download *dl, int64_t now, int64_t *wake)
{
    struct dl_first *f = dl->first;
    if (f->running && f->big_at > 0 && f->q.stop_at > f->q.got) {
        /* A large file: when the rest of this GET would take more than
         * FIRST_REST_MS at its pace, keep what came and go on with the
         * file's connections (stopping a fast one would only waste what
         * the server has sent on its way). */
        int64_t ms = now - f->big_at, got = f->q.got;
        if (ms < FIRST_BIG_MS) {
            if (f->big_at + FIRST_BIG_MS < *wake)
                *wake = f->big_at + FIRST_BIG_MS;
        } else if ((double)(dl->first_limit - got) * (double)ms >
                   (double)got * FIRST_REST_MS) {
            f->q.stop_at = got;
        }
    }
    if (f->running)
        return 0;
    if (f->ended) {
        f->ended = 0;
        settle(dl, now);
        if (dl->st != ST_FIRST)
            return 1;
    }
    if (f->next_at > now) {
        if (f->next_at < *wake)
            *wake = f->next_at;
        return 0;
    }
    eng_req *q = &f->q;
    int cond = dl->if_none_match || dl->if_modified_since;
    q->url = dl->url;
    q->shown = dl->shown;
    q->user = 1;
    /* A revalidation asks for the whole file: servers that ignore
     * conditions on a range request (against RFC 9110) answer 304 to
     * this. */
    q->ask = cond ? (judge_ask){.first = -1, .total = -1, .conditional = 1}
                  : (judge_ask){.first = 0,
                                .last = dl->first_limit - 1,
                                .total = -1};
    q->if_range = NULL;
    q->if_none_match = dl->if_none_match;
    q->if_modified_since = dl->if_modified_since;
    q->headers_only = 0;
    q->fresh = 0;
    q->share = 1; /* a small file: a stream beside the others (HTTP/2) */
    q->answered = f->answered;
    q->bufsize = 64 * 1024;
    q->stop_at = dl->first_limit; /* a body without a length, cut here */
    q->ops = &ops;
    q->owner = dl;
    f->big = 0;
    f->big_at = 0;
    if (eng_start(dl->g, q, &dl->err) != SG_OK) {
        dl_fail(dl, SG_ENOMEM);
        return 1;
    }
    f->running = 1;
    return 0;
}
