/* SPDX-License-Identifier: MIT */
/*
 * screen.c - the test terminal of screen.h.
 *
 * Rows are kept in one growing array, each cols cells of blanks; the
 * visible screen is the last `height` rows the cursor has reached (top
 * is its first).  Escape sequences are parsed byte by byte by a small
 * state machine, so output fed in pieces reads as it would in one.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "screen.h"

enum { S_TEXT, S_ESC, S_CSI };

typedef struct row {
    char *cell; /* cols + 1, blanks, NUL-terminated */
    int wrapped;
} row;

struct screen {
    int cols, height;
    row *r;
    int nrows, cap;
    int top;     /* the first visible row */
    int y, x;    /* the cursor */
    int pending; /* the last column was written: wrap at the next */
    int state;
    char par[32]; /* a CSI's parameter bytes */
    size_t npar;
    char text[1024]; /* screen_row's answer */
};

/* Make rows up to y exist; scroll so that y is visible. */
static void reach(screen *s, int y)
{
    while (s->nrows <= y) {
        if (s->nrows == s->cap) {
            s->cap = s->cap ? 2 * s->cap : 64;
            s->r = realloc(s->r, (size_t)s->cap * sizeof *s->r);
            cr_assert_not_null(s->r);
        }
        row *w = &s->r[s->nrows++];
        w->cell = malloc((size_t)s->cols + 1);
        cr_assert_not_null(w->cell);
        memset(w->cell, ' ', (size_t)s->cols);
        w->cell[s->cols] = '\0';
        w->wrapped = 0;
    }
    if (y >= s->top + s->height)
        s->top = y - s->height + 1;
}

screen *screen_new(int cols, int rows)
{
    screen *s = calloc(1, sizeof *s);
    cr_assert_not_null(s);
    s->cols = cols;
    s->height = rows;
    reach(s, 0);
    return s;
}

void screen_free(screen *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->nrows; i++)
        free(s->r[i].cell);
    free(s->r);
    free(s);
}

static void put(screen *s, char c)
{
    if (s->pending) {
        s->pending = 0;
        s->x = 0;
        reach(s, ++s->y);
        s->r[s->y].wrapped = 1;
    }
    s->r[s->y].cell[s->x] = c;
    if (s->x == s->cols - 1)
        s->pending = 1;
    else
        s->x++;
}

/* The n-th numeric parameter of the CSI in s->par, or dflt. */
static int param(const screen *s, int n, int dflt)
{
    const char *p = s->par;
    for (int i = 0; i < n && p; i++)
        if ((p = strchr(p, ';')))
            p++;
    if (!p || *p < '0' || *p > '9')
        return dflt;
    int v = atoi(p);
    return v ? v : dflt;
}

static void clear(screen *s, int y, int from, int to)
{
    for (int i = from; i < to && i < s->cols; i++)
        s->r[y].cell[i] = ' ';
}

static void csi(screen *s, char final)
{
    int n = param(s, 0, 1);
    s->pending = 0;
    switch (final) {
    case 'A':
        s->y = s->y - n < s->top ? s->top : s->y - n;
        break;
    case 'B':
        reach(s, s->y += n);
        break;
    case 'C':
        s->x = s->x + n >= s->cols ? s->cols - 1 : s->x + n;
        break;
    case 'D':
        s->x = s->x - n < 0 ? 0 : s->x - n;
        break;
    case 'G':
        s->x = n > s->cols ? s->cols - 1 : n - 1;
        break;
    case 'H':
        reach(s, s->y = s->top + n - 1);
        s->x = param(s, 1, 1) > s->cols ? s->cols - 1 : param(s, 1, 1) - 1;
        break;
    case 'K': {
        int how = param(s, 0, 0);
        if (how == 0)
            clear(s, s->y, s->x, s->cols);
        else if (how == 1)
            clear(s, s->y, 0, s->x + 1);
        else
            clear(s, s->y, 0, s->cols);
        break;
    }
    case 'J':
        if (param(s, 0, 0) == 0) {
            clear(s, s->y, s->x, s->cols);
            for (int i = s->y + 1; i < s->nrows; i++)
                clear(s, i, 0, s->cols);
        }
        break;
    default:
        break; /* colours, modes: nothing on the screen's text */
    }
}

void screen_feed(screen *s, const char *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)bytes[i];
        if (s->state == S_ESC) {
            s->state = c == '[' ? S_CSI : S_TEXT;
            s->npar = 0;
            s->par[0] = '\0';
            continue;
        }
        if (s->state == S_CSI) {
            if (c >= 0x40 && c <= 0x7e) {
                s->state = S_TEXT;
                csi(s, (char)c);
            } else if (s->npar + 1 < sizeof s->par) {
                s->par[s->npar++] = (char)c;
                s->par[s->npar] = '\0';
            }
            continue;
        }
        switch (c) {
        case 0x1b:
            s->state = S_ESC;
            break;
        case '\r':
            s->x = 0;
            s->pending = 0;
            break;
        case '\n':
            s->pending = 0;
            reach(s, ++s->y);
            break;
        case '\b':
            s->pending = 0;
            if (s->x > 0)
                s->x--;
            break;
        case '\t':
            s->pending = 0;
            s->x = (s->x / 8 + 1) * 8;
            if (s->x >= s->cols)
                s->x = s->cols - 1;
            break;
        default:
            if (c >= 0x20 && c != 0x7f && (c < 0x80 || c >= 0xc0))
                put(s, (char)c); /* a UTF-8 sequence counts once */
            break;
        }
    }
}

int screen_rows(const screen *s)
{
    return s->nrows;
}

const char *screen_row(screen *s, int i)
{
    snprintf(s->text, sizeof s->text, "%s", s->r[i].cell);
    size_t len = strlen(s->text);
    while (len > 0 && s->text[len - 1] == ' ')
        s->text[--len] = '\0';
    return s->text;
}

int screen_wrapped(const screen *s, int i)
{
    return s->r[i].wrapped;
}

int screen_cursor_row(const screen *s)
{
    return s->y;
}

int screen_cursor_col(const screen *s)
{
    return s->x;
}
