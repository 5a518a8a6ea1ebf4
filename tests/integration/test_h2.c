/* SPDX-License-Identifier: MIT */
/*
 * Integration tests of connection sharing against nginx offering HTTP/2
 * (TLS, ALPN): a batch's small files go as streams over one or two
 * connections, as curl --parallel does, while the ranges of a large file,
 * alone or in a batch beside small ones, each keep a connection to
 * themselves.  Over HTTPS without HTTP/2, the small files still go in
 * parallel on connections of their own.
 *
 * Connections are counted from nginx's access log ($connection), and a
 * request that ran at the same time as another on one connection is a
 * multiplexed stream (srv_usage).
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "wait.h"

#define KiB (INT64_C(1) << 10)
#define MiB (INT64_C(1) << 20)
#define NSMALL 200

/* Each small file's request lasts tens of milliseconds, so that sixteen
 * at once really run together; the large file's ranges last long enough
 * for its connections to overlap. */
#define LIMITS                                                                \
    "location /s/ { limit_rate 256k; } "                                      \
    "location = /big.bin { limit_rate 4m; }"

static srv S;
static const char *dir;
static char qpath[600];

static void up(void)
{
    dir = tmp_dir();
    snprintf(qpath, sizeof qpath, "%s/../queue.txt", dir);
}

static void down(void)
{
    unlink(qpath);
    if (S.pid > 0) {
        wait_srv_ready(&S, WAIT_MS); /* a test may not have used it */
        srv_stop(&S);
    }
    tmp_cleanup();
}

TestSuite(h2, .init = up, .fini = down, .timeout = 180);

/* NSMALL files of 2 KiB to 64 KiB under www/s/, each a line of q. */
static void small_files(FILE *q)
{
    char d[300];
    snprintf(d, sizeof d, "%s/s", S.www);
    cr_assert_eq(mkdir(d, 0755), 0);
    for (int i = 0; i < NSMALL; i++) {
        char name[32];
        snprintf(name, sizeof name, "s/f%03d.bin", i);
        int64_t size = 2 * KiB + (int64_t)(i * 7919 % 62) * KiB + i;
        srv_file(&S, name, size, 1000 + (uint64_t)i);
        fprintf(q, "%s\n", srv_url_tls(&S, name));
    }
}

/* Every small file arrived exactly. */
static void small_files_exact(void)
{
    for (int i = 0; i < NSMALL; i++) {
        char got[700], want[700];
        snprintf(got, sizeof got, "%s/f%03d.bin", dir, i);
        snprintf(want, sizeof want, "%s/s/f%03d.bin", S.www, i);
        cr_assert(same_file(got, want), "f%03d.bin differs", i);
    }
}

/* Run a batch of qpath with -j 16 and up to four more arguments; assert
 * success and wait until nginx has logged every request (it logs a request
 * before it closes the request's connection). */
static void run_batch(const char *a1, const char *a2, const char *a3,
                      const char *a4)
{
    const char *argv[] = {"-q", "-k", "-i", qpath, "-j", "16",
                          a1, a2, a3, a4, NULL};
    int rc = run_segget(dir, argv, 120);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    wait_srv_idle(&S, WAIT_MS);
}

Test(h2, small_files_share_one_connection_as_streams)
{
    srv_start_h2(&S, LIMITS);
    FILE *q = fopen(qpath, "w");
    cr_assert_not_null(q);
    small_files(q);
    cr_assert_eq(fclose(q), 0);
    run_batch(NULL, NULL, NULL, NULL);
    small_files_exact();
    srv_use u = srv_usage(&S, "/s/", "HTTP/2.0", 0);
    cr_assert_eq(u.requests, NSMALL, "%d requests", u.requests);
    cr_assert_eq(u.proto, NSMALL, "%d of %d requests over HTTP/2", u.proto,
                 u.requests);
    /* Sixteen at a time on connections of their own would take sixteen
     * connections; as streams, the first connection carries them all. */
    cr_assert_leq(u.conns, 2, "%d connections for %d small files", u.conns,
                  NSMALL);
    cr_assert_gt(u.overlaps, 0, "no two streams ran at once");
}

Test(h2, ranges_of_a_large_file_keep_their_own_connections)
{
    srv_start_h2(&S, LIMITS);
    const char *src = srv_file(&S, "big.bin", 32 * MiB, 7);
    const char *argv[] = {"-q", "-k", "-n", "8", srv_url_tls(&S, "big.bin"),
                          NULL};
    int rc = run_segget(dir, argv, 120);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    char path[700];
    snprintf(path, sizeof path, "%s/big.bin", dir);
    cr_assert(same_file(path, src));
    wait_srv_idle(&S, WAIT_MS);
    srv_use u = srv_usage(&S, "/big.bin", NULL, 0);
    cr_assert_geq(u.requests, 9, "%d requests (a probe and 8 ranges)",
                  u.requests);
    cr_assert_geq(u.conns, 8, "%d connections for 8 ranges", u.conns);
    cr_assert_eq(u.overlaps, 0, "%d pairs of ranges shared a connection",
                 u.overlaps);
}

Test(h2, a_batch_shares_for_small_files_not_for_a_large_one)
{
    srv_start_h2(&S, LIMITS);
    char src[600];
    snprintf(src, sizeof src, "%s", srv_file(&S, "big.bin", 32 * MiB, 7));
    FILE *q = fopen(qpath, "w");
    cr_assert_not_null(q);
    fprintf(q, "%s\n  n=8\n", srv_url_tls(&S, "big.bin"));
    small_files(q);
    cr_assert_eq(fclose(q), 0);
    /* Room on the host for the large file's 8 connections beside the
     * small files, which the batch counts one each; a first GET of 512 KiB
     * for the large file, so that its ranges run while most of the small
     * files are still to come. */
    run_batch("--max-per-host", "32", "--min-split", "256K");
    small_files_exact();
    char path[700];
    snprintf(path, sizeof path, "%s/big.bin", dir);
    cr_assert(same_file(path, src));
    srv_use s = srv_usage(&S, "/s/", "HTTP/2.0", 0);
    cr_assert_eq(s.requests, NSMALL, "%d requests", s.requests);
    cr_assert_eq(s.proto, NSMALL, "%d of %d requests over HTTP/2", s.proto,
                 s.requests);
    cr_assert_leq(s.conns, 2, "%d connections for %d small files", s.conns,
                  NSMALL);
    /* The large file's first GET was a stream beside the small files;
     * then its probe and its ranges had connections to themselves, while
     * small files still came. */
    srv_use f = srv_usage(&S, "/big.bin", "HTTP/2.0", 0);
    cr_assert_eq(f.proto, 1, "%d requests for the large file over HTTP/2",
                 f.proto);
    srv_use b = srv_usage(&S, "/big.bin", NULL, 1);
    cr_assert_gt(s.last, b.first + 0.2,
                 "the small files were done before the large file's ranges "
                 "began: nothing ran side by side");
    cr_assert_geq(b.requests, 9, "%d requests after the first GET",
                  b.requests);
    cr_assert_geq(b.conns, 8, "%d connections for 8 ranges", b.conns);
    cr_assert_eq(b.overlaps, 0,
                 "%d pairs of a range and another request shared a "
                 "connection",
                 b.overlaps);
}

Test(h2, without_http2_small_files_go_on_connections_of_their_own)
{
    srv_start_tls(&S, LIMITS);
    FILE *q = fopen(qpath, "w");
    cr_assert_not_null(q);
    small_files(q);
    cr_assert_eq(fclose(q), 0);
    run_batch(NULL, NULL, NULL, NULL);
    small_files_exact();
    srv_use u = srv_usage(&S, "/s/", "HTTP/1.1", 0);
    cr_assert_eq(u.requests, NSMALL, "%d requests", u.requests);
    cr_assert_eq(u.proto, NSMALL, "%d of %d requests over HTTP/1.1", u.proto,
                 u.requests);
    /* Waiting to learn whether the first connection multiplexes must not
     * leave them queued behind it. */
    cr_assert_geq(u.conns, 12, "%d connections for 16 at a time", u.conns);
    cr_assert_eq(u.overlaps, 0);
}

Test(h2, a_batch_of_streams_stopped_while_the_rate_limit_holds_them)
{
    /* Sixteen streams of 256 KiB/s under a limit of 1 MiB/s in all: most
     * are paused by the limit at any time, with bytes held back, when
     * SIGTERM stops the batch.  It ends as interrupted (and, in the
     * sanitizer pass, without leaking what the pauses held), and the same
     * command finishes it. */
    srv_start_h2(&S, LIMITS);
    FILE *q = fopen(qpath, "w");
    cr_assert_not_null(q);
    small_files(q);
    cr_assert_eq(fclose(q), 0);
    const char *argv[] = {"-q", "-k", "-i", qpath, "-j", "16",
                          "--limit-rate", "1M", NULL};
    pid_t pid = spawn_segget(dir, argv);
    AWAIT(wait_requests(&S, 206, 20, pid, WAIT_MS));
    kill(pid, SIGTERM);
    int rc = wait_child(pid, 60);
    cr_assert_eq(rc, 11, "exit %d: %s", rc, last_stderr());
    run_batch(NULL, NULL, NULL, NULL);
    small_files_exact();
    cr_assert_leq(srv_usage(&S, "/s/", NULL, 0).conns, 2,
                  "more than a connection for each of the two runs");
}
