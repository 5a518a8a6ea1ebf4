/* SPDX-License-Identifier: MIT */
/*
 * --limit-rate against a server that does not limit: the limit is shared
 * fairly between the connections (each connection's progress is read
 * from the journal while the download runs), none is taken for a slow
 * one and split or replaced, so the server sends the file once; a batch
 * shares one limit the same way; the + and - keys change it while it
 * runs.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "wait.h"

#define MiB (INT64_C(1) << 20)
#define MAX_SEGS 64
#define MAX_SAMPLES 1200 /* a minute of samples */
#define SAMPLE_MS 50

static srv S;
static const char *dir;
static pid_t child;
static pty_run T; /* a segget on a terminal */

static void up(void)
{
    memset(&S, 0, sizeof S);
    child = 0;
    T.pid = 0;
    T.master = -1;
    dir = tmp_dir();
    srv_start(&S, ""); /* no limit of its own */
}

static void down(void)
{
    pty_close(&T);
    if (child > 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        child = 0;
    }
    srv_stop(&S);
    tmp_cleanup();
}

TestSuite(rate, .init = up, .fini = down, .timeout = 120);

/* The plan in the journal at a moment. */
typedef struct sample {
    int64_t t; /* ms */
    int n;
    long long seg[MAX_SEGS][3]; /* start, end, done */
} sample;

static sample smp[MAX_SAMPLES];
static int nsmp;

static long long written(const sample *s)
{
    long long w = 0;
    for (int i = 0; i < s->n; i++)
        w += s->seg[i][2] - s->seg[i][0];
    return w;
}

/* Read the journal of output every SAMPLE_MS until pid ends. */
static void sample_until_end(const char *output, pid_t pid)
{
    char part[700], jpath[700];
    snprintf(part, sizeof part, "%s.part", output);
    snprintf(jpath, sizeof jpath, "%s.segget", output);
    nsmp = 0;
    int64_t deadline = mono_ms() + 60000;
    while (!child_ended(pid) && mono_ms() < deadline) {
        sample *s = &smp[nsmp < MAX_SAMPLES ? nsmp : MAX_SAMPLES - 1];
        if (exists(part) &&
            (s->n = journal_segments(jpath, s->seg, MAX_SEGS)) > 0) {
            s->t = mono_ms();
            if (nsmp < MAX_SAMPLES)
                nsmp++;
        }
        nap_ms(SAMPLE_MS);
    }
}

/* The lowest share, over one-second windows that begin a second after
 * the first byte, of a segment's progress in the window against the mean
 * of the segments that ran through it (1: all equal).  Every segment of
 * a snapshot was captured at the same moment, so a late checkpoint
 * stretches a window for all of them alike.  *windows: how many windows
 * were judged. */
static double worst_share(int *windows, char *why, size_t whylen)
{
    double worst = 1e9;
    *windows = 0;
    int64_t first = -1;
    for (int j = 0; j < nsmp && first < 0; j++)
        if (written(&smp[j]) > 0)
            first = smp[j].t;
    for (int j = 0; first >= 0 && j < nsmp; j++) {
        const sample *b = &smp[j];
        if (b->t < first + 2000)
            continue;
        int i = -1;
        for (int k = 0; k < j; k++)
            if (smp[k].t <= b->t - 1000)
                i = k;
        if (i < 0)
            continue;
        const sample *a = &smp[i];
        long long got[MAX_SEGS], sum = 0;
        int m = 0;
        for (int x = 0; x < a->n; x++) {
            if (a->seg[x][2] >= a->seg[x][1])
                continue; /* finished before the window */
            for (int y = 0; y < b->n; y++)
                if (b->seg[y][0] == a->seg[x][0] &&
                    b->seg[y][2] < b->seg[y][1]) {
                    got[m] = b->seg[y][2] - a->seg[x][2];
                    sum += got[m++];
                }
        }
        if (m < 2 || sum <= 0)
            continue;
        (*windows)++;
        double mean = (double)sum / m;
        for (int x = 0; x < m; x++)
            if (got[x] / mean < worst) {
                worst = got[x] / mean;
                snprintf(why, whylen,
                         "%lld bytes against a mean of %.0f over %d "
                         "segments, in the second before %.1f s",
                         got[x], mean, m, (b->t - first) / 1000.0);
            }
    }
    return worst;
}

/* size bytes at --limit-rate limit (bps bytes per second) over n
 * connections from a server without a limit. */
static void limited(int64_t size, const char *limit, int64_t bps, int n)
{
    const char *src = srv_file(&S, "r.bin", size, 7000 + (uint64_t)n);
    char out[600], conns[8];
    snprintf(out, sizeof out, "%s/r.bin", dir);
    snprintf(conns, sizeof conns, "%d", n);
    const char *argv[] = {"-q", "-n", conns, "--limit-rate", limit,
                          srv_url(&S, "r.bin"), NULL};
    int64_t t0 = mono_ms();
    child = spawn_segget(dir, argv);
    sample_until_end(out, child);
    int rc = wait_child(child, 60);
    child = 0;
    double secs = (double)(mono_ms() - t0) / 1000.0;
    cr_assert_eq(rc, 0, "%s", last_stderr());
    cr_assert(same_file(out, src));
    wait_srv_idle(&S, WAIT_MS);
    int64_t sent = srv_bytes_sent(&S);
    int gets = srv_requests(&S, 206);
    double limit_s = (double)size / (double)bps;
    cr_expect_geq(secs, 0.9 * limit_s, "%lld bytes at %s took %.2f s",
                  (long long)size, limit, secs);
    /* The file once: no connection split because the limit held it. */
    cr_expect_leq(sent, size + size / 20, "the server sent %.3fx the file",
                  (double)sent / (double)size);
    cr_expect_leq(gets, 2 * n + 2, "%d range requests for %d connections",
                  gets, n);
    int windows;
    char why[200] = "";
    double worst = worst_share(&windows, why, sizeof why);
    cr_expect_geq(windows, 1, "no window to judge in %d samples", nsmp);
    cr_expect_geq(worst, 0.5, "a connection got %.2f of its share: %s",
                  worst, why);
}

Test(rate, at_8M_each_connection_gets_its_share_and_the_file_is_sent_once)
{
    limited(32 * MiB, "8M", 8 * MiB, 8);
}

Test(rate, at_16M_each_connection_gets_its_share_and_the_file_is_sent_once)
{
    limited(64 * MiB, "16M", 16 * MiB, 8);
}

Test(rate, a_batch_shares_one_limit_and_fetches_each_file_once)
{
    /* 8 files of 4 MiB, 4 at a time, 8 MiB/s in all. */
    char qp[600];
    snprintf(qp, sizeof qp, "%s/../q.txt", dir);
    FILE *q = fopen(qp, "w");
    cr_assert_not_null(q);
    char src[8][600];
    for (int i = 0; i < 8; i++) {
        char name[16];
        snprintf(name, sizeof name, "b%d", i);
        snprintf(src[i], sizeof src[i], "%s",
                 srv_file(&S, name, 4 * MiB, (uint64_t)(7100 + i)));
        fprintf(q, "%s\n", srv_url(&S, name));
    }
    fclose(q);
    const char *argv[] = {"-q", "-j", "4", "--limit-rate", "8M", "-i", qp,
                          NULL};
    int64_t t0 = mono_ms();
    cr_assert_eq(run_segget(dir, argv, 60), 0, "%s", last_stderr());
    double secs = (double)(mono_ms() - t0) / 1000.0;
    for (int i = 0; i < 8; i++) {
        char out[700];
        snprintf(out, sizeof out, "%s/b%d", dir, i);
        cr_assert(same_file(out, src[i]), "b%d", i);
    }
    wait_srv_idle(&S, WAIT_MS);
    int64_t sent = srv_bytes_sent(&S);
    int reqs = srv_requests(&S, 0);
    cr_expect_geq(secs, 0.9 * 4, "32 MiB at 8 MiB/s took %.2f s", secs);
    cr_expect_leq(sent, 32 * MiB + 32 * MiB / 20,
                  "the server sent %.3fx the files",
                  (double)sent / (double)(32 * MiB));
    /* A first GET, a probe and a few ranges each. */
    cr_expect_leq(reqs, 8 * 6, "%d requests for 8 files", reqs);
}

Test(rate, the_keys_lower_and_raise_the_limit_while_it_runs)
{
    const char *src = srv_file(&S, "k.bin", 16 * MiB, 7200);
    char out[600];
    snprintf(out, sizeof out, "%s/k.bin", dir);
    const char *argv[] = {"-n", "4", "--limit-rate", "4M",
                          srv_url(&S, "k.bin"), NULL};
    pty_spawn(&T, dir, argv);
    cr_assert(pty_wait_output(&T, "%", 15000),
              "no progress on the terminal: %s", T.out);
    /* 4 MiB/s to 512 KiB/s. */
    pty_type(&T, "---", 3);
    cr_assert(pty_wait_output(&T, "rate limit 512 KiB/s", 15000),
              "the keys were not read: %s", T.out);
    /* What a second or so of the old limit sent ahead is written first. */
    pty_drain(&T, 1000);
    long long w0 = proc_written(T.pid);
    int64_t t0 = mono_ms();
    while (mono_ms() - t0 < 2000)
        pty_drain(&T, 100); /* the observation window */
    long long w1 = proc_written(T.pid);
    cr_assert_gt(T.pid, 0, "it ended at 512 KiB/s: %s", T.out);
    cr_assert_geq(w0, 0);
    /* 1 MiB at the new limit, 8 MiB at the old one; the journal's and the
     * terminal's writes are counted too. */
    cr_expect_leq(w1 - w0, 3 * MiB, "%lld bytes in 2 s at 512 KiB/s",
                  w1 - w0);
    /* And back: the rest (over 12 MiB) would take 24 s at 512 KiB/s. */
    pty_type(&T, "+++", 3);
    t0 = mono_ms();
    int rc = pty_wait_exit(&T, 60000);
    double secs = (double)(mono_ms() - t0) / 1000.0;
    cr_assert_eq(rc, 0, "exit %d: %s", rc, T.out);
    cr_assert(same_file(out, src));
    cr_expect(strstr(T.out, "rate limit 4.0 MiB/s"), "%s", T.out);
    cr_expect_lt(secs, 12.0, "the rest took %.1f s after raising the limit",
                 secs);
}
