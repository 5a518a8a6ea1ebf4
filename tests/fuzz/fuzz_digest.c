/* SPDX-License-Identifier: MIT */
/* libFuzzer: any header fields leave a digest set whose answers keep their
 * promises and do not depend on the order of the fields; the base64
 * decoder's lenient mode accepts whatever its strict mode does. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"

/* Feed the "Name: value" lines of d, first to last or last to first. */
static void feed(digest_set *s, const char *d, size_t n, int backwards)
{
    const char *line[64];
    size_t len[64], k = 0;
    for (const char *p = d, *end = d + n; p < end && k < 64;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        line[k] = p;
        len[k++] = l;
        p += l;
    }
    for (size_t i = 0; i < k; i++) {
        size_t j = backwards ? k - 1 - i : i;
        const char *colon = memchr(line[j], ':', len[j]);
        if (colon)
            (void)digest_field(s, line[j], (size_t)(colon - line[j]), colon + 1,
                               len[j] - (size_t)(colon + 1 - line[j]), 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    const char *s = (const char *)d;
    unsigned char a[64], b[64];
    int strict = digest_base64(s, n, a, sizeof a, 0);
    int sf = digest_base64(s, n, b, sizeof b, 1);
    if (strict >= 0 && (sf != strict || memcmp(a, b, (size_t)sf) != 0))
        abort();

    digest_set fw, bw;
    digest_init(&fw);
    digest_init(&bw);
    feed(&fw, s, n, 0);
    feed(&bw, s, n, 1);
    if (fw.n > DIGEST_MAX)
        abort();
    const digest_decl *x = digest_best(&fw), *y = digest_best(&bw);
    if (x && (x->sum.len == 0 || x->sum.len != checksum_len(x->sum.algo)))
        abort();
    char u[512], v[512];
    digest_unchecked(&fw, u, sizeof u);
    digest_unchecked(&bw, v, sizeof v);
    for (const char *p = u; *p; p++)
        if (*p < 0x20 || *p > 0x7e)
            abort();
    /* Past DIGEST_MAX, which declarations are kept depends on order. */
    if (!fw.dropped && !bw.dropped) {
        if (!x != !y || strcmp(u, v) != 0)
            abort();
        if (x && (strcmp(x->source, y->source) != 0 ||
                  strcmp(x->sum.algo, y->sum.algo) != 0 ||
                  memcmp(x->sum.want, y->sum.want, x->sum.len) != 0))
            abort();
    }
    return 0;
}
