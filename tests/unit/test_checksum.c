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
