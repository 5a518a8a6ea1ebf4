/* SPDX-License-Identifier: MIT */
/*
 * probe.c - HEAD, then a one-byte range GET when HEAD is not enough.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"
#include "util.h"

/* Jitter that differs between processes (rand() unseeded would give every
 * segget the same sequence, and many retrying clients would stay in step).
 * xorshift64*, seeded per thread from time, pid and the thread's own
 * address, so downloads on different threads neither race nor agree. */
static unsigned long jitter(unsigned long bound)
{
    static _Thread_local uint64_t state;
    if (!state)
        state = ((uint64_t)now_ms() << 20) ^ (uint64_t)getpid() ^
                (uint64_t)(uintptr_t)&state ^ 0x9E3779B97F4A7C15ull;
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return (unsigned long)((state * 0x2545F4914F6CDD1Dull) % bound);
}

long probe_backoff_ms(int tries, int64_t retry_after)
{
    long ms = 500;
    for (int i = 1; i < tries && ms < 30000; i++)
        ms *= 2;
    if (ms > 30000)
        ms = 30000;
    /* Jitter spreads retries of many connections apart. */
    ms = ms / 2 + (long)jitter((unsigned long)(ms / 2 + 1));
    if (retry_after > 300)
        retry_after = 300;
    if (retry_after >= 0 && retry_after * 1000 > ms)
        ms = (long)retry_after * 1000;
    return ms;
}

static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c,
                       curl_off_t d)
{
    (void)a, (void)b, (void)c, (void)d;
    volatile sig_atomic_t *cancel = ud;
    return *cancel ? 1 : 0;
}

/* The range probe needs headers only: stop at the first body byte. */
static size_t on_body(char *p, size_t s, size_t n, void *ud)
{
    (void)p, (void)s, (void)n, (void)ud;
    return 0;
}

/* Wait ms, waking early on cancel.  Returns non-zero when cancelled. */
static int nap(long ms, volatile sig_atomic_t *cancel)
{
    int64_t until = now_ms() + ms;
    while (!*cancel && now_ms() < until) {
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return *cancel != 0;
}

/* One request; *cc and r hold the outcome. */
static sg_code request(CURL *h, const char *url, const http_conf *c, int get,
                       int with_user, volatile sig_atomic_t *cancel, resp *r,
                       char *errbuf, CURLcode *cc)
{
    struct curl_slist *hdrs = NULL;
    http_conf hop = *c;
    if (!with_user)
        hop.userpwd = NULL; /* credentials stay with their origin */
    curl_easy_reset(h);
    resp_cleanup(r);
    if (http_setup(h, &hop, r) != SG_OK ||
        http_headers(c, with_user, NULL, &hdrs) != SG_OK)
        return SG_ENOMEM;
    errbuf[0] = '\0';
    (void)curl_easy_setopt(h, CURLOPT_URL, url);
    (void)curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L); /* see follow() */
    (void)curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    (void)curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    (void)curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    (void)curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    (void)curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)cancel);
    if (get) {
        (void)curl_easy_setopt(h, CURLOPT_RANGE, "0-0");
        (void)curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    } else {
        (void)curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    }
    *cc = curl_easy_perform(h);
    curl_slist_free_all(hdrs);
    /* Our write callback stops a range GET on purpose. */
    if (*cc == CURLE_WRITE_ERROR && get && r->status)
        *cc = CURLE_OK;
    return SG_OK;
}

/* request(), following redirects.  *final receives the URL of the last
 * response (heap) and *same whether it kept the origin of url; the user's
 * headers go only to hops with that origin. */
static sg_code follow(CURL *h, const char *url, const http_conf *c, int get,
                      volatile sig_atomic_t *cancel, resp *r, char *errbuf,
                      CURLcode *cc, char **final, int *same)
{
    char *cur = strdup(url);
    sg_code rc = SG_OK;
    *same = 1;
    for (int hop = 0; cur; hop++) {
        if ((rc = request(h, cur, c, get, *same, cancel, r, errbuf, cc)))
            break;
        char *loc = NULL;
        if (*cc != CURLE_OK || r->status < 300 || r->status > 399 ||
            curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc) != CURLE_OK ||
            !loc)
            break;
        if (hop >= 20) {
            *cc = CURLE_TOO_MANY_REDIRECTS;
            break;
        }
        if (!http_scheme_ok(loc)) {
            *cc = CURLE_UNSUPPORTED_PROTOCOL;
            (void)snprintf(errbuf, CURL_ERROR_SIZE,
                           "redirect to a URL that is not http or https");
            break;
        }
        *same = *same && http_same_origin(url, loc);
        free(cur);
        cur = strdup(loc);
    }
    if (!cur)
        rc = SG_ENOMEM;
    *final = cur;
    return rc;
}

static int dup_into(char **dst, const char *src)
{
    free(*dst);
    *dst = src ? strdup(src) : NULL;
    return src && !*dst ? -1 : 0;
}

/* Copy validators and the URL of the last response. */
static sg_code keep(const char *eff, const resp *r, probe_result *out,
                    sg_err *e)
{
    if (dup_into(&out->effective_url, eff) < 0 ||
        dup_into(&out->etag, r->etag_strong && !r->conflict ? r->etag
                                                            : NULL) < 0 ||
        dup_into(&out->last_modified, r->conflict ? NULL : r->last_modified) <
            0 ||
        dup_into(&out->disposition, r->disposition) < 0)
        return err_set(e, SG_ENOMEM, "out of memory");
    return SG_OK;
}

static int transient(int status)
{
    return status >= 500 || status == 429 || status == 408;
}

sg_code probe_run(const char *url, const char *shown, const http_conf *c,
                  int force_get,
                  int max_tries, volatile sig_atomic_t *cancel,
                  probe_result *out, sg_err *e)
{
    sg_code rc = SG_OK;
    char errbuf[CURL_ERROR_SIZE];
    CURLcode cc;
    resp r;
    resp_init(&r);
    memset(out, 0, sizeof *out);
    out->size = -1;
    char *final = NULL;
    int same = 1;
    CURL *h = curl_easy_init();
    if (!h)
        return err_set(e, SG_ENOMEM, "out of memory");

    if (!force_get) {
        if ((rc = follow(h, url, c, 0, cancel, &r, errbuf, &cc, &final,
                         &same)))
            goto out;
        if (*cancel) {
            rc = SG_EINTERRUPTED;
            goto out;
        }
        if (cc != CURLE_OK && !http_retryable(cc)) {
            /* TLS, a forbidden redirect, a malformed reply: final. */
            rc = http_fail(cc, errbuf, shown, e);
            goto out;
        }
        if (cc == CURLE_OK && r.status >= 200 && r.status < 300 &&
            r.length >= 0 && !r.bad_length && !r.conflict && !r.encoded &&
            r.accept_ranges) {
            out->size = r.length;
            out->ranges = 1;
            out->same_origin = same;
            rc = keep(final, &r, out, e);
            goto out;
        }
        /* Refused, unhelpful or failing: ask with a range GET instead. */
    }

    for (int tries = 1;; tries++) {
        free(final);
        final = NULL;
        if ((rc = follow(h, url, c, 1, cancel, &r, errbuf, &cc, &final,
                         &same)))
            goto out;
        if (*cancel) {
            rc = SG_EINTERRUPTED;
            goto out;
        }
        int again = cc != CURLE_OK ? http_retryable(cc) : transient(r.status);
        if (!again || tries >= max_tries)
            break;
        if (nap(probe_backoff_ms(tries, r.retry_after), cancel)) {
            rc = SG_EINTERRUPTED;
            goto out;
        }
    }
    if (cc != CURLE_OK) {
        rc = http_fail(cc, errbuf, shown, e);
        goto out;
    }
    out->via_get = 1;
    if (r.status == 206) {
        if (r.has_range && !r.conflict && r.range.first == 0 &&
            r.range.last == 0 && r.range.total >= 1 && !r.encoded) {
            out->size = r.range.total;
            out->ranges = 1;
        }
        /* A 206 without a usable Content-Range proves nothing: one stream
         * of unknown length. */
    } else if (r.status >= 200 && r.status < 300) {
        if (r.length >= 0 && !r.bad_length && !r.conflict)
            out->size = r.length;
    } else if (r.status == 416 && r.has_range && r.range.first < 0 &&
               r.range.total == 0) {
        out->size = 0; /* an empty resource has no byte 0 */
        out->ranges = 1;
    } else {
        rc = err_set(e, SG_EHTTP, "%s: HTTP %d", shown, r.status);
        goto out;
    }
    out->same_origin = same;
    rc = keep(final, &r, out, e);
out:
    if (rc == SG_ENOMEM && e->code == SG_OK)
        err_set(e, SG_ENOMEM, "out of memory");
    free(final);
    resp_cleanup(&r);
    curl_easy_cleanup(h);
    if (rc)
        probe_result_cleanup(out);
    return rc;
}

void probe_result_cleanup(probe_result *p)
{
    free(p->effective_url);
    free(p->etag);
    free(p->last_modified);
    free(p->disposition);
    memset(p, 0, sizeof *p);
    p->size = -1;
}
