/* SPDX-License-Identifier: MIT */
/*
 * disk.h - the threads that wait for the disk, so the network thread
 * never does.
 *
 * fdatasync, journal commits, verification and renames run here as tasks
 * (and, before a batch's engine exists, the check of its queue's URLs:
 * batch_check.c drives a pool of its own the same way).
 * A task's run() executes on one of the pool's threads; its done() then
 * runs on the thread that drives the pool (the engine's loop), which
 * disk_take() hands the finished tasks to after wake() told it there are
 * some.  That is the whole handshake between the two sides: the loop
 * submits, a worker runs, the loop finishes.
 *
 * Tasks that share a lane (a download's journal, a batch's queue
 * journal) run one at a time, in the order submitted, and before tasks
 * without a lane; tasks of different lanes run in parallel (the file
 * system folds concurrent fdatasyncs together).  Worker threads block
 * every signal.
 *
 * Threads: disk_new, disk_submit, disk_take and disk_free from the loop
 * thread only; run() on a worker; wake() on a worker.
 */
#ifndef SG_DISK_H
#define SG_DISK_H

#include "err.h"

typedef struct disk_task disk_task;

struct disk_task {
    /* Set by the submitter. */
    void (*run)(disk_task *t);  /* on a worker thread */
    void (*done)(disk_task *t); /* then on the loop thread (may be NULL) */
    const void *lane;           /* NULL: a lane of its own */
    /* The pool's. */
    disk_task *next;
    int running;
};

typedef struct disk disk;

/* A pool of nthreads workers; wake(ud) is called from a worker after a
 * task finished.  SG_ENOMEM (in e) when no thread can start. */
sg_code disk_new(disk **out, int nthreads, void (*wake)(void *), void *ud,
                 sg_err *e);

/* Queue t.  Never blocks on I/O. */
void disk_submit(disk *d, disk_task *t);

/* Call done() of every finished task, in the order they finished.
 * Returns how many. */
int disk_take(disk *d);

/* Wait for every submitted task to run (their done() is called), stop
 * the workers and free d.  NULL is a no-op. */
void disk_free(disk *d);

#endif
