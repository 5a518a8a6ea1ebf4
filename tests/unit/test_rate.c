/* SPDX-License-Identifier: MIT */
/* Unit tests for rate.c: rates over two-second spans, medians. */
#include <criterion/criterion.h>

#include "rate.h"

Test(unit_rate, unknown_until_two_intervals)
{
    rate_meter m;
    rate_start(&m, 1000);
    cr_assert_lt(rate_sample(&m, 1100, 500), 0, "too early to sample");
    cr_assert_lt(rate_sample(&m, 1250, 1000), 0, "one interval");
    cr_assert_float_eq(rate_sample(&m, 1500, 3000), 6000.0, 1e-6);
}

Test(unit_rate, steady_rate)
{
    rate_meter m;
    rate_start(&m, 0);
    double r = -1;
    for (int64_t t = 250; t <= 10000; t += 250)
        r = rate_sample(&m, t, t * 1000); /* 1 MB/s */
    cr_assert_float_eq(r, 1e6, 1e-3);
}

Test(unit_rate, window_forgets_after_two_seconds)
{
    rate_meter m;
    rate_start(&m, 0);
    int64_t got = 0;
    /* Five seconds at 8 MB/s, then nothing for 2.5 s. */
    for (int64_t t = 250; t <= 5000; t += 250) {
        got += 2000000;
        rate_sample(&m, t, got);
    }
    cr_assert_float_eq(m.rate, 8e6, 1e-3);
    double r = 0;
    for (int64_t t = 5250; t <= 7000; t += 250)
        r = rate_sample(&m, t, got);
    cr_assert_float_eq(r, 0.0, 1e-6, "still remembers older bytes: %f", r);
}

Test(unit_rate, bursts_once_a_second_read_as_their_average)
{
    rate_meter m;
    rate_start(&m, 0);
    int64_t got = 0;
    double lo = 1e18;
    for (int64_t t = 250; t <= 8000; t += 250) {
        if (t % 1000 == 0)
            got += 8000000; /* 8 MB each second, all at once */
        double r = rate_sample(&m, t, got);
        if (t >= 2000 && r < lo)
            lo = r;
    }
    /* Never reads as idle: at worst 3 of 4 bursts in a two second span. */
    cr_assert_geq(lo, 6e6, "lowest rate %f", lo);
}

Test(unit_rate, median)
{
    double a[] = {5, 1, 3};
    cr_assert_float_eq(rate_median(a, 3), 3.0, 1e-9);
    double b[] = {8, 1, 2, 4};
    cr_assert_float_eq(rate_median(b, 4), 3.0, 1e-9);
    cr_assert_float_eq(rate_median(b, 0), -1.0, 1e-9);
}
