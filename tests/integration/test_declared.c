/* SPDX-License-Identifier: MIT */
/*
 * Checksums a server declares (Repr-Digest, Digest, Content-MD5,
 * x-amz-checksum-*, x-goog-hash), right, wrong and not checkable, over 1
 * and 8 connections, on every path: single download, batch (with and
 * without a probe), mirrors and the pipe.  The fault server computes the
 * declared values itself, independently of segget.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cases.h"
#include "content.h"
#include "harness.h"

#define MiB (INT64_C(1) << 20)
#define SIZE (5 * MiB + 333)
#define SEED 81

static srv S, M;
static const char *dir;
static char jpath[600], qpath[600];

static void up(void)
{
    memset(&S, 0, sizeof S);
    memset(&M, 0, sizeof M);
    dir = tmp_dir();
    snprintf(jpath, sizeof jpath, "%s/../events.json", dir);
    snprintf(qpath, sizeof qpath, "%s/../queue.txt", dir);
}

static void down(void)
{
    segget_stdout(NULL);
    if (S.root[0])
        srv_stop(&S);
    if (M.root[0])
        srv_stop(&M);
    memset(&S, 0, sizeof S);
    memset(&M, 0, sizeof M);
    tmp_cleanup();
}

TestSuite(declared, .init = up, .fini = down, .timeout = 240);

/* The fault server declaring kind (right, or wrong), on responses of
 * which kinds ("all", "get", "head"). */
static void serve(srv *s, const char *kind, int wrong, const char *on)
{
    const char *more[12] = {"--declare", kind, "--declare-on", on};
    int n = 4;
    if (wrong)
        more[n++] = "--declare-wrong";
    more[n] = NULL;
    case_fault(s, SIZE, SEED, more);
}

static void fresh(void)
{
    case_fresh_dir(dir);
    segget_stdout(NULL);
}

/* The last line of the --json events. */
static const char *last_event(void)
{
    static char line[4096], last[4096];
    FILE *f = fopen(jpath, "r");
    cr_assert_not_null(f);
    last[0] = '\0';
    while (fgets(line, sizeof line, f))
        memcpy(last, line, sizeof last);
    fclose(f);
    return last;
}

/* All the --json events, in a static buffer. */
static const char *events_text(void)
{
    static char b[1 << 16];
    FILE *f = fopen(jpath, "r");
    cr_assert_not_null(f);
    size_t n = fread(b, 1, sizeof b - 1, f);
    fclose(f);
    b[n] = '\0';
    return b;
}

/* One download with --json; its exit status. */
static int get(const char *conns, const char *extra)
{
    segget_stdout(jpath);
    const char *opts[8] = {"--json", "-n", conns, "-o", "out.bin"};
    int n = 5;
    if (extra)
        opts[n++] = extra;
    opts[n] = NULL;
    int st = case_single(dir, opts, srv_url(&S, "f"), NULL, 60);
    segget_stdout(NULL);
    return st;
}

static const struct kind {
    const char *name, *algo, *source;
} kinds[] = {
    {"repr-sha256", "sha256", "Repr-Digest"},
    {"repr-sha512", "sha512", "Repr-Digest"},
    {"repr-both", "sha512", "Repr-Digest"},
    {"digest-sha256", "sha256", "Digest"},
    {"digest-md5", "md5", "Digest"},
    {"digest-sha", "sha1", "Digest"},
    {"content-md5", "md5", "Content-MD5"},
    {"amz-crc32", "crc32", "x-amz-checksum-crc32"},
    {"amz-crc32c", "crc32c", "x-amz-checksum-crc32c"},
    {"amz-crc64nvme", "crc64nvme", "x-amz-checksum-crc64nvme"},
    {"amz-sha1", "sha1", "x-amz-checksum-sha1"},
    {"amz-sha256", "sha256", "x-amz-checksum-sha256"},
    {"goog", "md5", "x-goog-hash"},
    {"goog-split", "md5", "x-goog-hash"},
};

static void right_and_wrong(const struct kind *k)
{
    const char *conns[] = {"1", "8"};
    char want[200];
    snprintf(want, sizeof want,
             "\"verified\":{\"algorithm\":\"%s\",\"source\":\"%s\"}",
             k->algo, k->source);
    for (int w = 0; w < 2; w++) {
        serve(&S, k->name, w, "all");
        for (int c = 0; c < 2; c++) {
            fresh();
            int st = get(conns[c], NULL);
            if (!w) {
                cr_assert_eq(st, 0, "%s -n %s: exit %d: %s", k->name,
                             conns[c], st, last_stderr());
                cr_assert(same_content(case_path(dir, "out.bin"), SEED,
                                       SIZE));
                cr_assert(strstr(last_event(), want), "%s: %s", k->name,
                          last_event());
            } else {
                cr_assert_eq(st, 10, "%s wrong, -n %s: exit %d: %s",
                             k->name, conns[c], st, last_stderr());
                cr_assert(!exists(case_path(dir, "out.bin")));
                cr_assert(exists(case_path(dir, "out.bin.part")),
                          "the data is kept for inspection");
                cr_assert(strstr(last_stderr(), k->source) &&
                              strstr(last_stderr(), "mismatch"),
                          "%s", last_stderr());
            }
        }
        srv_stop(&S);
        memset(&S, 0, sizeof S);
    }
}

Test(declared, repr_digest)
{
    for (int i = 0; i < 3; i++)
        right_and_wrong(&kinds[i]);
}

Test(declared, digest_rfc3230)
{
    for (int i = 3; i < 6; i++)
        right_and_wrong(&kinds[i]);
}

Test(declared, content_md5)
{
    right_and_wrong(&kinds[6]);
}

Test(declared, s3_full_object)
{
    for (int i = 7; i < 12; i++)
        right_and_wrong(&kinds[i]);
}

Test(declared, gcs)
{
    for (int i = 12; i < 14; i++)
        right_and_wrong(&kinds[i]);
}

/* Declared, but nothing that proves the whole file: not a failure, and
 * said. */
Test(declared, not_checkable_is_said_and_not_failed)
{
    const char *names[] = {"amz-composite", "repr-unknown"};
    for (int i = 0; i < 2; i++) {
        serve(&S, names[i], 0, "all");
        fresh();
        int st = get("4", NULL);
        cr_assert_eq(st, 0, "%s: exit %d: %s", names[i], st, last_stderr());
        cr_assert(strstr(last_event(), "\"verified\":null"), "%s",
                  last_event());
        cr_assert(strstr(events_text(), "not checkable"), "%s: %s",
                  names[i], events_text());
        srv_stop(&S);
        memset(&S, 0, sizeof S);
    }
}

/* Content-MD5 describes the body it comes with: a 206's covers the part,
 * and a HEAD that declared nothing leaves nothing to check. */
Test(declared, a_partial_responses_content_md5_is_not_the_files)
{
    serve(&S, "content-md5", 0, "get");
    fresh();
    int st = get("4", NULL);
    cr_assert_eq(st, 0, "exit %d: %s", st, last_stderr());
    cr_assert(strstr(last_event(), "\"verified\":null"), "%s", last_event());
    cr_assert(same_content(case_path(dir, "out.bin"), SEED, SIZE));
}

Test(declared, no_verify_and_the_users_checksum_come_first)
{
    serve(&S, "repr-sha256", 1, "all");
    fresh();
    int st = get("4", "--no-verify");
    cr_assert_eq(st, 0, "exit %d: %s", st, last_stderr());
    cr_assert(strstr(last_event(), "\"verified\":null"), "%s", last_event());
    /* A given checksum is what the file must match. */
    fresh();
    static unsigned char buf[1 << 16];
    uint32_t crc = 0xFFFFFFFFu;
    for (int64_t at = 0; at < SIZE;) {
        size_t n = SIZE - at > (int64_t)sizeof buf ? sizeof buf
                                                   : (size_t)(SIZE - at);
        content_fill(SEED, (uint64_t)at, buf, n);
        for (size_t i = 0; i < n; i++) {
            crc ^= buf[i];
            for (int b = 0; b < 8; b++)
                crc = crc & 1 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }
        at += (int64_t)n;
    }
    static char spec[64];
    snprintf(spec, sizeof spec, "--checksum=crc32c=%08x", crc ^ 0xFFFFFFFFu);
    st = get("4", spec);
    cr_assert_eq(st, 0, "exit %d: %s", st, last_stderr());
    cr_assert(strstr(last_event(), "\"verified\":{\"algorithm\":\"crc32c\","
                                   "\"source\":\"--checksum\"}"),
              "%s", last_event());
}

/* A queue: small files come in one GET without a probe (the fields of
 * that response count), a large one is probed. */
Test(declared, batch_with_and_without_a_probe)
{
    for (int w = 0; w < 2; w++) {
        serve(&S, "repr-sha256", w, "get");
        char q[2048] = "";
        case_line(q, sizeof q, "%s", srv_url(&S, "f"));
        case_line(q, sizeof q, "  out=small.bin");
        case_write(qpath, q);
        fresh();
        const char *big[] = {"--min-split", "4M", NULL};
        int st = case_batch(dir, qpath, big, 60);
        cr_assert_eq(st, w ? 10 : 0, "first GET, %s: exit %d: %s",
                     w ? "wrong" : "right", st, last_stderr());
        cr_assert_eq(exists(case_path(dir, "small.bin")), !w);
        srv_stop(&S);
        memset(&S, 0, sizeof S);
        /* Declared on HEAD and GET, 5 MiB over 1 MiB pieces: probed. */
        serve(&S, "amz-crc32c", w, "all");
        q[0] = '\0';
        case_line(q, sizeof q, "%s", srv_url(&S, "f"));
        case_line(q, sizeof q, "  out=big.bin");
        case_write(qpath, q);
        fresh();
        st = case_batch(dir, qpath, NULL, 60);
        cr_assert_eq(st, w ? 10 : 0, "probed, %s: exit %d: %s",
                     w ? "wrong" : "right", st, last_stderr());
        cr_assert_eq(exists(case_path(dir, "big.bin")), !w);
        srv_stop(&S);
        memset(&S, 0, sizeof S);
    }
}

/* With mirrors, the URL's declaration is the one the file must match,
 * whoever served the bytes. */
Test(declared, mirrors)
{
    for (int w = 0; w < 2; w++) {
        serve(&S, "repr-sha256", w, "all");
        case_fault(&M, SIZE, SEED, NULL);
        fresh();
        const char *opts[] = {"-n", "8", "-o", "out.bin", NULL};
        char murl[256];
        snprintf(murl, sizeof murl, "%s", srv_url(&M, "f"));
        int st = case_single(dir, opts, srv_url(&S, "f"), murl, 60);
        cr_assert_eq(st, w ? 10 : 0, "%s: exit %d: %s",
                     w ? "wrong" : "right", st, last_stderr());
        cr_assert_gt(srv_bytes_sent(&M), 0, "the mirror was not used");
        srv_stop(&S);
        srv_stop(&M);
        memset(&S, 0, sizeof S);
        memset(&M, 0, sizeof M);
    }
}

/* Into a pipe: checked as the bytes go out; a mismatch is said after the
 * last byte, with its own words. */
Test(declared, pipe)
{
    char out[600];
    snprintf(out, sizeof out, "%s/../piped.bin", dir);
    for (int w = 0; w < 2; w++) {
        serve(&S, "amz-sha256", w, "all");
        fresh();
        segget_stdout(out);
        const char *opts[] = {"-n", "8", "-o", "-", NULL};
        int st = case_single(dir, opts, srv_url(&S, "f"), NULL, 60);
        segget_stdout(NULL);
        cr_assert_eq(st, w ? 10 : 0, "exit %d: %s", st, last_stderr());
        cr_assert(same_content(out, SEED, SIZE));
        if (w)
            cr_assert(strstr(last_stderr(), "x-amz-checksum-sha256") &&
                          strstr(last_stderr(), "output received"),
                      "%s", last_stderr());
        cr_assert_eq(dir_entries(dir), 0);
        srv_stop(&S);
        memset(&S, 0, sizeof S);
    }
}
