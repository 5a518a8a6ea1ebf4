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
#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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
 * end; when DIRS_MAX are remembered, sync them now and start again.
 * SG_OK or a sync's failure (in e). */
static sg_code note_dir(sg_batch *b, const char *path, sg_err *e)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path + 1) : 0;
    for (int i = 0; i < b->ndirs; i++)
        if (strlen(b->dirs[i]) == (n ? n : 2) &&
            strncmp(b->dirs[i], n ? path : "./", n ? n : 2) == 0)
            return SG_OK;
    char *d = n ? strndup(path, n) : strdup("./");
    if (!d)
        return output_sync_dir(path, e);
    sg_code rc = SG_OK;
    if (b->ndirs == DIRS_MAX) {
        for (int i = 0; i < b->ndirs; i++) {
            if (rc == SG_OK)
                rc = output_sync_dir(b->dirs[i], e);
            free(b->dirs[i]);
        }
        b->ndirs = 0;
    }
    b->dirs[b->ndirs++] = d;
    return rc;
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
    /* Looked up by name in the directory: en's paths end with its name
     * (see batch_entry), and with the directory's descriptor only that
     * end is walked. */
    int dfd = b->dfd >= 0 ? b->dfd : AT_FDCWD;
    size_t rel = b->dfd >= 0 ? strlen(en->path) - strlen(en->name) : 0;
    int has_path = fstatat(dfd, en->path + rel, &sp, AT_SYMLINK_NOFOLLOW) == 0;
    int has_j = faccessat(dfd, en->jpath + rel, F_OK, 0) == 0;
    sg_err e = {0};
    sg_code rc = qjournal_get(b->j, en->name, &en->row, &b->err);
    if (rc || (rc = batch_shown(en, en->row.url, &b->err)))
        return rc;
    const qrow *r = &en->row;
    int ours = r->state != QROW_NONE;
    int verified = r->state == QROW_VERIFIED && streq(r->url, en->shown);
    if (verified && !r->part && has_path && S_ISREG(sp.st_mode) && !has_j &&
        sp.st_size == r->size && !b->o.refresh) {
        /* Done by an earlier run (the common case of a rerun: two
         * lookups; NAME.part is not looked at, nothing touches it). */
        en->size = r->size;
        batch_state(en, SG_ENTRY_SKIPPED);
        return SG_OK;
    }
    int has_part =
        fstatat(dfd, en->part + rel, &sq, AT_SYMLINK_NOFOLLOW) == 0;
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
        has_path = fstatat(dfd, en->path + rel, &sp, AT_SYMLINK_NOFOLLOW) == 0;
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
    if (en->q.out && strchr(en->q.out, '/') &&
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
    struct host *h = en->host;
    cap_grow(&h->cap, h->busy, now_ms());
    return h->cap.limit < b->o.max_per_host ? h->cap.limit
                                            : b->o.max_per_host;
}

/* The connections a download of en may use on its host now: at least
 * one, or 0 when the host has none free. */
static int free_slots(sg_batch *b, struct bent *en, int held)
{
    int spare = host_limit(b, en) - en->host->busy + held;
    return spare < 1 ? 0 : spare < en->connections ? spare : en->connections;
}

/* dl_hooks.grant: connections for the rest of a large file. */
static int grant(sg_download *dl, void *ud, int want)
{
    struct bent *en = ud;
    (void)dl;
    if (!en->counted)
        return 0;
    sg_batch *b = en->b;
    int n = free_slots(b, en, en->slots);
    if (n > want)
        n = want;
    /* Descriptors for its new connections (none beyond those it holds
     * when they run short), and for its journal when it becomes a large
     * download (counted even then: it is under way). */
    int jfds = en->fds < FD_BIG ? FD_BIG - FD_SMALL : 0;
    if (n > en->slots && n - en->slots + jfds > b->fd_free)
        n = en->slots + (b->fd_free - jfds > 0 ? b->fd_free - jfds : 0);
    if (n <= 0)
        return 0;
    int more = (n > en->slots ? n - en->slots : 0) + jfds;
    b->fd_free -= more;
    en->fds += more;
    en->host->busy += n - en->slots;
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
    en->host->busy -= en->slots;
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

/* dl_hooks.finished: the entry's outcome.  Over, it leaves the window;
 * deferred or interrupted, it waits in it again. */
static void finished(sg_download *dl, void *ud, sg_code rc, int unchanged)
{
    struct bent *en = ud;
    sg_batch *b = en->b;
    release(en);
    b->running--;
    b->fd_free += en->fds;
    en->fds = 0;
    b->bytes += download_received(dl);
    if (download_deferred(dl)) {
        /* Its host's cap: again when a connection is free. */
        en->state = SG_ENTRY_QUEUED;
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
    if (en->state == SG_ENTRY_QUEUED)
        b->nqueued++;
    else
        batch_entry_free(en);
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
    struct host *h = en->host;
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
    for (struct host *h = b->hosts; h; h = h->lnext) {
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

/* The open-file limit holds entries back: said once. */
static void fd_short(sg_batch *b)
{
    if (b->fd_said || !b->o.dl.notice)
        return;
    b->fd_said = 1;
    struct rlimit rl;
    char line[256];
    (void)getrlimit(RLIMIT_NOFILE, &rl);
    (void)snprintf(line, sizeof line,
                   "fewer files at once than -j %d: the open-file limit "
                   "is %lld (ulimit -n raises it)",
                   b->o.jobs, (long long)rl.rlim_cur);
    b->o.dl.notice(line, b->o.dl.userdata);
}

/* Descriptors this process may still open: its soft limit less those
 * open now. */
static int fd_room(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY ||
        rl.rlim_cur > (1 << 20))
        rl.rlim_cur = 1 << 20;
    int open = 16; /* a guess, where /proc cannot tell */
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        open = -1; /* d's own */
        while (readdir(d))
            open++;
        open -= 2; /* . and .. */
        (void)closedir(d);
    }
    return (int)rl.rlim_cur - open;
}

/* The first GET asks for this much: a file under it needs no more. */
static int64_t first_limit(const sg_batch *b)
{
    int64_t m = b->o.dl.min_split;
    return m > (INT64_MAX - 1) / 2 ? INT64_MAX - 1 : 2 * m - 1;
}

/* Start en as a download on the batch's engine (or fail it: it then
 * leaves the window).  0 when its host has no connection free now. */
static int start(sg_batch *b, struct bent *en)
{
    int slots = en->kind == K_BIG ? free_slots(b, en, 0)
                : en->host->busy < host_limit(b, en) ? 1
                                                              : 0;
    if (slots < 1)
        return 0;
    int fds = en->kind == K_BIG ? slots + FD_BIG - 1 : FD_SMALL;
    if (fds > b->fd_free && b->running > 0) {
        fd_short(b);
        return 0;
    }
    sg_options o = b->o.dl;
    o.output = en->path;
    o.dir = NULL;
    o.connections = en->kind == K_BIG ? slots : en->connections;
    o.checksum = en->q.checksum ? en->q.checksum : en->sum;
    o.checksum_file = NULL; /* read once, by sg_batch_new */
    o.force = o.force || en->replace;
    o.progress = NULL;
    o.notice = entry_notice;
    o.userdata = en;
    sg_download *dl = NULL;
    b->nqueued--;
    sg_code rc = sg_download_new(&dl, en->q.url, &o);
    if (rc) {
        batch_fail(en, rc, 0, dl ? sg_download_error(dl) : NULL);
        sg_download_free(dl);
        batch_entry_free(en);
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
        batch_entry_free(en);
        return 1;
    }
    en->dl = dl;
    en->slots = slots;
    en->fds = fds;
    b->fd_free -= fds;
    en->counted = 1;
    en->host->busy += slots;
    b->active++;
    b->running++;
    batch_state(en, SG_ENTRY_ACTIVE);
    return 1;
}

/* Start entries in queue order while there is room, passing over
 * entries whose host is full. */
static void start_more(sg_batch *b)
{
    /* Files whose data is in wait for their sync and commit; when the
     * disk falls behind the network, new ones wait for them (memory and
     * descriptors stay bounded). */
    if (b->running - b->active >= COMMIT_AHEAD(b->o.jobs))
        return;
    for (struct bent *en = b->head, *next; en && b->active < b->o.jobs;
         en = next) {
        next = en->next; /* start() may free en */
        if (en->state == SG_ENTRY_QUEUED)
            (void)start(b, en);
    }
}

/* Claim the entries from en to the window's end (in fill's
 * transaction). */
static sg_code claim(sg_batch *b, struct bent *en)
{
    sg_code rc = SG_OK;
    for (; en && rc == SG_OK; en = en->next)
        if (!en->claimed && en->state == SG_ENTRY_QUEUED &&
            (rc = qjournal_claim(b->j, en->name, en->shown, &b->err)) ==
                SG_OK)
            en->claimed = 1;
    return rc;
}

/* Read on in the queue while the window has room: entries of other
 * shards are passed over, entries that need nothing (skipped) or cannot
 * run (failed) are reported and let go, the others wait in the window.
 * Reading resumes once half the window has started, so that a claim
 * covers many entries; a long stretch of entries that need nothing is
 * read for at most FILL_MS per turn of the loop. */
static sg_code fill(sg_batch *b, int64_t *wake)
{
    int want = b->o.jobs + WINDOW_AHEAD;
    if (!b->reading || b->nqueued > want / 2 || committer_busy(b->cm))
        return SG_OK; /* the journal is the round's: see commit.h */
    int64_t t0 = now_ms();
    struct bent *first = NULL;
    /* A queue file edited in place since it was checked: its entries
     * from here on were not (two of them could save to one name). */
    sg_code rc = batch_unchanged(b, &b->err);
    if (rc)
        return rc;
    /* One transaction for the reads and the claims: one lock, and the
     * claims durable before any of them starts. */
    rc = qjournal_begin(b->j, &b->err);
    for (int n = 1; rc == SG_OK && b->reading && b->nqueued < want; n++) {
        if (n % 256 == 0 && now_ms() - t0 >= FILL_MS) {
            *wake = 0; /* again at once */
            break;
        }
        queue_entry q;
        int got;
        if ((rc = queue_next(&b->rd, &q, &got, &b->err)))
            break;
        if (!got) {
            b->reading = 0;
            break;
        }
        if (!queue_in_shard(q.url, b->o.shard_index, b->o.shard_count)) {
            queue_entry_free(&q);
            continue;
        }
        struct bent *en = calloc(1, sizeof *en);
        if (!en) {
            queue_entry_free(&q);
            rc = err_set(&b->err, SG_ENOMEM, "out of memory");
            break;
        }
        en->b = b;
        en->q = q;
        if ((rc = batch_entry(b, en)) || (rc = decide(b, en))) {
            batch_entry_free(en);
            break;
        }
        if (en->state != SG_ENTRY_QUEUED) {
            batch_entry_free(en);
            continue;
        }
        if (!(en->host = batch_host_get(b, en->q.url, &b->err))) {
            rc = b->err.code;
            batch_entry_free(en);
            break;
        }
        en->prev = b->tail;
        if (b->tail)
            b->tail->next = en;
        else
            b->head = en;
        b->tail = en;
        b->nqueued++;
        if (!first)
            first = en;
    }
    if (first && rc == SG_OK)
        rc = claim(b, first);
    return qjournal_end(b->j, rc, &b->err);
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

/* Stop every download (they checkpoint); finished files are still
 * committed. */
static void stop_all(sg_batch *b)
{
    for (struct bent *en = b->head; en; en = en->next)
        if (en->dl)
            sg_download_cancel(en->dl);
    b->cancelled = 1;
}

static int tick(eng_job *j, int64_t now, int64_t *wake)
{
    sg_batch *b = (sg_batch *)(void *)((char *)j - offsetof(sg_batch, job));
    int cancel = atomic_load(&b->cancel) || b->broken;
    if (cancel && !b->cancelled)
        stop_all(b);
    if (!cancel && fill(b, wake)) {
        /* The journal, memory or the queue failed: the batch's own
         * failure, in b->err. */
        b->broken = 1;
        b->reading = 0;
        stop_all(b);
        cancel = 1;
    }
    if (!cancel)
        start_more(b);
    committer_tick(b->cm, now, wake);
    say_caps(b, now);
    status(b, now, 0);
    /* Over when nothing runs or waits for a commit and nothing is left
     * to start (start_more always starts one when nothing runs). */
    return b->running || committer_pending(b->cm) ||
           (!cancel && (b->reading || b->nqueued > 0));
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
    /* Without it (it cannot be opened), lookups take full paths.  The
     * directory (and, without -P, the working directory) must stay
     * where it is while the batch runs: writes and renames take the
     * paths. */
    b->dfd = open(b->dir ? b->dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if ((rc = batch_rewind(b, &b->err)) ||
        (rc = queue_reader_init(&b->rd, batch_read, &b->src, &b->err)))
        goto out;
    b->reading = 1;
    const sg_options *o = &b->o.dl;
    eng_conf c;
    eng_conf_from(&c, o);
    c.max_per_host = b->o.max_per_host;
    c.disk_threads = 4; /* syncs in parallel: see commit.c */
    /* Descriptors: the engine's and the journals' first, then idle
     * connections kept for reuse (a quarter of the rest at most), then
     * the entries' (start() counts them). */
    int room = fd_room() - FD_RESERVE;
    c.max_connects = room / 4 < 4 ? 4 : room / 4;
    if (c.max_connects > 4 * b->o.jobs + 16)
        c.max_connects = 4 * b->o.jobs + 16;
    b->fd_free = room - c.max_connects;
    if ((rc = eng_new(&b->g, &c, &b->err)) ||
        (rc = committer_new(&b->cm, b->g, b->j, &b->err)))
        goto out;
    b->job.tick = tick;
    eng_add_job(b->g, &b->job);
    eng_run(b->g);
    status(b, now_ms(), 1);
    if (b->broken)
        rc = b->err.code;
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
    if (b->dfd >= 0)
        close(b->dfd);
    b->dfd = -1;
    if (rc)
        return rc;
    if (atomic_load(&b->cancel))
        return err_set(&b->err, SG_EINTERRUPTED,
                       "interrupted; run the same command again to resume");
    return b->failed ? b->first_code : SG_OK;
}
