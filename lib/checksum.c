/* SPDX-License-Identifier: MIT */
/*
 * checksum.c - parsing an expected digest and checking a file against it.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "checksum.h"
#include "util.h"

/* The algorithms, and their digests' lengths in bytes. */
static const struct {
    const char *name;
    unsigned len;
} algos[] = {{"md5", 16}, {"sha1", 20}, {"sha256", 32}, {"sha512", 64},
             {"crc32c", 4}};

sg_code checksum_parse(const char *spec, checksum *out, sg_err *e)
{
    memset(out, 0, sizeof *out);
    const char *sep = strpbrk(spec, "=:");
    size_t al = sep ? (size_t)(sep - spec) : 0;
    for (size_t i = 0; i < sizeof algos / sizeof *algos; i++)
        if (al == strlen(algos[i].name) &&
            strncasecmp(spec, algos[i].name, al) == 0) {
            memcpy(out->algo, algos[i].name, al + 1);
            out->len = algos[i].len;
        }
    if (!out->len)
        return err_set(e, SG_EUSAGE,
                       "checksum '%s': expected ALGO=HEX, ALGO one of md5, "
                       "sha1, sha256, sha512, crc32c",
                       spec);
    const char *hex = sep + 1;
    if (strlen(hex) != 2 * (size_t)out->len)
        return err_set(e, SG_EUSAGE, "checksum '%s': %s takes %u hex digits",
                       spec, out->algo, 2 * out->len);
    for (unsigned i = 0; i < out->len; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return err_set(e, SG_EUSAGE, "checksum '%s': not hexadecimal",
                           spec);
        out->want[i] = (unsigned char)(hi * 16 + lo);
    }
    return SG_OK;
}

static void tohex(const unsigned char *d, unsigned n, char *out)
{
    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = "0123456789abcdef"[d[i] >> 4];
        out[2 * i + 1] = "0123456789abcdef"[d[i] & 15];
    }
    out[2 * n] = '\0';
}

struct checksum_hash {
    EVP_MD_CTX *ctx;    /* a digest of OpenSSL's, or NULL: crc32c */
    uint32_t crc;
    uint32_t table[256];
};

checksum_hash *checksum_begin(const checksum *c)
{
    checksum_hash *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    if (strcmp(c->algo, "crc32c") == 0) {
        /* Castagnoli, reflected (the polynomial iSCSI, ext4 and the
         * object stores use). */
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t v = i;
            for (int k = 0; k < 8; k++)
                v = v & 1 ? (v >> 1) ^ 0x82F63B78u : v >> 1;
            h->table[i] = v;
        }
        h->crc = 0xFFFFFFFFu;
        return h;
    }
    const EVP_MD *md = EVP_get_digestbyname(c->algo);
    if (!md || !(h->ctx = EVP_MD_CTX_new()) ||
        EVP_DigestInit_ex(h->ctx, md, NULL) != 1) {
        checksum_drop(h);
        return NULL;
    }
    return h;
}

void checksum_update(checksum_hash *h, const void *p, size_t n)
{
    if (h->ctx) {
        (void)EVP_DigestUpdate(h->ctx, p, n);
        return;
    }
    const unsigned char *b = p;
    uint32_t v = h->crc;
    for (size_t i = 0; i < n; i++)
        v = h->table[(v ^ b[i]) & 0xFF] ^ (v >> 8);
    h->crc = v;
}

void checksum_drop(checksum_hash *h)
{
    if (!h)
        return;
    EVP_MD_CTX_free(h->ctx);
    free(h);
}

sg_code checksum_end(checksum_hash *h, const checksum *c, sg_err *e)
{
    unsigned char got[EVP_MAX_MD_SIZE];
    unsigned gl = 0;
    sg_code rc = SG_OK;
    if (h->ctx) {
        (void)EVP_DigestFinal_ex(h->ctx, got, &gl);
    } else {
        uint32_t v = h->crc ^ 0xFFFFFFFFu;
        got[0] = (unsigned char)(v >> 24);
        got[1] = (unsigned char)(v >> 16);
        got[2] = (unsigned char)(v >> 8);
        got[3] = (unsigned char)v;
        gl = 4;
    }
    checksum_drop(h);
    if (gl != c->len || memcmp(got, c->want, gl) != 0) {
        char hw[129], hg[129];
        tohex(c->want, c->len, hw);
        tohex(got, gl, hg);
        rc = err_set(e, SG_ECHECKSUM, "%s mismatch: expected %s, got %s",
                     c->algo, hw, hg);
    }
    return rc;
}

sg_code checksum_verify(int fd, int64_t size, const checksum *c, sg_err *e)
{
    checksum_hash *h = checksum_begin(c);
    unsigned char *buf = malloc(1 << 20);
    if (!h || !buf) {
        checksum_drop(h);
        free(buf);
        return err_set(e, SG_ENOMEM, "out of memory");
    }
    for (int64_t at = 0; at < size;) {
        size_t want = size - at > (1 << 20) ? (1 << 20) : (size_t)(size - at);
        ssize_t n = pread(fd, buf, want, (off_t)at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            checksum_drop(h);
            free(buf);
            return err_set(e, SG_EIO, "cannot read the data to hash it: %s",
                           n < 0 ? strerror(errno) : "unexpected end");
        }
        checksum_update(h, buf, (size_t)n);
        at += n;
    }
    free(buf);
    return checksum_end(h, c, e);
}
