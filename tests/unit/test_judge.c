/* SPDX-License-Identifier: MIT */
/* Unit tests for judge.c: the verdict on every response, from raw header
 * lines, and the body-length guard. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "judge.h"

#define ETAG "\"v1\""
#define LM "Sun, 01 Nov 2026 00:00:00 GMT"
#define L 1048576 /* a batch's first GET: bytes=0-(L-1) */

/* What was asked. */
static judge_ask ask_range(int64_t first, int64_t last, int64_t total)
{
    return (judge_ask){.head = 0, .first = first, .last = last, .total = total};
}

static judge_ask ask_plan(int64_t first, int64_t last, int64_t total)
{
    judge_ask a = ask_range(first, last, total);
    a.etag = ETAG;
    a.last_modified = LM;
    return a;
}

static judge_ask ask_plain(void)
{
    return ask_range(-1, -1, -1);
}

static const char *vname(judge_verdict v)
{
    static const char *n[] = {"BODY",     "EMPTY", "UNCHANGED",
                              "REDIRECT", "RETRY", "CHANGED",
                              "RESIZED",  "HTTP",  "PROTO"};
    return (unsigned)v < sizeof n / sizeof *n ? n[v] : "?";
}

/* Build a resp from header lines (without CRLF; NULL ends them). */
static void build(resp *r, const char *const *lines)
{
    resp_init(r);
    for (int i = 0; lines[i]; i++) {
        char buf[512];
        int n = snprintf(buf, sizeof buf, "%s\r\n", lines[i]);
        cr_assert(n > 0 && (size_t)n < sizeof buf);
        cr_assert_eq(resp_line(r, buf, (size_t)n), 0);
    }
    cr_assert_eq(resp_line(r, "\r\n", 2), 0);
}

/* Judge the response of lines to a; returns the verdict. */
static judge_verdict judge_lines(const judge_ask *a, const char *const *lines,
                                 judge_result *out)
{
    resp r;
    build(&r, lines);
    memset(out, 0x5a, sizeof *out); /* no field may be left unset */
    judge_verdict v = judge_response(a, &r, out);
    cr_assert_eq(v, out->verdict, "returned %s, recorded %s", vname(v),
                 vname(out->verdict));
    cr_assert_eq(out->status, r.status, "status %d, response %d", out->status,
                 r.status);
    cr_assert(memchr(out->why, 0, sizeof out->why), "why is terminated");
    if (v != JV_BODY && v != JV_REDIRECT && v != JV_UNCHANGED)
        cr_assert(out->why[0], "%s without a reason", vname(v));
    resp_cleanup(&r);
    return v;
}

#define LINES(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ---------------------------------------------------------------------
 * A table of cases
 * ------------------------------------------------------------------ */

#define V(x) (1u << (x))

typedef struct jcase {
    const char *name;
    judge_ask a;
    const char *lines[10];
    unsigned want; /* V(verdict) | ... */
    /* For JV_BODY: */
    int partial;
    int64_t off, len, total;
} jcase;

#define BODY(p, o, l, t) V(JV_BODY), (p), (o), (l), (t)
#define NB(m) (m), 0, 0, 0, 0 /* any verdict of m, no body */

static void run_cases(const jcase *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        judge_result v;
        judge_verdict got = judge_lines(&c[i].a, c[i].lines, &v);
        cr_expect(c[i].want & V(got), "%s: got %s (%s)", c[i].name, vname(got),
                  v.why);
        if (got != JV_BODY || !(c[i].want & V(JV_BODY)))
            continue;
        cr_expect_eq(v.partial, c[i].partial, "%s: partial %d", c[i].name,
                     v.partial);
        cr_expect_eq(v.off, c[i].off, "%s: off %lld", c[i].name,
                     (long long)v.off);
        cr_expect_eq(v.len, c[i].len, "%s: len %lld", c[i].name,
                     (long long)v.len);
        cr_expect_eq(v.total, c[i].total, "%s: total %lld", c[i].name,
                     (long long)v.total);
    }
}

#define RUN(t) run_cases((t), sizeof(t) / sizeof *(t))

/* ---------------------------------------------------------------------
 * Statuses
 * ------------------------------------------------------------------ */

Test(unit_judge, every_status_class)
{
    judge_ask mid = ask_plan(100, 199, 1000);
    judge_ask cond = mid;
    cond.conditional = 1;
    const jcase t[] = {
        {"no status line", mid, {"Content-Length: 100"}, NB(V(JV_PROTO))},
        {"no lines at all", mid, {NULL}, NB(V(JV_PROTO))},
        {"100 alone", mid, {"HTTP/1.1 100 Continue"}, NB(V(JV_PROTO))},
        {"101", mid, {"HTTP/1.1 101 Switching Protocols"}, NB(V(JV_PROTO))},
        {"103",
         mid,
         {"HTTP/1.1 103 Early Hints", "Link: </x>"},
         NB(V(JV_PROTO))},
        {"199", mid, {"HTTP/1.1 199 X"}, NB(V(JV_PROTO))},
        {"600", mid, {"HTTP/1.1 600 X"}, NB(V(JV_PROTO))},
        {"999", mid, {"HTTP/1.1 999 X"}, NB(V(JV_PROTO))},
        {"100 then 206",
         mid,
         {"HTTP/1.1 100 Continue", "", "HTTP/1.1 206 Partial Content",
          "Content-Range: bytes 100-199/1000", "Content-Length: 100"},
         BODY(1, 100, 100, 1000)},
        {"200 ignoring the range",
         mid,
         {"HTTP/1.1 200 OK", "Content-Length: 1000", "ETag: " ETAG},
         BODY(0, 0, 1000, 1000)},
        {"203",
         mid,
         {"HTTP/1.1 203 Non-Authoritative", "Content-Length: 1000",
          "ETag: " ETAG},
         BODY(0, 0, 1000, 1000)},
        {"206",
         mid,
         {"HTTP/2 206", "Content-Range: bytes 100-199/1000",
          "Content-Length: 100", "ETag: " ETAG, "Last-Modified: " LM},
         BODY(1, 100, 100, 1000)},
        {"304 to a conditional request",
         cond,
         {"HTTP/1.1 304 Not Modified"},
         NB(V(JV_UNCHANGED))},
        {"304 with a Location to a conditional request",
         cond,
         {"HTTP/1.1 304 Not Modified", "Location: /x"},
         NB(V(JV_UNCHANGED))},
        {"304 to a plain request",
         mid,
         {"HTTP/1.1 304 Not Modified"},
         NB(V(JV_HTTP))},
        {"300 with Location",
         mid,
         {"HTTP/1.1 300 X", "Location: /x"},
         NB(V(JV_REDIRECT))},
        {"301 with Location",
         mid,
         {"HTTP/1.1 301 X", "Location: /x"},
         NB(V(JV_REDIRECT))},
        {"302 with Location",
         mid,
         {"HTTP/1.1 302 X", "Location: /x"},
         NB(V(JV_REDIRECT))},
        {"303 with Location",
         mid,
         {"HTTP/1.1 303 X", "Location: /x"},
         NB(V(JV_REDIRECT))},
        {"307 with Location",
         mid,
         {"HTTP/1.1 307 X", "Location: /x"},
         NB(V(JV_REDIRECT))},
        {"308 with Location",
         mid,
         {"HTTP/1.1 308 X", "Location: /x"},
         NB(V(JV_REDIRECT))},
        {"301 without Location", mid, {"HTTP/1.1 301 X"}, NB(V(JV_HTTP))},
        {"302 without Location", mid, {"HTTP/1.1 302 X"}, NB(V(JV_HTTP))},
        {"307 without Location", mid, {"HTTP/1.1 307 X"}, NB(V(JV_HTTP))},
        {"308 without Location", mid, {"HTTP/1.1 308 X"}, NB(V(JV_HTTP))},
        {"Location of an earlier hop is forgotten",
         mid,
         {"HTTP/1.1 302 X", "Location: /x", "", "HTTP/1.1 302 X"},
         NB(V(JV_HTTP))},
        {"400", mid, {"HTTP/1.1 400 X"}, NB(V(JV_HTTP))},
        {"401",
         mid,
         {"HTTP/1.1 401 X", "WWW-Authenticate: Basic"},
         NB(V(JV_HTTP))},
        {"403", mid, {"HTTP/1.1 403 X"}, NB(V(JV_HTTP))},
        {"404", mid, {"HTTP/1.1 404 X", "Content-Length: 9"}, NB(V(JV_HTTP))},
        {"405", mid, {"HTTP/1.1 405 X"}, NB(V(JV_HTTP))},
        {"407", mid, {"HTTP/1.1 407 X"}, NB(V(JV_HTTP))},
        {"408", mid, {"HTTP/1.1 408 X"}, NB(V(JV_RETRY))},
        {"410", mid, {"HTTP/1.1 410 X"}, NB(V(JV_HTTP))},
        {"425", mid, {"HTTP/1.1 425 X"}, NB(V(JV_RETRY))},
        {"429", mid, {"HTTP/1.1 429 X", "Retry-After: 5"}, NB(V(JV_RETRY))},
        {"451", mid, {"HTTP/1.1 451 X"}, NB(V(JV_HTTP))},
        {"500", mid, {"HTTP/1.1 500 X"}, NB(V(JV_RETRY))},
        {"501", mid, {"HTTP/1.1 501 X"}, NB(V(JV_HTTP))},
        {"502", mid, {"HTTP/1.1 502 X"}, NB(V(JV_RETRY))},
        {"503", mid, {"HTTP/1.1 503 X", "Retry-After: 5"}, NB(V(JV_RETRY))},
        {"504", mid, {"HTTP/1.1 504 X"}, NB(V(JV_RETRY))},
        {"505", mid, {"HTTP/1.1 505 X"}, NB(V(JV_HTTP))},
        {"506", mid, {"HTTP/1.1 506 X"}, NB(V(JV_HTTP))},
        {"507", mid, {"HTTP/1.1 507 X"}, NB(V(JV_RETRY))},
        {"510", mid, {"HTTP/1.1 510 X"}, NB(V(JV_HTTP))},
        {"511", mid, {"HTTP/1.1 511 X"}, NB(V(JV_HTTP))},
        {"599", mid, {"HTTP/1.1 599 X"}, NB(V(JV_RETRY))},
        /* A 5xx carrying a 302's Location is still a 5xx. */
        {"503 with a Location",
         mid,
         {"HTTP/1.1 503 X", "Location: /x"},
         NB(V(JV_RETRY))},
        /* Transient statuses are retried whatever their fields say. */
        {"503 with conflicting lengths",
         mid,
         {"HTTP/1.1 503 X", "Content-Length: 5", "Content-Length: 6"},
         NB(V(JV_RETRY))},
        {"429 with a bad length",
         mid,
         {"HTTP/1.1 429 X", "Content-Length: -1"},
         NB(V(JV_RETRY))},
        /* ... but fields that cannot be trusted make any other status a
         * protocol error. */
        {"404 with conflicting lengths",
         mid,
         {"HTTP/1.1 404 X", "Content-Length: 5", "Content-Length: 6"},
         NB(V(JV_PROTO))},
        {"404 with a bad length",
         mid,
         {"HTTP/1.1 404 X", "Content-Length: 1e3"},
         NB(V(JV_PROTO))},
        {"403 with conflicting ETags",
         mid,
         {"HTTP/1.1 403 X", "ETag: \"a\"", "ETag: \"b\""},
         NB(V(JV_PROTO))},
    };
    RUN(t);
}

Test(unit_judge, why_names_the_status)
{
    judge_ask a = ask_plan(100, 199, 1000);
    judge_result v;
    cr_assert_eq(judge_lines(&a, LINES("HTTP/1.1 404 Not Found"), &v), JV_HTTP);
    cr_expect(strstr(v.why, "404"), "why: %s", v.why);
    cr_assert_eq(judge_lines(&a, LINES("HTTP/1.1 503 X"), &v), JV_RETRY);
    cr_expect(strstr(v.why, "503"), "why: %s", v.why);
}

Test(unit_judge, statuses_100_to_599_are_each_judged_once)
{
    /* Every status gets some verdict with a reason where one is due; 2xx
     * other than 206 with the planned length and validators is a body. */
    judge_ask a = ask_plan(-1, -1, 1000);
    for (int st = 100; st <= 599; st++) {
        char sl[64];
        snprintf(sl, sizeof sl, "HTTP/1.1 %d X", st);
        judge_result v;
        judge_verdict got = judge_lines(
            &a, LINES(sl, "Content-Length: 1000", "ETag: " ETAG), &v);
        if (st < 200)
            cr_expect_eq(got, JV_PROTO, "%d: %s", st, vname(got));
        else if (st < 300 && st != 206)
            cr_expect_eq(got, JV_BODY, "%d: %s", st, vname(got));
        else if (st == 206)
            cr_expect_eq(got, JV_PROTO, "206 without a range asked");
        else if (st < 400)
            cr_expect_eq(got, JV_HTTP, "%d without Location: %s", st,
                         vname(got));
        else
            cr_expect(got == JV_HTTP || got == JV_RETRY, "%d: %s", st,
                      vname(got));
    }
}

/* ---------------------------------------------------------------------
 * Content-Range
 * ------------------------------------------------------------------ */

Test(unit_judge, content_range_from_byte_0_with_a_known_total)
{
    judge_ask a = ask_range(0, 99, 1000);
#define S206(cr)                                                               \
    {                                                                          \
        "HTTP/1.1 206 Partial Content", "Content-Range: " cr                   \
    }
    const jcase t[] = {
        {"equal", a, S206("bytes 0-99/1000"), BODY(1, 0, 100, 1000)},
        {"unit in capitals", a, S206("BYTES 0-99/1000"), BODY(1, 0, 100, 1000)},
        {"shifted", a, S206("bytes 1-100/1000"), NB(V(JV_PROTO))},
        {"short", a, S206("bytes 0-49/1000"), NB(V(JV_PROTO))},
        {"long", a, S206("bytes 0-199/1000"), NB(V(JV_PROTO))},
        {"other total", a, S206("bytes 0-99/2000"), NB(V(JV_RESIZED))},
        {"smaller total", a, S206("bytes 0-99/500"), NB(V(JV_RESIZED))},
        {"unknown total", a, S206("bytes 0-99/*"), NB(V(JV_PROTO))},
        {"unsatisfied", a, S206("bytes */1000"), NB(V(JV_PROTO))},
        {"unsatisfied, other total", a, S206("bytes */500"),
         NB(V(JV_PROTO) | V(JV_RESIZED))},
        /* The resource is empty now: another size than planned. */
        {"empty resource", a, S206("bytes */0"), NB(V(JV_RESIZED))},
        {"impossible 0-0/0", a, S206("bytes 0-0/0"), NB(V(JV_RESIZED))},
        {"missing",
         a,
         {"HTTP/1.1 206 Partial Content", "Content-Length: 100"},
         NB(V(JV_PROTO))},
        {"no unit", a, S206("0-99/1000"), NB(V(JV_PROTO))},
        {"other unit", a, S206("items 0-99/1000"), NB(V(JV_PROTO))},
        {"'=' for the space", a, S206("bytes=0-99/1000"), NB(V(JV_PROTO))},
        {"no total", a, S206("bytes 0-99"), NB(V(JV_PROTO))},
        {"reversed", a, S206("bytes 99-0/1000"), NB(V(JV_PROTO))},
        {"past the total", a, S206("bytes 0-1000/1000"), NB(V(JV_PROTO))},
        {"negative", a, S206("bytes -1-99/1000"), NB(V(JV_PROTO))},
        {"negative total", a, S206("bytes 0-99/-1000"), NB(V(JV_PROTO))},
        {"trailing junk", a, S206("bytes 0-99/1000x"), NB(V(JV_PROTO))},
        {"* / *", a, S206("bytes */*"), NB(V(JV_PROTO))},
        {"total past int64", a, S206("bytes 0-99/9223372036854775808"),
         NB(V(JV_PROTO))},
        {"empty value", a, S206(""), NB(V(JV_PROTO))},
        {"duplicate, same",
         a,
         {"HTTP/1.1 206 X", "Content-Range: bytes 0-99/1000",
          "Content-Range: bytes 0-99/1000"},
         BODY(1, 0, 100, 1000)},
        {"duplicate, different",
         a,
         {"HTTP/1.1 206 X", "Content-Range: bytes 0-99/1000",
          "Content-Range: bytes 0-99/1001"},
         NB(V(JV_PROTO))},
        {"a good one and a bad one",
         a,
         {"HTTP/1.1 206 X", "Content-Range: bytes 0-99/1000",
          "Content-Range: bytes 0-99"},
         NB(V(JV_PROTO))},
    };
    RUN(t);
}

Test(unit_judge, content_range_from_a_later_offset_with_a_known_total)
{
    judge_ask a = ask_range(100, 199, 1000);
    const jcase t[] = {
        {"equal", a, S206("bytes 100-199/1000"), BODY(1, 100, 100, 1000)},
        {"from byte 0", a, S206("bytes 0-99/1000"), NB(V(JV_PROTO))},
        {"shifted", a, S206("bytes 101-200/1000"), NB(V(JV_PROTO))},
        {"short", a, S206("bytes 100-149/1000"), NB(V(JV_PROTO))},
        {"long", a, S206("bytes 100-299/1000"), NB(V(JV_PROTO))},
        {"the rest of the file", a, S206("bytes 100-999/1000"),
         NB(V(JV_PROTO))},
        {"other total", a, S206("bytes 100-199/5000"), NB(V(JV_RESIZED))},
        {"unknown total", a, S206("bytes 100-199/*"), NB(V(JV_PROTO))},
        {"unsatisfied", a, S206("bytes */1000"), NB(V(JV_PROTO))},
        /* Later bytes of a resource that is now empty: never a body, and
         * not "empty" either (that is for byte 0). */
        {"empty resource", a, S206("bytes */0"),
         NB(V(JV_PROTO) | V(JV_RESIZED))},
        {"impossible 0-0/0", a, S206("bytes 0-0/0"),
         NB(V(JV_PROTO) | V(JV_RESIZED))},
        {"missing", a, {"HTTP/1.1 206 X"}, NB(V(JV_PROTO))},
        {"bad syntax", a, S206("bytes 100-/1000"), NB(V(JV_PROTO))},
    };
    RUN(t);
}

Test(unit_judge, content_range_of_a_batch_first_get)
{
    /* bytes=0-(L-1), the size unknown: a small file answers with all of
     * itself and its size. */
    judge_ask a = ask_range(0, L - 1, -1);
    const jcase t[] = {
        {"one byte", a, S206("bytes 0-0/1"), BODY(1, 0, 1, 1)},
        {"a small file", a, S206("bytes 0-499/500"), BODY(1, 0, 500, 500)},
        {"exactly L", a, S206("bytes 0-1048575/1048576"), BODY(1, 0, L, L)},
        {"L + 1", a, S206("bytes 0-1048575/1048577"), BODY(1, 0, L, L + 1)},
        {"a large file", a, S206("bytes 0-1048575/5000000000"),
         BODY(1, 0, L, INT64_C(5000000000))},
        {"short of a larger file", a, S206("bytes 0-499/5000000"),
         NB(V(JV_PROTO))},
        {"short of the file too", a, S206("bytes 0-498/500"), NB(V(JV_PROTO))},
        {"shifted", a, S206("bytes 1-500/501"), NB(V(JV_PROTO))},
        {"past its own total", a, S206("bytes 0-1048575/500"), NB(V(JV_PROTO))},
        {"unknown total", a, S206("bytes 0-1048575/*"), NB(V(JV_PROTO))},
        {"unknown total, small", a, S206("bytes 0-499/*"), NB(V(JV_PROTO))},
        {"unsatisfied", a, S206("bytes */500"),
         NB(V(JV_PROTO) | V(JV_RESIZED))},
        {"empty resource", a, S206("bytes */0"), NB(V(JV_EMPTY))},
        {"impossible 0-0/0", a, S206("bytes 0-0/0"), NB(V(JV_EMPTY))},
        {"missing",
         a,
         {"HTTP/1.1 206 X", "Content-Length: 500"},
         NB(V(JV_PROTO))},
        {"Content-Length of the small file",
         a,
         {"HTTP/1.1 206 X", "Content-Range: bytes 0-499/500",
          "Content-Length: 500"},
         BODY(1, 0, 500, 500)},
        {"Content-Length of the range asked",
         a,
         {"HTTP/1.1 206 X", "Content-Range: bytes 0-499/500",
          "Content-Length: 1048576"},
         NB(V(JV_PROTO))},
        /* The server ignored the range: the whole file from byte 0. */
        {"200 of a small file",
         a,
         {"HTTP/1.1 200 OK", "Content-Length: 500"},
         BODY(0, 0, 500, 500)},
        {"200 without a length", a, {"HTTP/1.1 200 OK"}, BODY(0, 0, -1, -1)},
        {"200 of an empty file",
         a,
         {"HTTP/1.1 200 OK", "Content-Length: 0"},
         BODY(0, 0, 0, 0)},
    };
    RUN(t);
}

Test(unit_judge, content_range_from_a_later_offset_with_unknown_total)
{
    judge_ask a = ask_range(100, 199, -1);
    const jcase t[] = {
        {"equal", a, S206("bytes 100-199/1000"), BODY(1, 100, 100, 1000)},
        {"cut at the end", a, S206("bytes 100-149/150"), BODY(1, 100, 50, 150)},
        {"the last byte", a, S206("bytes 100-100/101"), BODY(1, 100, 1, 101)},
        {"past its own total", a, S206("bytes 100-199/150"), NB(V(JV_PROTO))},
        {"short of a larger file", a, S206("bytes 100-149/1000"),
         NB(V(JV_PROTO))},
        {"from byte 0", a, S206("bytes 0-99/1000"), NB(V(JV_PROTO))},
        {"unknown total", a, S206("bytes 100-199/*"), NB(V(JV_PROTO))},
    };
    RUN(t);
}

Test(unit_judge, a_206_that_was_not_asked_for)
{
    judge_ask a = ask_plain();
    judge_result v;
    cr_expect_eq(
        judge_lines(
            &a, LINES("HTTP/1.1 206 X", "Content-Range: bytes 0-99/1000"), &v),
        JV_PROTO);
}

/* ---------------------------------------------------------------------
 * 416 and empty resources
 * ------------------------------------------------------------------ */

Test(unit_judge, range_not_satisfiable)
{
    judge_ask first = ask_range(0, L - 1, -1);
    judge_ask zero_known = ask_range(0, 99, 1000);
    judge_ask mid = ask_range(100, 199, 1000);
    judge_ask mid_unknown = ask_range(100, 199, -1);
#define S416(cr)                                                               \
    {                                                                          \
        "HTTP/1.1 416 Range Not Satisfiable", "Content-Range: " cr             \
    }
    const jcase t[] = {
        /* Byte 0 does not exist: the resource is empty. */
        {"first GET, no Content-Range",
         first,
         {"HTTP/1.1 416 X"},
         NB(V(JV_EMPTY))},
        {"first GET, */0", first, S416("bytes */0"), NB(V(JV_EMPTY))},
        {"first GET, 0-0/0", first, S416("bytes 0-0/0"), NB(V(JV_EMPTY))},
        {"first GET, bad Content-Range", first, S416("bytes */abc"),
         NB(V(JV_PROTO))},
        /* The size known and no longer there. */
        {"from 0, known total, no Content-Range",
         zero_known,
         {"HTTP/1.1 416 X"},
         NB(V(JV_RESIZED))},
        {"later offset, no Content-Range",
         mid,
         {"HTTP/1.1 416 X"},
         NB(V(JV_RESIZED))},
        {"later offset, smaller now", mid, S416("bytes */50"),
         NB(V(JV_RESIZED))},
        {"later offset, other size containing the range", mid,
         S416("bytes */500"), NB(V(JV_RESIZED))},
        {"later offset, empty now", mid, S416("bytes */0"), NB(V(JV_RESIZED))},
        {"later offset, unknown total, no Content-Range",
         mid_unknown,
         {"HTTP/1.1 416 X"},
         NB(V(JV_PROTO))},
        {"later offset, unknown total, past the end", mid_unknown,
         S416("bytes */50"), NB(V(JV_RESIZED) | V(JV_PROTO))},
        {"later offset, unknown total, empty", mid_unknown, S416("bytes */0"),
         NB(V(JV_RESIZED) | V(JV_PROTO))},
        /* Not a range request at all. */
        {"no Range asked", ask_plain(), {"HTTP/1.1 416 X"}, NB(V(JV_HTTP))},
    };
    RUN(t);
}

Test(unit_judge, a_416_naming_the_planned_size_is_no_resize)
{
    /* The server says the resource still has the 1000 bytes of the plan,
     * yet refuses bytes 100-199 of it: a contradiction, not "another
     * size" (JV_RESIZED is "same validators, another size"; the plan
     * would be made again with the same size and get the same 416). */
    judge_ask a = ask_range(100, 199, 1000);
    judge_result v;
    judge_verdict got = judge_lines(
        &a, LINES("HTTP/1.1 416 X", "Content-Range: bytes */1000"), &v);
    cr_expect_eq(got, JV_PROTO, "got %s (%s)", vname(got), v.why);
}

Test(unit_judge, a_416_for_byte_0_of_a_nonempty_resource_is_no_resize)
{
    /* A batch's first GET (size unknown): "bytes * /500" says byte 0
     * exists, so refusing bytes 0-(L-1) violates RFC 9110 (416 only when
     * no byte of the range exists).  No size was planned, so "another
     * size" cannot be the verdict. */
    judge_ask a = ask_range(0, L - 1, -1);
    judge_result v;
    judge_verdict got = judge_lines(
        &a, LINES("HTTP/1.1 416 X", "Content-Range: bytes */500"), &v);
    cr_expect_eq(got, JV_PROTO, "got %s (%s)", vname(got), v.why);
}

Test(unit_judge, an_empty_resource_with_a_known_total_for_byte_0)
{
    /* "bytes * /0" means the resource is empty now: for a plan of 1000
     * bytes that is another size (start over), never "done". */
    judge_ask a = ask_range(0, 99, 1000);
    judge_result v;
    cr_expect_eq(
        judge_lines(&a, LINES("HTTP/1.1 416 X", "Content-Range: bytes */0"),
                    &v),
        JV_RESIZED);
    cr_expect_eq(
        judge_lines(&a, LINES("HTTP/1.1 206 X", "Content-Range: bytes */0"),
                    &v),
        JV_RESIZED);
    /* Without a plan (a batch's first GET) it is an empty file. */
    judge_ask f = ask_range(0, 99, -1);
    cr_expect_eq(
        judge_lines(&f, LINES("HTTP/1.1 416 X", "Content-Range: bytes */0"),
                    &v),
        JV_EMPTY);
}

/* ---------------------------------------------------------------------
 * Content-Length
 * ------------------------------------------------------------------ */

Test(unit_judge, content_length_of_a_206)
{
    judge_ask a = ask_range(100, 199, 1000);
#define CL206(...)                                                             \
    {                                                                          \
        "HTTP/1.1 206 X", "Content-Range: bytes 100-199/1000", __VA_ARGS__     \
    }
    const jcase t[] = {
        {"absent",
         a,
         {"HTTP/1.1 206 X", "Content-Range: bytes 100-199/1000"},
         BODY(1, 100, 100, 1000)},
        {"equal", a, CL206("Content-Length: 100"), BODY(1, 100, 100, 1000)},
        {"equal, spaces", a, CL206("Content-Length:   100  "),
         BODY(1, 100, 100, 1000)},
        {"one less", a, CL206("Content-Length: 99"), NB(V(JV_PROTO))},
        {"one more", a, CL206("Content-Length: 101"), NB(V(JV_PROTO))},
        {"the whole file", a, CL206("Content-Length: 1000"), NB(V(JV_PROTO))},
        {"zero", a, CL206("Content-Length: 0"), NB(V(JV_PROTO))},
        {"2^63 - 1", a, CL206("Content-Length: 9223372036854775807"),
         NB(V(JV_PROTO))},
        {"2^63", a, CL206("Content-Length: 9223372036854775808"),
         NB(V(JV_PROTO))},
        {"2^64 + 100", a, CL206("Content-Length: 18446744073709551716"),
         NB(V(JV_PROTO))},
        {"2^65", a, CL206("Content-Length: 36893488147419103232"),
         NB(V(JV_PROTO))},
        {"-1", a, CL206("Content-Length: -1"), NB(V(JV_PROTO))},
        {"+100", a, CL206("Content-Length: +100"), NB(V(JV_PROTO))},
        {"1e2", a, CL206("Content-Length: 1e2"), NB(V(JV_PROTO))},
        {"1e3", a, CL206("Content-Length: 1e3"), NB(V(JV_PROTO))},
        {"hex", a, CL206("Content-Length: 0x64"), NB(V(JV_PROTO))},
        {"empty", a, CL206("Content-Length: "), NB(V(JV_PROTO))},
        {"list of equal values", a, CL206("Content-Length: 100, 100"),
         BODY(1, 100, 100, 1000)},
        {"list of different values", a, CL206("Content-Length: 100, 101"),
         NB(V(JV_PROTO))},
        {"trailing comma", a, CL206("Content-Length: 100,"), NB(V(JV_PROTO))},
        {"duplicate, same", a,
         CL206("Content-Length: 100", "content-length: 100"),
         BODY(1, 100, 100, 1000)},
        {"duplicate, different", a,
         CL206("Content-Length: 100", "Content-Length: 101"), NB(V(JV_PROTO))},
        {"duplicate, one bad", a,
         CL206("Content-Length: 100", "Content-Length: x"), NB(V(JV_PROTO))},
    };
    RUN(t);
}

Test(unit_judge, content_length_of_a_200)
{
    judge_ask a = ask_plain();
#define CL200(...)                                                             \
    {                                                                          \
        "HTTP/1.1 200 OK", __VA_ARGS__                                         \
    }
    const jcase t[] = {
        {"absent", a, {"HTTP/1.1 200 OK"}, BODY(0, 0, -1, -1)},
        {"1000", a, CL200("Content-Length: 1000"), BODY(0, 0, 1000, 1000)},
        {"0", a, CL200("Content-Length: 0"), BODY(0, 0, 0, 0)},
        {"2^63 - 1", a, CL200("Content-Length: 9223372036854775807"),
         BODY(0, 0, INT64_MAX, INT64_MAX)},
        {"2^63", a, CL200("Content-Length: 9223372036854775808"),
         NB(V(JV_PROTO))},
        {"2^65", a, CL200("Content-Length: 36893488147419103232"),
         NB(V(JV_PROTO))},
        {"-1", a, CL200("Content-Length: -1"), NB(V(JV_PROTO))},
        {"1e3", a, CL200("Content-Length: 1e3"), NB(V(JV_PROTO))},
        {"5, 5", a, CL200("Content-Length: 5, 5"), BODY(0, 0, 5, 5)},
        {"5,5", a, CL200("Content-Length: 5,5"), BODY(0, 0, 5, 5)},
        {"5, 6", a, CL200("Content-Length: 5, 6"), NB(V(JV_PROTO))},
        {"duplicate, same", a, CL200("Content-Length: 5", "Content-Length: 5"),
         BODY(0, 0, 5, 5)},
        {"duplicate, different", a,
         CL200("Content-Length: 5", "Content-Length: 6"), NB(V(JV_PROTO))},
        {"a bad one after a good one", a,
         CL200("Content-Length: 5", "Content-Length: 5x"), NB(V(JV_PROTO))},
    };
    RUN(t);
}

Test(unit_judge, content_length_of_a_200_against_the_plan)
{
    /* The server ignored the Range of a planned download. */
    judge_ask a = ask_range(100, 199, 1000);
    const jcase t[] = {
        {"equal", a, CL200("Content-Length: 1000"), BODY(0, 0, 1000, 1000)},
        {"smaller", a, CL200("Content-Length: 999"), NB(V(JV_RESIZED))},
        {"larger", a, CL200("Content-Length: 2000"), NB(V(JV_RESIZED))},
        {"zero", a, CL200("Content-Length: 0"), NB(V(JV_RESIZED))},
        {"absent", a, {"HTTP/1.1 200 OK"}, BODY(0, 0, 1000, 1000)},
        {"bad", a, CL200("Content-Length: 1e3"), NB(V(JV_PROTO))},
    };
    RUN(t);
}

/* ---------------------------------------------------------------------
 * Validators
 * ------------------------------------------------------------------ */

Test(unit_judge, validators)
{
    judge_ask a = ask_plan(100, 199, 1000);
    judge_ask etag_only = ask_range(100, 199, 1000);
    etag_only.etag = ETAG;
    judge_ask lm_only = ask_range(100, 199, 1000);
    lm_only.last_modified = LM;
    judge_ask none = ask_range(100, 199, 1000);
#define VAL(...)                                                               \
    {                                                                          \
        "HTTP/1.1 206 X", "Content-Range: bytes 100-199/1000", __VA_ARGS__     \
    }
    const jcase t[] = {
        {"both equal", a, VAL("ETag: " ETAG, "Last-Modified: " LM),
         BODY(1, 100, 100, 1000)},
        {"both absent", a, VAL("Content-Length: 100"), BODY(1, 100, 100, 1000)},
        {"ETag equal, LM absent", a, VAL("ETag: " ETAG),
         BODY(1, 100, 100, 1000)},
        {"ETag absent, LM equal", a, VAL("Last-Modified: " LM),
         BODY(1, 100, 100, 1000)},
        {"ETag different", a, VAL("ETag: \"v2\"", "Last-Modified: " LM),
         NB(V(JV_CHANGED))},
        {"ETag different, LM absent", a, VAL("ETag: \"v2\""),
         NB(V(JV_CHANGED))},
        {"ETag different only in case", a, VAL("ETag: \"V1\""),
         NB(V(JV_CHANGED))},
        {"LM different", a,
         VAL("ETag: " ETAG, "Last-Modified: Mon, 02 Nov 2026 00:00:00 GMT"),
         NB(V(JV_CHANGED))},
        {"LM different, ETag absent", a,
         VAL("Last-Modified: Mon, 02 Nov 2026 00:00:00 GMT"),
         NB(V(JV_CHANGED))},
        {"ETag twice, same", a, VAL("ETag: " ETAG, "ETag: " ETAG),
         BODY(1, 100, 100, 1000)},
        {"ETag twice, different", a, VAL("ETag: " ETAG, "ETag: \"v2\""),
         NB(V(JV_PROTO))},
        {"ETag twice, weak and strong", a, VAL("ETag: " ETAG, "ETag: W/" ETAG),
         NB(V(JV_PROTO))},
        {"LM twice, different", a,
         VAL("Last-Modified: " LM,
             "Last-Modified: Mon, 02 Nov 2026 00:00:00 GMT"),
         NB(V(JV_PROTO))},
        {"plan has an ETag only, response LM only", etag_only,
         VAL("Last-Modified: " LM), BODY(1, 100, 100, 1000)},
        {"plan has an LM only, response ETag only", lm_only,
         VAL("ETag: \"anything\""), BODY(1, 100, 100, 1000)},
        {"plan has an ETag only, response another", etag_only,
         VAL("ETag: \"v2\""), NB(V(JV_CHANGED))},
        {"plan has an LM only, response another", lm_only,
         VAL("Last-Modified: Mon, 02 Nov 2026 00:00:00 GMT"),
         NB(V(JV_CHANGED))},
        {"plan has none", none, VAL("ETag: \"v2\"", "Last-Modified: x"),
         BODY(1, 100, 100, 1000)},
        /* A changed resource is judged before its range. */
        {"ETag different and range wrong",
         a,
         {"HTTP/1.1 206 X", "Content-Range: bytes 0-99/2000", "ETag: \"v2\""},
         NB(V(JV_CHANGED))},
        /* A 200 of another version. */
        {"200 with another ETag",
         a,
         {"HTTP/1.1 200 OK", "Content-Length: 1000", "ETag: \"v2\""},
         NB(V(JV_CHANGED))},
        {"200 with the plan's ETag",
         a,
         {"HTTP/1.1 200 OK", "Content-Length: 1000", "ETag: " ETAG},
         BODY(0, 0, 1000, 1000)},
        {"200 with another ETag and size",
         a,
         {"HTTP/1.1 200 OK", "Content-Length: 5", "ETag: \"v2\""},
         NB(V(JV_CHANGED))},
        {"206 with the plan's validators, other size",
         a,
         {"HTTP/1.1 206 X", "Content-Range: bytes 100-199/2000", "ETag: " ETAG,
          "Last-Modified: " LM},
         NB(V(JV_RESIZED))},
    };
    RUN(t);
}

Test(unit_judge, a_weak_form_of_the_plan_tag_is_a_change)
{
    /* judge.h: a weak form of the plan's tag is another validator: the
     * bytes may be another representation (nginx weakens the tags of
     * what it transforms), so the plan starts over rather than splice. */
    judge_ask a = ask_plan(100, 199, 1000);
    judge_result v;
    judge_verdict got =
        judge_lines(&a,
                    LINES("HTTP/1.1 206 X", "Content-Range: bytes 100-199/1000",
                          "ETag: W/" ETAG, "Last-Modified: " LM),
                    &v);
    cr_expect_eq(got, JV_CHANGED, "W/\"v1\" against \"v1\": got %s (%s)",
                 vname(got), v.why);
    got = judge_lines(
        &a, LINES("HTTP/1.1 200 OK", "Content-Length: 1000", "ETag: W/" ETAG),
        &v);
    cr_expect_eq(got, JV_CHANGED, "200 W/\"v1\" against \"v1\": got %s (%s)",
                 vname(got), v.why);
    /* An unreadable ETag where the plan relies on one proves nothing
     * either way: an error, never bytes. */
    got = judge_lines(&a,
                      LINES("HTTP/1.1 206 X",
                            "Content-Range: bytes 100-199/1000",
                            "ETag: v1"),
                      &v);
    cr_expect_eq(got, JV_PROTO, "unquoted ETag: got %s (%s)", vname(got),
                 v.why);
}

/* ---------------------------------------------------------------------
 * Encodings and multipart
 * ------------------------------------------------------------------ */

Test(unit_judge, encodings_and_multipart)
{
    judge_ask a = ask_range(100, 199, 1000);
    judge_ask p = ask_plain();
    const jcase t[] = {
        {"206 gzip", a, VAL("Content-Encoding: gzip"), NB(V(JV_PROTO))},
        {"206 GZIP", a, VAL("Content-Encoding: GZIP"), NB(V(JV_PROTO))},
        {"206 br", a, VAL("Content-Encoding: br"), NB(V(JV_PROTO))},
        {"206 gzip, identity", a, VAL("Content-Encoding: gzip, identity"),
         NB(V(JV_PROTO))},
        {"206 identity then gzip", a,
         VAL("Content-Encoding: identity", "Content-Encoding: gzip"),
         NB(V(JV_PROTO))},
        {"206 identity", a, VAL("Content-Encoding: identity"),
         BODY(1, 100, 100, 1000)},
        {"206 Identity", a, VAL("Content-Encoding: Identity"),
         BODY(1, 100, 100, 1000)},
        {"206 empty encoding", a, VAL("Content-Encoding: "),
         BODY(1, 100, 100, 1000)},
        /* The whole resource as the server stores it: written as is. */
        {"200 gzip",
         p,
         {"HTTP/1.1 200 OK", "Content-Encoding: gzip", "Content-Length: 77"},
         BODY(0, 0, 77, 77)},
        {"200 identity",
         p,
         {"HTTP/1.1 200 OK", "Content-Encoding: identity",
          "Content-Length: 77"},
         BODY(0, 0, 77, 77)},
        {"206 multipart without Content-Range",
         a,
         {"HTTP/1.1 206 X",
          "Content-Type: multipart/byteranges; boundary=THIS"},
         NB(V(JV_PROTO))},
        {"206 multipart with a Content-Range", a,
         VAL("Content-Type: multipart/byteranges; boundary=THIS"),
         NB(V(JV_PROTO))},
        {"206 Multipart/ByteRanges",
         a,
         {"HTTP/1.1 206 X", "Content-Type: Multipart/ByteRanges;b=x"},
         NB(V(JV_PROTO))},
        {"206 octet-stream", a, VAL("Content-Type: application/octet-stream"),
         BODY(1, 100, 100, 1000)},
    };
    RUN(t);
}

/* ---------------------------------------------------------------------
 * Error pages
 * ------------------------------------------------------------------ */

Test(unit_judge, error_pages)
{
    judge_ask a = ask_plan(100, 199, 1000);
    judge_ask nov = ask_range(100, 199, 1000);
    const jcase t[] = {
        {"200 of another length, no validators",
         a,
         {"HTTP/1.1 200 OK", "Content-Type: text/html", "Content-Length: 5120"},
         NB(V(JV_PROTO))},
        {"203 of another length, no validators",
         a,
         {"HTTP/1.1 203 X", "Content-Length: 17"},
         NB(V(JV_PROTO))},
        {"200 of another length, the plan's ETag",
         a,
         {"HTTP/1.1 200 OK", "Content-Length: 5120", "ETag: " ETAG},
         NB(V(JV_RESIZED))},
        {"200 of another length, the plan's LM",
         a,
         {"HTTP/1.1 200 OK", "Content-Length: 5120", "Last-Modified: " LM},
         NB(V(JV_RESIZED))},
        {"200 of another length, another ETag",
         a,
         {"HTTP/1.1 200 OK", "Content-Length: 5120", "ETag: \"v2\""},
         NB(V(JV_CHANGED))},
        {"200 of another length, plan without validators",
         nov,
         {"HTTP/1.1 200 OK", "Content-Length: 5120"},
         NB(V(JV_RESIZED))},
        {"200 of the planned length, no validators",
         a,
         {"HTTP/1.1 200 OK", "Content-Length: 1000"},
         BODY(0, 0, 1000, 1000)},
        {"200 without a length, no validators",
         a,
         {"HTTP/1.1 200 OK"},
         BODY(0, 0, 1000, 1000)},
    };
    RUN(t);
    judge_result v;
    cr_assert_eq(judge_lines(&a,
                             LINES("HTTP/1.1 200 OK", "Content-Type: text/html",
                                   "Content-Length: 5120"),
                             &v),
                 JV_PROTO);
    cr_expect(strstr(v.why, "5120") && strstr(v.why, "1000") &&
                  strstr(v.why, "text/html"),
              "why: %s", v.why);
}

/* ---------------------------------------------------------------------
 * HEAD
 * ------------------------------------------------------------------ */

Test(unit_judge, head_answers)
{
    judge_ask probe = ask_plain();
    probe.head = 1;
    judge_ask reval = ask_plan(-1, -1, 1000);
    reval.head = 1;
    const jcase t[] = {
        {"probe 200",
         probe,
         {"HTTP/1.1 200 OK", "Content-Length: 1000", "ETag: " ETAG,
          "Accept-Ranges: bytes"},
         BODY(0, 0, 0, 1000)},
        {"probe 200 without a length",
         probe,
         {"HTTP/1.1 200 OK"},
         BODY(0, 0, 0, -1)},
        {"probe 200 gzip",
         probe,
         {"HTTP/1.1 200 OK", "Content-Length: 10", "Content-Encoding: gzip"},
         BODY(0, 0, 0, 10)},
        {"probe 200 bad length",
         probe,
         {"HTTP/1.1 200 OK", "Content-Length: 1e3"},
         NB(V(JV_PROTO))},
        {"probe 200 conflicting lengths",
         probe,
         {"HTTP/1.1 200 OK", "Content-Length: 1", "Content-Length: 2"},
         NB(V(JV_PROTO))},
        {"probe 302",
         probe,
         {"HTTP/1.1 302 X", "Location: /y"},
         NB(V(JV_REDIRECT))},
        {"probe 404", probe, {"HTTP/1.1 404 X"}, NB(V(JV_HTTP))},
        {"probe 405", probe, {"HTTP/1.1 405 X"}, NB(V(JV_HTTP))},
        {"probe 503", probe, {"HTTP/1.1 503 X"}, NB(V(JV_RETRY))},
        {"probe no status", probe, {"Content-Length: 5"}, NB(V(JV_PROTO))},
        {"revalidation, same",
         reval,
         {"HTTP/1.1 200 OK", "Content-Length: 1000", "ETag: " ETAG,
          "Last-Modified: " LM},
         BODY(0, 0, 0, 1000)},
        {"revalidation, error page",
         reval,
         {"HTTP/1.1 200 OK", "Content-Length: 5120"},
         NB(V(JV_PROTO))},
    };
    RUN(t);
}

Test(unit_judge, a_head_with_another_etag_is_a_changed_resource)
{
    /* judge.h: the plan's validators; "a 2xx carrying another value is a
     * changed resource" -- a HEAD's 200 included. */
    judge_ask a = ask_plan(-1, -1, 1000);
    a.head = 1;
    judge_result v;
    judge_verdict got = judge_lines(
        &a, LINES("HTTP/1.1 200 OK", "Content-Length: 1000", "ETag: \"v2\""),
        &v);
    cr_expect_eq(got, JV_CHANGED, "got %s (total %lld)", vname(got),
                 (long long)v.total);
}

Test(unit_judge, a_head_reports_the_size_it_is_told)
{
    /* A HEAD has no body, but whoever asked learns the size now. */
    judge_ask a = ask_range(-1, -1, 1000);
    a.head = 1;
    judge_result v;
    judge_verdict got =
        judge_lines(&a, LINES("HTTP/1.1 200 OK", "Content-Length: 2000"), &v);
    cr_expect(got == JV_RESIZED || (got == JV_BODY && v.total == 2000),
              "got %s, total %lld", vname(got), (long long)v.total);
    if (got == JV_BODY)
        cr_expect_eq(judge_room(&v, 0), 0, "a HEAD has no body");
}

/* ---------------------------------------------------------------------
 * The body-length guard
 * ------------------------------------------------------------------ */

Test(unit_judge, room_and_end_of_a_206)
{
    judge_ask a = ask_range(100, 199, 1000);
    judge_result v;
    cr_assert_eq(judge_lines(&a,
                             LINES("HTTP/1.1 206 X",
                                   "Content-Range: bytes 100-199/1000"),
                             &v),
                 JV_BODY);
    cr_expect_eq(judge_room(&v, 0), 100);
    cr_expect_eq(judge_room(&v, 1), 99);
    cr_expect_eq(judge_room(&v, 40), 60);
    cr_expect_eq(judge_room(&v, 99), 1);
    cr_expect_eq(judge_room(&v, 100), 0);
    cr_expect_eq(judge_room(&v, 101), 0);
    cr_expect_eq(judge_room(&v, INT64_MAX), 0);
    cr_expect_eq(judge_end(&v, 100), 1);
    cr_expect_eq(judge_end(&v, 99), 0);
    cr_expect_eq(judge_end(&v, 0), 0);
    cr_expect_eq(judge_end(&v, 1), 0);
}

Test(unit_judge, room_and_end_of_a_200_with_a_length)
{
    judge_ask a = ask_plain();
    judge_result v;
    cr_assert_eq(
        judge_lines(&a, LINES("HTTP/1.1 200 OK", "Content-Length: 1000"), &v),
        JV_BODY);
    cr_expect_eq(judge_room(&v, 0), 1000);
    cr_expect_eq(judge_room(&v, 999), 1);
    cr_expect_eq(judge_room(&v, 1000), 0);
    cr_expect_eq(judge_room(&v, 5000), 0);
    cr_expect_eq(judge_end(&v, 1000), 1);
    cr_expect_eq(judge_end(&v, 999), 0);
    cr_expect_eq(judge_end(&v, 0), 0);
}

Test(unit_judge, room_and_end_of_a_200_without_a_length)
{
    judge_ask a = ask_plain();
    judge_result v;
    cr_assert_eq(judge_lines(&a, LINES("HTTP/1.1 200 OK"), &v), JV_BODY);
    cr_expect_eq(v.len, -1);
    cr_expect_eq(judge_room(&v, 0), INT64_MAX);
    cr_expect_eq(judge_room(&v, 12345), INT64_MAX);
    cr_expect_eq(judge_room(&v, INT64_C(1) << 40), INT64_MAX);
    cr_expect_eq(judge_end(&v, 0), 1, "ends with its connection");
    cr_expect_eq(judge_end(&v, 12345), 1);
}

Test(unit_judge, room_and_end_of_empty_bodies)
{
    judge_ask a = ask_plain();
    judge_result v;
    cr_assert_eq(
        judge_lines(&a, LINES("HTTP/1.1 200 OK", "Content-Length: 0"), &v),
        JV_BODY);
    cr_expect_eq(judge_room(&v, 0), 0);
    cr_expect_eq(judge_end(&v, 0), 1);
    judge_ask h = ask_plain();
    h.head = 1;
    cr_assert_eq(
        judge_lines(&h, LINES("HTTP/1.1 200 OK", "Content-Length: 1000"), &v),
        JV_BODY);
    cr_expect_eq(judge_room(&v, 0), 0, "a HEAD has no body");
    cr_expect_eq(judge_end(&v, 0), 1);
}

Test(unit_judge, room_of_a_huge_body)
{
    judge_ask a = ask_plain();
    judge_result v;
    cr_assert_eq(judge_lines(&a,
                             LINES("HTTP/1.1 200 OK",
                                   "Content-Length: 9223372036854775807"),
                             &v),
                 JV_BODY);
    cr_expect_eq(judge_room(&v, 0), INT64_MAX);
    cr_expect_eq(judge_room(&v, 1), INT64_MAX - 1);
    cr_expect_eq(judge_room(&v, INT64_MAX), 0);
    cr_expect_eq(judge_end(&v, INT64_MAX), 1);
    cr_expect_eq(judge_end(&v, INT64_MAX - 1), 0);

    /* A range near the end of a 2^62 byte resource. */
    int64_t T = INT64_C(1) << 62;
    judge_ask r = ask_range(T - 1000, T - 1, T);
    char cr[128];
    snprintf(cr, sizeof cr, "Content-Range: bytes %lld-%lld/%lld",
             (long long)(T - 1000), (long long)(T - 1), (long long)T);
    cr_assert_eq(judge_lines(&r, LINES("HTTP/1.1 206 X", cr), &v), JV_BODY);
    cr_expect_eq(v.off, T - 1000);
    cr_expect_eq(v.len, 1000);
    cr_expect_eq(v.total, T);
    cr_expect_eq(judge_room(&v, 10), 990);
}

Test(unit_judge, room_never_exceeds_the_range)
{
    /* For every accepted 206, room(0) is the range asked (cut at the
     * total) and room is exhausted exactly at its end. */
    struct {
        int64_t first, last, total;
        const char *cr;
        int64_t n;
    } t[] = {
        {0, 0, 1, "bytes 0-0/1", 1},
        {0, 99, 1000, "bytes 0-99/1000", 100},
        {999, 999, 1000, "bytes 999-999/1000", 1},
        {0, L - 1, -1, "bytes 0-499/500", 500},
        {0, L - 1, -1, "bytes 0-1048575/9999999", L},
        {100, 199, -1, "bytes 100-149/150", 50},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        judge_ask a = ask_range(t[i].first, t[i].last, t[i].total);
        char line[128];
        snprintf(line, sizeof line, "Content-Range: %s", t[i].cr);
        judge_result v;
        cr_assert_eq(judge_lines(&a, LINES("HTTP/1.1 206 X", line), &v),
                     JV_BODY, "%s", t[i].cr);
        cr_expect_eq(v.partial, 1);
        cr_expect_eq(v.off, t[i].first, "%s", t[i].cr);
        cr_expect_eq(judge_room(&v, 0), t[i].n, "%s", t[i].cr);
        cr_expect_eq(judge_room(&v, t[i].n), 0, "%s", t[i].cr);
        cr_expect_eq(judge_end(&v, t[i].n), 1, "%s", t[i].cr);
        cr_expect_eq(judge_end(&v, t[i].n - 1), 0, "%s", t[i].cr);
        cr_expect_leq(v.off + v.len - 1, t[i].last, "%s", t[i].cr);
    }
}

Test(unit_judge, overrun_messages)
{
    judge_ask a = ask_range(100, 199, 1000);
    judge_result v;
    cr_assert_eq(judge_lines(&a,
                             LINES("HTTP/1.1 206 X",
                                   "Content-Range: bytes 100-199/1000"),
                             &v),
                 JV_BODY);
    cr_expect_eq(judge_overrun(&v), JV_PROTO);
    cr_expect_eq(v.verdict, JV_PROTO);
    cr_expect(v.why[0]);
    cr_expect(strstr(v.why, "100-199"), "why: %s", v.why);

    judge_ask p = ask_plain();
    cr_assert_eq(
        judge_lines(&p, LINES("HTTP/1.1 200 OK", "Content-Length: 1000"), &v),
        JV_BODY);
    cr_expect_eq(judge_overrun(&v), JV_PROTO);
    cr_expect_eq(v.verdict, JV_PROTO);
    cr_expect(strstr(v.why, "1000"), "why: %s", v.why);
}

/* ---------------------------------------------------------------------
 * Purity
 * ------------------------------------------------------------------ */

Test(unit_judge, the_response_is_not_modified_and_the_judge_is_repeatable)
{
    judge_ask a = ask_plan(100, 199, 1000);
    resp r;
    build(&r, LINES("HTTP/1.1 206 X", "Content-Range: bytes 100-199/1000",
                    "ETag: " ETAG, "Content-Length: 100"));
    resp copy = r;
    judge_result v1, v2;
    judge_response(&a, &r, &v1);
    judge_response(&a, &r, &v2);
    cr_expect_eq(memcmp(&copy, &r, sizeof r), 0);
    cr_expect_eq(v1.verdict, v2.verdict);
    cr_expect_eq(v1.off, v2.off);
    cr_expect_eq(v1.len, v2.len);
    cr_expect_eq(v1.total, v2.total);
    cr_expect_str_eq(v1.why, v2.why);
    resp_cleanup(&r);
}

Test(unit_judge, why_fits_long_values)
{
    /* A long Content-Type in an error page's reason is cut, not
     * overflowed. */
    char ct[400];
    memset(ct, 'x', sizeof ct);
    memcpy(ct, "Content-Type: ", 14);
    ct[sizeof ct - 1] = 0;
    judge_ask a = ask_plan(-1, -1, 1000);
    judge_result v;
    cr_assert_eq(judge_lines(&a,
                             LINES("HTTP/1.1 200 OK", ct,
                                   "Content-Length: 9223372036854775807"),
                             &v),
                 JV_PROTO);
    cr_expect_lt(strlen(v.why), sizeof v.why);
}
