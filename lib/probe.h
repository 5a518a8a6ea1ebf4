/* SPDX-License-Identifier: MIT */
/*
 * probe.h - learning what a URL serves before planning.
 *
 * HEAD first, following redirects, to pin the effective URL and read the
 * size, Accept-Ranges and validators.  When HEAD is refused or says too
 * little (no length, no range support, an encoded body), a GET with
 * "Range: bytes=0-0" asks the question directly: a 206 whose Content-Range
 * carries the complete length proves both the size and range support.
 * Only a strong ETag is kept as a validator (RFC 9110 forbids weak ones in
 * If-Range).  Redirects are followed here, one hop at a time, so that the
 * user's headers stop at the first hop to another origin and every hop is
 * checked to be http or https.  Runs on the calling thread; blocking.
 */
#ifndef SG_PROBE_H
#define SG_PROBE_H

#include <signal.h>
#include <stdint.h>

#include "err.h"
#include "http.h"

typedef struct probe_result {
    char *effective_url; /* heap */
    int64_t size;        /* -1 when unknown */
    int ranges;          /* byte ranges proven (or advertised) to work */
    char *etag;          /* strong ETag or NULL, heap */
    char *last_modified; /* heap or NULL */
    int via_get;         /* the range GET decided */
    char *disposition;   /* Content-Disposition as sent, heap or NULL */
    int same_origin;     /* effective_url has the original's origin */
} probe_result;

/* Probe url (named shown, without credentials, in messages).  With
 * force_get, skip HEAD (used when HEAD proved to lie).
 * Retryable failures (network, 5xx, 429) are retried up to max_tries
 * times with backoff, honouring Retry-After.  Returns SG_OK with *out
 * filled (free with probe_result_cleanup), SG_EINTERRUPTED when *cancel
 * became non-zero, or the failure with a message in e. */
sg_code probe_run(const char *url, const char *shown, const http_conf *c,
                  int force_get,
                  int max_tries, volatile sig_atomic_t *cancel,
                  probe_result *out, sg_err *e);

void probe_result_cleanup(probe_result *p);

/* Delay before retry number tries (1-based): exponential from 500 ms,
 * capped at 30 s, with jitter in [50%, 100%]; at least retry_after
 * seconds when the server said so (capped at 300 s).  Shared with the
 * transfer. */
long probe_backoff_ms(int tries, int64_t retry_after);

#endif
