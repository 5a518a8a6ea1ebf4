/* SPDX-License-Identifier: MIT */
/*
 * faultsrv.h - what the fault server's files share.
 *
 * faultsrv.c parses the options (its header comment documents them all),
 * accepts connections, reads requests, counts the responses in progress
 * for --cap and writes the logs; faultsrv_resp.c answers one request as
 * the options say; faultsrv_declare.c computes and writes the checksums
 * --declare puts on the resource's answers.  The options are set before
 * the first connection and only read afterwards, except the budgets
 * (--fail-count, --drop-count, --trickle-count) and the size
 * --empty-after empties, which are changed under fs_mu.
 */
#ifndef SG_FAULTSRV_H
#define SG_FAULTSRV_H

#include <pthread.h>
#include <stdint.h>

extern struct fs_cfg {
    int64_t size;
    uint64_t seed;
    const char *etag;    /* header value, NULL: none */
    const char *lastmod; /* NULL: none */
    int head_status;     /* 0: like GET */
    int head_no_length;
    int64_t head_length; /* -1: the truth */
    int no_accept_ranges;
    int ignore_ranges;
    int chunked;
    int64_t shift;
    int64_t drop_after; /* -1: never */
    int drop_count;     /* responses that drop; -1: all */
    int fail_status;
    int fail_count;
    int retry_after; /* -1: no header */
    int retry_date;  /* with retry_after: as an HTTP-date that far ahead */
    int64_t rate;    /* bytes per second per connection, 0: unlimited */
    int slow_every;  /* every Kth connection is slow, 0: none */
    int64_t slow_rate;
    int trickle_every;     /* every Kth connection trickles ... */
    int64_t trickle_after; /* ... after this many body bytes ... */
    int64_t trickle_bps;   /* ... at this many bytes a second (1) */
    int trickle_count;     /* connections that may trickle, -1: all */
    int change_after;      /* after K GETs the resource changes (same size) */
    int empty_after;       /* after K GETs the resource is empty */
    const char *range_value; /* literal Content-Range for 206s */
    int no_range_header;     /* 206 without Content-Range */
    int64_t range_total;     /* Content-Range total to claim, -1: truth */
    int64_t extra;  /* body bytes beyond the range, no Content-Length */
    int multipart;  /* 206 as multipart/byteranges */
    int gzip;       /* Content-Encoding: gzip on every GET */
    int html200;    /* every GET: 200 with a small HTML page */
    const char *length_value; /* literal Content-Length for 200s and HEAD */
    const char *disposition;  /* Content-Disposition value */
    int reset;                /* drop with a TCP reset, not a close */
    const char *length_all;   /* literal Content-Length for every response */
    const char *range_total_value; /* literal Content-Range total */
    int bare416;                   /* 416 without Content-Range */
    int empty206;    /* 1: keep the connection, 2: close it */
    int conditional; /* 1: 304 always, 2: only without Range */
    int proxy407;    /* every request: 407 */
    int cap;         /* responses in progress at most, 0: no limit */
    int cap_status;  /* a refusal: 503 or 429, 0: a TCP reset */
    int cap_retry_after; /* Retry-After of a refusal, -1: none */
    int64_t sign_ttl;    /* ms a signed URL lives, -1: no signing */
    int expired_status;  /* answer to an expired or wrong signature */
    int log_conditions;
    int declare_wrong; /* --declare-wrong: values of other bytes */
    int declare_on;    /* FS_DECLARE_ALL, _HEAD or _GET */
} cfg;

enum { FS_DECLARE_ALL, FS_DECLARE_HEAD, FS_DECLARE_GET };

/* The seed of the resource's version after --change-after. */
#define FS_CHANGED_SEED(seed) ((seed) + 1000)

/* One connection, owned by its thread. */
struct fs_conn {
    int fd;
    int64_t serial; /* 1 for the first connection accepted */
    int slow;       /* --slow-every chose it */
    int trickle;    /* --trickle-every (and --trickle-count) chose it */
    int64_t rate;   /* its bytes a second, 0: unlimited */
    int slot;       /* it holds one of the --cap responses in progress */
    /* The version of the resource its current response serves. */
    uint64_t seed;
    const char *etag, *lastmod; /* NULL: none */
};

/* The parts of one request the server looks at; "" when absent. */
struct fs_req {
    char method[16];
    char target[1024]; /* path and query */
    char range[128];
    char if_range[2048]; /* spaces as '_' */
    char inm[2048];      /* If-None-Match */
    char ims[160];       /* If-Modified-Since */
    int proxy_auth;      /* it carried Proxy-Authorization */
    int auth;            /* it carried Authorization */
};

/* Guards the budgets, the counters and the logs. */
extern pthread_mutex_t fs_mu;

/* Take one from a shared budget (-1: unlimited).  Returns 1 if taken. */
int fs_take(int *budget);

/* Admit c's request as one of the --cap responses in progress: returns 1
 * (c then holds a slot, and --cap-log has its START line), or 0 when --cap
 * responses are already in progress (the caller refuses it). */
int fs_cap_admit(struct fs_conn *c);

/* Give back c's slot, if it holds one: its response has reached its last
 * write, or its connection ends.  Safe to call twice. */
void fs_cap_release(struct fs_conn *c);

/* Append the access log's line for the response to q: STATUS, then
 * BYTES_SENT (body bytes the kernel took, also when the peer vanished). */
void fs_log(const struct fs_conn *c, const struct fs_req *q, int status,
            int64_t sent);

/* Append "BODY SERIAL RANGE" to --start-log: the headers of a response
 * with the resource's body went out, its body is next. */
void fs_log_body(const struct fs_conn *c, const struct fs_req *q);

/* Answer the request whose header block (without its blank line, NUL
 * terminated) is req.  Returns 0 to keep the connection, -1 to close it;
 * c's --cap slot may still be held (the caller gives it back). */
int fs_serve(struct fs_conn *c, char *req);

/* Read --declare's comma-separated kinds (faultsrv.c documents them).
 * Returns 0, or -1 after a message for an unknown kind, an empty list or
 * amz-composite with another amz-* kind.  Called while the options are
 * parsed. */
int declare_parse(const char *value);

/* Compute the checksums the declared kinds need, of every version of the
 * resource the options can serve; called once the options are all read,
 * before the first connection.  Returns 0, or -1 after a message. */
int declare_init(void);

/* Append to h (NUL-terminated, capacity n) the declared header lines of
 * c's response about the resource: a HEAD (head), a 206 of bytes [a, b]
 * (ranged) or a 200; none when --declare-on leaves it out.  Any thread. */
void declare_fields(const struct fs_conn *c, int head, int ranged,
                    int64_t a, int64_t b, char *h, size_t n);

#endif
