/* SPDX-License-Identifier: MIT */
/*
 * progress.c - rendering sg_progress for a person.
 */
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "progress.h"

void progress_init(progress_view *v, FILE *out, int quiet)
{
    memset(v, 0, sizeof *v);
    v->out = out;
    v->quiet = quiet;
    v->tty = isatty(fileno(out));
    v->last_plain = -1;
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

static void eta(char *buf, size_t len, double secs)
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
    if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
        return ws.ws_col;
    return 80;
}

/* The map of the file, one cell per width-th of it: '#' written, '-'
 * partly written, '.' not yet, and at the cell where each connection
 * writes now, its label (1-9, then a-z). */
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
    int label = 0;
    for (int k = 0; k < p->nsegments; k++) {
        const sg_segment *g = &p->segments[k];
        if (!g->active || g->done >= g->end)
            continue;
        int at = (int)((double)g->done / cell);
        if (at >= width)
            at = width - 1;
        label++;
        map[at] = label < 10 ? (char)('0' + label)
                  : label < 36 ? (char)('a' + label - 10) : '*';
    }
    map[width] = '\0';
}

/* Erase what is drawn and leave the cursor at the start of its first
 * line. */
static void erase(progress_view *v)
{
    if (v->drawn >= 2)
        fputs("\r\033[K\033[1A", v->out);
    if (v->drawn)
        fputs("\r\033[K", v->out);
    v->drawn = 0;
}

void progress_update(const sg_progress *p, void *userdata)
{
    progress_view *v = userdata;
    if (!v->quiet && v->tty && p->state == SG_STATE_VERIFYING &&
        p->total > 0 && p->received < p->total) {
        /* What is left to hash after the last byte came (Ctrl-C stops
         * it; the next run resumes). */
        char got[32], tot[32];
        progress_bytes(got, sizeof got, (double)p->received);
        progress_bytes(tot, sizeof tot, (double)p->total);
        erase(v);
        fprintf(v->out, "verifying %5.1f%%  %s / %s\033[K",
                100.0 * (double)p->received / (double)p->total, got, tot);
        v->drawn = 1;
        fflush(v->out);
        return;
    }
    if (v->quiet || p->state != SG_STATE_DOWNLOADING)
        return;
    if (!v->tty && p->elapsed - v->last_plain < 5 && v->last_plain >= 0)
        return;
    char got[32], tot[32], rate[32], left[32];
    progress_bytes(got, sizeof got, (double)p->received);
    progress_bytes(rate, sizeof rate, p->rate);
    double remain = p->total >= 0 ? (double)(p->total - p->received) : -1;
    eta(left, sizeof left, p->rate > 0 && remain >= 0 ? remain / p->rate : -1);
    char line[160];
    if (p->total > 0) {
        progress_bytes(tot, sizeof tot, (double)p->total);
        snprintf(line, sizeof line,
                 "%5.1f%%  %s / %s  %s/s  ETA %s  %d conn",
                 100.0 * (double)p->received / (double)p->total, got, tot,
                 rate, left, p->connections);
    } else {
        snprintf(line, sizeof line, "%s  %s/s  %d conn", got, rate,
                 p->connections);
    }
    if (!v->tty) {
        fprintf(v->out, "%s\n", line);
        v->last_plain = p->elapsed;
        fflush(v->out);
        return;
    }
    erase(v);
    if (p->total > 0 && p->nsegments > 0) {
        char map[512];
        int width = columns(v->out) - 3;
        if (width > (int)sizeof map - 1)
            width = (int)sizeof map - 1;
        draw_map(p, map, width);
        fprintf(v->out, "[%s]\n", map);
        v->drawn = 1;
    }
    fprintf(v->out, "%s\033[K", line);
    v->drawn++;
    fflush(v->out);
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
    if (v->quiet)
        return;
    if (!v->tty && st->elapsed - v->last_plain < 5 && v->last_plain >= 0)
        return;
    char got[32], rate[32], line[200];
    progress_bytes(got, sizeof got, (double)st->bytes);
    progress_bytes(rate, sizeof rate, st->rate);
    snprintf(line, sizeof line,
             "[%d/%d] %s  %s/s  %d active%s%.0d%s",
             st->done + st->skipped + st->failed, st->total, got, rate,
             st->active, st->failed ? ", " : "", st->failed,
             st->failed ? " failed" : "");
    if (v->tty) {
        erase(v);
        fprintf(v->out, "%s\033[K", line);
        v->drawn = 1;
    } else {
        fprintf(v->out, "%s\n", line);
        v->last_plain = st->elapsed;
    }
    fflush(v->out);
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
