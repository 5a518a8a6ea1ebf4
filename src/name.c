/* SPDX-License-Identifier: MIT */
/*
 * name.c - safe basenames from URL paths.  The component is cut from the
 * encoded path first and decoded second, so an encoded slash can never
 * climb out of the output directory.
 */
#include <stdlib.h>
#include <string.h>

#include "name.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

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

char *name_from_path(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *comp = slash ? slash + 1 : path;
    size_t len;
    char *name = name_unescape(comp, strlen(comp), &len);
    if (!name)
        return NULL;
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
    if (n == 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        free(name);
        return strdup("index.html");
    }
    return name;
}
