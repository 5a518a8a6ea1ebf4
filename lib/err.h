/* SPDX-License-Identifier: MIT */
/*
 * err.h - the error record every module reports into.
 *
 * A failure is a code plus one human line.  The first failure recorded is
 * kept and later ones are dropped, so the message a user reads names the
 * cause rather than its consequences.  A failure that is an HTTP status
 * (SG_EHTTP from a server's response) carries that status too, through
 * every copy of the record, up to sg_download_http_status().  Not
 * thread-safe: each thread owns its own sg_err and a thread that joins
 * another merges it explicitly.
 */
#ifndef SG_ERR_H
#define SG_ERR_H

#include "segget.h"

typedef struct sg_err {
    sg_code code;
    int status; /* the HTTP status the failure is (SG_EHTTP only), or 0 */
    char *msg;  /* heap, NULL when code is SG_OK */
} sg_err;

/* Record code with a printf-style message unless an error is already
 * recorded.  Returns the code now held by e (the first one).  Never fails:
 * without memory the message falls back to sg_strerror(code). */
sg_code err_set(sg_err *e, sg_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* As err_set, for a failure that is the HTTP status of a response: the
 * status is kept with the error when this call records it and code is
 * SG_EHTTP (0: none, as err_set). */
sg_code err_http(sg_err *e, int status, sg_code code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Record code with src's message (sg_strerror(code) when it has none) and
 * its HTTP status (when code is SG_EHTTP) unless dst holds an error, as
 * err_set.  Returns the code now held by dst.  src is left as it is. */
sg_code err_copy(sg_err *dst, sg_code code, const sg_err *src);

/* Move src's error into dst if dst holds none; src is reset. */
void err_merge(sg_err *dst, sg_err *src);

/* Forget the recorded error and free its message. */
void err_reset(sg_err *e);

/* The message, or "" when no error is recorded. */
const char *err_msg(const sg_err *e);

#endif
