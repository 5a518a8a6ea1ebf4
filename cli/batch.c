/* SPDX-License-Identifier: MIT */
/*
 * batch.c - segget -i FILE: a queue of downloads, with its progress, its
 * summary and its exit status.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "events.h"
#include "progress.h"

#define FAILURES_KEPT 100 /* failures listed at the end; the rest counted */

struct batch_cli {
    progress_view view;
    events ev;
    int json;
    batch_failure *failed; /* the first FAILURES_KEPT, in order of */
    int nfailed;           /* occurrence */
    batch_failure first;   /* the first in queue order */
};

static void failure_free(batch_failure *f)
{
    free(f->url);
    free(f->path);
    free(f->message);
    memset(f, 0, sizeof *f);
}

static batch_failure failure_of(const sg_batch_event *ev)
{
    return (batch_failure){.line = ev->line,
                           .url = strdup(ev->url ? ev->url : ""),
                           .path = strdup(ev->path ? ev->path : ""),
                           .message = strdup(ev->error ? ev->error : ""),
                           .exit = cli_exit_status(ev->code),
                           .http_status = ev->http_status};
}

static void on_batch_event(const sg_batch_event *ev, void *ud)
{
    struct batch_cli *c = ud;
    if (c->json)
        events_file(ev, &c->ev);
    else
        progress_event(ev, &c->view);
    if (ev->state != SG_ENTRY_FAILED)
        return;
    if (!c->first.line || ev->line < c->first.line) {
        failure_free(&c->first);
        c->first = failure_of(ev);
    }
    if (c->nfailed == FAILURES_KEPT)
        return;
    batch_failure *v = realloc(c->failed, (size_t)(c->nfailed + 1) * sizeof *v);
    if (!v)
        return;
    c->failed = v;
    v[c->nfailed++] = failure_of(ev);
}

static void on_batch_status(const sg_batch_status *st, void *ud)
{
    struct batch_cli *c = ud;
    if (c->json)
        events_batch(st, &c->ev);
    else
        progress_batch(st, &c->view);
}

static void on_batch_notice(const char *msg, void *ud)
{
    struct batch_cli *c = ud;
    if (c->json)
        events_notice(msg, &c->ev);
    else
        progress_notice(msg, &c->view);
}

/* The last event, to ev: the batch's own failure, else the first failed
 * entry in queue order (whose code is the batch's, see sg_batch_run),
 * with how many failed; then the shard and the failures. */
static void end_event(events *ev, struct batch_cli *c, const cli_opts *cl,
                      const sg_batch *b, sg_code rc)
{
    sg_batch_status st;
    sg_batch_counts(b, &st);
    batch_report r = {.shard_index = cl->bo.shard_index,
                      .shard_count = cl->bo.shard_count,
                      .failures = c->failed,
                      .nfailures = c->nfailed,
                      .more = st.failed - c->nfailed};
    const char *msg = sg_batch_error(b);
    const batch_failure *first = c->first.line ? &c->first : NULL;
    if (rc == SG_OK || msg[0] || !first) {
        events_batch_end(ev, &st, cli_exit_status(rc),
                         msg[0] ? msg : sg_strerror(rc), 0, &r);
        return;
    }
    const char *why = first->message ? first->message : sg_strerror(rc);
    size_t n = strlen(why) + 64;
    char *m = malloc(n);
    if (m)
        (void)snprintf(m, n, "%d of %d files failed; line %d: %s", st.failed,
                       st.total, first->line, why);
    events_batch_end(ev, &st, cli_exit_status(rc), m ? m : why,
                     first->http_status, &r);
    free(m);
}

/* --report FILE: the last event alone, written whole to FILE.tmp and
 * renamed over FILE.  0, or -1 after saying why. */
static int write_report(const char *path, struct batch_cli *c,
                        const cli_opts *cl, const sg_batch *b, sg_code rc)
{
    size_t n = strlen(path) + 8;
    char *tmp = malloc(n);
    if (!tmp)
        return -1;
    (void)snprintf(tmp, n, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    int ok = f != NULL;
    if (f) {
        events rev;
        events_init(&rev, f);
        end_event(&rev, c, cl, b, rc);
        events_free(&rev);
        ok = !ferror(f) && fflush(f) == 0 && fsync(fileno(f)) == 0;
        ok = fclose(f) == 0 && ok;
        ok = ok && rename(tmp, path) == 0;
    }
    if (!ok) {
        fprintf(stderr, "segget: cannot write the report %s: %s\n", path,
                strerror(errno));
        (void)unlink(tmp);
    }
    free(tmp);
    return ok ? 0 : -1;
}

int cli_batch(cli_opts *cl)
{
    const char *file = cl->input;
    sg_batch_options *bo = &cl->bo;
    int quiet = cl->quiet, json = cl->json;
    bo->dl = cl->o;
    struct batch_cli c = {0};
    events_init(&c.ev, stdout);
    int stdin_queue = strcmp(file, "-") == 0;
    int fd = stdin_queue ? 0 : open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        const char *what = strcmp(file, "-") == 0 ? "standard input" : file;
        const char *why = strerror(errno);
        fprintf(stderr, "segget: cannot read %s: %s\n", what, why);
        size_t n = strlen(what) + strlen(why) + 16;
        char *msg = json ? malloc(n) : NULL;
        if (msg)
            (void)snprintf(msg, n, "cannot read %s: %s", what, why);
        if (json)
            events_batch_end(&c.ev, NULL, 1, msg ? msg : why, 0, NULL);
        free(msg);
        return 1;
    }
    if (cl->shard_said[0] && !quiet)
        fprintf(stderr, "segget: %s\n", cl->shard_said);
    progress_init(&c.view, stderr, quiet || json || cl->verbose);
    c.json = json;
    if (cl->verbose)
        bo->dl.trace = cli_trace;
    bo->event = on_batch_event;
    bo->status = on_batch_status;
    bo->dl.notice = on_batch_notice;
    bo->dl.userdata = &c;
    sg_batch *b = NULL;
    sg_code rc = sg_batch_open(&b, fd, bo);
    if (!stdin_queue)
        close(fd);
    if (rc == SG_OK) {
        cli_catch_signals(NULL, b);
        rc = sg_batch_run(b);
        cli_catch_signals(NULL, NULL);
    }
    progress_end(&c.view);
    const char *msg = b ? sg_batch_error(b) : "";
    if (rc != SG_OK && msg[0]) {
        fprintf(stderr, "segget: %s\n", msg);
        if (rc == SG_EUSAGE)
            fprintf(stderr, "Try 'segget --help'.\n");
    }
    if (b && json)
        end_event(&c.ev, &c, cl, b, rc);
    else if (json)
        events_batch_end(&c.ev, NULL, cli_exit_status(rc), sg_strerror(rc), 0,
                         NULL);
    int report_failed = b && cl->report &&
                        write_report(cl->report, &c, cl, b, rc) < 0;
    if (b && (rc == SG_OK || !msg[0] || c.nfailed)) {
        sg_batch_status st;
        sg_batch_counts(b, &st);
        char size[32], rate[32];
        progress_bytes(size, sizeof size, (double)st.bytes);
        progress_bytes(rate, sizeof rate,
                       st.elapsed > 0 ? (double)st.bytes / st.elapsed : 0);
        if ((!quiet && !json) || c.nfailed)
            fprintf(stderr,
                    "segget: %d done, %d skipped, %d failed of %d; %s in "
                    "%.1f s (%s/s)\n",
                    st.done, st.skipped, st.failed, st.total, size,
                    st.elapsed, rate);
        for (int i = 0; i < c.nfailed; i++)
            fprintf(stderr, "segget: failed: line %d: %s\n",
                    c.failed[i].line,
                    c.failed[i].message ? c.failed[i].message : "");
        if (st.failed > c.nfailed)
            fprintf(stderr, "segget: and %d more failed (--json lists "
                            "every one)\n",
                    st.failed - c.nfailed);
    }
    for (int i = 0; i < c.nfailed; i++)
        failure_free(&c.failed[i]);
    free(c.failed);
    failure_free(&c.first);
    sg_batch_free(b);
    /* A report that could not be written fails a batch that did not. */
    return rc == SG_OK && report_failed ? cli_exit_status(SG_EIO)
                                        : cli_exit_status(rc);
}

