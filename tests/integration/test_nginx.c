/* SPDX-License-Identifier: MIT */
/*
 * Integration tests against a real nginx on 127.0.0.1: exact bytes for
 * every size and connection count, resume after kill -9 and SIGTERM, a
 * server without ranges, a file that changes between runs, and the exit
 * statuses of common failures.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "journal.h"
#include "wait.h"

#define MiB (INT64_C(1) << 20)
/* Bytes segget has written when a test calls its download under way:
 * data, not the journal's first few KiB. */
#define WRITTEN (256 * 1024)

static srv S;
static const char *dir;
static char out[512];

static void down(void)
{
    wait_srv_ready(&S, WAIT_MS); /* a test may not have used it */
    srv_stop(&S);
    tmp_cleanup();
}

static void up_plain(void)
{
    srv_start(&S, "");
    dir = tmp_dir();
}

/* Download name with n connections; assert exit 0, exact bytes and that
 * the directory holds only the file. */
static void fetch_exact(const char *name, const char *n, const char *split)
{
    char url[512];
    snprintf(url, sizeof url, "%s", srv_url(&S, name));
    const char *argv[] = {"-q", "-n", n, "--min-split", split, url, NULL};
    int rc = run_segget(dir, argv, 120);
    cr_assert_eq(rc, 0, "n=%s %s: exit %d: %s", n, name, rc, last_stderr());
    snprintf(out, sizeof out, "%s/%s", dir, name);
    char src[512];
    snprintf(src, sizeof src, "%s/%s", S.www, name);
    cr_assert(same_file(out, src), "n=%s %s: bytes differ", n, name);
    cr_assert_eq(dir_entries(dir), 1, "n=%s %s: leftovers in %s", n, name,
                 dir);
    cr_assert_str_empty(last_stderr(), "-q printed: %s", last_stderr());
    unlink(out);
}

TestSuite(nginx, .init = up_plain, .fini = down, .timeout = 240);

static const char *const conns[] = {"1", "2", "8", "64"};

Test(nginx, size_0)
{
    srv_file(&S, "empty", 0, 1);
    for (int i = 0; i < 4; i++)
        fetch_exact("empty", conns[i], "1");
}

Test(nginx, size_1)
{
    srv_file(&S, "one", 1, 2);
    for (int i = 0; i < 4; i++)
        fetch_exact("one", conns[i], "1");
}

Test(nginx, size_1mib_plus_1)
{
    srv_file(&S, "m1", MiB + 1, 3);
    for (int i = 0; i < 4; i++) {
        fetch_exact("m1", conns[i], "1K"); /* really n ranges */
        fetch_exact("m1", conns[i], "1M"); /* default split: one range */
    }
}

Test(nginx, size_100mib)
{
    srv_file(&S, "big", 100 * MiB, 4);
    for (int i = 0; i < 4; i++)
        fetch_exact("big", conns[i], "1M");
}

Test(nginx, progress_and_notices_without_quiet)
{
    srv_file(&S, "f", 3 * MiB, 5);
    const char *argv[] = {"-n", "4", srv_url(&S, "f"), NULL};
    cr_assert_eq(run_segget(dir, argv, 60), 0, "%s", last_stderr());
    cr_assert(strstr(last_stderr(), "saved f"), "%s", last_stderr());
}

Test(nginx, output_and_dir_options)
{
    srv_file(&S, "src.bin", 2 * MiB + 3, 6);
    char sub[512];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    cr_assert_eq(mkdir(sub, 0755), 0);
    const char *argv[] = {"-q", "-P", "sub", "-o", "renamed.bin",
                          srv_url(&S, "src.bin"), NULL};
    cr_assert_eq(run_segget(dir, argv, 60), 0, "%s", last_stderr());
    char got[600], src[600];
    snprintf(got, sizeof got, "%s/renamed.bin", sub);
    snprintf(src, sizeof src, "%s/src.bin", S.www);
    cr_assert(same_file(got, src));
    cr_assert_eq(dir_entries(sub), 1);
}

Test(nginx, default_name_is_index_html)
{
    srv_file(&S, "index.html", 1000, 7);
    const char *argv[] = {"-q", srv_url(&S, ""), NULL};
    cr_assert_eq(run_segget(dir, argv, 60), 0, "%s", last_stderr());
    char got[600], src[600];
    snprintf(got, sizeof got, "%s/index.html", dir);
    snprintf(src, sizeof src, "%s/index.html", S.www);
    cr_assert(same_file(got, src));
}

Test(nginx, existing_output_needs_force)
{
    srv_file(&S, "f", 4096, 8);
    char path[600];
    snprintf(path, sizeof path, "%s/f", dir);
    FILE *f = fopen(path, "w");
    fputs("mine", f);
    fclose(f);
    const char *argv[] = {"-q", srv_url(&S, "f"), NULL};
    cr_assert_eq(run_segget(dir, argv, 60), 9);
    cr_assert(strstr(last_stderr(), "--force"), "%s", last_stderr());
    cr_assert_eq(dir_entries(dir), 1, "refusal left litter");
    const char *argv2[] = {"-q", "-f", srv_url(&S, "f"), NULL};
    cr_assert_eq(run_segget(dir, argv2, 60), 0, "%s", last_stderr());
    char src[600];
    snprintf(src, sizeof src, "%s/f", S.www);
    cr_assert(same_file(path, src));
}

Test(nginx, not_found_is_http_error_and_leaves_nothing)
{
    const char *argv[] = {"-q", srv_url(&S, "missing.iso"), NULL};
    cr_assert_eq(run_segget(dir, argv, 60), 3);
    cr_assert(strstr(last_stderr(), "404"), "%s", last_stderr());
    cr_assert_eq(strchr(last_stderr(), '\n'),
                 last_stderr() + strlen(last_stderr()) - 1,
                 "more than one line: %s", last_stderr());
    cr_assert_eq(dir_entries(dir), 0, "litter after a 404");
}

Test(nginx, usage_errors)
{
    struct {
        const char *argv[6];
    } bad[] = {
        {{"-n", "0", "http://127.0.0.1/x", NULL}},
        {{"-n", "65", "http://127.0.0.1/x", NULL}},
        {{"-n", "8x", "http://127.0.0.1/x", NULL}},
        {{"ftp://127.0.0.1/x", NULL}},
        {{"not a url", NULL}},
        {{"http://", NULL}},
        {{"-P", "/dev/null/dir", "http://127.0.0.1/x", NULL}},
        {{"-o", "/nonexistent/dir/f", "http://127.0.0.1/x", NULL}},
        {{"--bogus", "http://127.0.0.1/x", NULL}},
        {{NULL}},
        /* A second URL is a mirror, and must be one. */
        {{"http://127.0.0.1/a", "ftp://127.0.0.1/b", NULL}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int rc = run_segget(dir, bad[i].argv, 30);
        cr_expect_eq(rc, 1, "case %zu: exit %d: %s", i, rc, last_stderr());
        cr_expect(strstr(last_stderr(), "segget: ") ||
                      strstr(last_stderr(), "unrecognized"),
                  "case %zu: no message", i);
    }
    cr_assert_eq(dir_entries(dir), 0);
}

Test(nginx, refused_connection_is_network_error)
{
    /* A port nobody listens on: stop our server and reuse its port. */
    char url[256];
    snprintf(url, sizeof url, "%s", srv_url(&S, "f"));
    wait_srv_ready(&S, WAIT_MS);
    srv_stop(&S);
    const char *argv[] = {"-q", "--max-tries", "2", url, NULL};
    cr_assert_eq(run_segget(dir, argv, 60), 2, "%s", last_stderr());
    cr_assert_eq(dir_entries(dir), 0);
}

Test(nginx, help_and_version)
{
    const char *h[] = {"--help", NULL};
    cr_assert_eq(run_segget(dir, h, 10), 0);
    const char *v[] = {"--version", NULL};
    cr_assert_eq(run_segget(dir, v, 10), 0);
}

/* --- servers that limit the rate, so a run can be interrupted --- */

static void up_throttled(void)
{
    /* Sent smoothly (nginx's limit_rate otherwise sends once a second,
     * up to a second's worth at once): what a stop or a split leaves in
     * flight stays small, so what comes twice is measured against it. */
    srv_start(&S, "limit_rate 512k; sendfile_max_chunk 64k;");
    dir = tmp_dir();
}

TestSuite(resume, .init = up_throttled, .fini = down, .timeout = 240);

Test(resume, kill9_at_random_points)
{
    const char *src = srv_file(&S, "f", 40 * MiB, 11);
    char path[600], part[600];
    snprintf(path, sizeof path, "%s/f", dir);
    snprintf(part, sizeof part, "%s/f.part", dir);
    unsigned seed = (unsigned)time(NULL);
    srand(seed);
    const char *argv[] = {"-q", "-n", "4", srv_url(&S, "f"), NULL};
    int kills = 0;
    for (int i = 0; i < 40 && kills < 12; i++) {
        /* Every run starts with a HEAD (nginx logs it as a 200; ranges
         * are 206, killed ones 499): once it is logged the run is under
         * way, and the kill lands at a random point after it. */
        int probes = srv_requests(&S, 200);
        pid_t pid = spawn_segget(dir, argv);
        if (wait_requests(&S, 200, probes, pid, WAIT_MS))
            nap_ms(40 + rand() % 400); /* fault injection: a random point */
        kill(pid, SIGKILL);
        int rc = wait_child(pid, 60);
        if (rc == 0)
            break; /* finished before the kill */
        cr_assert_eq(rc, 128 + SIGKILL, "seed %u: exit %d: %s", seed, rc,
                     last_stderr());
        kills++;
        /* A killed run leaves a file under the final name only once it is
         * exact (killed after the rename). */
        if (exists(path)) {
            cr_assert(same_file(path, src), "seed %u: wrong final file", seed);
            char jp[620];
            snprintf(jp, sizeof jp, "%s.segget", path);
            if (!exists(jp))
                break; /* nothing left to do */
        }
    }
    cr_assert_geq(kills, 10, "seed %u: only %d kills landed", seed, kills);
    char jp[620];
    snprintf(jp, sizeof jp, "%s.segget", path);
    int rc = exists(path) && !exists(jp) ? 0 : run_segget(dir, argv, 120);
    cr_assert_eq(rc, 0, "seed %u: %s", seed, last_stderr());
    cr_assert(same_file(path, src), "seed %u: bytes differ", seed);
    cr_assert_eq(dir_entries(dir), 1);
    /* Resuming refetches little: at most a few checkpoint intervals per
     * kill (each kill loses at most what was not yet checkpointed). */
    int64_t sent = srv_bytes_sent(&S);
    cr_assert_lt(sent, 40 * MiB + kills * 4 * MiB,
                 "seed %u: nginx sent %lld bytes for 40 MiB after %d kills",
                 seed, (long long)sent, kills);
}

Test(resume, sigterm_checkpoints_and_exits_11)
{
    const char *src = srv_file(&S, "f", 16 * MiB, 12);
    const char *argv[] = {"-q", "-n", "8", srv_url(&S, "f"), NULL};
    pid_t pid = spawn_segget(dir, argv);
    /* Stopped between nginx's bursts: each request gets 512 KiB at once,
     * then nothing for a second, so once more than 4 MiB is written (the
     * eight first bursts) nothing is in flight, and the bound below is
     * about what the rerun fetches.  Committed or not, the stop commits
     * it. */
    AWAIT(wait_written(pid, 4 * MiB, WAIT_MS));
    kill(pid, SIGTERM);
    int rc = wait_child(pid, 30);
    cr_assert_eq(rc, 11, "exit %d: %s", rc, last_stderr());
    cr_assert(strstr(last_stderr(), "resume"), "%s", last_stderr());
    int64_t before = srv_bytes_sent(&S);
    cr_assert_gt(before, 0);
    rc = run_segget(dir, argv, 60);
    cr_assert_eq(rc, 0, "%s", last_stderr());
    char path[600];
    snprintf(path, sizeof path, "%s/f", dir);
    cr_assert(same_file(path, src));
    /* A graceful stop commits everything written, so the rerun fetches
     * only what is missing; what may come twice is what was in flight
     * when a connection stopped (at SIGTERM, or at a split's new end). */
    cr_assert_leq(srv_bytes_sent(&S), 16 * MiB + 16 * MiB / 8, "sent %lld",
                  (long long)srv_bytes_sent(&S));
}

Test(resume, more_connections_on_rerun)
{
    const char *src = srv_file(&S, "f", 16 * MiB, 13);
    const char *a1[] = {"-q", "-n", "2", srv_url(&S, "f"), NULL};
    pid_t pid = spawn_segget(dir, a1);
    AWAIT(wait_written(pid, WRITTEN, WAIT_MS)); /* under way */
    kill(pid, SIGTERM);
    cr_assert_eq(wait_child(pid, 30), 11, "%s", last_stderr());
    const char *a2[] = {"-n", "8", srv_url(&S, "f"), NULL};
    cr_assert_eq(run_segget(dir, a2, 60), 0, "%s", last_stderr());
    cr_assert(strstr(last_stderr(), "resuming"), "%s", last_stderr());
    char path[600];
    snprintf(path, sizeof path, "%s/f", dir);
    cr_assert(same_file(path, src));
}

/* Replace the served file with other bytes of the same size and a later
 * mtime (so nginx's ETag changes). */
static const char *replace_file(const char *name, int64_t size, uint64_t seed)
{
    const char *p = srv_file(&S, name, size, seed);
    struct timespec ts[2];
    clock_gettime(CLOCK_REALTIME, &ts[0]);
    ts[0].tv_sec += 100;
    ts[1] = ts[0];
    cr_assert_eq(utimensat(AT_FDCWD, p, ts, 0), 0);
    return p;
}

Test(resume, remote_changed_between_runs_same_size)
{
    srv_file(&S, "f", 8 * MiB, 14);
    const char *argv[] = {"-n", "8", "--min-split", "256K", srv_url(&S, "f"),
                          NULL};
    char path[600];
    snprintf(path, sizeof path, "%s/f", dir);
    pid_t pid = spawn_segget(dir, argv);
    /* Old bytes are claimed: the rerun could splice them in. */
    AWAIT(wait_committed(path, 0, pid, WAIT_MS));
    kill(pid, SIGKILL);
    cr_assert_eq(wait_child(pid, 30), 128 + SIGKILL,
                 "finished before the kill: %s", last_stderr());
    const char *src = replace_file("f", 8 * MiB, 15);
    int rc = run_segget(dir, argv, 60);
    cr_assert_eq(rc, 0, "%s", last_stderr());
    cr_assert(strstr(last_stderr(), "changed"), "%s", last_stderr());
    cr_assert(same_file(path, src), "old bytes spliced into new");
}

Test(resume, remote_changed_with_fail_if_changed)
{
    srv_file(&S, "f", 8 * MiB, 16);
    const char *argv[] = {"-q", "-n", "8", "--min-split", "256K",
                          "--fail-if-changed", srv_url(&S, "f"), NULL};
    pid_t pid = spawn_segget(dir, argv);
    AWAIT(wait_written(pid, WRITTEN, WAIT_MS)); /* partial data */
    kill(pid, SIGTERM);
    cr_assert_eq(wait_child(pid, 30), 11);
    replace_file("f", 8 * MiB, 17);
    cr_assert_eq(run_segget(dir, argv, 60), 5, "%s", last_stderr());
    char part[600];
    snprintf(part, sizeof part, "%s/f.part", dir);
    cr_assert(exists(part), "partial data not kept");
}

Test(resume, foreign_journal_is_refused_then_forced)
{
    char src[512];
    snprintf(src, sizeof src, "%s", srv_file(&S, "f", 8 * MiB, 18));
    srv_file(&S, "g", 8 * MiB, 19);
    const char *a1[] = {"-q", "-n", "8", "-o", "f", "--range", "0-4194303",
                        srv_url(&S, "g"), NULL};
    char part[600];
    snprintf(part, sizeof part, "%s/f.part", dir);
    pid_t pid = spawn_segget(dir, a1);
    /* f.part is made once the journal holds the download (of g). */
    AWAIT(wait_exists(part, pid, WAIT_MS));
    kill(pid, SIGKILL);
    cr_assert_eq(wait_child(pid, 30), 128 + SIGKILL, "%s", last_stderr());
    /* The same output for another part of a resource: the journal is
     * not ours.  (Another URL for the same output continues when it
     * serves the same resource: test_rerun.c.) */
    const char *a2[] = {"-q", "-n", "8", srv_url(&S, "f"), NULL};
    cr_assert_eq(run_segget(dir, a2, 60), 7, "%s", last_stderr());
    cr_assert(strstr(last_stderr(), "another download"), "%s",
              last_stderr());
    const char *a3[] = {"-q", "-f", "-n", "8", srv_url(&S, "f"), NULL};
    cr_assert_eq(run_segget(dir, a3, 60), 0, "%s", last_stderr());
    char path[600];
    snprintf(path, sizeof path, "%s/f", dir);
    cr_assert(same_file(path, src));
}

Test(resume, corrupt_journal_is_never_trusted)
{
    const char *src = srv_file(&S, "f", 8 * MiB, 20);
    const char *argv[] = {"-q", "-n", "8", srv_url(&S, "f"), NULL};
    char part[600];
    snprintf(part, sizeof part, "%s/f.part", dir);
    pid_t pid = spawn_segget(dir, argv);
    /* f.part is made once the journal holds the download. */
    AWAIT(wait_exists(part, pid, WAIT_MS));
    kill(pid, SIGKILL);
    cr_assert_eq(wait_child(pid, 30), 128 + SIGKILL, "%s", last_stderr());
    /* Garbage over the database and its WAL (a valid WAL would still
     * hold the real pages, so both must go). */
    const char *files[] = {"f.segget", "f.segget-wal"};
    for (int i = 0; i < 2; i++) {
        char j[600];
        snprintf(j, sizeof j, "%s/%s", dir, files[i]);
        struct stat st;
        if (stat(j, &st) < 0)
            continue;
        FILE *f = fopen(j, "r+");
        cr_assert_not_null(f);
        for (off_t k = 0; k < st.st_size; k++)
            fputc('x', f);
        fclose(f);
    }
    cr_assert_eq(run_segget(dir, argv, 60), 7, "%s", last_stderr());
    const char *forced[] = {"-q", "-f", "-n", "8", srv_url(&S, "f"), NULL};
    cr_assert_eq(run_segget(dir, forced, 60), 0, "%s", last_stderr());
    char path[600];
    snprintf(path, sizeof path, "%s/f", dir);
    cr_assert(same_file(path, src));
}

Test(resume, second_process_is_refused)
{
    srv_file(&S, "f", 16 * MiB, 21);
    const char *argv[] = {"-q", "-n", "2", srv_url(&S, "f"), NULL};
    pid_t first = spawn_segget(dir, argv);
    /* f.part is made after the journal was locked and holds the download
     * (f.segget alone exists a moment before its lock is taken). */
    char part[600];
    snprintf(part, sizeof part, "%s/f.part", dir);
    AWAIT(wait_exists(part, first, WAIT_MS));
    cr_assert_eq(run_segget(dir, argv, 30), 9, "%s", last_stderr());
    cr_assert(strstr(last_stderr(), "in use"), "%s", last_stderr());
    kill(first, SIGTERM);
    cr_assert_eq(wait_child(first, 30), 11);
}

/* --- a server that ignores ranges --- */

static void up_noranges(void)
{
    srv_start(&S, "max_ranges 0; limit_rate 4m;");
    dir = tmp_dir();
}

TestSuite(noranges, .init = up_noranges, .fini = down, .timeout = 120);

Test(noranges, one_stream_exact)
{
    const char *src = srv_file(&S, "f", 8 * MiB + 5, 30);
    const char *argv[] = {"-n", "8", srv_url(&S, "f"), NULL};
    cr_assert_eq(run_segget(dir, argv, 60), 0, "%s", last_stderr());
    cr_assert(strstr(last_stderr(), "does not support ranges"), "%s",
              last_stderr());
    char path[600];
    snprintf(path, sizeof path, "%s/f", dir);
    cr_assert(same_file(path, src));
    cr_assert_eq(srv_requests(&S, 206), 0);
    /* The whole body once, plus at most the aborted probe's first bytes. */
    cr_assert_lt(srv_bytes_sent(&S), 2 * (8 * MiB + 5));
}

Test(noranges, interrupted_one_stream_starts_over_exact)
{
    const char *src = srv_file(&S, "f", 16 * MiB, 31);
    const char *argv[] = {"-q", srv_url(&S, "f"), NULL};
    char path[600];
    snprintf(path, sizeof path, "%s/f", dir);
    pid_t pid = spawn_segget(dir, argv);
    /* Bytes are on disk (4 MiB/s after a one-second burst: about 3 s in
     * all, the first checkpoint after 0.6 s). */
    AWAIT(wait_committed(path, 0, pid, WAIT_MS));
    kill(pid, SIGKILL);
    cr_assert_eq(wait_child(pid, 30), 128 + SIGKILL, "finished too soon");
    cr_assert_eq(run_segget(dir, argv, 60), 0, "%s", last_stderr());
    cr_assert(same_file(path, src));
}

Test(resume, journal_with_too_many_rows_is_refused)
{
    srv_file(&S, "f", 5000, 40);
    char j[600];
    snprintf(j, sizeof j, "%s/f.segget", dir);
    journal *jn;
    int fresh;
    sg_err e = {0};
    cr_assert_eq(journal_open(&jn, j, 1, &fresh, &e), SG_OK);
    static sg_segment segs[5000];
    for (int i = 0; i < 5000; i++)
        segs[i] = (sg_segment){.start = i, .end = i + 1, .done = i};
    char url[512];
    snprintf(url, sizeof url, "%s", srv_url(&S, "f"));
    journal_meta m = {.url = url, .effective_url = url, .output = "f",
                      .etag = "\"x\"", .size = 5000, .ranges = 1};
    cr_assert_eq(journal_reset(jn, &m, segs, 5000, &e), SG_OK);
    journal_close(jn);
    const char *argv[] = {"-q", url, NULL};
    cr_assert_eq(run_segget(dir, argv, 30), 7, "%s", last_stderr());
    cr_assert(strstr(last_stderr(), "impossible plan"), "%s", last_stderr());
}

/* --- redirects --- */

static void up_redirects(void)
{
    srv_start(&S, "location = /hop { return 302 /f; }"
                  "location = /hop2 { return 301 /hop; }"
                  "location = /evil { return 302 file:///etc/passwd; }");
    dir = tmp_dir();
}

TestSuite(redirect, .init = up_redirects, .fini = down, .timeout = 60);

Test(redirect, effective_url_is_pinned_for_all_ranges)
{
    const char *src = srv_file(&S, "f", 6 * MiB, 50);
    const char *argv[] = {"-q", "-n", "6", srv_url(&S, "hop2"), NULL};
    cr_assert_eq(run_segget(dir, argv, 60), 0, "%s", last_stderr());
    char path[600];
    snprintf(path, sizeof path, "%s/hop2", dir); /* named after the URL given */
    cr_assert(same_file(path, src));
    cr_assert_eq(srv_requests(&S, 301), 1, "ranges went through redirects");
    cr_assert_eq(srv_requests(&S, 302), 1);
    cr_assert_geq(srv_requests(&S, 206), 6);
}

Test(redirect, to_file_scheme_is_refused)
{
    const char *argv[] = {"-q", srv_url(&S, "evil"), NULL};
    cr_assert_eq(run_segget(dir, argv, 60), 9, "%s", last_stderr());
    cr_assert_eq(dir_entries(dir), 0);
}

/* --- credentials --- */

static void up_auth(void)
{
    /* user "u", password "sekrit" (apr1 hash made with openssl passwd). */
    srv_start(&S, "location /private/ { auth_basic \"x\";"
                  " auth_basic_user_file htpasswd; limit_rate 2m; }");
    dir = tmp_dir();
}

TestSuite(auth, .init = up_auth, .fini = down, .timeout = 60);

static void write_htpasswd(void)
{
    /* nginx resolves auth_basic_user_file against its prefix/conf dir:
     * with -p ROOT and -c ROOT/nginx.conf that is ROOT. */
    char p[300];
    snprintf(p, sizeof p, "%s/htpasswd", S.root);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    fputs("u:$apr1$UMSRrmAP$upVuGkiCOMEysWE5teRev1\n", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/private", S.www);
    cr_assert_eq(mkdir(p, 0755), 0);
}

static int file_contains(const char *p, const char *needle)
{
    FILE *f = fopen(p, "rb");
    if (!f)
        return 0;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(buf + i, needle, k) == 0)
            return 1;
    return 0;
}

Test(auth, credentials_work_and_are_never_written)
{
    write_htpasswd();
    const char *src = srv_file(&S, "private/f", 16 * MiB, 60);
    char url[512];
    snprintf(url, sizeof url, "http://u:sekrit@127.0.0.1:%d/private/f", S.port);
    /* Interrupt once so the journal exists, then look inside it. */
    const char *argv[] = {"-n", "4", url, NULL};
    pid_t pid = spawn_segget(dir, argv);
    char j[600], wal[620], part[600], path[600];
    snprintf(j, sizeof j, "%s/f.segget", dir);
    snprintf(wal, sizeof wal, "%s-wal", j);
    snprintf(part, sizeof part, "%s/f.part", dir);
    snprintf(path, sizeof path, "%s/f", dir);
    /* Under way: the journal recorded the download (NAME.part appears
     * then) and bytes are written. */
    AWAIT(wait_exists(part, pid, WAIT_MS));
    AWAIT(wait_written(pid, WRITTEN, WAIT_MS));
    kill(pid, SIGTERM);
    int rc = wait_child(pid, 30);
    cr_assert_eq(rc, 11, "not interrupted (exit %d): %s", rc, last_stderr());
    cr_assert(file_contains(j, "127.0.0.1") || file_contains(wal, "127.0.0.1"),
              "the journal does not hold the URL: the check below is void");
    cr_assert(!file_contains(j, "sekrit"), "password in the journal");
    cr_assert(!file_contains(wal, "sekrit"), "password in the WAL");
    rc = run_segget(dir, argv, 60);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_assert(!strstr(last_stderr(), "sekrit"), "%s", last_stderr());
    cr_assert(same_file(path, src));
    cr_assert_gt(srv_requests(&S, 206), 1, "ranges did not authenticate");
}

Test(auth, wrong_password_is_an_http_error_without_the_password)
{
    write_htpasswd();
    srv_file(&S, "private/f", 1 * MiB, 61);
    char url[512];
    snprintf(url, sizeof url, "http://u:wrongpw@127.0.0.1:%d/private/f",
             S.port);
    const char *argv[] = {"-q", url, NULL};
    cr_assert_eq(run_segget(dir, argv, 30), 3, "%s", last_stderr());
    cr_assert(strstr(last_stderr(), "401"), "%s", last_stderr());
    cr_assert(!strstr(last_stderr(), "wrongpw"), "%s", last_stderr());
    cr_assert_eq(dir_entries(dir), 0);
}

/* --- TLS --- */

static void up_tls(void)
{
    srv_start_tls(&S, "");
    dir = tmp_dir();
}

TestSuite(tls, .init = up_tls, .fini = down, .timeout = 60);

Test(tls, self_signed_certificate_is_refused)
{
    srv_file(&S, "f", 1 * MiB, 70);
    const char *argv[] = {"-q", srv_url_tls(&S, "f"), NULL};
    int rc = run_segget(dir, argv, 30);
    cr_assert_eq(rc, 8, "exit %d: %s", rc, last_stderr());
    cr_assert(strstr(last_stderr(), "certificate"), "%s", last_stderr());
    cr_assert_eq(dir_entries(dir), 0);
}

Test(tls, insecure_downloads_exactly)
{
    const char *src = srv_file(&S, "f", 6 * MiB + 1, 71);
    const char *argv[] = {"-q", "-k", "-n", "4", srv_url_tls(&S, "f"), NULL};
    int rc = run_segget(dir, argv, 60);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    char path[600];
    snprintf(path, sizeof path, "%s/f", dir);
    cr_assert(same_file(path, src));
    cr_assert_geq(srv_requests(&S, 206), 4);
}

static void up_h2(void)
{
    srv_start_h2(&S, "limit_rate 4m;");
    dir = tmp_dir();
}

TestSuite(http2, .init = up_h2, .fini = down, .timeout = 60);

Test(http2, ranges_use_separate_connections_not_streams)
{
    /* Two planned ranges for six connections: every other range is a
     * split made while the first ones run, the requests multiplexing
     * would put on a busy connection.  Ranges ask for HTTP/1.1 even from
     * a server offering HTTP/2 (engine.c: the only way libcurl 7.88 keeps
     * a request off a busy HTTP/2 connection). */
    const char *src = srv_file(&S, "f", 16 * MiB, 72);
    const char *argv[] = {"-q", "-k", "-n", "6", "--min-split", "8M",
                          srv_url_tls(&S, "f"), NULL};
    int rc = run_segget(dir, argv, 60);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    char path[600];
    snprintf(path, sizeof path, "%s/f", dir);
    cr_assert(same_file(path, src));
    int h1 = srv_connections(&S, "HTTP/1.1");
    cr_assert_geq(h1, 2, "%d HTTP/1.1 connections", h1);
    cr_assert_eq(srv_connections(&S, "HTTP/2.0"), 0);
    cr_assert_eq(srv_overlaps(&S), 0, "ranges shared a connection");
}

/* Restart S so that /f redirects to a second nginx (on another port, so
 * another origin) serving size bytes of seed as /f; returns the source
 * file's path (static).  The caller stops *other. */
static const char *redirect_to_other(srv *other, int64_t size, uint64_t seed)
{
    static char src[512];
    srv_start(other, "");
    snprintf(src, sizeof src, "%s", srv_file(other, "f", size, seed));
    wait_srv_ready(&S, WAIT_MS);
    srv_stop(&S);
    char conf[256];
    snprintf(conf, sizeof conf,
             "location = /f { return 302 http://127.0.0.1:%d/f; }",
             other->port);
    srv_start(&S, conf);
    return src;
}

Test(auth, credentials_never_follow_a_redirect_to_another_host)
{
    /* The redirect target logs any Authorization header it receives. */
    srv other;
    const char *src = redirect_to_other(&other, 4 * MiB, 62);
    char url[512];
    snprintf(url, sizeof url, "http://u:sekrit@127.0.0.1:%d/f", S.port);
    const char *argv[] = {"-q", "-n", "4", url, NULL};
    int rc = run_segget(dir, argv, 60);
    char logp[300];
    snprintf(logp, sizeof logp, "%s/logs/access.log", other.root);
    int leaked = file_contains(logp, "auth=Basic");
    snprintf(logp, sizeof logp, "%s/logs/access.log", S.root);
    int sent_first = file_contains(logp, "auth=Basic");
    char path[600];
    snprintf(path, sizeof path, "%s/f", dir);
    int same = same_file(path, src);
    srv_stop(&other);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_assert(same);
    cr_assert(sent_first, "the first host never got the credentials");
    cr_assert(!leaked, "credentials were sent to the redirect target");
}

/* Count log lines of srv s that contain needle. */
static int log_lines_with(const srv *s, const char *needle, int *total)
{
    char p[300];
    snprintf(p, sizeof p, "%s/logs/access.log", s->root);
    FILE *f = fopen(p, "r");
    int n = 0;
    *total = 0;
    char line[1024];
    while (f && fgets(line, sizeof line, f)) {
        (*total)++;
        n += strstr(line, needle) != NULL;
    }
    if (f)
        fclose(f);
    return n;
}

Test(auth, user_headers_reach_every_request_of_the_origin)
{
    const char *src = srv_file(&S, "f", 6 * MiB, 63);
    const char *argv[] = {"-q", "-n", "4", "-H", "X-Secret: s3cr3t",
                          srv_url(&S, "f"), NULL};
    cr_assert_eq(run_segget(dir, argv, 60), 0, "%s", last_stderr());
    char path[600];
    snprintf(path, sizeof path, "%s/f", dir);
    cr_assert(same_file(path, src));
    int total, with = log_lines_with(&S, "xs=s3cr3t", &total);
    cr_assert_gt(total, 4);
    cr_assert_eq(with, total, "%d of %d requests had the header", with,
                 total);
}

Test(auth, user_headers_never_follow_a_redirect_to_another_host)
{
    srv other;
    const char *src = redirect_to_other(&other, 4 * MiB, 64);
    const char *argv[] = {"-q", "-n", "4", "-H", "X-Secret: s3cr3t",
                          srv_url(&S, "f"), NULL};
    int rc = run_segget(dir, argv, 60);
    int t1, t2;
    int first = log_lines_with(&S, "xs=s3cr3t", &t1);
    int leaked = log_lines_with(&other, "xs=s3cr3t", &t2);
    char path[600];
    snprintf(path, sizeof path, "%s/f", dir);
    int same = same_file(path, src);
    srv_stop(&other);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_assert(same);
    cr_assert_gt(first, 0, "the origin never got the header");
    cr_assert_gt(t2, 4, "the target served too few requests");
    cr_assert_eq(leaked, 0, "%d requests to the other host had the header",
                 leaked);
}

Test(auth, malformed_or_reserved_headers_are_usage_errors)
{
    const char *bad[] = {"NoColon", ": empty name", "Range: bytes=0-1",
                         "if-range: x", "Accept-Encoding: gzip"};
    for (int i = 0; i < 5; i++) {
        const char *argv[] = {"-H", bad[i], srv_url(&S, "f"), NULL};
        cr_expect_eq(run_segget(dir, argv, 30), 1, "'%s': %s", bad[i],
                     last_stderr());
    }
    cr_assert_eq(dir_entries(dir), 0);
}

Test(nginx, connect_timeout_gives_up_with_a_network_error)
{
    /* A listener whose accept queue is full: the kernel drops new SYNs,
     * so connecting hangs until --connect-timeout. */
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(l, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(l, 0), 0);
    socklen_t al = sizeof a;
    cr_assert_eq(getsockname(l, (struct sockaddr *)&a, &al), 0);
    int fill[4];
    for (int i = 0; i < 4; i++) {
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        (void)connect(fill[i], (struct sockaddr *)&a, sizeof a);
    }
    /* The handshakes that fit have completed: the queue is full. */
    wait_accept_queue_full(l, WAIT_MS);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/f", ntohs(a.sin_port));
    const char *argv[] = {"-q", "--connect-timeout", "1", "--max-tries", "2",
                          url, NULL};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = run_segget(dir, argv, 60);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    for (int i = 0; i < 4; i++)
        close(fill[i]);
    close(l);
    cr_assert_eq(rc, 2, "exit %d: %s", rc, last_stderr());
    cr_assert(strstr(last_stderr(), "imeout") || strstr(last_stderr(), "timed out"),
              "%s", last_stderr());
    /* Bounded: a handful of one-second tries, not the default 30 s. */
    cr_assert_lt(t1.tv_sec - t0.tv_sec, 20);
}

Test(resume, verified_journal_is_finished_without_the_network)
{
    /* A run killed between "verified" and the rename leaves NAME.part and
     * a verified journal: the next run publishes it with no request. */
    const char *src = srv_file(&S, "f", 3 * MiB, 41);
    char ref[600], part[600], j[600], cmd[1400];
    snprintf(ref, sizeof ref, "%s/../ref", dir);
    snprintf(part, sizeof part, "%s/f.part", dir);
    snprintf(j, sizeof j, "%s/f.segget", dir);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && cp '%s' '%s'", src, ref, src,
             part);
    cr_assert_eq(system(cmd), 0);
    char url[512];
    snprintf(url, sizeof url, "%s", srv_url(&S, "f"));
    journal *jn;
    int fresh;
    sg_err e = {0};
    cr_assert_eq(journal_open(&jn, j, 1, &fresh, &e), SG_OK);
    sg_segment seg = {0, 3 * MiB, 3 * MiB, 0, 0};
    journal_meta m = {.url = url, .effective_url = url, .output = "f",
                      .etag = "\"x\"", .size = 3 * MiB, .ranges = 1};
    cr_assert_eq(journal_reset(jn, &m, &seg, 1, &e), SG_OK);
    cr_assert_eq(journal_mark_verified(jn, &e), SG_OK);
    journal_close(jn);
    wait_srv_ready(&S, WAIT_MS);
    srv_stop(&S); /* no server: a request would fail */
    const char *argv[] = {url, NULL};
    int rc = run_segget(dir, argv, 30);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_assert(strstr(last_stderr(), "completed by an earlier run"), "%s",
              last_stderr());
    char path[600];
    snprintf(path, sizeof path, "%s/f", dir);
    cr_assert(same_file(path, ref));
    cr_assert_eq(dir_entries(dir), 1, "journal or .part left");
}

Test(auth, user_option_reaches_the_first_host_only)
{
    srv other;
    const char *src = redirect_to_other(&other, 3 * MiB, 63);
    const char *argv[] = {"-q", "-n", "3", "--user", "u:sekrit",
                          srv_url(&S, "f"), NULL};
    int rc = run_segget(dir, argv, 60);
    char logp[300];
    snprintf(logp, sizeof logp, "%s/logs/access.log", other.root);
    int leaked = file_contains(logp, "auth=Basic");
    snprintf(logp, sizeof logp, "%s/logs/access.log", S.root);
    /* base64("u:sekrit") */
    int sent_first = file_contains(logp, "auth=Basic dTpzZWtyaXQ=");
    char path[600];
    snprintf(path, sizeof path, "%s/f", dir);
    int same = same_file(path, src);
    srv_stop(&other);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_assert(same);
    cr_assert(sent_first, "the first host never got the credentials");
    cr_assert(!leaked, "--user credentials went to the redirect target");
}

Test(auth, netrc_supplies_credentials_by_host)
{
    const char *src = srv_file(&S, "n", 2 * MiB, 64);
    static char home[600], env[700];
    snprintf(home, sizeof home, "%s/../home", dir);
    mkdir(home, 0700);
    char rc_path[700];
    snprintf(rc_path, sizeof rc_path, "%s/.netrc", home);
    FILE *f = fopen(rc_path, "w");
    cr_assert_not_null(f);
    fprintf(f, "machine 127.0.0.1 login nu password np\n");
    fclose(f);
    chmod(rc_path, 0600);
    snprintf(env, sizeof env, "HOME=%s", home);
    segget_env(env);
    const char *argv[] = {"-q", "-n", "2", "--netrc", srv_url(&S, "n"), NULL};
    int rc = run_segget(dir, argv, 60);
    segget_env(NULL);
    rm_tree(home);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    char path[600], logp[300];
    snprintf(path, sizeof path, "%s/n", dir);
    cr_assert(same_file(path, src));
    snprintf(logp, sizeof logp, "%s/logs/access.log", S.root);
    cr_assert(file_contains(logp, "auth=Basic bnU6bnA="), /* nu:np */
              "the .netrc credentials were not sent");
}

Test(auth, proxy_option_and_environment)
{
    /* nginx answers an absolute-form request ("GET http://host/p") from
     * its own root, so it stands in for a forward proxy: the host in the
     * URL is never resolved or contacted. */
    const char *src = srv_file(&S, "p", 3 * MiB, 65);
    char proxy[64];
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", S.port);
    const char *argv[] = {"-q", "-n", "3", "--proxy", proxy,
                          "http://segget-proxy-test.invalid/p", NULL};
    int rc = run_segget(dir, argv, 60);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    char path[600];
    snprintf(path, sizeof path, "%s/p", dir);
    cr_assert(same_file(path, src));
    unlink(path);
    static char env[128];
    snprintf(env, sizeof env, "http_proxy=%s", proxy);
    segget_env(env);
    const char *argv2[] = {"-q", "-n", "3",
                           "http://segget-proxy-test.invalid/p", NULL};
    rc = run_segget(dir, argv2, 60);
    segget_env(NULL);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_assert(same_file(path, src));
}


/* These suites start their own servers; a failed assertion still stops
 * them (a server left running would hold the test's output open). */
TestSuite(progress, .fini = down);
TestSuite(mirrors, .fini = down);

/* Run segget with args under a pseudo-terminal 70 columns wide (script(1)
 * from util-linux); returns what the terminal received (static). */
static const char *on_terminal(const char *args)
{
    static char text[1 << 16];
    char cmd[2048], txt[600];
    snprintf(txt, sizeof txt, "%s/../pty.txt", dir);
    snprintf(cmd, sizeof cmd,
             "cd '%s' && script -qefc \"stty cols 70; '%s' %s\" /dev/null "
             ">'%s' 2>&1",
             dir, getenv("SEGGET_BIN"), args, txt);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    FILE *f = fopen(txt, "rb");
    cr_assert_not_null(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    unlink(txt);
    return text;
}

Test(progress, map_redrawn_in_place_on_a_terminal, .timeout = 60)
{
    srv_start(&S, "limit_rate 4m;");
    dir = tmp_dir();
    srv_file(&S, "m.bin", 12 * MiB, 80);
    char args[600];
    snprintf(args, sizeof args, "-n 4 %s", srv_url(&S, "m.bin"));
    const char *t = on_terminal(args);
    cr_expect(strstr(t, "\033[1A"), "not redrawn in place: %s", t);
    /* A map with written cells and connection labels, within the width. */
    int maps = 0, labelled = 0;
    for (const char *l = t; (l = strchr(l, '[')); l++) {
        const char *end = strchr(l, ']');
        if (!end || strspn(l + 1, "#-.1234") != (size_t)(end - l - 1))
            continue;
        maps++;
        cr_expect_leq(end - l + 1, 70, "map wider than the terminal");
        labelled += strpbrk(l, "1234") && strpbrk(l, "1234") < end &&
                    memchr(l, '#', (size_t)(end - l)) != NULL;
    }
    cr_expect_geq(maps, 2, "maps drawn: %d\n%s", maps, t);
    cr_expect_geq(labelled, 1, "no map showed connections at work\n%s", t);
    cr_expect(strstr(t, "100.0%"), "%s", t);
    cr_expect(strstr(t, "saved m.bin"), "%s", t);
    char path[600];
    snprintf(path, sizeof path, "%s/m.bin", dir);
    unlink(path);

    /* Quiet on a terminal: nothing at all. */
    snprintf(args, sizeof args, "-q -n 4 %s", srv_url(&S, "m.bin"));
    t = on_terminal(args);
    cr_expect_eq(strlen(t), 0, "-q printed: %s", t);
    unlink(path);

    /* Not a terminal: plain lines, no escape sequences. */
    const char *argv[] = {"-n", "4", srv_url(&S, "m.bin"), NULL};
    cr_assert_eq(run_segget(dir, argv, 60), 0, "%s", last_stderr());
    cr_expect_null(strchr(last_stderr(), '\033'), "%s", last_stderr());
    cr_expect(strstr(last_stderr(), "saved m.bin"), "%s", last_stderr());
    srv_stop(&S);
    tmp_cleanup();
}

/* Lines of the JSON events file at path, checked to be single objects
 * with balanced quotes and braces; returns how many, and copies the first
 * and last into first/last. */
static int json_lines(const char *path, char *first, char *last, size_t cap,
                      int *progress, int *started, int *done)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    char line[8192];
    int n = 0;
    *progress = *started = *done = 0;
    while (fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        cr_assert(len > 2 && line[len - 1] == '\n', "line %d unended", n);
        line[--len] = '\0';
        cr_assert(strncmp(line, "{\"event\":\"", 10) == 0 &&
                      line[len - 1] == '}',
                  "not an event object: %s", line);
        int depth = 0, in_str = 0;
        for (size_t i = 0; i < len; i++) {
            if (in_str) {
                if (line[i] == '\\')
                    i++;
                else if (line[i] == '"')
                    in_str = 0;
                continue;
            }
            cr_assert((unsigned char)line[i] >= 0x20, "raw control byte");
            in_str = line[i] == '"';
            depth += (line[i] == '{' || line[i] == '[') -
                     (line[i] == '}' || line[i] == ']');
            cr_assert(depth >= 0 && (depth > 0 || i == len - 1),
                      "unbalanced: %s", line);
        }
        cr_assert(!in_str && depth == 0, "unbalanced: %s", line);
        if (n == 0)
            snprintf(first, cap, "%s", line);
        snprintf(last, cap, "%s", line);
        *progress += strstr(line, "{\"event\":\"progress\"") == line;
        *started += strstr(line, "\"state\":\"started\"") != NULL;
        *done += strstr(line, "\"state\":\"done\"") != NULL;
        n++;
    }
    fclose(f);
    return n;
}

Test(progress, json_events, .timeout = 60)
{
    srv_start(&S, "limit_rate 4m;");
    dir = tmp_dir();
    srv_file(&S, "j.bin", 12 * MiB, 81);
    static char events[600];
    snprintf(events, sizeof events, "%s/../events.json", dir);
    segget_stdout(events);
    const char *argv[] = {"--json", "-n", "4", srv_url(&S, "j.bin"), NULL};
    int rc = run_segget(dir, argv, 60);
    cr_assert_eq(rc, 0, "%s", last_stderr());
    cr_expect_str_empty(last_stderr(), "--json printed progress on stderr");
    char first[8192], last[8192];
    int progress, started, done;
    int n = json_lines(events, first, last, sizeof first, &progress, &started,
                       &done);
    cr_expect_geq(n, 4);
    /* run_segget() checked every event against the schema; here, what
     * they say. */
    char want[512];
    snprintf(want, sizeof want,
             "{\"event\":\"start\",\"schema\":3,\"url\":\"%s\","
             "\"path\":\"j.bin\",\"size\":12582912,",
             srv_url(&S, "j.bin"));
    cr_expect(strstr(first, want) == first, "%s", first);
    cr_expect(strstr(first, "\"etag\":\"\\\""), "ETag escaped: %s", first);
    cr_expect(strstr(first, "\"plan\":[{\"start\":0,\"end\":"), "%s",
              first);
    cr_expect(strstr(first, "\"written\":0}"), "%s", first);
    cr_expect_geq(progress, 2, "progress events: %d", progress);
    cr_expect_geq(started, 4);
    cr_expect_eq(started, done, "every started segment is done");
    cr_expect(strstr(last, "{\"event\":\"finish\",\"schema\":3,\"exit\":0,"
                           "\"path\":\"j.bin\",\"size\":12582912,") == last,
              "%s", last);
    cr_expect(strstr(last, "\"already_complete\":false,\"verified\":null}"),
              "%s", last);
    /* A finished segment has all of its bytes written. */
    FILE *f = fopen(events, "r");
    char line[8192];
    int segs = 0;
    while (fgets(line, sizeof line, f)) {
        long long a, b, w;
        if (sscanf(line, "{\"event\":\"segment\",\"schema\":3,\"state\":"
                         "\"done\",\"start\":%lld,\"end\":%lld,"
                         "\"written\":%lld}",
                   &a, &b, &w) == 3) {
            cr_expect_eq(w, b - a, "%s", line);
            segs++;
        }
    }
    fclose(f);
    cr_expect_eq(segs, done);

    /* A failure ends with an error event carrying the exit status and
     * the HTTP status. */
    const char *bad[] = {"--json", srv_url(&S, "missing"), NULL};
    cr_expect_eq(run_segget(dir, bad, 60), 3);
    json_lines(events, first, last, sizeof first, &progress, &started, &done);
    cr_expect(strstr(last, "{\"event\":\"error\",\"schema\":3,\"exit\":3,"
                           "\"message\":\"") == last,
              "%s", last);
    cr_expect(strstr(last, "HTTP 404"), "%s", last);
    cr_expect(strstr(last, "\"http_status\":404}"), "%s", last);

    /* A batch: one file event per state, then the counts. */
    char qp[600];
    snprintf(qp, sizeof qp, "%s/../q.txt", dir);
    FILE *q = fopen(qp, "w");
    fprintf(q, "%s\n", srv_url(&S, "j.bin"));
    fprintf(q, "%s\n", srv_url(&S, "missing")); /* one static buffer */
    fclose(q);
    const char *bq[] = {"--json", "-f", "-i", qp, NULL};
    cr_expect_eq(run_segget(dir, bq, 60), 3);
    segget_stdout(NULL);
    n = json_lines(events, first, last, sizeof first, &progress, &started,
                   &done);
    cr_expect(strstr(last, "{\"event\":\"error\",\"schema\":3,\"exit\":3,"
                           "\"files_total\":2,\"files_done\":1,"
                           "\"files_skipped\":0,\"files_failed\":1,") == last,
              "%s", last);
    cr_expect(strstr(last, "\"message\":\"1 of 2 files failed; line 2: "),
              "%s", last);
    cr_expect(strstr(last, "HTTP 404\",\"http_status\":404}"), "%s", last);
    f = fopen(events, "r");
    int files = 0, failed = 0;
    while (fgets(line, sizeof line, f)) {
        files += strstr(line, "{\"event\":\"file\",\"schema\":3,\"line\":") ==
                 line;
        failed += strstr(line, "\"state\":\"failed\"") &&
                  strstr(line, "\"exit\":3,\"http_status\":404}");
        if (strstr(line, "{\"event\":\"progress\"") == line)
            cr_expect(strstr(line, "\"files_total\":2,") &&
                          !strstr(line, "\"total\""),
                      "%s", line);
    }
    fclose(f);
    cr_expect_eq(files, 4, "active and done, active and failed: %d", files);
    cr_expect_eq(failed, 1, "the failed file's exit and HTTP status");
    unlink(qp);
    unlink(events);
    srv_stop(&S);
    tmp_cleanup();
}

static double since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) +
           (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

Test(auth, limit_rate_bounds_the_total_rate)
{
    /* Lower bounds only: a slow machine cannot make these fail. */
    const char *src = srv_file(&S, "r", 3 * MiB, 66);
    const char *argv[] = {"-q", "-n", "4", "--min-split", "256K",
                          "--limit-rate", "1M", srv_url(&S, "r"), NULL};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(run_segget(dir, argv, 60), 0, "%s", last_stderr());
    double secs = since(&t0);
    char path[600];
    snprintf(path, sizeof path, "%s/r", dir);
    cr_assert(same_file(path, src));
    cr_expect_geq(secs, 2.5, "3 MiB at 1 MiB/s took %.2f s", secs);
    unlink(path);

    /* A batch shares one limit: 8 x 256 KiB at 512 KiB/s. */
    char qp[600];
    snprintf(qp, sizeof qp, "%s/../q.txt", dir);
    FILE *q = fopen(qp, "w");
    for (int i = 0; i < 8; i++) {
        char name[16];
        snprintf(name, sizeof name, "b%d", i);
        srv_file(&S, name, 256 * 1024, (uint64_t)(90 + i));
        fprintf(q, "%s\n", srv_url(&S, name));
    }
    fclose(q);
    const char *bq[] = {"-q", "-j", "4", "--limit-rate", "512K", "-i", qp,
                        NULL};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(run_segget(dir, bq, 60), 0, "%s", last_stderr());
    secs = since(&t0);
    cr_expect_geq(secs, 3.0, "2 MiB at 512 KiB/s took %.2f s", secs);
    const char *low[] = {"--limit-rate", "1K", srv_url(&S, "r"), NULL};
    cr_expect_eq(run_segget(dir, low, 60), 1);
    const char *share[] = {"-j", "8", "--limit-rate", "16K", "-i", qp, NULL};
    cr_expect_eq(run_segget(dir, share, 60), 1);
    cr_expect(strstr(last_stderr(), "at least 32K"), "%s", last_stderr());
    unlink(qp);
}

/* Does the file at path hold bytes [first, first + len) of src? */
static int same_part(const char *path, const char *src, int64_t first,
                     int64_t len)
{
    FILE *a = fopen(path, "rb"), *b = fopen(src, "rb");
    int same = a && b && fseek(b, (long)first, SEEK_SET) == 0;
    int64_t n = 0;
    int ca, cb;
    while (same && (ca = fgetc(a)) != EOF) {
        cb = fgetc(b);
        same = ca == cb;
        n++;
    }
    if (a)
        fclose(a);
    if (b)
        fclose(b);
    return same && n == len;
}

Test(nginx, range_forms_fetch_only_their_bytes)
{
    const char *src = srv_file(&S, "whole.bin", 6 * MiB + 11, 91);
    struct {
        const char *spec;
        int64_t first, len;
    } cases[] = {
        {"1000000-4999999", 1000000, 4000000},
        {"0-0", 0, 1},
        {"5000000-", 5000000, 6 * MiB + 11 - 5000000},
        {"-777", 6 * MiB + 11 - 777, 777},
        {"6000000-99999999", 6000000, 6 * MiB + 11 - 6000000},
        {"-99999999", 0, 6 * MiB + 11},
    };
    /* Four connections: exact bytes.  One: exact bytes, and nginx sends
     * exactly the part (plus the probe's byte).  With several, a split
     * cuts a request after nginx has pushed more of it into the socket,
     * so only one connection pins the count down. */
    const char *const ns[] = {"4", "1"};
    for (size_t i = 0; i < 2 * sizeof cases / sizeof *cases; i++) {
        size_t c = i / 2;
        srv_log_reset(&S);
        const char *argv[] = {"-q", "-n", ns[i % 2], "--min-split",
                              "256K", "--range", cases[c].spec,
                              srv_url(&S, "whole.bin"), NULL};
        int rc = run_segget(dir, argv, 60);
        cr_assert_eq(rc, 0, "%s: exit %d: %s", cases[c].spec, rc,
                     last_stderr());
        snprintf(out, sizeof out, "%s/whole.bin", dir);
        cr_expect(same_part(out, src, cases[c].first, cases[c].len),
                  "--range %s -n %s: wrong bytes", cases[c].spec,
                  ns[i % 2]);
        if (i % 2)
            cr_expect_leq(srv_bytes_sent(&S), cases[c].len + 1,
                          "--range %s: %lld bytes sent for %lld",
                          cases[c].spec, (long long)srv_bytes_sent(&S),
                          (long long)cases[c].len);
        cr_expect_eq(dir_entries(dir), 1);
        unlink(out);
    }
    const char *bad[] = {"5-3", "-0", "-", "a-b", "1-2-3", " 1-2", "1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *argv[] = {"--range", bad[i], srv_url(&S, "whole.bin"),
                              NULL};
        cr_expect_eq(run_segget(dir, argv, 30), 1, "--range '%s'", bad[i]);
    }
    const char *past[] = {"--range", "7000000-", srv_url(&S, "whole.bin"),
                          NULL};
    cr_expect_eq(run_segget(dir, past, 30), 1);
    cr_expect(strstr(last_stderr(), "no byte 7000000"), "%s", last_stderr());
    cr_expect_eq(dir_entries(dir), 0);
}

Test(nginx, range_resumes_after_kill_and_is_part_of_the_journal)
{
    wait_srv_ready(&S, WAIT_MS);
    srv_stop(&S);
    /* 2 MiB/s per request, sent smoothly (64 KiB pieces 31 ms apart),
     * not in one-second bursts: wherever the kill lands, the ranges are
     * about as far as each other, and a split in the rerun cuts at most
     * a piece in flight.  After a kill mid-burst the rerun would start
     * with uneven ranges, and the split that evens them out would cut a
     * request after nginx pushed up to a burst more of it. */
    srv_start(&S, "limit_rate 2m; sendfile_max_chunk 64k;");
    const char *src = srv_file(&S, "r.bin", 24 * MiB, 92);
    const char *argv[] = {"-q", "-n", "4", "--range", "3000000-19999999",
                          srv_url(&S, "r.bin"), NULL};
    char rp[600];
    snprintf(rp, sizeof rp, "%s/r.bin", dir);
    pid_t pid = spawn_segget(dir, argv);
    /* Killed once a checkpoint claims part of the range. */
    AWAIT(wait_committed(rp, 0, pid, WAIT_MS));
    kill(pid, SIGKILL);
    cr_assert_eq(wait_child(pid, 30), 128 + SIGKILL,
                 "finished before the kill: %s", last_stderr());
    /* What the journal holds after the kill: the rerun fetches the rest. */
    char jp[600];
    snprintf(jp, sizeof jp, "%s/r.bin.segget", dir);
    int64_t claimed = 0;
    journal *j;
    int fresh;
    sg_err je = {0};
    if (journal_open(&j, jp, 0, &fresh, &je) == SG_OK) {
        journal_meta m;
        sg_segment *segs;
        int n;
        if (!fresh && journal_read(j, &m, &segs, &n, &je) == SG_OK) {
            for (int i = 0; i < n; i++)
                claimed += segs[i].done - segs[i].start;
            free(segs);
            journal_meta_cleanup(&m);
        }
        journal_close(j);
    }
    err_reset(&je);
    /* Another range into the same name is another download. */
    const char *other[] = {"-q", "--range", "0-99", srv_url(&S, "r.bin"),
                           NULL};
    cr_expect_eq(run_segget(dir, other, 30), 7, "%s", last_stderr());
    /* nginx logs the killed run's requests (499) as it notices their
     * connections closed: all of them before the count starts. */
    wait_srv_idle(&S, WAIT_MS);
    int64_t before = srv_bytes_sent(&S);
    int rc = run_segget(dir, argv, 120);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    snprintf(out, sizeof out, "%s/r.bin", dir);
    cr_assert(same_part(out, src, 3000000, 17000000));
    int64_t again = srv_bytes_sent(&S) - before;
    cr_expect_leq(again, 17000000 - claimed + 17000000 / 20,
                  "the rerun fetched %lld bytes; %lld of 17000000 were "
                  "journaled",
                  (long long)again, (long long)claimed);
}

Test(noranges, range_needs_a_server_with_ranges)
{
    srv_file(&S, "n.bin", 1 * MiB, 93);
    const char *argv[] = {"--range", "10-20", srv_url(&S, "n.bin"), NULL};
    cr_expect_eq(run_segget(dir, argv, 30), 4, "%s", last_stderr());
    cr_expect(strstr(last_stderr(), "does not serve byte ranges"), "%s",
              last_stderr());
    cr_expect_eq(dir_entries(dir), 0);
}

Test(progress, keys_pause_and_continue_on_a_terminal, .timeout = 90)
{
    srv_start(&S, "limit_rate 1m;");
    dir = tmp_dir();
    const char *src = srv_file(&S, "k.bin", 8 * MiB, 82);
    char cmd[2048], txt[600];
    snprintf(txt, sizeof txt, "%s/../pty.txt", dir);
    snprintf(out, sizeof out, "%s/k.bin", dir);
    snprintf(cmd, sizeof cmd,
             "cd '%s' && script -qefc \"stty cols 70; '%s' -n 4 %s\" "
             "/dev/null >'%s' 2>&1",
             dir, getenv("SEGGET_BIN"), srv_url(&S, "k.bin"), txt);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    FILE *tty = popen(cmd, "w");
    cr_assert_not_null(tty);
    /* segget reads keys once the terminal shows its progress (it takes
     * the terminal before it draws), and data is flowing: a progress line
     * shows MiB received (below 1 MiB it says B or KiB). */
    AWAIT(wait_text(txt, " MiB / 8.0 MiB", 0, WAIT_MS));
    fputc('p', tty);
    fflush(tty);
    /* The pause took effect: segget said so and closed its connections,
     * and nginx logged their requests. */
    AWAIT(wait_text(txt, "paused; press c", 0, WAIT_MS));
    wait_srv_idle(&S, WAIT_MS);
    int during = srv_requests(&S, 0);
    nap_ms(1500); /* the observation window: nothing may start meanwhile */
    /* Paused: the requests ended (nginx logs them then), none began. */
    int after = srv_requests(&S, 0);
    /* Still unfinished after the window: the pause held the download. */
    int unfinished = !exists(out);
    fputc('c', tty);
    fflush(tty);
    int rc = pclose(tty);
    double secs = since(&t0);
    cr_assert_eq(rc, 0, "script/segget failed: %d", rc);
    cr_assert(same_file(out, src));
    cr_expect_geq(during, 5, "the connections were not closed (%d logged)",
                  during);
    cr_expect_eq(after, during, "requests ran while paused");
    cr_expect(unfinished,
              "a pause of 1.5 s did not show: the download finished "
              "during it (%.2f s in all)",
              secs);
    FILE *f = fopen(txt, "r");
    char buf[1 << 16];
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
    cr_expect(strstr(buf, "paused; press c"), "%s", buf);
    cr_expect(strstr(buf, "continuing"), "%s", buf);
    unlink(txt);
    srv_stop(&S);
    tmp_cleanup();
}

Test(progress, sigtstp_pauses_then_stops_and_sigcont_continues,
     .timeout = 90)
{
    srv_start(&S, "limit_rate 1m;");
    dir = tmp_dir();
    const char *src = srv_file(&S, "z.bin", 8 * MiB, 83);
    const char *argv[] = {"-n", "4", srv_url(&S, "z.bin"), NULL};
    snprintf(out, sizeof out, "%s/z.bin", dir);
    segget_own_pgrp(1);
    pid_t pid = spawn_segget(dir, argv);
    segget_own_pgrp(0);
    /* Data is flowing on all four connections: more than 3.5 MiB written
     * means each range got some of its first burst (about 1 MiB). */
    AWAIT(wait_written(pid, 7 * MiB / 2, WAIT_MS));
    kill(pid, SIGTSTP);
    cr_expect(wait_state(pid, 'T', WAIT_MS), "not stopped after SIGTSTP: %s",
              wait_failure());
    /* Stopped after closing its connections: once nginx has closed its
     * side too, every request is in its log. */
    wait_srv_idle(&S, WAIT_MS);
    int logged = srv_requests(&S, 0);
    cr_expect_geq(logged, 5, "stopped without closing its connections");
    kill(pid, SIGCONT);
    cr_assert_eq(wait_child(pid, 60), 0, "%s", last_stderr());
    cr_assert(same_file(out, src));
    cr_expect(strstr(last_stderr(), "continuing"), "%s", last_stderr());
    srv_stop(&S);
    tmp_cleanup();
}

/* Copy S's www/name to other's www with the same modification time, so
 * nginx gives both the same ETag and Last-Modified. */
static void mirror_file(srv *other, const char *name)
{
    char a[600], b[600], cmd[1400];
    snprintf(a, sizeof a, "%s/%s", S.www, name);
    snprintf(b, sizeof b, "%s/%s", other->www, name);
    snprintf(cmd, sizeof cmd, "cp -p '%s' '%s'", a, b);
    cr_assert_eq(system(cmd), 0);
}

Test(mirrors, segments_spread_and_the_faster_server_takes_more,
     .timeout = 120)
{
    srv_start(&S, "limit_rate 512k;");
    dir = tmp_dir();
    srv fast, other, stale;
    srv_start(&fast, "limit_rate 8m;");
    srv_start(&other, "");
    srv_start(&stale, "");
    char src[600]; /* srv_file's buffer is reused below */
    snprintf(src, sizeof src, "%s", srv_file(&S, "m.bin", 32 * MiB, 84));
    mirror_file(&fast, "m.bin");
    srv_file(&other, "m.bin", 32 * MiB + 1, 85); /* another size */
    srv_file(&stale, "m.bin", 32 * MiB, 84);     /* same bytes, new mtime */
    struct timespec old[2] = {{0, 0}, {1000000000, 0}};
    char sp[600];
    snprintf(sp, sizeof sp, "%s/m.bin", stale.www);
    utimensat(AT_FDCWD, sp, old, 0);
    char u0[256], u1[256], u2[256], u3[256];
    snprintf(u0, sizeof u0, "%s", srv_url(&S, "m.bin"));
    snprintf(u1, sizeof u1, "%s", srv_url(&fast, "m.bin"));
    snprintf(u2, sizeof u2, "%s", srv_url(&other, "m.bin"));
    snprintf(u3, sizeof u3, "%s", srv_url(&stale, "m.bin"));
    const char *argv[] = {"-n", "6", "-H", "X-Secret: s3", "--user",
                          "u:pw", u0, u1, u2, u3, NULL};
    int rc = run_segget(dir, argv, 90);
    int64_t slow_b = srv_bytes_sent(&S), fast_b = srv_bytes_sent(&fast);
    int64_t other_b = srv_bytes_sent(&other), stale_b = srv_bytes_sent(&stale);
    char flog[600];
    snprintf(flog, sizeof flog, "%s/logs/access.log", fast.root);
    int leaked = file_contains(flog, "xs=s3");
    int creds = file_contains(flog, "auth=Basic");
    char slog[600];
    snprintf(slog, sizeof slog, "%s/logs/access.log", S.root);
    int first = file_contains(slog, "auth=Basic dTpwdw=="); /* u:pw */
    srv_stop(&fast);
    srv_stop(&other);
    srv_stop(&stale);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    snprintf(out, sizeof out, "%s/m.bin", dir);
    cr_assert(same_file(out, src));
    cr_expect(strstr(last_stderr(), "not used: it has another size"), "%s",
              last_stderr());
    cr_expect(strstr(last_stderr(), "not used: its validator"), "%s",
              last_stderr());
    cr_expect_eq(other_b + stale_b, 0, "unusable mirrors sent bytes");
    cr_expect_gt(fast_b, 2 * slow_b,
                 "the fast mirror sent %lld bytes, the slow URL %lld",
                 (long long)fast_b, (long long)slow_b);
    cr_expect_gt(slow_b, 0, "the URL itself was not used");
    cr_expect(!leaked, "the user's header went to a mirror");
    cr_expect(!creds, "--user credentials went to a mirror");
    cr_expect(first, "the URL itself did not get the credentials");
    srv_stop(&S);
    tmp_cleanup();
}

Test(progress, a_background_job_leaves_the_terminal_alone, .timeout = 60)
{
    /* "segget URL &" in an interactive shell: a background job that
     * touched the terminal's mode would be stopped by SIGTTOU (wait then
     * reports 128 + 22). */
    srv_start(&S, "");
    dir = tmp_dir();
    const char *src = srv_file(&S, "bg.bin", 2 * MiB, 85);
    char args[700];
    snprintf(args, sizeof args,
             "-c 'set -m; \\\"%s\\\" -q -n 2 %s & wait $!; echo rc=$?'",
             getenv("SEGGET_BIN"), srv_url(&S, "bg.bin"));
    char cmd[2048], txt[600];
    snprintf(txt, sizeof txt, "%s/../pty.txt", dir);
    snprintf(cmd, sizeof cmd,
             "cd '%s' && script -qefc \"sh %s\" /dev/null >'%s' 2>&1", dir,
             args, txt);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    FILE *f = fopen(txt, "r");
    char buf[4096] = "";
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
    unlink(txt);
    cr_expect(strstr(buf, "rc=0"), "the background job: %s", buf);
    snprintf(out, sizeof out, "%s/bg.bin", dir);
    cr_expect(same_file(out, src));
}
