/* SPDX-License-Identifier: MIT */
/*
 * qnames.c - the names of a whole queue, checked for collisions in flat
 * memory (see qnames.h): runs sorted by a radix sort on the hash (stable,
 * so a run keeps its lines in order), spilled to one temporary file, and
 * merged through a heap whose ties go to the earlier run.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qnames.h"
#include "util.h"

#define MERGE_BUF 4096 /* records read at a time from each run */

sg_code qnames_init(qnames *q, size_t run, sg_err *e)
{
    memset(q, 0, sizeof *q);
    q->fd = -1;
    q->cap = run < 2 ? 2 : run;
    if (!(q->run = malloc(q->cap * sizeof *q->run)))
        return err_set(e, SG_ENOMEM, "out of memory");
    return SG_OK;
}

void qnames_free(qnames *q)
{
    free(q->run);
    free(q->runs);
    if (q->fd >= 0)
        close(q->fd);
    memset(q, 0, sizeof *q);
    q->fd = -1;
}

/* Sort v[0, n) by hash, stably: four passes of 16 bits. */
static sg_code sort_run(qname_rec *v, size_t n, sg_err *e)
{
    if (n < 2)
        return SG_OK;
    qname_rec *tmp = malloc(n * sizeof *tmp);
    size_t *count = calloc(65536, sizeof *count);
    if (!tmp || !count) {
        free(tmp);
        free(count);
        return err_set(e, SG_ENOMEM, "out of memory");
    }
    qname_rec *src = v, *dst = tmp;
    for (int shift = 0; shift < 64; shift += 16) {
        memset(count, 0, 65536 * sizeof *count);
        for (size_t i = 0; i < n; i++)
            count[(src[i].hash >> shift) & 0xffff]++;
        size_t at = 0;
        for (size_t d = 0; d < 65536; d++) {
            size_t c = count[d];
            count[d] = at;
            at += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[count[(src[i].hash >> shift) & 0xffff]++] = src[i];
        qname_rec *t = src;
        src = dst;
        dst = t;
    }
    /* An even number of passes: the result is back in v. */
    free(tmp);
    free(count);
    return SG_OK;
}

static sg_code temp_file(qnames *q, sg_err *e)
{
    if ((q->fd = tmp_fd()) < 0)
        return err_set(e, SG_EIO,
                       "cannot make a temporary file for the queue's names "
                       "($TMPDIR, else /tmp): %s",
                       strerror(errno));
    return SG_OK;
}

static sg_code write_all(int fd, const void *p, size_t n, sg_err *e)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return err_set(e, SG_EIO,
                           "cannot write the queue's names to a temporary "
                           "file: %s",
                           w < 0 ? strerror(errno) : "short write");
        c += w;
        n -= (size_t)w;
    }
    return SG_OK;
}

/* Sort the current run and append it to the file. */
static sg_code spill(qnames *q, sg_err *e)
{
    sg_code rc;
    if (!q->n)
        return SG_OK;
    size_t *v = realloc(q->runs, (size_t)(q->nruns + 1) * sizeof *v);
    if (!v)
        return err_set(e, SG_ENOMEM, "out of memory");
    q->runs = v;
    if ((q->fd < 0 && (rc = temp_file(q, e))) ||
        (rc = sort_run(q->run, q->n, e)) ||
        (rc = write_all(q->fd, q->run, q->n * sizeof *q->run, e)))
        return rc;
    q->runs[q->nruns++] = q->n;
    q->n = 0;
    return SG_OK;
}

sg_code qnames_add(qnames *q, uint64_t hash, uint32_t line, int kind,
                   sg_err *e)
{
    sg_code rc;
    if (q->n == q->cap && (rc = spill(q, e)))
        return rc;
    q->run[q->n++] = (qname_rec){hash, line, (uint32_t)kind};
    q->total++;
    return SG_OK;
}

/* A sorted stream of records: the one run in memory, or a merge of the
 * runs in the file. */
struct cursor {
    qname_rec *buf;
    size_t len, at;   /* buffered records, next to take */
    off_t off;        /* in the file, of the next to read */
    size_t left;      /* records of the run not yet read */
};

struct merge {
    struct cursor *c;
    int *heap, nheap;
    int fd;
};

static sg_code cursor_fill(struct merge *m, struct cursor *c, sg_err *e)
{
    size_t want = c->left < MERGE_BUF ? c->left : MERGE_BUF;
    size_t bytes = want * sizeof *c->buf, got = 0;
    while (got < bytes) {
        ssize_t r = pread(m->fd, (char *)c->buf + got, bytes - got,
                          c->off + (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return err_set(e, SG_EIO,
                           "cannot read the queue's names back: %s",
                           r < 0 ? strerror(errno) : "short file");
        got += (size_t)r;
    }
    c->off += (off_t)bytes;
    c->left -= want;
    c->len = want;
    c->at = 0;
    return SG_OK;
}

/* Does cursor i come before cursor j?  Ties: the earlier run. */
static int before(const struct merge *m, int i, int j)
{
    const qname_rec *a = &m->c[i].buf[m->c[i].at];
    const qname_rec *b = &m->c[j].buf[m->c[j].at];
    return a->hash < b->hash || (a->hash == b->hash && i < j);
}

static void sift_down(struct merge *m, int k)
{
    for (;;) {
        int l = 2 * k + 1, r = l + 1, best = k;
        if (l < m->nheap && before(m, m->heap[l], m->heap[best]))
            best = l;
        if (r < m->nheap && before(m, m->heap[r], m->heap[best]))
            best = r;
        if (best == k)
            return;
        int t = m->heap[k];
        m->heap[k] = m->heap[best];
        m->heap[best] = t;
        k = best;
    }
}

/* The next record of the merge into *r: 1, or 0 at its end. */
static int merge_next(struct merge *m, qname_rec *r, sg_err *e)
{
    if (!m->nheap)
        return 0;
    struct cursor *c = &m->c[m->heap[0]];
    *r = c->buf[c->at++];
    if (c->at == c->len) {
        if (c->left == 0) {
            m->heap[0] = m->heap[--m->nheap];
        } else if (cursor_fill(m, c, e)) {
            return -1;
        }
    }
    sift_down(m, 0);
    return 1;
}

/* Collects pairs from a sorted stream, group by group. */
struct pairs {
    size_t skip, max, n, seen;
    qname_pair *out;
    int more;
    /* The group being read. */
    uint64_t hash;
    int open;
    int has_first;
    uint32_t first;   /* its first QN_NAME */
    qname_rec *pend;  /* records of it after its first record */
    size_t npend, cap;
};

static void emit(struct pairs *p, uint32_t a, const qname_rec *r)
{
    if (p->seen++ < p->skip)
        return;
    if (p->n == p->max) {
        p->more = 1;
        return;
    }
    p->out[p->n++] = (qname_pair){a, r->line, r->kind};
}

static void close_group(struct pairs *p)
{
    if (p->open && p->has_first)
        for (size_t i = 0; i < p->npend; i++)
            if (!(p->pend[i].kind == QN_NAME &&
                  p->pend[i].line == p->first))
                emit(p, p->first, &p->pend[i]);
    p->open = 0;
    p->has_first = 0;
    p->npend = 0;
}

static void take(struct pairs *p, const qname_rec *r)
{
    if (!p->open || r->hash != p->hash) {
        close_group(p);
        p->open = 1;
        p->hash = r->hash;
    }
    if (r->kind == QN_NAME && !p->has_first) {
        p->has_first = 1;
        p->first = r->line;
        return;
    }
    /* Beyond what can be emitted, a record is only counted. */
    if (p->npend < p->cap)
        p->pend[p->npend++] = *r;
    else
        p->more = 1;
}

sg_code qnames_pairs(qnames *q, size_t skip, qname_pair *out, size_t max,
                     size_t *n, int *more, sg_err *e)
{
    sg_code rc = SG_OK;
    struct pairs p = {.skip = skip, .max = max, .out = out};
    struct merge m = {.fd = q->fd};
    *n = 0;
    *more = 0;
    p.cap = skip + max + 1;
    if (!(p.pend = malloc(p.cap * sizeof *p.pend)))
        return err_set(e, SG_ENOMEM, "out of memory");
    if (q->nruns == 0) {
        /* All in memory: sorted once (a sorted run stays sorted). */
        if ((rc = sort_run(q->run, q->n, e)))
            goto out;
        for (size_t i = 0; i < q->n && !(p.n == max && p.more); i++)
            take(&p, &q->run[i]);
    } else {
        if ((rc = spill(q, e)))
            goto out;
        free(q->run); /* the merge's buffers take its place */
        q->run = NULL;
        q->cap = 0;
        m.c = calloc((size_t)q->nruns, sizeof *m.c);
        m.heap = calloc((size_t)q->nruns, sizeof *m.heap);
        if (!m.c || !m.heap) {
            rc = err_set(e, SG_ENOMEM, "out of memory");
            goto out;
        }
        off_t off = 0;
        for (int i = 0; i < q->nruns; i++) {
            struct cursor *c = &m.c[i];
            if (!(c->buf = malloc(MERGE_BUF * sizeof *c->buf))) {
                rc = err_set(e, SG_ENOMEM, "out of memory");
                goto out;
            }
            c->off = off;
            c->left = q->runs[i];
            off += (off_t)(q->runs[i] * sizeof(qname_rec));
            if ((rc = cursor_fill(&m, c, e)))
                goto out;
            m.heap[m.nheap++] = i;
        }
        for (int k = m.nheap / 2 - 1; k >= 0; k--)
            sift_down(&m, k);
        qname_rec r;
        int got;
        while (!(p.n == max && p.more) && (got = merge_next(&m, &r, e)))
            if (got < 0) {
                rc = e->code;
                goto out;
            } else {
                take(&p, &r);
            }
    }
    close_group(&p);
    *n = p.n;
    *more = p.more;
out:
    for (int i = 0; m.c && i < q->nruns; i++)
        free(m.c[i].buf);
    free(m.c);
    free(m.heap);
    free(p.pend);
    return rc;
}
