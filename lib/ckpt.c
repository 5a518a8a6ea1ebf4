/* SPDX-License-Identifier: MIT */
/*
 * ckpt.c - a thread that turns snapshots into durable journal commits.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt.h"
#include "output.h"
#include "plan.h"

struct ckpt {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int fd;
    journal *j;
    int cap;
    sg_segment *pending; /* newest snapshot not yet taken */
    int npending;
    int has_pending;
    int stop;
    int failed;
    int64_t durable;
    sg_err err; /* written by the thread, read after join */
};

static void *run(void *arg)
{
    ckpt *c = arg;
    sg_segment *work = malloc((size_t)c->cap * sizeof *work);
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->has_pending && !c->stop)
            pthread_cond_wait(&c->cv, &c->mu);
        if (!c->has_pending)
            break;
        int n = c->npending;
        if (work)
            memcpy(work, c->pending, (size_t)n * sizeof *work);
        c->has_pending = 0;
        int skip = c->failed;
        pthread_mutex_unlock(&c->mu);

        sg_code rc = SG_OK;
        if (!work)
            rc = err_set(&c->err, SG_ENOMEM, "out of memory");
        else if (!skip) {
            /* The rule: sync the data, then claim it. */
            rc = output_sync(c->fd, &c->err);
            if (rc == SG_OK)
                rc = journal_commit(c->j, work, n, &c->err);
        }

        pthread_mutex_lock(&c->mu);
        if (rc)
            c->failed = 1;
        else if (!skip)
            c->durable = plan_written(work, n);
    }
    pthread_mutex_unlock(&c->mu);
    free(work);
    return NULL;
}

sg_code ckpt_start(ckpt **out, int fd, journal *j, int cap, sg_err *e)
{
    *out = NULL;
    ckpt *c = calloc(1, sizeof *c);
    if (!c)
        return err_set(e, SG_ENOMEM, "out of memory");
    c->fd = fd;
    c->j = j;
    c->cap = cap;
    c->pending = malloc((size_t)cap * sizeof *c->pending);
    if (!c->pending) {
        free(c);
        return err_set(e, SG_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if (pthread_create(&c->thread, NULL, run, c) != 0) {
        pthread_cond_destroy(&c->cv);
        pthread_mutex_destroy(&c->mu);
        free(c->pending);
        free(c);
        return err_set(e, SG_ENOMEM, "cannot start the checkpoint thread");
    }
    *out = c;
    return SG_OK;
}

void ckpt_post(ckpt *c, const sg_segment *segs, int n)
{
    if (n > c->cap)
        n = c->cap;
    pthread_mutex_lock(&c->mu);
    memcpy(c->pending, segs, (size_t)n * sizeof *segs);
    c->npending = n;
    c->has_pending = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

int64_t ckpt_durable(ckpt *c)
{
    pthread_mutex_lock(&c->mu);
    int64_t d = c->durable;
    pthread_mutex_unlock(&c->mu);
    return d;
}

int ckpt_failed(ckpt *c)
{
    pthread_mutex_lock(&c->mu);
    int f = c->failed;
    pthread_mutex_unlock(&c->mu);
    return f;
}

sg_code ckpt_stop(ckpt *c, const sg_segment *segs, int n, sg_err *e)
{
    if (!c)
        return SG_OK;
    if (segs)
        ckpt_post(c, segs, n);
    pthread_mutex_lock(&c->mu);
    c->stop = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    sg_code rc = c->err.code;
    err_merge(e, &c->err);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c->pending);
    free(c);
    return rc;
}
