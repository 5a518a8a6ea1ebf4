/* SPDX-License-Identifier: MIT */
/*
 * sched.h - the one scheduler: which range a free connection takes, from
 * which source, and when a connection or a source is given up.
 *
 * A download's plan (sg_segment, see plan.h) is worked on by up to
 * SCHED_MAX_CONNS connections, each fetching from one source (the URL or
 * a mirror).  The scheduler decides, from the plan, each connection's
 * measured rate, each source's health and the clock (all inputs; it does
 * no I/O and reads no clock):
 *
 *   next      a free connection takes an unfinished range nobody fetches,
 *             or else part of the range with the most time left, split in
 *             proportion to the two rates (the owner keeps what it can
 *             finish, its end shrinks);
 *   limit     under a rate limit every connection gets an equal share,
 *             and one that takes it tells nothing of its server: none is
 *             replaced or hedged, and a free connection splits only a
 *             range whose owner the limit does not hold back (its server
 *             is slower than its share), in halves;
 *   adapt     a connection far slower than its peers is replaced by a
 *             fresh one (to the fastest source), within a budget;
 *   hedge     when nothing else is left to take, a free connection
 *             duplicates the rest of a range whose owner would need far
 *             longer for it than a fresh connection at the best rate
 *             seen lately: both fetch it, the one ahead writes (the
 *             owner's frontier is the segment's done), and the first to
 *             pass the other wins -- a hedge that overtakes its owner
 *             takes the range over (sched_overtaken), an owner that
 *             finishes ends the race;
 *   health    a failure counts once against its source per round of
 *             backoff (parallel requests failing together are one
 *             strike); a source is asked again only after its backoff; a
 *             source with max_tries strikes in a row is dropped and its
 *             work goes to the others -- after two already when it never
 *             sent a byte while another source does (a mirror that
 *             answers its probe and nothing else); the download fails
 *             only when no source is left.  Bytes from a source clear its
 *             strikes -- without ranges, only bytes past the furthest an
 *             earlier try got, as every try starts again at byte 0.
 *
 * The same health rules serve a download's probe (one request to one
 * source) and a batch's small file.  One thread per sched.
 */
#ifndef SG_SCHED_H
#define SG_SCHED_H

#include <stdint.h>

#include "rate.h"
#include "segget.h"

#define SCHED_MAX_CONNS 64
#define SCHED_MAX_SRCS 17 /* the URL and 16 mirrors */

/* A server's cap on connections per client, learnt by additive
 * increase and multiplicative decrease: a refusal (policy_refusal) while
 * other connections to it are at work lowers the limit to those others
 * (they are what it serves); while every allowed connection is busy, the
 * limit grows by one after grow_ms, which doubles (up to CAP_GROW_MAX_MS)
 * each time such a probe is refused, so a server is asked rarely once
 * its cap is known (and is CAP_GROW_MS again after a growth that held). */
#define CAP_GROW_MS 2000
#define CAP_GROW_MAX_MS 32000

typedef struct sched_cap {
    int limit;       /* connections allowed now */
    int max;         /* what was asked for */
    long grow_ms;
    int64_t grow_at; /* no growth before this (ms) */
    int capped;      /* it has been lowered */
    int probing;     /* it grew since the last refusal */
    int64_t refused_at; /* the last refusal (ms) */
} sched_cap;

void cap_init(sched_cap *c, int max);

/* A connection was refused while others connections to the server were
 * at work: limit = others (at least 1) if that is lower.  retry_after (s, -1) postpones
 * growth.  Returns 1 when the limit went down. */
int cap_refused(sched_cap *c, int others, int64_t retry_after, int64_t now);

/* busy connections to the server at now: grow the limit by one when all
 * that are allowed are busy and growth is due. */
void cap_grow(sched_cap *c, int busy, int64_t now);

typedef struct sched_src {
    int strikes;     /* failures in a row, one per round */
    int gen;         /* rounds so far: a failure of a request begun in an
                        earlier round is not a new strike */
    int64_t next_at; /* no request before this (ms) */
    int dead;
    int delivered;   /* it has sent bytes of this download */
    int conns;       /* connections fetching from it now */
    sched_cap cap;   /* how many it serves at once */
    int held;        /* no new request to it for now (its owner is
                        resolving its address again) */
} sched_src;

typedef struct sched_conn {
    int seg;         /* the segment it fetches, -1 when free */
    int src;         /* its source */
    int gen;         /* its source's gen when the request began */
    int fresh;       /* the next request opens a new TCP connection */
    int home;        /* the source it goes back to when usable */
    int move_to;     /* replaced: the source of its next request, -1 */
    int lost;        /* overtaken by its hedge: to be stopped */
    int raced;       /* its request is (or was) in a race */
    int64_t t_start; /* request start (ms) */
    int64_t held_at; /* when a rate limit last held it back (ms), 0 */
    int64_t got;     /* body bytes written by this request */
    rate_meter meter;
} sched_conn;

/* Per segment. */
typedef struct sched_seg {
    int conn;        /* the connection fetching it, -1 */
    int hedge;       /* a second connection racing it for the rest, -1 */
    int64_t next_at; /* after a failure: not before this (ms) ... */
    int wait_src;    /* ... from the source that failed (others may take
                        it at once) */
    int64_t best;    /* without ranges: the furthest a stream got (each
                        try starts again at 0) */
    int64_t sealed;  /* [start, sealed) was written by requests that
                        ended without taking their bytes back: what an
                        in-order consumer may take (sched_ready) */
} sched_seg;

typedef struct sched {
    sg_segment *segs; /* the plan (caller's): may gain segments */
    int *n;
    int cap;
    sched_seg *rt;    /* cap entries */
    sched_conn conns[SCHED_MAX_CONNS];
    int nconns;
    sched_src srcs[SCHED_MAX_SRCS];
    int nsrcs;
    int ranges;       /* 0: one stream from byte 0, one connection */
    int max_tries;
    int replaced;     /* slow connections replaced so far */
    int hedges;       /* hedges started so far */
    double ref_rate;  /* the best rate of a connection lately (decays) */
    double share;     /* > 0: a rate limit holds each connection to this
                         (bytes per second), so rates measure the limit,
                         not the servers (sched_limit) */
    int64_t last_adapt;
    int64_t win;      /* > 0: in order, within a window (sched_window) */
    int64_t win_at;   /* where the consumer is (sched_consumed) */
    int64_t chunk;    /* a windowed request's size */
} sched;

/* Set s up over segs[0..*n) (capacity cap; the caller owns the array)
 * for nconns connections spread over nsrcs sources, taking turns.
 * Without ranges there is one connection and one source.  Returns 0, or
 * -1 when out of memory.  sched_cleanup frees what it allocated. */
int sched_init(sched *s, sg_segment *segs, int *n, int cap, int nconns,
               int nsrcs, int ranges, int max_tries);
void sched_cleanup(sched *s);

/* In order, for a consumer that takes the bytes front to back (a pipe,
 * a running hash): from now on no request reaches at + win (at being
 * what sched_consumed last said), each asks for at most chunk bytes, the
 * lowest offsets first, and finished segments that touch are merged so
 * the plan does not grow with the file (a segment's index may change:
 * connections follow it).  The connection that holds the consumer up is
 * the first to be hedged or replaced.  win and chunk > 0. */
void sched_window(sched *s, int64_t win, int64_t chunk);

/* The consumer has taken every byte below at. */
void sched_consumed(sched *s, int64_t at);

/* The end of the sealed bytes (sched_seg.sealed) contiguous from from:
 * from itself when the segment holding it has none past it. */
int64_t sched_ready(const sched *s, int64_t from);

/* Find work for a free connection at time now.  Returns 1 with *conn,
 * *seg set (the request asks for segs[seg].done to segs[seg].end from
 * s->conns[*conn].src); 0 when none can start now, with *wake lowered to
 * when one might (a source's backoff ending). */
int sched_next(sched *s, int64_t now, int *conn, int *seg, int64_t *wake);

/* The request of conn on seg began at now.  When seg has an owner
 * already, conn is its hedge: it asks for the same [done, end). */
void sched_start(sched *s, int conn, int seg, int64_t now);

/* The hedge of seg wrote bytes past its owner's: it owns seg from now on.
 * Returns the connection it overtook, whose request the caller stops
 * (sched_finish with SE_DROPPED), or -1 when seg has no hedge. */
int sched_overtaken(sched *s, int seg);

/* A connection that no longer needs to run: the other of a race whose
 * segment is complete.  -1 when none. */
int sched_loser(const sched *s);

/* How a request ended. */
typedef enum sched_end {
    SE_DONE,      /* the segment is complete, or stopped at its new end */
    SE_DROPPED,   /* stopped on purpose (replaced, paused): no strike */
    SE_TRANSIENT, /* a failure worth another try */
    SE_SOURCE,    /* this source cannot serve the download at all */
    SE_REFUSED,   /* turned away (policy_refusal): a cap when others of
                     its source are at work, else SE_TRANSIENT */
} sched_end;

/* What the owner must do after sched_finish. */
typedef enum sched_act {
    SA_NONE,
    SA_SRC_DROPPED, /* *src was dropped (say so); the rest goes on */
    SA_FAIL,        /* no source is left: the download fails */
    SA_CAPPED,      /* a refusal taken as *src's cap (sched_cap): not a
                       failure, the range goes on elsewhere */
} sched_act;

/* conn's request ended with e; retry_after is the server's (seconds, -1)
 * and rnd a random number for the backoff's jitter.  *src receives the
 * request's source. */
sched_act sched_finish(sched *s, int conn, sched_end e, int64_t retry_after,
                       uint64_t rnd, int64_t now, int *src);

/* A rate limit lets each connection take share bytes per second now (0:
 * none). */
void sched_limit(sched *s, double share);

/* The limit last held conn's request back at time at (ms; 0: never). */
void sched_held(sched *s, int conn, int64_t at);

/* Sample the connections' rates (at most every RATE_SAMPLE_MS) and pick
 * one connection to replace: far slower than its peers' median, judged
 * after a second, with more than a second of work left.  Returns its
 * index (the caller stops its request and calls sched_finish with
 * SE_DROPPED; the next request of it goes to the fastest source on a new
 * connection), or -1. */
int sched_adapt(sched *s, int64_t now);

/* Give up on src (its owner says why): its ranges go to the others.
 * SA_SRC_DROPPED, or SA_FAIL when no source is left. */
sched_act sched_drop(sched *s, int src);

/* Sources still usable.  */
int sched_alive(const sched *s);

/* Connections fetching now. */
int sched_active(const sched *s);

/* Set each segment's conn (sg_segment) from who fetches it now: the
 * owner's index + 1, 0 when none.  An index is a connection's for the
 * whole run, so the numbers a progress display shows stay put across
 * requests, splits and races (a race shows its owner). */
void sched_label(const sched *s);

/* The health rules alone, for a request outside a plan (a probe, a
 * batch's small file): a failure of src at now; returns 1 when the
 * source is exhausted (max_tries strikes), else 0 with src->next_at set. */
int sched_strike(sched_src *src, int gen, int max_tries, int64_t retry_after,
                 uint64_t rnd, int64_t now);

#endif
