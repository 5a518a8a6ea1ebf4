/* SPDX-License-Identifier: MIT */
/*
 * policy.h - the one policy for failures, retries and redirects.
 *
 * Which failures are worth another try, how long to wait before it, and
 * whether a redirect hop may be followed are decided here and nowhere
 * else, whoever made the request: a probe, a range of a large file, a
 * batch's small file or a mirror.  Failures of the transport arrive as a
 * fail_kind (the engine translates libcurl's codes at its edge); HTTP
 * statuses as numbers.  Pure: no I/O, no clock, no hidden state (the
 * jitter's randomness is an argument); any thread.
 */
#ifndef SG_POLICY_H
#define SG_POLICY_H

#include <stdint.h>

#include "segget.h"

/* A failure of the transport, as the engine classifies it. */
typedef enum fail_kind {
    FK_NONE,
    FK_RESOLVE,   /* the host (or the proxy) has no address */
    FK_CONNECT,   /* refused, unreachable */
    FK_TIMEOUT,   /* connect timeout, or too slow for the stall timeout */
    FK_RECV,      /* the connection broke while receiving */
    FK_SEND,      /* ... while sending */
    FK_NOTHING,   /* the server closed without a response */
    FK_PARTIAL,   /* the body ended before its length */
    FK_HTTP2,     /* an HTTP/2 or HTTP/3 stream or session error */
    FK_TLS,       /* handshake or certificate verification */
    FK_PROXY,     /* the proxy refused to connect (CONNECT 4xx/5xx) */
    FK_PROTO,     /* not HTTP, or too many redirects */
    FK_UNSAFE,    /* a scheme other than http(s), also after a redirect */
    FK_USAGE,     /* a malformed URL */
    FK_NOMEM,
    FK_OTHER,
} fail_kind;

/* Is a transport failure worth another try?  1 or 0.  answered: a
 * server of this download has answered before.  An unknown host or a
 * refused connection before that is final at once (nothing is there, as
 * curl and wget conclude); once a server has answered, a lost or refused
 * connection is worth another try. */
int policy_transient(fail_kind k, int answered);

/* The sg_code a transport failure ends in when it is not retried. */
sg_code policy_code(fail_kind k);

/* Is an HTTP status worth another try (408, 425, 429, and 5xx other than
 * those that say the request itself cannot work: 501, 505, 506, 510,
 * 511)?  1 or 0. */
int policy_transient_status(int status);

/* Is a failure what a server that caps connections per client does to
 * the ones over its cap: 503 or 429, or a connection reset or refused
 * before any response (status 0 with a transport failure)?  1 or 0.
 * Whether it is a cap depends on the other connections to the server
 * (sched.h, sched_cap). */
int policy_refusal(int status, fail_kind k);

/* Is a status what an object store or CDN answers to a signed address
 * that expired (400, 401, 403, 410)?  From an address that worked, the
 * original address is worth resolving again.  1 or 0. */
int policy_expired(int status);

/* The wait before try number tries + 1 (tries >= 1 failed so far):
 * exponential from 500 ms, capped at 30 s, with jitter taking it to
 * between half and all of that (rnd: any random number).  At least
 * retry_after seconds when the server said so (seconds >= 0; -1: not
 * said), capped at 300 s. */
long policy_backoff_ms(int tries, int64_t retry_after, uint64_t rnd);

/* Redirects. */
#define POLICY_MAX_HOPS 20

typedef enum hop_verdict {
    HOP_FOLLOW,
    HOP_TOO_MANY, /* more than POLICY_MAX_HOPS */
    HOP_UNSAFE,   /* to something other than http or https */
} hop_verdict;

/* May a response's Location be followed?  hops: redirects followed so far
 * in this request; scheme_ok: the target is an absolute http(s) URL. */
hop_verdict policy_hop(int hops, int scheme_ok);

/* Do the user's headers and credentials go to the next hop?  Only while
 * every hop so far kept the origin of the first URL: user is whether the
 * current hop had them, same_origin whether the target has the first
 * URL's scheme, host and port.  1 or 0. */
int policy_hop_user(int user, int same_origin);

#endif
