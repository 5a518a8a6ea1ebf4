/* SPDX-License-Identifier: MIT */
/*
 * Reruns that just work:
 *
 *   a_*  a partial download continues from another URL of the same
 *        resource (a new signature, another host), and only then: another
 *        size or validator starts over, another --range is another
 *        download; the old URL's credentials never reach the new one;
 *   b_*  the same command after success finds the file complete with one
 *        HEAD (its origin is in extended attributes), says when it
 *        changed on the server, and refuses as before without a record;
 *   c_*  -P makes a missing directory and its parents.
 *
 * The fault server serves its one resource on every path and, with
 * --log-conditions, logs each request's path and whether it carried
 * Authorization.  Nothing sleeps to synchronise: a test waits for bytes
 * written, a journal's contents or a child's end.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "content.h"
#include "harness.h"
#include "wait.h"

#define KiB (INT64_C(1) << 10)
#define MiB (INT64_C(1) << 20)

static srv S, M;
static const char *dir;
static char qpath[600], jsonpath[600];
static pid_t child;

static void up(void)
{
    memset(&S, 0, sizeof S);
    memset(&M, 0, sizeof M);
    child = 0;
    dir = tmp_dir();
    snprintf(qpath, sizeof qpath, "%s/../queue.txt", dir);
    snprintf(jsonpath, sizeof jsonpath, "%s/../events.json", dir);
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
    segget_stdout(NULL);
    stop(&S);
    stop(&M);
    tmp_cleanup();
}

TestSuite(rerun, .init = up, .fini = down, .timeout = 180);

/* --- helpers --- */

static const char *in_dir(const char *name)
{
    static char buf[4][700];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

/* The fault server s with "--size size --seed seed --log-conditions" and
 * more. */
static void fault(srv *s, int64_t size, uint64_t seed,
                  const char *const *more)
{
    static char sz[2][32], sd[2][32];
    static int k;
    k ^= 1;
    snprintf(sz[k], sizeof sz[k], "%lld", (long long)size);
    snprintf(sd[k], sizeof sd[k], "%llu", (unsigned long long)seed);
    const char *args[40] = {"--size", sz[k], "--seed", sd[k],
                            "--log-conditions"};
    int n = 5;
    for (int i = 0; more && more[i] && n < 38; i++)
        args[n++] = more[i];
    args[n] = NULL;
    fsrv_start(s, args);
}

/* url of s for path into buf ("http://127.0.0.1:PORT/path"). */
static char *url_of(char *buf, size_t cap, const srv *s, const char *path)
{
    snprintf(buf, cap, "%s", srv_url(s, path));
    return buf;
}

static int run(const char *const *argv)
{
    return run_segget(dir, argv, 120);
}

/* Start segget, wait until it wrote bytes of data, stop it with SIGTERM:
 * it checkpoints and exits 11. */
static void interrupt(const char *const *argv, long long bytes)
{
    child = spawn_segget(dir, argv);
    AWAIT(wait_written(child, bytes, WAIT_MS));
    kill(child, SIGTERM);
    int rc = wait_child(child, 60);
    child = 0;
    cr_assert_eq(rc, 11, "exit %d: %s", rc, last_stderr());
}

/* A text column of the journal's download row, or "" when unreadable. */
static const char *journal_text(const char *jpath, const char *column)
{
    static char out[2048];
    char sql[128];
    sqlite3 *db = NULL;
    sqlite3_stmt *st;
    out[0] = '\0';
    snprintf(sql, sizeof sql, "SELECT %s FROM download", column);
    if (exists(jpath) &&
        sqlite3_open_v2(jpath, &db, SQLITE_OPEN_READONLY, NULL) ==
            SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
            snprintf(out, sizeof out, "%s",
                     (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return out;
}

struct jurl {
    const char *jpath, *url;
};

static int journal_names(const void *arg)
{
    const struct jurl *j = arg;
    return strcmp(journal_text(j->jpath, "url"), j->url) == 0;
}

/* The byte ranges [start, done) a journal claims. */
struct claims {
    int n;
    long long start[256], done[256];
};

static void read_claims(const char *jpath, struct claims *c)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st;
    c->n = 0;
    cr_assert_eq(sqlite3_open_v2(jpath, &db, SQLITE_OPEN_READONLY, NULL),
                 SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT start, done FROM segment",
                                    -1, &st, NULL),
                 SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW && c->n < 256) {
        c->start[c->n] = sqlite3_column_int64(st, 0);
        c->done[c->n] = sqlite3_column_int64(st, 1);
        c->n++;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static long long claimed(const struct claims *c)
{
    long long sum = 0;
    for (int i = 0; i < c->n; i++)
        sum += c->done[i] - c->start[i];
    return sum;
}

/* The value of field key ("path=") of a fault server log line. */
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

/* Every request in s's log went to path without credentials, every GET
 * asked for a range, and none of those ranges overlaps a byte c claims
 * but one: the sample of the kept data, up to 64 KiB, that a download
 * continued from another URL compares.  Returns the requests seen. */
static int only_missing_ranges(const srv *s, const char *path,
                               const struct claims *c)
{
    FILE *f = fopen(srv_log_path(s), "r");
    cr_assert_not_null(f);
    char line[4096], method[16], range[128], p[2048], au[8], pa[8];
    int status, n = 0, samples = 0;
    long long sent;
    while (fgets(line, sizeof line, f)) {
        cr_assert_eq(sscanf(line, "%d %lld %15s %127s", &status, &sent,
                            method, range),
                     4, "%s", line);
        cr_assert(field(line, " path=", p, sizeof p), "%s", line);
        cr_assert(field(line, " au=", au, sizeof au), "%s", line);
        cr_assert(field(line, " pa=", pa, sizeof pa), "%s", line);
        cr_expect_str_eq(p, path, "%s", line);
        cr_expect_str_eq(au, "no", "credentials sent: %s", line);
        cr_expect_str_eq(pa, "no", "credentials sent: %s", line);
        n++;
        if (strcmp(method, "GET") != 0)
            continue;
        long long a, b;
        cr_assert_eq(sscanf(range, "bytes=%lld-%lld", &a, &b), 2,
                     "a GET without a closed range: %s", line);
        for (int i = 0; c && i < c->n; i++) {
            if (b < c->start[i] || a >= c->done[i])
                continue;
            /* The sample: inside what is kept, at most 64 KiB. */
            cr_expect(a >= c->start[i] && b < c->done[i] &&
                          b - a + 1 <= 64 * 1024 && samples++ == 0,
                      "asked again for bytes already on disk "
                      "[%lld, %lld): %s",
                      c->start[i], c->done[i], line);
        }
    }
    fclose(f);
    if (c && claimed(c) > 0)
        cr_expect_eq(samples, 1, "no sample of the data kept was asked");
    return n;
}

/* Lines in s's log whose method is method. */
static int logged(const srv *s, const char *method)
{
    FILE *f = fopen(srv_log_path(s), "r");
    if (!f)
        return 0;
    char line[4096], m[16];
    int n = 0, status;
    long long sent;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%d %lld %15s", &status, &sent, m) == 3 &&
            strcmp(m, method) == 0)
            n++;
    fclose(f);
    return n;
}

/* 1 when the file at path holds bytes [off, off + len) of seed. */
static int same_slice(const char *path, uint64_t seed, int64_t off,
                      int64_t len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    static unsigned char got[1 << 16], want[1 << 16];
    int64_t at = 0;
    int same = 1;
    while (same) {
        size_t n = fread(got, 1, sizeof got, f);
        if (n == 0)
            break;
        content_fill(seed, (uint64_t)(off + at), want, n);
        same = memcmp(got, want, n) == 0;
        at += (int64_t)n;
    }
    fclose(f);
    return same && at == len;
}

/* Can files in the download directory carry user attributes? */
static int xattrs_here(void)
{
    const char *p = in_dir(".xattr-probe");
    int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    cr_assert_geq(fd, 0);
    int ok = fsetxattr(fd, "user.sg-test", "1", 1, 0) == 0;
    close(fd);
    unlink(p);
    return ok;
}

#define NEED_XATTRS()                                                    \
    do {                                                                 \
        if (!xattrs_here())                                              \
            cr_skip_test("%s keeps no user extended attributes: the "    \
                         "rerun shortcut cannot be tested here",         \
                         dir);                                           \
    } while (0)

/* The attribute name of path, or NULL (static buffer). */
static const char *attr(const char *path, const char *name)
{
    static char v[4096];
    ssize_t n = getxattr(path, name, v, sizeof v - 1);
    if (n < 0)
        return NULL;
    v[n] = '\0';
    return v;
}

static void strip_attrs(const char *path)
{
    const char *names[] = {"user.xdg.origin.url", "user.segget.size",
                           "user.segget.etag", "user.segget.last_modified",
                           "user.segget.range"};
    for (int i = 0; i < 5; i++)
        (void)removexattr(path, names[i]);
}

/* --- A: the same resource from another URL --- */

#define A_SIZE (8 * MiB)
/* segget -n 2 --min-split 256K -o data [a b] url */
#define A_RUN(url) {"-n", "2", "--min-split", "256K", "-o", "data", url, NULL}
#define A_RUN2(url, a, b)                                                \
    {"-n", "2", "--min-split", "256K", "-o", "data", a, b, url, NULL}

Test(rerun, a_partial_continues_from_a_new_url_on_the_same_server)
{
    const char *x[] = {"--rate", "1000000", NULL};
    fault(&S, A_SIZE, 21, x);
    char a[256], b[256];
    url_of(a, sizeof a, &S, "a");
    url_of(b, sizeof b, &S, "b?sig=new");
    const char *first[] = A_RUN(a);
    interrupt(first, 256 * 1024);
    const char *jp = in_dir("data.segget");
    cr_assert_str_eq(journal_text(jp, "url"), a);
    struct claims c;
    read_claims(jp, &c);
    cr_assert_gt(claimed(&c), 0, "nothing to resume");
    wait_srv_idle(&S, WAIT_MS);
    srv_log_reset(&S);

    /* The new URL: the journal names it once the probe found the same
     * resource, and only the missing bytes are asked for. */
    const char *second[] = A_RUN(b);
    child = spawn_segget(dir, second);
    struct jurl j = {jp, b};
    AWAIT(wait_until(journal_names, &j, child, WAIT_MS,
                     "the journal naming the new URL"));
    int rc = wait_child(child, 120);
    child = 0;
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect(strstr(last_stderr(), "resuming from the new URL"), "%s",
              last_stderr());
    cr_assert(same_content(in_dir("data"), 21, A_SIZE), "wrong bytes");
    cr_expect_eq(dir_entries(dir), 1, "leftovers");
    wait_srv_idle(&S, WAIT_MS);
    cr_expect_gt(only_missing_ranges(&S, "/b?sig=new", &c), 1);
    int64_t sent = srv_bytes_sent(&S);
    cr_expect_geq(sent, A_SIZE - claimed(&c));
    cr_expect_leq(sent, A_SIZE - claimed(&c) + A_SIZE / 10,
                  "sent %lld for %lld missing", (long long)sent,
                  (long long)(A_SIZE - claimed(&c)));
}

Test(rerun, a_partial_continues_on_another_host_without_the_old_credentials)
{
    const char *x[] = {"--rate", "1000000", NULL};
    fault(&S, A_SIZE, 22, x);
    fault(&M, A_SIZE, 22, NULL); /* the same resource, another origin */
    char a[256], b[256];
    snprintf(a, sizeof a, "http://user:secret@127.0.0.1:%d/a?token=old",
             S.port);
    url_of(b, sizeof b, &M, "b?sig=new");
    const char *first[] = A_RUN(a);
    interrupt(first, 256 * 1024);
    wait_srv_idle(&S, WAIT_MS);
    cr_assert(file_has_line(srv_log_path(&S), " au=yes"),
              "the first URL's credentials were never sent: the test "
              "proves nothing");
    const char *jp = in_dir("data.segget");
    cr_expect_null(strstr(journal_text(jp, "url"), "secret"),
                   "a password in the journal");
    struct claims c;
    read_claims(jp, &c);
    srv_log_reset(&S);

    const char *second[] = A_RUN(b);
    int rc = run(second);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect(strstr(last_stderr(), "resuming from the new URL"), "%s",
              last_stderr());
    cr_assert(same_content(in_dir("data"), 22, A_SIZE), "wrong bytes");
    /* Nothing of the old URL is used: no request to it, and no
     * credential or token at the new one. */
    wait_srv_idle(&S, WAIT_MS);
    cr_expect_eq(srv_requests(&S, 0), 0, "the old URL was asked again");
    wait_srv_idle(&M, WAIT_MS);
    cr_expect_gt(only_missing_ranges(&M, "/b?sig=new", &c), 1);
    cr_expect_null(strstr(last_stderr(), "secret"), "%s", last_stderr());
}

/* A partial download from S (seed 23) continued from M, which serves
 * what its arguments say. */
static void a_partial_then_other(const char *const *margs, uint64_t mseed,
                                 int64_t msize, const char *why)
{
    const char *x[] = {"--rate", "1000000", NULL};
    fault(&S, A_SIZE, 23, x);
    fault(&M, msize, mseed, margs);
    char a[256], b[256];
    url_of(a, sizeof a, &S, "a");
    url_of(b, sizeof b, &M, "b?sig=new");
    const char *first[] = A_RUN(a);
    interrupt(first, 256 * 1024);
    /* --fail-if-changed keeps the partial data. */
    const char *keep[] = A_RUN2(b, "--fail-if-changed", "-q");
    int rc = run(keep);
    cr_assert_eq(rc, 5, "exit %d: %s", rc, last_stderr());
    cr_expect(strstr(last_stderr(), why), "%s", last_stderr());
    cr_expect(exists(in_dir("data.part")) && exists(in_dir("data.segget")));
    cr_expect_str_eq(journal_text(in_dir("data.segget"), "url"), a);
    /* Without it, the download starts over from M. */
    const char *again[] = A_RUN(b);
    rc = run(again);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect(strstr(last_stderr(), "cannot resume from the new URL"),
              "%s", last_stderr());
    cr_expect(strstr(last_stderr(), why), "%s", last_stderr());
    cr_assert(same_content(in_dir("data"), mseed, msize), "wrong bytes");
    cr_expect_eq(dir_entries(dir), 1, "leftovers");
}

Test(rerun, a_another_etag_at_the_new_url_starts_over)
{
    /* The same bytes under another strong ETag: nothing proves them the
     * same, so nothing is kept. */
    const char *x[] = {"--etag", "\"other\"", NULL};
    a_partial_then_other(x, 23, A_SIZE, "the remote file changed");
}

Test(rerun, a_another_size_at_the_new_url_starts_over)
{
    a_partial_then_other(NULL, 24, A_SIZE + 1, "the remote size changed");
}

Test(rerun, a_another_range_is_another_download)
{
    const char *x[] = {"--rate", "1000000", NULL};
    fault(&S, A_SIZE, 25, x);
    char a[256], b[256];
    url_of(a, sizeof a, &S, "a");
    url_of(b, sizeof b, &S, "b?sig=new");
    const char *first[] = A_RUN2(a, "--range", "1000000-7000000");
    interrupt(first, 256 * 1024);
    const char *other[] = A_RUN2(b, "--range", "0-7000000");
    int rc = run(other);
    cr_assert_eq(rc, 7, "exit %d: %s", rc, last_stderr());
    cr_expect(strstr(last_stderr(), "belongs to another download"), "%s",
              last_stderr());
    const char *same[] = A_RUN2(b, "--range", "1000000-7000000");
    rc = run(same);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect(strstr(last_stderr(), "resuming from the new URL"), "%s",
              last_stderr());
    cr_assert(same_slice(in_dir("data"), 25, 1000000, 6000001),
              "wrong bytes");
}

Test(rerun, a_same_validator_but_other_bytes_is_caught_by_the_sample)
{
    /* nginx's ETag is mtime and size: two files of one size and mtime
     * share it, and Last-Modified too. */
    srv_start(&S, "limit_rate 1m;");
    char g[512], f[512];
    snprintf(g, sizeof g, "%s", srv_file(&S, "g.bin", A_SIZE, 51));
    snprintf(f, sizeof f, "%s", srv_file(&S, "f.bin", A_SIZE, 52));
    struct timespec when[2] = {{1700000000, 0}, {1700000000, 0}};
    cr_assert_eq(utimensat(AT_FDCWD, g, when, 0), 0);
    cr_assert_eq(utimensat(AT_FDCWD, f, when, 0), 0);
    char ug[256], uf[256];
    url_of(ug, sizeof ug, &S, "g.bin");
    url_of(uf, sizeof uf, &S, "f.bin");
    const char *first[] = A_RUN(ug);
    interrupt(first, 256 * 1024);
    const char *keep[] = A_RUN2(uf, "--fail-if-changed", "-q");
    int rc = run(keep);
    cr_assert_eq(rc, 5, "exit %d: %s", rc, last_stderr());
    cr_expect(strstr(last_stderr(), "serves other bytes"), "%s",
              last_stderr());
    cr_expect(exists(in_dir("data.part")) && exists(in_dir("data.segget")));
    const char *again[] = A_RUN(uf);
    rc = run(again);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect(strstr(last_stderr(), "serves other bytes than those on "
                                    "disk; starting over"),
              "%s", last_stderr());
    cr_assert(same_file(in_dir("data"), f), "a mix of two files");
    cr_expect_eq(dir_entries(dir), 1, "leftovers");
}

Test(rerun, a_verified_data_of_another_url_is_checked_then_named)
{
    fault(&S, 3 * MiB, 27, NULL);
    char a[256], b[256];
    url_of(a, sizeof a, &S, "a");
    url_of(b, sizeof b, &S, "b?sig=new");
    /* Verified, but the rename fails: the journal says so. */
    segget_shim("SG_SHIM=renamefail");
    const char *first[] = A_RUN(a);
    int rc = run(first);
    segget_env(NULL);
    cr_assert_eq(rc, 6, "exit %d: %s", rc, last_stderr());
    const char *jp = in_dir("data.segget");
    cr_assert_str_eq(journal_text(jp, "verified"), "1");
    struct claims c;
    read_claims(jp, &c);
    wait_srv_idle(&S, WAIT_MS);
    srv_log_reset(&S);
    /* Another URL: its probe and a sample, then the name. */
    const char *second[] = A_RUN(b);
    rc = run(second);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect(strstr(last_stderr(), "resuming from the new URL"), "%s",
              last_stderr());
    cr_assert(same_content(in_dir("data"), 27, 3 * MiB), "wrong bytes");
    cr_expect_eq(dir_entries(dir), 1, "leftovers");
    wait_srv_idle(&S, WAIT_MS);
    cr_expect_eq(only_missing_ranges(&S, "/b?sig=new", &c), 2,
                 "a HEAD and a sample");
    if (xattrs_here())
        cr_expect_str_eq(attr(in_dir("data"), "user.xdg.origin.url"), b);
}

static void write_queue(const char *url, const char *opts)
{
    FILE *f = fopen(qpath, "w");
    cr_assert_not_null(f);
    fprintf(f, "%s\n%s", url, opts);
    fclose(f);
}

Test(rerun, a_batch_entry_continues_from_a_new_url)
{
    const char *x[] = {"--rate", "2000000", NULL};
    fault(&S, A_SIZE, 26, x);
    char a[256], b[256];
    url_of(a, sizeof a, &S, "a");
    url_of(b, sizeof b, &S, "b?sig=new");
    write_queue(a, "  out=big.bin\n  n=2\n");
    const char *argv[] = {"-i", qpath, "--min-split", "256K", NULL};
    child = spawn_segget(dir, argv);
    /* Past the first GET's 512 KiB: the file's own download has its
     * journal and has committed more. */
    AWAIT(wait_committed(in_dir("big.bin"), 600 * 1024, child, WAIT_MS));
    kill(child, SIGTERM);
    int rc = wait_child(child, 60);
    child = 0;
    cr_assert_eq(rc, 11, "exit %d: %s", rc, last_stderr());
    const char *jp = in_dir("big.bin.segget");
    struct claims c;
    read_claims(jp, &c);
    wait_srv_idle(&S, WAIT_MS);
    srv_log_reset(&S);
    write_queue(b, "  out=big.bin\n  n=2\n");
    rc = run(argv);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect(strstr(last_stderr(), "big.bin: resuming from the new URL"),
              "%s", last_stderr());
    cr_assert(same_content(in_dir("big.bin"), 26, A_SIZE), "wrong bytes");
    wait_srv_idle(&S, WAIT_MS);
    cr_expect_gt(only_missing_ranges(&S, "/b?sig=new", &c), 1);
}

/* --- B: the same command after success --- */

static void b_complete_after_one_head(const char *const *more, int etag)
{
    fault(&S, 3 * MiB + 5, 31, more);
    char u[256];
    url_of(u, sizeof u, &S, "data");
    const char *get[] = {u, NULL};
    int rc = run(get);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    const char *p = in_dir("data");
    cr_expect_str_eq(attr(p, "user.xdg.origin.url"), u);
    cr_expect_str_eq(attr(p, "user.segget.size"), "3145733");
    if (etag)
        cr_expect_str_eq(attr(p, "user.segget.etag"), "\"sg-1\"");
    else
        cr_expect_null(attr(p, "user.segget.etag"));
    cr_expect_str_eq(attr(p, "user.segget.last_modified"),
                     "Sun, 01 Nov 2026 00:00:00 GMT");
    cr_expect_null(attr(p, "user.segget.range"));
    struct stat before, after;
    cr_assert_eq(stat(p, &before), 0);
    wait_srv_idle(&S, WAIT_MS);
    srv_log_reset(&S);

    rc = run(get);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect(strstr(last_stderr(), "data is already complete"), "%s",
              last_stderr());
    wait_srv_idle(&S, WAIT_MS);
    cr_expect_eq(srv_requests(&S, 0), 1, "one request");
    cr_expect_eq(logged(&S, "HEAD"), 1, "a HEAD, no body");
    cr_expect_eq(srv_bytes_sent(&S), 0);
    cr_assert_eq(stat(p, &after), 0);
    cr_expect(before.st_ino == after.st_ino &&
                  before.st_mtim.tv_sec == after.st_mtim.tv_sec &&
                  before.st_mtim.tv_nsec == after.st_mtim.tv_nsec,
              "the file was touched");
    cr_expect_eq(dir_entries(dir), 1, "leftovers");

    const char *quiet[] = {"-q", u, NULL};
    rc = run(quiet);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect_str_eq(last_stderr(), "", "-q printed something");

    segget_stdout(jsonpath);
    const char *json[] = {"--json", u, NULL};
    rc = run(json);
    segget_stdout(NULL);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect(file_has_line(jsonpath, "\"already_complete\":true"));
    /* Nothing was fetched, yet the size is the file's. */
    cr_expect(file_has_line(jsonpath, "\"size\":3145733,"));
    cr_expect(same_content(p, 31, 3 * MiB + 5));
}

Test(rerun, b_rerun_is_complete_after_one_head_with_etag)
{
    NEED_XATTRS();
    b_complete_after_one_head(NULL, 1);
}

Test(rerun, b_rerun_is_complete_after_one_head_with_last_modified_only)
{
    NEED_XATTRS();
    const char *x[] = {"--etag", "none", NULL};
    b_complete_after_one_head(x, 0);
}

Test(rerun, b_changed_on_the_server_is_refused_and_the_file_left_alone)
{
    NEED_XATTRS();
    /* After its first GET the resource is another (same size, new ETag
     * and Last-Modified). */
    const char *x[] = {"--change-after", "1", NULL};
    fault(&S, 3 * MiB, 32, x);
    char u[256];
    url_of(u, sizeof u, &S, "data");
    const char *get[] = {"-n", "1", u, NULL};
    int rc = run(get);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    wait_srv_idle(&S, WAIT_MS);
    srv_log_reset(&S);
    rc = run(get);
    cr_assert_eq(rc, 5, "exit %d: %s", rc, last_stderr());
    cr_expect(strstr(last_stderr(),
                     "data changed on the server since it was downloaded"),
              "%s", last_stderr());
    cr_expect(strstr(last_stderr(), "it is replaced only when forced"), "%s",
              last_stderr());
    cr_expect(same_content(in_dir("data"), 32, 3 * MiB), "file touched");
    cr_expect_eq(dir_entries(dir), 1, "leftovers");
    wait_srv_idle(&S, WAIT_MS);
    cr_expect_eq(srv_requests(&S, 0), 1, "one request");
    cr_expect_eq(logged(&S, "HEAD"), 1, "a HEAD, no body");
    /* --force still replaces it, with the new version. */
    const char *force[] = {"-f", "-n", "1", u, NULL};
    rc = run(force);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect(same_content(in_dir("data"), 32 + 1000, 3 * MiB));
    cr_expect_str_eq(attr(in_dir("data"), "user.segget.etag"),
                     "\"sg-changed\"");
}

static void copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    cr_assert(a && b);
    char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, a)) > 0)
        cr_assert_eq(fwrite(buf, 1, n, b), n);
    fclose(a);
    cr_assert_eq(fclose(b), 0);
}

Test(rerun, b_nginx_rerun_complete_then_changed_then_forced)
{
    NEED_XATTRS();
    srv_start(&S, "");
    srv_file(&S, "f.bin", 3 * MiB, 33);
    char u[256];
    url_of(u, sizeof u, &S, "f.bin");
    const char *get[] = {u, NULL};
    int rc = run(get);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    const char *p = in_dir("f.bin");
    char old[700];
    snprintf(old, sizeof old, "%s/../old.bin", dir);
    copy_file(p, old);
    cr_expect_not_null(attr(p, "user.segget.etag"), "nginx sends an ETag");
    cr_expect_not_null(attr(p, "user.segget.last_modified"));
    srv_log_reset(&S);
    rc = run(get);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect(strstr(last_stderr(), "f.bin is already complete"), "%s",
              last_stderr());
    wait_srv_idle(&S, WAIT_MS);
    cr_expect_eq(srv_requests(&S, 0), 1, "one request");
    cr_expect_eq(srv_bytes_sent(&S), 0, "a body was sent");

    /* The file changes on the server: other bytes, a later date. */
    const char *src = srv_file(&S, "f.bin", 3 * MiB, 34);
    struct timespec later[2] = {{0, UTIME_OMIT}, {time(NULL) + 60, 0}};
    cr_assert_eq(utimensat(AT_FDCWD, src, later, 0), 0);
    srv_log_reset(&S);
    rc = run(get);
    cr_assert_eq(rc, 5, "exit %d: %s", rc, last_stderr());
    cr_expect(strstr(last_stderr(), "changed on the server"), "%s",
              last_stderr());
    cr_expect(same_file(p, old), "file touched");
    cr_expect_eq(dir_entries(dir), 1, "leftovers");
    wait_srv_idle(&S, WAIT_MS);
    cr_expect_eq(srv_bytes_sent(&S), 0, "a body was sent");

    const char *force[] = {"--force", u, NULL};
    rc = run(force);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect(same_file(p, src));
    rc = run(get);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect(strstr(last_stderr(), "already complete"), "%s",
              last_stderr());
}

/* The hex SHA-256 of the file at path. */
static const char *sha256_of(const char *path)
{
    static char hex[65];
    unsigned char buf[1 << 16], md[32];
    unsigned int mdlen = 0;
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        EVP_DigestUpdate(c, buf, n);
    EVP_DigestFinal_ex(c, md, &mdlen);
    EVP_MD_CTX_free(c);
    fclose(f);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return hex;
}

Test(rerun, b_without_a_matching_record_the_old_refusal_stays)
{
    NEED_XATTRS();
    fault(&S, 1 * MiB, 35, NULL);
    char u[256], other[256];
    url_of(u, sizeof u, &S, "data");
    url_of(other, sizeof other, &S, "other");
    const char *get[] = {"-q", u, NULL};
    cr_assert_eq(run(get), 0, "%s", last_stderr());
    const char *p = in_dir("data");
    wait_srv_idle(&S, WAIT_MS);
    srv_log_reset(&S);

    /* Another URL for the same name. */
    const char *elsewhere[] = {"-q", "-o", "data", other, NULL};
    int rc = run(elsewhere);
    cr_expect_eq(rc, 9, "exit %d: %s", rc, last_stderr());
    cr_expect(strstr(last_stderr(), "data exists; it is replaced only when "
                                    "forced"),
              "%s", last_stderr());

    /* --checksum: the file must match it too; that needs no request. */
    char sum[80];
    snprintf(sum, sizeof sum, "sha256=%s", sha256_of(p));
    const char *good[] = {"-q", "--checksum", sum, u, NULL};
    rc = run(good);
    cr_expect_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    const char *bad[] = {"-q", "--checksum",
                         "sha256=00000000000000000000000000000000"
                         "00000000000000000000000000000000",
                         u, NULL};
    rc = run(bad);
    cr_expect_eq(rc, 10, "exit %d: %s", rc, last_stderr());
    cr_expect(strstr(last_stderr(), "does not match the checksum"), "%s",
              last_stderr());

    /* The file was written to since (here it grew): its record no
     * longer describes it. */
    FILE *f = fopen(p, "a");
    cr_assert_not_null(f);
    fputc('x', f);
    fclose(f);
    rc = run(get);
    cr_expect_eq(rc, 9, "exit %d: %s", rc, last_stderr());
    cr_expect(strstr(last_stderr(), "data exists; it is replaced only when "
                                    "forced"),
              "%s", last_stderr());

    /* No record at all. */
    strip_attrs(p);
    rc = run(get);
    cr_expect_eq(rc, 9, "exit %d: %s", rc, last_stderr());
    cr_expect(strstr(last_stderr(), "data exists; it is replaced only when "
                                    "forced"),
              "%s", last_stderr());
    wait_srv_idle(&S, WAIT_MS);
    /* Only the good checksum's rerun asked the server (one HEAD). */
    cr_expect_eq(srv_requests(&S, 0), 1, "requests for refusals");
    cr_expect_eq(logged(&S, "HEAD"), 1);
}

Test(rerun, b_a_server_without_validators_is_never_taken_at_its_word)
{
    NEED_XATTRS();
    const char *x[] = {"--etag", "none", "--lastmod", "none", NULL};
    fault(&S, 1 * MiB, 36, x);
    char u[256];
    url_of(u, sizeof u, &S, "data");
    const char *get[] = {"-q", u, NULL};
    cr_assert_eq(run(get), 0, "%s", last_stderr());
    cr_expect_not_null(attr(in_dir("data"), "user.xdg.origin.url"));
    wait_srv_idle(&S, WAIT_MS);
    srv_log_reset(&S);
    int rc = run(get);
    cr_expect_eq(rc, 9, "exit %d: %s", rc, last_stderr());
    cr_expect(strstr(last_stderr(), "no validator"), "%s", last_stderr());
    wait_srv_idle(&S, WAIT_MS);
    cr_expect_eq(srv_requests(&S, 0), 0, "a request for nothing");
}

Test(rerun, b_attributes_that_cannot_be_set_never_fail_a_download)
{
    fault(&S, 1 * MiB, 37, NULL);
    char u[256];
    url_of(u, sizeof u, &S, "data");
    const char *get[] = {u, NULL};
    /* A file system without user attributes: not a word about them. */
    segget_shim("SG_SHIM=noxattr");
    int rc = run(get);
    segget_env(NULL);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect_null(strstr(last_stderr(), "attributes"), "%s",
                   last_stderr());
    cr_expect_null(attr(in_dir("data"), "user.xdg.origin.url"));
    rc = run(get);
    cr_expect_eq(rc, 9, "exit %d: %s", rc, last_stderr());
    cr_expect(strstr(last_stderr(), "data exists; it is replaced only when forced"), "%s",
              last_stderr());
    /* Another failure (a URL too long for the file system): a notice. */
    const char *force[] = {"-f", u, NULL};
    segget_shim("SG_SHIM=xattrfull");
    rc = run(force);
    segget_env(NULL);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect(strstr(last_stderr(), "cannot record where"), "%s",
              last_stderr());
    cr_expect(same_content(in_dir("data"), 37, 1 * MiB));
}

Test(rerun, b_batch_files_carry_their_origin)
{
    /* With --min-split 1M, S's file is small (one GET, then the
     * committer) and M's large (its own download and journal). */
    fault(&S, 300 * KiB, 38, NULL);
    fault(&M, 3 * MiB, 39, NULL);
    char small[256], large[256];
    url_of(small, sizeof small, &S, "small");
    url_of(large, sizeof large, &M, "large");
    FILE *f = fopen(qpath, "w");
    cr_assert_not_null(f);
    fprintf(f, "%s\n  out=s.bin\n%s\n  out=l.bin\n", small, large);
    fclose(f);
    const char *argv[] = {"-q", "-i", qpath, "--min-split", "1M", NULL};
    int rc = run(argv);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect(same_content(in_dir("s.bin"), 38, 300 * KiB));
    cr_expect(same_content(in_dir("l.bin"), 39, 3 * MiB));
    /* The batch stays idempotent: no request at all. */
    wait_srv_idle(&S, WAIT_MS);
    wait_srv_idle(&M, WAIT_MS);
    srv_log_reset(&S);
    srv_log_reset(&M);
    rc = run(argv);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    wait_srv_idle(&S, WAIT_MS);
    wait_srv_idle(&M, WAIT_MS);
    cr_expect_eq(srv_requests(&S, 0) + srv_requests(&M, 0), 0);
    if (!xattrs_here()) {
        cr_log_warn("%s keeps no user extended attributes: their checks "
                    "are skipped", dir);
        return;
    }
    const char *names[] = {"s.bin", "l.bin"};
    const char *urls[] = {small, large};
    const char *sizes[] = {"307200", "3145728"};
    for (int i = 0; i < 2; i++) {
        const char *p = in_dir(names[i]);
        cr_expect_str_eq(attr(p, "user.xdg.origin.url"), urls[i], "%s",
                         names[i]);
        cr_expect_str_eq(attr(p, "user.segget.size"), sizes[i], "%s",
                         names[i]);
        cr_expect_str_eq(attr(p, "user.segget.etag"), "\"sg-1\"", "%s",
                         names[i]);
        cr_expect_str_eq(attr(p, "user.segget.last_modified"),
                         "Sun, 01 Nov 2026 00:00:00 GMT", "%s", names[i]);
    }
    /* A single download of the same URL to the same name knows it. */
    const char *single[] = {"-o", "s.bin", small, NULL};
    rc = run(single);
    cr_expect_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect(strstr(last_stderr(), "s.bin is already complete"), "%s",
              last_stderr());
}

/* --- C: -P makes its directory --- */

Test(rerun, c_dir_is_made_with_its_parents)
{
    fault(&S, 1 * MiB + 3, 41, NULL);
    char u[256];
    url_of(u, sizeof u, &S, "data");
    mode_t old = umask(027);
    const char *get[] = {"-q", "-P", "new/sub/dir", u, NULL};
    int rc = run(get);
    umask(old);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect(same_content(in_dir("new/sub/dir/data"), 41, 1 * MiB + 3));
    const char *made[] = {"new", "new/sub", "new/sub/dir"};
    for (int i = 0; i < 3; i++) {
        struct stat st;
        cr_assert_eq(stat(in_dir(made[i]), &st), 0);
        cr_expect(S_ISDIR(st.st_mode));
        cr_expect_eq(st.st_mode & 07777, 0750, "%s: mode %o", made[i],
                     (unsigned)(st.st_mode & 07777));
    }
    /* A component that is a file is an error that names it. */
    FILE *f = fopen(in_dir("plain"), "w");
    cr_assert_not_null(f);
    fclose(f);
    const char *through[] = {"-q", "-P", "plain/sub", u, NULL};
    rc = run(through);
    cr_expect_eq(rc, 1, "exit %d: %s", rc, last_stderr());
    cr_expect(strstr(last_stderr(), "'plain' exists and is not a directory"),
              "%s", last_stderr());
    const char *onto[] = {"-q", "-P", "new/sub/dir/data", u, NULL};
    rc = run(onto);
    cr_expect_eq(rc, 1, "exit %d: %s", rc, last_stderr());
    cr_expect(strstr(last_stderr(), "is not a directory"), "%s",
              last_stderr());
    /* A download that fails leaves no directory it made behind. */
    char missing[256];
    url_of(missing, sizeof missing, &S, "missing");
    const char *gone[] = {"-q", "-P", "other/a/b", missing, NULL};
    rc = run(gone);
    cr_expect_eq(rc, 3, "exit %d: %s", rc, last_stderr());
    cr_expect(!exists(in_dir("other")), "directories left behind");
    const char *inside[] = {"-q", "-P", "new/sub/x", missing, NULL};
    rc = run(inside);
    cr_expect_eq(rc, 3, "exit %d: %s", rc, last_stderr());
    cr_expect(!exists(in_dir("new/sub/x")), "directory left behind");
    cr_expect(exists(in_dir("new/sub/dir/data")));
    cr_expect_eq(dir_entries(dir), 2, "new and plain only");
}

Test(rerun, c_batch_dir_is_made_with_its_parents)
{
    fault(&S, 300 * KiB, 42, NULL);
    char u[256];
    url_of(u, sizeof u, &S, "data");
    write_queue(u, "  out=x/y.bin\n");
    const char *argv[] = {"-q", "-i", qpath, "-P", "newdir/sub", NULL};
    int rc = run(argv);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect(same_content(in_dir("newdir/sub/x/y.bin"), 42, 300 * KiB));
    cr_expect(exists(in_dir("newdir/sub/.segget-queue")));
    /* Run again: the file is found below -P (looked up relative to the
     * directory), not fetched again. */
    srv_log_reset(&S);
    rc = run(argv);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect_eq(srv_requests(&S, 0), 0, "the rerun made requests");
    cr_expect(same_content(in_dir("newdir/sub/x/y.bin"), 42, 300 * KiB));
    FILE *f = fopen(in_dir("plain"), "w");
    cr_assert_not_null(f);
    fclose(f);
    const char *through[] = {"-q", "-i", qpath, "-P", "plain/sub", NULL};
    rc = run(through);
    cr_expect_eq(rc, 1, "exit %d: %s", rc, last_stderr());
    cr_expect(strstr(last_stderr(), "'plain' exists and is not a directory"),
              "%s", last_stderr());
}

Test(rerun, b_a_file_written_to_since_is_not_taken_as_complete)
{
    /* cp onto NAME keeps its inode and attributes but not its bytes: a
     * rerun must not call it complete. */
    NEED_XATTRS();
    fault(&S, 1 * MiB, 33, NULL);
    char u[256];
    url_of(u, sizeof u, &S, "data");
    const char *get[] = {"-n", "2", u, NULL};
    int rc = run(get);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    /* Same size, other bytes, written in place. */
    FILE *f = fopen(in_dir("data"), "r+b");
    cr_assert_not_null(f);
    char zero[4096] = {0};
    for (int i = 0; i < 256; i++)
        cr_assert_eq(fwrite(zero, 1, sizeof zero, f), sizeof zero);
    fclose(f);
    rc = run(get);
    cr_expect_eq(rc, 9, "exit %d: %s", rc, last_stderr());
    cr_expect_null(strstr(last_stderr(), "already complete"), "%s",
                   last_stderr());
}
