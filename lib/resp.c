/* SPDX-License-Identifier: MIT */
/*
 * resp.c - collecting the trusted fields of one response.
 */
#include <stdlib.h>
#include <string.h>

#include "resp.h"

void resp_init(resp *r)
{
    memset(r, 0, sizeof *r);
    r->length = -1;
    r->retry_after = -1;
    digest_init(&r->digests);
}

void resp_cleanup(resp *r)
{
    free(r->etag);
    free(r->last_modified);
    free(r->content_type);
    free(r->disposition);
    resp_init(r);
}

int resp_status_line(const char *line, size_t len)
{
    if (len < 12 || memcmp(line, "HTTP/", 5) != 0)
        return -1;
    const char *sp = memchr(line, ' ', len);
    if (!sp || (size_t)(sp - line) + 4 > len)
        return -1;
    int code = 0;
    for (int i = 1; i <= 3; i++) {
        char c = sp[i];
        if (c < '0' || c > '9')
            return -1;
        code = code * 10 + (c - '0');
    }
    if ((size_t)(sp - line) + 4 < len && sp[4] != ' ' && sp[4] != '\r' &&
        sp[4] != '\n')
        return -1;
    return code < 100 ? -1 : code;
}

/* Keep a copy of v; a second, different value is a conflict. */
static int keep(char **slot, const char *v, size_t n, int *conflict)
{
    if (*slot) {
        if (strlen(*slot) != n || memcmp(*slot, v, n) != 0)
            *conflict = 1;
        return 0;
    }
    *slot = strndup(v, n);
    return *slot ? 0 : -1;
}

int resp_line(resp *r, const char *line, size_t len)
{
    int code = resp_status_line(line, len);
    if (code > 0) {
        resp_cleanup(r);
        r->status = code;
        return 0;
    }
    const char *n, *v;
    size_t nl, vl;
    if (hdr_split(line, len, &n, &nl, &v, &vl) < 0)
        return 0;
    (void)digest_field(&r->digests, n, nl, v, vl, r->status == 206);
    if (hdr_name_is(n, nl, "content-length")) {
        int64_t x;
        if (hdr_parse_length(v, vl, &x) < 0)
            r->bad_length = 1;
        else if (r->length >= 0 && r->length != x)
            r->conflict = 1;
        else
            r->length = x;
    } else if (hdr_name_is(n, nl, "content-range")) {
        hdr_range x;
        const char *slash = memchr(v, '/', vl);
        int64_t t;
        if (slash && hdr_parse_int(slash + 1, vl - (size_t)(slash + 1 - v),
                                   &t) == 0 && t == 0)
            r->zero_total = 1;
        if (hdr_parse_content_range(v, vl, &x) < 0)
            r->bad_range = 1;
        else if (r->has_range &&
                 (x.first != r->range.first || x.last != r->range.last ||
                  x.total != r->range.total))
            r->conflict = 1;
        else {
            r->range = x;
            r->has_range = 1;
        }
    } else if (hdr_name_is(n, nl, "etag")) {
        const char *t;
        size_t tl;
        int strong = hdr_parse_etag(v, vl, &t, &tl);
        if (strong < 0) {
            r->bad_etag = 1;
            return 0;
        }
        if (!r->etag)
            r->etag_strong = strong;
        return keep(&r->etag, t, tl, &r->conflict);
    } else if (hdr_name_is(n, nl, "last-modified")) {
        return keep(&r->last_modified, v, vl, &r->conflict);
    } else if (hdr_name_is(n, nl, "content-type")) {
        if (vl >= 20 && hdr_name_is(v, 20, "multipart/byteranges"))
            r->multipart = 1;
        if (!r->content_type && !(r->content_type = strndup(v, vl)))
            return -1;
    } else if (hdr_name_is(n, nl, "content-disposition")) {
        if (!r->disposition && !(r->disposition = strndup(v, vl)))
            return -1;
    } else if (hdr_name_is(n, nl, "accept-ranges")) {
        r->accept_ranges |= hdr_accepts_bytes(v, vl);
    } else if (hdr_name_is(n, nl, "content-encoding")) {
        r->encoded |= hdr_is_encoded(v, vl);
    } else if (hdr_name_is(n, nl, "location")) {
        r->has_location = 1;
    }
    return 0;
}

int resp_validator_differs(const char *a, const char *b)
{
    return a && b && strcmp(a, b) != 0;
}
