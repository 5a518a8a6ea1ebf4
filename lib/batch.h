/* SPDX-License-Identifier: MIT */
/*
 * batch.h - the state of a batch, shared by batch.c (the queue, its
 * checks, the public calls) and batch_run.c (deciding and running).
 */
#ifndef SG_BATCH_H
#define SG_BATCH_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "checksum.h"
#include "commit.h"
#include "download.h"
#include "engine.h"
#include "journal.h"
#include "queue.h"
#include "rate.h"
#include "sched.h"
#include "sums.h"

#define STATUS_MS 200
#define WINDOW_AHEAD 256   /* queued entries held beyond -j: the ones whose
                              host is full are passed over */
#define NAMES_RUN (1 << 19) /* records per run of the names check (8 MiB) */
#define DIRS_MAX 256        /* directories remembered for the final sync */
#define COMMIT_AHEAD(jobs) (4 * (jobs) + 64) /* files waiting for their
                                                 sync and commit at most */
#define FILL_MS 20          /* the longest the queue is read in one turn */
#define FD_RESERVE 32       /* descriptors kept for the journals, the disk
                               threads, libcurl's resolver */
#define FD_SMALL 3          /* an entry: its socket, its file, a lookup */
#define FD_BIG 6            /* and a large one's journal, with -wal, -shm */

enum kind { K_SMALL, K_BIG };

/* A host of the entries in the window, in the batch's hash table while
 * an entry refers to it (or its cap is down: that is remembered). */
struct host {
    char *name;
    struct host *chain;        /* the table's bucket */
    struct host *lprev, *lnext; /* every host of the table */
    int refs;                  /* entries of the window on it */
    int busy;                  /* connections in use */
    sched_cap cap;             /* how many it serves at once (sched.h) */
    int refusers;              /* entries it turned away */
    int said_cap;              /* said once two entries were turned away:
                                  one URL alone may be refused for reasons
                                  of its own */
};

/* An entry of this shard while it is in the window: from when the
 * queue's second reading reaches it until its outcome. */
struct bent {
    sg_batch *b;
    struct bent *prev, *next; /* the window, in queue order */
    queue_entry q;            /* owned */
    char *shown, *name, *path, *part, *jpath;
    char *sum;       /* its --checksum-file entry ("algo=hex"), or NULL */
    struct host *host;
    int connections;
    sg_entry_state state;
    enum kind kind;
    int replace;     /* NAME exists and is ours to replace */
    int part_ours;   /* NAME.part, if any, was made under this queue */
    int conditional; /* revalidate with the row's validators */
    int claimed;     /* its claim is in the queue journal */
    qrow row;
    sg_download *dl; /* while active */
    int slots;       /* connections it holds on its host */
    int counted;     /* counted in -j (fetching): until its data is in */
    int refusals;    /* times its host turned it away (dl_hooks.refused) */
    int fds;         /* descriptors counted for it (fd_free) */
    commit_item ci;
    int64_t size;
    sg_code code;
    int http_status; /* with code: as sg_download_http_status() */
    char *error;
};

/* Where the queue's text is read from, twice: a regular file from an
 * offset, or a copy in memory.  A queue that is neither (a pipe) is
 * copied to an unlinked temporary file by the first reading. */
struct qsource {
    int fd;          /* -1: mem */
    off_t start, at;
    off_t end;       /* >= 0: where the first reading ended; later
                        readings stop there (bytes appended since were
                        never checked) */
    const char *mem;
    size_t len;
    int copy_from;   /* >= 0: the first reading reads this pipe and
                        appends what it reads to fd */
};

struct sg_batch {
    sg_batch_options o;
    char *ua, *dir, *userpwd, *proxy;
    char *strs[DOWNLOAD_STRINGS]; /* copies for o.dl (download_strings) */
    char **headers;
    struct qsource src;
    char *text;       /* sg_batch_new's copy of the queue, or NULL */
    struct stat st;   /* the queue file as first read */
    int total;        /* entries of this shard */
    sums *sums;       /* --checksum-file, indexed */
    struct host **htab; /* hosts by name: a power of two of buckets */
    size_t hmask;
    size_t nhosts;
    struct host *hosts; /* the list of them */
    int caps_unsaid;  /* a host's cap went down and is not said yet */
    sg_err err;
    atomic_int cancel;
    int ran;
    /* While running. */
    engine *g;
    eng_job job;
    committer *cm;
    journal *j;
    queue_reader rd;
    int reading;      /* the queue's second reading is not over */
    struct bent *head, *tail; /* the window */
    int nqueued;      /* its entries waiting to start */
    int cancelled;    /* the cancel reached every download */
    int broken;       /* the batch itself failed (b->err says) */
    int active;       /* entries fetching (what -j bounds) */
    int running;      /* entries whose download is not over */
    int done, skipped, failed;
    int fd_free;      /* descriptors left for entries to start */
    int fd_said;      /* the open-file limit held entries back: said */
    int first_failed; /* the line of the first failure in queue order */
    sg_code first_code;
    int64_t bytes;    /* of finished downloads */
    int64_t t0, last_status;
    rate_meter meter;
    char *dirs[DIRS_MAX]; /* directories that got new files */
    int ndirs;
    int dfd;          /* the directory, for lookups by name during a run
                         (a million files walk its path once), or -1 */
};

/* The name q saves to, below the directory (heap).  With check, or
 * without out=, its URL is parsed: SG_EUSAGE with "line N: ..." when it
 * is not one (the second reading does not check again what the first
 * did).  Any thread. */
sg_code batch_name(const queue_entry *q, int check, char **name,
                   sg_err *e);

/* --checksum-file's entry for name into spec, or SG_EUSAGE: every entry
 * without its own checksum= must be listed.  Any thread. */
sg_code batch_listed(const sg_batch *b, const queue_entry *q,
                     const char *name, char *spec, size_t cap, sg_err *e);

/* The first reading (batch_check.c): check every entry of the queue,
 * count this shard's into b->total, and refuse names that collide.
 * SG_OK, or the failure in b->err. */
sg_code batch_check(sg_batch *b);

/* Read up to n bytes of the queue from src (queue_read_fn). */
ptrdiff_t batch_read(void *src, char *buf, size_t n);

/* SG_OK, or SG_EUSAGE when the queue file changed since b->st was taken
 * (its size or its modification time): what it says now was not
 * checked. */
sg_code batch_unchanged(const sg_batch *b, sg_err *e);

/* Rewind src for another reading: SG_OK, or as batch_unchanged. */
sg_code batch_rewind(sg_batch *b, sg_err *e);

/* Make en, an entry of this shard, ready to decide: its names and paths
 * and its checksum.  SG_OK, or the batch's failure. */
sg_code batch_entry(sg_batch *b, struct bent *en);

/* en->shown: its URL without credentials, as journal rows, events and
 * messages give it.  recorded: the URL its row holds, or NULL.  SG_OK or
 * SG_ENOMEM. */
sg_code batch_shown(struct bent *en, const char *recorded, sg_err *e);

/* url's host, found or added, with one more reference; NULL when out of
 * memory or unparsable (e says). */
struct host *batch_host_get(sg_batch *b, const char *url, sg_err *e);

/* Let go of en's host. */
void batch_host_put(sg_batch *b, struct host *h);

/* Free en and everything it owns (its download must be over). */
void batch_entry_free(struct bent *en);

/* Report en's state to the event callback. */
void batch_emit(sg_batch *b, struct bent *en);

/* Move en to state s, count it and report it. */
void batch_state(struct bent *en, sg_entry_state s);

/* Fail en with code, the HTTP status it is (0: none) and msg (copied). */
void batch_fail(struct bent *en, sg_code code, int http_status,
                const char *msg);

#endif
