/* SPDX-License-Identifier: MIT */
/*
 * dl_xfer.c - a download's transfer: the scheduler (sched.h) decides,
 * the engine (engine.h) fetches, this file joins them.
 *
 * Each connection of the scheduler is one engine request at a time
 * asking for [done, end) of its segment from its source.  The engine has
 * judged the response before the sink below sees a byte; the sink
 * pwrites at the segment's done offset and advances it.  Another
 * connection may take the back part of a running segment (its end
 * shrinks): stop_at follows the end, and the engine stops the request
 * there.  Snapshots of the plan go to the disk as checkpoints, by time
 * and by bytes; the network thread never waits for them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dl.h"
#include "dl_xfer.h"
#include "output.h"
#include "plan.h"
#include "util.h"

/* libcurl's receive buffers share a fixed budget: a few large callbacks
 * per megabyte with few connections (less CPU), small buffers with many
 * (buffers do not grow with -n).  Measured on loopback, 256 MiB: peak RSS
 * 13.5-14 MB at N=8 (256 KiB each), about 15 MB at N=64 (32 KiB each). */
#define RECV_BUDGET (2L * 1024 * 1024)
#define RECV_MIN (32L * 1024)
#define RECV_MAX (256L * 1024)
#define PROGRESS_MS 200

/* Checkpoints: what a kill loses is what arrived since the last one
 * began, so they come often from the first byte on -- at most every
 * CKPT_GAP_MS, or CKPT_COST_SHARE times what the last one took (a slow
 * disk is not kept busy with them), and at least every checkpoint_ms and
 * checkpoint_bytes.  A fast download is bound by the bytes anyway: its
 * checkpoints run back to back. */
#define CKPT_GAP_MS 50
#define CKPT_COST_SHARE 4
#define CAP_SETTLE_MS 500

static void stop(sg_download *dl, xfer_verdict v, sg_code rc, int status,
                 const char *msg)
{
    if (dl->verdict != XV_NONE)
        return;
    dl->verdict = v;
    if (rc && !dl->err.code)
        err_http(&dl->err, status, rc, "%s",
                 msg && msg[0] ? msg : sg_strerror(rc));
}

static sg_code accept_body(eng_req *q, sg_err *e)
{
    struct creq *k = q->owner;
    sg_download *dl = k->dl;
    if (q->v.partial || !dl->meta.ranges)
        return SG_OK; /* the range asked, or one stream from byte 0 */
    int whole = dl->base == 0 && dl->meta.size == dl->total &&
                k->req_start == 0 && k->req_end == dl->meta.size;
    if (whole)
        return SG_OK;
    /* A 200 is the whole body: never bytes for this offset. */
    k->noranges = 1;
    return err_set(e, SG_EPROTO, "%s: the server ignored a range request",
                   q->shown);
}

static sg_code write_body(eng_req *q, const char *p, size_t n, int64_t off,
                          sg_err *e)
{
    struct creq *k = q->owner;
    sg_download *dl = k->dl;
    struct dl_xfer *x = dl->x;
    sched_conn *sc = &x->s.conns[k->conn];
    sg_segment *g = &dl->segs[sc->seg];
    int64_t at = off - dl->base;
    if (at > g->done)
        return err_set(e, SG_EPROTO, "%s: bytes for offset %lld, expected "
                                     "%lld",
                       q->shown, (long long)at, (long long)g->done);
    if (at < g->done) {
        /* Behind in a race (sched.h, hedge): the other runner wrote
         * these already; only what goes past it is new. */
        if (at + (int64_t)n <= g->done)
            return SG_OK;
        size_t skip = (size_t)(g->done - at);
        p += skip;
        n -= skip;
        at = g->done;
    }
    if (x->s.rt[sc->seg].hedge == k->conn)
        (void)sched_overtaken(&x->s, sc->seg); /* the owner is stopped
                                                  at the next tick */
    sg_code rc = dl->streaming ? dl_stream_write(dl, p, n, at, e) : SG_OK;
    if (rc == SG_OK && !dl->pipe)
        rc = output_write(dl->fd, p, n, at, e);
    if (rc)
        return rc;
    g->done += (int64_t)n;
    sc->got += (int64_t)n;
    x->src[sc->src].fresh_bytes = 1;
    dl->received += (int64_t)n;
    x->since_ckpt += (int64_t)n;
    return SG_OK;
}

static void on_done(eng_req *q);
static const eng_ops ops = {accept_body, write_body, on_done};

/* What to say when a connection of src gives up. */
static const char *src_name(const struct dl_xfer *x, int src)
{
    return x->src[src].shown;
}

static void on_done(eng_req *q)
{
    struct creq *k = q->owner;
    sg_download *dl = k->dl;
    struct dl_xfer *x = dl->x;
    sched_conn *sc = &x->s.conns[k->conn];
    int seg = sc->seg, src = sc->src;
    sg_segment *g = &dl->segs[seg];
    sched_end se = SE_DONE;
    k->running = 0;
    switch (q->end) {
    case EE_STOPPED:
        break;
    case EE_JUDGED:
        if (q->v.verdict == JV_BODY) {
            if (!dl->meta.ranges && dl->meta.size < 0)
                g->end = g->done; /* unknown length: it ended cleanly */
            break;
        }
        if (q->transient) {
            se = policy_refusal(q->r.status, FK_NONE) ? SE_REFUSED
                                                       : SE_TRANSIENT;
            break;
        }
        if (q->got > 0) {
            /* The response proved malformed after some of it was
             * written: claim none of it, and say so at once (a
             * checkpoint may have claimed some already).  A race for
             * the segment is over: its other runner starts again. */
            g->done = k->req_start;
            for (int c = 0; c < x->s.nconns; c++)
                if (c != k->conn && x->s.conns[c].seg == seg)
                    x->s.conns[c].lost = 1;
            dl_stream_retract(dl, k->req_start);
            if (!dl->pipe)
                dl_disk(dl, DT_CKPT);
        }
        if (q->v.verdict == JV_HTTP && policy_expired(q->v.status) &&
            dl_renew_start(dl, src, q)) {
            se = SE_DROPPED; /* the range waits for the new address */
            break;
        }
        if (src == 0 && (q->v.verdict == JV_CHANGED ||
                         q->v.verdict == JV_RESIZED)) {
            stop(dl, q->v.verdict == JV_CHANGED ? XV_CHANGED : XV_RESIZED,
                 q->code, 0, err_msg(&q->err));
            se = SE_DROPPED;
            break;
        }
        se = SE_SOURCE;
        break;
    case EE_SHORT:
        se = SE_TRANSIENT;
        break;
    case EE_FAILED:
        se = !q->transient                      ? SE_SOURCE
             : q->got == 0 && !q->r.status &&
                       policy_refusal(0, q->fail) ? SE_REFUSED
                                                  : SE_TRANSIENT;
        break;
    case EE_SINK:
        if (k->noranges && src != 0) {
            se = SE_SOURCE;
        } else {
            stop(dl, k->noranges ? XV_NORANGES : XV_FAILED, q->code,
                 q->err.status, err_msg(&q->err));
            se = SE_DROPPED;
        }
        break;
    }
    int from;
    int64_t a = dl->meta.ranges ? g->done : g->start, b = g->end - 1;
    if (se == SE_TRANSIENT || se == SE_SOURCE || se == SE_REFUSED)
        (void)snprintf(x->src[src].why, sizeof x->src[src].why, "%s",
                       q->why);
    sched_act act = sched_finish(&x->s, k->conn, se, q->r.retry_after,
                                 eng_random(), now_ms(), &from);
    if (act == SA_CAPPED) {
        /* Said once the cap settled (dl_xfer_tick). */
    } else if (act == SA_FAIL) {
        char msg[1024];
        if (se == SE_TRANSIENT || se == SE_REFUSED)
            (void)snprintf(msg, sizeof msg,
                           "%s: giving up on bytes %lld-%lld after %d "
                           "tries: %s",
                           src_name(x, from), (long long)a, (long long)b,
                           x->s.srcs[from].strikes, q->why);
        else
            (void)snprintf(msg, sizeof msg, "%s", err_msg(&q->err));
        stop(dl, XV_FAILED, q->code, q->err.status, msg);
    } else if (act == SA_SRC_DROPPED && se == SE_SOURCE) {
        dl_notice(dl, "%s dropped (%s); its ranges go to the other servers",
                  src_name(x, from), q->why);
    } else if (act == SA_SRC_DROPPED) {
        dl_notice(dl, "%s dropped after %d failures (%s); its ranges go to "
                      "the other servers",
                  src_name(x, from), x->s.srcs[from].strikes, q->why);
    } else if (se == SE_TRANSIENT || se == SE_REFUSED) {
        long ms = (long)(x->s.rt[seg].next_at - now_ms());
        dl_notice(dl, "%s: retrying bytes %lld-%lld in %.1fs: %s",
                  src_name(x, from), (long long)a, (long long)b,
                  ms > 0 ? ms / 1000.0 : 0.0, q->why);
    }
}

/* Begin conn's request for segment seg. */
static sg_code start(sg_download *dl, int conn, int seg, int64_t now)
{
    struct dl_xfer *x = dl->x;
    struct creq *k = &x->c[conn];
    sched_conn *sc = &x->s.conns[conn];
    sg_segment *g = &dl->segs[seg];
    const struct src *s = &x->src[sc->src];
    if (!dl->meta.ranges)
        g->done = g->start; /* without ranges a stream starts at 0 */
    eng_req *q = &k->q;
    k->dl = dl;
    k->conn = conn;
    k->noranges = 0;
    k->req_start = g->done;
    k->req_end = g->end;
    q->url = s->url;
    q->shown = s->shown;
    q->user = s->user;
    if (dl->meta.ranges)
        q->ask = (judge_ask){.first = g->done + dl->base,
                             .last = g->end + dl->base - 1,
                             .total = dl->total,
                             .etag = s->etag,
                             .last_modified = s->last_modified};
    else
        q->ask = (judge_ask){.first = -1,
                             .total = dl->meta.size,
                             .etag = s->etag,
                             .last_modified = s->last_modified};
    /* If-Range makes a changed resource answer 200 instead of splicing
     * new bytes into old ones.  Weak tags are never used here. */
    q->if_range = !dl->meta.ranges ? NULL
                  : s->etag        ? s->etag
                                   : s->last_modified;
    q->if_none_match = q->if_modified_since = NULL;
    q->headers_only = 0;
    q->fresh = sc->fresh;
    q->answered = 1; /* every source answered its probe */
    q->bufsize = x->bufsize;
    q->stop_at = dl->meta.ranges ? g->end + dl->base : INT64_MAX;
    q->ops = &ops;
    q->owner = k;
    sc->fresh = 0;
    sched_start(&x->s, conn, seg, now);
    if (eng_start(dl->g, q, &dl->err) != SG_OK) {
        int from;
        (void)sched_finish(&x->s, conn, SE_DROPPED, -1, 0, now, &from);
        return SG_ENOMEM;
    }
    k->running = 1;
    return SG_OK;
}

/* Stop conn's request on purpose: its range goes back to the plan. */
static void drop(sg_download *dl, int conn, int64_t now)
{
    struct dl_xfer *x = dl->x;
    struct creq *k = &x->c[conn];
    if (!k->running)
        return;
    eng_stop(dl->g, &k->q);
    k->running = 0;
    int from;
    (void)sched_finish(&x->s, conn, SE_DROPPED, -1, 0, now, &from);
}

int64_t dl_xfer_received(const sg_download *dl)
{
    return dl->received;
}

sg_code dl_xfer_begin(sg_download *dl)
{
    struct dl_xfer *x = calloc(1, sizeof *x);
    if (!x)
        return err_set(&dl->err, SG_ENOMEM, "out of memory");
    dl->x = x;
    dl->verdict = XV_NONE;
    const probe_result *p = &dl->pr.res;
    x->src[0] = (struct src){.url = p->effective_url,
                             .shown = dl->shown,
                             .etag = p->etag,
                             .last_modified = p->last_modified,
                             .user = p->same_origin,
                             .orig = dl->url,
                             .orig_user = 1};
    int nsrc = 1;
    for (int i = 0; dl->meta.ranges && i < dl->nusable; i++) {
        const probe_result *m = &dl->mp[dl->usable[i]].res;
        x->src[nsrc++] = (struct src){.url = m->effective_url,
                                      .shown = dl->mshown[dl->usable[i]],
                                      .etag = m->etag,
                                      .last_modified = m->last_modified,
                                      .orig = dl->mirrors[dl->usable[i]]};
    }
    if (sched_init(&x->s, dl->segs, &dl->n, PLAN_MAX_SEGMENTS,
                   dl->o.connections, nsrc, dl->meta.ranges,
                   dl->o.max_tries) < 0)
        return err_set(&dl->err, SG_ENOMEM, "out of memory");
    x->bufsize = RECV_BUDGET / x->s.nconns;
    x->bufsize = x->bufsize < RECV_MIN   ? RECV_MIN
                 : x->bufsize > RECV_MAX ? RECV_MAX
                                         : x->bufsize;
    sg_code rc = dl_stream_begin(dl);
    if (rc)
        return rc;
    x->resumed = plan_written(dl->segs, dl->n);
    /* The rate counts what arrives from here on (a transfer started over
     * after a change has received bytes before). */
    x->sample_bytes = dl->received;
    x->t0 = x->last_sample = x->last_ckpt = now_ms();
    return SG_OK;
}

void dl_xfer_end(sg_download *dl)
{
    struct dl_xfer *x = dl->x;
    if (!x)
        return;
    int64_t now = now_ms();
    for (int i = 0; i < x->s.nconns; i++) {
        drop(dl, i, now);
        eng_req_cleanup(&x->c[i].q);
    }
    dl_renew_end(dl);
    sched_cleanup(&x->s);
    free(x);
    dl->x = NULL;
}

void dl_progress(sg_download *dl, int64_t now, int force, sg_state state)
{
    struct dl_xfer *x = dl->x;
    if (!dl->o.progress || !x || (!force && now - x->last_report < PROGRESS_MS))
        return;
    int64_t got = dl->received;
    if (now - x->last_sample >= 500) {
        double inst = (double)(got - x->sample_bytes) * 1000.0 /
                      (double)(now - x->last_sample);
        x->rate = x->rate == 0 ? inst : 0.6 * x->rate + 0.4 * inst;
        x->last_sample = now;
        x->sample_bytes = got;
    }
    x->last_report = now;
    sched_label(&x->s);
    sg_progress p = {
        .state = state,
        .total = dl->meta.size,
        .received = plan_written(dl->segs, dl->n),
        .resumed = x->resumed,
        .durable = dl->durable,
        .rate = state == SG_STATE_PAUSED ? 0 : x->rate,
        .elapsed = (double)(now - x->t0) / 1000.0,
        .connections = sched_active(&x->s),
        .nsegments = dl->n,
        .segments = dl->segs,
        .etag = dl->pr.res.etag,
        .last_modified = dl->pr.res.last_modified,
    };
    dl->o.progress(&p, dl->o.userdata);
}

/* Paused: stop every request and checkpoint; nothing starts until the
 * pause ends. */
static void hold(sg_download *dl, int64_t now)
{
    struct dl_xfer *x = dl->x;
    if (!x->held) {
        for (int i = 0; i < x->s.nconns; i++)
            drop(dl, i, now);
        /* After a checkpoint under way, if any: every byte is claimed. */
        dl_disk(dl, DT_CKPT);
        x->since_ckpt = 0;
        x->held = 1;
    }
    dl_progress(dl, now, 0, SG_STATE_PAUSED);
}

/* Time between checkpoints now (ms). */
static int64_t ckpt_gap(const sg_download *dl)
{
    int64_t gap = dl->ckpt_cost * CKPT_COST_SHARE;
    if (gap < CKPT_GAP_MS)
        gap = CKPT_GAP_MS;
    return gap < dl->o.checkpoint_ms ? gap : dl->o.checkpoint_ms;
}

int dl_xfer_tick(sg_download *dl, int64_t now, int64_t *wake)
{
    struct dl_xfer *x = dl->x;
    if (atomic_load(&dl->cancel))
        stop(dl, XV_CANCELLED, SG_OK, 0, NULL);
    if (dl->ckpt_failed)
        stop(dl, XV_FAILED, SG_EIO, 0, "a checkpoint failed");
    if (dl->verdict != XV_NONE)
        goto end;
    if (atomic_load(&dl->pause)) {
        hold(dl, now);
        return 0;
    }
    if (x->held) {
        x->held = 0;
        for (int i = 0; i < dl->n; i++)
            x->s.rt[i].next_at = 0; /* no backoff left from before */
    }
    /* Under a rate limit, what each connection may take and which the
     * limit holds back (sched.h, limit). */
    sched_limit(&x->s, (double)eng_share(dl->g));
    for (int i = 0; i < x->s.nconns; i++)
        if (x->c[i].running)
            sched_held(&x->s, i, x->c[i].q.held_at);
    int conn, seg;
    while (sched_next(&x->s, now, &conn, &seg, wake))
        if (start(dl, conn, seg, now) != SG_OK) {
            stop(dl, XV_FAILED, SG_ENOMEM, 0, NULL);
            goto end;
        }
    /* The other runner of a race that is decided. */
    for (int i = 0, c; i < x->s.nconns && (c = sched_loser(&x->s)) >= 0; i++)
        drop(dl, c, now);
    /* Splits may have moved a running request's end. */
    for (int i = 0; i < x->s.nconns; i++)
        if (x->c[i].running && dl->meta.ranges)
            x->c[i].q.stop_at = dl->segs[x->s.conns[i].seg].end + dl->base;
    /* A cap is said once it has held for a while: the first round of
     * refusals lowers it step by step. */
    for (int i = 0; i < x->s.nsrcs; i++) {
        const sched_cap *c = &x->s.srcs[i].cap;
        if (c->capped && !x->src[i].said_cap &&
            now - c->refused_at >= CAP_SETTLE_MS) {
            dl_notice(dl, "%s serves %d connections at a time (%s): using "
                          "%d",
                      x->src[i].shown, c->limit, x->src[i].why, c->limit);
            x->src[i].said_cap = 1;
        }
    }
    dl_renew_tick(dl, now, wake);
    if (dl->verdict != XV_NONE)
        goto end;
    if (dl->streaming && dl_stream_tick(dl) != SG_OK) {
        stop(dl, XV_FAILED, dl->err.code, dl->err.status, err_msg(&dl->err));
        goto end;
    }
    int slow = sched_adapt(&x->s, now);
    if (slow >= 0)
        drop(dl, slow, now);
    if (sched_active(&x->s) == 0 && plan_remaining(dl->segs, dl->n) == 0) {
        stop(dl, XV_DONE, SG_OK, 0, NULL);
        goto end;
    }
    if (x->since_ckpt > 0 && !dl->pipe) {
        int64_t gap = ckpt_gap(dl);
        if (!dl->disk_busy && (now - x->last_ckpt >= gap ||
                               x->since_ckpt >= dl->o.checkpoint_bytes)) {
            dl_disk(dl, DT_CKPT);
            x->last_ckpt = now;
            x->since_ckpt = 0;
        } else if (!dl->disk_busy && x->last_ckpt + gap < *wake) {
            *wake = x->last_ckpt + gap; /* (a busy disk wakes the loop
                                           when it is done) */
        }
    }
    dl_progress(dl, now, 0, SG_STATE_DOWNLOADING);
    return 0;
end:
    for (int i = 0; i < x->s.nconns; i++)
        drop(dl, i, now);
    /* A server that failed and never sent a byte, but was not dropped
     * (the others finished first): say so once. */
    for (int i = 0; dl->verdict == XV_DONE && i < x->s.nsrcs; i++) {
        const sched_src *c = &x->s.srcs[i];
        if (!c->dead && !c->delivered && x->src[i].why[0])
            dl_notice(dl, "%s was not used: %s", x->src[i].shown,
                      x->src[i].why);
    }
    dl_progress(dl, now, 1, SG_STATE_DOWNLOADING);
    return 1;
}
