/* SPDX-License-Identifier: MIT */
/* libFuzzer: any sequence of header lines leaves a consistent record. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resp.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    resp r;
    resp_init(&r);
    const char *s = (const char *)d, *end = s + n;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t len = nl ? (size_t)(nl - s) + 1 : (size_t)(end - s);
        if (resp_line(&r, s, len) < 0)
            abort();
        s += len;
    }
    if (r.has_range && r.range.first >= 0 && r.range.first > r.range.last)
        abort();
    if (r.length < -1 || (r.status != 0 && (r.status < 100 || r.status > 999)))
        abort();
    if (r.etag && r.etag[strlen(r.etag) - 1] != '"')
        abort();
    const digest_decl *best = digest_best(&r.digests);
    if (best && best->sum.len != checksum_len(best->sum.algo))
        abort();
    char u[256];
    digest_unchecked(&r.digests, u, sizeof u);
    if (strlen(u) >= sizeof u)
        abort();
    resp_cleanup(&r);
    return 0;
}
