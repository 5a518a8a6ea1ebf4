/* SPDX-License-Identifier: MIT */
/*
 * dl_disk.c - a download's steps that wait for the disk, each run as the
 * download's one disk task (disk.h) while its loop goes on:
 *
 *   ST_OPEN     open (or create) and lock the journal, trust it or not,
 *               notice a download an earlier run finished;
 *   ST_PREPARE  resume from the journal's plan, or plan afresh, record it
 *               and create NAME.part (keeping a batch's first bytes);
 *   DT_CKPT     the checkpoint rule: fdatasync the data, then commit the
 *               snapshot of the plan taken before it (ST_SETTLE: the last
 *               one of a transfer);
 *   ST_VERIFY   coverage, size, checksum, fdatasync, mark verified;
 *   ST_PUBLISH  rename NAME.part to NAME and sync the directory;
 *   ST_CLEANUP  drop the journal;
 *   ST_CLOSE    after a failure: drop what this run made and kept nothing.
 *
 * A task reads the download's options and probe results, which do not
 * change while it runs, and owns j, fd, meta, segs and the rest of the
 * fields dl.h marks as shared until its done() runs on the loop.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dl.h"
#include "origin.h"
#include "output.h"
#include "plan.h"
#include "util.h"

static void note(struct dl_task *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void note(struct dl_task *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(t->note, sizeof t->note, fmt, ap);
    va_end(ap);
}

static int streq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Remove a journal (and its WAL) that cannot be trusted. */
static sg_code discard_journal(sg_download *dl, sg_err *e)
{
    const char *sfx[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char *p = str_cat(dl->jpath, sfx[i]);
        if (!p)
            return err_set(e, SG_ENOMEM, "out of memory");
        int r = unlink(p);
        int bad = r < 0 && errno != ENOENT;
        free(p);
        if (bad)
            return err_set(e, SG_EIO, "cannot remove %s: %s", dl->jpath,
                           strerror(errno));
    }
    return SG_OK;
}

/* Is the journal's download this one?  It is the output's, and the same
 * part of the resource (--range); the URL may be another, and then
 * dl->moved: the probe decides whether it serves the same resource (size
 * and validator, dl_resume_blocker). */
static int same_download(sg_download *dl)
{
    const char *u = dl->meta.url;
    const char *sp = u ? strchr(u, ' ') : NULL; /* URLs hold no space */
    if (!u || !streq(dl->meta.output, dl->path) ||
        strcmp(sp ? sp : "", dl->ident + strlen(dl->shown)) != 0)
        return 0;
    dl->moved = strcmp(u, dl->ident) != 0;
    return 1;
}

/* Open (or create) the journal and decide whether its record is usable. */
static sg_code open_journal(sg_download *dl, struct dl_task *t)
{
    sg_err *e = &t->err;
    sg_code rc;
    if (output_is_symlink(dl->path) > 0 || output_is_symlink(dl->part) > 0)
        return err_set(e, SG_EUNSAFE, "%s is a symlink; refusing", dl->path);
    dl->made_journal = access(dl->jpath, F_OK) != 0;
    if (dl->made_journal && !dl->o.force && access(dl->path, F_OK) == 0)
        return dl_rerun_open(dl, e); /* complete, or refused */
    for (int attempt = 0;; attempt++) {
        rc = journal_open(&dl->j, dl->jpath, 1, &dl->fresh, e);
        if (rc == SG_OK && !dl->fresh) {
            rc = journal_read(dl->j, &dl->meta, &dl->segs, &dl->n, e);
            if (rc == SG_OK) {
                plan_sort(dl->segs, dl->n);
                if (!same_download(dl))
                    rc = err_set(e, SG_EJOURNAL,
                                 "%s belongs to another download (%s)",
                                 dl->jpath, dl->meta.url);
                else if (dl->n > PLAN_MAX_SEGMENTS ||
                         (dl->meta.size >= 0 &&
                          plan_check(dl->segs, dl->n, dl->meta.size) < 0))
                    rc = err_set(e, SG_EJOURNAL,
                                 "journal %s holds an impossible plan",
                                 dl->jpath);
            }
        }
        if (rc != SG_EJOURNAL || !dl->o.force || attempt > 0)
            break;
        note(t, "discarding journal %s: %s", dl->jpath, err_msg(e));
        err_reset(e);
        journal_close(dl->j);
        dl->j = NULL;
        journal_meta_cleanup(&dl->meta);
        free(dl->segs);
        dl->segs = NULL;
        dl->n = 0;
        if ((rc = discard_journal(dl, e)))
            break;
        dl->made_journal = 1;
    }
    if (rc == SG_EJOURNAL)
        err_set(e, rc, "(forcing the download discards it)");
    return rc;
}

/* A verified download whose rename did not happen (or whose journal
 * removal did not): the rest needs no network. */
static sg_code finished_before(sg_download *dl, sg_err *e)
{
    struct stat st;
    if (!dl->meta.verified)
        return SG_OK;
    if (lstat(dl->part, &st) == 0 && S_ISREG(st.st_mode) &&
        (dl->meta.size < 0 || st.st_size == dl->meta.size)) {
        dl->meta.size = st.st_size;
        dl->finished_before = 1; /* NAME.part awaits its name */
    } else if (lstat(dl->path, &st) == 0) {
        dl->meta.size = st.st_size;
        dl->finished_before = 2; /* only the journal is left */
    }
    (void)e;
    return SG_OK;
}

const char *dl_resume_blocker(const sg_download *dl)
{
    const journal_meta *m = &dl->meta;
    const probe_result *p = &dl->pr.res;
    if (!m->ranges || !p->ranges)
        return "the server does not support ranges";
    return probe_same_resource(p, m->size, m->etag, m->last_modified);
}

/* Continue from the journal's plan; *ok = 0 when the partial file is
 * unusable and the plan must start over. */
static sg_code resume(sg_download *dl, struct dl_task *t, int *ok)
{
    int64_t size = 0;
    int missing = 0;
    *ok = 0;
    sg_code rc = output_reopen(dl->part, &dl->fd, &size, &missing, &t->err);
    if (missing) {
        err_reset(&t->err);
        note(t, "%s is gone; starting over", dl->part);
        return SG_OK;
    }
    if (rc)
        return rc;
    if (size != dl->meta.size) {
        note(t, "%s has the wrong size; starting over", dl->part);
        return SG_OK;
    }
    int same = dl_sample_matches(dl, dl->fd, &t->err);
    if (same < 0)
        return t->err.code;
    if (!same && dl->o.on_change == SG_CHANGE_FAIL)
        return err_set(&t->err, SG_ECHANGED,
                       "cannot resume %s: the new URL serves other bytes "
                       "than those on disk (partial data kept)",
                       dl->path);
    if (!same) {
        note(t, "cannot resume from the new URL: it serves other bytes "
                "than those on disk; starting over");
        return SG_OK;
    }
    sg_segment *v = realloc(dl->segs, PLAN_MAX_SEGMENTS * sizeof *v);
    if (!v)
        return err_set(&t->err, SG_ENOMEM, "out of memory");
    dl->segs = v;
    /* Spread what is missing over all connections again. */
    while (plan_unfinished(dl->segs, dl->n) < dl->o.connections &&
           plan_split_largest(dl->segs, &dl->n, PLAN_MAX_SEGMENTS,
                              dl->o.min_split, 0) >= 0)
        ;
    plan_sort(dl->segs, dl->n);
    /* The URL of this run names the download from now on (it may be
     * another URL of the same resource): no request is ever made from
     * the journal's URLs. */
    char *eff = eng_url_redact(dl->pr.res.effective_url);
    if (!eff)
        return err_set(&t->err, SG_ENOMEM, "out of memory");
    rc = journal_resume(dl->j, dl->ident, eff, dl->segs, dl->n, &t->err);
    free(eff);
    if (rc)
        return rc;
    dl->durable = plan_written(dl->segs, dl->n);
    note(t, "resuming%s: %lld of %lld bytes already on disk",
         dl->moved ? " from the new URL (same size and validator)" : "",
         (long long)dl->durable, (long long)size);
    *ok = 1;
    return SG_OK;
}

/* Is the adopted prefix the start of the resource the probe described? */
static int adoptable(const sg_download *dl)
{
    const probe_result *p = &dl->pr.res;
    const char *e = dl->adopt.etag, *lm = dl->adopt.last_modified;
    if (dl->adopt.len <= 0 || !p->ranges || dl->has_range ||
        p->size != dl->adopt.size || dl->adopt.len > p->size)
        return 0;
    if (e || p->etag)
        return e && p->etag && strcmp(e, p->etag) == 0;
    return lm && p->last_modified && strcmp(lm, p->last_modified) == 0;
}

/* start_over's end for a NAME.part holding the first bytes of the
 * resource: size it, sync it, and let the journal claim those bytes. */
static sg_code adopt_part(sg_download *dl, struct dl_task *t, int64_t len)
{
    sg_err *e = &t->err;
    int64_t have = 0;
    int missing = 0;
    sg_code rc = output_reopen(dl->part, &dl->fd, &have, &missing, e);
    if (rc == SG_OK && have != len)
        rc = err_set(e, SG_EIO, "%s changed size under us", dl->part);
    if (rc || (rc = output_preallocate(dl->fd, dl->pr.res.size, e)) ||
        (rc = output_sync(dl->fd, e)) || (rc = output_sync_dir(dl->part, e)))
        return rc;
    dl->made_part = 1;
    for (int i = 0; i < dl->n; i++)
        dl->segs[i].done = len <= dl->segs[i].start ? dl->segs[i].start
                           : len >= dl->segs[i].end ? dl->segs[i].end
                                                    : len;
    if ((rc = journal_commit(dl->j, dl->segs, dl->n, e)))
        return rc;
    dl->durable = len;
    return SG_OK;
}

/* Plan afresh, record it, and create NAME.part. */
static sg_code start_over(sg_download *dl, struct dl_task *t, int ranges)
{
    sg_err *e = &t->err;
    sg_code rc;
    int64_t size = dl->pr.res.size;
    free(dl->segs);
    dl->n = 0;
    dl->durable = 0;
    if (!(dl->segs = calloc(PLAN_MAX_SEGMENTS, sizeof *dl->segs)))
        return err_set(e, SG_ENOMEM, "out of memory");
    if (ranges && size > 0)
        dl->n = plan_split(size, dl->o.connections, dl->o.min_split,
                           dl->segs, PLAN_MAX_SEGMENTS);
    else if (size != 0) {
        dl->segs[0] = (sg_segment){.end = size < 0 ? INT64_MAX : size};
        dl->n = 1;
    }
    if (dl->fd >= 0) {
        close(dl->fd);
        dl->fd = -1;
    }
    /* A .part is ours to replace when a journal vouched for it or the
     * user said --force.  The journal records the new plan (claiming no
     * byte) before .part is created, so after a crash at any point the
     * .part on disk is one a journal describes. */
    if (dl->fresh && !dl->o.force && !dl->part_ours && dl->adopt.len <= 0 &&
        access(dl->part, F_OK) == 0)
        return err_set(e, SG_EUNSAFE,
                       "%s exists but no journal describes it; remove it "
                       "or force the download",
                       dl->part);
    char *eff = eng_url_redact(dl->pr.res.effective_url);
    if (!eff)
        return err_set(e, SG_ENOMEM, "out of memory");
    journal_meta_cleanup(&dl->meta);
    journal_meta m = {.url = dl->ident,
                      .effective_url = eff,
                      .output = dl->path,
                      .etag = dl->pr.res.etag,
                      .last_modified = dl->pr.res.last_modified,
                      .size = size,
                      .ranges = ranges};
    rc = journal_reset(dl->j, &m, dl->segs, dl->n, e);
    free(eff);
    if (rc)
        return rc;
    dl->fresh = 0;
    dl->meta.size = size;
    dl->meta.ranges = ranges;
    int64_t adopt = ranges && adoptable(dl) ? dl->adopt.len : 0;
    dl->adopt.len = 0; /* once */
    if (adopt)
        return adopt_part(dl, t, adopt);
    if (unlink(dl->part) < 0 && errno != ENOENT)
        return err_set(e, SG_EIO, "cannot remove %s: %s", dl->part,
                       strerror(errno));
    if ((rc = output_create(dl->part, &dl->fd, e)))
        return rc;
    dl->made_part = 1;
    if ((rc = output_preallocate(dl->fd, size, e)) ||
        (rc = output_sync_dir(dl->part, e)))
        return rc;
    return SG_OK;
}

static sg_code prepare(sg_download *dl, struct dl_task *t)
{
    int ranges = dl->meta.ranges;
    int ok = 0;
    if (dl->resume) {
        sg_code rc = resume(dl, t, &ok);
        if (rc)
            return rc;
    }
    return ok ? SG_OK : start_over(dl, t, ranges);
}

/* An origin_set result: a file system without user attributes is no
 * news; another failure is worth a notice (the next run will not know
 * the file is complete), never a failed download. */
static void record_origin(sg_download *dl, struct dl_task *t, int err)
{
    if (err && err != ENOTSUP && err != EOPNOTSUPP)
        note(t, "cannot record where %s came from as extended attributes "
                "(%s); a rerun will not recognise it as complete",
             dl->path, strerror(err));
}

/* Verify the finished data against the journal, sync it, record its
 * origin, mark it. */
static sg_code verify(sg_download *dl, struct dl_task *t)
{
    sg_err *e = &t->err;
    journal_meta m;
    sg_segment *segs = NULL;
    int n = 0;
    struct stat st;
    sg_code rc = journal_read(dl->j, &m, &segs, &n, e);
    if (rc)
        return rc;
    plan_sort(segs, n);
    int64_t size = m.size >= 0 ? m.size : (n ? segs[n - 1].end : 0);
    if (plan_check(segs, n, size) < 0 || plan_remaining(segs, n) != 0)
        rc = err_set(e, SG_EPROTO,
                     "verification failed: the journal does not cover all "
                     "%lld bytes",
                     (long long)size);
    else if (fstat(dl->fd, &st) < 0 || st.st_size != size)
        rc = err_set(e, SG_EIO,
                     "verification failed: %s has %lld bytes, expected %lld",
                     dl->part, (long long)st.st_size, (long long)size);
    free(segs);
    /* Hashed as it was written, by the stream (dl_stream.c), unless an
     * earlier run wrote it all. */
    if (rc == SG_OK && dl->has_sum && !dl->sum_checked &&
        (rc = checksum_verify(dl->fd, size, &dl->sum, e)) == SG_OK)
        dl->sum_checked = 1; /* (a mismatch is worded by dl_stepped) */
    if (rc == SG_OK)
        record_origin(dl, t, origin_set(dl->fd, dl->shown, dl_range_spec(dl),
                                        size, m.etag, m.last_modified));
    journal_meta_cleanup(&m);
    /* The attributes go before the sync and the rename: on ext4 and XFS,
     * whose one log orders metadata, the directory's sync after the
     * rename makes them durable too.  Elsewhere a crash may lose them,
     * which costs the next run only its shortcut. */
    if (rc || (rc = output_sync(dl->fd, e)) ||
        (rc = journal_mark_verified(dl->j, e)))
        return rc;
    dl->meta.size = size;
    dl->meta.verified = 1;
    return SG_OK;
}

/* Rename NAME.part to NAME; for a download finished before whose rename
 * already happened, nothing. */
static sg_code publish(sg_download *dl, struct dl_task *t)
{
    if (dl->finished_before == 2)
        return SG_OK;
    return output_publish(dl->part, dl->path, &t->err);
}

/* After a failure: leave the directory as this run found it where
 * nothing worth keeping was made. */
static void close_run(sg_download *dl)
{
    if (!dl->j && dl->made_part && dl->rc && dl->rc != SG_ECHECKSUM) {
        /* A batch's first GET: nothing in it is kept without a journal
         * (a checksum mismatch is kept for inspection). */
        (void)unlink(dl->part);
        dl->made_part = 0;
    }
    if (dl->rc && dl->rc != SG_EINTERRUPTED && dl->j && dl->made_part &&
        plan_written(dl->segs, dl->n) == 0) {
        (void)unlink(dl->part);
        dl->made_part = 0;
    }
    if (dl->rc && dl->j && dl->made_journal && !dl->made_part) {
        /* Nothing of this download is on disk: leave no litter. */
        (void)journal_remove(dl->j, &(sg_err){0});
        dl->j = NULL;
    }
    journal_close(dl->j);
    dl->j = NULL;
    if (dl->fd >= 0)
        close(dl->fd);
    dl->fd = -1;
    if (dl->rc && dl->made_dir) /* made for nothing */
        output_rmdirs(dl->mkdir, dl->made_dir);
}

static void run(disk_task *dt)
{
    struct dl_task *t = (struct dl_task *)(void *)dt;
    sg_download *dl = t->dl;
    sg_code rc = SG_OK;
    switch (t->kind) {
    case ST_OPEN:
        /* -P DIR (or the output's with create_dirs): made now, parents
         * too (mkdir -p). */
        if (dl->mkdir &&
            ((rc = output_mkdirs(dl->mkdir, &dl->made_dir, &t->err)) ||
             (rc = dl_check_dir(dl, &t->err))))
            break;
        rc = open_journal(dl, t);
        if (rc == SG_OK && !dl->fresh && !dl->check)
            rc = finished_before(dl, &t->err);
        break;
    case ST_PREPARE:
        rc = prepare(dl, t);
        break;
    case DT_CKPT:
    case ST_SETTLE:
        if (dl->ckpt_failed || !dl->j || dl->fd < 0)
            break;
        /* The rule: sync the data, then claim it. */
        rc = output_sync(dl->fd, &t->err);
        if (rc == SG_OK)
            rc = journal_commit(dl->j, t->snap, t->nsnap, &t->err);
        break;
    case ST_VERIFY:
        rc = verify(dl, t);
        break;
    case ST_PUBLISH:
        rc = publish(dl, t);
        break;
    case ST_CLEANUP:
        rc = journal_remove(dl->j, &t->err);
        dl->j = NULL;
        break;
    case ST_CLOSE:
        close_run(dl);
        break;
    }
    t->rc = rc;
    if (rc && !t->err.code)
        err_set(&t->err, rc, "%s", sg_strerror(rc));
}

static void submit(sg_download *dl, int kind)
{
    struct dl_task *t = &dl->task;
    t->dl = dl;
    t->kind = kind;
    t->rc = SG_OK;
    t->note[0] = '\0';
    err_reset(&t->err);
    if (kind == DT_CKPT || kind == ST_SETTLE) {
        /* Captured now: every byte below these offsets was written
         * before, so the sync that follows covers it. */
        if (!t->snap)
            t->snap = malloc(PLAN_MAX_SEGMENTS * sizeof *t->snap);
        t->nsnap = t->snap ? dl->n : 0;
        if (t->snap)
            memcpy(t->snap, dl->segs, (size_t)dl->n * sizeof *dl->segs);
        else
            dl->ckpt_failed = 1;
    }
    dl->disk_busy = 1;
    t->t_submit = now_ms();
    eng_disk(dl->g, &t->t);
}

static void done(disk_task *dt)
{
    struct dl_task *t = (struct dl_task *)(void *)dt;
    sg_download *dl = t->dl;
    dl->disk_busy = 0;
    if (t->kind == DT_CKPT || t->kind == ST_SETTLE) {
        if (t->rc)
            dl->ckpt_failed = 1;
        else if (t->snap && dl->j)
            dl->durable = plan_written(t->snap, t->nsnap);
        dl->ckpt_cost = now_ms() - t->t_submit;
    }
    if (t->kind == DT_CKPT) {
        if (t->rc && !dl->err.code)
            err_merge(&dl->err, &t->err);
        err_reset(&t->err);
        int next = dl->disk_next;
        dl->disk_next = 0;
        if (next)
            submit(dl, next);
        return;
    }
    dl_stepped(dl);
}

void dl_disk(sg_download *dl, int kind)
{
    dl->task.t.run = run;
    dl->task.t.done = done;
    dl->task.t.lane = dl;
    if (dl->disk_busy) {
        /* Only a checkpoint can be under way: this step (or another
         * checkpoint, with a newer snapshot) follows it.  A step already
         * waiting takes its own snapshot. */
        if (kind != DT_CKPT || !dl->disk_next)
            dl->disk_next = kind;
        return;
    }
    submit(dl, kind);
}
