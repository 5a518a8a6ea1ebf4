/* SPDX-License-Identifier: MIT */
/*
 * batch.h - the state of a batch, shared by batch.c (the queue, its
 * checks, the public calls) and batch_run.c (deciding and running).
 */
#ifndef SG_BATCH_H
#define SG_BATCH_H

#include <stdatomic.h>

#include "checksum.h"
#include "commit.h"
#include "download.h"
#include "engine.h"
#include "journal.h"
#include "queue.h"
#include "rate.h"
#include "sched.h"

#define STATUS_MS 200
#define SCAN_AHEAD 256 /* queued entries looked at for a free host */

enum kind { K_SMALL, K_BIG };

struct host {
    char *name;
    int busy;      /* connections in use */
    sched_cap cap; /* how many it serves at once (sched.h) */
    int refusers;  /* entries it turned away */
    int said_cap;  /* said once two entries were turned away: one URL
                      alone may be refused for reasons of its own */
};

struct bent {
    sg_batch *b;
    const queue_entry *q;
    char *shown, *name, *path, *part, *jpath;
    char *sum;       /* its --checksum-file entry ("algo=hex"), or NULL */
    int host;        /* index in the batch's hosts */
    int connections;
    sg_entry_state state;
    enum kind kind;
    int replace;     /* NAME exists and is ours to replace */
    int part_ours;   /* NAME.part, if any, was made under this queue */
    int conditional; /* revalidate with the row's validators */
    qrow row;
    sg_download *dl; /* while active */
    int slots;       /* connections it holds on its host */
    int counted;     /* counted in -j (fetching): until its data is in */
    int refusals;    /* times its host turned it away (dl_hooks.refused) */
    commit_item ci;
    int64_t size;
    sg_code code;
    int http_status; /* with code: as sg_download_http_status() */
    char *error;
};

struct sg_batch {
    sg_batch_options o;
    char *ua, *dir, *userpwd, *proxy;
    char *strs[DOWNLOAD_STRINGS]; /* copies for o.dl (download_strings) */
    char **headers;
    queue q;
    struct bent *e;
    int n;
    struct host *hosts;
    int nhosts;
    int caps_unsaid;  /* a host's cap went down and is not said yet */
    char *sums;       /* --checksum-file's text while entries are named */
    sg_err err;
    atomic_int cancel;
    int ran;
    /* While running. */
    engine *g;
    eng_job job;
    committer *cm;
    journal *j;
    int cursor;       /* entries before it are not queued */
    int cancelled;    /* the cancel reached every download */
    int active;       /* entries fetching (what -j bounds) */
    int running;      /* entries whose download is not over */
    int done, skipped, failed;
    int64_t bytes;    /* of finished downloads */
    int64_t t0, last_status;
    rate_meter meter;
    char **dirs;      /* directories that got new files */
    int ndirs;
};

/* Report en's state to the event callback. */
void batch_emit(sg_batch *b, struct bent *en);

/* Move en to state s, count it and report it. */
void batch_state(struct bent *en, sg_entry_state s);

/* Fail en with code, the HTTP status it is (0: none) and msg (copied). */
void batch_fail(struct bent *en, sg_code code, int http_status,
                const char *msg);

#endif
