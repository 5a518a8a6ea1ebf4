/* SPDX-License-Identifier: MIT */
/*
 * engine.h - the one transfer loop, and the only door to libcurl.
 *
 * Every request segget makes takes this one path:
 *
 *   owner (probe, range of a file, batch's first GET, revalidation)
 *     │ eng_start(req): URL, what is asked (judge_ask), sink
 *     v
 *   engine loop ── one thread, one CURLM, every easy handle ──┐
 *     │ headers end ──> judge_response() (judge.h)            │
 *     │     redirect ──> policy_hop() ──> next hop ───────────┘
 *     │     body ──> sink accept ──> bytes: judge_room() and the
 *     │              owner's stop_at ──> sink write (pwrite)
 *     │ transfer ends ──> judge_end(), libcurl's code as a fail_kind,
 *     v                   transient or not by policy.h
 *   owner's done(): retry or not through the scheduler's health rules
 *   (sched.h); disk work goes to the disk pool (disk.h), whose done()
 *   runs back on this loop.
 *
 * Owners are jobs: a download, a batch.  The loop calls each job's tick
 * every turn (at least ten times a second, so a cancel is seen at once),
 * runs request and disk completions, and returns when no job is left.
 * The rate limit (--limit-rate) is shared equally by the requests that
 * receive a body (rate.h, limit_*).  Connections are reused across
 * requests and jobs, and max_per_host caps connections per host (in
 * each of two pools, below).  A request that shares (eng_req.share: a
 * batch's small files) to an https URL may be an HTTP/2 stream on a
 * connection other sharing requests use, as curl --parallel does; any
 * other request has its connection to itself, one request at a time, and
 * speaks HTTP/1.1: a range exists to escape a per-connection limit.  The
 * two kinds never use each other's connections.
 *
 * URLs are parsed here too (libcurl's URL API): eng_url_* below.
 *
 * Threads: everything on the thread that calls eng_run, except
 * eng_wakeup, eng_cancel and eng_set_rate (any thread; eng_cancel is
 * async-signal-safe).
 */
#ifndef SG_ENGINE_H
#define SG_ENGINE_H

#include <stdint.h>

#include "disk.h"
#include "err.h"
#include "judge.h"
#include "policy.h"
#include "resp.h"
#include "segget.h"

typedef struct engine engine;

/* What every request of the engine carries. Strings are borrowed for the
 * engine's life. */
typedef struct eng_conf {
    const char *user_agent;
    long connect_timeout_ms;
    long stall_timeout_ms;  /* below 1 KiB/s this long: FK_TIMEOUT */
    int insecure;
    const char *const *headers; /* the user's "Name: value" lines, sent */
    int nheaders;               /* to the first URL's origin only */
    const char *userpwd;        /* likewise */
    int netrc;
    const char *proxy;          /* NULL: libcurl's environment */
    int max_per_host;           /* connections per host, 0: no cap */
    int max_connects;           /* idle connections kept, 0: libcurl's */
    int64_t max_rate;           /* bytes per second in all, 0: none */
    int disk_threads;
    const char *cacert, *capath; /* NULL: libcurl's defaults */
    int ip_version;             /* 4, 6, 0: either */
    const char *interface;
    const char *cookie_file;
    void (*trace)(const char *line, void *ud); /* NULL: none */
    void *trace_ud;
} eng_conf;

/* The part of c that a download's options decide (the rest zeroed).
 * Borrows o's strings. */
void eng_conf_from(eng_conf *c, const sg_options *o);

typedef struct eng_req eng_req;

/* What an owner does with a response; called on the loop thread. */
typedef struct eng_ops {
    /* The headers were judged JV_BODY: take the body (SG_OK) or refuse
     * it with a code and message in e.  NULL: take it. */
    sg_code (*accept)(eng_req *q, sg_err *e);
    /* n body bytes for resource offset off (never past what the judge
     * and stop_at allow).  A failure ends the request (EE_SINK). */
    sg_code (*write)(eng_req *q, const char *p, size_t n, int64_t off,
                     sg_err *e);
    /* The request is over; its results are set. */
    void (*done)(eng_req *q);
} eng_ops;

/* How a request ended. */
typedef enum eng_end {
    EE_JUDGED,  /* the final response was judged: see v.verdict (a body,
                   JV_BODY, arrived whole unless headers_only) */
    EE_STOPPED, /* writing reached stop_at: stopped on purpose */
    EE_SHORT,   /* the body ended before its length (transient) */
    EE_FAILED,  /* the transport failed: see fail */
    EE_SINK,    /* the owner's accept or write failed */
} eng_end;

struct eng_req {
    /* Set by the owner before eng_start; strings borrowed until done. */
    const char *url;
    const char *shown;   /* the URL as messages name it */
    int user;            /* the user's headers and credentials may go to
                            url (and to redirects of its origin) */
    judge_ask ask;       /* also gives the Range header */
    const char *if_range;          /* validator value, or NULL */
    const char *if_none_match;     /* conditional request, or NULL */
    const char *if_modified_since;
    int headers_only;    /* only the headers matter: a small body is
                            read and dropped, a large one cut off */
    int fresh;           /* on a new connection */
    int share;           /* over https: may be an HTTP/2 stream beside
                            other sharing requests on one connection (and
                            waits for a connection under way to say
                            whether it can); 0: a connection of its own,
                            reused only once the request before it ended */
    int answered;        /* a server of this download answered before
                            (policy_transient); set by the engine too
                            once a redirect answered */
    long bufsize;        /* receive buffer, 0: libcurl's */
    int64_t stop_at;     /* resource offset where writing stops; the
                            owner may lower it while the request runs */
    int64_t held_at;     /* the engine's: when the rate limit last held
                            this request back (ms), 0: never */
    const eng_ops *ops;
    void *owner;
    /* Results, valid in ops->done and until the next eng_start. */
    eng_end end;
    judge_result v;     /* the final response's verdict */
    resp r;             /* and its headers */
    fail_kind fail;     /* EE_FAILED */
    int transient;      /* worth another try (policy.h) */
    int reached;        /* a server took the connection (not an unknown
                           host or a refused connection): later requests
                           of the owner are answered ones */
    sg_code code;       /* SG_OK, or what this ends in if not retried */
    int64_t got;        /* body bytes written */
    sg_err err;         /* "shown: why" unless SG_OK */
    char why[256];      /* the same without the URL */
    char *final_url;    /* the last hop's URL (heap, engine's) */
    int final_user;     /* the last hop still had the user's headers */
    /* The engine's. */
    struct eng_xfer *x;
};

/* A job: something the loop drives until it is finished. */
typedef struct eng_job eng_job;
struct eng_job {
    /* Every loop turn: start requests, decide, report.  Lower *wake to
     * be called again sooner (ms, CLOCK_MONOTONIC; now: at once, without
     * waiting for I/O).  Return 0 when the job is finished: it is then
     * forgotten. */
    int (*tick)(eng_job *j, int64_t now, int64_t *wake);
    eng_job *next; /* the engine's */
};

/* A new engine (no job yet).  SG_ENOMEM with a message on failure. */
sg_code eng_new(engine **out, const eng_conf *c, sg_err *e);

/* Stop every request without calling its done(), finish the disk work
 * (their done() runs) and free g.  NULL is a no-op. */
void eng_free(engine *g);

/* Drive every job until each is finished. */
void eng_run(engine *g);

void eng_add_job(engine *g, eng_job *j);

/* Start q.  Its done() runs later on the loop, never inside eng_start.
 * SG_ENOMEM (in e) when it cannot start. */
sg_code eng_start(engine *g, eng_req *q, sg_err *e);

/* Abandon a running request: its done() is not called; its connection
 * is closed (an HTTP/2 stream is reset, its connection kept for the
 * others).  No-op when q is not running. */
void eng_stop(engine *g, eng_req *q);

/* Free what the results of q hold. */
void eng_req_cleanup(eng_req *q);

/* Queue disk work (disk.h) on the engine's pool. */
void eng_disk(engine *g, disk_task *t);

/* Wake the loop from its wait.  Any thread. */
void eng_wakeup(engine *g);

/* The rate limit now (bytes per second, 0: none).  Any thread. */
void eng_set_rate(engine *g, int64_t rate);

/* What each transfer that receives a body may take now under the rate
 * limit (bytes per second: the limit shared equally), 0 without one. */
int64_t eng_share(engine *g);

/* A random number for backoff jitter (differs between processes and
 * threads). */
uint64_t eng_random(void);

/*
 * URLs.
 */

/* Check that url is an absolute http or https URL.  On success *path
 * receives its path, still percent-encoded (heap), unless path is NULL.
 * SG_EUSAGE with a message otherwise.  Any thread. */
sg_code eng_url_check(const char *url, char **path, sg_err *e);

/* url without user name and password, for journals and messages (heap);
 * "(unparsable URL)" for one libcurl cannot parse; NULL without memory. */
char *eng_url_redact(const char *url);

/* The host of url, lower-cased, with its port when not the default
 * ("example.org", "127.0.0.1:8080") (heap); NULL when unparsable or out
 * of memory. */
char *eng_url_host(const char *url);

/* Do two absolute URLs share scheme, host and port?  1 or 0. */
int eng_url_same_origin(const char *a, const char *b);

/* Is url an absolute http or https URL?  1 or 0. */
int eng_url_scheme_ok(const char *url);

#endif
