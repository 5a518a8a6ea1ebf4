/* SPDX-License-Identifier: MIT */
/* Unit tests for the test terminal (tests/support/screen.c): the progress
 * tests trust it to show what a real terminal would. */
#include <criterion/criterion.h>
#include <string.h>

#include "screen.h"

static screen *fed(int cols, const char *text)
{
    screen *s = screen_new(cols, 24);
    screen_feed(s, text, strlen(text));
    return s;
}

Test(unit_screen, carriage_return_and_erase_redraw_a_line)
{
    screen *s = fed(20, "hello world\r\033[Kbye");
    cr_assert_eq(screen_rows(s), 1);
    cr_assert_str_eq(screen_row(s, 0), "bye");
    cr_assert_eq(screen_cursor_col(s), 3);
    screen_free(s);
}

Test(unit_screen, a_carriage_return_alone_leaves_the_old_tail)
{
    screen *s = fed(20, "hello world\rbye");
    cr_assert_str_eq(screen_row(s, 0), "byelo world");
    screen_free(s);
}

Test(unit_screen, cursor_up_goes_back_over_two_lines)
{
    screen *s = fed(20, "[map]\r\nstatus\r\033[K\033[1A\r\033[K[new]\r\nst2");
    cr_assert_eq(screen_rows(s), 2);
    cr_assert_str_eq(screen_row(s, 0), "[new]");
    cr_assert_str_eq(screen_row(s, 1), "st2");
    screen_free(s);
}

Test(unit_screen, a_line_past_the_width_wraps_and_leaves_a_row_behind)
{
    /* 12 characters on 10 columns: the redraw goes up one row, which is
     * the wrapped row, not the start of the line. */
    screen *s = fed(10, "0123456789ab\r\033[K\033[1A\r\033[Kx");
    cr_assert_eq(screen_rows(s), 2);
    cr_assert(screen_wrapped(s, 1));
    cr_assert_str_eq(screen_row(s, 0), "x");
    cr_assert_str_eq(screen_row(s, 1), "");
    screen_free(s);
    /* Exactly the width does not wrap until the next character. */
    s = fed(10, "0123456789\r\033[Kx");
    cr_assert_eq(screen_rows(s), 1);
    cr_assert_str_eq(screen_row(s, 0), "x");
    screen_free(s);
    s = fed(10, "0123456789y");
    cr_assert_eq(screen_rows(s), 2);
    cr_assert_str_eq(screen_row(s, 1), "y");
    screen_free(s);
}

Test(unit_screen, cursor_up_stops_at_the_top_of_the_screen)
{
    screen *s = screen_new(10, 2);
    const char *t = "a\r\nb\r\nc\033[5Az";
    screen_feed(s, t, strlen(t));
    cr_assert_eq(screen_rows(s), 3);
    cr_assert_str_eq(screen_row(s, 1), "bz");
    screen_free(s);
}

Test(unit_screen, sequences_split_across_feeds_and_unknown_ones_ignored)
{
    screen *s = screen_new(20, 24);
    screen_feed(s, "abc\033", 4);
    screen_feed(s, "[3", 2);
    screen_feed(s, "D\033[1mX\033[0m", 10);
    cr_assert_str_eq(screen_row(s, 0), "Xbc");
    screen_free(s);
}
