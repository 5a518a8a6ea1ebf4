/* SPDX-License-Identifier: MIT */
/*
 * download.c - one download from start to final name (sg_download_*).
 *
 * A download is a state machine the engine's loop drives (dl_tick);
 * whatever waits for the disk is a step on the disk pool (dl_disk.c),
 * whose end brings the machine back here (dl_stepped):
 *
 *   [batch: first GET ─ small: verify ─────────────────┐
 *               └─ larger: keep its bytes, ask for connections]
 *                │                                      │
 *   OPEN (journal: trusted, verified before, or new)    │
 *     │ ──> PROBE: HEAD / range GET, then the mirrors   │
 *     v                                                 │
 *   PREPARE: resume, or plan + NAME.part                │
 *     v                                                 │
 *   XFER (dl_xfer.c) ── changed / resized / no ranges: PROBE again
 *     v                                                 │
 *   SETTLE: last checkpoint ──> VERIFY ──> PUBLISH <────┘
 *                                            v
 *                                  CLEANUP: drop the journal ──> END
 *
 * NAME.segget is the journal and NAME.part the data; both sit next to
 * NAME.  A failure or cancel goes through CLOSE, which leaves nothing
 * this run made that holds nothing worth keeping.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dl.h"
#include "name.h"

#define MAX_RESTARTS 3

void dl_notice(sg_download *dl, const char *fmt, ...)
{
    if (!dl->o.notice)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    dl->o.notice(msg, dl->o.userdata);
}

void dl_state(sg_download *dl, sg_state s, int64_t total, int64_t got)
{
    if (!dl->o.progress)
        return;
    sg_progress p = {.state = s, .total = total, .received = got};
    dl->o.progress(&p, dl->o.userdata);
}

int download_deferred(const sg_download *dl)
{
    return dl->deferred;
}

int64_t download_received(const sg_download *dl)
{
    return dl_xfer_received(dl);
}

void dl_fail(sg_download *dl, sg_code rc)
{
    dl->rc = rc;
    dl_stream_stop(dl);
    dl_first_end(dl);
    dl_xfer_end(dl);
    dl_sample_end(dl);
    probe_cleanup(&dl->pr);
    dl_drop_mirrors(dl);
    dl->st = ST_CLOSE;
    dl_disk(dl, ST_CLOSE);
}

void dl_interrupted(sg_download *dl)
{
    err_reset(&dl->err);
    if (dl->pipe)
        err_set(&dl->err, SG_EINTERRUPTED,
                "interrupted after %lld bytes were written to the output; "
                "a download to a pipe cannot be resumed",
                (long long)(dl->stream ? stream_pos(dl->stream) : 0));
    else
        err_set(&dl->err, SG_EINTERRUPTED,
                "interrupted; run the same command again to resume");
    dl_fail(dl, SG_EINTERRUPTED);
}

/* The probe of the URL decided: with --range, make it describe the part
 * (size, base); the resource's own size stays in dl->total. */
static sg_code apply_range(sg_download *dl)
{
    probe_result *p = &dl->pr.res;
    dl->base = 0;
    dl->total = p->size;
    if (!dl->has_range)
        return SG_OK;
    if (!p->ranges || p->size < 0)
        return err_set(&dl->err, SG_EPROTO,
                       "%s: the server does not serve byte ranges, so only "
                       "part of it cannot be fetched",
                       dl->shown);
    int64_t first = dl->rsuffix ? p->size - dl->rsuffix : dl->rfirst;
    int64_t last = dl->rlast < 0 || dl->rlast >= p->size ? p->size - 1
                                                          : dl->rlast;
    if (first < 0)
        first = 0;
    if (first >= p->size)
        return err_set(&dl->err, SG_EUSAGE,
                       "%s has %lld bytes: it has no byte %lld", dl->shown,
                       (long long)p->size, (long long)first);
    dl->base = first;
    p->size = last - first + 1;
    return SG_OK;
}

static void start_probe(sg_download *dl)
{
    probe_cleanup(&dl->pr);
    dl_drop_mirrors(dl);
    memset(&dl->pr, 0, sizeof dl->pr);
    dl->pr.url = dl->url;
    dl->pr.shown = dl->shown;
    dl->pr.user = 1;
    dl->pr.force_get = dl->force_get;
    dl->pr.head_only = dl->check; /* a check never asks for a body */
    dl->pr.max_tries = dl->o.max_tries;
    probe_start(&dl->pr, dl->g);
    dl->probed = 0;
    dl->st = ST_PROBE;
}

/* Keep the mirrors that serve ranges of the resource the URL's probe
 * described (probe_same_resource). */
static void choose_mirrors(sg_download *dl)
{
    const probe_result *u = &dl->pr.res;
    for (int i = 0; i < dl->o.nmirrors; i++) {
        const probe *m = &dl->mp[i];
        const probe_result *r = &m->res;
        const char *why = NULL;
        if (m->rc)
            why = err_msg(&m->err);
        else if (!r->ranges)
            why = "it does not serve byte ranges";
        else if (r->size != dl->total)
            why = "it has another size";
        else if (probe_same_resource(r, dl->total, u->etag,
                                     u->last_modified))
            why = "its validator (ETag or Last-Modified) differs";
        if (why)
            dl_notice(dl, "mirror %s not used: %s", dl->mshown[i], why);
        else
            dl->usable[dl->nusable++] = i;
    }
}

/* The plan is ready: transfer. */
static void transfer(sg_download *dl)
{
    if (!dl->meta.ranges)
        dl_notice(dl, dl->pr.res.size < 0
                          ? "size unknown; one connection, no resume"
                          : "the server does not support ranges; one "
                            "connection");
    if (dl_xfer_begin(dl) != SG_OK) {
        dl_fail(dl, dl->err.code);
        return;
    }
    dl->st = ST_XFER;
}

/* The probes answered: on to the journal or the plan. */
static void probed(sg_download *dl)
{
    if (!dl->paths_known) {
        /* -J: the server may name the file. */
        const char *d = dl->pr.res.disposition;
        char *nm = d ? name_from_disposition(d, strlen(d)) : NULL;
        if (nm) {
            sg_code rc = dl_make_paths(dl, nm, NULL);
            free(nm);
            if (rc) {
                dl_fail(dl, rc);
                return;
            }
        }
        if (dl_sum_from_list(dl)) {
            dl_fail(dl, dl->err.code);
            return;
        }
        dl->paths_known = 1;
        dl->probed = 1;
        dl->st = ST_OPEN;
        dl_disk(dl, ST_OPEN);
        return;
    }
    dl->probed = 1;
    int ranges = dl->pr.res.ranges && !dl->noranges;
    dl->resume = 0;
    if (!dl->fresh && dl->restarts == 0) {
        const char *why = dl_resume_blocker(dl);
        if (why && dl->o.on_change == SG_CHANGE_FAIL) {
            err_set(&dl->err, SG_ECHANGED,
                    "cannot resume %s: %s (partial data kept)", dl->path,
                    why);
            dl_fail(dl, SG_ECHANGED);
            return;
        }
        if (why)
            dl_notice(dl, "cannot resume%s: %s; starting over",
                      dl->moved ? " from the new URL" : "", why);
        dl->resume = !why;
    }
    dl->meta.ranges = ranges; /* start over reads the plan's shape here */
    if (dl->pipe) {
        if (dl_pipe_prepare(dl) != SG_OK)
            dl_fail(dl, dl->err.code);
        else
            transfer(dl);
        return;
    }
    /* From another URL, the data kept must also be what it serves. */
    if (dl->resume && dl->moved && dl_sample_begin(dl))
        return;
    dl->st = ST_PREPARE;
    dl_disk(dl, ST_PREPARE);
}

static void probe_step(sg_download *dl, int64_t now, int64_t *wake)
{
    if (!probe_tick(&dl->pr, now, wake))
        return;
    if (dl->check && (dl->pr.rc || apply_range(dl) == SG_OK)) {
        dl_rerun_judge(dl);
        return;
    }
    if (dl->check) {
        dl_fail(dl, dl->err.code);
        return;
    }
    if (dl->pr.rc) {
        err_copy(&dl->err, dl->pr.rc, &dl->pr.err);
        dl_fail(dl, dl->pr.rc);
        return;
    }
    if (!dl->mirrors_started) {
        sg_code rc = apply_range(dl);
        if (rc) {
            dl_fail(dl, rc);
            return;
        }
        dl->mirrors_started = 1;
        if (dl->o.nmirrors > 0 && dl->pr.res.ranges) {
            dl->mp = calloc((size_t)dl->o.nmirrors, sizeof *dl->mp);
            dl->usable = calloc((size_t)dl->o.nmirrors, sizeof *dl->usable);
            if (!dl->mp || !dl->usable) {
                err_set(&dl->err, SG_ENOMEM, "out of memory");
                dl_fail(dl, SG_ENOMEM);
                return;
            }
            /* No header or credential of the user goes to a mirror. */
            for (int i = 0; i < dl->o.nmirrors; i++) {
                probe *m = &dl->mp[i];
                m->url = dl->mirrors[i];
                m->shown = dl->mshown[i];
                m->max_tries = dl->o.max_tries;
                probe_start(m, dl->g);
            }
        }
    }
    int pending = 0;
    for (int i = 0; dl->mp && i < dl->o.nmirrors; i++)
        pending += !probe_tick(&dl->mp[i], now, wake);
    if (pending)
        return;
    if (dl->mp)
        choose_mirrors(dl);
    probed(dl);
}

/* After a transfer's last checkpoint: verify, start over, or stop. */
static void settled(sg_download *dl)
{
    xfer_verdict v = dl->verdict;
    dl_xfer_end(dl); /* its last progress was reported */
    if (v == XV_DONE) {
        dl_drain(dl); /* then ST_VERIFY */
        return;
    }
    if (v == XV_CANCELLED || dl->err.code == SG_EINTERRUPTED) {
        dl_interrupted(dl); /* (a pipe's write may see the cancel first) */
        return;
    }
    sg_code rc = dl->err.code ? dl->err.code : SG_ENETWORK;
    int again = v == XV_CHANGED || v == XV_RESIZED ||
                (v == XV_NORANGES && !dl->noranges && !dl->has_range);
    if (again && v == XV_RESIZED && dl->restarts + 1 >= MAX_RESTARTS) {
        /* The size moved again with the same validator: not a new
         * version of the file but a server that contradicts itself. */
        char *why = strdup(err_msg(&dl->err));
        err_reset(&dl->err);
        err_set(&dl->err, SG_EPROTO,
                "the server contradicts itself about the size (%s); giving "
                "up",
                why ? why : "");
        free(why);
        dl_fail(dl, SG_EPROTO);
        return;
    }
    if (again && !dl_stream_can_restart(dl)) {
        char *why = strdup(err_msg(&dl->err));
        err_reset(&dl->err);
        rc = v == XV_CHANGED ? SG_ECHANGED : rc;
        err_set(&dl->err, rc,
                "%s; bytes were written to the output already, so it cannot "
                "start over",
                why && why[0] ? why : sg_strerror(rc));
        free(why);
        dl_fail(dl, rc);
        return;
    }
    if (!again || dl->restarts + 1 >= MAX_RESTARTS ||
        (v != XV_NORANGES && dl->o.on_change == SG_CHANGE_FAIL)) {
        dl_fail(dl, rc);
        return;
    }
    dl_notice(dl, "%s; starting over", err_msg(&dl->err));
    err_reset(&dl->err);
    dl->restarts++;
    /* Ask with a GET from now on: HEAD said something the GETs
     * contradicted. */
    dl->force_get |= v == XV_RESIZED || v == XV_CHANGED;
    dl->noranges |= v == XV_NORANGES;
    start_probe(dl);
}

void dl_published(sg_download *dl, sg_code rc)
{
    if (rc) {
        dl_fail(dl, rc);
        return;
    }
    if (!dl->j) {
        dl->rc = SG_OK; /* a batch's small file: no journal */
        dl->st = ST_END;
        return;
    }
    dl->st = ST_CLEANUP;
    dl_disk(dl, ST_CLEANUP);
}

void download_published(sg_download *dl, sg_code rc, const char *msg,
                        int keep_part)
{
    if (rc)
        err_set(&dl->err, rc, "%s", msg && msg[0] ? msg : sg_strerror(rc));
    if (keep_part)
        dl->made_part = 0; /* the next run renames it */
    dl_published(dl, rc);
}

/* Name the verified data: a batch commits it first; alone, a rename. */
static void publish(sg_download *dl)
{
    dl->st = ST_PUBLISH;
    if (!dl->hooks) {
        dl_disk(dl, ST_PUBLISH);
        return;
    }
    /* The validators the data was verified with: the journal's when an
     * earlier run verified it, else this run's probe's. */
    int before = dl->finished_before;
    dl->hooks->publish(dl, dl->hooks_ud, -1, dl->meta.size,
                       before ? dl->meta.etag : dl->pr.res.etag,
                       before ? dl->meta.last_modified
                              : dl->pr.res.last_modified,
                       before == 2);
}

void dl_stepped(sg_download *dl)
{
    struct dl_task *t = &dl->task;
    if (t->note[0])
        dl_notice(dl, "%s", t->note);
    if (t->rc && dl->st != ST_CLOSE && dl->st != ST_SETTLE) {
        err_merge(&dl->err, &t->err);
        if (t->rc == SG_ECHECKSUM && dl->st == ST_VERIFY)
            dl_sum_mismatch(dl); /* (a rerun's refusal says its own) */
        dl_fail(dl, t->rc);
        return;
    }
    err_reset(&t->err);
    int cancel = atomic_load(&dl->cancel);
    switch (dl->st) {
    case ST_OPEN:
        if (dl->check && dl->probed) {
            dl_rerun_judge(dl); /* -J probed already */
        } else if (dl->finished_before && !dl->moved) {
            publish(dl);
        } else if (dl->finished_before) {
            /* Verified data of another URL: resumed (with nothing
             * missing) only once this one proves to serve it. */
            dl->finished_before = 0;
            if (dl->probed)
                probed(dl);
            else
                start_probe(dl);
        } else if (cancel) {
            dl_interrupted(dl);
        } else if (dl->probed) {
            dl->paths_known = 1;
            probed(dl);
        } else {
            start_probe(dl);
        }
        return;
    case ST_PREPARE:
        dl_sample_end(dl); /* compared, if there was one */
        if (cancel) {
            dl_interrupted(dl);
            return;
        }
        transfer(dl);
        return;
    case ST_SETTLE:
        if ((t->rc || dl->ckpt_failed) &&
            (dl->verdict == XV_DONE || dl->verdict == XV_CANCELLED ||
             dl->verdict == XV_FAILED)) {
            /* A checkpoint failed (this last one, or one before it):
             * nothing more is claimed, and that is the outcome. */
            if (t->rc) {
                err_reset(&dl->err);
                err_merge(&dl->err, &t->err);
            }
            sg_code rc = t->rc ? t->rc : dl->err.code ? dl->err.code : SG_EIO;
            if (rc == SG_EIO || rc == SG_ENOMEM || rc == SG_EJOURNAL) {
                dl_fail(dl, rc);
                return;
            }
        }
        err_reset(&t->err);
        settled(dl);
        return;
    case ST_VERIFY:
        publish(dl);
        return;
    case ST_PUBLISH:
        dl_published(dl, SG_OK);
        return;
    case ST_CLEANUP:
        dl->rc = SG_OK;
        dl->st = ST_END;
        if (dl->finished_before)
            dl_notice(dl, "%s was completed by an earlier run", dl->path);
        dl_state(dl, SG_STATE_DONE, dl->meta.size, dl->meta.size);
        return;
    case ST_CLOSE:
        dl->st = ST_END;
        return;
    default:
        return;
    }
}

/* The first steps, once the download is on its engine. */
static void begin(sg_download *dl)
{
    dl->started = 1;
    dl_state(dl, SG_STATE_PROBING, -1, 0);
    if (dl->first_limit > 0) {
        if (dl_first_begin(dl) != SG_OK)
            dl_fail(dl, dl->err.code);
        return;
    }
    if (!dl->paths_known || dl->pipe) {
        start_probe(dl); /* -J: the server may name the file */
        return;
    }
    dl->st = ST_OPEN;
    dl_disk(dl, ST_OPEN);
}

/* Ask the batch for connections for the rest of a large file. */
static void grant(sg_download *dl)
{
    int n = dl->hooks->grant(dl, dl->hooks_ud, dl->o.connections);
    if (n <= 0)
        return;
    dl->slots = n;
    dl->o.connections = n;
    dl->st = ST_OPEN;
    dl_disk(dl, ST_OPEN);
}

static void cancel_now(sg_download *dl)
{
    switch (dl->st) {
    case ST_NEW:
    case ST_FIRST:
    case ST_GRANT:
    case ST_PROBE:
    case ST_SAMPLE:
        dl_interrupted(dl);
        return;
    case ST_XFER:
        return; /* dl_xfer_tick stops and checkpoints */
    default:
        return; /* a disk step ends first (dl_stepped looks) */
    }
}

static int dl_tick(eng_job *j, int64_t now, int64_t *wake)
{
    sg_download *dl =
        (sg_download *)(void *)((char *)j - offsetof(sg_download, job));
    if (atomic_load(&dl->cancel))
        cancel_now(dl);
    long long rate = atomic_exchange(&dl->live_rate, -1);
    if (rate >= 0)
        eng_set_rate(dl->g, rate);
    enum dl_state was = dl->st;
    switch (dl->st) {
    case ST_NEW:
        begin(dl);
        break;
    case ST_FIRST:
        (void)dl_first_tick(dl, now, wake);
        break;
    case ST_GRANT:
        grant(dl);
        break;
    case ST_PROBE:
        probe_step(dl, now, wake);
        break;
    case ST_SAMPLE:
        dl_sample_tick(dl, now, wake);
        break;
    case ST_XFER:
        if (dl_xfer_tick(dl, now, wake)) {
            dl->st = ST_SETTLE;
            dl_disk(dl, ST_SETTLE);
        }
        break;
    case ST_DRAIN:
        dl_drain_tick(dl, now, wake);
        break;
    default:
        break;
    }
    if (dl->st != was && now < *wake)
        *wake = now; /* the next state's work starts now, not later */
    /* A stream's task still reads what this download owns: its end
     * wakes the loop. */
    if (dl->st != ST_END || (dl->stream && stream_busy(dl->stream)))
        return 1;
    if (dl->hooks)
        dl->hooks->finished(dl, dl->hooks_ud, dl->rc, dl->unchanged);
    return 0;
}

sg_code download_batch(sg_download *dl, engine *g, const dl_hooks *hooks,
                       void *ud, int64_t first_limit,
                       const char *if_none_match,
                       const char *if_modified_since)
{
    dl->g = g;
    dl->hooks = hooks;
    dl->hooks_ud = ud;
    dl->first_limit = first_limit;
    dl->if_none_match = if_none_match;
    dl->if_modified_since = if_modified_since;
    dl->ran = 1;
    dl->job.tick = dl_tick;
    eng_add_job(g, &dl->job);
    return SG_OK;
}

sg_code sg_download_run(sg_download *dl)
{
    sg_err *e = &dl->err;
    if (dl->ran || e->code)
        return err_set(e, SG_EUSAGE, "a download runs only once");
    dl->ran = 1;
    /* The user's headers reach the URL's origin only: the engine sends
     * them to a request's first hop when it has that origin. */
    eng_conf c;
    eng_conf_from(&c, &dl->o);
    c.disk_threads = 2; /* checkpoints, and a stream beside them */
    sg_code rc = eng_new(&dl->g, &c, e);
    if (rc)
        return rc;
    dl->own_engine = 1;
    dl->job.tick = dl_tick;
    eng_add_job(dl->g, &dl->job);
    eng_run(dl->g);
    eng_free(dl->g);
    dl->g = NULL;
    return dl->rc;
}
