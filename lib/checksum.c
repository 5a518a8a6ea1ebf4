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

sg_code checksum_parse(const char *spec, checksum *out, sg_err *e)
{
    memset(out, 0, sizeof *out);
    const char *sep = strpbrk(spec, "=:");
    size_t al = sep ? (size_t)(sep - spec) : 0;
    if (al == 6 && strncasecmp(spec, "sha256", 6) == 0)
        out->len = 32;
    else if (al == 6 && strncasecmp(spec, "sha512", 6) == 0)
        out->len = 64;
    else
        return err_set(e, SG_EUSAGE,
                       "checksum '%s': expected sha256=HEX or sha512=HEX",
                       spec);
    for (size_t i = 0; i < 6; i++)
        out->algo[i] = (char)(spec[i] | 0x20);
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

checksum_hash *checksum_begin(const checksum *c)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx && EVP_DigestInit_ex(ctx, c->len == 32 ? EVP_sha256()
                                                   : EVP_sha512(),
                                 NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        ctx = NULL;
    }
    return (checksum_hash *)ctx;
}

void checksum_update(checksum_hash *h, const void *p, size_t n)
{
    (void)EVP_DigestUpdate((EVP_MD_CTX *)h, p, n);
}

void checksum_drop(checksum_hash *h)
{
    EVP_MD_CTX_free((EVP_MD_CTX *)h);
}

sg_code checksum_end(checksum_hash *h, const checksum *c, sg_err *e)
{
    unsigned char got[EVP_MAX_MD_SIZE];
    unsigned gl = 0;
    sg_code rc = SG_OK;
    (void)EVP_DigestFinal_ex((EVP_MD_CTX *)h, got, &gl);
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
