/* SPDX-License-Identifier: MIT */
/*
 * sfv.c - parsing a Structured Field dictionary (RFC 8941 section 4.2),
 * one small function per production of its grammar.
 */
#include <string.h>

#include "sfv.h"

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

typedef struct cur {
    const char *p, *end;
} cur;

static int is_lc(char c)
{
    return c >= 'a' && c <= 'z';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
    return is_lc(c) || (c >= 'A' && c <= 'Z');
}

/* The characters of base64, padding included. */
static int is_b64(char c)
{
    return is_alpha(c) || is_digit(c) || c == '+' || c == '/' || c == '=';
}

static int is_tchar(char c)
{
    return is_alpha(c) || is_digit(c) ||
           (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int sf_key(cur *c)
{
    if (c->p == c->end || !(is_lc(*c->p) || *c->p == '*'))
        return -1;
    while (c->p < c->end && (is_lc(*c->p) || is_digit(*c->p) ||
                             (*c->p && strchr("_-.*", *c->p))))
        c->p++;
    return 0;
}

/* An integer or decimal, or the integer of a date after its '@'. */
static int sf_number(cur *c, int decimal_ok)
{
    if (c->p < c->end && *c->p == '-')
        c->p++;
    const char *d = c->p;
    while (c->p < c->end && is_digit(*c->p))
        c->p++;
    size_t ni = (size_t)(c->p - d);
    if (ni == 0 || ni > 15)
        return -1;
    if (decimal_ok && c->p < c->end && *c->p == '.') {
        const char *f = ++c->p;
        while (c->p < c->end && is_digit(*c->p))
            c->p++;
        if (ni > 12 || c->p == f || c->p - f > 3)
            return -1;
    }
    return 0;
}

/* A bare item; *bytes and *bl are the base64 of a byte sequence, *bytes
 * NULL for any other type. */
static int sf_bare(cur *c, const char **bytes, size_t *bl)
{
    *bytes = NULL;
    if (c->p == c->end)
        return -1;
    char ch = *c->p;
    if (ch == '-' || is_digit(ch))
        return sf_number(c, 1);
    if (ch == '@') {
        c->p++;
        return sf_number(c, 0);
    }
    if (ch == '?') {
        if (c->end - c->p < 2 || (c->p[1] != '0' && c->p[1] != '1'))
            return -1;
        c->p += 2;
        return 0;
    }
    if (ch == '*' || is_alpha(ch)) {
        for (c->p++;
             c->p < c->end && (is_tchar(*c->p) || *c->p == ':' || *c->p == '/');
             c->p++)
            ;
        return 0;
    }
    if (ch == '"') {
        for (c->p++; c->p < c->end; c->p++) {
            unsigned char u = (unsigned char)*c->p;
            if (u == '"') {
                c->p++;
                return 0;
            }
            if (u == '\\') {
                if (++c->p == c->end || (*c->p != '"' && *c->p != '\\'))
                    return -1;
            } else if (u < 0x20 || u > 0x7e) {
                return -1;
            }
        }
        return -1;
    }
    if (ch == ':') {
        const char *b = ++c->p;
        for (; c->p < c->end && *c->p != ':'; c->p++)
            if (!is_b64(*c->p))
                return -1;
        if (c->p == c->end)
            return -1;
        *bytes = b;
        *bl = (size_t)(c->p++ - b);
        return 0;
    }
    return -1;
}

static int sf_params(cur *c)
{
    while (c->p < c->end && *c->p == ';') {
        c->p++;
        while (c->p < c->end && *c->p == ' ')
            c->p++;
        const char *b;
        size_t bl;
        if (sf_key(c) < 0)
            return -1;
        if (c->p < c->end && *c->p == '=') {
            c->p++;
            if (sf_bare(c, &b, &bl) < 0)
                return -1;
        }
    }
    return 0;
}

static int sf_inner_list(cur *c)
{
    c->p++; /* '(' */
    for (;;) {
        while (c->p < c->end && *c->p == ' ')
            c->p++;
        if (c->p == c->end)
            return -1;
        if (*c->p == ')') {
            c->p++;
            return sf_params(c);
        }
        const char *b;
        size_t bl;
        if (sf_bare(c, &b, &bl) < 0 || sf_params(c) < 0)
            return -1;
        if (c->p == c->end || (*c->p != ' ' && *c->p != ')'))
            return -1;
    }
}

int sfv_dict(const char *v, size_t vl, sfv_member *m, int cap, unsigned *more)
{
    cur c = {v, v + vl};
    int n = 0;
    *more = 0;
    if (c.p == c.end)
        return 0;
    for (;;) {
        sfv_member x = {c.p, 0, NULL, 0};
        if (sf_key(&c) < 0)
            return -1;
        x.kl = (size_t)(c.p - x.key);
        if (c.p < c.end && *c.p == '=') {
            c.p++;
            if (c.p < c.end && *c.p == '(') {
                if (sf_inner_list(&c) < 0)
                    return -1;
            } else if (sf_bare(&c, &x.bytes, &x.bl) < 0 || sf_params(&c) < 0) {
                return -1;
            }
        } else if (sf_params(&c) < 0) { /* a key alone is true */
            return -1;
        }
        if (n < cap)
            m[n++] = x;
        else
            (*more)++;
        while (c.p < c.end && is_ows(*c.p))
            c.p++;
        if (c.p == c.end)
            return n;
        if (*c.p++ != ',')
            return -1;
        while (c.p < c.end && is_ows(*c.p))
            c.p++;
        if (c.p == c.end)
            return -1; /* a trailing comma */
    }
}
