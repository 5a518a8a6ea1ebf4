/* SPDX-License-Identifier: MIT */
/*
 * faultsrv_resp.c - the fault server's answers to one request.
 *
 * fs_serve() reads the request's headers, then takes the first rule that
 * applies: a --cap refusal, 407 (--proxy-407), a signed-URL redirect or
 * refusal (--sign-ttl), 404 for /missing, an HTML page (--html-200), a
 * refused HEAD, a failing status (--fail-status), 304 (--conditional),
 * the empty 206 (--empty-206), 416, and last the resource itself: 200 or
 * 206 with whatever lies the options ask for and the checksums --declare
 * asks for (faultsrv_declare.c), its body paced by --rate, --slow-every
 * or --trickle-every and cut by --drop-after.  Each response is logged
 * once (fs_log), and its --cap slot is given back just before its last
 * write, so that a client which has seen a whole response is never
 * refused for it.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../support/content.h"
#include "faultsrv.h"

static int gets_served; /* GET responses begun, under fs_mu */

/* Send n bytes; returns how many the kernel took before an error (n when
 * all). */
static size_t send_some(int fd, const void *p, size_t n)
{
    const char *c = p;
    size_t done = 0;
    while (done < n) {
        ssize_t w = send(fd, c + done, n - done, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    return done;
}

static int send_all(int fd, const void *p, size_t n)
{
    return send_some(fd, p, n) == n ? 0 : -1;
}

/* Wait ns between two writes of a paced body, waking early when the peer
 * hangs up or resets.  Returns 0, or -1 when the peer went away. */
static int pace(int fd, int64_t ns)
{
    struct pollfd p = {.fd = fd, .events = POLLRDHUP};
    struct timespec ts = {ns / 1000000000, ns % 1000000000};
    int r;
    while ((r = ppoll(&p, 1, &ts, NULL)) < 0 && errno == EINTR)
        ; /* no signal is handled: a stray one only shortens the wait */
    return r > 0 ? -1 : 0;
}

/* Send bytes [from, from+len) of the resource, at most limit of them (-1:
 * no limit), at c's pace.  *sent counts the body bytes the kernel took,
 * chunk framing aside.  last: this body ends the response, so c's --cap
 * slot is given back before its last write.  Returns 0, or -1 when the
 * peer went away. */
static int send_body(struct fs_conn *c, int64_t from, int64_t len,
                     int64_t limit, int chunked, int last, int64_t *sent)
{
    static __thread unsigned char buf[65536];
    *sent = 0;
    while (*sent < len) {
        int64_t n = len - *sent;
        if (n > (int64_t)sizeof buf)
            n = sizeof buf;
        if (limit >= 0 && *sent + n > limit)
            n = limit - *sent;
        if (n <= 0)
            break;
        if (c->trickle && *sent >= cfg.trickle_after)
            n = 1;
        else if (c->trickle && *sent + n > cfg.trickle_after)
            n = cfg.trickle_after - *sent; /* trickle from that byte on */
        content_fill(c->seed, (uint64_t)(from + *sent), buf, (size_t)n);
        if (chunked) {
            char h[32];
            int hl = snprintf(h, sizeof h, "%" PRIx64 "\r\n", n);
            if (send_all(c->fd, h, (size_t)hl) < 0)
                return -1;
        }
        if (last && !chunked && *sent + n == len)
            fs_cap_release(c);
        size_t w = send_some(c->fd, buf, (size_t)n);
        *sent += (int64_t)w;
        if (w < (size_t)n || (chunked && send_all(c->fd, "\r\n", 2) < 0))
            return -1;
        int64_t ns = 0;
        if (c->trickle && *sent >= cfg.trickle_after)
            ns = 1000000000 / (cfg.trickle_bps > 0 ? cfg.trickle_bps : 1);
        else if (c->rate > 0)
            ns = n * 1000000000 / c->rate;
        if (ns && pace(c->fd, ns) < 0)
            return -1;
    }
    if (chunked && *sent == len) {
        if (last)
            fs_cap_release(c);
        if (send_all(c->fd, "0\r\n\r\n", 5) < 0)
            return -1;
    }
    return 0;
}

/* Parse "bytes=a-b", "bytes=a-" or "bytes=-n" against size. */
static int parse_range(const char *v, int64_t *a, int64_t *b)
{
    if (strncasecmp(v, "bytes=", 6) != 0 || strchr(v, ','))
        return -1;
    v += 6;
    char *end;
    if (*v == '-') {
        int64_t n = strtoll(v + 1, &end, 10);
        if (n <= 0)
            return -1;
        *a = n > cfg.size ? 0 : cfg.size - n;
        *b = cfg.size - 1;
        return 0;
    }
    *a = strtoll(v, &end, 10);
    if (*end != '-')
        return -1;
    *b = end[1] ? strtoll(end + 1, &end, 10) : cfg.size - 1;
    if (*b >= cfg.size)
        *b = cfg.size - 1;
    return *a <= *b ? 0 : -2; /* -2: unsatisfiable */
}

/* The validators and fields every answer about the resource carries. */
static void common(const struct fs_conn *c, char *h, size_t n)
{
    size_t l = strlen(h);
    if (c->etag)
        l += (size_t)snprintf(h + l, n - l, "ETag: %s\r\n", c->etag);
    if (c->lastmod)
        l += (size_t)snprintf(h + l, n - l, "Last-Modified: %s\r\n",
                              c->lastmod);
    if (cfg.disposition)
        l += (size_t)snprintf(h + l, n - l, "Content-Disposition: %s\r\n",
                              cfg.disposition);
    /* --ignore-ranges still advertises them: a server that lies. */
    if (!cfg.no_accept_ranges && !cfg.chunked)
        (void)snprintf(h + l, n - l, "Accept-Ranges: bytes\r\n");
}

/* A whole response in one write: logged with body bytes, c's slot given
 * back, sent.  Returns 0, or -1 when the peer went away. */
static int reply(struct fs_conn *c, const struct fs_req *q, int status,
                 int64_t body, const char *h)
{
    fs_log(c, q, status, body);
    fs_cap_release(c);
    return send_all(c->fd, h, strlen(h));
}

/* An error answer with a short body (none to HEAD) and Content-Length,
 * extra header lines (each ending in CRLF) before the blank line. */
static int reply_error(struct fs_conn *c, const struct fs_req *q, int status,
                       const char *reason, const char *type,
                       const char *extra, const char *body)
{
    int head = strcmp(q->method, "HEAD") == 0;
    char h[2048];
    snprintf(h, sizeof h,
             "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
             "%s\r\n%s",
             status, reason, type, strlen(body), extra, head ? "" : body);
    return reply(c, q, status, head ? 0 : (int64_t)strlen(body), h);
}

/* --cap: the answer to a request beyond the limit. */
static int refuse(struct fs_conn *c, const struct fs_req *q)
{
    if (cfg.cap_status == 0) {
        /* SO_LINGER 0: the caller's close() sends RST, not FIN. */
        struct linger lg = {1, 0};
        (void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        fs_log(c, q, 0, 0);
        return -1;
    }
    char extra[64] = "";
    if (cfg.cap_retry_after >= 0)
        snprintf(extra, sizeof extra, "Retry-After: %d\r\n",
                 cfg.cap_retry_after);
    int busy = cfg.cap_status == 503;
    return reply_error(c, q, cfg.cap_status,
                       busy ? "Service Temporarily Unavailable"
                            : "Too Many Requests",
                       "text/html", extra,
                       busy ? "<html>503 Service Temporarily Unavailable"
                              "</html>\n"
                            : "<html>429 Too Many Requests</html>\n");
}

/* The check value of a signed URL: FNV-1a (64 bits) of "PATH\nEXP" as 16
 * lowercase hex digits, so a test can forge one. */
static void sign(const char *path, size_t plen, const char *exp, size_t elen,
                 char out[17])
{
    uint64_t x = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < plen + 1 + elen; i++) {
        unsigned char b = i < plen    ? (unsigned char)path[i]
                          : i == plen ? '\n'
                                      : (unsigned char)exp[i - plen - 1];
        x = (x ^ b) * 0x100000001b3ull;
    }
    snprintf(out, 17, "%016" PRIx64, x);
}

/* The value of parameter name in query q and its length; NULL: none. */
static const char *param(const char *q, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    for (const char *p = q; p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL)
        if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
            *len = strcspn(p + nl + 1, "&");
            return p + nl + 1;
        }
    *len = 0;
    return NULL;
}

/* --sign-ttl: a request without sig= is sent to its signed URL, one with
 * a wrong or expired signature refused; returns 1 for a request to serve,
 * else what fs_serve() returns. */
static int check_signature(struct fs_conn *c, const struct fs_req *q)
{
    const char *query = strchr(q->target, '?');
    size_t plen = query ? (size_t)(query - q->target) : strlen(q->target);
    size_t el, sl;
    const char *exp = query ? param(query + 1, "exp", &el) : NULL;
    const char *sig = query ? param(query + 1, "sig", &sl) : NULL;
    struct timespec now;
    (void)clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    char want[17], h[2048];
    if (!sig) {
        char e[24];
        int n = snprintf(e, sizeof e, "%" PRId64, now_ms + cfg.sign_ttl);
        sign(q->target, plen, e, (size_t)n, want);
        snprintf(h, sizeof h,
                 "HTTP/1.1 302 Found\r\nLocation: %.*s?exp=%s&sig=%s\r\n"
                 "Content-Length: 0\r\n\r\n",
                 (int)plen, q->target, e, want);
        return reply(c, q, 302, 0, h);
    }
    int good = exp && el > 0 && el < 20 && strspn(exp, "0123456789") >= el;
    if (good) {
        sign(q->target, plen, exp, el, want);
        good = sl == 16 && strncmp(sig, want, 16) == 0;
    }
    int expired = good && strtoll(exp, NULL, 10) < now_ms;
    if (good && !expired)
        return 1;
    int s = cfg.expired_status;
    char body[512];
    snprintf(body, sizeof body,
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s"
             "</Code><Message>%s</Message></Error>\n",
             expired ? "AccessDenied" : "SignatureDoesNotMatch",
             expired ? "Request has expired"
                     : "The request signature we calculated does not "
                       "match the signature you provided.");
    return reply_error(c, q, s,
                       s == 400   ? "Bad Request"
                       : s == 401 ? "Unauthorized"
                       : s == 410 ? "Gone"
                                  : "Forbidden",
                       "application/xml", "", body);
}

/* Read the request's method, target and the headers the server uses. */
static int parse_request(char *req, struct fs_req *q)
{
    memset(q, 0, sizeof *q);
    if (sscanf(req, "%15s %1023s", q->method, q->target) != 2)
        return -1;
    for (char *l = strstr(req, "\r\n"); l; l = strstr(l + 2, "\r\n")) {
        if (strncasecmp(l + 2, "Range:", 6) == 0)
            (void)sscanf(l + 8, " %127[^\r]", q->range);
        if (strncasecmp(l + 2, "If-Range:", 9) == 0)
            (void)sscanf(l + 11, " %2047[^\r]", q->if_range);
        if (strncasecmp(l + 2, "If-None-Match:", 14) == 0)
            (void)sscanf(l + 16, " %2047[^\r]", q->inm);
        if (strncasecmp(l + 2, "If-Modified-Since:", 18) == 0)
            (void)sscanf(l + 20, " %159[^\r]", q->ims);
        if (strncasecmp(l + 2, "Proxy-Authorization:", 20) == 0)
            q->proxy_auth = 1;
        if (strncasecmp(l + 2, "Authorization:", 14) == 0)
            q->auth = 1;
    }
    for (char *p = q->if_range; *p; p++)
        if (*p == ' ')
            *p = '_';
    return 0;
}

/* Which version of the resource this response serves (--change-after). */
static void pick_version(struct fs_conn *c, int head)
{
    pthread_mutex_lock(&fs_mu);
    int changed = cfg.change_after && gets_served >= cfg.change_after;
    if (!head && cfg.empty_after && gets_served >= cfg.empty_after)
        cfg.size = 0;
    if (!head)
        gets_served++;
    pthread_mutex_unlock(&fs_mu);
    c->seed = changed ? FS_CHANGED_SEED(cfg.seed) : cfg.seed;
    c->etag = cfg.etag;
    c->lastmod = cfg.lastmod;
    if (changed) {
        c->etag = cfg.etag ? "\"sg-changed\"" : NULL;
        c->lastmod = cfg.lastmod ? "Mon, 02 Nov 2026 00:00:00 GMT" : NULL;
    }
}

/* The resource itself, whole or a range, with whatever lies the options
 * ask for.  ranged: a satisfiable Range to honour, [a, b] its bytes. */
static int serve_resource(struct fs_conn *c, const struct fs_req *q,
                          int ranged, int64_t a, int64_t b)
{
    int head = strcmp(q->method, "HEAD") == 0;
    int64_t len = b - a + 1;
    char h[8192];
    if (ranged && cfg.multipart) {
        snprintf(h, sizeof h, "HTTP/1.1 206 Partial Content\r\n"
                              "Content-Type: multipart/byteranges; "
                              "boundary=XYZ\r\nContent-Length: %" PRId64
                              "\r\n",
                 len);
    } else if (ranged) {
        snprintf(h, sizeof h, "HTTP/1.1 206 Partial Content\r\n");
        size_t l = strlen(h);
        if (cfg.range_value)
            l += (size_t)snprintf(h + l, sizeof h - l,
                                  "Content-Range: %s\r\n", cfg.range_value);
        else if (cfg.range_total_value)
            l += (size_t)snprintf(h + l, sizeof h - l,
                                  "Content-Range: bytes %" PRId64 "-%" PRId64
                                  "/%s\r\n",
                                  a + cfg.shift, b + cfg.shift,
                                  cfg.range_total_value);
        else if (!cfg.no_range_header)
            l += (size_t)snprintf(h + l, sizeof h - l,
                                  "Content-Range: bytes %" PRId64 "-%" PRId64
                                  "/%" PRId64 "\r\n",
                                  a + cfg.shift, b + cfg.shift,
                                  cfg.range_total >= 0 ? cfg.range_total
                                                       : cfg.size);
        if (cfg.length_all)
            snprintf(h + l, sizeof h - l, "Content-Length: %s\r\n",
                     cfg.length_all);
        else if (!cfg.extra)
            snprintf(h + l, sizeof h - l, "Content-Length: %" PRId64 "\r\n",
                     len);
    } else if (cfg.chunked && !head) {
        snprintf(h, sizeof h, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked"
                              "\r\n");
    } else {
        int64_t cl = head && cfg.head_length >= 0 ? cfg.head_length : len;
        snprintf(h, sizeof h, "HTTP/1.1 200 OK\r\n");
        if (cfg.length_all)
            snprintf(h + strlen(h), sizeof h - strlen(h),
                     "Content-Length: %s\r\n", cfg.length_all);
        else if (cfg.length_value)
            snprintf(h + strlen(h), sizeof h - strlen(h),
                     "Content-Length: %s\r\n", cfg.length_value);
        else if (!(head && (cfg.head_no_length || cfg.chunked)))
            snprintf(h + strlen(h), sizeof h - strlen(h),
                     "Content-Length: %" PRId64 "\r\n", cl);
    }
    common(c, h, sizeof h);
    declare_fields(c, head, ranged, a, b, h, sizeof h);
    if (cfg.gzip && !head)
        strcat(h, "Content-Encoding: gzip\r\n");
    if ((ranged && cfg.extra) || cfg.length_all)
        strcat(h, "Connection: close\r\n");
    strcat(h, "\r\n");
    int status = ranged ? 206 : 200;
    int chunked = cfg.chunked && !ranged;
    int extra = ranged && cfg.extra;
    /* Headers alone are the whole response of a HEAD or an empty body. */
    if (head || (len == 0 && !chunked && !extra))
        fs_cap_release(c);
    if (send_all(c->fd, h, strlen(h)) < 0) {
        fs_log(c, q, status, 0);
        return -1;
    }
    if (head) {
        fs_log(c, q, status, 0);
        return cfg.length_all ? -1 : 0;
    }
    fs_log_body(c, q);
    int64_t limit = cfg.drop_after >= 0 && fs_take(&cfg.drop_count)
                        ? cfg.drop_after
                        : -1;
    int64_t sent;
    int r = send_body(c, a, len, limit, chunked, !extra, &sent);
    if (limit >= 0 && cfg.reset) {
        /* SO_LINGER 0: close() sends RST instead of FIN. */
        struct linger lg = {1, 0};
        (void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    if (r == 0 && extra && sent == len) {
        /* A body longer than the range: more bytes, then close. */
        int64_t more;
        (void)send_body(c, b + 1 < cfg.size ? b + 1 : 0, cfg.extra, -1, 0, 1,
                        &more);
        fs_log(c, q, status, sent + more);
        return -1;
    }
    fs_log(c, q, status, sent);
    if (r < 0 || sent < len || cfg.length_all)
        return -1; /* dropped on purpose or by the peer */
    return 0;
}

int fs_serve(struct fs_conn *c, char *req)
{
    struct fs_req q;
    if (parse_request(req, &q) < 0)
        return -1;
    if (!fs_cap_admit(c))
        return refuse(c, &q);
    char h[8192];
    if (cfg.proxy407) {
        snprintf(h, sizeof h, "HTTP/1.1 407 Proxy Authentication Required\r\n"
                              "Proxy-Authenticate: Basic realm=\"x\"\r\n"
                              "Content-Length: 0\r\n\r\n");
        return reply(c, &q, 407, 0, h);
    }
    if (cfg.sign_ttl >= 0) {
        int r = check_signature(c, &q);
        if (r != 1)
            return r;
    }
    int head = strcmp(q.method, "HEAD") == 0;
    pick_version(c, head);
    if (strcspn(q.target, "?") == 8 && strncmp(q.target, "/missing", 8) == 0) {
        snprintf(h, sizeof h, "HTTP/1.1 404 Not Found\r\nContent-Length: 9"
                              "\r\n\r\nnot found");
        return reply(c, &q, 404, 9, h);
    }
    if (!head && cfg.html200) {
        const char *page = "<html>error</html>";
        snprintf(h, sizeof h, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                              "Content-Length: %zu\r\n\r\n%s",
                 strlen(page), page);
        return reply(c, &q, 200, (int64_t)strlen(page), h);
    }
    if (head && cfg.head_status) {
        snprintf(h, sizeof h, "HTTP/1.1 %d Refused\r\nContent-Length: 0\r\n"
                              "\r\n", cfg.head_status);
        return reply(c, &q, cfg.head_status, 0, h);
    }
    if (!head && cfg.fail_status && fs_take(&cfg.fail_count)) {
        const char *body = "<html>try again later</html>";
        snprintf(h, sizeof h, "HTTP/1.1 %d Failing\r\nContent-Type: text/html"
                              "\r\nContent-Length: %zu\r\n",
                 cfg.fail_status, strlen(body));
        if (cfg.retry_after >= 0 && cfg.retry_date) {
            time_t when = time(NULL) + cfg.retry_after;
            struct tm tm;
            char date[64];
            (void)gmtime_r(&when, &tm);
            (void)strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT",
                           &tm);
            snprintf(h + strlen(h), sizeof h - strlen(h),
                     "Retry-After: %s\r\n", date);
        } else if (cfg.retry_after >= 0) {
            snprintf(h + strlen(h), sizeof h - strlen(h),
                     "Retry-After: %d\r\n", cfg.retry_after);
        }
        strcat(h, "\r\n");
        strcat(h, body);
        return reply(c, &q, cfg.fail_status, (int64_t)strlen(body), h);
    }
    if (cfg.conditional && (cfg.conditional == 1 || !q.range[0])) {
        int match = 0;
        if (q.inm[0])
            match = c->etag && (strcmp(q.inm, "*") == 0 ||
                                strcmp(q.inm, c->etag) == 0);
        else if (q.ims[0])
            match = c->lastmod && strcmp(q.ims, c->lastmod) == 0;
        if (match) {
            snprintf(h, sizeof h, "HTTP/1.1 304 Not Modified\r\n");
            common(c, h, sizeof h);
            strcat(h, "\r\n");
            return reply(c, &q, 304, 0, h);
        }
    }
    if (cfg.empty206 && cfg.size == 0 && q.range[0] && !head) {
        snprintf(h, sizeof h, "HTTP/1.1 206 Partial Content\r\n"
                              "Content-Range: bytes 0-0/0\r\n"
                              "Content-Length: 1\r\n");
        common(c, h, sizeof h);
        strcat(h, "\r\n");
        if (reply(c, &q, 206, 0, h) < 0)
            return -1;
        return cfg.empty206 == 2 ? -1 : 0;
    }
    /* If-Range: a validator that no longer matches means the whole body. */
    int if_range_fails = q.if_range[0] && c->etag && q.if_range[0] == '"' &&
                         strcmp(q.if_range, c->etag) != 0;
    int64_t a = 0, b = cfg.size - 1;
    int ranged = 0;
    if (q.range[0] && !cfg.ignore_ranges && !cfg.chunked && !if_range_fails) {
        int r = parse_range(q.range, &a, &b);
        if ((r == -2 || (r == 0 && cfg.size == 0)) && cfg.bare416) {
            const char *msg = "Requested range not satisfiable";
            snprintf(h, sizeof h, "HTTP/1.1 416 Requested Range Not "
                                  "Satisfiable\r\nContent-Type: text/plain"
                                  "\r\nContent-Length: %zu\r\n\r\n%s",
                     strlen(msg), msg);
            return reply(c, &q, 416, (int64_t)strlen(msg), h);
        }
        if (r == -2 || (r == 0 && cfg.size == 0)) {
            snprintf(h, sizeof h, "HTTP/1.1 416 Range Not Satisfiable\r\n"
                                  "Content-Range: bytes */%" PRId64
                                  "\r\nContent-Length: 0\r\n\r\n",
                     cfg.size);
            return reply(c, &q, 416, 0, h);
        }
        ranged = r == 0;
        if (!ranged) {
            a = 0;
            b = cfg.size - 1;
        }
    }
    return serve_resource(c, &q, ranged, a, b);
}
