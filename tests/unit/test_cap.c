/* SPDX-License-Identifier: MIT */
/* Unit tests for learning a server's cap on connections (sched.h,
 * sched_cap) and how the scheduler uses it: refusals while others work
 * lower the limit, growth probes it again ever more rarely, and a cap is
 * never a strike against the source. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "policy.h"
#include "sched.h"
#include "sim.h"

Test(unit_cap, a_refusal_lowers_the_limit_to_the_others)
{
    sched_cap c;
    cap_init(&c, 8);
    cr_assert_eq(c.limit, 8);
    cr_assert_not(c.capped);
    cr_assert(cap_refused(&c, 7, -1, 1000), "7 < 8: lowered");
    cr_assert_eq(c.limit, 7);
    cr_assert(c.capped);
    /* The same round, as the others' refusals come in. */
    for (int others = 6; others >= 2; others--)
        cr_assert(cap_refused(&c, others, -1, 1000));
    cr_assert_eq(c.limit, 2);
    cr_assert_not(cap_refused(&c, 5, -1, 1000), "never raised by a refusal");
    cr_assert_eq(c.limit, 2);
    cr_assert_eq(c.grow_ms, CAP_GROW_MS, "a first round does not slow growth");
}

Test(unit_cap, never_below_one)
{
    sched_cap c;
    cap_init(&c, 4);
    (void)cap_refused(&c, 0, -1, 0);
    cr_assert_eq(c.limit, 1);
    (void)cap_refused(&c, -3, -1, 0);
    cr_assert_eq(c.limit, 1);
}

Test(unit_cap, growth_waits_for_busy_slots_and_its_time)
{
    sched_cap c;
    cap_init(&c, 8);
    (void)cap_refused(&c, 2, -1, 1000);
    cap_grow(&c, 2, 1000 + CAP_GROW_MS - 1);
    cr_assert_eq(c.limit, 2, "too early");
    cap_grow(&c, 1, 1000 + CAP_GROW_MS);
    cr_assert_eq(c.limit, 2, "a slot is idle: nothing to learn");
    cap_grow(&c, 2, 1000 + CAP_GROW_MS);
    cr_assert_eq(c.limit, 3, "all busy and due: one more");
    cap_grow(&c, 3, 1000 + CAP_GROW_MS);
    cr_assert_eq(c.limit, 3, "one step at a time");
    cap_grow(&c, 3, 1000 + 2 * CAP_GROW_MS);
    cr_assert_eq(c.limit, 4);
}

Test(unit_cap, a_refused_probe_doubles_the_wait_up_to_its_cap)
{
    sched_cap c;
    cap_init(&c, 8);
    int64_t now = 0;
    (void)cap_refused(&c, 2, -1, now);
    long want = CAP_GROW_MS;
    for (int i = 0; i < 10; i++) {
        now = c.grow_at;
        cap_grow(&c, 2, now);
        cr_assert_eq(c.limit, 3);
        (void)cap_refused(&c, 2, -1, now); /* the probe is turned away */
        cr_assert_eq(c.limit, 2);
        want = want * 2 > CAP_GROW_MAX_MS ? CAP_GROW_MAX_MS : want * 2;
        cr_assert_eq(c.grow_ms, want, "probe %d", i);
        cr_assert_eq(c.grow_at, now + want, "probe %d: the next one waits",
                     i);
    }
    cr_assert_eq(c.grow_ms, CAP_GROW_MAX_MS);
}

Test(unit_cap, retry_after_postpones_growth)
{
    sched_cap c;
    cap_init(&c, 8);
    (void)cap_refused(&c, 2, 30, 1000);
    cr_assert_eq(c.grow_at, 1000 + 30000);
    cap_grow(&c, 2, 1000 + 29999);
    cr_assert_eq(c.limit, 2);
}

Test(unit_cap, never_above_what_was_asked)
{
    sched_cap c;
    cap_init(&c, 3);
    cap_grow(&c, 3, 1000000);
    cr_assert_eq(c.limit, 3);
}

Test(unit_cap, refusals_are_503_429_and_connections_turned_away)
{
    cr_assert(policy_refusal(503, FK_NONE));
    cr_assert(policy_refusal(429, FK_NONE));
    for (int st = 100; st < 600; st++)
        if (st != 503 && st != 429)
            cr_assert_not(policy_refusal(st, FK_RECV), "%d", st);
    cr_assert(policy_refusal(0, FK_CONNECT));
    cr_assert(policy_refusal(0, FK_RECV));
    cr_assert(policy_refusal(0, FK_SEND));
    cr_assert(policy_refusal(0, FK_NOTHING));
    cr_assert_not(policy_refusal(0, FK_TIMEOUT));
    cr_assert_not(policy_refusal(0, FK_TLS));
    cr_assert_not(policy_refusal(0, FK_RESOLVE));
}

/* Eight connections on one source; the ones from first on are turned
 * away while the others run. */
static void refuse_from(sim *m, int first)
{
    sim_plan_even(m, 64 * MiB, 8);
    sim_init(m, 8, 1, 1, 3);
    m->now = 1000;
    cr_assert_eq(sim_start_all(m), 8);
    for (int c = first; c < 8; c++)
        cr_assert_eq(sim_finish(m, c, SE_REFUSED, -1, (uint64_t)c),
                     SA_CAPPED, "conn %d", c);
}

Test(unit_cap, refusals_while_others_work_are_a_cap_not_strikes)
{
    sim m = {0};
    refuse_from(&m, 2);
    cr_assert_eq(m.s.srcs[0].cap.limit, 2);
    cr_assert_eq(m.s.srcs[0].strikes, 0, "a cap is no failure");
    cr_assert_not(m.s.srcs[0].dead);
    /* Their ranges wait for nobody's backoff, but nobody may take them
     * beyond the cap. */
    int c, g;
    int64_t wake;
    cr_assert_not(sim_next(&m, &c, &g, &wake), "over the cap");
    for (int i = 2; i < 8; i++)
        cr_assert_eq(m.s.rt[i].next_at, 0, "range %d backs off", i);
    /* A running one finishes: its connection takes a waiting range. */
    m.segs[0].done = m.segs[0].end;
    cr_assert_eq(sim_finish(&m, 0, SE_DONE, -1, 0), SA_NONE);
    cr_assert(sim_next(&m, &c, &g, &wake));
    cr_assert_neq(g, 0);
    sim_done(&m);
}

Test(unit_cap, a_refusal_with_nobody_else_at_work_is_a_failure)
{
    sim m = {0};
    sim_plan_even(&m, 8 * MiB, 1);
    sim_init(&m, 1, 1, 1, 3);
    m.now = 1000;
    cr_assert_eq(sim_start_all(&m), 1);
    cr_assert_eq(sim_finish(&m, 0, SE_REFUSED, -1, 0), SA_NONE);
    cr_assert_eq(m.s.srcs[0].strikes, 1);
    cr_assert_eq(m.s.srcs[0].cap.limit, 1, "nothing learnt");
    cr_assert_not(m.s.srcs[0].cap.capped);
    sim_done(&m);
}

Test(unit_cap, the_limit_grows_back_when_the_server_allows_it)
{
    sim m = {0};
    refuse_from(&m, 2);
    m.now += CAP_GROW_MS;
    int c, g;
    int64_t wake;
    cr_assert(sim_next(&m, &c, &g, &wake), "no probe after %d ms",
              CAP_GROW_MS);
    sched_start(&m.s, c, g, m.now);
    cr_assert_eq(m.s.srcs[0].cap.limit, 3);
    cr_assert_not(sim_next(&m, &c, &g, &wake), "one probe at a time");
    sim_done(&m);
}

Test(unit_cap, a_growth_that_holds_makes_the_next_one_sooner_again)
{
    sched_cap c;
    cap_init(&c, 8);
    (void)cap_refused(&c, 2, -1, 0);
    cap_grow(&c, 2, c.grow_at);   /* probe: 3 */
    (void)cap_refused(&c, 2, -1, c.grow_at); /* refused: wait doubles */
    cr_assert_eq(c.grow_ms, 2 * CAP_GROW_MS);
    cap_grow(&c, 2, c.grow_at);   /* probe again: 3 */
    cr_assert_eq(c.limit, 3);
    cap_grow(&c, 3, c.grow_at);   /* it held: 4, and the wait is back */
    cr_assert_eq(c.limit, 4);
    cr_assert_eq(c.grow_ms, CAP_GROW_MS);
}
