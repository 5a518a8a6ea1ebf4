/* SPDX-License-Identifier: MIT */
/*
 * sums.c - reading checksum lists (sums.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sums.h"
#include "util.h"

#define SUMS_MAX (64L * 1024 * 1024)

sg_code sums_load(const char *path, char **text, sg_err *e)
{
    *text = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return err_set(e, SG_EUSAGE, "cannot read checksum list %s: %s",
                       path, strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    sg_code rc = SG_OK;
    while (buf) {
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
        if (len == cap) {
            char *b = cap >= (size_t)SUMS_MAX ? NULL
                                              : realloc(buf, 2 * cap + 1);
            if (!b) {
                rc = err_set(e, SG_EUSAGE, "checksum list %s is too large",
                             path);
                break;
            }
            buf = b;
            cap *= 2;
        }
    }
    if (!buf)
        rc = err_set(e, SG_ENOMEM, "out of memory");
    else if (!rc && ferror(f))
        rc = err_set(e, SG_EUSAGE, "cannot read checksum list %s", path);
    fclose(f);
    if (rc) {
        free(buf);
        return rc;
    }
    buf[len] = '\0';
    *text = buf;
    return SG_OK;
}

/* The algorithm of a GNU line's digest, by its length; NULL if none. */
static const char *algo_of_len(size_t n)
{
    return n == 32 ? "md5" : n == 40 ? "sha1" : n == 64 ? "sha256"
           : n == 128 ? "sha512" : NULL;
}

static int all_hex(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (hexval(p[i]) < 0)
            return 0;
    return n > 0;
}

/* Does an entry's name (n bytes at p, escaped when esc) name out? */
static int names(const char *p, size_t n, int esc, const char *out)
{
    char buf[4096];
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < sizeof buf; i++) {
        if (esc && p[i] == '\\' && i + 1 < n) {
            i++;
            buf[k++] = p[i] == 'n' ? '\n' : p[i];
        } else {
            buf[k++] = p[i];
        }
    }
    buf[k] = '\0';
    const char *e = buf;
    while (strncmp(e, "./", 2) == 0)
        e += 2;
    const char *base = strrchr(out, '/');
    base = base ? base + 1 : out;
    return strcmp(e, out) == 0 || strcmp(e, base) == 0;
}

int sums_find(const char *text, const char *name, char *spec, size_t cap)
{
    for (const char *l = text; *l;) {
        size_t n = strcspn(l, "\n");
        const char *end = l + n;
        if (n > 0 && end[-1] == '\r')
            end--;
        const char *next = *(l + n) ? l + n + 1 : l + n;
        int esc = *l == '\\';
        const char *p = l + esc;
        /* GNU: HEX, two spaces or " *", NAME. */
        size_t h = strspn(p, "0123456789abcdefABCDEF");
        const char *algo = algo_of_len(h);
        if (algo && p + h + 2 <= end && p[h] == ' ' &&
            (p[h + 1] == ' ' || p[h + 1] == '*') &&
            names(p + h + 2, (size_t)(end - (p + h + 2)), esc, name)) {
            (void)snprintf(spec, cap, "%s=%.*s", algo, (int)h, p);
            return 1;
        }
        /* BSD: ALGO (NAME) = HEX */
        const char *open = memchr(p, '(', (size_t)(end - p));
        const char *eq = NULL;
        for (const char *q = end; q > p; q--)
            if (q[-1] == '=' && q - 1 > p && q[-2] == ' ') {
                eq = q - 1;
                break;
            }
        if (open && open > p && open[-1] == ' ' && eq && eq - 2 > open &&
            eq[-2] == ')' && eq + 2 <= end && eq[1] == ' ') {
            const char *hex = eq + 2;
            size_t hl = (size_t)(end - hex);
            char a[8];
            size_t al = (size_t)(open - 1 - p);
            if (al > 0 && al < sizeof a && all_hex(hex, hl) &&
                names(open + 1, (size_t)(eq - 2 - (open + 1)), esc, name)) {
                for (size_t i = 0; i < al; i++)
                    a[i] = (char)(p[i] | 0x20);
                a[al] = '\0';
                (void)snprintf(spec, cap, "%s=%.*s", a, (int)hl, hex);
                return 1;
            }
        }
        l = next;
    }
    return 0;
}
