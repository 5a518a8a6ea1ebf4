/* SPDX-License-Identifier: MIT */
/*
 * Integration tests against the project's fault server: probes that must
 * fall back to a range GET, servers that lie about ranges or lengths,
 * connections that drop, transient failures, and responses that must
 * never be written.  Each test starts a server with its own script.
 */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "content.h"
#include "harness.h"
#include "wait.h"

#define MiB (INT64_C(1) << 20)
/* Bytes segget has written when a test calls its download under way:
 * data, not the journal's first few KiB. */
#define WRITTEN (256 * 1024)

static srv S;
static const char *dir;
static char path[512];

static void up(void)
{
    dir = tmp_dir();
    snprintf(path, sizeof path, "%s/data", dir);
}

static void down(void)
{
    srv_stop(&S);
    tmp_cleanup();
}

TestSuite(faults, .init = up, .fini = down, .timeout = 120);

/* Start the fault server serving size bytes of seed plus extra options. */
static void serve(int64_t size, uint64_t seed, const char *const *extra)
{
    static char sz[32], sd[32];
    snprintf(sz, sizeof sz, "%lld", (long long)size);
    snprintf(sd, sizeof sd, "%llu", (unsigned long long)seed);
    const char *args[32] = {"--size", sz, "--seed", sd};
    int n = 4;
    for (int i = 0; extra && extra[i]; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    fsrv_start(&S, args);
}

static int get(const char *const *opts)
{
    const char *argv[32];
    int n = 0;
    for (int i = 0; opts && opts[i]; i++)
        argv[n++] = opts[i];
    argv[n++] = srv_url(&S, "data");
    argv[n] = NULL;
    return run_segget(dir, argv, 90);
}

static void assert_exact(int rc, int64_t size, uint64_t seed)
{
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_assert(same_content(path, seed, size), "wrong bytes");
    cr_assert_eq(dir_entries(dir), 1, "leftovers");
}

static void assert_nothing_claimed(void)
{
    cr_assert(!exists(path), "a file under the final name");
    /* Exactly one line on stderr. */
    const char *e = last_stderr();
    cr_assert(strlen(e) > 0 && strchr(e, '\n') == e + strlen(e) - 1,
              "not one line: %s", e);
}

Test(faults, head_refused_405_uses_range_get)
{
    const char *x[] = {"--head-status", "405", NULL};
    serve(5 * MiB + 7, 1, x);
    const char *o[] = {"-q", "-n", "8", NULL};
    assert_exact(get(o), 5 * MiB + 7, 1);
    cr_assert_gt(srv_requests(&S, 206), 1, "did not use ranges");
}

Test(faults, head_refused_403_and_500)
{
    const char *codes[] = {"403", "500"};
    for (int i = 0; i < 2; i++) {
        const char *x[] = {"--head-status", codes[i], NULL};
        serve(3 * MiB, 2, x);
        const char *o[] = {"-q", "-n", "4", NULL};
        assert_exact(get(o), 3 * MiB, 2);
        unlink(path);
        srv_stop(&S);
    }
}

Test(faults, head_without_length_uses_range_get)
{
    const char *x[] = {"--head-no-length", NULL};
    serve(4 * MiB, 3, x);
    const char *o[] = {"-q", "-n", "4", NULL};
    assert_exact(get(o), 4 * MiB, 3);
    cr_assert_gt(srv_requests(&S, 206), 1);
}

Test(faults, head_lying_about_length_is_caught)
{
    const char *sizes[] = {"9999999", "1000"};
    for (int i = 0; i < 2; i++) {
        const char *x[] = {"--head-length", sizes[i], NULL};
        serve(4 * MiB, 4, x);
        const char *o[] = {"-n", "4", NULL};
        assert_exact(get(o), 4 * MiB, 4);
        cr_assert(strstr(last_stderr(), "starting over"), "%s",
                  last_stderr());
        unlink(path);
        srv_stop(&S);
    }
}

Test(faults, chunked_without_length_is_one_stream)
{
    const char *x[] = {"--chunked", NULL};
    serve(3 * MiB + 1, 5, x);
    const char *o[] = {"-n", "8", NULL};
    assert_exact(get(o), 3 * MiB + 1, 5);
    cr_assert(strstr(last_stderr(), "size unknown"), "%s", last_stderr());
}

Test(faults, ranges_ignored_without_advertising)
{
    const char *x[] = {"--ignore-ranges", "--no-accept-ranges", NULL};
    serve(3 * MiB, 6, x);
    const char *o[] = {"-n", "8", NULL};
    assert_exact(get(o), 3 * MiB, 6);
    cr_assert(strstr(last_stderr(), "does not support ranges"), "%s",
              last_stderr());
}

Test(faults, ranges_advertised_but_ignored_never_written_at_offset)
{
    /* HEAD promises ranges; every GET answers 200 with the whole body.
     * The first 200 to a range request stops the plan; segget starts over
     * with one stream from byte 0, and the file is exact. */
    const char *x[] = {"--ignore-ranges", NULL};
    serve(6 * MiB, 7, x);
    const char *o[] = {"-n", "8", NULL};
    assert_exact(get(o), 6 * MiB, 7);
    cr_assert(strstr(last_stderr(), "ignored a range request"), "%s",
              last_stderr());
}

Test(faults, shifted_content_range_is_never_written)
{
    const char *x[] = {"--shift-range", "1", NULL};
    serve(4 * MiB, 8, x);
    const char *o[] = {"-q", "-n", "4", NULL};
    int rc = get(o);
    /* The probe's 0-0 already disagrees: one stream of the whole body,
     * or a protocol error; either way never a shifted byte. */
    if (rc == 0)
        assert_exact(rc, 4 * MiB, 8);
    else {
        cr_assert_eq(rc, 4, "exit %d: %s", rc, last_stderr());
        assert_nothing_claimed();
    }
}

Test(faults, dropped_connections_are_retried_from_their_offset)
{
    const char *x[] = {"--drop-after", "300000", "--drop-count", "12", NULL};
    serve(8 * MiB, 9, x);
    const char *o[] = {"-q", "-n", "8", NULL};
    assert_exact(get(o), 8 * MiB, 9);
    /* Retries continue where the data stopped.  What may be sent twice is
     * only what was in flight when a range was split and its owner
     * stopped at the new end: a few socket buffers, not whole ranges. */
    cr_assert_leq(srv_bytes_sent(&S), 8 * MiB + 8 * MiB / 10, "sent %lld",
                  (long long)srv_bytes_sent(&S));
}

Test(faults, drops_beyond_max_tries_fail_cleanly)
{
    const char *x[] = {"--drop-after", "0", NULL};
    serve(2 * MiB, 10, x);
    const char *o[] = {"-q", "-n", "2", "--max-tries", "2", NULL};
    int rc = get(o);
    cr_assert_eq(rc, 2, "exit %d: %s", rc, last_stderr());
    cr_assert(strstr(last_stderr(), "giving up"), "%s", last_stderr());
    assert_nothing_claimed();
}

Test(faults, transient_503_with_retry_after_is_retried)
{
    const char *x[] = {"--fail-status", "503", "--fail-count", "3",
                       "--retry-after", "1", NULL};
    serve(2 * MiB, 11, x);
    const char *o[] = {"-q", "-n", "4", NULL};
    assert_exact(get(o), 2 * MiB, 11);
}

Test(faults, persistent_503_is_an_http_error)
{
    const char *x[] = {"--fail-status", "503", "--fail-count", "-1", NULL};
    serve(1 * MiB, 12, x);
    const char *o[] = {"-q", "--max-tries", "2", NULL};
    cr_assert_eq(get(o), 3, "%s", last_stderr());
    assert_nothing_claimed();
    cr_assert_eq(dir_entries(dir), 0, "litter");
}

Test(faults, weak_etag_and_no_date_is_never_resumed)
{
    const char *x[] = {"--etag", "W/\"weak\"", "--lastmod", "none",
                       "--rate", "1000000", NULL};
    serve(6 * MiB, 13, x);
    const char *o[] = {"-n", "4", "--min-split", "256K", NULL};
    const char *argv[] = {"-n", "4", "--min-split", "256K",
                          srv_url(&S, "data"), NULL};
    pid_t pid = spawn_segget(dir, argv);
    /* Bytes are written (the stop commits them): a resume would keep
     * them. */
    AWAIT(wait_written(pid, WRITTEN, WAIT_MS));
    kill(pid, SIGTERM);
    cr_assert_eq(wait_child(pid, 30), 11, "%s", last_stderr());
    int rc = get(o);
    assert_exact(rc, 6 * MiB, 13);
    cr_assert(strstr(last_stderr(), "no validator"), "%s", last_stderr());
}

Test(faults, resume_with_last_modified_only)
{
    const char *x[] = {"--etag", "none", "--rate", "1000000", NULL};
    serve(6 * MiB, 14, x);
    const char *argv[] = {"-n", "4", "--min-split", "256K",
                          srv_url(&S, "data"), NULL};
    pid_t pid = spawn_segget(dir, argv);
    /* Bytes are written (the stop commits them): there is something to
     * resume. */
    AWAIT(wait_written(pid, WRITTEN, WAIT_MS));
    kill(pid, SIGTERM);
    cr_assert_eq(wait_child(pid, 30), 11, "%s", last_stderr());
    assert_exact(run_segget(dir, argv, 60), 6 * MiB, 14);
    cr_assert(strstr(last_stderr(), "resuming"), "%s", last_stderr());
}

Test(faults, empty_resource)
{
    serve(0, 15, NULL);
    const char *o[] = {"-q", "-n", "8", NULL};
    assert_exact(get(o), 0, 15);
}

/* Sum of bytes the journal claims durable, via SQLite directly. */
static long long journal_claims(const char *jpath)
{
    sqlite3 *db;
    long long v = -1;
    sqlite3_stmt *st;
    if (sqlite3_open_v2(jpath, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT total(done - start) FROM segment", -1,
                           &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return v;
}

Test(faults, fdatasync_failure_is_fatal_and_commits_nothing)
{
    const char *x[] = {"--rate", "4000000", NULL};
    serve(8 * MiB, 16, x);
    segget_shim("SG_SHIM=sync");
    const char *o[] = {"-n", "4", NULL};
    int rc = get(o);
    segget_env(NULL);
    cr_assert_eq(rc, 6, "exit %d: %s", rc, last_stderr());
    cr_assert(strstr(last_stderr(), "fdatasync"), "%s", last_stderr());
    cr_assert(!exists(path));
    char j[600];
    snprintf(j, sizeof j, "%s.segget", path);
    cr_assert(exists(j), "the journal should stay for a later run");
    cr_assert_eq(journal_claims(j), 0,
                 "the journal claims bytes that were never synced");
    /* A later run on a healthy disk finishes exactly. */
    assert_exact(get(o), 8 * MiB, 16);
}

/* --- issue: hostile servers --- */

/* Run with options o and expect either exact bytes or exit want with one
 * line on stderr and no final file. */
static void exact_or_exit(int rc, int want, int64_t size, uint64_t seed)
{
    if (rc == 0) {
        assert_exact(rc, size, seed);
        return;
    }
    cr_assert_eq(rc, want, "exit %d: %s", rc, last_stderr());
    assert_nothing_claimed();
}

Test(faults, content_range_missing_malformed_or_other_total)
{
    const char *cases[][3] = {
        {"--no-range-header", NULL, NULL},
        {"--range-value", "bytes abc", NULL},
        {"--range-value", "bytes 0-1/36893488147419103232", NULL},
        {"--range-total", "999999999", NULL},
    };
    for (int i = 0; i < 4; i++) {
        serve(2 * MiB, 20 + (uint64_t)i, cases[i]);
        const char *o[] = {"-q", "-n", "4", NULL};
        int rc = get(o);
        /* The probe's own 206 fails the same way: one stream of the whole
         * body (exact), or a protocol error; never bytes at an offset. */
        exact_or_exit(rc, 4, 2 * MiB, 20 + (uint64_t)i);
        if (rc != 0)
            cr_assert_eq(dir_entries(dir), 0, "case %d: litter", i);
        unlink(path);
        srv_stop(&S);
    }
}

Test(faults, body_longer_than_the_range_is_refused)
{
    const char *x[] = {"--extra-bytes", "1000", NULL};
    serve(2 * MiB, 30, x);
    const char *o[] = {"-q", "-n", "4", NULL};
    exact_or_exit(get(o), 4, 2 * MiB, 30);
}

Test(faults, multipart_byteranges_is_refused)
{
    const char *x[] = {"--multipart", NULL};
    serve(2 * MiB, 31, x);
    const char *o[] = {"-q", "-n", "4", NULL};
    exact_or_exit(get(o), 4, 2 * MiB, 31);
}

Test(faults, gzip_encoded_ranges_are_refused)
{
    const char *x[] = {"--gzip", NULL};
    serve(2 * MiB, 32, x);
    const char *o[] = {"-q", "-n", "4", NULL};
    int rc = get(o);
    cr_assert_eq(rc, 4, "exit %d: %s", rc, last_stderr());
    cr_assert(strstr(last_stderr(), "Content-Encoding"), "%s", last_stderr());
    assert_nothing_claimed();
}

Test(faults, html_error_page_with_200_is_never_saved)
{
    /* HEAD describes the file; every GET answers 200 with an HTML page. */
    const char *x[] = {"--html-200", NULL};
    serve(4 * MiB, 33, x);
    const char *o[] = {"-q", "-n", "4", NULL};
    int rc = get(o);
    cr_assert_eq(rc, 4, "exit %d: %s", rc, last_stderr());
    cr_assert(strstr(last_stderr(), "text/html"), "%s", last_stderr());
    assert_nothing_claimed();
}

Test(faults, server_error_500_with_html_body_is_retried_then_fails)
{
    const char *x[] = {"--fail-status", "500", "--fail-count", "-1", NULL};
    serve(1 * MiB, 34, x);
    const char *o[] = {"-q", "--max-tries", "2", NULL};
    cr_assert_eq(get(o), 3, "%s", last_stderr());
    cr_assert(strstr(last_stderr(), "500"), "%s", last_stderr());
    assert_nothing_claimed();
}

Test(faults, too_many_requests_429_honours_retry_after)
{
    const char *x[] = {"--fail-status", "429", "--fail-count", "2",
                       "--retry-after", "1", NULL};
    serve(2 * MiB, 35, x);
    const char *o[] = {"-q", "-n", "2", NULL};
    assert_exact(get(o), 2 * MiB, 35);
}

Test(faults, bogus_lengths_never_make_a_wrong_file)
{
    const char *lens[] = {"36893488147419103232", "-1", "1e3"};
    for (int i = 0; i < 3; i++) {
        const char *x[] = {"--length-value", lens[i], NULL};
        serve(1 * MiB, 40 + (uint64_t)i, x);
        const char *o[] = {"-q", "-n", "4", NULL};
        int rc = get(o);
        if (rc == 0)
            assert_exact(rc, 1 * MiB, 40 + (uint64_t)i);
        else {
            cr_assert(rc == 2 || rc == 4, "length %s: exit %d: %s", lens[i],
                      rc, last_stderr());
            assert_nothing_claimed();
        }
        unlink(path);
        srv_stop(&S);
    }
}

Test(faults, content_changing_mid_download_restarts_with_new_bytes)
{
    /* After 3 GETs the server serves other bytes with another ETag (same
     * size).  Every later range is refused by its validator or If-Range;
     * the run starts over and ends with the new version only. */
    const char *x[] = {"--change-after", "3", "--rate", "4000000", NULL};
    serve(4 * MiB, 50, x);
    const char *o[] = {"-n", "4", "--min-split", "256K", NULL};
    int rc = get(o);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_assert(strstr(last_stderr(), "changed"), "%s", last_stderr());
    cr_assert(same_content(path, 50 + 1000, 4 * MiB), "mixed versions");
}

Test(faults, weak_etag_is_never_sent_in_if_range)
{
    const char *x[] = {"--etag", "W/\"weak\"", NULL};
    serve(2 * MiB, 51, x);
    const char *o[] = {"-q", "-n", "4", NULL};
    assert_exact(get(o), 2 * MiB, 51);
    /* If-Range carried the date (the only strong validator), never W/. */
    char logp[300];
    snprintf(logp, sizeof logp, "%s/logs/access.log", S.root);
    FILE *f = fopen(logp, "r");
    cr_assert_not_null(f);
    char line[512];
    int dated = 0;
    while (fgets(line, sizeof line, f)) {
        cr_assert_null(strstr(line, "W/"), "weak tag sent: %s", line);
        dated += strstr(line, "GMT") != NULL;
    }
    fclose(f);
    cr_assert_gt(dated, 0, "If-Range never carried the date");
}

Test(faults, trickling_connection_is_replaced)
{
    /* Every third connection sends 64 KiB, then one byte a second. */
    const char *x[] = {"--trickle-every", "3", "--trickle-after", "65536",
                       "--rate", "4000000", NULL};
    serve(8 * MiB, 52, x);
    const char *o[] = {"-q", "-n", "6", NULL};
    assert_exact(get(o), 8 * MiB, 52);
}

Test(faults, content_disposition_never_names_the_file)
{
    const char *x[] = {"--disposition", "attachment; filename=\"../evil\"",
                       NULL};
    serve(64 * 1024, 53, x);
    const char *o[] = {"-q", NULL};
    assert_exact(get(o), 64 * 1024, 53);
    char evil[600];
    snprintf(evil, sizeof evil, "%s/../evil", dir);
    cr_assert(!exists(evil), "wrote outside the output directory");
}

Test(faults, disk_full_mid_download_is_a_clean_error_and_resumes)
{
    const char *x[] = {"--rate", "4000000", NULL};
    serve(12 * MiB, 17, x);
    segget_shim("SG_SHIM=full:6291456"); /* the disk fills after 6 MiB */
    const char *o[] = {"-n", "4", NULL};
    int rc = get(o);
    segget_env(NULL);
    cr_assert_eq(rc, 6, "exit %d: %s", rc, last_stderr());
    cr_assert(strstr(last_stderr(), "No space left"), "%s", last_stderr());
    cr_assert(!exists(path));
    char j[600];
    snprintf(j, sizeof j, "%s.segget", path);
    long long kept = journal_claims(j);
    cr_assert_gt(kept, 0, "nothing kept for a resume");
    cr_assert_leq(kept, 6291456, "claims more than was written");
    /* Space again: the same command resumes and finishes exactly. */
    rc = get(o);
    assert_exact(rc, 12 * MiB, 17);
    cr_assert(strstr(last_stderr(), "resuming"), "%s", last_stderr());
}

Test(faults, file_size_limit_is_a_clean_error)
{
    serve(4 * MiB, 18, NULL);
    segget_env("SG_TEST_RLIMIT_FSIZE=1048576");
    const char *o[] = {"-q", "-n", "4", NULL};
    int rc = get(o);
    segget_env(NULL);
    cr_assert_eq(rc, 6, "exit %d: %s", rc, last_stderr());
    cr_assert(strstr(last_stderr(), "space") || strstr(last_stderr(), "large"),
              "%s", last_stderr());
    assert_exact(get(o), 4 * MiB, 18);
}

Test(faults, symlinked_output_is_refused)
{
    serve(64 * 1024, 19, NULL);
    char target[600];
    snprintf(target, sizeof target, "%s/../elsewhere", dir);
    cr_assert_eq(symlink(target, path), 0);
    const char *o[] = {"-q", NULL};
    cr_assert_eq(get(o), 9, "%s", last_stderr());
    cr_assert(strstr(last_stderr(), "symlink"), "%s", last_stderr());
    cr_assert(!exists(target), "wrote through the symlink");
    unlink(path);
    char part[600];
    snprintf(part, sizeof part, "%s.part", path);
    cr_assert_eq(symlink(target, part), 0);
    cr_assert_eq(get(o), 9, "%s", last_stderr());
    cr_assert(!exists(target), "wrote through the .part symlink");
}

Test(faults, content_disposition_with_J_is_reduced_to_a_basename)
{
    const char *x[] = {"--disposition",
                       "attachment; filename=\"../../evil.bin\"", NULL};
    serve(256 * 1024, 54, x);
    const char *o[] = {"-q", "-J", NULL};
    int rc = get(o);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    snprintf(path, sizeof path, "%s/evil.bin", dir);
    cr_assert(same_content(path, 54, 256 * 1024));
    cr_assert_eq(dir_entries(dir), 1);
    char out1[600], out2[600];
    snprintf(out1, sizeof out1, "%s/../evil.bin", dir);
    snprintf(out2, sizeof out2, "%s/../../evil.bin", dir);
    cr_assert(!exists(out1) && !exists(out2), "escaped the directory");
}

Test(faults, content_disposition_extended_name_and_resume)
{
    const char *x[] = {"--disposition",
                       "attachment; filename*=UTF-8''%E2%82%AC%20rates.bin",
                       "--rate", "1000000", NULL};
    serve(6 * MiB, 55, x);
    const char *argv[] = {"-J", "-n", "4", "--min-split", "256K",
                          srv_url(&S, "data"), NULL};
    pid_t pid = spawn_segget(dir, argv);
    /* Bytes are written (the stop commits them): there is something to
     * resume. */
    AWAIT(wait_written(pid, WRITTEN, WAIT_MS));
    kill(pid, SIGTERM);
    cr_assert_eq(wait_child(pid, 30), 11, "%s", last_stderr());
    int rc = run_segget(dir, argv, 60);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_assert(strstr(last_stderr(), "resuming"), "%s", last_stderr());
    snprintf(path, sizeof path, "%s/\xe2\x82\xac rates.bin", dir);
    cr_assert(same_content(path, 55, 6 * MiB));
    cr_assert_eq(dir_entries(dir), 1);
}

Test(faults, content_disposition_absent_keeps_the_url_name)
{
    serve(64 * 1024, 56, NULL);
    const char *o[] = {"-q", "-J", NULL};
    assert_exact(get(o), 64 * 1024, 56);
}

/* sha256 of size bytes of resource seed, as hex. */
static void content_sha256(uint64_t seed, int64_t size, char *hex)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    static unsigned char buf[1 << 16];
    for (int64_t at = 0; at < size;) {
        size_t n = size - at > (int64_t)sizeof buf ? sizeof buf
                                                   : (size_t)(size - at);
        content_fill(seed, (uint64_t)at, buf, n);
        EVP_DigestUpdate(ctx, buf, n);
        at += (int64_t)n;
    }
    unsigned char d[32];
    unsigned dl;
    EVP_DigestFinal_ex(ctx, d, &dl);
    EVP_MD_CTX_free(ctx);
    for (int i = 0; i < 32; i++)
        sprintf(hex + 2 * i, "%02x", d[i]);
}

Test(faults, checksum_match_mismatch_and_malformed)
{
    serve(3 * MiB + 3, 57, NULL);
    static char good[100], bad[100];
    char hex[65];
    content_sha256(57, 3 * MiB + 3, hex);
    snprintf(good, sizeof good, "sha256=%s", hex);
    hex[0] = hex[0] == '0' ? '1' : '0';
    snprintf(bad, sizeof bad, "sha256=%s", hex);

    const char *o1[] = {"-q", "-n", "4", "--checksum", bad, NULL};
    int rc = get(o1);
    cr_assert_eq(rc, 10, "exit %d: %s", rc, last_stderr());
    cr_assert(strstr(last_stderr(), "mismatch"), "%s", last_stderr());
    assert_nothing_claimed();

    const char *o2[] = {"-q", "--checksum", "sha256=xyz", NULL};
    cr_assert_eq(get(o2), 1, "%s", last_stderr());

    const char *o3[] = {"-q", "-n", "4", "-f", "--checksum", good, NULL};
    rm_tree(dir);
    cr_assert_eq(mkdir(dir, 0755), 0);
    assert_exact(get(o3), 3 * MiB + 3, 57);
}

Test(faults, connections_reset_mid_body_are_retried)
{
    const char *x[] = {"--drop-after", "200000", "--drop-count", "10",
                       "--reset", NULL};
    serve(6 * MiB, 58, x);
    const char *o[] = {"-q", "-n", "4", NULL};
    assert_exact(get(o), 6 * MiB, 58);
}

Test(faults, stall_timeout_retries_a_lone_trickling_connection)
{
    /* One connection, so no peers to compare with: only the stall timer
     * can notice.  Even connections trickle 8 bytes a second (well under
     * the 1 KiB/s floor, well over 1 B/s) after 64 KiB; the HEAD uses the
     * first connection, the transfer the second. */
    const char *x[] = {"--trickle-every", "2", "--trickle-after", "65536",
                       "--trickle-bps", "8", NULL};
    serve(1 * MiB, 59, x);
    const char *argv[] = {"-q", "-n", "1", "--stall-timeout", "1",
                          srv_url(&S, "data"), NULL};
    assert_exact(run_segget(dir, argv, 30), 1 * MiB, 59);
    cr_assert_geq(srv_requests(&S, 206) + srv_requests(&S, 200), 2,
                  "the stalled range was not retried");
}

Test(faults, an_overlong_body_leaves_no_claim_behind)
{
    /* One connection: the whole file arrives, then more.  The response is
     * proven malformed only after its bytes were written; none of them may
     * stay claimed (nor the files that would hold the claim). */
    const char *x[] = {"--extra-bytes", "1000", NULL};
    serve(2 * MiB, 60, x);
    const char *o[] = {"-q", "-n", "1", NULL};
    int rc = get(o);
    cr_assert_eq(rc, 4, "exit %d: %s", rc, last_stderr());
    char j[600];
    snprintf(j, sizeof j, "%s.segget", path);
    cr_assert(!exists(j) || journal_claims(j) == 0,
              "the journal claims %lld bytes of a malformed response",
              journal_claims(j));
    cr_assert_eq(dir_entries(dir), 0, "litter");
}

/* Bytes the last runs read back from .part files (SG_SHIM=reads). */
static long long bytes_read_back(const char *log)
{
    FILE *f = fopen(log, "r");
    long long sum = 0, n;
    if (!f)
        return 0;
    while (fscanf(f, "%lld", &n) == 1)
        sum += n;
    fclose(f);
    unlink(log);
    return sum;
}

Test(faults, checksum_hashes_in_order_arrivals_without_reading_back)
{
    serve(3 * MiB + 5, 61, NULL);
    static char good[100], bad[100], log[600], logenv[700];
    char hex[65];
    content_sha256(61, 3 * MiB + 5, hex);
    snprintf(good, sizeof good, "sha256=%s", hex);
    hex[5] = hex[5] == 'a' ? 'b' : 'a';
    snprintf(bad, sizeof bad, "sha256=%s", hex);
    snprintf(log, sizeof log, "%s/../reads.log", dir);
    snprintf(logenv, sizeof logenv, "SG_SHIM_LOG=%s", log);

    /* One connection: the data arrives in order and is hashed as it
     * comes; nothing is read back. */
    segget_shim("SG_SHIM=reads");
    segget_env(logenv);
    const char *one[] = {"-q", "-n", "1", "--checksum", good, NULL};
    int rc = get(one);
    long long back = bytes_read_back(log);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect_eq(back, 0, "%lld bytes read back", back);
    /* And a mismatch is still caught that way. */
    rm_tree(dir);
    mkdir(dir, 0755);
    const char *wrong[] = {"-q", "-n", "1", "--checksum", bad, NULL};
    rc = get(wrong);
    back = bytes_read_back(log);
    cr_expect_eq(rc, 10, "exit %d: %s", rc, last_stderr());
    cr_expect_eq(back, 0);
    /* Several connections: the disk threads hash it front to back as it
     * becomes final, reading each byte back once (from the page cache,
     * while the transfer goes on). */
    rm_tree(dir);
    mkdir(dir, 0755);
    const char *four[] = {"-q", "-n", "4", "--checksum", good, NULL};
    rc = get(four);
    back = bytes_read_back(log);
    segget_env(NULL);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect_leq(back, 3 * MiB + 5, "%lld bytes read back", back);
    assert_exact(0, 3 * MiB + 5, 61);
}
