/* SPDX-License-Identifier: MIT */
/*
 * faultsrv - a scriptable, misbehaving HTTP/1.1 server for segget's tests.
 *
 * It serves one resource (every path names it; /missing answers 404) whose
 * bytes come from content.h, and misbehaves as the command line says:
 * refuse or lie to HEAD, ignore ranges, shift Content-Range, drop
 * connections mid-body, fail the first requests with a status, answer
 * chunked without a length, limit the rate of every connection or make
 * every Kth connection slow.  It listens on a socket it inherits (argv[1]
 * is the descriptor; the test bound it to 127.0.0.1:0), serves each
 * connection on its own thread with keep-alive, and appends one line per
 * response to the log file:
 * "STATUS BYTES_SENT METHOD RANGE SERIAL SPEED IF-RANGE" (SPEED: slow or
 * fast, for --slow-every; spaces in RANGE and IF-RANGE become '_').
 * With --log-conditions each line goes on with " inm=V ims=V pa=yes|no
 * au=yes|no path=P": the If-None-Match and If-Modified-Since the request
 * carried ('-' when absent, spaces as '_'), whether it carried
 * Proxy-Authorization and Authorization, and the request target.
 *
 * Options added for the regression tests (tests/integration/test_regress.c):
 *   --length-all V       a literal "Content-Length: V" on every response
 *                        of the resource (HEAD, 200 and 206), each of which
 *                        then closes its connection after its body;
 *   --range-total-value V  206s say "Content-Range: bytes A-B/V" (the true
 *                        range, a literal total);
 *   --bare-416           416 answers carry no Content-Range, only a short
 *                        text body (npm http-server);
 *   --empty-206 keep|close  a Range request for the empty resource is
 *                        answered "206, Content-Range: bytes 0-0/0,
 *                        Content-Length: 1" and no body (s3rver), then the
 *                        connection is kept or closed;
 *   --conditional        304 to an If-None-Match that matches the ETag
 *                        (or "*"), or, without one, an If-Modified-Since
 *                        equal to Last-Modified;
 *   --conditional-no-range  the same only for requests without Range:
 *                        with Range the conditions are ignored (206), as
 *                        http-server does;
 *   --proxy-407          a proxy refusing the credentials: every request
 *                        (CONNECT or any other) gets "407 Proxy
 *                        Authentication Required" with Proxy-Authenticate;
 *   --log-conditions     the longer log lines above;
 *   --empty-after K      from the (K+1)th GET on, the resource is empty;
 *   --retry-date         --retry-after N as an HTTP-date N seconds ahead.
 * It runs until killed.
 */
#include <errno.h>
#include <inttypes.h>
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

static struct {
    int64_t size;
    uint64_t seed;
    const char *etag;    /* header value, NULL: none */
    const char *lastmod; /* NULL: none */
    int head_status;     /* 0: like GET */
    int head_no_length;
    int64_t head_length; /* -1: the truth */
    int no_accept_ranges;
    int ignore_ranges;
    int chunked;
    int64_t shift;
    int64_t drop_after; /* -1: never */
    int drop_count;     /* responses that drop; -1: all */
    int fail_status;
    int fail_count;
    int retry_after; /* -1: no header */
    int retry_date;  /* with retry_after: as an HTTP-date that far ahead */
    int64_t rate;    /* bytes per second per connection, 0: unlimited */
    int slow_every;  /* every Kth connection is slow, 0: none */
    int64_t slow_rate;
    int trickle_every;   /* every Kth connection trickles 1 B/s ... */
    int64_t trickle_after; /* ... after this many body bytes */
    int64_t trickle_bps;   /* ... at this many bytes a second (1) */
    int change_after;    /* after K GETs the resource changes (same size) */
    int empty_after;     /* after K GETs the resource is empty */
    const char *range_value; /* literal Content-Range for 206s */
    int no_range_header; /* 206 without Content-Range */
    int64_t range_total; /* Content-Range total to claim, -1: truth */
    int64_t extra;       /* body bytes beyond the range, no Content-Length */
    int multipart;       /* 206 as multipart/byteranges */
    int gzip;            /* Content-Encoding: gzip on every GET */
    int html200;         /* every GET: 200 with a small HTML page */
    const char *length_value; /* literal Content-Length for 200s and HEAD */
    const char *disposition;  /* Content-Disposition value */
    int reset;                /* drop with a TCP reset, not a close */
    const char *length_all;   /* literal Content-Length for every response */
    const char *range_total_value; /* literal Content-Range total */
    int bare416;              /* 416 without Content-Range */
    int empty206;             /* 1: keep the connection, 2: close it */
    int conditional;          /* 1: 304 always, 2: only without Range */
    int proxy407;             /* every request: 407 */
    int log_conditions;
    const char *log;
} cfg = {.size = 1 << 20, .seed = 1, .head_length = -1, .drop_after = -1,
         .drop_count = -1, .retry_after = -1, .range_total = -1};

static int gets_served; /* GET responses begun, under mu */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static __thread int64_t conn_rate; /* this connection's limit */
static __thread int64_t conn_serial;
static __thread int conn_slow;
static __thread int conn_trickle;
static __thread uint64_t cur_seed;  /* the resource version served */
static __thread const char *cur_etag, *cur_lastmod;
static __thread char if_range[2048];
static __thread char req_inm[2048], req_ims[160];
static __thread int req_proxy_auth, req_auth;
static __thread char req_path[1024];
static FILE *logfile;

/* Take one from a shared budget; -1 means unlimited.  Returns 1 if taken. */
static int take(int *budget)
{
    pthread_mutex_lock(&mu);
    int ok = *budget != 0;
    if (*budget > 0)
        (*budget)--;
    pthread_mutex_unlock(&mu);
    return ok;
}

/* v as one log field: '-' when empty, spaces as '_'. */
static void log_word(const char *v)
{
    if (!v[0])
        fputc('-', logfile);
    for (; *v; v++)
        fputc(*v == ' ' ? '_' : *v, logfile);
}

static void logline(const char *method, int status, int64_t sent,
                    const char *range)
{
    pthread_mutex_lock(&mu);
    if (logfile) {
        fprintf(logfile, "%d %" PRId64 " %s %s %" PRId64 " %s %s", status,
                sent, method, range[0] ? range : "-", conn_serial,
                conn_slow ? "slow" : "fast", if_range[0] ? if_range : "-");
        if (cfg.log_conditions) {
            fputs(" inm=", logfile);
            log_word(req_inm);
            fputs(" ims=", logfile);
            log_word(req_ims);
            fprintf(logfile, " pa=%s au=%s path=",
                    req_proxy_auth ? "yes" : "no", req_auth ? "yes" : "no");
            log_word(req_path);
        }
        fputc('\n', logfile);
        fflush(logfile);
    }
    pthread_mutex_unlock(&mu);
}

static int send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Send bytes [from, from+len) of the resource; stop after limit bytes
 * (-1: no limit).  Returns bytes sent, or -1 when the peer went away. */
static int64_t send_body(int fd, int64_t from, int64_t len, int64_t limit,
                         int chunked)
{
    static __thread unsigned char buf[65536];
    int64_t sent = 0;
    while (sent < len) {
        int64_t n = len - sent;
        if (n > (int64_t)sizeof buf)
            n = sizeof buf;
        if (limit >= 0 && sent + n > limit)
            n = limit - sent;
        if (n <= 0)
            break;
        if (conn_trickle && sent >= cfg.trickle_after)
            n = 1;
        content_fill(cur_seed, (uint64_t)(from + sent), buf, (size_t)n);
        if (chunked) {
            char h[32];
            int hl = snprintf(h, sizeof h, "%" PRIx64 "\r\n", n);
            if (send_all(fd, h, (size_t)hl) < 0)
                return -1;
        }
        if (send_all(fd, buf, (size_t)n) < 0 ||
            (chunked && send_all(fd, "\r\n", 2) < 0))
            return -1;
        sent += n;
        if (conn_trickle && sent >= cfg.trickle_after) {
            int64_t ns = 1000000000 / (cfg.trickle_bps > 0 ? cfg.trickle_bps
                                                           : 1);
            struct timespec ts = {ns / 1000000000, ns % 1000000000};
            nanosleep(&ts, NULL);
        } else if (conn_rate > 0) {
            int64_t ns = n * 1000000000 / conn_rate;
            struct timespec ts = {ns / 1000000000, ns % 1000000000};
            nanosleep(&ts, NULL);
        }
    }
    if (chunked && sent == len && send_all(fd, "0\r\n\r\n", 5) < 0)
        return -1;
    return sent;
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

static void common(char *h, size_t n)
{
    size_t l = strlen(h);
    if (cur_etag)
        l += (size_t)snprintf(h + l, n - l, "ETag: %s\r\n", cur_etag);
    if (cur_lastmod)
        l += (size_t)snprintf(h + l, n - l, "Last-Modified: %s\r\n",
                              cur_lastmod);
    if (cfg.disposition)
        l += (size_t)snprintf(h + l, n - l, "Content-Disposition: %s\r\n",
                              cfg.disposition);
    /* --ignore-ranges still advertises them: a server that lies. */
    if (!cfg.no_accept_ranges && !cfg.chunked)
        (void)snprintf(h + l, n - l, "Accept-Ranges: bytes\r\n");
}

/* Serve one request; returns 0 to keep the connection, -1 to close. */
static int serve(int fd, char *req)
{
    char method[16] = "", path[1024] = "", range[128] = "";
    if (sscanf(req, "%15s %1023s", method, path) != 2)
        return -1;
    if_range[0] = req_inm[0] = req_ims[0] = '\0';
    req_proxy_auth = req_auth = 0;
    snprintf(req_path, sizeof req_path, "%s", path);
    for (char *l = strstr(req, "\r\n"); l; l = strstr(l + 2, "\r\n")) {
        if (strncasecmp(l + 2, "Range:", 6) == 0)
            (void)sscanf(l + 8, " %127[^\r]", range);
        if (strncasecmp(l + 2, "If-Range:", 9) == 0)
            (void)sscanf(l + 11, " %2047[^\r]", if_range);
        if (strncasecmp(l + 2, "If-None-Match:", 14) == 0)
            (void)sscanf(l + 16, " %2047[^\r]", req_inm);
        if (strncasecmp(l + 2, "If-Modified-Since:", 18) == 0)
            (void)sscanf(l + 20, " %159[^\r]", req_ims);
        if (strncasecmp(l + 2, "Proxy-Authorization:", 20) == 0)
            req_proxy_auth = 1;
        if (strncasecmp(l + 2, "Authorization:", 14) == 0)
            req_auth = 1;
    }
    for (char *c = if_range; *c; c++)
        if (*c == ' ')
            *c = '_';

    int head = strcmp(method, "HEAD") == 0;
    /* Which version of the resource this response serves. */
    static char etag2[80];
    pthread_mutex_lock(&mu);
    int changed = cfg.change_after && gets_served >= cfg.change_after;
    if (!head && cfg.empty_after && gets_served >= cfg.empty_after)
        cfg.size = 0;
    if (!head)
        gets_served++;
    pthread_mutex_unlock(&mu);
    cur_seed = changed ? cfg.seed + 1000 : cfg.seed;
    cur_etag = cfg.etag;
    cur_lastmod = cfg.lastmod;
    if (changed) {
        snprintf(etag2, sizeof etag2, "\"sg-changed\"");
        cur_etag = cfg.etag ? etag2 : NULL;
        cur_lastmod = cfg.lastmod ? "Mon, 02 Nov 2026 00:00:00 GMT" : NULL;
    }
    /* If-Range: a validator that no longer matches means the whole body. */
    int if_range_fails = if_range[0] && cur_etag && if_range[0] == '"' &&
                         strcmp(if_range, cur_etag) != 0;
    char h[8192];
    int64_t sent = 0;

    if (cfg.proxy407) {
        snprintf(h, sizeof h, "HTTP/1.1 407 Proxy Authentication Required\r\n"
                              "Proxy-Authenticate: Basic realm=\"x\"\r\n"
                              "Content-Length: 0\r\n\r\n");
        logline(method, 407, 0, range);
        return send_all(fd, h, strlen(h));
    }
    if (strcmp(path, "/missing") == 0) {
        snprintf(h, sizeof h, "HTTP/1.1 404 Not Found\r\nContent-Length: 9"
                              "\r\n\r\nnot found");
        logline(method, 404, 9, range);
        return send_all(fd, h, strlen(h));
    }
    if (!head && cfg.html200) {
        const char *page = "<html>error</html>";
        snprintf(h, sizeof h, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                              "Content-Length: %zu\r\n\r\n%s",
                 strlen(page), page);
        logline(method, 200, (int64_t)strlen(page), range);
        return send_all(fd, h, strlen(h));
    }
    if (head && cfg.head_status) {
        snprintf(h, sizeof h, "HTTP/1.1 %d Refused\r\nContent-Length: 0\r\n"
                              "\r\n", cfg.head_status);
        logline(method, cfg.head_status, 0, range);
        return send_all(fd, h, strlen(h));
    }
    if (!head && cfg.fail_status && take(&cfg.fail_count)) {
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
        logline(method, cfg.fail_status, (int64_t)strlen(body), range);
        return send_all(fd, h, strlen(h));
    }
    if (cfg.conditional && (cfg.conditional == 1 || !range[0])) {
        int match = 0;
        if (req_inm[0])
            match = cur_etag && (strcmp(req_inm, "*") == 0 ||
                                 strcmp(req_inm, cur_etag) == 0);
        else if (req_ims[0])
            match = cur_lastmod && strcmp(req_ims, cur_lastmod) == 0;
        if (match) {
            snprintf(h, sizeof h, "HTTP/1.1 304 Not Modified\r\n");
            common(h, sizeof h);
            strcat(h, "\r\n");
            logline(method, 304, 0, range);
            return send_all(fd, h, strlen(h));
        }
    }
    if (cfg.empty206 && cfg.size == 0 && range[0] && !head) {
        snprintf(h, sizeof h, "HTTP/1.1 206 Partial Content\r\n"
                              "Content-Range: bytes 0-0/0\r\n"
                              "Content-Length: 1\r\n");
        common(h, sizeof h);
        strcat(h, "\r\n");
        logline(method, 206, 0, range);
        if (send_all(fd, h, strlen(h)) < 0)
            return -1;
        return cfg.empty206 == 2 ? -1 : 0;
    }
    int64_t a = 0, b = cfg.size - 1;
    int ranged = 0;
    if (range[0] && !cfg.ignore_ranges && !cfg.chunked && !if_range_fails) {
        int r = parse_range(range, &a, &b);
        if ((r == -2 || (r == 0 && cfg.size == 0)) && cfg.bare416) {
            const char *msg = "Requested range not satisfiable";
            snprintf(h, sizeof h, "HTTP/1.1 416 Requested Range Not "
                                  "Satisfiable\r\nContent-Type: text/plain"
                                  "\r\nContent-Length: %zu\r\n\r\n%s",
                     strlen(msg), msg);
            logline(method, 416, (int64_t)strlen(msg), range);
            return send_all(fd, h, strlen(h));
        }
        if (r == -2 || (r == 0 && cfg.size == 0)) {
            snprintf(h, sizeof h, "HTTP/1.1 416 Range Not Satisfiable\r\n"
                                  "Content-Range: bytes */%" PRId64
                                  "\r\nContent-Length: 0\r\n\r\n",
                     cfg.size);
            logline(method, 416, 0, range);
            return send_all(fd, h, strlen(h));
        }
        ranged = r == 0;
        if (!ranged) {
            a = 0;
            b = cfg.size - 1;
        }
    }
    int64_t len = b - a + 1;
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
    common(h, sizeof h);
    if (cfg.gzip && !head)
        strcat(h, "Content-Encoding: gzip\r\n");
    if ((ranged && cfg.extra) || cfg.length_all)
        strcat(h, "Connection: close\r\n");
    strcat(h, "\r\n");
    int status = ranged ? 206 : 200;
    if (send_all(fd, h, strlen(h)) < 0)
        return -1;
    if (head) {
        logline(method, status, 0, range);
        return cfg.length_all ? -1 : 0;
    }
    int64_t limit = cfg.drop_after >= 0 && take(&cfg.drop_count)
                        ? cfg.drop_after
                        : -1;
    sent = send_body(fd, a, len, limit, cfg.chunked && !ranged);
    if (limit >= 0 && cfg.reset) {
        /* SO_LINGER 0: close() sends RST instead of FIN. */
        struct linger lg = {1, 0};
        (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    if (ranged && cfg.extra && sent == len) {
        /* A body longer than the range: more bytes, then close. */
        int64_t more = send_body(fd, b + 1 < cfg.size ? b + 1 : 0, cfg.extra,
                                 -1, 0);
        sent += more > 0 ? more : 0;
        logline(method, status, sent, range);
        return -1;
    }
    logline(method, status, sent < 0 ? 0 : sent, range);
    if (sent < len || cfg.length_all)
        return -1; /* dropped on purpose or by the peer */
    return 0;
}

struct conn_arg {
    int fd;
    int64_t serial;
};

static void *conn_main(void *arg)
{
    struct conn_arg *a = arg;
    int fd = a->fd;
    conn_serial = a->serial;
    free(a);
    conn_slow = cfg.slow_every && conn_serial % cfg.slow_every == 0;
    conn_trickle = cfg.trickle_every && conn_serial % cfg.trickle_every == 0;
    conn_rate = conn_slow ? cfg.slow_rate : cfg.rate;
    char req[8192];
    size_t have = 0;
    for (;;) {
        char *end;
        while (!(end = memmem(req, have, "\r\n\r\n", 4))) {
            if (have == sizeof req - 1)
                goto out;
            ssize_t n = recv(fd, req + have, sizeof req - 1 - have, 0);
            if (n <= 0)
                goto out;
            have += (size_t)n;
        }
        *end = '\0';
        size_t used = (size_t)(end + 4 - req);
        if (serve(fd, req) < 0)
            break;
        memmove(req, req + used, have - used);
        have -= used;
    }
out:
    close(fd);
    return NULL;
}

static int64_t num(const char *s)
{
    return strtoll(s, NULL, 10);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: faultsrv LISTEN_FD [options]\n");
        return 2;
    }
    int lfd = (int)num(argv[1]);
    static char etag[64];
    snprintf(etag, sizeof etag, "\"sg-%d\"", 1);
    cfg.etag = etag;
    cfg.lastmod = "Sun, 01 Nov 2026 00:00:00 GMT";
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
        int used = 1;
        if (!strcmp(o, "--size")) cfg.size = num(v);
        else if (!strcmp(o, "--seed")) cfg.seed = (uint64_t)num(v);
        else if (!strcmp(o, "--etag")) cfg.etag = strcmp(v, "none") ? v : NULL;
        else if (!strcmp(o, "--lastmod"))
            cfg.lastmod = strcmp(v, "none") ? v : NULL;
        else if (!strcmp(o, "--head-status")) cfg.head_status = (int)num(v);
        else if (!strcmp(o, "--head-length")) cfg.head_length = num(v);
        else if (!strcmp(o, "--shift-range")) cfg.shift = num(v);
        else if (!strcmp(o, "--drop-after")) cfg.drop_after = num(v);
        else if (!strcmp(o, "--drop-count")) cfg.drop_count = (int)num(v);
        else if (!strcmp(o, "--fail-status")) cfg.fail_status = (int)num(v);
        else if (!strcmp(o, "--fail-count")) cfg.fail_count = (int)num(v);
        else if (!strcmp(o, "--retry-after")) cfg.retry_after = (int)num(v);
        else if (!strcmp(o, "--log")) cfg.log = v;
        else if (!strcmp(o, "--rate")) cfg.rate = num(v);
        else if (!strcmp(o, "--slow-every")) cfg.slow_every = (int)num(v);
        else if (!strcmp(o, "--slow-rate")) cfg.slow_rate = num(v);
        else if (!strcmp(o, "--trickle-every"))
            cfg.trickle_every = (int)num(v);
        else if (!strcmp(o, "--trickle-after")) cfg.trickle_after = num(v);
        else if (!strcmp(o, "--trickle-bps")) cfg.trickle_bps = num(v);
        else if (!strcmp(o, "--change-after")) cfg.change_after = (int)num(v);
        else if (!strcmp(o, "--empty-after")) cfg.empty_after = (int)num(v);
        else if (!strcmp(o, "--range-value")) cfg.range_value = v;
        else if (!strcmp(o, "--range-total")) cfg.range_total = num(v);
        else if (!strcmp(o, "--extra-bytes")) cfg.extra = num(v);
        else if (!strcmp(o, "--length-value")) cfg.length_value = v;
        else if (!strcmp(o, "--disposition")) cfg.disposition = v;
        else if (!strcmp(o, "--length-all")) cfg.length_all = v;
        else if (!strcmp(o, "--range-total-value"))
            cfg.range_total_value = v;
        else if (!strcmp(o, "--empty-206")) {
            cfg.empty206 = !strcmp(v, "close") ? 2 : 1;
        }
        else {
            used = 0;
            if (!strcmp(o, "--head-no-length")) cfg.head_no_length = 1;
            else if (!strcmp(o, "--no-accept-ranges"))
                cfg.no_accept_ranges = 1;
            else if (!strcmp(o, "--ignore-ranges")) cfg.ignore_ranges = 1;
            else if (!strcmp(o, "--chunked")) cfg.chunked = 1;
            else if (!strcmp(o, "--no-range-header")) cfg.no_range_header = 1;
            else if (!strcmp(o, "--multipart")) cfg.multipart = 1;
            else if (!strcmp(o, "--gzip")) cfg.gzip = 1;
            else if (!strcmp(o, "--html-200")) cfg.html200 = 1;
            else if (!strcmp(o, "--reset")) cfg.reset = 1;
            else if (!strcmp(o, "--retry-date")) cfg.retry_date = 1;
            else if (!strcmp(o, "--bare-416")) cfg.bare416 = 1;
            else if (!strcmp(o, "--conditional")) cfg.conditional = 1;
            else if (!strcmp(o, "--conditional-no-range"))
                cfg.conditional = 2;
            else if (!strcmp(o, "--proxy-407")) cfg.proxy407 = 1;
            else if (!strcmp(o, "--log-conditions")) cfg.log_conditions = 1;
            else {
                fprintf(stderr, "faultsrv: unknown option %s\n", o);
                return 2;
            }
        }
        i += used;
    }
    if (cfg.log && !(logfile = fopen(cfg.log, "a"))) {
        perror("faultsrv: log");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    for (int64_t serial = 1;; serial++) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) {
                serial--;
                continue;
            }
            return 1;
        }
        struct conn_arg *a = malloc(sizeof *a);
        pthread_t t;
        if (!a) {
            close(fd);
            continue;
        }
        a->fd = fd;
        a->serial = serial;
        if (pthread_create(&t, NULL, conn_main, a) != 0) {
            free(a);
            close(fd);
        } else {
            pthread_detach(t);
        }
    }
}
