/* SPDX-License-Identifier: MIT */
/*
 * commit.h - group commits for a batch: one thread that makes finished
 * files durable many at a time.
 *
 * Each round takes every item submitted so far, fdatasyncs the files that
 * need it, marks them all verified in the queue journal in one
 * transaction, and only then renames NAME.part to NAME.  The rule of the
 * single download holds file by file -- no verified row without synced
 * data, no final name without a verified row -- while a batch of small
 * files pays for one journal commit per round instead of one per file.
 * Directories are synced by the caller once, at the end.
 *
 * Threads: items may be submitted from any thread; the committer owns the
 * journal while it runs.
 */
#ifndef SG_COMMIT_H
#define SG_COMMIT_H

#include <stdint.h>

#include "err.h"
#include "journal.h"

typedef struct commit_item {
    /* Set by the submitter; borrowed until the item is done. */
    int fd;              /* >= 0: fdatasync it first; -1: already synced */
    const char *name;    /* the journal row */
    const char *url;
    int64_t size;
    const char *etag, *last_modified;
    const char *part, *path; /* when both set, rename part to path */
    int waiter;          /* 1: committer_wait() will collect it */
    void *owner;
    /* Results. */
    sg_code rc;
    sg_err err;
    int done;
    struct commit_item *next;
} commit_item;

typedef struct committer committer;

/* Start the thread on journal j (owned by the committer until
 * committer_stop).  wake(ud) is called, from the committer's thread, after
 * each round that finished items nobody waits for. */
sg_code committer_start(committer **out, journal *j, void (*wake)(void *),
                        void *ud, sg_err *e);

/* Queue an item for the next round.  Any thread. */
void committer_submit(committer *c, commit_item *it);

/* Block until it (submitted with waiter = 1) is done. */
void committer_wait(committer *c, commit_item *it);

/* Block until every item submitted so far is done. */
void committer_flush(committer *c);

/* Move up to max finished items (waiter = 0) into done; returns how many. */
int committer_take(committer *c, commit_item **done, int max);

/* Finish every submitted item, then stop and join the thread.  NULL is a
 * no-op. */
void committer_stop(committer *c);

#endif
