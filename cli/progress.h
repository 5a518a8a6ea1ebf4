/* SPDX-License-Identifier: MIT */
/*
 * progress.h - the command line's progress display on stderr.
 *
 * On a terminal two lines are redrawn in place: a map of the file (what
 * is written, and where each connection is writing now, by its number)
 * and percent, bytes, speed, ETA and live connections -- or "paused".
 * Both fit the terminal's width, whatever it is.  When stderr is not a
 * terminal a plain line with the file's name and the elapsed time comes
 * every PROGRESS_PLAIN_S seconds instead, the first after that long (a
 * short download prints none), so logs stay readable.  Speed and ETA
 * count the bytes this run received, never those resumed from disk.
 * Uses only the public API.  Called on the thread running the download.
 */
#ifndef SG_PROGRESS_H
#define SG_PROGRESS_H

#include <stdio.h>

#include <segget.h>

#define PROGRESS_PLAIN_S 5.0

typedef struct progress_view {
    FILE *out;
    int tty;
    int quiet;
    int drawn;            /* lines on screen, the last not yet ended */
    double next_plain;    /* elapsed seconds when a plain line is due */
    const char *name;     /* the file, for plain lines (borrowed; the
                             caller sets it, NULL: none) */
    int64_t fetched;      /* bytes this run received, as last reported;
                             -1 before any report */
    int batch;            /* a batch: every event counts */
} progress_view;

/* Set up a view on out (stderr).  quiet suppresses everything. */
void progress_init(progress_view *v, FILE *out, int quiet);

/* sg_progress_fn for a progress_view passed as userdata.  Also counts
 * what this run received (for progress_summary), quiet or not. */
void progress_update(const sg_progress *p, void *userdata);

/* The last line of a download that succeeded: "saved PATH (SIZE in S s,
 * RATE/s)" (to_pipe: "wrote SIZE to standard output ..."), the rate from
 * the bytes this run received; after a resume it says how much of size
 * that was.  Printed even when quiet: the caller decides. */
void progress_summary(const progress_view *v, const char *path,
                      int64_t size, double secs, int to_pipe);

/* sg_notice_fn: prints "segget: MSG" on its own line. */
void progress_notice(const char *msg, void *userdata);

/* sg_batch_status_fn: "[done/total] bytes rate active" on a terminal, a
 * plain line every few seconds otherwise. */
void progress_batch(const sg_batch_status *st, void *userdata);

/* sg_batch_event_fn: failures always; finished files as lines when not a
 * terminal and not quiet. */
void progress_event(const sg_batch_event *ev, void *userdata);

/* End a line left on screen (before an error or at exit). */
void progress_end(progress_view *v);

/* Format n bytes as "1.5 MiB" into buf. */
void progress_bytes(char *buf, size_t len, double n);

#endif
