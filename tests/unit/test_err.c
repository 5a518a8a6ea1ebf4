/* SPDX-License-Identifier: MIT */
/* Unit tests for err.c: the first failure wins, and the HTTP status of
 * one that is an HTTP status goes wherever its record is copied. */
#include <criterion/criterion.h>

#include "err.h"

Test(unit_err, the_first_failure_wins_with_its_status)
{
    sg_err e = {0};
    cr_expect_eq(err_http(&e, 404, SG_EHTTP, "u: HTTP %d", 404), SG_EHTTP);
    cr_expect_eq(err_http(&e, 503, SG_EHTTP, "later"), SG_EHTTP);
    cr_expect_eq(err_set(&e, SG_EIO, "later still"), SG_EHTTP);
    cr_expect_eq(e.status, 404);
    cr_expect_str_eq(err_msg(&e), "u: HTTP 404");
    err_reset(&e);
    cr_expect_eq(e.code, SG_OK);
    cr_expect_eq(e.status, 0);
    cr_expect_str_eq(err_msg(&e), "");
}

Test(unit_err, a_status_stays_only_with_an_http_error)
{
    sg_err e = {0};
    /* A 416 judged a protocol fault, a 200 with other bytes: not an
     * HTTP status failure. */
    err_http(&e, 416, SG_EPROTO, "416 for bytes 0-9");
    cr_expect_eq(e.status, 0);
    err_reset(&e);
    err_set(&e, SG_EHTTP, "the proxy answered 407 to CONNECT");
    cr_expect_eq(e.status, 0, "err_set records no status");
    err_reset(&e);
}

Test(unit_err, copies_and_merges_carry_the_status)
{
    sg_err q = {0}, p = {0}, dl = {0};
    err_http(&q, 503, SG_EHTTP, "u: HTTP 503");
    cr_expect_eq(err_copy(&p, SG_EHTTP, &q), SG_EHTTP);
    cr_expect_eq(p.status, 503);
    cr_expect_str_eq(err_msg(&p), "u: HTTP 503");
    cr_expect_eq(q.code, SG_EHTTP, "the source is left as it is");
    /* Under another code, the status does not follow. */
    sg_err other = {0};
    err_copy(&other, SG_ENETWORK, &q);
    cr_expect_eq(other.status, 0);
    cr_expect_str_eq(err_msg(&other), "u: HTTP 503");
    /* An empty source: the code's own words. */
    sg_err none = {0}, to = {0};
    err_copy(&to, SG_ENETWORK, &none);
    cr_expect_str_eq(err_msg(&to), sg_strerror(SG_ENETWORK));
    err_merge(&dl, &p);
    cr_expect_eq(dl.status, 503);
    cr_expect_eq(p.code, SG_OK);
    cr_expect_eq(p.status, 0);
    err_reset(&q);
    err_reset(&dl);
    err_reset(&other);
    err_reset(&to);
}
