/* SPDX-License-Identifier: MIT */
/*
 * batch.c - a queue of downloads (sg_batch_*).
 *
 *   queue text ──> entries: URL, name, checksum, connections; duplicates
 *        │         refused; this shard's entries kept
 *        v
 *   decide, per entry, from the queue journal and the directory:
 *        verified and present ──> skipped (or revalidated with refresh)
 *        NAME.segget present ──> large: a download resumes it
 *        otherwise ──> small first
 *        │
 *   claim the names (one transaction) ──> run, every entry a download
 *   on the batch's one engine (engine.h):
 *        small: its first GET is all of it ──> committer (sync, commit,
 *               rename)
 *        large: the first GET's bytes are kept; the download goes on
 *               with the connections its host can spare; its verified
 *               row goes through the same committer before its rename
 *        │
 *   sync the directories of new files; the first failure decides the code
 *
 * -j bounds the entries being fetched at once; --max-per-host the
 * connections to one host, counting one per small file and the
 * connections of each large download (libcurl enforces it too).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    sg_batch_event ev = {.line = en->q->line,
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

/* The index of url's host in b->hosts (added when new), or -1. */
static int host_of(sg_batch *b, const char *url, sg_err *e)
{
    char *h = eng_url_host(url);
    if (!h) {
        err_set(e, SG_ENOMEM, "out of memory");
        return -1;
    }
    for (int i = 0; i < b->nhosts; i++)
        if (strcmp(b->hosts[i].name, h) == 0) {
            free(h);
            return i;
        }
    struct host *v = realloc(b->hosts, (size_t)(b->nhosts + 1) * sizeof *v);
    if (!v) {
        free(h);
        err_set(e, SG_ENOMEM, "out of memory");
        return -1;
    }
    b->hosts = v;
    v[b->nhosts] = (struct host){.name = h};
    cap_init(&v[b->nhosts].cap, b->o.max_per_host);
    return b->nhosts++;
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

/* The entry's name below the directory, and its three paths. */
static sg_code name_entry(sg_batch *b, struct bent *en)
{
    sg_err *e = &b->err;
    char *urlpath = NULL;
    sg_code rc = eng_url_check(en->q->url, &urlpath, e);
    if (rc) {
        char *why = strdup(err_msg(e));
        err_reset(e);
        rc = err_set(e, rc, "line %d: %s", en->q->line, why ? why : "");
        free(why);
        return rc;
    }
    en->name = en->q->out ? strdup(en->q->out) : name_from_path(urlpath);
    free(urlpath);
    if (!en->name || !(en->path = path_join(b->dir, en->name)) ||
        !(en->part = str_cat(en->path, ".part")) ||
        !(en->jpath = str_cat(en->path, ".segget")) ||
        !(en->shown = eng_url_redact(en->q->url)))
        return err_set(e, SG_ENOMEM, "out of memory");
    en->connections = en->q->connections ? en->q->connections
                                         : b->o.dl.connections;
    if (!en->q->checksum && b->sums) {
        /* --checksum-file: every entry must be listed, by its name. */
        char spec[160];
        if (!sums_find(b->sums, en->name, spec, sizeof spec))
            return err_set(e, SG_EUSAGE, "line %d: %s is not listed in %s",
                           en->q->line, en->name, b->o.dl.checksum_file);
        if (!(en->sum = strdup(spec)))
            return err_set(e, SG_ENOMEM, "out of memory");
    }
    const char *spec = en->q->checksum ? en->q->checksum : en->sum;
    if (spec) {
        checksum sum;
        if ((rc = checksum_parse(spec, &sum, e)))
            return rc;
    }
    return SG_OK;
}

static int by_name(const void *a, const void *b)
{
    const struct bent *x = *(struct bent *const *)a;
    const struct bent *y = *(struct bent *const *)b;
    int c = strcmp(x->name, y->name);
    return c ? c : x->q->line - y->q->line;
}

static int ends_with(const char *s, const char *sfx, size_t *stem)
{
    size_t n = strlen(s), k = strlen(sfx);
    *stem = n - k;
    return n > k && strcmp(s + n - k, sfx) == 0;
}

/* No two entries may write the same file: the same name, or one's name
 * being another's NAME.part, NAME.segget or the journal's -wal and -shm
 * files. */
static sg_code check_names(sg_batch *b, struct bent *all, int n)
{
    struct bent **v = malloc((size_t)(n ? n : 1) * sizeof *v);
    if (!v)
        return err_set(&b->err, SG_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++)
        v[i] = &all[i];
    qsort(v, (size_t)n, sizeof *v, by_name);
    sg_code rc = SG_OK;
    for (int i = 0; i + 1 < n && !rc; i++)
        if (strcmp(v[i]->name, v[i + 1]->name) == 0)
            rc = err_set(&b->err, SG_EUSAGE,
                         "lines %d and %d both save to %s; give one of "
                         "them another out=",
                         v[i]->q->line, v[i + 1]->q->line, v[i]->name);
    for (int i = 0; i < n && !rc; i++) {
        /* Every file a download makes beside NAME (SQLite adds -wal and
         * -shm to its journal). */
        static const char *const sfx[] = {".part", ".segget",
                                          ".segget-wal", ".segget-shm"};
        size_t stem;
        if (strcmp(v[i]->name, ".segget-queue") == 0 ||
            strncmp(v[i]->name, ".segget-queue-", 14) == 0)
            rc = err_set(&b->err, SG_EUSAGE, "line %d: %s is reserved",
                         v[i]->q->line, v[i]->name);
        for (int k = 0; k < 4 && !rc; k++) {
            if (!ends_with(v[i]->name, sfx[k], &stem))
                continue;
            struct bent key = {.name = strndup(v[i]->name, stem)};
            queue_entry kq = {.line = 0};
            key.q = &kq;
            struct bent *kp = &key, **hit = NULL;
            if (!key.name) {
                rc = err_set(&b->err, SG_ENOMEM, "out of memory");
                break;
            }
            /* Any entry with that exact name sorts at or after kp. */
            struct bent **lo = v, **hi = v + n;
            while (lo < hi) {
                struct bent **mid = lo + (hi - lo) / 2;
                if (by_name(mid, &kp) < 0)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if (lo < v + n && strcmp((*lo)->name, key.name) == 0)
                hit = lo;
            if (hit)
                rc = err_set(&b->err, SG_EUSAGE,
                             "line %d saves to %s, which line %d uses for "
                             "its partial data",
                             v[i]->q->line, v[i]->name, (*hit)->q->line);
            free(key.name);
        }
    }
    free(v);
    return rc;
}

sg_code sg_batch_new(sg_batch **out, const char *text, size_t len,
                     const sg_batch_options *o)
{
    sg_batch *b = calloc(1, sizeof *b);
    *out = b;
    if (!b)
        return SG_ENOMEM;
    sg_code rc;
    struct bent *all = NULL;
    if ((rc = check(o, &b->err)) || (rc = copy_options(b, o)) ||
        (rc = queue_parse(text, len, &b->q, &b->err)) ||
        (o->dl.checksum_file &&
         (rc = sums_load(o->dl.checksum_file, &b->sums, &b->err))))
        return rc;
    if (b->q.n == 0)
        return err_set(&b->err, SG_EUSAGE, "the queue holds no URL");
    int missing = 0; /* sg_batch_run makes the directory */
    if (b->dir && (rc = output_check_dirs(b->dir, &missing, &b->err)))
        return rc;
    if (!(all = calloc((size_t)b->q.n, sizeof *all)))
        return err_set(&b->err, SG_ENOMEM, "out of memory");
    int keep = 0;
    for (int i = 0; i < b->q.n; i++) {
        all[i].b = b;
        all[i].q = &b->q.v[i];
        if ((rc = name_entry(b, &all[i])))
            goto out;
        keep += queue_in_shard(all[i].q->url, o->shard_index,
                               o->shard_count);
    }
    if ((rc = check_names(b, all, b->q.n)))
        goto out;
    /* Keep this shard's entries; free the others' strings. */
    if (!(b->e = calloc((size_t)(keep ? keep : 1), sizeof *b->e))) {
        rc = err_set(&b->err, SG_ENOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < b->q.n; i++) {
        struct bent *en = &all[i];
        if (queue_in_shard(en->q->url, o->shard_index, o->shard_count)) {
            b->e[b->n++] = *en;
            memset(en, 0, sizeof *en);
        }
    }
    for (int i = 0; i < b->n; i++)
        if ((b->e[i].host = host_of(b, b->e[i].q->url, &b->err)) < 0) {
            rc = b->err.code;
            goto out;
        }
out:
    for (int i = 0; all && i < b->q.n; i++) {
        free(all[i].shown), free(all[i].name), free(all[i].path);
        free(all[i].part), free(all[i].jpath), free(all[i].sum);
    }
    free(all);
    free(b->sums);
    b->sums = NULL;
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
    st->total = b->n;
    st->done = b->done;
    st->skipped = b->skipped;
    st->failed = b->failed;
    st->active = b->active;
    int64_t bytes = b->bytes;
    for (int i = 0; i < b->n; i++)
        if (b->e[i].dl)
            bytes += download_received(b->e[i].dl);
    st->bytes = bytes;
    st->rate = b->meter.rate > 0 ? b->meter.rate : 0;
    st->elapsed = b->t0 ? (double)(now_ms() - b->t0) / 1000.0 : 0;
}

void sg_batch_free(sg_batch *b)
{
    if (!b)
        return;
    for (int i = 0; i < b->n; i++) {
        struct bent *en = &b->e[i];
        free(en->shown), free(en->name), free(en->path);
        free(en->part), free(en->jpath), free(en->error), free(en->sum);
        qrow_cleanup(&en->row);
        sg_download_free(en->dl);
    }
    free(b->e);
    free(b->sums);
    for (int i = 0; i < b->nhosts; i++)
        free(b->hosts[i].name);
    free(b->hosts);
    for (int i = 0; b->headers && i < b->o.dl.nheaders; i++)
        free(b->headers[i]);
    free(b->headers);
    for (int i = 0; i < b->ndirs; i++)
        free(b->dirs[i]);
    free(b->dirs);
    free(b->ua);
    free(b->userpwd);
    free(b->proxy);
    download_strings_free(b->strs);
    free(b->dir);
    queue_free(&b->q);
    err_reset(&b->err);
    free(b);
}
