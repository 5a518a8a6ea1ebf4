/* SPDX-License-Identifier: MIT */
/*
 * dl_xfer.h - the state of a download's transfer, shared by dl_xfer.c
 * (requests, checkpoints, progress) and dl_renew.c (resolving an expired
 * address again).  Loop thread only.
 */
#ifndef SG_DL_XFER_H
#define SG_DL_XFER_H

#include "dl.h"

struct creq {
    eng_req q;
    sg_download *dl;
    int conn;
    int running;
    int noranges;    /* a whole body answered a range request */
    int64_t req_start; /* file offsets asked for */
    int64_t req_end;
};

/* A source: the URL or a mirror. */
struct src {
    const char *url, *shown, *etag, *last_modified;
    int user;
    int said_cap;  /* its cap on connections was announced */
    char why[256]; /* its last failure */
    char expired[256]; /* what its expired address answered */
    int expired_status; /* and its HTTP status */
    /* Renewal (dl_renew.c). */
    const char *orig;  /* the address as given, resolved again */
    int orig_user;     /* the user's headers may go to it */
    char *renewed;     /* heap: url after the last renewal */
    char **old;        /* earlier renewed urls: requests may still
                          borrow them (heap, freed at the end) */
    int nold;
    probe *renew;      /* a resolution under way, or NULL */
    int renewals;
    int fresh_bytes;   /* bytes came since the last renewal */
};

struct dl_xfer {
    sched s;
    struct creq c[SCHED_MAX_CONNS];
    struct src src[SCHED_MAX_SRCS];
    long bufsize;
    int held;           /* paused: no request runs */
    int64_t last_ckpt, since_ckpt;
    int64_t resumed;    /* bytes on disk at the start */
    int64_t t0, last_sample, last_report, sample_bytes;
    double rate;
};

/* dl_renew.c */

/* q, a request of source src, was answered with what an expired signed
 * address gets (policy_expired).  Returns 1 when src is being resolved
 * again from its original address (the request's range waits for it; no
 * strike), 0 when that cannot help: src was renewed already and has
 * sent nothing since, or memory ran out. */
int dl_renew_start(sg_download *dl, int src, const eng_req *q);

/* Drive the resolutions under way: a source whose fresh address serves
 * the same resource (size and validator) goes on with it; one that
 * cannot be resolved again is dropped (the transfer fails when it was
 * the last). */
void dl_renew_tick(sg_download *dl, int64_t now, int64_t *wake);

/* Free what renewals hold. */
void dl_renew_end(sg_download *dl);

#endif
