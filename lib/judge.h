/* SPDX-License-Identifier: MIT */
/*
 * judge.h - the one response judge: may this response's body be written,
 * and where?
 *
 * Every request segget makes (a probe's HEAD or one-byte GET, a range of
 * a large file, the first GET of a batch's file, a revalidation) is judged
 * here, once, at the end of its headers, before a body byte is written.
 * The judge is a pure function of what was asked (judge_ask), the response
 * headers (resp) and, while the body arrives, how many bytes were seen.
 * It owns every rule about a response:
 *
 *   status        2xx, 206, 304, 3xx, 416, transient (policy.h) or error;
 *   Content-Range exactly the range asked, with the known total; "* /0"
 *                 or a total of 0 means the resource is empty;
 *   Content-Length present but not a representable non-negative integer,
 *                 or sent twice with different values: a protocol error,
 *                 never "unknown"; on a 206 it must equal the range;
 *   validators    an ETag (strong or weak: a weak one proves nothing) or
 *                 Last-Modified other than the plan's: the resource
 *                 changed; fields that conflict or an unreadable ETag
 *                 where the plan relies on one: an error;
 *   encodings     a range with a Content-Encoding; multipart/byteranges;
 *   body length   judge_room() bounds what may be written (never more
 *                 than the range or the declared length) and judge_end()
 *                 says whether a body that ended was whole.
 *
 * No I/O, no allocation, no clock; any thread.
 */
#ifndef SG_JUDGE_H
#define SG_JUDGE_H

#include <stdint.h>

#include "resp.h"

/* What a request asked for. */
typedef struct judge_ask {
    int head;      /* a HEAD request */
    int64_t first; /* "Range: bytes=first-last"; first < 0: no Range */
    int64_t last;  /* inclusive */
    int64_t total; /* the resource's size as planned, -1 unknown */
    /* The validators the plan relies on (NULL: none); a 2xx carrying
     * another value (a weak form of the same tag included) is a changed
     * resource. */
    const char *etag;
    const char *last_modified;
    int conditional; /* If-None-Match / If-Modified-Since were sent */
} judge_ask;

typedef enum judge_verdict {
    JV_BODY,      /* write the body (see judge_result) */
    JV_EMPTY,     /* the resource has no bytes (416 for byte 0, "/0") */
    JV_UNCHANGED, /* 304 to a conditional request */
    JV_REDIRECT,  /* 3xx with a Location: follow it (policy.h) */
    JV_RETRY,     /* a transient status (policy.h) */
    JV_CHANGED,   /* other validators: another version of the resource */
    JV_RESIZED,   /* same validators, another size */
    JV_HTTP,      /* an error status */
    JV_PROTO,     /* a protocol violation */
} judge_verdict;

typedef struct judge_result {
    judge_verdict verdict;
    int status;
    /* JV_BODY: partial (a 206 for the range asked) or the whole resource
     * from byte 0 (any other 2xx; for a request with a Range, the server
     * ignored it).  The body holds bytes [off, off + len) of a resource of
     * total bytes; len and total are -1 when unknown (a body that ends
     * with its connection). */
    int partial;
    int64_t off, len, total;
    char why[160]; /* for everything but JV_BODY: what was wrong */
} judge_result;

/* Judge the response r to ask.  Fills *out; returns out->verdict. */
judge_verdict judge_response(const judge_ask *ask, const resp *r,
                             judge_result *out);

/* Of the body of v (JV_BODY), seen bytes have arrived: how many more may
 * be written.  INT64_MAX when its length is unknown.  A body that brings
 * more is a protocol violation (judge_overrun explains it). */
int64_t judge_room(const judge_result *v, int64_t seen);

/* Describe a body that ran past its length into v->why; returns
 * JV_PROTO. */
judge_verdict judge_overrun(judge_result *v);

/* The body of v ended cleanly after seen bytes: 1 when it was whole, 0
 * when it stopped short (a transient failure: the rest may be asked
 * again). */
int judge_end(const judge_result *v, int64_t seen);

#endif
