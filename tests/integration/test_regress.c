/* SPDX-License-Identifier: MIT */
/*
 * Regression tests, one group per defect found on main (dNN_ in the test
 * name is the defect's number), each on every path the defect touches:
 * single download (segget URL), batch (segget -i queue) and mirrors
 * (segget URL MIRROR).  Tests named *_guard pass on the code the defects
 * were found in; they keep the paths that were already right from
 * regressing while the others are fixed.
 *
 * Nothing here sleeps to synchronise: a test waits for an event (a line
 * in a log or in --json output, terminal output, terminal modes, a child
 * ending) with a deadline.  The servers, spawned seggets and the terminal
 * are torn down by the suite's fini, also after a failed assertion.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "cases.h"
#include "content.h"
#include "harness.h"

#define KiB (INT64_C(1) << 10)
#define MiB (INT64_C(1) << 20)

static srv S, M;         /* the servers of a test */
static const char *dir;  /* downloads go here (the seggets' cwd) */
static char qpath[600];  /* the queue file */
static char jpath[600];  /* --json output */
static pid_t child;      /* a segget spawned without waiting */
static pty_run T;        /* a segget on a terminal */

static void up(void)
{
    memset(&S, 0, sizeof S);
    memset(&M, 0, sizeof M);
    child = 0;
    T.pid = 0;
    T.master = -1;
    dir = tmp_dir();
    snprintf(qpath, sizeof qpath, "%s/../queue.txt", dir);
    snprintf(jpath, sizeof jpath, "%s/../events.json", dir);
}

static void stop(srv *s)
{
    if (s->root[0])
        srv_stop(s);
    memset(s, 0, sizeof *s);
}

static void down(void)
{
    pty_close(&T);
    if (child > 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        child = 0;
    }
    segget_env(NULL);
    segget_stdout(NULL);
    segget_stdin(NULL);
    stop(&S);
    stop(&M);
    tmp_cleanup(); /* the queue and the events are in it too */
}

TestSuite(regress, .init = up, .fini = down, .timeout = 120);

/* --- helpers --- */

/* The steps of cases.h, in this suite's directory and queue. */
static const char *in_dir(const char *name)
{
    return case_path(dir, name);
}

static int64_t fsize(const char *path)
{
    return case_size(path);
}

static void fresh_dir(void)
{
    case_fresh_dir(dir);
}

#define qadd case_line

static void write_queue(const char *text)
{
    case_write(qpath, text);
}

static int batch(const char *const *opts, int timeout_s)
{
    return case_batch(dir, qpath, opts, timeout_s);
}

static int single(const char *const *opts, const char *url, const char *url2,
                  int timeout_s)
{
    return case_single(dir, opts, url, url2, timeout_s);
}

#define fault case_fault

/* The largest data file in dir (journals and the queue's state aside),
 * or -1 when there is none. */
static int64_t largest_data_file(void)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int64_t big = -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *n = e->d_name;
        if (n[0] == '.' || strstr(n, ".segget"))
            continue;
        int64_t s = fsize(in_dir(n));
        if (s > big)
            big = s;
    }
    closedir(d);
    return big;
}

/* Case-insensitive strstr. */
static int says_dropped(const char *line);
static const char *next_line_with(const char *text, const char *needle,
                                  const char **at, char *line, size_t cap);

static const char *find_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return hay;
    return NULL;
}

/* --- 1: a body longer than its range --- */

Test(regress, d01_batch_small_file_with_a_body_longer_than_its_range)
{
    /* A 206 without Content-Length whose body goes on past the range:
     * 1000 bytes, then 1000 more before the close. */
    const char *x[] = {"--extra-bytes", "1000", NULL};
    fault(&S, 1000, 101, x);
    fault(&M, 3000, 102, NULL);
    char q[2048] = "";
    qadd(q, sizeof q, "%s", srv_url(&S, "long.bin"));
    qadd(q, sizeof q, "%s", srv_url(&M, "good.bin"));
    write_queue(q);
    const char *o[] = {"-q", NULL};
    int rc = batch(o, 60);
    cr_expect_eq(rc, 4, "exit %d (want 4, protocol): %s", rc, last_stderr());
    cr_expect_not(exists(in_dir("long.bin")),
                  "the overlong response was saved under its name (%lld "
                  "bytes)",
                  (long long)fsize(in_dir("long.bin")));
    cr_expect_leq(fsize(in_dir("long.bin.part")), 1000,
                  "%lld bytes written for a range of 1000",
                  (long long)fsize(in_dir("long.bin.part")));
    cr_expect(same_content(in_dir("good.bin"), 102, 3000),
              "the healthy entry of the batch");
}

Test(regress, d01_single_body_longer_than_its_range_guard)
{
    const char *x[] = {"--extra-bytes", "1000", NULL};
    fault(&S, 2 * MiB, 103, x);
    const char *o[] = {"-q", "-n", "4", "--min-split", "256K", NULL};
    int rc = single(o, srv_url(&S, "data"), NULL, 60);
    cr_expect_eq(rc, 4, "exit %d: %s", rc, last_stderr());
    cr_expect_not(exists(in_dir("data")), "saved under its name");
    cr_expect_leq(largest_data_file(), 2 * MiB);
}

Test(regress, d01_mirror_body_longer_than_its_range_is_dropped)
{
    /* The URL is healthy; the mirror (same size, same validators) sends
     * bodies longer than their ranges.  None of the mirror's bytes is
     * kept: it is dropped, named, and the URL does the rest.  The URL
     * sends at 1 MB/s a connection, so the download cannot end before
     * the mirror's first responses do (unthrottled it sometimes did, and
     * the mirror was never judged). */
    fault(&S, 2 * MiB, 104, (const char *[]){"--rate", "1000000", NULL});
    const char *x[] = {"--extra-bytes", "1000", NULL};
    fault(&M, 2 * MiB, 104, x);
    char u0[256], badport[32];
    snprintf(u0, sizeof u0, "%s", srv_url(&S, "data"));
    snprintf(badport, sizeof badport, "127.0.0.1:%d", M.port);
    const char *o[] = {"-n", "4", "--min-split", "256K", NULL};
    int rc = single(o, u0, srv_url(&M, "data"), 60);
    cr_expect_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect(same_content(in_dir("data"), 104, 2 * MiB), "not exact");
    const char *err = last_stderr(), *at = NULL, *l;
    char line[1024];
    int named = 0;
    while ((l = next_line_with(err, badport, &at, line, sizeof line)))
        named |= says_dropped(l);
    cr_expect(named, "no notice says the mirror %s was dropped: %s", badport,
              err);

    /* Both misbehave: no source is left, exit 4, nothing named. */
    fresh_dir();
    stop(&S);
    fault(&S, 2 * MiB, 104, x);
    snprintf(u0, sizeof u0, "%s", srv_url(&S, "data"));
    rc = single(o, u0, srv_url(&M, "data"), 60);
    cr_expect_eq(rc, 4, "exit %d: %s", rc, last_stderr());
    cr_expect_not(exists(in_dir("data")), "saved under its name");
    cr_expect_leq(largest_data_file(), 2 * MiB);
}

/* --- 2: lengths that do not fit, or are not numbers --- */

/* Run url as a single download and as a batch entry; both must end with
 * exit 4 and no file under the name. */
static void expect_protocol_error_everywhere(const char *what)
{
    const char *o[] = {"-q", "-n", "4", NULL};
    int rc = single(o, srv_url(&S, "data"), NULL, 25);
    cr_expect_eq(rc, 4, "%s, single: exit %d (want 4): %s", what, rc,
                 last_stderr());
    cr_expect_not(exists(in_dir("data")),
                  "%s, single: a file of %lld bytes was saved", what,
                  (long long)fsize(in_dir("data")));
    fresh_dir();
    char q[512] = "";
    qadd(q, sizeof q, "%s", srv_url(&S, "data"));
    write_queue(q);
    const char *b[] = {"-q", NULL};
    rc = batch(b, 25);
    cr_expect_eq(rc, 4, "%s, batch: exit %d (want 4): %s", what, rc,
                 last_stderr());
    cr_expect_not(exists(in_dir("data")),
                  "%s, batch: a file of %lld bytes was saved", what,
                  (long long)fsize(in_dir("data")));
}

Test(regress, d02_length_of_2_pow_65_and_a_total_past_int64)
{
    /* HEAD: Content-Length 2^65; the range probe: 206 with
     * "bytes 0-0/99999999999999999999"; the fallback GET: 2^65 again,
     * and the connection closes after 8 MiB. */
    const char *x[] = {"--length-all", "36893488147419103232",
                       "--range-total-value", "99999999999999999999",
                       "--drop-after", "8388608", NULL};
    fault(&S, 16 * MiB, 201, x);
    expect_protocol_error_everywhere("2^65");
}

Test(regress, d02_length_of_2_pow_65_with_ranges_ignored)
{
    /* The same lengths from a server that answers every GET with 200. */
    const char *x[] = {"--length-all", "36893488147419103232",
                       "--range-total-value", "99999999999999999999",
                       "--drop-after", "8388608", "--ignore-ranges", NULL};
    fault(&S, 16 * MiB, 202, x);
    expect_protocol_error_everywhere("2^65, ranges ignored");
}

Test(regress, d02_length_minus_one_guard)
{
    const char *x[] = {"--length-all", "-1", "--drop-after", "8388608",
                       NULL};
    fault(&S, 16 * MiB, 203, x);
    expect_protocol_error_everywhere("Content-Length: -1");
}

Test(regress, d02_length_1e3)
{
    /* Every response says "Content-Length: 1e3"; Content-Range is
     * honest. */
    const char *x[] = {"--length-all", "1e3", "--drop-after", "8388608",
                       NULL};
    fault(&S, 16 * MiB, 204, x);
    expect_protocol_error_everywhere("Content-Length: 1e3");
}

Test(regress, d02_length_1e3_and_a_total_past_int64)
{
    const char *x[] = {"--length-all", "1e3", "--range-total-value",
                       "99999999999999999999", "--drop-after", "8388608",
                       NULL};
    fault(&S, 16 * MiB, 205, x);
    expect_protocol_error_everywhere("Content-Length: 1e3, total 10^20");
}

/* --- 3: cancelling a batch while commit rounds are in flight --- */

Test(regress, d03_sigterm_while_commits_are_in_flight_then_rerun,
     .timeout = 120)
{
    srv_start(&S, "");
    enum { N = 40 };
    char q[16384] = "";
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof name, "c%02d.bin", i);
        srv_file(&S, name, 32 * KiB + i, (uint64_t)(300 + i));
        qadd(q, sizeof q, "%s", srv_url(&S, name));
    }
    write_queue(q);
    /* Every fdatasync of a .part takes 300 ms: commit rounds are still
     * running when the first file is done. */
    segget_shim("SG_SHIM=slowsync:300");
    segget_stdout(jpath);
    const char *argv[] = {"--json", "-i", qpath, "-j", "8", NULL};
    child = spawn_segget(dir, argv);
    int seen = wait_for_line(jpath, "\"state\":\"done\"", child, 30000);
    cr_assert_eq(seen, 1, "no file reached state done (%d): %s", seen,
                 last_stderr());
    pid_t pid = child;
    child = 0; /* wait_child() reaps it, even when it fails the test */
    kill(pid, SIGTERM);
    int rc = wait_child(pid, 60);
    segget_env(NULL);
    segget_stdout(NULL);
    const char *err = last_stderr();
    cr_expect_null(strstr(err, "AddressSanitizer"), "%s", err);
    cr_expect_null(strstr(err, "runtime error"), "%s", err);
    cr_assert_eq(rc, 11, "exit %d (want 11, interrupted): %s", rc, err);

    const char *again[] = {"-q", "-i", qpath, "-j", "8", NULL};
    rc = run_segget(dir, again, 90);
    cr_assert_eq(rc, 0, "rerun: exit %d: %s", rc, last_stderr());
    for (int i = 0; i < N; i++) {
        char name[32], src[700];
        snprintf(name, sizeof name, "c%02d.bin", i);
        snprintf(src, sizeof src, "%s/%s", S.www, name);
        cr_expect(same_file(in_dir(name), src), "%s is not exact", name);
    }
}

/* --- 4: Ctrl-C on a terminal --- */

static char tty_url[256], tty_src[700];

/* A 16 MiB file at 1 MiB/s a connection, fetched with -n 2 on a
 * terminal; returns once progress is on the screen. */
static void tty_download(void)
{
    srv_start(&S, "limit_rate 1m;");
    snprintf(tty_src, sizeof tty_src, "%s",
             srv_file(&S, "k.bin", 16 * MiB, 401));
    snprintf(tty_url, sizeof tty_url, "%s", srv_url(&S, "k.bin"));
    const char *argv[] = {"-n", "2", tty_url, NULL};
    pty_spawn(&T, dir, argv);
    cr_assert(pty_wait_output(&T, "%", 15000),
              "no progress on the terminal: %s", T.out);
    cr_assert_gt(T.pid, 0, "segget ended already (exit %d): %s", T.status,
                 T.out);
}

/* After an interrupt: the journal is there, the file is not, and the same
 * command (off the terminal) finishes exactly. */
static void tty_resume(void)
{
    cr_expect(exists(in_dir("k.bin.segget")), "no journal k.bin.segget");
    cr_expect_not(exists(in_dir("k.bin")), "the file got its name early");
    const char *argv[] = {"-q", "-n", "4", tty_url, NULL};
    int rc = run_segget(dir, argv, 60);
    cr_assert_eq(rc, 0, "rerun: exit %d: %s", rc, last_stderr());
    cr_expect(same_file(in_dir("k.bin"), tty_src), "not exact after rerun");
}

/* Interrupt with act (typing Ctrl-C, or SIGINT from outside); exit 11
 * within 2.5 s, the terminal given back, and a rerun finishes. */
static void tty_interrupt(int type_ctrl_c)
{
    tty_download();
    int64_t t0 = mono_ms();
    if (type_ctrl_c)
        pty_type(&T, "\x03", 1);
    else
        kill(T.pid, SIGINT);
    int rc = pty_wait_exit(&T, 5000);
    int64_t took = mono_ms() - t0;
    cr_assert_neq(rc, -1, "still running 5 s after %s; the terminal: %s",
                  type_ctrl_c ? "Ctrl-C" : "SIGINT", T.out);
    cr_expect_eq(rc, 11, "exit %d (want 11): %s", rc, T.out);
    cr_expect_leq(took, 2500, "took %lld ms to stop", (long long)took);
    long lf = pty_lflag(&T);
    cr_expect(lf >= 0 && (lf & (ICANON | ECHO)) == (ICANON | ECHO),
              "the terminal was not given back (lflag %#lx)", lf);
    pty_close(&T);
    tty_resume();
}

Test(regress, d04_ctrl_c_on_a_terminal_stops_with_11, .timeout = 90)
{
    tty_interrupt(1);
}

Test(regress, d04_sigint_from_outside_on_a_terminal_stops_with_11,
     .timeout = 90)
{
    tty_interrupt(0);
}

struct tty_wait {
    pty_run *p;
};

/* The first interrupt is being handled once the terminal is canonical
 * again (segget gives it back before it exits), or segget ended. */
static int handled(void *arg)
{
    pty_run *p = ((struct tty_wait *)arg)->p;
    pty_drain(p, 0);
    long lf = pty_lflag(p);
    return child_ended(p->pid) || (lf >= 0 && (lf & ICANON));
}

Test(regress, d04_second_ctrl_c_while_the_first_is_handled_kills,
     .timeout = 90)
{
    tty_download();
    pty_type(&T, "\x03", 1);
    struct tty_wait w = {&T};
    cr_assert(poll_until(handled, &w, 5000),
              "Ctrl-C not handled within 5 s: %s", T.out);
    if (!child_ended(T.pid))
        pty_type(&T, "\x03", 1);
    int rc = pty_wait_exit(&T, 5000);
    cr_assert_neq(rc, -1, "still running 5 s after two Ctrl-C: %s", T.out);
    cr_expect(rc == 11 || rc == 128 + SIGINT,
              "exit %d (want 11 or killed by SIGINT): %s", rc, T.out);
    pty_close(&T);
    tty_resume();
}

/* --- 5: a dead mirror --- */

/* Lines (split at \n and \r) of text that contain needle; each call
 * returns the next, or NULL.  *at keeps the place. */
static const char *next_line_with(const char *text, const char *needle,
                                  const char **at, char *line, size_t cap)
{
    const char *p = *at ? *at : text;
    while (*p) {
        size_t n = strcspn(p, "\r\n");
        if (n > 0 && n < cap) {
            memcpy(line, p, n);
            line[n] = '\0';
            if (strstr(line, needle)) {
                *at = p + n;
                return line;
            }
        }
        p += n;
        p += strspn(p, "\r\n");
    }
    *at = p;
    return NULL;
}

/* Words that say a server was given up on or blamed. */
static int says_dropped(const char *line)
{
    static const char *w[] = {"drop", "not used", "left out", "abandon",
                              "giving up", "gave up", "disabled", "removed",
                              "dead", "skipping", "excluded", "no longer"};
    for (size_t i = 0; i < sizeof w / sizeof *w; i++)
        if (find_ci(line, w[i]))
            return 1;
    return 0;
}

static int blames(const char *line)
{
    static const char *w[] = {"fail", "error", "HTTP 5", "closed", "retry",
                              "reset"};
    if (says_dropped(line))
        return 1;
    for (size_t i = 0; i < sizeof w / sizeof *w; i++)
        if (find_ci(line, w[i]))
            return 1;
    return 0;
}

static void dead_mirror(const char *const *dead)
{
    /* The healthy server sends 300 KB/s a connection: the download lasts
     * longer than the retries a dead server's ranges get. */
    const char *h[] = {"--rate", "300000", NULL};
    fault(&S, 4 * MiB, 501, h);
    fault(&M, 4 * MiB, 501, dead);
    char good[256], bad[256], goodport[32], badport[32];
    snprintf(good, sizeof good, "%s", srv_url(&S, "data"));
    snprintf(bad, sizeof bad, "%s", srv_url(&M, "data"));
    snprintf(goodport, sizeof goodport, "127.0.0.1:%d", S.port);
    snprintf(badport, sizeof badport, "127.0.0.1:%d", M.port);

    /* The mirror is dead: dropped, named, and the URL not blamed. */
    const char *o[] = {"-n", "4", NULL};
    int rc = single(o, good, bad, 60);
    const char *err = last_stderr();
    cr_expect_eq(rc, 0, "dead mirror: exit %d: %s", rc, err);
    cr_expect(same_content(in_dir("data"), 501, 4 * MiB),
              "dead mirror: not exact");
    const char *at = NULL, *l;
    char line[1024];
    int named = 0;
    while ((l = next_line_with(err, badport, &at, line, sizeof line)))
        named |= says_dropped(l);
    cr_expect(named, "no notice says the mirror %s was dropped: %s", badport,
              err);
    at = NULL;
    while ((l = next_line_with(err, goodport, &at, line, sizeof line)))
        cr_expect(!blames(l), "the healthy URL is blamed: %s", l);

    /* The URL is dead, the mirror healthy. */
    fresh_dir();
    rc = single(o, bad, good, 60);
    cr_expect_eq(rc, 0, "dead URL: exit %d: %s", rc, last_stderr());
    cr_expect(same_content(in_dir("data"), 501, 4 * MiB),
              "dead URL: not exact");
}

Test(regress, d05_mirror_failing_every_get_with_500, .timeout = 150)
{
    const char *dead[] = {"--fail-status", "500", "--fail-count", "-1",
                          NULL};
    dead_mirror(dead);
}

Test(regress, d05_mirror_dropping_every_get, .timeout = 150)
{
    const char *dead[] = {"--drop-after", "0", NULL};
    dead_mirror(dead);
}

/* --- 6: --min-split near INT64_MAX --- */

static const char *huge_splits[] = {
    "4611686018427387904", /* 2^62 */
    "9223372036854775807", /* the largest the option takes */
    "8589934591G",         /* the largest with a suffix */
};

Test(regress, d06_batch_with_a_huge_min_split)
{
    srv_start(&S, "");
    static const struct {
        const char *name;
        int64_t size;
    } f[] = {{"one.bin", 1}, {"k.bin", 1000}, {"m.bin", 100 * KiB},
             {"big.bin", 3 * MiB}};
    char q[2048] = "";
    for (int i = 0; i < 4; i++) {
        srv_file(&S, f[i].name, f[i].size, (uint64_t)(600 + i));
        qadd(q, sizeof q, "%s", srv_url(&S, f[i].name));
    }
    write_queue(q);
    for (size_t k = 0; k < sizeof huge_splits / sizeof *huge_splits; k++) {
        fresh_dir();
        const char *o[] = {"-q", "--min-split", huge_splits[k], NULL};
        int rc = batch(o, 60);
        cr_expect_eq(rc, 0, "--min-split %s: exit %d: %s", huge_splits[k],
                     rc, last_stderr());
        for (int i = 0; i < 4; i++) {
            char src[700];
            snprintf(src, sizeof src, "%s/%s", S.www, f[i].name);
            cr_expect(same_file(in_dir(f[i].name), src),
                      "--min-split %s: %s is not exact", huge_splits[k],
                      f[i].name);
        }
    }
}

Test(regress, d06_single_with_a_huge_min_split_guard)
{
    srv_start(&S, "");
    char src[700];
    snprintf(src, sizeof src, "%s", srv_file(&S, "s.bin", 3 * MiB, 610));
    for (size_t k = 0; k < sizeof huge_splits / sizeof *huge_splits; k++) {
        fresh_dir();
        const char *o[] = {"-q", "-n", "4", "--min-split", huge_splits[k],
                           NULL};
        int rc = single(o, srv_url(&S, "s.bin"), NULL, 60);
        cr_expect_eq(rc, 0, "--min-split %s: exit %d: %s", huge_splits[k],
                     rc, last_stderr());
        cr_expect(same_file(in_dir("s.bin"), src), "--min-split %s",
                  huge_splits[k]);
    }
}

/* --- 7 and 8: empty files from http-server and s3rver --- */

/* An empty file saved under name: exit 0, size 0. */
static void expect_empty(int rc, const char *name, const char *what)
{
    cr_expect_eq(rc, 0, "%s: exit %d: %s", what, rc, last_stderr());
    cr_expect_eq(fsize(in_dir(name)), 0, "%s: %s has size %lld", what, name,
                 (long long)fsize(in_dir(name)));
}

static void empty_batch(const char *what, int64_t max_ms)
{
    char q[512] = "";
    qadd(q, sizeof q, "%s", srv_url(&S, "empty.bin"));
    write_queue(q);
    const char *o[] = {"-q", NULL};
    int64_t t0 = mono_ms();
    int rc = batch(o, 20);
    int64_t took = mono_ms() - t0;
    expect_empty(rc, "empty.bin", what);
    if (max_ms)
        cr_expect_leq(took, max_ms, "%s: took %lld ms", what,
                      (long long)took);
}

static void empty_single(const char *what, int64_t max_ms)
{
    const char *o[] = {"-q", "-n", "4", NULL};
    int64_t t0 = mono_ms();
    int rc = single(o, srv_url(&S, "empty.bin"), NULL, 20);
    int64_t took = mono_ms() - t0;
    expect_empty(rc, "empty.bin", what);
    if (max_ms)
        cr_expect_leq(took, max_ms, "%s: took %lld ms", what,
                      (long long)took);
}

Test(regress, d07_batch_416_without_content_range_is_an_empty_file)
{
    /* npm http-server: a range request for an empty file gets 416 and no
     * Content-Range. */
    const char *x[] = {"--bare-416", NULL};
    fault(&S, 0, 701, x);
    empty_batch("batch, 416 without Content-Range", 0);
}

Test(regress, d07_single_416_without_content_range_guard)
{
    const char *x[] = {"--bare-416", NULL};
    fault(&S, 0, 702, x);
    empty_single("single, 416 without Content-Range", 0);
}

Test(regress, d07_single_416_without_content_range_when_head_is_refused)
{
    /* Without a usable HEAD the probe's range GET meets the same 416. */
    const char *x[] = {"--bare-416", "--head-status", "405", NULL};
    fault(&S, 0, 703, x);
    empty_single("single, HEAD refused, 416 without Content-Range", 0);
}

Test(regress, d08_batch_s3rver_206_for_an_empty_object_kept_alive)
{
    /* s3rver: "206, Content-Range: bytes 0-0/0, Content-Length: 1" and no
     * body; the connection stays open. */
    const char *x[] = {"--empty-206", "keep", NULL};
    fault(&S, 0, 801, x);
    empty_batch("batch, s3rver 206, kept alive", 3000);
}

Test(regress, d08_batch_s3rver_206_for_an_empty_object_closed)
{
    const char *x[] = {"--empty-206", "close", NULL};
    fault(&S, 0, 802, x);
    empty_batch("batch, s3rver 206, closed", 3000);
}

Test(regress, d08_single_s3rver_206_for_an_empty_object_guard)
{
    const char *keep[] = {"--empty-206", "keep", NULL};
    fault(&S, 0, 803, keep);
    empty_single("single, s3rver 206, kept alive", 3000);
    stop(&S);
    fresh_dir();
    const char *close_[] = {"--empty-206", "close", NULL};
    fault(&S, 0, 804, close_);
    empty_single("single, s3rver 206, closed", 3000);
}

Test(regress, d08_single_s3rver_206_for_an_empty_object_when_head_is_refused)
{
    const char *keep[] = {"--empty-206", "keep", "--head-status", "405",
                          NULL};
    fault(&S, 0, 805, keep);
    empty_single("single, HEAD refused, s3rver 206, kept alive", 3000);
    stop(&S);
    fresh_dir();
    const char *close_[] = {"--empty-206", "close", "--head-status", "405",
                            NULL};
    fault(&S, 0, 806, close_);
    empty_single("single, HEAD refused, s3rver 206, closed", 3000);
}

/* --- 9 and 12: -N revalidation --- */

/* Requests in the fault server's log and the body bytes they carried. */
static void log_counts(const srv *s, int *lines, int *not304, int64_t *bytes)
{
    FILE *f = fopen(srv_log_path(s), "r");
    *lines = *not304 = 0;
    *bytes = 0;
    if (!f)
        return;
    static char line[1 << 14];
    while (fgets(line, sizeof line, f)) {
        int st;
        long long b;
        if (sscanf(line, "%d %lld", &st, &b) != 2)
            continue;
        (*lines)++;
        *not304 += st != 304;
        *bytes += b;
    }
    fclose(f);
}

Test(regress, d09_refresh_revalidates_when_a_range_voids_conditions)
{
    /* Like http-server: If-None-Match and If-Modified-Since count only
     * on requests without Range; a ranged one always gets 206. */
    const char *x[] = {"--conditional-no-range", "--log-conditions", NULL};
    fault(&S, 3000, 901, x);
    char q[1024] = "";
    qadd(q, sizeof q, "%s", srv_url(&S, "a.bin"));
    qadd(q, sizeof q, "%s", srv_url(&S, "b.bin"));
    qadd(q, sizeof q, "%s", srv_url(&S, "c.bin"));
    write_queue(q);
    const char *o[] = {"-q", NULL};
    int rc = batch(o, 60);
    cr_assert_eq(rc, 0, "first run: exit %d: %s", rc, last_stderr());
    srv_log_reset(&S);
    const char *n[] = {"-q", "-N", NULL};
    rc = batch(n, 60);
    cr_assert_eq(rc, 0, "-N: exit %d: %s", rc, last_stderr());
    int lines, other;
    int64_t bytes;
    log_counts(&S, &lines, &other, &bytes);
    cr_expect_eq(srv_requests(&S, 304), 3, "304s: %d of %d requests",
                 srv_requests(&S, 304), lines);
    cr_expect_eq(other, 0, "%d requests were not answered 304", other);
    cr_expect_eq(bytes, 0, "the rerun fetched %lld body bytes",
                 (long long)bytes);
    cr_expect(same_content(in_dir("a.bin"), 901, 3000));
    cr_expect(same_content(in_dir("b.bin"), 901, 3000));
    cr_expect(same_content(in_dir("c.bin"), 901, 3000));
}

/* A strong ETag of 1000 characters (etagc: letters, digits, +/=-.). */
static const char *long_etag(void)
{
    static char tag[1003];
    static const char set[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
                              "QRSTUVWXYZ0123456789+/=-.";
    tag[0] = '"';
    for (int i = 0; i < 1000; i++)
        tag[1 + i] = set[(i * 7 + i / 13) % (int)(sizeof set - 1)];
    tag[1001] = '"';
    tag[1002] = '\0';
    return tag;
}

/* The value of field key= ("inm=") in line, into out. */
static int field(const char *line, const char *key, char *out, size_t cap)
{
    const char *p = strstr(line, key);
    if (!p)
        return 0;
    p += strlen(key);
    size_t n = strcspn(p, " \n");
    if (n >= cap)
        n = cap - 1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 1;
}

Test(regress, d12_refresh_sends_a_long_etag_whole)
{
    const char *tag = long_etag();
    const char *x[] = {"--conditional", "--log-conditions", "--etag", tag,
                       NULL};
    fault(&S, 3000, 1201, x);
    char q[512] = "";
    qadd(q, sizeof q, "%s", srv_url(&S, "t.bin"));
    write_queue(q);
    const char *o[] = {"-q", NULL};
    int rc = batch(o, 60);
    cr_assert_eq(rc, 0, "first run: exit %d: %s", rc, last_stderr());
    srv_log_reset(&S);
    const char *n[] = {"-q", "-N", NULL};
    rc = batch(n, 60);
    cr_assert_eq(rc, 0, "-N: exit %d: %s", rc, last_stderr());
    FILE *f = fopen(srv_log_path(&S), "r");
    cr_assert_not_null(f);
    static char line[1 << 14], inm[4096];
    int conditional = 0;
    while (fgets(line, sizeof line, f)) {
        if (!field(line, " inm=", inm, sizeof inm) || strcmp(inm, "-") == 0)
            continue;
        conditional++;
        cr_expect_eq(strlen(inm), strlen(tag),
                     "If-None-Match of %zu characters reached the server "
                     "for a tag of %zu",
                     strlen(inm), strlen(tag));
        cr_expect_str_eq(inm, tag, "If-None-Match is not the whole tag");
    }
    fclose(f);
    cr_expect_gt(conditional, 0, "no request carried If-None-Match");
    cr_expect_eq(srv_requests(&S, 304), 1, "the entry was not revalidated "
                                           "with 304");
    cr_expect_eq(srv_bytes_sent(&S), 0, "the rerun fetched %lld bytes",
                 (long long)srv_bytes_sent(&S));
    cr_expect(same_content(in_dir("t.bin"), 1201, 3000));
}

Test(regress, d12_single_if_range_carries_a_long_etag_whole_guard)
{
    const char *tag = long_etag();
    const char *x[] = {"--log-conditions", "--etag", tag, NULL};
    fault(&S, 2 * MiB, 1202, x);
    const char *o[] = {"-q", "-n", "4", "--min-split", "256K", NULL};
    int rc = single(o, srv_url(&S, "data"), NULL, 60);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect(same_content(in_dir("data"), 1202, 2 * MiB));
    /* Field 7 of the log is If-Range; every ranged GET after the probe
     * carries the whole tag. */
    FILE *f = fopen(srv_log_path(&S), "r");
    cr_assert_not_null(f);
    static char line[1 << 14], ifr[4096];
    int ranged = 0;
    while (fgets(line, sizeof line, f)) {
        int st;
        if (sscanf(line, "%d %*s %*s %*s %*s %*s %4095s", &st, ifr) != 2 ||
            st != 206 || strcmp(ifr, "-") == 0)
            continue;
        ranged++;
        cr_expect_str_eq(ifr, tag, "If-Range is not the whole tag");
    }
    fclose(f);
    cr_expect_geq(ranged, 2, "ranged GETs with If-Range: %d", ranged);
}

/* --- 10: a proxy refusing the credentials --- */

static char proxy[128];

static void proxy_407(void)
{
    const char *x[] = {"--proxy-407", "--log-conditions", NULL};
    fault(&S, 1000, 1001, x);
    snprintf(proxy, sizeof proxy, "http://u:wrongpw@127.0.0.1:%d", S.port);
}

/* Exit 3 within 2 s, and for https the message names 407 and the proxy
 * (never its password). */
static void expect_407(int rc, int64_t took, int https, const char *what)
{
    const char *err = last_stderr();
    cr_expect_eq(rc, 3, "%s: exit %d (want 3, HTTP): %s", what, rc, err);
    cr_expect_leq(took, 2000, "%s: took %lld ms", what, (long long)took);
    if (https) {
        char port[32];
        snprintf(port, sizeof port, "127.0.0.1:%d", S.port);
        cr_expect(strstr(err, "407"), "%s: 407 not mentioned: %s", what,
                  err);
        cr_expect(find_ci(err, "proxy") || strstr(err, port),
                  "%s: the proxy is not mentioned: %s", what, err);
    }
    cr_expect_null(strstr(err, "wrongpw"), "%s: the proxy password shown: %s",
                   what, err);
}

static void run_407(const char *url, int https)
{
    proxy_407();
    const char *o[] = {"-x", proxy, NULL};
    int64_t t0 = mono_ms();
    int rc = single(o, url, NULL, 30);
    expect_407(rc, mono_ms() - t0, https, "single");
    cr_expect_gt(srv_requests(&S, 407), 0, "the proxy was never asked");
    char q[256] = "";
    qadd(q, sizeof q, "%s", url);
    write_queue(q);
    const char *b[] = {"-q", "-x", proxy, NULL};
    t0 = mono_ms();
    rc = batch(b, 30);
    expect_407(rc, mono_ms() - t0, https, "batch");
}

Test(regress, d10_proxy_407_to_connect_is_an_http_error_at_once)
{
    run_407("https://127.0.0.1:9/x", 1);
}

Test(regress, d10_proxy_407_for_an_http_url_guard)
{
    run_407("http://127.0.0.1:9/x", 0);
}

/* --- 11: a batch's names and the journal's SQLite files --- */

Test(regress, d11_batch_names_reserve_the_journals_wal_and_shm)
{
    srv_start(&S, "");
    srv_file(&S, "a.bin", 1000, 1101);
    srv_file(&S, "b.bin", 1000, 1102);
    static const char *other[] = {"a.bin.segget-wal", "a.bin.segget-shm"};
    for (int i = 0; i < 2; i++)
        for (int order = 0; order < 2; order++) {
            char q[1024] = "";
            const char *first = order ? other[i] : "a.bin";
            const char *second = order ? "a.bin" : other[i];
            qadd(q, sizeof q, "%s", srv_url(&S, "a.bin"));
            qadd(q, sizeof q, "  out=%s", first);
            qadd(q, sizeof q, "%s", srv_url(&S, "b.bin"));
            qadd(q, sizeof q, "  out=%s", second);
            write_queue(q);
            const char *o[] = {"-q", NULL};
            int rc = batch(o, 30);
            cr_expect_eq(rc, 1, "out=%s and out=%s: exit %d (want 1): %s",
                         first, second, rc, last_stderr());
            cr_expect_eq(srv_requests(&S, 0), 0,
                         "out=%s and out=%s: %d requests", first, second,
                         srv_requests(&S, 0));
            cr_expect_eq(dir_entries(dir), 0, "out=%s and out=%s: written",
                         first, second);
            srv_log_reset(&S);
            fresh_dir();
        }
}

Test(regress, d11_batch_names_reserve_the_journal_guard)
{
    srv_start(&S, "");
    srv_file(&S, "a.bin", 1000, 1103);
    char q[1024] = "";
    qadd(q, sizeof q, "%s", srv_url(&S, "a.bin"));
    qadd(q, sizeof q, "%s", srv_url(&S, "a.bin"));
    qadd(q, sizeof q, "  out=a.bin.segget");
    write_queue(q);
    const char *o[] = {"-q", NULL};
    int rc = batch(o, 30);
    cr_expect_eq(rc, 1, "exit %d: %s", rc, last_stderr());
    cr_expect_eq(srv_requests(&S, 0), 0);
    cr_expect_eq(dir_entries(dir), 0);
}

/* --- 13: --json output is UTF-8 and JSON --- */

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, nothing past U+10FFFF), or 0. */
static int utf8_seq(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    int n;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (int i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return n;
}

static int utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n = utf8_seq(p);
        if (!n)
            return 0;
        p += n;
    }
    return 1;
}

/* A strict JSON value parser (RFC 8259); returns the end or NULL. */
static const char *js_value(const char *p, int depth);

static const char *js_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

static int hex4(const char *p, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return 0;
        *v = *v * 16 + d;
    }
    return 1;
}

static const char *js_string(const char *p)
{
    if (*p++ != '"')
        return NULL;
    for (;;) {
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            return p + 1;
        if (c < 0x20)
            return NULL; /* raw control bytes, or the line ended */
        if (c != '\\') {
            int n = utf8_seq((const unsigned char *)p);
            if (!n)
                return NULL;
            p += n;
            continue;
        }
        p++;
        if (strchr("\"\\/bfnrt", *p) && *p) {
            p++;
            continue;
        }
        unsigned v, w;
        if (*p != 'u' || !hex4(p + 1, &v))
            return NULL;
        p += 5;
        if (v >= 0xDC00 && v <= 0xDFFF)
            return NULL; /* a lone low surrogate */
        if (v >= 0xD800 && v <= 0xDBFF) {
            /* A high surrogate must be followed by a low one. */
            if (p[0] != '\\' || p[1] != 'u' || !hex4(p + 2, &w) ||
                w < 0xDC00 || w > 0xDFFF)
                return NULL;
            p += 6;
        }
    }
}

static const char *js_number(const char *p)
{
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (*p >= '0' && *p <= '9')
            p++;
    else
        return NULL;
    if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9'))
            return NULL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return NULL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return p;
}

static const char *js_value(const char *p, int depth)
{
    if (depth > 64)
        return NULL;
    p = js_ws(p);
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        int object = *p == '{';
        p = js_ws(p + 1);
        if (*p == close)
            return p + 1;
        for (;;) {
            if (object) {
                if (!(p = js_string(js_ws(p))))
                    return NULL;
                p = js_ws(p);
                if (*p++ != ':')
                    return NULL;
            }
            if (!(p = js_value(p, depth + 1)))
                return NULL;
            p = js_ws(p);
            if (*p == close)
                return p + 1;
            if (*p++ != ',')
                return NULL;
        }
    }
    if (*p == '"')
        return js_string(p);
    if (strncmp(p, "true", 4) == 0)
        return p + 4;
    if (strncmp(p, "false", 5) == 0)
        return p + 5;
    if (strncmp(p, "null", 4) == 0)
        return p + 4;
    return js_number(p);
}

/* Every line of the --json output is UTF-8 and one JSON object; returns
 * the number of lines and copies the last into last. */
static int check_json_lines(const char *what, char *last, size_t cap)
{
    FILE *f = fopen(jpath, "r");
    cr_assert_not_null(f, "%s: no --json output", what);
    static char line[1 << 16];
    int n = 0;
    last[0] = '\0';
    while (fgets(line, sizeof line, f)) {
        n++;
        size_t len = strlen(line);
        cr_expect(len > 0 && line[len - 1] == '\n', "%s: line %d unended",
                  what, n);
        if (len && line[len - 1] == '\n')
            line[--len] = '\0';
        cr_expect(utf8_valid(line), "%s: line %d is not UTF-8: %s", what, n,
                  line);
        const char *end = js_ws(line);
        cr_expect_eq(*end, '{', "%s: line %d is not an object: %s", what, n,
                     line);
        end = js_value(end, 0);
        cr_expect(end && *js_ws(end) == '\0',
                  "%s: line %d is not one JSON value: %s", what, n, line);
        snprintf(last, cap, "%s", line);
    }
    fclose(f);
    return n;
}

/* The one regular file in dir whose name is not the queue's state; NULL
 * when there is not exactly one. */
static const char *only_download(void)
{
    static char found[700];
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') {
            snprintf(found, sizeof found, "%s/%s", dir, e->d_name);
            n++;
        }
    if (d)
        closedir(d);
    return n == 1 ? found : NULL;
}

Test(regress, d13_json_strings_are_utf8_single)
{
    fault(&S, 3000, 1301, NULL);
    segget_stdout(jpath);
    const char *o[] = {"--json", NULL};
    int rc = single(o, srv_url(&S, "a%FFb.bin"), NULL, 60);
    segget_stdout(NULL);
    cr_expect_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    char last[1 << 12];
    int n = check_json_lines("single", last, sizeof last);
    cr_expect_geq(n, 2, "%d lines", n);
    cr_expect(strncmp(last, "{\"event\":\"finish\"", 17) == 0, "last: %s",
              last);
    const char *got = only_download();
    cr_expect(got && same_content(got, 1301, 3000), "the file: %s",
              got ? got : "none, or several");
}

Test(regress, d13_json_strings_are_utf8_batch)
{
    fault(&S, 3000, 1302, NULL);
    char q[512] = "";
    qadd(q, sizeof q, "%s", srv_url(&S, "a%FFb.bin"));
    write_queue(q);
    segget_stdout(jpath);
    const char *o[] = {"--json", NULL};
    int rc = batch(o, 60);
    segget_stdout(NULL);
    cr_expect_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    char last[1 << 12];
    int n = check_json_lines("batch", last, sizeof last);
    cr_expect_geq(n, 2, "%d lines", n);
    cr_expect(strncmp(last, "{\"event\":\"finish\"", 17) == 0, "last: %s",
              last);
    const char *got = only_download();
    cr_expect(got && same_content(got, 1302, 3000), "the file: %s",
              got ? got : "none, or several");
}

/* --- 14: '+' pressed many times --- */

Test(regress, d14_plus_pressed_70_times_on_a_terminal, .timeout = 90)
{
    srv_start(&S, "");
    char src[700], url[256];
    snprintf(src, sizeof src, "%s", srv_file(&S, "p.bin", 8 * MiB, 1401));
    snprintf(url, sizeof url, "%s", srv_url(&S, "p.bin"));
    const char *argv[] = {"-n", "4", "--limit-rate", "1M", url, NULL};
    pty_spawn(&T, dir, argv);
    cr_assert(pty_wait_output(&T, "%", 15000),
              "no progress on the terminal: %s", T.out);
    cr_assert_gt(T.pid, 0, "segget ended already (exit %d): %s", T.status,
                 T.out);
    char plus[70];
    memset(plus, '+', sizeof plus);
    pty_type(&T, plus, sizeof plus);
    int rc = pty_wait_exit(&T, 30000);
    cr_assert_neq(rc, -1, "still running 30 s later: %s", T.out);
    cr_expect_eq(rc, 0, "exit %d: %s", rc, T.out);
    cr_expect(same_file(in_dir("p.bin"), src), "not exact");
    cr_expect(strstr(T.out, "rate limit"), "the keys were not read: %s",
              T.out);
    cr_expect_null(strstr(T.out, "rate limit -"),
                   "a negative rate limit was shown: %s", T.out);
    cr_expect_null(strstr(T.out, "runtime error"), "%s", T.out);
}

/* --- found in review of the one engine --- */

/* A refresh whose rename fails leaves the new version in NAME.part and
 * its row saying so: the next run finishes the rename, and never keeps
 * the old file as the verified new one. */
Test(regress, r01_refresh_whose_rename_failed_is_finished_next_time)
{
    /* The first GET serves version 1; later ones version 2 (seed + 1000,
     * another ETag, the same size). */
    const char *x[] = {"--conditional", "--change-after", "1", NULL};
    fault(&S, 1000, 701, x);
    char q[512] = "";
    qadd(q, sizeof q, "%s", srv_url(&S, "data"));
    write_queue(q);
    const char *o[] = {"-q", NULL};
    cr_assert_eq(batch(o, 30), 0, "%s", last_stderr());
    cr_assert(same_content(in_dir("data"), 701, 1000));
    segget_shim("SG_SHIM=renamefail");
    const char *n[] = {"-q", "-N", NULL};
    int rc = batch(n, 30);
    segget_env(NULL);
    cr_expect_eq(rc, 6, "exit %d: %s", rc, last_stderr());
    cr_expect(same_content(in_dir("data"), 701, 1000), "NAME changed");
    cr_expect(same_content(in_dir("data.part"), 701 + 1000, 1000),
              "the verified new version was not kept");
    rc = batch(n, 30);
    cr_expect_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect(same_content(in_dir("data"), 701 + 1000, 1000),
              "the old version stayed under the name");
    cr_expect_not(exists(in_dir("data.part")));
    /* And the run after that asks, and the server says unchanged. */
    rc = batch(n, 30);
    cr_expect_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect(same_content(in_dir("data"), 701 + 1000, 1000));
}

/* A small file's retry that finds the resource empty publishes an empty
 * file, not the bytes of the attempt before. */
Test(regress, r02_batch_retry_answered_empty_keeps_no_stale_bytes)
{
    const char *x[] = {"--drop-after", "50", "--drop-count", "1",
                       "--empty-after", "1", NULL};
    fault(&S, 100, 702, x);
    char q[512] = "";
    qadd(q, sizeof q, "%s", srv_url(&S, "data"));
    write_queue(q);
    const char *o[] = {"-q", NULL};
    int rc = batch(o, 30);
    cr_expect_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect_eq(fsize(in_dir("data")), 0, "stale bytes were published");
}

/* A server without ranges that drops every stream half way makes no
 * progress: it gets --max-tries tries, not an endless loop. */
Test(regress, r03_a_stream_that_always_breaks_is_given_up)
{
    const char *x[] = {"--no-accept-ranges", "--ignore-ranges",
                       "--drop-after", "300000", NULL};
    fault(&S, 1 << 20, 703, x);
    const char *o[] = {"-q", "--max-tries", "3", NULL};
    int rc = single(o, srv_url(&S, "data"), NULL, 60);
    cr_expect_eq(rc, 2, "exit %d: %s", rc, last_stderr());
    cr_expect(strstr(last_stderr(), "giving up"), "%s", last_stderr());
    /* HEAD, the probe's GET, the first try (it got further than any
     * before it), and three that got no further. */
    cr_expect_leq(srv_requests(&S, 200), 2 + 1 + 3, "%d requests",
                  srv_requests(&S, 200));
    cr_expect_not(exists(in_dir("data")));
}

/* A batch entry whose journal could not be removed after its rename is
 * finished by the next run, without the network. */
Test(regress, r04_batch_rename_done_but_journal_left_is_finished)
{
    fault(&S, 6 << 20, 704, NULL);
    char q[512] = "";
    qadd(q, sizeof q, "%s", srv_url(&S, "data"));
    write_queue(q);
    const char *o[] = {"-q", "--min-split", "1M", NULL};
    segget_shim("SG_SHIM=unlinkfail");
    int rc = batch(o, 60);
    segget_env(NULL);
    cr_expect_eq(rc, 6, "exit %d: %s", rc, last_stderr());
    cr_assert(same_content(in_dir("data"), 704, 6 << 20));
    cr_assert(exists(in_dir("data.segget")), "the journal was removed");
    stop(&S);
    rc = batch(o, 60);
    cr_expect_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect(same_content(in_dir("data"), 704, 6 << 20));
    cr_expect_not(exists(in_dir("data.segget")));
}

/* A checkpoint that fails while the transfer ends is the outcome: local
 * I/O (6), not a protocol error, and nothing named. */
Test(regress, r05_a_checkpoint_failing_at_the_end_is_exit_6)
{
    const char *x[] = {"--rate", "1500000", NULL};
    fault(&S, 6 << 20, 705, x);
    segget_shim("SG_SHIM=slowfail:1500");
    const char *o[] = {"-n", "4", NULL};
    int rc = single(o, srv_url(&S, "data"), NULL, 60);
    segget_env(NULL);
    cr_expect_eq(rc, 6, "exit %d: %s", rc, last_stderr());
    cr_expect(strstr(last_stderr(), "fdatasync"), "%s", last_stderr());
    cr_expect_not(exists(in_dir("data")));
}

/* A resource that became empty after its probe: the download starts over
 * and saves what is there now, an empty file, saying why. */
Test(regress, r06_a_resource_emptied_after_the_probe_starts_over)
{
    const char *x[] = {"--head-length", "5000000", NULL};
    fault(&S, 0, 706, x);
    const char *o[] = {"-n", "1", NULL};
    int rc = single(o, srv_url(&S, "data"), NULL, 60);
    cr_expect_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect_eq(fsize(in_dir("data")), 0);
    cr_expect(strstr(last_stderr(), "size is now 0"), "%s", last_stderr());
}

/* Retry-After as an HTTP-date is honoured as well as in seconds. */
Test(regress, r07_retry_after_as_a_date_is_honoured)
{
    const char *x[] = {"--fail-status", "503", "--fail-count", "1",
                       "--retry-after", "3", "--retry-date", NULL};
    fault(&S, 100000, 707, x);
    const char *o[] = {"-q", "-n", "1", NULL};
    int64_t t0 = mono_ms();
    int rc = single(o, srv_url(&S, "data"), NULL, 60);
    int64_t took = mono_ms() - t0;
    cr_expect_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect(same_content(in_dir("data"), 707, 100000));
    /* The date is whole seconds, 3 s ahead when the server wrote it: at
     * least 2 s, where the backoff alone would be under one. */
    cr_expect_geq(took, 1900, "retried after %lld ms", (long long)took);
}
