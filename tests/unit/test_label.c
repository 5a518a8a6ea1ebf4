/* SPDX-License-Identifier: MIT */
/* Unit tests for sched_label (sched.c): the connection numbers a progress
 * display shows on each segment stay with their connections. */
#include <criterion/criterion.h>

#include "sched.h"
#include "sim.h"

Test(unit_sched, labels_follow_connections_across_splits)
{
    sim m = {0};
    const int64_t b[] = {0, 10 * MiB, 30 * MiB};
    sim_plan_bounds(&m, b, 2);
    sim_init(&m, 3, 1, 1, 5);
    cr_assert_eq(sim_start_one(&m, NULL), 0);
    cr_assert_eq(sim_start_one(&m, NULL), 1);
    sched_label(&m.s);
    cr_assert_eq(m.segs[0].conn, 1);
    cr_assert_eq(m.segs[1].conn, 2);
    /* A third connection splits segment 1 (the most left): its owner
     * keeps its number, the new range shows the newcomer's. */
    m.s.conns[1].got = 2 * MiB;
    m.segs[1].done = 12 * MiB;
    int g = -1;
    cr_assert_eq(sim_start_one(&m, &g), 2);
    cr_assert_eq(g, 2);
    sched_label(&m.s);
    cr_assert_eq(m.segs[0].conn, 1);
    cr_assert_eq(m.segs[1].conn, 2);
    cr_assert_eq(m.segs[2].conn, 3);
    /* Connection 0 (number 1) ends its range: that segment shows none;
     * it then splits another, and is number 1 there. */
    m.segs[0].done = m.segs[0].end;
    m.s.conns[0].got = 10 * MiB;
    sim_finish(&m, 0, SE_DONE, -1, 0);
    sched_label(&m.s);
    cr_assert_eq(m.segs[0].conn, 0);
    cr_assert_eq(m.segs[0].active, 0);
    cr_assert_eq(sim_start_one(&m, &g), 0);
    cr_assert_eq(g, 3);
    sched_label(&m.s);
    cr_assert_eq(m.segs[1].conn, 2, "the owners keep their numbers");
    cr_assert_eq(m.segs[2].conn, 3);
    cr_assert_eq(m.segs[3].conn, 1);
    sim_assert_tiles(&m, 30 * MiB);
    sim_done(&m);
}

Test(unit_sched, a_race_shows_its_owner_and_the_winner_after_it)
{
    sim m = {0};
    const int64_t b[] = {0, 8 * MiB, 16 * MiB};
    sim_plan_bounds(&m, b, 2);
    sim_init(&m, 3, 1, 1, 5);
    cr_assert_eq(sim_start_one(&m, NULL), 0);
    cr_assert_eq(sim_start_one(&m, NULL), 1);
    /* Connection 2 races connection 1 on segment 1. */
    sched_start(&m.s, 2, 1, m.now);
    sched_label(&m.s);
    cr_assert_eq(m.segs[1].conn, 2, "the owner");
    cr_assert_eq(sched_overtaken(&m.s, 1), 1);
    sched_label(&m.s);
    cr_assert_eq(m.segs[1].conn, 3, "the connection that overtook it");
    sim_done(&m);
}
