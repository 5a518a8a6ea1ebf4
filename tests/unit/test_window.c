/* SPDX-License-Identifier: MIT */
/* Unit tests for the scheduler's window (sched_window): requests in
 * order, never past the consumer's window, sealed bytes, merged plans,
 * and the consumer's connection hedged first -- on a simulated clock. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "plan.h"
#include "sched.h"
#include "sim.h"

static void windowed(sim *m, int64_t size, int conns, int64_t win,
                     int64_t chunk)
{
    sim_plan_even(m, size, 1);
    sim_init(m, conns, 1, 1, 5);
    sched_window(&m->s, win, chunk);
    sched_consumed(&m->s, 0);
    m->now = 1000;
}

/* Every running request asks for bytes inside [at, at + win). */
static void assert_inside(const sim *m)
{
    int64_t lim = m->s.win_at + m->s.win;
    for (int c = 0; c < m->s.nconns; c++) {
        const sched_conn *k = &m->s.conns[c];
        if (k->seg < 0)
            continue;
        const sg_segment *g = &m->segs[k->seg];
        cr_assert_leq(g->end, lim, "conn %d asks up to %lld, window ends "
                                   "at %lld",
                      c, (long long)g->end, (long long)lim);
        cr_assert_geq(g->done, m->s.win_at);
    }
}

Test(unit_window, requests_go_in_order_a_chunk_each)
{
    sim m = {0};
    windowed(&m, 64 * MiB, 4, 8 * MiB, 1 * MiB);
    for (int i = 0; i < 4; i++) {
        int g;
        cr_assert_geq(sim_start_one(&m, &g), 0);
        cr_assert_eq(m.segs[g].start, i * MiB, "request %d at %lld", i,
                     (long long)m.segs[g].start);
        cr_assert_eq(m.segs[g].end, (i + 1) * MiB);
    }
    sim_assert_tiles(&m, 64 * MiB);
    assert_inside(&m);
    sim_done(&m);
}

Test(unit_window, nothing_past_the_window_until_the_consumer_moves)
{
    sim m = {0};
    windowed(&m, 64 * MiB, 8, 4 * MiB, 1 * MiB);
    /* Four chunks fill the window; the other connections may only split
     * those (never reach past 4 MiB). */
    sim_start_all(&m);
    assert_inside(&m);
    for (int c = 0; c < 8; c++)
        m.step[c] = 256 * KiB;
    sim_progress(&m);
    /* The first chunk completes: sealed, but the consumer has not taken
     * it, so the window has not moved. */
    int c0 = -1;
    for (int c = 0; c < 8; c++)
        if (m.s.conns[c].seg >= 0 &&
            m.segs[m.s.conns[c].seg].start == 0)
            c0 = c;
    cr_assert_geq(c0, 0);
    int s0 = m.s.conns[c0].seg;
    m.segs[s0].done = m.segs[s0].end;
    cr_assert_eq(sim_finish(&m, c0, SE_DONE, -1, 0), SA_NONE);
    cr_assert_eq(sched_ready(&m.s, 0), m.segs[s0].end);
    int c, g;
    int64_t wake;
    while (sim_next(&m, &c, &g, &wake)) {
        sched_start(&m.s, c, g, m.now);
        m.from[c] = m.segs[g].done;
        assert_inside(&m);
    }
    /* The consumer takes it: the window moves on by as much. */
    sched_consumed(&m.s, sched_ready(&m.s, 0));
    cr_assert(sim_next(&m, &c, &g, &wake), "the window moved, no request");
    cr_assert_geq(m.segs[g].done, 4 * MiB);
    sched_start(&m.s, c, g, m.now);
    m.from[c] = m.segs[g].done;
    assert_inside(&m);
    sim_assert_tiles(&m, 64 * MiB);
    sim_done(&m);
}

Test(unit_window, a_sliver_at_the_window_end_waits)
{
    sim m = {0};
    windowed(&m, 64 * MiB, 2, 3 * MiB + 100 * KiB, 1 * MiB);
    int g;
    for (int i = 0; i < 2; i++)
        cr_assert_geq(sim_start_one(&m, &g), 0);
    /* Both finish; the third chunk goes to one, the fourth would be
     * 100 KiB: not worth a request while the window is about to move. */
    for (int c = 0; c < 2; c++) {
        sg_segment *s = &m.segs[m.s.conns[c].seg];
        s->done = s->end;
        cr_assert_eq(sim_finish(&m, c, SE_DONE, -1, 0), SA_NONE);
    }
    cr_assert_geq(sim_start_one(&m, &g), 0);
    cr_assert_eq(m.segs[g].start, 2 * MiB);
    int c;
    int64_t wake;
    int more = sim_next(&m, &c, &g, &wake);
    cr_assert(!more || m.segs[g].start < 3 * MiB,
              "a 100 KiB sliver was asked for");
    sim_done(&m);
}

Test(unit_window, sealed_only_when_the_last_runner_ends)
{
    sim m = {0};
    windowed(&m, 16 * MiB, 2, 16 * MiB, 4 * MiB);
    int g;
    int c = sim_start_one(&m, &g);
    cr_assert_geq(c, 0);
    m.segs[g].done = 1 * MiB; /* written, request still running */
    cr_assert_eq(sched_ready(&m.s, 0), 0, "bytes of a running request");
    /* It ends short (a dropped connection): its bytes stay. */
    cr_assert_eq(sim_finish(&m, c, SE_TRANSIENT, -1, 0), SA_NONE);
    cr_assert_eq(sched_ready(&m.s, 0), 1 * MiB);
    /* The next request on it proves malformed: its owner takes its
     * bytes back (done returns to where it began) before finishing. */
    m.now += 10000;
    c = sim_start_one(&m, &g);
    cr_assert_geq(c, 0);
    cr_assert_eq(m.segs[g].done, 1 * MiB);
    m.segs[g].done = 2 * MiB;
    m.segs[g].done = 1 * MiB; /* taken back */
    cr_assert_eq(sim_finish(&m, c, SE_SOURCE, -1, 0), SA_FAIL);
    cr_assert_eq(sched_ready(&m.s, 0), 1 * MiB);
    sim_done(&m);
}

Test(unit_window, ready_runs_across_segments)
{
    sim m = {0};
    int64_t b[] = {0, 1 * MiB, 2 * MiB, 3 * MiB, 4 * MiB};
    sim_plan_bounds(&m, b, 4);
    m.segs[0].done = 1 * MiB;
    m.segs[1].done = 2 * MiB;
    m.segs[2].done = 2 * MiB + 5;
    /* Resumed bytes are sealed from the start. */
    sim_init(&m, 2, 1, 1, 5);
    cr_assert_eq(sched_ready(&m.s, 0), 2 * MiB + 5);
    cr_assert_eq(sched_ready(&m.s, 1 * MiB + 7), 2 * MiB + 5);
    cr_assert_eq(sched_ready(&m.s, 2 * MiB + 5), 2 * MiB + 5);
    cr_assert_eq(sched_ready(&m.s, 3 * MiB), 3 * MiB);
    sim_done(&m);
}

/* A whole download at random rates, the consumer taking what is ready
 * every step: in order, inside the window, the plan small, done. */
Test(unit_window, a_whole_download_stays_inside_and_small)
{
    for (uint64_t seed = 1; seed <= 20; seed++) {
        sim m = {0};
        int64_t size = 48 * MiB + (int64_t)seed * 4099;
        windowed(&m, size, 6, 8 * MiB, 1 * MiB);
        uint64_t r = seed * 0x9E3779B97F4A7C15u;
        int64_t at = 0;
        int maxn = 0;
        for (int step = 0; step < 20000 && at < size; step++) {
            int c, g;
            int64_t wake;
            while (sim_next(&m, &c, &g, &wake)) {
                sched_start(&m.s, c, g, m.now);
                m.from[c] = m.segs[g].done;
            }
            assert_inside(&m);
            for (int k = 0; k < 6; k++) {
                r ^= r << 13;
                r ^= r >> 7;
                r ^= r << 17;
                m.step[k] = (int64_t)(r % (600 * KiB)) + 1;
            }
            m.now += STEP;
            sim_progress(&m);
            (void)sched_adapt(&m.s, m.now);
            for (int k = 0; k < 6; k++) {
                int s = m.s.conns[k].seg;
                if (s >= 0 && m.segs[s].done >= m.segs[s].end)
                    (void)sim_finish(&m, k, SE_DONE, -1, 0);
                else if (s >= 0 && m.s.conns[k].lost)
                    (void)sim_finish(&m, k, SE_DROPPED, -1, 0);
            }
            int64_t to = sched_ready(&m.s, at);
            cr_assert_geq(to, at);
            at = to;
            sched_consumed(&m.s, at);
            if (m.n > maxn)
                maxn = m.n;
            sim_assert_tiles(&m, size);
        }
        cr_assert_eq(at, size, "seed %llu: consumed %lld of %lld",
                     (unsigned long long)seed, (long long)at,
                     (long long)size);
        cr_assert_leq(maxn, 2 * 6 + 8 + 6, "seed %llu: %d segments",
                      (unsigned long long)seed, maxn);
        sim_done(&m);
    }
}

Test(unit_window, the_consumers_connection_is_hedged_first)
{
    sim m = {0};
    windowed(&m, 64 * MiB, 3, 3 * MiB, 1 * MiB);
    cr_assert_eq(sim_start_all(&m), 3);
    /* The head chunk's connection stalls; the others run at 1 MiB/s. */
    int headc = -1;
    for (int c = 0; c < 3; c++)
        if (m.segs[m.s.conns[c].seg].start == 0)
            headc = c;
    for (int c = 0; c < 3; c++)
        m.step[c] = c == headc ? 1 : 256 * KiB;
    (void)sim_run(&m, m.now + 1000);
    for (int c = 0; c < 3; c++) {
        int s = m.s.conns[c].seg;
        if (c != headc && s >= 0 && m.segs[s].done >= m.segs[s].end)
            cr_assert_eq(sim_finish(&m, c, SE_DONE, -1, 0), SA_NONE);
    }
    /* The window is full (the head holds it): free connections take
     * the back of the head's chunk, and then race the head itself. */
    int hedged = 0;
    for (int round = 0; round < 40 && !hedged; round++) {
        int c, g;
        int64_t wake;
        while (!hedged && sim_next(&m, &c, &g, &wake)) {
            cr_assert_lt(m.segs[g].start, 1 * MiB, "not the head's chunk");
            hedged = m.s.rt[g].conn == headc;
            sched_start(&m.s, c, g, m.now);
            m.from[c] = m.segs[g].done;
            m.step[c] = 256 * KiB;
        }
        (void)sim_run(&m, m.now + STEP);
        for (int k = 0; k < 3; k++) {
            int s = m.s.conns[k].seg;
            if (k != headc && s >= 0 && m.segs[s].done >= m.segs[s].end &&
                m.s.rt[s].hedge < 0)
                cr_assert_eq(sim_finish(&m, k, SE_DONE, -1, 0), SA_NONE);
        }
    }
    cr_assert(hedged, "the head was not hedged");
    sim_done(&m);
}
