/* SPDX-License-Identifier: MIT */
/*
 * events.h - segget --json: machine-readable events, one JSON object per
 * line on standard output.  Every event carries "schema": EVENTS_SCHEMA;
 * the shapes are defined by doc/segget-events.schema.json (JSON Schema
 * 2020-12, installed with the manual page) and described in README.md
 * ("Progress and JSON events").  A change of shape bumps EVENTS_SCHEMA
 * and the schema file together.  Uses only the public API; called on the
 * thread that runs the download (or, for a batch, the thread of
 * sg_batch_run()).  Output errors are not reported: the exit status is
 * what a consumer relies on.
 */
#ifndef SG_EVENTS_H
#define SG_EVENTS_H

#include <stdio.h>

#include <segget.h>

/* The version of the event shapes ("schema" in every event).  1 was the
 * unversioned shape of segget 0.2.0 and earlier; 3 added a batch's
 * shard and failures to its last event. */
#define EVENTS_SCHEMA 3

typedef struct events {
    FILE *out;
    const sg_download *dl; /* a single download's, or NULL */
    double last;     /* elapsed seconds of the last progress event */
    int started;     /* the start event was written */
    int nseen;       /* segments known, with their last state below */
    int64_t *seen_start;
    char *seen_state; /* 'q' queued, 'a' active, 'd' done */
} events;

/* Write events to out.  Cannot fail; events_free() releases what the
 * segment tracking allocated. */
void events_init(events *ev, FILE *out);
void events_free(events *ev);

/* The single download the events are about, once sg_download_new() gave
 * one (dl may be NULL): start names its URL and path, error its HTTP
 * status.  dl is borrowed until the last event. */
void events_download(events *ev, const sg_download *dl);

/* sg_progress_fn: start (once), progress (twice a second), segment
 * started/done as they change. */
void events_progress(const sg_progress *p, void *userdata);

/* sg_notice_fn. */
void events_notice(const char *msg, void *userdata);

/* The last event of a single download: finish (exit 0; complete: the
 * file was already complete, nothing fetched; algo and source: the
 * checksum it was found to match, or NULL) or error (with the HTTP
 * status of the download given to events_download, if any). */
void events_end(events *ev, const char *path, int exit_status,
                const char *error, double seconds, int64_t size,
                int complete, const char *algo, const char *source);

/* sg_batch_event_fn and sg_batch_status_fn. */
void events_file(const sg_batch_event *e, void *userdata);
void events_batch(const sg_batch_status *st, void *userdata);

/* A failed file of a batch, for its last event. */
typedef struct batch_failure {
    int line;
    char *url, *path, *message; /* owned by whoever made it */
    int exit, http_status;
} batch_failure;

/* What a batch's last event reports beside its counts: enough for the
 * reports of every shard to be summed (jq -s). */
typedef struct batch_report {
    int shard_index, shard_count;    /* count 0: not sharded */
    const batch_failure *failures;   /* the first ones (by time) */
    int nfailures;
    int more;                        /* failures not listed */
} batch_report;

/* The last event of a batch: finish (exit 0) or error with its message
 * and the HTTP status it is (0: none), with r's shard and failures.
 * st NULL: no counts yet (the queue could not be read), all zero. */
void events_batch_end(events *ev, const sg_batch_status *st, int exit_status,
                      const char *message, int http_status,
                      const batch_report *r);

#endif
