/* SPDX-License-Identifier: MIT */
/*
 * screen.h - a small terminal emulator for the tests: what a terminal of
 * a given width would show after the bytes a program wrote to it.
 *
 * It keeps every row the output ever reached (scrollback included) and
 * understands what a progress display uses: printable characters, \r,
 * \n (a line feed, the column kept: the terminal's ONLCR has already
 * made it \r\n), \b, \t, and the CSI sequences K (erase in line), J
 * (erase below), A/B/C/D (cursor up/down/forward/back), G (column) and
 * H (position; rows counted from the top of the visible screen); other
 * escape sequences are read and ignored.  A character written past the
 * last column wraps onto the next row, as xterm does (the wrap waits for
 * the next character), and the new row is marked as a continuation.
 * Cursor-up stops at the top of the visible screen.  Single-threaded;
 * a failure to allocate fails the test.
 */
#ifndef SG_SCREEN_H
#define SG_SCREEN_H

#include <stddef.h>

typedef struct screen screen;

/* A blank screen cols wide and rows high, cursor at the top left.
 * Freed by screen_free. */
screen *screen_new(int cols, int rows);
void screen_free(screen *s);

/* Interpret n bytes of output (a sequence may be split across calls). */
void screen_feed(screen *s, const char *bytes, size_t n);

/* Rows reached so far, scrollback included. */
int screen_rows(const screen *s);

/* Row i's text without its trailing blanks; owned by s, valid until the
 * next call on s. */
const char *screen_row(screen *s, int i);

/* 1 when row i began by wrapping from row i - 1. */
int screen_wrapped(const screen *s, int i);

/* The cursor's row (in screen_row's numbering) and column. */
int screen_cursor_row(const screen *s);
int screen_cursor_col(const screen *s);

#endif
