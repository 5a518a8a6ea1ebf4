/* SPDX-License-Identifier: MIT */
/*
 * err.c - first-error-wins error records and sg_strerror().
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "err.h"

const char *sg_strerror(sg_code code)
{
    switch (code) {
    case SG_OK: return "success";
    case SG_EUSAGE: return "invalid usage";
    case SG_ENETWORK: return "network failure";
    case SG_EHTTP: return "HTTP error status";
    case SG_EPROTO: return "protocol violation by the server";
    case SG_ECHANGED: return "remote resource changed";
    case SG_EIO: return "local I/O error";
    case SG_EJOURNAL: return "journal corrupt or mismatched";
    case SG_ETLS: return "TLS failure";
    case SG_EUNSAFE: return "refused as unsafe";
    case SG_ECHECKSUM: return "checksum mismatch";
    case SG_EINTERRUPTED: return "interrupted";
    case SG_ENOMEM: return "out of memory";
    case SG_EPIPE: return "the output pipe was closed by its reader";
    }
    return "unknown error";
}

const char *sg_version(void)
{
    return SG_VERSION;
}

/* err_set and err_http. */
static sg_code vset(sg_err *e, int status, sg_code code, const char *fmt,
                    va_list ap)
{
    if (e->code != SG_OK || code == SG_OK)
        return e->code;
    e->code = code;
    e->status = code == SG_EHTTP ? status : 0;
    va_list aq;
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (n < 0)
        return code;
    e->msg = malloc((size_t)n + 1);
    if (e->msg)
        (void)vsnprintf(e->msg, (size_t)n + 1, fmt, ap);
    return code;
}

sg_code err_set(sg_err *e, sg_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sg_code rc = vset(e, 0, code, fmt, ap);
    va_end(ap);
    return rc;
}

sg_code err_http(sg_err *e, int status, sg_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sg_code rc = vset(e, status, code, fmt, ap);
    va_end(ap);
    return rc;
}

sg_code err_copy(sg_err *dst, sg_code code, const sg_err *src)
{
    const char *m = err_msg(src);
    return err_http(dst, src->status, code, "%s", m[0] ? m : sg_strerror(code));
}

void err_merge(sg_err *dst, sg_err *src)
{
    if (dst->code == SG_OK && src->code != SG_OK) {
        *dst = *src;
        src->code = SG_OK;
        src->msg = NULL;
    }
    err_reset(src);
}

void err_reset(sg_err *e)
{
    free(e->msg);
    e->msg = NULL;
    e->code = SG_OK;
    e->status = 0;
}

const char *err_msg(const sg_err *e)
{
    if (e->code == SG_OK)
        return "";
    return e->msg ? e->msg : sg_strerror(e->code);
}
