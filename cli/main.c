/* SPDX-License-Identifier: MIT */
/*
 * main.c - the segget command: options in, a download (or a batch, see
 * batch.c), an exit status out.
 *
 * A thin layer over the public API: it wires the progress display, the
 * keys and the signals to a download, and maps sg_code to the exit
 * statuses documented in --help and README.md.  Signal handlers only set
 * flags: SIGINT/SIGTERM ask the download to checkpoint and stop (exit
 * 11, resumable), and the main thread, which runs the download, gives
 * the terminal back when it sees the flag; a second signal kills at
 * once, which is just as safe, only slower to resume.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cli.h"
#include "events.h"
#include "keys.h"
#include "progress.h"

volatile sig_atomic_t cli_signalled;
static sg_download *volatile sig_dl;
static sg_batch *volatile sig_batch;
static volatile sig_atomic_t stop_asked; /* SIGTSTP: pause, then stop */

static void on_signal(int sig)
{
    (void)sig;
    sg_download *dl = sig_dl;
    sg_batch *b = sig_batch;
    cli_signalled = 1;
    if (dl)
        sg_download_cancel(dl);
    if (b)
        sg_batch_cancel(b);
}

void cli_catch_signals(sg_download *dl, sg_batch *b)
{
    sig_dl = dl;
    sig_batch = b;
    if (!dl && !b)
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = (int)SA_RESETHAND; /* a second signal kills */
    sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGINT, &sa, NULL);
    (void)sigaction(SIGTERM, &sa, NULL);
    (void)signal(SIGPIPE, SIG_IGN);
    /* A file size limit must be an error (EFBIG), not a kill. */
    (void)signal(SIGXFSZ, SIG_IGN);
}

static void on_tstp(int sig)
{
    (void)sig;
    sg_download *dl = sig_dl;
    stop_asked = 1;
    if (dl)
        sg_download_pause(dl, 1);
}

/* SIGTSTP (Ctrl-Z) pauses the download first, so the stop costs nothing
 * to the servers: see suspend(). */
static void catch_tstp(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_tstp;
    sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGTSTP, &sa, NULL);
}

struct cli {
    progress_view view;
    events ev;
    keys keys;
    sg_download *dl;
    int json;
    double start;
    int64_t total;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Paused after SIGTSTP: give the terminal back, stop for real, and on
 * SIGCONT take it again and continue. */
static void suspend(struct cli *c)
{
    int64_t limit = c->keys.limit;
    keys_stop(&c->keys);
    progress_notice("paused and stopped; 'fg' or SIGCONT continues",
                    &c->view);
    (void)signal(SIGTSTP, SIG_DFL);
    (void)raise(SIGTSTP);
    /* Here again after SIGCONT. */
    catch_tstp();
    stop_asked = 0;
    if (!c->json)
        keys_start(&c->keys, limit);
    sg_download_pause(c->dl, 0);
    progress_notice("continuing", &c->view);
}

/* On the main thread, the download's: keys, display, and the terminal
 * given back as soon as a signal asked to stop. */
static void on_progress(const sg_progress *p, void *ud)
{
    struct cli *c = ud;
    if (cli_signalled)
        keys_stop(&c->keys);
    if (p->total >= 0)
        c->total = p->total;
    if (stop_asked && p->state == SG_STATE_PAUSED)
        suspend(c);
    const char *m = keys_poll(&c->keys, c->dl, p);
    if (m)
        progress_notice(m, &c->view);
    c->view.name = sg_download_path(c->dl);
    if (c->json)
        events_progress(p, &c->ev);
    else
        progress_update(p, &c->view);
}

static void on_notice(const char *msg, void *ud)
{
    struct cli *c = ud;
    if (cli_signalled)
        keys_stop(&c->keys);
    if (c->json)
        events_notice(msg, &c->ev);
    else
        progress_notice(msg, &c->view);
}

/* The last word of a single download: its event, error or summary. */
static void report(struct cli *c, sg_download *dl, sg_code rc, int quiet,
                   int cl_pipe)
{
    const char *msg = dl ? sg_download_error(dl) : "";
    double secs = now_s() - c->start;
    int complete = rc == SG_OK && sg_download_already_complete(dl);
    if (c->json) {
        const char *source = NULL;
        const char *algo = rc == SG_OK ? sg_download_checked(dl, &source)
                                       : NULL;
        events_end(&c->ev, dl ? sg_download_path(dl) : NULL,
                   cli_exit_status(rc), msg[0] ? msg : sg_strerror(rc),
                   secs, c->total > 0 ? c->total : 0, complete, algo,
                   source);
        events_free(&c->ev);
    }
    if (rc != SG_OK) {
        fprintf(stderr, "segget: %s\n", msg[0] ? msg : sg_strerror(rc));
        cli_hint(rc);
    } else if (complete && !quiet && !c->json) {
        fprintf(stderr, "segget: %s is already complete\n",
                sg_download_path(dl));
    } else if (!quiet && !c->json) {
        progress_summary(&c->view, sg_download_path(dl),
                         c->total > 0 ? c->total : 0, secs, cl_pipe);
    }
}

/* One download of cl->url (and its mirrors). */
static int single(cli_opts *cl)
{
    struct cli c = {.total = -1, .json = cl->json};
    sg_options o = cl->o;
    progress_init(&c.view, stderr, cl->quiet || cl->json || cl->verbose);
    events_init(&c.ev, stdout);
    o.mirrors = cl->mirrors;
    o.nmirrors = cl->nmirrors;
    o.progress = on_progress;
    o.notice = on_notice;
    o.userdata = &c;
    if (cl->verbose)
        o.trace = cli_trace;
    sg_download *dl = NULL;
    c.start = now_s();
    sg_code rc = sg_download_new(&dl, cl->url, &o);
    events_download(&c.ev, dl);
    if (rc == SG_OK) {
        c.dl = dl;
        cli_catch_signals(dl, NULL);
        catch_tstp();
        if (!cl->json)
            keys_start(&c.keys, o.max_rate);
        c.start = now_s();
        rc = sg_download_run(dl);
        cli_catch_signals(NULL, NULL);
        keys_stop(&c.keys);
    }
    progress_end(&c.view);
    report(&c, dl, rc, cl->quiet, o.output_fd > 0);
    sg_download_free(dl);
    return cli_exit_status(rc);
}

/* Raise the soft limit on open files to the hard one: -j 256 over 256
 * hosts needs more than the usual 1024 when large files keep journals
 * (libcurl polls, so descriptors above 1024 are fine). */
static void raise_nofile(int verbose)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return;
    rlim_t want = rl.rlim_max;
    if (want == RLIM_INFINITY || want > (rlim_t)1 << 20)
        want = (rlim_t)1 << 20; /* Linux's default fs.nr_open */
    if (rl.rlim_cur >= want)
        return;
    rlim_t was = rl.rlim_cur;
    rl.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &rl) == 0 && verbose)
        fprintf(stderr, "segget: open-file limit raised from %llu to %llu\n",
                (unsigned long long)was, (unsigned long long)want);
}

int main(int argc, char **argv)
{
    static cli_opts cl;
    int st = cli_config(&argc, &argv);
    if (st >= 0)
        return st;
    st = cli_parse(argc, argv, &cl);
    if (st >= 0)
        return st;
    if (sg_global_init() != SG_OK) {
        fprintf(stderr, "segget: cannot initialise libcurl\n");
        return 6;
    }
    raise_nofile(cl.verbose);
    st = cl.input ? cli_batch(&cl) : single(&cl);
    sg_global_cleanup();
    return st;
}
