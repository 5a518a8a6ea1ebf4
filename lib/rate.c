/* SPDX-License-Identifier: MIT */
/*
 * rate.c - a ring of progress samples, the median of rates, and the
 * token bucket of --limit-rate.
 */
#include "rate.h"

void rate_start(rate_meter *m, int64_t now)
{
    m->t[0] = now;
    m->got[0] = 0;
    m->n = 1;
    m->at = 1;
    m->rate = -1;
}

double rate_sample(rate_meter *m, int64_t now, int64_t got)
{
    int last = (m->at + RATE_RING - 1) % RATE_RING;
    if (now - m->t[last] < RATE_SAMPLE_MS)
        return m->rate;
    m->t[m->at] = now;
    m->got[m->at] = got;
    m->at = (m->at + 1) % RATE_RING;
    if (m->n < RATE_RING)
        m->n++;
    /* The oldest sample kept; once the ring is full, the next slot to be
     * written holds it. */
    int oldest = m->n < RATE_RING ? 0 : m->at;
    int64_t span = now - m->t[oldest];
    if (span >= 2 * RATE_SAMPLE_MS)
        m->rate = (double)(got - m->got[oldest]) * 1000.0 / (double)span;
    return m->rate;
}

double rate_recent(const rate_meter *m, int k)
{
    if (k < 1 || k >= m->n)
        return -1;
    int last = (m->at + RATE_RING - 1) % RATE_RING;
    int from = (m->at + RATE_RING - 1 - k) % RATE_RING;
    int64_t span = m->t[last] - m->t[from];
    if (span <= 0)
        return -1;
    return (double)(m->got[last] - m->got[from]) * 1000.0 / (double)span;
}

double rate_median(double *v, int n)
{
    if (n <= 0)
        return -1;
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void bucket_init(rate_bucket *b, double rate, int64_t now)
{
    b->rate = rate;
    b->tokens = 0;
    b->t = now;
}

int bucket_open(rate_bucket *b, int64_t now)
{
    if (b->rate <= 0)
        return 1;
    if (now > b->t) {
        double cap = b->rate * RATE_BURST_MS / 1000.0;
        b->tokens += b->rate * (double)(now - b->t) / 1000.0;
        if (b->tokens > cap)
            b->tokens = cap;
        b->t = now;
    }
    return b->tokens > 0;
}

void bucket_take(rate_bucket *b, size_t n)
{
    if (b->rate > 0)
        b->tokens -= (double)n;
}

long bucket_wait_ms(const rate_bucket *b)
{
    if (b->rate <= 0 || b->tokens > 0)
        return 0;
    return (long)(-b->tokens * 1000.0 / b->rate) + 1;
}
