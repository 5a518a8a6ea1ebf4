/* SPDX-License-Identifier: MIT */
/*
 * sums.c - reading checksum lists (sums.h): the text, and an index of
 * (hash of the entry's name, offset of its line) sorted by hash.  A
 * lookup finds the hashes of the name and of its last component, and
 * reads those lines again to compare the names: equal hashes are only
 * candidates.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sums.h"
#include "util.h"

#define SUMS_MAX (64L * 1024 * 1024)

struct key {
    uint64_t hash; /* of the entry's name, unescaped, without "./" */
    size_t off;    /* its line's */
};

struct sums {
    char *text;    /* NUL-terminated */
    size_t len;
    struct key *ix;
    size_t n;
};

static sg_code index_text(sums *s, sg_err *e);

sg_code sums_load(const char *path, sums **out, sg_err *e)
{
    *out = NULL;
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
    sums *s = calloc(1, sizeof *s);
    if (!s) {
        free(buf);
        return err_set(e, SG_ENOMEM, "out of memory");
    }
    s->text = buf;
    s->len = len;
    if ((rc = index_text(s, e))) {
        sums_free(s);
        return rc;
    }
    *out = s;
    return SG_OK;
}

sg_code sums_parse(const char *text, size_t len, sums **out, sg_err *e)
{
    sums *s = calloc(1, sizeof *s);
    *out = NULL;
    if (!s || !(s->text = malloc(len + 1))) {
        free(s);
        return err_set(e, SG_ENOMEM, "out of memory");
    }
    memcpy(s->text, text, len);
    s->text[len] = '\0';
    s->len = len;
    sg_code rc = index_text(s, e);
    if (rc) {
        sums_free(s);
        return rc;
    }
    *out = s;
    return SG_OK;
}

void sums_free(sums *s)
{
    if (!s)
        return;
    free(s->text);
    free(s->ix);
    free(s);
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

/* One line's entry, if it is one. */
struct ent {
    const char *name; /* as written: escaped when esc */
    size_t nlen;
    int esc;
    char algo[8];
    const char *hex;
    size_t hl;
};

/* The line at l (to its '\n' or the end) as an entry: 1, or 0 when it
 * is none.  *next is the line after it.  The two forms exclude each
 * other: a GNU line's digest makes its text before " (" too long to be a
 * BSD algorithm. */
static int line_entry(const char *l, const char **next, struct ent *en)
{
    size_t n = strcspn(l, "\n");
    const char *end = l + n;
    *next = *end ? end + 1 : end;
    if (n > 0 && end[-1] == '\r')
        end--;
    en->esc = *l == '\\';
    const char *p = l + en->esc;
    /* GNU: HEX, two spaces or " *", NAME. */
    size_t h = strspn(p, "0123456789abcdefABCDEF");
    const char *algo = algo_of_len(h);
    if (algo && p + h + 2 <= end && p[h] == ' ' &&
        (p[h + 1] == ' ' || p[h + 1] == '*')) {
        strcpy(en->algo, algo);
        en->hex = p, en->hl = h;
        en->name = p + h + 2, en->nlen = (size_t)(end - (p + h + 2));
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
        size_t hl = (size_t)(end - hex), al = (size_t)(open - 1 - p);
        if (al > 0 && al < sizeof en->algo && all_hex(hex, hl)) {
            for (size_t i = 0; i < al; i++)
                en->algo[i] = (char)(p[i] | 0x20);
            en->algo[al] = '\0';
            en->hex = hex, en->hl = hl;
            en->name = open + 1;
            en->nlen = (size_t)(eq - 2 - (open + 1));
            return 1;
        }
    }
    return 0;
}

/* An entry's name unescaped, without leading "./", in buf (cap bytes;
 * longer names are cut, as no output's name is that long): its start. */
static const char *plain_name(const struct ent *en, char *buf, size_t cap)
{
    size_t k = 0;
    const char *p = en->name;
    for (size_t i = 0; i < en->nlen && k + 1 < cap; i++) {
        if (en->esc && p[i] == '\\' && i + 1 < en->nlen) {
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
    return e;
}

static int by_key(const void *x, const void *y)
{
    const struct key *a = x, *b = y;
    if (a->hash != b->hash)
        return a->hash < b->hash ? -1 : 1;
    return a->off < b->off ? -1 : a->off > b->off;
}

static sg_code index_text(sums *s, sg_err *e)
{
    size_t cap = 0;
    char buf[4096];
    for (const char *l = s->text, *next; *l; l = next) {
        struct ent en;
        if (!line_entry(l, &next, &en))
            continue;
        if (s->n == cap) {
            size_t c = cap ? 2 * cap : 64;
            struct key *ix = realloc(s->ix, c * sizeof *ix);
            if (!ix)
                return err_set(e, SG_ENOMEM, "out of memory");
            s->ix = ix;
            cap = c;
        }
        const char *name = plain_name(&en, buf, sizeof buf);
        s->ix[s->n++] = (struct key){hash_bytes(name, strlen(name)),
                                     (size_t)(l - s->text)};
    }
    if (s->n)
        qsort(s->ix, s->n, sizeof *s->ix, by_key);
    return SG_OK;
}

/* The first line (lowest offset) whose entry's name is want, among the
 * index's keys with want's hash: its offset, or SIZE_MAX. */
static size_t first_named(const sums *s, const char *want)
{
    uint64_t h = hash_bytes(want, strlen(want));
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->ix[mid].hash < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    char buf[4096];
    for (; lo < s->n && s->ix[lo].hash == h; lo++) {
        const char *next;
        struct ent en;
        if (line_entry(s->text + s->ix[lo].off, &next, &en) &&
            strcmp(plain_name(&en, buf, sizeof buf), want) == 0)
            return s->ix[lo].off;
    }
    return SIZE_MAX;
}

int sums_find(const sums *s, const char *name, char *spec, size_t cap)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    size_t at = first_named(s, name);
    if (base != name) {
        size_t b = first_named(s, base);
        if (b < at)
            at = b;
    }
    if (at == SIZE_MAX)
        return 0;
    const char *next;
    struct ent en;
    (void)line_entry(s->text + at, &next, &en);
    (void)snprintf(spec, cap, "%s=%.*s", en.algo, (int)en.hl, en.hex);
    return 1;
}
