/* SPDX-License-Identifier: MIT */
/*
 * --checksum and a queue's checksum= with every algorithm (md5, sha1,
 * sha256, sha512, crc32c), over one connection (hashed as the bytes
 * arrive) and several (read back), single download and batch.  The
 * expected digests are computed here independently: OpenSSL for the
 * digests, a bitwise CRC-32C for crc32c.
 */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "cases.h"
#include "content.h"
#include "harness.h"

#define MiB (INT64_C(1) << 20)

static srv S;
static const char *dir;
static char qpath[600];

static void up(void)
{
    memset(&S, 0, sizeof S);
    dir = tmp_dir();
    snprintf(qpath, sizeof qpath, "%s/../queue.txt", dir);
}

static void down(void)
{
    if (S.root[0])
        srv_stop(&S);
    memset(&S, 0, sizeof S);
    tmp_cleanup();
}

TestSuite(checksum, .init = up, .fini = down, .timeout = 120);

/* "ALGO=HEX" of size bytes of resource seed, in spec (cap bytes). */
static void digest_of(const char *algo, uint64_t seed, int64_t size,
                      char *spec, size_t cap)
{
    static unsigned char buf[1 << 16];
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dl = 0;
    EVP_MD_CTX *ctx = NULL;
    uint32_t crc = 0xFFFFFFFFu;
    int is_crc = strcmp(algo, "crc32c") == 0;
    if (!is_crc) {
        ctx = EVP_MD_CTX_new();
        cr_assert(ctx && EVP_DigestInit_ex(ctx, EVP_get_digestbyname(algo),
                                           NULL) == 1);
    }
    for (int64_t at = 0; at < size;) {
        size_t n = size - at > (int64_t)sizeof buf ? sizeof buf
                                                   : (size_t)(size - at);
        content_fill(seed, (uint64_t)at, buf, n);
        if (ctx)
            EVP_DigestUpdate(ctx, buf, n);
        for (size_t i = 0; is_crc && i < n; i++) {
            crc ^= buf[i];
            for (int k = 0; k < 8; k++)
                crc = crc & 1 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }
        at += (int64_t)n;
    }
    if (ctx) {
        EVP_DigestFinal_ex(ctx, d, &dl);
        EVP_MD_CTX_free(ctx);
    } else {
        crc ^= 0xFFFFFFFFu;
        for (int i = 0; i < 4; i++)
            d[i] = (unsigned char)(crc >> (24 - 8 * i));
        dl = 4;
    }
    size_t o = (size_t)snprintf(spec, cap, "%s=", algo);
    for (unsigned i = 0; i < dl && o + 2 < cap; i++, o += 2)
        snprintf(spec + o, cap - o, "%02x", d[i]);
}

/* The same spec with its last hex digit changed. */
static void spoil(char *spec)
{
    char *last = spec + strlen(spec) - 1;
    *last = *last == '0' ? '1' : '0';
}

static const char *const algos[] = {"md5", "sha1", "sha256", "sha512",
                                    "crc32c"};

Test(checksum, every_algorithm_single_over_1_and_4_connections)
{
    const int64_t size = 2 * MiB + 5;
    case_fault(&S, size, 90, NULL);
    for (size_t a = 0; a < sizeof algos / sizeof *algos; a++) {
        char good[200], bad[200];
        digest_of(algos[a], 90, size, good, sizeof good);
        snprintf(bad, sizeof bad, "%s", good);
        spoil(bad);
        for (int n = 1; n <= 4; n += 3) {
            char nn[8];
            snprintf(nn, sizeof nn, "%d", n);
            case_fresh_dir(dir);
            const char *o[] = {"-q", "-n", nn, "--checksum", good, NULL};
            int rc = case_single(dir, o, srv_url(&S, "data"), NULL, 60);
            cr_expect_eq(rc, 0, "%s, -n %d: exit %d: %s", algos[a], n, rc,
                         last_stderr());
            cr_expect(same_content(case_path(dir, "data"), 90, size));
            case_fresh_dir(dir);
            const char *w[] = {"-q", "-n", nn, "--checksum", bad, NULL};
            rc = case_single(dir, w, srv_url(&S, "data"), NULL, 60);
            cr_expect_eq(rc, 10, "%s, -n %d, wrong: exit %d: %s", algos[a],
                         n, rc, last_stderr());
            cr_expect(!exists(case_path(dir, "data")),
                      "%s: a file that failed its check was named",
                      algos[a]);
        }
    }
}

Test(checksum, every_algorithm_in_a_queue)
{
    /* A 3 MiB file per algorithm (its first GET, then several
     * connections), each checksum= right, and one wrong entry that fails
     * alone. */
    case_fault(&S, 3 * MiB, 91, NULL);
    char q[8192] = "", spec[200];
    for (size_t a = 0; a < sizeof algos / sizeof *algos; a++) {
        digest_of(algos[a], 91, 3 * MiB, spec, sizeof spec);
        *strchr(spec, '=') = ':';
        char path[32]; /* every path names the one resource */
        snprintf(path, sizeof path, "data-%s", algos[a]);
        case_line(q, sizeof q, "%s", srv_url(&S, path));
        case_line(q, sizeof q, "  out=big-%s", algos[a]);
        case_line(q, sizeof q, "  checksum=%s", spec);
    }
    digest_of("crc32c", 91, 3 * MiB, spec, sizeof spec);
    spoil(spec);
    *strchr(spec, '=') = ':';
    case_line(q, sizeof q, "%s", srv_url(&S, "data-wrong"));
    case_line(q, sizeof q, "  out=wrong");
    case_line(q, sizeof q, "  checksum=%s", spec);
    case_write(qpath, q);
    const char *o[] = {"-q", "-j", "3", NULL};
    int rc = case_batch(dir, qpath, o, 120);
    cr_expect_eq(rc, 10, "exit %d: %s", rc, last_stderr());
    for (size_t a = 0; a < sizeof algos / sizeof *algos; a++) {
        char name[32];
        snprintf(name, sizeof name, "big-%s", algos[a]);
        cr_expect(same_content(case_path(dir, name), 91, 3 * MiB), "%s",
                  name);
    }
    cr_expect(!exists(case_path(dir, "wrong")), "the wrong one was named");
}

/* Write a checksum list to dir/../SUMS; returns its path. */
static const char *sums_file(const char *text)
{
    static char path[600];
    snprintf(path, sizeof path, "%s/../SUMS", dir);
    case_write(path, text);
    return path;
}

/* "HEX" of "ALGO=HEX". */
static const char *hex_of(const char *spec)
{
    return strchr(spec, '=') + 1;
}

Test(checksum, a_list_names_the_file_single)
{
    const int64_t size = 2 * MiB + 7;
    case_fault(&S, size, 92, NULL);
    char s256[200], md5[200], list[1024];
    digest_of("sha256", 92, size, s256, sizeof s256);
    digest_of("md5", 92, size, md5, sizeof md5);
    /* GNU lines, binary mode, another file first. */
    snprintf(list, sizeof list, "%s  other.iso\n%s *data\n", hex_of(md5),
             hex_of(s256));
    const char *o[] = {"-q", "-n", "4", "--checksum-file", sums_file(list),
                       NULL};
    int rc = case_single(dir, o, srv_url(&S, "data"), NULL, 60);
    cr_expect_eq(rc, 0, "GNU list: exit %d: %s", rc, last_stderr());
    cr_expect(same_content(case_path(dir, "data"), 92, size));
    /* BSD lines inside a signature, as Fedora publishes them. */
    case_fresh_dir(dir);
    snprintf(list, sizeof list,
             "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n"
             "MD5 (data) = %s\n-----BEGIN PGP SIGNATURE-----\nxx\n"
             "-----END PGP SIGNATURE-----\n",
             hex_of(md5));
    const char *b[] = {"-q", "-n", "1", "--checksum-file", sums_file(list),
                       NULL};
    rc = case_single(dir, b, srv_url(&S, "data"), NULL, 60);
    cr_expect_eq(rc, 0, "BSD list: exit %d: %s", rc, last_stderr());
    /* A wrong entry: exit 10, nothing named. */
    case_fresh_dir(dir);
    spoil(s256);
    snprintf(list, sizeof list, "%s  data\n", hex_of(s256));
    const char *w[] = {"-q", "-n", "4", "--checksum-file", sums_file(list),
                       NULL};
    rc = case_single(dir, w, srv_url(&S, "data"), NULL, 60);
    cr_expect_eq(rc, 10, "wrong entry: exit %d: %s", rc, last_stderr());
    cr_expect(!exists(case_path(dir, "data")));
    /* Not listed, or with --checksum too: usage errors before anything
     * is fetched. */
    case_fresh_dir(dir);
    snprintf(list, sizeof list, "%s  other\n", hex_of(md5));
    const char *u[] = {"-q", "--checksum-file", sums_file(list), NULL};
    rc = case_single(dir, u, srv_url(&S, "data"), NULL, 60);
    cr_expect_eq(rc, 1, "unlisted: exit %d: %s", rc, last_stderr());
    cr_expect(strstr(last_stderr(), "data is not listed in"), "%s",
              last_stderr());
    const char *both[] = {"-q", "--checksum", md5, "--checksum-file",
                          sums_file(list), NULL};
    rc = case_single(dir, both, srv_url(&S, "data"), NULL, 60);
    cr_expect_eq(rc, 1, "both: exit %d: %s", rc, last_stderr());
    cr_expect_eq(dir_entries(dir), 0, "litter");
}

Test(checksum, a_list_names_the_file_the_server_names)
{
    /* -J: the name comes with the probe; the list is read for it. */
    const int64_t size = 1 * MiB;
    case_fault(&S, size, 93,
               (const char *[]){"--disposition",
                                "attachment; filename=\"named.bin\"", NULL});
    char s256[200], list[512];
    digest_of("sha256", 93, size, s256, sizeof s256);
    snprintf(list, sizeof list, "%s  named.bin\n", hex_of(s256));
    const char *o[] = {"-q", "-J", "--checksum-file", sums_file(list), NULL};
    int rc = case_single(dir, o, srv_url(&S, "data"), NULL, 60);
    cr_expect_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect(same_content(case_path(dir, "named.bin"), 93, size));
    case_fresh_dir(dir);
    spoil(s256);
    snprintf(list, sizeof list, "%s  named.bin\n", hex_of(s256));
    rc = case_single(dir, (const char *[]){"-q", "-J", "--checksum-file",
                                           sums_file(list), NULL},
                     srv_url(&S, "data"), NULL, 60);
    cr_expect_eq(rc, 10, "wrong: exit %d: %s", rc, last_stderr());
}

Test(checksum, a_list_names_every_entry_of_a_queue)
{
    const int64_t size = 300 * 1024;
    case_fault(&S, size, 94, NULL);
    char a[200], c[200], list[1024], q[1024] = "";
    digest_of("sha1", 94, size, a, sizeof a);
    digest_of("sha512", 94, size, c, sizeof c);
    snprintf(list, sizeof list, "%s  a.bin\n%s  ./sub/c.bin\n", hex_of(a),
             hex_of(c));
    case_line(q, sizeof q, "%s", srv_url(&S, "a.bin"));
    case_line(q, sizeof q, "%s", srv_url(&S, "c"));
    case_line(q, sizeof q, "  out=sub/c.bin");
    case_write(qpath, q);
    const char *o[] = {"-q", "--checksum-file", sums_file(list), NULL};
    int rc = case_batch(dir, qpath, o, 60);
    cr_expect_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect(same_content(case_path(dir, "a.bin"), 94, size));
    cr_expect(same_content(case_path(dir, "sub/c.bin"), 94, size));
    /* An entry the list lacks stops the queue before anything runs. */
    case_fresh_dir(dir);
    case_line(q, sizeof q, "%s", srv_url(&S, "d.bin"));
    case_write(qpath, q);
    rc = case_batch(dir, qpath, o, 60);
    cr_expect_eq(rc, 1, "exit %d: %s", rc, last_stderr());
    cr_expect(strstr(last_stderr(), "d.bin is not listed in"), "%s",
              last_stderr());
    cr_expect_eq(dir_entries(dir), 0, "something was fetched");
}
