/* SPDX-License-Identifier: MIT */
/*
 * transfer.h - fetching the unfinished ranges of a plan concurrently.
 *
 * One thread drives one CURLM with an easy handle per active connection.
 * Every response is checked before its first body byte is written: a 206
 * whose Content-Range is exactly the range asked for with the known total,
 * the same validators, no Content-Encoding.  Anything else never writes at
 * that offset: the transfer stops with a verdict the caller acts on (the
 * server ignores ranges, the resource changed, the size was a lie) or the
 * range is retried from its written offset with backoff.  Body bytes go
 * from libcurl's buffer straight to pwrite.  Snapshots of the plan are
 * posted to the checkpointer by time and by bytes.
 *
 * When a connection has nothing left to fetch, it takes the back half of
 * the largest remaining range; the owner stops at its new end.
 */
#ifndef SG_TRANSFER_H
#define SG_TRANSFER_H

#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>

#include "checksum.h"
#include "ckpt.h"
#include "err.h"
#include "http.h"
#include "segget.h"

/* Why a transfer stopped without finishing (rc says how bad it is). */
typedef enum xfer_verdict {
    XFER_DONE,      /* every segment is complete */
    XFER_FAILED,    /* rc/e say why */
    XFER_CHANGED,   /* the validator or size changed: start over */
    XFER_NORANGES,  /* a range request got the whole body: one stream */
    XFER_RESIZED,   /* same validator, other total: the probe was lied to */
    XFER_CANCELLED, /* *cancel was set */
} xfer_verdict;

/* Another server with the same resource (checked by the caller: same size,
 * same validator).  It gets no user header and no credentials. */
typedef struct xfer_mirror {
    const char *url;           /* effective URL */
    const char *etag;          /* its strong ETag or NULL */
    const char *last_modified; /* or NULL */
} xfer_mirror;

typedef struct xfer_conf {
    http_conf http;
    const char *url;           /* effective URL */
    const char *shown;         /* the URL for messages, no credentials */
    int64_t size;              /* -1: unknown (one stream, no ranges) */
    int ranges;                /* 0: one stream from offset 0, expect 200 */
    const char *etag;          /* strong ETag or NULL */
    const char *last_modified; /* or NULL */
    int connections;
    int max_tries;
    int64_t min_split;
    const xfer_mirror *mirrors; /* connections are spread over url and */
    int nmirrors;               /* these; slow ones move to the fastest */
    int64_t max_rate;       /* bytes per second over all connections, 0 */
    int64_t base;           /* resource offset of the file's byte 0
                               (--range), else 0 */
    int64_t total;          /* size of the resource: size, or more with
                               --range */
    checksum_hash *hash;    /* or NULL: fed every byte that arrives at
                               *hashed, which then advances; a byte
                               arriving anywhere else leaves it behind */
    int64_t *hashed;
    int fd;
    ckpt *ck;
    long checkpoint_ms;
    int64_t checkpoint_bytes;
    int64_t resumed; /* bytes already on disk at start */
    volatile sig_atomic_t *cancel;
    volatile sig_atomic_t *pause; /* non-zero: checkpoint, close, wait */
    atomic_llong *live_rate;      /* the rate limit now (bytes/s, 0) */
    sg_progress_fn progress;
    sg_notice_fn notice;
    void *userdata;
} xfer_conf;

/* Fetch what segs[0..*n) lacks.  The array has room for cap segments and
 * may gain some (splits); on return it reflects every byte written.  For
 * an unknown size, the single segment's end is set to the length received.
 * Returns SG_OK with XFER_DONE, or a failure code with another verdict. */
sg_code xfer_run(const xfer_conf *c, sg_segment *segs, int *n, int cap,
                 xfer_verdict *verdict, sg_err *e);

#endif
