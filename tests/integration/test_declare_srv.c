/* SPDX-License-Identifier: MIT */
/*
 * The fault server's declared checksums (--declare), which the tests of
 * segget's verification rely on: every kind's header lines on HEAD, 200
 * and 206, right and (--declare-wrong) wrong, only on the answers
 * --declare-on names, never on errors, following the version served.
 * The expected values are computed here, independently of the server and
 * of lib/: OpenSSL for the digests; bitwise CRC-32, CRC-32C, CRC-64/NVME
 * and Adler-32 and a Base64 encoder of its own, each first checked
 * against its published check values.  The headers are read from a raw
 * HTTP/1.1 exchange, exactly as sent.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "cases.h"
#include "content.h"
#include "harness.h"

#define MiB (INT64_C(1) << 20)

static srv S;

static void up(void)
{
    memset(&S, 0, sizeof S);
}

static void down(void)
{
    if (S.root[0])
        srv_stop(&S);
    memset(&S, 0, sizeof S);
}

TestSuite(declare_srv, .init = up, .fini = down, .timeout = 120);

static void restart(int64_t size, uint64_t seed, const char *const *more)
{
    down();
    case_fault(&S, size, seed, more);
}

/* --- References ------------------------------------------------------ */

/* A reflected CRC of width 32 or 64 with all-ones init and xorout. */
static uint64_t crc_bits(const unsigned char *p, size_t n, uint64_t poly,
                         int width)
{
    uint64_t mask = width == 64 ? ~UINT64_C(0) : (UINT64_C(1) << width) - 1;
    uint64_t c = mask;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ poly : c >> 1;
    }
    return c ^ mask;
}

#define CRC32 UINT64_C(0xEDB88320)
#define CRC32C UINT64_C(0x82F63B78)
#define CRC64NVME UINT64_C(0x9A6C9329AC4BC9B5)

static uint32_t adler(const unsigned char *p, size_t n)
{
    uint32_t a = 1, b = 0;
    for (size_t i = 0; i < n; i++) {
        a = (a + p[i]) % 65521;
        b = (b + a) % 65521;
    }
    return b << 16 | a;
}

/* RFC 4648 Base64 with padding of n bytes into out (4n/3 + 5). */
static char *b64(const unsigned char *p, size_t n, char *out)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
                              "qrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        out[o++] = abc[v >> 18 & 63];
        out[o++] = abc[v >> 12 & 63];
        out[o++] = i + 1 < n ? abc[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? abc[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

/* Base64 of v's low bytes, big-endian. */
static char *b64_be(uint64_t v, int bytes, char *out)
{
    unsigned char b[8];
    for (int i = 0; i < bytes; i++)
        b[i] = (unsigned char)(v >> (8 * (bytes - 1 - i)));
    return b64(b, (size_t)bytes, out);
}

static char *b64_md(const char *algo, const unsigned char *p, size_t n,
                    char *out)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dl = 0;
    cr_assert_eq(EVP_Digest(p, n, d, &dl, EVP_get_digestbyname(algo), NULL), 1);
    return b64(d, dl, out);
}

Test(declare_srv, the_references_give_their_check_values)
{
    const unsigned char *nine = (const unsigned char *)"123456789";
    cr_expect_eq(crc_bits(nine, 9, CRC32, 32), 0xCBF43926u);
    cr_expect_eq(crc_bits(nine, 9, CRC32C, 32), 0xE3069283u);
    cr_expect_eq(crc_bits(nine, 9, CRC64NVME, 64),
                 UINT64_C(0xAE8B14860A799888));
    cr_expect_eq(adler((const unsigned char *)"Wikipedia", 9), 0x11E60398u);
    char o[16];
    const char *const want[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t n = 0; n <= 6; n++)
        cr_expect_str_eq(b64((const unsigned char *)"foobar", n, o), want[n]);
    char m[32];
    cr_expect_str_eq(b64_md("md5", nine, 0, m), "1B2M2Y8AsgTpgAmY7PhCfg==");
}

/* --- What the server should say --------------------------------------- */

/* Every value, in Base64, of some bytes. */
struct vals {
    char md5[32], sha1[32], sha256[48], sha512[96];
    char crc32[12], crc32c[12], crc64[16], adler[12], composite[12];
};

static void vals_of(const unsigned char *p, size_t n, struct vals *v)
{
    b64_md("md5", p, n, v->md5);
    b64_md("sha1", p, n, v->sha1);
    b64_md("sha256", p, n, v->sha256);
    b64_md("sha512", p, n, v->sha512);
    b64_be(crc_bits(p, n, CRC32, 32), 4, v->crc32);
    b64_be(crc_bits(p, n, CRC32C, 32), 4, v->crc32c);
    b64_be(crc_bits(p, n, CRC64NVME, 64), 8, v->crc64);
    b64_be(adler(p, n), 4, v->adler);
    /* A multipart upload of 4 parts of ceil(n/4) bytes, the last
     * shorter: the CRC-32C of their CRC-32Cs, big-endian. */
    size_t part = (n + 3) / 4;
    unsigned char crcs[16];
    for (size_t k = 0; k < 4; k++) {
        size_t from = k * part < n ? k * part : n;
        size_t to = k == 3 || (k + 1) * part > n ? n : (k + 1) * part;
        uint64_t c = crc_bits(p + from, to - from, CRC32C, 32);
        for (int i = 0; i < 4; i++)
            crcs[4 * k + (size_t)i] = (unsigned char)(c >> (24 - 8 * i));
    }
    b64_be(crc_bits(crcs, 16, CRC32C, 32), 4, v->composite);
}

/* Bytes [from, from+len) of resource seed; with wrong, the first one
 * flipped (the empty content's other bytes: one 0xff).  *n: its length. */
static unsigned char *bytes_of(uint64_t seed, int64_t from, int64_t len,
                               int wrong, size_t *n)
{
    unsigned char *p = malloc((size_t)len + 1);
    cr_assert_not_null(p);
    content_fill(seed, (uint64_t)from, p, (size_t)len);
    *n = (size_t)len;
    if (wrong && len == 0) {
        p[0] = 0xff;
        *n = 1;
    } else if (wrong) {
        p[0] ^= 0xff;
    }
    return p;
}

static const char *const kinds[] = {
    "repr-sha256",   "repr-sha512",   "repr-both",     "repr-unknown",
    "digest-sha256", "digest-md5",    "digest-sha",    "content-md5",
    "amz-crc32",     "amz-crc32c",    "amz-crc64nvme", "amz-sha1",
    "amz-sha256",    "amz-composite", "goog",          "goog-split"};
#define NKINDS (sizeof kinds / sizeof *kinds)

/* Append the lines of kind (without the x-amz-checksum-type of the full
 * object ones; returns 1 for those) to out.  w: the whole content's
 * values, body: those of the body sent (Content-MD5). */
static int lines_of(const char *kind, const struct vals *w,
                    const struct vals *body, char *out, size_t cap)
{
    size_t l = strlen(out);
    char *o = out + l;
    size_t n = cap - l;
    if (!strcmp(kind, "repr-sha256"))
        snprintf(o, n, "Repr-Digest: sha-256=:%s:\r\n", w->sha256);
    else if (!strcmp(kind, "repr-sha512"))
        snprintf(o, n, "Repr-Digest: sha-512=:%s:\r\n", w->sha512);
    else if (!strcmp(kind, "repr-both"))
        snprintf(o, n, "Repr-Digest: sha-256=:%s:, sha-512=:%s:\r\n", w->sha256,
                 w->sha512);
    else if (!strcmp(kind, "repr-unknown"))
        snprintf(o, n, "Repr-Digest: adler=:%s:\r\n", w->adler);
    else if (!strcmp(kind, "digest-sha256"))
        snprintf(o, n, "Digest: SHA-256=%s\r\n", w->sha256);
    else if (!strcmp(kind, "digest-md5"))
        snprintf(o, n, "Digest: MD5=%s\r\n", w->md5);
    else if (!strcmp(kind, "digest-sha"))
        snprintf(o, n, "Digest: SHA=%s\r\n", w->sha1);
    else if (!strcmp(kind, "content-md5"))
        snprintf(o, n, "Content-MD5: %s\r\n", body->md5);
    else if (!strcmp(kind, "amz-composite"))
        snprintf(o, n,
                 "x-amz-checksum-crc32c: %s-4\r\n"
                 "x-amz-checksum-type: COMPOSITE\r\n",
                 w->composite);
    else if (!strcmp(kind, "goog"))
        snprintf(o, n, "x-goog-hash: crc32c=%s, md5=%s\r\n", w->crc32c, w->md5);
    else if (!strcmp(kind, "goog-split"))
        snprintf(o, n, "x-goog-hash: crc32c=%s\r\nx-goog-hash: md5=%s\r\n",
                 w->crc32c, w->md5);
    else {
        const char *v = !strcmp(kind, "amz-crc32")       ? w->crc32
                        : !strcmp(kind, "amz-crc32c")    ? w->crc32c
                        : !strcmp(kind, "amz-crc64nvme") ? w->crc64
                        : !strcmp(kind, "amz-sha1")      ? w->sha1
                                                         : w->sha256;
        snprintf(o, n, "x-amz-checksum-%s: %s\r\n", kind + 4, v);
        return 1;
    }
    return 0;
}

/* The declared lines a response should carry for a comma-separated list
 * of kinds, in its order, the full-object type last. */
static void expected(const char *list, const struct vals *w,
                     const struct vals *body, char *out, size_t cap)
{
    char copy[512];
    snprintf(copy, sizeof copy, "%s", list);
    int amz = 0;
    out[0] = '\0';
    for (char *save, *k = strtok_r(copy, ",", &save); k;
         k = strtok_r(NULL, ",", &save))
        amz |= lines_of(k, w, body, out, cap);
    if (amz)
        snprintf(out + strlen(out), cap - strlen(out),
                 "x-amz-checksum-type: FULL_OBJECT\r\n");
}

/* --- What the server says ------------------------------------------- */

/* Send "METHOD PATH" (with "Range: bytes=RANGE" unless range is NULL) on
 * a fresh connection and read the response's header block (a body is not
 * read: the connection is closed).  Returns the status. */
static int ask(const char *method, const char *path, const char *range,
               char *head, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct timeval tv = {20, 0};
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)S.port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    char req[512], rg[128] = "";
    if (range)
        snprintf(rg, sizeof rg, "Range: bytes=%s\r\n", range);
    int n = snprintf(req, sizeof req,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1"
                     "\r\n%s\r\n",
                     method, path, rg);
    cr_assert_eq(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
    size_t have = 0;
    char *end = NULL;
    while (!end && have < cap - 1) {
        ssize_t r = recv(fd, head + have, cap - 1 - have, 0);
        cr_assert_gt(r, 0, "%s %s: the response ended or stalled", method,
                     path);
        have += (size_t)r;
        head[have] = '\0';
        end = strstr(head, "\r\n\r\n");
    }
    close(fd);
    cr_assert_not_null(end, "no end of the header block");
    end[2] = '\0';
    int status = 0;
    cr_assert_eq(sscanf(head, "HTTP/1.1 %d", &status), 1, "%s", head);
    return status;
}

/* The lines of head that declare checksums, in their order. */
static void declared(const char *head, char *out, size_t cap)
{
    static const char *const names[] = {
        "Repr-Digest:", "Digest:", "Content-MD5:", "x-amz-checksum-",
        "x-goog-hash:"};
    out[0] = '\0';
    for (const char *l = strstr(head, "\r\n"); l && l[2];
         l = strstr(l + 2, "\r\n")) {
        const char *e = strstr(l + 2, "\r\n");
        for (size_t i = 0; e && i < sizeof names / sizeof *names; i++)
            if (strncasecmp(l + 2, names[i], strlen(names[i])) == 0)
                snprintf(out + strlen(out), cap - strlen(out), "%.*s",
                         (int)(e + 2 - (l + 2)), l + 2);
    }
}

/* Assert that method (with range) gets status and exactly the lines
 * want (none: ""). */
static void says(const char *what, const char *method, const char *range,
                 int status, const char *want)
{
    char head[8192], got[4096];
    int s = ask(method, "/data", range, head, sizeof head);
    cr_expect_eq(s, status, "%s, %s %s: status %d", what, method,
                 range ? range : "", s);
    declared(head, got, sizeof got);
    cr_expect_str_eq(got, want, "%s, %s %s:\n%s", what, method,
                     range ? range : "", head);
}

/* --- Tests ----------------------------------------------------------- */

/* Every kind alone over sizes that split into 4 parts unevenly, and the
 * empty resource, on HEAD, 200 and a 206. */
static void every_kind(int wrong)
{
    const int64_t sizes[] = {MiB + 3, 5, 0};
    for (size_t z = 0; z < 3; z++) {
        const int64_t size = sizes[z];
        const uint64_t seed = 60 + z;
        size_t n, pn;
        unsigned char *all = bytes_of(seed, 0, size, wrong, &n);
        int64_t a = size > 100 ? 1000 : 1, b = size > 100 ? 700000 : 3;
        unsigned char *part = bytes_of(seed, a, b - a + 1, wrong, &pn);
        struct vals w, pv, right;
        vals_of(all, n, &w);
        vals_of(part, pn, &pv);
        free(all);
        free(part);
        all = bytes_of(seed, 0, size, 0, &n);
        vals_of(all, n, &right);
        free(all);
        cr_assert(wrong ? strcmp(w.sha256, right.sha256) != 0
                        : strcmp(w.sha256, right.sha256) == 0);
        char range[64];
        snprintf(range, sizeof range, "%lld-%lld", (long long)a, (long long)b);
        for (size_t k = 0; k < NKINDS; k++) {
            const char *o[] = {"--declare", kinds[k],
                               wrong ? "--declare-wrong" : NULL, NULL};
            restart(size, seed, o);
            char whole[1024], ranged[1024], what[128];
            expected(kinds[k], &w, &w, whole, sizeof whole);
            expected(kinds[k], &w, &pv, ranged, sizeof ranged);
            snprintf(what, sizeof what, "%s, size %lld%s", kinds[k],
                     (long long)size, wrong ? ", wrong" : "");
            says(what, "HEAD", NULL, 200, whole);
            says(what, "GET", NULL, 200, whole);
            if (size > 0)
                says(what, "GET", range, 206, ranged);
        }
    }
}

Test(declare_srv, every_kind_on_head_200_and_206)
{
    every_kind(0);
}

Test(declare_srv, wrong_values_are_of_other_bytes_and_well_formed)
{
    every_kind(1);
}

Test(declare_srv, several_kinds_in_the_order_of_the_list)
{
    const char *list = "goog-split,amz-sha256,repr-both,amz-crc64nvme,"
                       "content-md5,digest-sha,digest-md5,repr-unknown";
    const int64_t size = 3 * MiB + 1;
    size_t n, pn;
    unsigned char *all = bytes_of(62, 0, size, 0, &n);
    unsigned char *part = bytes_of(62, 2 * MiB, MiB + 1, 0, &pn);
    struct vals w, pv;
    vals_of(all, n, &w);
    vals_of(part, pn, &pv);
    free(all);
    free(part);
    restart(size, 62, (const char *[]){"--declare", list, NULL});
    char whole[2048], tail[2048];
    expected(list, &w, &w, whole, sizeof whole);
    expected(list, &w, &pv, tail, sizeof tail);
    says(list, "HEAD", NULL, 200, whole);
    says(list, "GET", NULL, 200, whole);
    says(list, "GET", "2097152-", 206, tail);
    /* Both amz-* kinds share one x-amz-checksum-type, after everything. */
    const char *type = "x-amz-checksum-type: FULL_OBJECT\r\n";
    cr_expect_str_eq(strstr(whole, type), type);
}

Test(declare_srv, declare_on_chooses_head_or_get)
{
    size_t n, pn;
    unsigned char *all = bytes_of(63, 0, MiB, 0, &n);
    unsigned char *part = bytes_of(63, 10, 91, 0, &pn);
    struct vals w, pv;
    vals_of(all, n, &w);
    vals_of(part, pn, &pv);
    free(all);
    free(part);
    const char *list = "repr-sha256,content-md5";
    char whole[1024], ranged[1024];
    expected(list, &w, &w, whole, sizeof whole);
    expected(list, &w, &pv, ranged, sizeof ranged);
    restart(MiB, 63,
            (const char *[]){"--declare", list, "--declare-on", "head", NULL});
    says("head", "HEAD", NULL, 200, whole);
    says("head", "GET", NULL, 200, "");
    says("head", "GET", "10-100", 206, "");
    restart(MiB, 63,
            (const char *[]){"--declare", list, "--declare-on", "get", NULL});
    says("get", "HEAD", NULL, 200, "");
    says("get", "GET", NULL, 200, whole);
    says("get", "GET", "10-100", 206, ranged);
    restart(MiB, 63,
            (const char *[]){"--declare", list, "--declare-on", "all", NULL});
    says("all", "HEAD", NULL, 200, whole);
    says("all", "GET", "10-100", 206, ranged);
}

Test(declare_srv, never_on_errors)
{
    const char *list = "repr-both,content-md5,amz-crc32c,goog";
    restart(MiB, 64,
            (const char *[]){"--declare", list, "--fail-status", "503",
                             "--fail-count", "1", NULL});
    says("503", "GET", NULL, 503, "");
    char head[8192], got[4096];
    cr_expect_eq(ask("GET", "/missing", NULL, head, sizeof head), 404);
    declared(head, got, sizeof got);
    cr_expect_str_eq(got, "", "404:\n%s", head);
    says("416", "GET", "2000000-", 416, "");
    /* The resource itself still has them. */
    size_t n;
    unsigned char *all = bytes_of(64, 0, MiB, 0, &n);
    struct vals w;
    vals_of(all, n, &w);
    free(all);
    char whole[1024];
    expected(list, &w, &w, whole, sizeof whole);
    says("after the failure", "GET", NULL, 200, whole);
    restart(MiB, 64,
            (const char *[]){"--declare", list, "--head-status", "405", NULL});
    says("refused HEAD", "HEAD", NULL, 405, "");
}

Test(declare_srv, values_follow_the_version_served)
{
    const char *list = "repr-sha256,content-md5,amz-crc64nvme";
    size_t n;
    struct vals first, changed, empty;
    unsigned char *p = bytes_of(65, 0, 200000, 0, &n);
    vals_of(p, n, &first);
    free(p);
    /* --change-after: seed + 1000, as faultsrv documents. */
    p = bytes_of(1065, 0, 200000, 0, &n);
    vals_of(p, n, &changed);
    free(p);
    vals_of((const unsigned char *)"", 0, &empty);
    char a[1024], b[1024], e[1024];
    expected(list, &first, &first, a, sizeof a);
    expected(list, &changed, &changed, b, sizeof b);
    expected(list, &empty, &empty, e, sizeof e);
    restart(200000, 65,
            (const char *[]){"--declare", list, "--change-after", "1", NULL});
    says("before the change", "GET", NULL, 200, a);
    says("after the change", "GET", NULL, 200, b);
    says("after the change", "HEAD", NULL, 200, b);
    restart(200000, 65,
            (const char *[]){"--declare", list, "--empty-after", "1", NULL});
    says("before emptying", "GET", NULL, 200, a);
    says("emptied", "GET", NULL, 200, e);
    says("emptied", "HEAD", NULL, 200, e);
}

Test(declare_srv, a_kind_or_a_choice_it_does_not_know_is_refused)
{
    const char *const bad[][5] = {
        {"--declare", "repr-sha256,bogus", NULL},
        {"--declare", "", NULL},
        {"--declare", "amz-crc32,amz-composite", NULL},
        {"--declare", "goog", "--declare-on", "post", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        restart(1000, 66, bad[i]);
        cr_expect_eq(wait_child(S.pid, 10), 2, "%s %s", bad[i][0], bad[i][1]);
        S.pid = 0; /* reaped */
    }
}
