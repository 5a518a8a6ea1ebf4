/* SPDX-License-Identifier: MIT */
/*
 * Integration tests of batches (segget -i) against nginx and the fault
 * server: mixed sizes with failing URLs, reruns that skip finished files
 * without the network, kill -9 mid-batch, shards, refresh, the per-host
 * cap and malformed queues.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "harness.h"
#include "wait.h"

#define KiB (INT64_C(1) << 10)
#define MiB (INT64_C(1) << 20)

static srv S;
static const char *dir;
static char qpath[600];

static void up(void)
{
    srv_start(&S, "");
    dir = tmp_dir();
    snprintf(qpath, sizeof qpath, "%s/../queue.txt", dir);
}

static void down(void)
{
    unlink(qpath);
    wait_srv_ready(&S, WAIT_MS); /* a test may not have used it */
    srv_stop(&S);
    tmp_cleanup();
}

TestSuite(batch, .init = up, .fini = down, .timeout = 240);

static void write_queue(const char *text)
{
    FILE *f = fopen(qpath, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

static void add(char *q, size_t cap, const char *line)
{
    size_t n = strlen(q);
    snprintf(q + n, cap - n, "%s\n", line);
}

static int batch(const char *extra1, const char *extra2)
{
    const char *argv[] = {"-i", qpath, "-j", "3", "--min-split", "1M",
                          extra1, extra2, NULL};
    return run_segget(dir, argv, 180);
}

/* Does the download name hold the bytes of the served file src? */
static int same_as(const char *name, const char *src)
{
    char p[700], w[700];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    snprintf(w, sizeof w, "%s/%s", S.www, src);
    return same_file(p, w);
}

static int present(const char *name)
{
    char p[700];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return exists(p);
}

struct file {
    const char *name;
    int64_t size;
};

static const struct file mixed[] = {
    {"empty.bin", 0},          {"one.bin", 1},
    {"small.bin", 100 * KiB},  {"edge.bin", 2 * MiB - 1},
    {"twice.bin", 2 * MiB},    {"big.bin", 5 * MiB + 3},
};
#define NMIXED (int)(sizeof mixed / sizeof *mixed)

Test(batch, mixed_sizes_with_failures_then_a_rerun_retries_only_those)
{
    srv bad;
    const char *fargs[] = {"--size", "1000", "--fail-status", "500",
                           "--fail-count", "1000000", NULL};
    fsrv_start(&bad, fargs);
    char q[8192] = "# mixed\n";
    for (int i = 0; i < NMIXED; i++) {
        srv_file(&S, mixed[i].name, mixed[i].size, 100 + (uint64_t)i);
        add(q, sizeof q, srv_url(&S, mixed[i].name));
        if (i == 5)
            add(q, sizeof q, "  n=4");
    }
    /* A named copy in a new subdirectory, with a checksum that holds. */
    add(q, sizeof q, srv_url(&S, "small.bin"));
    add(q, sizeof q, "  out=sub/dir/copy.bin");
    char sum[200];
    {
        char cmd[700];
        snprintf(cmd, sizeof cmd, "sha256sum '%s/small.bin'", S.www);
        FILE *p = popen(cmd, "r");
        char hex[65] = "";
        cr_assert_eq(fscanf(p, "%64s", hex), 1);
        pclose(p);
        snprintf(sum, sizeof sum, "  checksum=sha256:%s", hex);
    }
    add(q, sizeof q, sum);
    add(q, sizeof q, srv_url(&S, "missing.bin")); /* line 13: 404 */
    add(q, sizeof q, srv_url(&bad, "always-500.bin"));
    add(q, sizeof q, srv_url(&S, "one.bin"));
    add(q, sizeof q, "  out=wrong-sum.bin");
    add(q, sizeof q, "  checksum=sha256:"
                     "0000000000000000000000000000000000000000000000000000000000000000");
    write_queue(q);

    int rc = batch("--max-tries", "2");
    cr_assert_eq(rc, 3, "exit %d (want the first failure's, HTTP: 3): %s",
                 rc, last_stderr());
    const char *err = last_stderr();
    cr_expect(strstr(err, "7 done, 0 skipped, 3 failed of 10"), "%s", err);
    cr_expect(strstr(err, "failed: line 13: "), "%s", err);
    cr_expect(strstr(err, "HTTP 404"), "%s", err);
    cr_expect(strstr(err, "HTTP 500"), "%s", err);
    cr_expect(strstr(err, "sha256 mismatch"), "%s", err);
    for (int i = 0; i < NMIXED; i++)
        cr_expect(same_as(mixed[i].name, mixed[i].name),
                  "%s differs", mixed[i].name);
    cr_expect(same_as("sub/dir/copy.bin", "small.bin"));
    cr_expect_not(present("missing.bin"));
    cr_expect_not(present("always-500.bin"));
    cr_expect_not(present("wrong-sum.bin"));
    cr_expect(present("wrong-sum.bin.part"), "kept for inspection");
    cr_expect_not(present("big.bin.segget"));

    /* The rerun asks only for what failed. */
    srv_log_reset(&S);
    rc = batch(NULL, NULL);
    cr_assert_eq(rc, 3, "%s", last_stderr());
    cr_expect(strstr(last_stderr(), "0 done, 7 skipped, 3 failed of 10"),
              "%s", last_stderr());
    int n;
    for (int i = 0; i < NMIXED; i++) {
        char uri[64];
        snprintf(uri, sizeof uri, "/%s", mixed[i].name);
        srv_bytes_for(&S, uri, &n);
        cr_expect_eq(n, strcmp(mixed[i].name, "one.bin") == 0 ? 1 : 0,
                     "%s asked for %d times", mixed[i].name, n);
    }
    srv_bytes_for(&S, "/missing.bin", &n);
    cr_expect_eq(n, 1);
    srv_stop(&bad);
}

Test(batch, rerun_finishes_without_the_network)
{
    char q[4096] = "";
    for (int i = 0; i < 20; i++) {
        char name[32];
        snprintf(name, sizeof name, "f%02d.bin", i);
        srv_file(&S, name, (i + 1) * 10 * KiB, (uint64_t)i);
        add(q, sizeof q, srv_url(&S, name));
    }
    write_queue(q);
    cr_assert_eq(batch(NULL, NULL), 0, "%s", last_stderr());
    cr_expect(strstr(last_stderr(), "20 done, 0 skipped, 0 failed of 20"),
              "%s", last_stderr());
    for (int i = 0; i < 20; i++) {
        char name[32];
        snprintf(name, sizeof name, "f%02d.bin", i);
        cr_expect(same_as(name, name), "%s", name);
    }
    srv_stop(&S);
    cr_assert_eq(batch(NULL, NULL), 0, "%s", last_stderr());
    cr_expect(strstr(last_stderr(), "0 done, 20 skipped, 0 failed of 20"),
              "%s", last_stderr());
    for (int i = 0; i < 20; i++) {
        char p[700];
        struct stat st;
        snprintf(p, sizeof p, "%s/f%02d.bin", dir, i);
        cr_expect(stat(p, &st) == 0 && st.st_size == (i + 1) * 10 * KiB,
                  "%s", p);
    }
    srv_start(&S, ""); /* for the suite's teardown */
}

Test(batch, kill_mid_batch_then_rerun_fetches_only_what_was_missing)
{
    wait_srv_ready(&S, WAIT_MS);
    srv_stop(&S);
    srv_start(&S, "limit_rate 4m;");
    enum { SMALL = 40 };
    char q[8192] = "";
    for (int i = 0; i < SMALL; i++) {
        char name[32];
        snprintf(name, sizeof name, "s%02d.bin", i);
        srv_file(&S, name, 700 * KiB + i, (uint64_t)(1000 + i));
        add(q, sizeof q, srv_url(&S, name));
    }
    srv_file(&S, "large1.bin", 12 * MiB, 77);
    srv_file(&S, "large2.bin", 9 * MiB + 5, 78);
    /* One connection each: with more, work stealing cuts requests short,
     * and what nginx had already sent of them would blur the count. */
    add(q, sizeof q, srv_url(&S, "large1.bin"));
    add(q, sizeof q, "  n=1");
    add(q, sizeof q, srv_url(&S, "large2.bin"));
    add(q, sizeof q, "  n=1");
    write_queue(q);
    srand((unsigned)time(NULL));
    for (int round = 0; round < 3; round++) {
        rm_tree(dir);
        mkdir(dir, 0700);
        srv_log_reset(&S);
        const char *argv[] = {"-q", "-i", qpath, "-j", "4", "--min-split",
                              "1M", NULL};
        pid_t pid = spawn_segget(dir, argv);
        /* Once nginx logged a request the batch is under way; the kill
         * lands at a random point after it. */
        if (wait_requests(&S, 0, 0, pid, WAIT_MS))
            nap_ms(400 + rand() % 1600); /* fault injection: random point */
        kill(pid, SIGKILL);
        wait_child(pid, 30);
        /* nginx logs the killed requests (499) as it notices their
         * connections closed: all of them before the log is emptied, so
         * none is counted against the rerun. */
        wait_srv_idle(&S, WAIT_MS);
        /* What has its name is exact; remember it and what is missing. */
        int finished[SMALL + 2] = {0};
        int64_t missing = 0;
        for (int i = 0; i < SMALL + 2; i++) {
            char name[32];
            int64_t size = i < SMALL ? 700 * KiB + i
                                     : i == SMALL ? 12 * MiB : 9 * MiB + 5;
            if (i < SMALL)
                snprintf(name, sizeof name, "s%02d.bin", i);
            else
                snprintf(name, sizeof name, "large%d.bin", i - SMALL + 1);
            if (present(name)) {
                cr_assert(same_as(name, name), "%s is not exact", name);
                finished[i] = 1;
            } else {
                missing += size;
            }
        }
        srv_log_reset(&S);
        const char *again[] = {"-q", "-i", qpath, "-j", "4", "--min-split",
                               "1M", NULL};
        int rc = run_segget(dir, again, 180);
        cr_assert_eq(rc, 0, "round %d: %s", round, last_stderr());
        int64_t sent = srv_bytes_sent(&S);
        cr_expect_leq(sent, missing,
                      "round %d: rerun fetched %lld bytes, %lld were missing",
                      round, (long long)sent, (long long)missing);
        for (int i = 0; i < SMALL + 2; i++) {
            char name[32], uri[40];
            if (i < SMALL)
                snprintf(name, sizeof name, "s%02d.bin", i);
            else
                snprintf(name, sizeof name, "large%d.bin", i - SMALL + 1);
            snprintf(uri, sizeof uri, "/%s", name);
            int n;
            srv_bytes_for(&S, uri, &n);
            if (finished[i])
                cr_expect_eq(n, 0, "round %d: %s was finished but fetched "
                                   "again",
                             round, name);
            cr_expect(same_as(name, name), "round %d: %s", round, name);
        }
        cr_expect_eq(dir_entries(dir), SMALL + 2 + 1, "leftovers in %s", dir);
    }
}

Test(batch, shards_take_every_url_exactly_once)
{
    enum { N = 30, K = 3 };
    char q[8192] = "";
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof name, "u%02d.bin", i);
        srv_file(&S, name, 3000 + i, (uint64_t)(500 + i));
        add(q, sizeof q, srv_url(&S, name));
    }
    write_queue(q);
    int taken = 0;
    for (int k = 1; k <= K; k++) {
        char shard[16];
        snprintf(shard, sizeof shard, "%d/%d", k, K);
        cr_assert_eq(batch("--shard", shard), 0, "%s", last_stderr());
        int done = -1, total = -1;
        const char *s = strstr(last_stderr(), "segget: ");
        while (s && sscanf(s, "segget: %d done, %*d skipped, %*d failed of %d",
                           &done, &total) != 2)
            s = strstr(s + 1, "segget: ");
        cr_assert_eq(done, total, "%s", last_stderr());
        taken += total;
        char st[700];
        snprintf(st, sizeof st, "%s/.segget-queue-%dof%d", dir, k, K);
        cr_expect(exists(st), "shard state %s", st);
    }
    cr_expect_eq(taken, N, "the shards took %d of %d URLs", taken, N);
    for (int i = 0; i < N; i++) {
        char name[32], uri[40];
        snprintf(name, sizeof name, "u%02d.bin", i);
        snprintf(uri, sizeof uri, "/%s", name);
        int n;
        srv_bytes_for(&S, uri, &n);
        cr_expect_eq(n, 1, "%s fetched %d times", name, n);
        cr_expect(same_as(name, name), "%s", name);
    }
}

Test(batch, refresh_refetches_only_what_changed)
{
    char q[4096] = "";
    for (int i = 0; i < 6; i++) {
        char name[32];
        snprintf(name, sizeof name, "r%d.bin", i);
        srv_file(&S, name, 50 * KiB, (uint64_t)(40 + i));
        add(q, sizeof q, srv_url(&S, name));
    }
    write_queue(q);
    cr_assert_eq(batch(NULL, NULL), 0, "%s", last_stderr());
    /* A new version of r2, with another size and mtime (a new ETag and
     * Last-Modified): the mtime is set, not waited for. */
    char r2[700];
    snprintf(r2, sizeof r2, "%s/r2.bin", S.www);
    struct stat old;
    cr_assert_eq(stat(r2, &old), 0);
    srv_file(&S, "r2.bin", 60 * KiB, 99);
    struct timespec later[2] = {old.st_mtim, old.st_mtim};
    later[0].tv_sec = later[1].tv_sec = old.st_mtim.tv_sec + 10;
    cr_assert_eq(utimensat(AT_FDCWD, r2, later, 0), 0);
    srv_log_reset(&S);
    cr_assert_eq(batch("-N", NULL), 0, "%s", last_stderr());
    cr_expect(strstr(last_stderr(), "1 done, 5 skipped, 0 failed of 6"),
              "%s", last_stderr());
    cr_expect_eq(srv_requests(&S, 304), 5);
    /* Revalidation asks without a Range (servers that ignore conditions
     * on range requests exist): the changed file comes whole. */
    cr_expect_eq(srv_requests(&S, 200), 1);
    cr_expect_eq(srv_requests(&S, 206), 0);
    cr_expect(same_as("r2.bin", "r2.bin"));
    cr_expect(same_as("r1.bin", "r1.bin"));
    /* Without -N nothing is asked. */
    srv_log_reset(&S);
    cr_assert_eq(batch(NULL, NULL), 0, "%s", last_stderr());
    cr_expect_eq(srv_requests(&S, 0), 0);
}

Test(batch, per_host_cap_and_connection_reuse)
{
    char q[8192] = "";
    for (int i = 0; i < 40; i++) {
        char name[32];
        snprintf(name, sizeof name, "c%02d.bin", i);
        srv_file(&S, name, 20 * KiB, (uint64_t)i);
        add(q, sizeof q, srv_url(&S, name));
    }
    write_queue(q);
    const char *argv[] = {"-q", "-i", qpath, "-j", "16", "--max-per-host",
                          "2", NULL};
    cr_assert_eq(run_segget(dir, argv, 120), 0, "%s", last_stderr());
    int conns = srv_connections(&S, "HTTP/1.1");
    cr_expect(conns >= 1 && conns <= 2,
              "40 files over %d connections (cap 2)", conns);
    cr_expect_eq(srv_requests(&S, 0), 40, "one request per file");
}

Test(batch, malformed_queues_are_refused_before_any_download)
{
    char q[4096] = "";
    add(q, sizeof q, srv_url(&S, "a.bin"));
    add(q, sizeof q, srv_url(&S, "b.bin"));
    add(q, sizeof q, "  # fine");
    add(q, sizeof q, "  speed=fast");
    srv_file(&S, "a.bin", 1000, 1);
    srv_file(&S, "b.bin", 1000, 2);
    write_queue(q);
    cr_expect_eq(batch(NULL, NULL), 1);
    cr_expect(strstr(last_stderr(), "line 4: unknown option 'speed'"), "%s",
              last_stderr());

    q[0] = '\0';
    add(q, sizeof q, srv_url(&S, "a.bin"));
    add(q, sizeof q, "ftp://127.0.0.1/x");
    write_queue(q);
    cr_expect_eq(batch(NULL, NULL), 1);
    cr_expect(strstr(last_stderr(), "line 2: "), "%s", last_stderr());

    q[0] = '\0';
    add(q, sizeof q, srv_url(&S, "a.bin"));
    add(q, sizeof q, srv_url(&S, "b.bin"));
    add(q, sizeof q, "  out=a.bin");
    write_queue(q);
    cr_expect_eq(batch(NULL, NULL), 1);
    cr_expect(strstr(last_stderr(), "lines 1 and 2 both save to a.bin"),
              "%s", last_stderr());

    q[0] = '\0';
    add(q, sizeof q, srv_url(&S, "a.bin"));
    add(q, sizeof q, srv_url(&S, "b.bin"));
    add(q, sizeof q, "  out=a.bin.part");
    write_queue(q);
    cr_expect_eq(batch(NULL, NULL), 1);
    cr_expect(strstr(last_stderr(), "partial data"), "%s", last_stderr());

    write_queue("# nothing\n");
    cr_expect_eq(batch(NULL, NULL), 1);
    cr_expect(strstr(last_stderr(), "no URL"), "%s", last_stderr());

    const char *both[] = {"-i", qpath, srv_url(&S, "a.bin"), NULL};
    cr_expect_eq(run_segget(dir, both, 30), 1);
    const char *jonly[] = {"-j", "4", srv_url(&S, "a.bin"), NULL};
    cr_expect_eq(run_segget(dir, jonly, 30), 1);
    const char *shard[] = {"-i", qpath, "--shard", "4/3", NULL};
    cr_expect_eq(run_segget(dir, shard, 30), 1);
    const char *nofile[] = {"-i", "/nonexistent/queue", NULL};
    cr_expect_eq(run_segget(dir, nofile, 30), 1);

    cr_expect_eq(srv_requests(&S, 0), 0, "nothing was requested");
    cr_expect_eq(dir_entries(dir), 0, "nothing was written");
}

Test(batch, queue_from_standard_input)
{
    char q[1024] = "";
    srv_file(&S, "in1.bin", 4000, 11);
    srv_file(&S, "in2.bin", 5000, 12);
    add(q, sizeof q, srv_url(&S, "in1.bin"));
    add(q, sizeof q, srv_url(&S, "in2.bin"));
    add(q, sizeof q, "  out=renamed.bin");
    write_queue(q);
    segget_stdin(qpath);
    const char *argv[] = {"-i", "-", NULL};
    int rc = run_segget(dir, argv, 60);
    segget_stdin(NULL);
    cr_assert_eq(rc, 0, "%s", last_stderr());
    cr_expect(same_as("in1.bin", "in1.bin"));
    cr_expect(same_as("renamed.bin", "in2.bin"));
}

Test(batch, an_existing_file_is_not_replaced_without_force)
{
    char q[1024] = "";
    srv_file(&S, "mine.bin", 3000, 5);
    srv_file(&S, "new.bin", 3000, 6);
    add(q, sizeof q, srv_url(&S, "mine.bin"));
    add(q, sizeof q, srv_url(&S, "new.bin"));
    write_queue(q);
    char p[700];
    snprintf(p, sizeof p, "%s/mine.bin", dir);
    FILE *f = fopen(p, "w");
    fputs("the user's own file\n", f);
    fclose(f);
    cr_expect_eq(batch(NULL, NULL), 9, "%s", last_stderr());
    cr_expect(strstr(last_stderr(), "exists; it is replaced only when forced"), "%s",
              last_stderr());
    cr_expect(same_as("new.bin", "new.bin"));
    struct stat st;
    cr_assert_eq(stat(p, &st), 0);
    cr_expect_eq(st.st_size, 20, "untouched");
    cr_expect_eq(batch("-f", NULL), 0, "%s", last_stderr());
    cr_expect(same_as("mine.bin", "mine.bin"));
}

Test(batch, a_large_file_keeps_the_bytes_of_its_first_request)
{
    srv_file(&S, "large.bin", 6 * MiB + 7, 3);
    char q[1024] = "";
    add(q, sizeof q, srv_url(&S, "large.bin"));
    add(q, sizeof q, "  n=1");
    write_queue(q);
    cr_assert_eq(batch(NULL, NULL), 0, "%s", last_stderr());
    cr_expect(same_as("large.bin", "large.bin"));
    int n;
    int64_t sent = srv_bytes_for(&S, "/large.bin", &n);
    cr_expect_eq(sent, 6 * MiB + 7, "sent %lld over %d requests",
                 (long long)sent, n);
    cr_expect_eq(srv_requests(&S, 206), 2, "the first 2 MiB, then the rest");
}

/* At least four of the files t00.bin to t11.bin have their names. */
static int first_wave_saved(const void *arg)
{
    (void)arg;
    int saved = 0;
    for (int i = 0; i < 12; i++) {
        char name[32];
        snprintf(name, sizeof name, "t%02d.bin", i);
        saved += present(name);
    }
    return saved >= 4;
}

Test(batch, sigterm_stops_cleanly_and_the_rerun_completes)
{
    wait_srv_ready(&S, WAIT_MS);
    srv_stop(&S);
    srv_start(&S, "limit_rate 1m;");
    char q[4096] = "";
    for (int i = 0; i < 12; i++) {
        char name[32];
        snprintf(name, sizeof name, "t%02d.bin", i);
        srv_file(&S, name, 1500 * KiB, (uint64_t)(300 + i));
        add(q, sizeof q, srv_url(&S, name));
    }
    srv_file(&S, "tbig.bin", 8 * MiB, 399);
    add(q, sizeof q, srv_url(&S, "tbig.bin"));
    write_queue(q);
    const char *argv[] = {"-q", "-i", qpath, "-j", "4", NULL};
    pid_t pid = spawn_segget(dir, argv);
    /* Mid-batch: the first four files (-j 4) are saved, and the next
     * ones are in flight (each 1500 KiB takes a second at 1 MiB/s). */
    AWAIT(wait_until(first_wave_saved, NULL, pid, WAIT_MS, "four files saved"));
    kill(pid, SIGTERM);
    cr_assert_eq(wait_child(pid, 30), 11, "%s", last_stderr());
    cr_expect(strstr(last_stderr(), "interrupted"), "%s", last_stderr());
    const char *again[] = {"-q", "-i", qpath, "-j", "4", NULL};
    cr_assert_eq(run_segget(dir, again, 120), 0, "%s", last_stderr());
    for (int i = 0; i < 12; i++) {
        char name[32];
        snprintf(name, sizeof name, "t%02d.bin", i);
        cr_expect(same_as(name, name), "%s", name);
    }
    cr_expect(same_as("tbig.bin", "tbig.bin"));
    cr_expect_eq(dir_entries(dir), 14, "only the files and the state");
}

Test(batch, a_failed_sync_gives_no_file_its_name)
{
    char q[2048] = "";
    for (int i = 0; i < 6; i++) {
        char name[32];
        snprintf(name, sizeof name, "y%d.bin", i);
        srv_file(&S, name, 100 * KiB + i, (uint64_t)(700 + i));
        add(q, sizeof q, srv_url(&S, name));
    }
    write_queue(q);
    segget_shim("SG_SHIM=sync");
    int rc = batch(NULL, NULL);
    segget_env(NULL);
    cr_assert_eq(rc, 6, "exit %d: %s", rc, last_stderr());
    cr_expect(strstr(last_stderr(), "fdatasync"), "%s", last_stderr());
    cr_expect(strstr(last_stderr(), "0 done, 0 skipped, 6 failed of 6"),
              "%s", last_stderr());
    for (int i = 0; i < 6; i++) {
        char name[32];
        snprintf(name, sizeof name, "y%d.bin", i);
        cr_expect_not(present(name), "%s got its name unsynced", name);
    }
    /* Nothing was recorded as verified: a healthy rerun fetches all. */
    srv_log_reset(&S);
    cr_assert_eq(batch(NULL, NULL), 0, "%s", last_stderr());
    cr_expect_eq(srv_requests(&S, 0), 6);
    for (int i = 0; i < 6; i++) {
        char name[32];
        snprintf(name, sizeof name, "y%d.bin", i);
        cr_expect(same_as(name, name), "%s", name);
    }
}

Test(batch, empty_files_symlinks_and_a_416_for_byte_0)
{
    srv z;
    const char *zargs[] = {"--size", "0", NULL};
    fsrv_start(&z, zargs);
    srv_file(&S, "target.bin", 10, 1);
    char q[2048] = "";
    add(q, sizeof q, srv_url(&z, "zero.bin"));
    add(q, sizeof q, srv_url(&S, "target.bin"));
    add(q, sizeof q, "  out=link.bin");
    write_queue(q);
    char lp[700];
    snprintf(lp, sizeof lp, "%s/link.bin", dir);
    cr_assert_eq(symlink("/etc/hostname", lp), 0);
    cr_expect_eq(batch("-f", NULL), 9, "%s", last_stderr());
    cr_expect(strstr(last_stderr(), "link.bin is a symlink"), "%s",
              last_stderr());
    char zp[700];
    struct stat st;
    snprintf(zp, sizeof zp, "%s/zero.bin", dir);
    cr_assert_eq(stat(zp, &st), 0, "the empty file exists");
    cr_expect_eq(st.st_size, 0);
    srv_stop(&z);
}

Test(batch, user_and_proxy_apply_to_every_file)
{
    char q[2048] = "";
    char proxy[64];
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", S.port);
    for (int i = 0; i < 3; i++) {
        char name[32], url[128];
        snprintf(name, sizeof name, "a%d.bin", i);
        srv_file(&S, name, 5000 + i, (uint64_t)(900 + i));
        /* Through the proxy: the host in the URL is never contacted. */
        snprintf(url, sizeof url, "http://segget-proxy-test.invalid/%s",
                 name);
        add(q, sizeof q, url);
    }
    write_queue(q);
    cr_assert_eq(batch("--proxy", proxy), 0, "%s", last_stderr());
    const char *argv[] = {"-q", "-f", "-i", qpath, "--user", "u:sekrit",
                          "--proxy", proxy, NULL};
    rm_tree(dir);
    mkdir(dir, 0700);
    srv_log_reset(&S);
    cr_assert_eq(run_segget(dir, argv, 60), 0, "%s", last_stderr());
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "a%d.bin", i);
        cr_expect(same_as(name, name), "%s", name);
    }
    char logp[300], line[1024];
    snprintf(logp, sizeof logp, "%s/logs/access.log", S.root);
    FILE *f = fopen(logp, "r");
    cr_assert_not_null(f);
    int with = 0, all = 0;
    while (fgets(line, sizeof line, f)) {
        all++;
        with += strstr(line, "auth=Basic dTpzZWtyaXQ=") != NULL;
    }
    fclose(f);
    cr_expect(all == 3 && with == 3, "%d of %d requests authenticated", with,
              all);
}

Test(batch, a_download_killed_while_creating_its_journal_resumes)
{
    /* The queue owns large.bin (its first run failed: 404), then a run
     * was killed after the first GET left large.bin.part and the large
     * download had created its journal file but not its schema. */
    char q[1024] = "";
    add(q, sizeof q, srv_url(&S, "large.bin"));
    write_queue(q);
    cr_assert_eq(batch(NULL, NULL), 3, "%s", last_stderr());
    srv_file(&S, "large.bin", 6 * MiB, 4);
    char p[700];
    snprintf(p, sizeof p, "%s/large.bin.part", dir);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    for (int i = 0; i < 1000; i++)
        fputs("junk", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/large.bin.segget", dir);
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(p, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL,
                              NULL),
                 SQLITE_OK);
    sqlite3_close(db);
    cr_assert_eq(batch(NULL, NULL), 0, "%s", last_stderr());
    cr_expect(same_as("large.bin", "large.bin"));
    cr_expect_eq(dir_entries(dir), 2, "the file and the queue's state");
}
