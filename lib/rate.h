/* SPDX-License-Identifier: MIT */
/*
 * rate.h - how fast a connection is going, robust to bursty servers;
 * and how fast each transfer may go under --limit-rate.
 *
 * A meter keeps progress samples (time, bytes) taken at most every
 * RATE_SAMPLE_MS and reports the rate over the span they cover: the last
 * two seconds, or everything since the start when younger.  Servers that
 * throttle often send once a second, so shorter windows would report a
 * healthy connection as idle.  Pure; the caller owns the meter.
 */
#ifndef SG_RATE_H
#define SG_RATE_H

#include <stddef.h>
#include <stdint.h>

#define RATE_SAMPLE_MS 250
#define RATE_RING 9 /* 8 intervals of 250 ms: two seconds */

typedef struct rate_meter {
    int64_t t[RATE_RING], got[RATE_RING];
    int n, at;
    double rate; /* bytes per second, < 0 while unknown */
} rate_meter;

/* Start measuring at time now (ms) with zero bytes. */
void rate_start(rate_meter *m, int64_t now);

/* Record that got bytes have arrived by now.  Takes a sample only when
 * RATE_SAMPLE_MS passed since the last one; the rate is known once the
 * samples span at least two intervals.  Returns the rate (or -1). */
double rate_sample(rate_meter *m, int64_t now, int64_t got);

/* The rate over the last k sample intervals only (k >= 1), -1 while
 * fewer are recorded: how fast the connection goes now, for deciding
 * that it stalled. */
double rate_recent(const rate_meter *m, int k);

/* --limit-rate, shared fairly.  Every transfer that receives a body is a
 * flow of the limit, and each flow is a token bucket of its own, refilled
 * at its share (rate / flows): a flow that takes its share never waits
 * for another, whatever order they read in.  A bucket holds at most
 * RATE_BURST_MS of its share; what a flow leaves unused (it is
 * connecting, or its server is slower than its share) goes to a spare
 * bucket that any flow may draw on, so the flows that can go faster take
 * it and the total stays at the rate.  A write of any size is allowed
 * while a flow's tokens and the spare together are positive (its balance
 * may go negative), so the average holds whatever the size of the writes,
 * and a flow in debt takes from the spare only to clear that debt (the
 * spare holds RATE_BURST_MS of the rate, or the largest write if more,
 * so that a debt of one write can be cleared).
 *
 * Time is in ms; the caller owns the structs and calls these from one
 * thread.  Without a limit (rate <= 0) every flow is always open. */
#define RATE_BURST_MS 100

typedef struct rate_limit {
    double rate;   /* bytes per second in all; <= 0: none */
    int n;         /* flows sharing it */
    double credit; /* bytes one flow was allowed since the start, as of t */
    int64_t t;
    double spare;  /* what flows left unused, for any of them */
    double big;    /* the largest write so far */
} rate_limit;

typedef struct rate_flow {
    double tokens; /* bytes it may take now (< 0: owed) */
    double credit; /* the limit's credit when last refilled */
} rate_flow;

void limit_init(rate_limit *l, double rate, int64_t now);

/* The limit is rate from now on (<= 0: none). */
void limit_set(rate_limit *l, double rate, int64_t now);

/* What each flow may take now (bytes per second): rate / flows, or the
 * whole rate when none flows yet; 0 without a limit. */
double limit_share(const rate_limit *l);

/* f starts to flow, with no tokens; it shares the limit until
 * limit_leave. */
void limit_join(rate_limit *l, rate_flow *f, int64_t now);
void limit_leave(rate_limit *l, rate_flow *f, int64_t now);

/* Refill f for the time since its last refill (what overflows its bucket
 * goes to the spare); 1 when it may write now. */
int limit_open(rate_limit *l, rate_flow *f, int64_t now);

/* f wrote n bytes: from its tokens, then from the spare, the rest owed. */
void limit_take(rate_limit *l, rate_flow *f, size_t n);

/* Milliseconds until f opens on its own refill (0 when open). */
long limit_wait_ms(const rate_limit *l, const rate_flow *f);

/* Median of v[0..n) (sorted in place); -1 when n is 0. */
double rate_median(double *v, int n);

#endif
