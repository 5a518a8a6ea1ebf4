/* SPDX-License-Identifier: MIT */
/*
 * policy.c - the tables behind policy.h.
 */
#include "policy.h"

int policy_transient(fail_kind k, int answered)
{
    switch (k) {
    case FK_RESOLVE:
    case FK_CONNECT:
        return answered;
    case FK_TIMEOUT:
    case FK_RECV:
    case FK_SEND:
    case FK_NOTHING:
    case FK_PARTIAL:
    case FK_HTTP2:
        return 1;
    default:
        return 0;
    }
}

sg_code policy_code(fail_kind k)
{
    switch (k) {
    case FK_NONE:
        return SG_OK;
    case FK_TLS:
        return SG_ETLS;
    case FK_PROXY:
        return SG_EHTTP;
    case FK_PROTO:
        return SG_EPROTO;
    case FK_UNSAFE:
        return SG_EUNSAFE;
    case FK_USAGE:
        return SG_EUSAGE;
    case FK_NOMEM:
        return SG_ENOMEM;
    default:
        return SG_ENETWORK;
    }
}

int policy_transient_status(int status)
{
    switch (status) {
    case 408: /* Request Timeout */
    case 425: /* Too Early */
    case 429: /* Too Many Requests */
        return 1;
    case 501: /* Not Implemented */
    case 505: /* HTTP Version Not Supported */
    case 506: /* Variant Also Negotiates */
    case 510: /* Not Extended */
    case 511: /* Network Authentication Required */
        return 0;
    default:
        return status >= 500 && status <= 599;
    }
}

int policy_refusal(int status, fail_kind k)
{
    if (status)
        return status == 503 || status == 429;
    return k == FK_CONNECT || k == FK_RECV || k == FK_SEND ||
           k == FK_NOTHING;
}

int policy_expired(int status)
{
    return status == 400 || status == 401 || status == 403 || status == 410;
}

long policy_backoff_ms(int tries, int64_t retry_after, uint64_t rnd)
{
    long ms = 500;
    for (int i = 1; i < tries && ms < 30000; i++)
        ms *= 2;
    if (ms > 30000)
        ms = 30000;
    /* Jitter keeps many retrying connections (and clients) apart. */
    ms = ms / 2 + (long)(rnd % (uint64_t)(ms / 2 + 1));
    if (retry_after > 300)
        retry_after = 300;
    if (retry_after >= 0 && retry_after * 1000 > ms)
        ms = (long)retry_after * 1000;
    return ms;
}

hop_verdict policy_hop(int hops, int scheme_ok)
{
    if (hops >= POLICY_MAX_HOPS)
        return HOP_TOO_MANY;
    return scheme_ok ? HOP_FOLLOW : HOP_UNSAFE;
}

int policy_hop_user(int user, int same_origin)
{
    return user && same_origin;
}
