/* SPDX-License-Identifier: MIT */
/*
 * rate.c - a ring of progress samples, the median of rates, and the
 * fair shares of --limit-rate.
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

void limit_init(rate_limit *l, double rate, int64_t now)
{
    *l = (rate_limit){.rate = rate, .t = now};
}

double limit_share(const rate_limit *l)
{
    if (l->rate <= 0)
        return 0;
    return l->n > 0 ? l->rate / l->n : l->rate;
}

/* Bring the credit every flow is allowed up to now. */
static void advance(rate_limit *l, int64_t now)
{
    if (now <= l->t)
        return;
    if (l->rate > 0 && l->n > 0)
        l->credit += limit_share(l) * (double)(now - l->t) / 1000.0;
    l->t = now;
}

void limit_set(rate_limit *l, double rate, int64_t now)
{
    advance(l, now);
    l->rate = rate;
    if (rate <= 0)
        l->spare = 0;
}

void limit_join(rate_limit *l, rate_flow *f, int64_t now)
{
    advance(l, now); /* the others earned at the old share until now */
    l->n++;
    *f = (rate_flow){.credit = l->credit};
}

void limit_leave(rate_limit *l, rate_flow *f, int64_t now)
{
    advance(l, now);
    l->n--;
    *f = (rate_flow){0};
}

int limit_open(rate_limit *l, rate_flow *f, int64_t now)
{
    if (l->rate <= 0)
        return 1;
    advance(l, now);
    f->tokens += l->credit - f->credit;
    f->credit = l->credit;
    double cap = limit_share(l) * RATE_BURST_MS / 1000.0;
    if (f->tokens > cap) {
        l->spare += f->tokens - cap;
        f->tokens = cap;
        double most = l->rate * RATE_BURST_MS / 1000.0;
        if (most < l->big)
            most = l->big;
        if (l->spare > most)
            l->spare = most;
    }
    return f->tokens + l->spare > 0; /* (spare >= 0) */
}

void limit_take(rate_limit *l, rate_flow *f, size_t n)
{
    if (l->rate <= 0)
        return;
    if ((double)n > l->big)
        l->big = (double)n;
    double need = (double)n - f->tokens; /* a debt included */
    if (need > 0 && l->spare > 0) {
        double from = need < l->spare ? need : l->spare;
        l->spare -= from;
        f->tokens += from;
    }
    f->tokens -= (double)n;
}

long limit_wait_ms(const rate_limit *l, const rate_flow *f)
{
    double share = limit_share(l);
    if (share <= 0 || f->tokens > 0)
        return 0;
    return (long)(-f->tokens * 1000.0 / share) + 1;
}
