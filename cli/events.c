/* SPDX-License-Identifier: MIT */
/*
 * events.c - writing --json events (see events.h).
 */
#include <stdlib.h>
#include <string.h>

#include "events.h"

/* The length of the well-formed UTF-8 sequence at s (RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF), or 0. */
static int utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    int n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2
            : c >= 0xe0 && c <= 0xef               ? 3
            : c >= 0xf0 && c <= 0xf4               ? 4
                                                   : 0;
    for (int i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) ||
        (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
        return 0;
    return n;
}

/* A JSON string: quotes, and escapes for '"', '\\' and control bytes;
 * a byte that is not part of well-formed UTF-8 (a name decoded from
 * %FF) becomes U+FFFD, so every line is valid JSON.  NULL is written as
 * null. */
static void str(FILE *f, const char *s)
{
    if (!s) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (const unsigned char *c = (const unsigned char *)s; *c;) {
        int n = utf8_len(c);
        if (n == 0) {
            fputs("\\ufffd", f);
            c++;
        } else if (*c == '"' || *c == '\\') {
            fprintf(f, "\\%c", *c);
            c++;
        } else if (*c < 0x20 || *c == 0x7f) {
            fprintf(f, "\\u%04x", *c);
            c++;
        } else {
            fwrite(c, 1, (size_t)n, f);
            c += n;
        }
    }
    fputc('"', f);
}

static void done(events *ev)
{
    fputs("}\n", ev->out);
    fflush(ev->out);
}

void events_init(events *ev, FILE *out)
{
    memset(ev, 0, sizeof *ev);
    ev->out = out;
    ev->last = -1;
}

void events_free(events *ev)
{
    free(ev->seen_start);
    free(ev->seen_state);
    ev->seen_start = NULL;
    ev->seen_state = NULL;
}

static void start(events *ev, const sg_progress *p)
{
    FILE *f = ev->out;
    fprintf(f, "{\"event\":\"start\",\"size\":%lld,\"etag\":",
            (long long)p->total);
    str(f, p->etag);
    fputs(",\"last_modified\":", f);
    str(f, p->last_modified);
    fprintf(f, ",\"resumed\":%lld,\"plan\":[", (long long)p->resumed);
    for (int i = 0; i < p->nsegments; i++)
        fprintf(f, "%s{\"start\":%lld,\"end\":%lld,\"done\":%lld}",
                i ? "," : "", (long long)p->segments[i].start,
                (long long)p->segments[i].end,
                (long long)p->segments[i].done);
    fputc(']', f);
    done(ev);
    ev->started = 1;
}

/* Segment events for every change since the last snapshot.  Segments are
 * known by their start (a split adds one; none is ever removed). */
static void segments(events *ev, const sg_progress *p)
{
    for (int i = 0; i < p->nsegments; i++) {
        const sg_segment *g = &p->segments[i];
        char st = g->done >= g->end ? 'd' : g->active ? 'a' : 'q';
        /* seen_start is kept sorted: find g's place by bisection. */
        int lo = 0, hi = ev->nseen;
        while (lo < hi) {
            int mid = lo + (hi - lo) / 2;
            if (ev->seen_start[mid] < g->start)
                lo = mid + 1;
            else
                hi = mid;
        }
        int k = lo;
        if (k == ev->nseen || ev->seen_start[k] != g->start) {
            int64_t *s = realloc(ev->seen_start,
                                 (size_t)(ev->nseen + 1) * sizeof *s);
            if (s)
                ev->seen_start = s;
            char *t = realloc(ev->seen_state, (size_t)(ev->nseen + 1));
            if (t)
                ev->seen_state = t;
            if (!s || !t)
                return;
            memmove(s + k + 1, s + k, (size_t)(ev->nseen - k) * sizeof *s);
            memmove(t + k + 1, t + k, (size_t)(ev->nseen - k));
            s[k] = g->start;
            t[k] = 'q';
            ev->nseen++;
        }
        if (ev->seen_state[k] == st)
            continue;
        /* A segment can start and finish between two snapshots. */
        if (st == 'd' && ev->seen_state[k] == 'q')
            fprintf(ev->out, "{\"event\":\"segment\",\"state\":\"started\","
                             "\"start\":%lld,\"end\":%lld}\n",
                    (long long)g->start, (long long)g->end);
        ev->seen_state[k] = st;
        if (st == 'q')
            continue; /* back in line after a failure: the next "started"
                         says so */
        fprintf(ev->out, "{\"event\":\"segment\",\"state\":\"%s\","
                         "\"start\":%lld,\"end\":%lld,\"done\":%lld}\n",
                st == 'd' ? "done" : "started", (long long)g->start,
                (long long)g->end, (long long)g->done);
    }
}

void events_progress(const sg_progress *p, void *userdata)
{
    events *ev = userdata;
    if (p->state != SG_STATE_DOWNLOADING)
        return;
    if (!ev->started)
        start(ev, p);
    segments(ev, p);
    if (ev->last >= 0 && p->elapsed - ev->last < 0.5)
        return;
    ev->last = p->elapsed;
    fprintf(ev->out,
            "{\"event\":\"progress\",\"received\":%lld,\"total\":%lld,"
            "\"durable\":%lld,\"rate\":%.0f,\"connections\":%d,"
            "\"elapsed\":%.3f",
            (long long)p->received, (long long)p->total,
            (long long)p->durable, p->rate, p->connections, p->elapsed);
    done(ev);
}

void events_notice(const char *msg, void *userdata)
{
    events *ev = userdata;
    fputs("{\"event\":\"notice\",\"message\":", ev->out);
    str(ev->out, msg);
    done(ev);
}

void events_end(events *ev, const char *path, int exit_status,
                const char *error, double seconds, int64_t size,
                int complete, const char *algo, const char *source)
{
    FILE *f = ev->out;
    if (exit_status == 0) {
        fputs("{\"event\":\"finish\",\"path\":", f);
        str(f, path);
        fprintf(f, ",\"size\":%lld,\"seconds\":%.3f,\"exit\":0",
                (long long)size, seconds);
        if (complete)
            fputs(",\"already_complete\":true", f);
        fputs(",\"verified\":", f);
        if (algo) {
            fputs("{\"algorithm\":", f);
            str(f, algo);
            fputs(",\"source\":", f);
            str(f, source);
            fputc('}', f);
        } else {
            fputs("null", f);
        }
    } else {
        fprintf(f, "{\"event\":\"error\",\"exit\":%d,\"message\":",
                exit_status);
        str(f, error);
        fputs(",\"path\":", f);
        str(f, path);
    }
    done(ev);
}

static const char *state_name(sg_entry_state s)
{
    switch (s) {
    case SG_ENTRY_QUEUED: return "queued";
    case SG_ENTRY_ACTIVE: return "active";
    case SG_ENTRY_DONE: return "done";
    case SG_ENTRY_SKIPPED: return "skipped";
    case SG_ENTRY_FAILED: return "failed";
    }
    return "unknown";
}

void events_file(const sg_batch_event *e, void *userdata)
{
    events *ev = userdata;
    FILE *f = ev->out;
    fprintf(f, "{\"event\":\"file\",\"line\":%d,\"state\":\"%s\",\"url\":",
            e->line, state_name(e->state));
    str(f, e->url);
    fputs(",\"path\":", f);
    str(f, e->path);
    if (e->state == SG_ENTRY_DONE || e->state == SG_ENTRY_SKIPPED)
        fprintf(f, ",\"size\":%lld", (long long)e->size);
    if (e->state == SG_ENTRY_FAILED) {
        fputs(",\"error\":", f);
        str(f, e->error);
    }
    done(ev);
}

static void counts(FILE *f, const sg_batch_status *st)
{
    fprintf(f,
            "\"total\":%d,\"done\":%d,\"skipped\":%d,\"failed\":%d,"
            "\"active\":%d,\"bytes\":%lld,\"rate\":%.0f,\"elapsed\":%.3f",
            st->total, st->done, st->skipped, st->failed, st->active,
            (long long)st->bytes, st->rate, st->elapsed);
}

void events_batch(const sg_batch_status *st, void *userdata)
{
    events *ev = userdata;
    if (ev->last >= 0 && st->elapsed - ev->last < 0.5)
        return;
    ev->last = st->elapsed;
    fputs("{\"event\":\"progress\",", ev->out);
    counts(ev->out, st);
    done(ev);
}

void events_batch_end(events *ev, const sg_batch_status *st,
                      int exit_status, const char *error)
{
    fprintf(ev->out, "{\"event\":\"%s\",\"exit\":%d,",
            exit_status ? "error" : "finish", exit_status);
    counts(ev->out, st);
    fputs(",\"message\":", ev->out);
    str(ev->out, error && error[0] ? error : NULL);
    done(ev);
}
