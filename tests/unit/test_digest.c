/* SPDX-License-Identifier: MIT */
/* Unit tests for digest.c (and sfv.c): the integrity a response declares. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "digest.h"
#include "resp.h"

/* Known digests in base64 ("" and "abc"), from the definitions. */
#define MD5_ABC "kAFQmDzST7DWlj99KOF/cg=="
#define MD5_EMPTY "1B2M2Y8AsgTpgAmY7PhCfg=="
#define SHA1_ABC "qZk+NkcGgWq6PiVxeFDCbJzQ2J0="
#define SHA256_ABC "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
#define SHA256_EMPTY "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
#define SHA512_ABC                                                             \
    "3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2"   \
    "Q86A4qmslPpUyknw=="
#define SHA512_EMPTY                                                           \
    "z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvU"   \
    "dBeoGlODJ6+SfaPg=="
#define CRC32_ABC "NSRBwg=="     /* 352441c2 */
#define CRC32C_ABC "Nks/tw=="    /* 364b3fb7 */
#define CRC64_ABC "BeXKuz/B+us=" /* 05e5cabb3fc1faeb */
#define HEX256_ABC                                                             \
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

/* Feed "Name: value" lines of a response (partial: a 206). */
static void feed(digest_set *s, const char *const *f, size_t n, int partial)
{
    for (size_t i = 0; i < n; i++) {
        const char *colon = strchr(f[i], ':');
        cr_assert_not_null(colon, "%s", f[i]);
        (void)digest_field(s, f[i], (size_t)(colon - f[i]), colon + 1,
                           strlen(colon + 1), partial);
    }
}

static digest_set set_of(const char *const *f, size_t n, int partial)
{
    digest_set s;
    digest_init(&s);
    feed(&s, f, n, partial);
    return s;
}

#define SET(partial, ...)                                                      \
    set_of((const char *const[]){__VA_ARGS__},                                 \
           sizeof((const char *const[]){__VA_ARGS__}) / sizeof(char *),        \
           partial)

static void tohex(const checksum *c, char *out)
{
    for (unsigned i = 0; i < c->len; i++)
        sprintf(out + 2 * i, "%02x", c->want[i]);
    out[2 * c->len] = '\0';
}

/* The best declaration is algo with these bytes (hex), from source. */
static void expect_best(const digest_set *s, const char *algo, const char *hex,
                        const char *source)
{
    const digest_decl *d = digest_best(s);
    cr_assert_not_null(d, "no usable declaration, expected %s", algo);
    char h[129];
    tohex(&d->sum, h);
    cr_expect_str_eq(d->sum.algo, algo);
    cr_expect_str_eq(h, hex);
    cr_expect_str_eq(d->source, source);
    cr_expect_eq(d->sum.len, checksum_len(algo));
}

static void expect_unchecked(const digest_set *s, const char *want)
{
    char buf[1024];
    digest_unchecked(s, buf, sizeof buf);
    cr_expect_str_eq(buf, want);
}

/* ---- base64 -------------------------------------------------------- */

static int b64(const char *s, int sf, char *out)
{
    unsigned char b[64];
    int n = digest_base64(s, strlen(s), b, sizeof b, sf);
    if (n >= 0) {
        memcpy(out, b, (size_t)n);
        out[n] = '\0';
    }
    return n;
}

Test(unit_digest, base64_rfc4648_vectors)
{
    static const char *const v[][2] = {{"", ""},
                                       {"Zg==", "f"},
                                       {"Zm8=", "fo"},
                                       {"Zm9v", "foo"},
                                       {"Zm9vYg==", "foob"},
                                       {"Zm9vYmE=", "fooba"},
                                       {"Zm9vYmFy", "foobar"}};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++)
        for (int sf = 0; sf < 2; sf++) {
            char out[65];
            cr_expect_eq(b64(v[i][0], sf, out), (int)strlen(v[i][1]), "%s",
                         v[i][0]);
            cr_expect_str_eq(out, v[i][1]);
        }
    unsigned char all[3];
    cr_assert_eq(digest_base64("+/+/", 4, all, 3, 0), 3);
    cr_expect(all[0] == 0xfb && all[1] == 0xff && all[2] == 0xbf);
}

Test(unit_digest, base64_strict_rejects)
{
    const char *bad[] = {
        "Zg=",    "Zg",    "Zm8",     "Z",    "Z===", "Zg===", "Zm9v=",
        "=Zm9",   "Zm=v",  "Zh==",    "Zm9=", "Zm9-", "Zm9_",  "Zm 9v",
        "Zm9v\n", "Zm9v ", "Zm9\x80", "====", "Zm9vY"};
    char out[65];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_expect_eq(b64(bad[i], 0, out), -1, "'%s'", bad[i]);
    unsigned char small[2];
    cr_expect_eq(digest_base64("Zm9v", 4, small, 2, 0), -1, "over cap");
}

Test(unit_digest, base64_structured_field_leniency)
{
    char out[65];
    /* RFC 8941: padding may be missing, unused bits need not be zero. */
    cr_expect_eq(b64("Zg", 1, out), 1);
    cr_expect_str_eq(out, "f");
    cr_expect_eq(b64("Zm8", 1, out), 2);
    cr_expect_eq(b64("Zh==", 1, out), 1);
    cr_expect_str_eq(out, "f");
    cr_expect_eq(b64("Zm9=", 1, out), 2);
    cr_expect_str_eq(out, "fo");
    /* Still not base64. */
    const char *bad[] = {"Z", "Zg=", "Z===", "Zm=v", "Zm9-", "Zm9v="};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_expect_eq(b64(bad[i], 1, out), -1, "'%s'", bad[i]);
}

/* ---- Repr-Digest --------------------------------------------------- */

Test(unit_digest, repr_digest_every_checkable_algorithm)
{
    digest_set s = SET(0, "Repr-Digest: sha-256=:" SHA256_ABC ":");
    expect_best(&s, "sha256", HEX256_ABC, "Repr-Digest");
    expect_unchecked(&s, "");
    s = SET(0, "Repr-Digest: sha-512=:" SHA512_ABC ":");
    expect_best(&s, "sha512",
                "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b5"
                "5d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac9"
                "4fa54ca49f",
                "Repr-Digest");
    s = SET(0, "Repr-Digest: md5=:" MD5_ABC ":");
    expect_best(&s, "md5", "900150983cd24fb0d6963f7d28e17f72", "Repr-Digest");
    s = SET(0, "Repr-Digest: sha=:" SHA1_ABC ":");
    expect_best(&s, "sha1", "a9993e364706816aba3e25717850c26c9cd0d89d",
                "Repr-Digest");
    s = SET(0, "Repr-Digest: crc32c=:" CRC32C_ABC ":");
    expect_best(&s, "crc32c", "364b3fb7", "Repr-Digest");
    /* id-sha-*: the same as sha-* when nothing is content-coded. */
    s = SET(0, "Repr-Digest: id-sha-256=:" SHA256_ABC ":");
    expect_best(&s, "sha256", HEX256_ABC, "Repr-Digest");
    s = SET(0, "repr-digest: id-sha-512=:" SHA512_EMPTY ":");
    cr_expect_str_eq(digest_best(&s)->sum.algo, "sha512");
    /* The empty representation has a digest too. */
    s = SET(1, "REPR-DIGEST:sha-256=:" SHA256_EMPTY ":\r\n");
    expect_best(&s, "sha256",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b78"
                "52b855",
                "Repr-Digest");
}

Test(unit_digest, repr_digest_several_algorithms_in_one_field)
{
    digest_set s = SET(0, "Repr-Digest: md5=:" MD5_ABC ":, sha-512=:" SHA512_ABC
                          ":,sha-256=:" SHA256_ABC ":;p=1,\t unixsum=:AAA=:");
    cr_expect_str_eq(digest_best(&s)->sum.algo, "sha512");
    expect_unchecked(&s, "Repr-Digest unixsum (not a checksum segget "
                         "computes)");
    /* Split across two fields, as a proxy may send it. */
    s = SET(0, "Repr-Digest: md5=:" MD5_ABC ":",
            "Repr-Digest: sha-256=:" SHA256_ABC ":");
    expect_best(&s, "sha256", HEX256_ABC, "Repr-Digest");
}

Test(unit_digest, repr_digest_algorithms_not_computed)
{
    digest_set s = SET(0, "Repr-Digest: unixsum=:AAA=:, unixcksum=:AAAA:, "
                          "adler=:A9oBlQ==:, blake3=:" SHA256_ABC ":");
    cr_expect_null(digest_best(&s));
    expect_unchecked(&s, "Repr-Digest adler (not a checksum segget "
                         "computes), Repr-Digest blake3 (not a checksum "
                         "segget computes), Repr-Digest unixcksum (not a "
                         "checksum segget computes), Repr-Digest unixsum "
                         "(not a checksum segget computes)");
    /* Whatever their values' types. */
    s = SET(0, "Repr-Digest: unixsum=1234, sha-256=:" SHA256_ABC ":");
    expect_best(&s, "sha256", HEX256_ABC, "Repr-Digest");
}

Test(unit_digest, repr_digest_malformed_members)
{
    /* A byte sequence of the wrong length, a value of another type. */
    digest_set s =
        SET(0, "Repr-Digest: sha-256=:" MD5_ABC ":, md5=:" MD5_ABC ":");
    expect_best(&s, "md5", "900150983cd24fb0d6963f7d28e17f72", "Repr-Digest");
    expect_unchecked(&s, "Repr-Digest sha-256 (malformed)");
    s = SET(0, "Repr-Digest: sha-256=\"" SHA256_ABC "\"");
    cr_expect_null(digest_best(&s));
    expect_unchecked(&s, "Repr-Digest sha-256 (malformed)");
    s = SET(0, "Repr-Digest: sha-256=tok, sha-512=?1, md5=12.5, sha=@17");
    cr_expect_null(digest_best(&s));
    expect_unchecked(&s, "Repr-Digest md5 (malformed), Repr-Digest sha "
                         "(malformed), Repr-Digest sha-256 (malformed), "
                         "Repr-Digest sha-512 (malformed)");
    s = SET(0, "Repr-Digest: sha-256");
    expect_unchecked(&s, "Repr-Digest sha-256 (malformed)");
}

Test(unit_digest, repr_digest_unparsable_field_is_wholly_unused)
{
    const char *bad[] = {
        "Repr-Digest: SHA-256=:" SHA256_ABC ":",  /* keys are lowercase */
        "Repr-Digest: sha-256=:" SHA256_ABC,      /* no closing colon */
        "Repr-Digest: sha-256=:" SHA256_ABC ":,", /* trailing comma */
        "Repr-Digest: sha-256=:ungWv48Bz!pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=:",
        "Repr-Digest: md5=:" MD5_ABC ": sha-256=:" SHA256_ABC ":",
        "Repr-Digest: md5=:" MD5_ABC ":, , sha-256=:" SHA256_ABC ":",
        "Repr-Digest: md5=\"open, sha-256=:" SHA256_ABC ":",
        "Repr-Digest: md5=(:" MD5_ABC ": , sha-256=:" SHA256_ABC ":",
        "Repr-Digest: 1md5=:" MD5_ABC ":",
        "Repr-Digest: md5=:" MD5_ABC ":;",
        "Repr-Digest: md5=--1",
        "Repr-Digest: md5=1234567890123456",
        "Repr-Digest: md5=?2",
        "Repr-Digest: ,md5=:" MD5_ABC ":",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        digest_set s = set_of(&bad[i], 1, 0);
        cr_expect_null(digest_best(&s), "%s", bad[i]);
        char buf[200];
        digest_unchecked(&s, buf, sizeof buf);
        cr_expect_str_eq(buf, "Repr-Digest (malformed)", "%s", bad[i]);
    }
}

Test(unit_digest, repr_digest_structured_field_syntax_accepted)
{
    /* Other members of every type, parameters and inner lists, strings
     * holding commas and colons: the digests are still read. */
    digest_set s = SET(0, "Repr-Digest: a=\"x, y: \\\"z\\\" \\\\\", b=(1 "
                          "\"two\" :AA==: ?0);q=1, c, d;e=f, g=-1.5, h=*tok/"
                          "en:x, i=@-1, sha-256=:" SHA256_ABC ":;alg=1");
    expect_best(&s, "sha256", HEX256_ABC, "Repr-Digest");
    /* Byte sequences as RFC 8941 has parsers read them. */
    s = SET(0, "Repr-Digest: sha-256=:"
               "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0:");
    expect_best(&s, "sha256", HEX256_ABC, "Repr-Digest");
    s = SET(0, "Repr-Digest:");
    cr_expect_null(digest_best(&s));
    expect_unchecked(&s, "");
}

/* ---- Digest (RFC 3230) --------------------------------------------- */

Test(unit_digest, digest_every_algorithm_any_case)
{
    digest_set s = SET(0, "Digest: SHA-256=" SHA256_ABC);
    expect_best(&s, "sha256", HEX256_ABC, "Digest");
    s = SET(0, "digest: sha-256=" SHA256_ABC);
    expect_best(&s, "sha256", HEX256_ABC, "Digest");
    s = SET(0, "Digest: MD5=" MD5_ABC);
    expect_best(&s, "md5", "900150983cd24fb0d6963f7d28e17f72", "Digest");
    s = SET(0, "Digest: SHA=" SHA1_ABC);
    expect_best(&s, "sha1", "a9993e364706816aba3e25717850c26c9cd0d89d",
                "Digest");
    s = SET(0, "Digest: Sha-512=" SHA512_EMPTY);
    cr_expect_str_eq(digest_best(&s)->sum.algo, "sha512");
    s = SET(0, "Digest: ID-SHA-256=" SHA256_ABC);
    expect_best(&s, "sha256", HEX256_ABC, "Digest");
    s = SET(0, "Digest: id-sha-512=" SHA512_ABC);
    cr_expect_str_eq(digest_best(&s)->sum.algo, "sha512");
    /* CRC32c in hex, 1 to 8 digits: IANA's example is "dog". */
    cr_expect_eq(checksum_crc32c_table(0, "dog", 3), 0x0a72a4dfu);
    s = SET(0, "Digest: CRC32c=0a72a4df");
    expect_best(&s, "crc32c", "0a72a4df", "Digest");
    s = SET(0, "Digest: crc32c=A72A4DF");
    expect_best(&s, "crc32c", "0a72a4df", "Digest");
    s = SET(0, "Digest: CRC32C=0");
    expect_best(&s, "crc32c", "00000000", "Digest");
}

Test(unit_digest, digest_lists_and_white_space)
{
    digest_set s = SET(0, "Digest:  MD5=" MD5_ABC " ,SHA-256=" SHA256_ABC
                          "\t,, UNIXsum=30637 , ADLER32=03da0195\r\n");
    expect_best(&s, "sha256", HEX256_ABC, "Digest");
    expect_unchecked(&s, "Digest ADLER32 (not a checksum segget computes), "
                         "Digest UNIXsum (not a checksum segget computes)");
    s = SET(0, "Digest: UNIXcksum=1", "Digest: SHA-256=" SHA256_ABC);
    expect_best(&s, "sha256", HEX256_ABC, "Digest");
    expect_unchecked(&s, "Digest UNIXcksum (not a checksum segget "
                         "computes)");
}

Test(unit_digest, digest_malformed_values)
{
    digest_set s = SET(0, "Digest: SHA-256=" MD5_ABC ", MD5=" MD5_ABC "x, "
                          "CRC32c=123456789, SHA=" SHA1_ABC);
    expect_best(&s, "sha1", "a9993e364706816aba3e25717850c26c9cd0d89d",
                "Digest");
    expect_unchecked(&s, "Digest CRC32c (malformed), Digest MD5 "
                         "(malformed), Digest SHA-256 (malformed)");
    s = SET(0, "Digest: SHA-256", "Digest: =abc", "Digest: crc32c=xyz",
            "Digest: crc32c=");
    cr_expect_null(digest_best(&s));
    expect_unchecked(&s, "Digest (malformed), Digest SHA-256 (malformed), "
                         "Digest crc32c (malformed)");
    /* What the server names is shown, never its control bytes. */
    s = SET(0, "Digest: X\x01Y=1");
    expect_unchecked(&s, "Digest X?Y (not a checksum segget computes)");
}

/* ---- Content-MD5 --------------------------------------------------- */

Test(unit_digest, content_md5_counts_on_a_whole_body_only)
{
    digest_set s = SET(0, "Content-MD5: " MD5_ABC);
    expect_best(&s, "md5", "900150983cd24fb0d6963f7d28e17f72", "Content-MD5");
    /* On a 206 it covers the part: ignored, and nothing to say. */
    s = SET(1, "Content-MD5: " MD5_ABC);
    cr_expect_null(digest_best(&s));
    expect_unchecked(&s, "");
    s = SET(1, "Content-MD5: " MD5_ABC, "Repr-Digest: md5=:" MD5_EMPTY ":");
    expect_best(&s, "md5", "d41d8cd98f00b204e9800998ecf8427e", "Repr-Digest");
    expect_unchecked(&s, "");
    s = SET(0, "content-md5: " SHA1_ABC);
    cr_expect_null(digest_best(&s));
    expect_unchecked(&s, "Content-MD5 (malformed)");
    s = SET(0, "Content-MD5: kAFQmDzST7DWlj99KOF/cg");
    expect_unchecked(&s, "Content-MD5 (malformed)");
}

/* ---- S3 ------------------------------------------------------------ */

Test(unit_digest, s3_every_algorithm)
{
    digest_set s = SET(0, "x-amz-checksum-crc32: " CRC32_ABC);
    expect_best(&s, "crc32", "352441c2", "x-amz-checksum-crc32");
    s = SET(0, "x-amz-checksum-crc32c: " CRC32C_ABC);
    expect_best(&s, "crc32c", "364b3fb7", "x-amz-checksum-crc32c");
    s = SET(0, "X-Amz-Checksum-CRC64NVME: " CRC64_ABC);
    expect_best(&s, "crc64nvme", "05e5cabb3fc1faeb",
                "x-amz-checksum-crc64nvme");
    s = SET(0, "x-amz-checksum-sha1: " SHA1_ABC);
    expect_best(&s, "sha1", "a9993e364706816aba3e25717850c26c9cd0d89d",
                "x-amz-checksum-sha1");
    s = SET(1, "x-amz-checksum-sha256: " SHA256_ABC);
    expect_best(&s, "sha256", HEX256_ABC, "x-amz-checksum-sha256");
    s = SET(0, "x-amz-checksum-md5: " MD5_ABC);
    expect_best(&s, "md5", "900150983cd24fb0d6963f7d28e17f72",
                "x-amz-checksum-md5");
    s = SET(0, "x-amz-checksum-sha512: " SHA512_ABC,
            "x-amz-checksum-type: FULL_OBJECT");
    cr_expect_str_eq(digest_best(&s)->sum.algo, "sha512");
    expect_unchecked(&s, "");
    s = SET(0, "x-amz-checksum-xxhash64: AAAAAAAAAAA=");
    cr_expect_null(digest_best(&s));
    expect_unchecked(&s, "x-amz-checksum-xxhash64 (not a checksum segget "
                         "computes)");
}

Test(unit_digest, s3_malformed_values)
{
    const char *bad[] = {"x-amz-checksum-crc32c: " CRC32_ABC "A",
                         "x-amz-checksum-crc32c: Nks/tw",
                         "x-amz-checksum-crc32c: Nks/tw==-",
                         "x-amz-checksum-crc32c: Nks/tw==-0",
                         "x-amz-checksum-crc32c: Nks/tw==-x",
                         "x-amz-checksum-crc32c: Nks/tw==-123456",
                         "x-amz-checksum-crc32c: Nks/tw==-4-2",
                         "x-amz-checksum-crc32c: " CRC64_ABC,
                         "x-amz-checksum-crc32c: "};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        digest_set s = set_of(&bad[i], 1, 0);
        cr_expect_null(digest_best(&s), "%s", bad[i]);
        char buf[200];
        digest_unchecked(&s, buf, sizeof buf);
        cr_expect_str_eq(buf, "x-amz-checksum-crc32c (malformed)", "%s",
                         bad[i]);
    }
}

Test(unit_digest, s3_composites)
{
    digest_set s = SET(0, "x-amz-checksum-crc32c: Nks/tw==-4");
    cr_expect_null(digest_best(&s));
    expect_unchecked(&s, "x-amz-checksum-crc32c (a composite of 4 parts)");
    s = SET(0, "x-amz-checksum-sha256: " SHA256_ABC "-10000",
            "x-amz-checksum-crc64nvme: " CRC64_ABC);
    expect_best(&s, "crc64nvme", "05e5cabb3fc1faeb",
                "x-amz-checksum-crc64nvme");
    expect_unchecked(&s, "x-amz-checksum-sha256 (a composite of 10000 "
                         "parts)");
}

Test(unit_digest, s3_checksum_type_composite_before_or_after)
{
    const char *f[] = {"x-amz-checksum-type: COMPOSITE",
                       "x-amz-checksum-crc32c: " CRC32C_ABC,
                       "x-amz-checksum-sha256: " SHA256_ABC};
    const char *want = "x-amz-checksum-crc32c (a composite of the parts' "
                       "checksums), x-amz-checksum-sha256 (a composite of "
                       "the parts' checksums)";
    digest_set s = set_of(f, 3, 0);
    cr_expect_null(digest_best(&s));
    expect_unchecked(&s, want);
    const char *g[] = {f[1], f[2], "X-Amz-Checksum-Type: composite"};
    s = set_of(g, 3, 0);
    cr_expect_null(digest_best(&s));
    expect_unchecked(&s, want);
    /* The other fields still count. */
    const char *h[] = {f[1], "Repr-Digest: crc32c=:" CRC32_ABC ":", f[0]};
    s = set_of(h, 3, 0);
    expect_best(&s, "crc32c", "352441c2", "Repr-Digest");
}

/* ---- GCS ----------------------------------------------------------- */

Test(unit_digest, gcs_hashes)
{
    digest_set s = SET(0, "x-goog-hash: crc32c=" CRC32C_ABC ", md5=" MD5_ABC);
    expect_best(&s, "md5", "900150983cd24fb0d6963f7d28e17f72", "x-goog-hash");
    s = SET(0, "x-goog-hash: crc32c=" CRC32C_ABC, "X-Goog-Hash: md5=" MD5_ABC);
    expect_best(&s, "md5", "900150983cd24fb0d6963f7d28e17f72", "x-goog-hash");
    s = SET(0, "x-goog-hash: CRC32C=" CRC32C_ABC);
    expect_best(&s, "crc32c", "364b3fb7", "x-goog-hash");
    s = SET(0, "x-goog-hash: crc32c=Nks/tw, md5=" MD5_ABC "-2, sha9=xx");
    cr_expect_null(digest_best(&s));
    expect_unchecked(&s, "x-goog-hash crc32c (malformed), x-goog-hash md5 "
                         "(malformed), x-goog-hash sha9 (not a checksum "
                         "segget computes)");
    /* The same field twice is one declaration, not a conflict. */
    s = SET(0, "x-goog-hash: md5=" MD5_ABC, "x-goog-hash: md5=" MD5_ABC);
    cr_expect_eq(s.n, 1);
    expect_unchecked(&s, "");
}

Test(unit_digest, gcs_stored_gzip_served_decompressed)
{
    const char *f[] = {"x-goog-hash: crc32c=" CRC32C_ABC,
                       "x-goog-stored-content-encoding: gzip"};
    digest_set s = set_of(f, 2, 0);
    cr_expect_null(digest_best(&s));
    expect_unchecked(&s, "x-goog-hash crc32c (of the stored compressed "
                         "object, served decompressed)");
    /* Served as stored: the hash is of what arrives. */
    const char *g[] = {f[1], "Content-Encoding: gzip", f[0]};
    s = set_of(g, 3, 0);
    expect_best(&s, "crc32c", "364b3fb7", "x-goog-hash");
    const char *h[] = {"x-goog-stored-content-encoding: identity", f[0]};
    s = set_of(h, 2, 0);
    expect_best(&s, "crc32c", "364b3fb7", "x-goog-hash");
}

/* ---- across fields ------------------------------------------------- */

Test(unit_digest, id_sha_with_a_content_coding)
{
    const char *f[] = {"Repr-Digest: id-sha-256=:" SHA256_ABC
                       ":, sha-512=:" SHA512_EMPTY ":",
                       "Content-Encoding: gzip"};
    digest_set s = set_of(f, 2, 0);
    cr_expect_str_eq(digest_best(&s)->sum.algo, "sha512");
    expect_unchecked(&s, "Repr-Digest id-sha-256 (of the content before its "
                         "Content-Encoding)");
    const char *g[] = {"Content-Encoding: identity",
                       "Digest: ID-SHA-256=" SHA256_ABC};
    s = set_of(g, 2, 0);
    expect_best(&s, "sha256", HEX256_ABC, "Digest");
}

Test(unit_digest, conflicting_values_of_one_algorithm)
{
    digest_set s = SET(0, "Repr-Digest: sha-256=:" SHA256_ABC ":",
                       "x-amz-checksum-sha256: " SHA256_EMPTY,
                       "x-amz-checksum-crc32: " CRC32_ABC);
    expect_best(&s, "crc32", "352441c2", "x-amz-checksum-crc32");
    expect_unchecked(&s, "sha256 (conflicting values from Repr-Digest, "
                         "x-amz-checksum-sha256)");
    /* Within one field, and said once. */
    s = SET(0, "Digest: MD5=" MD5_ABC ", MD5=" MD5_EMPTY ", md5=" MD5_ABC);
    cr_expect_null(digest_best(&s));
    expect_unchecked(&s, "md5 (conflicting values from Digest)");
    /* Agreeing values are no conflict; the standard field is named. */
    s = SET(0, "Digest: SHA-256=" SHA256_ABC,
            "x-amz-checksum-sha256: " SHA256_ABC,
            "Repr-Digest: sha-256=:" SHA256_ABC ":");
    expect_best(&s, "sha256", HEX256_ABC, "Repr-Digest");
    expect_unchecked(&s, "");
    /* A value that cannot be used contradicts nothing. */
    s = SET(0, "Repr-Digest: sha-256=:" SHA256_ABC ":",
            "x-amz-checksum-type: COMPOSITE",
            "x-amz-checksum-sha256: " SHA256_EMPTY);
    expect_best(&s, "sha256", HEX256_ABC, "Repr-Digest");
}

Test(unit_digest, the_strongest_is_chosen)
{
    const char *f[] = {"x-amz-checksum-crc32: " CRC32_ABC,
                       "x-goog-hash: crc32c=" CRC32C_ABC,
                       "x-amz-checksum-crc64nvme: " CRC64_ABC,
                       "Content-MD5: " MD5_ABC,
                       "Digest: SHA=" SHA1_ABC,
                       "Repr-Digest: sha-256=:" SHA256_ABC ":",
                       "x-amz-checksum-sha512: " SHA512_ABC};
    const char *algo[] = {"crc32", "crc32c", "crc64nvme", "md5",
                          "sha1",  "sha256", "sha512"};
    for (size_t n = 1; n <= 7; n++) {
        digest_set s = set_of(f, n, 0);
        cr_expect_str_eq(digest_best(&s)->sum.algo, algo[n - 1]);
        expect_unchecked(&s, "");
    }
}

/* Every order of the fields gives the same answers. */
static void permute(const char **f, size_t k, size_t n, const char *algo,
                    const char *source, const char *unchecked)
{
    if (k == n) {
        digest_set s = set_of(f, n, 0);
        const digest_decl *d = digest_best(&s);
        cr_assert_not_null(d);
        cr_assert_str_eq(d->sum.algo, algo);
        cr_assert_str_eq(d->source, source);
        char buf[1024];
        digest_unchecked(&s, buf, sizeof buf);
        cr_assert_str_eq(buf, unchecked);
        return;
    }
    for (size_t i = k; i < n; i++) {
        const char *t = f[k];
        f[k] = f[i];
        f[i] = t;
        permute(f, k + 1, n, algo, source, unchecked);
        f[i] = f[k];
        f[k] = t;
    }
}

Test(unit_digest, order_does_not_matter)
{
    const char *f[] = {"x-amz-checksum-sha256: " SHA256_ABC,
                       "x-amz-checksum-type: COMPOSITE",
                       "Digest: SHA-256=" SHA256_EMPTY ", UNIXsum=1",
                       "Repr-Digest: sha-256=:" SHA256_ABC
                       ":, id-sha-512=:" SHA512_ABC ":",
                       "Content-Encoding: br",
                       "x-goog-hash: md5=" MD5_ABC,
                       "Content-MD5: " MD5_ABC};
    permute(f, 0, 7, "md5", "x-goog-hash",
            "Digest UNIXsum (not a checksum segget computes), Repr-Digest "
            "id-sha-512 (of the content before its Content-Encoding), "
            "sha256 (conflicting values from Digest, Repr-Digest), "
            "x-amz-checksum-sha256 (a composite of the parts' checksums)");
}

Test(unit_digest, too_many_declarations)
{
    digest_set s;
    digest_init(&s);
    for (int i = 0; i < DIGEST_MAX + 3; i++) {
        char f[64];
        snprintf(f, sizeof f, "Repr-Digest: alg%d=:AA==:", 10 + i);
        const char *p = f;
        feed(&s, &p, 1, 0);
    }
    cr_expect_eq(s.n, DIGEST_MAX);
    char buf[2048];
    digest_unchecked(&s, buf, sizeof buf);
    cr_expect(strstr(buf, "3 more declarations (too many to keep)"), "%s", buf);
    /* The limit holds inside one field too. */
    char big[1024] = "Repr-Digest: ";
    for (int i = 0; i < DIGEST_MAX + 2; i++)
        snprintf(big + strlen(big), sizeof big - strlen(big), "%sa%d=1",
                 i ? ", " : "", i);
    const char *p = big;
    s = set_of(&p, 1, 0);
    cr_expect_eq(s.n, DIGEST_MAX);
    cr_expect_eq(s.dropped, 2);
}

Test(unit_digest, unchecked_fits_its_buffer)
{
    digest_set s = SET(0, "Digest: UNIXsum=1");
    char buf[12];
    memset(buf, 'x', sizeof buf);
    digest_unchecked(&s, buf, 10);
    cr_expect_str_eq(buf, "Digest UN");
    cr_expect_eq(buf[10], 'x');
    digest_unchecked(&s, buf, 1);
    cr_expect_str_eq(buf, "");
    buf[0] = 'y';
    digest_unchecked(&s, buf, 0);
    cr_expect_eq(buf[0], 'y');
}

Test(unit_digest, which_fields_are_integrity_fields)
{
    static const struct {
        const char *name;
        int is;
    } t[] = {{"Repr-Digest", 1},
             {"digest", 1},
             {"Content-MD5", 1},
             {"x-goog-hash", 1},
             {"x-amz-checksum-crc32", 1},
             {"x-amz-checksum-type", 1},
             {"x-amz-checksum-xxhash3", 1},
             {"x-amz-checksum-mode", 0},
             {"x-amz-checksum-", 0},
             {"Content-Digest", 0},
             {"Content-Encoding", 0},
             {"x-goog-stored-content-encoding", 0},
             {"Content-Length", 0},
             {"ETag", 0},
             {"Want-Repr-Digest", 0},
             {"Digests", 0}};
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        digest_set s;
        digest_init(&s);
        cr_expect_eq(digest_field(&s, t[i].name, strlen(t[i].name), "x", 1, 0),
                     t[i].is, "%s", t[i].name);
    }
    digest_set s;
    digest_init(&s);
    cr_expect_eq(digest_field(&s, "Content-MD5", 11, MD5_ABC, 24, 1), 1,
                 "recognised on a 206 though ignored");
    cr_expect_eq(s.n, 0);
}

/* ---- in struct resp ------------------------------------------------ */

static void lines(resp *r, const char *const *l)
{
    for (int i = 0; l[i]; i++)
        cr_assert_eq(resp_line(r, l[i], strlen(l[i])), 0);
}

Test(unit_digest, resp_forgets_a_redirects_digests)
{
    resp r;
    resp_init(&r);
    const char *l[] = {"HTTP/1.1 302 Found\r\n",
                       "Location: /elsewhere\r\n",
                       "Repr-Digest: sha-256=:" SHA256_ABC ":\r\n",
                       "Digest: UNIXsum=1\r\n",
                       "\r\n",
                       "HTTP/1.1 200 OK\r\n",
                       "Content-Length: 3\r\n",
                       NULL};
    lines(&r, l);
    cr_expect_null(digest_best(&r.digests));
    char buf[100];
    digest_unchecked(&r.digests, buf, sizeof buf);
    cr_expect_str_eq(buf, "");
    const char *m[] = {"x-amz-checksum-crc32c: " CRC32C_ABC "\r\n", NULL};
    lines(&r, m);
    expect_best(&r.digests, "crc32c", "364b3fb7", "x-amz-checksum-crc32c");
    /* Copied by value with the rest of the record. */
    resp copy = r;
    expect_best(&copy.digests, "crc32c", "364b3fb7", "x-amz-checksum-crc32c");
    resp_cleanup(&r);
    cr_expect_eq(r.digests.n, 0);
}

Test(unit_digest, resp_content_md5_of_a_206_or_a_200)
{
    resp r;
    resp_init(&r);
    const char *l[] = {"HTTP/1.1 206 Partial Content\r\n",
                       "Content-Range: bytes 0-2/10\r\n",
                       "Content-MD5: " MD5_ABC "\r\n",
                       "Repr-Digest: sha=:" SHA1_ABC ":\r\n", NULL};
    lines(&r, l);
    expect_best(&r.digests, "sha1", "a9993e364706816aba3e25717850c26c9cd0d89d",
                "Repr-Digest");
    cr_expect(r.has_range && r.range.total == 10, "the rest is unchanged");
    const char *m[] = {"HTTP/2 200\r\n", "content-md5: " MD5_ABC "\r\n", NULL};
    lines(&r, m);
    expect_best(&r.digests, "md5", "900150983cd24fb0d6963f7d28e17f72",
                "Content-MD5");
    cr_expect(!r.has_range);
    resp_cleanup(&r);
}
