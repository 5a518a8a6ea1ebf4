/* SPDX-License-Identifier: MIT */
/* Unit tests for the scheduler's hedges (sched.h): when a free connection
 * duplicates the rest of a range whose owner stalled, and how the race
 * ends -- on a simulated clock with simulated rates. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "plan.h"
#include "sched.h"
#include "sim.h"

/* Two connections on two 1 MiB segments at 1 MiB/s; conn 1 stalls after
 * 64 KiB.  Runs until conn 0 has nothing left to take but a hedge, and
 * returns with conn 0 free. */
static void stall_at_the_tail(sim *m)
{
    sim_plan_even(m, 2 * MiB, 2);
    sim_init(m, 2, 1, 1, 5);
    m->now = 1000;
    cr_assert_eq(sim_start_all(m), 2);
    m->step[0] = 256 * KiB;
    m->step[1] = 64 * KiB;
    (void)sim_run(m, m->now + STEP);
    m->step[1] = 0; /* a trickle of nothing */
    /* Conn 0 finishes, takes parts of conn 1's range, finishes those. */
    for (int i = 0; i < 100; i++) {
        (void)sim_run(m, m->now + STEP);
        sched_conn *k = &m->s.conns[0];
        if (k->seg >= 0 && m->segs[k->seg].done >= m->segs[k->seg].end)
            cr_assert_eq(sim_finish(m, 0, SE_DONE, -1, 0), SA_NONE);
        if (k->seg < 0) {
            int c, g;
            int64_t wake;
            if (!sim_next(m, &c, &g, &wake) || m->s.rt[g].conn >= 0)
                break; /* nothing, or only a hedge */
            sched_start(&m->s, c, g, m->now);
            m->from[c] = m->segs[g].done;
        }
    }
    cr_assert_eq(m->s.conns[0].seg, -1, "conn 0 still busy");
    cr_assert_geq(m->s.conns[1].seg, 0, "conn 1 is not running");
}

Test(unit_hedge, a_stalled_owner_at_the_tail_is_hedged)
{
    sim m = {0};
    stall_at_the_tail(&m);
    int own = m.s.conns[1].seg;
    int64_t left = m.segs[own].end - m.segs[own].done;
    cr_assert_gt(left, 0);
    cr_assert_lt(left, 128 * KiB, "stealing left the owner %lld",
                  (long long)left);
    int c, g;
    int64_t wake;
    cr_assert(sim_next(&m, &c, &g, &wake), "no hedge for a stalled owner");
    cr_assert_eq(c, 0);
    cr_assert_eq(g, own, "the hedge is for the stalled range");
    sched_start(&m.s, c, g, m.now);
    cr_assert_eq(m.s.rt[g].conn, 1, "the owner keeps the range");
    cr_assert_eq(m.s.rt[g].hedge, 0);
    cr_assert_eq(m.s.hedges, 1);
    cr_assert_eq(sched_loser(&m.s), -1, "nobody has lost yet");
    /* One hedge per range: nothing more to do. */
    cr_assert_not(sim_next(&m, &c, &g, &wake));
    sim_done(&m);
}

Test(unit_hedge, a_hedge_that_overtakes_takes_the_range_over)
{
    sim m = {0};
    stall_at_the_tail(&m);
    int c, g;
    int64_t wake;
    cr_assert(sim_next(&m, &c, &g, &wake));
    sched_start(&m.s, c, g, m.now);
    /* The hedge writes past its owner's frontier. */
    cr_assert_eq(sched_overtaken(&m.s, g), 1);
    cr_assert_eq(m.s.rt[g].conn, 0, "the hedge owns the range");
    cr_assert(m.s.conns[1].lost);
    cr_assert_eq(sched_loser(&m.s), 1, "the overtaken owner is stopped");
    cr_assert_eq(sim_finish(&m, 1, SE_DROPPED, -1, 0), SA_NONE);
    cr_assert_eq(m.s.rt[g].conn, 0);
    cr_assert_eq(m.s.rt[g].hedge, -1);
    cr_assert(m.segs[g].active, "the range is still being fetched");
    cr_assert_eq(sched_loser(&m.s), -1);
    m.segs[g].done = m.segs[g].end;
    cr_assert_eq(sim_finish(&m, 0, SE_DONE, -1, 0), SA_NONE);
    cr_assert_eq(plan_remaining(m.segs, m.n), 0);
    cr_assert_eq(m.s.srcs[0].strikes, 0, "a lost race is no strike");
    sim_assert_tiles(&m, 2 * MiB);
    sim_done(&m);
}

Test(unit_hedge, an_owner_that_finishes_first_ends_the_race)
{
    sim m = {0};
    stall_at_the_tail(&m);
    int c, g;
    int64_t wake;
    cr_assert(sim_next(&m, &c, &g, &wake));
    sched_start(&m.s, c, g, m.now);
    /* The owner delivers the rest before the hedge passes it. */
    m.segs[g].done = m.segs[g].end;
    cr_assert_eq(sim_finish(&m, 1, SE_DONE, -1, 0), SA_NONE);
    cr_assert_eq(sched_loser(&m.s), 0, "the hedge is stopped");
    cr_assert_eq(sim_finish(&m, 0, SE_DROPPED, -1, 0), SA_NONE);
    cr_assert_eq(sched_active(&m.s), 0);
    cr_assert_eq(plan_remaining(m.segs, m.n), 0);
    sim_done(&m);
}

Test(unit_hedge, a_failing_hedge_leaves_the_owner_alone)
{
    sim m = {0};
    stall_at_the_tail(&m);
    int c, g;
    int64_t wake;
    cr_assert(sim_next(&m, &c, &g, &wake));
    sched_start(&m.s, c, g, m.now);
    cr_assert_eq(sim_finish(&m, 0, SE_TRANSIENT, -1, 0), SA_NONE);
    cr_assert_eq(m.s.rt[g].conn, 1, "the owner keeps its range");
    cr_assert_eq(m.s.rt[g].hedge, -1);
    cr_assert(m.segs[g].active);
    cr_assert_eq(m.s.rt[g].next_at, 0, "no backoff on a range at work");
    cr_assert_eq(sched_loser(&m.s), -1);
    sim_done(&m);
}

Test(unit_hedge, a_failing_owner_leaves_the_range_to_its_hedge)
{
    sim m = {0};
    stall_at_the_tail(&m);
    int c, g;
    int64_t wake;
    cr_assert(sim_next(&m, &c, &g, &wake));
    sched_start(&m.s, c, g, m.now);
    cr_assert_eq(sim_finish(&m, 1, SE_TRANSIENT, -1, 0), SA_NONE);
    cr_assert_eq(m.s.rt[g].conn, 0, "the hedge goes on alone");
    cr_assert_eq(m.s.rt[g].hedge, -1);
    cr_assert(m.segs[g].active);
    cr_assert_eq(m.s.rt[g].next_at, 0);
    sim_done(&m);
}

Test(unit_hedge, a_healthy_owner_is_not_hedged)
{
    /* The owner of the last range runs at the best rate: idle
     * connections wait for it. */
    sim m = {0};
    sim_plan_even(&m, 2 * MiB, 2);
    sim_init(&m, 2, 1, 1, 5);
    m.now = 1000;
    cr_assert_eq(sim_start_all(&m), 2);
    m.step[0] = m.step[1] = 64 * KiB;
    (void)sim_run(&m, m.now + 4 * STEP);
    m.segs[0].done = m.segs[0].end;
    cr_assert_eq(sim_finish(&m, 0, SE_DONE, -1, 0), SA_NONE);
    for (int i = 0; i < 12; i++) {
        (void)sim_run(&m, m.now + STEP);
        int c, g;
        int64_t wake;
        if (sim_next(&m, &c, &g, &wake)) {
            cr_assert_eq(m.s.rt[g].conn, -1, "hedged a healthy owner at "
                                             "%lld", (long long)m.now);
            sched_start(&m.s, c, g, m.now); /* a split: fine */
            m.from[c] = m.segs[g].done;
        }
    }
    cr_assert_eq(m.s.hedges, 0);
    sim_done(&m);
}

Test(unit_hedge, never_within_half_a_second_of_the_request)
{
    /* An owner is judged by its last two samples only once it has run
     * that long. */
    sim m = {0};
    sim_plan_even(&m, 2 * MiB, 2);
    sim_init(&m, 2, 1, 1, 5);
    m.now = 1000;
    cr_assert_eq(sim_start_all(&m), 2);
    m.s.ref_rate = 4 * MiB; /* a fast connection was seen */
    m.segs[0].done = m.segs[0].end;
    cr_assert_eq(sim_finish(&m, 0, SE_DONE, -1, 0), SA_NONE);
    m.segs[1].end = m.segs[1].start + 64 * KiB; /* nothing to steal */
    int c, g;
    int64_t wake;
    (void)sim_run(&m, m.now + STEP);
    cr_assert_not(sim_next(&m, &c, &g, &wake), "hedged after 250 ms");
    (void)sim_run(&m, m.now + 2 * STEP);
    cr_assert(sim_next(&m, &c, &g, &wake), "not hedged after 750 ms");
    sim_done(&m);
}

Test(unit_hedge, no_hedge_under_a_rate_limit)
{
    sim m = {0};
    stall_at_the_tail(&m);
    sched_limit(&m.s, 1.0 * MiB);
    int c, g;
    int64_t wake;
    cr_assert_not(sim_next(&m, &c, &g, &wake));
    sim_done(&m);
}

Test(unit_hedge, no_hedge_when_a_fresh_connection_would_not_be_much_faster)
{
    /* The best rate seen lately is what a fresh connection would do: at
     * 1 byte/s it would be no faster than the stalled owner (judged at
     * 1 byte/s too), so nothing is gained. */
    sim m = {0};
    stall_at_the_tail(&m);
    m.s.ref_rate = 1; /* nothing fast was seen */
    int c, g;
    int64_t wake;
    cr_assert_not(sim_next(&m, &c, &g, &wake));
    sim_done(&m);
}

Test(unit_hedge, hedges_stay_within_their_budget)
{
    sim m = {0};
    stall_at_the_tail(&m);
    m.s.hedges = 2 * m.s.nconns;
    int c, g;
    int64_t wake;
    cr_assert_not(sim_next(&m, &c, &g, &wake));
    sim_done(&m);
}

Test(unit_hedge, a_race_is_never_split_nor_replaced)
{
    sim m = {0};
    stall_at_the_tail(&m);
    int c, g;
    int64_t wake;
    cr_assert(sim_next(&m, &c, &g, &wake));
    sched_start(&m.s, c, g, m.now);
    /* Give the range room to split, and rates that would replace. */
    m.segs[g].end = m.segs[g].done + 1 * MiB;
    for (int i = 0; i < 8; i++) {
        m.now += STEP;
        cr_assert_eq(sched_adapt(&m.s, m.now), -1, "replaced in a race");
    }
    cr_assert_eq(m.s.rt[g].hedge, 0);
    sim_done(&m);
}

Test(unit_hedge, the_best_rate_fades)
{
    sim m = {0};
    sim_plan_even(&m, 64 * MiB, 1);
    sim_init(&m, 1, 1, 1, 5);
    m.now = 1000;
    cr_assert_eq(sim_start_all(&m), 1);
    m.step[0] = 1 * MiB;
    (void)sim_run(&m, m.now + 4 * STEP);
    double best = m.s.ref_rate;
    cr_assert_gt(best, 3.0 * MiB, "best %.0f", best);
    m.step[0] = 0;
    (void)sim_run(&m, m.now + 40 * STEP);
    cr_assert_lt(m.s.ref_rate, best / 2, "still %.0f of %.0f after 10 s",
                 m.s.ref_rate, best);
    cr_assert_gt(m.s.ref_rate, 0);
    sim_done(&m);
}
