/* SPDX-License-Identifier: MIT */
/*
 * engine_int.h - what engine.c (the loop) and engine_req.c (a request's
 * life, from its first hop to its verdict) share.  Internal to the
 * engine: it includes curl.h.
 */
#ifndef SG_ENGINE_INT_H
#define SG_ENGINE_INT_H

#include <stdatomic.h>

#include <curl/curl.h>

#include "engine.h"
#include "rate.h"

#define TICK_MS 100 /* the longest wait: a cancel is seen within it */
#define SMALL_BODY 65536 /* headers_only: read and drop a body this small */

struct eng_xfer {
    engine *g;
    eng_req *q;
    CURL *h;
    struct curl_slist *hdrs;
    char *cur;     /* URL of this hop */
    int hops;
    int cookies;   /* the cookie file was given to this handle */
    int streamed;  /* set up for the shared pool, where its transfer may
                      be an HTTP/2 stream beside others: the handle is
                      replaced before its next one (renew_handle) */
    int user;      /* this hop carries the user's headers */
    int judged;    /* the final response's headers were judged */
    int discard;   /* its body is not the resource's */
    int stopped;   /* we ended it on purpose, as stop says */
    int dropping;  /* being taken out: whatever still arrives is dropped */
    eng_end stop;
    int body;      /* its body counts against the rate limit: a flow */
    rate_flow flow;
    int paused;    /* held back by the rate limit */
    int64_t seen;  /* body bytes of the final response */
    char range[48];
    char errbuf[CURL_ERROR_SIZE];
    struct eng_xfer *next; /* running list, or spare list */
};

struct engine {
    eng_conf c;
    CURLM *m;
    CURLSH *shared; /* the pool of connections sharing requests use */
    disk *d;
    eng_job *jobs;
    eng_job *added; /* jobs added since the loop's last turn */
    struct eng_xfer *running;
    struct eng_xfer *spare;
    rate_limit limit;
    atomic_llong want_rate;
    int paused;
    char **cookies;  /* the cookie file's lines, for CURLOPT_COOKIELIST */
    int ncookies;
};

/* Set x's easy handle up for its current hop and add it to the multi.
 * SG_ENOMEM on failure. */
sg_code eng_issue(engine *g, struct eng_xfer *x);

/* Take x out of the multi handle and the running list. */
void eng_detach(engine *g, struct eng_xfer *x);

/* Keep x's easy handle for a later request. */
void eng_recycle(engine *g, struct eng_xfer *x);

/* x's transfer ended with cc: follow a redirect, or set the request's
 * results and call its done(). */
void eng_finish(engine *g, struct eng_xfer *x, CURLcode cc);

#endif
