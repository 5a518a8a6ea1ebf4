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

struct failure {
    int line;
    int http_status;
    char *msg;
};

#define FAILURES_KEPT 100 /* failures listed at the end; the rest counted */

struct batch_cli {
    progress_view view;
    events ev;
    int json;
    struct failure *failed; /* the first FAILURES_KEPT, in order of */
    int nfailed;            /* occurrence */
    struct failure first;   /* the first in queue order */
};

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
        free(c->first.msg);
        c->first = (struct failure){ev->line, ev->http_status,
                                    strdup(ev->error)};
    }
    if (c->nfailed == FAILURES_KEPT)
        return;
    struct failure *v = realloc(c->failed, (size_t)(c->nfailed + 1) * sizeof *v);
    if (!v)
        return;
    c->failed = v;
    v[c->nfailed].line = ev->line;
    v[c->nfailed].http_status = ev->http_status;
    v[c->nfailed].msg = strdup(ev->error);
    c->nfailed++;
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

/* The last --json event: the batch's own failure, else the first failed
 * entry in queue order (whose code is the batch's, see sg_batch_run),
 * with how many failed. */
static void json_end(struct batch_cli *c, const sg_batch *b, sg_code rc)
{
    sg_batch_status st;
    sg_batch_counts(b, &st);
    const char *msg = sg_batch_error(b);
    const struct failure *first = c->first.line ? &c->first : NULL;
    if (rc == SG_OK || msg[0] || !first) {
        events_batch_end(&c->ev, &st, cli_exit_status(rc),
                         msg[0] ? msg : sg_strerror(rc), 0);
        return;
    }
    const char *why = first->msg ? first->msg : sg_strerror(rc);
    size_t n = strlen(why) + 64;
    char *m = malloc(n);
    if (m)
        (void)snprintf(m, n, "%d of %d files failed; line %d: %s", st.failed,
                       st.total, first->line, why);
    events_batch_end(&c->ev, &st, cli_exit_status(rc), m ? m : why,
                     first->http_status);
    free(m);
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
            events_batch_end(&c.ev, NULL, 1, msg ? msg : why, 0);
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
        json_end(&c, b, rc);
    else if (json)
        events_batch_end(&c.ev, NULL, cli_exit_status(rc), sg_strerror(rc), 0);
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
                    c.failed[i].line, c.failed[i].msg ? c.failed[i].msg : "");
        if (st.failed > c.nfailed)
            fprintf(stderr, "segget: and %d more failed (--json lists "
                            "every one)\n",
                    st.failed - c.nfailed);
    }
    for (int i = 0; i < c.nfailed; i++)
        free(c.failed[i].msg);
    free(c.failed);
    free(c.first.msg);
    sg_batch_free(b);
    return cli_exit_status(rc);
}

