/* SPDX-License-Identifier: MIT */
/*
 * batch.c - a queue of downloads (sg_batch_*).
 *
 *   queue text, read as a stream, twice:
 *   1. sg_batch_new checks it whole: every line, URL, option and name,
 *      of every shard; each name leaves a hashed record (qnames.c), and
 *      equal hashes are compared by reading their lines again
 *   2. sg_batch_run reads it again (batch_run.c) and keeps a window of
 *      this shard's entries: at most -j fetching and WINDOW_AHEAD
 *      waiting.  Per entry, from the queue journal and the directory:
 *        verified and present ──> skipped (or revalidated with refresh)
 *        NAME.segget present ──> large: a download resumes it
 *        otherwise ──> small first
 *      claimed (a transaction per refill) ──> run, every entry a
 *      download on the batch's one engine (engine.h):
 *        small: its first GET is all of it ──> committer (sync, commit,
 *               rename)
 *        large: the first GET's bytes are kept; the download goes on
 *               with the connections its host can spare; its verified
 *               row goes through the same committer before its rename
 *
 * Memory is the window's, whatever the length of the queue.  -j bounds
 * the entries being fetched at once; --max-per-host the connections to
 * one host, counting one per small file and the connections of each
 * large download (libcurl enforces it too).
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
#include "name.h"
#include "output.h"
#include "sums.h"
#include "util.h"

void sg_batch_options_init(sg_batch_options *o)
{
    memset(o, 0, sizeof *o);
    sg_options_init(&o->dl);
    o->jobs = 4;
    o->max_per_host = 16;
}

static const char *real_env(const char *name, void *ud)
{
    (void)ud;
    return getenv(name);
}

int sg_batch_shard_auto(int *index, int *count, char *msg, size_t cap)
{
    return queue_shard_auto(real_env, NULL, index, count, msg, cap);
}

void batch_emit(sg_batch *b, struct bent *en)
{
    if (!b->o.event)
        return;
    sg_batch_event ev = {.line = en->q.line,
                         .state = en->state,
                         .url = en->shown,
                         .path = en->path,
                         .size = en->size,
                         .code = en->code,
                         .error = en->error ? en->error : "",
                         .http_status = en->http_status};
    b->o.event(&ev, b->o.dl.userdata);
}

void batch_state(struct bent *en, sg_entry_state s)
{
    sg_batch *b = en->b;
    en->state = s;
    b->done += s == SG_ENTRY_DONE;
    b->skipped += s == SG_ENTRY_SKIPPED;
    b->failed += s == SG_ENTRY_FAILED;
    if (s == SG_ENTRY_FAILED &&
        (!b->first_failed || en->q.line < b->first_failed)) {
        b->first_failed = en->q.line;
        b->first_code = en->code;
    }
    batch_emit(b, en);
}

void batch_fail(struct bent *en, sg_code code, int http_status,
                const char *msg)
{
    en->code = code;
    en->http_status = http_status;
    free(en->error);
    en->error = strdup(msg && msg[0] ? msg : sg_strerror(code));
    batch_state(en, SG_ENTRY_FAILED);
}

static sg_code hosts_grow(sg_batch *b, sg_err *e)
{
    size_t n = b->htab ? (b->hmask + 1) * 2 : 256;
    struct host **t = calloc(n, sizeof *t);
    if (!t)
        return err_set(e, SG_ENOMEM, "out of memory");
    for (struct host *h = b->hosts; h; h = h->lnext) {
        size_t i = hash_bytes(h->name, strlen(h->name)) & (n - 1);
        h->chain = t[i];
        t[i] = h;
    }
    free(b->htab);
    b->htab = t;
    b->hmask = n - 1;
    return SG_OK;
}

struct host *batch_host_get(sg_batch *b, const char *url, sg_err *e)
{
    char *name = eng_url_host(url);
    if (!name) {
        err_set(e, SG_ENOMEM, "out of memory");
        return NULL;
    }
    uint64_t hv = hash_bytes(name, strlen(name));
    for (struct host *h = b->htab ? b->htab[hv & b->hmask] : NULL; h;
         h = h->chain)
        if (strcmp(h->name, name) == 0) {
            free(name);
            h->refs++;
            return h;
        }
    struct host *h = calloc(1, sizeof *h);
    if (!h || (b->nhosts + 1 > (b->htab ? b->hmask + 1 : 0) &&
               hosts_grow(b, e))) {
        free(h);
        free(name);
        err_set(e, SG_ENOMEM, "out of memory");
        return NULL;
    }
    h->name = name;
    h->refs = 1;
    cap_init(&h->cap, b->o.max_per_host);
    h->chain = b->htab[hv & b->hmask];
    b->htab[hv & b->hmask] = h;
    h->lnext = b->hosts;
    if (b->hosts)
        b->hosts->lprev = h;
    b->hosts = h;
    b->nhosts++;
    return h;
}

static void host_free(sg_batch *b, struct host *h)
{
    struct host **pp = &b->htab[hash_bytes(h->name, strlen(h->name)) & b->hmask];
    while (*pp != h)
        pp = &(*pp)->chain;
    *pp = h->chain;
    if (h->lprev)
        h->lprev->lnext = h->lnext;
    else
        b->hosts = h->lnext;
    if (h->lnext)
        h->lnext->lprev = h->lprev;
    b->nhosts--;
    free(h->name);
    free(h);
}

void batch_host_put(sg_batch *b, struct host *h)
{
    /* A host that capped its connections is remembered: its next
     * entries start from the cap. */
    if (h && --h->refs == 0 && !h->cap.capped)
        host_free(b, h);
}

static sg_code copy_options(sg_batch *b, const sg_batch_options *o)
{
    b->o = *o;
    b->o.dl.dir = b->o.dl.user_agent = b->o.dl.userpwd = b->o.dl.proxy = NULL;
    b->o.dl.headers = NULL;
    if ((o->dl.dir && !(b->dir = strdup(o->dl.dir))) ||
        (o->dl.user_agent && !(b->ua = strdup(o->dl.user_agent))) ||
        (o->dl.userpwd && !(b->o.dl.userpwd = b->userpwd =
                                strdup(o->dl.userpwd))) ||
        (o->dl.proxy && !(b->o.dl.proxy = b->proxy = strdup(o->dl.proxy))))
        return err_set(&b->err, SG_ENOMEM, "out of memory");
    b->o.dl.dir = b->dir;
    b->o.dl.user_agent = b->ua ? b->ua : "segget/" SG_VERSION;
    if (download_strings(&b->o.dl, b->strs, &b->err))
        return b->err.code;
    if (o->dl.nheaders > 0) {
        b->headers = calloc((size_t)o->dl.nheaders, sizeof *b->headers);
        if (!b->headers)
            return err_set(&b->err, SG_ENOMEM, "out of memory");
        for (int i = 0; i < o->dl.nheaders; i++)
            if (!(b->headers[i] = strdup(o->dl.headers[i])))
                return err_set(&b->err, SG_ENOMEM, "out of memory");
        b->o.dl.headers = (const char *const *)b->headers;
    }
    return SG_OK;
}

static sg_code check(const sg_batch_options *o, sg_err *e)
{
    if (o->dl.output || o->dl.checksum || o->dl.content_disposition ||
        o->dl.range)
        return err_set(e, SG_EUSAGE,
                       "a queue names its files and checksums per entry "
                       "(out=, checksum=): an output name, the server's "
                       "name, a checksum or a range for all of them does "
                       "not apply");
    if (o->jobs < 1 || o->jobs > 256)
        return err_set(e, SG_EUSAGE, "jobs must be 1 to 256, not %d",
                       o->jobs);
    if (o->max_per_host < 1 || o->max_per_host > 256)
        return err_set(e, SG_EUSAGE,
                       "the per-host limit must be 1 to 256, not %d",
                       o->max_per_host);
    if (o->shard_count < 0 || (o->shard_count > 0 &&
                               (o->shard_index < 1 ||
                                o->shard_index > o->shard_count)))
        return err_set(e, SG_EUSAGE, "shard %d/%d: want I/K with 1 <= I <= K",
                       o->shard_index, o->shard_count);
    if (o->dl.max_rate > 0 && o->dl.max_rate / o->jobs < 4096)
        return err_set(e, SG_EUSAGE,
                       "with %d jobs the rate limit must be at least %dK "
                       "(4K each)",
                       o->jobs, 4 * o->jobs);
    return download_check(&o->dl, e);
}

sg_code batch_name(const queue_entry *q, int check, char **name, sg_err *e)
{
    char *urlpath = NULL;
    *name = NULL;
    if (!check && q->out)
        return (*name = strdup(q->out)) ? SG_OK
                                        : err_set(e, SG_ENOMEM,
                                                  "out of memory");
    sg_code rc = eng_url_check(q->url, q->out ? NULL : &urlpath, e);
    if (rc) {
        char *why = strdup(err_msg(e));
        err_reset(e);
        rc = err_set(e, rc, "line %d: %s", q->line, why ? why : "");
        free(why);
        return rc;
    }
    *name = q->out ? strdup(q->out) : name_from_path(urlpath);
    free(urlpath);
    return *name ? SG_OK : err_set(e, SG_ENOMEM, "out of memory");
}

sg_code batch_listed(const sg_batch *b, const queue_entry *q,
                      const char *name, char *spec, size_t cap, sg_err *e)
{
    if (!sums_find(b->sums, name, spec, cap))
        return err_set(e, SG_EUSAGE, "line %d: %s is not listed in %s",
                       q->line, name, b->o.dl.checksum_file);
    checksum sum;
    return checksum_parse(spec, &sum, e);
}

sg_code batch_entry(sg_batch *b, struct bent *en)
{
    sg_err *e = &b->err;
    sg_code rc = batch_name(&en->q, 0, &en->name, e);
    if (rc)
        return rc;
    if (!(en->path = path_join(b->dir, en->name)) ||
        !(en->part = str_cat(en->path, ".part")) ||
        !(en->jpath = str_cat(en->path, ".segget")))
        return err_set(e, SG_ENOMEM, "out of memory");
    en->connections = en->q.connections ? en->q.connections
                                        : b->o.dl.connections;
    if (!en->q.checksum && b->sums) {
        char spec[160];
        if ((rc = batch_listed(b, &en->q, en->name, spec, sizeof spec, e)))
            return rc;
        if (!(en->sum = strdup(spec)))
            return err_set(e, SG_ENOMEM, "out of memory");
    }
    return SG_OK;
}

sg_code batch_shown(struct bent *en, const char *recorded, sg_err *e)
{
    /* recorded is a URL as redacted once; redacting is idempotent, so
     * the same text redacts to itself: a rerun's million entries need
     * no parse for it (and a URL with credentials never equals one).
     * A row from a libcurl that normalised otherwise still names the
     * very text the file was fetched from. */
    en->shown = recorded && strcmp(recorded, en->q.url) == 0
                    ? strdup(en->q.url)
                    : eng_url_redact(en->q.url);
    return en->shown ? SG_OK : err_set(e, SG_ENOMEM, "out of memory");
}

void batch_entry_free(struct bent *en)
{
    sg_batch *b = en->b;
    if (en->prev)
        en->prev->next = en->next;
    else if (b->head == en)
        b->head = en->next;
    if (en->next)
        en->next->prev = en->prev;
    else if (b->tail == en)
        b->tail = en->prev;
    batch_host_put(b, en->host);
    free(en->shown), free(en->name), free(en->path);
    free(en->part), free(en->jpath), free(en->error), free(en->sum);
    qrow_cleanup(&en->row);
    queue_entry_free(&en->q);
    free(en);
}

ptrdiff_t batch_read(void *ud, char *buf, size_t n)
{
    struct qsource *s = ud;
    if (s->end >= 0 && (off_t)n > s->end - s->at)
        n = (size_t)(s->end - s->at);
    if (s->fd < 0) {
        size_t left = s->len - (size_t)s->at;
        if (n > left)
            n = left;
        memcpy(buf, s->mem + s->at, n);
        s->at += (off_t)n;
        return (ptrdiff_t)n;
    }
    for (;;) {
        ssize_t got = s->copy_from >= 0 ? read(s->copy_from, buf, n)
                                        : pread(s->fd, buf, n, s->at);
        if (got < 0 && errno == EINTR)
            continue;
        if (got > 0 && s->copy_from >= 0) {
            /* The pipe's copy, for the second reading. */
            for (ssize_t w = 0, k; w < got; w += k)
                if ((k = pwrite(s->fd, buf + w, (size_t)(got - w),
                                s->at + w)) <= 0)
                    return -1;
        }
        if (got > 0)
            s->at += got;
        return got;
    }
}

sg_code batch_rewind(sg_batch *b, sg_err *e)
{
    struct qsource *s = &b->src;
    if (s->copy_from >= 0) {
        /* The first reading is over: the copy has the whole queue. */
        s->copy_from = -1;
        s->start = 0;
    }
    s->at = s->start;
    return batch_unchanged(b, e);
}

sg_code batch_unchanged(const sg_batch *b, sg_err *e)
{
    struct stat now;
    if (b->src.fd >= 0 && b->st.st_ino && fstat(b->src.fd, &now) == 0 &&
        (now.st_size != b->st.st_size ||
         now.st_mtim.tv_sec != b->st.st_mtim.tv_sec ||
         now.st_mtim.tv_nsec != b->st.st_mtim.tv_nsec))
        return err_set(e, SG_EUSAGE,
                       "the queue file changed while the batch ran (what "
                       "it says now was not checked); run it again");
    return SG_OK;
}

/* Everything sg_batch_new and sg_batch_open share once the source is
 * set. */
static sg_code batch_init(sg_batch *b, const sg_batch_options *o)
{
    sg_code rc;
    if ((rc = check(o, &b->err)) || (rc = copy_options(b, o)) ||
        (o->dl.checksum_file &&
         (rc = sums_load(o->dl.checksum_file, &b->sums, &b->err))))
        return rc;
    int missing = 0; /* sg_batch_run makes the directory */
    if (b->dir && (rc = output_check_dirs(b->dir, &missing, &b->err)))
        return rc;
    return batch_check(b);
}

static sg_batch *batch_alloc(void)
{
    sg_batch *b = calloc(1, sizeof *b);
    if (b) {
        b->src.fd = -1;
        b->src.copy_from = -1;
        b->src.end = -1;
        b->dfd = -1;
    }
    return b;
}

sg_code sg_batch_new(sg_batch **out, const char *text, size_t len,
                     const sg_batch_options *o)
{
    sg_batch *b = batch_alloc();
    *out = b;
    if (!b)
        return SG_ENOMEM;
    if (!(b->text = malloc(len ? len : 1)))
        return err_set(&b->err, SG_ENOMEM, "out of memory");
    memcpy(b->text, text, len);
    b->src.mem = b->text;
    b->src.len = len;
    return batch_init(b, o);
}

sg_code sg_batch_open(sg_batch **out, int fd, const sg_batch_options *o)
{
    sg_batch *b = batch_alloc();
    *out = b;
    if (!b)
        return SG_ENOMEM;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return err_set(&b->err, SG_EIO, "cannot read the queue: %s",
                       strerror(errno));
    if (S_ISREG(st.st_mode)) {
        off_t at = lseek(fd, 0, SEEK_CUR);
        b->src.start = b->src.at = at < 0 ? 0 : at;
        b->st = st;
        if ((b->src.fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0)
            return err_set(&b->err, SG_EIO, "cannot read the queue: %s",
                           strerror(errno));
    } else {
        if ((b->src.fd = tmp_fd()) < 0)
            return err_set(&b->err, SG_EIO,
                           "cannot make a temporary copy of the queue: %s",
                           strerror(errno));
        b->src.copy_from = fd;
    }
    sg_code rc = batch_init(b, o);
    b->src.copy_from = -1; /* the caller's: never read again */
    return rc;
}

void sg_batch_cancel(sg_batch *b)
{
    atomic_store(&b->cancel, 1);
}

const char *sg_batch_error(const sg_batch *b)
{
    return err_msg(&b->err);
}

void sg_batch_counts(const sg_batch *b, sg_batch_status *st)
{
    memset(st, 0, sizeof *st);
    st->total = b->total;
    st->done = b->done;
    st->skipped = b->skipped;
    st->failed = b->failed;
    st->active = b->active;
    int64_t bytes = b->bytes;
    for (const struct bent *en = b->head; en; en = en->next)
        if (en->dl)
            bytes += download_received(en->dl);
    st->bytes = bytes;
    st->rate = b->meter.rate > 0 ? b->meter.rate : 0;
    st->elapsed = b->t0 ? (double)(now_ms() - b->t0) / 1000.0 : 0;
}

void sg_batch_free(sg_batch *b)
{
    if (!b)
        return;
    while (b->head) {
        struct bent *en = b->head;
        sg_download_free(en->dl);
        en->dl = NULL;
        batch_entry_free(en);
    }
    while (b->hosts)
        host_free(b, b->hosts);
    free(b->htab);
    sums_free(b->sums);
    for (int i = 0; b->headers && i < b->o.dl.nheaders; i++)
        free(b->headers[i]);
    free(b->headers);
    for (int i = 0; i < b->ndirs; i++)
        free(b->dirs[i]);
    queue_reader_free(&b->rd);
    if (b->src.fd >= 0)
        close(b->src.fd);
    free(b->text);
    free(b->ua);
    free(b->userpwd);
    free(b->proxy);
    download_strings_free(b->strs);
    free(b->dir);
    err_reset(&b->err);
    free(b);
}
