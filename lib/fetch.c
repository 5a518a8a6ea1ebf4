/* SPDX-License-Identifier: MIT */
/*
 * fetch.c - the small-file pool: one CURLM, one easy handle per job,
 * reached again through CURLOPT_PRIVATE.
 *
 * A job's response is judged once, at its first body byte or, for an
 * empty body, at its end (judge()); settle() then decides at the end of
 * each request: follow a redirect, retry, or give the job its verdict.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fetch.h"
#include "http.h"
#include "output.h"
#include "probe.h"
#include "rate.h"
#include "util.h"

#define MAX_HOPS 20
#define RECV_BUFFER (64L * 1024)

struct fetch_rt {
    fetch_job *j;
    fetch_pool *p;
    CURL *h;
    char *cur;        /* URL of this hop, heap */
    int same;         /* cur has the origin of j->url */
    int hops, tries;
    int accepted;     /* the response was judged */
    int discard;      /* the body is not the file's (a 416's message) */
    int paused;       /* held back by the rate limit */
    fetch_verdict stop; /* set when we abort the request on purpose */
    int fd;
    int64_t written;  /* body bytes of this attempt */
    int64_t total;    /* size of the resource, -1 unknown */
    int64_t not_before; /* waiting to be retried until then */
    checksum_hash *hash;
    struct curl_slist *hdrs;
    char range[48];
    struct fetch_rt *next; /* waiting list */
    struct fetch_rt *peer; /* list of every running job */
    resp r;
    char errbuf[CURL_ERROR_SIZE];
};

struct fetch_pool {
    const fetch_conf *c;
    http_conf hc;
    CURLM *m;
    struct fetch_rt *waiting;
    struct fetch_rt *all;
    fetch_job **ready;
    int nready, cap;
    int running;
    rate_bucket bucket; /* --limit-rate share of the small fetches */
    int paused;
};

sg_code fetch_check_url(const char *url, char **path, sg_err *e)
{
    return http_check_url(url, path, e);
}

char *fetch_redact(const char *url)
{
    return http_redact(url);
}

char *fetch_host(const char *url)
{
    char *h = NULL, *port = NULL, *res = NULL;
    CURLU *u = curl_url();
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK) {
        (void)curl_url_get(u, CURLUPART_PORT, &port, 0);
        size_t n = strlen(h) + (port ? strlen(port) + 1 : 0) + 1;
        if ((res = malloc(n))) {
            (void)snprintf(res, n, "%s%s%s", h, port ? ":" : "",
                           port ? port : "");
            for (char *c = res; *c; c++)
                if (*c >= 'A' && *c <= 'Z')
                    *c = (char)(*c + 32);
        }
    }
    curl_free(h);
    curl_free(port);
    curl_url_cleanup(u);
    return res;
}

sg_code fetch_pool_new(fetch_pool **out, const fetch_conf *c, sg_err *e)
{
    fetch_pool *p = calloc(1, sizeof *p);
    *out = NULL;
    if (!p || !(p->m = curl_multi_init())) {
        free(p);
        return err_set(e, SG_ENOMEM, "out of memory");
    }
    p->c = c;
    bucket_init(&p->bucket, 0, now_ms());
    p->hc = (http_conf){c->user_agent, c->connect_timeout_ms,
                        c->stall_timeout_ms, c->insecure, c->headers,
                        c->nheaders, c->userpwd, c->netrc, c->proxy};
    (void)curl_multi_setopt(p->m, CURLMOPT_MAX_HOST_CONNECTIONS,
                            (long)c->max_per_host);
    /* One GET per connection at a time, as the range transfers do. */
    (void)curl_multi_setopt(p->m, CURLMOPT_PIPELINING, CURLPIPE_NOTHING);
    *out = p;
    return SG_OK;
}

static int transient(int status)
{
    return status >= 500 || status == 429 || status == 408;
}

static int success(int status)
{
    return status == 200 || status == 203;
}

static void fail(struct fetch_rt *rt, sg_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Set the job's error ("URL: why") and mark the request as failed. */
static void fail(struct fetch_rt *rt, sg_code code, const char *fmt, ...)
{
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    err_reset(&rt->j->err);
    err_set(&rt->j->err, code, "%s: %s", rt->j->shown, why);
    rt->stop = FETCH_FAILED;
}

/* Open the owner's file for a body of size bytes (-1: unknown). */
static int open_sink(struct fetch_rt *rt, int64_t size)
{
    fetch_job *j = rt->j;
    if ((rt->fd = j->open(j, size, &j->err)) < 0) {
        rt->stop = FETCH_FAILED;
        return -1;
    }
    checksum_drop(rt->hash);
    rt->hash = NULL;
    if (j->sum && !(rt->hash = checksum_begin(j->sum))) {
        fail(rt, SG_ENOMEM, "out of memory");
        return -1;
    }
    return 1;
}

/* Judge the response: 1 to write its body, 0 to discard it (a redirect,
 * a retry, a 304: settle() decides), -1 to abort (rt->stop is set). */
static int judge(struct fetch_rt *rt)
{
    fetch_job *j = rt->j;
    const resp *r = &rt->r;
    rt->accepted = 1;
    if ((r->status >= 300 && r->status < 400) || transient(r->status))
        return 0;
    if (r->status == 416 && r->has_range && r->range.first < 0 &&
        r->range.total == 0) {
        /* An empty file has no byte 0: create it, ignore the message. */
        rt->discard = 1;
        rt->total = 0;
        return open_sink(rt, 0) < 0 ? -1 : 0;
    }
    if (r->status == 206) {
        /* The answer to "bytes=0-(limit-1)": all of a small file, or the
         * first limit bytes of a large one, kept for its download. */
        const hdr_range *g = &r->range;
        if (!r->has_range || r->conflict || r->bad_length || r->encoded ||
            g->first != 0 ||
            g->total < 1 ||
            g->last != (g->total < j->limit ? g->total : j->limit) - 1) {
            fail(rt, SG_EPROTO, "a Content-Range that does not answer the "
                                "request");
            return -1;
        }
        rt->total = g->total;
        return open_sink(rt, g->total);
    }
    if (!success(r->status)) {
        fail(rt, SG_EHTTP, "HTTP %d", r->status);
        return -1;
    }
    if (r->conflict || r->bad_length) {
        fail(rt, SG_EPROTO, "contradictory or malformed Content-Length");
        return -1;
    }
    if (r->length > j->limit) {
        rt->stop = FETCH_BIG;
        return -1;
    }
    rt->total = r->length;
    return open_sink(rt, r->length);
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
    struct fetch_rt *rt = ud;
    size_t len = size * nmemb;
    if (!rt->accepted) {
        int a = judge(rt);
        if (a <= 0)
            return a == 0 ? len : 0;
    } else if (rt->fd < 0 || rt->discard) {
        return len; /* a body we decided to discard */
    }
    fetch_job *j = rt->j;
    if (rt->p->bucket.rate > 0 && !bucket_open(&rt->p->bucket, now_ms())) {
        rt->paused = 1;
        rt->p->paused++;
        return CURL_WRITEFUNC_PAUSE; /* offered again on unpause */
    }
    bucket_take(&rt->p->bucket, len);
    if (rt->written + (int64_t)len > j->limit) {
        rt->stop = FETCH_BIG; /* no length given, and it keeps coming */
        return 0;
    }
    if (output_write(rt->fd, data, len, rt->written, &j->err)) {
        rt->stop = FETCH_FAILED;
        return 0;
    }
    if (rt->hash)
        checksum_update(rt->hash, data, len);
    rt->written += (int64_t)len;
    j->bytes += (int64_t)len;
    return len;
}

/* (Re)issue the request for rt->cur. */
static sg_code issue(fetch_pool *p, struct fetch_rt *rt)
{
    fetch_job *j = rt->j;
    char inm[512], ims[256];
    struct curl_slist *t;
    curl_slist_free_all(rt->hdrs);
    rt->hdrs = NULL;
    curl_easy_reset(rt->h);
    resp_cleanup(&rt->r);
    rt->accepted = 0;
    rt->discard = 0;
    rt->fd = -1;
    rt->written = 0;
    rt->total = -1;
    rt->stop = FETCH_RUNNING;
    rt->errbuf[0] = '\0';
    (void)snprintf(inm, sizeof inm, "If-None-Match: %s",
                   j->if_none_match ? j->if_none_match : "");
    (void)snprintf(ims, sizeof ims, "If-Modified-Since: %s",
                   j->if_modified_since ? j->if_modified_since : "");
    http_conf hop = p->hc;
    if (!rt->same)
        hop.userpwd = NULL; /* credentials stay with their origin */
    if (http_setup(rt->h, &hop, &rt->r) ||
        http_headers(&p->hc, rt->same, j->if_none_match ? inm : NULL,
                     &rt->hdrs))
        return SG_ENOMEM;
    if (j->if_modified_since) {
        if (!(t = curl_slist_append(rt->hdrs, ims)))
            return SG_ENOMEM;
        rt->hdrs = t;
    }
    (void)curl_easy_setopt(rt->h, CURLOPT_URL, rt->cur);
    (void)curl_easy_setopt(rt->h, CURLOPT_FOLLOWLOCATION, 0L);
    (void)curl_easy_setopt(rt->h, CURLOPT_HTTPHEADER, rt->hdrs);
    (void)curl_easy_setopt(rt->h, CURLOPT_PRIVATE, rt);
    (void)curl_easy_setopt(rt->h, CURLOPT_WRITEFUNCTION, on_write);
    (void)curl_easy_setopt(rt->h, CURLOPT_WRITEDATA, rt);
    (void)curl_easy_setopt(rt->h, CURLOPT_ERRORBUFFER, rt->errbuf);
    (void)curl_easy_setopt(rt->h, CURLOPT_BUFFERSIZE, RECV_BUFFER);
    (void)curl_easy_setopt(rt->h, CURLOPT_RANGE, rt->range);
    if (curl_multi_add_handle(p->m, rt->h) != CURLM_OK)
        return SG_ENOMEM;
    return SG_OK;
}

sg_code fetch_start(fetch_pool *p, fetch_job *j, sg_err *e)
{
    j->verdict = FETCH_RUNNING;
    j->size = -1;
    j->prefix = 0;
    j->bytes = 0;
    j->etag = j->last_modified = NULL;
    j->err = (sg_err){0};
    struct fetch_rt *rt = calloc(1, sizeof *rt);
    if (!rt || !(rt->h = curl_easy_init()) || !(rt->cur = strdup(j->url))) {
        if (rt)
            curl_easy_cleanup(rt->h);
        free(rt);
        return err_set(e, SG_ENOMEM, "out of memory");
    }
    rt->j = j;
    rt->p = p;
    rt->same = 1;
    (void)snprintf(rt->range, sizeof rt->range, "0-%lld",
                   (long long)(j->limit - 1));
    rt->fd = -1;
    resp_init(&rt->r);
    j->rt = rt;
    rt->peer = p->all;
    p->all = rt;
    p->running++;
    if (issue(p, rt)) {
        /* Reported as the job's own failure by the next fetch_step. */
        fail(rt, SG_ENOMEM, "out of memory");
        rt->not_before = 0;
        rt->next = p->waiting;
        p->waiting = rt;
    }
    return SG_OK;
}

static void release(struct fetch_rt *rt)
{
    curl_easy_cleanup(rt->h);
    curl_slist_free_all(rt->hdrs);
    resp_cleanup(&rt->r);
    checksum_drop(rt->hash);
    free(rt->cur);
    free(rt);
}

/* Give the job its verdict and hand it back through the ready list. */
static void verdict(fetch_pool *p, struct fetch_rt *rt, fetch_verdict v)
{
    fetch_job *j = rt->j;
    (void)curl_multi_remove_handle(p->m, rt->h);
    j->verdict = v;
    if (v == FETCH_DONE || v == FETCH_UNCHANGED || j->prefix > 0) {
        const resp *r = &rt->r;
        j->size = j->prefix > 0 ? rt->total : rt->written;
        if (!r->conflict && ((r->etag && !(j->etag = strdup(r->etag))) ||
                             (r->last_modified &&
                              !(j->last_modified =
                                    strdup(r->last_modified))))) {
            j->verdict = FETCH_FAILED;
            err_set(&j->err, SG_ENOMEM, "out of memory");
        }
    }
    if (p->nready == p->cap) {
        int nc = p->cap ? p->cap * 2 : 16;
        fetch_job **v2 = realloc(p->ready, (size_t)nc * sizeof *v2);
        if (!v2) {
            /* Cannot report it: keep it for the next call. */
            rt->not_before = now_ms() + 100;
            rt->next = p->waiting;
            p->waiting = rt;
            j->verdict = FETCH_RUNNING;
            return;
        }
        p->ready = v2;
        p->cap = nc;
    }
    j->rt = NULL;
    for (struct fetch_rt **pp = &p->all; *pp; pp = &(*pp)->peer)
        if (*pp == rt) {
            *pp = rt->peer;
            break;
        }
    release(rt);
    p->ready[p->nready++] = j;
    p->running--;
}

/* Try again after a backoff, from the original URL. */
static void retry(fetch_pool *p, struct fetch_rt *rt, int64_t retry_after)
{
    (void)curl_multi_remove_handle(p->m, rt->h);
    rt->not_before = now_ms() + probe_backoff_ms(rt->tries, retry_after);
    rt->next = p->waiting;
    p->waiting = rt;
}

static void settle(fetch_pool *p, struct fetch_rt *rt, CURLcode cc)
{
    fetch_job *j = rt->j;
    const resp *r = &rt->r;
    if (rt->stop != FETCH_RUNNING) {
        verdict(p, rt, rt->stop);
        return;
    }
    if (cc != CURLE_OK) {
        if (http_retryable(cc) && ++rt->tries < p->c->max_tries) {
            retry(p, rt, -1);
            return;
        }
        http_fail(cc, rt->errbuf, j->shown, &j->err);
        verdict(p, rt, FETCH_FAILED);
        return;
    }
    char *loc = NULL;
    if (r->status >= 300 && r->status < 400 && r->status != 304 &&
        curl_easy_getinfo(rt->h, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK &&
        loc) {
        if (++rt->hops > MAX_HOPS) {
            fail(rt, SG_EPROTO, "too many redirects");
        } else if (!http_scheme_ok(loc)) {
            fail(rt, SG_EUNSAFE, "redirect to a URL that is not http or https");
        } else {
            char *next = strdup(loc);
            if (next) {
                rt->same = rt->same && http_same_origin(j->url, next);
                free(rt->cur);
                rt->cur = next;
                (void)curl_multi_remove_handle(p->m, rt->h);
                if (issue(p, rt) == SG_OK)
                    return;
            }
            fail(rt, SG_ENOMEM, "out of memory");
        }
        verdict(p, rt, FETCH_FAILED);
        return;
    }
    if (r->status == 304 && (j->if_none_match || j->if_modified_since)) {
        verdict(p, rt, FETCH_UNCHANGED);
        return;
    }
    if (transient(r->status)) {
        if (++rt->tries < p->c->max_tries) {
            retry(p, rt, r->retry_after);
            return;
        }
        fail(rt, SG_EHTTP, "HTTP %d", r->status);
        verdict(p, rt, FETCH_FAILED);
        return;
    }
    if (!rt->accepted && judge(rt) < 0) {
        verdict(p, rt, rt->stop);
        return;
    }
    if (!success(r->status) && r->status != 206 && r->status != 416) {
        /* A 3xx without a location, a bare 304. */
        fail(rt, SG_EHTTP, "HTTP %d", r->status);
        verdict(p, rt, FETCH_FAILED);
        return;
    }
    if (!rt->discard && r->length >= 0 && rt->written != r->length) {
        fail(rt, SG_EPROTO, "body length differs from Content-Length");
        verdict(p, rt, FETCH_FAILED);
        return;
    }
    if (rt->total > rt->written) {
        /* The first bytes of a large file: its download goes on. */
        j->prefix = rt->written;
        verdict(p, rt, FETCH_BIG);
        return;
    }
    if (rt->hash) {
        checksum_hash *h = rt->hash;
        rt->hash = NULL;
        if (checksum_end(h, j->sum, &j->err)) {
            verdict(p, rt, FETCH_FAILED);
            return;
        }
    }
    verdict(p, rt, FETCH_DONE);
}

/* Reissue waiting jobs whose time has come; the earliest other wake-up
 * time goes to *wake. */
static void wake_waiting(fetch_pool *p, int64_t now, int64_t *wake)
{
    struct fetch_rt **pp = &p->waiting;
    while (*pp) {
        struct fetch_rt *rt = *pp;
        if (rt->not_before > now) {
            if (rt->not_before < *wake)
                *wake = rt->not_before;
            pp = &rt->next;
            continue;
        }
        *pp = rt->next;
        rt->next = NULL;
        if (rt->stop != FETCH_RUNNING) {
            verdict(p, rt, rt->stop);
            continue;
        }
        /* A retry starts over at the URL the user gave. */
        char *first = strdup(rt->j->url);
        if (first) {
            free(rt->cur);
            rt->cur = first;
            rt->same = 1;
            rt->hops = 0;
        }
        if (!first || issue(p, rt)) {
            fail(rt, SG_ENOMEM, "out of memory");
            verdict(p, rt, FETCH_FAILED);
        }
    }
}

static void harvest(fetch_pool *p)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(p->m, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct fetch_rt *rt = NULL;
        (void)curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &rt);
        if (rt)
            settle(p, rt, msg->data.result);
    }
}

/* Let paused transfers go on when the bucket allows; the time of the next
 * chance goes to *wake. */
static void unpause(fetch_pool *p, int64_t now, int64_t *wake)
{
    if (!p->paused)
        return;
    if (!bucket_open(&p->bucket, now)) {
        if (now + bucket_wait_ms(&p->bucket) < *wake)
            *wake = now + bucket_wait_ms(&p->bucket);
        return;
    }
    for (struct fetch_rt *rt = p->all; rt; rt = rt->peer)
        if (rt->paused) {
            rt->paused = 0;
            p->paused--;
            (void)curl_easy_pause(rt->h, CURLPAUSE_CONT);
        }
}

void fetch_set_rate(fetch_pool *p, double rate)
{
    p->bucket.rate = rate;
}

int fetch_step(fetch_pool *p, long timeout_ms, fetch_job **done, int max)
{
    int still;
    if (!*p->c->cancel) {
        int64_t now = now_ms(), wake = now + timeout_ms;
        wake_waiting(p, now, &wake);
        unpause(p, now, &wake);
        (void)curl_multi_perform(p->m, &still);
        harvest(p);
        if (p->nready == 0 && !*p->c->cancel) {
            /* Transfers paused by the rate limit wake up with it. */
            int64_t t = now_ms() + bucket_wait_ms(&p->bucket);
            if (p->paused && t < wake)
                wake = t;
            long ms = (long)(wake - now_ms());
            (void)curl_multi_poll(p->m, NULL, 0, ms > 0 ? (int)ms : 0, NULL);
            (void)curl_multi_perform(p->m, &still);
            harvest(p);
        }
    }
    int n = p->nready < max ? p->nready : max;
    if (n == 0)
        return 0;
    memcpy(done, p->ready, (size_t)n * sizeof *done);
    memmove(p->ready, p->ready + n, (size_t)(p->nready - n) * sizeof *done);
    p->nready -= n;
    return n;
}

void fetch_wakeup(fetch_pool *p)
{
    (void)curl_multi_wakeup(p->m);
}

int fetch_running(const fetch_pool *p)
{
    return p->running;
}

void fetch_pool_free(fetch_pool *p)
{
    if (!p)
        return;
    while (p->all) {
        struct fetch_rt *rt = p->all;
        p->all = rt->peer;
        (void)curl_multi_remove_handle(p->m, rt->h);
        rt->j->rt = NULL;
        release(rt);
    }
    free(p->ready);
    curl_multi_cleanup(p->m);
    free(p);
}

void fetch_job_cleanup(fetch_job *j)
{
    free(j->etag);
    free(j->last_modified);
    j->etag = j->last_modified = NULL;
    err_reset(&j->err);
}
