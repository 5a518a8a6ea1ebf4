/* SPDX-License-Identifier: MIT */
/*
 * sim.h - a download in simulation for the scheduler's unit tests: the
 * plan, the scheduler, a clock and what each connection receives per
 * STEP (RATE_SAMPLE_MS).  Every helper fails the test when the scheduler
 * breaks a rule it relies on.
 */
#ifndef SG_SIM_H
#define SG_SIM_H

#include <stdint.h>

#include "plan.h"
#include "sched.h"

#define KiB INT64_C(1024)
#define MiB (1024 * KiB)
#define CAP 64
#define STEP 250 /* RATE_SAMPLE_MS */

typedef struct sim {
    sg_segment segs[CAP];
    int n;
    sched s;
    int64_t now;
    int64_t from[SCHED_MAX_CONNS]; /* where its request began */
    int64_t step[SCHED_MAX_CONNS]; /* bytes per STEP */
} sim;

/* size cut into nsegs even segments. */
void sim_plan_even(sim *m, int64_t size, int nsegs);
/* Segments with the given bounds: [b0, b1), [b1, b2), ... */
void sim_plan_bounds(sim *m, const int64_t *b, int nsegs);
void sim_init(sim *m, int nconns, int nsrcs, int ranges, int max_tries);
void sim_done(sim *m);
/* sched_next at m->now with *wake starting at INT64_MAX. */
int sim_next(sim *m, int *conn, int *seg, int64_t *wake);
/* Start a request for a free connection on a segment nobody fetches;
 * its index, or -1 when none can start now. */
int sim_start_one(sim *m, int *segp);
int sim_start_all(sim *m);
/* One STEP of progress for every active connection. */
void sim_progress(sim *m);
/* Run the clock to until in STEPs, calling sched_adapt at each; stops at
 * the first connection it picks to replace (returned, with m->now at that
 * time), else -1 with m->now = until. */
int sim_run(sim *m, int64_t until);
sched_act sim_finish(sim *m, int c, sched_end e, int64_t ra, uint64_t rnd);
/* The plan, sorted, still tiles [0, size). */
void sim_assert_tiles(const sim *m, int64_t size);

#endif
