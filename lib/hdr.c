/* SPDX-License-Identifier: MIT */
/*
 * hdr.c - strict parsing of Content-Range, Content-Length, ETag and the
 * other fields that decide whether a response body may be written.
 */
#include <stdint.h>
#include <string.h>

#include "hdr.h"

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static void trim(const char **s, size_t *len)
{
    while (*len && is_ows(**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len && (is_ows((*s)[*len - 1]) || (*s)[*len - 1] == '\r' ||
                    (*s)[*len - 1] == '\n'))
        (*len)--;
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

int hdr_name_is(const char *name, size_t len, const char *want)
{
    size_t n = strlen(want);
    if (n != len)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower(name[i]) != lower(want[i]))
            return 0;
    return 1;
}

/* Digits only, at least one, no overflow of int64_t. */
static int digits(const char *s, size_t len, int64_t *out)
{
    if (len == 0)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        int d = s[i] - '0';
        if (v > (INT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int hdr_parse_int(const char *s, size_t len, int64_t *out)
{
    trim(&s, &len);
    return digits(s, len, out);
}

int hdr_parse_length(const char *s, size_t len, int64_t *out)
{
    int64_t first = -1;
    trim(&s, &len);
    if (len == 0)
        return -1;
    while (len) {
        const char *comma = memchr(s, ',', len);
        size_t n = comma ? (size_t)(comma - s) : len;
        int64_t v;
        if (hdr_parse_int(s, n, &v) < 0)
            return -1;
        if (first >= 0 && v != first)
            return -1;
        first = v;
        if (!comma)
            break;
        s = comma + 1;
        len -= n + 1;
        if (len == 0)
            return -1; /* trailing comma */
    }
    *out = first;
    return 0;
}

int hdr_parse_content_range(const char *s, size_t len, hdr_range *out)
{
    trim(&s, &len);
    /* The unit is case-insensitive; exactly one space follows it. */
    if (len < 6 || !hdr_name_is(s, 5, "bytes") || s[5] != ' ')
        return -1;
    s += 6;
    len -= 6;
    const char *slash = memchr(s, '/', len);
    if (!slash)
        return -1;
    size_t rlen = (size_t)(slash - s);
    const char *t = slash + 1;
    size_t tlen = len - rlen - 1;
    hdr_range r = {-1, -1, -1};

    if (tlen == 1 && t[0] == '*')
        r.total = -1;
    else if (digits(t, tlen, &r.total) < 0)
        return -1;

    if (rlen == 1 && s[0] == '*') {
        if (r.total < 0) /* "* / *" says nothing */
            return -1;
        *out = r;
        return 0;
    }
    const char *dash = memchr(s, '-', rlen);
    if (!dash)
        return -1;
    if (digits(s, (size_t)(dash - s), &r.first) < 0 ||
        digits(dash + 1, rlen - (size_t)(dash - s) - 1, &r.last) < 0)
        return -1;
    if (r.first > r.last)
        return -1;
    if (r.total >= 0 && r.last >= r.total)
        return -1;
    *out = r;
    return 0;
}

/* RFC 9110 etagc: %x21 / %x23-7E / obs-text. */
static int etagc(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x7e) || c >= 0x80;
}

int hdr_parse_etag(const char *s, size_t len, const char **tag,
                   size_t *tag_len)
{
    trim(&s, &len);
    int strong = 1;
    const char *p = s;
    size_t n = len;
    if (n >= 2 && p[0] == 'W' && p[1] == '/') {
        strong = 0;
        p += 2;
        n -= 2;
    }
    if (n < 2 || p[0] != '"' || p[n - 1] != '"')
        return -1;
    for (size_t i = 1; i + 1 < n; i++)
        if (!etagc((unsigned char)p[i]))
            return -1;
    *tag = s;
    *tag_len = len;
    return strong;
}

int hdr_accepts_bytes(const char *s, size_t len)
{
    while (len) {
        const char *comma = memchr(s, ',', len);
        size_t n = comma ? (size_t)(comma - s) : len;
        const char *tok = s;
        size_t tn = n;
        trim(&tok, &tn);
        if (hdr_name_is(tok, tn, "bytes"))
            return 1;
        if (!comma)
            break;
        s = comma + 1;
        len -= n + 1;
    }
    return 0;
}

int hdr_is_encoded(const char *s, size_t len)
{
    trim(&s, &len);
    return len != 0 && !hdr_name_is(s, len, "identity");
}

int hdr_split(const char *line, size_t len, const char **name,
              size_t *name_len, const char **value, size_t *value_len)
{
    const char *colon = memchr(line, ':', len);
    if (!colon || colon == line)
        return -1;
    /* A field name is a token: no white space before the colon. */
    for (const char *c = line; c < colon; c++)
        if (*c == ' ' || *c == '\t' || *c == '\r' || *c == '\n')
            return -1;
    *name = line;
    *name_len = (size_t)(colon - line);
    const char *v = colon + 1;
    size_t vn = len - *name_len - 1;
    trim(&v, &vn);
    *value = v;
    *value_len = vn;
    return 0;
}
