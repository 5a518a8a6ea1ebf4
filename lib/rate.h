/* SPDX-License-Identifier: MIT */
/*
 * rate.h - how fast a connection is going, robust to bursty servers.
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

/* A token bucket for --limit-rate: bytes flow while it holds tokens; it
 * refills at rate bytes per second and holds at most RATE_BURST_MS worth,
 * so an idle moment cannot be spent later as a burst.  A write of any size
 * is allowed while tokens remain (the balance may go negative), so the
 * average holds whatever the size of the writes. */
#define RATE_BURST_MS 100

typedef struct rate_bucket {
    double rate;   /* bytes per second; <= 0: unlimited */
    double tokens;
    int64_t t;     /* last refill, ms */
} rate_bucket;

void bucket_init(rate_bucket *b, double rate, int64_t now);

/* Refill for the time since the last call; 1 when bytes may flow. */
int bucket_open(rate_bucket *b, int64_t now);

/* Spend n bytes' worth. */
void bucket_take(rate_bucket *b, size_t n);

/* Milliseconds until the bucket opens (0 when open). */
long bucket_wait_ms(const rate_bucket *b);

/* Median of v[0..n) (sorted in place); -1 when n is 0. */
double rate_median(double *v, int n);

#endif
