/* SPDX-License-Identifier: MIT */
/*
 * judge.c - the rules of judge.h, in the order they are applied: fields
 * that cannot be trusted at all, then the status, then what a body would
 * be.
 */
#include <stdarg.h>
#include <stdio.h>

#include "judge.h"
#include "policy.h"

static judge_verdict say(judge_result *v, judge_verdict verdict,
                         const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static judge_verdict say(judge_result *v, judge_verdict verdict,
                         const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(v->why, sizeof v->why, fmt, ap);
    va_end(ap);
    return v->verdict = verdict;
}

static int differs(const char *want, const char *got)
{
    return resp_validator_differs(want, got);
}

/* The body of a 206: exactly the range asked, of the known total. */
static judge_verdict partial(const judge_ask *a, const resp *r,
                             judge_result *v)
{
    long long first = (long long)a->first, last = (long long)a->last;
    if (a->first < 0)
        return say(v, JV_PROTO, "a 206 to a request without a range");
    if (r->multipart)
        return say(v, JV_PROTO, "a multipart/byteranges answer to one "
                                "range");
    if (!r->has_range)
        return say(v, JV_PROTO, "206 without a valid Content-Range");
    if (r->encoded)
        return say(v, JV_PROTO, "a range arrived with a Content-Encoding");
    if (r->range.first < 0)
        return say(v, JV_PROTO, "206 with an unsatisfied Content-Range");
    if (r->range.total < 0)
        return say(v, JV_PROTO, "206 without the total size");
    if (a->total >= 0 && r->range.total != a->total)
        return say(v, JV_RESIZED, "size is now %lld bytes, was %lld",
                   (long long)r->range.total, (long long)a->total);
    /* Without a known total the request may run past the end: the range
     * asked is then cut at it. */
    int64_t want_last = a->last;
    if (a->total < 0 && want_last >= r->range.total)
        want_last = r->range.total - 1;
    if (r->range.first != a->first || r->range.last != want_last)
        return say(v, JV_PROTO, "asked for bytes %lld-%lld, got %lld-%lld",
                   first, last, (long long)r->range.first,
                   (long long)r->range.last);
    int64_t n = r->range.last - r->range.first + 1;
    if (r->length >= 0 && r->length != n)
        return say(v, JV_PROTO,
                   "a Content-Length of %lld for a range of %lld bytes",
                   (long long)r->length, (long long)n);
    v->partial = 1;
    v->off = r->range.first;
    v->len = n;
    v->total = r->range.total;
    return v->verdict = JV_BODY;
}

/* The body of any other 2xx: the whole resource. */
static judge_verdict whole(const judge_ask *a, const resp *r,
                           judge_result *v)
{
    if (a->total >= 0 && r->length >= 0 && r->length != a->total &&
        (a->etag || a->last_modified) && !r->etag && !r->last_modified) {
        /* Neither the size nor a validator of what was described: an
         * error page or a portal, not the resource. */
        return say(v, JV_PROTO,
                   "the server answered %d with %lld bytes%s%s instead of "
                   "the %lld bytes it described",
                   r->status, (long long)r->length,
                   r->content_type ? " of " : "",
                   r->content_type ? r->content_type : "",
                   (long long)a->total);
    }
    if (!a->head && a->total >= 0 && r->length >= 0 &&
        r->length != a->total)
        return say(v, JV_RESIZED, "size is now %lld bytes, was %lld",
                   (long long)r->length, (long long)a->total);
    v->partial = 0;
    v->off = 0;
    v->len = a->head ? 0 : r->length >= 0 ? r->length : a->total;
    v->total = r->length >= 0 ? r->length : a->total;
    return v->verdict = JV_BODY;
}

judge_verdict judge_response(const judge_ask *a, const resp *r,
                             judge_result *v)
{
    *v = (judge_result){.status = r->status, .off = 0, .len = -1,
                        .total = -1};
    int st = r->status;
    if (st < 200 || st > 599)
        return say(v, JV_PROTO, "no valid status line");
    if (st >= 300 && st <= 399 && st != 304 && r->has_location)
        return v->verdict = JV_REDIRECT;
    if (policy_transient_status(st))
        return say(v, JV_RETRY, "HTTP %d", st);
    /* A field that cannot be read, or says two things, leaves nothing to
     * rely on, whatever the status. */
    if (r->conflict)
        return say(v, JV_PROTO, "conflicting header values");
    if (r->bad_length)
        return say(v, JV_PROTO, "a Content-Length that is not a usable "
                                "number");
    int from0 = a->first <= 0;
    if ((st == 206 || st == 416) && r->zero_total && !a->head) {
        if (a->total > 0)
            return say(v, JV_RESIZED, "size is now 0 bytes, was %lld",
                       (long long)a->total);
        if (from0)
            return say(v, JV_EMPTY, "the resource is empty");
    }
    if (st == 304 && a->conditional)
        return v->verdict = JV_UNCHANGED;
    if (st == 416 && a->first >= 0) {
        if (r->has_range && r->range.first < 0) {
            /* "bytes * /N": the server names its size. */
            if (a->total >= 0 && r->range.total != a->total)
                return say(v, JV_RESIZED, "size is now %lld bytes, was %lld",
                           (long long)r->range.total, (long long)a->total);
            if (a->first < r->range.total)
                return say(v, JV_PROTO, "416 for bytes %lld-%lld of %lld",
                           (long long)a->first, (long long)a->last,
                           (long long)r->range.total);
            return say(v, JV_PROTO, "416 for bytes %lld-%lld",
                       (long long)a->first, (long long)a->last);
        }
        if (a->first == 0 && a->total <= 0 && !r->bad_range)
            /* Byte 0 does not exist: the resource is empty (a server
             * that names no size says no more than that). */
            return say(v, JV_EMPTY, "the resource is empty");
        if (a->total > 0)
            return say(v, JV_RESIZED, "range %lld-%lld no longer exists",
                       (long long)a->first, (long long)a->last);
        return say(v, JV_PROTO, "416 for bytes %lld-%lld",
                   (long long)a->first, (long long)a->last);
    }
    if (st < 200 || st > 299)
        return say(v, JV_HTTP, "HTTP %d", st);
    if (a->etag && r->bad_etag)
        return say(v, JV_PROTO, "an ETag that cannot be read");
    if (differs(a->etag, r->etag) ||
        differs(a->last_modified, r->last_modified))
        return say(v, JV_CHANGED, "the remote file changed");
    if (st == 206) {
        if (r->bad_range)
            return say(v, JV_PROTO, "206 without a valid Content-Range");
        return partial(a, r, v);
    }
    return whole(a, r, v);
}

int64_t judge_room(const judge_result *v, int64_t seen)
{
    if (v->len < 0)
        return INT64_MAX;
    return seen >= v->len ? 0 : v->len - seen;
}

judge_verdict judge_overrun(judge_result *v)
{
    if (v->partial)
        return say(v, JV_PROTO, "more bytes than bytes %lld-%lld",
                   (long long)v->off, (long long)(v->off + v->len - 1));
    return say(v, JV_PROTO, "a body longer than its %lld bytes",
               (long long)v->len);
}

int judge_end(const judge_result *v, int64_t seen)
{
    return v->len < 0 || seen >= v->len;
}
