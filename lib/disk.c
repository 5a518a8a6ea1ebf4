/* SPDX-License-Identifier: MIT */
/*
 * disk.c - the worker pool of disk.h: one queue under one mutex; a worker
 * takes the oldest task whose lane is idle.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include "disk.h"

#define MAX_THREADS 8

struct disk {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t th[MAX_THREADS];
    int nth;
    disk_task *todo, *todo_tail; /* submitted, oldest first */
    disk_task *fin, *fin_tail;   /* run, waiting for disk_take */
    int stopping;
    void (*wake)(void *);
    void *ud;
};

/* Must a task of lane wait?  Yes while an older task of the lane is in
 * todo, running or not (a running task stays there until it is done). */
static int lane_busy(const disk *d, const void *lane, const disk_task *upto)
{
    if (!lane)
        return 0;
    for (const disk_task *t = d->todo; t && t != upto; t = t->next)
        if (t->lane == lane)
            return 1; /* an older task of the lane goes first */
    return 0;
}

/* The oldest runnable task, marked running (it stays in todo, keeping
 * its lane busy, until it is done); NULL when none.  Tasks of a lane
 * (journal work: a checkpoint, a commit round, a download's step) go
 * before tasks of none (a finished small file's fdatasync): they are few,
 * one a lane at a time, and a download or a whole batch waits for them,
 * where a queue of syncs would hold a commit round back to its end. */
static disk_task *next_task(disk *d)
{
    for (int pass = 0; pass < 2; pass++)
        for (disk_task *t = d->todo; t; t = t->next) {
            if (t->running || (pass == 0) != (t->lane != NULL) ||
                lane_busy(d, t->lane, t))
                continue;
            t->running = 1;
            return t;
        }
    return NULL;
}

static void unlink_task(disk *d, disk_task *t)
{
    disk_task *prev = NULL;
    for (disk_task *c = d->todo; c; prev = c, c = c->next)
        if (c == t) {
            if (prev)
                prev->next = t->next;
            else
                d->todo = t->next;
            if (d->todo_tail == t)
                d->todo_tail = prev;
            break;
        }
    t->next = NULL;
}

static void *worker(void *arg)
{
    disk *d = arg;
    pthread_mutex_lock(&d->mu);
    for (;;) {
        disk_task *t = next_task(d);
        if (!t) {
            if (d->stopping && !d->todo)
                break;
            pthread_cond_wait(&d->cv, &d->mu);
            continue;
        }
        pthread_mutex_unlock(&d->mu);
        t->run(t);
        pthread_mutex_lock(&d->mu);
        /* Keep it in todo while it runs so that its lane stays busy. */
        unlink_task(d, t);
        t->running = 0;
        if (d->fin_tail)
            d->fin_tail->next = t;
        else
            d->fin = t;
        d->fin_tail = t;
        pthread_cond_broadcast(&d->cv);
        if (d->wake) {
            pthread_mutex_unlock(&d->mu);
            d->wake(d->ud);
            pthread_mutex_lock(&d->mu);
        }
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

sg_code disk_new(disk **out, int nthreads, void (*wake)(void *), void *ud,
                 sg_err *e)
{
    *out = NULL;
    disk *d = calloc(1, sizeof *d);
    if (!d)
        return err_set(e, SG_ENOMEM, "out of memory");
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    d->wake = wake;
    d->ud = ud;
    if (nthreads > MAX_THREADS)
        nthreads = MAX_THREADS;
    /* Signals are for the thread that drives the download. */
    sigset_t all, old;
    sigfillset(&all);
    (void)pthread_sigmask(SIG_SETMASK, &all, &old);
    while (d->nth < nthreads &&
           pthread_create(&d->th[d->nth], NULL, worker, d) == 0)
        d->nth++;
    (void)pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (d->nth == 0) {
        pthread_mutex_destroy(&d->mu);
        pthread_cond_destroy(&d->cv);
        free(d);
        return err_set(e, SG_ENOMEM, "cannot start a disk thread");
    }
    *out = d;
    return SG_OK;
}

void disk_submit(disk *d, disk_task *t)
{
    t->next = NULL;
    t->running = 0;
    pthread_mutex_lock(&d->mu);
    if (d->todo_tail)
        d->todo_tail->next = t;
    else
        d->todo = t;
    d->todo_tail = t;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

int disk_take(disk *d)
{
    pthread_mutex_lock(&d->mu);
    disk_task *t = d->fin;
    d->fin = d->fin_tail = NULL;
    pthread_mutex_unlock(&d->mu);
    int n = 0;
    while (t) {
        disk_task *next = t->next;
        t->next = NULL;
        if (t->done)
            t->done(t); /* may submit more, or free t */
        t = next;
        n++;
    }
    return n;
}

void disk_free(disk *d)
{
    if (!d)
        return;
    for (;;) {
        pthread_mutex_lock(&d->mu);
        while (d->todo && !d->fin)
            pthread_cond_wait(&d->cv, &d->mu);
        int more = d->todo || d->fin;
        pthread_mutex_unlock(&d->mu);
        if (!more)
            break;
        (void)disk_take(d);
    }
    pthread_mutex_lock(&d->mu);
    d->stopping = 1;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
    for (int i = 0; i < d->nth; i++)
        pthread_join(d->th[i], NULL);
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->cv);
    free(d);
}
