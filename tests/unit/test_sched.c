/* SPDX-License-Identifier: MIT */
/* Unit tests for sched.c: which range a free connection takes, from which
 * source, and when a connection or a source is given up -- on a simulated
 * clock with simulated rates. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "plan.h"
#include "policy.h"
#include "sched.h"
#include "sim.h"

/* ---------------------------------------------------------------------
 * Setting up, first requests
 * ------------------------------------------------------------------ */

Test(unit_sched, a_fresh_plan_gives_each_connection_its_own_segment)
{
    sim m = {0};
    sim_plan_even(&m, 64 * MiB, 8);
    sim_init(&m, 8, 3, 1, 5);
    m.now = 1000;
    int seen[8] = {0};
    for (int i = 0; i < 8; i++) {
        int g = -1;
        int c = sim_start_one(&m, &g);
        cr_assert_eq(c, i, "connections are served in order");
        cr_assert_eq(seen[g], 0, "seg %d given twice", g);
        seen[g] = 1;
        cr_assert_eq(m.s.conns[c].src, c % 3, "conn %d source %d", c,
                     m.s.conns[c].src);
        cr_assert(m.segs[g].active);
        cr_assert_eq(m.s.rt[g].conn, c);
    }
    cr_assert_eq(m.n, 8, "no split while ranges are unassigned");
    cr_assert_eq(sched_active(&m.s), 8);
    cr_assert_eq(m.s.srcs[0].conns, 3);
    cr_assert_eq(m.s.srcs[1].conns, 3);
    cr_assert_eq(m.s.srcs[2].conns, 2);
    int c, g;
    int64_t wake;
    cr_assert_eq(sim_next(&m, &c, &g, &wake), 0, "no connection is free");
    cr_assert_eq(wake, INT64_MAX);
    sim_assert_tiles(&m, 64 * MiB);
    sim_done(&m);
}

Test(unit_sched, connections_spread_over_sources_round_robin)
{
    int cases[][2] = {{5, 2}, {4, 4}, {2, 5}, {17, 17}, {64, 17}, {7, 1}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        sim m = {0};
        int nc = cases[k][0], ns = cases[k][1];
        sim_plan_even(&m, 64 * MiB, nc);
        sim_init(&m, nc, ns, 1, 5);
        cr_assert_eq(m.s.nconns, nc);
        cr_assert_eq(m.s.nsrcs, ns);
        cr_assert_eq(sim_start_all(&m), nc);
        int per[SCHED_MAX_SRCS] = {0};
        for (int c = 0; c < nc; c++) {
            cr_assert_eq(m.s.conns[c].src, c % ns, "%d/%d: conn %d", nc, ns, c);
            per[m.s.conns[c].src]++;
        }
        for (int i = 0; i < ns; i++) {
            cr_assert_eq(m.s.srcs[i].conns, per[i]);
            int lo = nc / ns, hi = (nc + ns - 1) / ns;
            cr_assert(per[i] >= lo && per[i] <= hi, "%d/%d: source %d has %d",
                      nc, ns, i, per[i]);
        }
        cr_assert_eq(sched_alive(&m.s), ns);
        sim_done(&m);
    }
}

Test(unit_sched, connection_and_source_counts_are_clamped)
{
    sim m = {0};
    sim_plan_even(&m, 64 * MiB, 4);
    sim_init(&m, 1000, 1000, 1, 5);
    cr_assert_eq(m.s.nconns, SCHED_MAX_CONNS);
    cr_assert_eq(m.s.nsrcs, SCHED_MAX_SRCS);
    sim_done(&m);
    sim_init(&m, 0, 0, 1, 5);
    cr_assert_eq(m.s.nconns, 1);
    cr_assert_eq(m.s.nsrcs, 1);
    cr_assert_eq(sched_alive(&m.s), 1);
    cr_assert_eq(sched_active(&m.s), 0);
    sim_done(&m);
}

Test(unit_sched, init_forgets_stale_active_flags)
{
    sim m = {0};
    sim_plan_even(&m, 8 * MiB, 4);
    for (int i = 0; i < 4; i++)
        m.segs[i].active = 1; /* left over from a journal */
    sim_init(&m, 4, 1, 1, 5);
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(m.segs[i].active, 0);
        cr_assert_eq(m.s.rt[i].conn, -1);
    }
    cr_assert_eq(sim_start_all(&m), 4);
    sim_done(&m);
}

Test(unit_sched, without_ranges_one_connection_one_source)
{
    sim m = {0};
    sim_plan_even(&m, 100 * MiB, 1);
    sim_init(&m, 8, 4, 0, 5);
    cr_assert_eq(m.s.nconns, 1);
    cr_assert_eq(m.s.nsrcs, 1);
    int g = -1;
    cr_assert_eq(sim_start_one(&m, &g), 0);
    cr_assert_eq(g, 0);
    cr_assert_eq(m.s.conns[0].src, 0);
    /* Never a second stream, however much is left. */
    cr_assert_eq(sim_start_one(&m, NULL), -1);
    m.step[0] = 1 * MiB;
    cr_assert_eq(sim_run(&m, 5000), -1, "nothing to replace without ranges");
    cr_assert_eq(m.n, 1);
    cr_assert_eq(sched_active(&m.s), 1);
    sim_done(&m);
}

Test(unit_sched, without_ranges_nothing_is_split_after_a_failure)
{
    sim m = {0};
    sim_plan_even(&m, 100 * MiB, 1);
    sim_init(&m, 8, 4, 0, 5);
    cr_assert_eq(sim_start_one(&m, NULL), 0);
    m.s.conns[0].got = 10 * MiB;
    m.segs[0].done = 10 * MiB;
    cr_assert_eq(sim_finish(&m, 0, SE_TRANSIENT, -1, 0), SA_NONE);
    m.now += 60000;
    int g = -1;
    cr_assert_eq(sim_start_one(&m, &g), 0);
    cr_assert_eq(g, 0);
    cr_assert_eq(m.n, 1);
    sim_done(&m);
}

Test(unit_sched, an_empty_plan_has_no_work)
{
    sim m = {0};
    m.n = plan_split(0, 4, 1, m.segs, CAP);
    cr_assert_eq(m.n, 0);
    sim_init(&m, 4, 2, 1, 5);
    int c, g;
    int64_t wake;
    cr_assert_eq(sim_next(&m, &c, &g, &wake), 0);
    cr_assert_eq(wake, INT64_MAX);
    sim_done(&m);
}

Test(unit_sched, finished_segments_are_not_given_out)
{
    sim m = {0};
    sim_plan_even(&m, 4 * MiB, 4);
    m.segs[0].done = m.segs[0].end;
    m.segs[2].done = m.segs[2].end;
    sim_init(&m, 2, 1, 1, 5);
    int g0 = -1, g1 = -1;
    cr_assert_eq(sim_start_one(&m, &g0), 0);
    cr_assert_eq(sim_start_one(&m, &g1), 1);
    cr_assert_eq(g0, 1);
    cr_assert_eq(g1, 3);
    sim_done(&m);
}

/* ---------------------------------------------------------------------
 * Stealing
 * ------------------------------------------------------------------ */

Test(unit_sched, steal_halves_while_rates_are_unknown)
{
    sim m = {0};
    const int64_t b[] = {0, 10 * MiB, 30 * MiB};
    sim_plan_bounds(&m, b, 2);
    sim_init(&m, 4, 1, 1, 5);
    cr_assert_eq(sim_start_one(&m, NULL), 0);
    cr_assert_eq(sim_start_one(&m, NULL), 1);
    /* Progress nobody measured yet. */
    m.s.conns[1].got = 2 * MiB;
    m.segs[1].done = 12 * MiB;
    int g = -1;
    cr_assert_eq(sim_start_one(&m, &g), 2);
    cr_assert_eq(g, 2, "a new segment");
    cr_assert_eq(m.n, 3);
    /* Segment 1 had the most left (18 MiB): cut at the middle of it. */
    cr_assert_eq(m.segs[1].end, 21 * MiB);
    cr_assert_eq(m.segs[2].start, 21 * MiB);
    cr_assert_eq(m.segs[2].done, 21 * MiB);
    cr_assert_eq(m.segs[2].end, 30 * MiB);
    cr_assert(m.segs[2].active);
    cr_assert_eq(m.s.rt[1].conn, 1, "the owner keeps the front");
    /* The next free connection takes the half of the now largest. */
    cr_assert_eq(sim_start_one(&m, &g), 3);
    cr_assert_eq(g, 3);
    cr_assert_eq(m.segs[0].end, 5 * MiB);
    cr_assert_eq(m.segs[3].start, 5 * MiB);
    cr_assert_eq(m.segs[3].end, 10 * MiB);
    sim_assert_tiles(&m, 30 * MiB);
    sim_done(&m);
}

Test(unit_sched, steal_from_the_most_time_left_in_proportion_to_rates)
{
    /* Segment 0 (30 MiB) at 1 MiB/s, segment 1 (70 MiB) at 4 MiB/s: after
     * two seconds 0 has 28 MiB = 28 s left, 1 has 62 MiB = 15.5 s.  The
     * third connection, expected at the peers' median 2.5 MiB/s, takes
     * the back of segment 0 so both end together: the owner keeps
     * 28 * 1 / 3.5 = 8 MiB. */
    sim m = {0};
    const int64_t b[] = {0, 30 * MiB, 100 * MiB};
    sim_plan_bounds(&m, b, 2);
    sim_init(&m, 3, 1, 1, 5);
    m.now = 1000;
    cr_assert_eq(sim_start_one(&m, NULL), 0);
    cr_assert_eq(sim_start_one(&m, NULL), 1);
    m.step[0] = 1 * MiB / 4;
    m.step[1] = 4 * MiB / 4;
    cr_assert_eq(sim_run(&m, 3000), -1, "two connections: nobody to replace");
    cr_assert_float_eq(m.s.conns[0].meter.rate, (double)MiB, 1.0);
    cr_assert_float_eq(m.s.conns[1].meter.rate, 4.0 * MiB, 1.0);
    cr_assert_eq(m.segs[0].done, 2 * MiB);
    cr_assert_eq(m.segs[1].done, 38 * MiB);
    int g = -1;
    cr_assert_eq(sim_start_one(&m, &g), 2);
    cr_assert_eq(g, 2);
    int64_t at = m.segs[0].end;
    cr_assert(at >= 10 * MiB - 1 && at <= 10 * MiB + 1, "split at %lld",
              (long long)at);
    cr_assert_eq(m.segs[2].start, at);
    cr_assert_eq(m.segs[2].end, 30 * MiB);
    cr_assert_eq(m.segs[1].end, 100 * MiB, "the faster segment is whole");
    sim_assert_tiles(&m, 100 * MiB);
    sim_done(&m);
}

Test(unit_sched, a_faster_owner_keeps_more)
{
    /* Segment 0 (200 MiB) at 4 MiB/s, segment 1 (10 MiB) at 1 MiB/s.
     * After two seconds: 192 MiB = 48 s against 8 MiB = 8 s.  The owner
     * keeps 4 / (4 + 2.5) of what is left. */
    sim m = {0};
    const int64_t b[] = {0, 200 * MiB, 210 * MiB};
    sim_plan_bounds(&m, b, 2);
    sim_init(&m, 3, 1, 1, 5);
    m.now = 1000;
    cr_assert_eq(sim_start_one(&m, NULL), 0);
    cr_assert_eq(sim_start_one(&m, NULL), 1);
    m.step[0] = 4 * MiB / 4;
    m.step[1] = 1 * MiB / 4;
    cr_assert_eq(sim_run(&m, 3000), -1);
    cr_assert_eq(m.segs[0].done, 8 * MiB);
    int g = -1;
    cr_assert_eq(sim_start_one(&m, &g), 2);
    int64_t want = 8 * MiB + (int64_t)((double)(192 * MiB) * (4.0 / 6.5));
    int64_t at = m.segs[0].end;
    cr_assert(at >= want - 1 && at <= want + 1, "split at %lld, want %lld",
              (long long)at, (long long)want);
    cr_assert_eq(m.segs[g].end, 200 * MiB);
    sim_assert_tiles(&m, 210 * MiB);
    sim_done(&m);
}

Test(unit_sched, the_owner_keeps_at_least_64_KiB)
{
    /* A crawling owner (8 KiB/s) would keep 2 KiB by rates. */
    sim m = {0};
    const int64_t b[] = {0, 1 * MiB, 101 * MiB};
    sim_plan_bounds(&m, b, 2);
    sim_init(&m, 3, 1, 1, 5);
    m.now = 1000;
    cr_assert_eq(sim_start_one(&m, NULL), 0);
    cr_assert_eq(sim_start_one(&m, NULL), 1);
    m.step[0] = 8 * KiB / 4;
    m.step[1] = 8 * MiB / 4;
    cr_assert_eq(sim_run(&m, 3000), -1);
    cr_assert_eq(m.segs[0].done, 16 * KiB);
    int g = -1;
    cr_assert_eq(sim_start_one(&m, &g), 2);
    cr_assert_eq(m.segs[0].end, 16 * KiB + 64 * KiB);
    cr_assert_eq(m.segs[g].start, 80 * KiB);
    cr_assert_eq(m.segs[g].end, 1 * MiB);
    sim_done(&m);
}

Test(unit_sched, never_split_off_less_than_64_KiB)
{
    /* The owner (1 MiB/s, 1 MiB left: 1 s) is far faster than the peers'
     * median (1 KiB/s): by rates the thief would get about 1 KiB.  The
     * crawling peers have under 128 KiB left, too little to split.  Rates
     * are set on the meters directly here. */
    sim m = {0};
    const int64_t b[] = {0, 1 * MiB, 1 * MiB + 100 * KiB, 1 * MiB + 200 * KiB,
                         1 * MiB + 300 * KiB};
    sim_plan_bounds(&m, b, 4);
    sim_init(&m, 5, 1, 1, 5);
    cr_assert_eq(sim_start_one(&m, NULL), 0);
    cr_assert_eq(sim_start_one(&m, NULL), 1);
    cr_assert_eq(sim_start_one(&m, NULL), 2);
    cr_assert_eq(sim_start_one(&m, NULL), 3);
    m.s.conns[0].meter.rate = (double)MiB;
    m.s.conns[1].meter.rate = m.s.conns[2].meter.rate =
        m.s.conns[3].meter.rate = (double)KiB;
    int c, g;
    int64_t wake;
    cr_assert_eq(sim_next(&m, &c, &g, &wake), 0, "split conn %d seg %d", c, g);
    cr_assert_eq(m.n, 4);
    cr_assert_eq(m.segs[0].end, 1 * MiB);
    sim_done(&m);
}

Test(unit_sched, segments_under_128_KiB_are_never_split)
{
    int64_t sizes[] = {128 * KiB - 1, 128 * KiB};
    for (int k = 0; k < 2; k++) {
        sim m = {0};
        sim_plan_even(&m, sizes[k], 1);
        sim_init(&m, 2, 1, 1, 5);
        cr_assert_eq(sim_start_one(&m, NULL), 0);
        m.s.conns[0].meter.rate = 100; /* 100 B/s: 20 minutes left */
        int c, g;
        int64_t wake;
        int got = sim_next(&m, &c, &g, &wake);
        if (k == 0) {
            cr_assert_eq(got, 0, "%lld bytes split", (long long)sizes[k]);
        } else {
            cr_assert_eq(got, 1);
            cr_assert_eq(m.segs[0].end, 64 * KiB);
        }
        sim_done(&m);
    }
}

Test(unit_sched, no_split_for_under_0_3_s_of_work)
{
    struct {
        double rate; /* the owner's; < 0 unknown */
        int64_t left;
        int split;
    } t[] = {
        {10.0 * MiB, 2 * MiB, 0},
        {10.0 * MiB, 3 * MiB, 0}, /* exactly 0.3 s */
        {10.0 * MiB, 4 * MiB, 1},
        {-1, 200000, 0}, /* unknown: judged as 1 MB/s */
        {-1, 300000, 0},
        {-1, 400000, 1},
    };
    for (size_t k = 0; k < sizeof t / sizeof *t; k++) {
        sim m = {0};
        sim_plan_even(&m, t[k].left, 1);
        sim_init(&m, 2, 1, 1, 5);
        cr_assert_eq(sim_start_one(&m, NULL), 0);
        m.s.conns[0].meter.rate = t[k].rate;
        int c, g;
        int64_t wake;
        int got = sim_next(&m, &c, &g, &wake);
        cr_assert_eq(got, t[k].split, "case %zu: %d", k, got);
        if (got) {
            /* Only one rate known (or none): halves. */
            cr_assert_eq(m.segs[0].end, t[k].left / 2, "case %zu", k);
            cr_assert_eq(c, 1);
            cr_assert_eq(g, 1);
        } else {
            cr_assert_eq(m.n, 1);
            cr_assert_eq(wake, INT64_MAX);
        }
        sim_done(&m);
    }
}

Test(unit_sched, no_split_when_the_plan_is_full)
{
    sim m = {0};
    sim_plan_even(&m, 64 * MiB, 2);
    cr_assert_eq(sched_init(&m.s, m.segs, &m.n, 2, 3, 1, 1, 5), 0);
    cr_assert_eq(sim_start_one(&m, NULL), 0);
    cr_assert_eq(sim_start_one(&m, NULL), 1);
    cr_assert_eq(sim_start_one(&m, NULL), -1);
    cr_assert_eq(m.n, 2);
    sim_done(&m);
}

Test(unit_sched, no_split_while_a_segment_waits_out_a_backoff)
{
    sim w = {0};
    sim_plan_even(&w, 300 * MiB, 4);
    sim_init(&w, 5, 1, 1, 5);
    w.now = 1000;
    cr_assert_eq(sim_start_all(&w), 5, "four segments, then a split");
    cr_assert_eq(w.n, 5);
    /* Conn 2 loses its connection after some bytes: no strike, its range
     * waits its own backoff (rnd 0: 250 ms). */
    w.s.conns[2].got = 1 * MiB;
    w.segs[2].done += 1 * MiB;
    w.now = 1100;
    cr_assert_eq(sim_finish(&w, 2, SE_TRANSIENT, -1, 0), SA_NONE);
    cr_assert_eq(w.s.rt[2].next_at, 1100 + 250);
    /* Conn 4 is done too and free. */
    w.s.conns[4].got = w.segs[4].end - w.segs[4].done;
    w.segs[4].done = w.segs[4].end;
    cr_assert_eq(sim_finish(&w, 4, SE_DONE, -1, 0), SA_NONE);
    w.now = 1200;
    int c, g;
    int64_t wake;
    cr_assert_eq(sim_next(&w, &c, &g, &wake), 0, "split while a range waits");
    cr_assert_eq(wake, 1350, "woken when the range may go");
    cr_assert_eq(w.n, 5);
    w.now = 1350;
    cr_assert_eq(sim_next(&w, &c, &g, &wake), 1);
    cr_assert_eq(g, 2, "the waiting range first");
    sched_start(&w.s, c, g, w.now);
    cr_assert_eq(sim_next(&w, &c, &g, &wake), 1, "then a split");
    cr_assert_eq(g, 5);
    sim_done(&w);
}

/* ---------------------------------------------------------------------
 * Health: strikes, backoff, dropped sources
 * ------------------------------------------------------------------ */

Test(unit_sched, done_with_bytes_clears_strikes)
{
    sim m = {0};
    sim_plan_even(&m, 8 * MiB, 1);
    sim_init(&m, 1, 1, 1, 5);
    m.now = 1000;
    cr_assert_eq(sim_start_one(&m, NULL), 0);
    m.now = 1100;
    cr_assert_eq(sim_finish(&m, 0, SE_TRANSIENT, -1, 0), SA_NONE);
    cr_assert_eq(m.s.srcs[0].strikes, 1);
    m.now = 5000;
    cr_assert_eq(sim_start_one(&m, NULL), 0);
    m.now = 5100;
    cr_assert_eq(sim_finish(&m, 0, SE_TRANSIENT, -1, 0), SA_NONE);
    cr_assert_eq(m.s.srcs[0].strikes, 2);
    /* A request that ends without a byte clears nothing. */
    m.now = 10000;
    cr_assert_eq(sim_start_one(&m, NULL), 0);
    cr_assert_eq(sim_finish(&m, 0, SE_DONE, -1, 0), SA_NONE);
    cr_assert_eq(m.s.srcs[0].strikes, 2);
    /* Bytes do. */
    cr_assert_eq(sim_start_one(&m, NULL), 0);
    m.s.conns[0].got = 1;
    m.segs[0].done += 1;
    cr_assert_eq(sim_finish(&m, 0, SE_DONE, -1, 0), SA_NONE);
    cr_assert_eq(m.s.srcs[0].strikes, 0);
    cr_assert_eq(sched_alive(&m.s), 1);
    sim_done(&m);
}

Test(unit_sched, a_transient_failure_without_bytes_is_a_strike_and_a_backoff)
{
    sim m = {0};
    sim_plan_even(&m, 8 * MiB, 1);
    sim_init(&m, 1, 1, 1, 5);
    m.now = 1000;
    cr_assert_eq(sim_start_one(&m, NULL), 0);
    m.now = 1100;
    cr_assert_eq(sim_finish(&m, 0, SE_TRANSIENT, -1, 0), SA_NONE);
    const sched_src *s0 = &m.s.srcs[0];
    cr_assert_eq(s0->strikes, 1);
    cr_assert_eq(s0->gen, 1);
    cr_assert_eq(s0->next_at, 1100 + policy_backoff_ms(1, -1, 0));
    cr_assert_eq(s0->next_at, 1350);
    cr_assert_eq(m.s.conns[0].fresh, 1, "a new TCP connection next");
    cr_assert(!m.segs[0].active);
    cr_assert_eq(m.s.rt[0].conn, -1);
    /* The only source backs off: nothing starts, wake at its end. */
    int c, g;
    int64_t wake;
    m.now = 1200;
    cr_assert_eq(sim_next(&m, &c, &g, &wake), 0);
    cr_assert_eq(wake, 1350);
    m.now = 1349;
    cr_assert_eq(sim_next(&m, &c, &g, &wake), 0);
    cr_assert_eq(wake, 1350);
    m.now = 1350;
    cr_assert_eq(sim_next(&m, &c, &g, &wake), 1);
    cr_assert_eq(c, 0);
    cr_assert_eq(g, 0);
    /* A wake already earlier is not raised. */
    m.now = 1200;
    wake = 1250;
    cr_assert_eq(sched_next(&m.s, m.now, &c, &g, &wake), 0);
    cr_assert_eq(wake, 1250);
    sim_done(&m);
}

Test(unit_sched, backoff_grows_with_strikes)
{
    sim m = {0};
    sim_plan_even(&m, 8 * MiB, 1);
    sim_init(&m, 1, 1, 1, 10);
    m.now = 1000;
    for (int k = 1; k <= 8; k++) {
        cr_assert_eq(sim_start_one(&m, NULL), 0, "round %d", k);
        m.now += 10;
        cr_assert_eq(sim_finish(&m, 0, SE_TRANSIENT, -1, 0), SA_NONE);
        cr_assert_eq(m.s.srcs[0].strikes, k);
        long want = policy_backoff_ms(k, -1, 0);
        cr_assert_eq(m.s.srcs[0].next_at, m.now + want, "round %d", k);
        cr_assert_geq(m.s.rt[0].next_at, m.now + want, "round %d", k);
        m.now = m.s.srcs[0].next_at > m.s.rt[0].next_at ? m.s.srcs[0].next_at
                                                        : m.s.rt[0].next_at;
    }
    sim_done(&m);
}

Test(unit_sched, parallel_failures_in_one_round_are_one_strike)
{
    sim m = {0};
    sim_plan_even(&m, 64 * MiB, 4);
    sim_init(&m, 4, 1, 1, 3);
    m.now = 1000;
    cr_assert_eq(sim_start_all(&m), 4);
    m.now = 1100;
    for (int c = 0; c < 4; c++) {
        cr_assert_eq(sim_finish(&m, c, SE_TRANSIENT, -1, 0), SA_NONE, "conn %d", c);
        cr_assert_eq(m.s.srcs[0].strikes, 1, "conn %d", c);
    }
    cr_assert_eq(m.s.srcs[0].gen, 1);
    cr_assert_eq(sched_alive(&m.s), 1, "max_tries 3: still alive");
    cr_assert_eq(sched_active(&m.s), 0);
    sim_done(&m);
}

Test(unit_sched, a_request_begun_after_the_strike_counts_anew)
{
    sim m = {0};
    sim_plan_even(&m, 64 * MiB, 2);
    sim_init(&m, 2, 1, 1, 5);
    m.now = 1000;
    cr_assert_eq(sim_start_all(&m), 2);
    cr_assert_eq(m.s.conns[0].gen, 0);
    m.now = 1100;
    cr_assert_eq(sim_finish(&m, 0, SE_TRANSIENT, -1, 0), SA_NONE);
    cr_assert_eq(m.s.srcs[0].strikes, 1);
    /* After the backoff conn 0 asks again: a new round. */
    m.now = 1350;
    cr_assert_eq(sim_start_one(&m, NULL), 0);
    cr_assert_eq(m.s.conns[0].gen, 1);
    m.now = 1400;
    cr_assert_eq(sim_finish(&m, 0, SE_TRANSIENT, -1, 0), SA_NONE);
    cr_assert_eq(m.s.srcs[0].strikes, 2);
    /* Conn 1, begun in the first round, fails now: no new strike. */
    cr_assert_eq(sim_finish(&m, 1, SE_TRANSIENT, -1, 0), SA_NONE);
    cr_assert_eq(m.s.srcs[0].strikes, 2);
    sim_done(&m);
}

Test(unit_sched, a_transient_failure_after_bytes_is_no_strike)
{
    sim m = {0};
    sim_plan_even(&m, 64 * MiB, 2);
    sim_init(&m, 2, 1, 1, 2);
    m.now = 1000;
    cr_assert_eq(sim_start_all(&m), 2);
    m.now = 1100;
    cr_assert_eq(sim_finish(&m, 0, SE_TRANSIENT, -1, 0), SA_NONE);
    cr_assert_eq(m.s.srcs[0].strikes, 1);
    int64_t src_next = m.s.srcs[0].next_at;
    /* Conn 1 received bytes, then lost its connection. */
    m.s.conns[1].got = 5 * MiB;
    m.segs[1].done += 5 * MiB;
    m.now = 1200;
    cr_assert_eq(sim_finish(&m, 1, SE_TRANSIENT, -1, 0), SA_NONE);
    cr_assert_eq(m.s.srcs[0].strikes, 0, "bytes prove the source works");
    cr_assert_eq(m.s.srcs[0].next_at, src_next);
    cr_assert_eq(m.s.srcs[0].gen, 1);
    cr_assert_eq(m.s.rt[1].next_at, 1200 + policy_backoff_ms(1, -1, 0),
                 "its range waits one try's backoff");
    cr_assert_eq(sched_alive(&m.s), 1);
    /* Many such losses never drop the source. */
    for (int k = 0; k < 20; k++) {
        m.now = m.s.rt[1].next_at > m.s.srcs[0].next_at ? m.s.rt[1].next_at
                                                        : m.s.srcs[0].next_at;
        int g = -1;
        int c = sim_start_one(&m, &g);
        cr_assert(c >= 0, "round %d", k);
        m.s.conns[c].got = 1;
        m.segs[g].done += 1;
        m.now += 5;
        cr_assert_eq(sim_finish(&m, c, SE_TRANSIENT, -1, 0), SA_NONE);
    }
    cr_assert_eq(sched_alive(&m.s), 1);
    sim_done(&m);
}

Test(unit_sched, retry_after_is_honoured)
{
    sim m = {0};
    sim_plan_even(&m, 64 * MiB, 2);
    sim_init(&m, 2, 1, 1, 5);
    m.now = 1000;
    cr_assert_eq(sim_start_all(&m), 2);
    m.now = 1100;
    cr_assert_eq(sim_finish(&m, 0, SE_TRANSIENT, 7, 0), SA_NONE);
    cr_assert_eq(m.s.srcs[0].next_at, 1100 + 7000);
    cr_assert_eq(m.s.rt[0].next_at, 1100 + 7000);
    int c, g;
    int64_t wake;
    m.now = 5000;
    cr_assert_eq(sim_next(&m, &c, &g, &wake), 0);
    cr_assert_eq(wake, 8100);
    /* The same round's second failure is no strike, but its Retry-After
     * still pushes the source back. */
    m.now = 6000;
    cr_assert_eq(sim_finish(&m, 1, SE_TRANSIENT, 20, 0), SA_NONE);
    cr_assert_eq(m.s.srcs[0].strikes, 1);
    cr_assert_eq(m.s.srcs[0].next_at, 6000 + 20000);
    m.now = 8100;
    cr_assert_eq(sim_next(&m, &c, &g, &wake), 0);
    cr_assert_eq(wake, 26000);
    /* ... and is capped at 300 s. */
    m.now = 26000;
    cr_assert_eq(sim_start_one(&m, NULL), 0);
    m.now = 26100;
    cr_assert_eq(sim_finish(&m, 0, SE_TRANSIENT, 100000, 0), SA_NONE);
    cr_assert_eq(m.s.srcs[0].next_at, 26100 + 300000);
    sim_done(&m);
}

Test(unit_sched, a_backing_off_source_is_skipped_for_another)
{
    /* Conn 0's source backs off; conn 0 goes to the least loaded live
     * source instead, and the range that failed goes first: only its
     * source has to wait. */
    sim m = {0};
    sim_plan_even(&m, 50 * MiB, 5);
    sim_init(&m, 4, 3, 1, 5);
    m.now = 1000;
    for (int i = 0; i < 4; i++)
        cr_assert_eq(sim_start_one(&m, NULL), i);
    /* Sources: 0 has conns 0 and 3, 1 has conn 1, 2 has conn 2. */
    m.now = 1100;
    cr_assert_eq(sim_finish(&m, 0, SE_TRANSIENT, -1, 0), SA_NONE);
    cr_assert_gt(m.s.srcs[0].next_at, m.now);
    int g = -1;
    cr_assert_eq(sim_start_one(&m, &g), 0);
    cr_assert_eq(g, 0, "the range that failed, at once elsewhere");
    cr_assert_neq(m.s.conns[0].src, 0, "a source backing off was asked");
    cr_assert_eq(m.s.conns[0].src, 1, "the first of the least loaded");
    sim_done(&m);
}

Test(unit_sched, every_source_backing_off_wakes_at_the_first_end)
{
    sim m = {0};
    sim_plan_even(&m, 60 * MiB, 3);
    sim_init(&m, 2, 2, 1, 5);
    m.now = 1000;
    cr_assert_eq(sim_start_all(&m), 2);
    m.now = 1100;
    cr_assert_eq(sim_finish(&m, 0, SE_TRANSIENT, 9, 0), SA_NONE);
    m.now = 1200;
    cr_assert_eq(sim_finish(&m, 1, SE_TRANSIENT, 4, 0), SA_NONE);
    int c, g;
    int64_t wake;
    m.now = 2000;
    cr_assert_eq(sim_next(&m, &c, &g, &wake), 0);
    cr_assert_eq(wake, 5200, "source 1 is back first");
    sim_done(&m);
}

Test(unit_sched, max_tries_strikes_drop_a_source_and_its_range_moves_at_once)
{
    sim m = {0};
    sim_plan_even(&m, 64 * MiB, 2);
    sim_init(&m, 2, 2, 1, 2);
    m.now = 1000;
    cr_assert_eq(sim_start_all(&m), 2);
    cr_assert_eq(m.s.conns[0].src, 0);
    m.now = 1100;
    cr_assert_eq(sim_finish(&m, 0, SE_TRANSIENT, -1, 0), SA_NONE);
    /* After the backoff, source 0 is asked again by its own connection. */
    m.now = 1350;
    cr_assert_eq(sim_start_one(&m, NULL), 0);
    cr_assert_eq(m.s.conns[0].src, 0);
    m.now = 1400;
    cr_assert_eq(sim_finish(&m, 0, SE_TRANSIENT, -1, 0), SA_SRC_DROPPED);
    cr_assert(m.s.srcs[0].dead);
    cr_assert_eq(sched_alive(&m.s), 1);
    /* At once, from the live source. */
    int g = -1;
    cr_assert_eq(sim_start_one(&m, &g), 0);
    cr_assert_eq(g, 0);
    cr_assert_eq(m.s.conns[0].src, 1);
    cr_assert_eq(m.s.srcs[1].conns, 2);
    cr_assert_eq(m.s.srcs[0].conns, 0);
    sim_done(&m);
}

Test(unit_sched, the_last_source_exhausted_fails_the_download)
{
    sim m = {0};
    sim_plan_even(&m, 64 * MiB, 1);
    sim_init(&m, 1, 1, 1, 3);
    m.now = 1000;
    for (int k = 1; k <= 3; k++) {
        int64_t a = m.s.srcs[0].next_at, b = m.s.rt[0].next_at;
        m.now = (a > b ? a : b) + 1;
        cr_assert_eq(sim_start_one(&m, NULL), 0, "round %d", k);
        m.now += 10;
        sched_act want = k < 3 ? SA_NONE : SA_FAIL;
        cr_assert_eq(sim_finish(&m, 0, SE_TRANSIENT, -1, 0), want, "round %d", k);
    }
    cr_assert_eq(sched_alive(&m.s), 0);
    int c, g;
    int64_t wake;
    m.now += 100000;
    cr_assert_eq(sim_next(&m, &c, &g, &wake), 0);
    sim_done(&m);
}

Test(unit_sched, max_tries_1_drops_at_the_first_failure)
{
    sim m = {0};
    sim_plan_even(&m, 64 * MiB, 2);
    sim_init(&m, 2, 2, 1, 1);
    m.now = 1000;
    cr_assert_eq(sim_start_all(&m), 2);
    m.now = 1100;
    cr_assert_eq(sim_finish(&m, 1, SE_TRANSIENT, -1, 0), SA_SRC_DROPPED);
    cr_assert(m.s.srcs[1].dead);
    cr_assert_eq(sim_finish(&m, 0, SE_TRANSIENT, -1, 0), SA_FAIL);
    cr_assert_eq(sched_alive(&m.s), 0);
    sim_done(&m);
}

Test(unit_sched, a_source_error_drops_the_source_at_once)
{
    sim m = {0};
    sim_plan_even(&m, 64 * MiB, 3);
    sim_init(&m, 3, 3, 1, 5);
    m.now = 1000;
    cr_assert_eq(sim_start_all(&m), 3);
    m.now = 1100;
    cr_assert_eq(sim_finish(&m, 1, SE_SOURCE, -1, 0), SA_SRC_DROPPED);
    cr_assert(m.s.srcs[1].dead);
    cr_assert_eq(m.s.srcs[1].strikes, 0, "no strike needed");
    cr_assert_eq(sched_alive(&m.s), 2);
    /* Its range goes to a live source at once. */
    int g = -1;
    cr_assert_eq(sim_start_one(&m, &g), 1);
    cr_assert_eq(g, 1);
    cr_assert_neq(m.s.conns[1].src, 1);
    cr_assert_eq(sim_finish(&m, 0, SE_SOURCE, -1, 0), SA_SRC_DROPPED);
    cr_assert_eq(sched_alive(&m.s), 1);
    /* Conn 1 now fetches from source 0 or 2; fail the last. */
    int last = m.s.srcs[0].dead ? 2 : 0;
    cr_assert(!m.s.srcs[last].dead);
    int on_last = m.s.conns[1].src == last ? 1 : 2;
    cr_assert_eq(m.s.conns[on_last].src, last);
    cr_assert_eq(sim_finish(&m, on_last, SE_SOURCE, -1, 0), SA_FAIL);
    cr_assert_eq(sched_alive(&m.s), 0);
    sim_done(&m);
}

Test(unit_sched, a_source_error_on_the_only_source_fails)
{
    sim m = {0};
    sim_plan_even(&m, 64 * MiB, 1);
    sim_init(&m, 1, 1, 1, 5);
    cr_assert_eq(sim_start_one(&m, NULL), 0);
    cr_assert_eq(sim_finish(&m, 0, SE_SOURCE, -1, 0), SA_FAIL);
    sim_done(&m);
}

Test(unit_sched, a_dropped_request_is_no_strike)
{
    sim m = {0};
    sim_plan_even(&m, 64 * MiB, 2);
    sim_init(&m, 2, 1, 1, 1);
    m.now = 1000;
    cr_assert_eq(sim_start_all(&m), 2);
    for (int k = 0; k < 10; k++) {
        cr_assert_eq(sim_finish(&m, 0, SE_DROPPED, -1, 0), SA_NONE);
        cr_assert_eq(m.s.conns[0].fresh, 1);
        cr_assert_eq(sim_start_one(&m, NULL), 0, "at once, no backoff");
    }
    cr_assert_eq(m.s.srcs[0].strikes, 0);
    cr_assert_eq(sched_alive(&m.s), 1);
    sim_done(&m);
}

Test(unit_sched, finishing_a_free_connection_changes_nothing)
{
    sim m = {0};
    sim_plan_even(&m, 64 * MiB, 2);
    sim_init(&m, 2, 1, 1, 1);
    int src = -1;
    cr_assert_eq(sched_finish(&m.s, 1, SE_TRANSIENT, -1, 0, 0, &src), SA_NONE);
    cr_assert_eq(src, 0);
    cr_assert_eq(m.s.srcs[0].strikes, 0);
    cr_assert_eq(m.s.srcs[0].conns, 0);
    sim_done(&m);
}

Test(unit_sched, a_dropped_source_is_reported_once)
{
    /* Conns 0 and 2 fetch from source 0 (max_tries 1).  Conn 0's failure
     * drops it (SA_SRC_DROPPED: "say so"); conn 2's failure, a moment
     * later in the same round, is about a source already dropped and
     * reported: it must not be announced again. */
    sim m = {0};
    sim_plan_even(&m, 60 * MiB, 3);
    sim_init(&m, 3, 2, 1, 1);
    m.now = 1000;
    cr_assert_eq(sim_start_all(&m), 3);
    cr_assert_eq(m.s.conns[2].src, 0);
    m.now = 1100;
    cr_assert_eq(sim_finish(&m, 0, SE_TRANSIENT, -1, 0), SA_SRC_DROPPED);
    m.now = 1110;
    sched_act a = sim_finish(&m, 2, SE_TRANSIENT, -1, 0);
    cr_expect_eq(a, SA_NONE, "source 0 dropped a second time (act %d)", (int)a);
    /* Its range still goes to the live source at once. */
    int g = -1;
    int c = sim_start_one(&m, &g);
    cr_expect(c >= 0, "range of the dropped source waits");
    /* The same for a source error on a source already dropped. */
    sim n = {0};
    sim_plan_even(&n, 60 * MiB, 3);
    sim_init(&n, 3, 2, 1, 5);
    cr_assert_eq(sim_start_all(&n), 3);
    cr_assert_eq(sim_finish(&n, 0, SE_SOURCE, -1, 0), SA_SRC_DROPPED);
    a = sim_finish(&n, 2, SE_SOURCE, -1, 0);
    cr_expect_eq(a, SA_NONE, "SE_SOURCE: source 0 dropped twice (act %d)",
                 (int)a);
    sim_done(&m);
    sim_done(&n);
}

Test(unit_sched, a_dropped_source_does_not_hold_back_its_ranges)
{
    /* Conn 0 (source 0) gets a 503 with Retry-After: 120; a moment later
     * conn 2 learns source 0 cannot serve the download at all (SE_SOURCE)
     * and it is dropped.  Range 0 waited for source 0 only: its work goes
     * to the live source 1 at once (sched.h), not in two minutes, and
     * meanwhile no free connection may split anything. */
    sim m = {0};
    sim_plan_even(&m, 300 * MiB, 3);
    sim_init(&m, 3, 2, 1, 5);
    m.now = 1000;
    cr_assert_eq(sim_start_all(&m), 3);
    cr_assert_eq(m.s.conns[0].src, 0);
    cr_assert_eq(m.s.conns[2].src, 0);
    m.now = 1100;
    cr_assert_eq(sim_finish(&m, 0, SE_TRANSIENT, 120, 0), SA_NONE);
    m.now = 1200;
    cr_assert_eq(sim_finish(&m, 2, SE_SOURCE, -1, 0), SA_SRC_DROPPED);
    /* Both free connections now fetch from source 1. */
    int got[3] = {-1, -1, -1};
    int k = 0;
    m.now = 2000;
    for (int g; k < 3 && sim_start_one(&m, &g) >= 0;)
        got[k++] = g;
    int has0 = 0;
    for (int i = 0; i < k; i++)
        has0 |= got[i] == 0;
    cr_expect(has0,
              "range 0 waits for the dropped source's Retry-After until "
              "%lld (now %lld); started %d request(s)",
              (long long)m.s.rt[0].next_at, (long long)m.now, k);
    sim_done(&m);
}

Test(unit_sched, a_retry_after_of_one_source_does_not_stall_the_others)
{
    /* A mirror answers 503 with Retry-After: 300.  The URL is healthy.
     * The mirror's range should not sit for five minutes while the URL's
     * connections finish and then idle (a waiting range also forbids
     * every split): it is fetched from the URL within the ordinary
     * backoff's 30 s at most. */
    sim m = {0};
    sim_plan_even(&m, 40 * MiB, 4);
    sim_init(&m, 4, 2, 1, 5);
    m.now = 1000;
    cr_assert_eq(sim_start_all(&m), 4);
    cr_assert_eq(m.s.conns[1].src, 1);
    m.now = 1100;
    cr_assert_eq(sim_finish(&m, 1, SE_TRANSIENT, 300, 0), SA_NONE);
    int c, g;
    int64_t wake;
    int started = 0;
    for (m.now = 1100; m.now <= 31100 && !started; m.now += 100)
        if (sim_next(&m, &c, &g, &wake) && g == 1)
            started = 1;
    cr_expect(started,
              "range 1 waits until %lld for a mirror's Retry-After while "
              "source 0 is healthy",
              (long long)m.s.rt[1].next_at);
    sim_done(&m);
}

Test(unit_sched, sched_strike_alone)
{
    sched_src s = {0};
    /* A probe: one request to one source. */
    cr_assert_eq(sched_strike(&s, 0, 3, -1, 0, 1000), 0);
    cr_assert_eq(s.strikes, 1);
    cr_assert_eq(s.gen, 1);
    cr_assert_eq(s.next_at, 1000 + policy_backoff_ms(1, -1, 0));
    /* A request of the old round: no strike, no later wait. */
    cr_assert_eq(sched_strike(&s, 0, 3, -1, 0, 1100), 0);
    cr_assert_eq(s.strikes, 1);
    cr_assert_eq(s.next_at, 1250);
    /* ... unless it brought a Retry-After. */
    cr_assert_eq(sched_strike(&s, 0, 3, 10, 0, 1100), 0);
    cr_assert_eq(s.strikes, 1);
    cr_assert_eq(s.next_at, 11100);
    /* A Retry-After never shortens the wait. */
    cr_assert_eq(sched_strike(&s, 0, 3, 1, 0, 1200), 0);
    cr_assert_eq(s.next_at, 11100);
    cr_assert_eq(sched_strike(&s, 1, 3, -1, 999, 20000), 0);
    cr_assert_eq(s.strikes, 2);
    cr_assert_eq(s.gen, 2);
    cr_assert_geq(s.next_at, 20000 + 500);
    cr_assert_leq(s.next_at, 20000 + 1000);
    cr_assert_eq(sched_strike(&s, 2, 3, -1, 0, 30000), 1, "exhausted");
    cr_assert_eq(s.strikes, 3);
    /* Retry-After is capped at 300 s here too. */
    sched_src t = {0};
    cr_assert_eq(sched_strike(&t, 0, 5, INT64_MAX, 0, 0), 0);
    cr_assert_eq(t.next_at, 300000);
}

/* ---------------------------------------------------------------------
 * Replacing slow connections
 * ------------------------------------------------------------------ */

/* Three connections on one source: 0 and 1 at 4 MiB/s on 1 GiB each, 2
 * at slow bytes per second on slow_len bytes. */
static void three(sim *m, int64_t slow, int64_t slow_len)
{
    const int64_t b[] = {0, 1024 * MiB, 2048 * MiB, 2048 * MiB + slow_len};
    sim_plan_bounds(m, b, 3);
    sim_init(m, 3, 1, 1, 5);
    m->now = 1000;
    cr_assert_eq(sim_start_all(m), 3);
    m->step[0] = m->step[1] = 1 * MiB;
    m->step[2] = slow / 4;
}

Test(unit_sched, a_slow_connection_is_replaced_after_a_second)
{
    sim m = {0};
    three(&m, 256 * KiB, 1024 * MiB);
    /* Rates are known at 1500, but the request is judged at 2000. */
    cr_assert_eq(sim_run(&m, 1750), -1);
    cr_assert_gt(m.s.conns[2].meter.rate, 0, "measured by now");
    cr_assert_eq(sim_run(&m, 5000), 2);
    cr_assert_eq(m.now, 2000);
    cr_assert_eq(m.s.replaced, 1);
    cr_assert_eq(m.s.conns[2].move_to, 0);
    /* The caller stops it; its range is taken again at once. */
    cr_assert_eq(sim_finish(&m, 2, SE_DROPPED, -1, 0), SA_NONE);
    cr_assert_eq(m.s.conns[2].fresh, 1);
    cr_assert_eq(m.s.conns[2].move_to, -1);
    cr_assert_eq(m.s.srcs[0].strikes, 0);
    int g = -1;
    cr_assert_eq(sim_start_one(&m, &g), 2);
    cr_assert_eq(g, 2);
    cr_assert_eq(m.s.conns[2].got, 0);
    cr_assert_eq(m.s.conns[2].t_start, 2000);
    sim_done(&m);
}

Test(unit_sched, slow_means_under_a_third_of_the_peers_median)
{
    struct {
        int64_t rate;
        int replaced;
    } t[] = {
        {4 * MiB, 0},
        {2 * MiB, 0},
        {(4 * MiB) / 3 + 4 * KiB, 0},
        {(4 * MiB) / 3 - 4 * KiB, 1},
        {1 * MiB, 1},
        {0, 1}, /* a stalled connection */
    };
    for (size_t k = 0; k < sizeof t / sizeof *t; k++) {
        sim m = {0};
        three(&m, t[k].rate, 1024 * MiB);
        int r = sim_run(&m, 6000);
        cr_assert_eq(r, t[k].replaced ? 2 : -1, "rate %lld: %d",
                     (long long)t[k].rate, r);
        sim_done(&m);
    }
}

Test(unit_sched, not_replaced_with_under_a_second_of_work_left)
{
    /* 256 KiB/s: at the first judgement (2000 ms) 256 KiB are in. */
    sim m = {0};
    three(&m, 256 * KiB, 256 * KiB + 200 * KiB);
    cr_assert_eq(sim_run(&m, 6000), -1, "replaced with 200 KiB to go");
    sim_done(&m);
    sim n = {0};
    three(&n, 256 * KiB, 256 * KiB + 300 * KiB);
    cr_assert_eq(sim_run(&n, 6000), 2);
    cr_assert_eq(n.now, 2000);
    sim_done(&n);
}

Test(unit_sched, never_replaced_under_a_rate_limit)
{
    sim m = {0};
    three(&m, 16 * KiB, 1024 * MiB);
    sched_limit(&m.s, 1.0 * MiB);
    cr_assert_eq(sim_run(&m, 20000), -1);
    cr_assert_eq(m.s.replaced, 0);
    cr_assert_gt(m.s.conns[0].meter.rate, 0, "still measured");
    /* The limit lifts. */
    sched_limit(&m.s, 0);
    cr_assert_eq(sim_run(&m, 21000), 2);
    sim_done(&m);
}

Test(unit_sched, replacements_stay_within_the_budget)
{
    sim m = {0};
    three(&m, 16 * KiB, 1024 * MiB);
    int n = 0;
    while (m.now < 60000) {
        int r = sim_run(&m, 60000);
        if (r < 0)
            break;
        cr_assert_eq(r, 2);
        n++;
        cr_assert_eq(sim_finish(&m, 2, SE_DROPPED, -1, 0), SA_NONE);
        cr_assert_eq(sim_start_one(&m, NULL), 2);
    }
    cr_assert_eq(n, 3 * 4, "%d replacements for 3 connections", n);
    cr_assert_eq(m.s.replaced, 12);
    sim_done(&m);
}

Test(unit_sched, two_connections_or_fewer_measured_are_never_compared)
{
    /* The median of a single peer is no crowd to judge by. */
    sim m = {0};
    const int64_t b[] = {0, 1024 * MiB, 2048 * MiB};
    sim_plan_bounds(&m, b, 2);
    sim_init(&m, 2, 1, 1, 5);
    m.now = 1000;
    cr_assert_eq(sim_start_all(&m), 2);
    m.step[0] = 4 * MiB;
    m.step[1] = 1 * KiB;
    cr_assert_eq(sim_run(&m, 10000), -1);
    sim_done(&m);
}

Test(unit_sched, the_replacement_goes_to_the_fastest_source)
{
    sim m = {0};
    sim_plan_even(&m, 3 * 1024 * MiB, 3);
    sim_init(&m, 3, 3, 1, 5);
    m.now = 1000;
    cr_assert_eq(sim_start_all(&m), 3);
    m.step[0] = 2 * MiB / 4;
    m.step[1] = 8 * MiB / 4;
    m.step[2] = 256 * KiB / 4;
    cr_assert_eq(sim_run(&m, 10000), 2);
    cr_assert_eq(m.s.conns[2].move_to, 1);
    cr_assert_eq(sim_finish(&m, 2, SE_DROPPED, -1, 0), SA_NONE);
    cr_assert_eq(m.s.conns[2].src, 1);
    int g = -1;
    cr_assert_eq(sim_start_one(&m, &g), 2);
    cr_assert_eq(g, 2);
    cr_assert_eq(m.s.conns[2].src, 1);
    cr_assert_eq(m.s.srcs[1].conns, 2);
    cr_assert_eq(m.s.srcs[2].conns, 0);
    sim_done(&m);
}

Test(unit_sched, adapt_samples_at_most_every_250_ms)
{
    sim m = {0};
    three(&m, 16 * KiB, 1024 * MiB);
    cr_assert_eq(sim_run(&m, 2000), 2);
    /* Called again at once: no new decision. */
    cr_assert_eq(sched_adapt(&m.s, 2000), -1);
    cr_assert_eq(sched_adapt(&m.s, 2100), -1);
    cr_assert_eq(m.s.replaced, 1);
    sim_done(&m);
}

Test(unit_sched, alive_and_active)
{
    sim m = {0};
    sim_plan_even(&m, 64 * MiB, 4);
    sim_init(&m, 4, 4, 1, 5);
    cr_assert_eq(sched_alive(&m.s), 4);
    cr_assert_eq(sched_active(&m.s), 0);
    cr_assert_eq(sim_start_one(&m, NULL), 0);
    cr_assert_eq(sim_start_one(&m, NULL), 1);
    cr_assert_eq(sched_active(&m.s), 2);
    cr_assert_eq(sim_finish(&m, 0, SE_SOURCE, -1, 0), SA_SRC_DROPPED);
    cr_assert_eq(sched_alive(&m.s), 3);
    cr_assert_eq(sched_active(&m.s), 1);
    m.s.conns[1].got = 1;
    cr_assert_eq(sim_finish(&m, 1, SE_DONE, -1, 0), SA_NONE);
    cr_assert_eq(sched_active(&m.s), 0);
    cr_assert_eq(sched_alive(&m.s), 3);
    sim_done(&m);
}

/* ---------------------------------------------------------------------
 * A whole download
 * ------------------------------------------------------------------ */

Test(unit_sched, a_simulated_download_completes_exactly)
{
    /* 8 connections over 3 sources at different rates, one of them
     * crawling until it is replaced by a fresh connection (which runs at
     * 4 MiB/s), fetch 256 MiB: every byte exactly once, the plan always
     * tiling the file, and the end not left to anyone slow. */
    sim m = {0};
    int64_t size = 256 * MiB;
    sim_plan_even(&m, size, 8);
    sim_init(&m, 8, 3, 1, 5);
    int64_t rate[8] = {4 * MiB, 4 * MiB,  2 * MiB, 8 * MiB,
                       4 * MiB, 32 * KiB, 4 * MiB, 2 * MiB};
    for (int c = 0; c < 8; c++)
        m.step[c] = rate[c] / 4;
    m.now = 1000;
    cr_assert_eq(sim_start_all(&m), 8);
    int64_t fetched = 0;
    while (plan_remaining(m.segs, m.n) > 0 && m.now < 600000) {
        int r = sim_run(&m, m.now + STEP);
        if (r >= 0) {
            cr_assert_eq(r, 5, "replaced conn %d at %lld", r, (long long)m.now);
            fetched += m.s.conns[r].got;
            cr_assert_eq(sim_finish(&m, r, SE_DROPPED, -1, 0), SA_NONE);
            m.step[r] = 4 * MiB / 4;
        }
        for (int c = 0; c < 8; c++) {
            sched_conn *k = &m.s.conns[c];
            if (k->seg >= 0 && m.segs[k->seg].done >= m.segs[k->seg].end) {
                fetched += k->got;
                cr_assert_eq(sim_finish(&m, c, SE_DONE, -1, 0), SA_NONE);
            }
        }
        while (sim_start_one(&m, NULL) >= 0)
            ;
        sim_assert_tiles(&m, size);
    }
    cr_assert_eq(plan_remaining(m.segs, m.n), 0, "not finished by %lld ms",
                 (long long)m.now);
    cr_assert_eq(fetched, size, "fetched %lld of %lld", (long long)fetched,
                 (long long)size);
    cr_assert_eq(m.s.replaced, 1);
    /* 32 MiB/s once the crawler is replaced: about 9 s in all, where
     * the crawler alone would need over 17 minutes for its 32 MiB. */
    cr_assert_lt(m.now, 1000 + 12000, "took %lld ms", (long long)m.now);
    sim_done(&m);
}

Test(unit_sched, a_range_waiting_on_one_source_goes_to_a_free_connection_of_another)
{
    /* Conn 0 (source 0) loses its connection mid-body: its range waits
     * out a short backoff for source 0 only.  With the other ranges
     * taken, conn 0 finds nothing it may take now, but conn 1, free and
     * on source 1, takes that range at once. */
    sim m = {0};
    sim_plan_even(&m, 8 * MiB, 2);
    sim_init(&m, 2, 2, 1, 5);
    m.now = 1000;
    cr_assert_eq(sim_start_all(&m), 2);
    m.step[0] = m.step[1] = 64 * KiB;
    sim_progress(&m);
    cr_assert_eq(sim_finish(&m, 0, SE_TRANSIENT, -1, 0), SA_NONE);
    cr_assert_eq(m.s.srcs[0].strikes, 0, "bytes came: no strike");
    /* Conn 1 finishes its range: both connections are free. */
    m.segs[1].done = m.segs[1].end;
    cr_assert_eq(sim_finish(&m, 1, SE_DONE, -1, 0), SA_NONE);
    int g = -1;
    int c = sim_start_one(&m, &g);
    cr_assert_eq(c, 1, "the connection of the other source");
    cr_assert_eq(g, 0, "the range that waits for source 0 only");
    sim_done(&m);
}
