/* SPDX-License-Identifier: MIT */
/* Unit tests for hdr.c: the header parsers that gate every write. */
#include <criterion/criterion.h>
#include <string.h>

#include "hdr.h"

#define S(x) x, strlen(x)

Test(unit_hdr, int_accepts_plain_digits)
{
    int64_t v;
    cr_assert_eq(hdr_parse_int(S("0"), &v), 0);
    cr_assert_eq(v, 0);
    cr_assert_eq(hdr_parse_int(S("  12345\t"), &v), 0);
    cr_assert_eq(v, 12345);
    cr_assert_eq(hdr_parse_int(S("9223372036854775807"), &v), 0);
    cr_assert_eq(v, INT64_MAX);
}

Test(unit_hdr, int_rejects_everything_else)
{
    int64_t v = 7;
    const char *bad[] = {"", " ", "-1", "+1", "1e3", "0x10", "1.0", "12a",
                         "9223372036854775808", "36893488147419103232",
                         "1 2", "١"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_expect_eq(hdr_parse_int(S(bad[i]), &v), -1, "accepted '%s'",
                     bad[i]);
    cr_assert_eq(v, 7, "output written on failure");
}

Test(unit_hdr, length_lists)
{
    int64_t v;
    cr_assert_eq(hdr_parse_length(S("42"), &v), 0);
    cr_assert_eq(v, 42);
    cr_assert_eq(hdr_parse_length(S("42, 42"), &v), 0);
    cr_assert_eq(v, 42);
    cr_assert_eq(hdr_parse_length(S("42, 43"), &v), -1);
    cr_assert_eq(hdr_parse_length(S("42,"), &v), -1);
    cr_assert_eq(hdr_parse_length(S(",42"), &v), -1);
    cr_assert_eq(hdr_parse_length(S("-1"), &v), -1);
    cr_assert_eq(hdr_parse_length(S("1e3"), &v), -1);
    /* 2^65 */
    cr_assert_eq(hdr_parse_length(S("36893488147419103232"), &v), -1);
}

Test(unit_hdr, content_range_good)
{
    hdr_range r;
    cr_assert_eq(hdr_parse_content_range(S("bytes 0-99/1000"), &r), 0);
    cr_assert_eq(r.first, 0);
    cr_assert_eq(r.last, 99);
    cr_assert_eq(r.total, 1000);
    cr_assert_eq(hdr_parse_content_range(S("BYTES 5-5/6\r\n"), &r), 0);
    cr_assert_eq(r.last, 5);
    cr_assert_eq(hdr_parse_content_range(S("bytes 0-9/*"), &r), 0);
    cr_assert_eq(r.total, -1);
    cr_assert_eq(hdr_parse_content_range(S("bytes */0"), &r), 0);
    cr_assert_eq(r.first, -1);
    cr_assert_eq(r.total, 0);
    cr_assert_eq(
        hdr_parse_content_range(
            S("bytes 4611686018427387903-4611686018427387903/"
              "4611686018427387904"),
            &r),
        0);
    cr_assert_eq(r.total, INT64_C(1) << 62);
}

Test(unit_hdr, content_range_bad)
{
    hdr_range r = {1, 2, 3};
    const char *bad[] = {
        "",
        "bytes",
        "bytes ",
        "bytes 0-99",
        "bytes 0-99/",
        "bytes 0-99/100x",
        "bytes 100-0/1000",   /* reversed */
        "bytes 0-1000/1000",  /* last == total */
        "bytes 0-99/-1",
        "bytes -1-99/1000",
        "bytes 0--99/1000",
        "bytes 0-99/1e3",
        "bytes 0-9/36893488147419103232", /* 2^65 */
        "bytes 36893488147419103232-36893488147419103233/*",
        "bytes */*",
        "items 0-9/10",
        "bytes=0-9/10",
        "bytes  0-9/10",
        "bytes 0 - 9/10",
        "bytes 0-9, 20-29/100",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_expect_eq(hdr_parse_content_range(S(bad[i]), &r), -1,
                     "accepted '%s'", bad[i]);
    cr_assert_eq(r.first, 1);
}

Test(unit_hdr, etag_strong_weak_malformed)
{
    const char *t;
    size_t n;
    cr_assert_eq(hdr_parse_etag(S("\"abc\""), &t, &n), 1);
    cr_assert_eq(n, 5);
    cr_assert_eq(hdr_parse_etag(S(" \"6b026b6b-3e8\" \r\n"), &t, &n), 1);
    cr_assert_eq(strncmp(t, "\"6b026b6b-3e8\"", n), 0);
    cr_assert_eq(hdr_parse_etag(S("\"\""), &t, &n), 1);
    cr_assert_eq(hdr_parse_etag(S("W/\"abc\""), &t, &n), 0);
    cr_assert_eq(n, 7);
    const char *bad[] = {"", "abc", "\"abc", "abc\"", "w/\"abc\"",
                         "W/abc", "\"a\"b\"", "\"a b\"", "\"", "W/"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_expect_eq(hdr_parse_etag(S(bad[i]), &t, &n), -1, "accepted '%s'",
                     bad[i]);
}

Test(unit_hdr, accept_ranges)
{
    cr_assert_eq(hdr_accepts_bytes(S("bytes")), 1);
    cr_assert_eq(hdr_accepts_bytes(S(" Bytes ")), 1);
    cr_assert_eq(hdr_accepts_bytes(S("none, bytes")), 1);
    cr_assert_eq(hdr_accepts_bytes(S("none")), 0);
    cr_assert_eq(hdr_accepts_bytes(S("")), 0);
    cr_assert_eq(hdr_accepts_bytes(S("bytesx")), 0);
}

Test(unit_hdr, encoding)
{
    cr_assert_eq(hdr_is_encoded(S("")), 0);
    cr_assert_eq(hdr_is_encoded(S("identity")), 0);
    cr_assert_eq(hdr_is_encoded(S(" Identity\r\n")), 0);
    cr_assert_eq(hdr_is_encoded(S("gzip")), 1);
    cr_assert_eq(hdr_is_encoded(S("br")), 1);
}

Test(unit_hdr, split_lines)
{
    const char *n, *v;
    size_t nl, vl;
    cr_assert_eq(hdr_split(S("Content-Range:  bytes 0-1/2 \r\n"), &n, &nl, &v,
                           &vl),
                 0);
    cr_assert(hdr_name_is(n, nl, "content-range"));
    cr_assert_eq(vl, strlen("bytes 0-1/2"));
    cr_assert_eq(hdr_split(S("X:\r\n"), &n, &nl, &v, &vl), 0);
    cr_assert_eq(vl, 0);
    cr_assert_eq(hdr_split(S("HTTP/1.1 206 Partial\r\n"), &n, &nl, &v, &vl),
                 -1);
    cr_assert_eq(hdr_split(S("\r\n"), &n, &nl, &v, &vl), -1);
    cr_assert_eq(hdr_split(S(": x\r\n"), &n, &nl, &v, &vl), -1);
    cr_assert_eq(hdr_split(S("Bad Name: x\r\n"), &n, &nl, &v, &vl), -1);
}

Test(unit_hdr, name_compare)
{
    cr_assert(hdr_name_is("ETag", 4, "etag"));
    cr_assert(!hdr_name_is("ETag", 4, "etags"));
    cr_assert(!hdr_name_is("ETa", 3, "etag"));
}

