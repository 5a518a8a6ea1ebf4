/* SPDX-License-Identifier: MIT */
/* Unit tests for plan.c: splitting, tiling checks, largest-first splits. */
#include <criterion/criterion.h>

#include "plan.h"

#define MiB (INT64_C(1) << 20)

static void assert_tiles(const sg_segment *s, int n, int64_t size)
{
    cr_assert_eq(plan_check(s, n, size), 0, "plan does not tile %lld",
                 (long long)size);
}

Test(unit_plan, size_zero_is_no_segment)
{
    sg_segment s[8];
    cr_assert_eq(plan_split(0, 8, MiB, s, 8), 0);
    assert_tiles(s, 0, 0);
}

Test(unit_plan, size_one)
{
    sg_segment s[8];
    cr_assert_eq(plan_split(1, 8, 1, s, 8), 1);
    cr_assert_eq(s[0].start, 0);
    cr_assert_eq(s[0].end, 1);
    cr_assert_eq(s[0].done, 0);
    assert_tiles(s, 1, 1);
}

Test(unit_plan, more_connections_than_bytes)
{
    sg_segment s[64];
    cr_assert_eq(plan_split(5, 64, 1, s, 64), 5);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(s[i].end - s[i].start, 1);
    assert_tiles(s, 5, 5);
}

Test(unit_plan, min_split_limits_count)
{
    sg_segment s[8];
    /* 3.5 MiB with 1 MiB minimum: three ranges, each >= 1 MiB. */
    int n = plan_split(3 * MiB + MiB / 2, 8, MiB, s, 8);
    cr_assert_eq(n, 3);
    for (int i = 0; i < n; i++)
        cr_assert_geq(s[i].end - s[i].start, MiB);
    assert_tiles(s, n, 3 * MiB + MiB / 2);
    /* Smaller than the minimum: one range. */
    cr_assert_eq(plan_split(MiB - 1, 8, MiB, s, 8), 1);
}

Test(unit_plan, remainder_spread_evenly)
{
    sg_segment s[8];
    int64_t size = MiB + 1;
    int n = plan_split(size, 8, 1, s, 8);
    cr_assert_eq(n, 8);
    int64_t lo = INT64_MAX, hi = 0;
    for (int i = 0; i < n; i++) {
        int64_t len = s[i].end - s[i].start;
        lo = len < lo ? len : lo;
        hi = len > hi ? len : hi;
    }
    cr_assert_leq(hi - lo, 1);
    assert_tiles(s, n, size);
}

Test(unit_plan, huge_sizes)
{
    sg_segment s[64];
    int64_t sizes[] = {INT64_C(1) << 40, (INT64_C(1) << 40) + 7,
                       INT64_C(1) << 62, INT64_MAX};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        int n = plan_split(sizes[k], 64, MiB, s, 64);
        cr_assert_eq(n, 64);
        assert_tiles(s, n, sizes[k]);
        cr_assert_gt(s[63].start, INT64_C(1) << 32);
    }
}

Test(unit_plan, every_small_size_and_count)
{
    sg_segment s[64];
    for (int64_t size = 0; size <= 200; size++)
        for (int n = 1; n <= 64; n++)
            for (int64_t min = 1; min <= 9; min += 4) {
                int k = plan_split(size, n, min, s, 64);
                cr_assert_geq(k, 0);
                cr_assert_leq(k, n);
                assert_tiles(s, k, size);
                for (int i = 0; i < k && k > 1; i++)
                    cr_assert_geq(s[i].end - s[i].start, min);
            }
}

Test(unit_plan, bad_arguments)
{
    sg_segment s[8];
    cr_assert_eq(plan_split(-1, 8, 1, s, 8), -1);
    cr_assert_eq(plan_split(10, 0, 1, s, 8), -1);
    cr_assert_eq(plan_split(10, 8, 0, s, 8), -1);
    cr_assert_eq(plan_split(10, 8, 1, s, 4), -1);
}

Test(unit_plan, check_rejects_broken_plans)
{
    sg_segment ok[2] = {{0, 5, 5, 0, 0}, {5, 10, 7, 0, 0}};
    cr_assert_eq(plan_check(ok, 2, 10), 0);
    cr_assert_eq(plan_check(ok, 2, 11), -1, "short of size");
    sg_segment gap[2] = {{0, 5, 5, 0, 0}, {6, 10, 6, 0, 0}};
    cr_assert_eq(plan_check(gap, 2, 10), -1);
    sg_segment overlap[2] = {{0, 6, 5, 0, 0}, {5, 10, 5, 0, 0}};
    cr_assert_eq(plan_check(overlap, 2, 10), -1);
    sg_segment past[1] = {{0, 10, 11, 0, 0}};
    cr_assert_eq(plan_check(past, 1, 10), -1);
    sg_segment before[1] = {{2, 10, 1, 0, 0}};
    cr_assert_eq(plan_check(before, 1, 10), -1);
    sg_segment empty[1] = {{0, 0, 0, 0, 0}};
    cr_assert_eq(plan_check(empty, 1, 0), -1);
}

Test(unit_plan, counts)
{
    sg_segment s[3] = {{0, 5, 5, 0, 0}, {5, 10, 7, 0, 0}, {10, 20, 10, 0, 0}};
    cr_assert_eq(plan_written(s, 3), 7);
    cr_assert_eq(plan_remaining(s, 3), 13);
    cr_assert_eq(plan_unfinished(s, 3), 2);
}

Test(unit_plan, sort_restores_order)
{
    sg_segment s[4] = {{5, 7, 5, 0, 0}, {0, 2, 0, 0, 0}, {7, 9, 7, 0, 0},
                       {2, 5, 2, 0, 0}};
    plan_sort(s, 4);
    assert_tiles(s, 4, 9);
}

Test(unit_plan, split_largest_takes_back_half_of_what_is_left)
{
    sg_segment s[4] = {{0, 100, 90, 0, 0}, {100, 200, 120, 0, 0}};
    int n = 2;
    int i = plan_split_largest(s, &n, 4, 10, 0);
    cr_assert_eq(i, 1);
    cr_assert_eq(n, 3);
    cr_assert_eq(s[1].end, 160);
    cr_assert_eq(s[2].start, 160);
    cr_assert_eq(s[2].end, 200);
    cr_assert_eq(s[2].done, 160);
    plan_sort(s, n);
    assert_tiles(s, n, 200);
    cr_assert_eq(plan_remaining(s, n), 10 + 80);
}

Test(unit_plan, split_largest_respects_limits)
{
    sg_segment s[3] = {{0, 100, 81, 0, 0}, {100, 200, 200, 0, 0}};
    int n = 2;
    /* 19 left: halves of 9 and 10 are under min_split 10. */
    cr_assert_eq(plan_split_largest(s, &n, 3, 10, 0), -1);
    cr_assert_eq(n, 2);
    s[0].done = 0;
    s[0].active = 1;
    cr_assert_eq(plan_split_largest(s, &n, 3, 10, 0), -1, "active skipped");
    cr_assert_eq(plan_split_largest(s, &n, 3, 10, 1), 0);
    cr_assert_eq(plan_split_largest(s, &n, 3, 10, 1), -1, "no room");
}

Test(unit_plan, split_largest_near_int64_max)
{
    sg_segment s[2] = {{0, INT64_MAX, 0, 0, 0}};
    int n = 1;
    cr_assert_eq(plan_split_largest(s, &n, 2, MiB, 0), 0);
    assert_tiles(s, 2, INT64_MAX);
}

Test(unit_plan, split_at_bounds)
{
    sg_segment s[3] = {{0, 100, 40, 0, 0}};
    int n = 1;
    cr_assert_eq(plan_split_at(s, &n, 3, 0, 40), -1, "at == done");
    cr_assert_eq(plan_split_at(s, &n, 3, 0, 100), -1, "at == end");
    cr_assert_eq(plan_split_at(s, &n, 3, 0, 39), -1, "before done");
    cr_assert_eq(plan_split_at(s, &n, 3, 1, 50), -1, "no such segment");
    cr_assert_eq(n, 1);
    cr_assert_eq(plan_split_at(s, &n, 3, 0, 41), 1);
    cr_assert_eq(s[0].end, 41);
    cr_assert_eq(s[1].start, 41);
    cr_assert_eq(s[1].done, 41);
    cr_assert_eq(s[1].end, 100);
    cr_assert_eq(plan_split_at(s, &n, 3, 1, 99), 2);
    cr_assert_eq(plan_split_at(s, &n, 3, 2, 99), -1, "full");
    plan_sort(s, n);
    assert_tiles(s, n, 100);
    cr_assert_eq(plan_remaining(s, n), 60);
}

Test(unit_plan, split_at_past_4gib)
{
    int64_t g4 = INT64_C(1) << 32;
    sg_segment s[2] = {{g4 - 10, 3 * g4, g4 + 5, 0, 0}};
    int n = 1;
    cr_assert_eq(plan_split_at(s, &n, 2, 0, 2 * g4 + 1), 1);
    cr_assert_eq(s[1].start, 2 * g4 + 1);
    cr_assert_eq(plan_remaining(s, n), 3 * g4 - (g4 + 5));
}
