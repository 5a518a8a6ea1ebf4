/* SPDX-License-Identifier: MIT */
/*
 * engine_req.c - a request's life inside the engine: the easy handle set
 * up for each hop, the header callback that judges the final response
 * when its headers end, the write callback that guards the body, and the
 * end of the transfer turned into the request's results (or the next
 * hop of a redirect, by policy_hop()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine_int.h"
#include "util.h"

/* End x on purpose from inside a callback. */
static size_t halt(struct eng_xfer *x, eng_end how)
{
    x->stopped = 1;
    x->stop = how;
    return 0;
}

static int blank(const char *line, size_t len)
{
    return (len == 2 && line[0] == '\r' && line[1] == '\n') ||
           (len == 1 && line[0] == '\n');
}

/* One line for the trace: credentials and cookies are never shown. */
static void trace_line(const eng_conf *c, char mark, const char *p, size_t n)
{
    static const char *const secret[] = {"authorization",
                                         "proxy-authorization", "cookie",
                                         "set-cookie"};
    while (n && (p[n - 1] == '\r' || p[n - 1] == '\n'))
        n--;
    char line[1024];
    const char *colon = memchr(p, ':', n);
    for (size_t i = 0; colon && i < sizeof secret / sizeof *secret; i++)
        if (hdr_name_is(p, (size_t)(colon - p), secret[i])) {
            (void)snprintf(line, sizeof line, "%c %.*s: [redacted]", mark,
                           (int)(colon - p), p);
            c->trace(line, c->trace_ud);
            return;
        }
    (void)snprintf(line, sizeof line, "%c %.*s", mark,
                   (int)(n < sizeof line - 3 ? n : sizeof line - 3), p);
    c->trace(line, c->trace_ud);
}

/* libcurl's debug callback: header lines both ways, and its notes. */
static int on_debug(CURL *h, curl_infotype type, char *p, size_t n, void *ud)
{
    (void)h;
    const eng_conf *c = &((struct eng_xfer *)ud)->g->c;
    char mark = type == CURLINFO_HEADER_OUT ? '>'
                : type == CURLINFO_HEADER_IN ? '<'
                : type == CURLINFO_TEXT      ? '*'
                                             : 0;
    /* What was sent comes as one block: a line at a time. */
    while (mark && n) {
        const char *nl = memchr(p, '\n', n);
        size_t len = nl ? (size_t)(nl - p) + 1 : n;
        if (len > 2 || (p[0] != '\r' && p[0] != '\n'))
            trace_line(c, mark, p, len);
        p += len;
        n -= len;
    }
    return 0;
}

static size_t on_header(char *line, size_t size, size_t n, void *ud)
{
    struct eng_xfer *x = ud;
    eng_req *q = x->q;
    size_t len = size * n;
    if (x->judged || x->dropping)
        return len; /* trailers, or the request is being taken out */
    if (resp_line(&q->r, line, len) < 0) {
        q->code = err_set(&q->err, SG_ENOMEM, "out of memory");
        return halt(x, EE_SINK);
    }
    if (!blank(line, len) || q->r.status < 200)
        return len; /* more headers, or an interim 1xx */
    curl_off_t ra = 0;
    (void)curl_easy_getinfo(x->h, CURLINFO_RETRY_AFTER, &ra);
    q->r.retry_after = ra > 0 ? (int64_t)ra : -1;
    x->judged = 1;
    switch (judge_response(&q->ask, &q->r, &q->v)) {
    case JV_REDIRECT:
    case JV_UNCHANGED:
        x->discard = 1; /* a short message: read it, keep the connection */
        return len;
    case JV_BODY:
        if (q->ask.head)
            return len;
        if (q->headers_only) {
            if (q->v.len >= 0 && q->v.len <= SMALL_BODY) {
                x->discard = 1;
                return len;
            }
            return halt(x, EE_JUDGED);
        }
        if (q->ops && q->ops->accept) {
            sg_code rc = q->ops->accept(q, &q->err);
            if (rc) {
                q->code = rc;
                return halt(x, EE_SINK);
            }
        }
        return len;
    default:
        return halt(x, EE_JUDGED); /* nothing in the body is wanted */
    }
}

static size_t on_write(char *p, size_t size, size_t n, void *ud)
{
    struct eng_xfer *x = ud;
    eng_req *q = x->q;
    engine *g = x->g;
    size_t len = size * n;
    if (x->dropping)
        return len;
    if (!x->judged) {
        (void)snprintf(q->v.why, sizeof q->v.why, "a body without headers");
        q->v.verdict = JV_PROTO;
        return halt(x, EE_JUDGED);
    }
    if (x->discard || q->ask.head)
        return len;
    /* Without a limit this is one comparison per callback. */
    if (g->limit.rate > 0 && x->body) {
        int64_t now = now_ms();
        if (!limit_open(&g->limit, &x->flow, now)) {
            x->paused = 1; /* libcurl offers these bytes again on unpause */
            g->paused++;
            q->held_at = now;
            return CURL_WRITEFUNC_PAUSE;
        }
        limit_take(&g->limit, &x->flow, len);
    }
    int64_t pos = q->v.off + x->seen;
    int64_t room = judge_room(&q->v, x->seen);
    int64_t cap = q->stop_at - pos;
    if (cap < 0)
        cap = 0;
    size_t take = len;
    int stop = 0;
    if (cap < room && (int64_t)len > cap) {
        take = (size_t)cap; /* the owner gave the rest away */
        stop = 1;
    } else if ((int64_t)len > room) {
        /* Longer than the range or the declared length: none of this
         * response can be trusted (the owner claims none of it). */
        judge_overrun(&q->v);
        return halt(x, EE_JUDGED);
    }
    if (take) {
        sg_code rc = q->ops->write(q, p, take, pos, &q->err);
        if (rc) {
            q->code = rc;
            return halt(x, EE_SINK);
        }
        x->seen += (int64_t)take;
        q->got += (int64_t)take;
    }
    return stop ? halt(x, EE_STOPPED) : len;
}

/* The header list of x's hop. */
static sg_code hop_headers(engine *g, struct eng_xfer *x)
{
    const eng_req *q = x->q;
    struct curl_slist *l = NULL, *t;
    const char *pre[] = {"If-Range: ", "If-None-Match: ",
                         "If-Modified-Since: "};
    const char *val[] = {q->if_range, q->if_none_match,
                         q->if_modified_since};
    for (int i = 0; x->user && i < g->c.nheaders; i++) {
        if (!(t = curl_slist_append(l, g->c.headers[i])))
            goto fail;
        l = t;
    }
    for (int i = 0; i < 3; i++) {
        if (!val[i])
            continue;
        char *line = str_cat(pre[i], val[i]);
        t = line ? curl_slist_append(l, line) : NULL;
        free(line);
        if (!t)
            goto fail;
        l = t;
    }
    curl_slist_free_all(x->hdrs);
    x->hdrs = l;
    return SG_OK;
fail:
    curl_slist_free_all(l);
    return SG_ENOMEM;
}

/* A handle set up for the shared pool is not used again.  libcurl (7.88)
 * ends a transfer only in part while its HTTP/2 connection still carries
 * other streams: the handle keeps its receive buffer (and refuses
 * CURLOPT_BUFFERSIZE until it is freed) and any bytes a pause held back,
 * which its next transfer would be given first. */
static sg_code renew_handle(struct eng_xfer *x)
{
    if (!x->streamed)
        return SG_OK;
    CURL *h = curl_easy_init();
    if (!h)
        return SG_ENOMEM;
    curl_easy_cleanup(x->h);
    x->h = h;
    x->cookies = 0;
    x->streamed = 0;
    return SG_OK;
}

sg_code eng_issue(engine *g, struct eng_xfer *x)
{
    eng_req *q = x->q;
    const eng_conf *c = &g->c;
    if (renew_handle(x))
        return SG_ENOMEM;
    CURL *h = x->h;
    curl_easy_reset(h);
    resp_cleanup(&q->r);
    x->judged = x->discard = x->stopped = x->dropping = 0;
    x->seen = 0;
    x->errbuf[0] = '\0';
    if (hop_headers(g, x))
        return SG_ENOMEM;
    CURLcode cc = CURLE_OK;
#define SET(opt, val)                                                         \
    do {                                                                      \
        if (cc == CURLE_OK)                                                   \
            cc = curl_easy_setopt(h, opt, val);                               \
    } while (0)
    SET(CURLOPT_PRIVATE, x);
    SET(CURLOPT_URL, x->cur);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 0L); /* hops are ours: policy_hop() */
    SET(CURLOPT_UNRESTRICTED_AUTH, 0L);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_USERAGENT, c->user_agent);
    SET(CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    SET(CURLOPT_LOW_SPEED_LIMIT, 1024L);
    SET(CURLOPT_LOW_SPEED_TIME, (c->stall_timeout_ms + 999) / 1000);
    SET(CURLOPT_SSL_VERIFYPEER, c->insecure ? 0L : 1L);
    SET(CURLOPT_SSL_VERIFYHOST, c->insecure ? 0L : 2L);
    if (x->user && c->userpwd)
        SET(CURLOPT_USERPWD, c->userpwd);
    if (c->netrc)
        SET(CURLOPT_NETRC, (long)CURL_NETRC_OPTIONAL);
    if (c->proxy)
        SET(CURLOPT_PROXY, c->proxy);
    if (c->cacert)
        SET(CURLOPT_CAINFO, c->cacert);
    if (c->capath)
        SET(CURLOPT_CAPATH, c->capath);
    if (c->ip_version)
        SET(CURLOPT_IPRESOLVE, c->ip_version == 4 ? (long)CURL_IPRESOLVE_V4
                                                  : (long)CURL_IPRESOLVE_V6);
    if (c->interface)
        SET(CURLOPT_INTERFACE, c->interface);
    /* The cookie engine reads the file and sends each cookie where its
     * domain and path match, redirects included. */
    /* Once per handle: the jar outlives curl_easy_reset. */
    for (int i = 0; !x->cookies && i < g->ncookies; i++)
        SET(CURLOPT_COOKIELIST, g->cookies[i]);
    x->cookies = 1;
    if (c->trace) {
        SET(CURLOPT_DEBUGFUNCTION, on_debug);
        SET(CURLOPT_DEBUGDATA, x);
        SET(CURLOPT_VERBOSE, 1L);
    }
    /* A proxy's CONNECT answer is not the response: keep it out of the
     * header callback (its failure is read from HTTP_CONNECTCODE). */
    SET(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, x);
    SET(CURLOPT_WRITEFUNCTION, on_write);
    SET(CURLOPT_WRITEDATA, x);
    SET(CURLOPT_ERRORBUFFER, x->errbuf);
    SET(CURLOPT_HTTPHEADER, x->hdrs);
    if (q->ask.head)
        SET(CURLOPT_NOBODY, 1L);
    if (q->ask.first >= 0) {
        (void)snprintf(x->range, sizeof x->range, "%lld-%lld",
                       (long long)q->ask.first, (long long)q->ask.last);
        SET(CURLOPT_RANGE, x->range);
    }
    if (q->bufsize > 0)
        SET(CURLOPT_BUFFERSIZE, q->bufsize);
    if (q->fresh && x->hops == 0)
        SET(CURLOPT_FRESH_CONNECT, 1L);
    /* Two pools of connections (engine.c).  A sharing request to an
     * https URL takes the shared one, may speak HTTP/2 there and, while
     * the first connection to its host is still saying whether it can
     * (ALPN), waits for it rather than opening more, as curl --parallel
     * does.  Any other request takes the engine's own pool and asks for
     * HTTP/1.1: libcurl (7.88) would put a request that may speak HTTP/2
     * on a busy HTTP/2 connection of its pool, and no option of a handle
     * refuses that but this one.  Over http:// that is what it spoke
     * anyway. */
    int pooled = q->share && strncasecmp(x->cur, "https:", 6) == 0;
    x->streamed = pooled;
    SET(CURLOPT_SHARE, pooled ? g->shared : NULL);
    if (pooled)
        SET(CURLOPT_PIPEWAIT, 1L);
    else
        SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    /* A probe's connection is not kept for the ranges that follow: the
     * first range would reuse it and, data arriving at once, hold the
     * loop inside libcurl (up to 100 reads a turn) while the others wait
     * to connect.  Measured on loopback, 256 MiB, -n 8: 0.3 s later. */
    if (q->headers_only)
        SET(CURLOPT_FORBID_REUSE, 1L);
#undef SET
    if (cc != CURLE_OK ||
        curl_multi_add_handle(g->m, h) != CURLM_OK)
        return SG_ENOMEM;
    return SG_OK;
}

/* libcurl's failure, as the policy knows failures. */
static fail_kind kind_of(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return FK_RESOLVE;
    case CURLE_COULDNT_CONNECT:
        return FK_CONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        return FK_TIMEOUT;
    case CURLE_RECV_ERROR:
        return FK_RECV;
    case CURLE_SEND_ERROR:
        return FK_SEND;
    case CURLE_GOT_NOTHING:
        return FK_NOTHING;
    case CURLE_PARTIAL_FILE:
        return FK_PARTIAL;
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
    case CURLE_QUIC_CONNECT_ERROR:
        return FK_HTTP2;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
        return FK_TLS;
    case CURLE_PROXY:
        return FK_PROXY;
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
        return FK_PROTO;
    case CURLE_UNSUPPORTED_PROTOCOL:
        return FK_UNSAFE;
    case CURLE_URL_MALFORMAT:
        return FK_USAGE;
    case CURLE_OUT_OF_MEMORY:
        return FK_NOMEM;
    default:
        return FK_OTHER;
    }
}

static void failed(eng_req *q, fail_kind k, const char *why)
{
    q->end = EE_FAILED;
    q->fail = k;
    q->transient = policy_transient(k, q->answered);
    q->code = policy_code(k);
    (void)snprintf(q->why, sizeof q->why, "%s", why);
    err_set(&q->err, q->code, "%s: %s", q->shown, why);
}

/* Follow a redirect of x.  Returns 1 when the next hop is under way. */
static int follow(engine *g, struct eng_xfer *x)
{
    eng_req *q = x->q;
    char *loc = NULL;
    if (curl_easy_getinfo(x->h, CURLINFO_REDIRECT_URL, &loc) != CURLE_OK ||
        !loc) {
        q->v.verdict = JV_HTTP;
        (void)snprintf(q->v.why, sizeof q->v.why,
                       "HTTP %d without a usable Location", q->v.status);
        return 0;
    }
    switch (policy_hop(x->hops, eng_url_scheme_ok(loc))) {
    case HOP_TOO_MANY:
        failed(q, FK_PROTO, "too many redirects");
        return 0;
    case HOP_UNSAFE:
        failed(q, FK_UNSAFE, "redirect to a URL that is not http or https");
        return 0;
    case HOP_FOLLOW:
        break;
    }
    char *next = strdup(loc);
    if (!next) {
        failed(q, FK_NOMEM, "out of memory");
        return 0;
    }
    x->user = policy_hop_user(x->user, eng_url_same_origin(q->url, next));
    free(x->cur);
    x->cur = next;
    x->hops++;
    q->answered = 1; /* a server answered with this redirect */
    (void)curl_multi_remove_handle(g->m, x->h);
    if (eng_issue(g, x) != SG_OK) {
        failed(q, FK_NOMEM, "out of memory");
        return 0;
    }
    return 1;
}

/* Set q's code, transient flag and message from its verdict. */
static void judged(eng_req *q)
{
    const judge_result *v = &q->v;
    switch (v->verdict) {
    case JV_BODY:
    case JV_EMPTY:
    case JV_UNCHANGED:
    case JV_REDIRECT:
        q->code = SG_OK;
        return;
    case JV_RETRY:
        q->transient = 1;
        q->code = SG_EHTTP;
        break;
    case JV_CHANGED:
    case JV_RESIZED:
        q->code = SG_ECHANGED;
        break;
    case JV_HTTP:
        q->code = SG_EHTTP;
        break;
    case JV_PROTO:
        q->code = SG_EPROTO;
        break;
    }
    (void)snprintf(q->why, sizeof q->why, "%s", v->why);
    err_http(&q->err, v->status, q->code, "%s: %s", q->shown, v->why);
}

/* A failure through a proxy says so: the proxy may be what failed. */
static void name_proxy(const engine *g, eng_req *q)
{
    char *p = eng_url_redact(g->c.proxy);
    char *m = strdup(err_msg(&q->err));
    if (p && m) {
        sg_code code = q->err.code;
        err_reset(&q->err);
        err_set(&q->err, code, "%s (through the proxy %s)", m, p);
    }
    free(p);
    free(m);
}

void eng_finish(engine *g, struct eng_xfer *x, CURLcode cc)
{
    eng_req *q = x->q;
    if (x->stopped) {
        q->end = x->stop;
        if (q->end == EE_JUDGED)
            judged(q);
        else if (q->end == EE_STOPPED)
            q->code = SG_OK;
        else
            (void)snprintf(q->why, sizeof q->why, "%s", err_msg(&q->err));
    } else if (cc != CURLE_OK) {
        long connect = 0;
        (void)curl_easy_getinfo(x->h, CURLINFO_HTTP_CONNECTCODE, &connect);
        if (connect >= 300 && !x->judged) {
            char why[96];
            (void)snprintf(why, sizeof why,
                           "the proxy answered %ld to CONNECT%s", connect,
                           connect == 407 ? " (proxy authentication "
                                            "required)"
                                          : "");
            /* A proxy that is only busy is worth another try. */
            failed(q, policy_transient_status((int)connect) ? FK_CONNECT
                                                            : FK_PROXY,
                   why);
            if (q->fail == FK_CONNECT)
                q->transient = 1; /* the proxy answered: it is there */
        } else {
            failed(q, kind_of(cc),
                   x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc));
        }
    } else if (!x->judged) {
        q->v.verdict = JV_PROTO;
        (void)snprintf(q->v.why, sizeof q->v.why, "no response");
        q->end = EE_JUDGED;
        judged(q);
    } else if (q->v.verdict == JV_REDIRECT) {
        if (follow(g, x))
            return;
        if (q->end != EE_FAILED)
            judged(q);
    } else if (q->v.verdict == JV_BODY && !q->ask.head &&
               !q->headers_only && !judge_end(&q->v, x->seen)) {
        q->end = EE_SHORT;
        q->transient = 1;
        q->code = SG_ENETWORK;
        (void)snprintf(q->why, sizeof q->why, "the body ended early");
        err_set(&q->err, q->code, "%s: %s", q->shown, q->why);
    } else {
        q->end = EE_JUDGED;
        judged(q);
    }
    if (g->c.proxy && q->code != SG_OK && q->err.code)
        name_proxy(g, q);
    q->reached = q->end != EE_FAILED ||
                 (q->fail != FK_RESOLVE && q->fail != FK_CONNECT) ||
                 q->transient;
    eng_detach(g, x);
    q->final_url = x->cur;
    q->final_user = x->user;
    x->cur = NULL;
    q->x = NULL;
    eng_recycle(g, x);
    if (q->ops && q->ops->done)
        q->ops->done(q);
}

