/* SPDX-License-Identifier: MIT */
/*
 * dl_rerun.c - the same command again, after it succeeded: is NAME
 * already complete?
 *
 * Every download that succeeds leaves its origin on NAME (origin.h): the
 * URL without credentials, the size and the validators.  When NAME exists
 * with no journal beside it and no --force, ST_OPEN asks here instead of
 * refusing at once:
 *
 *   attributes name this URL (and --range), NAME has the recorded size,
 *   a validator was recorded (and NAME matches --checksum, if given)
 *        │ no ──> refused as before: "NAME exists; it is replaced only when
 *        │        forced"
 *        v
 *   one HEAD (the probe, head_only; a body is never asked for)
 *        │
 *        ├─ same size and validator (probe_same_resource, the rule that
 *        │  decides a resume) ──> SG_OK, already complete, nothing written
 *        ├─ another size or validator ──> SG_ECHANGED, NAME left alone
 *        └─ no usable answer ──> the request's failure, or SG_EUNSAFE
 *           when HEAD gave no length; NAME left alone
 *
 * A batch never comes here: its queue journal knows its files.
 *
 * Also here, the other rerun: a partial download continued from another
 * URL.  The probe compared size and validator with the journal's; before
 * the bytes on disk are kept, a sample of them is asked from the new URL
 * (one range request, judged as every request is) and compared with the
 * file by ST_PREPARE (dl_sample_matches), because two resources may share
 * a validator: nginx's ETag is the file's mtime and size.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dl.h"

static int streq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Does NAME hold data matching --checksum?  SG_OK, SG_ECHECKSUM or a
 * reading failure, in e. */
static sg_code check_sum(sg_download *dl, int64_t size, sg_err *e)
{
    int fd = open(dl->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return err_set(e, SG_EIO, "cannot open %s", dl->path);
    sg_code rc = checksum_verify(fd, size, &dl->sum, e);
    close(fd);
    if (rc == SG_ECHECKSUM) {
        char *why = strdup(err_msg(e));
        err_reset(e);
        rc = err_set(e, SG_ECHECKSUM,
                     "%s exists and does not match the checksum (%s); it "
                     "is replaced only when forced",
                     dl->path, why ? why : "");
        free(why);
    }
    return rc;
}

sg_code dl_rerun_open(sg_download *dl, sg_err *e)
{
    origin o;
    struct stat st;
    const char *why = NULL;
    int have = !dl->hooks && origin_get(dl->path, &o);
    if (!have || !streq(o.url, dl->shown) ||
        !streq(o.range, dl_range_spec(dl))) {
        /* No record, or another download's. */
    } else if (lstat(dl->path, &st) < 0 || !S_ISREG(st.st_mode) ||
               st.st_size != o.size) {
        why = "not the size it was downloaded with";
    } else if (!o.etag && !o.last_modified) {
        why = "its server gave no validator to prove it still current";
    } else {
        sg_code rc = dl->has_sum ? check_sum(dl, o.size, e) : SG_OK;
        if (rc) {
            origin_cleanup(&o);
            return rc;
        }
        dl->rec = o; /* the HEAD decides */
        dl->check = 1;
        return SG_OK;
    }
    if (have)
        origin_cleanup(&o);
    if (why)
        return err_set(e, SG_EUNSAFE,
                       "%s exists (%s); it is replaced only when forced", dl->path,
                       why);
    return err_set(e, SG_EUNSAFE, "%s exists; it is replaced only when forced",
                   dl->path);
}

void dl_rerun_judge(sg_download *dl)
{
    const probe_result *p = &dl->pr.res;
    const origin *o = &dl->rec;
    if (dl->pr.rc) {
        err_set(&dl->err, dl->pr.rc,
                "%s exists and cannot be checked against the server (%s); "
                "it is left as it is (forcing downloads it again)",
                dl->path, err_msg(&dl->pr.err));
        dl_fail(dl, dl->pr.rc);
        return;
    }
    if (p->size < 0) {
        err_set(&dl->err, SG_EUNSAFE,
                "%s exists, and the server's answer to HEAD does not show "
                "whether it is complete; it is replaced only when forced",
                dl->path);
        dl_fail(dl, SG_EUNSAFE);
        return;
    }
    if (probe_same_resource(p, o->size, o->etag, o->last_modified)) {
        char what[1024];
        if (p->size != o->size)
            (void)snprintf(what, sizeof what, "%lld bytes, were %lld",
                           (long long)p->size, (long long)o->size);
        else if (o->etag && !streq(p->etag, o->etag))
            (void)snprintf(what, sizeof what, "ETag %.400s, was %.400s",
                           p->etag ? p->etag : "none", o->etag);
        else
            (void)snprintf(
                what, sizeof what, "Last-Modified %.400s, was %.400s",
                p->last_modified ? p->last_modified : "none", o->last_modified);
        err_set(&dl->err, SG_ECHANGED,
                "%s changed on the server since it was downloaded (%s); "
                "it is replaced only when forced",
                dl->path, what);
        dl_fail(dl, SG_ECHANGED);
        return;
    }
    probe_cleanup(&dl->pr);
    dl->already_complete = 1;
    dl->rc = SG_OK;
    dl->st = ST_END;
    dl_state(dl, SG_STATE_DONE, o->size, o->size);
}

int sg_download_already_complete(const sg_download *dl)
{
    return dl && dl->already_complete;
}

/* --- a sample of the data kept, from the new URL --- */

#define SAMPLE_MAX (64 * 1024)

struct dl_sample {
    eng_req q;
    int running, ended;
    sched_src health;
    int64_t next_at;
    int64_t at, len; /* file offsets [at, at + len) */
    char buf[SAMPLE_MAX];
};

static sg_code sample_accept(eng_req *q, sg_err *e)
{
    if (!q->v.partial)
        return err_set(e, SG_EPROTO, "the new URL does not serve ranges");
    return SG_OK;
}

static sg_code sample_write(eng_req *q, const char *p, size_t n, int64_t off,
                            sg_err *e)
{
    sg_download *dl = q->owner;
    struct dl_sample *s = dl->sample;
    int64_t at = off - dl->base - s->at;
    /* The judge and stop_at keep the body inside the range asked. */
    if (at < 0 || at + (int64_t)n > s->len)
        return err_set(e, SG_EPROTO, "bytes outside the range asked");
    memcpy(s->buf + at, p, n);
    return SG_OK;
}

static void sample_done(eng_req *q)
{
    sg_download *dl = q->owner;
    dl->sample->running = 0;
    dl->sample->ended = 1;
}

static const eng_ops sample_ops = {sample_accept, sample_write, sample_done};

int dl_sample_begin(sg_download *dl)
{
    int best = -1;
    for (int i = 0; i < dl->n; i++) {
        const sg_segment *g = &dl->segs[i];
        if (g->done > g->start &&
            (best < 0 ||
             g->done - g->start > dl->segs[best].done - dl->segs[best].start))
            best = i;
    }
    if (best < 0)
        return 0; /* nothing is kept */
    struct dl_sample *s = calloc(1, sizeof *s);
    if (!s) {
        err_set(&dl->err, SG_ENOMEM, "out of memory");
        dl_fail(dl, SG_ENOMEM);
        return 1;
    }
    const sg_segment *g = &dl->segs[best];
    s->len = g->done - g->start < SAMPLE_MAX ? g->done - g->start : SAMPLE_MAX;
    s->at = g->done - s->len;
    dl->sample = s;
    dl->st = ST_SAMPLE;
    return 1;
}

void dl_sample_end(sg_download *dl)
{
    struct dl_sample *s = dl->sample;
    if (!s)
        return;
    if (dl->g)
        eng_stop(dl->g, &s->q);
    eng_req_cleanup(&s->q);
    free(s);
    dl->sample = NULL;
}

/* On to ST_PREPARE: resume (comparing the sample there) or start over. */
static void prepare(sg_download *dl)
{
    dl->st = ST_PREPARE;
    dl_disk(dl, ST_PREPARE);
}

/* The new URL answered for another version of the resource. */
static void other(sg_download *dl, const char *why)
{
    if (dl->o.on_change == SG_CHANGE_FAIL) {
        err_reset(&dl->err);
        err_set(&dl->err, SG_ECHANGED,
                "cannot resume %s: %s (partial data kept)", dl->path, why);
        dl_fail(dl, SG_ECHANGED);
        return;
    }
    dl_notice(dl, "cannot resume from the new URL: %s; starting over", why);
    dl_sample_end(dl);
    dl->resume = 0;
    prepare(dl);
}

/* Judge the sample's request: 1 when ST_SAMPLE is over. */
static int settle(sg_download *dl, int64_t now)
{
    struct dl_sample *s = dl->sample;
    const eng_req *q = &s->q;
    if (q->end == EE_JUDGED && q->v.verdict == JV_BODY && q->got == s->len) {
        prepare(dl);
        return 1;
    }
    if (q->end == EE_JUDGED &&
        (q->v.verdict == JV_CHANGED || q->v.verdict == JV_RESIZED)) {
        other(dl, "the remote file changed");
        return 1;
    }
    if (q->end == EE_SINK) { /* a 200: the whole body, no range */
        other(dl, "it does not serve the range asked for");
        return 1;
    }
    if (q->transient &&
        !sched_strike(&s->health, s->health.gen, dl->o.max_tries,
                      q->r.retry_after, eng_random(), now)) {
        s->next_at = s->health.next_at;
        return 0;
    }
    err_copy(&dl->err, q->code ? q->code : SG_ENETWORK, &q->err);
    dl_fail(dl, dl->err.code);
    return 1;
}

void dl_sample_tick(sg_download *dl, int64_t now, int64_t *wake)
{
    struct dl_sample *s = dl->sample;
    if (s->running)
        return;
    if (s->ended) {
        s->ended = 0;
        if (settle(dl, now))
            return;
    }
    if (s->next_at > now) {
        if (s->next_at < *wake)
            *wake = s->next_at;
        return;
    }
    const probe_result *p = &dl->pr.res;
    eng_req *q = &s->q;
    q->url = p->effective_url;
    q->shown = dl->shown;
    q->user = p->same_origin;
    q->ask = (judge_ask){.first = dl->base + s->at,
                         .last = dl->base + s->at + s->len - 1,
                         .total = dl->total,
                         .etag = p->etag,
                         .last_modified = p->last_modified};
    q->if_range = p->etag ? p->etag : p->last_modified;
    q->if_none_match = q->if_modified_since = NULL;
    q->headers_only = 0;
    q->fresh = 0;
    q->answered = 1; /* the probe of this URL was answered */
    q->bufsize = 0;
    q->stop_at = dl->base + s->at + s->len;
    q->ops = &sample_ops;
    q->owner = dl;
    if (eng_start(dl->g, q, &dl->err) != SG_OK) {
        dl_fail(dl, SG_ENOMEM);
        return;
    }
    s->running = 1;
}

int dl_sample_matches(sg_download *dl, int fd, sg_err *e)
{
    struct dl_sample *s = dl->sample;
    if (!s)
        return 1;
    char *mine = malloc(SAMPLE_MAX);
    if (!mine) {
        err_set(e, SG_ENOMEM, "out of memory");
        return -1;
    }
    int64_t got = 0;
    int same = -1;
    while (got < s->len) {
        ssize_t n =
            pread(fd, mine + got, (size_t)(s->len - got), (off_t)(s->at + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            err_set(e, SG_EIO, "cannot read %s: %s", dl->part,
                    n < 0 ? strerror(errno) : "unexpected end of file");
            goto out;
        }
        got += n;
    }
    same = memcmp(mine, s->buf, (size_t)s->len) == 0;
out:
    free(mine);
    return same;
}
