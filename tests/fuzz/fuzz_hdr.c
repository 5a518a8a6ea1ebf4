/* SPDX-License-Identifier: MIT */
/* libFuzzer: the header field parsers never read out of bounds and never
 * accept a value that breaks their own promises. */
#include <stdint.h>
#include <stdlib.h>

#include "hdr.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    const char *s = (const char *)d;
    int64_t v;
    hdr_range r;
    if (hdr_parse_int(s, n, &v) == 0 && v < 0)
        abort();
    if (hdr_parse_length(s, n, &v) == 0 && v < 0)
        abort();
    if (hdr_parse_content_range(s, n, &r) == 0) {
        if (r.first >= 0 && (r.first > r.last ||
                             (r.total >= 0 && r.last >= r.total)))
            abort();
        if (r.first < 0 && (r.last != -1 || r.total < 0))
            abort();
    }
    const char *t;
    size_t tl;
    if (hdr_parse_etag(s, n, &t, &tl) >= 0 &&
        (t < s || t + tl > s + n || tl < 2 || t[tl - 1] != '"'))
        abort();
    (void)hdr_accepts_bytes(s, n);
    (void)hdr_is_encoded(s, n);
    const char *nm, *val;
    size_t nl, vl;
    if (hdr_split(s, n, &nm, &nl, &val, &vl) == 0 &&
        (nl == 0 || val < s || val + vl > s + n))
        abort();
    return 0;
}
