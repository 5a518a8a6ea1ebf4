/* SPDX-License-Identifier: MIT */
/*
 * What servers in the wild do, on every path (single download, batch,
 * mirrors): hosts that are not there, runs killed again and again,
 * connections that stall at the end, signed URLs that expire, servers
 * that cap connections per client, and reruns of a finished command.
 *
 * Nothing here sleeps to synchronise: a test waits for an event (a line
 * in a log, a child ending) with a deadline.  Servers and spawned seggets
 * are torn down by the suite's fini, also after a failed assertion.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cases.h"
#include "content.h"
#include "harness.h"
#include "wait.h"

#define KiB (INT64_C(1) << 10)
#define MiB (INT64_C(1) << 20)

static srv S, M;
static const char *dir;
static char qpath[600];
static pid_t child;

static void up(void)
{
    memset(&S, 0, sizeof S);
    memset(&M, 0, sizeof M);
    child = 0;
    dir = tmp_dir();
    snprintf(qpath, sizeof qpath, "%s/../queue.txt", dir);
}

static void stop(srv *s)
{
    if (s->root[0])
        srv_stop(s);
    memset(s, 0, sizeof *s);
}

static void down(void)
{
    if (child > 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        child = 0;
    }
    segget_env(NULL);
    stop(&S);
    stop(&M);
    tmp_cleanup();
}

TestSuite(wild, .init = up, .fini = down, .timeout = 120);

/* --- nothing answers: fail fast --- */

/* A port on 127.0.0.1 that nobody listens on (it was bound, then
 * closed), as "http://127.0.0.1:PORT/name" in buf. */
static const char *refused_url(char *buf, size_t cap, const char *name)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    snprintf(buf, cap, "http://127.0.0.1:%d/%s", ntohs(a.sin_port), name);
    return buf;
}

/* What a run that gave up at once says: no retry was announced. */
static void assert_no_retry(const char *what)
{
    const char *err = last_stderr();
    cr_expect_null(strstr(err, "retrying"), "%s: retried: %s", what, err);
}

Test(wild, refused_connection_fails_at_once_single)
{
    char url[128];
    refused_url(url, sizeof url, "f");
    int64_t t0 = mono_ms();
    const char *o[] = {"--max-tries", "5", NULL};
    int rc = case_single(dir, o, url, NULL, 30);
    int64_t ms = mono_ms() - t0;
    cr_assert_eq(rc, 2, "exit %d: %s", rc, last_stderr());
    cr_expect(strstr(last_stderr(), "onnect"), "no reason: %s",
              last_stderr());
    assert_no_retry("single");
    /* Five tries with backoff took 5-6 s; one try takes milliseconds.
     * The bound leaves room for a loaded machine and sanitizers. */
    cr_expect_lt(ms, 1000, "took %lld ms", (long long)ms);
    cr_expect_eq(dir_entries(dir), 0, "litter");
}

Test(wild, unknown_host_fails_at_once_single)
{
    /* .invalid never resolves (RFC 6761).  How long the resolver takes
     * to say so is not segget's: the test asks only that it is asked
     * once. */
    const char *o[] = {"--max-tries", "5", NULL};
    int rc = case_single(dir, o, "http://segget-test.invalid/f", NULL, 60);
    cr_assert_eq(rc, 2, "exit %d: %s", rc, last_stderr());
    cr_expect(strstr(last_stderr(), "resolve"), "no reason: %s",
              last_stderr());
    assert_no_retry("single");
}

Test(wild, refused_connection_fails_at_once_batch)
{
    /* Refused entries fail without retries; the reachable one is
     * fetched. */
    case_fault(&S, 300 * KiB, 71, NULL);
    char q[2048] = "", url[128];
    case_line(q, sizeof q, "%s", refused_url(url, sizeof url, "a"));
    case_line(q, sizeof q, "%s", srv_url(&S, "b"));
    case_line(q, sizeof q, "%s", refused_url(url, sizeof url, "c"));
    case_write(qpath, q);
    int64_t t0 = mono_ms();
    const char *o[] = {"--max-tries", "5", NULL};
    int rc = case_batch(dir, qpath, o, 60);
    int64_t ms = mono_ms() - t0;
    cr_expect_eq(rc, 2, "exit %d: %s", rc, last_stderr());
    cr_expect(same_content(case_path(dir, "b"), 71, 300 * KiB),
              "the reachable entry is not exact");
    cr_expect(!exists(case_path(dir, "a")) && !exists(case_path(dir, "c")));
    assert_no_retry("batch");
    cr_expect_lt(ms, 1000, "took %lld ms", (long long)ms);
}

Test(wild, refused_mirror_is_left_out_at_once)
{
    case_fault(&S, 2 * MiB, 72, NULL);
    char url[128];
    refused_url(url, sizeof url, "data");
    const char *o[] = {"-n", "4", "--max-tries", "5", NULL};
    int64_t t0 = mono_ms();
    int rc = case_single(dir, o, srv_url(&S, "data"), url, 60);
    int64_t ms = mono_ms() - t0;
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect(same_content(case_path(dir, "data"), 72, 2 * MiB));
    cr_expect(strstr(last_stderr(), url + 7), "the mirror is not named: %s",
              last_stderr());
    assert_no_retry("mirror");
    cr_expect_lt(ms, 1000, "took %lld ms", (long long)ms);
}

Test(wild, a_server_that_answered_is_asked_again_when_it_refuses)
{
    /* Once the probe was answered, a refused connection is a server
     * restarting: retried with backoff.  The server goes away after its
     * first answers; the run is then retrying, and fails after its
     * tries. */
    case_fault(&S, 4 * MiB, 73, (const char *[]){"--rate", "200000", NULL});
    char url[256];
    snprintf(url, sizeof url, "%s", srv_url(&S, "data"));
    const char *argv[] = {"-q", "-n", "2", "--max-tries", "2", url, NULL};
    child = spawn_segget(dir, argv);
    AWAIT(wait_requests(&S, 200, 0, child, WAIT_MS)); /* the HEAD */
    stop(&S);
    int rc = wait_child(child, 60);
    child = 0;
    cr_expect_eq(rc, 2, "exit %d: %s", rc, last_stderr());
    cr_expect(strstr(last_stderr(), "after 2 tries"), "not retried: %s",
              last_stderr());
}

/* --- killed again and again: every run makes durable progress --- */

/* Five runs killed 0.15-0.6 s after their first body bytes were written,
 * then one run that finishes; the bytes the server sent over all six,
 * as a multiple of the file.  batch: the runs are "segget -i queue". */
static double kill_loop(int batch, int mirror)
{
    /* 16 MiB at 1 MiB/s a connection over 4 connections, sent smoothly
     * in 16 KiB writes (nginx otherwise sends a second's worth at once,
     * and what is on its way when the kill comes counts as served). */
    const int64_t size = 16 * MiB;
    srv_start(&S, "limit_rate 1m; sendfile_max_chunk 16k;");
    char src[600];
    snprintf(src, sizeof src, "%s", srv_file(&S, "data", size, 74));
    char url[256], murl[256], lpath[600];
    snprintf(url, sizeof url, "%s", srv_url(&S, "data"));
    /* A mirror: the same file under another name (a hard link keeps
     * nginx's ETag, made of size and mtime). */
    snprintf(lpath, sizeof lpath, "%s/mirror", S.www);
    cr_assert_eq(link(src, lpath), 0);
    snprintf(murl, sizeof murl, "%s", srv_url(&S, "mirror"));
    char q[512] = "";
    case_line(q, sizeof q, "%s", url);
    case_write(qpath, q);
    const char *argv[] = {"-q", "-n", "4", batch ? "-i" : url,
                          batch ? qpath : mirror ? murl : NULL, NULL};
    srand((unsigned)getpid());
    for (int i = 0; i < 5; i++) {
        child = spawn_segget(dir, argv);
        AWAIT(wait_written(child, 64 * 1024, WAIT_MS));
        nap_ms(150 + rand() % 451); /* the fault: a kill at a random point */
        kill(child, SIGKILL);
        int st = wait_child(child, 30);
        cr_assert_eq(st, 128 + SIGKILL, "run %d ended before its kill: "
                     "exit %d: %s", i, st, last_stderr());
        child = 0;
    }
    wait_srv_idle(&S, WAIT_MS);
    int64_t killed = srv_bytes_sent(&S);
    int rc = run_segget(dir, argv, 120);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_assert(same_file(src, case_path(dir, "data")), "not exact");
    wait_srv_idle(&S, WAIT_MS);
    int64_t served = srv_bytes_sent(&S);
    double ratio = (double)served / (double)size;
    cr_log_info("kill loop%s: %lld bytes before the last run, %.4f x the "
                "file in all",
                batch ? " (batch)" : mirror ? " (mirror)" : "",
                (long long)killed, ratio);
    cr_expect_gt(killed, size / 8, "the kills came too late to matter");
    return ratio;
}

Test(wild, five_kills_soon_after_the_first_byte_lose_little, .timeout = 180)
{
    /* Without early checkpoints every run started from scratch: the
     * server sent 1.52 times the file. */
    double r = kill_loop(0, 0);
    cr_expect_leq(r, 1.10, "the server sent %.3f x the file", r);
}

Test(wild, five_kills_soon_after_the_first_byte_lose_little_mirror,
     .timeout = 180)
{
    double r = kill_loop(0, 1);
    cr_expect_leq(r, 1.10, "the servers sent %.3f x the file", r);
}

Test(wild, five_kills_soon_after_the_first_byte_lose_little_batch,
     .timeout = 180)
{
    double r = kill_loop(1, 0);
    cr_expect_leq(r, 1.10, "the server sent %.3f x the file", r);
}

/* --- servers that cap connections per client --- */

/* nginx serving K requests at a time per client (limit_conn), each at
 * 1 MiB/s, with extra ones answered status; segget -n 8 on a 12 MiB
 * file, single or batch.  Returns the seconds it took. */
static double capped(int k, int status, int batch)
{
    char conf[256];
    snprintf(conf, sizeof conf,
             "limit_conn perip %d; limit_conn_status %d; limit_rate 1m; "
             "sendfile_max_chunk 64k;",
             k, status);
    srv_start(&S, conf);
    const int64_t size = 12 * MiB;
    char src[600];
    snprintf(src, sizeof src, "%s", srv_file(&S, "data", size, 75));
    char url[256];
    snprintf(url, sizeof url, "%s", srv_url(&S, "data"));
    char q[512] = "";
    case_line(q, sizeof q, "%s", url);
    case_write(qpath, q);
    const char *argv[] = {"-n", "8", batch ? "-i" : url, batch ? qpath : NULL,
                          NULL};
    int64_t t0 = mono_ms();
    int rc = run_segget(dir, argv, 120);
    double s = (double)(mono_ms() - t0) / 1000.0;
    const char *err = last_stderr();
    cr_assert_eq(rc, 0, "K=%d: exit %d: %s", k, rc, err);
    cr_assert(same_file(src, case_path(dir, "data")), "K=%d: not exact", k);
    wait_srv_idle(&S, WAIT_MS);
    int refused = srv_requests(&S, status);
    cr_log_info("cap K=%d (%d)%s: %.2f s (K x 1 MiB/s: %.2f s), %d refusals",
                k, status, batch ? " batch" : "", s, 12.0 / k, refused);
    /* Said once, naming the server and the number it settled on. */
    const char *say = strstr(err, "connections at a time");
    cr_expect(say, "K=%d: the cap is not reported: %s", k, err);
    cr_expect(!say || !strstr(say + 22, "connections at a time"),
              "K=%d: reported more than once: %s", k, err);
    char using[32];
    snprintf(using, sizeof using, "using %d", k);
    cr_expect(!say || strstr(say, using), "K=%d: settled elsewhere: %s", k,
              err);
    /* Not hammered: the first round's extra connections, then a probe
     * every few seconds at most. */
    cr_expect_leq(refused, 8 + (int)(s / 2), "K=%d: %d refusals in %.1f s",
                  k, refused, s);
    return s;
}

Test(wild, a_cap_of_2_connections_with_503, .timeout = 120)
{
    double s = capped(2, 503, 0);
    cr_expect_lt(s, 6.0 * 1.5, "took %.1f s", s);
}

Test(wild, a_cap_of_3_connections_with_429, .timeout = 120)
{
    double s = capped(3, 429, 0);
    cr_expect_lt(s, 4.0 * 1.5, "took %.1f s", s);
}

Test(wild, a_cap_of_2_connections_with_503_batch, .timeout = 120)
{
    double s = capped(2, 503, 1);
    cr_expect_lt(s, 6.0 * 1.5, "took %.1f s", s);
}

Test(wild, a_cap_of_2_connections_with_503_batch_of_small_files,
     .timeout = 120)
{
    /* 40 files of 200 KB, 8 at a time, from a server serving 2: every
     * file arrives (before, files failed after their tries), at the
     * server's pace, with few refusals. */
    srv_start(&S, "limit_conn perip 2; limit_rate 1m; "
                  "sendfile_max_chunk 64k;");
    char q[8192] = "", name[32];
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof name, "f%02d", i);
        srv_file(&S, name, 200 * 1000, 100 + (uint64_t)i);
        case_line(q, sizeof q, "%s", srv_url(&S, name));
    }
    case_write(qpath, q);
    int64_t t0 = mono_ms();
    const char *o[] = {"-j", "8", NULL};
    int rc = case_batch(dir, qpath, o, 120);
    double s = (double)(mono_ms() - t0) / 1000.0;
    const char *err = last_stderr();
    cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof name, "f%02d", i);
        cr_expect_eq(case_size(case_path(dir, name)), 200 * 1000, "%s",
                     name);
    }
    wait_srv_idle(&S, WAIT_MS);
    int refused = srv_requests(&S, 503);
    cr_log_info("cap K=2 batch of 40 small files: %.2f s (2 x 1 MiB/s: "
                "%.2f s), %d refusals", s, 8.0 / 2.1, refused);
    const char *say = strstr(err, "2 connections at a time");
    cr_expect(say, "the cap is not reported: %s", err);
    cr_expect(!say || !strstr(say + 24, "connections at a time"),
              "reported more than once: %s", err);
    cr_expect_leq(refused, 8 + (int)(s / 2), "%d refusals in %.1f s",
                  refused, s);
}

/* --- a connection that stalls: the tail is hedged --- */

/* 8 MiB at 1 MB/s a connection, -n 4, from a fault server where the
 * first range connection sends after bytes, then one byte a second;
 * how: 0 single, 1 batch, 2 the trickling server is a mirror of a
 * healthy one.  Returns the time against the same download without the
 * fault, which a second server serves. */
static double trickle(const char *after, int how)
{
    const int64_t size = 8 * MiB;
    const char *ok[] = {"--rate", "1000000", NULL};
    const char *bad[] = {"--rate", "1000000", "--trickle-every", "2",
                         "--trickle-count", "1", "--trickle-after", after,
                         "--trickle-bps", "1", NULL};
    case_fault(&M, size, 76, ok);
    case_fault(&S, size, 76, bad);
    char good[256], slow[256];
    snprintf(good, sizeof good, "%s", srv_url(&M, "data"));
    snprintf(slow, sizeof slow, "%s", srv_url(&S, "data"));
    const char *o[] = {"-q", "-n", "4", NULL};

    int64_t t0 = mono_ms();
    int rc = case_single(dir, o, good, NULL, 60);
    double clean = (double)(mono_ms() - t0) / 1000.0;
    cr_assert_eq(rc, 0, "fault-free: exit %d: %s", rc, last_stderr());
    case_fresh_dir(dir);

    char q[512] = "";
    case_line(q, sizeof q, "%s", slow);
    case_write(qpath, q);
    t0 = mono_ms();
    rc = how == 1   ? case_batch(dir, qpath, o, 60)
         : how == 2 ? case_single(dir, o, good, slow, 60)
                    : case_single(dir, o, slow, NULL, 60);
    double s = (double)(mono_ms() - t0) / 1000.0;
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_assert(same_content(case_path(dir, "data"), 76, size), "not exact");
    cr_log_info("trickle after %s bytes%s: %.2f s, fault-free %.2f s "
                "(%.2fx)",
                after, how == 1 ? " (batch)" : how == 2 ? " (mirror)" : "",
                s, clean, s / clean);
    return s / clean;
}

Test(wild, a_trickling_connection_costs_at_most_twice_the_time)
{
    /* It trickles from its 64th KiB on: replaced while the others run,
     * hedged once they are done. */
    double r = trickle("65536", 0);
    cr_expect_leq(r, 2.0, "%.2f x the fault-free time", r);
}

Test(wild, a_connection_stalling_at_the_end_is_hedged)
{
    /* It stalls near the end of its range, as the others finish: only a
     * hedge helps, not the 30 s stall timeout. */
    double r = trickle("1900000", 0);
    cr_expect_leq(r, 2.0, "%.2f x the fault-free time", r);
}

Test(wild, a_connection_stalling_at_the_end_is_hedged_batch)
{
    double r = trickle("1900000", 1);
    cr_expect_leq(r, 2.0, "%.2f x the fault-free time", r);
}

Test(wild, a_connection_stalling_at_the_end_is_hedged_mirror)
{
    double r = trickle("1900000", 2);
    cr_expect_leq(r, 2.0, "%.2f x the fault-free time", r);
}

/* --- signed addresses that expire mid-download --- */

/* Lines of the fault server's log with status (0: a connection reset
 * without a response). */
static int logged(const srv *s, int status)
{
    FILE *f = fopen(srv_log_path(s), "r");
    cr_assert_not_null(f);
    char line[4096];
    int n = 0, st;
    while (fgets(line, sizeof line, f))
        n += sscanf(line, "%d", &st) == 1 && st == status;
    fclose(f);
    return n;
}

/* 8 MiB at 1 MB/s a connection, -n 4 (about 2 s), from a fault server
 * whose URL redirects to signed addresses valid for 1 s.  how: 0 single,
 * 1 batch, 2 the signed server is a mirror of a healthy one. */
static void expiring(int how)
{
    const int64_t size = 8 * MiB;
    /* Each response breaks after 1 MiB, so connections ask again after
     * their address expired (servers check a signature when a request
     * begins). */
    const char *signer[] = {"--rate", "1000000", "--sign-ttl", "1000",
                            "--expired-status", "403", "--drop-after",
                            "1048576", "--drop-count", "-1", NULL};
    case_fault(&S, size, 77, signer);
    char url[256], good[256];
    snprintf(url, sizeof url, "%s", srv_url(&S, "data"));
    if (how == 2) {
        case_fault(&M, size, 77,
                   (const char *[]){"--rate", "1000000", "--drop-after",
                                    "1048576", "--drop-count", "-1", NULL});
        snprintf(good, sizeof good, "%s", srv_url(&M, "data"));
    }
    char q[512] = "";
    case_line(q, sizeof q, "%s", url);
    case_write(qpath, q);
    const char *o[] = {"-n", "4", NULL};
    int rc = how == 1   ? case_batch(dir, qpath, o, 60)
             : how == 2 ? case_single(dir, o, good, url, 60)
                        : case_single(dir, o, url, NULL, 60);
    const char *err = last_stderr();
    cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
    cr_assert(same_content(case_path(dir, "data"), 77, size), "not exact");
    wait_srv_idle(&S, WAIT_MS);
    int redirects = logged(&S, 302), expired = logged(&S, 403);
    cr_log_info("expiring%s: %d redirects, %d expired answers",
                how == 1 ? " (batch)" : how == 2 ? " (mirror)" : "",
                redirects, expired);
    cr_expect_gt(expired, 0, "nothing expired: the test proves nothing");
    cr_expect(strstr(err, "resolved again"), "no notice: %s", err);
    /* Once per expiry for all connections, not once per connection:
     * the first resolution, then one per second at most. */
    cr_expect_leq(redirects, 1 + 4, "%d redirects", redirects);
}

Test(wild, an_expiring_signed_address_is_resolved_again)
{
    expiring(0);
}

Test(wild, an_expiring_signed_address_is_resolved_again_batch)
{
    expiring(1);
}

Test(wild, an_expiring_signed_address_is_resolved_again_mirror)
{
    expiring(2);
}

Test(wild, a_resolution_that_fails_ends_with_a_clear_message)
{
    /* The URL is a redirect on nginx to a signed server; nginx goes
     * away once the transfer runs, so when the address expires nothing
     * resolves it again. */
    const int64_t size = 8 * MiB;
    case_fault(&M, size, 78,
               (const char *[]){"--rate", "500000", "--sign-ttl", "1000",
                                "--drop-after", "600000", "--drop-count",
                                "-1", NULL});
    char conf[512];
    snprintf(conf, sizeof conf, "location = /data { return 302 %s; }",
             srv_url(&M, "data"));
    srv_start(&S, conf);
    char url[256];
    snprintf(url, sizeof url, "%s", srv_url(&S, "data"));
    const char *argv[] = {"-n", "2", url, NULL};
    child = spawn_segget(dir, argv);
    AWAIT(wait_requests(&M, 302, 0, child, WAIT_MS));
    wait_srv_ready(&S, WAIT_MS);
    stop(&S);
    int rc = wait_child(child, 60);
    child = 0;
    const char *err = last_stderr();
    cr_expect_eq(rc, 2, "exit %d: %s", rc, err);
    cr_expect(strstr(err, "expired") && strstr(err, "again failed"),
              "no clear message: %s", err);
    cr_expect(!exists(case_path(dir, "data")), "a partial file was named");
}

Test(wild, an_expired_address_whose_url_changed_starts_over)
{
    /* After the first expiry the resource is another version: the
     * journal's validator does not match, so the download starts over
     * (and with --fail-if-changed stops with exit 5). */
    const int64_t size = 4 * MiB;
    const char *x[] = {"--rate", "1000000", "--sign-ttl", "1000",
                       "--drop-after", "600000", "--drop-count", "-1",
                       "--change-after", "4", NULL};
    case_fault(&S, size, 79, x);
    char url[256];
    snprintf(url, sizeof url, "%s", srv_url(&S, "data"));
    const char *o[] = {"-n", "2", "--fail-if-changed", NULL};
    int rc = case_single(dir, o, url, NULL, 60);
    const char *err = last_stderr();
    cr_expect_eq(rc, 5, "exit %d: %s", rc, err);
    cr_expect(!exists(case_path(dir, "data")), "a mixed file was named");
}

/* --- a cap that resets connections --- */

Test(wild, a_cap_that_resets_extra_connections)
{
    /* The fault server serves 3 responses at once and resets the
     * connections over that. */
    const int64_t size = 8 * MiB;
    case_fault(&S, size, 80,
               (const char *[]){"--rate", "1000000", "--cap", "3",
                                "--cap-mode", "reset", NULL});
    const char *o[] = {"-n", "8", NULL};
    int64_t t0 = mono_ms();
    int rc = case_single(dir, o, srv_url(&S, "data"), NULL, 60);
    double s = (double)(mono_ms() - t0) / 1000.0;
    const char *err = last_stderr();
    cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
    cr_assert(same_content(case_path(dir, "data"), 80, size), "not exact");
    wait_srv_idle(&S, WAIT_MS);
    int resets = logged(&S, 0);
    cr_log_info("cap K=3 (reset): %.2f s (K x rate: %.2f s), %d resets", s,
                8.0 * 1.048576 / 3, resets);
    cr_expect(strstr(err, "3 connections at a time"), "not settled on 3: %s",
              err);
    cr_expect_leq(resets, 8 + (int)(s / 2), "%d resets in %.1f s", resets, s);
}

Test(wild, a_genuine_403_is_not_taken_for_an_expired_address)
{
    /* HEAD works, every GET is refused: nothing expired (the address
     * never worked), so no renewal is tried and the exit is 3. */
    case_fault(&S, 1 * MiB, 81,
               (const char *[]){"--fail-status", "403", "--fail-count", "-1",
                                NULL});
    const char *o[] = {"-n", "2", NULL};
    int rc = case_single(dir, o, srv_url(&S, "data"), NULL, 60);
    cr_expect_eq(rc, 3, "exit %d: %s", rc, last_stderr());
    cr_expect_null(strstr(last_stderr(), "resolved again"), "%s",
                   last_stderr());
    cr_expect_null(strstr(last_stderr(), "expired"), "%s", last_stderr());
}

Test(wild, one_url_that_always_answers_503_does_not_cap_its_host_batch,
     .timeout = 120)
{
    /* Among 20 files of 500 KB at 1 MiB/s, 8 at a time, one URL always
     * answers 503: it fails on its own, and the others keep 8
     * connections (a cap learnt from it would leave them one). */
    srv_start(&S, "limit_rate 1m; sendfile_max_chunk 64k; "
                  "location = /bad { return 503; }");
    char q[8192] = "", name[32];
    case_line(q, sizeof q, "%s", srv_url(&S, "bad"));
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof name, "f%02d", i);
        srv_file(&S, name, 500 * 1000, 200 + (uint64_t)i);
        case_line(q, sizeof q, "%s", srv_url(&S, name));
    }
    case_write(qpath, q);
    int64_t t0 = mono_ms();
    const char *o[] = {"-j", "8", "--max-tries", "3", NULL};
    int rc = case_batch(dir, qpath, o, 120);
    double s = (double)(mono_ms() - t0) / 1000.0;
    cr_expect_eq(rc, 3, "exit %d: %s", rc, last_stderr());
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof name, "f%02d", i);
        cr_expect_eq(case_size(case_path(dir, name)), 500 * 1000, "%s", name);
    }
    cr_log_info("one bad URL among 20 files, -j 8: %.2f s", s);
    /* 10 MB over 8 connections at 1 MiB/s is under 2 s; over one
     * connection, 10 s. */
    cr_expect_lt(s, 6.0, "took %.1f s: the host was capped", s);
    cr_expect_null(strstr(last_stderr(), "connections at a time"), "%s",
                   last_stderr());
}

Test(wild, a_capped_host_probed_again_fails_no_entry_batch, .timeout = 120)
{
    /* 16 files of 3 MB (each larger than one GET), 8 at a time, from a
     * server serving 2 at 4 MiB/s: about 6 s, so the limit is probed
     * again (after 2 s, 4 s) by entries that were turned away before.
     * Every file arrives (before, such entries used up their tries). */
    srv_start(&S, "limit_conn perip 2; limit_rate 4m; "
                  "sendfile_max_chunk 64k;");
    char q[8192] = "", name[32];
    for (int i = 0; i < 16; i++) {
        snprintf(name, sizeof name, "g%02d", i);
        srv_file(&S, name, 3000 * 1000, 300 + (uint64_t)i);
        case_line(q, sizeof q, "%s", srv_url(&S, name));
    }
    case_write(qpath, q);
    const char *o[] = {"-j", "8", NULL};
    int64_t t0 = mono_ms();
    int rc = case_batch(dir, qpath, o, 120);
    double s = (double)(mono_ms() - t0) / 1000.0;
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    for (int i = 0; i < 16; i++) {
        snprintf(name, sizeof name, "g%02d", i);
        cr_expect_eq(case_size(case_path(dir, name)), 3000 * 1000, "%s",
                     name);
    }
    wait_srv_idle(&S, WAIT_MS);
    int refused = srv_requests(&S, 503);
    cr_log_info("capped host probed again: %.2f s, %d refusals", s,
                refused);
    /* A refused probe lowers the limit again at once: the first round,
     * then a probe every few seconds (an entry turned away before used
     * to be started again and again: 16 refusals in 6 s). */
    cr_expect_leq(refused, 8 + (int)(s / 2), "%d refusals in %.1f s",
                  refused, s);
}

Test(wild, a_mirror_that_caps_connections_is_used_within_its_cap)
{
    /* The URL serves freely; the mirror serves 2 at once and answers
     * 503 beyond.  The mirror is kept, at its cap, and named once. */
    const int64_t size = 8 * MiB;
    case_fault(&M, size, 82, (const char *[]){"--rate", "1000000", NULL});
    case_fault(&S, size, 82,
               (const char *[]){"--rate", "1000000", "--cap", "2", NULL});
    char good[256], capped_url[256];
    snprintf(good, sizeof good, "%s", srv_url(&M, "data"));
    snprintf(capped_url, sizeof capped_url, "%s", srv_url(&S, "data"));
    const char *o[] = {"-n", "8", NULL};
    int rc = case_single(dir, o, good, capped_url, 60);
    const char *err = last_stderr();
    cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
    cr_assert(same_content(case_path(dir, "data"), 82, size), "not exact");
    cr_expect(strstr(err, "2 connections at a time"), "cap not said: %s",
              err);
    cr_expect_null(strstr(err, "dropped"), "the mirror was dropped: %s",
                   err);
    wait_srv_idle(&S, WAIT_MS);
    int served = logged(&S, 206), refused = logged(&S, 503);
    cr_log_info("capped mirror: %d ranges served, %d refusals", served,
                refused);
    cr_expect_gt(served, 0, "the mirror served nothing");
    cr_expect_leq(refused, 8, "%d refusals", refused);
}
