/* SPDX-License-Identifier: MIT */
/* libFuzzer: whatever the headers, the judge never lets a body be written
 * anywhere but where it was asked, nor longer than it may be. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "judge.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    if (n < 4)
        return 0;
    /* The first bytes choose what was asked. */
    judge_ask a = {0};
    a.head = d[0] & 1;
    a.conditional = (d[0] >> 1) & 1;
    static const int64_t firsts[] = {-1, 0, 0, 1, 100, 1000, INT64_MAX - 200};
    a.first = firsts[d[1] % 7];
    a.last = a.first < 0 ? 0 : a.first + (d[2] % 4 == 0 ? 0 : 99);
    a.total = d[3] % 3 == 0 ? -1 : d[3] % 3 == 1 ? 1000 : 200;
    a.etag = d[0] & 4 ? "\"v1\"" : NULL;
    a.last_modified = d[0] & 8 ? "Sun, 01 Nov 2026 00:00:00 GMT" : NULL;
    resp r;
    resp_init(&r);
    const char *s = (const char *)d + 4, *end = (const char *)d + n;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t len = nl ? (size_t)(nl - s) + 1 : (size_t)(end - s);
        if (resp_line(&r, s, len) < 0)
            abort();
        s += len;
    }
    judge_result v;
    judge_verdict got = judge_response(&a, &r, &v);
    if (got != v.verdict)
        abort();
    if (got != JV_BODY && got != JV_REDIRECT && got != JV_UNCHANGED &&
        v.why[0] == '\0')
        abort();
    if (got == JV_BODY) {
        /* Never for an unusable length, a conflict or another version. */
        if (r.bad_length || r.conflict || (a.etag && r.bad_etag) ||
            resp_validator_differs(a.etag, r.etag) ||
            resp_validator_differs(a.last_modified, r.last_modified))
            abort();
        if (v.partial) {
            /* Exactly the range asked (cut at a total not known before),
             * of a total that holds it. */
            if (r.status != 206 || a.first < 0 || v.off != a.first ||
                v.len < 1 || v.off + v.len - 1 > a.last ||
                v.total < v.off + v.len || r.encoded || r.multipart ||
                (a.total >= 0 && v.total != a.total) ||
                (r.length >= 0 && r.length != v.len))
                abort();
            if (a.total >= 0 && v.off + v.len - 1 != a.last)
                abort();
        } else {
            if (v.off != 0 || r.status == 206)
                abort();
            if (!a.head && a.total >= 0 && r.length >= 0 &&
                r.length != a.total)
                abort();
        }
        /* The guard: never more than len. */
        if (v.len >= 0 && judge_room(&v, 0) != v.len)
            abort();
        if (v.len >= 0 && judge_room(&v, v.len) != 0)
            abort();
        if (!judge_end(&v, v.len < 0 ? 0 : v.len))
            abort();
    }
    resp_cleanup(&r);
    return 0;
}
