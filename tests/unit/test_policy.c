/* SPDX-License-Identifier: MIT */
/* Unit tests for policy.c: which failures are retried, how long to wait,
 * which redirects are followed. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdint.h>

#include "policy.h"

/* ---------------------------------------------------------------------
 * Transport failures
 * ------------------------------------------------------------------ */

static const struct {
    fail_kind k;
    const char *name;
    int transient; /* once a server of the download has answered */
    sg_code code;
} kinds[] = {
    {FK_NONE, "FK_NONE", 0, SG_OK},
    {FK_RESOLVE, "FK_RESOLVE", 1, SG_ENETWORK},
    {FK_CONNECT, "FK_CONNECT", 1, SG_ENETWORK},
    {FK_TIMEOUT, "FK_TIMEOUT", 1, SG_ENETWORK},
    {FK_RECV, "FK_RECV", 1, SG_ENETWORK},
    {FK_SEND, "FK_SEND", 1, SG_ENETWORK},
    {FK_NOTHING, "FK_NOTHING", 1, SG_ENETWORK},
    {FK_PARTIAL, "FK_PARTIAL", 1, SG_ENETWORK},
    {FK_HTTP2, "FK_HTTP2", 1, SG_ENETWORK},
    {FK_TLS, "FK_TLS", 0, SG_ETLS},
    {FK_PROXY, "FK_PROXY", 0, SG_EHTTP},
    {FK_PROTO, "FK_PROTO", 0, SG_EPROTO},
    {FK_UNSAFE, "FK_UNSAFE", 0, SG_EUNSAFE},
    {FK_USAGE, "FK_USAGE", 0, SG_EUSAGE},
    {FK_NOMEM, "FK_NOMEM", 0, SG_ENOMEM},
    {FK_OTHER, "FK_OTHER", 0, SG_ENETWORK},
};
#define NKINDS (sizeof kinds / sizeof *kinds)

Test(unit_policy, every_fail_kind_is_in_the_table)
{
    /* The table above covers the enum from FK_NONE to FK_OTHER, in
     * order, with nothing missing. */
    cr_assert_eq(NKINDS, (size_t)FK_OTHER + 1);
    for (size_t i = 0; i < NKINDS; i++)
        cr_assert_eq((int)kinds[i].k, (int)i, "%s", kinds[i].name);
}

Test(unit_policy, transient_fail_kinds)
{
    for (size_t i = 0; i < NKINDS; i++)
        cr_expect_eq(policy_transient(kinds[i].k, 1), kinds[i].transient,
                     "policy_transient(%s)", kinds[i].name);
}

Test(unit_policy, nothing_there_before_any_answer_is_final)
{
    /* An unknown host or a refused connection before any server of the
     * download answered fails at once, as in curl; everything else is
     * judged as after an answer. */
    for (size_t i = 0; i < NKINDS; i++) {
        int cold = kinds[i].k == FK_RESOLVE || kinds[i].k == FK_CONNECT
                       ? 0
                       : kinds[i].transient;
        cr_expect_eq(policy_transient(kinds[i].k, 0), cold,
                     "policy_transient(%s, 0)", kinds[i].name);
    }
}

Test(unit_policy, fail_kind_codes)
{
    for (size_t i = 0; i < NKINDS; i++)
        cr_expect_eq(policy_code(kinds[i].k), kinds[i].code,
                     "policy_code(%s) = %d, want %d", kinds[i].name,
                     (int)policy_code(kinds[i].k), (int)kinds[i].code);
}

Test(unit_policy, transient_kinds_end_in_a_network_error)
{
    /* What is retried and still fails is the network's failure. */
    for (size_t i = 0; i < NKINDS; i++)
        if (kinds[i].transient)
            cr_expect_eq(policy_code(kinds[i].k), SG_ENETWORK, "%s",
                         kinds[i].name);
}

Test(unit_policy, fail_kinds_are_answers_of_0_or_1)
{
    for (size_t i = 0; i < NKINDS; i++) {
        for (int a = 0; a < 2; a++) {
            int t = policy_transient(kinds[i].k, a);
            cr_expect(t == 0 || t == 1, "%s: %d", kinds[i].name, t);
        }
    }
}

/* ---------------------------------------------------------------------
 * HTTP statuses
 * ------------------------------------------------------------------ */

/* The set of policy.h: 408, 425, 429, and 5xx other than 501, 505, 506,
 * 510, 511. */
static int documented_transient(int s)
{
    if (s == 408 || s == 425 || s == 429)
        return 1;
    if (s < 500 || s > 599)
        return 0;
    return s != 501 && s != 505 && s != 506 && s != 510 && s != 511;
}

Test(unit_policy, transient_statuses_100_to_599)
{
    int count = 0;
    for (int s = 100; s <= 599; s++) {
        int got = policy_transient_status(s);
        cr_expect_eq(got, documented_transient(s), "status %d: got %d", s, got);
        count += got;
    }
    /* 3 from 4xx, 100 - 5 from 5xx. */
    cr_expect_eq(count, 98);
}

Test(unit_policy, named_statuses)
{
    static const struct {
        int status, transient;
    } t[] = {
        {100, 0}, {101, 0}, {200, 0}, {204, 0}, {206, 0}, {301, 0}, {302, 0},
        {304, 0}, {307, 0}, {308, 0}, {400, 0}, {401, 0}, {403, 0}, {404, 0},
        {407, 0}, {408, 1}, {410, 0}, {416, 0}, {425, 1}, {429, 1}, {500, 1},
        {501, 0}, {502, 1}, {503, 1}, {504, 1}, {505, 0}, {506, 0}, {507, 1},
        {508, 1}, {509, 1}, {510, 0}, {511, 0}, {599, 1},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        cr_expect_eq(policy_transient_status(t[i].status), t[i].transient,
                     "status %d", t[i].status);
}

Test(unit_policy, statuses_outside_the_range_are_not_transient)
{
    int odd[] = {INT_MIN, -1, 0, 1, 99, 600, 601, 699, 999, 1000, INT_MAX};
    for (size_t i = 0; i < sizeof odd / sizeof *odd; i++)
        cr_expect_eq(policy_transient_status(odd[i]), 0, "status %d", odd[i]);
}

/* ---------------------------------------------------------------------
 * Backoff
 * ------------------------------------------------------------------ */

/* The un-jittered wait of policy.h: 500 ms doubling per try, at most
 * 30 s. */
static long base_ms(int tries)
{
    long ms = 500;
    for (int i = 1; i < tries && ms < 30000; i++)
        ms *= 2;
    return ms > 30000 ? 30000 : ms;
}

/* Deterministic "random" numbers covering small, large and wrapped
 * values. */
static uint64_t rnd_at(int i)
{
    uint64_t x = (uint64_t)i * UINT64_C(0x9E3779B97F4A7C15);
    x ^= x >> 29;
    return x;
}

Test(unit_policy, backoff_first_tries)
{
    /* Tries 1..7: 500, 1000, 2000, 4000, 8000, 16000, then the 30 s cap
     * (32000 would be next). */
    long want[] = {500, 1000, 2000, 4000, 8000, 16000, 30000, 30000};
    for (int t = 1; t <= 8; t++) {
        long top = want[t - 1];
        cr_expect_eq(policy_backoff_ms(t, -1, 0), top / 2, "tries %d: lowest",
                     t);
        cr_expect_eq(policy_backoff_ms(t, -1, (uint64_t)(top / 2)), top,
                     "tries %d: highest", t);
    }
}

Test(unit_policy, backoff_jitter_between_half_and_all)
{
    for (int t = 1; t <= 12; t++) {
        long top = base_ms(t);
        long lo = LONG_MAX, hi = 0;
        for (int i = 0; i < 4000; i++) {
            long ms = policy_backoff_ms(t, -1, rnd_at(i));
            cr_assert_geq(ms, top / 2, "tries %d rnd %llu: %ld", t,
                          (unsigned long long)rnd_at(i), ms);
            cr_assert_leq(ms, top, "tries %d rnd %llu: %ld", t,
                          (unsigned long long)rnd_at(i), ms);
            lo = ms < lo ? ms : lo;
            hi = ms > hi ? ms : hi;
        }
        /* The jitter actually spreads the waits. */
        cr_expect_lt(lo, hi, "tries %d: no jitter", t);
        cr_expect_leq(lo, top / 2 + top / 20, "tries %d: lowest %ld", t, lo);
        cr_expect_geq(hi, top - top / 20, "tries %d: highest %ld", t, hi);
    }
    /* The extreme random numbers stay inside too. */
    uint64_t ext[] = {0, 1, UINT64_MAX, UINT64_MAX - 1, UINT64_C(1) << 63};
    for (int t = 1; t <= 12; t++)
        for (size_t i = 0; i < sizeof ext / sizeof *ext; i++) {
            long ms = policy_backoff_ms(t, -1, ext[i]);
            cr_expect(ms >= base_ms(t) / 2 && ms <= base_ms(t),
                      "tries %d rnd %llu: %ld", t, (unsigned long long)ext[i],
                      ms);
        }
}

Test(unit_policy, backoff_lower_bound_grows_monotonically)
{
    long prev_lo = 0, prev_hi = 0;
    for (int t = 1; t <= 64; t++) {
        long lo = policy_backoff_ms(t, -1, 0);
        long hi = policy_backoff_ms(t, -1, (uint64_t)(base_ms(t) / 2));
        cr_expect_geq(lo, prev_lo, "tries %d: lowest %ld < %ld", t, lo,
                      prev_lo);
        cr_expect_geq(hi, prev_hi, "tries %d: highest %ld < %ld", t, hi,
                      prev_hi);
        if (t >= 2 && t <= 6)
            cr_expect_eq(lo, 2 * prev_lo, "tries %d doubles", t);
        prev_lo = lo;
        prev_hi = hi;
    }
    cr_expect_eq(prev_lo, 15000);
    cr_expect_eq(prev_hi, 30000);
}

Test(unit_policy, backoff_capped_at_30_s_for_any_tries)
{
    int many[] = {7,  8,  16,  31,   32,      33,          63,
                  64, 65, 100, 1000, 1 << 20, INT_MAX - 1, INT_MAX};
    for (size_t i = 0; i < sizeof many / sizeof *many; i++) {
        for (int k = 0; k < 64; k++) {
            long ms = policy_backoff_ms(many[i], -1, rnd_at(k));
            cr_assert(ms >= 15000 && ms <= 30000, "tries %d: %ld", many[i], ms);
        }
        cr_expect_eq(policy_backoff_ms(many[i], -1, 15000), 30000, "tries %d",
                     many[i]);
        cr_expect_eq(policy_backoff_ms(many[i], -1, 0), 15000, "tries %d",
                     many[i]);
    }
}

Test(unit_policy, backoff_retry_after_raises_the_wait)
{
    /* Seconds, honoured over a shorter exponential wait. */
    cr_expect_eq(policy_backoff_ms(1, 1, 0), 1000);
    cr_expect_eq(policy_backoff_ms(1, 1, 250), 1000);
    cr_expect_eq(policy_backoff_ms(1, 7, 0), 7000);
    cr_expect_eq(policy_backoff_ms(3, 10, 999), 10000);
    cr_expect_eq(policy_backoff_ms(1, 120, 0), 120000);
    cr_expect_eq(policy_backoff_ms(1, 300, 0), 300000);
    /* Never below the exponential wait: Retry-After is a minimum. */
    cr_expect_eq(policy_backoff_ms(7, 1, 0), 15000);
    cr_expect_eq(policy_backoff_ms(7, 10, 15000), 30000);
    cr_expect_eq(policy_backoff_ms(7, 20, 0), 20000);
    for (int t = 1; t <= 20; t++)
        for (int64_t ra = 0; ra <= 300; ra += 13)
            for (int k = 0; k < 16; k++) {
                long ms = policy_backoff_ms(t, ra, rnd_at(k));
                long plain = policy_backoff_ms(t, -1, rnd_at(k));
                cr_assert_geq(ms, ra * 1000, "tries %d ra %lld", t,
                              (long long)ra);
                cr_assert_geq(ms, plain, "tries %d ra %lld", t, (long long)ra);
                cr_assert_eq(ms, plain > ra * 1000 ? plain : (long)ra * 1000,
                             "tries %d ra %lld", t, (long long)ra);
            }
}

Test(unit_policy, backoff_retry_after_capped_at_300_s)
{
    int64_t big[] = {301,
                     600,
                     3600,
                     86400,
                     INT32_MAX,
                     (int64_t)INT32_MAX + 1,
                     INT64_MAX / 1000,
                     INT64_MAX / 1000 + 1,
                     INT64_MAX - 1,
                     INT64_MAX};
    for (size_t i = 0; i < sizeof big / sizeof *big; i++)
        for (int t = 1; t <= 10; t++) {
            cr_expect_eq(policy_backoff_ms(t, big[i], rnd_at(t)), 300000,
                         "tries %d retry_after %lld", t, (long long)big[i]);
        }
    cr_expect_eq(policy_backoff_ms(INT_MAX, INT64_MAX, UINT64_MAX), 300000);
}

Test(unit_policy, backoff_retry_after_absent_or_zero)
{
    for (int t = 1; t <= 10; t++)
        for (int k = 0; k < 32; k++) {
            long plain = policy_backoff_ms(t, -1, rnd_at(k));
            cr_expect_eq(policy_backoff_ms(t, 0, rnd_at(k)), plain,
                         "tries %d: Retry-After: 0 adds nothing", t);
            cr_expect(plain >= base_ms(t) / 2 && plain <= base_ms(t));
        }
    /* Zero is still never a busy loop: the exponential wait remains. */
    cr_expect_eq(policy_backoff_ms(1, 0, 0), 250);
    /* Other negative values are no Retry-After either (and no overflow). */
    int64_t neg[] = {-2, -1000, INT64_MIN / 1000 - 1, INT64_MIN};
    for (size_t i = 0; i < sizeof neg / sizeof *neg; i++)
        for (int t = 1; t <= 10; t++)
            cr_expect_eq(policy_backoff_ms(t, neg[i], rnd_at(t)),
                         policy_backoff_ms(t, -1, rnd_at(t)),
                         "retry_after %lld", (long long)neg[i]);
}

Test(unit_policy, backoff_is_a_pure_function)
{
    for (int t = 1; t <= 10; t++)
        for (int k = 0; k < 32; k++)
            cr_expect_eq(policy_backoff_ms(t, 5, rnd_at(k)),
                         policy_backoff_ms(t, 5, rnd_at(k)));
}

/* ---------------------------------------------------------------------
 * Redirects
 * ------------------------------------------------------------------ */

Test(unit_policy, hop_limit)
{
    cr_assert_eq(POLICY_MAX_HOPS, 20);
    for (int h = 0; h < POLICY_MAX_HOPS; h++)
        cr_expect_eq(policy_hop(h, 1), HOP_FOLLOW, "hops %d", h);
    /* The 21st redirect would be more than POLICY_MAX_HOPS. */
    int over[] = {POLICY_MAX_HOPS, POLICY_MAX_HOPS + 1, 100, INT_MAX};
    for (size_t i = 0; i < sizeof over / sizeof *over; i++)
        cr_expect_eq(policy_hop(over[i], 1), HOP_TOO_MANY, "hops %d", over[i]);
}

Test(unit_policy, hop_scheme)
{
    for (int h = 0; h < POLICY_MAX_HOPS; h++)
        cr_expect_eq(policy_hop(h, 0), HOP_UNSAFE, "hops %d", h);
    /* Past the limit, neither an unsafe nor a safe target is followed. */
    cr_expect_neq(policy_hop(POLICY_MAX_HOPS, 0), HOP_FOLLOW);
    cr_expect_neq(policy_hop(POLICY_MAX_HOPS + 5, 0), HOP_FOLLOW);
}

Test(unit_policy, hop_user_truth_table)
{
    cr_expect_eq(policy_hop_user(0, 0), 0);
    cr_expect_eq(policy_hop_user(0, 1), 0, "never given back");
    cr_expect_eq(policy_hop_user(1, 0), 0, "not to another origin");
    cr_expect_eq(policy_hop_user(1, 1), 1);
}

Test(unit_policy, hop_user_once_lost_stays_lost)
{
    /* A chain A -> B -> A: the user's headers went to A, not to B, and
     * not back to A after B. */
    int same[] = {1, 0, 1, 1};
    int user = 1;
    int had[4];
    for (int i = 0; i < 4; i++) {
        user = policy_hop_user(user, same[i]);
        had[i] = user;
    }
    cr_expect_eq(had[0], 1);
    cr_expect_eq(had[1], 0);
    cr_expect_eq(had[2], 0);
    cr_expect_eq(had[3], 0);
}
