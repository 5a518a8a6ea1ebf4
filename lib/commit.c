/* SPDX-License-Identifier: MIT */
/*
 * commit.c - the rounds of commit.h.
 *
 * Syncing in parallel and gathering commits per round: measured with
 * scripts/bench batch (400 files of 256 KiB, ext4), one syncing thread
 * gave 1.6x curl --parallel's time, four threads and rounds 1.1-1.4x.
 */
#include <stddef.h>
#include <stdlib.h>

#include "commit.h"
#include "origin.h"
#include "output.h"
#include "util.h"

#define GATHER_MS 10

struct committer {
    engine *g;
    journal *j;
    commit_item *waiting, **tail; /* synced, for the next round */
    int64_t first_at;             /* when the oldest of them came */
    int syncing;                  /* items being synced */
    int pending;                  /* submitted, not yet done */
    disk_task round;              /* the round under way */
    commit_item *in_round;
    int busy;
};

sg_code committer_new(committer **out, engine *g, journal *j, sg_err *e)
{
    committer *c = calloc(1, sizeof *c);
    *out = c;
    if (!c)
        return err_set(e, SG_ENOMEM, "out of memory");
    c->g = g;
    c->j = j;
    c->tail = &c->waiting;
    return SG_OK;
}

static void wait_round(committer *c, commit_item *it)
{
    if (!c->waiting)
        c->first_at = now_ms();
    it->next = NULL;
    *c->tail = it;
    c->tail = &it->next;
}

static void sync_run(disk_task *t)
{
    commit_item *it = (commit_item *)(void *)t;
    /* The origin goes on NAME.part with its data (origin.h); a file
     * system without user attributes only loses the next single run's
     * shortcut, never the file. */
    (void)origin_set(it->fd, it->url, NULL, it->size, it->etag,
                     it->last_modified);
    it->rc = output_sync(it->fd, &it->err);
}

static void sync_done(disk_task *t)
{
    commit_item *it = (commit_item *)(void *)t;
    committer *c = it->c;
    c->syncing--;
    if (it->rc) {
        c->pending--;
        it->done(it);
        return;
    }
    wait_round(c, it);
}

void committer_submit(committer *c, commit_item *it)
{
    it->c = c;
    it->rc = SG_OK;
    it->err = (sg_err){0};
    it->committed = 0;
    c->pending++;
    if (it->fd < 0) {
        wait_round(c, it);
        return;
    }
    it->t.run = sync_run;
    it->t.done = sync_done;
    it->t.lane = NULL;
    c->syncing++;
    eng_disk(c->g, &it->t);
}

/* On a disk thread: one transaction for every item, then the renames. */
static void round_run(disk_task *t)
{
    committer *c = (committer *)(void *)((char *)t -
                                         offsetof(committer, round));
    sg_err e = {0};
    sg_code rc = qjournal_begin(c->j, &e);
    for (commit_item *it = c->in_round; it && rc == SG_OK; it = it->next)
        rc = qjournal_verified(c->j, it->name, it->url, it->size, it->etag,
                               it->last_modified, !it->named, &e);
    rc = rc == SG_OK ? qjournal_end(c->j, SG_OK, &e)
                     : qjournal_end(c->j, rc, &(sg_err){0});
    for (commit_item *it = c->in_round; it; it = it->next) {
        it->committed = rc == SG_OK;
        if (rc != SG_OK)
            it->rc = err_set(&it->err, rc, "%s", err_msg(&e));
        else if (!it->named)
            it->rc = output_rename(it->part, it->path, &it->err);
    }
    err_reset(&e);
}

static void round_done(disk_task *t)
{
    committer *c = (committer *)(void *)((char *)t -
                                         offsetof(committer, round));
    commit_item *it = c->in_round;
    c->in_round = NULL;
    c->busy = 0;
    while (it) {
        commit_item *next = it->next;
        c->pending--;
        it->done(it); /* may free it */
        it = next;
    }
}

void committer_tick(committer *c, int64_t now, int64_t *wake)
{
    if (c->busy || !c->waiting)
        return;
    /* More files are being synced: let them join this round rather than
     * pay a journal commit each. */
    if (c->syncing && now - c->first_at < GATHER_MS) {
        if (c->first_at + GATHER_MS < *wake)
            *wake = c->first_at + GATHER_MS;
        return;
    }
    c->in_round = c->waiting;
    c->waiting = NULL;
    c->tail = &c->waiting;
    c->busy = 1;
    c->round.run = round_run;
    c->round.done = round_done;
    c->round.lane = c;
    eng_disk(c->g, &c->round);
}

int committer_busy(const committer *c)
{
    return c && c->busy;
}

int committer_pending(const committer *c)
{
    return c ? c->pending : 0;
}

void committer_free(committer *c)
{
    free(c);
}
