/* SPDX-License-Identifier: MIT */
/*
 * progress.h - the command line's progress display on stderr.
 *
 * On a terminal two lines are redrawn in place: a map of the file (what
 * is written, and where each connection is writing now) and percent,
 * bytes, speed, ETA and live connections.  When stderr is not a terminal a plain line is
 * printed every few seconds instead, so logs stay readable.  Uses only the
 * public API.  Called on the thread running the download.
 */
#ifndef SG_PROGRESS_H
#define SG_PROGRESS_H

#include <stdio.h>

#include <segget.h>

typedef struct progress_view {
    FILE *out;
    int tty;
    int quiet;
    int drawn;            /* lines on screen, the last not yet ended */
    double last_plain;    /* elapsed seconds of the last plain line */
    int batch;            /* a batch: every event counts */
} progress_view;

/* Set up a view on out (stderr).  quiet suppresses everything. */
void progress_init(progress_view *v, FILE *out, int quiet);

/* sg_progress_fn for a progress_view passed as userdata. */
void progress_update(const sg_progress *p, void *userdata);

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
