/* SPDX-License-Identifier: MIT */
/*
 * dl.h - the inside of a download, shared by its files:
 *
 *   download.c  the public calls, options, paths, and the state machine
 *               that the engine's loop drives (dl_tick);
 *   dl_disk.c   its steps that wait for the disk, run on the disk pool;
 *   dl_xfer.c   the transfer: the scheduler's decisions turned into
 *               engine requests, checkpoints and progress;
 *   dl_first.c  a batch's first GET, which is all a small file needs;
 *   dl_rerun.c  the same command after success: is NAME complete?
 *
 * Everything here belongs to the loop thread, except what a disk task of
 * the download touches while it runs (one at a time: the download's
 * lane), described at struct dl_task.
 */
#ifndef SG_DL_H
#define SG_DL_H

#include <stdatomic.h>
#include <stdint.h>

#include "checksum.h"
#include "download.h"
#include "engine.h"
#include "journal.h"
#include "origin.h"
#include "probe.h"
#include "sums.h"
#include "sched.h"
#include "segget.h"
#include "stream.h"

/* Where a download is. */
enum dl_state {
    ST_NEW,     /* not started */
    ST_FIRST,   /* a batch's first GET */
    ST_GRANT,   /* larger than one GET: waiting for connections */
    ST_OPEN,    /* disk: journal opened and trusted, or created */
    ST_PROBE,   /* probing the URL, then the mirrors */
    ST_SAMPLE,  /* resuming from another URL: a sample of the data kept,
                   asked from the new one (dl_rerun.c) */
    ST_PREPARE, /* disk: resume, or plan and create NAME.part */
    ST_XFER,    /* transferring */
    ST_SETTLE,  /* disk: the last checkpoint of a transfer */
    ST_DRAIN,   /* the stream takes the rest (dl_stream.c) */
    ST_VERIFY,  /* disk: coverage, size, checksum, sync, mark verified */
    ST_PUBLISH, /* NAME.part becomes NAME */
    ST_CLEANUP, /* disk: the journal goes */
    ST_CLOSE,   /* disk: what a failed run leaves tidy */
    ST_END,     /* rc is the outcome */
};

/* How a transfer ended. */
typedef enum xfer_verdict {
    XV_NONE,      /* still going */
    XV_DONE,      /* every segment is complete */
    XV_FAILED,    /* rc and err say why */
    XV_CHANGED,   /* the validator or size changed: start over */
    XV_NORANGES,  /* a range request got the whole body: one stream */
    XV_RESIZED,   /* same validator, other total: the probe was lied to */
    XV_CANCELLED,
} xfer_verdict;

struct dl_xfer;   /* dl_xfer.c */
struct dl_sample; /* dl_rerun.c */

/* The one disk task a download may have under way. */
struct dl_task {
    disk_task t;
    sg_download *dl;
    int kind;
    sg_code rc;
    sg_err err;
    char note[512];     /* a notice for the loop thread to give */
    int64_t t_submit;   /* when it was queued (ms) */
    sg_segment *snap;   /* a checkpoint's snapshot */
    int nsnap;
};

struct sg_download {
    /* Fixed by sg_download_new. */
    char *url;
    char *shown; /* url without credentials: journal and messages */
    sg_options o; /* string fields point at the copies below */
    char *ua;
    char *strs[DOWNLOAD_STRINGS]; /* copies for o (download_strings) */
    char *path;  /* final */
    char *part;  /* path.part */
    char *jpath; /* path.segget */
    sg_err err;
    atomic_int cancel;
    atomic_int pause;
    atomic_llong live_rate; /* sg_download_set_rate(), -1: untouched */
    int ran;
    int has_sum;
    checksum sum;
    char sum_source[48]; /* where sum came from: "--checksum",
                            "--checksum-file" or the server's field */
    int sum_checked;     /* the data matched it (the stream hashed it) */
    int said_unchecked;  /* undeclarable checksums were named */
    int pipe;            /* o.output_fd: no file, bytes go there */
    stream *stream;      /* the bytes in order, hashed or piped, or
                            NULL (stream.h); kept across restarts */
    int streaming;       /* this transfer uses it */
    int64_t drain_report; /* ST_DRAIN's last progress report (ms) */
    sums *sums;      /* --checksum-file, until the name is known */
    char *sums_path; /* and its path, for messages */
    char **headers; /* copies of the user's headers */
    char *userpwd, *proxy;
    char **mirrors;   /* copies of the mirror URLs */
    char **mshown;    /* and without credentials */
    char *ident;   /* the journal's name for this download: shown, plus
                      " bytes=SPEC" with --range */
    int has_range; /* --range: first-last, first- (last -1), -suffix */
    int64_t rfirst, rlast, rsuffix;
    int part_ours; /* a .part without a journal may be replaced */

    /* In a batch (download_batch). */
    const dl_hooks *hooks;
    void *hooks_ud;
    int64_t first_limit; /* > 0: begin with one GET of these bytes */
    const char *if_none_match, *if_modified_since;

    /* Running: the loop's. */
    engine *g;
    eng_job job;
    enum dl_state st;
    sg_code rc;
    int own_engine; /* sg_download_run made g */
    int started;
    int paths_known; /* without -J, from the start */
    int restarts, force_get, noranges;
    int probed;      /* pr holds a probe this run may use */
    int unchanged;   /* a revalidation answered 304 */
    int deferred;    /* turned away by its host's cap (dl_hooks) */
    int already_complete; /* a rerun found NAME complete (dl_rerun.c) */
    probe pr;
    probe *mp;       /* the mirrors' probes */
    int mirrors_started;
    int *usable;     /* indexes of usable mirrors */
    int nusable;
    int64_t base;  /* resource offset of the file's byte 0 (--range) */
    int64_t total; /* size of the resource, as probed */
    xfer_verdict verdict;
    struct dl_xfer *x;
    struct dl_first *first;
    struct {       /* the first GET's bytes, kept for the download */
        int64_t len, size;
        char *etag, *last_modified;
    } adopt;
    int slots;     /* connections granted (in a batch) */
    int64_t received; /* body bytes written by this run */

    /* Shared with the disk task (see struct dl_task): the task reads and
     * writes these only while it runs, the loop only while none does. */
    journal *j;
    int fd;
    int fresh;        /* the journal holds no download */
    int made_journal; /* this run created the journal file */
    int made_part;    /* this run created NAME.part */
    char *mkdir;      /* the directory the run makes when missing (-P, or
                         the output's with create_dirs), or NULL */
    char *made_dir;   /* the outermost directory of it this run made */
    journal_meta meta;
    sg_segment *segs;
    int n;
    int resume;       /* ST_PREPARE: resume (1) or start over (0) */
    int check;        /* NAME exists and its origin (rec) names this
                         download: one HEAD decides (dl_rerun.c) */
    origin rec;
    struct dl_sample *sample; /* ST_SAMPLE's bytes, compared by
                                 ST_PREPARE */
    int moved;        /* the journal's download came from another URL
                         (the probe decides whether it is the same
                         resource) */
    int finished_before; /* ST_OPEN found it verified by an earlier run */
    struct dl_task task;
    int disk_busy;
    int disk_next;       /* a step waiting for a checkpoint to end */
    int64_t durable;     /* bytes the journal has committed */
    int64_t ckpt_cost;   /* ms the last checkpoint took, queue included */
    int ckpt_failed;
};

/* dl_new.c */
/* Work out NAME, NAME.part and NAME.segget from name (or, when NULL, the
 * output option or the URL path); NAME's directory must exist, unless
 * the -P directory is still to be made (then what exists of it must be
 * directories).  An error is recorded in dl->err.  Loop thread. */
sg_code dl_make_paths(sg_download *dl, const char *name, const char *urlpath);
/* NAME's directory exists: SG_OK, else SG_EUSAGE in e.  Any thread. */
sg_code dl_check_dir(const sg_download *dl, sg_err *e);
/* The --range spec, pointing into dl->ident, or NULL without one.  Any
 * thread. */
const char *dl_range_spec(const sg_download *dl);
/* Forget the mirrors' probes. */
void dl_drop_mirrors(sg_download *dl);
/* --checksum-file: take the list's entry for the output's name (known by
 * now) as the checksum.  SG_EUSAGE in dl->err when it has none. */
sg_code dl_sum_from_list(sg_download *dl);

/* download.c */
void dl_notice(sg_download *dl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void dl_state(sg_download *dl, sg_state s, int64_t total, int64_t got);
/* End the download with rc (and, when not SG_OK, the message already in
 * dl->err): tidy up on the disk, then ST_END. */
void dl_fail(sg_download *dl, sg_code rc);
/* Cancelled: end with SG_EINTERRUPTED, saying how to go on. */
void dl_interrupted(sg_download *dl);
/* A disk step of kind finished (its done, on the loop). */
void dl_stepped(sg_download *dl);
/* What ST_PUBLISH calls when done. */
void dl_published(sg_download *dl, sg_code rc);

/* dl_disk.c: start a disk step (ST_OPEN, ST_PREPARE, ST_SETTLE,
 * ST_VERIFY, ST_PUBLISH without hooks, ST_CLEANUP, ST_CLOSE) or a
 * checkpoint (kind DT_CKPT) of the current plan. */
enum { DT_CKPT = 100 };
void dl_disk(sg_download *dl, int kind);
/* Is the journal's partial data resumable with what the probe saw?
 * NULL, or why not. */
const char *dl_resume_blocker(const sg_download *dl);

/* dl_rerun.c */
/* ST_OPEN's disk task, when NAME exists without a journal and without
 * --force: SG_OK with dl->check and dl->rec set when NAME's origin names
 * this download (a HEAD must decide), else the refusal in e (SG_EUNSAFE,
 * or SG_ECHECKSUM when NAME does not match --checksum).  Disk thread. */
sg_code dl_rerun_open(sg_download *dl, sg_err *e);
/* The HEAD of a check ended (dl->pr): end the download, SG_OK when NAME
 * is complete (dl->already_complete), else why not.  Loop thread. */
void dl_rerun_judge(sg_download *dl);
/* Resuming from another URL (dl->moved) whose probe showed the recorded
 * size and validator: validators name a version of one resource, and two
 * resources may share them (nginx's ETag is mtime and size), so the new
 * URL is also asked for the last bytes (up to 64 KiB) of the largest
 * durable prefix, which ST_PREPARE compares with the file.  Returns 1
 * when that request started (ST_SAMPLE), 0 when there is nothing to
 * compare.  Loop thread. */
int dl_sample_begin(sg_download *dl);
/* Drive ST_SAMPLE; it moves on to ST_PREPARE (resume, or start over when
 * the new URL answered for another version) or fails the download. */
void dl_sample_tick(sg_download *dl, int64_t now, int64_t *wake);
/* ST_PREPARE's disk task, before resuming: 1 when the sample equals the
 * file's bytes or there is none, 0 when it differs (*e untouched), -1
 * with the failure in e.  Disk thread. */
int dl_sample_matches(sg_download *dl, int fd, sg_err *e);
/* Stop the sample's request and free it.  NULL sample: a no-op. */
void dl_sample_end(sg_download *dl);

/* dl_xfer.c */
sg_code dl_xfer_begin(sg_download *dl);
/* Drive the transfer; returns 1 once it has ended (dl->verdict). */
int dl_xfer_tick(sg_download *dl, int64_t now, int64_t *wake);
void dl_xfer_end(sg_download *dl);
/* Body bytes received by this run, first GET included. */
int64_t dl_xfer_received(const sg_download *dl);
/* A progress report now (forced) or when due. */
void dl_progress(sg_download *dl, int64_t now, int force, sg_state s);

/* dl_stream.c */
/* The checksum the data must match: the user's (--checksum,
 * --checksum-file), else the strongest that ds declares, unless
 * o.no_verify; what ds declares that cannot be checked is said once. */
void dl_choose_sum(sg_download *dl, const digest_set *ds);
/* dl->err holds a mismatch of dl->sum: name its source and what is
 * kept. */
void dl_sum_mismatch(sg_download *dl);
/* ST_PREPARE without a file (o.output_fd): the plan in memory. */
sg_code dl_pipe_prepare(sg_download *dl);
/* A transfer begins: the stream (kept across restarts) and, when the
 * bytes are needed in order over ranges, the scheduler's window.  The
 * checksum the data must match is chosen here: the user's, else the
 * strongest the server declared (unless o.no_verify). */
sg_code dl_stream_begin(sg_download *dl);
/* The transfer's share: feed the stream what is ready, move the window;
 * a stream that failed ends the transfer (returns its code). */
sg_code dl_stream_tick(sg_download *dl);
/* Bytes [at, at + n) arrived: a pipe over ranges keeps them in its ring
 * until their request ends; otherwise bytes that continue the stream
 * are taken at once (written to the pipe, or hashed: a file's bytes
 * that arrive in order are never read back). */
sg_code dl_stream_write(sg_download *dl, const char *p, size_t n,
                        int64_t at, sg_err *e);
/* A response took its bytes from at on back. */
void dl_stream_retract(sg_download *dl, int64_t at);
/* The transfer is done: ST_DRAIN until the stream has every byte, then
 * its verdict; moves on to ST_VERIFY (a file) or ends (a pipe). */
void dl_drain(sg_download *dl);
/* Drive ST_DRAIN: the next step of the stream, progress while a
 * checksum is pending, a cancel (SG_EINTERRUPTED once the step under way
 * ended), the verdict.  Loop thread. */
void dl_drain_tick(sg_download *dl, int64_t now, int64_t *wake);
/* May the transfer start over?  Not once bytes went to a pipe. */
int dl_stream_can_restart(const sg_download *dl);
/* Failure or cancel: stop the stream between steps. */
void dl_stream_stop(sg_download *dl);

/* dl_first.c */
sg_code dl_first_begin(sg_download *dl);
/* Returns 1 once the first GET has ended: dl->st tells what next. */
int dl_first_tick(sg_download *dl, int64_t now, int64_t *wake);
void dl_first_end(sg_download *dl);

#endif
