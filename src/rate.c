/* SPDX-License-Identifier: MIT */
/*
 * rate.c - a ring of progress samples and the median of rates.
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
