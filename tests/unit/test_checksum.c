/* SPDX-License-Identifier: MIT */
/* Unit tests for checksum.c: parsing and checking digests. */
#include <criterion/criterion.h>
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
