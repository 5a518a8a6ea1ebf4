/* SPDX-License-Identifier: MIT */
/*
 * batch_run.c - sg_batch_run: decide what each entry needs, then fetch
 * small files in the pool, large ones as downloads on their own threads,
 * and let the committer make finished files durable (see batch.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch.h"
#include "download.h"
#include "output.h"
#include "util.h"

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
    char *p = strdup(path);
    if (!p)
        return err_set(e, SG_ENOMEM, "out of memory");
    sg_code rc = SG_OK;
    for (char *s = strchr(p + 1, '/'); s && !rc; s = strchr(s + 1, '/')) {
        *s = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
            rc = err_set(e, SG_EIO, "cannot create directory %s: %s", p,
                         strerror(errno));
        *s = '/';
    }
    free(p);
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
        batch_fail(en, SG_EUNSAFE, msg);
        return SG_OK;
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
    if (verified && !has_path && has_part && !has_j &&
        sq.st_size == r->size) {
        /* Verified and committed; only the rename was lost. */
        if ((rc = output_rename(en->part, en->path, &e)) ||
            (rc = note_dir(b, en->path, &e))) {
            batch_fail(en, rc, err_msg(&e));
            err_reset(&e);
            return SG_OK;
        }
        en->size = r->size;
        batch_state(en, SG_ENTRY_SKIPPED);
        return SG_OK;
    }
    if (has_path && r->state != QROW_VERIFIED && !b->o.dl.force) {
        char msg[64 + 4096];
        (void)snprintf(msg, sizeof msg,
                       "%s exists; pass --force to replace it", en->path);
        batch_fail(en, SG_EUNSAFE, msg);
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
                       "or pass --force",
                       en->part);
        batch_fail(en, SG_EUNSAFE, msg);
        return SG_OK;
    } else {
        en->kind = K_SMALL;
    }
    if (en->q->out && strchr(en->q->out, '/') &&
        (rc = make_parents(en->path, &e))) {
        batch_fail(en, rc, err_msg(&e));
        err_reset(&e);
    }
    return SG_OK;
}

/* fetch_open_fn: NAME.part for a small file. */
static int small_open(fetch_job *j, int64_t size, sg_err *e)
{
    struct bent *en = j->owner;
    (void)size;
    if (en->fd >= 0) {
        if (ftruncate(en->fd, 0) < 0) {
            err_set(e, SG_EIO, "cannot truncate %s: %s", en->part,
                    strerror(errno));
            return -1;
        }
        return en->fd;
    }
    /* The name is claimed in the queue journal: a .part there is ours. */
    if (unlink(en->part) < 0 && errno != ENOENT) {
        err_set(e, SG_EIO, "cannot remove %s: %s", en->part,
                strerror(errno));
        return -1;
    }
    if (output_create(en->part, &en->fd, e))
        return -1;
    return en->fd;
}

static void start_small(sg_batch *b, struct bent *en)
{
    fetch_job *j = &en->job;
    sg_err e = {0};
    fetch_job_cleanup(j);
    memset(j, 0, sizeof *j);
    j->url = en->q->url;
    j->shown = en->shown;
    j->limit = 2 * b->o.dl.min_split - 1;
    j->sum = en->has_sum ? &en->sum : NULL;
    j->open = small_open;
    j->owner = en;
    if (en->conditional) {
        j->if_none_match = en->row.etag;
        j->if_modified_since = en->row.last_modified;
    }
    if (fetch_start(b->fp, j, &e)) {
        batch_fail(en, e.code, err_msg(&e));
        err_reset(&e);
        return;
    }
    b->hosts[en->host].busy++;
    b->active++;
    batch_state(en, SG_ENTRY_ACTIVE);
}

/* download_verified_fn: commit the row before the download renames. */
static sg_code big_verified(void *ud, int64_t size, const char *etag,
                            const char *last_modified, sg_err *e)
{
    struct bent *en = ud;
    commit_item *ci = &en->ci;
    memset(ci, 0, sizeof *ci);
    ci->fd = -1;
    ci->name = en->name;
    ci->url = en->shown;
    ci->size = size;
    ci->etag = etag;
    ci->last_modified = last_modified;
    ci->waiter = 1;
    ci->owner = en;
    committer_submit(en->b->cm, ci);
    committer_wait(en->b->cm, ci);
    sg_code rc = ci->rc;
    if (rc)
        err_set(e, rc, "%s", err_msg(&ci->err));
    err_reset(&ci->err);
    en->size = size;
    return rc;
}

static void big_progress(const sg_progress *p, void *ud)
{
    struct bent *en = ud;
    atomic_store(&en->got, (long long)(p->received - p->resumed));
}

static void big_notice(const char *msg, void *ud)
{
    struct bent *en = ud;
    sg_batch *b = en->b;
    if (!b->o.dl.notice)
        return;
    char line[1024];
    (void)snprintf(line, sizeof line, "%s: %s", en->name, msg);
    pthread_mutex_lock(&b->cbmu);
    b->o.dl.notice(line, b->o.dl.userdata);
    pthread_mutex_unlock(&b->cbmu);
}

static void *big_main(void *arg)
{
    struct bent *en = arg;
    en->brc = sg_download_run(en->dl);
    atomic_store(&en->finished, 1);
    fetch_wakeup(en->b->fp);
    return NULL;
}

/* Start en as a download of its own with up to its connections, as many
 * as the host has free.  0 when the host has none free now. */
static int start_big(sg_batch *b, struct bent *en)
{
    struct host *h = &b->hosts[en->host];
    int slots = b->o.max_per_host - h->busy;
    if (slots < 1)
        return 0;
    if (slots > en->connections)
        slots = en->connections;
    sg_options o = b->o.dl;
    o.output = en->path;
    o.dir = NULL;
    o.connections = slots;
    o.checksum = en->q->checksum;
    o.force = o.force || en->replace;
    if (o.max_rate > 0)
        o.max_rate /= b->o.jobs; /* each file at once gets its share */
    o.progress = big_progress;
    o.notice = big_notice;
    o.userdata = en;
    sg_download_free(en->dl);
    en->dl = NULL;
    sg_code rc = sg_download_new(&en->dl, en->q->url, &o);
    if (rc) {
        batch_fail(en, rc, en->dl ? sg_download_error(en->dl) : NULL);
        return 1;
    }
    download_on_verified(en->dl, big_verified, en);
    if (en->part_ours)
        download_part_is_ours(en->dl);
    const fetch_job *j = &en->job;
    if (j->verdict == FETCH_BIG && j->prefix > 0) {
        /* Its first bytes came with the small GET: keep them. */
        const char *etag = j->etag && strncmp(j->etag, "W/", 2) ? j->etag
                                                                : NULL;
        if ((rc = download_adopt(en->dl, j->prefix, j->size, etag,
                                 j->last_modified))) {
            batch_fail(en, rc, sg_download_error(en->dl));
            return 1;
        }
    }
    atomic_store(&en->finished, 0);
    atomic_store(&en->got, 0);
    en->kind = K_BIG;
    if (pthread_create(&en->th, NULL, big_main, en) != 0) {
        batch_fail(en, SG_ENOMEM, "cannot start a thread");
        return 1;
    }
    en->slots = slots;
    h->busy += slots;
    b->running[b->nrunning++] = en;
    b->active++;
    if (en->state != SG_ENTRY_ACTIVE)
        batch_state(en, SG_ENTRY_ACTIVE);
    return 1;
}

static void push_big(sg_batch *b, struct bent *en)
{
    struct bent **v = realloc(b->bigq, (size_t)(b->nbigq + 1) * sizeof *v);
    if (!v) {
        batch_fail(en, SG_ENOMEM, "out of memory");
        return;
    }
    b->bigq = v;
    v[b->nbigq++] = en;
    en->waiting_big = 1;
}

/* Start entries while there is room: large ones waiting first, then the
 * queue in order, skipping entries whose host is full. */
static void start_more(sg_batch *b, int *cursor)
{
    for (int i = 0; i < b->nbigq && b->active < b->o.jobs;) {
        if (start_big(b, b->bigq[i])) {
            b->bigq[i]->waiting_big = 0;
            memmove(b->bigq + i, b->bigq + i + 1,
                    (size_t)(b->nbigq - i - 1) * sizeof *b->bigq);
            b->nbigq--;
        } else {
            i++;
        }
    }
    while (*cursor < b->n && b->e[*cursor].state != SG_ENTRY_QUEUED)
        (*cursor)++;
    for (int i = *cursor, seen = 0;
         i < b->n && b->active < b->o.jobs && seen < SCAN_AHEAD; i++) {
        struct bent *en = &b->e[i];
        if (en->state != SG_ENTRY_QUEUED || en->waiting_big)
            continue;
        seen++;
        if (b->hosts[en->host].busy >= b->o.max_per_host)
            continue;
        if (en->kind == K_BIG)
            (void)start_big(b, en);
        else
            start_small(b, en);
    }
}

static void close_fd(struct bent *en)
{
    if (en->fd >= 0)
        close(en->fd);
    en->fd = -1;
}

/* A small fetch reached its verdict. */
static void fetched(sg_batch *b, struct bent *en)
{
    fetch_job *j = &en->job;
    b->hosts[en->host].busy--;
    b->active--;
    b->bytes += j->bytes;
    j->bytes = 0;
    switch (j->verdict) {
    case FETCH_DONE: {
        commit_item *ci = &en->ci;
        memset(ci, 0, sizeof *ci);
        ci->fd = en->fd;
        ci->name = en->name;
        ci->url = en->shown;
        ci->size = j->size;
        ci->etag = j->etag;
        ci->last_modified = j->last_modified;
        ci->part = en->part;
        ci->path = en->path;
        ci->owner = en;
        en->committing = 1;
        b->committing++;
        committer_submit(b->cm, ci);
        return;
    }
    case FETCH_UNCHANGED:
        en->size = en->row.size;
        batch_state(en, SG_ENTRY_SKIPPED);
        return;
    case FETCH_BIG:
        close_fd(en);
        if (j->prefix <= 0)
            (void)unlink(en->part);
        en->kind = K_BIG; /* still ACTIVE to the user: it goes on */
        push_big(b, en);
        return;
    default:
        if (en->fd >= 0) {
            close_fd(en);
            /* A checksum mismatch keeps the data for inspection. */
            if (j->err.code != SG_ECHECKSUM)
                (void)unlink(en->part);
        }
        batch_fail(en, j->err.code ? j->err.code : SG_ENETWORK,
                   err_msg(&j->err));
        return;
    }
}

static void committed(sg_batch *b, struct bent *en)
{
    commit_item *ci = &en->ci;
    en->committing = 0;
    b->committing--;
    close_fd(en);
    if (ci->rc == SG_OK)
        ci->rc = note_dir(b, en->path, &ci->err);
    if (ci->rc) {
        batch_fail(en, ci->rc, err_msg(&ci->err));
    } else {
        en->size = ci->size;
        batch_state(en, SG_ENTRY_DONE);
    }
    err_reset(&ci->err);
}

static void reap_big(sg_batch *b, struct bent *en)
{
    pthread_join(en->th, NULL);
    for (int i = 0; i < b->nrunning; i++)
        if (b->running[i] == en) {
            b->running[i] = b->running[--b->nrunning];
            break;
        }
    b->hosts[en->host].busy -= en->slots;
    b->active--;
    en->slots = 0;
    b->bytes += (int64_t)atomic_load(&en->got);
    atomic_store(&en->got, 0);
    if (en->brc == SG_OK) {
        batch_state(en, SG_ENTRY_DONE); /* its rename synced the directory */
    } else if (en->brc == SG_EINTERRUPTED && b->cancel) {
        en->state = SG_ENTRY_QUEUED; /* resumable; not a failure */
    } else {
        batch_fail(en, en->brc, sg_download_error(en->dl));
    }
    sg_download_free(en->dl);
    en->dl = NULL;
}

static void wake_pool(void *ud)
{
    fetch_wakeup(ud);
}

static void status(sg_batch *b, int64_t now, int64_t *last)
{
    if (now - *last < STATUS_MS)
        return;
    *last = now;
    sg_batch_status st;
    sg_batch_counts(b, &st);
    rate_sample(&b->meter, now, st.bytes);
    st.rate = b->meter.rate > 0 ? b->meter.rate : 0;
    if (!b->o.status)
        return;
    pthread_mutex_lock(&b->cbmu);
    b->o.status(&st, b->o.dl.userdata);
    pthread_mutex_unlock(&b->cbmu);
}

/* Collect everything that finished: fetches, commits, downloads. */
static void collect(sg_batch *b, long wait_ms)
{
    fetch_job *done[64];
    commit_item *cis[64];
    int n = fetch_step(b->fp, wait_ms, done, 64);
    for (int i = 0; i < n; i++)
        fetched(b, done[i]->owner);
    while ((n = committer_take(b->cm, cis, 64)) > 0)
        for (int i = 0; i < n; i++)
            committed(b, cis[i]->owner);
    for (int i = 0; i < b->nrunning;) {
        struct bent *en = b->running[i];
        if (atomic_load(&en->finished))
            reap_big(b, en); /* moves the last one into slot i */
        else
            i++;
    }
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

/* Stop everything in flight after a cancel. */
static void wind_down(sg_batch *b)
{
    for (int i = 0; i < b->nrunning; i++)
        sg_download_cancel(b->running[i]->dl);
    while (b->nrunning > 0)
        reap_big(b, b->running[0]);
    fetch_pool_free(b->fp);
    b->fp = NULL;
    for (int i = 0; i < b->n; i++) {
        struct bent *en = &b->e[i];
        if (en->state == SG_ENTRY_ACTIVE && en->kind == K_SMALL &&
            !en->committing) {
            /* Abandoned mid-body: nothing there is worth keeping. */
            if (en->fd >= 0) {
                close_fd(en);
                (void)unlink(en->part);
            }
            en->state = SG_ENTRY_QUEUED;
            b->active--;
        }
    }
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
    rc = qjournal_open(&b->j, sp, &b->err);
    free(sp);
    if (rc)
        return rc;
    for (int i = 0; i < b->n && rc == SG_OK; i++)
        rc = decide(b, &b->e[i]);
    if (rc || (rc = claim(b)))
        goto out;
    b->fc = (fetch_conf){b->o.dl.user_agent, b->o.dl.connect_timeout_ms,
                         b->o.dl.stall_timeout_ms, b->o.dl.insecure,
                         b->o.dl.headers,     b->o.dl.nheaders,
                         b->o.dl.userpwd,     b->o.dl.netrc,
                         b->o.dl.proxy,
                         b->o.dl.max_tries,   b->o.max_per_host,
                         &b->cancel};
    if (!(b->running = calloc((size_t)b->o.jobs, sizeof *b->running))) {
        rc = err_set(&b->err, SG_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = fetch_pool_new(&b->fp, &b->fc, &b->err)) ||
        (rc = committer_start(&b->cm, b->j, wake_pool, b->fp, &b->err)))
        goto out;
    int cursor = 0;
    int64_t last = 0;
    for (;;) {
        if (b->cancel)
            break;
        start_more(b, &cursor);
        if (b->active == 0 && b->committing == 0 && b->nbigq == 0 &&
            cursor >= b->n)
            break;
        /* Large downloads get a job's share of a rate limit each; the
         * small fetches share whatever is left. */
        if (b->o.dl.max_rate > 0)
            fetch_set_rate(b->fp,
                           (double)(b->o.dl.max_rate -
                                    b->o.dl.max_rate / b->o.jobs *
                                        b->nrunning));
        collect(b, STATUS_MS);
        status(b, now_ms(), &last);
    }
    if (b->cancel)
        wind_down(b);
    committer_flush(b->cm);
    commit_item *cis[64];
    int n;
    while ((n = committer_take(b->cm, cis, 64)) > 0)
        for (int i = 0; i < n; i++)
            committed(b, cis[i]->owner);
    status(b, now_ms() + STATUS_MS, &last);
out:
    committer_stop(b->cm);
    b->cm = NULL;
    fetch_pool_free(b->fp);
    b->fp = NULL;
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
    if (b->cancel)
        return err_set(&b->err, SG_EINTERRUPTED,
                       "interrupted; run the same command again to resume");
    for (int i = 0; i < b->n; i++)
        if (b->e[i].state == SG_ENTRY_FAILED)
            return b->e[i].code;
    return SG_OK;
}
