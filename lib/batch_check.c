/* SPDX-License-Identifier: MIT */
/*
 * batch_check.c - the first reading of a queue (see batch.c): every
 * entry of every shard checked, in flat memory, on two threads.
 *
 *   this thread: read and parse ──> chunks of entries ──> two
 *   checkers (a pool of disk.h, as tasks): URL, name, checksum-file
 *   listing ──> records ──> this thread, chunk by chunk in queue order:
 *   the records to qnames, the entries freed
 *
 * Checking a URL is most of the work (libcurl's parser), so it is what
 * the checkers share.  The first failure in queue order is the one
 * reported: a chunk's failures come before those of the chunks after
 * it, and a parse failure after every entry parsed before it.  Equal
 * hashes are then compared by reading their lines again (verify).
 */
#include <errno.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "disk.h"
#include "qnames.h"
#include "util.h"

#define CHUNK 1024  /* entries handed over at a time */
#define SLOTS 6     /* chunks in flight */
#define CHECKERS 2

/* Every file a download makes beside NAME (SQLite adds -wal and -shm to
 * its journal). */
static const char *const beside[] = {".part", ".segget", ".segget-wal",
                                     ".segget-shm"};
static const size_t beside_len[] = {5, 7, 11, 11};

/* Is b (a QN_STEM line's name) a's name plus one of beside[]? */
static int stem_of(const char *a, const char *b)
{
    size_t n = strlen(a);
    if (strncmp(a, b, n) != 0)
        return 0;
    for (int k = 0; k < 4; k++)
        if (strcmp(b + n, beside[k]) == 0)
            return 1;
    return 0;
}

static int by_line(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return a < b ? -1 : a > b;
}

/* Read the queue again for the names of the pairs' lines and compare
 * them: SG_EUSAGE naming the first real collision (in queue order),
 * else SG_OK. */
static sg_code verify(sg_batch *b, const qname_pair *p, size_t n, sg_err *e)
{
    size_t nl = 0;
    uint32_t *lines = malloc(2 * n * sizeof *lines);
    char **names = calloc(2 * n, sizeof *names);
    queue_reader r = {0};
    sg_code rc = SG_OK;
    if (!lines || !names) {
        rc = err_set(e, SG_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        lines[nl++] = p[i].a, lines[nl++] = p[i].b;
    qsort(lines, nl, sizeof *lines, by_line);
    size_t u = 0;
    for (size_t i = 0; i < nl; i++)
        if (!u || lines[u - 1] != lines[i])
            lines[u++] = lines[i];
    nl = u;
    if ((rc = batch_rewind(b, e)) ||
        (rc = queue_reader_init(&r, batch_read, &b->src, e)))
        goto out;
    size_t at = 0;
    while (at < nl) {
        queue_entry q;
        int got;
        if ((rc = queue_next(&r, &q, &got, e)))
            goto out;
        if (!got)
            break;
        if ((uint32_t)q.line == lines[at])
            rc = batch_name(&q, 1, &names[at++], e);
        queue_entry_free(&q);
        if (rc)
            goto out;
    }
    const qname_pair *worst = NULL;
    for (size_t i = 0; i < n; i++) {
        uint32_t *a = bsearch(&p[i].a, lines, nl, sizeof *lines, by_line);
        uint32_t *c = bsearch(&p[i].b, lines, nl, sizeof *lines, by_line);
        const char *na = a ? names[a - lines] : NULL;
        const char *nb = c ? names[c - lines] : NULL;
        if (!na || !nb)
            continue;
        int same = p[i].kind_b == QN_NAME ? strcmp(na, nb) == 0
                                          : stem_of(na, nb);
        uint32_t lo = p[i].a < p[i].b ? p[i].a : p[i].b;
        if (same && (!worst || lo < (worst->a < worst->b ? worst->a
                                                          : worst->b)))
            worst = &p[i];
    }
    if (worst) {
        const char *na = names[(uint32_t *)bsearch(&worst->a, lines, nl,
                                                   sizeof *lines, by_line) -
                               lines];
        const char *nb = names[(uint32_t *)bsearch(&worst->b, lines, nl,
                                                   sizeof *lines, by_line) -
                               lines];
        if (worst->kind_b == QN_NAME)
            rc = err_set(e, SG_EUSAGE,
                         "lines %u and %u both save to %s; give one of "
                         "them another out=",
                         worst->a, worst->b, na);
        else
            rc = err_set(e, SG_EUSAGE,
                         "line %u saves to %s, which line %u uses for its "
                         "partial data",
                         worst->b, nb, worst->a);
    }
out:
    queue_reader_free(&r);
    for (size_t i = 0; names && i < 2 * n; i++)
        free(names[i]);
    free(names);
    free(lines);
    return rc;
}


struct chunk {
    disk_task t;              /* checked as a task of the pool */
    sg_batch *b;
    queue_entry e[CHUNK];
    int n;
    qname_rec rec[2 * CHUNK]; /* a name, and at most one stem */
    int nrec;
    int shard;                /* entries of this shard */
    sg_code rc;               /* its first failure, in err */
    sg_err err;
    int checked;              /* its done() ran */
};

/* One entry's checks and records into c. */
static sg_code check_one(sg_batch *b, struct chunk *c, const queue_entry *q)
{
    char *name;
    sg_err *e = &c->err;
    sg_code rc = batch_name(q, 1, &name, e);
    if (rc)
        return rc;
    size_t n = strlen(name);
    char spec[160];
    if (strcmp(name, ".segget-queue") == 0 ||
        strncmp(name, ".segget-queue-", 14) == 0)
        rc = err_set(e, SG_EUSAGE, "line %d: %s is reserved", q->line, name);
    else if (!q->checksum && b->sums)
        rc = batch_listed(b, q, name, spec, sizeof spec, e);
    if (!rc) {
        c->rec[c->nrec++] = (qname_rec){hash_bytes(name, n),
                                        (uint32_t)q->line, QN_NAME};
        for (int k = 0; k < 4; k++) {
            size_t sl = beside_len[k];
            if (n > sl && memcmp(name + n - sl, beside[k], sl) == 0) {
                c->rec[c->nrec++] = (qname_rec){hash_bytes(name, n - sl),
                                                (uint32_t)q->line, QN_STEM};
                break; /* the suffixes do not end one another */
            }
        }
    }
    free(name);
    return rc;
}

static void check_chunk(sg_batch *b, struct chunk *c)
{
    c->nrec = c->shard = 0;
    c->rc = SG_OK;
    for (int i = 0; i < c->n && !c->rc; i++) {
        c->rc = check_one(b, c, &c->e[i]);
        c->shard += queue_in_shard(c->e[i].url, b->o.shard_index,
                                   b->o.shard_count);
    }
}

static void chunk_run(disk_task *t)
{
    struct chunk *c = (struct chunk *)(void *)t;
    check_chunk(c->b, c);
}

static void chunk_done(disk_task *t)
{
    ((struct chunk *)(void *)t)->checked = 1;
}

/* The pool's wake(): a chunk was checked. */
static void chunk_wake(void *ud)
{
    (void)sem_post(ud);
}

/* Parse up to CHUNK entries into c: SG_OK (c->n 0 at the end), or the
 * parse failure in e. */
static sg_code parse_chunk(queue_reader *r, struct chunk *c, sg_err *e)
{
    c->n = 0;
    while (c->n < CHUNK) {
        int got;
        sg_code rc = queue_next(r, &c->e[c->n], &got, e);
        if (rc)
            return rc;
        if (!got)
            break;
        c->n++;
    }
    return SG_OK;
}

/* Take c's results: its records to qn, its count; its entries freed.
 * Its failure, if any, moves to e. */
static sg_code take_chunk(sg_batch *b, struct chunk *c, qnames *qn,
                          sg_err *e)
{
    sg_code rc = c->rc;
    if (rc) {
        err_set(e, rc, "%s", err_msg(&c->err));
        err_reset(&c->err);
    }
    for (int i = 0; i < c->nrec && !rc; i++)
        rc = qnames_add(qn, c->rec[i].hash, c->rec[i].line,
                        (int)c->rec[i].kind, e);
    b->total += c->shard;
    for (int i = 0; i < c->n; i++)
        queue_entry_free(&c->e[i]);
    c->n = c->nrec = 0;
    return rc;
}

/* Read the whole queue, checking it: the records in qn.  This thread
 * parses, chunks are checked on a pool of CHECKERS threads (disk.h: the
 * same pool and handshake as the engine's disk work), and their results
 * are taken in queue order. */
static sg_code read_all(sg_batch *b, qnames *qn, int *any, int *lines)
{
    sg_err *e = &b->err, perr = {0};
    struct chunk *slot = NULL;
    queue_reader r = {0};
    disk *pool = NULL;
    sem_t sem;
    int have_sem = 0;
    sg_code rc = queue_reader_init(&r, batch_read, &b->src, e), prc = SG_OK;
    if (rc || !(slot = calloc(SLOTS, sizeof *slot))) {
        queue_reader_free(&r);
        return rc ? rc : err_set(e, SG_ENOMEM, "out of memory");
    }
    /* A queue of one chunk is checked here, without threads. */
    prc = parse_chunk(&r, &slot[0], &perr);
    *any = slot[0].n > 0;
    if (prc || slot[0].n < CHUNK) {
        check_chunk(b, &slot[0]);
        rc = take_chunk(b, &slot[0], qn, e);
        goto out;
    }
    /* Without threads (none could start), chunks are checked here. */
    if (sem_init(&sem, 0, 0) == 0) {
        have_sem = 1;
        sg_err pe = {0};
        if (disk_new(&pool, CHECKERS, chunk_wake, &sem, &pe))
            pool = NULL;
        err_reset(&pe);
    }
    unsigned long taken = 0, filled = 0;
    int reading = 1;
    for (;;) {
        struct chunk *c;
        if (filled == 0 || (reading && filled - taken < SLOTS)) {
            c = &slot[filled % SLOTS];
            if (filled > 0) { /* the first was parsed above */
                prc = parse_chunk(&r, c, &perr);
                if (prc || c->n == 0)
                    reading = 0;
                if (!c->n)
                    continue;
            }
            c->b = b;
            c->checked = 0;
            filled++;
            if (pool) {
                c->t = (disk_task){.run = chunk_run, .done = chunk_done};
                disk_submit(pool, &c->t);
            } else {
                check_chunk(b, c);
                c->checked = 1;
            }
            continue;
        }
        if (taken == filled)
            break;
        c = &slot[taken % SLOTS];
        if (c->checked) {
            if (!rc)
                rc = take_chunk(b, c, qn, e);
            else
                take_chunk(b, c, qn, &perr);
            taken++;
            if (rc)
                reading = 0;
            continue;
        }
        while (sem_wait(&sem) < 0 && errno == EINTR)
            ;
        (void)disk_take(pool);
    }
out:
    disk_free(pool); /* nothing is left in it: every chunk was taken */
    if (have_sem)
        sem_destroy(&sem);
    *lines = r.line;
    if (!rc && prc)
        rc = err_set(e, prc, "%s", err_msg(&perr));
    err_reset(&perr);
    for (int i = 0; i < SLOTS; i++) {
        for (int j = 0; j < slot[i].n; j++)
            queue_entry_free(&slot[i].e[j]);
        err_reset(&slot[i].err);
    }
    free(slot);
    queue_reader_free(&r);
    return rc;
}

sg_code batch_check(sg_batch *b)
{
    sg_err *e = &b->err;
    qnames qn;
    int any = 0, lines = 0;
    int64_t t0 = now_ms();
    sg_code rc = qnames_init(&qn, NAMES_RUN, e);
    if (!rc)
        rc = read_all(b, &qn, &any, &lines);
    b->src.end = b->src.at; /* what was checked, and no more */
    if (!rc && !any)
        rc = err_set(e, SG_EUSAGE, "the queue holds no URL");
    enum { PAGE = 256 };
    qname_pair page[PAGE];
    for (size_t skip = 0; !rc;) {
        size_t n;
        int more;
        if ((rc = qnames_pairs(&qn, skip, page, PAGE, &n, &more, e)) || !n)
            break;
        if ((rc = verify(b, page, n, e)) || !more)
            break;
        skip += n;
    }
    qnames_free(&qn);
    double took = (double)(now_ms() - t0) / 1000.0;
    if (!rc && (took >= 1.0 || lines >= 100000) && b->o.dl.notice) {
        /* A long queue is read before anything starts: say how fast. */
        char line[200];
        (void)snprintf(line, sizeof line,
                       "queue checked: %d lines in %.1f s (%.0f per "
                       "second), %d entries for this run",
                       lines, took, lines / took, b->total);
        b->o.dl.notice(line, b->o.dl.userdata);
    }
    return rc;
}
