/* SPDX-License-Identifier: MIT */
/* The disk pool: order within a lane, lanes before lane-less tasks, every
 * done() on the caller's thread, and nothing lost at disk_free. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "disk.h"

typedef struct rec {
    disk_task t;
    int id;
    atomic_int *gate;  /* run() waits while it is 0 (NULL: no wait) */
    atomic_int *started; /* set when run() begins (NULL: none) */
    atomic_int *inlane; /* tasks of its lane running now */
    int *order, *norder;
    pthread_mutex_t *mu;
    int overlap;        /* saw another task of its lane running */
    pthread_t done_on;
} rec;

static void run(disk_task *t)
{
    rec *r = (rec *)(void *)t;
    if (r->started)
        atomic_store(r->started, 1);
    if (r->inlane && atomic_fetch_add(r->inlane, 1) != 0)
        r->overlap = 1;
    while (r->gate && !atomic_load(r->gate))
        ;
    pthread_mutex_lock(r->mu);
    r->order[(*r->norder)++] = r->id;
    pthread_mutex_unlock(r->mu);
    if (r->inlane)
        atomic_fetch_sub(r->inlane, 1);
}

static void done(disk_task *t)
{
    ((rec *)(void *)t)->done_on = pthread_self();
}

Test(unit_disk, lane_tasks_go_before_queued_syncs)
{
    disk *d;
    sg_err e = {0};
    cr_assert_eq(disk_new(&d, 1, NULL, NULL, &e), SG_OK);
    static atomic_int gate, started;
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    int order[8], n = 0;
    static int lane;
    rec r[5];
    memset(r, 0, sizeof r);
    for (int i = 0; i < 5; i++) {
        r[i] = (rec){.t = {.run = run, .done = done}, .id = i,
                     .order = order, .norder = &n, .mu = &mu};
        if (i == 0) {
            r[i].gate = &gate; /* holds the one thread */
            r[i].started = &started;
        }
        if (i == 4)
            r[i].t.lane = &lane;
        disk_submit(d, &r[i].t);
        while (i == 0 && !atomic_load(&started))
            ; /* the rest queue up behind it */
    }
    atomic_store(&gate, 1);
    disk_free(d); /* runs everything, calls every done() here */
    cr_assert_eq(n, 5);
    cr_expect_eq(order[0], 0);
    cr_expect_eq(order[1], 4, "the lane's task waited behind syncs");
    cr_expect_eq(order[2], 1);
    for (int i = 0; i < 5; i++)
        cr_expect(pthread_equal(r[i].done_on, pthread_self()),
                  "done() of %d ran on a worker", i);
}

Test(unit_disk, a_lane_runs_one_task_at_a_time_in_order)
{
    disk *d;
    sg_err e = {0};
    cr_assert_eq(disk_new(&d, 4, NULL, NULL, &e), SG_OK);
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    enum { N = 200 };
    static rec r[N];
    static int order[N];
    int n = 0;
    static atomic_int inlane[2];
    static int lanes[2];
    for (int i = 0; i < N; i++) {
        r[i] = (rec){.t = {.run = run, .done = done, .lane = &lanes[i % 2]},
                     .id = i, .inlane = &inlane[i % 2], .order = order,
                     .norder = &n, .mu = &mu};
        disk_submit(d, &r[i].t);
        if (i % 50 == 49)
            (void)disk_take(d);
    }
    disk_free(d);
    cr_assert_eq(n, N);
    int last[2] = {-1, -1};
    for (int i = 0; i < N; i++) {
        cr_expect(!r[i].overlap, "task %d ran beside another of its lane", i);
        int l = order[i] % 2;
        cr_expect_gt(order[i], last[l], "lane %d out of order", l);
        last[l] = order[i];
    }
}
