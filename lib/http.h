/* SPDX-License-Identifier: MIT */
/*
 * http.h - the libcurl edge shared by the probe and the transfer.
 *
 * One place sets the options every request carries (protocols limited to
 * http and https, redirects included; TLS verification unless asked
 * otherwise; timeouts; no Accept-Encoding, so bodies arrive as stored) and
 * translates libcurl's error codes into sg_code.  Easy handles belong to
 * the thread that made them.
 */
#ifndef SG_HTTP_H
#define SG_HTTP_H

#include <curl/curl.h>

#include "err.h"
#include "resp.h"

typedef struct http_conf {
    const char *user_agent;
    long connect_timeout_ms;
    long stall_timeout_ms;
    int insecure;
    const char *const *headers; /* the user's "Name: value" lines */
    int nheaders;
    const char *userpwd; /* "user:password", or NULL (another origin) */
    int netrc;
    const char *proxy;   /* or NULL: the environment's */
} http_conf;

/* Apply the common options to a new or reset easy handle, with r
 * collecting the response headers.  Returns SG_OK or SG_ENOMEM. */
sg_code http_setup(CURL *h, const http_conf *c, resp *r);

/* A header list: the user's headers when with_user, then extra (may be
 * NULL).  *out is NULL when the list would be empty.  SG_ENOMEM on
 * failure.  Free with curl_slist_free_all. */
sg_code http_headers(const http_conf *c, int with_user, const char *extra,
                     struct curl_slist **out);

/* Do two absolute URLs share scheme, host and port?  1 or 0. */
int http_same_origin(const char *a, const char *b);

/* Is url an absolute http or https URL?  1 or 0. */
int http_scheme_ok(const char *url);

/* Check that url is an absolute http(s) URL.  On success *path receives
 * its path, still percent-encoded, as a heap string.  SG_EUSAGE otherwise,
 * with a message. */
sg_code http_check_url(const char *url, char **path, sg_err *e);

/* url without its user name and password, for journals and messages (a
 * heap string), or NULL when out of memory.  A URL libcurl cannot parse
 * is returned as "(unparsable URL)". */
char *http_redact(const char *url);

/* Map a libcurl result to an sg_code and record a message naming url
 * (pass a redacted URL). */
sg_code http_fail(CURLcode cc, const char *errbuf, const char *url,
                  sg_err *e);

/* Is a libcurl failure worth retrying (network trouble, not policy)? */
int http_retryable(CURLcode cc);

#endif
