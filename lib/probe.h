/* SPDX-License-Identifier: MIT */
/*
 * probe.h - learning what a URL serves before planning.
 *
 * HEAD first, to pin the effective URL and read the size, Accept-Ranges
 * and validators.  When HEAD is refused or says too little (no length, no
 * range support, an encoded body), a GET with "Range: bytes=0-0" asks the
 * question directly: a 206 whose Content-Range carries the total proves
 * both the size and range support; a 200 is the whole resource (no
 * ranges); a 416 or a total of 0, an empty one.  Only a strong ETag is
 * kept as a validator (RFC 9110 forbids weak ones in If-Range).  Every
 * request goes through the engine, so the judge, the redirect rule and
 * the retry policy are the same as everywhere: a failing source is asked
 * again after its backoff, up to max_tries strikes.
 *
 * A probe is a small state machine driven from its owner's tick; several
 * (the URL and its mirrors) run at once.  Loop thread only.
 */
#ifndef SG_PROBE_H
#define SG_PROBE_H

#include <stdint.h>

#include "digest.h"
#include "engine.h"
#include "sched.h"

typedef struct probe_result {
    char *effective_url; /* heap */
    int64_t size;        /* -1 when unknown */
    int ranges;          /* byte ranges proven (or advertised) to work */
    char *etag;          /* strong ETag or NULL, heap */
    char *last_modified; /* heap or NULL */
    char *disposition;   /* Content-Disposition as sent, heap or NULL */
    int same_origin;     /* the user's headers reached the last hop */
    digest_set digests;  /* the checksums the last response declared */
} probe_result;

typedef struct probe {
    /* Set before probe_start; borrowed. */
    const char *url;
    const char *shown;
    int user;      /* the user's headers and credentials may go */
    int force_get; /* skip HEAD (it proved to lie) */
    int head_only; /* HEAD alone, never a body: a 2xx ends the probe
                      (size -1 when it gave no usable length) */
    int max_tries;
    /* Results once probe_tick returned 1: rc, and res on SG_OK. */
    sg_code rc;
    sg_err err;
    probe_result res;
    /* The probe's own. */
    engine *g;
    eng_req q;
    int stage;   /* HEAD, GET, finished */
    int running; /* its request is under way */
    int ended;   /* ... and has ended, to be settled */
    sched_src health;
    int64_t next_at;
    int answered; /* a request of it reached the server */
} probe;

/* Begin probing p->url on g (p zeroed once before its first use). */
void probe_start(probe *p, engine *g);

/* Drive p at time now: start or retry its request.  Returns 1 once it is
 * finished (p->rc), else 0 with *wake lowered to its next retry. */
int probe_tick(probe *p, int64_t now, int64_t *wake);

/* Stop a running probe (no result) and free what it holds, results
 * included. */
void probe_cleanup(probe *p);

void probe_result_cleanup(probe_result *r);

/* Does r still describe the resource recorded with size and validators
 * (etag strong, or NULL)?  NULL when it does: the same size, and the
 * same strong ETag, or without one recorded the same Last-Modified; else
 * why not.  A record without any validator never matches: nothing
 * proves the bytes unchanged.  The one rule for resuming a partial
 * download, and for finding a finished one complete.  Pure. */
const char *probe_same_resource(const probe_result *r, int64_t size,
                                const char *etag,
                                const char *last_modified);

#endif
