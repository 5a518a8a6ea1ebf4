/* SPDX-License-Identifier: MIT */
/*
 * faultsrv_declare.c - checksums of the resource, declared in the header
 * forms object stores and CDNs use (--declare), right or wrong.
 *
 * declare_parse() reads the list of kinds; declare_init() computes, once
 * and before the first connection, what they need over the whole
 * resource: its bytes (--seed), its changed version when --change-after,
 * and the empty resource (--empty-after), so that a declaration always
 * describes the version its response serves.  declare_fields() writes
 * the lines of one HEAD, 200 or 206 of the resource.  Content-MD5 alone
 * is about the body sent (RFC 1864), so a 206's is computed for its
 * response over its part.  With --declare-wrong every value is computed
 * over other bytes: those it describes with the first one flipped (the
 * empty content's other bytes are one 0xff byte), so that a client can
 * only catch it by comparing.  Nothing here comes from lib/: OpenSSL
 * computes the digests, zlib CRC-32 and Adler-32, the tables below
 * CRC-32C and CRC-64/NVME.
 */
#include <openssl/evp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../support/content.h"
#include "faultsrv.h"

/* What a set of checksums holds: each value as the bytes a header
 * encodes, integers big-endian. */
struct sums {
    unsigned char md5[16], sha1[20], sha256[32], sha512[64];
    unsigned char crc32[4], crc32c[4], crc64[8], adler[4];
    unsigned char composite[4]; /* CRC-32C of 4 parts' CRC-32Cs */
};

/* What a kind needs computed. */
enum {
    N_MD5 = 1,
    N_SHA1 = 2,
    N_SHA256 = 4,
    N_SHA512 = 8,
    N_CRC32 = 16,
    N_CRC32C = 32,
    N_CRC64 = 64,
    N_ADLER = 128,
    N_PARTS = 256
};

#define V(f) offsetof(struct sums, f), sizeof(((struct sums *)0)->f)
#define NONE 0, 0

/* One kind: its line is pre, Base64 of the first value, then mid and
 * Base64 of the second (if any), then post.  amz: a full-object
 * x-amz-checksum-* (one x-amz-checksum-type line follows them all);
 * body: the value is about the body sent (Content-MD5). */
static const struct kind {
    const char *name, *pre, *mid, *post;
    size_t off1, len1, off2, len2;
    unsigned need;
    int amz, body;
} kinds[] = {
    {"repr-sha256", "Repr-Digest: sha-256=:", "", ":\r\n", V(sha256), NONE,
     N_SHA256, 0, 0},
    {"repr-sha512", "Repr-Digest: sha-512=:", "", ":\r\n", V(sha512), NONE,
     N_SHA512, 0, 0},
    {"repr-both", "Repr-Digest: sha-256=:", ":, sha-512=:", ":\r\n", V(sha256),
     V(sha512), N_SHA256 | N_SHA512, 0, 0},
    /* RFC 9530 registers "adler" (deprecated); its members are Byte
     * Sequences like every other: the 4 bytes of the Adler-32. */
    {"repr-unknown", "Repr-Digest: adler=:", "", ":\r\n", V(adler), NONE,
     N_ADLER, 0, 0},
    {"digest-sha256", "Digest: SHA-256=", "", "\r\n", V(sha256), NONE, N_SHA256,
     0, 0},
    {"digest-md5", "Digest: MD5=", "", "\r\n", V(md5), NONE, N_MD5, 0, 0},
    {"digest-sha", "Digest: SHA=", "", "\r\n", V(sha1), NONE, N_SHA1, 0, 0},
    {"content-md5", "Content-MD5: ", "", "\r\n", V(md5), NONE, N_MD5, 0, 1},
    {"amz-crc32", "x-amz-checksum-crc32: ", "", "\r\n", V(crc32), NONE, N_CRC32,
     1, 0},
    {"amz-crc32c", "x-amz-checksum-crc32c: ", "", "\r\n", V(crc32c), NONE,
     N_CRC32C, 1, 0},
    {"amz-crc64nvme", "x-amz-checksum-crc64nvme: ", "", "\r\n", V(crc64), NONE,
     N_CRC64, 1, 0},
    {"amz-sha1", "x-amz-checksum-sha1: ", "", "\r\n", V(sha1), NONE, N_SHA1, 1,
     0},
    {"amz-sha256", "x-amz-checksum-sha256: ", "", "\r\n", V(sha256), NONE,
     N_SHA256, 1, 0},
    {"amz-composite", "x-amz-checksum-crc32c: ", "",
     "-4\r\nx-amz-checksum-type: COMPOSITE\r\n", V(composite), NONE, N_PARTS, 0,
     0},
    {"goog", "x-goog-hash: crc32c=", ", md5=", "\r\n", V(crc32c), V(md5),
     N_CRC32C | N_MD5, 0, 0},
    {"goog-split", "x-goog-hash: crc32c=", "\r\nx-goog-hash: md5=", "\r\n",
     V(crc32c), V(md5), N_CRC32C | N_MD5, 0, 0},
};

#define NKINDS (sizeof kinds / sizeof *kinds)

static const struct kind *list[32]; /* --declare, in its order */
static int nlist;
static unsigned need;
/* The resource (--seed), its changed version, the empty resource. */
static struct sums sums[3];

static uint32_t t32c[256];
static uint64_t t64[256];

/* The tables of the two reflected CRCs no library here has. */
static void tables(void)
{
    for (unsigned i = 0; i < 256; i++) {
        uint32_t c = i;
        uint64_t d = i;
        for (int k = 0; k < 8; k++) {
            c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
            d = d & 1 ? (d >> 1) ^ 0x9A6C9329AC4BC9B5ull : d >> 1;
        }
        t32c[i] = c;
        t64[i] = d;
    }
}

/* CRC-32C and CRC-64/NVME, continued from crc (0 to begin), as zlib's
 * crc32() is: the all-ones init and xorout are applied inside. */
static uint32_t crc32c_more(uint32_t crc, const unsigned char *p, size_t n)
{
    crc = ~crc;
    while (n--)
        crc = t32c[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static uint64_t crc64_more(uint64_t crc, const unsigned char *p, size_t n)
{
    crc = ~crc;
    while (n--)
        crc = t64[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static void put_be(unsigned char *out, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        out[i] = (unsigned char)(v >> (8 * (bytes - 1 - i)));
}

typedef void feed_fn(void *arg, const unsigned char *p, size_t n);

/* Call fn over bytes [from, from+len) of resource seed, piece by piece;
 * with wrong, over the other bytes (see the top of the file). */
static void feed(uint64_t seed, int64_t from, int64_t len, int wrong,
                 feed_fn *fn, void *arg)
{
    static __thread unsigned char buf[65536];
    if (len == 0 && wrong) {
        unsigned char x = 0xff;
        fn(arg, &x, 1);
        return;
    }
    for (int64_t at = 0; at < len;) {
        size_t n =
            len - at > (int64_t)sizeof buf ? sizeof buf : (size_t)(len - at);
        content_fill(seed, (uint64_t)(from + at), buf, n);
        if (at == 0 && wrong)
            buf[0] ^= 0xff;
        fn(arg, buf, n);
        at += (int64_t)n;
    }
}

/* The running state of one set of checksums. */
struct acc {
    EVP_MD_CTX *md[4]; /* md5, sha1, sha256, sha512; NULL: not needed */
    uLong crc32, adler;
    uint32_t crc32c, part[4];
    uint64_t crc64;
    int64_t at, part_len; /* the composite's bytes so far, a part's size */
};

static void acc_feed(void *arg, const unsigned char *p, size_t n)
{
    struct acc *a = arg;
    for (int i = 0; i < 4; i++)
        if (a->md[i])
            (void)EVP_DigestUpdate(a->md[i], p, n);
    if (need & N_CRC32)
        a->crc32 = crc32(a->crc32, p, (uInt)n);
    if (need & N_ADLER)
        a->adler = adler32(a->adler, p, (uInt)n);
    if (need & N_CRC32C)
        a->crc32c = crc32c_more(a->crc32c, p, n);
    if (need & N_CRC64)
        a->crc64 = crc64_more(a->crc64, p, n);
    for (size_t done = 0; (need & N_PARTS) && done < n;) {
        int64_t k = a->at / a->part_len;
        if (k > 3)
            k = 3;
        size_t m = n - done;
        if (k < 3 && (int64_t)m > (k + 1) * a->part_len - a->at)
            m = (size_t)((k + 1) * a->part_len - a->at);
        a->part[k] = crc32c_more(a->part[k], p + done, m);
        done += m;
        a->at += (int64_t)m;
    }
}

/* Compute the needed checksums of size bytes of resource seed into s.
 * Returns 0, or -1 after a message. */
static int compute(uint64_t seed, int64_t size, struct sums *s)
{
    const EVP_MD *algo[4] = {EVP_md5(), EVP_sha1(), EVP_sha256(), EVP_sha512()};
    unsigned char *out[4] = {s->md5, s->sha1, s->sha256, s->sha512};
    struct acc a = {.adler = adler32(0, Z_NULL, 0)};
    int64_t described = size == 0 && cfg.declare_wrong ? 1 : size;
    a.part_len = (described + 3) / 4; /* the last part may be shorter */
    int r = 0;
    for (int i = 0; i < 4; i++) {
        if (!(need & (N_MD5 << i)))
            continue;
        a.md[i] = EVP_MD_CTX_new();
        if (!a.md[i] || EVP_DigestInit_ex(a.md[i], algo[i], NULL) != 1)
            r = -1;
    }
    if (r == 0)
        feed(seed, 0, size, cfg.declare_wrong, acc_feed, &a);
    for (int i = 0; i < 4; i++) {
        if (r == 0 && a.md[i] && EVP_DigestFinal_ex(a.md[i], out[i], NULL) != 1)
            r = -1;
        EVP_MD_CTX_free(a.md[i]);
    }
    if (r < 0) {
        fprintf(stderr, "faultsrv: OpenSSL cannot hash\n");
        return -1;
    }
    put_be(s->crc32, a.crc32, 4);
    put_be(s->adler, a.adler, 4);
    put_be(s->crc32c, a.crc32c, 4);
    put_be(s->crc64, a.crc64, 8);
    unsigned char parts[16];
    for (int k = 0; k < 4; k++)
        put_be(parts + 4 * k, a.part[k], 4);
    put_be(s->composite, crc32c_more(0, parts, sizeof parts), 4);
    return 0;
}

int declare_parse(const char *value)
{
    const char *p = value;
    nlist = 0;
    need = 0;
    while (*p) {
        size_t n = strcspn(p, ",");
        size_t k = 0;
        while (k < NKINDS && !(strlen(kinds[k].name) == n &&
                               strncmp(kinds[k].name, p, n) == 0))
            k++;
        if (k == NKINDS || nlist == (int)(sizeof list / sizeof *list)) {
            fprintf(stderr,
                    "faultsrv: --declare: unknown kind or too "
                    "many: %.*s\n",
                    (int)n, p);
            return -1;
        }
        list[nlist++] = &kinds[k];
        need |= kinds[k].need;
        p += n + (p[n] == ',');
    }
    int amz = 0, composite = 0;
    for (int i = 0; i < nlist; i++) {
        amz |= list[i]->amz;
        composite |= list[i]->need == N_PARTS;
    }
    if (nlist == 0 || (amz && composite)) {
        fprintf(stderr, "faultsrv: --declare: %s\n",
                nlist ? "amz-composite goes with no other amz-*"
                      : "an empty list");
        return -1;
    }
    return 0;
}

int declare_init(void)
{
    if (!nlist)
        return 0;
    tables();
    if (compute(cfg.seed, cfg.size, &sums[0]) < 0 ||
        (cfg.change_after &&
         compute(FS_CHANGED_SEED(cfg.seed), cfg.size, &sums[1]) < 0) ||
        compute(cfg.seed, 0, &sums[2]) < 0)
        return -1;
    return 0;
}

static void md5_feed(void *arg, const unsigned char *p, size_t n)
{
    (void)EVP_DigestUpdate(arg, p, n);
}

/* The MD5 of bytes [from, from+len) of resource seed (with wrong, of
 * other bytes) into out; all zero if OpenSSL fails. */
static void md5_of(uint64_t seed, int64_t from, int64_t len, int wrong,
                   unsigned char out[16])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    memset(out, 0, 16);
    if (ctx && EVP_DigestInit_ex(ctx, EVP_md5(), NULL) == 1) {
        feed(seed, from, len, wrong, md5_feed, ctx);
        (void)EVP_DigestFinal_ex(ctx, out, NULL);
    }
    EVP_MD_CTX_free(ctx);
}

/* Append fmt to the NUL-terminated h of capacity n. */
static void add(char *h, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add(char *h, size_t n, const char *fmt, ...)
{
    size_t l = strlen(h);
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(h + l, n - l, fmt, ap);
    va_end(ap);
}

void declare_fields(const struct fs_conn *c, int head, int ranged, int64_t a,
                    int64_t b, char *h, size_t n)
{
    if (!nlist || (cfg.declare_on == FS_DECLARE_HEAD && !head) ||
        (cfg.declare_on == FS_DECLARE_GET && head))
        return;
    /* The version this response serves (pick_version() chose it). */
    const struct sums *s = cfg.size == 0         ? &sums[2]
                           : c->seed != cfg.seed ? &sums[1]
                                                 : &sums[0];
    int amz = 0;
    for (int i = 0; i < nlist; i++) {
        const struct kind *k = list[i];
        const unsigned char *v1 = (const unsigned char *)s + k->off1;
        unsigned char part[16];
        if (k->body && ranged) {
            md5_of(c->seed, a, b - a + 1, cfg.declare_wrong, part);
            v1 = part;
        }
        /* EVP_EncodeBlock: standard Base64 with padding, NUL ended. */
        unsigned char x[92], y[92] = "";
        (void)EVP_EncodeBlock(x, v1, (int)k->len1);
        if (k->len2)
            (void)EVP_EncodeBlock(y, (const unsigned char *)s + k->off2,
                                  (int)k->len2);
        add(h, n, "%s%s%s%s%s", k->pre, (char *)x, k->len2 ? k->mid : "",
            (char *)y, k->post);
        amz |= k->amz;
    }
    if (amz)
        add(h, n, "x-amz-checksum-type: FULL_OBJECT\r\n");
}
