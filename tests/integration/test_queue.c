/* SPDX-License-Identifier: MIT */
/*
 * Integration tests of long queues (segget -i) against nginx: a queue of
 * hundreds of thousands of entries runs in flat memory, from a file and
 * from a pipe; its whole-queue checks (names that collide, malformed
 * lines) still name their lines when they lie far apart, past the
 * in-memory run of the names check; a window of small files many times
 * -j long comes out exact; a finished queue reruns without a request.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "harness.h"
#include "wait.h"

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
    wait_srv_ready(&S, WAIT_MS);
    srv_stop(&S);
    tmp_cleanup();
}

TestSuite(queue, .init = up, .fini = down, .timeout = 280);

/* The shard rule, written again here: FNV-1a 64 of the URL. */
static int shard_of(const char *url, int k)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)url; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ull;
    }
    return (int)(h % (uint64_t)k) + 1;
}

/* The URL of entry i: one of four served files, told apart by a query
 * (nginx ignores it), so that every entry is its own URL. */
static const char *url_of(int i, char *buf, size_t cap)
{
    static const char *const files[] = {"a.bin", "b.bin", "c.bin", "d.bin"};
    snprintf(buf, cap, "%s?i=%d", srv_url(&S, files[i % 4]), i);
    return buf;
}

static void serve_four(void)
{
    srv_file(&S, "a.bin", 3000, 1);
    srv_file(&S, "b.bin", 4097, 2);
    srv_file(&S, "c.bin", 1, 3);
    srv_file(&S, "d.bin", 65536, 4);
}

/* Write n entries, each with out=f<i>.bin; *in gets how many fall in
 * shard index of k.  Lines may be replaced by the caller (patch). */
typedef const char *(*patch_fn)(int i, char *buf, size_t cap);

static void write_queue(int n, int index, int k, int *in, patch_fn patch)
{
    FILE *f = fopen(qpath, "w");
    cr_assert_not_null(f);
    char u[512], p[1200];
    *in = 0;
    for (int i = 0; i < n; i++) {
        const char *alt = patch ? patch(i, p, sizeof p) : NULL;
        if (alt) {
            fputs(alt, f);
            continue;
        }
        url_of(i, u, sizeof u);
        *in += k > 0 && shard_of(u, k) == index;
        fprintf(f, "%s\n  out=f%d.bin\n", u, i);
    }
    cr_assert_eq(fclose(f), 0);
}

static int sanitized(void)
{
    return getenv("SG_TEST_SANITIZED") != NULL;
}

/* Every file of the shard is exact, and nothing else is in the
 * directory but the shard's state. */
static void check_shard(int n, int index, int k, int in)
{
    static const char *const files[] = {"a.bin", "b.bin", "c.bin", "d.bin"};
    char u[512], path[700], src[700];
    int seen = 0;
    for (int i = 0; i < n; i++) {
        url_of(i, u, sizeof u);
        if (shard_of(u, k) != index)
            continue;
        seen++;
        snprintf(path, sizeof path, "%s/f%d.bin", dir, i);
        snprintf(src, sizeof src, "%s/%s", S.www, files[i % 4]);
        cr_assert(same_file(path, src), "f%d.bin is not exact", i);
    }
    cr_assert_eq(seen, in);
    cr_expect_eq(dir_entries(dir), in + 1, "the files and one state file");
}

Test(queue, a_long_queue_runs_in_flat_memory)
{
    enum { N = 300000, K = 1000 };
    int in;
    serve_four();
    write_queue(N, 7, K, &in, NULL);
    cr_assert_gt(in, 100);
    const char *argv[] = {"-q", "-i", qpath, "-j", "8", "--shard", "7/1000",
                          NULL};
    int rc = run_segget(dir, argv, 240);
    long rss = last_peak_rss_kb();
    cr_assert_eq(rc, 0, "%s", last_stderr());
    check_shard(N, 7, K, in);
    cr_expect_eq(srv_requests(&S, 0), in, "one request per file");
    /* A queue of 600,000 lines once took over 500 MB. */
    if (!sanitized())
        cr_expect_leq(rss, 64 * 1024, "peak RSS %ld KiB", rss);
}

/* Feeds the queue file to a FIFO, as a pipe would. */
static pid_t feed_fifo(const char *fifo)
{
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        int out = open(fifo, O_WRONLY);
        int in = open(qpath, O_RDONLY);
        char buf[65536];
        ssize_t n;
        while (out >= 0 && in >= 0 && (n = read(in, buf, sizeof buf)) > 0)
            if (write(out, buf, (size_t)n) != n)
                _exit(1);
        _exit(0);
    }
    return pid;
}

Test(queue, a_long_queue_from_a_pipe)
{
    enum { N = 100000, K = 400 };
    int in;
    char fifo[700];
    serve_four();
    write_queue(N, 3, K, &in, NULL);
    snprintf(fifo, sizeof fifo, "%s/../queue.fifo", dir);
    unlink(fifo);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    pid_t feeder = feed_fifo(fifo);
    const char *argv[] = {"-q", "-i", fifo, "--shard", "3/400", NULL};
    int rc = run_segget(dir, argv, 240);
    int st;
    waitpid(feeder, &st, 0);
    unlink(fifo);
    cr_assert_eq(rc, 0, "%s", last_stderr());
    check_shard(N, 3, K, in);
    /* Read twice, the second time from its copy: the same entries. */
    cr_expect_eq(srv_requests(&S, 0), in);
}

static int dup_a, dup_b;

/* Entry dup_b saves to entry dup_a's name. */
static const char *same_name(int i, char *buf, size_t cap)
{
    char u[512];
    if (i != dup_b)
        return NULL;
    snprintf(buf, cap, "%s\n  out=f%d.bin\n", url_of(i, u, sizeof u), dup_a);
    return buf;
}

/* Entry dup_b saves to entry dup_a's NAME.part. */
static const char *on_its_part(int i, char *buf, size_t cap)
{
    char u[512];
    if (i != dup_b)
        return NULL;
    snprintf(buf, cap, "%s\n  out=f%d.bin.part\n", url_of(i, u, sizeof u),
             dup_a);
    return buf;
}

/* Entry dup_a's URL is not one; entry dup_b is malformed. */
static const char *bad_url_then_bad_line(int i, char *buf, size_t cap)
{
    if (i == dup_a)
        snprintf(buf, cap, "ftp://127.0.0.1/x\n  out=f%d.bin\n", i);
    else if (i == dup_b)
        snprintf(buf, cap, "%s\n  speed=fast\n", srv_url(&S, "a.bin"));
    else
        return NULL;
    return buf;
}

/* Only entry dup_b is malformed. */
static const char *bad_line(int i, char *buf, size_t cap)
{
    if (i != dup_b)
        return NULL;
    snprintf(buf, cap, "%s\n  out=\n", srv_url(&S, "a.bin"));
    return buf;
}

static void refused(patch_fn patch, const char *want)
{
    int in;
    write_queue(600000, 0, 0, &in, patch);
    const char *argv[] = {"-q", "-i", qpath, "--shard", "1/2", NULL};
    cr_expect_eq(run_segget(dir, argv, 240), 1);
    cr_expect(strstr(last_stderr(), want), "want '%s' in: %s", want,
              last_stderr());
}

Test(queue, whole_queue_checks_name_lines_far_apart)
{
    /* 600,000 entries make 1,200,000 lines and more names than one run
     * of the names check holds: the runs spill and merge. */
    serve_four();
    dup_a = 2, dup_b = 599990;
    refused(same_name, "lines 5 and 1199981 both save to f2.bin");
    dup_a = 599000, dup_b = 3;
    refused(on_its_part,
            "line 7 saves to f599000.bin.part, which line 1198001 uses");
    /* The first failure in queue order, though the checkers see the
     * URL's entry after the parser saw the malformed line's. */
    dup_a = 400000, dup_b = 400600;
    refused(bad_url_then_bad_line, "line 800001: ");
    dup_b = 550000;
    refused(bad_line, "line 1100002: empty value");
    cr_expect_eq(srv_requests(&S, 0), 0, "nothing was requested");
    cr_expect_eq(dir_entries(dir), 0, "nothing was written");
}

Test(queue, many_small_files_then_a_rerun_without_a_request)
{
    enum { N = 3000 };
    int in;
    serve_four();
    write_queue(N, 0, 0, &in, NULL);
    const char *argv[] = {"-q", "-i", qpath, "-j", "16", NULL};
    cr_assert_eq(run_segget(dir, argv, 240), 0, "%s", last_stderr());
    check_shard(N, 1, 1, N);
    cr_expect_eq(srv_requests(&S, 0), N);
    srv_log_reset(&S);
    const char *json[] = {"--json", "-i", qpath, "-j", "16", NULL};
    char out[700];
    snprintf(out, sizeof out, "%s/../events.json", dir);
    segget_stdout(out);
    int rc = run_segget(dir, json, 240);
    segget_stdout(NULL);
    cr_assert_eq(rc, 0, "%s", last_stderr());
    cr_expect_eq(srv_requests(&S, 0), 0, "the rerun asked the server");
    cr_expect(file_has_line(out, "\"files_skipped\":3000"),
              "every file skipped");
    unlink(out);
}

/* An nginx on 256 ports (each a host to segget, with conf) serving two
 * files, and a queue of both from every host, -j 256 to come. */
static void many_hosts(srv *m, const char *conf)
{
    static int ports[256];
    srv_start_ports(m, conf, 256, ports);
    srv_file(m, "a.bin", 3000, 1);
    srv_file(m, "d.bin", 65536, 4);
    FILE *f = fopen(qpath, "w");
    cr_assert_not_null(f);
    for (int i = 0; i < 256; i++)
        for (int k = 0; k < 2; k++)
            fprintf(f, "http://127.0.0.1:%d/%c.bin?h=%d\n  out=h%d-%d.bin\n",
                    ports[i], "ad"[k], i, i, k);
    cr_assert_eq(fclose(f), 0);
    wait_srv_ready(m, WAIT_MS);
}

static void check_hosts(srv *m)
{
    char path[700], src[700];
    for (int i = 0; i < 256; i++)
        for (int k = 0; k < 2; k++) {
            snprintf(path, sizeof path, "%s/h%d-%d.bin", dir, i, k);
            snprintf(src, sizeof src, "%s/%c.bin", m->www, "ad"[k]);
            cr_assert(same_file(path, src), "h%d-%d.bin is not exact", i, k);
        }
}

Test(queue, j256_over_256_hosts_raises_the_open_file_limit)
{
    static srv m;
    many_hosts(&m, "");
    /* 256 files at once and idle connections to 256 hosts do not fit
     * in 200 descriptors: the soft limit is raised to the hard one. */
    segget_env("SG_TEST_RLIMIT_NOFILE=200:4096");
    const char *argv[] = {"-v", "-i", qpath, "-j", "256", NULL};
    int rc = run_segget(dir, argv, 240);
    segget_env(NULL);
    cr_assert_eq(rc, 0, "%s", last_stderr());
    cr_expect(strstr(last_stderr(), "open-file limit raised from 200 to "
                                    "4096"),
              "%s", last_stderr());
    cr_expect(!strstr(last_stderr(), "fewer files at once"), "%s",
              last_stderr());
    check_hosts(&m);
    cr_expect_eq(srv_requests(&m, 0), 512);
    srv_stop(&m);
}

Test(queue, out_of_descriptors_entries_wait_instead_of_failing)
{
    static srv m;
    many_hosts(&m, "limit_rate 256k;");
    /* A hard limit of 128: -j 256 cannot be had, and no entry fails
     * for it. */
    segget_env("SG_TEST_RLIMIT_NOFILE=128:128");
    const char *argv[] = {"-i", qpath, "-j", "256", NULL};
    int rc = run_segget(dir, argv, 240);
    segget_env(NULL);
    cr_assert_eq(rc, 0, "%s", last_stderr());
    cr_expect(strstr(last_stderr(), "fewer files at once than -j 256: the "
                                    "open-file limit is 128"),
              "%s", last_stderr());
    check_hosts(&m);
    cr_expect_eq(srv_requests(&m, 0), 512);
    srv_stop(&m);
}

/* The output of a shell command, first line, in a static buffer. */
static const char *sh(const char *cmd)
{
    static char out[4096];
    out[0] = '\0';
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    if (!fgets(out, sizeof out, p))
        out[0] = '\0';
    pclose(p);
    out[strcspn(out, "\n")] = '\0';
    return out;
}

Test(queue, the_reports_of_the_shards_add_up_with_jq)
{
    enum { N = 90, K = 3 };
    char u[512], q[N * 160] = "";
    serve_four();
    /* Every fifth entry names a file the server does not have. */
    int missing = 0;
    for (int i = 0; i < N; i++) {
        size_t n = strlen(q);
        if (i % 5 == 0) {
            missing++;
            snprintf(q + n, sizeof q - n, "%s?i=%d\n  out=f%d.bin\n",
                     srv_url(&S, "gone.bin"), i, i);
        } else {
            snprintf(q + n, sizeof q - n, "%s\n  out=f%d.bin\n",
                     url_of(i, u, sizeof u), i);
        }
    }
    FILE *f = fopen(qpath, "w");
    fputs(q, f);
    fclose(f);
    char rep[K][700], arg[K][16];
    for (int k = 0; k < K; k++) {
        snprintf(rep[k], sizeof rep[k], "%s/../report-%d.json", dir, k + 1);
        snprintf(arg[k], sizeof arg[k], "%d/%d", k + 1, K);
        const char *argv[] = {"-q", "-i", qpath, "--shard", arg[k],
                              "--report", rep[k], NULL};
        int rc = run_segget(dir, argv, 120);
        cr_expect(rc == 3, "shard %d: exit %d: %s", k + 1, rc,
                  last_stderr());
        events_check(rep[k], rc);
        char tmp[720];
        snprintf(tmp, sizeof tmp, "%.700s.tmp", rep[k]);
        cr_expect(!exists(tmp), "the report's temporary file stayed");
    }
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "jq -s -c '{total: (map(.files_total) | add), done: "
             "(map(.files_done) | add), failed: (map(.files_failed) | add), "
             "listed: (map(.failures | length) | add), shards: "
             "(map(.shard.index) | sort), of: (map(.shard.count) | unique), "
             "bytes: (map(.bytes) | add), gone: (map(.failures[] | "
             "select(.http_status == 404 and (.url | test(\"gone.bin\")))) "
             "| length)}' '%s' '%s' '%s'",
             rep[0], rep[1], rep[2]);
    char want[512];
    int64_t bytes = 0;
    for (int i = 0; i < N; i++)
        if (i % 5)
            bytes += (int64_t[]){3000, 4097, 1, 65536}[i % 4];
    snprintf(want, sizeof want,
             "{\"total\":%d,\"done\":%d,\"failed\":%d,\"listed\":%d,"
             "\"shards\":[1,2,3],\"of\":[3],\"bytes\":%lld,\"gone\":%d}",
             N, N - missing, missing, missing, (long long)bytes, missing);
    cr_expect_str_eq(sh(cmd), want);
    for (int k = 0; k < K; k++)
        unlink(rep[k]);
}

Test(queue, a_disk_slower_than_the_network_holds_the_batch_back)
{
    enum { N = 2000 };
    char u[512];
    serve_four();
    FILE *f = fopen(qpath, "w");
    cr_assert_not_null(f);
    for (int i = 0; i < N; i++)
        fprintf(f, "%s\n  out=f%d.bin\n", url_of(4 * i + 2, u, sizeof u), i);
    fclose(f);
    /* Every sync of a file takes 20 ms: four threads sync 200 files a
     * second, the network brings thousands. */
    segget_shim("SG_SHIM=slowsync:20");
    const char *argv[] = {"-q", "-i", qpath, "-j", "16", NULL};
    int rc = run_segget(dir, argv, 240);
    long rss = last_peak_rss_kb();
    segget_shim(NULL);
    cr_assert_eq(rc, 0, "%s", last_stderr());
    char path[700], src[700];
    snprintf(src, sizeof src, "%s/c.bin", S.www);
    for (int i = 0; i < N; i++) {
        snprintf(path, sizeof path, "%s/f%d.bin", dir, i);
        cr_assert(same_file(path, src), "f%d.bin is not exact", i);
    }
    /* Files waiting for their sync are bounded (4 x -j + 64): 2,000 of
     * them waiting took 31 MB; bounded, 15 MB. */
    if (!sanitized())
        cr_expect_leq(rss, 24 * 1024, "peak RSS %ld KiB", rss);
}

static char grown_file[700];

static int grown(void *arg)
{
    (void)arg;
    return exists(grown_file);
}

/* Append text to the queue file, in place. */
static void append_queue(const char *text)
{
    FILE *f = fopen(qpath, "a");
    cr_assert_not_null(f);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

/* n entries of d.bin (out=f<i>.bin) run with -j 2 from a server sending
 * 1 MB/s; once f0.bin is finished, an entry saving to f0.bin again is
 * appended to the queue file.  The running segget's pid. */
static pid_t run_then_append(int n)
{
    char u[512], line[700];
    srv_stop(&S);
    srv_start(&S, "limit_rate 1m;");
    serve_four();
    FILE *f = fopen(qpath, "w");
    cr_assert_not_null(f);
    for (int i = 0; i < n; i++)
        fprintf(f, "%s\n  out=f%d.bin\n", url_of(4 * i + 3, u, sizeof u), i);
    fclose(f);
    const char *argv[] = {"-q", "-i", qpath, "-j", "2", NULL};
    pid_t pid = spawn_segget(dir, argv);
    snprintf(grown_file, sizeof grown_file, "%s/f0.bin", dir);
    cr_assert(poll_until(grown, NULL, 60000), "no file was finished");
    snprintf(line, sizeof line, "%s\n  out=f0.bin\n",
             url_of(4 * n + 3, u, sizeof u));
    append_queue(line);
    return pid;
}

Test(queue, a_queue_appended_to_while_it_runs)
{
    /* More entries than the window holds: it is read again mid-run. */
    enum { N = 600 };
    pid_t pid = run_then_append(N);
    cr_expect_eq(wait_child(pid, 120), 1, "%s", last_stderr());
    cr_expect(strstr(last_stderr(), "the queue file changed while the "
                                    "batch ran"),
              "%s", last_stderr());
    /* What was finished is exact; the rest is left for a rerun, which
     * refuses the queue as it is now. */
    char path[700], src[700];
    snprintf(src, sizeof src, "%s/d.bin", S.www);
    int done = 0;
    for (int i = 0; i < N; i++) {
        snprintf(path, sizeof path, "%s/f%d.bin", dir, i);
        if (exists(path)) {
            done++;
            cr_assert(same_file(path, src), "f%d.bin is not exact", i);
        }
    }
    cr_expect(done > 0 && done < N, "%d files", done);
    const char *again[] = {"-q", "-i", qpath, NULL};
    cr_expect_eq(run_segget(dir, again, 60), 1);
    cr_expect(strstr(last_stderr(), "lines 1 and 1201 both save to f0.bin"),
              "%s", last_stderr());
}

Test(queue, bytes_appended_after_the_last_reading_are_not_run)
{
    /* A small queue is read whole at the start; its file then grows by
     * an entry that collides with line 1: the run does what was checked
     * and no more.  (A file that grows while a later stretch of it is
     * being read is bounded by where the check ended; that race is not
     * reproduced here.) */
    enum { N = 40 };
    pid_t pid = run_then_append(N);
    cr_expect_eq(wait_child(pid, 120), 0, "%s", last_stderr());
    cr_expect_eq(srv_requests(&S, 0), N, "the appended entry was run");
    char path[700], src[700];
    snprintf(src, sizeof src, "%s/d.bin", S.www);
    for (int i = 0; i < N; i++) {
        snprintf(path, sizeof path, "%s/f%d.bin", dir, i);
        cr_assert(same_file(path, src), "f%d.bin is not exact", i);
    }
}

/* A checksum list as long as the queue, in the opposite order: the first
 * reading looks every entry up in it, the second the shard's.  (Read
 * again for each entry, a list of this length took minutes.)  One entry
 * of the shard is listed with a wrong digest: it alone fails, exit 10,
 * and gets no name. */
Test(queue, a_checksum_list_as_long_as_the_queue)
{
    enum { N = 100000, K = 1000, IDX = 7 };
    static const char *const files[] = {"a.bin", "b.bin", "c.bin", "d.bin"};
    char digest[4][65], cmd[800], u[512], list[700];
    int in;
    serve_four();
    write_queue(N, IDX, K, &in, NULL);
    cr_assert_gt(in, 50);
    for (int i = 0; i < 4; i++) {
        snprintf(cmd, sizeof cmd, "sha256sum '%s/%s'", S.www, files[i]);
        snprintf(digest[i], sizeof digest[i], "%.64s", sh(cmd));
        cr_assert_eq(strlen(digest[i]), 64);
    }
    int bad = -1;
    for (int i = 0; i < N && bad < 0; i++)
        if (shard_of(url_of(i, u, sizeof u), K) == IDX)
            bad = i;
    snprintf(list, sizeof list, "%s/../SHA256SUMS", dir);
    FILE *f = fopen(list, "w");
    cr_assert_not_null(f);
    for (int i = N - 1; i >= 0; i--) {
        char d[65];
        memcpy(d, digest[i % 4], sizeof d);
        if (i == bad)
            d[0] = d[0] == '0' ? '1' : '0';
        fprintf(f, "%s  f%d.bin\n", d, i);
    }
    cr_assert_eq(fclose(f), 0);
    const char *argv[] = {"-q", "-i", qpath, "-j", "8", "--shard", "7/1000",
                          "--checksum-file", list, NULL};
    int rc = run_segget(dir, argv, 240);
    cr_expect_eq(rc, 10, "exit %d: %s", rc, last_stderr());
    snprintf(cmd, sizeof cmd, "line %d:", 2 * bad + 1);
    cr_expect(strstr(last_stderr(), cmd), "%s", last_stderr());
    int exact = 0;
    for (int i = 0; i < N; i++) {
        char path[700], src[700];
        if (shard_of(url_of(i, u, sizeof u), K) != IDX)
            continue;
        snprintf(path, sizeof path, "%s/f%d.bin", dir, i);
        if (i == bad) {
            cr_expect(access(path, F_OK) != 0, "f%d.bin got its name", i);
            continue;
        }
        snprintf(src, sizeof src, "%s/%s", S.www, files[i % 4]);
        cr_expect(same_file(path, src), "f%d.bin is not exact", i);
        exact++;
    }
    cr_expect_eq(exact, in - 1);
    unlink(list);
}

/* Read a whole small file into a static buffer. */
static const char *slurp(const char *path)
{
    static char buf[1 << 16];
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return buf;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Entries with credentials in their URLs and entries without: the events
 * and the queue journal name them without credentials, and a rerun skips
 * both kinds without a request (the journal's URL is compared with the
 * entry's, redacted when they differ). */
Test(queue, a_rerun_knows_entries_by_their_urls_without_credentials)
{
    enum { N = 40 };
    char ev[700], u[512];
    serve_four();
    FILE *f = fopen(qpath, "w");
    cr_assert_not_null(f);
    for (int i = 0; i < N; i++) {
        url_of(i, u, sizeof u);
        if (i % 2)
            fprintf(f, "http://user:secret@%s\n  out=f%d.bin\n",
                    u + strlen("http://"), i);
        else
            fprintf(f, "%s\n  out=f%d.bin\n", u, i);
    }
    cr_assert_eq(fclose(f), 0);
    snprintf(ev, sizeof ev, "%s/../events.json", dir);
    segget_stdout(ev);
    const char *argv[] = {"--json", "-i", qpath, "-j", "4", NULL};
    int rc = run_segget(dir, argv, 60);
    cr_assert_eq(rc, 0, "%s", last_stderr());
    cr_expect_eq(srv_requests(&S, 0), N);
    cr_expect_null(strstr(slurp(ev), "secret"), "events: %s", slurp(ev));
    cr_expect_not_null(strstr(slurp(ev), "\"files_done\":40"), "%s",
                       slurp(ev));
    char jp[700];
    snprintf(jp, sizeof jp, "%s/.segget-queue", dir);
    sqlite3 *db;
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_open_v2(jp, &db, SQLITE_OPEN_READONLY, NULL),
                 SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db,
                                    "SELECT count(*), sum(url LIKE "
                                    "'%secret%' OR url LIKE '%user%') "
                                    "FROM entry",
                                    -1, &st, NULL),
                 SQLITE_OK, "%s", sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_expect_eq(sqlite3_column_int(st, 0), N);
    cr_expect_eq(sqlite3_column_int(st, 1), 0, "credentials in the journal");
    sqlite3_finalize(st);
    sqlite3_close(db);
    srv_log_reset(&S);
    segget_stdout(ev);
    rc = run_segget(dir, argv, 60);
    cr_assert_eq(rc, 0, "%s", last_stderr());
    cr_expect_eq(srv_requests(&S, 0), 0, "the rerun made requests");
    cr_expect_not_null(strstr(slurp(ev), "\"files_skipped\":40"), "%s",
                       slurp(ev));
    cr_expect_null(strstr(slurp(ev), "secret"), "events: %s", slurp(ev));
    unlink(ev);
}
