/* SPDX-License-Identifier: MIT */
/*
 * dl_renew.c - resolving an expired address again.
 *
 * Object stores and CDNs hand out signed addresses that work for minutes
 * (S3 and GCS presigned links, redirects to expiring CDN URLs).  When an
 * address that worked answers as an expired one (policy_expired: 400,
 * 401, 403, 410), the source's original address -- the URL or mirror as
 * given, before any redirect -- is probed again: the whole redirect
 * chain, once, while the source takes no new request (sched_src.held)
 * and the ranges it was fetching wait or go to other sources.  A fresh
 * address that serves the same resource (probe_same_resource, the rule
 * of resuming) replaces the old one and the transfer goes on.  When the
 * URL itself now serves another version, the download starts over (as
 * for any change); a mirror that does, or a probe that fails, drops the
 * source, and the transfer fails when it was the last.  A source is
 * renewed again only after it has sent bytes from its last renewal, so
 * an address that is refused at once after every renewal is given up
 * on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dl_xfer.h"
#include "util.h"

int dl_renew_start(sg_download *dl, int src, const eng_req *q)
{
    struct dl_xfer *x = dl->x;
    struct src *s = &x->src[src];
    if (s->renew)
        return 1; /* under way: this range waits for it too */
    if (q->url != s->url)
        return 1; /* an address renewed since: ask the fresh one */
    /* Only an address that worked expires: one that delivered bytes or
     * that a redirect handed out.  A URL refused from the start is
     * refused (a genuine 403). */
    if (!s->orig || (!x->s.srcs[src].delivered && strcmp(s->url, s->orig) == 0) ||
        (s->renewals > 0 && !s->fresh_bytes))
        return 0;
    (void)snprintf(s->expired, sizeof s->expired, "%s", q->why);
    s->expired_status = q->v.status;
    if (!(s->renew = calloc(1, sizeof *s->renew)))
        return 0;
    s->renew->url = s->orig;
    s->renew->shown = s->shown;
    s->renew->user = s->orig_user;
    s->renew->force_get = dl->force_get;
    s->renew->max_tries = dl->o.max_tries;
    probe_start(s->renew, dl->g);
    x->s.srcs[src].held = 1;
    return 1;
}

/* The resolution of source i has ended. */
static void settle(sg_download *dl, int i)
{
    struct dl_xfer *x = dl->x;
    struct src *s = &x->src[i];
    probe *p = s->renew;
    char why[768];
    const char *bad =
        p->rc          ? err_msg(&p->err)
        : !p->res.ranges ? "it no longer serves byte ranges"
                         : probe_same_resource(&p->res, dl->total, s->etag,
                                               s->last_modified);
    if (bad && !p->rc && p->res.ranges && i == 0) {
        /* The URL serves another version now: the download starts over
         * (or stops with --fail-if-changed), as for any change. */
        x->s.srcs[i].held = 0;
        dl->verdict = XV_CHANGED;
        if (!dl->err.code)
            err_set(&dl->err, SG_ECHANGED, "%s: the address expired (%s) and "
                                           "the URL now serves another "
                                           "version: %s",
                    s->shown, s->expired, bad);
        goto out;
    }
    char *url = bad ? NULL : strdup(p->res.effective_url);
    if (!bad && !url)
        bad = "out of memory";
    if (!bad && s->renewed) {
        /* Requests begun on the last address may still borrow it. */
        char **old = realloc(s->old, (size_t)(s->nold + 1) * sizeof *old);
        if (!old) {
            bad = "out of memory";
            free(url);
        } else {
            s->old = old;
            s->old[s->nold++] = s->renewed;
            s->renewed = NULL;
        }
    }
    if (!bad) {
        s->renewed = url;
        s->url = url;
        s->user = s->orig_user && p->res.same_origin;
        s->renewals++;
        s->fresh_bytes = 0;
        x->s.srcs[i].held = 0;
        dl_notice(dl, "%s: the address expired (%s); resolved again, going "
                      "on",
                  s->shown, s->expired);
    } else {
        (void)snprintf(why, sizeof why,
                       "%s: the address expired (%s) and resolving it again "
                       "failed: %s",
                       s->shown, s->expired, bad);
        x->s.srcs[i].held = 0;
        if (sched_drop(&x->s, i) == SA_FAIL) {
            dl->verdict = XV_FAILED;
            if (!dl->err.code)
                err_http(&dl->err,
                         p->rc ? p->err.status : s->expired_status,
                         p->rc ? p->rc : SG_EHTTP, "%s", why);
        } else {
            dl_notice(dl, "%s; its ranges go to the other servers", why);
        }
    }
out:
    probe_cleanup(p);
    free(p);
    s->renew = NULL;
}

void dl_renew_tick(sg_download *dl, int64_t now, int64_t *wake)
{
    struct dl_xfer *x = dl->x;
    for (int i = 0; i < x->s.nsrcs; i++)
        if (x->src[i].renew && probe_tick(x->src[i].renew, now, wake))
            settle(dl, i);
}

void dl_renew_end(sg_download *dl)
{
    struct dl_xfer *x = dl->x;
    for (int i = 0; i < SCHED_MAX_SRCS; i++) {
        struct src *s = &x->src[i];
        if (s->renew) {
            probe_cleanup(s->renew);
            free(s->renew);
            s->renew = NULL;
        }
        free(s->renewed);
        s->renewed = NULL;
        for (int k = 0; k < s->nold; k++)
            free(s->old[k]);
        free(s->old);
        s->old = NULL;
        s->nold = 0;
    }
}
