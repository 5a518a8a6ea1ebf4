/* SPDX-License-Identifier: MIT */
/*
 * http.c - common libcurl options, URL checks and error translation.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

sg_code sg_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? SG_OK
                                                             : SG_ENOMEM;
}

void sg_global_cleanup(void)
{
    curl_global_cleanup();
}

static size_t on_header(char *line, size_t size, size_t n, void *ud)
{
    size_t len = size * n;
    if (resp_line(ud, line, len) < 0)
        return 0; /* out of memory: abort the transfer */
    return len;
}

sg_code http_setup(CURL *h, const http_conf *c, resp *r)
{
    CURLcode cc = CURLE_OK;
#define SET(opt, val)                                                         \
    do {                                                                      \
        if (cc == CURLE_OK)                                                   \
            cc = curl_easy_setopt(h, opt, val);                               \
    } while (0)
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 1L);
    SET(CURLOPT_MAXREDIRS, 20L);
    /* Credentials from the URL go to its own host only, never to where a
     * redirect points (libcurl's default, stated because we promise it). */
    SET(CURLOPT_UNRESTRICTED_AUTH, 0L);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_USERAGENT, c->user_agent);
    SET(CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    /* A connection under 1 KiB/s for this long is dropped and the range
     * retried from its written offset (a server trickling one byte a
     * second must not hold a range forever). */
    SET(CURLOPT_LOW_SPEED_LIMIT, 1024L);
    SET(CURLOPT_LOW_SPEED_TIME, (c->stall_timeout_ms + 999) / 1000);
    SET(CURLOPT_SSL_VERIFYPEER, c->insecure ? 0L : 1L);
    SET(CURLOPT_SSL_VERIFYHOST, c->insecure ? 0L : 2L);
    if (c->userpwd)
        SET(CURLOPT_USERPWD, c->userpwd);
    if (c->netrc)
        SET(CURLOPT_NETRC, (long)CURL_NETRC_OPTIONAL);
    if (c->proxy)
        SET(CURLOPT_PROXY, c->proxy);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, r);
#undef SET
    return cc == CURLE_OK ? SG_OK : SG_ENOMEM;
}

sg_code http_check_url(const char *url, char **path, sg_err *e)
{
    sg_code rc = SG_OK;
    char *scheme = NULL, *p = NULL;
    CURLU *u = curl_url();
    if (!u)
        return err_set(e, SG_ENOMEM, "out of memory");
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (uc != CURLUE_OK) {
        rc = err_set(e, SG_EUSAGE, "bad URL '%s': %s", url,
                     curl_url_strerror(uc));
        goto out;
    }
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
        rc = err_set(e, SG_EUSAGE, "bad URL '%s': only http and https are "
                                   "supported",
                     url);
        goto out;
    }
    if (curl_url_get(u, CURLUPART_PATH, &p, 0) != CURLUE_OK) {
        rc = err_set(e, SG_EUSAGE, "bad URL '%s'", url);
        goto out;
    }
    *path = strdup(p);
    if (!*path)
        rc = err_set(e, SG_ENOMEM, "out of memory");
out:
    curl_free(scheme);
    curl_free(p);
    curl_url_cleanup(u);
    return rc;
}

sg_code http_headers(const http_conf *c, int with_user, const char *extra,
                     struct curl_slist **out)
{
    struct curl_slist *l = NULL, *t;
    for (int i = 0; with_user && i < c->nheaders; i++) {
        if (!(t = curl_slist_append(l, c->headers[i])))
            goto fail;
        l = t;
    }
    if (extra) {
        if (!(t = curl_slist_append(l, extra)))
            goto fail;
        l = t;
    }
    *out = l;
    return SG_OK;
fail:
    curl_slist_free_all(l);
    *out = NULL;
    return SG_ENOMEM;
}

/* scheme, host and port of url into *s, *h, *p (curl_free them). */
static int origin(const char *url, char **s, char **h, char **p)
{
    *s = *h = *p = NULL;
    CURLU *u = curl_url();
    int ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
             curl_url_get(u, CURLUPART_SCHEME, s, 0) == CURLUE_OK &&
             curl_url_get(u, CURLUPART_HOST, h, 0) == CURLUE_OK &&
             curl_url_get(u, CURLUPART_PORT, p, CURLU_DEFAULT_PORT) ==
                 CURLUE_OK;
    curl_url_cleanup(u);
    return ok;
}

int http_same_origin(const char *a, const char *b)
{
    char *s1, *h1, *p1, *s2, *h2, *p2;
    int ok1 = origin(a, &s1, &h1, &p1), ok2 = origin(b, &s2, &h2, &p2);
    int same = ok1 && ok2 && strcmp(s1, s2) == 0 &&
               strcasecmp(h1, h2) == 0 && strcmp(p1, p2) == 0;
    curl_free(s1), curl_free(h1), curl_free(p1);
    curl_free(s2), curl_free(h2), curl_free(p2);
    return same;
}

int http_scheme_ok(const char *url)
{
    char *s, *h, *p;
    int ok = origin(url, &s, &h, &p) &&
             (strcmp(s, "http") == 0 || strcmp(s, "https") == 0);
    curl_free(s), curl_free(h), curl_free(p);
    return ok;
}

char *http_redact(const char *url)
{
    char *out = NULL, *res = NULL;
    CURLU *u = curl_url();
    if (!u)
        return NULL;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
        res = strdup("(unparsable URL)");
        goto out;
    }
    (void)curl_url_set(u, CURLUPART_USER, NULL, 0);
    (void)curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
    if (curl_url_get(u, CURLUPART_URL, &out, 0) == CURLUE_OK)
        res = strdup(out);
out:
    curl_free(out);
    curl_url_cleanup(u);
    return res;
}

int http_retryable(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
    case CURLE_QUIC_CONNECT_ERROR:
        return 1;
    default:
        return 0;
    }
}

sg_code http_fail(CURLcode cc, const char *errbuf, const char *url,
                  sg_err *e)
{
    const char *why = errbuf && errbuf[0] ? errbuf : curl_easy_strerror(cc);
    sg_code code;
    switch (cc) {
    case CURLE_OUT_OF_MEMORY:
        code = SG_ENOMEM;
        break;
    case CURLE_URL_MALFORMAT:
        code = SG_EUSAGE;
        break;
    case CURLE_UNSUPPORTED_PROTOCOL:
        /* Also a redirect to file:// or another scheme. */
        code = SG_EUNSAFE;
        break;
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
        code = SG_EPROTO;
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
        code = SG_ETLS;
        break;
    default:
        code = SG_ENETWORK;
    }
    return err_set(e, code, "%s: %s", url, why);
}
