/* SPDX-License-Identifier: MIT */
/*
 * commit.h - group commits for a batch: finished files made durable many
 * at a time, on the engine's disk pool.
 *
 * A finished file's item first gets its origin (origin.h) and is
 * fdatasync'd (on any disk thread: the file system folds concurrent syncs
 * together), then waits for the next round.  A round marks every waiting item verified in the queue journal
 * in one transaction, and only then renames each NAME.part to NAME.  The
 * rule of a single download holds file by file -- no verified row without
 * synced data, no name without a verified row -- while a batch of small
 * files pays one journal commit per round instead of one per file.  One
 * round runs at a time; items that finish meanwhile wait for the next,
 * and a round waits up to GATHER_MS for syncs still under way.
 * Directories are synced by the caller once, at the end.
 *
 * Threads: the loop thread (engine.h) calls everything here; an item's
 * done() runs on it too.
 */
#ifndef SG_COMMIT_H
#define SG_COMMIT_H

#include <stdint.h>

#include "engine.h"
#include "journal.h"

typedef struct commit_item commit_item;
struct commit_item {
    disk_task t;         /* the group's */
    /* Set by the submitter; borrowed until done. */
    int fd;              /* >= 0: record its origin and fdatasync it
                            first; -1: already done */
    const char *name;    /* the journal row */
    const char *url;
    int64_t size;
    const char *etag, *last_modified;
    const char *part, *path; /* rename part to path ... */
    int named;           /* ... unless path holds the data already */
    void (*done)(commit_item *it); /* on the loop thread; it->rc says */
    void *owner;
    /* Results. */
    sg_code rc;
    sg_err err;
    int committed;       /* its row is verified (even when the rename then
                            failed: NAME.part must stay for the next run) */
    /* The group's. */
    struct committer *c;
    commit_item *next;
};

typedef struct committer committer;

/* A group committer on engine g for queue journal j (borrowed; used only
 * by its rounds until committer_free). */
sg_code committer_new(committer **out, engine *g, journal *j, sg_err *e);

/* Queue it: sync (when fd >= 0), then the next round. */
void committer_submit(committer *c, commit_item *it);

/* Start a round if one is due; lower *wake to when one will be.  Call
 * every loop turn. */
void committer_tick(committer *c, int64_t now, int64_t *wake);

/* Items submitted and not yet done. */
int committer_pending(const committer *c);

/* Is a round under way?  While one is, the journal is the round's: the
 * loop thread neither reads nor writes it (a round starts only in
 * committer_tick, on the loop thread). */
int committer_busy(const committer *c);

/* Free c (no item may be pending).  NULL is a no-op. */
void committer_free(committer *c);

#endif
