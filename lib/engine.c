/* SPDX-License-Identifier: MIT */
/*
 * engine.c - the loop of engine.h: one CURLM, an easy handle per running
 * request (reached again through CURLOPT_PRIVATE), the jobs' ticks, the
 * disk pool's completions, and the rate limit.  What happens inside a
 * request (hops, the judge, the body guard) is engine_req.c.
 *
 * The rate limit: every request that receives a body is a flow of it
 * (rate.h), paced by its own bucket.  Its write callback pauses it when
 * its bucket is empty (libcurl then stops reading its socket, and offers
 * the same bytes again on unpause); each turn of the loop refills every
 * flow and lets go on those that may.  libcurl's own per-transfer limit
 * (CURLOPT_MAX_RECV_SPEED_LARGE, set to the share) is not used: 7.88 lets
 * a transfer's first megabytes through unlimited (curl --limit-rate 1M
 * took 0.02 s for 8 MiB from a local nginx, and segget so limited to
 * 8 MiB/s fetched 64 MiB over 8 ranges in 1.0 s), and ranges and a
 * batch's small files would rarely get past that.
 *
 * A request (struct eng_req, the owner's) runs as a transfer (struct
 * eng_xfer, ours): its easy handle is reused for later requests, and
 * libcurl's connection caches reuse the connections.  There are two: the
 * multi handle's, where every request has a connection to itself (one
 * request at a time, HTTP/1.1), and a share handle's, where the sharing
 * requests to https URLs (a batch's small files) may go as HTTP/2 streams
 * side by side.  Two caches, because libcurl (7.88) keeps whether a host
 * multiplexes per host and cache, and each HTTP/1.1 answer says no: in
 * one cache, the ranges of a large file would keep sending small files
 * to new connections.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checksum.h"
#include "engine_int.h"
#include "journal.h"
#include "util.h"


uint64_t eng_random(void)
{
    static _Thread_local uint64_t state;
    if (!state)
        state = ((uint64_t)now_ms() << 20) ^ (uint64_t)getpid() ^
                (uint64_t)(uintptr_t)&state ^ 0x9E3779B97F4A7C15ull;
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545F4914F6CDD1Dull;
}

static void wake_cb(void *ud)
{
    eng_wakeup(ud);
}

const char *sg_version_details(void)
{
    static char text[1024];
    if (text[0])
        return text;
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    char feat[256] = "";
    static const struct {
        int bit;
        const char *name;
    } fs[] = {{CURL_VERSION_HTTP2, "HTTP/2"}, {CURL_VERSION_IPV6, "IPv6"},
              {CURL_VERSION_SSL, "TLS"},      {CURL_VERSION_LIBZ, "zlib"},
              {CURL_VERSION_ASYNCHDNS, "AsynchDNS"},
              {CURL_VERSION_GSSAPI, "GSS-API"}};
    for (size_t i = 0; i < sizeof fs / sizeof *fs; i++)
        if (v->features & fs[i].bit) {
            size_t n = strlen(feat);
            (void)snprintf(feat + n, sizeof feat - n, "%s%s", n ? " " : "",
                           fs[i].name);
        }
    (void)snprintf(text, sizeof text,
                   "libcurl %s (%s%s%s%s%s)\n"
                   "SQLite %s, %s\n"
                   "checksums: md5 sha1 sha256 sha512 crc32 crc32c%s "
                   "crc64nvme\n"
                   "features: %s, Repr-Digest, pipe output, journal",
                   v->version, v->ssl_version ? v->ssl_version : "no TLS",
                   v->libz_version ? ", zlib " : "",
                   v->libz_version ? v->libz_version : "",
                   v->nghttp2_version ? ", nghttp2 " : "",
                   v->nghttp2_version ? v->nghttp2_version : "",
                   journal_sqlite_version(), checksum_library(),
                   checksum_crc32c_has_hw() ? " (SSE4.2)" : "", feat);
    return text;
}

void eng_conf_from(eng_conf *c, const sg_options *o)
{
    *c = (eng_conf){
        .user_agent = o->user_agent,
        .connect_timeout_ms = o->connect_timeout_ms,
        .stall_timeout_ms = o->stall_timeout_ms,
        .insecure = o->insecure,
        .headers = o->headers,
        .nheaders = o->nheaders,
        .userpwd = o->userpwd,
        .netrc = o->netrc,
        .proxy = o->proxy,
        .max_rate = o->max_rate,
        .cacert = o->cacert,
        .capath = o->capath,
        .ip_version = o->ip_version,
        .interface = o->interface,
        .cookie_file = o->cookie_file,
        .trace = o->trace,
        .trace_ud = o->userdata,
    };
}

/* The cookie file's cookie lines (Netscape format, "#HttpOnly_" ones
 * included), which libcurl parses and matches itself: given as
 * CURLOPT_COOKIELIST lines, not as CURLOPT_COOKIEFILE, whose list of
 * names libcurl 7.88 leaks when a handle is reset before a transfer. */
static sg_code read_cookies(engine *g, const char *path, sg_err *e)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return err_set(e, SG_EUSAGE, "cannot read the cookie file %s: %s",
                       path, strerror(errno));
    char line[8192];
    sg_code rc = SG_OK;
    while (rc == SG_OK && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || (line[0] == '#' && strncmp(line, "#HttpOnly_", 10)))
            continue;
        char **v = realloc(g->cookies, (size_t)(g->ncookies + 1) * sizeof *v);
        if (!v || !(v[g->ncookies] = strdup(line))) {
            if (v)
                g->cookies = v;
            rc = err_set(e, SG_ENOMEM, "out of memory");
            break;
        }
        g->cookies = v;
        g->ncookies++;
    }
    fclose(f);
    return rc;
}

sg_code eng_new(engine **out, const eng_conf *c, sg_err *e)
{
    *out = NULL;
    engine *g = calloc(1, sizeof *g);
    if (!g || !(g->m = curl_multi_init())) {
        free(g);
        return err_set(e, SG_ENOMEM, "out of memory");
    }
    g->c = *c;
    limit_init(&g->limit, (double)c->max_rate, now_ms());
    atomic_store(&g->want_rate, (long long)c->max_rate);
    /* HTTP/2 streams share a connection only between sharing requests,
     * in a pool of their own (eng_issue keeps the others off them): the
     * point of ranges is to escape a per-connection limit. */
    (void)curl_multi_setopt(g->m, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    if (c->max_per_host > 0)
        (void)curl_multi_setopt(g->m, CURLMOPT_MAX_HOST_CONNECTIONS,
                                (long)c->max_per_host);
    if (c->max_connects > 0)
        (void)curl_multi_setopt(g->m, CURLMOPT_MAXCONNECTS,
                                (long)c->max_connects);
    sg_code rc = c->cookie_file ? read_cookies(g, c->cookie_file, e)
                                : SG_OK;
    if (rc == SG_OK &&
        (!(g->shared = curl_share_init()) ||
         curl_share_setopt(g->shared, CURLSHOPT_SHARE,
                           CURL_LOCK_DATA_CONNECT) != CURLSHE_OK))
        rc = err_set(e, SG_ENOMEM, "out of memory");
    if (rc == SG_OK)
        rc = disk_new(&g->d, c->disk_threads > 0 ? c->disk_threads : 1,
                      wake_cb, g, e);
    if (rc) {
        for (int i = 0; i < g->ncookies; i++)
            free(g->cookies[i]);
        free(g->cookies);
        curl_multi_cleanup(g->m);
        (void)curl_share_cleanup(g->shared);
        free(g);
        return rc;
    }
    *out = g;
    return SG_OK;
}

static void xfer_free(struct eng_xfer *x)
{
    curl_easy_cleanup(x->h);
    curl_slist_free_all(x->hdrs);
    free(x->cur);
    free(x);
}

void eng_detach(engine *g, struct eng_xfer *x)
{
    if (x->paused && x->streamed) {
        /* What the pause held back is freed with the transfer only when
         * it was its connection's last (libcurl 7.88): let it go through
         * on_write, which drops it. */
        x->dropping = 1;
        (void)curl_easy_pause(x->h, CURLPAUSE_CONT);
    }
    (void)curl_multi_remove_handle(g->m, x->h);
    if (x->paused) {
        x->paused = 0;
        g->paused--;
    }
    if (x->body) {
        x->body = 0;
        limit_leave(&g->limit, &x->flow, now_ms());
    }
    for (struct eng_xfer **pp = &g->running; *pp; pp = &(*pp)->next)
        if (*pp == x) {
            *pp = x->next;
            break;
        }
    x->next = NULL;
}

void eng_recycle(engine *g, struct eng_xfer *x)
{
    curl_slist_free_all(x->hdrs);
    x->hdrs = NULL;
    free(x->cur);
    x->cur = NULL;
    x->q = NULL;
    x->next = g->spare;
    g->spare = x;
}

void eng_free(engine *g)
{
    if (!g)
        return;
    while (g->running) {
        struct eng_xfer *x = g->running;
        eng_detach(g, x);
        if (x->q)
            x->q->x = NULL;
        xfer_free(x);
    }
    disk_free(g->d);
    while (g->spare) {
        struct eng_xfer *x = g->spare;
        g->spare = x->next;
        xfer_free(x);
    }
    curl_multi_cleanup(g->m);
    /* After every handle that used it. */
    (void)curl_share_cleanup(g->shared);
    for (int i = 0; i < g->ncookies; i++)
        free(g->cookies[i]);
    free(g->cookies);
    free(g);
}

void eng_add_job(engine *g, eng_job *j)
{
    j->next = g->added;
    g->added = j;
}

void eng_disk(engine *g, disk_task *t)
{
    disk_submit(g->d, t);
}

void eng_wakeup(engine *g)
{
    (void)curl_multi_wakeup(g->m);
}

void eng_set_rate(engine *g, int64_t rate)
{
    atomic_store(&g->want_rate, (long long)(rate > 0 ? rate : 0));
}

int64_t eng_share(engine *g)
{
    return (int64_t)limit_share(&g->limit);
}

sg_code eng_start(engine *g, eng_req *q, sg_err *e)
{
    eng_req_cleanup(q);
    q->end = EE_JUDGED;
    q->v = (judge_result){.len = -1, .total = -1};
    q->fail = FK_NONE;
    q->transient = 0;
    q->code = SG_OK;
    q->got = 0;
    q->held_at = 0;
    q->why[0] = '\0';
    struct eng_xfer *x = g->spare;
    if (x) {
        g->spare = x->next;
    } else {
        if (!(x = calloc(1, sizeof *x)))
            return err_set(e, SG_ENOMEM, "out of memory");
        if (!(x->h = curl_easy_init())) {
            free(x);
            return err_set(e, SG_ENOMEM, "out of memory");
        }
    }
    x->g = g;
    x->q = q;
    x->hops = 0;
    x->user = q->user;
    x->paused = 0;
    x->body = 0;
    if (!(x->cur = strdup(q->url)) || eng_issue(g, x) != SG_OK) {
        (void)curl_multi_remove_handle(g->m, x->h);
        eng_recycle(g, x);
        return err_set(e, SG_ENOMEM, "cannot start a transfer");
    }
    q->x = x;
    x->next = g->running;
    g->running = x;
    if (!q->ask.head && !q->headers_only) {
        x->body = 1;
        limit_join(&g->limit, &x->flow, now_ms());
    }
    return SG_OK;
}

void eng_stop(engine *g, eng_req *q)
{
    struct eng_xfer *x = q->x;
    if (!x)
        return;
    eng_detach(g, x);
    q->x = NULL;
    eng_recycle(g, x);
}

void eng_req_cleanup(eng_req *q)
{
    resp_cleanup(&q->r);
    err_reset(&q->err);
    free(q->final_url);
    q->final_url = NULL;
}

static int harvest(engine *g)
{
    CURLMsg *msg;
    int left, n = 0;
    while ((msg = curl_multi_info_read(g->m, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct eng_xfer *x = NULL;
        (void)curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &x);
        if (x && x->q) {
            eng_finish(g, x, msg->data.result);
            n++;
        }
    }
    return n;
}

/* Refill every flow (what one leaves unused goes to the others) and let
 * the paused ones that may write go on. */
static void unpause(engine *g, int64_t now, int64_t *wake)
{
    if (g->limit.rate <= 0 && !g->paused)
        return;
    for (struct eng_xfer *x = g->running; x; x = x->next) {
        if (!x->body)
            continue;
        int open = limit_open(&g->limit, &x->flow, now);
        if (!x->paused)
            continue;
        if (open) {
            x->paused = 0;
            g->paused--;
            (void)curl_easy_pause(x->h, CURLPAUSE_CONT);
        } else if (now + limit_wait_ms(&g->limit, &x->flow) < *wake) {
            *wake = now + limit_wait_ms(&g->limit, &x->flow);
        }
    }
}

void eng_run(engine *g)
{
    for (;;) {
        int64_t now = now_ms(), wake = now + TICK_MS;
        double want = (double)atomic_load(&g->want_rate);
        if (want != g->limit.rate)
            limit_set(&g->limit, want, now);
        while (g->added) {
            eng_job *j = g->added;
            g->added = j->next;
            j->next = g->jobs;
            g->jobs = j;
        }
        /* A finished job may be freed by its tick: nothing of it is
         * read after a tick that returned 0. */
        for (eng_job **pp = &g->jobs; *pp;) {
            eng_job *j = *pp, *next = j->next;
            if (j->tick(j, now, &wake))
                pp = &j->next;
            else
                *pp = next;
        }
        if (!g->jobs && !g->added)
            break;
        int still;
        (void)curl_multi_perform(g->m, &still);
        int n = harvest(g);
        n += disk_take(g->d);
        n += g->added != NULL; /* new jobs tick at once */
        now = now_ms();
        unpause(g, now, &wake);
        long timeout = n ? 0 : (long)(wake - now);
        if (timeout > TICK_MS)
            timeout = TICK_MS;
        if (timeout > 0)
            (void)curl_multi_poll(g->m, NULL, 0, (int)timeout, NULL);
    }
}
