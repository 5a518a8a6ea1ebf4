/* SPDX-License-Identifier: MIT */
/*
 * sim.c - the simulated download of sim.h.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "sim.h"

void sim_plan_even(sim *m, int64_t size, int nsegs)
{
    m->n = plan_split(size, nsegs, 1, m->segs, CAP);
    cr_assert_eq(m->n, nsegs);
}

/* Segments with the given bounds: [b0, b1), [b1, b2), ... */
void sim_plan_bounds(sim *m, const int64_t *b, int nsegs)
{
    for (int i = 0; i < nsegs; i++)
        m->segs[i] = (sg_segment){.start = b[i], .end = b[i + 1], .done = b[i]};
    m->n = nsegs;
    cr_assert_eq(plan_check(m->segs, m->n, b[nsegs]), 0);
}

void sim_init(sim *m, int nconns, int nsrcs, int ranges, int max_tries)
{
    cr_assert_eq(sched_init(&m->s, m->segs, &m->n, CAP, nconns, nsrcs, ranges,
                            max_tries),
                 0);
}

void sim_done(sim *m)
{
    sched_cleanup(&m->s);
}

/* sched_next at m->now with *wake starting at INT64_MAX. */
int sim_next(sim *m, int *conn, int *seg, int64_t *wake)
{
    *wake = INT64_MAX;
    *conn = *seg = -7;
    return sched_next(&m->s, m->now, conn, seg, wake);
}

/* Start a request for a free connection; its index, or -1 when none can
 * start now. */
int sim_start_one(sim *m, int *segp)
{
    int c, g;
    int64_t wake;
    if (!sim_next(m, &c, &g, &wake))
        return -1;
    cr_assert(c >= 0 && c < m->s.nconns, "conn %d", c);
    cr_assert(g >= 0 && g < m->n, "seg %d", g);
    cr_assert_eq(m->s.conns[c].seg, -1, "conn %d is busy", c);
    cr_assert_eq(m->s.rt[g].conn, -1, "seg %d is taken", g);
    cr_assert_lt(m->segs[g].done, m->segs[g].end, "seg %d is done", g);
    sched_start(&m->s, c, g, m->now);
    m->from[c] = m->segs[g].done;
    if (segp)
        *segp = g;
    return c;
}

int sim_start_all(sim *m)
{
    int k = 0;
    while (sim_start_one(m, NULL) >= 0)
        k++;
    return k;
}

/* One STEP of progress for every active connection. */
void sim_progress(sim *m)
{
    for (int c = 0; c < m->s.nconns; c++) {
        sched_conn *k = &m->s.conns[c];
        if (k->seg < 0)
            continue;
        sg_segment *g = &m->segs[k->seg];
        k->got += m->step[c];
        if (m->from[c] + k->got > g->end)
            k->got = g->end - m->from[c];
        g->done = m->from[c] + k->got;
    }
}

/* Run the clock to until in STEPs, calling sched_adapt at each; stops at
 * the first connection it picks to replace (returned, with m->now at that
 * time), else -1 with m->now = until. */
int sim_run(sim *m, int64_t until)
{
    while (m->now + STEP <= until) {
        m->now += STEP;
        sim_progress(m);
        int r = sched_adapt(&m->s, m->now);
        if (r >= 0)
            return r;
    }
    m->now = until;
    return -1;
}

sched_act sim_finish(sim *m, int c, sched_end e, int64_t ra, uint64_t rnd)
{
    int src = -9;
    int want = m->s.conns[c].src;
    sched_act a = sched_finish(&m->s, c, e, ra, rnd, m->now, &src);
    cr_assert_eq(src, want, "*src %d, the request's %d", src, want);
    cr_assert_eq(m->s.conns[c].seg, -1, "conn %d is free after finishing", c);
    return a;
}

/* The plan, sorted, still tiles [0, size). */
void sim_assert_tiles(const sim *m, int64_t size)
{
    sg_segment copy[CAP];
    memcpy(copy, m->segs, sizeof copy);
    plan_sort(copy, m->n);
    cr_assert_eq(plan_check(copy, m->n, size), 0, "the plan broke");
}

