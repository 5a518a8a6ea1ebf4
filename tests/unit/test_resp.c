/* SPDX-License-Identifier: MIT */
/* Unit tests for resp.c: one response's fields from raw header lines. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "resp.h"

static void feed(resp *r, const char *const *lines)
{
    for (int i = 0; lines[i]; i++)
        cr_assert_eq(resp_line(r, lines[i], strlen(lines[i])), 0);
}

Test(unit_resp, status_lines)
{
    cr_assert_eq(resp_status_line("HTTP/1.1 206 Partial Content\r\n", 30), 206);
    cr_assert_eq(resp_status_line("HTTP/2 200\r\n", 12), 200);
    cr_assert_eq(resp_status_line("HTTP/1.0 404 \r\n", 15), 404);
    cr_assert_eq(resp_status_line("HTTP/1.1 20 OK\r\n", 16), -1);
    cr_assert_eq(resp_status_line("HTTP/1.1 2000 OK\r\n", 18), -1);
    cr_assert_eq(resp_status_line("Content-Length: 5\r\n", 19), -1);
    cr_assert_eq(resp_status_line("HTTP/1.1\r\n", 10), -1);
    cr_assert_eq(resp_status_line("HTTP/1.1 099 X\r\n", 16), -1);
}

Test(unit_resp, a_206)
{
    resp r;
    resp_init(&r);
    const char *l[] = {"HTTP/1.1 206 Partial Content\r\n",
                       "Content-Range: bytes 10-19/100\r\n",
                       "Content-Length: 10\r\n",
                       "ETag: \"abc\"\r\n",
                       "Last-Modified: Sun, 01 Nov 2026 00:00:00 GMT\r\n",
                       "Accept-Ranges: bytes\r\n",
                       "\r\n",
                       NULL};
    feed(&r, l);
    cr_assert_eq(r.status, 206);
    cr_assert(r.has_range);
    cr_assert_eq(r.range.first, 10);
    cr_assert_eq(r.range.last, 19);
    cr_assert_eq(r.range.total, 100);
    cr_assert_eq(r.length, 10);
    cr_assert_str_eq(r.etag, "\"abc\"");
    cr_assert(r.etag_strong);
    cr_assert_str_eq(r.last_modified, "Sun, 01 Nov 2026 00:00:00 GMT");
    cr_assert(r.accept_ranges);
    cr_assert(!r.encoded && !r.conflict && !r.bad_range && !r.bad_length);
    resp_cleanup(&r);
}

Test(unit_resp, redirect_hops_are_forgotten)
{
    resp r;
    resp_init(&r);
    const char *l[] = {"HTTP/1.1 302 Found\r\n",
                       "Location: /elsewhere\r\n",
                       "Content-Length: 99\r\n",
                       "ETag: \"redirect\"\r\n",
                       "\r\n",
                       "HTTP/1.1 200 OK\r\n",
                       "Content-Length: 5\r\n",
                       "\r\n",
                       NULL};
    feed(&r, l);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.length, 5);
    cr_assert_null(r.etag);
    cr_assert(!r.has_location);
    resp_cleanup(&r);
}

Test(unit_resp, conflicting_duplicates)
{
    const char *cases[][3] = {
        {"Content-Length: 5\r\n", "Content-Length: 6\r\n", NULL},
        {"Content-Range: bytes 0-9/100\r\n", "Content-Range: bytes 0-9/101\r\n",
         NULL},
        {"ETag: \"a\"\r\n", "ETag: \"b\"\r\n", NULL},
        {"Last-Modified: x\r\n", "Last-Modified: y\r\n", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        resp r;
        resp_init(&r);
        resp_line(&r, "HTTP/1.1 206 X\r\n", 16);
        feed(&r, cases[i]);
        cr_expect(r.conflict, "case %zu", i);
        resp_cleanup(&r);
    }
    resp r;
    resp_init(&r);
    const char *same[] = {"Content-Length: 5\r\n", "content-length: 5\r\n",
                          NULL};
    feed(&r, same);
    cr_assert(!r.conflict, "identical duplicates are fine");
    resp_cleanup(&r);
}

Test(unit_resp, malformed_values_flagged)
{
    resp r;
    resp_init(&r);
    const char *l[] = {"HTTP/1.1 206 X\r\n", "Content-Length: 1e3\r\n",
                       "Content-Range: bytes 5-1/10\r\n", "ETag: abc\r\n",
                       "Retry-After: soon\r\n", NULL};
    feed(&r, l);
    cr_assert(r.bad_length);
    cr_assert(r.bad_range);
    cr_assert(r.bad_etag);
    cr_assert_null(r.etag);
    cr_assert_eq(r.length, -1);
    cr_assert(!r.has_range);
    cr_assert_eq(r.retry_after, -1);
    resp_cleanup(&r);
}

Test(unit_resp, weak_etag_encoding_multipart)
{
    resp r;
    resp_init(&r);
    const char *l[] = {"HTTP/1.1 503 X\r\n", "ETag: W/\"w\"\r\n",
                       "Content-Encoding: gzip\r\n", "Retry-After: 7\r\n",
                       "Content-Type: Multipart/ByteRanges; boundary=x\r\n",
                       NULL};
    feed(&r, l);
    cr_assert_str_eq(r.etag, "W/\"w\"");
    cr_assert(!r.etag_strong);
    cr_assert(r.encoded);
    cr_assert(r.multipart);
    /* Retry-After is libcurl's to read (both of its forms). */
    cr_assert_eq(r.retry_after, -1);
    resp_cleanup(&r);
}

Test(unit_resp, a_total_of_zero_is_seen_even_in_an_impossible_range)
{
    const char *vals[] = {"bytes */0", "bytes 0-0/0", "bytes 0-9/ 0",
                          "bytes 0-9/00"};
    for (int i = 0; i < 4; i++) {
        resp r;
        resp_init(&r);
        char line[64];
        snprintf(line, sizeof line, "Content-Range: %s\r\n", vals[i]);
        const char *l[] = {"HTTP/1.1 206 X\r\n", line, NULL};
        feed(&r, l);
        cr_assert(r.zero_total, "%s", vals[i]);
        resp_cleanup(&r);
    }
    const char *not[] = {"bytes 0-0/1", "bytes */10", "bytes 0-0/*", "x/0y"};
    for (int i = 0; i < 4; i++) {
        resp r;
        resp_init(&r);
        char line[64];
        snprintf(line, sizeof line, "Content-Range: %s\r\n", not[i]);
        const char *l[] = {"HTTP/1.1 206 X\r\n", line, NULL};
        feed(&r, l);
        cr_assert(!r.zero_total, "%s", not[i]);
        resp_cleanup(&r);
    }
}

Test(unit_resp, validator_difference)
{
    cr_assert(!resp_validator_differs(NULL, NULL));
    cr_assert(!resp_validator_differs("\"a\"", NULL));
    cr_assert(!resp_validator_differs(NULL, "\"a\""));
    cr_assert(!resp_validator_differs("\"a\"", "\"a\""));
    cr_assert(resp_validator_differs("\"a\"", "\"b\""));
}
