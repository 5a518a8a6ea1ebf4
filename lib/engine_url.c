/* SPDX-License-Identifier: MIT */
/*
 * engine_url.c - URLs through libcurl's URL API, and libcurl's global
 * set-up (part of the engine: the only files that include curl.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "engine.h"

sg_code sg_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? SG_OK
                                                             : SG_ENOMEM;
}

void sg_global_cleanup(void)
{
    curl_global_cleanup();
}

sg_code eng_url_check(const char *url, char **path, sg_err *e)
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
    /* Without CURLU_GUESS_SCHEME the URL begins with its scheme: a
     * queue's millions of lines need no copy of it to tell. */
    if (strncasecmp(url, "http://", 7) != 0 &&
        strncasecmp(url, "https://", 8) != 0 &&
        (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
         (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))) {
        rc = err_set(e, SG_EUSAGE,
                     "bad URL '%s': only http and https are supported", url);
        goto out;
    }
    if (!path)
        goto out;
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

int eng_url_same_origin(const char *a, const char *b)
{
    char *s1, *h1, *p1, *s2, *h2, *p2;
    int ok1 = origin(a, &s1, &h1, &p1), ok2 = origin(b, &s2, &h2, &p2);
    int same = ok1 && ok2 && strcmp(s1, s2) == 0 &&
               strcasecmp(h1, h2) == 0 && strcmp(p1, p2) == 0;
    curl_free(s1), curl_free(h1), curl_free(p1);
    curl_free(s2), curl_free(h2), curl_free(p2);
    return same;
}

int eng_url_scheme_ok(const char *url)
{
    char *s, *h, *p;
    int ok = origin(url, &s, &h, &p) &&
             (strcmp(s, "http") == 0 || strcmp(s, "https") == 0);
    curl_free(s), curl_free(h), curl_free(p);
    return ok;
}

char *eng_url_redact(const char *url)
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

char *eng_url_host(const char *url)
{
    char *h = NULL, *port = NULL, *res = NULL;
    CURLU *u = curl_url();
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK) {
        (void)curl_url_get(u, CURLUPART_PORT, &port, 0);
        size_t n = strlen(h) + (port ? strlen(port) + 1 : 0) + 1;
        if ((res = malloc(n))) {
            (void)snprintf(res, n, "%s%s%s", h, port ? ":" : "",
                           port ? port : "");
            for (char *c = res; *c; c++)
                if (*c >= 'A' && *c <= 'Z')
                    *c = (char)(*c + 32);
        }
    }
    curl_free(h);
    curl_free(port);
    curl_url_cleanup(u);
    return res;
}
