/* SPDX-License-Identifier: MIT */
/*
 * probe.c - HEAD, then a one-byte range GET when HEAD is not enough.
 */
#include <stdlib.h>
#include <string.h>

#include "probe.h"
#include "resp.h"

enum { HEAD = 1, GET, FINISHED };

static void on_done(eng_req *q)
{
    probe *p = q->owner;
    p->running = 0;
    p->ended = 1;
}

static const eng_ops ops = {NULL, NULL, on_done};

void probe_start(probe *p, engine *g)
{
    p->g = g;
    p->rc = SG_OK;
    p->stage = p->force_get ? GET : HEAD;
    p->running = p->ended = 0;
    p->next_at = 0;
    p->health = (sched_src){0};
    p->answered = 0;
    probe_result_cleanup(&p->res);
}

static int finish(probe *p, sg_code rc)
{
    p->rc = rc;
    p->stage = FINISHED;
    return 1;
}

/* The request failed with q's code and message. */
static int fail(probe *p)
{
    err_reset(&p->err);
    err_copy(&p->err, p->q.code, &p->q.err);
    return finish(p, p->q.code);
}

static int dup_into(char **dst, const char *src)
{
    free(*dst);
    *dst = src ? strdup(src) : NULL;
    return src && !*dst ? -1 : 0;
}

/* Keep what the last response says: size, validators, final URL. */
static int keep(probe *p, int64_t size, int ranges)
{
    const eng_req *q = &p->q;
    probe_result *res = &p->res;
    res->size = size;
    res->ranges = ranges;
    res->same_origin = q->final_user;
    res->digests = q->r.digests;
    if (dup_into(&res->effective_url, q->final_url) < 0 ||
        dup_into(&res->etag, q->r.etag_strong ? q->r.etag : NULL) < 0 ||
        dup_into(&res->last_modified, q->r.last_modified) < 0 ||
        dup_into(&res->disposition, q->r.disposition) < 0) {
        err_set(&p->err, SG_ENOMEM, "out of memory");
        return finish(p, SG_ENOMEM);
    }
    return finish(p, SG_OK);
}

/* Judge a finished request: 1 when the probe is finished. */
static int settle(probe *p, int64_t now)
{
    const eng_req *q = &p->q;
    int body = q->end == EE_JUDGED && q->v.verdict == JV_BODY;
    p->answered |= q->reached;
    if (p->stage == HEAD) {
        if (body && q->v.total >= 0 && q->r.accept_ranges && !q->r.encoded)
            return keep(p, q->v.total, 1);
        if (p->head_only && body)
            return keep(p, q->r.encoded ? -1 : q->v.total,
                        q->r.accept_ranges);
        if (p->head_only) {
            if (!q->transient ||
                sched_strike(&p->health, p->health.gen, p->max_tries,
                             q->r.retry_after, eng_random(), now))
                return fail(p);
            p->next_at = p->health.next_at;
            return 0;
        }
        /* TLS, a forbidden redirect, a malformed reply: final. */
        if ((q->end == EE_FAILED && !q->transient) ||
            (q->end == EE_JUDGED && q->v.verdict == JV_PROTO))
            return fail(p);
        /* Refused, unhelpful or failing: ask with a range GET. */
        p->stage = GET;
        return 0;
    }
    if (body)
        return keep(p, q->v.total, q->v.partial);
    if (q->end == EE_JUDGED && q->v.verdict == JV_EMPTY)
        return keep(p, 0, 1);
    if (!q->transient ||
        sched_strike(&p->health, p->health.gen, p->max_tries,
                     q->r.retry_after, eng_random(), now))
        return fail(p);
    p->next_at = p->health.next_at;
    return 0;
}

int probe_tick(probe *p, int64_t now, int64_t *wake)
{
    if (p->stage == FINISHED)
        return 1;
    if (p->running)
        return 0;
    if (p->ended) {
        p->ended = 0;
        if (settle(p, now))
            return 1;
    }
    if (p->next_at > now) {
        if (p->next_at < *wake)
            *wake = p->next_at;
        return 0;
    }
    eng_req *q = &p->q;
    q->url = p->url;
    q->shown = p->shown;
    q->user = p->user;
    q->ask = (judge_ask){.head = p->stage == HEAD,
                         .first = p->stage == GET ? 0 : -1,
                         .last = 0,
                         .total = -1};
    q->if_range = q->if_none_match = q->if_modified_since = NULL;
    q->headers_only = 1;
    q->fresh = 0;
    q->answered = p->answered;
    q->bufsize = 0;
    q->stop_at = INT64_MAX;
    q->ops = &ops;
    q->owner = p;
    sg_err e = {0};
    if (eng_start(p->g, q, &e) != SG_OK) {
        err_merge(&p->err, &e);
        return finish(p, SG_ENOMEM);
    }
    p->running = 1;
    return 0;
}

void probe_cleanup(probe *p)
{
    if (p->g)
        eng_stop(p->g, &p->q);
    eng_req_cleanup(&p->q);
    err_reset(&p->err);
    probe_result_cleanup(&p->res);
    p->running = 0;
}

void probe_result_cleanup(probe_result *r)
{
    free(r->effective_url);
    free(r->etag);
    free(r->last_modified);
    free(r->disposition);
    memset(r, 0, sizeof *r);
    r->size = -1;
}

const char *probe_same_resource(const probe_result *r, int64_t size,
                                const char *etag, const char *last_modified)
{
    if (size < 0 || r->size != size)
        return "the remote size changed";
    if (!etag && !last_modified)
        return "the server gives no validator to prove the file unchanged";
    if (resp_validator_differs(etag, r->etag) ||
        resp_validator_differs(last_modified, r->last_modified) ||
        (etag && !r->etag) || (!etag && !r->last_modified))
        return "the remote file changed";
    return NULL;
}
