/* SPDX-License-Identifier: MIT */
/*
 * queue.c - parsing queue files, and the hash that shards them.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checksum.h"
#include "queue.h"
#include "util.h"

static int blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Trim blanks at both ends of [*s, *s + *n). */
static void trim(const char **s, size_t *n)
{
    while (*n && blank(**s))
        (*s)++, (*n)--;
    while (*n && blank((*s)[*n - 1]))
        (*n)--;
}

static int has_ctl(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 1;
    return 0;
}

int queue_out_ok(const char *out)
{
    if (!out[0] || out[0] == '/' || has_ctl(out, strlen(out)))
        return 0;
    for (const char *c = out;;) {
        const char *slash = strchr(c, '/');
        size_t len = slash ? (size_t)(slash - c) : strlen(c);
        if (len == 0 || (len == 1 && c[0] == '.') ||
            (len == 2 && c[0] == '.' && c[1] == '.'))
            return 0;
        if (!slash)
            return 1;
        c = slash + 1;
    }
}

static sg_code add_url(queue_entry *en, const char *s, size_t n, int line,
                       sg_err *e)
{
    int ctl = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c == 0x7f) {
            if (blank(s[i]))
                return err_set(e, SG_EUSAGE,
                               "line %d: unexpected text after the URL "
                               "(options go on indented lines below it)",
                               line);
            ctl = 1; /* said after any blank, as before */
        }
    }
    if (ctl)
        return err_set(e, SG_EUSAGE, "line %d: control character in URL",
                       line);
    if (!(en->url = strndup(s, n)))
        return err_set(e, SG_ENOMEM, "out of memory");
    en->line = line;
    return SG_OK;
}

static sg_code add_option(queue_entry *en, const char *s, size_t n, int line,
                          sg_err *e)
{
    const char *eq = memchr(s, '=', n);
    if (!eq)
        return err_set(e, SG_EUSAGE, "line %d: expected key=value", line);
    const char *k = s, *v = eq + 1;
    size_t kn = (size_t)(eq - s), vn = n - kn - 1;
    trim(&k, &kn);
    trim(&v, &vn);
    if (vn == 0)
        return err_set(e, SG_EUSAGE, "line %d: empty value", line);
    if (has_ctl(v, vn))
        return err_set(e, SG_EUSAGE, "line %d: control character in value",
                       line);
    char *val = strndup(v, vn);
    if (!val)
        return err_set(e, SG_ENOMEM, "out of memory");
    sg_code rc = SG_OK;
    char **slot = NULL;
    if (kn == 3 && memcmp(k, "out", 3) == 0) {
        slot = &en->out;
        if (strcmp(val, "-") == 0)
            rc = err_set(e, SG_EUSAGE,
                         "line %d: out=- is not for a queue: its files go "
                         "to files (-o - is for one URL)",
                         line);
        else if (!queue_out_ok(val))
            rc = err_set(e, SG_EUSAGE,
                         "line %d: out=%s must be a relative path without "
                         "'.' or '..' parts",
                         line, val);
    } else if (kn == 8 && memcmp(k, "checksum", 8) == 0) {
        slot = &en->checksum;
        checksum c;
        sg_err ce = {0};
        if (checksum_parse(val, &c, &ce))
            rc = err_set(e, SG_EUSAGE, "line %d: %s", line, err_msg(&ce));
        err_reset(&ce);
    } else if (kn == 1 && k[0] == 'n') {
        char *end;
        long c = strtol(val, &end, 10);
        if (*end || end == val || c < 1 || c > 64)
            rc = err_set(e, SG_EUSAGE,
                         "line %d: n takes a number from 1 to 64, not '%s'",
                         line, val);
        else if (en->connections)
            rc = err_set(e, SG_EUSAGE, "line %d: n given twice", line);
        else
            en->connections = (int)c;
        free(val);
        return rc;
    } else {
        rc = err_set(e, SG_EUSAGE,
                     "line %d: unknown option '%.*s' (out=, checksum= or n=)",
                     line, (int)(kn > 40 ? 40 : kn), k);
    }
    if (rc == SG_OK && *slot)
        rc = err_set(e, SG_EUSAGE, "line %d: %.*s given twice", line,
                     (int)kn, k);
    if (rc) {
        free(val);
        return rc;
    }
    *slot = val;
    return SG_OK;
}

sg_code queue_reader_init(queue_reader *r, queue_read_fn rd, void *ud,
                          sg_err *e)
{
    memset(r, 0, sizeof *r);
    r->rd = rd;
    r->ud = ud;
    r->cap = QUEUE_READ_BUF;
    if (!(r->buf = malloc(r->cap)))
        return err_set(e, SG_ENOMEM, "out of memory");
    return SG_OK;
}

void queue_reader_free(queue_reader *r)
{
    free(r->buf);
    r->buf = NULL;
}

/* Read more into r->buf after what is unread.  0, or an error. */
static sg_code refill(queue_reader *r, sg_err *e)
{
    size_t avail = r->hi - r->lo;
    if (r->lo) {
        memmove(r->buf, r->buf + r->lo, avail);
        r->lo = 0;
        r->hi = avail;
    }
    while (r->hi < r->cap) {
        ptrdiff_t got = r->rd(r->ud, r->buf + r->hi, r->cap - r->hi);
        if (got < 0)
            return err_set(e, SG_EIO, "cannot read the queue: %s",
                           strerror(errno));
        if (got == 0) {
            r->eof = 1;
            break;
        }
        r->hi += (size_t)got;
        if (memchr(r->buf + r->hi - (size_t)got, '\n', (size_t)got))
            break;
    }
    if (!r->bom_done && (r->hi - r->lo >= 3 || r->eof)) {
        r->bom_done = 1;
        if (r->hi - r->lo >= 3 && memcmp(r->buf, "\xef\xbb\xbf", 3) == 0)
            r->lo += 3; /* a UTF-8 byte order mark */
    }
    return SG_OK;
}

/* The next line, not consumed: *s, *n without its line end, *adv the
 * bytes it takes with it.  1, or 0 at the end (or an error in e). */
static int peek_line(queue_reader *r, const char **s, size_t *n,
                     size_t *adv, sg_err *e)
{
    for (;;) {
        const char *p = r->buf + r->lo;
        size_t avail = r->hi - r->lo;
        const char *nl = r->bom_done ? memchr(p, '\n', avail) : NULL;
        if (nl || (r->eof && r->bom_done)) {
            if (!nl && !avail)
                return 0;
            *s = p;
            *n = nl ? (size_t)(nl - p) : avail;
            *adv = *n + (nl ? 1 : 0);
            if (*n && p[*n - 1] == '\r')
                (*n)--;
            return 1;
        }
        if (avail > QUEUE_MAX_LINE + 1) {
            err_set(e, SG_EUSAGE, "line %d: longer than %d bytes",
                    r->line + 1, QUEUE_MAX_LINE);
            return 0;
        }
        if (refill(r, e))
            return 0;
    }
}

sg_code queue_next(queue_reader *r, queue_entry *en, int *got, sg_err *e)
{
    sg_code rc = SG_OK;
    memset(en, 0, sizeof *en);
    *got = 0;
    for (;;) {
        const char *s, *t;
        size_t n, adv, tn;
        int line = r->line + 1;
        if (r->pend) {
            /* The URL line the last entry stopped at, checked then. */
            r->pend = 0;
            s = r->buf + r->lo;
            n = r->pend_n, adv = r->pend_adv;
            t = s + r->pend_t, tn = r->pend_tn;
        } else {
            if (!peek_line(r, &s, &n, &adv, e)) {
                rc = e->code;
                break;
            }
            if (r->line == INT_MAX) {
                rc = err_set(e, SG_EUSAGE, "more than %d lines", INT_MAX);
                break;
            }
            if (n > QUEUE_MAX_LINE) {
                rc = err_set(e, SG_EUSAGE, "line %d: longer than %d bytes",
                             line, QUEUE_MAX_LINE);
                break;
            }
            if (memchr(s, '\0', n)) {
                rc = err_set(e, SG_EUSAGE, "line %d: NUL byte", line);
                break;
            }
            t = s, tn = n;
            trim(&t, &tn);
        }
        int indented = n && blank(s[0]);
        if (tn && t[0] != '#' && !indented && en->url) {
            /* The next entry's URL: left for the next call. */
            r->pend = 1;
            r->pend_n = n, r->pend_adv = adv;
            r->pend_t = (size_t)(t - s), r->pend_tn = tn;
            break;
        }
        r->line = line;
        r->lo += adv;
        if (tn == 0 || t[0] == '#')
            continue;
        if (!indented)
            rc = add_url(en, t, tn, line, e);
        else if (!en->url)
            rc = err_set(e, SG_EUSAGE,
                         "line %d: an indented option before any URL", line);
        else
            rc = add_option(en, t, tn, line, e);
        if (rc)
            break;
    }
    if (rc)
        queue_entry_free(en);
    else
        *got = en->url != NULL;
    return rc;
}

void queue_entry_free(queue_entry *en)
{
    free(en->url);
    free(en->out);
    free(en->checksum);
    memset(en, 0, sizeof *en);
}

struct mem_src {
    const char *p;
    size_t left;
};

static ptrdiff_t mem_read(void *ud, char *buf, size_t n)
{
    struct mem_src *m = ud;
    if (n > m->left)
        n = m->left;
    memcpy(buf, m->p, n);
    m->p += n;
    m->left -= n;
    return (ptrdiff_t)n;
}

sg_code queue_parse(const char *text, size_t len, queue *q, sg_err *e)
{
    struct mem_src m = {text, len};
    queue_reader r;
    int cap = 0, got = 0;
    q->v = NULL;
    q->n = 0;
    sg_code rc = queue_reader_init(&r, mem_read, &m, e);
    while (rc == SG_OK) {
        queue_entry en;
        if ((rc = queue_next(&r, &en, &got, e)) || !got)
            break;
        if (q->n == cap) {
            int nc = cap ? cap * 2 : 16;
            queue_entry *v = nc > 0 ? realloc(q->v, (size_t)nc * sizeof *v)
                                    : NULL;
            if (!v) {
                queue_entry_free(&en);
                rc = err_set(e, SG_ENOMEM, "out of memory");
                break;
            }
            q->v = v;
            cap = nc;
        }
        q->v[q->n++] = en;
    }
    queue_reader_free(&r);
    if (rc)
        queue_free(q);
    return rc;
}

void queue_free(queue *q)
{
    for (int i = 0; i < q->n; i++)
        queue_entry_free(&q->v[i]);
    free(q->v);
    q->v = NULL;
    q->n = 0;
}

uint64_t queue_hash(const char *url)
{
    return hash_bytes(url, strlen(url));
}

int queue_in_shard(const char *url, int index, int count)
{
    if (count <= 0)
        return 1;
    return (int)(queue_hash(url) % (uint64_t)count) == index - 1;
}

/* A non-negative decimal environment value, or -1. */
static long env_num(queue_getenv get, void *ud, const char *name)
{
    const char *s = get(name, ud);
    if (!s || !*s)
        return -1;
    char *end;
    long v = strtol(s, &end, 10);
    return *end || v < 0 || v > 1000000000L ? -1 : v;
}

int queue_shard_auto(queue_getenv get, void *ud, int *index, int *count,
                     char *msg, size_t cap)
{
    long id = env_num(get, ud, "SLURM_ARRAY_TASK_ID");
    long n = env_num(get, ud, "SLURM_ARRAY_TASK_COUNT");
    long min = env_num(get, ud, "SLURM_ARRAY_TASK_MIN");
    if (id >= 0 || n >= 0 || min >= 0) {
        /* A job array: its tasks are MIN, MIN+STEP, ... (COUNT of
         * them); anything else ("--array=1,5,6") cannot be numbered. */
        long max = env_num(get, ud, "SLURM_ARRAY_TASK_MAX");
        long step = env_num(get, ud, "SLURM_ARRAY_TASK_STEP");
        if (step < 1)
            step = 1;
        if (id < 0 || n < 1 || min < 0 || id < min ||
            (id - min) % step || (id - min) / step >= n ||
            (max >= 0 && (max - min) / step + 1 != n)) {
            (void)snprintf(msg, cap,
                           "--shard auto: the job array's task IDs are not "
                           "MIN, MIN+STEP, ... (SLURM_ARRAY_TASK_ID=%ld, "
                           "_MIN=%ld, _MAX=%ld, _STEP=%ld, _COUNT=%ld); "
                           "give --shard I/K",
                           id, min, max, step, n);
            return -1;
        }
        if (n == 1) {
            /* "sbatch --array=3" to run task 3 again gives an array of
             * one: its part cannot be told. */
            (void)snprintf(msg, cap,
                           "--shard auto: a job array of one task "
                           "(SLURM_ARRAY_TASK_ID=%ld): a task resubmitted "
                           "alone cannot tell its part; give --shard I/K, "
                           "or requeue the task (scontrol requeue)",
                           id);
            return -1;
        }
        *index = (int)((id - min) / step) + 1;
        *count = (int)n;
        (void)snprintf(msg, cap,
                       "shard %d/%d (Slurm job array task %ld of %ld)",
                       *index, *count, id, n);
        return 0;
    }
    long proc = env_num(get, ud, "SLURM_PROCID");
    long tasks = env_num(get, ud, "SLURM_NTASKS");
    if (proc >= 0 || tasks >= 0) {
        if (proc < 0 || tasks < 1 || proc >= tasks) {
            (void)snprintf(msg, cap,
                           "--shard auto: SLURM_PROCID=%ld and "
                           "SLURM_NTASKS=%ld do not make a task; give "
                           "--shard I/K",
                           proc, tasks);
            return -1;
        }
        *index = (int)proc + 1;
        *count = (int)tasks;
        (void)snprintf(msg, cap, "shard %d/%d (srun task %ld of %ld)",
                       *index, *count, proc, tasks);
        return 0;
    }
    (void)snprintf(msg, cap,
                   "--shard auto found no scheduler: neither "
                   "SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT (a Slurm "
                   "job array) nor SLURM_PROCID and SLURM_NTASKS (srun) are "
                   "set; give --shard I/K");
    return -1;
}
