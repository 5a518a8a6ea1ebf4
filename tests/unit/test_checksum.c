/* SPDX-License-Identifier: MIT */
/* Unit tests for checksum.c: parsing and checking digests. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checksum.h"

#define ABC256 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

Test(unit_checksum, parse_forms)
{
    checksum c;
    sg_err e = {0};
    cr_assert_eq(checksum_parse("sha256=" ABC256, &c, &e), SG_OK);
    cr_assert_eq(c.len, 32);
    cr_assert_eq(c.want[0], 0xba);
    cr_assert_eq(checksum_parse("SHA256:" ABC256, &c, &e), SG_OK);
    cr_assert_str_eq(c.algo, "sha256");
    char up[80] = "sha256=" ABC256;
    for (char *p = up + 7; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 32);
    cr_assert_eq(checksum_parse(up, &c, &e), SG_OK, "uppercase hex");
}

Test(unit_checksum, parse_rejects)
{
    const char *bad[] = {"", "sha256", "sha256=", "md5=abc", "sha1=" ABC256,
                         "sha256=" ABC256 "00", "sha256=zz" ABC256 + 2,
                         "sha512=" ABC256};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        checksum c;
        sg_err e = {0};
        cr_expect_eq(checksum_parse(bad[i], &c, &e), SG_EUSAGE, "'%s'",
                     bad[i]);
        err_reset(&e);
    }
}

Test(unit_checksum, verify_match_and_mismatch)
{
    char path[] = "/tmp/sg-sum-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, "abc", 3), 3);
    checksum c;
    sg_err e = {0};
    cr_assert_eq(checksum_parse("sha256=" ABC256, &c, &e), SG_OK);
    cr_assert_eq(checksum_verify(fd, 3, &c, &e), SG_OK);
    cr_assert_eq(checksum_verify(fd, 2, &c, &e), SG_ECHECKSUM);
    cr_assert(strstr(err_msg(&e), "expected " ABC256), "%s", err_msg(&e));
    err_reset(&e);
    close(fd);
    unlink(path);
}

/* Hash s whole with spec and return the verdict. */
static sg_code hash_str(const char *spec, const char *s)
{
    checksum c;
    sg_err e = {0};
    cr_assert_eq(checksum_parse(spec, &c, &e), SG_OK, "%s", err_msg(&e));
    checksum_hash *h = checksum_begin(&c);
    cr_assert_not_null(h);
    /* In two pieces, as bytes arrive. */
    size_t n = strlen(s);
    checksum_update(h, s, n / 2);
    checksum_update(h, s + n / 2, n - n / 2);
    sg_code rc = checksum_end(h, &c, &e);
    err_reset(&e);
    return rc;
}

Test(unit_checksum, every_algorithm_against_its_known_vectors)
{
    cr_expect_eq(hash_str("md5=900150983cd24fb0d6963f7d28e17f72", "abc"),
                 SG_OK);
    cr_expect_eq(hash_str("sha1=a9993e364706816aba3e25717850c26c9cd0d89d",
                          "abc"),
                 SG_OK);
    cr_expect_eq(hash_str("sha256=" ABC256, "abc"), SG_OK);
    cr_expect_eq(hash_str("sha512=ddaf35a193617abacc417349ae20413112e6fa4e89"
                          "a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3"
                          "feebbd454d4423643ce80e2a9ac94fa54ca49f",
                          "abc"),
                 SG_OK);
    /* The check value of CRC-32C (Castagnoli). */
    cr_expect_eq(hash_str("crc32c=e3069283", "123456789"), SG_OK);
    cr_expect_eq(hash_str("CRC32C:E3069283", "123456789"), SG_OK);
    cr_expect_eq(hash_str("crc32c=e3069284", "123456789"), SG_ECHECKSUM);
    cr_expect_eq(hash_str("md5=900150983cd24fb0d6963f7d28e17f73", "abc"),
                 SG_ECHECKSUM);
}

Test(unit_checksum, lengths_are_the_algorithms)
{
    const char *bad[] = {"md5=" ABC256, "crc32c=e30692", "crc32c=e306928300",
                         "sha1=900150983cd24fb0d6963f7d28e17f72", "crc32=0",
                         "sha384=" ABC256};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        checksum c;
        sg_err e = {0};
        cr_expect_eq(checksum_parse(bad[i], &c, &e), SG_EUSAGE, "'%s'",
                     bad[i]);
        err_reset(&e);
    }
}

/* Every algorithm, in either case and with either separator. */
Test(unit_checksum, parse_every_algorithm)
{
    static const struct {
        const char *spec, *algo;
        unsigned len;
        unsigned char first;
    } ok[] = {
        {"md5=900150983cd24fb0d6963f7d28e17f72", "md5", 16, 0x90},
        {"SHA1:a9993e364706816aba3e25717850c26c9cd0d89d", "sha1", 20, 0xa9},
        {"Sha256=" ABC256, "sha256", 32, 0xba},
        {"sha512=" ABC256 ABC256, "sha512", 64, 0xba},
        {"crc32=CBF43926", "crc32", 4, 0xcb},
        {"CRC32:cbf43926", "crc32", 4, 0xcb},
        {"crc32c=e3069283", "crc32c", 4, 0xe3},
        {"crc64nvme=ae8b14860a799888", "crc64nvme", 8, 0xae},
        {"CRC64NVME:AE8B14860A799888", "crc64nvme", 8, 0xae},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        checksum c;
        sg_err e = {0};
        cr_expect_eq(checksum_parse(ok[i].spec, &c, &e), SG_OK, "%s: %s",
                     ok[i].spec, err_msg(&e));
        cr_expect_str_eq(c.algo, ok[i].algo);
        cr_expect_eq(c.len, ok[i].len, "%s", ok[i].spec);
        cr_expect_eq(c.want[0], ok[i].first, "%s", ok[i].spec);
        cr_expect_eq(checksum_len(ok[i].algo), ok[i].len);
        err_reset(&e);
    }
}

Test(unit_checksum, parse_rejects_every_algorithm_malformed)
{
    const char *bad[] = {
        "crc32=cbf4392", "crc32=cbf439260", "crc32=cbf4392g", "crc32=",
        "crc32c=e3069283e3069283", "crc64nvme=e3069283",
        "crc64nvme=ae8b14860a79988", "crc64nvme=ae8b14860a7998880",
        "crc64nvme=ae8b14860a79988x", "crc64=ae8b14860a799888",
        "crc64nvm=ae8b14860a799888", "crc32k=cbf43926", "adler32=cbf43926",
        ("sha-256=" ABC256), "md5 =900150983cd24fb0d6963f7d28e17f72",
        "md5= 900150983cd24fb0d6963f7d28e17f72", "=cbf43926", "crc32"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        checksum c;
        sg_err e = {0};
        cr_expect_eq(checksum_parse(bad[i], &c, &e), SG_EUSAGE, "'%s'",
                     bad[i]);
        err_reset(&e);
    }
}

Test(unit_checksum, usage_names_every_algorithm)
{
    checksum c;
    sg_err e = {0};
    cr_assert_eq(checksum_parse("whirlpool=00", &c, &e), SG_EUSAGE);
    const char *names[] = {"md5",   "sha1",   "sha256",   "sha512",
                           "crc32", "crc32c", "crc64nvme"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        cr_expect(strstr(err_msg(&e), names[i]), "%s lacks %s", err_msg(&e),
                  names[i]);
    err_reset(&e);
}

Test(unit_checksum, ranks_strongest_first)
{
    const char *order[] = {"sha512", "sha256",    "sha1",  "md5",
                           "crc64nvme", "crc32c", "crc32"};
    for (size_t i = 0; i + 1 < sizeof order / sizeof *order; i++)
        cr_expect_gt(checksum_rank(order[i]), checksum_rank(order[i + 1]),
                     "%s vs %s", order[i], order[i + 1]);
    cr_expect_gt(checksum_rank("crc32"), 0);
    cr_expect_eq(checksum_rank("sha384"), 0);
    cr_expect_eq(checksum_rank(""), 0);
    cr_expect_eq(checksum_rank("SHA256"), 0, "names are exact");
    cr_expect_eq(checksum_len("adler32"), 0);
}

Test(unit_checksum, new_algorithms_against_known_vectors)
{
    /* The catalogue's check values over "123456789". */
    cr_expect_eq(hash_str("crc32=cbf43926", "123456789"), SG_OK);
    cr_expect_eq(hash_str("crc64nvme=ae8b14860a799888", "123456789"),
                 SG_OK);
    cr_expect_eq(hash_str("crc64nvme=ae8b14860a799889", "123456789"),
                 SG_ECHECKSUM);
    cr_expect_eq(hash_str("crc32=cbf43927", "123456789"), SG_ECHECKSUM);
    /* Nothing at all: every CRC's init and xorout cancel. */
    cr_expect_eq(hash_str("crc32=00000000", ""), SG_OK);
    cr_expect_eq(hash_str("crc32c=00000000", ""), SG_OK);
    cr_expect_eq(hash_str("crc64nvme=0000000000000000", ""), SG_OK);
    cr_expect_eq(hash_str("md5=d41d8cd98f00b204e9800998ecf8427e", ""), SG_OK);
    cr_expect_eq(hash_str("sha1=da39a3ee5e6b4b0d3255bfef95601890afd80709", ""),
                 SG_OK);
    cr_expect_eq(hash_str("sha256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4"
                          "649b934ca495991b7852b855",
                          ""),
                 SG_OK);
    /* One byte, and three. */
    cr_expect_eq(hash_str("crc32=e8b7be43", "a"), SG_OK);
    cr_expect_eq(hash_str("crc32c=c1d04330", "a"), SG_OK);
    cr_expect_eq(hash_str("crc64nvme=8c2f8445b4cbfc3c", "a"), SG_OK);
    cr_expect_eq(hash_str("crc32=352441c2", "abc"), SG_OK);
    cr_expect_eq(hash_str("crc32c=364b3fb7", "abc"), SG_OK);
    cr_expect_eq(hash_str("crc64nvme=05e5cabb3fc1faeb", "abc"), SG_OK);
    /* The digest is compared big-endian: a byte-swapped value fails. */
    cr_expect_eq(hash_str("crc32c=839206e3", "123456789"), SG_ECHECKSUM);
}

/* Bit-at-a-time references, written from the definitions alone. */
static uint64_t crc_bitwise(uint64_t poly, int width, const void *p, size_t n)
{
    uint64_t mask = width == 64 ? ~(uint64_t)0 : ((uint64_t)1 << width) - 1;
    uint64_t v = mask;
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        v ^= b[i];
        for (int k = 0; k < 8; k++)
            v = v & 1 ? (v >> 1) ^ poly : v >> 1;
    }
    return v ^ mask;
}

#define POLY32 0xEDB88320u
#define POLY32C 0x82F63B78u
#define POLY64 0x9A6C9329AC4BC9B5u

static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static unsigned char *random_buf(size_t n)
{
    unsigned char *b = malloc(n);
    cr_assert_not_null(b);
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)(rng() >> 24);
    return b;
}

Test(unit_checksum, crc_kernels_agree_with_the_bitwise_references)
{
    unsigned char *b = random_buf(70000);
    /* Every alignment and many lengths, including the short tails. */
    for (size_t off = 0; off < 16; off++)
        for (size_t n = 0; n < 80; n++) {
            uint32_t c32c = (uint32_t)crc_bitwise(POLY32C, 32, b + off, n);
            uint64_t c64 = crc_bitwise(POLY64, 64, b + off, n);
            cr_assert_eq(checksum_crc32c_table(0, b + off, n), c32c,
                         "off %zu n %zu", off, n);
            cr_assert_eq(checksum_crc64nvme_table(0, b + off, n), c64,
                         "off %zu n %zu", off, n);
            if (checksum_crc32c_has_hw())
                cr_assert_eq(checksum_crc32c_hw(0, b + off, n), c32c,
                             "off %zu n %zu", off, n);
        }
    /* Long runs at odd offsets; crc32 through zlib as checksum_begin
     * does it, against its bitwise reference too. */
    for (int r = 0; r < 8; r++) {
        size_t off = rng() % 64, n = rng() % (70000 - 64);
        uint64_t c64 = crc_bitwise(POLY64, 64, b + off, n);
        uint32_t c32c = (uint32_t)crc_bitwise(POLY32C, 32, b + off, n);
        cr_assert_eq(checksum_crc64nvme_table(0, b + off, n), c64);
        cr_assert_eq(checksum_crc32c_table(0, b + off, n), c32c);
        cr_assert_eq(checksum_crc32c_hw(0, b + off, n), c32c);
        char spec[32];
        snprintf(spec, sizeof spec, "crc32=%08x",
                 (unsigned)crc_bitwise(POLY32, 32, b + off, n));
        checksum c;
        sg_err e = {0};
        cr_assert_eq(checksum_parse(spec, &c, &e), SG_OK);
        checksum_hash *h = checksum_begin(&c);
        cr_assert_not_null(h);
        checksum_update(h, b + off, n);
        cr_assert_eq(checksum_end(h, &c, &e), SG_OK, "%s", err_msg(&e));
    }
    free(b);
}

Test(unit_checksum, crc_kernels_continue_across_calls)
{
    unsigned char *b = random_buf(100000);
    uint32_t whole32c = checksum_crc32c_table(0, b, 100000);
    uint64_t whole64 = checksum_crc64nvme_table(0, b, 100000);
    uint32_t t = 0, hw = 0;
    uint64_t t64 = 0;
    for (size_t at = 0; at < 100000;) {
        size_t n = rng() % 9000;
        if (n > 100000 - at)
            n = 100000 - at;
        t = checksum_crc32c_table(t, b + at, n);
        hw = checksum_crc32c_hw(hw, b + at, n);
        t64 = checksum_crc64nvme_table(t64, b + at, n);
        at += n;
    }
    cr_expect_eq(t, whole32c);
    cr_expect_eq(hw, whole32c);
    cr_expect_eq(t64, whole64);
    free(b);
}

/* A large buffer hashed in pieces split at random boundaries (empty ones
 * too) matches the reference computed in one go, for every CRC. */
Test(unit_checksum, crcs_over_random_splits)
{
    size_t n = (3 << 20) + 13;
    unsigned char *b = random_buf(n);
    char spec[3][40];
    snprintf(spec[0], sizeof spec[0], "crc32=%08x",
             (unsigned)crc_bitwise(POLY32, 32, b, n));
    snprintf(spec[1], sizeof spec[1], "crc32c=%08x",
             (unsigned)crc_bitwise(POLY32C, 32, b, n));
    snprintf(spec[2], sizeof spec[2], "crc64nvme=%016llx",
             (unsigned long long)crc_bitwise(POLY64, 64, b, n));
    for (int k = 0; k < 3; k++)
        for (int round = 0; round < 3; round++) {
            checksum c;
            sg_err e = {0};
            cr_assert_eq(checksum_parse(spec[k], &c, &e), SG_OK);
            checksum_hash *h = checksum_begin(&c);
            cr_assert_not_null(h);
            for (size_t at = 0; at < n;) {
                size_t m = rng() % (round == 0 ? 16 : 300000);
                if (m > n - at)
                    m = n - at;
                checksum_update(h, b + at, m);
                at += m;
            }
            cr_expect_eq(checksum_end(h, &c, &e), SG_OK, "%s: %s", spec[k],
                         err_msg(&e));
            err_reset(&e);
        }
    free(b);
}
