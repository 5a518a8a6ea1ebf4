/* SPDX-License-Identifier: MIT */
/*
 * name.c - safe basenames from URL paths and Content-Disposition.  A URL
 * path's component is cut from the encoded path first and decoded second,
 * so an encoded slash can never climb out of the output directory; a
 * server's proposal is decoded first and then stripped of every directory.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "name.h"
#include "util.h"

char *name_unescape(const char *s, size_t len, size_t *out_len)
{
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < len && (hi = hexval(s[i + 1])) >= 0 &&
            (lo = hexval(s[i + 2])) >= 0) {
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

/* Make name[0..len) a safe file name in place; 0, or -1 when nothing
 * usable is left. */
static int sanitize(char *name, size_t len)
{
    /* Replace what a file name must not hold; NUL ends the name. */
    size_t n = 0;
    for (; n < len && name[n] != '\0'; n++) {
        unsigned char c = (unsigned char)name[n];
        if (c == '/' || c == '\\' || c < 0x20 || c == 0x7f)
            name[n] = '_';
    }
    name[n] = '\0';
    if (n > NAME_MAX_LEN) {
        /* Keep the end: it holds the extension people look for.  Do not
         * start inside a UTF-8 sequence. */
        size_t cut = n - NAME_MAX_LEN;
        while (cut < n && ((unsigned char)name[cut] & 0xc0) == 0x80)
            cut++;
        memmove(name, name + cut, n - cut + 1);
        n -= cut;
    }
    if (n == 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return -1;
    return 0;
}

char *name_from_path(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *comp = slash ? slash + 1 : path;
    size_t len;
    char *name = name_unescape(comp, strlen(comp), &len);
    if (!name)
        return NULL;
    if (sanitize(name, len) < 0) {
        free(name);
        return strdup("index.html");
    }
    return name;
}

/* Find parameter key (case-insensitive) in a Content-Disposition value;
 * sets *v and *vl to its raw value (quotes included).  Returns 1 if found. */
static int param(const char *s, size_t len, const char *key, const char **v,
                 size_t *vl)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i < len;) {
        /* Skip to the next parameter start: after ';' or at the start. */
        while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == ';'))
            i++;
        size_t start = i;
        int quoted = 0;
        while (i < len && (quoted || s[i] != ';')) {
            if (s[i] == '"' && (i == start || s[i - 1] != '\\'))
                quoted = !quoted;
            i++;
        }
        const char *p = s + start;
        size_t pl = i - start;
        if (pl > kl && strncasecmp(p, key, kl) == 0) {
            size_t j = kl;
            while (j < pl && (p[j] == ' ' || p[j] == '\t'))
                j++;
            if (j < pl && p[j] == '=') {
                j++;
                while (j < pl && (p[j] == ' ' || p[j] == '\t'))
                    j++;
                size_t e = pl;
                while (e > j && (p[e - 1] == ' ' || p[e - 1] == '\t'))
                    e--;
                *v = p + j;
                *vl = e - j;
                return 1;
            }
        }
    }
    return 0;
}

/* Strip directories: keep what follows the last '/' or '\\'. */
static char *basename_of(char *name, size_t *len)
{
    size_t cut = 0;
    for (size_t i = 0; i < *len; i++)
        if (name[i] == '/' || name[i] == '\\')
            cut = i + 1;
    memmove(name, name + cut, *len - cut + 1);
    *len -= cut;
    return name;
}

char *name_from_disposition(const char *value, size_t len)
{
    const char *v;
    size_t vl;
    char *name = NULL;
    size_t n = 0;
    if (param(value, len, "filename*", &v, &vl)) {
        /* charset'language'percent-encoded; only UTF-8 (and ASCII) */
        const char *q1 = memchr(v, '\'', vl);
        const char *q2 = q1 ? memchr(q1 + 1, '\'', vl - (size_t)(q1 + 1 - v))
                            : NULL;
        if (q2 && ((q1 - v == 5 && strncasecmp(v, "UTF-8", 5) == 0) ||
                   (q1 - v == 8 && strncasecmp(v, "US-ASCII", 8) == 0)))
            name = name_unescape(q2 + 1, vl - (size_t)(q2 + 1 - v), &n);
    }
    if (!name && param(value, len, "filename", &v, &vl)) {
        name = malloc(vl + 1);
        if (!name)
            return NULL;
        if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
            for (size_t i = 1; i + 1 < vl; i++) { /* quoted-string */
                if (v[i] == '\\' && i + 2 < vl)
                    i++;
                name[n++] = v[i];
            }
        } else {
            memcpy(name, v, vl);
            n = vl;
        }
        name[n] = '\0';
    }
    if (!name)
        return NULL;
    basename_of(name, &n);
    if (sanitize(name, n) < 0) {
        free(name);
        return NULL;
    }
    return name;
}
