/* SPDX-License-Identifier: MIT */
/*
 * resp.h - what segget needs to know about one HTTP response, gathered
 * from its raw header lines.
 *
 * libcurl hands the header callback every line of every response in a
 * redirect chain.  A status line starts a new response and forgets the
 * previous one, so what remains at the first body byte describes exactly
 * the response whose body it is.  A field sent twice with different values
 * is recorded as a conflict: the caller must not guess which one is true.
 * The integrity fields (Repr-Digest, Digest, Content-MD5, x-amz-checksum-*,
 * x-goog-hash) go to digest.h, which keeps its own conflicts.
 * Pure (no curl); one resp per transfer, used by one thread.
 */
#ifndef SG_RESP_H
#define SG_RESP_H

#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "hdr.h"

typedef struct resp {
    int status;        /* 0 until a status line was seen */
    int64_t length;    /* Content-Length, -1 absent */
    hdr_range range;   /* valid when has_range */
    int has_range;
    char *etag;        /* as sent (quotes included), heap, or NULL */
    int etag_strong;
    char *last_modified; /* heap, or NULL */
    char *content_type;  /* heap, or NULL (for messages only) */
    char *disposition;   /* Content-Disposition, heap, or NULL */
    int accept_ranges; /* Accept-Ranges lists bytes */
    int encoded;       /* Content-Encoding other than identity */
    int multipart;     /* Content-Type multipart/byteranges */
    int zero_total;    /* a Content-Range says the resource has 0 bytes
                          ("bytes * /0", or an impossible "bytes 0-0/0") */
    int64_t retry_after; /* seconds, -1 absent: set by the engine from
                            libcurl, which reads both of its forms */
    int has_location;
    digest_set digests; /* the integrity it declares (Repr-Digest, ...) */
    /* Fields present but unusable: the response is not trusted. */
    int bad_length, bad_range, bad_etag, conflict;
} resp;

/* Initialise an empty record. */
void resp_init(resp *r);

/* Free the strings and forget everything (status 0). */
void resp_cleanup(resp *r);

/* Feed one raw header line (as libcurl gives it, CRLF included).  Returns
 * 0, or -1 when out of memory. */
int resp_line(resp *r, const char *line, size_t len);

/* Parse the status code of "HTTP/1.1 206 Partial Content" or "HTTP/2 200".
 * Returns the code, or -1 when the line is not a status line. */
int resp_status_line(const char *line, size_t len);

/* Do two validators (ETag or Last-Modified strings, NULL = absent) differ
 * in a way that proves a change?  Absent on either side proves nothing. */
int resp_validator_differs(const char *a, const char *b);

#endif
