/* SPDX-License-Identifier: MIT */
/*
 * faultsrv - a scriptable, misbehaving HTTP/1.1 server for segget's tests.
 *
 * It serves one resource (every path names it; /missing, whatever its
 * query, answers 404) whose bytes come from content.h, and misbehaves as
 * the command line says: refuse or lie to HEAD, ignore ranges, shift
 * Content-Range, drop connections mid-body, fail the first requests with
 * a status, answer chunked without a length, limit the rate of every
 * connection or make every Kth connection slow, refuse requests beyond a
 * number in progress, hand out signed URLs that expire, declare the
 * resource's checksums, right or wrong.  It listens on a socket it
 * inherits (argv[1] is the descriptor; the test bound it to 127.0.0.1:0),
 * serves each connection on its own thread with keep-alive, and appends
 * one line per response to the log file:
 * "STATUS BYTES_SENT METHOD RANGE SERIAL SPEED IF-RANGE" (SERIAL: the
 * connection's, 1 for the first accepted; SPEED: slow or fast, for
 * --slow-every; '-' for an absent RANGE or IF-RANGE, spaces in them as
 * '_').  BYTES_SENT counts the body bytes the kernel took, also when the
 * client vanished mid-body (the line is then written as soon as a write
 * fails or the client's hang-up ends a paced wait; the count may exceed
 * what the client read by what the socket buffers held).  A request
 * refused by --cap-mode reset is logged with STATUS 0.
 * With --log-conditions each line goes on with " inm=V ims=V pa=yes|no
 * au=yes|no path=P": the If-None-Match and If-Modified-Since the request
 * carried ('-' when absent, spaces as '_'), whether it carried
 * Proxy-Authorization and Authorization, and the request target.
 * This file parses the options, runs the connections and writes the logs;
 * faultsrv_resp.c writes the responses, faultsrv_declare.c the checksums
 * they declare.
 *
 *   --log FILE           the log above (fsrv_start() always passes one).
 * The resource and its validators:
 *   --size N             its length (1 MiB);
 *   --seed N             its bytes (content.h; 1);
 *   --etag V|none        its ETag ("sg-1", quoted);
 *   --lastmod V|none     its Last-Modified (Sun, 01 Nov 2026 00:00:00 GMT);
 *   --change-after K     from the (K+1)th GET on, other bytes (seed+1000),
 *                        ETag "sg-changed", a later Last-Modified;
 *   --empty-after K      from the (K+1)th GET on, the resource is empty;
 *                        both count GETs past --cap and --sign-ttl;
 *   --disposition V      a Content-Disposition: V on its answers.
 * HEAD:
 *   --head-status S      HEAD gets S and no body;
 *   --head-length N      HEAD claims Content-Length: N;
 *   --head-no-length     HEAD has no Content-Length.
 * Ranges and lengths:
 *   --no-accept-ranges   no Accept-Ranges header (ranges still served);
 *   --ignore-ranges      200 and the whole body to a Range (Accept-Ranges
 *                        still sent);
 *   --chunked            GET: 200, chunked, no length, ranges ignored;
 *   --shift-range N      206s claim the range N bytes off (body: the true
 *                        one);
 *   --range-value V      206s say "Content-Range: V";
 *   --range-total N      206s claim total N;
 *   --no-range-header    206s without Content-Range;
 *   --extra-bytes N      206s carry N bytes past the range, without
 *                        Content-Length, then close;
 *   --multipart          206s typed multipart/byteranges (body: the range);
 *   --gzip               Content-Encoding: gzip on every GET (body as is);
 *   --length-value V     200s and HEAD say "Content-Length: V".
 * Failures:
 *   --html-200           every GET: 200 with a small HTML page;
 *   --fail-status S      the first --fail-count K GETs get S and a small
 *                        HTML body, with "Retry-After: N" for
 *                        --retry-after N;
 *   --drop-after N       bodies stop after N bytes and the connection
 *                        closes, for the first --drop-count K responses
 *                        (all); --reset: with a TCP reset, not a FIN.
 * Pace (of bodies, per connection):
 *   --rate B             B bytes a second;
 *   --slow-every K       every Kth connection at --slow-rate B instead;
 *   --trickle-every K    every Kth connection, after --trickle-after N
 *                        bytes of each body, sends one byte at a time,
 *                        --trickle-bps B a second (1); --trickle-count N:
 *                        only the first N connections so chosen trickle
 *                        (all), later ones are fast.
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
 *   --retry-date         --retry-after N as an HTTP-date N seconds ahead.
 * A connection cap (nginx "limit_conn perip K"; every test client is
 * 127.0.0.1, so all requests count together):
 *   --cap K              at most K responses in progress, each from its
 *                        request's headers read until just before its last
 *                        write (or its connection's end), so a client that
 *                        has seen a whole response is never refused for it
 *                        (with --rate a body goes out in 64 KiB writes, so
 *                        a shorter one ends at its first); HEAD counts
 *                        like any other, idle keep-alive connections do
 *                        not.  A request beyond them is refused, before
 *                        any other rule;
 *   --cap-mode 503|429|reset  how (503): "503 Service Temporarily
 *                        Unavailable" or "429 Too Many Requests" with a
 *                        short HTML body (none to HEAD) and Content-Length,
 *                        the connection kept alive; or a TCP reset (SO_LINGER
 *                        0) and no response, logged with STATUS 0;
 *   --cap-retry-after N  a refusal carries "Retry-After: N";
 *   --cap-log FILE       appends "START IN_PROGRESS MS" when a request is
 *                        admitted (not for refusals): the responses in
 *                        progress with it, and the milliseconds since the
 *                        server started (monotonic).  The peak concurrency
 *                        is the largest IN_PROGRESS.  Written with or
 *                        without --cap.
 * Signed, expiring URLs (S3 or CDN presigned links; only the query is
 * checked, every path still names the resource):
 *   --sign-ttl MS        a request whose query has no sig= gets "302 Found"
 *                        to "Location: PATH?exp=E&sig=S" (relative, PATH its
 *                        own, other parameters dropped), E the deadline in
 *                        milliseconds since the epoch, now + MS, and S the
 *                        16 lowercase hex digits of FNV-1a-64 over
 *                        "PATH\nE".  A URL with a sig= is served normally
 *                        while E has not passed; past E, or with a wrong
 *                        sig or a missing or malformed exp, it gets
 *                        --expired-status and a short
 *                        S3 XML error body ("Request has expired" or
 *                        "...signature...does not match..."), none to HEAD;
 *   --expired-status S   that status: 400, 401, 403 (default) or 410.
 * Declared checksums of the whole resource (computed at start-up, of the
 * version a response serves: --change-after's other bytes, --empty-after's
 * empty resource), on its HEAD, 200 and 206 answers only (not on errors,
 * 304s, --html-200's page or --empty-206's answer); Base64 is RFC 4648's,
 * with padding, and the kinds' lines come in the order of the list:
 *   --declare LIST       comma-separated kinds, each adding:
 *     repr-sha256        Repr-Digest: sha-256=:B64:   (RFC 9530)
 *     repr-sha512        Repr-Digest: sha-512=:B64:
 *     repr-both          Repr-Digest: sha-256=:B64:, sha-512=:B64:
 *     repr-unknown       Repr-Digest: adler=:B64:, an algorithm RFC 9530
 *                        registers as deprecated (the Adler-32's 4 bytes,
 *                        big-endian, as a Byte Sequence like any member);
 *     digest-sha256      Digest: SHA-256=B64          (RFC 3230)
 *     digest-md5         Digest: MD5=B64
 *     digest-sha         Digest: SHA=B64              (SHA-1)
 *     content-md5        Content-MD5: B64, the MD5 of the body sent (RFC
 *                        1864): on a 206, of its part alone;
 *     amz-crc32, amz-crc32c, amz-crc64nvme, amz-sha1, amz-sha256
 *                        x-amz-checksum-ALGO: B64 of the checksum's bytes
 *                        (CRCs big-endian), and after them all, once,
 *                        x-amz-checksum-type: FULL_OBJECT;
 *     amz-composite      x-amz-checksum-crc32c: B64-4 and
 *                        x-amz-checksum-type: COMPOSITE, a multipart
 *                        upload's: the CRC-32C of the 4 big-endian
 *                        CRC-32Cs of parts of ceil(size/4) bytes (the last
 *                        shorter); no other amz-* kind goes with it;
 *     goog               x-goog-hash: crc32c=B64, md5=B64   (one field)
 *     goog-split         the same as two x-goog-hash fields;
 *   --declare-wrong      every value is of other bytes, those it describes
 *                        with the first one flipped (the empty resource:
 *                        one 0xff byte), and well formed;
 *   --declare-on head|get|all  the answers that carry them: HEAD's, GET's
 *                        (200 and 206), or both (all).
 * Events:
 *   --start-log FILE     appends "BODY SERIAL RANGE" (RANGE as in the log)
 *                        once the headers of a 200 or 206 to a GET for the
 *                        resource have gone out, before its body (also an
 *                        empty one); one write(2), O_APPEND, so a test can
 *                        wait for it.
 * It runs until killed.  An unknown option, a --cap-mode,
 * --expired-status, --declare kind or --declare-on it does not know, or a
 * log it cannot open make it exit with status 2.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "faultsrv.h"

struct fs_cfg cfg = {.size = 1 << 20, .seed = 1, .head_length = -1,
                     .drop_after = -1, .drop_count = -1, .retry_after = -1,
                     .range_total = -1, .trickle_count = -1,
                     .cap_status = 503, .cap_retry_after = -1,
                     .sign_ttl = -1, .expired_status = 403};

pthread_mutex_t fs_mu = PTHREAD_MUTEX_INITIALIZER;

static FILE *logfile;            /* --log, NULL: none */
static int cap_log = -1;         /* --cap-log, O_APPEND */
static int start_log = -1;       /* --start-log, O_APPEND */
static int in_progress;          /* responses admitted, not done; fs_mu */
static struct timespec started; /* CLOCK_MONOTONIC */

int fs_take(int *budget)
{
    pthread_mutex_lock(&fs_mu);
    int ok = *budget != 0;
    if (*budget > 0)
        (*budget)--;
    pthread_mutex_unlock(&fs_mu);
    return ok;
}

int fs_cap_admit(struct fs_conn *c)
{
    pthread_mutex_lock(&fs_mu);
    int ok = !cfg.cap || in_progress < cfg.cap;
    if (ok) {
        c->slot = 1;
        in_progress++;
    }
    if (ok && cap_log >= 0) {
        struct timespec now;
        (void)clock_gettime(CLOCK_MONOTONIC, &now);
        int64_t ms = (int64_t)(now.tv_sec - started.tv_sec) * 1000 +
                     (now.tv_nsec - started.tv_nsec) / 1000000;
        char l[64];
        int n = snprintf(l, sizeof l, "START %d %" PRId64 "\n", in_progress,
                         ms);
        (void)!write(cap_log, l, (size_t)n);
    }
    pthread_mutex_unlock(&fs_mu);
    return ok;
}

void fs_cap_release(struct fs_conn *c)
{
    if (!c->slot)
        return;
    pthread_mutex_lock(&fs_mu);
    in_progress--;
    c->slot = 0;
    pthread_mutex_unlock(&fs_mu);
}

/* v as one log field: '-' when empty, spaces as '_'. */
static void log_word(FILE *f, const char *v)
{
    if (!v[0])
        fputc('-', f);
    for (; *v; v++)
        fputc(*v == ' ' ? '_' : *v, f);
}

void fs_log(const struct fs_conn *c, const struct fs_req *q, int status,
            int64_t sent)
{
    pthread_mutex_lock(&fs_mu);
    if (logfile) {
        fprintf(logfile, "%d %" PRId64 " %s ", status, sent, q->method);
        log_word(logfile, q->range);
        fprintf(logfile, " %" PRId64 " %s ", c->serial,
                c->slow ? "slow" : "fast");
        log_word(logfile, q->if_range);
        if (cfg.log_conditions) {
            fputs(" inm=", logfile);
            log_word(logfile, q->inm);
            fputs(" ims=", logfile);
            log_word(logfile, q->ims);
            fprintf(logfile, " pa=%s au=%s path=",
                    q->proxy_auth ? "yes" : "no", q->auth ? "yes" : "no");
            log_word(logfile, q->target);
        }
        fputc('\n', logfile);
        fflush(logfile);
    }
    pthread_mutex_unlock(&fs_mu);
}

void fs_log_body(const struct fs_conn *c, const struct fs_req *q)
{
    if (start_log < 0)
        return;
    char l[192];
    int n = snprintf(l, sizeof l, "BODY %" PRId64 " ", c->serial);
    const char *r = q->range[0] ? q->range : "-";
    for (; *r && n < (int)sizeof l - 1; r++)
        l[n++] = *r == ' ' ? '_' : *r;
    l[n++] = '\n';
    (void)!write(start_log, l, (size_t)n); /* one write: one whole line */
}

static void *conn_main(void *arg)
{
    struct fs_conn *c = arg;
    char req[8192];
    size_t have = 0;
    for (;;) {
        char *end;
        while (!(end = memmem(req, have, "\r\n\r\n", 4))) {
            if (have == sizeof req - 1)
                goto out;
            ssize_t n = recv(c->fd, req + have, sizeof req - 1 - have, 0);
            if (n <= 0)
                goto out;
            have += (size_t)n;
        }
        *end = '\0';
        size_t used = (size_t)(end + 4 - req);
        int r = fs_serve(c, req);
        fs_cap_release(c);
        if (r < 0)
            break;
        memmove(req, req + used, have - used);
        have -= used;
    }
out:
    fs_cap_release(c);
    close(c->fd);
    free(c);
    return NULL;
}

static int64_t num(const char *s)
{
    return strtoll(s, NULL, 10);
}

/* An O_APPEND descriptor for a log of events, or -1 after a message. */
static int open_events(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        perror(path);
    return fd;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: faultsrv LISTEN_FD [options]\n");
        return 2;
    }
    int lfd = (int)num(argv[1]);
    const char *log_path = NULL, *cap_path = NULL, *start_path = NULL;
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
        else if (!strcmp(o, "--log")) log_path = v;
        else if (!strcmp(o, "--rate")) cfg.rate = num(v);
        else if (!strcmp(o, "--slow-every")) cfg.slow_every = (int)num(v);
        else if (!strcmp(o, "--slow-rate")) cfg.slow_rate = num(v);
        else if (!strcmp(o, "--trickle-every"))
            cfg.trickle_every = (int)num(v);
        else if (!strcmp(o, "--trickle-after")) cfg.trickle_after = num(v);
        else if (!strcmp(o, "--trickle-bps")) cfg.trickle_bps = num(v);
        else if (!strcmp(o, "--trickle-count"))
            cfg.trickle_count = (int)num(v);
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
        else if (!strcmp(o, "--cap")) cfg.cap = (int)num(v);
        else if (!strcmp(o, "--cap-mode")) {
            cfg.cap_status = !strcmp(v, "503")   ? 503
                             : !strcmp(v, "429") ? 429
                             : !strcmp(v, "reset") ? 0
                                                   : -1;
            if (cfg.cap_status < 0) {
                fprintf(stderr, "faultsrv: --cap-mode 503|429|reset\n");
                return 2;
            }
        }
        else if (!strcmp(o, "--cap-retry-after"))
            cfg.cap_retry_after = (int)num(v);
        else if (!strcmp(o, "--cap-log")) cap_path = v;
        else if (!strcmp(o, "--sign-ttl")) cfg.sign_ttl = num(v);
        else if (!strcmp(o, "--expired-status")) {
            int s = cfg.expired_status = (int)num(v);
            if (s != 400 && s != 401 && s != 403 && s != 410) {
                fprintf(stderr, "faultsrv: --expired-status 400|401|403|410"
                                "\n");
                return 2;
            }
        }
        else if (!strcmp(o, "--start-log")) start_path = v;
        else if (!strcmp(o, "--declare")) {
            if (declare_parse(v) < 0)
                return 2;
        }
        else if (!strcmp(o, "--declare-on")) {
            cfg.declare_on = !strcmp(v, "all")    ? FS_DECLARE_ALL
                             : !strcmp(v, "head") ? FS_DECLARE_HEAD
                             : !strcmp(v, "get")  ? FS_DECLARE_GET
                                                  : -1;
            if (cfg.declare_on < 0) {
                fprintf(stderr, "faultsrv: --declare-on head|get|all\n");
                return 2;
            }
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
            else if (!strcmp(o, "--declare-wrong")) cfg.declare_wrong = 1;
            else {
                fprintf(stderr, "faultsrv: unknown option %s\n", o);
                return 2;
            }
        }
        i += used;
    }
    if (log_path && !(logfile = fopen(log_path, "a"))) {
        perror("faultsrv: log");
        return 2;
    }
    if ((cap_path && (cap_log = open_events(cap_path)) < 0) ||
        (start_path && (start_log = open_events(start_path)) < 0) ||
        declare_init() < 0)
        return 2;
    (void)clock_gettime(CLOCK_MONOTONIC, &started);
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
        struct fs_conn *c = calloc(1, sizeof *c);
        pthread_t t;
        if (!c) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->serial = serial;
        c->slow = cfg.slow_every && serial % cfg.slow_every == 0;
        c->rate = c->slow ? cfg.slow_rate : cfg.rate;
        /* Chosen here, in the order of accept(), so that "the first N"
         * of --trickle-count are the first N serials. */
        c->trickle = cfg.trickle_every && serial % cfg.trickle_every == 0 &&
                     fs_take(&cfg.trickle_count);
        if (pthread_create(&t, NULL, conn_main, c) != 0) {
            free(c);
            close(fd);
        } else {
            pthread_detach(t);
        }
    }
}
