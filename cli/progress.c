/* SPDX-License-Identifier: MIT */
/*
 * progress.c - rendering sg_progress for a person (see progress.h).
 *
 * A line is made of fields, each with a rank: when the line does not fit
 * the terminal, the fields of the highest rank go first, then the next,
 * and what is left of rank 0 is cut at the width.  Nothing drawn in place
 * reaches the last column: a line that fills it wraps on some terminals,
 * and a wrapped line leaves a row behind that the next redraw does not
 * clear.  A redraw goes back up over the lines it drew, clearing each,
 * and starts again at the first.
 */
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "progress.h"

#define MAP_MIN 8 /* fewer cells than this: no map */
#define TEXT_MAX 512

typedef struct field {
    char text[64];
    int rank; /* 0: always shown; the highest is dropped first */
} field;

void progress_init(progress_view *v, FILE *out, int quiet)
{
    memset(v, 0, sizeof *v);
    v->out = out;
    v->quiet = quiet;
    v->tty = isatty(fileno(out));
    v->next_plain = PROGRESS_PLAIN_S;
    v->fetched = -1;
}

void progress_bytes(char *buf, size_t len, double n)
{
    const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    int u = 0;
    while (n >= 1024 && u < 6) {
        n /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%.0f B", n);
    else
        snprintf(buf, len, "%.1f %s", n, unit[u]);
}

/* secs as m:ss or h:mm:ss; "--:--" when unknown (negative) or absurd. */
static void clock_text(char *buf, size_t len, double secs)
{
    if (secs < 0 || secs > 99 * 3600) {
        snprintf(buf, len, "--:--");
        return;
    }
    long s = (long)(secs + 0.5);
    if (s >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buf, len, "%ld:%02ld", s / 60, s % 60);
}

/* Width of the terminal in columns, 80 when unknown. */
static int columns(FILE *out)
{
    struct winsize ws;
    if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 80;
}

/* Join the fields of rank <= keep, two spaces apart. */
static void join(char *line, size_t len, const field *f, int n, int keep)
{
    size_t at = 0;
    line[0] = '\0';
    for (int i = 0; i < n && at < len; i++) {
        if (f[i].rank > keep)
            continue;
        int w =
            snprintf(line + at, len - at, "%s%s", at ? "  " : "", f[i].text);
        at += w > 0 ? (size_t)w : 0;
    }
}

/* The fields as one line of at most width characters (-1: any length),
 * dropping fields by rank until it fits. */
static void fit(char *line, size_t len, const field *f, int n, int width)
{
    int top = 0;
    for (int i = 0; i < n; i++)
        top = f[i].rank > top ? f[i].rank : top;
    for (int keep = top; keep >= 0; keep--) {
        join(line, len, f, n, keep);
        if (width < 0 || strlen(line) <= (size_t)width)
            return;
    }
    if ((size_t)width < len)
        line[width] = '\0';
}

/* Append a field of rank to f[0..n); returns n + 1. */
static int add(field *f, int n, int rank, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int add(field *f, int n, int rank, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(f[n].text, sizeof f[n].text, fmt, ap);
    va_end(ap);
    f[n].rank = rank;
    return n + 1;
}

/* The status of a download as fields: percent, bytes, speed, ETA and
 * connections; "paused" instead of the last three while paused.  Speed
 * and ETA are the library's, which counts only what this run received. */
static int status_fields(const sg_progress *p, field *f)
{
    char got[32], tot[32], rate[32], left[32];
    int n = 0;
    progress_bytes(got, sizeof got, (double)p->received);
    if (p->total > 0) {
        progress_bytes(tot, sizeof tot, (double)p->total);
        n = add(f, n, 0, "%.1f%%",
                100.0 * (double)p->received / (double)p->total);
        n = add(f, n, 3, "%s / %s", got, tot);
    } else {
        n = add(f, n, 0, "%s", got);
    }
    if (p->state == SG_STATE_PAUSED)
        return add(f, n, 0, "paused");
    progress_bytes(rate, sizeof rate, p->rate);
    n = add(f, n, 2, "%s/s", rate);
    if (p->total > 0) {
        double remain = (double)(p->total - p->received);
        clock_text(left, sizeof left, p->rate > 0 ? remain / p->rate : -1);
        n = add(f, n, 1, "ETA %s", left);
    }
    return add(f, n, 4, "%d conn", p->connections);
}

/* The label of connection c (1-based): 1-9, a-z, A-Z, then '*'. */
static char label(int c)
{
    return c < 10   ? (char)('0' + c)
           : c < 36 ? (char)('a' + c - 10)
           : c < 62 ? (char)('A' + c - 36)
                    : '*';
}

/* The map of the file, one cell per width-th of it: '#' written, '-'
 * partly written, '.' not yet, and at the cell where each connection
 * writes now, its number (sg_segment.conn: it keeps it all along). */
static void draw_map(const sg_progress *p, char *map, int width)
{
    double cell = (double)p->total / width;
    for (int i = 0; i < width; i++) {
        double lo = i * cell, hi = (i + 1) * cell, got = 0;
        for (int k = 0; k < p->nsegments; k++) {
            const sg_segment *g = &p->segments[k];
            double a = (double)g->start > lo ? (double)g->start : lo;
            double b = (double)g->done < hi ? (double)g->done : hi;
            if (b > a)
                got += b - a;
        }
        map[i] = got >= hi - lo - 0.5 ? '#' : got > 0 ? '-' : '.';
    }
    for (int k = 0; k < p->nsegments; k++) {
        const sg_segment *g = &p->segments[k];
        if (!g->active || g->conn <= 0 || g->done >= g->end)
            continue;
        int at = (int)((double)g->done / cell);
        map[at < width ? at : width - 1] = label(g->conn);
    }
    map[width] = '\0';
}

/* Erase what is drawn and leave the cursor at the start of its first
 * line. */
static void erase(progress_view *v)
{
    for (int i = 1; i < v->drawn; i++)
        fputs("\r\033[K\033[1A", v->out);
    if (v->drawn)
        fputs("\r\033[K", v->out);
    v->drawn = 0;
}

/* Draw the fields (and a map of p, when given) in place of what is on
 * the terminal. */
static void redraw(progress_view *v, const sg_progress *map_of, const field *f,
                   int n)
{
    char line[TEXT_MAX];
    int width = columns(v->out) - 1; /* never the last column */
    if (width >= TEXT_MAX)
        width = TEXT_MAX - 1;
    fit(line, sizeof line, f, n, width);
    erase(v);
    if (map_of && width - 2 >= MAP_MIN) {
        char map[TEXT_MAX];
        draw_map(map_of, map, width - 2);
        fprintf(v->out, "[%s]\n", map);
        v->drawn = 1;
    }
    fprintf(v->out, "%s\033[K", line);
    v->drawn++;
    fflush(v->out);
}

/* Off a terminal: is a line due at elapsed?  The first comes after one
 * interval, the next on the interval's grid. */
static int plain_due(progress_view *v, double elapsed)
{
    if (elapsed < v->next_plain)
        return 0;
    while (v->next_plain <= elapsed)
        v->next_plain += PROGRESS_PLAIN_S;
    return 1;
}

/* Off a terminal: "WHO: FIELDS, M:SS elapsed". */
static void plain(progress_view *v, const char *who, const field *f, int n,
                  double elapsed)
{
    char line[TEXT_MAX], t[32];
    fit(line, sizeof line, f, n, -1);
    clock_text(t, sizeof t, elapsed);
    fprintf(v->out, "%s%s%s, %s elapsed\n", who ? who : "", who ? ": " : "",
            line, t);
    fflush(v->out);
}

void progress_update(const sg_progress *p, void *userdata)
{
    progress_view *v = userdata;
    field f[8];
    int n;
    if (p->state == SG_STATE_DOWNLOADING || p->state == SG_STATE_PAUSED)
        v->fetched = p->received - p->resumed;
    if (!v->quiet && v->tty && p->state == SG_STATE_VERIFYING && p->total > 0 &&
        p->received < p->total) {
        /* What is left to hash after the last byte came (Ctrl-C stops
         * it; the next run resumes). */
        char got[32], tot[32];
        progress_bytes(got, sizeof got, (double)p->received);
        progress_bytes(tot, sizeof tot, (double)p->total);
        n = add(f, 0, 0, "verifying %.1f%%",
                100.0 * (double)p->received / (double)p->total);
        n = add(f, n, 1, "%s / %s", got, tot);
        redraw(v, NULL, f, n);
        return;
    }
    if (v->quiet ||
        (p->state != SG_STATE_DOWNLOADING && p->state != SG_STATE_PAUSED))
        return;
    if (!v->tty && !plain_due(v, p->elapsed))
        return;
    n = status_fields(p, f);
    if (!v->tty) {
        const char *name =
            v->name && strcmp(v->name, "-") == 0 ? "standard output" : v->name;
        plain(v, name, f, n, p->elapsed);
        return;
    }
    redraw(v, p->total > 0 && p->nsegments > 0 ? p : NULL, f, n);
}

void progress_summary(const progress_view *v, const char *path, int64_t size,
                      double secs, int to_pipe)
{
    char all[32], got[32], rate[32], of[64] = "";
    /* A resumed download received less than its size: say how much,
     * and rate that alone. */
    if (size <= 0 && v->fetched > 0)
        size = v->fetched; /* the length was never known */
    int64_t net = v->fetched >= 0 && v->fetched < size ? v->fetched : size;
    progress_bytes(all, sizeof all, (double)size);
    progress_bytes(got, sizeof got, (double)net);
    progress_bytes(rate, sizeof rate, secs > 0 ? (double)net / secs : 0);
    if (net < size)
        snprintf(of, sizeof of, ", %s of it", got);
    if (to_pipe)
        fprintf(v->out,
                "segget: wrote %s to standard output in %.1f s "
                "(%s/s)\n",
                all, secs, rate);
    else
        fprintf(v->out, "segget: saved %s (%s%s in %.1f s, %s/s)\n", path, all,
                of, secs, rate);
}

void progress_end(progress_view *v)
{
    if (v->drawn) {
        fputc('\n', v->out);
        v->drawn = 0;
    }
}

void progress_notice(const char *msg, void *userdata)
{
    progress_view *v = userdata;
    if (v->quiet)
        return;
    erase(v);
    fprintf(v->out, "segget: %s\n", msg);
    fflush(v->out);
}

void progress_batch(const sg_batch_status *st, void *userdata)
{
    progress_view *v = userdata;
    if (v->quiet || (!v->tty && !plain_due(v, st->elapsed)))
        return;
    char got[32], rate[32];
    field f[8];
    progress_bytes(got, sizeof got, (double)st->bytes);
    progress_bytes(rate, sizeof rate, st->rate);
    int n =
        add(f, 0, 0, "[%d/%d]", st->done + st->skipped + st->failed, st->total);
    n = add(f, n, 3, "%s", got);
    n = add(f, n, 1, "%s/s", rate);
    n = add(f, n, 2, "%d active", st->active);
    if (st->failed)
        n = add(f, n, 0, "%d failed", st->failed);
    if (v->tty)
        redraw(v, NULL, f, n);
    else
        plain(v, NULL, f, n, st->elapsed);
}

void progress_event(const sg_batch_event *ev, void *userdata)
{
    progress_view *v = userdata;
    char size[32];
    if (ev->state == SG_ENTRY_FAILED) {
        erase(v);
        fprintf(v->out, "segget: line %d: %s\n", ev->line, ev->error);
        fflush(v->out);
        return;
    }
    if (v->quiet || v->tty ||
        (ev->state != SG_ENTRY_DONE && ev->state != SG_ENTRY_SKIPPED))
        return;
    progress_bytes(size, sizeof size, (double)ev->size);
    fprintf(v->out, "segget: %s %s (%s)\n",
            ev->state == SG_ENTRY_DONE ? "saved" : "already complete:",
            ev->path, size);
    fflush(v->out);
}
