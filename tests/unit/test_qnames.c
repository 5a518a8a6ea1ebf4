/* SPDX-License-Identifier: MIT */
/* Unit tests for qnames.c: the collisions of a queue's names, found in
 * runs that spill to a temporary file, against a brute-force count. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "qnames.h"

/* Every pair qnames_pairs must give, by brute force: for each hash, the
 * first QN_NAME line with every other record of that hash. */
static size_t brute(const qname_rec *v, size_t n, qname_pair *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        /* i is the first QN_NAME of its hash? */
        if (v[i].kind != QN_NAME)
            continue;
        int first = 1;
        for (size_t j = 0; j < i && first; j++)
            if (v[j].hash == v[i].hash && v[j].kind == QN_NAME)
                first = 0;
        if (!first)
            continue;
        for (size_t j = 0; j < n; j++)
            if (j != i && v[j].hash == v[i].hash)
                out[k++] = (qname_pair){v[i].line, v[j].line, v[j].kind};
    }
    return k;
}

static int cmp_pair(const void *a, const void *b)
{
    const qname_pair *x = a, *y = b;
    if (x->a != y->a)
        return x->a < y->a ? -1 : 1;
    if (x->b != y->b)
        return x->b < y->b ? -1 : 1;
    return (int)x->kind_b - (int)y->kind_b;
}

static void check(size_t n, size_t run, int hashes, unsigned seed)
{
    srand(seed);
    qname_rec *v = calloc(n, sizeof *v);
    qname_pair *want = calloc(n * n + 1, sizeof *want);
    qname_pair *got = calloc(n * n + 1, sizeof *got);
    qnames q;
    sg_err e = {0};
    cr_assert_eq(qnames_init(&q, run, &e), SG_OK);
    for (size_t i = 0; i < n; i++) {
        /* A few hashes share their low bits, a few their high bits: the
         * sort must look at all 64. */
        uint64_t h = (uint64_t)(rand() % hashes);
        h = (h & 1) ? h << 48 : h * 0x9e3779b97f4a7c15ull;
        v[i] = (qname_rec){h, (uint32_t)i + 1,
                           rand() % 5 == 0 ? QN_STEM : QN_NAME};
        cr_assert_eq(qnames_add(&q, v[i].hash, v[i].line, (int)v[i].kind,
                                &e),
                     SG_OK, "%s", err_msg(&e));
    }
    size_t nw = brute(v, n, want);
    /* All at once, then in pages of 3. */
    size_t ng;
    int more;
    cr_assert_eq(qnames_pairs(&q, 0, got, n * n + 1, &ng, &more, &e), SG_OK,
                 "%s", err_msg(&e));
    cr_expect_eq(more, 0);
    cr_assert_eq(ng, nw, "n=%zu run=%zu: %zu pairs, want %zu", n, run, ng,
                 nw);
    qsort(want, nw, sizeof *want, cmp_pair);
    qsort(got, ng, sizeof *got, cmp_pair);
    cr_expect(memcmp(want, got, nw * sizeof *want) == 0);
    size_t all = 0;
    for (size_t skip = 0;; skip += 3) {
        cr_assert_eq(qnames_pairs(&q, skip, got + all, 3, &ng, &more, &e),
                     SG_OK);
        all += ng;
        if (!more)
            break;
        cr_assert_eq(ng, 3);
    }
    cr_expect_eq(all, nw, "paged: %zu of %zu", all, nw);
    qnames_free(&q);
    free(v);
    free(want);
    free(got);
}

Test(unit_qnames, in_memory_and_spilled_runs_agree_with_brute_force)
{
    for (unsigned seed = 1; seed <= 40; seed++) {
        check(200, 1000, 150, seed);   /* one run, in memory */
        check(200, 7, 150, seed);      /* 29 runs on disk */
        check(300, 64, 20, seed);      /* big groups */
        check(50, 2, 1000, seed);      /* almost no collision */
    }
}

Test(unit_qnames, nothing_to_report)
{
    qnames q;
    sg_err e = {0};
    qname_pair p[4];
    size_t n;
    int more;
    cr_assert_eq(qnames_init(&q, 4, &e), SG_OK);
    cr_assert_eq(qnames_pairs(&q, 0, p, 4, &n, &more, &e), SG_OK);
    cr_expect(n == 0 && !more);
    for (uint32_t i = 1; i <= 100; i++)
        cr_assert_eq(qnames_add(&q, i * 0x9e3779b97f4a7c15ull, i, QN_NAME,
                                &e), SG_OK);
    /* A QN_STEM alone, with no name of its hash, is no pair. */
    cr_assert_eq(qnames_add(&q, 7, 101, QN_STEM, &e), SG_OK);
    cr_assert_eq(qnames_pairs(&q, 0, p, 4, &n, &more, &e), SG_OK);
    cr_expect(n == 0 && !more);
    qnames_free(&q);
}

Test(unit_qnames, a_million_records_spill_and_merge)
{
    qnames q;
    sg_err e = {0};
    qname_pair p[8];
    size_t n;
    int more;
    cr_assert_eq(qnames_init(&q, 1 << 16, &e), SG_OK);
    for (uint32_t i = 1; i <= 1000000; i++)
        cr_assert_eq(qnames_add(&q, (uint64_t)i * 0x9e3779b97f4a7c15ull, i,
                                QN_NAME, &e), SG_OK);
    /* The same name as line 123456, far away, and a stem of line 7. */
    cr_assert_eq(qnames_add(&q, 123456ull * 0x9e3779b97f4a7c15ull, 1000001,
                            QN_NAME, &e), SG_OK);
    cr_assert_eq(qnames_add(&q, 7ull * 0x9e3779b97f4a7c15ull, 1000002,
                            QN_STEM, &e), SG_OK);
    cr_assert_gt(q.nruns, 10);
    cr_assert_eq(qnames_pairs(&q, 0, p, 8, &n, &more, &e), SG_OK, "%s",
                 err_msg(&e));
    cr_assert_eq(n, 2);
    qsort(p, n, sizeof *p, cmp_pair);
    cr_expect(p[0].a == 7 && p[0].b == 1000002 && p[0].kind_b == QN_STEM);
    cr_expect(p[1].a == 123456 && p[1].b == 1000001 &&
              p[1].kind_b == QN_NAME);
    qnames_free(&q);
}
