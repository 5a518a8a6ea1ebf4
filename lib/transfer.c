/* SPDX-License-Identifier: MIT */
/*
 * transfer.c - the multi loop: one CURLM, one easy handle per connection,
 * each reached again through CURLOPT_PRIVATE.
 *
 * A connection (struct conn) works on one segment at a time and asks for
 * [done, end) of it.  Its response is checked once, before the first body
 * byte is written (check()); the write callback then pwrites at the
 * segment's done offset and advances it.  The segment's end may shrink
 * while the request runs (another connection took the back half), so the
 * write callback clamps to the current end and stops the request there.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "plan.h"
#include "probe.h"
#include "rate.h"
#include "transfer.h"
#include "util.h"

/* libcurl's receive buffers share a fixed budget: a few large callbacks
 * per megabyte with few connections (less CPU), small buffers with many
 * (buffers do not grow with -n).  Measured on loopback, 256 MiB: peak RSS
 * 13.5-14 MB at N=8 (256 KiB each), about 15 MB at N=64 (32 KiB each). */
#define RECV_BUDGET (2L * 1024 * 1024)
#define RECV_MIN (32L * 1024)
#define RECV_MAX (256L * 1024)
#define PROGRESS_MS 200
#define SLOW_AGE_MS 1000    /* a request is judged after this long */
#define SLOW_FACTOR 3.0     /* "slow": under the peers' median / this */
#define REPLACE_PER_CONN 4  /* replacement budget per connection */
#define STEAL_MIN (64 * 1024) /* never split off less than this */
#define STEAL_KEEP (64 * 1024) /* the owner keeps at least this */
#define STEAL_WORTH 0.3     /* seconds of work left that justify a split */

enum outcome { OUT_NONE, OUT_RETRY, OUT_FATAL, OUT_STOP };
enum { CHK_OK, CHK_RETRY, CHK_FATAL };

struct xfer;

struct conn {
    CURL *h;
    struct xfer *x;
    int src; /* -1: the URL, else the mirror it fetches from */
    int paused; /* held back by the rate limit */
    int seg; /* index in segs, -1 when idle */
    int64_t req_start, req_end;
    int64_t got; /* body bytes written by this request */
    int checked;
    enum outcome outcome;
    int fresh;       /* the next request must open a new connection */
    int64_t t_start; /* request start, ms */
    rate_meter meter; /* meter.rate: bytes/s, < 0 unknown */
    resp r;
    char range[48];
    char errbuf[CURL_ERROR_SIZE];
};

struct segrt {
    int tries;      /* consecutive failed requests */
    int64_t next_at; /* not before this time (backoff) */
    int conn;       /* index of the connection fetching it, -1 */
};

struct xfer {
    const xfer_conf *c;
    CURLM *m;
    sg_segment *segs;
    int *n;
    int cap;
    struct segrt *rt;
    struct conn *conns;
    int nconns;
    int active;
    struct curl_slist *hdrs;
    struct curl_slist **mhdrs; /* per mirror: If-Range only */
    int replaced; /* slow connections replaced so far */
    int64_t last_adapt; /* when adapt() last ran */
    int stopped; /* a verdict other than "keep going" was reached */
    rate_bucket bucket; /* --limit-rate */
    int paused;         /* connections held back by it */
    xfer_verdict verdict;
    sg_code rc;
    sg_err *e;
    int64_t since_ckpt;
    int64_t written; /* body bytes written this run */
};

static void stop(struct xfer *x, xfer_verdict v, sg_code rc)
{
    if (!x->stopped) {
        x->stopped = 1;
        x->verdict = v;
        x->rc = rc;
    }
}


static int transient(int status)
{
    return status >= 500 || status == 429 || status == 408;
}

/* Is the response on k the same resource the plan was made from (by the
 * validators of k's server)? */
static int same_resource(const struct conn *k, const resp *r)
{
    const xfer_conf *c = k->x->c;
    const char *etag = k->src < 0 ? c->etag : c->mirrors[k->src].etag;
    const char *lm = k->src < 0 ? c->last_modified
                                : c->mirrors[k->src].last_modified;
    return !resp_validator_differs(etag, r->etag) &&
           !resp_validator_differs(lm, r->last_modified);
}

/* Decide whether the response on k may write its body at req_start. */
static int check(struct conn *k)
{
    struct xfer *x = k->x;
    const xfer_conf *c = x->c;
    const resp *r = &k->r;
    long long a = (long long)(k->req_start + c->base),
              b = (long long)(k->req_end + c->base) - 1;

    if (r->conflict) {
        err_set(x->e, SG_EPROTO, "%s: conflicting header values", c->shown);
        stop(x, XFER_FAILED, SG_EPROTO);
        return CHK_FATAL;
    }
    if (r->status >= 200 && r->status < 300 && !same_resource(k, r)) {
        err_set(x->e, SG_ECHANGED, "%s: the remote file changed", c->shown);
        stop(x, XFER_CHANGED, SG_ECHANGED);
        return CHK_FATAL;
    }
    if (c->ranges && r->status == 206) {
        if (r->encoded) {
            err_set(x->e, SG_EPROTO,
                    "%s: a range arrived with a Content-Encoding", c->shown);
            stop(x, XFER_FAILED, SG_EPROTO);
            return CHK_FATAL;
        }
        if (!r->has_range || r->bad_range) {
            err_set(x->e, SG_EPROTO, "%s: 206 without a valid Content-Range",
                    c->shown);
            stop(x, XFER_FAILED, SG_EPROTO);
            return CHK_FATAL;
        }
        if (r->range.total != c->total) {
            err_set(x->e, SG_ECHANGED,
                    "%s: size is now %lld bytes, was %lld", c->shown,
                    (long long)r->range.total, (long long)c->total);
            stop(x, r->range.total < 0 ? XFER_FAILED : XFER_RESIZED,
                 r->range.total < 0 ? SG_EPROTO : SG_ECHANGED);
            return CHK_FATAL;
        }
        if (r->range.first != a || r->range.last != b ||
            (r->length >= 0 && r->length != b - a + 1)) {
            err_set(x->e, SG_EPROTO, "%s: asked for bytes %lld-%lld, got %lld-%lld",
                    c->shown, a, b, (long long)r->range.first,
                    (long long)r->range.last);
            stop(x, XFER_FAILED, SG_EPROTO);
            return CHK_FATAL;
        }
        return CHK_OK;
    }
    if (r->status >= 200 && r->status < 300 && r->status != 206 &&
        c->total >= 0 && r->length >= 0 && r->length != c->total &&
        (c->etag || c->last_modified) && !r->etag && !r->last_modified) {
        /* Neither the size nor a validator of what was described: an
         * error page or a portal, not the resource.  Never saved. */
        err_set(x->e, SG_EPROTO,
                "%s: the server answered %d with %lld bytes%s%s instead of "
                "the %lld bytes it described",
                c->shown, r->status, (long long)r->length,
                r->content_type ? " of " : "",
                r->content_type ? r->content_type : "", (long long)c->total);
        stop(x, XFER_FAILED, SG_EPROTO);
        return CHK_FATAL;
    }
    if (r->status >= 200 && r->status < 300 && r->status != 206) {
        int whole = c->base == 0 && c->size == c->total &&
                    k->req_start == 0 && k->req_end == c->size;
        if (c->ranges && !whole) {
            /* A 200 is the whole body: never bytes for this offset. */
            err_set(x->e, SG_EPROTO, "%s: the server ignored a range request",
                    c->shown);
            stop(x, XFER_NORANGES, SG_EPROTO);
            return CHK_FATAL;
        }
        if (c->total >= 0 && r->length >= 0 && r->length != c->total) {
            err_set(x->e, SG_ECHANGED, "%s: size is now %lld bytes, was %lld",
                    c->shown, (long long)r->length, (long long)c->total);
            stop(x, XFER_RESIZED, SG_ECHANGED);
            return CHK_FATAL;
        }
        return CHK_OK;
    }
    if (r->status >= 300 && r->status < 400) {
        err_set(x->e, SG_ECHANGED, "%s: now redirects elsewhere", c->shown);
        stop(x, XFER_CHANGED, SG_ECHANGED);
        return CHK_FATAL;
    }
    if (r->status == 416) {
        err_set(x->e, SG_ECHANGED,
                "%s: range %lld-%lld no longer exists", c->shown, a, b);
        stop(x, XFER_RESIZED, SG_ECHANGED);
        return CHK_FATAL;
    }
    if (transient(r->status) || r->status == 0)
        return CHK_RETRY;
    err_set(x->e, SG_EHTTP, "%s: HTTP %d", c->shown, r->status);
    stop(x, XFER_FAILED, r->status == 206 ? SG_EPROTO : SG_EHTTP);
    return CHK_FATAL;
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud)
{
    struct conn *k = ud;
    struct xfer *x = k->x;
    size_t len = size * nmemb;
    if (!k->checked) {
        int v = check(k);
        if (v != CHK_OK) {
            k->outcome = v == CHK_RETRY ? OUT_RETRY : OUT_FATAL;
            return 0;
        }
        k->checked = 1;
    }
    /* Without a limit this is one comparison per callback. */
    if (x->bucket.rate > 0 && !bucket_open(&x->bucket, now_ms())) {
        /* libcurl keeps these bytes and offers them again on unpause. */
        k->paused = 1;
        x->paused++;
        return CURL_WRITEFUNC_PAUSE;
    }
    bucket_take(&x->bucket, len);
    sg_segment *s = &x->segs[k->seg];
    int64_t room = s->end - s->done;
    size_t n = (int64_t)len > room ? (size_t)room : len;
    if (n) {
        if (x->c->hash && s->done == *x->c->hashed) {
            checksum_update(x->c->hash, p, n);
            *x->c->hashed += (int64_t)n;
        } else if (x->c->hash && s->done < *x->c->hashed) {
            *x->c->hashed = -1; /* bytes hashed are rewritten: re-read */
        }
        if (output_write(x->c->fd, p, n, s->done, x->e) != SG_OK) {
            stop(x, XFER_FAILED, SG_EIO);
            k->outcome = OUT_FATAL;
            return 0;
        }
        s->done += (int64_t)n;
        k->got += (int64_t)n;
        x->written += (int64_t)n;
        x->since_ckpt += (int64_t)n;
    }
    if (n < len) {
        if (s->end < k->req_end) { /* our end was given away: stop here */
            k->outcome = OUT_STOP;
            return 0;
        }
        err_set(x->e, SG_EPROTO, "%s: more bytes than bytes %lld-%lld",
                x->c->shown, (long long)k->req_start,
                (long long)k->req_end - 1);
        /* The response proved malformed after some of it was written:
         * claim none of it (the final checkpoint records the rollback). */
        s->done = k->req_start;
        stop(x, XFER_FAILED, SG_EPROTO);
        k->outcome = OUT_FATAL;
        return 0;
    }
    return len;
}

/* Point k at its server: the URL (src -1) or a mirror, with that
 * server's headers, and credentials only for the URL's own origin. */
static void conn_use(struct xfer *x, struct conn *k, int src)
{
    const xfer_conf *c = x->c;
    k->src = src;
    (void)curl_easy_setopt(k->h, CURLOPT_URL,
                           src < 0 ? c->url : c->mirrors[src].url);
    (void)curl_easy_setopt(k->h, CURLOPT_HTTPHEADER,
                           src < 0 ? x->hdrs : x->mhdrs[src]);
    (void)curl_easy_setopt(k->h, CURLOPT_USERPWD,
                           src < 0 ? c->http.userpwd : NULL);
}

static sg_code conn_init(struct xfer *x, struct conn *k)
{
    k->x = x;
    k->seg = -1;
    resp_init(&k->r);
    k->h = curl_easy_init();
    if (!k->h || http_setup(k->h, &x->c->http, &k->r) != SG_OK)
        return err_set(x->e, SG_ENOMEM, "out of memory");
    CURLcode cc = CURLE_OK;
#define SET(opt, val)                                                         \
    do {                                                                      \
        if (cc == CURLE_OK)                                                   \
            cc = curl_easy_setopt(k->h, opt, val);                            \
    } while (0)
    SET(CURLOPT_PRIVATE, k);
    SET(CURLOPT_WRITEFUNCTION, on_write);
    SET(CURLOPT_WRITEDATA, k);
    SET(CURLOPT_ERRORBUFFER, k->errbuf);
    long buf = RECV_BUDGET / x->nconns;
    SET(CURLOPT_BUFFERSIZE, buf < RECV_MIN ? RECV_MIN
                            : buf > RECV_MAX ? RECV_MAX : buf);
    /* libcurl would carry the user's headers along a redirect to any
     * host; with them, a redirect is a change of plan instead (check()). */
    if (x->c->http.nheaders)
        SET(CURLOPT_FOLLOWLOCATION, 0L);
#undef SET
    /* Connections take turns: the URL, then each mirror. */
    int i = (int)(k - x->conns);
    conn_use(x, k, i % (x->c->nmirrors + 1) - 1);
    return cc == CURLE_OK ? SG_OK
                          : err_set(x->e, SG_ENOMEM, "cannot set up a handle");
}

static sg_code conn_start(struct xfer *x, struct conn *k, int seg)
{
    sg_segment *s = &x->segs[seg];
    if (!x->c->ranges)
        s->done = s->start; /* without ranges a stream starts at 0 */
    resp_cleanup(&k->r);
    k->checked = 0;
    k->outcome = OUT_NONE;
    k->got = 0;
    k->errbuf[0] = '\0';
    k->seg = seg;
    k->req_start = s->done;
    k->req_end = s->end;
    const char *range = NULL;
    if (x->c->ranges) {
        (void)snprintf(k->range, sizeof k->range, "%lld-%lld",
                       (long long)(s->done + x->c->base),
                       (long long)(s->end + x->c->base) - 1);
        range = k->range;
    }
    (void)curl_easy_setopt(k->h, CURLOPT_RANGE, range);
    (void)curl_easy_setopt(k->h, CURLOPT_FRESH_CONNECT, k->fresh ? 1L : 0L);
    k->fresh = 0;
    k->t_start = now_ms();
    rate_start(&k->meter, k->t_start);
    if (curl_multi_add_handle(x->m, k->h) != CURLM_OK)
        return err_set(x->e, SG_ENOMEM, "cannot start a transfer");
    s->active = 1;
    x->rt[seg].conn = (int)(k - x->conns);
    x->active++;
    return SG_OK;
}

/* Median rate of the measured active connections other than skip; -1
 * when fewer than min_peers are measured. */
static double median_rate(const struct xfer *x, const struct conn *skip,
                          int min_peers)
{
    double v[64];
    int m = 0;
    for (int i = 0; i < x->nconns && m < 64; i++) {
        const struct conn *k = &x->conns[i];
        if (k != skip && k->seg >= 0 && k->meter.rate >= 0)
            v[m++] = k->meter.rate;
    }
    if (m < min_peers)
        return -1;
    return rate_median(v, m);
}

/* The rate to expect of segment i's connection: its own when measured,
 * else its peers'. */
static double seg_rate(const struct xfer *x, int i, double med)
{
    int c = x->rt[i].conn;
    if (c >= 0 && x->conns[c].meter.rate > 0)
        return x->conns[c].meter.rate;
    return med;
}

/* Split off part of the active segment with the most time left for a new
 * connection expected to run at the peers' median rate.  Returns the new
 * segment's index or -1. */
static int steal(struct xfer *x)
{
    double med = median_rate(x, NULL, 1);
    int best = -1;
    double best_t = STEAL_WORTH;
    for (int i = 0; i < *x->n; i++) {
        sg_segment *s = &x->segs[i];
        if (!s->active || s->end - s->done < STEAL_KEEP + STEAL_MIN)
            continue;
        double r = seg_rate(x, i, med);
        /* Rates unknown yet: judge by bytes, as if 1 MB/s. */
        double t = (double)(s->end - s->done) / (r > 0 ? r : 1e6);
        if (t > best_t) {
            best = i;
            best_t = t;
        }
    }
    if (best < 0)
        return -1;
    sg_segment *s = &x->segs[best];
    double r1 = seg_rate(x, best, med), r2 = med;
    if (r1 <= 0 || r2 <= 0)
        r1 = r2 = 1; /* nothing known: halve */
    int64_t left = s->end - s->done;
    int64_t keep = (int64_t)((double)left * (r1 / (r1 + r2)));
    if (keep < STEAL_KEEP)
        keep = STEAL_KEEP;
    if (left - keep < STEAL_MIN)
        return -1;
    return plan_split_at(x->segs, x->n, x->cap, best, s->done + keep);
}

/* A segment for an idle connection: an unfinished one nobody fetches, or
 * a part of the one with the most time left.  -1 when none. */
static int pick(struct xfer *x, int64_t now, int64_t *wake)
{
    int waiting = 0;
    for (int i = 0; i < *x->n; i++) {
        sg_segment *s = &x->segs[i];
        if (s->active || s->done >= s->end)
            continue;
        if (x->rt[i].next_at <= now)
            return i;
        waiting = 1;
        if (x->rt[i].next_at < *wake)
            *wake = x->rt[i].next_at;
    }
    if (!x->c->ranges || waiting)
        return -1;
    int i = steal(x);
    if (i >= 0)
        x->rt[i] = (struct segrt){0, 0, -1};
    return i;
}

/* Stop k's request on purpose and put its segment back, so a new
 * connection picks it up where it got to. */
static void drop(struct xfer *x, struct conn *k)
{
    (void)curl_multi_remove_handle(x->m, k->h);
    x->segs[k->seg].active = 0;
    x->rt[k->seg].conn = -1;
    k->seg = -1;
    k->fresh = 1;
    x->active--;
}

/* The server (-1: the URL, else a mirror) of the fastest measured
 * connection at work: where a replaced connection goes. */
static int fastest_source(const struct xfer *x)
{
    int best = -1;
    double rate = -1;
    for (int i = 0; i < x->nconns; i++) {
        const struct conn *k = &x->conns[i];
        if (k->seg >= 0 && k->meter.rate > rate) {
            rate = k->meter.rate;
            best = k->src;
        }
    }
    return best;
}

/* Sample every connection and replace those far slower than their
 * peers. */
static void adapt(struct xfer *x, int64_t now)
{
    /* Rates change only when sampled: keep the loop cheap in between. */
    if (now - x->last_adapt < RATE_SAMPLE_MS)
        return;
    x->last_adapt = now;
    for (int i = 0; i < x->nconns; i++)
        if (x->conns[i].seg >= 0)
            (void)rate_sample(&x->conns[i].meter, now, x->conns[i].got);
    /* Under a rate limit every connection is held back on purpose. */
    if (!x->c->ranges || x->bucket.rate > 0)
        return;
    for (int i = 0; i < x->nconns; i++) {
        struct conn *k = &x->conns[i];
        if (x->replaced >= x->nconns * REPLACE_PER_CONN)
            return;
        double r = k->meter.rate;
        if (k->seg < 0 || r < 0 || now - k->t_start < SLOW_AGE_MS)
            continue;
        double med = median_rate(x, k, 2);
        if (med <= 0 || r * SLOW_FACTOR >= med)
            continue;
        sg_segment *s = &x->segs[k->seg];
        if ((double)(s->end - s->done) < (r > 1 ? r : 1))
            continue; /* under a second left: let it finish */
        drop(x, k);
        x->replaced++;
        if (x->c->nmirrors)
            conn_use(x, k, fastest_source(x));
    }
}

static void retry(struct xfer *x, struct conn *k, int seg, const char *why)
{
    struct segrt *rt = &x->rt[seg];
    sg_segment *s = &x->segs[seg];
    rt->tries = k->got > 0 ? 1 : rt->tries + 1;
    if (rt->tries >= x->c->max_tries) {
        int http = k->r.status >= 400;
        err_set(x->e, http ? SG_EHTTP : SG_ENETWORK,
                "%s: giving up on bytes %lld-%lld after %d tries: %s",
                x->c->shown, (long long)s->done, (long long)s->end - 1,
                rt->tries, why);
        stop(x, XFER_FAILED, http ? SG_EHTTP : SG_ENETWORK);
        return;
    }
    long ms = probe_backoff_ms(rt->tries, k->r.retry_after);
    rt->next_at = now_ms() + ms;
    notify(x->c->notice, x->c->userdata, "retrying bytes %lld-%lld in %.1fs: %s", (long long)s->done,
           (long long)s->end - 1, ms / 1000.0, why);
}

static void finish(struct xfer *x, struct conn *k, CURLcode cc)
{
    (void)curl_multi_remove_handle(x->m, k->h);
    int seg = k->seg;
    sg_segment *s = &x->segs[seg];
    s->active = 0;
    x->rt[seg].conn = -1;
    k->seg = -1;
    x->active--;
    if (k->outcome == OUT_FATAL || x->stopped)
        return;
    if (cc == CURLE_OK && !k->checked) {
        /* A response without a body byte: judge it now. */
        int v = check(k);
        if (v == CHK_FATAL)
            return;
        if (v == CHK_RETRY) {
            char why[32];
            (void)snprintf(why, sizeof why, "HTTP %d", k->r.status);
            retry(x, k, seg, why);
            return;
        }
    }
    if (cc == CURLE_OK && x->c->size < 0 && !x->c->ranges) {
        s->end = s->done; /* unknown length: the stream ended cleanly */
        return;
    }
    if (k->outcome == OUT_STOP || (cc == CURLE_OK && s->done >= s->end)) {
        x->rt[seg].tries = 0;
        return;
    }
    if (k->outcome == OUT_RETRY) {
        char why[32];
        (void)snprintf(why, sizeof why, "HTTP %d", k->r.status);
        retry(x, k, seg, why);
    } else if (cc == CURLE_OK) {
        retry(x, k, seg, "the body ended early");
    } else if (http_retryable(cc)) {
        retry(x, k, seg, k->errbuf[0] ? k->errbuf : curl_easy_strerror(cc));
    } else {
        stop(x, XFER_FAILED, http_fail(cc, k->errbuf, x->c->shown, x->e));
    }
}

struct meter {
    int64_t start, last_sample, last_report, sample_bytes;
    double rate;
};

static void report_state(struct xfer *x, struct meter *mt, int64_t now,
                         int force, sg_state state)
{
    if (!x->c->progress || (!force && now - mt->last_report < PROGRESS_MS))
        return;
    if (now - mt->last_sample >= 500) {
        double inst = (double)(x->written - mt->sample_bytes) * 1000.0 /
                      (double)(now - mt->last_sample);
        mt->rate = mt->rate == 0 ? inst : 0.6 * mt->rate + 0.4 * inst;
        mt->last_sample = now;
        mt->sample_bytes = x->written;
    }
    mt->last_report = now;
    sg_progress p = {
        .state = state,
        .total = x->c->size,
        .received = plan_written(x->segs, *x->n),
        .resumed = x->c->resumed,
        .durable = x->c->ck ? ckpt_durable(x->c->ck) : 0,
        .rate = mt->rate,
        .elapsed = (double)(now - mt->start) / 1000.0,
        .connections = x->active,
        .nsegments = *x->n,
        .segments = x->segs,
        .etag = x->c->etag,
        .last_modified = x->c->last_modified,
    };
    x->c->progress(&p, x->c->userdata);
}

static void report(struct xfer *x, struct meter *mt, int64_t now, int force)
{
    report_state(x, mt, now, force, SG_STATE_DOWNLOADING);
}

static sg_code build_headers(struct xfer *x)
{
    const xfer_conf *c = x->c;
    /* If-Range makes a changed resource answer 200 instead of splicing
     * new bytes into old ones.  Weak tags are never used here. */
    const char *v = c->etag ? c->etag : c->last_modified;
    char *line = c->ranges && v ? str_cat("If-Range: ", v) : NULL;
    if (c->ranges && v && !line)
        return err_set(x->e, SG_ENOMEM, "out of memory");
    sg_code rc = http_headers(&c->http, 1, line, &x->hdrs);
    free(line);
    if (!rc && c->nmirrors &&
        !(x->mhdrs = calloc((size_t)c->nmirrors, sizeof *x->mhdrs)))
        rc = SG_ENOMEM;
    for (int i = 0; !rc && i < c->nmirrors; i++) {
        const xfer_mirror *m = &c->mirrors[i];
        const char *mv = m->etag ? m->etag : m->last_modified;
        char *ml = mv ? str_cat("If-Range: ", mv) : NULL;
        if (mv && !ml)
            rc = SG_ENOMEM;
        else
            rc = http_headers(&c->http, 0, ml, &x->mhdrs[i]);
        free(ml);
    }
    return rc ? err_set(x->e, rc, "out of memory") : SG_OK;
}

/* Paused: stop every request, checkpoint, close the connections (a new
 * multi handle has none), and wait for the pause to end or a cancel. */
static sg_code hold(struct xfer *x, struct meter *mt)
{
    for (int i = 0; i < x->nconns; i++) {
        struct conn *k = &x->conns[i];
        if (k->seg >= 0)
            drop(x, k);
        if (k->paused) {
            k->paused = 0;
            x->paused--;
        }
    }
    if (x->c->ck)
        ckpt_post(x->c->ck, x->segs, *x->n);
    curl_multi_cleanup(x->m);
    if (!(x->m = curl_multi_init()))
        return err_set(x->e, SG_ENOMEM, "out of memory");
    (void)curl_multi_setopt(x->m, CURLMOPT_PIPELINING, CURLPIPE_NOTHING);
    while (*x->c->pause && !*x->c->cancel) {
        report_state(x, mt, now_ms(), 0, SG_STATE_PAUSED);
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    for (int i = 0; i < *x->n; i++)
        x->rt[i].next_at = 0; /* no backoff left from before the pause */
    return SG_OK;
}

sg_code xfer_run(const xfer_conf *c, sg_segment *segs, int *n, int cap,
                 xfer_verdict *verdict, sg_err *e)
{
    struct xfer x = {.c = c, .segs = segs, .n = n, .cap = cap, .e = e};
    bucket_init(&x.bucket, (double)c->max_rate, now_ms());
    sg_code rc = SG_OK;
    x.nconns = c->ranges ? c->connections : 1;
    x.rt = calloc((size_t)cap, sizeof *x.rt);
    x.conns = calloc((size_t)x.nconns, sizeof *x.conns);
    x.m = curl_multi_init();
    if (!x.rt || !x.conns || !x.m) {
        rc = err_set(e, SG_ENOMEM, "out of memory");
        goto out;
    }
    /* Separate TCP connections, never HTTP/2 streams on one: the point is
     * to escape a per-connection limit. */
    (void)curl_multi_setopt(x.m, CURLMOPT_PIPELINING, CURLPIPE_NOTHING);
    if ((rc = build_headers(&x)))
        goto out;
    for (int i = 0; i < x.nconns; i++)
        if ((rc = conn_init(&x, &x.conns[i])))
            goto out;
    for (int i = 0; i < *n; i++) {
        segs[i].active = 0;
        x.rt[i].conn = -1;
    }

    struct meter mt = {0};
    mt.start = mt.last_sample = now_ms();
    int64_t last_ckpt = mt.start;
    for (;;) {
        int64_t now = now_ms(), wake = now + 100;
        if (*c->cancel) {
            stop(&x, XFER_CANCELLED, SG_EINTERRUPTED);
            break;
        }
        if (c->pause && *c->pause && (rc = hold(&x, &mt))) {
            stop(&x, XFER_FAILED, rc);
            break;
        }
        if (c->live_rate) {
            double want = (double)atomic_load(c->live_rate);
            if (want != x.bucket.rate)
                bucket_init(&x.bucket, want, now);
        }
        if (c->ck && ckpt_failed(c->ck)) {
            stop(&x, XFER_FAILED, SG_EIO);
            break;
        }
        for (int i = 0; i < x.nconns && !x.stopped; i++) {
            if (x.conns[i].seg >= 0)
                continue;
            int seg = pick(&x, now, &wake);
            if (seg < 0)
                break;
            if ((rc = conn_start(&x, &x.conns[i], seg))) {
                stop(&x, XFER_FAILED, rc);
                break;
            }
        }
        if (x.stopped)
            break;
        if (x.active == 0 && plan_remaining(segs, *n) == 0) {
            stop(&x, XFER_DONE, SG_OK);
            break;
        }
        int running;
        if (curl_multi_perform(x.m, &running) != CURLM_OK) {
            err_set(e, SG_ENOMEM, "libcurl multi interface failed");
            stop(&x, XFER_FAILED, SG_ENOMEM);
            break;
        }
        CURLMsg *msg;
        int left, finished = 0;
        while ((msg = curl_multi_info_read(x.m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            struct conn *k = NULL;
            (void)curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &k);
            finish(&x, k, msg->data.result);
            finished = 1;
        }
        if (x.stopped)
            break;
        now = now_ms();
        adapt(&x, now);
        if (c->ck && (now - last_ckpt >= c->checkpoint_ms ||
                      x.since_ckpt >= c->checkpoint_bytes)) {
            ckpt_post(c->ck, segs, *n);
            last_ckpt = now;
            x.since_ckpt = 0;
        }
        report(&x, &mt, now, 0);
        /* A finished transfer frees a connection: give it work now rather
         * than after the next wait. */
        long timeout = finished ? 0 : 100;
        if (x.paused && bucket_open(&x.bucket, now)) {
            for (int i = 0; i < x.nconns; i++) {
                struct conn *k = &x.conns[i];
                if (k->paused) {
                    k->paused = 0;
                    x.paused--;
                    (void)curl_easy_pause(k->h, CURLPAUSE_CONT);
                }
            }
        }
        if (x.paused && bucket_wait_ms(&x.bucket) < timeout)
            timeout = bucket_wait_ms(&x.bucket);
        if (x.active == 0 && wake - now < timeout)
            timeout = wake > now ? (long)(wake - now) : 0;
        (void)curl_multi_poll(x.m, NULL, 0, (int)timeout, NULL);
    }
    report(&x, &mt, now_ms(), 1);
    rc = x.rc;
out:
    if (x.conns) {
        for (int i = 0; i < x.nconns; i++) {
            struct conn *k = &x.conns[i];
            if (k->seg >= 0) {
                (void)curl_multi_remove_handle(x.m, k->h);
                segs[k->seg].active = 0;
            }
            if (k->h)
                curl_easy_cleanup(k->h);
            resp_cleanup(&k->r);
        }
    }
    curl_multi_cleanup(x.m);
    curl_slist_free_all(x.hdrs);
    for (int i = 0; x.mhdrs && i < c->nmirrors; i++)
        curl_slist_free_all(x.mhdrs[i]);
    free(x.mhdrs);
    free(x.conns);
    free(x.rt);
    *verdict = rc ? (x.stopped ? x.verdict : XFER_FAILED) : XFER_DONE;
    return rc;
}
