/* SPDX-License-Identifier: MIT */
/*
 * events.c - writing --json events (see events.h).
 *
 * Each event is one line: '{"event":NAME,"schema":N' then its members,
 * then '}' and a flush, so a reader never sees half an event.  Numbers
 * that can be unknown (a size, the end of a segment of a file of unknown
 * length) are null rather than -1 or INT64_MAX, and strings are always
 * valid UTF-8 (see str()).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
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

/* The first members of every event. */
static void begin(events *ev, const char *name)
{
    fprintf(ev->out, "{\"event\":\"%s\",\"schema\":%d", name, EVENTS_SCHEMA);
}

static void done(events *ev)
{
    fputs("}\n", ev->out);
    fflush(ev->out);
}

/* ,"key": */
static void key(FILE *f, const char *k)
{
    fprintf(f, ",\"%s\":", k);
}

static void str_m(FILE *f, const char *k, const char *v)
{
    key(f, k);
    str(f, v);
}

static void int_m(FILE *f, const char *k, int64_t v)
{
    key(f, k);
    fprintf(f, "%lld", (long long)v);
}

/* A count that may be unknown: negative (or INT64_MAX, "to the end")
 * is null. */
static void size_m(FILE *f, const char *k, int64_t v)
{
    key(f, k);
    if (v < 0 || v == INT64_MAX)
        fputs("null", f);
    else
        fprintf(f, "%lld", (long long)v);
}

/* JSON has no NaN or infinity. */
static void num_m(FILE *f, const char *k, double v, int decimals)
{
    key(f, k);
    fprintf(f, "%.*f", decimals, isfinite(v) && v > 0 ? v : 0.0);
}

/* An HTTP status, or null when the failure was none. */
static void status_m(FILE *f, int status)
{
    key(f, "http_status");
    if (status > 0)
        fprintf(f, "%d", status);
    else
        fputs("null", f);
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

void events_download(events *ev, const sg_download *dl)
{
    ev->dl = dl;
}

/* A segment's members: where it is and how much of it is written. */
static void segment_m(FILE *f, const sg_segment *g)
{
    fprintf(f, "\"start\":%lld", (long long)g->start);
    size_m(f, "end", g->end);
    int_m(f, "written", g->done - g->start);
}

static void start(events *ev, const sg_progress *p)
{
    FILE *f = ev->out;
    begin(ev, "start");
    str_m(f, "url", ev->dl ? sg_download_url(ev->dl) : NULL);
    str_m(f, "path", ev->dl ? sg_download_path(ev->dl) : NULL);
    size_m(f, "size", p->total);
    str_m(f, "etag", p->etag);
    str_m(f, "last_modified", p->last_modified);
    int_m(f, "resumed", p->resumed);
    fputs(",\"plan\":[", f);
    for (int i = 0; i < p->nsegments; i++) {
        fputs(i ? ",{" : "{", f);
        segment_m(f, &p->segments[i]);
        fputc('}', f);
    }
    fputc(']', f);
    done(ev);
    ev->started = 1;
}

static void segment(events *ev, const sg_segment *g, const char *state)
{
    begin(ev, "segment");
    str_m(ev->out, "state", state);
    fputc(',', ev->out);
    segment_m(ev->out, g);
    done(ev);
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
            segment(ev, g, "started");
        ev->seen_state[k] = st;
        if (st == 'q')
            continue; /* back in line after a failure: the next "started"
                         says so */
        segment(ev, g, st == 'd' ? "done" : "started");
    }
}

void events_progress(const sg_progress *p, void *userdata)
{
    events *ev = userdata;
    FILE *f = ev->out;
    if (p->state != SG_STATE_DOWNLOADING)
        return;
    if (!ev->started)
        start(ev, p);
    segments(ev, p);
    if (ev->last >= 0 && p->elapsed - ev->last < 0.5)
        return;
    ev->last = p->elapsed;
    begin(ev, "progress");
    int_m(f, "received", p->received);
    size_m(f, "total", p->total);
    int_m(f, "durable", p->durable);
    num_m(f, "rate", p->rate, 0);
    int_m(f, "connections", p->connections);
    num_m(f, "elapsed", p->elapsed, 3);
    done(ev);
}

void events_notice(const char *msg, void *userdata)
{
    events *ev = userdata;
    begin(ev, "notice");
    str_m(ev->out, "message", msg);
    done(ev);
}

void events_end(events *ev, const char *path, int exit_status,
                const char *error, double seconds, int64_t size,
                int complete, const char *algo, const char *source)
{
    FILE *f = ev->out;
    begin(ev, exit_status == 0 ? "finish" : "error");
    int_m(f, "exit", exit_status);
    if (exit_status == 0) {
        struct stat sb;
        /* Nothing was fetched: the file, just found unchanged, says. */
        if (complete && path && stat(path, &sb) == 0)
            size = (int64_t)sb.st_size;
        str_m(f, "path", path);
        int_m(f, "size", size);
        num_m(f, "seconds", seconds, 3);
        fprintf(f, ",\"already_complete\":%s", complete ? "true" : "false");
        key(f, "verified");
        if (algo) {
            fputs("{\"algorithm\":", f);
            str(f, algo);
            str_m(f, "source", source);
            fputc('}', f);
        } else {
            fputs("null", f);
        }
    } else {
        str_m(f, "message", error && error[0] ? error : "failed");
        str_m(f, "path", path && path[0] ? path : NULL);
        status_m(f, ev->dl ? sg_download_http_status(ev->dl) : 0);
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
    begin(ev, "file");
    int_m(f, "line", e->line);
    str_m(f, "state", state_name(e->state));
    str_m(f, "url", e->url);
    str_m(f, "path", e->path);
    if (e->state == SG_ENTRY_DONE || e->state == SG_ENTRY_SKIPPED)
        int_m(f, "size", e->size);
    if (e->state == SG_ENTRY_FAILED) {
        str_m(f, "error", e->error);
        int_m(f, "exit", cli_exit_status(e->code));
        status_m(f, e->http_status);
    }
    done(ev);
}

/* The counts of a batch's files. */
static void files_m(FILE *f, const sg_batch_status *st)
{
    int_m(f, "files_total", st->total);
    int_m(f, "files_done", st->done);
    int_m(f, "files_skipped", st->skipped);
    int_m(f, "files_failed", st->failed);
}

void events_batch(const sg_batch_status *st, void *userdata)
{
    events *ev = userdata;
    FILE *f = ev->out;
    if (ev->last >= 0 && st->elapsed - ev->last < 0.5)
        return;
    ev->last = st->elapsed;
    begin(ev, "progress");
    files_m(f, st);
    int_m(f, "files_active", st->active);
    int_m(f, "bytes", st->bytes);
    num_m(f, "rate", st->rate, 0);
    num_m(f, "elapsed", st->elapsed, 3);
    done(ev);
}

void events_batch_end(events *ev, const sg_batch_status *st, int exit_status,
                      const char *message, int http_status,
                      const batch_report *r)
{
    static const sg_batch_status none;
    static const batch_report nothing;
    FILE *f = ev->out;
    if (!st)
        st = &none;
    if (!r)
        r = &nothing;
    begin(ev, exit_status == 0 ? "finish" : "error");
    int_m(f, "exit", exit_status);
    files_m(f, st);
    int_m(f, "bytes", st->bytes);
    num_m(f, "seconds", st->elapsed, 3);
    key(f, "shard");
    if (r->shard_count > 0)
        fprintf(f, "{\"index\":%d,\"count\":%d}", r->shard_index,
                r->shard_count);
    else
        fputs("null", f);
    key(f, "failures");
    fputc('[', f);
    for (int i = 0; i < r->nfailures; i++) {
        const batch_failure *x = &r->failures[i];
        fprintf(f, "%s{\"line\":%d", i ? "," : "", x->line);
        str_m(f, "url", x->url ? x->url : "");
        str_m(f, "path", x->path ? x->path : "");
        int_m(f, "exit", x->exit);
        status_m(f, x->http_status);
        str_m(f, "message", x->message && x->message[0] ? x->message
                                                         : "failed");
        fputc('}', f);
    }
    fputc(']', f);
    int_m(f, "failures_more", r->more);
    if (exit_status != 0) {
        str_m(f, "message", message && message[0] ? message : "failed");
        status_m(f, http_status);
    }
    done(ev);
}
