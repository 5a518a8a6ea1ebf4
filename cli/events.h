/* SPDX-License-Identifier: MIT */
/*
 * events.h - segget --json: machine-readable events, one JSON object per
 * line on standard output.  The schema is in README.md ("JSON events").
 * Uses only the public API; called on the thread that runs the download
 * (or, for a batch, under the batch's callback lock).
 */
#ifndef SG_EVENTS_H
#define SG_EVENTS_H

#include <stdio.h>

#include <segget.h>

typedef struct events {
    FILE *out;
    double last;     /* elapsed seconds of the last progress event */
    int started;     /* the start event was written */
    int nseen;       /* segments known, with their last state below */
    int64_t *seen_start;
    char *seen_state; /* 'q' queued, 'a' active, 'd' done */
} events;

void events_init(events *ev, FILE *out);
void events_free(events *ev);

/* sg_progress_fn: start (once), progress (twice a second), segment
 * started/done as they change. */
void events_progress(const sg_progress *p, void *userdata);

/* sg_notice_fn. */
void events_notice(const char *msg, void *userdata);

/* The last event of a single download: finish (exit 0; complete: the
 * file was already complete, nothing fetched; algo and source: the
 * checksum it was found to match, or NULL) or error. */
void events_end(events *ev, const char *path, int exit_status,
                const char *error, double seconds, int64_t size,
                int complete, const char *algo, const char *source);

/* sg_batch_event_fn and sg_batch_status_fn. */
void events_file(const sg_batch_event *e, void *userdata);
void events_batch(const sg_batch_status *st, void *userdata);

/* The last event of a batch. */
void events_batch_end(events *ev, const sg_batch_status *st,
                      int exit_status, const char *error);

#endif
