/* SPDX-License-Identifier: MIT */
/*
 * segget -o -: a parallel download written to a pipe in order.  Real
 * consumers (sha256sum, tar x, head -c) and one of the test's own that
 * reads slowly; nginx for a real server, the fault server for broken
 * ones.  What comes out of the pipe is compared with the content the
 * servers generate: exact, or (when the run fails) a prefix of it --
 * never a wrong byte.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cases.h"
#include "content.h"
#include "harness.h"

#ifndef F_GETPIPE_SZ
#define F_GETPIPE_SZ 1032 /* Linux, <fcntl.h> with _GNU_SOURCE */
#endif
#include "segget.h"

#define MiB (INT64_C(1) << 20)

static srv S;
static const char *dir;
static char errpath[600];

static void up(void)
{
    memset(&S, 0, sizeof S);
    dir = tmp_dir();
    snprintf(errpath, sizeof errpath, "%s/../pipe-stderr.txt", dir);
}

static void down(void)
{
    if (S.root[0])
        srv_stop(&S);
    memset(&S, 0, sizeof S);
    tmp_cleanup();
}

TestSuite(pipe, .init = up, .fini = down, .timeout = 180);

/* How a pipeline ended. */
typedef struct piped {
    int status;      /* segget's exit status (128 + signal) */
    long maxrss_kb;  /* segget's peak resident set */
    int64_t got;     /* bytes the test's own reader took */
    int bad;         /* ... and the first that differed from seed, +1 */
    int bad_alt;     /* ... from seed + 1000 (a changed resource), +1 */
} piped;

static int status_of(int st)
{
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Start segget with argv (NULL-terminated, without argv[0]) in dir, its
 * standard output the write end of a new pipe; *rd receives the read
 * end. */
static pid_t start(const char *const *argv, int *rd)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    const char *bin = getenv("SEGGET_BIN");
    cr_assert_not_null(bin);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        const char *args[40] = {"segget"};
        int n = 1;
        for (; argv[n - 1] && n < 39; n++)
            args[n] = argv[n - 1];
        args[n] = NULL;
        if (chdir(dir) < 0)
            _exit(126);
        int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int in = open("/dev/null", O_RDONLY);
        dup2(fd, 2);
        dup2(in, 0);
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        signal(SIGPIPE, SIG_DFL);
        execv(bin, (char *const *)args);
        _exit(127);
    }
    close(p[1]);
    *rd = p[0];
    return pid;
}

/* Wait for segget (bounded), with its resource usage. */
static void finish(pid_t pid, piped *r)
{
    struct rusage ru;
    int st = 0;
    for (int i = 0; i < 12000; i++) { /* 120 s */
        pid_t w = wait4(pid, &st, WNOHANG, &ru);
        if (w == pid) {
            r->status = status_of(st);
            r->maxrss_kb = ru.ru_maxrss;
            return;
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    cr_assert_fail("segget did not end");
}

/* Read everything from fd, at most rate bytes per second (0: at once),
 * comparing with size bytes of seed; stop after stop_after bytes (-1:
 * never) by closing the pipe. */
static void consume(int fd, uint64_t seed, int64_t rate, int64_t stop_after,
                    piped *r)
{
    static unsigned char buf[1 << 16], want[1 << 16], alt[1 << 16];
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    r->got = 0;
    r->bad = r->bad_alt = 0;
    for (;;) {
        size_t cap = sizeof buf;
        if (stop_after >= 0 && stop_after - r->got < (int64_t)cap)
            cap = (size_t)(stop_after - r->got);
        if (cap == 0)
            break;
        ssize_t n = read(fd, buf, cap);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        content_fill(seed, (uint64_t)r->got, want, (size_t)n);
        content_fill(seed + 1000, (uint64_t)r->got, alt, (size_t)n);
        if (!r->bad_alt && memcmp(buf, alt, (size_t)n) != 0)
            r->bad_alt = (int)r->got + 1;
        if (!r->bad && memcmp(buf, want, (size_t)n) != 0) {
            for (ssize_t i = 0; i < n; i++)
                if (buf[i] != want[i]) {
                    r->bad = (int)(r->got + i) + 1;
                    break;
                }
        }
        r->got += n;
        if (rate > 0) {
            /* Pacing, not synchronisation: the reader is slow. */
            clock_gettime(CLOCK_MONOTONIC, &t);
            double el = (double)(t.tv_sec - t0.tv_sec) +
                        (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
            double ahead = (double)r->got / (double)rate - el;
            if (ahead > 0) {
                struct timespec d = {(time_t)ahead,
                                     (long)((ahead - (time_t)ahead) * 1e9)};
                nanosleep(&d, NULL);
            }
        }
    }
    close(fd);
}

static void run_read(const char *const *argv, uint64_t seed, int64_t rate,
                     int64_t stop_after, piped *r)
{
    int fd;
    pid_t pid = start(argv, &fd);
    consume(fd, seed, rate, stop_after, r);
    finish(pid, r);
}

/* www/name: size bytes of resource seed (content.h), as the fault
 * server serves them. */
static void www_file(const char *name, int64_t size, uint64_t seed)
{
    char p[700];
    static unsigned char buf[1 << 16];
    snprintf(p, sizeof p, "%s/%s", S.www, name);
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f);
    for (int64_t at = 0; at < size;) {
        size_t n = size - at > (int64_t)sizeof buf ? sizeof buf
                                                   : (size_t)(size - at);
        content_fill(seed, (uint64_t)at, buf, n);
        cr_assert_eq(fwrite(buf, 1, n, f), n);
        at += (int64_t)n;
    }
    cr_assert_eq(fclose(f), 0);
}

static const char *err_text(void)
{
    static char b[8192];
    FILE *f = fopen(errpath, "r");
    size_t n = f ? fread(b, 1, sizeof b - 1, f) : 0;
    if (f)
        fclose(f);
    b[n] = '\0';
    return b;
}

/* Run a shell pipeline "segget ARGS | CONSUMER" in dir; segget's exit
 * status is returned (the consumer's must be 0). */
static int pipeline(const char *args, const char *consumer)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && { '%s' %s 2>'%s'; echo $? > ../seg-status; } | %s",
             dir, getenv("SEGGET_BIN"), args, errpath, consumer);
    int st = system(cmd);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "'%s' failed: %s", cmd,
              err_text());
    char sp[600];
    snprintf(sp, sizeof sp, "%s/../seg-status", dir);
    FILE *f = fopen(sp, "r");
    int code = -1;
    cr_assert_not_null(f);
    cr_assert_eq(fscanf(f, "%d", &code), 1);
    fclose(f);
    return code;
}

static void sha256_hex(uint64_t seed, int64_t size, char *hex)
{
    static unsigned char buf[1 << 16];
    unsigned char d[32];
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    for (int64_t at = 0; at < size;) {
        size_t n = size - at > (int64_t)sizeof buf ? sizeof buf
                                                   : (size_t)(size - at);
        content_fill(seed, (uint64_t)at, buf, n);
        EVP_DigestUpdate(c, buf, n);
        at += (int64_t)n;
    }
    EVP_DigestFinal_ex(c, d, NULL);
    EVP_MD_CTX_free(c);
    for (int i = 0; i < 32; i++)
        sprintf(hex + 2 * i, "%02x", d[i]);
}

Test(pipe, through_sha256sum_over_eight_connections)
{
    srv_start(&S, "limit_rate 8m;");
    int64_t size = 24 * MiB + 4321;
    www_file("f.bin", size, 61);
    char args[512], want[65], out[700];
    snprintf(args, sizeof args, "-n 8 -o - %s", srv_url(&S, "f.bin"));
    snprintf(out, sizeof out, "sha256sum > '%s/../sum.txt'", dir);
    cr_assert_eq(pipeline(args, out), 0, "%s", err_text());
    sha256_hex(61, size, want);
    snprintf(out, sizeof out, "%s/../sum.txt", dir);
    FILE *f = fopen(out, "r");
    char got[65] = "";
    cr_assert(f && fscanf(f, "%64s", got) == 1);
    fclose(f);
    cr_assert_str_eq(got, want);
    cr_assert_eq(dir_entries(dir), 0, "a file was written");
    cr_assert(strstr(err_text(), "standard output"), "%s", err_text());
    /* Several connections worked, each on chunks in order. */
    cr_assert_gt(srv_requests(&S, 206), 8);
}

Test(pipe, through_tar_x)
{
    srv_start(&S, "limit_rate 4m;");
    /* An archive of three generated files, served as one. */
    char src[600], cmd[2048];
    snprintf(src, sizeof src, "%s/../src", dir);
    case_fresh_dir(src);
    int64_t sizes[3] = {5 * MiB + 17, 3 * MiB, 7 * MiB + 1};
    for (int i = 0; i < 3; i++) {
        char p[700];
        snprintf(p, sizeof p, "%s/part%d.bin", src, i);
        FILE *f = fopen(p, "wb");
        static unsigned char buf[1 << 16];
        for (int64_t at = 0; at < sizes[i];) {
            size_t n = sizes[i] - at > (int64_t)sizeof buf
                           ? sizeof buf
                           : (size_t)(sizes[i] - at);
            content_fill(70 + (uint64_t)i, (uint64_t)at, buf, n);
            fwrite(buf, 1, n, f);
            at += (int64_t)n;
        }
        fclose(f);
    }
    snprintf(cmd, sizeof cmd, "tar cf '%s/a.tar' -C '%s' part0.bin part1.bin "
                              "part2.bin",
             S.www, src);
    cr_assert_eq(system(cmd), 0);
    char args[512], cons[700];
    snprintf(args, sizeof args, "-n 6 -o - %s", srv_url(&S, "a.tar"));
    snprintf(cons, sizeof cons, "tar xf - -C '%s'", dir);
    cr_assert_eq(pipeline(args, cons), 0, "%s", err_text());
    for (int i = 0; i < 3; i++) {
        char p[700];
        snprintf(p, sizeof p, "%s/part%d.bin", dir, i);
        cr_assert(same_content(p, 70 + (uint64_t)i, sizes[i]),
                  "part%d.bin differs", i);
    }
    cr_assert_eq(dir_entries(dir), 3);
}

/* A reader at 12 MB/s of a server that gives 8 connections 4 MB/s each:
 * the download waits for the reader, and its memory stays within the
 * buffer. */
Test(pipe, a_slow_reader_slows_the_download_not_the_memory)
{
    srv_start(&S, "limit_rate 4m;");
    int64_t size = 48 * MiB;
    www_file("f.bin", size, 62);
    piped r;
    const char *argv[] = {"-q",     "-n", "8", "--buffer", "8M", "-o",
                          "-",      srv_url(&S, "f.bin"), NULL};
    run_read(argv, 62, 12000000, -1, &r);
    cr_assert_eq(r.status, 0, "%s", err_text());
    cr_assert_eq(r.got, size);
    cr_assert_eq(r.bad, 0, "byte %d is wrong", r.bad - 1);
    /* Bounded by the buffer, not the file (ASan's shadow memory is
     * not segget's). */
    if (!getenv("SG_TEST_SANITIZED"))
        cr_assert_leq(r.maxrss_kb, (8 + 16) * 1024 + 8 * 1024,
                      "peak RSS %ld KiB with an 8 MiB buffer", r.maxrss_kb);
    cr_assert_leq(srv_bytes_sent(&S), size + size / 20,
                  "the server sent %lld bytes for %lld",
                  (long long)srv_bytes_sent(&S), (long long)size);
}

Test(pipe, a_reader_that_stops_early_ends_the_run_with_12)
{
    srv_start(&S, "limit_rate 2m;");
    int64_t size = 32 * MiB;
    www_file("f.bin", size, 63);
    char args[512];
    snprintf(args, sizeof args, "-n 4 --buffer 4M -o - %s",
             srv_url(&S, "f.bin"));
    int st = pipeline(args, "head -c 1000000 > /dev/null");
    cr_assert_eq(st, 12, "exit %d: %s", st, err_text());
    cr_assert(strstr(err_text(), "reader went away"), "%s", err_text());
    /* It stopped at once rather than fetching the rest. */
    cr_assert_lt(srv_bytes_sent(&S), size / 2);
    /* The test's own reader too, with exact bytes up to where it
     * stopped. */
    piped r;
    const char *argv[] = {"-n", "4", "--buffer", "4M", "-o", "-",
                          srv_url(&S, "f.bin"), NULL};
    run_read(argv, 63, 0, 3 * MiB + 5, &r);
    cr_assert_eq(r.status, 12, "%s", err_text());
    cr_assert_eq(r.bad, 0);
}

/* Faults on every path to the pipe: the output is exact, or the run
 * fails and what came out is a prefix of the file. */
static void fault_case(const char *const *more, int n, int want_status)
{
    int64_t size = 6 * MiB + 99;
    case_fault(&S, size, 64, more);
    char nn[8];
    snprintf(nn, sizeof nn, "%d", n);
    const char *argv[] = {"--max-tries", "4",  "--stall-timeout", "2",
                          "-n",          nn,   "-o",              "-",
                          srv_url(&S, "f"), NULL};
    piped r;
    run_read(argv, 64, 0, -1, &r);
    cr_assert_eq(r.bad, 0, "byte %d of the output is wrong (%s)", r.bad - 1,
                 err_text());
    cr_assert_eq(r.status, want_status, "exit %d: %s", r.status, err_text());
    if (want_status == 0)
        cr_assert_eq(r.got, size, "%lld bytes", (long long)r.got);
}

Test(pipe, dropped_connections_are_resumed)
{
    const char *f[] = {"--drop-after", "300000", "--drop-count", "6", NULL};
    fault_case(f, 4, 0);
}

Test(pipe, a_stalled_connection_holding_the_output_is_hedged)
{
    const char *f[] = {"--rate",          "4000000", "--trickle-every", "1",
                       "--trickle-after", "65536",   "--trickle-bps",   "1",
                       "--trickle-count", "1",       NULL};
    fault_case(f, 4, 0);
}

Test(pipe, transient_errors_are_retried)
{
    const char *f[] = {"--fail-status", "503", "--fail-count", "3", NULL};
    fault_case(f, 4, 0);
}

Test(pipe, a_response_longer_than_its_range_is_never_written)
{
    /* Every range response brings extra bytes: none of them, nor the
     * rest of such a response, may reach the pipe. */
    const char *f[] = {"--extra-bytes", "1000", NULL};
    fault_case(f, 4, 4);
}

Test(pipe, a_resource_that_changes_midway_stops_without_a_wrong_byte)
{
    /* Small chunks: the first ones reach the output before the change
     * (the fault server's 13th GET on) shows; then it cannot start
     * over, and what came out is the old version's start. */
    int64_t size = 6 * MiB + 99;
    const char *f[] = {"--change-after", "12", NULL};
    case_fault(&S, size, 64, f);
    const char *argv[] = {"-n", "4", "--buffer", "1M", "-o", "-",
                          srv_url(&S, "f"), NULL};
    piped r;
    run_read(argv, 64, 0, -1, &r);
    if (r.status == 0) { /* the change showed before any byte went out */
        cr_assert_eq(r.bad_alt, 0, "byte %d of the new version is wrong",
                     r.bad_alt - 1);
        cr_assert_eq(r.got, size);
        return;
    }
    cr_assert_eq(r.bad, 0, "byte %d of the output is wrong", r.bad - 1);
    cr_assert_gt(r.got, 0);
    cr_assert_eq(r.status, 5, "exit %d: %s", r.status, err_text());
    cr_assert(strstr(err_text(), "cannot start over"), "%s", err_text());
}

/* The change shows while the first bytes are still on their way to a
 * slow reader: nothing may be spliced onto them. */
Test(pipe, a_change_while_bytes_are_on_their_way_to_a_slow_reader)
{
    int64_t size = 20 * MiB;
    const char *f[] = {"--change-after", "6", NULL};
    case_fault(&S, size, 64, f);
    const char *argv[] = {"-n", "4", "--buffer", "4M", "-o", "-",
                          srv_url(&S, "f"), NULL};
    piped r;
    run_read(argv, 64, 2000000, -1, &r);
    /* Either bytes had gone out (or were going) when the change showed:
     * exit 5 after a prefix of the old version; or none had, and the
     * whole new version came (the fault server's changed content is
     * seed + 1000). */
    if (r.status == 0) {
        cr_assert_eq(r.bad_alt, 0, "byte %d of the new version is wrong",
                     r.bad_alt - 1);
        cr_assert_eq(r.got, size);
    } else {
        cr_assert_eq(r.bad, 0, "byte %d of the output is wrong", r.bad - 1);
        cr_assert_lt(r.got, size);
        cr_assert_eq(r.status, 5, "exit %d: %s", r.status, err_text());
    }
}

/* One stream without a validator that breaks, and whose retry brings
 * other bytes: a file is written again from byte 0 (its hash too), a
 * pipe cannot prove the retry continues what it wrote. */
Test(pipe, a_retry_without_ranges_or_validator)
{
    int64_t size = 3 * MiB;
    const char *f[] = {"--no-accept-ranges", "--ignore-ranges", "--etag",
                       "none", "--lastmod", "none", "--drop-after",
                       "1000000", "--drop-count", "3", "--change-after",
                       "2", NULL}; /* the probe's GET, the first, then */
    case_fault(&S, size, 64, f);
    const char *argv[] = {"-o", "-", srv_url(&S, "f"), NULL};
    piped r;
    run_read(argv, 64, 0, -1, &r);
    cr_assert_eq(r.bad, 0, "byte %d of the output is wrong", r.bad - 1);
    cr_assert_eq(r.status, 5, "exit %d: %s", r.status, err_text());
    cr_assert(strstr(err_text(), "validator"), "%s", err_text());
    /* The file holds the retry's bytes, all of them, and its checksum
     * is theirs (seed 64 + 1000: the changed version). */
    srv_stop(&S);
    memset(&S, 0, sizeof S);
    case_fault(&S, size, 64, f);
    char hex[65];
    static char spec[80];
    sha256_hex(64 + 1000, size, hex);
    snprintf(spec, sizeof spec, "sha256=%s", hex);
    const char *file[] = {"-q", "--checksum", spec, "-o", "out.bin",
                          srv_url(&S, "f"), NULL};
    int st = run_segget(dir, file, 60);
    cr_assert_eq(st, 0, "exit %d: %s", st, last_stderr());
    cr_assert(same_content(case_path(dir, "out.bin"), 64 + 1000, size));
}

/* A reader that stops reading: SIGINT still ends the run at once, over
 * ranges and over one stream. */
Test(pipe, interrupted_while_the_reader_stalls)
{
    const char *modes[2][3] = {{NULL}, {"--no-accept-ranges", NULL}};
    for (int m = 0; m < 2; m++) {
        case_fault(&S, 16 * MiB, 67, modes[m]);
        const char *argv[] = {"-n", "4", "-o", "-", srv_url(&S, "f"), NULL};
        int fd;
        pid_t pid = start(argv, &fd);
        static unsigned char buf[4096];
        cr_assert_gt(read(fd, buf, sizeof buf), 0);
        /* Not another byte is read: the pipe fills, segget waits. */
        int64_t t0 = mono_ms();
        kill(pid, SIGINT);
        piped r;
        finish(pid, &r);
        close(fd);
        cr_assert_eq(r.status, 11, "mode %d: exit %d: %s", m, r.status,
                     err_text());
        cr_assert_lt(mono_ms() - t0, 5000, "mode %d: %lld ms", m,
                     (long long)(mono_ms() - t0));
        srv_stop(&S);
        memset(&S, 0, sizeof S);
    }
}

/* A reader that lets the pipe fill and then goes away: exit 12 at once,
 * not a writer spinning on a pipe with no room and no reader. */
Test(pipe, a_reader_that_leaves_a_full_pipe)
{
    srv_start(&S, "");
    www_file("f.bin", 16 * MiB, 70);
    const char *argv[] = {"-n", "4", "-o", "-", srv_url(&S, "f.bin"), NULL};
    int fd;
    pid_t pid = start(argv, &fd);
    int cap = fcntl(fd, F_GETPIPE_SZ), used = 0;
    cr_assert_gt(cap, 0);
    /* Wait (bounded) for the pipe to be full. */
    for (int64_t t0 = mono_ms(); mono_ms() - t0 < 30000;) {
        if (ioctl(fd, FIONREAD, &used) == 0 && used >= cap)
            break;
        nap_ms(10);
    }
    cr_assert_geq(used, cap, "the pipe never filled (%d of %d)", used, cap);
    close(fd);
    int64_t t0 = mono_ms();
    piped r;
    finish(pid, &r);
    cr_assert_eq(r.status, 12, "exit %d: %s", r.status, err_text());
    cr_assert_lt(mono_ms() - t0, 5000, "%lld ms",
                 (long long)(mono_ms() - t0));
}

/* The library on its own: a reader that went away is SG_EPIPE, never a
 * SIGPIPE that ends the program, also when the bytes go out on the
 * caller's thread (one stream). */
Test(pipe, the_library_survives_a_closed_pipe)
{
    const char *f[] = {"--no-accept-ranges", NULL};
    case_fault(&S, 4 * MiB, 68, f);
    signal(SIGPIPE, SIG_DFL);
    cr_assert_eq(sg_global_init(), SG_OK);
    int p[2];
    cr_assert_eq(pipe(p), 0);
    close(p[0]);
    sg_options o;
    sg_options_init(&o);
    o.output_fd = p[1];
    sg_download *dl = NULL;
    cr_assert_eq(sg_download_new(&dl, srv_url(&S, "f"), &o), SG_OK);
    sg_code rc = sg_download_run(dl);
    cr_assert_eq(rc, SG_EPIPE, "%d: %s", rc, sg_download_error(dl));
    sg_download_free(dl);
    close(p[1]);
    sg_global_cleanup();
    sigset_t pend;
    sigpending(&pend);
    cr_assert(!sigismember(&pend, SIGPIPE), "a SIGPIPE is left pending");
}

Test(pipe, without_ranges_one_stream_in_order)
{
    const char *f[] = {"--no-accept-ranges", "--ignore-ranges", NULL};
    fault_case(f, 4, 0);
    const char *g[] = {"--chunked", "--head-no-length", NULL};
    srv_stop(&S);
    memset(&S, 0, sizeof S);
    fault_case(g, 4, 0);
}

Test(pipe, a_slow_reader_of_one_stream)
{
    int64_t size = 6 * MiB + 99;
    const char *f[] = {"--no-accept-ranges", NULL};
    case_fault(&S, size, 64, f);
    const char *argv[] = {"-o", "-", srv_url(&S, "f"), NULL};
    piped r;
    run_read(argv, 64, 8000000, -1, &r);
    cr_assert_eq(r.status, 0, "%s", err_text());
    cr_assert_eq(r.got, size);
    cr_assert_eq(r.bad, 0);
}

Test(pipe, interrupted_it_says_it_cannot_resume)
{
    srv_start(&S, "limit_rate 1m;");
    www_file("f.bin", 16 * MiB, 65);
    const char *argv[] = {"-n", "4", "-o", "-", srv_url(&S, "f.bin"), NULL};
    int fd;
    pid_t pid = start(argv, &fd);
    /* The first bytes reach the reader: the run is under way. */
    static unsigned char buf[4096];
    cr_assert_gt(read(fd, buf, sizeof buf), 0);
    kill(pid, SIGINT);
    piped r;
    consume(fd, 65, 0, -1, &r);
    finish(pid, &r);
    cr_assert_eq(r.status, 11, "%s", err_text());
    cr_assert(strstr(err_text(), "cannot be resumed"), "%s", err_text());
    cr_assert_eq(dir_entries(dir), 0);
}

Test(pipe, usage_errors)
{
    srv_start(&S, "");
    www_file("f.bin", 1000, 66);
    const char *a[] = {"--json", "-o", "-", srv_url(&S, "f.bin"), NULL};
    cr_assert_eq(run_segget(dir, a, 30), 1);
    cr_assert(strstr(last_stderr(), "--json"), "%s", last_stderr());
    const char *b[] = {"--buffer", "8M", srv_url(&S, "f.bin"), NULL};
    cr_assert_eq(run_segget(dir, b, 30), 1);
    const char *c[] = {"-o", "-", "--buffer", "100K", srv_url(&S, "f.bin"),
                       NULL};
    cr_assert_eq(run_segget(dir, c, 30), 1);
    char q[600], text[700];
    snprintf(q, sizeof q, "%s/../q.txt", dir);
    snprintf(text, sizeof text, "%s\n  out=-\n", srv_url(&S, "f.bin"));
    case_write(q, text);
    const char *d[] = {"-i", q, NULL};
    cr_assert_eq(run_segget(dir, d, 30), 1);
    cr_assert(strstr(last_stderr(), "out=-"), "%s", last_stderr());
    /* Standard output closed: refused, not written into whatever takes
     * descriptor 1 next. */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' -o - %s >&- 2>/dev/null", dir,
             getenv("SEGGET_BIN"), srv_url(&S, "f.bin"));
    int st = system(cmd);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %d", st);
    cr_assert_eq(dir_entries(dir), 0);
}

/* --range with a declared checksum: what the server declares is the
 * whole file's, so the part is not held to it. */
Test(pipe, a_range_is_not_held_to_the_whole_files_checksum)
{
    const char *f[] = {"--declare", "repr-sha256", NULL};
    case_fault(&S, 2 * MiB, 69, f);
    const char *argv[] = {"--range", "0-99999", "-o", "-", srv_url(&S, "f"),
                          NULL};
    piped r;
    run_read(argv, 69, 0, -1, &r);
    cr_assert_eq(r.status, 0, "exit %d: %s", r.status, err_text());
    cr_assert_eq(r.got, 100000);
    cr_assert_eq(r.bad, 0);
}
