/* SPDX-License-Identifier: MIT */
/* The test resource generator must give the same byte at an offset however
 * the range is cut, or the fault server's tests would prove nothing. */
#include <criterion/criterion.h>

#include "../support/content.h"

Test(unit_content, any_cut_gives_the_same_bytes)
{
    unsigned char whole[1000], part[1000];
    content_fill(7, 5, whole, sizeof whole);
    for (size_t a = 0; a < 40; a++)
        for (size_t len = 1; len < 30; len++) {
            content_fill(7, 5 + a, part, len);
            cr_assert_arr_eq(part, whole + a, len, "a=%zu len=%zu", a, len);
        }
    unsigned char other[16];
    content_fill(8, 5, other, sizeof other);
    cr_assert_arr_neq(other, whole, sizeof other, "seed ignored");
}
