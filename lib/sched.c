/* SPDX-License-Identifier: MIT */
/*
 * sched.c - the decisions of sched.h.
 *
 * Rates: each connection's meter covers the last two seconds of its
 * request (servers that throttle often send once a second, so shorter
 * windows would call a healthy connection idle).  Splits: a free
 * connection takes part of the active range with the most remaining
 * *time*, in proportion to the rates, so the end of a download is not
 * left to its slowest connection; later splits go down to STEAL_MIN when
 * at least STEAL_WORTH seconds of work are at stake.  Under a rate limit
 * (sched.h, limit) splits halve, and spare the ranges the limit holds.
 */
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "policy.h"
#include "sched.h"

#define SLOW_AGE_MS 1000      /* a request is judged after this long */
#define SLOW_FACTOR 3.0       /* "slow": under the peers' median / this */
#define REPLACE_PER_CONN 4    /* replacement budget per connection */
#define STEAL_MIN (64 * 1024) /* never split off less than this */
#define STEAL_KEEP (64 * 1024) /* the owner keeps at least this */
#define STEAL_WORTH 0.3       /* seconds of work left that justify a split */
#define HELD_MS 500           /* limited: an owner is judged after this
                                 long, held back if paused this recently */
#define HEDGE_AGE_MS 500      /* an owner is judged after this long, */
#define HEDGE_WINDOW 1        /* by its rate over the last sample */
#define HEDGE_FACTOR 4.0      /* "hopeless": this many times a fresh one */
#define HEDGE_SETUP_S 0.3     /* what a fresh connection needs to start */
#define HEDGE_WORTH_S 0.5     /* and at least this much time to win */
#define HEDGE_PER_CONN 2      /* hedge budget per connection */
#define HEDGE_HEAD_FACTOR 2.0 /* the same, for what a consumer waits for */
#define WIN_MIN_SHARE 4       /* a windowed request of under chunk / this
                                 waits for the window to move instead */
#define REF_DECAY 0.97        /* per sample: the best rate fades in ~6 s */

int sched_init(sched *s, sg_segment *segs, int *n, int cap, int nconns,
               int nsrcs, int ranges, int max_tries)
{
    memset(s, 0, sizeof *s);
    s->segs = segs;
    s->n = n;
    s->cap = cap;
    s->ranges = ranges;
    s->max_tries = max_tries;
    s->nconns = !ranges ? 1 : nconns < 1 ? 1
                : nconns > SCHED_MAX_CONNS ? SCHED_MAX_CONNS
                                           : nconns;
    s->nsrcs = !ranges ? 1 : nsrcs < 1 ? 1
               : nsrcs > SCHED_MAX_SRCS ? SCHED_MAX_SRCS
                                        : nsrcs;
    if (!(s->rt = calloc((size_t)cap, sizeof *s->rt)))
        return -1;
    for (int i = 0; i < cap; i++)
        s->rt[i] = (sched_seg){.conn = -1, .hedge = -1, .wait_src = -1};
    for (int i = 0; i < *n; i++) {
        segs[i].active = 0;
        s->rt[i].sealed = segs[i].done; /* an earlier run's bytes */
    }
    for (int i = 0; i < s->nsrcs; i++)
        cap_init(&s->srcs[i].cap, s->nconns);
    for (int i = 0; i < s->nconns; i++) {
        s->conns[i].seg = -1;
        s->conns[i].move_to = -1;
        s->conns[i].src = s->conns[i].home = i % s->nsrcs;
    }
    return 0;
}

void sched_cleanup(sched *s)
{
    free(s->rt);
    s->rt = NULL;
}

int sched_alive(const sched *s)
{
    int n = 0;
    for (int i = 0; i < s->nsrcs; i++)
        n += !s->srcs[i].dead;
    return n;
}

int sched_active(const sched *s)
{
    int n = 0;
    for (int i = 0; i < s->nconns; i++)
        n += s->conns[i].seg >= 0;
    return n;
}

void sched_label(const sched *s)
{
    for (int i = 0; i < *s->n; i++)
        s->segs[i].conn = s->rt[i].conn + 1;
}

/* Median rate of the measured active connections other than skip; -1
 * when fewer than min_peers are measured. */
static double median_rate(const sched *s, int skip, int min_peers)
{
    double v[SCHED_MAX_CONNS];
    int m = 0;
    for (int i = 0; i < s->nconns; i++) {
        const sched_conn *k = &s->conns[i];
        if (i != skip && k->seg >= 0 && k->meter.rate >= 0)
            v[m++] = k->meter.rate;
    }
    return m < min_peers ? -1 : rate_median(v, m);
}

/* The rate to expect of segment i's connection: its own when measured,
 * else its peers'. */
static double seg_rate(const sched *s, int i, double med)
{
    int c = s->rt[i].conn;
    if (c >= 0 && s->conns[c].meter.rate > 0)
        return s->conns[c].meter.rate;
    return med;
}

/* Cut segment i at at: the new segment [at, end) is returned (its
 * index), or -1. */
static int split(sched *s, int i, int64_t at)
{
    int j = plan_split_at(s->segs, s->n, s->cap, i, at);
    if (j >= 0)
        s->rt[j] = (sched_seg){.conn = -1, .hedge = -1, .wait_src = -1,
                               .sealed = at};
    return j;
}

/* Windowed: the unfinished segment the consumer waits for (the lowest
 * unfinished bytes), or -1. */
static int head(const sched *s)
{
    int h = -1;
    for (int i = 0; i < *s->n; i++) {
        const sg_segment *g = &s->segs[i];
        if (g->done < g->end && (h < 0 || g->start < s->segs[h].start))
            h = i;
    }
    return h;
}

/* May segment i be split?  Under a rate limit, only when its owner has
 * run a while without the limit holding it back: a split gains nothing
 * where the limit is what sets the pace, and costs what the server sent
 * ahead of the cut. */
static int splittable(const sched *s, int i, int64_t now)
{
    const sg_segment *g = &s->segs[i];
    const sched_seg *r = &s->rt[i];
    if (r->conn < 0 || r->hedge >= 0 ||
        g->end - g->done < STEAL_KEEP + STEAL_MIN)
        return 0;
    const sched_conn *k = &s->conns[r->conn];
    return s->share <= 0 || (now - k->t_start >= HELD_MS &&
                             now - k->held_at >= HELD_MS);
}

/* Split off part of the active segment with the most time left for a new
 * connection expected to run at the peers' median rate.  Under a rate
 * limit the peers' rates are the limit's, not their servers': a split
 * halves.  Returns the new segment's index or -1. */
static int steal(sched *s, int64_t now)
{
    int limited = s->share > 0;
    double med = limited ? s->share : median_rate(s, -1, 1);
    int best = -1;
    double best_t = STEAL_WORTH;
    for (int i = 0; i < *s->n; i++) {
        const sg_segment *g = &s->segs[i];
        if (!splittable(s, i, now))
            continue;
        /* (An owner the limit does not hold back goes at its server's
         * pace.) */
        double r = seg_rate(s, i, med);
        /* Rates unknown yet: judge by bytes, as if 1 MB/s. */
        double t = (double)(g->end - g->done) / (r > 0 ? r : 1e6);
        if (t > best_t) {
            best = i;
            best_t = t;
        }
    }
    if (best < 0)
        return -1;
    const sg_segment *g = &s->segs[best];
    double r1 = limited ? med : seg_rate(s, best, med), r2 = med;
    if (r1 <= 0 || r2 <= 0)
        r1 = r2 = 1; /* nothing known: halve */
    int64_t left = g->end - g->done;
    int64_t keep = (int64_t)((double)left * (r1 / (r1 + r2)));
    if (keep < STEAL_KEEP)
        keep = STEAL_KEEP;
    if (left - keep < STEAL_MIN)
        return -1;
    return split(s, best, g->done + keep);
}

/* A running segment whose owner would need far longer for the rest than
 * a fresh connection at the best rate seen lately, for a hedge; the one
 * with the most time to win, or -1. */
static int hedge(sched *s, int64_t now)
{
    if (s->share > 0 || s->hedges >= s->nconns * HEDGE_PER_CONN ||
        s->ref_rate <= 0)
        return -1;
    int best = -1, first = s->win > 0 ? head(s) : -1;
    double best_gain = HEDGE_WORTH_S;
    for (int i = 0; i < *s->n; i++) {
        const sched_seg *r = &s->rt[i];
        const sg_segment *g = &s->segs[i];
        if (r->conn < 0 || r->hedge >= 0 || g->done >= g->end)
            continue;
        const sched_conn *k = &s->conns[r->conn];
        double rate = rate_recent(&k->meter, HEDGE_WINDOW);
        if (now - k->t_start < HEDGE_AGE_MS || rate < 0 || k->lost)
            continue;
        double left = (double)(g->end - g->done);
        double own = left / (rate > 1 ? rate : 1);
        double fresh = HEDGE_SETUP_S + left / s->ref_rate;
        /* The one the consumer waits for holds every other up. */
        double factor = i == first ? HEDGE_HEAD_FACTOR : HEDGE_FACTOR;
        if (own < factor * fresh || own - fresh <= best_gain)
            continue;
        if (i == first)
            return i;
        best = i;
        best_gain = own - fresh;
    }
    return best;
}

/* Windowed: the lowest unfinished bytes nobody fetches below the
 * window's end, at most a chunk of them; else a part of a running
 * segment, or a hedge (the consumer's first).  -1 when none. */
static int pick_window(sched *s, int src, int64_t now, int64_t *wake)
{
    int64_t lim = s->win_at + s->win;
    int best = -1, beyond = 0; /* work left that no request covers */
    for (int i = 0; i < *s->n; i++) {
        const sg_segment *g = &s->segs[i];
        const sched_seg *r = &s->rt[i];
        if (r->conn < 0 && g->done < g->end)
            beyond = 1; /* unfinished, nobody on it */
        if (r->conn >= 0 || g->done >= g->end || g->done >= lim)
            continue;
        if (r->next_at > now && r->wait_src == src) {
            if (r->next_at < *wake)
                *wake = r->next_at;
            continue;
        }
        if (best < 0 || g->done < s->segs[best].done)
            best = i;
    }
    if (best >= 0) {
        const sg_segment *g = &s->segs[best];
        int64_t cut = g->done + s->chunk;
        if (cut > lim)
            cut = lim;
        if (cut < g->end) {
            /* A sliver at the window's end: the window moves soon. */
            if ((cut - g->done) * WIN_MIN_SHARE < s->chunk &&
                g->done > s->win_at)
                best = -1;
            else if (split(s, best, cut) < 0)
                best = -1; /* the plan is full: never past the window */
        }
        if (best >= 0)
            return best;
    }
    /* The window is full: a split would cut a running request (what the
     * server sent ahead of it is wasted) only to wait again; the window
     * moves when the consumer's chunk ends, which a hedge may hasten.
     * At the end of the file, splits finish it sooner. */
    int i = beyond ? -1 : steal(s, now);
    return i >= 0 ? i : hedge(s, now);
}

/* A segment for a free connection to src: an unfinished one nobody
 * fetches (one waiting out a failure of src only when its wait is over),
 * or a part of the one with the most time left, or else a hedge.  -1
 * when none. */
static int pick(sched *s, int src, int64_t now, int64_t *wake)
{
    if (s->win > 0)
        return pick_window(s, src, now, wake);
    int waiting = 0;
    for (int i = 0; i < *s->n; i++) {
        const sg_segment *g = &s->segs[i];
        const sched_seg *r = &s->rt[i];
        if (r->conn >= 0 || g->done >= g->end)
            continue;
        if (r->next_at <= now || r->wait_src != src)
            return i;
        waiting = 1;
        if (r->next_at < *wake)
            *wake = r->next_at;
    }
    /* A range waiting out a backoff is next in line: stealing now would
     * leave it to whoever finishes last. */
    if (!s->ranges || waiting)
        return -1;
    int i = steal(s, now);
    return i >= 0 ? i : hedge(s, now);
}

/* A source for connection k: its home while usable (so a source that
 * backs off is asked again after it), else the live one with the fewest
 * connections that is not backing off; never one at its cap; -1 when
 * every live source is backing off (*wake lowered to the first end) or
 * at its cap. */
static int source_for(sched *s, sched_conn *k, int64_t now, int64_t *wake)
{
    const sched_src *own = &s->srcs[k->home];
    if (!own->dead && !own->held && own->next_at <= now &&
        own->conns < own->cap.limit)
        return k->home;
    int best = -1;
    for (int i = 0; i < s->nsrcs; i++) {
        const sched_src *c = &s->srcs[i];
        if (c->dead || c->held || c->conns >= c->cap.limit)
            continue;
        if (c->next_at > now) {
            if (c->next_at < *wake)
                *wake = c->next_at;
            continue;
        }
        if (best < 0 || c->conns < s->srcs[best].conns)
            best = i;
    }
    return best;
}

void cap_init(sched_cap *c, int max)
{
    *c = (sched_cap){.limit = max, .max = max, .grow_ms = CAP_GROW_MS};
}

int cap_refused(sched_cap *c, int others, int64_t retry_after, int64_t now)
{
    int was = c->limit;
    c->refused_at = now;
    c->limit = others < 1 ? 1 : others < c->limit ? others : c->limit;
    if (c->probing) /* the last growth went too far */
        c->grow_ms = c->grow_ms * 2 > CAP_GROW_MAX_MS ? CAP_GROW_MAX_MS
                                                      : c->grow_ms * 2;
    c->probing = 0;
    c->grow_at = now + c->grow_ms;
    if (retry_after > 0 && now + retry_after * 1000 > c->grow_at)
        c->grow_at = now + retry_after * 1000;
    if (c->limit < was)
        c->capped = 1;
    return c->limit < was;
}

void cap_grow(sched_cap *c, int busy, int64_t now)
{
    if (c->limit < c->max && busy >= c->limit && now >= c->grow_at) {
        if (c->probing)
            c->grow_ms = CAP_GROW_MS; /* the last growth held */
        c->limit++;
        c->probing = 1;
        c->grow_at = now + c->grow_ms;
    }
}

void sched_window(sched *s, int64_t win, int64_t chunk)
{
    s->win = win;
    s->chunk = chunk;
}

void sched_consumed(sched *s, int64_t at)
{
    s->win_at = at;
}

int64_t sched_ready(const sched *s, int64_t from)
{
    for (int moved = 1; moved;) {
        moved = 0;
        for (int i = 0; i < *s->n; i++) {
            const sg_segment *g = &s->segs[i];
            int64_t to = s->rt[i].sealed;
            if (g->start <= from && from < to) {
                from = to;
                moved = to == g->end; /* on into the next segment */
                break;
            }
        }
    }
    return from;
}

/* Windowed: merge finished segments that touch and that no connection
 * holds; the last segment takes the freed slot (its connections
 * follow). */
static void compact(sched *s)
{
    for (int a = 0; a < *s->n; a++) {
        sg_segment *g = &s->segs[a];
        if (g->done < g->end || s->rt[a].conn >= 0 || s->rt[a].sealed < g->end)
            continue;
        for (int b = 0; b < *s->n; b++) {
            sg_segment *h = &s->segs[b];
            if (b == a || h->start != g->end || h->done < h->end ||
                s->rt[b].conn >= 0 || s->rt[b].sealed < h->end)
                continue;
            g->end = g->done = s->rt[a].sealed = h->end;
            int last = --*s->n;
            if (b != last) {
                s->segs[b] = s->segs[last];
                s->rt[b] = s->rt[last];
                for (int c = 0; c < s->nconns; c++)
                    if (s->conns[c].seg == last)
                        s->conns[c].seg = b;
            }
            if (a == last)
                a = b;
            g = &s->segs[a];
            b = -1; /* look again from the merged segment */
        }
    }
}

int sched_next(sched *s, int64_t now, int *conn, int *seg, int64_t *wake)
{
    if (s->win > 0 && *s->n > 2 * s->nconns + 8)
        compact(s);
    for (int i = 0; i < s->nsrcs; i++)
        cap_grow(&s->srcs[i].cap, s->srcs[i].conns, now);
    for (int c = 0; c < s->nconns; c++) {
        sched_conn *k = &s->conns[c];
        if (k->seg >= 0)
            continue;
        /* Another free connection may have another source, for which
         * a range waiting out a failure elsewhere is free. */
        int src = source_for(s, k, now, wake);
        if (src < 0)
            continue;
        int i = pick(s, src, now, wake);
        if (i < 0)
            continue;
        k->src = src;
        *conn = c;
        *seg = i;
        return 1;
    }
    return 0;
}

void sched_start(sched *s, int conn, int seg, int64_t now)
{
    sched_conn *k = &s->conns[conn];
    k->seg = seg;
    k->gen = s->srcs[k->src].gen;
    k->got = 0;
    k->lost = 0;
    k->t_start = now;
    k->held_at = 0;
    rate_start(&k->meter, now);
    k->raced = 0;
    if (s->rt[seg].conn >= 0) {
        s->rt[seg].hedge = conn;
        s->hedges++;
        k->raced = s->conns[s->rt[seg].conn].raced = 1;
    } else {
        s->rt[seg].conn = conn;
    }
    s->segs[seg].active = 1;
    s->srcs[k->src].conns++;
}

int sched_overtaken(sched *s, int seg)
{
    sched_seg *r = &s->rt[seg];
    if (r->hedge < 0 || r->conn < 0)
        return -1;
    int old = r->conn;
    r->conn = r->hedge;
    r->hedge = old;
    s->conns[old].lost = 1;
    s->conns[r->conn].lost = 0; /* it passed back: the race goes on */
    return old;
}

int sched_loser(const sched *s)
{
    for (int c = 0; c < s->nconns; c++) {
        const sched_conn *k = &s->conns[c];
        if (k->seg < 0)
            continue;
        const sg_segment *g = &s->segs[k->seg];
        if (k->lost || (g->done >= g->end && k->raced))
            return c;
    }
    return -1;
}

int sched_strike(sched_src *src, int gen, int max_tries, int64_t retry_after,
                 uint64_t rnd, int64_t now)
{
    int64_t until = now;
    if (gen == src->gen) {
        /* The first failure of this round: one strike for all of the
         * requests that were under way with it. */
        src->strikes++;
        src->gen++;
        until = now + policy_backoff_ms(src->strikes, retry_after, rnd);
    } else if (retry_after >= 0) {
        until = now + policy_backoff_ms(1, retry_after, rnd);
    }
    if (until > src->next_at)
        src->next_at = until;
    return src->strikes >= max_tries;
}

static sched_act drop_source(sched *s, int src);

sched_act sched_drop(sched *s, int src)
{
    if (s->srcs[src].dead)
        return sched_alive(s) ? SA_SRC_DROPPED : SA_FAIL;
    return drop_source(s, src);
}

/* src is dropped: ranges waiting out its failures may go at once. */
static sched_act drop_source(sched *s, int src)
{
    s->srcs[src].dead = 1;
    for (int i = 0; i < *s->n; i++)
        if (s->rt[i].wait_src == src)
            s->rt[i].next_at = 0;
    return sched_alive(s) ? SA_SRC_DROPPED : SA_FAIL;
}

sched_act sched_finish(sched *s, int conn, sched_end e, int64_t retry_after,
                       uint64_t rnd, int64_t now, int *srcp)
{
    sched_conn *k = &s->conns[conn];
    int seg = k->seg;
    sched_src *src = &s->srcs[k->src];
    *srcp = k->src;
    if (seg < 0)
        return SA_NONE;
    /* In a race, the segment stays with the other runner. */
    sched_seg *r = &s->rt[seg];
    int raced = r->hedge >= 0;
    if (r->hedge == conn) {
        r->hedge = -1;
    } else if (raced) {
        r->conn = r->hedge;
        r->hedge = -1;
    } else {
        r->conn = -1;
        s->segs[seg].active = 0;
        /* The last runner is done: what it wrote stays (a response that
         * proved malformed took its bytes back before this). */
        r->sealed = s->segs[seg].done;
    }
    k->seg = -1;
    k->lost = 0;
    src->conns--;
    if (!s->ranges) {
        /* A stream's bytes are kept only if they go further than any
         * earlier try's: the next try starts at 0 again. */
        int64_t reach = s->segs[seg].done;
        if (reach <= s->rt[seg].best && e != SE_DONE)
            k->got = 0;
        if (reach > s->rt[seg].best)
            s->rt[seg].best = reach;
    }
    if (k->got > 0) {
        src->strikes = 0; /* bytes prove the source works */
        src->delivered = 1;
    }
    if (e == SE_REFUSED) {
        /* Others of its source at work: a cap, not a failure.  The
         * range goes to them at once. */
        if (src->conns > 0 && !src->dead) {
            k->fresh = 1;
            (void)cap_refused(&src->cap, src->conns, retry_after, now);
            return SA_CAPPED;
        }
        e = SE_TRANSIENT;
    }
    switch (e) {
    case SE_DONE:
        return SA_NONE;
    case SE_DROPPED:
        k->fresh = 1;
        if (k->move_to >= 0)
            k->src = k->home = k->move_to;
        k->move_to = -1;
        return SA_NONE;
    case SE_TRANSIENT:
    case SE_SOURCE:
    case SE_REFUSED:
        k->fresh = 1;
        break;
    }
    if (src->dead)
        return SA_NONE; /* dropped already, and said so */
    if (e == SE_SOURCE)
        return drop_source(s, k->src);
    int tries = k->got > 0 ? 1 : src->strikes + 1;
    if (!raced) {
        s->rt[seg].next_at = now + policy_backoff_ms(tries, retry_after, rnd);
        s->rt[seg].wait_src = k->src;
    }
    if (k->got > 0)
        return SA_NONE; /* a connection lost mid-body: just go on */
    int exhausted =
        sched_strike(src, k->gen, s->max_tries, retry_after, rnd, now);
    if (!exhausted && !src->delivered && src->strikes >= 2)
        for (int i = 0; i < s->nsrcs; i++)
            exhausted |= i != k->src && !s->srcs[i].dead &&
                         s->srcs[i].delivered;
    return exhausted ? drop_source(s, k->src) : SA_NONE;
}

void sched_limit(sched *s, double share)
{
    s->share = share > 0 ? share : 0;
}

void sched_held(sched *s, int conn, int64_t at)
{
    s->conns[conn].held_at = at;
}

/* The source of the fastest measured connection at work. */
static int fastest_source(const sched *s, int fallback)
{
    int best = fallback;
    double rate = -1;
    for (int i = 0; i < s->nconns; i++) {
        const sched_conn *k = &s->conns[i];
        if (k->seg >= 0 && k->meter.rate > rate &&
            !s->srcs[k->src].dead) {
            rate = k->meter.rate;
            best = k->src;
        }
    }
    return best;
}

int sched_adapt(sched *s, int64_t now)
{
    /* Rates change only when sampled: keep the loop cheap in between. */
    if (now - s->last_adapt < RATE_SAMPLE_MS)
        return -1;
    s->last_adapt = now;
    double top = 0;
    for (int i = 0; i < s->nconns; i++)
        if (s->conns[i].seg >= 0) {
            double r =
                rate_sample(&s->conns[i].meter, now, s->conns[i].got);
            if (r > top)
                top = r;
        }
    s->ref_rate = top > s->ref_rate ? top : s->ref_rate * REF_DECAY;
    if (!s->ranges || s->share > 0 ||
        s->replaced >= s->nconns * REPLACE_PER_CONN)
        return -1;
    /* Windowed, the consumer's connection is looked at first. */
    int h = s->win > 0 ? head(s) : -1;
    int first = h >= 0 && s->rt[h].conn >= 0 ? s->rt[h].conn : 0;
    for (int j = 0; j < s->nconns; j++) {
        int i = (first + j) % s->nconns;
        sched_conn *k = &s->conns[i];
        double r = k->meter.rate;
        if (k->seg < 0 || r < 0 || now - k->t_start < SLOW_AGE_MS ||
            s->rt[k->seg].hedge >= 0)
            continue; /* a race settles itself */
        double med = median_rate(s, i, 2);
        if (med <= 0 || r * SLOW_FACTOR >= med)
            continue;
        const sg_segment *g = &s->segs[k->seg];
        if ((double)(g->end - g->done) < (r > 1 ? r : 1))
            continue; /* under a second left: let it finish */
        s->replaced++;
        /* Its next request goes where connections are fastest. */
        k->move_to = fastest_source(s, k->src);
        return i;
    }
    return -1;
}
