/* SPDX-License-Identifier: MIT */
/*
 * batch_run.c - sg_batch_run: decide what each entry needs, then run
 * every entry as a download on the batch's one engine, and let the
 * committer make finished files durable (see batch.c).
 *
 * Everything here runs on the loop thread: the batch is one job of the
 * engine (its tick starts entries and reports), each entry's download is
 * another, and the committer's rounds come back to it as disk tasks.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch.h"
#include "download.h"
#include "output.h"
#include "util.h"

#define CAP_SAY_MS 500 /* a cap is said once it held this long */
#define CAP_DEFERRALS 3

static int streq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* Remember the directory of a file just renamed, to sync it once at the
 * end; without memory for that, sync it now.  SG_OK or the sync's
 * failure (in e). */
static sg_code note_dir(sg_batch *b, const char *path, sg_err *e)
{
    const char *slash = strrchr(path, '/');
    char *d = slash ? strndup(path, (size_t)(slash - path + 1))
                    : strdup("./");
    for (int i = 0; d && i < b->ndirs; i++)
        if (strcmp(b->dirs[i], d) == 0) {
            free(d);
            return SG_OK;
        }
    char **v = d ? realloc(b->dirs, (size_t)(b->ndirs + 1) * sizeof *v)
                 : NULL;
    if (!v) {
        free(d);
        return output_sync_dir(path, e);
    }
    b->dirs = v;
    v[b->ndirs++] = d;
    return SG_OK;
}

/* Create the directories of an out= name with subdirectories. */
static sg_code make_parents(const char *path, sg_err *e)
{
    const char *slash = strrchr(path, '/');
    char *d = strndup(path, slash ? (size_t)(slash - path) : 0);
    if (!d)
        return err_set(e, SG_ENOMEM, "out of memory");
    sg_code rc = output_mkdirs(d, NULL, e);
    free(d);
    return rc;
}

/* What does en need, judging by its row and the files on disk? */
static sg_code decide(sg_batch *b, struct bent *en)
{
    struct stat sp, sq;
    int has_path = lstat(en->path, &sp) == 0;
    int has_part = lstat(en->part, &sq) == 0;
    int has_j = access(en->jpath, F_OK) == 0;
    sg_err e = {0};
    sg_code rc = qjournal_get(b->j, en->name, &en->row, &b->err);
    if (rc)
        return rc;
    const qrow *r = &en->row;
    int ours = r->state != QROW_NONE;
    int verified = r->state == QROW_VERIFIED && streq(r->url, en->shown);
    if ((has_path && !S_ISREG(sp.st_mode)) ||
        (has_part && !S_ISREG(sq.st_mode))) {
        char msg[64 + 4096];
        (void)snprintf(msg, sizeof msg,
                       "%s is a symlink or not a regular file; refusing",
                       has_path && !S_ISREG(sp.st_mode) ? en->path
                                                        : en->part);
        batch_fail(en, SG_EUNSAFE, 0, msg);
        return SG_OK;
    }
    if (verified && r->part && has_part && !has_j &&
        sq.st_size == r->size) {
        /* Verified and committed in NAME.part; its rename was lost (a
         * crash, or a rename that failed): finish it.  (A NAME.part is
         * never written while its row says so: the claim before a new
         * download of the entry clears it.) */
        if ((rc = output_rename(en->part, en->path, &e)) ||
            (rc = note_dir(b, en->path, &e))) {
            batch_fail(en, rc, 0, err_msg(&e));
            err_reset(&e);
            return SG_OK;
        }
        has_path = lstat(en->path, &sp) == 0;
        has_part = 0;
    }
    if (verified && has_path && !has_j && sp.st_size == r->size) {
        if (!b->o.refresh) {
            en->size = r->size;
            batch_state(en, SG_ENTRY_SKIPPED);
            return SG_OK;
        }
        en->replace = 1;
        en->conditional = r->etag || r->last_modified;
        en->kind = K_SMALL;
        return SG_OK;
    }
    if (has_path && r->state != QROW_VERIFIED && !b->o.dl.force) {
        char msg[64 + 4096];
        (void)snprintf(msg, sizeof msg,
                       "%s exists; it is replaced only when forced", en->path);
        batch_fail(en, SG_EUNSAFE, 0, msg);
        return SG_OK;
    }
    en->replace = has_path;
    /* A .part is ours if the queue owned the name before this run, or if
     * it did not exist yet (then this run makes it). */
    en->part_ours = ours || !has_part;
    if (has_j) {
        en->kind = K_BIG; /* its own journal knows more */
    } else if (has_part && !ours && !b->o.dl.force) {
        char msg[64 + 4096];
        (void)snprintf(msg, sizeof msg,
                       "%s exists but no journal describes it; remove it "
                       "or force the download",
                       en->part);
        batch_fail(en, SG_EUNSAFE, 0, msg);
        return SG_OK;
    } else {
        en->kind = K_SMALL;
    }
    if (en->q->out && strchr(en->q->out, '/') &&
        (rc = make_parents(en->path, &e))) {
        batch_fail(en, rc, 0, err_msg(&e));
        err_reset(&e);
    }
    return SG_OK;
}

/* The connections en's host allows now: --max-per-host, or fewer when
 * the host turned connections away (sched_cap). */
static int host_limit(sg_batch *b, struct bent *en)
{
    struct host *h = &b->hosts[en->host];
    cap_grow(&h->cap, h->busy, now_ms());
    return h->cap.limit < b->o.max_per_host ? h->cap.limit
                                            : b->o.max_per_host;
}

/* The connections a download of en may use on its host now: at least
 * one, or 0 when the host has none free. */
static int free_slots(sg_batch *b, struct bent *en, int held)
{
    int spare = host_limit(b, en) - b->hosts[en->host].busy + held;
    return spare < 1 ? 0 : spare < en->connections ? spare : en->connections;
}

/* dl_hooks.grant: connections for the rest of a large file. */
static int grant(sg_download *dl, void *ud, int want)
{
    struct bent *en = ud;
    (void)dl;
    if (!en->counted)
        return 0;
    int n = free_slots(en->b, en, en->slots);
    if (n > want)
        n = want;
    if (n <= 0)
        return 0;
    en->b->hosts[en->host].busy += n - en->slots;
    en->slots = n;
    en->kind = K_BIG;
    return n;
}

static void committed(commit_item *ci);

/* en's data is in (or it is over): its connections and its place among
 * the -j files being fetched go to the next entries, while its sync and
 * commit go on. */
static void release(struct bent *en)
{
    if (!en->counted)
        return;
    en->b->hosts[en->host].busy -= en->slots;
    en->slots = 0;
    en->b->active--;
    en->counted = 0;
}

/* dl_hooks.publish: through the committer. */
static void publish(sg_download *dl, void *ud, int fd, int64_t size,
                    const char *etag, const char *last_modified, int named)
{
    struct bent *en = ud;
    (void)dl;
    release(en);
    commit_item *ci = &en->ci;
    *ci = (commit_item){.fd = fd,
                        .name = en->name,
                        .url = en->shown,
                        .size = size,
                        .etag = etag,
                        .last_modified = last_modified,
                        .part = en->part,
                        .path = en->path,
                        .named = named,
                        .done = committed,
                        .owner = en};
    committer_submit(en->b->cm, ci);
}

static void committed(commit_item *ci)
{
    struct bent *en = ci->owner;
    if (ci->rc == SG_OK)
        ci->rc = note_dir(en->b, en->path, &ci->err);
    if (ci->rc == SG_OK)
        en->size = ci->size;
    download_published(en->dl, ci->rc, err_msg(&ci->err),
                       ci->rc && ci->committed);
    err_reset(&ci->err);
}

/* dl_hooks.finished: the entry's outcome. */
static void finished(sg_download *dl, void *ud, sg_code rc, int unchanged)
{
    struct bent *en = ud;
    sg_batch *b = en->b;
    release(en);
    b->running--;
    b->bytes += download_received(dl);
    if (download_deferred(dl)) {
        /* Its host's cap: again when a connection is free. */
        en->state = SG_ENTRY_QUEUED;
        if (en - b->e < b->cursor)
            b->cursor = (int)(en - b->e);
    } else if (rc == SG_OK) {
        if (unchanged)
            en->size = en->row.size;
        batch_state(en, unchanged ? SG_ENTRY_SKIPPED : SG_ENTRY_DONE);
    } else if (rc == SG_EINTERRUPTED && atomic_load(&b->cancel)) {
        en->state = SG_ENTRY_QUEUED; /* resumable; not a failure */
    } else {
        batch_fail(en, rc, sg_download_http_status(dl),
                   sg_download_error(dl));
    }
    en->dl = NULL;
    sg_download_free(dl);
}

/* dl_hooks.refused: turned away while others of its host are at work,
 * the host's cap; turned away alone, a failure.  A refusal of a raised
 * limit (the cap is probing) always lowers it again.  Otherwise an entry
 * lowers the cap only with its first refusal and is deferred at most
 * CAP_DEFERRALS times: a URL that its server refuses whatever the load
 * (always 503) is then a failure of its own, not the host's cap, and
 * does not take the host's connections down with it. */
static int refused(sg_download *dl, void *ud, int64_t retry_after)
{
    struct bent *en = ud;
    struct host *h = &en->b->hosts[en->host];
    (void)dl;
    int others = h->busy - en->slots;
    int probe = h->cap.probing;
    if (others <= 0 || (!probe && en->refusals >= CAP_DEFERRALS))
        return 0;
    if (probe || en->refusals == 0)
        (void)cap_refused(&h->cap, others, retry_after, now_ms());
    if (!probe) {
        h->refusers += en->refusals == 0;
        en->refusals++;
    }
    en->b->caps_unsaid |= !h->said_cap;
    release(en); /* now: the next refusal counts the others right */
    return 1;
}

static const dl_hooks hooks = {grant, publish, finished, refused};

/* A host's cap is said once it has held for a while. */
static void say_caps(sg_batch *b, int64_t now)
{
    if (!b->caps_unsaid)
        return;
    b->caps_unsaid = 0;
    for (int i = 0; i < b->nhosts; i++) {
        struct host *h = &b->hosts[i];
        if (!h->cap.capped || h->said_cap || h->refusers < 2)
            continue;
        if (now - h->cap.refused_at < CAP_SAY_MS) {
            b->caps_unsaid = 1;
            continue;
        }
        h->said_cap = 1;
        if (b->o.dl.notice) {
            char line[512];
            (void)snprintf(line, sizeof line,
                           "%s serves %d connections at a time: using %d",
                           h->name, h->cap.limit, h->cap.limit);
            b->o.dl.notice(line, b->o.dl.userdata);
        }
    }
}

static void entry_notice(const char *msg, void *ud)
{
    struct bent *en = ud;
    sg_batch *b = en->b;
    if (!b->o.dl.notice)
        return;
    char line[1024];
    (void)snprintf(line, sizeof line, "%s: %s", en->name, msg);
    b->o.dl.notice(line, b->o.dl.userdata);
}

/* The first GET asks for this much: a file under it needs no more. */
static int64_t first_limit(const sg_batch *b)
{
    int64_t m = b->o.dl.min_split;
    return m > (INT64_MAX - 1) / 2 ? INT64_MAX - 1 : 2 * m - 1;
}

/* Start en as a download on the batch's engine.  0 when its host has
 * no connection free now. */
static int start(sg_batch *b, struct bent *en)
{
    int slots = en->kind == K_BIG ? free_slots(b, en, 0)
                : b->hosts[en->host].busy < host_limit(b, en) ? 1
                                                              : 0;
    if (slots < 1)
        return 0;
    sg_options o = b->o.dl;
    o.output = en->path;
    o.dir = NULL;
    o.connections = en->kind == K_BIG ? slots : en->connections;
    o.checksum = en->q->checksum ? en->q->checksum : en->sum;
    o.checksum_file = NULL; /* read once, by sg_batch_new */
    o.force = o.force || en->replace;
    o.progress = NULL;
    o.notice = entry_notice;
    o.userdata = en;
    sg_download *dl = NULL;
    sg_code rc = sg_download_new(&dl, en->q->url, &o);
    if (rc) {
        batch_fail(en, rc, 0, dl ? sg_download_error(dl) : NULL);
        sg_download_free(dl);
        return 1;
    }
    if (en->part_ours)
        download_part_is_ours(dl);
    int cond = en->kind == K_SMALL && en->conditional;
    if ((rc = download_batch(dl, b->g, &hooks, en,
                             en->kind == K_SMALL ? first_limit(b) : 0,
                             cond ? en->row.etag : NULL,
                             cond ? en->row.last_modified : NULL))) {
        batch_fail(en, rc, 0, sg_download_error(dl));
        sg_download_free(dl);
        return 1;
    }
    en->dl = dl;
    en->slots = slots;
    en->counted = 1;
    b->hosts[en->host].busy += slots;
    b->active++;
    b->running++;
    batch_state(en, SG_ENTRY_ACTIVE);
    return 1;
}

/* Start entries in queue order while there is room, skipping entries
 * whose host is full. */
static void start_more(sg_batch *b)
{
    while (b->cursor < b->n && b->e[b->cursor].state != SG_ENTRY_QUEUED)
        b->cursor++;
    for (int i = b->cursor, seen = 0;
         i < b->n && b->active < b->o.jobs && seen < SCAN_AHEAD; i++) {
        struct bent *en = &b->e[i];
        if (en->state != SG_ENTRY_QUEUED)
            continue;
        seen++;
        (void)start(b, en);
    }
}

static void status(sg_batch *b, int64_t now, int force)
{
    if (!force && now - b->last_status < STATUS_MS)
        return;
    b->last_status = now;
    sg_batch_status st;
    sg_batch_counts(b, &st);
    rate_sample(&b->meter, now, st.bytes);
    st.rate = b->meter.rate > 0 ? b->meter.rate : 0;
    if (b->o.status)
        b->o.status(&st, b->o.dl.userdata);
}

static int tick(eng_job *j, int64_t now, int64_t *wake)
{
    sg_batch *b = (sg_batch *)(void *)((char *)j - offsetof(sg_batch, job));
    int cancel = atomic_load(&b->cancel);
    if (cancel && !b->cancelled) {
        /* Downloads checkpoint and stop; finished files are still
         * committed. */
        for (int i = 0; i < b->n; i++)
            if (b->e[i].dl)
                sg_download_cancel(b->e[i].dl);
        b->cancelled = 1;
    }
    if (!cancel)
        start_more(b);
    committer_tick(b->cm, now, wake);
    say_caps(b, now);
    status(b, now, 0);
    /* Over when nothing runs or waits for a commit and nothing is left
     * to start (start_more always starts one when nothing runs). */
    return b->running || committer_pending(b->cm) ||
           (!cancel && b->cursor < b->n);
}

static char *state_path(const sg_batch *b)
{
    char name[64];
    if (b->o.shard_count > 0)
        (void)snprintf(name, sizeof name, ".segget-queue-%dof%d",
                       b->o.shard_index, b->o.shard_count);
    else
        (void)snprintf(name, sizeof name, ".segget-queue");
    return path_join(b->dir, name);
}

/* Claim every entry still to do, in one transaction. */
static sg_code claim(sg_batch *b)
{
    sg_code rc = qjournal_begin(b->j, &b->err);
    for (int i = 0; i < b->n && rc == SG_OK; i++)
        if (b->e[i].state == SG_ENTRY_QUEUED)
            rc = qjournal_claim(b->j, b->e[i].name, b->e[i].shown, &b->err);
    return qjournal_end(b->j, rc, &b->err);
}

sg_code sg_batch_run(sg_batch *b)
{
    if (b->ran || b->err.code)
        return err_set(&b->err, SG_EUSAGE, "a batch runs only once");
    b->ran = 1;
    b->t0 = now_ms();
    rate_start(&b->meter, b->t0);
    sg_code rc;
    char *sp = state_path(b);
    if (!sp)
        return err_set(&b->err, SG_ENOMEM, "out of memory");
    /* -P DIR: made now, parents too (mkdir -p). */
    if (b->dir && (rc = output_mkdirs(b->dir, NULL, &b->err))) {
        free(sp);
        return rc;
    }
    rc = qjournal_open(&b->j, sp, &b->err);
    free(sp);
    if (rc)
        return rc;
    for (int i = 0; i < b->n && rc == SG_OK; i++)
        rc = decide(b, &b->e[i]);
    if (rc || (rc = claim(b)))
        goto out;
    const sg_options *o = &b->o.dl;
    eng_conf c;
    eng_conf_from(&c, o);
    c.max_per_host = b->o.max_per_host;
    c.disk_threads = 4; /* syncs in parallel: see commit.c */
    if ((rc = eng_new(&b->g, &c, &b->err)) ||
        (rc = committer_new(&b->cm, b->g, b->j, &b->err)))
        goto out;
    b->job.tick = tick;
    eng_add_job(b->g, &b->job);
    eng_run(b->g);
    status(b, now_ms(), 1);
out:
    eng_free(b->g);
    b->g = NULL;
    committer_free(b->cm);
    b->cm = NULL;
    for (int i = 0; i < b->ndirs; i++) {
        sg_err e = {0};
        if (output_sync_dir(b->dirs[i], &e) && rc == SG_OK)
            rc = err_set(&b->err, e.code, "%s", err_msg(&e));
        err_reset(&e);
    }
    journal_close(b->j);
    b->j = NULL;
    if (rc)
        return rc;
    if (atomic_load(&b->cancel))
        return err_set(&b->err, SG_EINTERRUPTED,
                       "interrupted; run the same command again to resume");
    for (int i = 0; i < b->n; i++)
        if (b->e[i].state == SG_ENTRY_FAILED)
            return b->e[i].code;
    return SG_OK;
}
