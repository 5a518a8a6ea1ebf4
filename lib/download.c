/* SPDX-License-Identifier: MIT */
/*
 * download.c - one download from start to final name (sg_download_*).
 *
 *   journal?  ──yes──> trust checks (URL, output, plan tiles the size)
 *      │                      │
 *      no                     v
 *      └────────> probe ──> same size and validator? ──yes──> resume
 *                              │ no                              │
 *                              v                                 │
 *                         plan, journal_reset, create .part      │
 *                              └──────────> transfer <───────────┘
 *                                              │ verdict
 *                  changed / resized / no ranges: start over (bounded)
 *                                              │ done
 *               verify (journal coverage, file size) ─> rename ─> drop journal
 *
 * NAME.segget is the journal and NAME.part the data; both sit next to NAME.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checksum.h"
#include "download.h"
#include "ckpt.h"
#include "err.h"
#include "hdr.h"
#include "journal.h"
#include "name.h"
#include "output.h"
#include "plan.h"
#include "probe.h"
#include "transfer.h"
#include "util.h"

#define MAX_RESTARTS 3

struct sg_download {
    char *url;
    char *shown; /* url without credentials: journal and messages */
    sg_options o; /* string fields point at the copies below */
    char *ua;
    char *path;  /* final */
    char *part;  /* path.part */
    char *jpath; /* path.segget */
    sg_err err;
    volatile sig_atomic_t cancel;
    volatile sig_atomic_t pause; /* sg_download_pause() */
    atomic_llong live_rate;      /* sg_download_set_rate() */
    int ran;
    int has_sum;
    checksum sum;
    char **headers; /* copies of the user's headers */
    char *userpwd, *proxy; /* copies */
    char **mirrors;        /* copies of the mirror URLs */
    char *ident;   /* the journal's name for this download: shown, plus
                      " bytes=SPEC" with --range */
    int has_range; /* --range: first-last, first- (last -1), -suffix */
    int64_t rfirst, rlast, rsuffix;
    int part_ours; /* download_part_is_ours() */
    download_verified_fn on_verified; /* see download.h */
    void *verified_ud;
    struct {           /* download_adopt() */
        int64_t len, size;
        char *etag, *last_modified;
    } adopt;
};

/* Per-run state of sg_download_run. */
struct run {
    sg_download *dl;
    journal *j;
    int fd;
    int fresh;        /* the journal holds no download */
    int made_journal; /* this run created the journal file */
    int made_part;    /* this run created NAME.part */
    journal_meta meta;
    sg_segment *segs;
    int n;
    probe_result pr;
    probe_result *mpr;   /* the mirrors' probes */
    xfer_mirror *mirrors; /* the usable ones */
    int nmirrors;
    int64_t base;  /* resource offset of the file's byte 0 (--range) */
    int64_t total; /* size of the resource, as probed */
    checksum_hash *hash; /* the data hashed as it arrived, in order */
    int64_t hashed;      /* up to here; -1 when it was not in order */
};

void sg_options_init(sg_options *o)
{
    memset(o, 0, sizeof *o);
    o->connections = 8;
    o->min_split = 1 << 20;
    o->on_change = SG_CHANGE_RESTART;
    o->max_tries = 5;
    o->connect_timeout_ms = 30000;
    o->stall_timeout_ms = 30000;
    o->checkpoint_ms = 1000;
    o->checkpoint_bytes = 4 << 20;
}


static void state(sg_download *dl, sg_state s, int64_t total, int64_t got)
{
    if (!dl->o.progress)
        return;
    sg_progress p = {.state = s, .total = total, .received = got};
    dl->o.progress(&p, dl->o.userdata);
}

sg_code download_check(const sg_options *o, sg_err *e)
{
    if (o->connections < 1 || o->connections > 64)
        return err_set(e, SG_EUSAGE, "connections must be 1 to 64, not %d",
                       o->connections);
    if (o->max_rate != 0 && o->max_rate < 4096)
        return err_set(e, SG_EUSAGE, "the rate limit must be at least 4K");
    if (o->min_split < 1)
        return err_set(e, SG_EUSAGE, "the minimum split must be positive");
    if (o->max_tries < 1)
        return err_set(e, SG_EUSAGE, "max tries must be at least 1");
    if (o->connect_timeout_ms < 1 || o->stall_timeout_ms < 1000 ||
        o->checkpoint_ms < 1 || o->checkpoint_bytes < 1)
        return err_set(e, SG_EUSAGE, "timeouts must be positive (stall: at "
                                     "least 1 s)");
    for (int i = 0; i < o->nheaders; i++) {
        const char *h = o->headers[i], *colon = strchr(h, ':');
        static const char *const ours[] = {"range", "if-range",
                                           "accept-encoding"};
        for (size_t k = 0; colon && k < 3; k++)
            if ((size_t)(colon - h) == strlen(ours[k]) &&
                strncasecmp(h, ours[k], strlen(ours[k])) == 0)
                colon = NULL;
        if (!colon || colon == h)
            return err_set(e, SG_EUSAGE,
                           "header '%s': want 'Name: value', and not one "
                           "of Range, If-Range, Accept-Encoding",
                           h);
    }
    return SG_OK;
}

/* Work out NAME, NAME.part and NAME.segget from name (or, when NULL, the
 * output option or the URL path); the directory must exist. */
static sg_code make_paths(sg_download *dl, const char *name,
                          const char *urlpath)
{
    sg_err *e = &dl->err;
    char *derived = NULL;
    const char *out = name ? name : dl->o.output;
    if (out && (out[0] == '\0' || out[strlen(out) - 1] == '/'))
        return err_set(e, SG_EUSAGE, "output '%s' names no file", out);
    if (!out) {
        if (!(derived = name_from_path(urlpath)))
            return err_set(e, SG_ENOMEM, "out of memory");
        out = derived;
    }
    free(dl->path);
    free(dl->part);
    free(dl->jpath);
    dl->part = dl->jpath = NULL;
    dl->path = path_join(dl->o.dir, out);
    free(derived);
    if (!dl->path || !(dl->part = str_cat(dl->path, ".part")) ||
        !(dl->jpath = str_cat(dl->path, ".segget")))
        return err_set(e, SG_ENOMEM, "out of memory");

    const char *slash = strrchr(dl->path, '/');
    char *d = slash ? strndup(dl->path, (size_t)(slash - dl->path + 1))
                    : strdup(".");
    if (!d)
        return err_set(e, SG_ENOMEM, "out of memory");
    struct stat st;
    sg_code rc = SG_OK;
    if (stat(d, &st) < 0 || !S_ISDIR(st.st_mode))
        rc = err_set(e, SG_EUSAGE, "directory '%s' does not exist", d);
    free(d);
    return rc;
}

/* Copy and check the mirror URLs. */
static sg_code copy_mirrors(sg_download *dl, const sg_options *o)
{
    dl->o.mirrors = NULL;
    if (o->nmirrors <= 0) {
        dl->o.nmirrors = 0;
        return SG_OK;
    }
    if (o->nmirrors > 16)
        return err_set(&dl->err, SG_EUSAGE, "at most 16 mirrors");
    if (!(dl->mirrors = calloc((size_t)o->nmirrors, sizeof *dl->mirrors)))
        return err_set(&dl->err, SG_ENOMEM, "out of memory");
    for (int i = 0; i < o->nmirrors; i++) {
        char *path = NULL;
        sg_code rc = http_check_url(o->mirrors[i], &path, &dl->err);
        free(path);
        if (rc)
            return rc;
        if (!(dl->mirrors[i] = strdup(o->mirrors[i])))
            return err_set(&dl->err, SG_ENOMEM, "out of memory");
    }
    dl->o.mirrors = (const char *const *)dl->mirrors;
    return SG_OK;
}

/* --range "A-B", "A-" or "-N" into dl, and the journal's identity. */
static sg_code parse_range(sg_download *dl, const char *spec)
{
    dl->ident = spec ? NULL : strdup(dl->shown);
    if (!spec)
        return dl->ident ? SG_OK
                         : err_set(&dl->err, SG_ENOMEM, "out of memory");
    const char *dash = strchr(spec, '-');
    int64_t a = -1, b = -1;
    int ok = dash && strspn(spec, "0123456789-") == strlen(spec) &&
             strchr(dash + 1, '-') == NULL;
    if (ok && dash > spec)
        ok = hdr_parse_int(spec, (size_t)(dash - spec), &a) == 0;
    if (ok && dash[1])
        ok = hdr_parse_int(dash + 1, strlen(dash + 1), &b) == 0;
    if (!ok || (a < 0 && b < 1) || (a >= 0 && b >= 0 && b < a))
        return err_set(&dl->err, SG_EUSAGE,
                       "range '%s': want A-B (bytes A to B), A- or -N (the "
                       "last N bytes)",
                       spec);
    dl->has_range = 1;
    dl->rfirst = a;
    dl->rlast = a >= 0 ? b : -1;
    dl->rsuffix = a < 0 ? b : 0;
    size_t n = strlen(dl->shown) + strlen(spec) + 16;
    if (!(dl->ident = malloc(n)))
        return err_set(&dl->err, SG_ENOMEM, "out of memory");
    (void)snprintf(dl->ident, n, "%s bytes=%s", dl->shown, spec);
    return SG_OK;
}

static void drop_mirrors(struct run *r)
{
    for (int i = 0; r->mpr && i < r->dl->o.nmirrors; i++)
        probe_result_cleanup(&r->mpr[i]);
    free(r->mpr);
    free(r->mirrors);
    r->mpr = NULL;
    r->mirrors = NULL;
    r->nmirrors = 0;
}

/* Probe every mirror and keep those that serve ranges of the resource the
 * URL's probe described: the same size, and the same strong ETag (when
 * both have one) or else the same Last-Modified. */
static sg_code probe_mirrors(struct run *r, const http_conf *hc)
{
    sg_download *dl = r->dl;
    drop_mirrors(r);
    if (dl->o.nmirrors == 0 || !r->pr.ranges)
        return SG_OK;
    http_conf plain = *hc; /* the user's headers and credentials stay */
    plain.headers = NULL;  /* with the URL's origin */
    plain.nheaders = 0;
    plain.userpwd = NULL;
    r->mpr = calloc((size_t)dl->o.nmirrors, sizeof *r->mpr);
    r->mirrors = calloc((size_t)dl->o.nmirrors, sizeof *r->mirrors);
    if (!r->mpr || !r->mirrors)
        return err_set(&dl->err, SG_ENOMEM, "out of memory");
    for (int i = 0; i < dl->o.nmirrors; i++) {
        probe_result *m = &r->mpr[i];
        sg_err me = {0};
        char *shown = http_redact(dl->mirrors[i]);
        sg_code rc = probe_run(dl->mirrors[i], shown ? shown : "mirror",
                               &plain, 0, dl->o.max_tries, &dl->cancel, m,
                               &me);
        const char *why = NULL;
        if (rc == SG_EINTERRUPTED) {
            free(shown);
            err_reset(&me);
            return rc;
        }
        if (rc)
            why = err_msg(&me);
        else if (!m->ranges)
            why = "it does not serve byte ranges";
        else if (m->size != r->total)
            why = "it has another size";
        else if ((r->pr.etag && m->etag) ? strcmp(r->pr.etag, m->etag) != 0
                 : !(r->pr.last_modified && m->last_modified &&
                     strcmp(r->pr.last_modified, m->last_modified) == 0))
            why = "its validator (ETag or Last-Modified) differs";
        if (why)
            notify(dl->o.notice, dl->o.userdata, "mirror %s not used: %s",
                   shown ? shown : "", why);
        else
            r->mirrors[r->nmirrors++] = (xfer_mirror){
                m->effective_url, m->etag, m->last_modified};
        free(shown);
        err_reset(&me);
    }
    return SG_OK;
}

/* After a probe: with --range, make the probe describe the part (size,
 * base); the resource's own size stays in r->total. */
static sg_code apply_range(struct run *r)
{
    sg_download *dl = r->dl;
    probe_result *p = &r->pr;
    r->base = 0;
    r->total = p->size;
    if (!dl->has_range)
        return SG_OK;
    if (!p->ranges || p->size < 0)
        return err_set(&dl->err, SG_EPROTO,
                       "%s: the server does not serve byte ranges, so only "
                       "part of it cannot be fetched",
                       dl->shown);
    int64_t first = dl->rsuffix ? p->size - dl->rsuffix : dl->rfirst;
    int64_t last = dl->rlast < 0 || dl->rlast >= p->size ? p->size - 1
                                                          : dl->rlast;
    if (first < 0)
        first = 0;
    if (first >= p->size)
        return err_set(&dl->err, SG_EUSAGE,
                       "%s has %lld bytes: it has no byte %lld", dl->shown,
                       (long long)p->size, (long long)first);
    r->base = first;
    p->size = last - first + 1;
    return SG_OK;
}

sg_code sg_download_new(sg_download **out, const char *url,
                        const sg_options *o)
{
    sg_download *dl = calloc(1, sizeof *dl);
    *out = dl;
    if (!dl)
        return SG_ENOMEM;
    dl->o = *o;
    dl->o.output = dl->o.dir = NULL;
    char *urlpath = NULL;
    sg_code rc = SG_OK;
    if (!(dl->url = strdup(url)) || !(dl->shown = http_redact(url)) ||
        (o->output && !(dl->o.output = strdup(o->output))) ||
        (o->dir && !(dl->o.dir = strdup(o->dir))) ||
        !(dl->ua = o->user_agent ? strdup(o->user_agent)
                                 : strdup("segget/" SG_VERSION))) {
        rc = err_set(&dl->err, SG_ENOMEM, "out of memory");
        goto out;
    }
    dl->o.user_agent = dl->ua;
    dl->o.userpwd = dl->o.proxy = NULL;
    if ((o->userpwd && !(dl->o.userpwd = dl->userpwd = strdup(o->userpwd))) ||
        (o->proxy && !(dl->o.proxy = dl->proxy = strdup(o->proxy)))) {
        rc = err_set(&dl->err, SG_ENOMEM, "out of memory");
        goto out;
    }
    dl->o.headers = NULL;
    if (o->nheaders > 0) {
        if (!(dl->headers = calloc((size_t)o->nheaders, sizeof *dl->headers))) {
            rc = err_set(&dl->err, SG_ENOMEM, "out of memory");
            goto out;
        }
        for (int i = 0; i < o->nheaders; i++) {
            if (!(dl->headers[i] = strdup(o->headers[i]))) {
                rc = err_set(&dl->err, SG_ENOMEM, "out of memory");
                goto out;
            }
        }
        dl->o.headers = (const char *const *)dl->headers;
    }
    dl->o.checksum = NULL; /* parsed below; the caller's string is not kept */
    if (o->checksum) {
        if ((rc = checksum_parse(o->checksum, &dl->sum, &dl->err)))
            goto out;
        dl->has_sum = 1;
    }
    if ((rc = download_check(o, &dl->err)) ||
        (rc = parse_range(dl, o->range)) || (rc = copy_mirrors(dl, o)))
        goto out;
    atomic_store(&dl->live_rate, (long long)o->max_rate);
    /* A rate limit is the bottleneck: more connections than it can feed
     * at 16 KiB/s each only add requests. */
    if (o->max_rate > 0 && o->max_rate / dl->o.connections < 16384)
        dl->o.connections = o->max_rate / 16384 > 1
                                ? (int)(o->max_rate / 16384)
                                : 1;
    if ((rc = http_check_url(url, &urlpath, &dl->err)) ||
        (rc = make_paths(dl, NULL, urlpath)))
        goto out;
out:
    free(urlpath);
    return rc;
}

void download_on_verified(sg_download *dl, download_verified_fn fn,
                          void *ud)
{
    dl->on_verified = fn;
    dl->verified_ud = ud;
}

void download_part_is_ours(sg_download *dl)
{
    dl->part_ours = 1;
}

sg_code download_adopt(sg_download *dl, int64_t len, int64_t size,
                       const char *etag, const char *last_modified)
{
    dl->adopt.len = len;
    dl->adopt.size = size;
    if ((etag && !(dl->adopt.etag = strdup(etag))) ||
        (last_modified &&
         !(dl->adopt.last_modified = strdup(last_modified))))
        return err_set(&dl->err, SG_ENOMEM, "out of memory");
    return SG_OK;
}

/* Is the adopted prefix the start of the resource the probe described? */
static int adoptable(const sg_download *dl, const probe_result *p)
{
    const char *e = dl->adopt.etag, *lm = dl->adopt.last_modified;
    if (dl->adopt.len <= 0 || !p->ranges || p->size != dl->adopt.size ||
        dl->adopt.len > p->size)
        return 0;
    if (e || p->etag)
        return e && p->etag && strcmp(e, p->etag) == 0;
    return lm && p->last_modified && strcmp(lm, p->last_modified) == 0;
}

static sg_code verified(sg_download *dl, int64_t size, const char *etag,
                        const char *last_modified)
{
    return dl->on_verified ? dl->on_verified(dl->verified_ud, size, etag,
                                             last_modified, &dl->err)
                           : SG_OK;
}

void sg_download_pause(sg_download *dl, int paused)
{
    dl->pause = paused ? 1 : 0;
}

void sg_download_set_rate(sg_download *dl, int64_t max_rate)
{
    atomic_store(&dl->live_rate, (long long)(max_rate > 0 ? max_rate : 0));
}

void sg_download_cancel(sg_download *dl)
{
    dl->cancel = 1;
}

const char *sg_download_path(const sg_download *dl)
{
    return dl->path ? dl->path : "";
}

const char *sg_download_error(const sg_download *dl)
{
    return err_msg(&dl->err);
}

void sg_download_free(sg_download *dl)
{
    if (!dl)
        return;
    for (int i = 0; dl->headers && i < dl->o.nheaders; i++)
        free(dl->headers[i]);
    free(dl->headers);
    for (int i = 0; dl->mirrors && i < dl->o.nmirrors; i++)
        free(dl->mirrors[i]);
    free(dl->mirrors);
    free(dl->ident);
    free(dl->userpwd);
    free(dl->proxy);
    free(dl->adopt.etag);
    free(dl->adopt.last_modified);
    free(dl->url);
    free(dl->shown);
    free((char *)dl->o.output);
    free((char *)dl->o.dir);
    free(dl->ua);
    free(dl->path);
    free(dl->part);
    free(dl->jpath);
    err_reset(&dl->err);
    free(dl);
}

static int streq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Remove a journal (and its WAL) that cannot be trusted. */
static sg_code discard_journal(sg_download *dl)
{
    const char *sfx[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char *p = str_cat(dl->jpath, sfx[i]);
        if (!p)
            return err_set(&dl->err, SG_ENOMEM, "out of memory");
        int r = unlink(p);
        int bad = r < 0 && errno != ENOENT;
        free(p);
        if (bad)
            return err_set(&dl->err, SG_EIO, "cannot remove %s: %s",
                           dl->jpath, strerror(errno));
    }
    return SG_OK;
}

/* Open (or create) the journal and decide whether its record is usable. */
static sg_code open_journal(struct run *r)
{
    sg_download *dl = r->dl;
    sg_err *e = &dl->err;
    sg_code rc;
    r->made_journal = access(dl->jpath, F_OK) != 0;
    if (r->made_journal && !dl->o.force && access(dl->path, F_OK) == 0)
        return err_set(e, SG_EUNSAFE,
                       "%s exists; pass --force to replace it", dl->path);
    for (int attempt = 0;; attempt++) {
        rc = journal_open(&r->j, dl->jpath, 1, &r->fresh, e);
        if (rc == SG_OK && !r->fresh) {
            rc = journal_read(r->j, &r->meta, &r->segs, &r->n, e);
            if (rc == SG_OK) {
                plan_sort(r->segs, r->n);
                if (!streq(r->meta.url, dl->ident) ||
                    !streq(r->meta.output, dl->path))
                    rc = err_set(e, SG_EJOURNAL,
                                 "%s belongs to another download (%s)",
                                 dl->jpath, r->meta.url);
                else if (r->n > PLAN_MAX_SEGMENTS ||
                         (r->meta.size >= 0 &&
                          plan_check(r->segs, r->n, r->meta.size) < 0))
                    rc = err_set(e, SG_EJOURNAL,
                                 "journal %s holds an impossible plan",
                                 dl->jpath);
            }
        }
        if (rc != SG_EJOURNAL || !dl->o.force || attempt > 0)
            break;
        notify(dl->o.notice, dl->o.userdata, "discarding journal %s: %s", dl->jpath, err_msg(e));
        err_reset(e);
        journal_close(r->j);
        r->j = NULL;
        journal_meta_cleanup(&r->meta);
        free(r->segs);
        r->segs = NULL;
        r->n = 0;
        if ((rc = discard_journal(dl)))
            break;
        r->made_journal = 1;
    }
    if (rc == SG_EJOURNAL)
        err_set(e, rc, "(pass --force to discard it)");
    return rc;
}

/* A verified download whose rename did not happen (or whose journal
 * removal did not): finish the job without the network. */
static sg_code finish_verified(struct run *r, int *done)
{
    sg_download *dl = r->dl;
    struct stat st;
    *done = 0;
    if (!r->meta.verified)
        return SG_OK;
    if (lstat(dl->part, &st) == 0 && S_ISREG(st.st_mode) &&
        (r->meta.size < 0 || st.st_size == r->meta.size)) {
        sg_code rc = verified(dl, st.st_size, r->meta.etag,
                              r->meta.last_modified);
        if (rc || (rc = output_publish(dl->part, dl->path, &dl->err)))
            return rc;
    } else if (lstat(dl->path, &st) != 0) {
        return SG_OK; /* neither file: download again */
    } else {
        sg_code rc = verified(dl, st.st_size, r->meta.etag,
                              r->meta.last_modified);
        if (rc)
            return rc;
    }
    *done = 1;
    notify(dl->o.notice, dl->o.userdata, "%s was completed by an earlier run", dl->path);
    sg_code rc = journal_remove(r->j, &dl->err);
    r->j = NULL;
    return rc;
}

/* Can the journal's partial data continue with what the probe saw? */
static const char *resume_blocker(const struct run *r)
{
    const journal_meta *m = &r->meta;
    const probe_result *p = &r->pr;
    if (!m->ranges || !p->ranges)
        return "the server does not support ranges";
    if (m->size < 0 || p->size != m->size)
        return "the remote size changed";
    if (!m->etag && !m->last_modified)
        return "the server gives no validator to prove the file unchanged";
    if (resp_validator_differs(m->etag, p->etag) ||
        resp_validator_differs(m->last_modified, p->last_modified) ||
        (m->etag && !p->etag) || (!m->etag && m->last_modified &&
                                  !p->last_modified))
        return "the remote file changed";
    return NULL;
}

/* start_over's end for an adopted NAME.part holding the first bytes of the
 * resource: size it, sync it, and let the journal claim those bytes. */
static sg_code adopt_part(struct run *r, int64_t len)
{
    sg_download *dl = r->dl;
    sg_err *e = &dl->err;
    int64_t have = 0;
    int missing = 0;
    sg_code rc = output_reopen(dl->part, &r->fd, &have, &missing, e);
    if (rc == SG_OK && have != len)
        rc = err_set(e, SG_EIO, "%s changed size under us", dl->part);
    if (rc || (rc = output_preallocate(r->fd, r->pr.size, e)) ||
        (rc = output_sync(r->fd, e)) || (rc = output_sync_dir(dl->part, e)))
        return rc;
    r->made_part = 1;
    for (int i = 0; i < r->n; i++)
        r->segs[i].done = len <= r->segs[i].start ? r->segs[i].start
                          : len >= r->segs[i].end ? r->segs[i].end
                                                  : len;
    if ((rc = journal_commit(r->j, r->segs, r->n, e)))
        return rc;
    r->meta.size = r->pr.size;
    r->meta.ranges = 1;
    return SG_OK;
}

/* Plan afresh, record it, and create NAME.part. */
static sg_code start_over(struct run *r, int ranges)
{
    sg_download *dl = r->dl;
    sg_err *e = &dl->err;
    sg_code rc;
    int64_t size = r->pr.size;
    free(r->segs);
    r->n = 0;
    r->segs = calloc(PLAN_MAX_SEGMENTS, sizeof *r->segs);
    if (!r->segs)
        return err_set(e, SG_ENOMEM, "out of memory");
    if (ranges && size > 0)
        r->n = plan_split(size, dl->o.connections, dl->o.min_split, r->segs,
                          PLAN_MAX_SEGMENTS);
    else if (size != 0) {
        r->segs[0] = (sg_segment){0, size < 0 ? INT64_MAX : size, 0, 0};
        r->n = 1;
    }
    journal_meta_cleanup(&r->meta);
    journal_meta m = {.url = dl->ident,
                      .output = dl->path,
                      .etag = r->pr.etag,
                      .last_modified = r->pr.last_modified,
                      .size = size,
                      .ranges = ranges};
    if (r->fd >= 0) {
        close(r->fd);
        r->fd = -1;
    }
    /* A .part is ours to replace when a journal vouched for it or the
     * user said --force.  The journal records the new plan (claiming no
     * byte) before .part is created, so after a crash at any point the
     * .part on disk is one a journal describes. */
    if (r->fresh && !dl->o.force && !dl->part_ours && dl->adopt.len <= 0 &&
        access(dl->part, F_OK) == 0)
        return err_set(e, SG_EUNSAFE,
                       "%s exists but no journal describes it; remove it "
                       "or pass --force",
                       dl->part);
    char *eff = http_redact(r->pr.effective_url);
    if (!eff)
        return err_set(e, SG_ENOMEM, "out of memory");
    m.effective_url = eff;
    rc = journal_reset(r->j, &m, r->segs, r->n, e);
    free(eff);
    if (rc)
        return rc;
    r->fresh = 0;
    int64_t adopt = ranges && adoptable(dl, &r->pr) ? dl->adopt.len : 0;
    dl->adopt.len = 0; /* once */
    if (adopt)
        return adopt_part(r, adopt);
    if (unlink(dl->part) < 0 && errno != ENOENT)
        return err_set(e, SG_EIO, "cannot remove %s: %s", dl->part,
                       strerror(errno));
    if ((rc = output_create(dl->part, &r->fd, e)))
        return rc;
    r->made_part = 1;
    if ((rc = output_preallocate(r->fd, size, e)) ||
        (rc = output_sync_dir(dl->part, e)))
        return rc;
    r->meta.size = size;
    r->meta.ranges = ranges;
    return SG_OK;
}

/* Continue from the journal's plan.  Returns SG_OK with *ok = 0 when the
 * partial file is unusable and the caller should start over. */
static sg_code resume(struct run *r, int *ok)
{
    sg_download *dl = r->dl;
    int64_t size = 0;
    int missing = 0;
    *ok = 0;
    sg_code rc = output_reopen(dl->part, &r->fd, &size, &missing, &dl->err);
    if (missing) {
        notify(dl->o.notice, dl->o.userdata, "%s is gone; starting over", dl->part);
        return SG_OK;
    }
    if (rc)
        return rc;
    if (size != r->meta.size) {
        notify(dl->o.notice, dl->o.userdata, "%s has the wrong size; starting over", dl->part);
        return SG_OK;
    }
    sg_segment *v = realloc(r->segs, PLAN_MAX_SEGMENTS * sizeof *v);
    if (!v)
        return err_set(&dl->err, SG_ENOMEM, "out of memory");
    r->segs = v;
    /* Spread what is missing over all connections again. */
    while (plan_unfinished(r->segs, r->n) < dl->o.connections &&
           plan_split_largest(r->segs, &r->n, PLAN_MAX_SEGMENTS,
                              dl->o.min_split, 0) >= 0)
        ;
    plan_sort(r->segs, r->n);
    if ((rc = journal_commit(r->j, r->segs, r->n, &dl->err)))
        return rc;
    int64_t have = plan_written(r->segs, r->n);
    notify(dl->o.notice, dl->o.userdata, "resuming: %lld of %lld bytes already on disk", (long long)have,
        (long long)size);
    *ok = 1;
    return SG_OK;
}

/* Verify the finished data against the journal and publish it. */
static sg_code verify_and_publish(struct run *r)
{
    sg_download *dl = r->dl;
    sg_err *e = &dl->err;
    journal_meta m;
    sg_segment *segs = NULL;
    int n = 0;
    struct stat st;
    sg_code rc = journal_read(r->j, &m, &segs, &n, e);
    if (rc)
        return rc;
    plan_sort(segs, n);
    int64_t size = m.size >= 0 ? m.size : (n ? segs[n - 1].end : 0);
    state(dl, SG_STATE_VERIFYING, size, size);
    if (plan_check(segs, n, size) < 0 || plan_remaining(segs, n) != 0)
        rc = err_set(e, SG_EPROTO,
                     "verification failed: the journal does not cover all "
                     "%lld bytes",
                     (long long)size);
    else if (fstat(r->fd, &st) < 0 || st.st_size != size)
        rc = err_set(e, SG_EIO,
                     "verification failed: %s has %lld bytes, expected %lld",
                     dl->part, (long long)st.st_size, (long long)size);
    free(segs);
    journal_meta_cleanup(&m);
    checksum_hash *h = r->hash;
    r->hash = NULL;
    if (rc == SG_OK && dl->has_sum && h && r->hashed == size) {
        rc = checksum_end(h, &dl->sum, e); /* frees h */
    } else {
        checksum_drop(h);
        if (rc == SG_OK && dl->has_sum)
            rc = checksum_verify(r->fd, size, &dl->sum, e);
    }
    if (rc == SG_ECHECKSUM) {
        char *why = strdup(err_msg(e));
        err_reset(e);
        rc = err_set(e, SG_ECHECKSUM, "%s; %s kept for inspection",
                     why ? why : "checksum mismatch", dl->part);
        free(why);
    }
    if (rc || (rc = output_sync(r->fd, e)) ||
        (rc = journal_mark_verified(r->j, e)) ||
        (rc = verified(dl, size, r->pr.etag, r->pr.last_modified)) ||
        (rc = output_publish(dl->part, dl->path, e)))
        return rc;
    rc = journal_remove(r->j, e);
    r->j = NULL;
    if (rc == SG_OK)
        state(dl, SG_STATE_DONE, size, size);
    return rc;
}

static sg_code transfer(struct run *r, xfer_verdict *v)
{
    sg_download *dl = r->dl;
    sg_err *e = &dl->err;
    ckpt *ck = NULL;
    sg_code rc = ckpt_start(&ck, r->fd, r->j, PLAN_MAX_SEGMENTS, e);
    if (rc)
        return rc;
    /* With --checksum, hash what arrives in order from byte 0 (all of it
     * with one connection); verification reads back only otherwise. */
    checksum_drop(r->hash);
    r->hash = NULL;
    r->hashed = -1;
    if (dl->has_sum && plan_written(r->segs, r->n) == 0 &&
        (r->hash = checksum_begin(&dl->sum)))
        r->hashed = 0;
    /* The user's headers go to the segments only if the pinned URL has
     * the origin they were given for. */
    int hdrs = r->pr.same_origin ? dl->o.nheaders : 0;
    xfer_conf c = {
        .http = {dl->o.user_agent, dl->o.connect_timeout_ms,
                 dl->o.stall_timeout_ms, dl->o.insecure,
                 hdrs ? dl->o.headers : NULL, hdrs,
                 r->pr.same_origin ? dl->o.userpwd : NULL, dl->o.netrc,
                 dl->o.proxy},
        .url = r->pr.effective_url,
        .shown = dl->shown,
        .size = r->meta.size,
        .ranges = r->meta.ranges,
        .etag = r->pr.etag,
        .last_modified = r->pr.last_modified,
        .connections = dl->o.connections,
        .max_tries = dl->o.max_tries,
        .min_split = dl->o.min_split,
        .max_rate = dl->o.max_rate,
        .mirrors = r->meta.ranges ? r->mirrors : NULL,
        .nmirrors = r->meta.ranges ? r->nmirrors : 0,
        .base = r->base,
        .total = r->total,
        .pause = &dl->pause,
        .live_rate = &dl->live_rate,
        .hash = r->hash,
        .hashed = &r->hashed,
        .fd = r->fd,
        .ck = ck,
        .checkpoint_ms = dl->o.checkpoint_ms,
        .checkpoint_bytes = dl->o.checkpoint_bytes,
        .resumed = plan_written(r->segs, r->n),
        .cancel = &dl->cancel,
        .progress = dl->o.progress,
        .notice = dl->o.notice,
        .userdata = dl->o.userdata,
    };
    rc = xfer_run(&c, r->segs, &r->n, PLAN_MAX_SEGMENTS, v, e);
    /* Whatever happened, make what was written durable and say so. */
    sg_code crc = ckpt_stop(ck, r->segs, r->n, e);
    if (crc && (rc == SG_OK || rc == SG_EINTERRUPTED)) {
        *v = XFER_FAILED;
        rc = crc;
    }
    return rc;
}

sg_code sg_download_run(sg_download *dl)
{
    sg_err *e = &dl->err;
    if (dl->ran || e->code)
        return err_set(e, SG_EUSAGE, "a download runs only once");
    dl->ran = 1;
    struct run r = {.dl = dl, .fd = -1};
    sg_code rc;
    int done = 0, force_get = 0, noranges = 0;
    http_conf hc = {dl->o.user_agent,   dl->o.connect_timeout_ms,
                    dl->o.stall_timeout_ms, dl->o.insecure,
                    dl->o.headers,       dl->o.nheaders,
                    dl->o.userpwd,       dl->o.netrc,
                    dl->o.proxy};

    state(dl, SG_STATE_PROBING, -1, 0);
    int probed = 0;
    if (dl->o.content_disposition && !dl->o.output) {
        /* The server may name the file: ask before choosing the paths. */
        if ((rc = probe_run(dl->url, dl->shown, &hc, 0, dl->o.max_tries,
                            &dl->cancel, &r.pr, e)))
            goto out;
        probed = 1;
        if ((rc = apply_range(&r)))
            goto out;
        char *nm = r.pr.disposition
                       ? name_from_disposition(r.pr.disposition,
                                               strlen(r.pr.disposition))
                       : NULL;
        if (nm) {
            rc = make_paths(dl, nm, NULL);
            free(nm);
            if (rc)
                goto out;
        }
    }
    if (output_is_symlink(dl->path) > 0 || output_is_symlink(dl->part) > 0) {
        rc = err_set(e, SG_EUNSAFE, "%s is a symlink; refusing", dl->path);
        goto out;
    }
    if ((rc = open_journal(&r)) || (!r.fresh && (rc = finish_verified(&r, &done))) || done)
        goto out;

    for (int restarts = 0;; restarts++) {
        if (!(probed && restarts == 0)) {
            probe_result_cleanup(&r.pr);
            if ((rc = probe_run(dl->url, dl->shown, &hc, force_get,
                                dl->o.max_tries, &dl->cancel, &r.pr, e)) ||
                (rc = apply_range(&r)))
                goto out;
        }
        if ((rc = probe_mirrors(&r, &hc)))
            goto out;
        int ranges = r.pr.ranges && !noranges;
        int resumed = 0;
        if (!r.fresh && restarts == 0) {
            const char *why = resume_blocker(&r);
            if (!why && (rc = resume(&r, &resumed)))
                goto out;
            if (why && dl->o.on_change == SG_CHANGE_FAIL) {
                rc = err_set(e, SG_ECHANGED,
                             "cannot resume %s: %s (partial data kept)",
                             dl->path, why);
                goto out;
            }
            if (why)
                notify(dl->o.notice, dl->o.userdata, "cannot resume: %s; starting over", why);
        }
        if (!resumed && (rc = start_over(&r, ranges)))
            goto out;
        if (!r.meta.ranges)
            notify(dl->o.notice, dl->o.userdata, r.pr.size < 0 ? "size unknown; one connection, no resume"
                                  : "the server does not support ranges; "
                                    "one connection");
        xfer_verdict v;
        rc = transfer(&r, &v);
        if (v == XFER_DONE)
            break;
        if (v == XFER_CANCELLED) {
            err_reset(e);
            rc = err_set(e, SG_EINTERRUPTED,
                         "interrupted; run the same command again to resume");
            goto out;
        }
        int again = v == XFER_CHANGED || v == XFER_RESIZED ||
                    (v == XFER_NORANGES && !noranges && !dl->has_range);
        if (again && v == XFER_RESIZED && restarts + 1 >= MAX_RESTARTS) {
            /* The size moved again with the same validator: not a new
             * version of the file but a server that contradicts itself. */
            char *why = strdup(err_msg(e));
            err_reset(e);
            rc = err_set(e, SG_EPROTO,
                         "the server contradicts itself about the size "
                         "(%s); giving up",
                         why ? why : "");
            free(why);
            goto out;
        }
        if (!again || restarts + 1 >= MAX_RESTARTS ||
            (v != XFER_NORANGES && dl->o.on_change == SG_CHANGE_FAIL))
            goto out;
        notify(dl->o.notice, dl->o.userdata, "%s; starting over", err_msg(e));
        err_reset(e);
        /* Ask with a GET from now on: HEAD said something the GETs
         * contradicted. */
        force_get |= v == XFER_RESIZED || v == XFER_CHANGED;
        noranges |= v == XFER_NORANGES;
    }
    rc = verify_and_publish(&r);
out:
    if (rc && rc != SG_EINTERRUPTED && r.j && r.made_part &&
        plan_written(r.segs, r.n) == 0) {
        /* This run created the data file and failed before any byte of
         * it was worth keeping: leave the directory as it was. */
        (void)unlink(dl->part);
        r.made_part = 0;
    }
    if (rc && r.j && r.made_journal && !r.made_part) {
        /* Nothing of this download is on disk: leave no litter. */
        (void)journal_remove(r.j, &(sg_err){0});
        r.j = NULL;
    }
    journal_close(r.j);
    if (r.fd >= 0)
        close(r.fd);
    journal_meta_cleanup(&r.meta);
    free(r.segs);
    probe_result_cleanup(&r.pr);
    drop_mirrors(&r);
    checksum_drop(r.hash);
    return rc;
}
