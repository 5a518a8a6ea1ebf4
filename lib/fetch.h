/* SPDX-License-Identifier: MIT */
/*
 * fetch.h - whole small files, many at once, over one libcurl multi handle.
 *
 * A batch fetches each file with a single GET first, for its first limit
 * bytes ("Range: bytes=0-(limit-1)").  A small file arrives whole in the
 * file the owner opens for it: one request per file, no probe, and the
 * multi handle's connection cache reuses connections across files of the
 * same host (at most max_per_host of them at once).  For a larger file the
 * same request brings its first limit bytes, which the owner's download
 * adopts (FETCH_BIG with a prefix); a server that ignores the range and
 * sends more than the limit is cut off at its headers (FETCH_BIG without
 * one).  Responses are checked as strictly as range responses are:
 * status, Content-Length against the body, duplicated fields.  Redirects
 * are followed one hop at a time like the probe's, so the user's headers
 * never reach another origin.  Transient failures (network, 5xx, 429) are
 * retried with backoff.  Bodies are hashed as they arrive when a checksum
 * is expected (a single GET delivers them in order).
 *
 * Not thread-safe: a pool and its jobs belong to the thread that drives
 * them.  This header keeps libcurl out of its users.
 */
#ifndef SG_FETCH_H
#define SG_FETCH_H

#include <signal.h>
#include <stdint.h>

#include "checksum.h"
#include "err.h"

typedef enum fetch_verdict {
    FETCH_RUNNING,
    FETCH_DONE,      /* the whole body is in fd; size and validators set */
    FETCH_UNCHANGED, /* 304 to a conditional request */
    FETCH_BIG,       /* over the limit: prefix bytes of a size-byte
                        file are in fd (validators set), or none */
    FETCH_FAILED,    /* err says why */
} fetch_verdict;

typedef struct fetch_job fetch_job;

/* Called when a 200's headers are accepted, before its first byte (or at
 * its end, for an empty body); size is -1 when unknown.  Returns a file
 * descriptor, empty and positioned nowhere in particular (the pool
 * pwrites from offset 0), or -1 with e set.  A retry calls it again: the
 * owner truncates and returns the same descriptor. */
typedef int (*fetch_open_fn)(fetch_job *j, int64_t size, sg_err *e);

struct fetch_job {
    /* Set by the owner before fetch_start; borrowed. */
    const char *url;
    const char *shown;             /* url without credentials */
    const char *if_none_match;     /* conditional request, or NULL */
    const char *if_modified_since; /* conditional request, or NULL */
    int64_t limit;                 /* bodies over this are FETCH_BIG */
    const checksum *sum;           /* expected digest, or NULL */
    fetch_open_fn open;
    void *owner;
    /* Results, valid once fetch_step returned the job. */
    fetch_verdict verdict;
    sg_err err;
    int64_t size;
    char *etag;          /* heap or NULL; as sent, weak ones included */
    char *last_modified; /* heap or NULL */
    int64_t bytes;       /* body bytes received over all attempts */
    int64_t prefix;      /* FETCH_BIG: bytes [0, prefix) are in fd */
    /* The pool's. */
    struct fetch_rt *rt;
};

typedef struct fetch_pool fetch_pool;

typedef struct fetch_conf {
    const char *user_agent;
    long connect_timeout_ms;
    long stall_timeout_ms;
    int insecure;
    const char *const *headers;
    int nheaders;
    const char *userpwd;
    int netrc;
    const char *proxy;
    int max_tries;
    int max_per_host;
    volatile sig_atomic_t *cancel;
} fetch_conf;

/* A new pool using c (borrowed; must outlive the pool). */
sg_code fetch_pool_new(fetch_pool **out, const fetch_conf *c, sg_err *e);

/* Start j (its result fields are reset).  SG_ENOMEM on failure. */
sg_code fetch_start(fetch_pool *p, fetch_job *j, sg_err *e);

/* Drive the pool for at most timeout_ms.  Returns the number of jobs that
 * reached a verdict, stored in done[0..max) (the rest are reported by
 * later calls).  The owner may start new jobs between calls. */
int fetch_step(fetch_pool *p, long timeout_ms, fetch_job **done, int max);

/* Limit the pool to rate bytes per second in all (<= 0: no limit). */
void fetch_set_rate(fetch_pool *p, double rate);

/* Make a fetch_step() waiting in another thread return early.  Any
 * thread. */
void fetch_wakeup(fetch_pool *p);

/* Jobs started and not yet returned by fetch_step. */
int fetch_running(const fetch_pool *p);

/* Abandon every running job (no verdict is reported for them) and free
 * the pool.  NULL is a no-op. */
void fetch_pool_free(fetch_pool *p);

/* Free a job's result strings and error. */
void fetch_job_cleanup(fetch_job *j);

/* Check that url is an absolute http(s) URL; *path receives its path
 * (heap).  As http_check_url, for callers that keep libcurl out. */
sg_code fetch_check_url(const char *url, char **path, sg_err *e);

/* url without credentials (heap), or NULL when out of memory. */
char *fetch_redact(const char *url);

/* The host of url, lower-cased, with its port when not the default
 * ("example.org", "127.0.0.1:8080"), heap; NULL when url is not parsable
 * or out of memory. */
char *fetch_host(const char *url);

#endif
