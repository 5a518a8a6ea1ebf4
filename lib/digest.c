/* SPDX-License-Identifier: MIT */
/*
 * digest.c - reading the integrity fields of a response.
 *
 * Each field adds its declarations as they are; nothing is decided while
 * fields arrive.  The questions (which is the strongest usable, what
 * cannot be used and why) are answered from the whole set, so a field
 * that changes the meaning of another (x-amz-checksum-type,
 * Content-Encoding) may come before or after it.
 *
 * Encodings, from the registries and the stores' documentation:
 *   Repr-Digest   a dictionary (RFC 8941) whose members are byte sequences
 *                 ":base64:"; keys sha-256, sha-512 (active), md5, sha
 *                 (SHA-1), crc32c (deprecated; read as the CRC's 4 bytes
 *                 big-endian), unixsum, unixcksum, adler (deprecated, not
 *                 computed here); id-sha-256 and id-sha-512 (from the RFC
 *                 3230 registry) are sha-256 and sha-512 of the content
 *                 before any Content-Encoding.
 *   Digest        "ALGO=value" list, ALGO case-insensitive: SHA-256,
 *                 SHA-512 (RFC 5843), MD5, SHA, ID-SHA-256, ID-SHA-512 in
 *                 base64; CRC32c in 1 to 8 hex digits (IANA); UNIXsum,
 *                 UNIXcksum (decimal), ADLER32 (hex) not computed here.
 *   Content-MD5   base64 of the 16 bytes.
 *   x-amz-checksum-ALGO  base64 of the big-endian bytes; "base64-N" is a
 *                 composite of N parts.  ALGO crc32, crc32c, crc64nvme,
 *                 sha1, sha256, and lately md5 and sha512 (xxhash* and
 *                 others are not computed here).
 *   x-goog-hash   "crc32c=base64, md5=base64", possibly in two fields.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "hdr.h"
#include "sfv.h"
#include "util.h"

/* The kinds of field, in the order preferred among equal digests. */
enum { F_REPR, F_AMZ, F_GOOG, F_DIGEST, F_MD5 };

/* Why a declaration is not usable, as known from its own field. */
enum { W_OK, W_MALFORMED, W_FOREIGN, W_COMPOSITE };

/* How a list field encodes a value. */
enum { E_B64, E_HEX };

typedef struct alg {
    const char *key;  /* as the field names it (compared ignoring case) */
    const char *algo; /* checksum.h's name */
    unsigned char enc, idsha;
} alg;

static const alg repr_algs[] = {
    {"sha-256", "sha256", E_B64, 0},    {"sha-512", "sha512", E_B64, 0},
    {"md5", "md5", E_B64, 0},           {"sha", "sha1", E_B64, 0},
    {"crc32c", "crc32c", E_B64, 0},     {"id-sha-256", "sha256", E_B64, 1},
    {"id-sha-512", "sha512", E_B64, 1}, {NULL, NULL, 0, 0}};

static const alg digest_algs[] = {
    {"sha-256", "sha256", E_B64, 0},    {"sha-512", "sha512", E_B64, 0},
    {"md5", "md5", E_B64, 0},           {"sha", "sha1", E_B64, 0},
    {"crc32c", "crc32c", E_HEX, 0},     {"id-sha-256", "sha256", E_B64, 1},
    {"id-sha-512", "sha512", E_B64, 1}, {NULL, NULL, 0, 0}};

static const alg goog_algs[] = {{"crc32c", "crc32c", E_B64, 0},
                                {"md5", "md5", E_B64, 0},
                                {NULL, NULL, 0, 0}};

static const alg amz_algs[] = {{"crc32", "crc32", E_B64, 0},
                               {"crc32c", "crc32c", E_B64, 0},
                               {"crc64nvme", "crc64nvme", E_B64, 0},
                               {"sha1", "sha1", E_B64, 0},
                               {"sha256", "sha256", E_B64, 0},
                               {"sha512", "sha512", E_B64, 0},
                               {"md5", "md5", E_B64, 0},
                               {NULL, NULL, 0, 0}};

static const alg md5_alg = {"content-md5", "md5", E_B64, 0};

static const alg *find(const alg *t, const char *k, size_t n)
{
    for (; t->key; t++)
        if (hdr_name_is(k, n, t->key))
            return t;
    return NULL;
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static void trim(const char **s, size_t *n)
{
    while (*n && (is_ows(**s) || **s == '\r' || **s == '\n')) {
        (*s)++;
        (*n)--;
    }
    while (*n && (is_ows((*s)[*n - 1]) || (*s)[*n - 1] == '\r' ||
                  (*s)[*n - 1] == '\n'))
        (*n)--;
}

/* ---- base64 -------------------------------------------------------- */

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

int digest_base64(const char *s, size_t n, unsigned char *out, size_t cap,
                  int sf)
{
    size_t pad = 0;
    while (pad < n && s[n - 1 - pad] == '=')
        pad++;
    size_t m = n - pad; /* the characters that carry bits */
    if (pad > 2 || m % 4 == 1)
        return -1;
    if (sf ? pad && n % 4 : n % 4)
        return -1;
    size_t len = m / 4 * 3 + (m % 4 ? m % 4 - 1 : 0);
    if (len > cap)
        return -1;
    uint32_t acc = 0;
    size_t o = 0;
    for (size_t i = 0; i < m; i++) {
        int v = b64val(s[i]);
        if (v < 0)
            return -1;
        acc = acc << 6 | (uint32_t)v;
        if (i % 4 == 3) {
            out[o++] = (unsigned char)(acc >> 16);
            out[o++] = (unsigned char)(acc >> 8);
            out[o++] = (unsigned char)acc;
            acc = 0;
        }
    }
    /* A last group of 2 or 3 characters: 1 or 2 bytes and 4 or 2 bits
     * left over, which a canonical encoder leaves zero. */
    if (m % 4 == 2) {
        if (!sf && (acc & 0xF))
            return -1;
        out[o++] = (unsigned char)(acc >> 4);
    } else if (m % 4 == 3) {
        if (!sf && (acc & 0x3))
            return -1;
        out[o++] = (unsigned char)(acc >> 10);
        out[o++] = (unsigned char)(acc >> 2);
    }
    return (int)o;
}

/* ---- the set ------------------------------------------------------- */

void digest_init(digest_set *s)
{
    memset(s, 0, sizeof *s);
}

/* Copy at most cap - 1 bytes of s, printable ASCII only (the notice goes
 * to a terminal), lowercased when asked. */
static void copy_name(char *dst, size_t cap, const char *s, size_t n, int lower)
{
    size_t i = 0;
    for (; i < n && i + 1 < cap; i++) {
        char c = s[i];
        if (c < 0x21 || c > 0x7e)
            c = '?';
        else if (lower && c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        dst[i] = c;
    }
    dst[i] = '\0';
}

/* Remember one declaration: a is NULL when segget does not compute its
 * algorithm; b holds bl bytes (bl < 0: undecodable).  A usable one whose
 * length is not its algorithm's is malformed.  An exact repeat (the same
 * field sent twice) takes no room. */
static void add(digest_set *s, int from, const char *source, const char *name,
                size_t nl, const alg *a, const unsigned char *b, int bl,
                int why, unsigned parts)
{
    digest_item it;
    memset(&it, 0, sizeof it);
    it.from = (unsigned char)from;
    copy_name(it.d.source, sizeof it.d.source, source, strlen(source), 0);
    copy_name(it.name, sizeof it.name, name, nl, 0);
    it.why = (unsigned char)(a || why != W_OK ? why : W_FOREIGN);
    it.parts = parts;
    if (a) {
        strcpy(it.d.sum.algo, a->algo);
        it.idsha = a->idsha;
        if (why == W_OK) {
            if (bl < 0 || (unsigned)bl != checksum_len(a->algo)) {
                it.why = W_MALFORMED;
            } else {
                memcpy(it.d.sum.want, b, (size_t)bl);
                it.d.sum.len = (unsigned)bl;
            }
        }
    }
    for (unsigned i = 0; i < s->n; i++)
        if (memcmp(&s->item[i], &it, sizeof it) == 0)
            return;
    if (s->n == DIGEST_MAX) {
        s->dropped++;
        return;
    }
    memcpy(&s->item[s->n++], &it, sizeof it);
}

/* Why a value decoded into bl bytes (-1: not decodable) is not usable. */
static int verdict(const alg *a, int bl)
{
    if (!a)
        return W_FOREIGN;
    return bl < 0 ? W_MALFORMED : W_OK;
}

/* 1 to 8 hex digits, the CRC32c of RFC 3230's registry, as 4 bytes
 * big-endian.  Returns 4 or -1. */
static int hex32(const char *v, size_t n, unsigned char *out)
{
    if (n == 0 || n > 8)
        return -1;
    uint32_t x = 0;
    for (size_t i = 0; i < n; i++) {
        int d = hexval(v[i]);
        if (d < 0)
            return -1;
        x = x << 4 | (uint32_t)d;
    }
    for (int i = 0; i < 4; i++)
        out[i] = (unsigned char)(x >> (24 - 8 * i));
    return 4;
}

/* A comma-separated "name=value" list: Digest and x-goog-hash. */
static void list_field(digest_set *s, int from, const char *source,
                       const alg *t, const char *v, size_t vl)
{
    const char *end = v + vl;
    while (v < end) {
        const char *comma = memchr(v, ',', (size_t)(end - v));
        const char *e = comma ? comma : end;
        const char *el = v;
        size_t n = (size_t)(e - v);
        v = comma ? comma + 1 : end;
        trim(&el, &n);
        if (n == 0)
            continue; /* an empty list element, which HTTP allows */
        const char *eq = memchr(el, '=', n);
        if (!eq || eq == el) {
            add(s, from, source, eq ? "" : el, eq ? 0 : n, NULL, NULL, 0,
                W_MALFORMED, 0);
            continue;
        }
        const char *k = el, *val = eq + 1;
        size_t kl = (size_t)(eq - el), l = n - kl - 1;
        trim(&k, &kl);
        trim(&val, &l);
        const alg *a = find(t, k, kl);
        unsigned char b[64];
        int bl = -1;
        if (a && a->enc == E_HEX)
            bl = hex32(val, l, b);
        else if (a)
            bl = digest_base64(val, l, b, sizeof b, 0);
        add(s, from, source, k, kl, a, b, bl, verdict(a, bl), 0);
    }
}

/* x-amz-checksum-ALGO: base64, or "base64-N" for a composite. */
static void amz_field(digest_set *s, const char *an, size_t anl, const char *v,
                      size_t vl)
{
    char source[40] = "x-amz-checksum-";
    copy_name(source + 15, sizeof source - 15, an, anl, 1);
    const alg *a = find(amz_algs, an, anl);
    const char *dash = vl ? memchr(v, '-', vl) : NULL;
    if (dash) {
        /* The part count: 1 to 5 digits (S3 allows 10000 parts). */
        const char *d = dash + 1;
        size_t dl = vl - (size_t)(d - v);
        unsigned parts = 0;
        int ok = dl >= 1 && dl <= 5;
        for (size_t i = 0; ok && i < dl; i++)
            if ((ok = d[i] >= '0' && d[i] <= '9'))
                parts = parts * 10 + (unsigned)(d[i] - '0');
        if (ok && parts > 0)
            add(s, F_AMZ, source, "", 0, a, NULL, 0, W_COMPOSITE, parts);
        else
            add(s, F_AMZ, source, "", 0, a, NULL, 0, W_MALFORMED, 0);
        return;
    }
    unsigned char b[64];
    int bl = digest_base64(v, vl, b, sizeof b, 0);
    add(s, F_AMZ, source, "", 0, a, b, bl, verdict(a, bl), 0);
}

static void repr_field(digest_set *s, const char *v, size_t vl)
{
    sfv_member m[DIGEST_MAX];
    unsigned more;
    int n = sfv_dict(v, vl, m, DIGEST_MAX, &more);
    if (n < 0) {
        add(s, F_REPR, "Repr-Digest", "", 0, NULL, NULL, 0, W_MALFORMED, 0);
        return;
    }
    s->dropped += more;
    for (int i = 0; i < n; i++) {
        const alg *a = find(repr_algs, m[i].key, m[i].kl);
        unsigned char b[64];
        int bl = -1;
        if (a && m[i].bytes)
            bl = digest_base64(m[i].bytes, m[i].bl, b, sizeof b, 1);
        add(s, F_REPR, "Repr-Digest", m[i].key, m[i].kl, a, b, bl,
            verdict(a, bl), 0);
    }
}

/* ---- fields -------------------------------------------------------- */

int digest_field(digest_set *s, const char *name, size_t nlen,
                 const char *value, size_t vlen, int partial)
{
    const char *v = value;
    size_t vl = vlen;
    trim(&v, &vl);
    if (hdr_name_is(name, nlen, "repr-digest")) {
        repr_field(s, v, vl);
    } else if (hdr_name_is(name, nlen, "digest")) {
        list_field(s, F_DIGEST, "Digest", digest_algs, v, vl);
    } else if (hdr_name_is(name, nlen, "x-goog-hash")) {
        list_field(s, F_GOOG, "x-goog-hash", goog_algs, v, vl);
    } else if (hdr_name_is(name, nlen, "content-md5")) {
        /* The MD5 of this response's body: of a part on a 206. */
        if (!partial) {
            unsigned char b[16];
            int bl = digest_base64(v, vl, b, sizeof b, 0);
            add(s, F_MD5, "Content-MD5", "", 0, &md5_alg, b, bl,
                bl < 0 ? W_MALFORMED : W_OK, 0);
        }
    } else if (nlen > 15 && hdr_name_is(name, 15, "x-amz-checksum-")) {
        const char *an = name + 15;
        size_t anl = nlen - 15;
        if (hdr_name_is(an, anl, "mode"))
            return 0; /* a request's field, not a declaration */
        if (hdr_name_is(an, anl, "type")) {
            if (hdr_name_is(v, vl, "composite"))
                s->amz_composite = 1;
        } else {
            amz_field(s, an, anl, v, vl);
        }
    } else if (hdr_name_is(name, nlen, "content-encoding")) {
        s->encoded |= (unsigned char)hdr_is_encoded(v, vl);
        return 0;
    } else if (hdr_name_is(name, nlen, "x-goog-stored-content-encoding")) {
        s->goog_stored |= (unsigned char)hdr_is_encoded(v, vl);
        return 0;
    } else {
        return 0;
    }
    return 1;
}

/* ---- questions ----------------------------------------------------- */

/* Can it be checked, now that every field is known?  0 when not, and
 * *why (if wanted) says why in a few words. */
static int usable(const digest_set *s, const digest_item *it, const char **why)
{
    const char *w = NULL;
    if (it->why == W_MALFORMED)
        w = "malformed";
    else if (it->why == W_FOREIGN)
        w = "not a checksum segget computes";
    else if (it->why == W_COMPOSITE)
        w = "a composite of parts";
    else if (it->from == F_AMZ && s->amz_composite)
        w = "a composite of the parts' checksums";
    else if (it->idsha && s->encoded)
        w = "of the content before its Content-Encoding";
    else if (it->from == F_GOOG && s->goog_stored && !s->encoded)
        w = "of the stored compressed object, served decompressed";
    if (why)
        *why = w;
    return w == NULL;
}

static int same_value(const digest_item *a, const digest_item *b)
{
    return a->d.sum.len == b->d.sum.len &&
           memcmp(a->d.sum.want, b->d.sum.want, a->d.sum.len) == 0;
}

/* A usable declaration that another usable one of its algorithm
 * contradicts. */
static int conflicted(const digest_set *s, const digest_item *it)
{
    for (unsigned i = 0; i < s->n; i++) {
        const digest_item *o = &s->item[i];
        if (o != it && usable(s, o, NULL) &&
            strcmp(o->d.sum.algo, it->d.sum.algo) == 0 && !same_value(o, it))
            return 1;
    }
    return 0;
}

/* Is a preferred to b?  Strength first, then a fixed order of fields and
 * names, so that the choice does not depend on the order of arrival. */
static int better(const digest_item *a, const digest_item *b)
{
    int ra = checksum_rank(a->d.sum.algo), rb = checksum_rank(b->d.sum.algo);
    if (ra != rb)
        return ra > rb;
    if (a->from != b->from)
        return a->from < b->from;
    int c = strcmp(a->d.source, b->d.source);
    if (c == 0)
        c = strcmp(a->name, b->name);
    return c < 0;
}

const digest_decl *digest_best(const digest_set *s)
{
    const digest_item *best = NULL;
    for (unsigned i = 0; i < s->n; i++) {
        const digest_item *it = &s->item[i];
        if (usable(s, it, NULL) && !conflicted(s, it) &&
            (!best || better(it, best)))
            best = it;
    }
    return best ? &best->d : NULL;
}

/* Append text to a phrase of cap bytes, cutting what does not fit. */
static void cat(char *dst, size_t cap, const char *text)
{
    size_t l = strlen(dst);
    size_t n = strlen(text);
    if (l + 1 >= cap)
        return;
    if (n > cap - l - 1)
        n = cap - l - 1;
    memcpy(dst + l, text, n);
    dst[l + n] = '\0';
}

/* "Repr-Digest unixsum", "x-amz-checksum-crc32c", "Content-MD5". */
static void label(char *dst, size_t cap, const digest_item *it)
{
    cat(dst, cap, it->d.source);
    if (it->name[0]) {
        cat(dst, cap, " ");
        cat(dst, cap, it->name);
    }
}

#define PHRASE 160

static int by_text(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* The phrase for the conflicting declarations of its algorithm: the
 * fields that disagree, sorted, each once. */
static void conflict_phrase(const digest_set *s, const digest_item *it,
                            char *dst)
{
    char src[DIGEST_MAX][sizeof it->d.source];
    size_t n = 0;
    for (unsigned i = 0; i < s->n; i++) {
        const digest_item *o = &s->item[i];
        if (usable(s, o, NULL) && strcmp(o->d.sum.algo, it->d.sum.algo) == 0)
            memcpy(src[n++], o->d.source, sizeof src[0]);
    }
    qsort(src, n, sizeof src[0], by_text);
    cat(dst, PHRASE, it->d.sum.algo);
    cat(dst, PHRASE, " (conflicting values from ");
    for (size_t i = 0; i < n; i++) {
        if (i && strcmp(src[i], src[i - 1]) == 0)
            continue;
        if (i)
            cat(dst, PHRASE, ", ");
        cat(dst, PHRASE, src[i]);
    }
    cat(dst, PHRASE, ")");
}

void digest_unchecked(const digest_set *s, char *buf, size_t cap)
{
    /* One phrase per declaration at most, and one more for the dropped. */
    char ph[DIGEST_MAX + 1][PHRASE];
    size_t n = 0;
    if (cap == 0)
        return;
    buf[0] = '\0';
    for (unsigned i = 0; i < s->n; i++) {
        const digest_item *it = &s->item[i];
        const char *why;
        char *p = ph[n];
        p[0] = '\0';
        if (!usable(s, it, &why)) {
            char parts[40];
            if (it->why == W_COMPOSITE) {
                (void)snprintf(parts, sizeof parts, "a composite of %u parts",
                               it->parts);
                why = parts;
            }
            label(p, PHRASE, it);
            cat(p, PHRASE, " (");
            cat(p, PHRASE, why);
            cat(p, PHRASE, ")");
            n++;
        } else if (conflicted(s, it)) {
            conflict_phrase(s, it, p);
            n++;
        }
    }
    if (s->dropped) {
        (void)snprintf(ph[n++], PHRASE,
                       "%u more declarations (too many to keep)", s->dropped);
    }
    qsort(ph, n, sizeof ph[0], by_text);
    for (size_t i = 0; i < n; i++) {
        if (i && strcmp(ph[i], ph[i - 1]) == 0)
            continue; /* the conflict of one algorithm, said once */
        if (buf[0])
            cat(buf, cap, ", ");
        cat(buf, cap, ph[i]);
    }
}
