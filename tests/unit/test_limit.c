/* SPDX-License-Identifier: MIT */
/* Unit tests for the scheduler under a rate limit (sched.h, limit): a
 * connection the limit holds back is never split, replaced or hedged, and
 * a split halves -- on a simulated clock with simulated rates. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "plan.h"
#include "sched.h"
#include "sim.h"

/* Run to until in STEPs; the connections in the bit mask held are held
 * back by the limit at every step. */
static void run_held(sim *m, int64_t until, unsigned held)
{
    while (m->now < until) {
        cr_assert_eq(sim_run(m, m->now + STEP), -1, "replaced under a limit");
        for (int c = 0; c < m->s.nconns; c++)
            if (held & 1u << c)
                sched_held(&m->s, c, m->now);
    }
}

/* Two segments (10 MiB, 30 MiB) at 1 MiB/s each, three connections: the
 * third is free once both run. */
static void two_and_a_free_one(sim *m)
{
    const int64_t b[] = {0, 10 * MiB, 40 * MiB};
    sim_plan_bounds(m, b, 2);
    sim_init(m, 3, 1, 1, 5);
    sched_limit(&m->s, 1.0 * MiB);
    m->now = 1000;
    cr_assert_eq(sim_start_one(m, NULL), 0);
    cr_assert_eq(sim_start_one(m, NULL), 1);
    m->step[0] = m->step[1] = MiB / 4;
}

Test(unit_limit, a_connection_the_limit_holds_back_is_never_split)
{
    sim m = {0};
    two_and_a_free_one(&m);
    for (int64_t t = 1000; t < 20000; t += STEP) {
        run_held(&m, t + STEP, 3);
        int c, g;
        int64_t wake;
        cr_assert_not(sim_next(&m, &c, &g, &wake), "split at %lld ms",
                      (long long)m.now);
    }
    cr_assert_eq(m.n, 2);
    cr_assert_eq(m.s.replaced, 0);
    cr_assert_eq(m.s.hedges, 0);
}

Test(unit_limit, one_its_server_holds_back_is_split_in_halves)
{
    /* Segment 1's server sends at a quarter of the share: the limit never
     * holds it back.  Segment 0 goes 4 times as fast, held back.  After
     * half a second unheld, the free connection takes half of what is
     * left of segment 1, whatever the rates. */
    sim m = {0};
    two_and_a_free_one(&m);
    m.step[1] = MiB / 16;
    int64_t held_until = 3000;
    run_held(&m, held_until, 3); /* 1 held at first: bursts */
    int c, g;
    int64_t wake;
    run_held(&m, held_until + 250, 1);
    cr_assert_not(sim_next(&m, &c, &g, &wake), "split after 250 ms");
    run_held(&m, held_until + 500, 1);
    int64_t done = m.segs[1].done;
    g = -1;
    cr_assert_eq(sim_start_one(&m, &g), 2);
    int64_t half = done + (40 * MiB - done) / 2;
    cr_assert(m.segs[1].end >= half - 1 && m.segs[1].end <= half + 1,
              "split at %lld, half is %lld", (long long)m.segs[1].end,
              (long long)half);
    cr_assert_eq(m.segs[g].end, 40 * MiB);
    cr_assert_eq(m.segs[0].end, 10 * MiB, "the held one is whole");
    sim_assert_tiles(&m, 40 * MiB);
    sim_done(&m);
}

Test(unit_limit, a_request_is_not_split_in_its_first_half_second)
{
    /* More connections than segments: the free ones wait, as the
     * requests just asked for whole ranges that the server may be
     * sending already. */
    sim m = {0};
    sim_plan_even(&m, 16 * MiB, 2);
    sim_init(&m, 8, 1, 1, 5);
    sched_limit(&m.s, 1.0 * MiB);
    m.now = 1000;
    cr_assert_eq(sim_start_all(&m), 2);
    m.step[0] = m.step[1] = MiB / 16;
    int c, g;
    int64_t wake;
    run_held(&m, 1250, 0);
    cr_assert_not(sim_next(&m, &c, &g, &wake));
    run_held(&m, 1500, 0);
    cr_assert(sim_next(&m, &c, &g, &wake), "the server is slow: split");
    sim_done(&m);
}

Test(unit_limit, without_the_limit_rates_decide_again)
{
    /* The same as above, the limit lifted: split by rates at once. */
    sim m = {0};
    two_and_a_free_one(&m);
    m.step[1] = MiB / 16;
    run_held(&m, 3000, 3);
    sched_limit(&m.s, 0);
    int64_t done = m.segs[1].done;
    int g = -1;
    cr_assert_eq(sim_start_one(&m, &g), 2);
    /* The owner (0.25 MiB/s) keeps 0.25 / (0.25 + 0.625) of the rest,
     * 0.625 MiB/s being the median of the rates (1 and 0.25). */
    int64_t want = done + (int64_t)((double)(40 * MiB - done) * (0.25 / 0.875));
    cr_assert(m.segs[1].end >= want - 1 && m.segs[1].end <= want + 1,
              "split at %lld, want %lld", (long long)m.segs[1].end,
              (long long)want);
    sim_done(&m);
}
