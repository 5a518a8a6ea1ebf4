/* SPDX-License-Identifier: MIT */
/* Unit tests for rate.c: rates over two-second spans, medians, the fair
 * shares of --limit-rate. */
#include <criterion/criterion.h>

#include "rate.h"

Test(unit_rate, unknown_until_two_intervals)
{
    rate_meter m;
    rate_start(&m, 1000);
    cr_assert_lt(rate_sample(&m, 1100, 500), 0, "too early to sample");
    cr_assert_lt(rate_sample(&m, 1250, 1000), 0, "one interval");
    cr_assert_float_eq(rate_sample(&m, 1500, 3000), 6000.0, 1e-6);
}

Test(unit_rate, steady_rate)
{
    rate_meter m;
    rate_start(&m, 0);
    double r = -1;
    for (int64_t t = 250; t <= 10000; t += 250)
        r = rate_sample(&m, t, t * 1000); /* 1 MB/s */
    cr_assert_float_eq(r, 1e6, 1e-3);
}

Test(unit_rate, window_forgets_after_two_seconds)
{
    rate_meter m;
    rate_start(&m, 0);
    int64_t got = 0;
    /* Five seconds at 8 MB/s, then nothing for 2.5 s. */
    for (int64_t t = 250; t <= 5000; t += 250) {
        got += 2000000;
        rate_sample(&m, t, got);
    }
    cr_assert_float_eq(m.rate, 8e6, 1e-3);
    double r = 0;
    for (int64_t t = 5250; t <= 7000; t += 250)
        r = rate_sample(&m, t, got);
    cr_assert_float_eq(r, 0.0, 1e-6, "still remembers older bytes: %f", r);
}

Test(unit_rate, bursts_once_a_second_read_as_their_average)
{
    rate_meter m;
    rate_start(&m, 0);
    int64_t got = 0;
    double lo = 1e18;
    for (int64_t t = 250; t <= 8000; t += 250) {
        if (t % 1000 == 0)
            got += 8000000; /* 8 MB each second, all at once */
        double r = rate_sample(&m, t, got);
        if (t >= 2000 && r < lo)
            lo = r;
    }
    /* Never reads as idle: at worst 3 of 4 bursts in a two second span. */
    cr_assert_geq(lo, 6e6, "lowest rate %f", lo);
}

Test(unit_rate, median)
{
    double a[] = {5, 1, 3};
    cr_assert_float_eq(rate_median(a, 3), 3.0, 1e-9);
    double b[] = {8, 1, 2, 4};
    cr_assert_float_eq(rate_median(b, 4), 3.0, 1e-9);
    cr_assert_float_eq(rate_median(b, 0), -1.0, 1e-9);
}

/* --- the fair shares of --limit-rate --- */

/* A transfer in simulation: its server sends server bytes per second
 * (0: as fast as allowed); what arrived is written in pieces of write
 * bytes, as libcurl's buffer hands them over. */
typedef struct flow_sim {
    rate_flow f;
    double server;
    double write;
    double avail;
    int64_t got;
} flow_sim;

/* Millisecond by millisecond from from to to: every flow is refilled (the
 * engine's turn), then each writes what it may, always in the same order:
 * with one bucket for all, the first would take everything. */
static void run_flows(rate_limit *l, flow_sim *v, int n, int64_t from,
                      int64_t to)
{
    for (int64_t t = from; t < to; t++)
        for (int i = 0; i < n; i++) {
            flow_sim *x = &v[i];
            x->avail = x->server > 0 ? x->avail + x->server / 1000.0
                                     : x->write;
            if (x->avail > 64 * x->write)
                x->avail = 64 * x->write; /* the server waits meanwhile */
            while (x->avail >= x->write && limit_open(l, &x->f, t)) {
                limit_take(l, &x->f, (size_t)x->write);
                x->avail -= x->write;
                x->got += (int64_t)x->write;
            }
            (void)limit_open(l, &x->f, t);
        }
}

Test(unit_rate, each_flow_gets_its_share_whatever_the_order)
{
    /* 8 MB/s among 8 greedy flows writing 256 KiB at a time: 1 MB/s
     * each, in every second, and no more than the limit in all. */
    rate_limit l;
    limit_init(&l, 8e6, 0);
    flow_sim v[8];
    for (int i = 0; i < 8; i++) {
        v[i] = (flow_sim){.write = 262144};
        limit_join(&l, &v[i].f, 0);
    }
    cr_assert_float_eq(limit_share(&l), 1e6, 1e-6);
    int64_t before[8] = {0};
    for (int64_t s = 0; s < 10; s++) {
        run_flows(&l, v, 8, s * 1000, (s + 1) * 1000);
        for (int i = 0; i < 8; i++) {
            int64_t d = v[i].got - before[i];
            if (s >= 1)
                cr_assert(d >= 500000 && d <= 1600000,
                          "second %lld: flow %d took %lld", (long long)s, i,
                          (long long)d);
            before[i] = v[i].got;
        }
    }
    int64_t total = 0;
    for (int i = 0; i < 8; i++) {
        cr_assert(v[i].got >= 9000000 && v[i].got <= 11000000,
                  "flow %d: %lld in 10 s", i, (long long)v[i].got);
        total += v[i].got;
    }
    /* The limit, plus one write per flow. */
    cr_assert_leq(total, 80000000 + 8 * 262144, "%lld", (long long)total);
    cr_assert_geq(total, 78000000, "%lld", (long long)total);
}

Test(unit_rate, what_a_flow_leaves_unused_goes_to_the_others)
{
    /* 8 MB/s; flow 0's server sends 1 MB/s, flow 1 takes all it may. */
    rate_limit l;
    limit_init(&l, 8e6, 0);
    flow_sim v[2] = {{.server = 1e6, .write = 16384}, {.write = 262144}};
    limit_join(&l, &v[0].f, 0);
    limit_join(&l, &v[1].f, 0);
    run_flows(&l, v, 2, 0, 10000);
    cr_assert(v[0].got >= 9500000 && v[0].got <= 10100000, "slow: %lld",
              (long long)v[0].got);
    cr_assert_geq(v[1].got, 66000000, "the rest went unused: %lld",
                  (long long)v[1].got);
    cr_assert_leq(v[0].got + v[1].got, 80000000 + 2 * 262144, "%lld",
                  (long long)(v[0].got + v[1].got));
}

Test(unit_rate, a_flow_in_debt_does_not_live_on_the_spare)
{
    /* Flow 0 never writes; its share goes to the spare.  Flow 1 writes
     * 256 KiB at a time, more than the spare ever holds: it may use the
     * spare to clear its debt, never to run it up, so the total stays at
     * the limit. */
    rate_limit l;
    limit_init(&l, 1e6, 0);
    flow_sim v[2] = {{.server = 1e-9, .write = 262144}, {.write = 262144}};
    limit_join(&l, &v[0].f, 0);
    limit_join(&l, &v[1].f, 0);
    run_flows(&l, v, 2, 0, 20000);
    cr_assert_eq(v[0].got, 0);
    cr_assert_leq(v[1].got, 20000000 + 262144, "%lld", (long long)v[1].got);
    cr_assert_geq(v[1].got, 18000000, "%lld", (long long)v[1].got);
}

Test(unit_rate, shares_follow_the_flows_and_the_rate)
{
    rate_limit l;
    rate_flow f[4];
    limit_init(&l, 4e6, 0);
    cr_assert_float_eq(limit_share(&l), 4e6, 1e-6, "no flow yet: all");
    for (int i = 0; i < 4; i++)
        limit_join(&l, &f[i], 0);
    cr_assert_float_eq(limit_share(&l), 1e6, 1e-6);
    limit_leave(&l, &f[3], 100);
    cr_assert_float_eq(limit_share(&l), 4e6 / 3, 1e-6);
    /* 100 ms at a quarter, then 300 ms at a third: 125 000 bytes, but a
     * bucket holds 100 ms of its share. */
    cr_assert(limit_open(&l, &f[0], 400));
    cr_assert_float_eq(f[0].tokens, 4e6 / 3 / 10, 1e-3);
    limit_set(&l, 6e6, 400);
    cr_assert_float_eq(limit_share(&l), 2e6, 1e-6);
    limit_set(&l, 0, 500);
    cr_assert_float_eq(limit_share(&l), 0, 1e-9);
    limit_take(&l, &f[1], 1 << 30);
    cr_assert(limit_open(&l, &f[1], 500), "no limit: always open");
    cr_assert_eq(limit_wait_ms(&l, &f[1]), 0);
}

Test(unit_rate, a_flow_starts_empty_and_waits_for_its_debt)
{
    rate_limit l;
    rate_flow a, b;
    limit_init(&l, 1e6, 0);
    limit_join(&l, &a, 0);
    cr_assert_not(limit_open(&l, &a, 0), "nothing earned yet");
    cr_assert_eq(limit_wait_ms(&l, &a), 1);
    /* Five seconds alone: one bucket's worth kept, the rest spare. */
    cr_assert(limit_open(&l, &a, 5000));
    cr_assert_float_eq(a.tokens, 1e5, 1e-3);
    /* A newcomer earns from now on. */
    limit_join(&l, &b, 5000);
    cr_assert_float_eq(b.tokens, 0, 1e-9);
    /* 200 KB at a share of 500 KB/s, nothing spare: 100 KB owed, 200 ms. */
    l.spare = 0;
    limit_take(&l, &a, 200000);
    cr_assert_not(limit_open(&l, &a, 5000));
    cr_assert_eq(limit_wait_ms(&l, &a), 201);
    cr_assert_not(limit_open(&l, &a, 5199));
    cr_assert(limit_open(&l, &a, 5201));
}
